//! The AWS network of a `paved_ha_cluster`: VPC, subnets per zone and tier, internet
//! gateway, NAT gateways with their addresses, route tables and associations.
//!
//! Every object is tagged at creation (`TagSpecifications`) with the stack's tags and
//! its inventory key ([`COMPONENT_TAG`]: `vpc`, `subnet.private.0`, `nat_gateway.1`,
//! `route_table.public`...), so an apply cut off right after a create finds it again.
//!
//! - [`ensure_network`] first looks the stack up with one describe call per kind
//!   (VPCs, subnets, internet gateways, NAT gateways, addresses, route tables, all
//!   filtered by `tag:paved:stack`), adopts what exists and creates only what is
//!   missing. Independent parts run concurrently (subnets, the internet gateway and
//!   the addresses; then the NAT gateways; then the route tables). NAT gateways,
//!   addresses and private route tables an earlier NAT layout had and the current
//!   one does not are removed last, once every subnet routes through what is wanted.
//! - [`read_network`] is the refresh: the same six describe calls, nothing else.
//! - [`delete_network`] tears the stack's network down in dependency order and
//!   reports what it could not delete; deleting twice is a no-op.
//!
//! Errors are classified with the engine's [`classify_cloud_error`] (error code and
//! HTTP status): throttling and 5xx become [`BackendError::Retryable`] (the SDK has
//! already retried them with backoff), the rest [`BackendError::Permanent`] with a
//! hint.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::{
    Address, AttributeBooleanValue, DomainType, Filter, InternetGateway, NatGateway,
    NatGatewayState, ResourceType, RouteTable, Subnet, Tag, TagSpecification, Vpc,
    VpcAttributeName,
};
use aws_sdk_ec2::Client;
use futures::future::join_all;

use super::error::SdkFailure as Ec2Failure;
use crate::ports::cluster::kind;
use crate::ports::cluster::NetworkState;
use crate::ports::network::NatLayout;
use crate::ports::network::{subnet_layout, Ipv4Net, Tier, ZoneSubnets};
use crate::stack::retry::{Retry, RetryPolicy, Retryability};
use crate::stack::tags::{COMPONENT_TAG, STACK_TAG};
use crate::stack::waiter::{Poll, PollBackoff, WaitError, Waiter};
use crate::stack::OperationContext;
use crate::stack::{BackendError, ComponentRecord, LeftBehind, StackContext, Step, TeardownReport};

/// The resource type written in [`RESOURCE_TAG`].
pub const RESOURCE_TYPE: &str = "paved_ha_cluster";
/// The route every public and private route table sends to the internet.
const DEFAULT_ROUTE: &str = "0.0.0.0/0";
/// How long NAT gateways may take to become available (AWS: a few minutes) or to be
/// deleted, when the stack has no deadline of its own.
const NAT_WAIT: Duration = Duration::from_secs(20 * 60);

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

fn wait_limit(ctx: &StackContext) -> Duration {
    ctx.deadline
        .map(|d| d.saturating_duration_since(Instant::now()))
        .unwrap_or(NAT_WAIT)
}

