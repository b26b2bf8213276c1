//! The AWS network of a `paved_ha_cluster` or a `paved_network`: VPC, subnets per zone and tier, internet
//! gateway, NAT gateways with their addresses, route tables and associations.
//!
//! Every object is tagged at creation (`TagSpecifications`) with the stack's tags and
//! its inventory key ([`COMPONENT_TAG`]: `vpc`, `subnet.private.0`, `nat_gateway.1`,
//! `route_table.public`...), so an apply cut off right after a create finds it again.
//!
//! Three jobs, one file each: [`ensure_network`] builds or adopts the network
//! (`ensure.rs`, its route tables in `routes.rs`), [`read_network`] is the refresh
//! (`read.rs`) and [`delete_network`] tears it down (`teardown.rs`). This file holds
//! what they share, some of it used by the other AWS adapters too: tags and filters,
//! component keys and records, the batched lookup of everything tagged with the
//! stack, and the errors (throttling and 5xx become [`BackendError::Retryable`], the
//! SDK having already retried them; the rest [`BackendError::Permanent`] with a hint).

use std::collections::BTreeMap;

use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::{
    Address, Filter, InternetGateway, NatGateway, NatGatewayState, ResourceType, RouteTable,
    Subnet, Tag, TagSpecification, Vpc,
};
use aws_sdk_ec2::Client;

use super::error::SdkFailure as Ec2Failure;
use crate::ports::cluster::NetworkState;
use crate::ports::network::{NatLayout, Tier};
use crate::stack::retry::Retryability;
use crate::stack::tags::{COMPONENT_TAG, RESOURCE_TAG, STACK_TAG};
use crate::stack::OperationContext;
use crate::stack::{BackendError, ComponentRecord, StackContext};

mod backend;
mod ensure;
mod read;
mod routes;
mod teardown;

pub use backend::AwsNetworkBackend;
pub use ensure::ensure_network;
pub use read::read_network;
pub use teardown::delete_network;

/// The network to build, with its zones already chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkSpec {
    /// The network's range (`10.0.0.0/16`).
    pub cidr: String,
    /// The zones, in zone order (`us-east-1a`...).
    pub zones: Vec<String>,
    /// NAT gateway layout.
    pub nat: NatLayout,
}

/// What [`read_network`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetworkRead {
    /// The network, when the stack has a VPC.
    pub network: Option<NetworkState>,
    /// Every network component tagged with the stack.
    pub components: Vec<ComponentRecord>,
    /// The tags of each of them, by component key (for tag drift).
    pub tags: BTreeMap<String, BTreeMap<String, String>>,
}

/// EC2 tags as a map.
pub(crate) fn tags_of(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
        .collect()
}

// ---------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------

impl Ec2Failure {
    /// The error for the user, with `operation` saying what was being done.
    pub(crate) fn into_backend(self, operation: impl Into<String>) -> BackendError {
        self.into_backend_error("EC2", operation)
    }
}

fn fail<E>(operation: impl Into<String>) -> impl FnOnce(SdkError<E, HttpResponse>) -> BackendError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let operation = operation.into();
    move |err| Ec2Failure::from_sdk(err).into_backend(operation)
}

fn missing_id(operation: &str) -> BackendError {
    BackendError::Permanent {
        operation: operation.to_owned(),
        message: "EC2 answered without the new object's id".to_owned(),
        hint: "Run apply again; paved finds the object by its tags if it was created".to_owned(),
    }
}

/// Stops between cloud calls when Terraform asked to, or the deadline passed (shared
/// with the cluster and database backends).
pub(crate) fn checkpoint(ctx: &StackContext, during: &str) -> Result<(), BackendError> {
    ctx.checkpoint(during)
}

// ---------------------------------------------------------------------------------
// Tags
// ---------------------------------------------------------------------------------

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

pub(crate) fn tag_value<'a>(tags: &'a [Tag], key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

pub(crate) fn in_stack(tags: &[Tag], stack: &str) -> bool {
    tag_value(tags, STACK_TAG) == Some(stack)
}

pub(crate) fn component_of(tags: &[Tag]) -> Option<&str> {
    tag_value(tags, COMPONENT_TAG)
}

