//! The control plane: the EKS cluster with its log group, OIDC provider and admin
//! access entries; version upgrades.

use std::collections::BTreeSet;

use aws_sdk_cloudwatchlogs::Client as Logs;
use aws_sdk_eks::types::{
    AccessScope, AccessScopeType, Cluster, EncryptionConfig, LogSetup, LogType, Logging, Provider,
    VpcConfigRequest,
};
use aws_sdk_eks::Client as Eks;
use aws_sdk_iam::Client as Iam;

use super::wait::{Observed, Wait, ACTIVE, UPDATE_DONE};
use super::{failure, iam, not_found, owned_by, tag_map, unsupported};
use crate::cloud::aws::error::{unless_gone, SdkFailure};
use crate::cloud::aws::inventory::{record, step};
use crate::cloud::aws::network::checkpoint;
use crate::ports::cluster::kind;
use crate::ports::cluster::{ControlPlaneRequest, ControlPlaneState};
use crate::stack::{BackendError, ComponentRecord, StackContext, Step};

use super::access::{self, Maker, ADMIN_POLICY};

/// The control plane's log group name.
pub(super) fn log_group_name(cluster: &str) -> String {
    format!("/aws/eks/{cluster}/cluster")
}

fn eks_err(operation: impl Into<String>) -> impl FnOnce(SdkFailure) -> BackendError {
    let operation = operation.into();
    move |f| failure("EKS", operation, f)
}

/// The cluster named `name`, `None` when there is none.
pub(super) async fn describe(eks: &Eks, name: &str) -> Result<Option<Cluster>, SdkFailure> {
    let out = unless_gone(eks.describe_cluster().name(name).send().await, not_found)?;
    Ok(out.and_then(|o| o.cluster().cloned()))
}

/// What a poll sees of a cluster.
pub(super) fn observed(cluster: &Cluster) -> Observed {
    let issues = cluster.health().map(|h| h.issues()).unwrap_or_default();
    Observed::new(
        cluster.status().map(|s| s.as_str()),
        issues
            .iter()
            .map(|i| (i.code().map(|c| c.as_str()), i.message())),
    )
}

/// Waits until the cluster is active.
async fn wait_active(
    eks: &Eks,
    ctx: &StackContext,
    name: &str,
    during: &str,
) -> Result<(), BackendError> {
    Wait::new(ctx, format!("EKS cluster {name}"), during)
        .until(ACTIVE, || async {
            Ok(describe(eks, name).await?.as_ref().map(observed))
        })
        .await
}

/// Waits until the EKS update `id` (of the cluster, or of its node group
/// `nodegroup`) is over: `Successful`, or an error with the update's own reasons.
pub(super) async fn wait_update(
    eks: &Eks,
    ctx: &StackContext,
    nodegroup: Option<&str>,
    id: &str,
    during: &str,
) -> Result<(), BackendError> {
    let cluster = ctx.stack.as_str();
    let what = match nodegroup {
        Some(n) => format!("the update of node group {n}"),
        None => format!("the update of EKS cluster {cluster}"),
    };
    Wait::new(ctx, what, during)
        .until(UPDATE_DONE, || async {
            let call = eks
                .describe_update()
                .name(cluster)
                .set_nodegroup_name(nodegroup.map(str::to_owned))
                .update_id(id)
                .send()
                .await;
            let update = unless_gone(call, not_found)?.and_then(|o| o.update().cloned());
            Ok(update.map(|u| {
                Observed::new(
                    u.status().map(|s| s.as_str()),
                    u.errors()
                        .iter()
                        .map(|e| (e.error_code().map(|c| c.as_str()), e.error_message())),
                )
            }))
        })
        .await
}

