//! The cluster's IAM roles and its OIDC provider.
//!
//! Roles are named `<stack>-cluster`, `<stack>-node`, `<stack>-autoscaler` and
//! `<stack>-storage_driver` (the EBS CSI driver's) under the path `/paved/<stack>/`, so one `ListRoles(PathPrefix)` call finds all of them
//! (refresh, teardown). A role of that name without the stack's tag belongs to
//! someone else: [`BackendError::Conflict`], never adopted.

use aws_sdk_iam::types::Tag;
use aws_sdk_iam::Client;
use serde_json::json;

use super::failure;
use crate::cloud::aws::error::SdkFailure;
use crate::cloud::aws::iam_roles::{self, oidc_host, Role, STS_AUDIENCE};
use crate::cloud::aws::inventory::step;
use crate::cloud::aws::network::checkpoint;
use crate::cloud::aws::tagging::iam_tags;
use crate::ports::cluster::kind;
use crate::ports::cluster::{IdentityRequest, IdentityState};
use crate::stack::tags::STACK_TAG;
use crate::stack::{BackendError, ComponentRecord, StackContext, Step};

/// The managed policies of the control plane's role.
const CLUSTER_POLICIES: &[&str] = &["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"];
/// The managed policies of the nodes' role.
const NODE_POLICIES: &[&str] = &[
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
];
/// The autoscaler's inline policy's name.
const AUTOSCALER_POLICY: &str = "cluster-autoscaler";
/// The service account the autoscaler runs as.
const AUTOSCALER_SUBJECT: &str = "system:serviceaccount:kube-system:cluster-autoscaler";
/// The managed policy of the storage driver's role.
const STORAGE_DRIVER_POLICIES: &[&str] =
    &["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"];
/// The service account the EBS CSI driver's controller runs as.
const STORAGE_DRIVER_SUBJECT: &str = "system:serviceaccount:kube-system:ebs-csi-controller-sa";
/// The roles bound to a service account through the OIDC provider, in the order
/// they are ensured (what follows `<stack>-` in their names).
pub(super) const WORKLOAD_ROLES: [&str; 2] = ["autoscaler", "storage_driver"];
/// Thumbprint of the root CA of EKS OIDC issuers (IAM no longer checks it for
/// them, but the API still requires one).
const OIDC_THUMBPRINT: &str = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280";

/// The path every role of the stack lives under.
pub(super) fn role_path(stack: &str) -> String {
    format!("/paved/{stack}/")
}

/// The name of the stack's role `which` (`cluster`, `node`, `autoscaler`,
/// `storage_driver`).
pub(super) fn role_name(stack: &str, which: &str) -> String {
    format!("{stack}-{which}")
}

/// The inventory key of role `which`.
pub(super) fn role_key(which: &str) -> String {
    format!("iam_role.{which}")
}

fn service_trust(service: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string()
}

/// The trust of a role assumed by the Kubernetes service account `subject` through
/// the cluster's OIDC provider.
fn workload_trust(provider_arn: &str, subject: &str) -> String {
    iam_roles::workload_trust(provider_arn, json!(subject)).to_string()
}

fn autoscaler_trust(provider_arn: &str) -> String {
    workload_trust(provider_arn, AUTOSCALER_SUBJECT)
}

fn storage_driver_trust(provider_arn: &str) -> String {
    workload_trust(provider_arn, STORAGE_DRIVER_SUBJECT)
}

fn autoscaler_policy(stack: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations",
                    "autoscaling:DescribeScalingActivities",
                    "autoscaling:DescribeTags",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplateVersions",
                    "ec2:GetInstanceTypesFromInstanceRequirements",
                    "eks:DescribeNodegroup"
                ],
                "Resource": "*"
            },
            {
                "Effect": "Allow",
                "Action": [
                    "autoscaling:SetDesiredCapacity",
                    "autoscaling:TerminateInstanceInAutoScalingGroup"
                ],
                "Resource": "*",
                "Condition": {"StringEquals": {
                    format!("aws:ResourceTag/k8s.io/cluster-autoscaler/{stack}"): "owned"
                }}
            }
        ]
    })
    .to_string()
}

/// One role to ensure.
struct RoleSpec {
    which: &'static str,
    trust: String,
    managed: &'static [&'static str],
    inline: Option<(&'static str, String)>,
    /// Bound to a service account through the OIDC provider: its trust names the
    /// provider, which a new cluster changes, so it is converged.
    workload: bool,
}

fn iam_err(operation: impl Into<String>) -> impl FnOnce(SdkFailure) -> BackendError {
    let operation = operation.into();
    move |f| failure("IAM", operation, f)
}