/// The tags of component `key` as a map: the stack's tags and paved's identity
/// tags. Shared with the other AWS adapters of `paved_ha_cluster` (EKS, IAM and Logs
/// take tags as maps).
pub(crate) fn component_tag_map(ctx: &StackContext, key: &str) -> BTreeMap<String, String> {
    ctx.component_tags(key)
}

/// The tags of component `key`: the stack's tags, paved's identity tags and `extra`.
pub(crate) fn component_tags(
    ctx: &StackContext,
    key: &str,
    extra: &[(String, String)],
) -> Vec<Tag> {
    let mut tags = component_tag_map(ctx, key);
    for (k, v) in extra {
        tags.insert(k.clone(), v.clone());
    }
    tags.iter().map(|(k, v)| tag(k, v)).collect()
}

pub(crate) fn tag_spec(resource: ResourceType, tags: Vec<Tag>) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(resource)
        .set_tags(Some(tags))
        .build()
}

/// The filter on the resource that owns a component (`paved:resource`).
fn resource_filter(resource: &str) -> Filter {
    Filter::builder()
        .name(format!("tag:{RESOURCE_TAG}"))
        .values(resource)
        .build()
}

pub(crate) fn stack_filter(stack: &str) -> Filter {
    Filter::builder()
        .name(format!("tag:{STACK_TAG}"))
        .values(stack)
        .build()
}

pub(crate) fn filter(name: &str, values: &[&str]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.iter().map(|v| (*v).to_owned()).collect()))
        .build()
}

// ---------------------------------------------------------------------------------
// Component keys
// ---------------------------------------------------------------------------------

fn subnet_key(tier: Tier, zone: usize) -> String {
    format!("subnet.{}.{zone}", tier.as_str())
}

fn eip_key(index: usize) -> String {
    format!("elastic_ip.{index}")
}

fn nat_key(index: usize) -> String {
    format!("nat_gateway.{index}")
}

/// The zone index at the end of a key (`subnet.private.2` → 2).
fn key_index(key: &str) -> Option<usize> {
    key.rsplit('.').next()?.parse().ok()
}

fn record(key: &str, kind: &str, zone: Option<&str>, id: &str) -> ComponentRecord {
    ComponentRecord {
        key: key.to_owned(),
        kind: kind.to_owned(),
        zone: zone.map(str::to_owned),
        id: id.to_owned(),
    }
}

// ---------------------------------------------------------------------------------
// The batched lookup
// ---------------------------------------------------------------------------------

/// Everything tagged with the stack, one describe call per kind. Results are also
/// filtered here by the stack tag, since not every EC2 implementation honours tag
/// filters on every call.
#[derive(Debug, Default)]
struct Found {
    vpcs: Vec<Vpc>,
    subnets: Vec<Subnet>,
    igws: Vec<InternetGateway>,
    nats: Vec<NatGateway>,
    eips: Vec<Address>,
    route_tables: Vec<RouteTable>,
}