/// `major.minor` of a version string.
pub(super) fn minor_version(version: &str) -> String {
    version.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// The OIDC provider ARN IAM gives the cluster's issuer: derived from the cluster's
/// ARN (partition and account) and the issuer, without a call.
pub(super) fn provider_arn(cluster_arn: &str, issuer: &str) -> String {
    let parts: Vec<&str> = cluster_arn.split(':').collect();
    let partition = parts.get(1).copied().unwrap_or("aws");
    let account = parts.get(4).copied().unwrap_or_default();
    let host = issuer.trim_start_matches("https://");
    format!("arn:{partition}:iam::{account}:oidc-provider/{host}")
}

/// Part `index` of an ARN (3: the region, 4: the account).
fn arn_part(arn: &str, index: usize) -> String {
    arn.split(':').nth(index).unwrap_or_default().to_owned()
}

/// The control plane as the backend reports it.
pub(super) fn state_of(cluster: &Cluster, workload_identity_provider: String) -> ControlPlaneState {
    ControlPlaneState {
        id: cluster.arn().unwrap_or_default().to_owned(),
        endpoint: cluster.endpoint().unwrap_or_default().to_owned(),
        certificate_authority: cluster
            .certificate_authority()
            .and_then(|c| c.data())
            .unwrap_or_default()
            .to_owned(),
        oidc_issuer_url: issuer(cluster).to_owned(),
        workload_identity_provider,
        kubernetes_version: minor_version(cluster.version().unwrap_or_default()),
        platform: "eks".to_owned(),
        location: arn_part(cluster.arn().unwrap_or_default(), 3),
        account: arn_part(cluster.arn().unwrap_or_default(), 4),
        status: observed(cluster).status,
        admins: None,
        kubeconfig: kubeconfig(
            cluster.name().unwrap_or_default(),
            cluster.endpoint().unwrap_or_default(),
            cluster
                .certificate_authority()
                .and_then(|c| c.data())
                .unwrap_or_default(),
            cluster.arn().and_then(|a| a.split(':').nth(3)),
        ),
    }
}

/// A kubeconfig for the cluster that authenticates through the AWS CLI
/// (`aws eks get-token`), so it holds no credential.
pub(super) fn kubeconfig(name: &str, endpoint: &str, ca: &str, region: Option<&str>) -> String {
    let mut args = vec![
        "eks".to_owned(),
        "get-token".to_owned(),
        "--cluster-name".to_owned(),
        name.to_owned(),
    ];
    if let Some(region) = region {
        args.push("--region".to_owned());
        args.push(region.to_owned());
    }
    let args: Vec<String> = args.iter().map(|a| format!("\"{a}\"")).collect();
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster:\n    server: {server}\n    \
         certificate-authority-data: {ca}\ncontexts:\n- name: {name}\n  context:\n    cluster: {name}\n    \
         user: {name}\ncurrent-context: {name}\nusers:\n- name: {name}\n  user:\n    exec:\n      \
         apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws\n      args: [{args}]\n",
        server = endpoint,
        ca = ca,
        args = args.join(", "),
    )
}

pub(super) fn issuer(cluster: &Cluster) -> &str {
    cluster
        .identity()
        .and_then(|i| i.oidc())
        .and_then(|o| o.issuer())
        .unwrap_or_default()
}

/// Envelope encryption of Kubernetes secrets with the stack's key.
// `resources` is deprecated in the SDK (EKS now encrypts everything at rest), but the
// API still takes `secrets` as the resource a customer key encrypts.
#[allow(deprecated)]
fn secrets_encryption(key_arn: &str) -> EncryptionConfig {
    EncryptionConfig::builder()
        .resources("secrets")
        .provider(Provider::builder().key_arn(key_arn).build())
        .build()
}

fn logging(types: &[String]) -> Logging {
    let all = [
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
    ];
    let disabled: Vec<LogType> = all
        .iter()
        .filter(|t| !types.iter().any(|w| w == *t))
        .map(|t| LogType::from(*t))
        .collect();
    let mut builder = Logging::builder();
    if !types.is_empty() {
        builder = builder.cluster_logging(
            LogSetup::builder()
                .set_types(Some(
                    types.iter().map(|t| LogType::from(t.as_str())).collect(),
                ))
                .enabled(true)
                .build(),
        );
    }
    if !disabled.is_empty() {
        builder = builder.cluster_logging(
            LogSetup::builder()
                .set_types(Some(disabled))
                .enabled(false)
                .build(),
        );
    }
    builder.build()
}

/// The log types the cluster has on.
fn enabled_logs(cluster: &Cluster) -> BTreeSet<String> {
    cluster
        .logging()
        .map(|l| l.cluster_logging())
        .unwrap_or_default()
        .iter()
        .filter(|s| s.enabled().unwrap_or(false))
        .flat_map(|s| s.types().iter().map(|t| t.as_str().to_owned()))
        .collect()
}

