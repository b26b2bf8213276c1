//! Destroy: the stack torn down in dependency order, past what cannot go.
//!
//! Node groups (waiting until gone), launch templates, the load balancers and
//! target groups Kubernetes made in the network (waiting until the load balancers
//! are gone, since they hold network interfaces), the cluster (waiting until gone;
//! EKS deletes its add-ons and access entries with it, so they need no call of
//! their own), its OIDC provider and log group, the roles (all under the stack's
//! path, the storage driver's included), the network (unless it is the
//! user's; then only the security groups Kubernetes made in it), and the key when
//! asked. A failure is reported in [`TeardownReport::left_behind`] and the rest
//! still goes; only cancellation and timeouts stop it. A second call finds nothing
//! and deletes nothing.

use std::collections::BTreeSet;

use aws_sdk_eks::Client as Eks;
use aws_sdk_elasticloadbalancingv2::Client as Elb;
use aws_sdk_iam::Client as Iam;
use futures::future::join_all;

use super::eks::{delete_log_group, describe, issuer, log_group_name};
use super::iam::role_path;
use super::nodes::{delete_group, delete_template, describe_groups, list_groups, pool_of};
use super::wait::{Observed, Wait, DELETED};
use super::{failure, not_found, owned_by, Clients};
use crate::cloud::aws::error::{unless_gone, SdkFailure};
use crate::cloud::aws::iam_roles::oidc_host;
use crate::cloud::aws::inventory::record;
use crate::cloud::aws::kms::{self, KeyOwner};
use crate::cloud::aws::network::{self, checkpoint, component_of, filter, in_stack, stack_filter};
use crate::ports::cluster::kind;
use crate::ports::cluster::TeardownRequest;
use crate::stack::{BackendError, ComponentRecord, LeftBehind, StackContext, Step, TeardownReport};

/// What teardown did so far.
#[derive(Default)]
struct Report {
    report: TeardownReport,
}

impl Report {
    /// Records one deletion's outcome: `Ok(true)` deleted, `Ok(false)` already gone,
    /// an error left behind, except cancellation and timeouts, which stop teardown.
    fn settle(
        &mut self,
        component: ComponentRecord,
        result: Result<bool, BackendError>,
    ) -> Result<(), BackendError> {
        match result {
            Ok(true) => self.report.deleted.push(component),
            Ok(false) => {}
            Err(e @ (BackendError::Cancelled { .. } | BackendError::TimedOut { .. })) => {
                self.left(component, e.to_string());
                return Err(e);
            }
            Err(e) => self.left(component, e.to_string()),
        }
        Ok(())
    }

    fn left(&mut self, component: ComponentRecord, reason: String) {
        tracing::warn!(component = %component.key, id = %component.id, %reason, "could not delete");
        self.report
            .left_behind
            .push(LeftBehind { component, reason });
    }
}

/// Tears the stack down; see the module docs.
pub(super) async fn delete_stack(
    c: &Clients,
    ctx: &StackContext,
    req: &TeardownRequest,
    owner: KeyOwner<'_>,
) -> Step<TeardownReport> {
    let mut r = Report::default();
    let result = inner(c, ctx, req, owner, &mut r).await;
    let components = r
        .report
        .left_behind
        .iter()
        .map(|l| l.component.clone())
        .collect();
    Step {
        components,
        result: result.map(|()| r.report),
    }
}