async fn describe_stack(ec2: &Client, ctx: &StackContext) -> Result<Found, BackendError> {
    let stack = ctx.stack.as_str();
    let owner = ctx.resource_type;
    let what = |kind: &str| format!("looking up the {kind} of stack \"{stack}\"");
    // The stack's and the owning resource's: a `paved_network` and a cluster may
    // share a name, and neither may take the other's VPC for its own.
    let ours = |tags: &[Tag]| in_stack(tags, stack) && tag_value(tags, RESOURCE_TAG) == Some(owner);
    let (vpcs, subnets, igws, nats, eips, route_tables) = futures::try_join!(
        async {
            ec2.describe_vpcs()
                .set_filters(Some(vec![stack_filter(stack), resource_filter(owner)]))
                .send()
                .await
                .map_err(fail(what("VPCs")))
        },
        async {
            ec2.describe_subnets()
                .set_filters(Some(vec![stack_filter(stack), resource_filter(owner)]))
                .send()
                .await
                .map_err(fail(what("subnets")))
        },
        async {
            ec2.describe_internet_gateways()
                .set_filters(Some(vec![stack_filter(stack), resource_filter(owner)]))
                .send()
                .await
                .map_err(fail(what("internet gateways")))
        },
        async {
            ec2.describe_nat_gateways()
                .filter(stack_filter(stack))
                .filter(resource_filter(owner))
                .filter(filter("state", &["pending", "available"]))
                .send()
                .await
                .map_err(fail(what("NAT gateways")))
        },
        async {
            ec2.describe_addresses()
                .set_filters(Some(vec![stack_filter(stack), resource_filter(owner)]))
                .send()
                .await
                .map_err(fail(what("elastic IPs")))
        },
        async {
            ec2.describe_route_tables()
                .set_filters(Some(vec![stack_filter(stack), resource_filter(owner)]))
                .send()
                .await
                .map_err(fail(what("route tables")))
        },
    )?;
    let live_nat = |n: &NatGateway| {
        matches!(
            n.state(),
            Some(NatGatewayState::Pending) | Some(NatGatewayState::Available)
        )
    };
    Ok(Found {
        vpcs: vpcs
            .vpcs()
            .iter()
            .filter(|v| ours(v.tags()))
            .cloned()
            .collect(),
        subnets: subnets
            .subnets()
            .iter()
            .filter(|s| ours(s.tags()))
            .cloned()
            .collect(),
        igws: igws
            .internet_gateways()
            .iter()
            .filter(|g| ours(g.tags()))
            .cloned()
            .collect(),
        nats: nats
            .nat_gateways()
            .iter()
            .filter(|n| ours(n.tags()) && live_nat(n))
            .cloned()
            .collect(),
        eips: eips
            .addresses()
            .iter()
            .filter(|a| ours(a.tags()))
            .cloned()
            .collect(),
        route_tables: route_tables
            .route_tables()
            .iter()
            .filter(|r| ours(r.tags()))
            .cloned()
            .collect(),
    })
}

/// The first object with component key `key` (EC2 lists oldest first); later ones
/// are duplicates of an interrupted apply, logged and left for teardown.
fn pick<'a, T>(
    items: &'a [T],
    key: &str,
    tags: impl Fn(&T) -> &[Tag],
    also: impl Fn(&T) -> bool,
) -> Option<&'a T> {
    let mut matching = items
        .iter()
        .filter(|item| component_of(tags(item)) == Some(key) && also(item));
    let first = matching.next();
    let extra = matching.count();
    if extra > 0 {
        tracing::warn!(
            component = key,
            extra,
            "duplicate components found; adopting the first"
        );
    }
    first
}

// ---------------------------------------------------------------------------------
// Waits (NAT gateways becoming available, or deleted)
// ---------------------------------------------------------------------------------

/// What to do when a NAT gateway wait fails (see [`BackendError::from_wait`]).
const NAT_WAIT_HINT: &str = "Check the NAT gateway's failure message in the AWS console (often an \
                             address or subnet problem), then run apply again";

/// Whether a failed poll may be retried (throttling, 5xx, transport failures).
fn classify_failure(e: &Ec2Failure) -> Retryability {
    e.retryability()
}

/// The cancellation of `ctx`, for the engine's retries and waits.
pub(crate) fn operation_context(ctx: &StackContext) -> OperationContext {
    OperationContext::new(ctx.cancel.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_indexes() {
        assert_eq!(subnet_key(Tier::Private, 2), "subnet.private.2");
        assert_eq!(key_index("subnet.private.2"), Some(2));
        assert_eq!(key_index("route_table.public"), None);
    }

    #[test]
    fn errors_are_classified() {
        let throttled = Ec2Failure {
            code: Some("RequestLimitExceeded".into()),
            status: Some(503),
            io: false,
            message: "slow down".into(),
        };
        assert!(throttled.into_backend("creating VPC").is_retryable());
        let denied = Ec2Failure {
            code: Some("UnauthorizedOperation".into()),
            status: Some(403),
            io: false,
            message: "no".into(),
        };
        let text = denied.into_backend("creating VPC").to_string();
        assert!(
            text.contains("creating VPC failed: UnauthorizedOperation: no"),
            "{text}"
        );
        assert!(text.contains("EC2 permissions"), "{text}");
        let gone = Ec2Failure {
            code: Some("InvalidVpcID.NotFound".into()),
            status: Some(400),
            io: false,
            message: "gone".into(),
        };
        assert!(gone.is_not_found());
    }
}