/// Ensures the control plane (see [`crate::ports::cluster::ClusterBackend::ensure_control_plane`]).
pub(super) async fn ensure_control_plane(
    eks: &Eks,
    iam_client: &Iam,
    logs: &Logs,
    ctx: &StackContext,
    req: &ControlPlaneRequest,
) -> Step<ControlPlaneState> {
    let mut components = Vec::new();
    let result = ensure_inner(eks, iam_client, logs, ctx, req, &mut components).await;
    step(result, components)
}

async fn ensure_inner(
    eks: &Eks,
    iam_client: &Iam,
    logs: &Logs,
    ctx: &StackContext,
    req: &ControlPlaneRequest,
    components: &mut Vec<ComponentRecord>,
) -> Result<ControlPlaneState, BackendError> {
    let name = req.name.as_str();
    checkpoint(ctx, "ensuring the control plane's log group")?;
    ensure_log_group(logs, ctx, req, components).await?;

    checkpoint(ctx, "looking up the control plane")?;
    let existing = describe(eks, name)
        .await
        .map_err(eks_err(format!("reading EKS cluster {name}")))?;
    match &existing {
        Some(cluster) => {
            if !cluster.tags().is_some_and(|t| owned_by(t, &ctx.stack)) {
                return Err(BackendError::Conflict {
                    what: format!("EKS cluster {name}"),
                    stack: ctx.stack.clone(),
                    hint: "choose another cluster name, or delete that cluster".to_owned(),
                });
            }
            components.push(record(
                "cluster",
                kind::CLUSTER,
                cluster.arn().unwrap_or(name),
            ));
        }
        None => {
            checkpoint(ctx, "creating the control plane")?;
            let vpc = VpcConfigRequest::builder()
                .set_subnet_ids(Some(req.subnet_ids.clone()))
                .endpoint_private_access(true)
                .endpoint_public_access(!req.public_access_cidrs.is_empty())
                .set_public_access_cidrs(
                    (!req.public_access_cidrs.is_empty()).then(|| req.public_access_cidrs.clone()),
                )
                .build();
            let mut create = eks
                .create_cluster()
                .name(name)
                .role_arn(&req.control_plane_identity)
                .resources_vpc_config(vpc)
                .logging(logging(&req.log_types))
                .encryption_config(secrets_encryption(&req.encryption_key))
                .set_tags(Some(tag_map(ctx, "cluster")));
            if let Some(version) = &req.kubernetes_version {
                create = create.version(version);
            }
            let out = create
                .send()
                .await
                .map_err(SdkFailure::from_sdk)
                .map_err(eks_err(format!("creating EKS cluster {name}")))?;
            let arn = out.cluster().and_then(|c| c.arn()).unwrap_or(name);
            components.push(record("cluster", kind::CLUSTER, arn));
        }
    }
    wait_active(eks, ctx, name, "creating the control plane").await?;
    let mut cluster = describe(eks, name)
        .await
        .map_err(eks_err(format!("reading EKS cluster {name}")))?
        .ok_or_else(|| BackendError::NotFound {
            what: format!("EKS cluster {name}"),
        })?;

    // Converge what changes in place: logging, then public access (EKS takes one
    // kind of update at a time, and refuses an update that changes nothing).
    let wanted_logs: BTreeSet<String> = req.log_types.iter().cloned().collect();
    if enabled_logs(&cluster) != wanted_logs {
        checkpoint(ctx, "updating control-plane logging")?;
        update_config(eks, ctx, name, Some(logging(&req.log_types)), None).await?;
    }
    let vpc = cluster.resources_vpc_config();
    let public = vpc.is_some_and(|v| v.endpoint_public_access());
    let wanted_public = !req.public_access_cidrs.is_empty();
    let cidrs: BTreeSet<&str> = vpc
        .map(|v| v.public_access_cidrs().iter().map(String::as_str).collect())
        .unwrap_or_default();
    let wanted_cidrs: BTreeSet<&str> = req.public_access_cidrs.iter().map(String::as_str).collect();
    if public != wanted_public || (wanted_public && cidrs != wanted_cidrs) {
        checkpoint(ctx, "updating the public endpoint's access")?;
        let vpc = VpcConfigRequest::builder()
            .endpoint_private_access(true)
            .endpoint_public_access(wanted_public)
            .set_public_access_cidrs(wanted_public.then(|| req.public_access_cidrs.clone()))
            .build();
        update_config(eks, ctx, name, None, Some(vpc)).await?;
    }
    if !wanted_logs.is_empty() || public != wanted_public {
        cluster = describe(eks, name)
            .await
            .map_err(eks_err(format!("reading EKS cluster {name}")))?
            .unwrap_or(cluster);
    }

    checkpoint(ctx, "registering the OIDC provider")?;
    let provider = iam::ensure_oidc_provider(iam_client, ctx, issuer(&cluster)).await?;
    components.push(record("oidc_provider", kind::OIDC_PROVIDER, &provider));

    let admins = ensure_admins(eks, ctx, name, &req.admins, components).await?;
    Ok(ControlPlaneState {
        admins,
        ..state_of(&cluster, provider)
    })
}