/// Whether a role's tags say it is the stack's (its stack tag).
fn ours(tags: &[Tag], ctx: &StackContext) -> bool {
    tags.iter()
        .any(|t| t.key() == STACK_TAG && t.value() == ctx.stack)
}

/// Ensures the cluster and node roles, and the autoscaler's and the storage
/// driver's once the OIDC provider is known.
pub(super) async fn ensure_identities(
    iam: &Client,
    ctx: &StackContext,
    req: &IdentityRequest,
) -> Step<IdentityState> {
    let mut specs = vec![
        RoleSpec {
            which: "cluster",
            trust: service_trust("eks.amazonaws.com"),
            managed: CLUSTER_POLICIES,
            inline: None,
            workload: false,
        },
        RoleSpec {
            which: "node",
            trust: service_trust("ec2.amazonaws.com"),
            managed: NODE_POLICIES,
            inline: None,
            workload: false,
        },
    ];
    if let Some(provider) = &req.workload_identity_provider {
        specs.push(RoleSpec {
            which: "autoscaler",
            trust: autoscaler_trust(provider),
            managed: &[],
            inline: Some((AUTOSCALER_POLICY, autoscaler_policy(&ctx.stack))),
            workload: true,
        });
        specs.push(RoleSpec {
            which: "storage_driver",
            trust: storage_driver_trust(provider),
            managed: STORAGE_DRIVER_POLICIES,
            inline: None,
            workload: true,
        });
    }
    let mut components = Vec::new();
    let mut arns = Vec::new();
    for spec in &specs {
        if let Err(e) = checkpoint(ctx, "ensuring IAM roles") {
            return Step::failed(e, components);
        }
        match ensure_role(iam, ctx, spec, &mut components).await {
            Ok(arn) => arns.push(arn),
            Err(e) => return Step::failed(e, components),
        }
    }
    let mut arns = arns.into_iter();
    let state = IdentityState {
        control_plane_identity: arns.next().unwrap_or_default(),
        node_identity: arns.next().unwrap_or_default(),
        autoscaler_identity: arns.next(),
        storage_driver_identity: arns.next(),
    };
    step(Ok(state), components)
}

async fn ensure_role(
    iam: &Client,
    ctx: &StackContext,
    spec: &RoleSpec,
    components: &mut Vec<ComponentRecord>,
) -> Result<String, BackendError> {
    let name = role_name(&ctx.stack, spec.which);
    let key = role_key(spec.which);
    let role = Role {
        name: &name,
        path: role_path(&ctx.stack),
        description: format!("paved_ha_cluster {}: {} role", ctx.stack, spec.which),
        key: &key,
        kind: kind::IAM_ROLE,
        trust: &spec.trust,
        converge_trust: spec.workload,
        ours,
        conflict_hint: "rename the cluster, or delete or rename that role",
    };
    let arn = iam_roles::ensure_role(iam, ctx, &role, components).await?;
    if !spec.managed.is_empty() {
        let attached = iam
            .list_attached_role_policies()
            .role_name(&name)
            .send()
            .await
            .map_err(SdkFailure::from_sdk)
            .map_err(iam_err(format!("listing the policies of IAM role {name}")))?;
        for policy in spec.managed {
            if attached
                .attached_policies()
                .iter()
                .any(|p| p.policy_arn() == Some(policy))
            {
                continue;
            }
            iam.attach_role_policy()
                .role_name(&name)
                .policy_arn(*policy)
                .send()
                .await
                .map_err(SdkFailure::from_sdk)
                .map_err(iam_err(format!("attaching {policy} to IAM role {name}")))?;
        }
    }
    if let Some((policy, document)) = &spec.inline {
        let present = iam
            .list_role_policies()
            .role_name(&name)
            .send()
            .await
            .map_err(SdkFailure::from_sdk)
            .map_err(iam_err(format!(
                "listing the inline policies of IAM role {name}"
            )))?;
        if !present.policy_names().iter().any(|p| p == policy) {
            iam.put_role_policy()
                .role_name(&name)
                .policy_name(*policy)
                .policy_document(document)
                .send()
                .await
                .map_err(SdkFailure::from_sdk)
                .map_err(iam_err(format!(
                    "adding policy {policy} to IAM role {name}"
                )))?;
        }
    }
    Ok(arn)
}

/// The ARN of the OIDC provider for `issuer` among `arns`.
pub(super) fn provider_for<'a>(
    arns: impl IntoIterator<Item = &'a str>,
    issuer: &str,
) -> Option<&'a str> {
    let host = issuer.trim_start_matches("https://");
    arns.into_iter().find(|arn| oidc_host(arn) == host)
}

