//! Tearing the stack's network down: [`delete_network`] deletes everything of it in
//! dependency order and reports what it could not delete; deleting twice is a no-op.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_ec2::types::{NatGatewayState, RouteTable, Tag};
use aws_sdk_ec2::Client;
use futures::future::join_all;

use super::{
    checkpoint, classify_failure, component_of, describe_stack, fail, filter, operation_context,
    record, Ec2Failure, NAT_WAIT_HINT,
};
use crate::ports::cluster::kind;
use crate::stack::retry::{Retry, RetryPolicy, Retryability};
use crate::stack::waiter::{Poll, PollBackoff, Waiter};
use crate::stack::{BackendError, LeftBehind, StackContext, Step, TeardownReport};

/// Collects what teardown did.
struct Teardown {
    report: TeardownReport,
}

impl Teardown {
    fn done(&mut self, key: &str, kind: &str, id: &str) {
        self.report.deleted.push(record(key, kind, None, id));
    }

    fn left(&mut self, key: &str, kind: &str, id: &str, reason: String) {
        tracing::warn!(component = key, id, %reason, "could not delete");
        self.report.left_behind.push(LeftBehind {
            component: record(key, kind, None, id),
            reason,
        });
    }

    /// Records the outcome of one delete call: gone already counts as deleted.
    fn outcome(
        &mut self,
        key: &str,
        kind: &str,
        id: &str,
        result: Result<(), Ec2Failure>,
        what: &str,
    ) -> bool {
        match result {
            Ok(()) => {
                self.done(key, kind, id);
                true
            }
            Err(e) if e.is_not_found() => true,
            Err(e) => {
                let reason = e.into_backend(format!("deleting {what} {id}")).to_string();
                self.left(key, kind, id, reason);
                false
            }
        }
    }
}

/// Tears down everything of the stack's network, in dependency order: NAT gateways
/// (and waits until they are gone), their addresses, route tables, the internet
/// gateway, network interfaces and security groups left in the VPC (Kubernetes
/// makes these), subnets, the VPC. What cannot be deleted is reported with the
/// reason, and the rest still goes. A second call finds nothing and does nothing.
///
/// Fails only when the stack cannot be looked up, or on cancellation or timeout;
/// [`Step::components`] lists what remains (left behind) either way.
pub async fn delete_network(ec2: &Client, ctx: &StackContext) -> Step<TeardownReport> {
    let mut teardown = Teardown {
        report: TeardownReport::default(),
    };
    let result = delete_inner(ec2, ctx, &mut teardown).await;
    let report = teardown.report;
    let components = report
        .left_behind
        .iter()
        .map(|l| l.component.clone())
        .collect();
    Step {
        components,
        result: result.map(|()| report),
    }
}