async fn update_config(
    eks: &Eks,
    ctx: &StackContext,
    name: &str,
    logging: Option<Logging>,
    vpc: Option<VpcConfigRequest>,
) -> Result<(), BackendError> {
    let what = if logging.is_some() {
        "updating control-plane logging"
    } else {
        "updating the public endpoint's access"
    };
    eks.update_cluster_config()
        .name(name)
        .set_logging(logging)
        .set_resources_vpc_config(vpc)
        .send()
        .await
        .map_err(SdkFailure::from_sdk)
        .map_err(eks_err(what))?;
    wait_active(eks, ctx, name, what).await
}

/// Creates the log group (tagged, with retention) when log types are on; deletes
/// the stack's log group when they are off.
async fn ensure_log_group(
    logs: &Logs,
    ctx: &StackContext,
    req: &ControlPlaneRequest,
    components: &mut Vec<ComponentRecord>,
) -> Result<(), BackendError> {
    let group = log_group_name(&req.name);
    let logs_err = |op: String| move |f: SdkFailure| failure("CloudWatch Logs", op, f);
    let found = logs
        .describe_log_groups()
        .log_group_name_prefix(&group)
        .send()
        .await
        .map_err(SdkFailure::from_sdk)
        .map_err(logs_err(format!("looking up log group {group}")))?;
    let existing = found
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(group.as_str()));
    if req.log_types.is_empty() {
        if existing.is_some() {
            // Deprecated for ListTagsForResource, which needs the ARN; this takes the
            // name, and emulators implement it.
            #[allow(deprecated)]
            let tags = logs
                .list_tags_log_group()
                .log_group_name(&group)
                .send()
                .await
                .map_err(SdkFailure::from_sdk)
                .map_err(logs_err(format!("reading the tags of log group {group}")))?;
            if tags.tags().is_some_and(|t| owned_by(t, &ctx.stack)) {
                delete_log_group(logs, &group).await?;
            }
        }
        return Ok(());
    }
    let retention = i32::try_from(req.log_retention_days).unwrap_or(i32::MAX);
    match existing {
        Some(g) => {
            components.push(record("log_group", kind::LOG_GROUP, &group));
            if g.retention_in_days() == Some(retention) {
                return Ok(());
            }
        }
        None => {
            logs.create_log_group()
                .log_group_name(&group)
                .set_tags(Some(tag_map(ctx, "log_group")))
                .send()
                .await
                .map_err(SdkFailure::from_sdk)
                .map_err(logs_err(format!("creating log group {group}")))?;
            components.push(record("log_group", kind::LOG_GROUP, &group));
        }
    }
    logs.put_retention_policy()
        .log_group_name(&group)
        .retention_in_days(retention)
        .send()
        .await
        .map_err(SdkFailure::from_sdk)
        .map_err(logs_err(format!(
            "setting the retention of log group {group}"
        )))?;
    Ok(())
}

/// Deletes a log group; gone already is fine.
pub(super) async fn delete_log_group(logs: &Logs, group: &str) -> Result<bool, BackendError> {
    unless_gone(
        logs.delete_log_group().log_group_name(group).send().await,
        not_found,
    )
    .map(|out| out.is_some())
    .map_err(|f| failure("CloudWatch Logs", format!("deleting log group {group}"), f))
}