async fn inner(
    c: &Clients,
    ctx: &StackContext,
    req: &TeardownRequest,
    owner: KeyOwner<'_>,
    r: &mut Report,
) -> Result<(), BackendError> {
    let stack = ctx.stack.as_str();
    checkpoint(ctx, "looking up the stack to delete")?;
    let (cluster, net) =
        futures::join!(describe(&c.eks, stack), network::read_network(&c.ec2, ctx));
    let cluster = cluster
        .map_err(|f| failure("EKS", "reading the cluster", f))?
        .filter(|cl| cl.tags().is_some_and(|t| owned_by(t, stack)));
    let net = net?;
    let mut vpcs: BTreeSet<String> = BTreeSet::new();
    let cluster_vpc = cluster.as_ref().and_then(|cl| cl.resources_vpc_config());
    match cluster_vpc.and_then(|v| v.vpc_id()) {
        Some(v) => {
            vpcs.insert(v.to_owned());
        }
        // Emulators leave the VPC out of the cluster's answer: ask its subnets.
        None => {
            if let Some(subnet) = cluster_vpc.and_then(|v| v.subnet_ids().first()) {
                let out = c
                    .ec2
                    .describe_subnets()
                    .subnet_ids(subnet)
                    .send()
                    .await
                    .map_err(SdkFailure::from_sdk)
                    .map_err(|f| f.into_backend("finding the cluster's network"))?;
                vpcs.extend(
                    out.subnets()
                        .iter()
                        .filter_map(|s| s.vpc_id().map(str::to_owned)),
                );
            }
        }
    }
    if let Some(n) = &net.network {
        vpcs.insert(n.vpc_id.clone());
    }

    // 1. Node groups, all at once, each waited for.
    if cluster.is_some() {
        checkpoint(ctx, "deleting node groups")?;
        let names = list_groups(&c.eks, stack).await?;
        let described = describe_groups(&c.eks, stack, &names)
            .await
            .map_err(|f| failure("EKS", "reading node groups", f))?;
        let mut ours = Vec::new();
        for g in &described {
            {
                if g.tags().is_some_and(|t| owned_by(t, stack)) {
                    let key = format!("node_group.{}", pool_of(g).unwrap_or("unknown"));
                    ours.push((
                        g.nodegroup_name().unwrap_or_default().to_owned(),
                        record(
                            &key,
                            kind::NODE_GROUP,
                            g.nodegroup_arn().unwrap_or_default(),
                        ),
                    ));
                }
            }
        }
        let results = join_all(ours.iter().map(|(name, _)| delete_group(&c.eks, ctx, name))).await;
        for ((_, rec), result) in ours.into_iter().zip(results) {
            r.settle(rec, result.map(|()| true))?;
        }
    }

    // 2. Launch templates.
    checkpoint(ctx, "deleting launch templates")?;
    let templates = c
        .ec2
        .describe_launch_templates()
        .filters(stack_filter(stack))
        .send()
        .await
        .map_err(SdkFailure::from_sdk)
        .map_err(|f| f.into_backend("looking up launch templates"))?;
    for t in templates.launch_templates() {
        if let (Some(id), true) = (t.launch_template_id(), in_stack(t.tags(), stack)) {
            let key = component_of(t.tags()).unwrap_or("launch_template");
            r.settle(
                record(key, kind::LAUNCH_TEMPLATE, id),
                delete_template(&c.ec2, id).await,
            )?;
        }
    }

    // 3. What Kubernetes made in the network: load balancers, target groups, and
    //    (in the user's network) security groups.
    if !vpcs.is_empty() {
        delete_load_balancers(c, ctx, &vpcs, req.keep_network, r).await?;
    }

    // 4. The cluster, then its OIDC provider and log group.
    let mut provider_arns = Vec::new();
    let providers = c
        .iam
        .list_open_id_connect_providers()
        .send()
        .await
        .map_err(SdkFailure::from_sdk)
        .map_err(|f| failure("IAM", "listing OIDC providers", f))?;
    let listed: Vec<String> = providers
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn().map(str::to_owned))
        .collect();
    if let Some(cl) = &cluster {
        let host = issuer(cl).trim_start_matches("https://").to_owned();
        provider_arns.extend(listed.iter().filter(|a| oidc_host(a) == host).cloned());
        checkpoint(ctx, "deleting the control plane")?;
        let arn = cl.arn().unwrap_or(stack).to_owned();
        let result = delete_cluster(&c.eks, ctx).await;
        r.settle(record("cluster", kind::CLUSTER, &arn), result)?;
    } else {
        // The cluster went in an earlier run: find its provider by tags.
        for arn in &listed {
            if let Ok(out) = c
                .iam
                .get_open_id_connect_provider()
                .open_id_connect_provider_arn(arn)
                .send()
                .await
            {
                if out
                    .tags()
                    .iter()
                    .any(|t| t.key() == crate::stack::tags::STACK_TAG && t.value() == stack)
                {
                    provider_arns.push(arn.clone());
                }
            }
        }
    }
    for arn in provider_arns {
        let call = c
            .iam
            .delete_open_id_connect_provider()
            .open_id_connect_provider_arn(&arn)
            .send()
            .await;
        let result = unless_gone(call, not_found)
            .map(|out| out.is_some())
            .map_err(|f| failure("IAM", "deleting the OIDC provider", f));
        r.settle(record("oidc_provider", kind::OIDC_PROVIDER, &arn), result)?;
    }
    checkpoint(ctx, "deleting the log group")?;
    let group = log_group_name(stack);
    let found = c
        .logs
        .describe_log_groups()
        .log_group_name_prefix(&group)
        .send()
        .await
        .map_err(SdkFailure::from_sdk)
        .map_err(|f| failure("CloudWatch Logs", "looking up the log group", f));
    let result = match found {
        Ok(out)
            if out
                .log_groups()
                .iter()
                .any(|g| g.log_group_name() == Some(group.as_str())) =>
        {
            delete_log_group(&c.logs, &group).await
        }
        Ok(_) => Ok(false),
        Err(e) => Err(e),
    };
    r.settle(record("log_group", kind::LOG_GROUP, &group), result)?;

    // 5. Roles: detach and delete policies, then the role.
    checkpoint(ctx, "deleting IAM roles")?;
    let roles = c
        .iam
        .list_roles()
        .path_prefix(role_path(stack))
        .send()
        .await
        .map_err(SdkFailure::from_sdk)
        .map_err(|f| failure("IAM", "listing the stack's roles", f))?;
    for role in roles.roles() {
        let which = role
            .role_name()
            .strip_prefix(&format!("{stack}-"))
            .unwrap_or(role.role_name());
        let result = delete_role(&c.iam, role.role_name()).await;
        r.settle(
            record(&format!("iam_role.{which}"), kind::IAM_ROLE, role.arn()),
            result.map(|()| true),
        )?;
    }

    // 6. The network.
    if !req.keep_network {
        let step = network::delete_network(&c.ec2, ctx).await;
        match step.result {
            Ok(report) => {
                r.report.deleted.extend(report.deleted);
                r.report.left_behind.extend(report.left_behind);
            }
            Err(e @ (BackendError::Cancelled { .. } | BackendError::TimedOut { .. })) => {
                return Err(e)
            }
            Err(e) => {
                for component in step.components {
                    r.left(component, e.to_string());
                }
                if let Some(n) = &net.network {
                    r.left(record("vpc", kind::VPC, &n.vpc_id), e.to_string());
                }
            }
        }
    }

    // 7. The key.
    if req.delete_key {
        checkpoint(ctx, "scheduling the key's deletion")?;
        match kms::delete_key(&c.kms, ctx, owner).await {
            Ok(Some(rec)) => r.report.deleted.push(rec),
            Ok(None) => {}
            Err(e) => r.left(
                record(kms::KEY_COMPONENT, kind::KMS_KEY, &owner.alias(stack)),
                e.to_string(),
            ),
        }
    }
    Ok(())
}

