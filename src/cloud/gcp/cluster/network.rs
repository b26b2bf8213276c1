//! The stack's network on GCP: a custom-mode VPC, one regional subnetwork for the
//! nodes with Private Google Access and secondary ranges for pods and services, and
//! a Cloud Router with Cloud NAT (reserved addresses, one per zone, when the layout
//! is per zone; automatic addresses for a single NAT; none without NAT). Or an
//! existing network, checked and used as it is.
//!
//! The network's range is split: the nodes get the first sixteenth, services the
//! second, pods the upper half (a /16 gives 4,096 node addresses, 4,096 service
//! addresses and 32,768 pod addresses: 128 nodes at GKE's 110 pods per node).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::names;
use super::GcpClusterBackend;
use crate::cloud::gcp::call::{gax, model, unless_gone, GcpFailure};
use crate::cloud::gcp::labels::labels;
use crate::cloud::gcp::wait::{self, text, view};
use crate::ports::cluster::{NetworkRequest, NetworkState, ZoneChoice};
use crate::ports::network::{Ipv4Net, NatLayout, Tier};
use crate::ports::zones::{usable_zones, ZoneSource};
use crate::stack::{BackendError, ComponentRecord, StackContext, Step};

/// Component kinds of the network.
pub mod kind {
    /// The VPC network.
    pub const NETWORK: &str = "network";
    /// The nodes' subnetwork.
    pub const SUBNETWORK: &str = "subnetwork";
    /// The Cloud Router with Cloud NAT.
    pub const ROUTER: &str = "router";
    /// A reserved NAT address.
    pub const NAT_ADDRESS: &str = "nat_address";
}

/// The ranges of the nodes, the services and the pods inside `cidr`.
pub fn ranges(cidr: &str) -> Result<(Ipv4Net, Ipv4Net, Ipv4Net), String> {
    let net = Ipv4Net::parse(cidr).map_err(|e| e.to_string())?;
    if net.prefix() > 20 {
        return Err(format!(
            "{cidr} is too small for a GKE network: use a /20 or larger (a /16 is recommended)"
        ));
    }
    let too_small = || format!("{cidr} cannot be split");
    let nodes = net.subnet(4, 0).ok_or_else(too_small)?;
    let services = net.subnet(4, 1).ok_or_else(too_small)?;
    let pods = net.subnet(1, 1).ok_or_else(too_small)?;
    Ok((nodes, services, pods))
}

/// The network's range from the nodes' range [`ranges`] cut from it (the nodes
/// get its first sixteenth): what a read reports, as GCP networks have no range.
pub fn network_of(nodes: &str) -> String {
    Ipv4Net::parse(nodes)
        .ok()
        .and_then(|n| Ipv4Net::containing(n.addr(), n.prefix().saturating_sub(4)))
        .map_or_else(|| nodes.to_owned(), |n| n.to_string())
}

/// A component record.
pub(super) fn record(key: &str, kind: &str, id: impl Into<String>) -> ComponentRecord {
    ComponentRecord {
        key: key.to_owned(),
        kind: kind.to_owned(),
        zone: None,
        id: id.into(),
    }
}

impl GcpClusterBackend {
    /// Picks the zones: the named ones, or the first usable ones of the region.
    async fn zones(
        &self,
        ctx: &StackContext,
        choice: &ZoneChoice,
    ) -> Result<Vec<String>, BackendError> {
        match choice {
            ZoneChoice::Named(z) => Ok(z.clone()),
            ZoneChoice::Choose(n) => {
                ctx.checkpoint("listing zones")?;
                let region = self.region()?;
                let zones = self.clients.list_zones(&region).await.map_err(|e| {
                    BackendError::Permanent {
                        operation: "listing zones".to_owned(),
                        message: e.to_string(),
                        hint: "Check the region and the Compute API permissions".to_owned(),
                    }
                })?;
                let usable: Vec<String> = usable_zones(zones).into_iter().map(|z| z.name).collect();
                let n = *n as usize;
                if usable.len() < n {
                    return Err(BackendError::Permanent {
                        operation: "choosing zones".to_owned(),
                        message: format!(
                            "region {region} has {} usable zone(s), {n} wanted",
                            usable.len()
                        ),
                        hint: "Lower zone_count or pick another region".to_owned(),
                    });
                }
                Ok(usable.into_iter().take(n).collect())
            }
        }
    }