fn wait_error(err: WaitError<Ec2Failure>, during: &str) -> BackendError {
    BackendError::from_wait(
        err,
        during,
        "Check the NAT gateway's failure message in the AWS console (often an address or \
         subnet problem), then run apply again",
        |last| last.into_backend(during),
    )
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

/// The load-balancer and cluster tags a subnet of `tier` carries.
fn subnet_extra_tags(stack: &str, tier: Tier) -> Vec<(String, String)> {
    let mut extra = Vec::new();
    match tier {
        Tier::Public => extra.push(("kubernetes.io/role/elb".to_owned(), "1".to_owned())),
        Tier::Private => extra.push(("kubernetes.io/role/internal-elb".to_owned(), "1".to_owned())),
        Tier::Intra => return extra,
    }
    extra.push((
        format!("kubernetes.io/cluster/{stack}"),
        "shared".to_owned(),
    ));
    extra
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

async fn describe_stack(ec2: &Client, stack: &str) -> Result<Found, BackendError> {
    let what = |kind: &str| format!("looking up the {kind} of stack \"{stack}\"");
    let (vpcs, subnets, igws, nats, eips, route_tables) = futures::try_join!(
        async {
            ec2.describe_vpcs()
                .filters(stack_filter(stack))
                .send()
                .await
                .map_err(fail(what("VPCs")))
        },
        async {
            ec2.describe_subnets()
                .filters(stack_filter(stack))
                .send()
                .await
                .map_err(fail(what("subnets")))
        },
        async {
            ec2.describe_internet_gateways()
                .filters(stack_filter(stack))
                .send()
                .await
                .map_err(fail(what("internet gateways")))
        },
        async {
            ec2.describe_nat_gateways()
                .filter(stack_filter(stack))
                .filter(filter("state", &["pending", "available"]))
                .send()
                .await
                .map_err(fail(what("NAT gateways")))
        },
        async {
            ec2.describe_addresses()
                .filters(stack_filter(stack))
                .send()
                .await
                .map_err(fail(what("elastic IPs")))
        },
        async {
            ec2.describe_route_tables()
                .filters(stack_filter(stack))
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
            .filter(|v| in_stack(v.tags(), stack))
            .cloned()
            .collect(),
        subnets: subnets
            .subnets()
            .iter()
            .filter(|s| in_stack(s.tags(), stack))
            .cloned()
            .collect(),
        igws: igws
            .internet_gateways()
            .iter()
            .filter(|g| in_stack(g.tags(), stack))
            .cloned()
            .collect(),
        nats: nats
            .nat_gateways()
            .iter()
            .filter(|n| in_stack(n.tags(), stack) && live_nat(n))
            .cloned()
            .collect(),
        eips: eips
            .addresses()
            .iter()
            .filter(|a| in_stack(a.tags(), stack))
            .cloned()
            .collect(),
        route_tables: route_tables
            .route_tables()
            .iter()
            .filter(|r| in_stack(r.tags(), stack))
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
// Ensure
// ---------------------------------------------------------------------------------

/// Creates, or adopts, the stack's network as `spec` describes it. Returns the
/// components that exist afterwards even when a step failed.
pub async fn ensure_network(
    ec2: &Client,
    ctx: &StackContext,
    spec: &NetworkSpec,
) -> Step<NetworkState> {
    let mut components = Vec::new();
    let result = ensure_inner(ec2, ctx, spec, &mut components).await;
    Step { components, result }
}

/// The NAT gateway a zone's private subnet routes through, by NAT index.
fn nat_for_zone(nat: NatLayout, zone: usize) -> Option<usize> {
    match nat {
        NatLayout::PerZone => Some(zone),
        NatLayout::Single => Some(0),
        NatLayout::None => None,
    }
}

/// The private route tables: one per zone with per-zone NAT, else one shared.
fn private_table_keys(nat: NatLayout, zones: usize) -> Vec<String> {
    if nat == NatLayout::PerZone {
        (0..zones)
            .map(|i| format!("route_table.private.{i}"))
            .collect()
    } else {
        vec!["route_table.private".to_owned()]
    }
}

fn validate_spec(spec: &NetworkSpec) -> Result<Vec<ZoneSubnets>, BackendError> {
    let invalid = |message: String, hint: &str| BackendError::Permanent {
        operation: "checking the network settings".to_owned(),
        message,
        hint: hint.to_owned(),
    };
    if spec.zones.is_empty() {
        return Err(invalid(
            "no zones were given".to_owned(),
            "Name at least one zone (three for high availability)",
        ));
    }
    let unique: BTreeSet<&String> = spec.zones.iter().collect();
    if unique.len() != spec.zones.len() {
        return Err(invalid(
            format!("zones {:?} name a zone twice", spec.zones),
            "List each zone once",
        ));
    }
    let net = Ipv4Net::parse(&spec.cidr).map_err(|e| invalid(e.to_string(), "Fix network.cidr"))?;
    let zones = u32::try_from(spec.zones.len()).unwrap_or(u32::MAX);
    subnet_layout(net, zones).map_err(|e| invalid(e.to_string(), "Fix network.cidr or the zones"))
}

async fn ensure_inner(
    ec2: &Client,
    ctx: &StackContext,
    spec: &NetworkSpec,
    out: &mut Vec<ComponentRecord>,
) -> Result<NetworkState, BackendError> {
    let layout = validate_spec(spec)?;
    let stack = ctx.stack.as_str();
    checkpoint(ctx, "looking up the network")?;
    let found = describe_stack(ec2, stack).await?;

    // 1. The VPC.
    checkpoint(ctx, "creating the VPC")?;
    let vpc_id = match pick(&found.vpcs, "vpc", |v| v.tags(), |_| true) {
        Some(vpc) => {
            let id = vpc.vpc_id().unwrap_or_default().to_owned();
            if vpc.cidr_block() != Some(spec.cidr.as_str()) {
                out.push(record("vpc", kind::VPC, None, &id));
                return Err(BackendError::Conflict {
                    what: format!("VPC {id} ({})", vpc.cidr_block().unwrap_or("no range")),
                    stack: stack.to_owned(),
                    hint: format!(
                        "the stack's VPC has range {} but {} is configured; a VPC's range cannot \
                         change, so set network.cidr back or destroy the stack first",
                        vpc.cidr_block().unwrap_or("?"),
                        spec.cidr
                    ),
                });
            }
            id
        }
        None => {
            let op = format!("creating VPC {} for stack \"{stack}\"", spec.cidr);
            let created = ec2
                .create_vpc()
                .cidr_block(&spec.cidr)
                .tag_specifications(tag_spec(ResourceType::Vpc, component_tags(ctx, "vpc", &[])))
                .send()
                .await
                .map_err(fail(&op))?;
            created
                .vpc()
                .and_then(|v| v.vpc_id())
                .ok_or_else(|| missing_id(&op))?
                .to_owned()
        }
    };
    out.push(record("vpc", kind::VPC, None, &vpc_id));
    ensure_vpc_dns(ec2, &vpc_id).await?;

    // 2. Subnets, the internet gateway and the addresses: independent of each other.
    checkpoint(ctx, "creating subnets, the internet gateway and addresses")?;
    let nat_count = match spec.nat {
        NatLayout::PerZone => spec.zones.len(),
        NatLayout::Single => 1,
        NatLayout::None => 0,
    };
    let subnet_jobs = layout.iter().enumerate().flat_map(|(i, zs)| {
        Tier::ALL
            .into_iter()
            .map(move |tier| (i, tier, zs.get(tier)))
    });
    let subnets_fut = join_all(subnet_jobs.map(|(i, tier, cidr)| {
        let zone = spec.zones[i].clone();
        let found = &found;
        let vpc_id = vpc_id.as_str();
        async move {
            let key = subnet_key(tier, i);
            let result = ensure_subnet(ec2, ctx, found, vpc_id, &key, tier, &zone, cidr).await;
            (key, zone, tier, i, result)
        }
    }));
    let igw_fut = ensure_igw(ec2, ctx, &found, &vpc_id);
    let eips_fut = join_all((0..nat_count).map(|i| {
        let found = &found;
        async move {
            let key = eip_key(i);
            let result = ensure_eip(ec2, ctx, found, &key).await;
            (key, i, result)
        }
    }));
    let (subnet_results, igw_result, eip_results) = tokio::join!(subnets_fut, igw_fut, eips_fut);

    let mut first_error: Option<BackendError> = None;
    let mut subnet_ids: BTreeMap<Tier, BTreeMap<String, String>> = BTreeMap::new();
    let mut subnet_by_key: BTreeMap<String, String> = BTreeMap::new();
    for (key, zone, tier, _, result) in subnet_results {
        match result {
            Ok(id) => {
                out.push(record(&key, kind::SUBNET, Some(&zone), &id));
                subnet_ids.entry(tier).or_default().insert(zone, id.clone());
                subnet_by_key.insert(key, id);
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    let igw_id = match igw_result {
        Ok(id) => {
            out.push(record(
                "internet_gateway",
                kind::INTERNET_GATEWAY,
                None,
                &id,
            ));
            Some(id)
        }
        Err(e) => {
            first_error.get_or_insert(e);
            None
        }
    };
    let mut eip_ids: BTreeMap<usize, String> = BTreeMap::new();
    for (key, i, result) in eip_results {
        match result {
            Ok(id) => {
                out.push(record(&key, kind::ELASTIC_IP, Some(&spec.zones[i]), &id));
                eip_ids.insert(i, id);
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    let igw_id = igw_id.unwrap_or_default();

    // 3. NAT gateways, each in its zone's public subnet with its address.
    checkpoint(ctx, "creating NAT gateways")?;
    let nat_results = join_all((0..nat_count).map(|i| {
        let key = nat_key(i);
        let subnet = subnet_by_key
            .get(&subnet_key(Tier::Public, i))
            .cloned()
            .unwrap_or_default();
        let eip = eip_ids.get(&i).cloned().unwrap_or_default();
        let found = &found;
        let vpc_id = vpc_id.as_str();
        async move {
            let result = ensure_nat(ec2, ctx, found, vpc_id, &key, &subnet, &eip).await;
            (key, i, result)
        }
    }))
    .await;
    let mut nat_ids: BTreeMap<usize, String> = BTreeMap::new();
    for (key, i, result) in nat_results {
        match result {
            Ok(id) => {
                out.push(record(&key, kind::NAT_GATEWAY, Some(&spec.zones[i]), &id));
                nat_ids.insert(i, id);
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    wait_nats_available(ec2, ctx, &nat_ids.values().cloned().collect::<Vec<_>>()).await?;

    // 4. Route tables, their default routes and their subnets.
    checkpoint(ctx, "creating route tables")?;
    let zones = spec.zones.len();
    let mut tables: Vec<TablePlan> = Vec::new();
    tables.push((
        "route_table.public".to_owned(),
        None,
        Some(Target::Gateway(igw_id.clone())),
        (0..zones)
            .filter_map(|i| subnet_by_key.get(&subnet_key(Tier::Public, i)).cloned())
            .collect(),
    ));
    let private_keys = private_table_keys(spec.nat, zones);
    for (t, key) in private_keys.iter().enumerate() {
        let zone_indexes: Vec<usize> = if spec.nat == NatLayout::PerZone {
            vec![t]
        } else {
            (0..zones).collect()
        };
        let target = nat_for_zone(spec.nat, zone_indexes[0])
            .and_then(|n| nat_ids.get(&n).cloned())
            .map(Target::Nat);
        let zone = (spec.nat == NatLayout::PerZone).then(|| spec.zones[t].clone());
        tables.push((
            key.clone(),
            zone,
            target,
            zone_indexes
                .iter()
                .filter_map(|i| subnet_by_key.get(&subnet_key(Tier::Private, *i)).cloned())
                .collect(),
        ));
    }
    tables.push((
        "route_table.intra".to_owned(),
        None,
        None,
        (0..zones)
            .filter_map(|i| subnet_by_key.get(&subnet_key(Tier::Intra, i)).cloned())
            .collect(),
    ));
    let table_results = join_all(tables.into_iter().map(|(key, zone, target, subnets)| {
        let found = &found;
        let vpc_id = vpc_id.as_str();
        async move {
            let result =
                ensure_route_table(ec2, ctx, found, vpc_id, &key, target.as_ref(), &subnets).await;
            (key, zone, result)
        }
    }))
    .await;
    for (key, zone, result) in table_results {
        match result {
            Ok(id) => out.push(record(&key, kind::ROUTE_TABLE, zone.as_deref(), &id)),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }

    // 5. Surplus of an earlier layout (per-zone NAT turned into one, or off): once
    //    every subnet routes through what is wanted now.
    checkpoint(
        ctx,
        "removing NAT gateways and route tables no longer needed",
    )?;
    remove_surplus(ec2, ctx, &found, &vpc_id, nat_count, &private_keys).await?;

    Ok(NetworkState {
        vpc_id,
        cidr: spec.cidr.clone(),
        zones: spec.zones.clone(),
        subnet_ids,
        nat_gateway_ids: nat_ids.into_values().collect(),
    })
}

/// Deletes the stack's NAT gateways, addresses and private route tables that the
/// current layout no longer has (keys past `nat_count`, private tables not in
/// `private_keys`).
async fn remove_surplus(
    ec2: &Client,
    ctx: &StackContext,
    found: &Found,
    vpc_id: &str,
    nat_count: usize,
    private_keys: &[String],
) -> Result<(), BackendError> {
    let surplus = |key: Option<&str>, prefix: &str| {
        key.and_then(|k| k.strip_prefix(prefix))
            .and_then(|i| i.parse::<usize>().ok())
            .is_some_and(|i| i >= nat_count)
    };
    let tables: Vec<&RouteTable> = found
        .route_tables
        .iter()
        .filter(|t| t.vpc_id() == Some(vpc_id))
        .filter(|t| {
            component_of(t.tags()).is_some_and(|k| {
                (k == "route_table.private" || k.starts_with("route_table.private."))
                    && !private_keys.iter().any(|p| p == k)
            })
        })
        .collect();
    for table in tables {
        let Some(id) = table.route_table_id() else {
            continue;
        };
        for a in table.associations() {
            if let Some(assoc) = a.route_table_association_id() {
                if let Err(e) = ec2
                    .disassociate_route_table()
                    .association_id(assoc)
                    .send()
                    .await
                    .map_err(Ec2Failure::from_sdk)
                {
                    if !e.is_not_found() {
                        return Err(e.into_backend(format!("detaching route table {id}")));
                    }
                }
            }
        }
        if let Err(e) = ec2
            .delete_route_table()
            .route_table_id(id)
            .send()
            .await
            .map_err(Ec2Failure::from_sdk)
        {
            if !e.is_not_found() {
                return Err(e.into_backend(format!("deleting surplus route table {id}")));
            }
        }
    }
    let nats: Vec<String> = found
        .nats
        .iter()
        .filter(|n| n.vpc_id() == Some(vpc_id) && surplus(component_of(n.tags()), "nat_gateway."))
        .filter_map(|n| n.nat_gateway_id().map(str::to_owned))
        .collect();
    for id in &nats {
        if let Err(e) = ec2
            .delete_nat_gateway()
            .nat_gateway_id(id)
            .send()
            .await
            .map_err(Ec2Failure::from_sdk)
        {
            if !e.is_not_found() {
                return Err(e.into_backend(format!("deleting surplus NAT gateway {id}")));
            }
        }
    }
    wait_nats_deleted(ec2, ctx, &nats).await?;
    for eip in found
        .eips
        .iter()
        .filter(|a| surplus(component_of(a.tags()), "elastic_ip."))
    {
        let Some(id) = eip.allocation_id() else {
            continue;
        };
        if let Err(e) = ec2
            .release_address()
            .allocation_id(id)
            .send()
            .await
            .map_err(Ec2Failure::from_sdk)
        {
            if !e.is_not_found() {
                return Err(e.into_backend(format!("releasing surplus elastic IP {id}")));
            }
        }
    }
    Ok(())
}

/// Turns DNS support and DNS hostnames on (EKS needs both) when they are off.
async fn ensure_vpc_dns(ec2: &Client, vpc_id: &str) -> Result<(), BackendError> {
    for attribute in [
        VpcAttributeName::EnableDnsSupport,
        VpcAttributeName::EnableDnsHostnames,
    ] {
        let op = format!("reading {attribute:?} of VPC {vpc_id}");
        let current = ec2
            .describe_vpc_attribute()
            .vpc_id(vpc_id)
            .attribute(attribute.clone())
            .send()
            .await
            .map_err(fail(&op))?;
        let on = match attribute {
            VpcAttributeName::EnableDnsSupport => current.enable_dns_support(),
            _ => current.enable_dns_hostnames(),
        }
        .and_then(|a| a.value())
        .unwrap_or(false);
        if on {
            continue;
        }
        let yes = AttributeBooleanValue::builder().value(true).build();
        let request = ec2.modify_vpc_attribute().vpc_id(vpc_id);
        let request = match attribute {
            VpcAttributeName::EnableDnsSupport => request.enable_dns_support(yes),
            _ => request.enable_dns_hostnames(yes),
        };
        request
            .send()
            .await
            .map_err(fail(format!("turning on {attribute:?} for VPC {vpc_id}")))?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn ensure_subnet(
    ec2: &Client,
    ctx: &StackContext,
    found: &Found,
    vpc_id: &str,
    key: &str,
    tier: Tier,
    zone: &str,
    cidr: Ipv4Net,
) -> Result<String, BackendError> {
    let extra = subnet_extra_tags(&ctx.stack, tier);
    let cidr_text = cidr.to_string();
    if let Some(subnet) = pick(
        &found.subnets,
        key,
        |s| s.tags(),
        |s| s.vpc_id() == Some(vpc_id),
    ) {
        let id = subnet.subnet_id().unwrap_or_default().to_owned();
        if subnet.cidr_block() != Some(cidr_text.as_str())
            || subnet.availability_zone() != Some(zone)
        {
            return Err(BackendError::Conflict {
                what: format!(
                    "subnet {id} ({} in {})",
                    subnet.cidr_block().unwrap_or("?"),
                    subnet.availability_zone().unwrap_or("?")
                ),
                stack: ctx.stack.clone(),
                hint: format!(
                    "it carries the key {key} but paved expects {cidr_text} in {zone}; the zones or \
                     range changed since it was made: set them back, or delete the subnet"
                ),
            });
        }
        // Adopted: make sure the load-balancer tags are there (an older or interrupted
        // create may have left them out).
        let missing: Vec<Tag> = extra
            .iter()
            .filter(|(k, v)| tag_value(subnet.tags(), k) != Some(v.as_str()))
            .map(|(k, v)| tag(k, v))
            .collect();
        if !missing.is_empty() {
            ec2.create_tags()
                .resources(&id)
                .set_tags(Some(missing))
                .send()
                .await
                .map_err(fail(format!("tagging subnet {id} ({key})")))?;
        }
        return Ok(id);
    }
    let op = format!("creating subnet {key} ({cidr_text} in {zone})");
    let created = ec2
        .create_subnet()
        .vpc_id(vpc_id)
        .cidr_block(&cidr_text)
        .availability_zone(zone)
        .tag_specifications(tag_spec(
            ResourceType::Subnet,
            component_tags(ctx, key, &extra),
        ))
        .send()
        .await
        .map_err(fail(&op))?;
    Ok(created
        .subnet()
        .and_then(|s| s.subnet_id())
        .ok_or_else(|| missing_id(&op))?
        .to_owned())
}

async fn ensure_igw(
    ec2: &Client,
    ctx: &StackContext,
    found: &Found,
    vpc_id: &str,
) -> Result<String, BackendError> {
    let key = "internet_gateway";
    let existing = pick(
        &found.igws,
        key,
        |g| g.tags(),
        |g| {
            g.attachments().is_empty() || g.attachments().iter().any(|a| a.vpc_id() == Some(vpc_id))
        },
    );
    let (id, attached) = match existing {
        Some(igw) => (
            igw.internet_gateway_id().unwrap_or_default().to_owned(),
            igw.attachments().iter().any(|a| a.vpc_id() == Some(vpc_id)),
        ),
        None => {
            let op = format!("creating the internet gateway of stack \"{}\"", ctx.stack);
            let created = ec2
                .create_internet_gateway()
                .tag_specifications(tag_spec(
                    ResourceType::InternetGateway,
                    component_tags(ctx, key, &[]),
                ))
                .send()
                .await
                .map_err(fail(&op))?;
            let id = created
                .internet_gateway()
                .and_then(|g| g.internet_gateway_id())
                .ok_or_else(|| missing_id(&op))?
                .to_owned();
            (id, false)
        }
    };
    if !attached {
        ec2.attach_internet_gateway()
            .internet_gateway_id(&id)
            .vpc_id(vpc_id)
            .send()
            .await
            .map_err(fail(format!(
                "attaching internet gateway {id} to VPC {vpc_id}"
            )))?;
    }
    Ok(id)
}

async fn ensure_eip(
    ec2: &Client,
    ctx: &StackContext,
    found: &Found,
    key: &str,
) -> Result<String, BackendError> {
    if let Some(eip) = pick(&found.eips, key, |a| a.tags(), |_| true) {
        return Ok(eip.allocation_id().unwrap_or_default().to_owned());
    }
    let op = format!("allocating elastic IP {key}");
    let created = ec2
        .allocate_address()
        .domain(DomainType::Vpc)
        .tag_specifications(tag_spec(
            ResourceType::ElasticIp,
            component_tags(ctx, key, &[]),
        ))
        .send()
        .await
        .map_err(fail(&op))?;
    Ok(created
        .allocation_id()
        .ok_or_else(|| missing_id(&op))?
        .to_owned())
}

async fn ensure_nat(
    ec2: &Client,
    ctx: &StackContext,
    found: &Found,
    vpc_id: &str,
    key: &str,
    subnet_id: &str,
    allocation_id: &str,
) -> Result<String, BackendError> {
    if let Some(nat) = pick(
        &found.nats,
        key,
        |n| n.tags(),
        |n| n.vpc_id() == Some(vpc_id),
    ) {
        return Ok(nat.nat_gateway_id().unwrap_or_default().to_owned());
    }
    let op = format!("creating NAT gateway {key} in subnet {subnet_id}");
    let created = ec2
        .create_nat_gateway()
        .subnet_id(subnet_id)
        .allocation_id(allocation_id)
        .tag_specifications(tag_spec(
            ResourceType::Natgateway,
            component_tags(ctx, key, &[]),
        ))
        .send()
        .await
        .map_err(fail(&op))?;
    Ok(created
        .nat_gateway()
        .and_then(|n| n.nat_gateway_id())
        .ok_or_else(|| missing_id(&op))?
        .to_owned())
}

fn classify_failure(e: &Ec2Failure) -> Retryability {
    e.retryability()
}

pub(crate) fn operation_context(ctx: &StackContext) -> OperationContext {
    OperationContext::new(ctx.cancel.clone())
}

/// Waits (one describe call per poll, for all of them) until the NAT gateways are
/// available.
async fn wait_nats_available(
    ec2: &Client,
    ctx: &StackContext,
    ids: &[String],
) -> Result<(), BackendError> {
    if ids.is_empty() {
        return Ok(());
    }
    let during = "waiting for the NAT gateways to become available";
    let waiter = Waiter::new(operation_context(ctx), "the NAT gateways", wait_limit(ctx))
        .with_interval(PollBackoff {
            start: Duration::from_secs(5),
            factor: 1.5,
            cap: Duration::from_secs(20),
        })
        .with_hint("run apply again; it resumes where it stopped");
    waiter
        .wait(&classify_failure, || async {
            let out = ec2
                .describe_nat_gateways()
                .set_nat_gateway_ids(Some(ids.to_vec()))
                .send()
                .await
                .map_err(Ec2Failure::from_sdk)?;
            let mut pending = Vec::new();
            for nat in out.nat_gateways() {
                let id = nat.nat_gateway_id().unwrap_or_default();
                match nat.state() {
                    Some(NatGatewayState::Available) => {}
                    Some(NatGatewayState::Failed)
                    | Some(NatGatewayState::Deleted)
                    | Some(NatGatewayState::Deleting) => {
                        return Ok(Poll::Failed(format!(
                            "NAT gateway {id} is {}: {}",
                            nat.state().map(|s| s.as_str()).unwrap_or("?"),
                            nat.failure_message().unwrap_or("no reason given")
                        )))
                    }
                    _ => pending.push(id.to_owned()),
                }
            }
            Ok(if pending.is_empty() {
                Poll::Done(())
            } else {
                Poll::Pending {
                    status: format!("pending ({})", pending.join(", ")),
                }
            })
        })
        .await
        .map_err(|e| wait_error(e, during))
}

/// One route table to ensure: key, zone, default route target, subnets.
type TablePlan = (String, Option<String>, Option<Target>, Vec<String>);

/// Where a route table's default route goes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Gateway(String),
    Nat(String),
}

async fn ensure_route_table(
    ec2: &Client,
    ctx: &StackContext,
    found: &Found,
    vpc_id: &str,
    key: &str,
    target: Option<&Target>,
    subnets: &[String],
) -> Result<String, BackendError> {
    let existing = pick(
        &found.route_tables,
        key,
        |r| r.tags(),
        |r| r.vpc_id() == Some(vpc_id),
    );
    let id = match existing {
        Some(table) => table.route_table_id().unwrap_or_default().to_owned(),
        None => {
            let op = format!("creating route table {key}");
            let created = ec2
                .create_route_table()
                .vpc_id(vpc_id)
                .tag_specifications(tag_spec(
                    ResourceType::RouteTable,
                    component_tags(ctx, key, &[]),
                ))
                .send()
                .await
                .map_err(fail(&op))?;
            created
                .route_table()
                .and_then(|r| r.route_table_id())
                .ok_or_else(|| missing_id(&op))?
                .to_owned()
        }
    };

    // The default route.
    let current = existing.and_then(|t| {
        t.routes()
            .iter()
            .find(|r| r.destination_cidr_block() == Some(DEFAULT_ROUTE))
    });
    let matches = |route: &aws_sdk_ec2::types::Route, target: &Target| {
        let active = route.state().is_none_or(|s| s.as_str() == "active");
        active
            && match target {
                Target::Gateway(g) => route.gateway_id() == Some(g.as_str()),
                Target::Nat(n) => route.nat_gateway_id() == Some(n.as_str()),
            }
    };
    match (current, target) {
        (Some(route), Some(target)) if matches(route, target) => {}
        (Some(_), Some(target)) => {
            let op = format!("pointing the default route of {key} ({id}) at {target:?}");
            let request = ec2
                .replace_route()
                .route_table_id(&id)
                .destination_cidr_block(DEFAULT_ROUTE);
            let request = match target {
                Target::Gateway(g) => request.gateway_id(g),
                Target::Nat(n) => request.nat_gateway_id(n),
            };
            request.send().await.map_err(fail(op))?;
        }
        (None, Some(target)) => {
            let op = format!("adding the default route to {key} ({id})");
            let request = ec2
                .create_route()
                .route_table_id(&id)
                .destination_cidr_block(DEFAULT_ROUTE);
            let request = match target {
                Target::Gateway(g) => request.gateway_id(g),
                Target::Nat(n) => request.nat_gateway_id(n),
            };
            request.send().await.map_err(fail(op))?;
        }
        (Some(_), None) => {
            // The table should not reach the internet (intra, or NAT turned off).
            let op = format!("removing the default route from {key} ({id})");
            ec2.delete_route()
                .route_table_id(&id)
                .destination_cidr_block(DEFAULT_ROUTE)
                .send()
                .await
                .map_err(fail(op))?;
        }
        (None, None) => {}
    }

    // Associations: every subnet of the table, and only those paved put there.
    let associated: BTreeSet<&str> = existing
        .map(|t| {
            t.associations()
                .iter()
                .filter(|a| !a.main().unwrap_or(false))
                .filter_map(|a| a.subnet_id())
                .collect()
        })
        .unwrap_or_default();
    // A subnet of ours explicitly associated with another of the stack's tables
    // (e.g. after the NAT layout changed) is moved with ReplaceRouteTableAssociation.
    let elsewhere: BTreeMap<&str, &str> = found
        .route_tables
        .iter()
        .filter(|t| t.route_table_id() != Some(id.as_str()))
        .flat_map(|t| t.associations())
        .filter(|a| !a.main().unwrap_or(false))
        .filter_map(|a| Some((a.subnet_id()?, a.route_table_association_id()?)))
        .collect();
    let jobs = subnets
        .iter()
        .filter(|s| !associated.contains(s.as_str()))
        .map(|subnet| {
            let id = id.as_str();
            let moved = elsewhere.get(subnet.as_str()).copied();
            async move {
                match moved {
                    Some(association) => ec2
                        .replace_route_table_association()
                        .association_id(association)
                        .route_table_id(id)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(fail(format!(
                            "moving subnet {subnet} to route table {key} ({id})"
                        ))),
                    None => ec2
                        .associate_route_table()
                        .route_table_id(id)
                        .subnet_id(subnet)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(fail(format!(
                            "associating subnet {subnet} with route table {key} ({id})"
                        ))),
                }
            }
        });
    for result in join_all(jobs).await {
        result?;
    }
    Ok(id)
}

// ---------------------------------------------------------------------------------
// Read
// ---------------------------------------------------------------------------------

/// Reads the stack's network: one describe call per kind, nothing per object.
/// `network` is `None` when the stack has no VPC.
pub async fn read_network(ec2: &Client, stack: &str) -> Result<NetworkRead, BackendError> {
    let found = describe_stack(ec2, stack).await?;
    Ok(network_from(&found))
}

fn network_from(found: &Found) -> NetworkRead {
    let mut components = Vec::new();
    let vpc = pick(&found.vpcs, "vpc", |v| v.tags(), |_| true);
    for v in &found.vpcs {
        components.push(record(
            component_of(v.tags()).unwrap_or("vpc"),
            kind::VPC,
            None,
            v.vpc_id().unwrap_or_default(),
        ));
    }
    let vpc_id = vpc.and_then(|v| v.vpc_id()).map(str::to_owned);
    let ours = |v: Option<&str>| vpc_id.is_some() && v == vpc_id.as_deref();

    let mut subnet_ids: BTreeMap<Tier, BTreeMap<String, String>> = BTreeMap::new();
    let mut zones_by_index: BTreeMap<usize, String> = BTreeMap::new();
    let mut zone_of_subnet: BTreeMap<String, String> = BTreeMap::new();
    for s in &found.subnets {
        let key = component_of(s.tags()).unwrap_or("subnet");
        let id = s.subnet_id().unwrap_or_default();
        let zone = s.availability_zone().unwrap_or_default();
        components.push(record(key, kind::SUBNET, Some(zone), id));
        zone_of_subnet.insert(id.to_owned(), zone.to_owned());
        if !ours(s.vpc_id()) {
            continue;
        }
        let mut parts = key.split('.');
        if let (Some("subnet"), Some(tier), Some(index)) =
            (parts.next(), parts.next(), parts.next())
        {
            if let (Some(tier), Ok(index)) = (Tier::parse(tier), index.parse::<usize>()) {
                subnet_ids
                    .entry(tier)
                    .or_default()
                    .entry(zone.to_owned())
                    .or_insert_with(|| id.to_owned());
                zones_by_index
                    .entry(index)
                    .or_insert_with(|| zone.to_owned());
            }
        }
    }
    for g in &found.igws {
        components.push(record(
            component_of(g.tags()).unwrap_or("internet_gateway"),
            kind::INTERNET_GATEWAY,
            None,
            g.internet_gateway_id().unwrap_or_default(),
        ));
    }
    let index_zone = |key: &str| key_index(key).and_then(|i| zones_by_index.get(&i).cloned());
    for a in &found.eips {
        let key = component_of(a.tags()).unwrap_or("elastic_ip");
        components.push(record(
            key,
            kind::ELASTIC_IP,
            index_zone(key).as_deref(),
            a.allocation_id().unwrap_or_default(),
        ));
    }
    let mut nats: BTreeMap<usize, String> = BTreeMap::new();
    for n in &found.nats {
        let key = component_of(n.tags()).unwrap_or("nat_gateway");
        let id = n.nat_gateway_id().unwrap_or_default();
        let zone = n
            .subnet_id()
            .and_then(|s| zone_of_subnet.get(s).cloned())
            .or_else(|| index_zone(key));
        components.push(record(key, kind::NAT_GATEWAY, zone.as_deref(), id));
        if ours(n.vpc_id()) {
            if let Some(i) = key_index(key) {
                nats.entry(i).or_insert_with(|| id.to_owned());
            }
        }
    }
    for r in &found.route_tables {
        let key = component_of(r.tags()).unwrap_or("route_table");
        components.push(record(
            key,
            kind::ROUTE_TABLE,
            key.strip_prefix("route_table.private.")
                .and_then(|_| index_zone(key))
                .as_deref(),
            r.route_table_id().unwrap_or_default(),
        ));
    }
    let network = vpc.map(|v| NetworkState {
        vpc_id: v.vpc_id().unwrap_or_default().to_owned(),
        cidr: v.cidr_block().unwrap_or_default().to_owned(),
        zones: zones_by_index.into_values().collect(),
        subnet_ids,
        nat_gateway_ids: nats.into_values().collect(),
    });
    NetworkRead {
        network,
        components,
    }
}

// ---------------------------------------------------------------------------------
// Delete
// ---------------------------------------------------------------------------------

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
    let found = describe_stack(ec2, stack).await?;
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
async fn wait_nats_deleted(
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
        wait_limit(ctx),
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
        .map_err(|e| wait_error(e, during))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_indexes() {
        assert_eq!(subnet_key(Tier::Private, 2), "subnet.private.2");
        assert_eq!(key_index("subnet.private.2"), Some(2));
        assert_eq!(key_index("route_table.public"), None);
        assert_eq!(
            private_table_keys(NatLayout::PerZone, 2),
            ["route_table.private.0", "route_table.private.1"]
        );
        assert_eq!(
            private_table_keys(NatLayout::Single, 3),
            ["route_table.private"]
        );
        assert_eq!(nat_for_zone(NatLayout::Single, 2), Some(0));
        assert_eq!(nat_for_zone(NatLayout::None, 0), None);
    }

    #[test]
    fn subnet_tags_per_tier() {
        let public = subnet_extra_tags("shop", Tier::Public);
        assert!(public.contains(&("kubernetes.io/role/elb".into(), "1".into())));
        assert!(public.contains(&("kubernetes.io/cluster/shop".into(), "shared".into())));
        let private = subnet_extra_tags("shop", Tier::Private);
        assert!(private.contains(&("kubernetes.io/role/internal-elb".into(), "1".into())));
        assert!(subnet_extra_tags("shop", Tier::Intra).is_empty());
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

    #[test]
    fn bad_specs_are_refused_before_any_call() {
        let spec = |cidr: &str, zones: &[&str]| NetworkSpec {
            cidr: cidr.into(),
            zones: zones.iter().map(|z| (*z).to_owned()).collect(),
            nat: NatLayout::Single,
        };
        assert!(validate_spec(&spec("10.0.0.0/16", &["a", "b"])).is_ok());
        assert!(validate_spec(&spec("10.0.0.0/16", &[])).is_err());
        assert!(validate_spec(&spec("10.0.0.0/16", &["a", "a"])).is_err());
        assert!(validate_spec(&spec("10.0.0.1/16", &["a"])).is_err());
        assert!(validate_spec(&spec("10.0.0.0/24", &["a"])).is_err());
    }
}