/// Gives each admin cluster-admin access (an access entry tagged as the stack's,
/// and the admin policy), and removes the entries paved made for principals no
/// longer listed. Returns the principals holding an entry afterwards; `None` when
/// the endpoint has no access entries and none are wanted (an emulator).
async fn ensure_admins(
    eks: &Eks,
    ctx: &StackContext,
    name: &str,
    admins: &[String],
    components: &mut Vec<ComponentRecord>,
) -> Result<Option<Vec<String>>, BackendError> {
    let (listed, with_policy) = futures::join!(
        eks.list_access_entries().cluster_name(name).send(),
        eks.list_access_entries()
            .cluster_name(name)
            .associated_policy_arn(ADMIN_POLICY)
            .send(),
    );
    let listed = match listed.map_err(SdkFailure::from_sdk) {
        Ok(listed) => listed,
        Err(f) if admins.is_empty() && unsupported(&f) => return Ok(None),
        Err(f) => return Err(eks_err("listing the cluster's access entries")(f)),
    };
    // The principals holding the admin policy: a shared entry (admin and team
    // member) loses only the policy when the principal is no longer an admin.
    let with_policy: Vec<String> = with_policy
        .map_err(SdkFailure::from_sdk)
        .map_err(eks_err("listing the cluster's admin access entries"))?
        .access_entries()
        .to_vec();
    let mut holding: Vec<String> = listed.access_entries().to_vec();
    for principal in listed.access_entries() {
        if admins.contains(principal) {
            continue;
        }
        checkpoint(ctx, "revoking cluster-admin access no longer wanted")?;
        let has_policy = with_policy.contains(principal);
        if revoke_if_ours(eks, ctx, name, principal, has_policy).await? {
            holding.retain(|p| p != principal);
        }
    }
    for admin in admins {
        checkpoint(ctx, "granting cluster-admin access")?;
        let key = format!("access_entry.{admin}");
        if !listed.access_entries().iter().any(|a| a == admin) {
            eks.create_access_entry()
                .cluster_name(name)
                .principal_arn(admin)
                .set_tags(Some(tag_map(ctx, &key)))
                .send()
                .await
                .map_err(SdkFailure::from_sdk)
                .map_err(eks_err(format!("creating the access entry of {admin}")))?;
        }
        components.push(record(&key, kind::ACCESS_ENTRY, admin));
        eks.associate_access_policy()
            .cluster_name(name)
            .principal_arn(admin)
            .policy_arn(ADMIN_POLICY)
            .access_scope(
                AccessScope::builder()
                    .r#type(AccessScopeType::Cluster)
                    .build(),
            )
            .send()
            .await
            .map_err(SdkFailure::from_sdk)
            .map_err(eks_err(format!("giving {admin} cluster-admin access")))?;
        if !holding.contains(admin) {
            holding.push(admin.clone());
        }
    }
    Ok(Some(holding))
}

/// Deletes `principal`'s access entry when paved made it for this stack (tagged with
/// the stack and an `access_entry.` component key): entries EKS made for node roles
/// or that someone added by hand are left alone. An entry of paved's that also
/// gives team access (a `group_access.` entry, or an admin entry with Kubernetes
/// groups) is kept and only loses the admin policy (`has_policy`: it holds it).
/// Whether it was deleted.
async fn revoke_if_ours(
    eks: &Eks,
    ctx: &StackContext,
    name: &str,
    principal: &str,
    has_policy: bool,
) -> Result<bool, BackendError> {
    let entry = eks
        .describe_access_entry()
        .cluster_name(name)
        .principal_arn(principal)
        .send()
        .await
        .map_err(SdkFailure::from_sdk);
    let entry = match entry {
        Ok(out) => out,
        Err(f) if not_found(&f) => return Ok(true),
        Err(f) => {
            return Err(eks_err(format!("reading the access entry of {principal}"))(
                f,
            ))
        }
    };
    let Some(entry) = entry.access_entry() else {
        return Ok(false);
    };
    let shared = match access::maker(entry, &ctx.stack) {
        Maker::Other => return Ok(false),
        Maker::Group => true,
        Maker::Admin => !entry.kubernetes_groups().is_empty(),
    };
    if shared {
        if has_policy {
            let call = eks
                .disassociate_access_policy()
                .cluster_name(name)
                .principal_arn(principal)
                .policy_arn(ADMIN_POLICY)
                .send()
                .await;
            unless_gone(call, not_found).map_err(eks_err(format!(
                "revoking the cluster-admin access of {principal}"
            )))?;
        }
        return Ok(false);
    }
    match eks
        .delete_access_entry()
        .cluster_name(name)
        .principal_arn(principal)
        .send()
        .await
        .map_err(SdkFailure::from_sdk)
    {
        Ok(_) => Ok(true),
        Err(f) if not_found(&f) => Ok(true),
        Err(f) => Err(eks_err(format!("revoking the access entry of {principal}"))(f)),
    }
}