    /// Ensures the network (see the module docs).
    pub(super) async fn network(
        &self,
        ctx: &StackContext,
        req: &NetworkRequest,
    ) -> Step<NetworkState> {
        let mut made = Vec::new();
        let result = self.network_steps(ctx, req, &mut made).await;
        match result {
            Ok(state) => Step::done(state, made),
            Err(e) => Step::failed(e, made),
        }
    }

    async fn network_steps(
        &self,
        ctx: &StackContext,
        req: &NetworkRequest,
        made: &mut Vec<ComponentRecord>,
    ) -> Result<NetworkState, BackendError> {
        let project = self.clients.project()?;
        let region = self.region()?;
        match req {
            NetworkRequest::Existing {
                vpc_id,
                subnet_ids,
                zones,
            } => {
                let net = self
                    .get_network(ctx, &project, vpc_id)
                    .await?
                    .ok_or_else(|| BackendError::NotFound {
                        what: format!("network {vpc_id} (network.existing_vpc_id)"),
                    })?;
                let subnets: Vec<String> = subnet_ids.values().flatten().cloned().collect();
                let Some(subnet) = subnets.first() else {
                    return Err(BackendError::Permanent {
                        operation: "checking the existing network".to_owned(),
                        message: "no subnetwork is given".to_owned(),
                        hint: "Set network.existing_subnet_ids = { private = [\"<subnetwork>\"] }"
                            .to_owned(),
                    });
                };
                let sub = self
                    .get_subnetwork(ctx, &project, &region, subnet)
                    .await?
                    .ok_or_else(|| BackendError::NotFound {
                        what: format!("subnetwork {subnet} in {region}"),
                    })?;
                let secondary: Vec<String> = sub
                    .get("secondaryIpRanges")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|r| text(r, "/rangeName"))
                    .collect();
                for wanted in [names::PODS_RANGE, names::SERVICES_RANGE] {
                    if !secondary.iter().any(|r| r == wanted) {
                        return Err(BackendError::Permanent {
                            operation: "checking the existing network".to_owned(),
                            message: format!(
                                "subnetwork {subnet} has no secondary range named \"{wanted}\""
                            ),
                            hint: "Add secondary ranges named \"pods\" and \"services\" to the \
                                   subnetwork (GKE's pod and service addresses)"
                                .to_owned(),
                        });
                    }
                }
                // The profile's zones (or the named ones): the subnetwork serves them all.
                let zones = self.zones(ctx, zones).await?;
                Ok(NetworkState {
                    vpc_id: text(&net, "/name").unwrap_or_else(|| vpc_id.clone()),
                    cidr: text(&sub, "/ipCidrRange").unwrap_or_default(),
                    subnet_ids: BTreeMap::from([(
                        Tier::Private,
                        zones.iter().map(|z| (z.clone(), subnet.clone())).collect(),
                    )]),
                    zones,
                    nat_gateway_ids: Vec::new(),
                })
            }
            NetworkRequest::Build { cidr, zones, nat } => {
                let (nodes, services, pods) =
                    ranges(cidr).map_err(|message| BackendError::Permanent {
                        operation: "laying out the network".to_owned(),
                        message,
                        hint: "Set network.cidr to a /16 to /20 range".to_owned(),
                    })?;
                let zones = self.zones(ctx, zones).await?;
                let stack = &ctx.stack;
                let net_name = names::network(stack);
                if self.get_network(ctx, &project, &net_name).await?.is_none() {
                    let body = json!({
                        "name": net_name,
                        "autoCreateSubnetworks": false,
                        "routingConfig": {"routingMode": "REGIONAL"},
                        "description": format!("paved stack {stack}"),
                    });
                    let net: google_cloud_compute_v1::model::Network = model(body, "the network")?;
                    let c = self
                        .clients
                        .networks()
                        .await
                        .map_err(fail("creating the network"))?;
                    let op = gax(ctx, "networks.insert", || {
                        c.insert()
                            .set_project(project.clone())
                            .set_body(net.clone())
                            .send()
                    })
                    .await
                    .map_err(fail("creating the network"))?;
                    wait::compute(&self.clients, ctx, &project, &op, "creating the network")
                        .await?;
                }
                made.push(record("network", kind::NETWORK, &net_name));

                let sub_name = names::subnetwork(stack);
                if self
                    .get_subnetwork(ctx, &project, &region, &sub_name)
                    .await?
                    .is_none()
                {
                    let body = json!({
                        "name": sub_name,
                        "network": format!("projects/{project}/global/networks/{net_name}"),
                        "region": region,
                        "ipCidrRange": nodes.to_string(),
                        "privateIpGoogleAccess": true,
                        "secondaryIpRanges": [
                            {"rangeName": names::PODS_RANGE, "ipCidrRange": pods.to_string()},
                            {"rangeName": names::SERVICES_RANGE, "ipCidrRange": services.to_string()},
                        ],
                        "logConfig": {"enable": true, "aggregationInterval": "INTERVAL_5_SEC", "flowSampling": 0.5},
                    });
                    let sub: google_cloud_compute_v1::model::Subnetwork =
                        model(body, "the subnetwork")?;
                    let c = self
                        .clients
                        .subnetworks()
                        .await
                        .map_err(fail("creating the subnetwork"))?;
                    let op = gax(ctx, "subnetworks.insert", || {
                        c.insert()
                            .set_project(project.clone())
                            .set_region(region.clone())
                            .set_body(sub.clone())
                            .send()
                    })
                    .await
                    .map_err(fail("creating the subnetwork"))?;
                    wait::compute(&self.clients, ctx, &project, &op, "creating the subnetwork")
                        .await?;
                }
                made.push(record("subnetwork", kind::SUBNETWORK, &sub_name));

                let nat_ids = self
                    .ensure_nat(ctx, &project, &region, *nat, zones.len(), made)
                    .await?;
                Ok(NetworkState {
                    vpc_id: net_name,
                    cidr: cidr.clone(),
                    subnet_ids: BTreeMap::from([(
                        Tier::Private,
                        zones
                            .iter()
                            .map(|z| (z.clone(), sub_name.clone()))
                            .collect(),
                    )]),
                    zones,
                    nat_gateway_ids: nat_ids,
                })
            }
        }
    }

    /// Ensures Cloud NAT per `nat`: reserved addresses and the router; removes what
    /// the layout no longer wants. Returns the NAT's addresses (per zone) or its name.
    async fn ensure_nat(
        &self,
        ctx: &StackContext,
        project: &str,
        region: &str,
        nat: NatLayout,
        zone_count: usize,
        made: &mut Vec<ComponentRecord>,
    ) -> Result<Vec<String>, BackendError> {
        let stack = &ctx.stack;
        let wanted_addresses = match nat {
            NatLayout::PerZone => zone_count,
            NatLayout::Single | NatLayout::None => 0,
        };
        let addresses = self
            .clients
            .addresses()
            .await
            .map_err(fail("reserving NAT addresses"))?;
        let mut links = Vec::new();
        for i in 0..wanted_addresses {
            let name = names::nat_address(stack, i);
            let key = format!("nat_address.{i}");
            let found = unless_gone(
                gax(ctx, "addresses.get", || {
                    addresses
                        .get()
                        .set_project(project)
                        .set_region(region)
                        .set_address(name.clone())
                        .send()
                })
                .await,
            )
            .map_err(fail("reading a NAT address"))?;
            let link = match found {
                Some(a) => text(&view(&a), "/selfLink").unwrap_or_default(),
                None => {
                    let body: google_cloud_compute_v1::model::Address = model(
                        json!({
                            "name": name,
                            "addressType": "EXTERNAL",
                            "networkTier": "PREMIUM",
                            "labels": labels(&ctx.component_tags(&key)),
                            "description": format!("Cloud NAT of paved stack {stack}"),
                        }),
                        "a NAT address",
                    )?;
                    let op = gax(ctx, "addresses.insert", || {
                        addresses
                            .insert()
                            .set_project(project)
                            .set_region(region)
                            .set_body(body.clone())
                            .send()
                    })
                    .await
                    .map_err(fail("reserving a NAT address"))?;
                    wait::compute(&self.clients, ctx, project, &op, "reserving a NAT address")
                        .await?;
                    format!("projects/{project}/regions/{region}/addresses/{name}")
                }
            };
            made.push(record(&key, kind::NAT_ADDRESS, &name));
            links.push(link);
        }

        let routers = self
            .clients
            .routers()
            .await
            .map_err(fail("setting up Cloud NAT"))?;
        let router_name = names::router(stack);
        let existing = unless_gone(
            gax(ctx, "routers.get", || {
                routers
                    .get()
                    .set_project(project)
                    .set_region(region)
                    .set_router(router_name.clone())
                    .send()
            })
            .await,
        )
        .map_err(fail("reading the Cloud Router"))?;
        if nat == NatLayout::None {
            if existing.is_some() {
                let op = gax(ctx, "routers.delete", || {
                    routers
                        .delete()
                        .set_project(project)
                        .set_region(region)
                        .set_router(router_name.clone())
                        .send()
                })
                .await
                .map_err(fail("removing Cloud NAT"))?;
                wait::compute(&self.clients, ctx, project, &op, "removing Cloud NAT").await?;
            }
        } else {
            let nat_config = match nat {
                NatLayout::PerZone => json!({
                    "name": names::nat(stack),
                    "natIpAllocateOption": "MANUAL_ONLY",
                    "natIps": links,
                    "sourceSubnetworkIpRangesToNat": "ALL_SUBNETWORKS_ALL_IP_RANGES",
                    "logConfig": {"enable": true, "filter": "ERRORS_ONLY"},
                }),
                _ => json!({
                    "name": names::nat(stack),
                    "natIpAllocateOption": "AUTO_ONLY",
                    "sourceSubnetworkIpRangesToNat": "ALL_SUBNETWORKS_ALL_IP_RANGES",
                    "logConfig": {"enable": true, "filter": "ERRORS_ONLY"},
                }),
            };
            let body: google_cloud_compute_v1::model::Router = model(
                json!({
                    "name": router_name,
                    "network": format!("projects/{project}/global/networks/{}", names::network(stack)),
                    "region": region,
                    "nats": [nat_config],
                }),
                "the Cloud Router",
            )?;
            let current_nat = existing
                .as_ref()
                .map(|r| view(r).pointer("/nats/0").cloned().unwrap_or(Value::Null));
            let op = match current_nat {
                None => Some(
                    gax(ctx, "routers.insert", || {
                        routers
                            .insert()
                            .set_project(project)
                            .set_region(region)
                            .set_body(body.clone())
                            .send()
                    })
                    .await
                    .map_err(fail("creating the Cloud Router"))?,
                ),
                Some(current) if !same_nat(&current, &nat_config) => Some(
                    gax(ctx, "routers.patch", || {
                        routers
                            .patch()
                            .set_project(project)
                            .set_region(region)
                            .set_router(router_name.clone())
                            .set_body(body.clone())
                            .send()
                    })
                    .await
                    .map_err(fail("changing Cloud NAT"))?,
                ),
                Some(_) => None,
            };
            if let Some(op) = op {
                wait::compute(&self.clients, ctx, project, &op, "setting up Cloud NAT").await?;
            }
            made.push(record("router", kind::ROUTER, &router_name));
        }

        // Addresses a larger layout reserved earlier and no longer used.
        for i in wanted_addresses..wanted_addresses + 8 {
            let name = names::nat_address(stack, i);
            let gone = gax(ctx, "addresses.delete", || {
                addresses
                    .delete()
                    .set_project(project)
                    .set_region(region)
                    .set_address(name.clone())
                    .send()
            })
            .await;
            match gone {
                Ok(op) => {
                    wait::compute(&self.clients, ctx, project, &op, "releasing a NAT address")
                        .await?
                }
                Err(f) if f.is_not_found() => break,
                Err(f) => return Err(fail("releasing a NAT address")(f)),
            }
        }
        Ok(match nat {
            NatLayout::PerZone => (0..wanted_addresses)
                .map(|i| names::nat_address(stack, i))
                .collect(),
            NatLayout::Single => vec![names::nat(stack)],
            NatLayout::None => Vec::new(),
        })
    }

    /// The network `name`, if it exists (JSON view).
    pub(super) async fn get_network(
        &self,
        ctx: &StackContext,
        project: &str,
        name: &str,
    ) -> Result<Option<Value>, BackendError> {
        let c = self
            .clients
            .networks()
            .await
            .map_err(fail("reading the network"))?;
        unless_gone(
            gax(ctx, "networks.get", || {
                c.get().set_project(project).set_network(name).send()
            })
            .await,
        )
        .map(|n| n.map(|n| view(&n)))
        .map_err(fail("reading the network"))
    }

    /// The subnetwork `name`, if it exists (JSON view).
    pub(super) async fn get_subnetwork(
        &self,
        ctx: &StackContext,
        project: &str,
        region: &str,
        name: &str,
    ) -> Result<Option<Value>, BackendError> {
        let c = self
            .clients
            .subnetworks()
            .await
            .map_err(fail("reading the subnetwork"))?;
        unless_gone(
            gax(ctx, "subnetworks.get", || {
                c.get()
                    .set_project(project)
                    .set_region(region)
                    .set_subnetwork(name)
                    .send()
            })
            .await,
        )
        .map(|n| n.map(|n| view(&n)))
        .map_err(fail("reading the subnetwork"))
    }
}