/// Deletes the cluster and waits until it is gone. `Ok(false)`: it was gone.
async fn delete_cluster(eks: &Eks, ctx: &StackContext) -> Result<bool, BackendError> {
    let name = ctx.stack.as_str();
    let call = eks.delete_cluster().name(name).send().await;
    if unless_gone(call, not_found)
        .map_err(|f| failure("EKS", format!("deleting EKS cluster {name}"), f))?
        .is_none()
    {
        return Ok(false);
    }
    Wait::new(
        ctx,
        format!("EKS cluster {name}"),
        "deleting the control plane",
    )
    .until(DELETED, || async {
        Ok(describe(eks, name)
            .await?
            .as_ref()
            .map(super::eks::observed))
    })
    .await?;
    Ok(true)
}

/// Detaches the role's managed policies, deletes its inline ones, then the role.
async fn delete_role(iam: &Iam, name: &str) -> Result<(), BackendError> {
    let err = |op: String| move |f: SdkFailure| failure("IAM", op, f);
    let attached = iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(SdkFailure::from_sdk)
        .map_err(err(format!("listing the policies of IAM role {name}")))?;
    for p in attached.attached_policies() {
        if let Some(arn) = p.policy_arn() {
            iam.detach_role_policy()
                .role_name(name)
                .policy_arn(arn)
                .send()
                .await
                .map_err(SdkFailure::from_sdk)
                .map_err(err(format!("detaching {arn} from IAM role {name}")))?;
        }
    }
    let inline = iam
        .list_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(SdkFailure::from_sdk)
        .map_err(err(format!(
            "listing the inline policies of IAM role {name}"
        )))?;
    for p in inline.policy_names() {
        iam.delete_role_policy()
            .role_name(name)
            .policy_name(p)
            .send()
            .await
            .map_err(SdkFailure::from_sdk)
            .map_err(err(format!("deleting policy {p} of IAM role {name}")))?;
    }
    unless_gone(iam.delete_role().role_name(name).send().await, not_found)
        .map(|_| ())
        .map_err(err(format!("deleting IAM role {name}")))
}