/// The ARN of the OIDC provider registered for `issuer`, found by listing.
async fn registered_provider(iam: &Client, issuer: &str) -> Result<Option<String>, BackendError> {
    let listed = iam
        .list_open_id_connect_providers()
        .send()
        .await
        .map_err(SdkFailure::from_sdk)
        .map_err(iam_err("listing OIDC providers"))?;
    let arns = listed
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn());
    Ok(provider_for(arns, issuer).map(str::to_owned))
}

/// Ensures the OIDC provider for the cluster's `issuer`: adopts the registered one
/// (found by listing), or creates it tagged. Returns its ARN.
pub(super) async fn ensure_oidc_provider(
    iam: &Client,
    ctx: &StackContext,
    issuer: &str,
) -> Result<String, BackendError> {
    if let Some(arn) = registered_provider(iam, issuer).await? {
        return Ok(arn);
    }
    checkpoint(ctx, "registering the OIDC provider")?;
    let created = iam
        .create_open_id_connect_provider()
        .url(issuer)
        .client_id_list(STS_AUDIENCE)
        .thumbprint_list(OIDC_THUMBPRINT)
        .set_tags(Some(iam_tags(&ctx.component_tags("oidc_provider"))))
        .send()
        .await
        .map_err(SdkFailure::from_sdk);
    let created = match created {
        Ok(created) => created,
        // Registered meanwhile (a concurrent apply for the same issuer): adopt it.
        Err(f) if f.code_is("EntityAlreadyExists") => {
            return registered_provider(iam, issuer)
                .await?
                .ok_or_else(|| iam_err("registering the cluster's OIDC provider")(f));
        }
        Err(f) => return Err(iam_err("registering the cluster's OIDC provider")(f)),
    };
    created
        .open_id_connect_provider_arn()
        .map(str::to_owned)
        .ok_or_else(|| BackendError::Permanent {
            operation: "registering the cluster's OIDC provider".to_owned(),
            message: "IAM answered without the provider's ARN".to_owned(),
            hint: "Run apply again; the provider is found by its issuer".to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::aws::iam_roles::{same_policy as same_trust, url_decoded as decoded};

    #[test]
    fn names_and_paths() {
        assert_eq!(role_name("shop", "node"), "shop-node");
        assert_eq!(role_path("shop"), "/paved/shop/");
        assert_eq!(role_key("autoscaler"), "iam_role.autoscaler");
    }

    #[test]
    fn autoscaler_trust_is_bound_to_the_service_account() {
        let arn = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC";
        let doc: serde_json::Value = serde_json::from_str(&autoscaler_trust(arn)).unwrap();
        let st = &doc["Statement"][0];
        assert_eq!(st["Principal"]["Federated"], arn);
        assert_eq!(
            st["Condition"]["StringEquals"]["oidc.eks.us-east-1.amazonaws.com/id/ABC:sub"],
            AUTOSCALER_SUBJECT
        );
        assert!(same_trust(
            &decoded(&autoscaler_trust(arn).replace('/', "%2F")),
            &autoscaler_trust(arn)
        ));
    }

    #[test]
    fn storage_driver_trust_is_bound_to_its_service_account() {
        let arn = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC";
        let doc: serde_json::Value = serde_json::from_str(&storage_driver_trust(arn)).unwrap();
        let st = &doc["Statement"][0];
        assert_eq!(st["Principal"]["Federated"], arn);
        assert_eq!(st["Action"], "sts:AssumeRoleWithWebIdentity");
        let cond = &st["Condition"]["StringEquals"];
        assert_eq!(
            cond["oidc.eks.us-east-1.amazonaws.com/id/ABC:sub"],
            "system:serviceaccount:kube-system:ebs-csi-controller-sa"
        );
        assert_eq!(
            cond["oidc.eks.us-east-1.amazonaws.com/id/ABC:aud"],
            "sts.amazonaws.com"
        );
        assert_eq!(role_key("storage_driver"), "iam_role.storage_driver");
        assert_eq!(role_name("shop", "storage_driver"), "shop-storage_driver");
    }

    #[test]
    fn finds_the_provider_of_an_issuer() {
        let arns = [
            "arn:aws:iam::1:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/OTHER",
            "arn:aws:iam::1:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC",
        ];
        assert_eq!(
            provider_for(arns, "https://oidc.eks.us-east-1.amazonaws.com/id/ABC"),
            Some(arns[1])
        );
        assert_eq!(provider_for(arns, "https://example.com/x"), None);
    }
}