async fn delete_inner(
    ec2: &Client,
    ctx: &StackContext,
    t: &mut Teardown,
) -> Result<(), BackendError> {
    let stack = ctx.stack.as_str();
    checkpoint(ctx, "looking up the network to delete")?;
    let found = describe_stack(ec2, ctx).await?;
    let vpc_ids: Vec<String> = found
        .vpcs
        .iter()
        .filter_map(|v| v.vpc_id().map(str::to_owned))
        .collect();
    let vpc_refs: Vec<&str> = vpc_ids.iter().map(String::as_str).collect();

    // What lives in the stack's VPCs, tagged or not (a VPC paved made is paved's).
    let (in_vpc_nats, in_vpc_tables, in_vpc_subnets, enis, groups) = if vpc_refs.is_empty() {
        Default::default()
    } else {
        let what = |kind: &str| format!("listing the {kind} in the VPC of stack \"{stack}\"");
        futures::try_join!(
            async {
                ec2.describe_nat_gateways()
                    .filter(filter("vpc-id", &vpc_refs))
                    .filter(filter("state", &["pending", "available"]))
                    .send()
                    .await
                    .map(|o| o.nat_gateways().to_vec())
                    .map_err(fail(what("NAT gateways")))
            },
            async {
                ec2.describe_route_tables()
                    .filters(filter("vpc-id", &vpc_refs))
                    .send()
                    .await
                    .map(|o| o.route_tables().to_vec())
                    .map_err(fail(what("route tables")))
            },
            async {
                ec2.describe_subnets()
                    .filters(filter("vpc-id", &vpc_refs))
                    .send()
                    .await
                    .map(|o| o.subnets().to_vec())
                    .map_err(fail(what("subnets")))
            },
            async {
                ec2.describe_network_interfaces()
                    .filters(filter("vpc-id", &vpc_refs))
                    .send()
                    .await
                    .map(|o| o.network_interfaces().to_vec())
                    .map_err(fail(what("network interfaces")))
            },
            async {
                ec2.describe_security_groups()
                    .filters(filter("vpc-id", &vpc_refs))
                    .send()
                    .await
                    .map(|o| o.security_groups().to_vec())
                    .map_err(fail(what("security groups")))
            },
        )?
    };
    let key_or = |tags: &[Tag], default: &str| component_of(tags).unwrap_or(default).to_owned();

    // 1. NAT gateways, then wait until they are gone (they hold their addresses and
    //    network interfaces until then).
    checkpoint(ctx, "deleting NAT gateways")?;
    let mut nats: BTreeMap<String, String> = BTreeMap::new();
    for n in found.nats.iter().chain(in_vpc_nats.iter()) {
        if let Some(id) = n.nat_gateway_id() {
            nats.entry(id.to_owned())
                .or_insert_with(|| key_or(n.tags(), "nat_gateway"));
        }
    }
    let results = join_all(nats.keys().map(|id| async move {
        ec2.delete_nat_gateway()
            .nat_gateway_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(Ec2Failure::from_sdk)
    }))
    .await;
    let mut deleting = Vec::new();
    for ((id, key), result) in nats.iter().zip(results) {
        if t.outcome(key, kind::NAT_GATEWAY, id, result, "NAT gateway") {
            deleting.push(id.clone());
        }
    }
    if let Err(e) = wait_nats_deleted(ec2, ctx, &deleting).await {
        if matches!(
            e,
            BackendError::Cancelled { .. } | BackendError::TimedOut { .. }
        ) {
            return Err(e);
        }
        for id in &deleting {
            t.left(&nats[id], kind::NAT_GATEWAY, id, e.to_string());
        }
    }

    // 2. Addresses (retrying while AWS still shows them in use by a deleted NAT).
    checkpoint(ctx, "releasing elastic IPs")?;
    let retry = Retry::new(
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(20),
            ..RetryPolicy::CLOUD_DEFAULT
        },
        operation_context(ctx),
    );
    let in_use = |e: &Ec2Failure| {
        if e.code_is("InvalidIPAddress.InUse") || e.code_is("AuthFailure") {
            Retryability::Retryable
        } else {
            e.retryability()
        }
    };
    let releases = join_all(found.eips.iter().filter_map(|a| {
        let id = a.allocation_id()?.to_owned();
        let key = key_or(a.tags(), "elastic_ip");
        let retry = &retry;
        let in_use = &in_use;
        Some(async move {
            let result = retry
                .run(&format!("releasing elastic IP {id}"), in_use, || async {
                    ec2.release_address()
                        .allocation_id(&id)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(Ec2Failure::from_sdk)
                })
                .await
                .map_err(|e| {
                    e.into_last_error().unwrap_or(Ec2Failure {
                        code: None,
                        status: None,
                        io: false,
                        message: "stopped as Terraform asked".to_owned(),
                    })
                });
            (key, id, result)
        })
    }))
    .await;
    for (key, id, result) in releases {
        t.outcome(&key, kind::ELASTIC_IP, &id, result, "elastic IP");
    }

    // 3. Route tables other than the main one: disassociate, then delete.
    checkpoint(ctx, "deleting route tables")?;
    let mut tables: BTreeMap<String, &RouteTable> = BTreeMap::new();
    for r in found.route_tables.iter().chain(in_vpc_tables.iter()) {
        let main = r.associations().iter().any(|a| a.main().unwrap_or(false));
        if let (Some(id), false) = (r.route_table_id(), main) {
            tables.entry(id.to_owned()).or_insert(r);
        }
    }
    let results = join_all(tables.iter().map(|(id, table)| async move {
        for a in table.associations() {
            if let Some(assoc) = a.route_table_association_id() {
                let r = ec2
                    .disassociate_route_table()
                    .association_id(assoc)
                    .send()
                    .await
                    .map_err(Ec2Failure::from_sdk);
                if let Err(e) = r {
                    if !e.is_not_found() {
                        return (id, table, Err(e));
                    }
                }
            }
        }
        let r = ec2
            .delete_route_table()
            .route_table_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(Ec2Failure::from_sdk);
        (id, table, r)
    }))
    .await;
    for (id, table, result) in results {
        let key = key_or(table.tags(), "route_table");
        t.outcome(&key, kind::ROUTE_TABLE, id, result, "route table");
    }

    // 4. The internet gateway: detach, then delete.
    checkpoint(ctx, "deleting the internet gateway")?;
    for g in &found.igws {
        let Some(id) = g.internet_gateway_id() else {
            continue;
        };
        let key = key_or(g.tags(), "internet_gateway");
        let mut result = Ok(());
        for a in g.attachments() {
            if let Some(vpc) = a.vpc_id() {
                let r = ec2
                    .detach_internet_gateway()
                    .internet_gateway_id(id)
                    .vpc_id(vpc)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(Ec2Failure::from_sdk);
                if let Err(e) = r {
                    if !e.is_not_found() {
                        result = Err(e);
                        break;
                    }
                }
            }
        }
        if result.is_ok() {
            result = ec2
                .delete_internet_gateway()
                .internet_gateway_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(Ec2Failure::from_sdk);
        }
        t.outcome(&key, kind::INTERNET_GATEWAY, id, result, "internet gateway");
    }

    // 5. Network interfaces left in the VPC (load balancers, pods), then security
    //    groups other than the default one.
    checkpoint(ctx, "deleting leftover network interfaces")?;
    for eni in &enis {
        let Some(id) = eni.network_interface_id() else {
            continue;
        };
        if eni.requester_managed().unwrap_or(false) {
            let owner = eni
                .interface_type()
                .map(|k| k.as_str().to_owned())
                .or_else(|| eni.description().map(str::to_owned))
                .unwrap_or_else(|| "an AWS service".to_owned());
            // A NAT gateway's interface goes with the NAT gateway.
            if owner.contains("nat_gateway") || owner.contains("NAT") {
                continue;
            }
            t.left(
                "network_interface",
                "network_interface",
                id,
                format!(
                    "network interface {id} belongs to {owner} (often a load balancer made by \
                     Kubernetes); delete that service's object, then destroy again"
                ),
            );
            continue;
        }
        let mut result = Ok(());
        if let Some(attachment) = eni.attachment().and_then(|a| a.attachment_id()) {
            result = ec2
                .detach_network_interface()
                .attachment_id(attachment)
                .force(true)
                .send()
                .await
                .map(|_| ())
                .map_err(Ec2Failure::from_sdk);
        }
        if result.is_ok() {
            result = ec2
                .delete_network_interface()
                .network_interface_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(Ec2Failure::from_sdk);
        }
        t.outcome(
            "network_interface",
            "network_interface",
            id,
            result,
            "network interface",
        );
    }
    checkpoint(ctx, "deleting leftover security groups")?;
    let extra_groups: Vec<_> = groups
        .iter()
        .filter(|g| g.group_name() != Some("default"))
        .collect();
    // Groups may refer to each other: empty every one first, then delete them.
    for g in &extra_groups {
        let Some(id) = g.group_id() else { continue };
        if !g.ip_permissions().is_empty() {
            let _ = ec2
                .revoke_security_group_ingress()
                .group_id(id)
                .set_ip_permissions(Some(g.ip_permissions().to_vec()))
                .send()
                .await;
        }
        if !g.ip_permissions_egress().is_empty() {
            let _ = ec2
                .revoke_security_group_egress()
                .group_id(id)
                .set_ip_permissions(Some(g.ip_permissions_egress().to_vec()))
                .send()
                .await;
        }
    }
    for g in &extra_groups {
        let Some(id) = g.group_id() else { continue };
        let result = ec2
            .delete_security_group()
            .group_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(Ec2Failure::from_sdk);
        t.outcome(
            "security_group",
            "security_group",
            id,
            result,
            "security group",
        );
    }

    // 6. Subnets, all at once.
    checkpoint(ctx, "deleting subnets")?;
    let mut subnets: BTreeMap<String, String> = BTreeMap::new();
    for s in found.subnets.iter().chain(in_vpc_subnets.iter()) {
        if let Some(id) = s.subnet_id() {
            subnets
                .entry(id.to_owned())
                .or_insert_with(|| key_or(s.tags(), "subnet"));
        }
    }
    let results = join_all(subnets.keys().map(|id| async move {
        ec2.delete_subnet()
            .subnet_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(Ec2Failure::from_sdk)
    }))
    .await;
    for ((id, key), result) in subnets.iter().zip(results) {
        t.outcome(key, kind::SUBNET, id, result, "subnet");
    }

    // 7. The VPC.
    checkpoint(ctx, "deleting the VPC")?;
    for v in &found.vpcs {
        let Some(id) = v.vpc_id() else { continue };
        let key = key_or(v.tags(), "vpc");
        let result = ec2
            .delete_vpc()
            .vpc_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(Ec2Failure::from_sdk);
        t.outcome(&key, kind::VPC, id, result, "VPC");
    }
    Ok(())
}

