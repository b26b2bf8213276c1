//! The refresh of the stack's network: [`read_network`] makes the same describe calls
//! as the lookup of an apply (one per kind, nothing per object) and turns what they
//! found into the network's state and the inventory.

use std::collections::BTreeMap;

use aws_sdk_ec2::Client;

use super::{component_of, describe_stack, key_index, pick, record, tags_of, Found, NetworkRead};
use crate::ports::cluster::kind;
use crate::ports::cluster::NetworkState;
use crate::ports::network::Tier;
use crate::stack::{BackendError, StackContext};

/// Reads the stack's network: one describe call per kind, nothing per object.
/// `network` is `None` when the stack has no VPC.
pub async fn read_network(ec2: &Client, ctx: &StackContext) -> Result<NetworkRead, BackendError> {
    let found = describe_stack(ec2, ctx).await?;
    Ok(network_from(&found))
}

fn network_from(found: &Found) -> NetworkRead {
    let mut components = Vec::new();
    let mut tags = BTreeMap::new();
    let vpc = pick(&found.vpcs, "vpc", |v| v.tags(), |_| true);
    for v in &found.vpcs {
        tags.insert(
            component_of(v.tags()).unwrap_or("vpc").to_owned(),
            tags_of(v.tags()),
        );
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
        tags.insert(key.to_owned(), tags_of(s.tags()));
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
        tags.insert(
            component_of(g.tags())
                .unwrap_or("internet_gateway")
                .to_owned(),
            tags_of(g.tags()),
        );
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
        tags.insert(key.to_owned(), tags_of(a.tags()));
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
        tags.insert(key.to_owned(), tags_of(n.tags()));
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
        tags.insert(key.to_owned(), tags_of(r.tags()));
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
        tags,
    }
}