/// Whether tags say Kubernetes made the object for cluster `stack`.
fn made_by_kubernetes<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>, stack: &str) -> bool {
    let cluster_tag = format!("kubernetes.io/cluster/{stack}");
    tags.into_iter().any(|(k, v)| {
        k == cluster_tag
            || (k == "elbv2.k8s.aws/cluster" && v == stack)
            || (k == "service.k8s.aws/stack" && v.starts_with(stack))
    })
}

/// Deletes the load balancers (and their target groups) in `vpcs`: all of them in
/// the stack's own network; in the user's network only those Kubernetes made for
/// this cluster, and the security groups it made too.
async fn delete_load_balancers(
    c: &Clients,
    ctx: &StackContext,
    vpcs: &BTreeSet<String>,
    keep_network: bool,
    r: &mut Report,
) -> Result<(), BackendError> {
    let stack = ctx.stack.as_str();
    checkpoint(ctx, "deleting load balancers Kubernetes made")?;
    let elb_err = |op: &'static str| move |f: SdkFailure| failure("Elastic Load Balancing", op, f);
    let lbs = c
        .elbv2
        .describe_load_balancers()
        .send()
        .await
        .map_err(SdkFailure::from_sdk)
        .map_err(elb_err("listing load balancers"))?;
    let mut arns: Vec<String> = lbs
        .load_balancers()
        .iter()
        .filter(|lb| lb.vpc_id().is_some_and(|v| vpcs.contains(v)))
        .filter_map(|lb| lb.load_balancer_arn().map(str::to_owned))
        .collect();
    let tgs = c
        .elbv2
        .describe_target_groups()
        .send()
        .await
        .map_err(SdkFailure::from_sdk)
        .map_err(elb_err("listing target groups"))?;
    let mut tg_arns: Vec<String> = tgs
        .target_groups()
        .iter()
        .filter(|tg| tg.vpc_id().is_some_and(|v| vpcs.contains(v)))
        .filter_map(|tg| tg.target_group_arn().map(str::to_owned))
        .collect();
    if keep_network {
        arns = kubernetes_made(&c.elbv2, arns, stack).await?;
        tg_arns = kubernetes_made(&c.elbv2, tg_arns, stack).await?;
    }
    for arn in &arns {
        let result = delete_elb(&c.elbv2, "load_balancer", arn).await;
        r.settle(record("load_balancer", "load_balancer", arn), result)?;
    }
    if !arns.is_empty() {
        let waiter = Wait::new(ctx, "load balancers", "deleting load balancers");
        let wait = waiter.until(DELETED, || async {
            let call = c
                .elbv2
                .describe_load_balancers()
                .set_load_balancer_arns(Some(arns.clone()))
                .send()
                .await;
            let remaining =
                unless_gone(call, not_found)?.is_some_and(|out| !out.load_balancers().is_empty());
            Ok(remaining.then(|| Observed {
                status: "deleting".to_owned(),
                reason: None,
            }))
        });
        if let Err(e) = wait.await {
            r.settle(
                record("load_balancer", "load_balancer", &arns.join(",")),
                Err(e),
            )?;
        }
    }
    for arn in &tg_arns {
        let result = delete_elb(&c.elbv2, "target_group", arn).await;
        r.settle(record("target_group", "target_group", arn), result)?;
    }
    if keep_network {
        let vpc_list: Vec<&str> = vpcs.iter().map(String::as_str).collect();
        let groups = c
            .ec2
            .describe_security_groups()
            .filters(filter("vpc-id", &vpc_list))
            .filters(filter(
                "tag-key",
                &[&format!("kubernetes.io/cluster/{stack}")],
            ))
            .send()
            .await
            .map_err(SdkFailure::from_sdk)
            .map_err(|f| f.into_backend("looking up security groups Kubernetes made"))?;
        for g in groups.security_groups() {
            let Some(id) = g.group_id() else { continue };
            let call = c.ec2.delete_security_group().group_id(id).send().await;
            let result = unless_gone(call, SdkFailure::is_not_found)
                .map(|out| out.is_some())
                .map_err(|f| f.into_backend(format!("deleting security group {id}")));
            r.settle(record("security_group", "security_group", id), result)?;
        }
    }
    Ok(())
}