/// Waits until the NAT gateways are deleted (or no longer listed).
pub(super) async fn wait_nats_deleted(
    ec2: &Client,
    ctx: &StackContext,
    ids: &[String],
) -> Result<(), BackendError> {
    if ids.is_empty() {
        return Ok(());
    }
    let during = "waiting for the NAT gateways to be deleted";
    let waiter = Waiter::new(
        operation_context(ctx),
        "NAT gateway deletion",
        ctx.wait_limit(),
    )
    .with_interval(PollBackoff {
        start: Duration::from_secs(5),
        factor: 1.5,
        cap: Duration::from_secs(20),
    })
    .with_hint("run destroy again; it resumes where it stopped");
    waiter
        .wait(&classify_failure, || async {
            let out = ec2
                .describe_nat_gateways()
                .filter(filter(
                    "nat-gateway-id",
                    &ids.iter().map(String::as_str).collect::<Vec<_>>(),
                ))
                .send()
                .await
                .map_err(Ec2Failure::from_sdk)?;
            let remaining: Vec<&str> = out
                .nat_gateways()
                .iter()
                .filter(|n| n.state() != Some(&NatGatewayState::Deleted))
                .filter_map(|n| n.nat_gateway_id())
                .collect();
            Ok(if remaining.is_empty() {
                Poll::Done(())
            } else {
                Poll::Pending {
                    status: format!("deleting ({})", remaining.join(", ")),
                }
            })
        })
        .await
        .map_err(|e| {
            BackendError::from_wait(e, during, NAT_WAIT_HINT, |last| last.into_backend(during))
        })
}