/// Whether the router's NAT already is what `wanted` describes.
fn same_nat(current: &Value, wanted: &Value) -> bool {
    let field = |v: &Value, f: &str| v.get(f).cloned().unwrap_or(Value::Null);
    let ips = |v: &Value| -> Vec<String> {
        v.get("natIps")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str().map(|s| wait::last_segment(s).to_owned()))
            .collect()
    };
    field(current, "natIpAllocateOption") == field(wanted, "natIpAllocateOption")
        && ips(current) == ips(wanted)
}

/// Maps a failure of the Compute API during `what`.
pub(super) fn fail(what: &'static str) -> impl Fn(GcpFailure) -> BackendError {
    move |f| f.into_backend_error("Compute", what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slash_16_splits_into_nodes_services_and_pods() {
        let (nodes, services, pods) = ranges("10.0.0.0/16").expect("ranges");
        assert_eq!(nodes.to_string(), "10.0.0.0/20");
        assert_eq!(services.to_string(), "10.0.16.0/20");
        assert_eq!(pods.to_string(), "10.0.128.0/17");
        assert!(!nodes.overlaps(&pods) && !services.overlaps(&pods));
        assert!(ranges("10.0.0.0/24").is_err());
        assert_eq!(network_of(&nodes.to_string()), "10.0.0.0/16");
    }

    #[test]
    fn nat_sameness_compares_allocation_and_addresses() {
        let a = json!({"natIpAllocateOption": "MANUAL_ONLY", "natIps": ["https://x/regions/r/addresses/a"]});
        let b = json!({"natIpAllocateOption": "MANUAL_ONLY", "natIps": ["projects/p/regions/r/addresses/a"]});
        assert!(same_nat(&a, &b));
        assert!(!same_nat(&a, &json!({"natIpAllocateOption": "AUTO_ONLY"})));
    }
}
