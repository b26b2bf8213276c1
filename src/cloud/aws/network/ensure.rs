//! Building the stack's network, or adopting what an earlier apply made:
//! [`ensure_network`] looks the stack up with one describe call per kind, adopts
//! what exists and creates only what is missing. Independent parts run concurrently
//! (subnets, the internet gateway and the addresses; then the NAT gateways; then the
//! route tables, see [`super::routes`]). NAT gateways, addresses and private route
//! tables an earlier NAT layout had and the current one does not are removed last,
//! once every subnet routes through what is wanted.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_ec2::types::{
    AttributeBooleanValue, DomainType, NatGatewayState, ResourceType, RouteTable, Tag,
    VpcAttributeName,
};
use aws_sdk_ec2::Client;
use futures::future::join_all;

use super::routes::{ensure_route_table, TablePlan, Target};
use super::teardown::wait_nats_deleted;
use super::{
    checkpoint, classify_failure, component_of, component_tags, describe_stack, eip_key, fail,
    missing_id, nat_key, operation_context, pick, record, subnet_key, tag, tag_spec, tag_value,
    Ec2Failure, Found, NetworkSpec, NAT_WAIT_HINT,
};
use crate::ports::cluster::kind;
use crate::ports::cluster::NetworkState;
use crate::ports::network::NatLayout;
use crate::ports::network::{subnet_layout, Ipv4Net, Tier, ZoneSubnets};
use crate::stack::waiter::{Poll, PollBackoff, Waiter};
use crate::stack::{BackendError, ComponentRecord, StackContext, Step};

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
    let found = describe_stack(ec2, ctx).await?;

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
            .filter_map(|i| subnet_by_key.get(&subnet_key(Tier::Isolated, i)).cloned())
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

/// The load-balancer and cluster tags a subnet of `tier` carries.
fn subnet_extra_tags(stack: &str, tier: Tier) -> Vec<(String, String)> {
    let mut extra = Vec::new();
    match tier {
        Tier::Public => extra.push(("kubernetes.io/role/elb".to_owned(), "1".to_owned())),
        Tier::Private => extra.push(("kubernetes.io/role/internal-elb".to_owned(), "1".to_owned())),
        Tier::Isolated => return extra,
    }
    extra.push((
        format!("kubernetes.io/cluster/{stack}"),
        "shared".to_owned(),
    ));
    extra
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
    let waiter = Waiter::new(operation_context(ctx), "the NAT gateways", ctx.wait_limit())
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
        .map_err(|e| {
            BackendError::from_wait(e, during, NAT_WAIT_HINT, |last| last.into_backend(during))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_tables_and_nat_per_layout() {
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
        assert!(subnet_extra_tags("shop", Tier::Isolated).is_empty());
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