/// Deletes one load balancer or target group (`what`); `Ok(false)` when it was
/// gone already.
async fn delete_elb(elb: &Elb, what: &str, arn: &str) -> Result<bool, BackendError> {
    let result = if what == "load_balancer" {
        let call = elb
            .delete_load_balancer()
            .load_balancer_arn(arn)
            .send()
            .await;
        unless_gone(call, not_found).map(|out| out.is_some())
    } else {
        let call = elb.delete_target_group().target_group_arn(arn).send().await;
        unless_gone(call, not_found).map(|out| out.is_some())
    };
    result.map_err(|f| {
        let what = what.replace('_', " ");
        failure(
            "Elastic Load Balancing",
            format!("deleting {what} {arn}"),
            f,
        )
    })
}

/// The ARNs (load balancers or target groups) whose tags say Kubernetes made them
/// for the cluster; 20 per `DescribeTags` call.
async fn kubernetes_made(
    elb: &Elb,
    arns: Vec<String>,
    stack: &str,
) -> Result<Vec<String>, BackendError> {
    let mut out = Vec::new();
    for chunk in arns.chunks(20) {
        let tags = elb
            .describe_tags()
            .set_resource_arns(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(SdkFailure::from_sdk)
            .map_err(|f| failure("Elastic Load Balancing", "reading load balancer tags", f))?;
        for d in tags.tag_descriptions() {
            let pairs = d
                .tags()
                .iter()
                .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()));
            if made_by_kubernetes(pairs, stack) {
                if let Some(arn) = d.resource_arn() {
                    out.push(arn.to_owned());
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_tags_are_recognised() {
        assert!(made_by_kubernetes(
            [("kubernetes.io/cluster/shop", "owned")],
            "shop"
        ));
        assert!(made_by_kubernetes(
            [("elbv2.k8s.aws/cluster", "shop")],
            "shop"
        ));
        assert!(!made_by_kubernetes(
            [("elbv2.k8s.aws/cluster", "other")],
            "shop"
        ));
        assert!(!made_by_kubernetes([("team", "shop")], "shop"));
    }
}