/// Upgrades the control plane to `to_version` and waits until it is active.
pub(super) async fn upgrade(
    eks: &Eks,
    ctx: &StackContext,
    to_version: &str,
) -> Step<ControlPlaneState> {
    let name = ctx.stack.as_str();
    let mut components = Vec::new();
    let result = async {
        checkpoint(ctx, "upgrading the control plane")?;
        let cluster = describe(eks, name)
            .await
            .map_err(eks_err(format!("reading EKS cluster {name}")))?
            .ok_or_else(|| BackendError::NotFound {
                what: format!("EKS cluster {name}"),
            })?;
        let arn = cluster.arn().unwrap_or(name).to_owned();
        components.push(record("cluster", kind::CLUSTER, &arn));
        let provider = provider_arn(&arn, issuer(&cluster));
        // An update still running (an apply cut short) ends first: EKS takes one at
        // a time, and the version it brings may be the one asked.
        let cluster = if observed(&cluster).status == "ACTIVE" {
            cluster
        } else {
            wait_active(eks, ctx, name, "waiting for the control plane's update").await?;
            describe(eks, name)
                .await
                .map_err(eks_err(format!("reading EKS cluster {name}")))?
                .ok_or_else(|| BackendError::NotFound {
                    what: format!("EKS cluster {name}"),
                })?
        };
        if minor_version(cluster.version().unwrap_or_default()) == to_version {
            return Ok(state_of(&cluster, provider));
        }
        checkpoint(ctx, "upgrading the control plane")?;
        let started = eks
            .update_cluster_version()
            .name(name)
            .version(to_version)
            .send()
            .await
            .map_err(SdkFailure::from_sdk)
            .map_err(|f| {
                let mut e = failure(
                    "EKS",
                    format!("upgrading EKS cluster {name} to {to_version}"),
                    f.clone(),
                );
                if unsupported(&f) {
                    if let BackendError::Permanent { message, .. } = &mut e {
                        message.push_str(
                            " (UpdateClusterVersion is not implemented by this endpoint)",
                        );
                    }
                }
                e
            })?;
        if let Some(id) = started.update().and_then(|u| u.id()) {
            wait_update(eks, ctx, None, id, "upgrading the control plane").await?;
        }
        wait_active(eks, ctx, name, "upgrading the control plane").await?;
        let cluster = describe(eks, name)
            .await
            .map_err(eks_err(format!("reading EKS cluster {name}")))?
            .ok_or_else(|| BackendError::NotFound {
                what: format!("EKS cluster {name}"),
            })?;
        Ok(state_of(&cluster, provider))
    }
    .await;
    step(result, components)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_points_at_the_endpoint_and_holds_no_secret() {
        let text = kubeconfig("shop", "https://example.eks", "Q0E=", Some("eu-west-1"));
        assert!(text.contains("server: https://example.eks"));
        assert!(text.contains("certificate-authority-data: Q0E="));
        assert!(text.contains("\"--region\", \"eu-west-1\""));
        assert!(!text.contains("token:"));
    }

    #[test]
    fn derived_names() {
        assert_eq!(log_group_name("shop"), "/aws/eks/shop/cluster");
        assert_eq!(minor_version("1.31.2"), "1.31");
        assert_eq!(minor_version("1.30"), "1.30");
        assert_eq!(
            provider_arn(
                "arn:aws:eks:us-east-1:123456789012:cluster/shop",
                "https://oidc.eks.us-east-1.amazonaws.com/id/ABC"
            ),
            "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
        );
    }

    #[test]
    fn logging_turns_off_what_is_not_wanted() {
        let l = logging(&["api".to_owned(), "audit".to_owned()]);
        let setups = l.cluster_logging();
        assert_eq!(setups.len(), 2);
        assert_eq!(setups[0].enabled(), Some(true));
        assert_eq!(setups[1].types().len(), 3);
    }
}
