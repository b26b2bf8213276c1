//! Private services access, what the port's subnet group stands for on GCP: the
//! network the database lives on (learned from the subnetworks the user lists,
//! which on GCP are regional and span every zone of the region), a range of it
//! reserved for Google's services (a global address with purpose `VPC_PEERING`),
//! and the Service Networking connection that peers the network with the
//! producer network Cloud SQL's private IPs live in.
//!
//! The connection is one per network and may be shared: a stack adds its range to
//! an existing connection and, at teardown, removes only its range, or deletes the
//! connection when its range was the last.

use reqwest::Method;
use serde_json::{json, Value};

use super::names::{self, PEERING};
use super::rest::{call, compute_wait, fail, networking_wait};
use super::{kind, record, GcpDatabaseBackend};
use crate::cloud::gcp::call::unless_gone;
use crate::cloud::gcp::labels::labels;
use crate::cloud::gcp::wait::{last_segment, text};
use crate::ports::database::{SubnetGroupRequest, SubnetGroupState};
use crate::ports::zones::ZoneSource;
use crate::stack::{BackendError, ComponentRecord, StackContext, Step};

/// The size of the reserved range (a /20: 4096 addresses, room for many instances).
const RANGE_PREFIX: u32 = 20;

/// The Service Networking connections collection.
const CONNECTIONS: &str = "/v1/services/servicenetworking.googleapis.com/connections";

/// The inventory key of the reserved range.
pub(super) const RANGE_KEY: &str = "peering_range";
/// The inventory key of the Service Networking connection.
pub(super) const CONNECTION_KEY: &str = "service_connection";

/// The id of the subnet group state: the network and the range, which the
/// instance needs both of.
pub(super) fn group_id(network: &str, range: &str) -> String {
    format!("{network}:{range}")
}

/// The network and range of a [`group_id`].
pub(super) fn split_group_id(id: &str) -> (String, String) {
    match id.split_once(':') {
        Some((n, r)) => (n.to_owned(), r.to_owned()),
        None => (id.to_owned(), String::new()),
    }
}

/// The id recorded for the connection on `network`.
pub(super) fn connection_id(network: &str) -> String {
    format!("{network}/{PEERING}")
}

/// The ranges of the connection in a connections list, `None` without one.
pub(super) fn connection_ranges(list: &Value) -> Option<Vec<String>> {
    let conn = list
        .get("connections")
        .and_then(Value::as_array)
        .and_then(|c| c.first())?;
    Some(
        conn.get("reservedPeeringRanges")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str().map(str::to_owned))
            .collect(),
    )
}

impl GcpDatabaseBackend {
    /// The network's name as Service Networking wants it (with the project number).
    pub(super) async fn numbered_network(
        &self,
        ctx: &StackContext,
        network: &str,
    ) -> Result<String, BackendError> {
        let number = self.clients.project_number(ctx).await?;
        Ok(format!("projects/{number}/global/networks/{network}"))
    }

    /// The connections on `network` (a list answer).
    pub(super) async fn list_connections(
        &self,
        ctx: &StackContext,
        network: &str,
    ) -> Result<Value, BackendError> {
        let numbered = self.numbered_network(ctx, network).await?;
        call(
            &self.clients,
            ctx,
            "servicenetworking",
            Method::GET,
            &format!("{CONNECTIONS}?network={numbered}"),
            None,
            "connections.list",
        )
        .await
        .map_err(fail(
            "servicenetworking",
            "reading the private services access connection",
        ))
    }

    /// Sets the connection's ranges to `ranges` (creating it when `create`).
    async fn write_connection(
        &self,
        ctx: &StackContext,
        network: &str,
        ranges: &[String],
        create: bool,
    ) -> Result<(), BackendError> {
        let numbered = self.numbered_network(ctx, network).await?;
        let body = json!({"network": numbered, "reservedPeeringRanges": ranges});
        let (method, path, what) = if create {
            (Method::POST, CONNECTIONS.to_owned(), "connections.create")
        } else {
            (
                Method::PATCH,
                format!("{CONNECTIONS}/{PEERING}?updateMask=reservedPeeringRanges&force=false"),
                "connections.patch",
            )
        };
        let during = "connecting the network to Cloud SQL (private services access)";
        let op = call(
            &self.clients,
            ctx,
            "servicenetworking",
            method,
            &path,
            Some(&body),
            what,
        )
        .await
        .map_err(fail("servicenetworking", during))?;
        networking_wait(&self.clients, ctx, op, during).await?;
        Ok(())
    }

    /// The network the subnetworks are on (they must agree).
    async fn network_of(
        &self,
        ctx: &StackContext,
        subnets: &[String],
    ) -> Result<String, BackendError> {
        let project = self.clients.project()?;
        let region = self.region()?;
        let mut network: Option<String> = None;
        for subnet in subnets {
            let name = last_segment(subnet);
            let path =
                format!("/compute/v1/projects/{project}/regions/{region}/subnetworks/{name}");
            let found = unless_gone(
                call(
                    &self.clients,
                    ctx,
                    "compute",
                    Method::GET,
                    &path,
                    None,
                    "subnetworks.get",
                )
                .await,
            )
            .map_err(fail("compute", "reading the subnetworks"))?;
            let Some(found) = found else {
                return Err(BackendError::Permanent {
                    operation: "reading network.subnet_ids".to_owned(),
                    message: format!("no subnetwork \"{name}\" in region {region}"),
                    hint: "On GCP, network.subnet_ids are subnetwork names of the provider's region \
                           (such as a paved_ha_cluster's), and network.vpc_id is their network's name"
                        .to_owned(),
                });
            };
            let net = text(&found, "/network")
                .map(|n| last_segment(&n).to_owned())
                .unwrap_or_default();
            match &network {
                Some(n) if *n != net => {
                    return Err(BackendError::Permanent {
                        operation: "reading network.subnet_ids".to_owned(),
                        message: format!("the subnetworks are on two networks ({n} and {net})"),
                        hint: "List subnetworks of one network".to_owned(),
                    })
                }
                _ => network = Some(net),
            }
        }
        network.ok_or_else(|| BackendError::Permanent {
            operation: "reading network.subnet_ids".to_owned(),
            message: "no subnetwork given".to_owned(),
            hint: "List the subnetworks of the database's network".to_owned(),
        })
    }

    /// Ensures the reserved range and the connection (see the module docs).
    pub(super) async fn private_access(
        &self,
        ctx: &StackContext,
        req: &SubnetGroupRequest,
    ) -> Step<SubnetGroupState> {
        let mut made: Vec<ComponentRecord> = Vec::new();
        let result = self.private_access_inner(ctx, req, &mut made).await;
        match result {
            Ok(state) => Step::done(state, made),
            Err(e) => Step::failed(e, made),
        }
    }

    async fn private_access_inner(
        &self,
        ctx: &StackContext,
        req: &SubnetGroupRequest,
        made: &mut Vec<ComponentRecord>,
    ) -> Result<SubnetGroupState, BackendError> {
        let project = self.clients.project()?;
        let region = self.region()?;
        let network = self.network_of(ctx, &req.subnet_ids).await?;
        let zones: Vec<String> = self
            .clients
            .list_zones(&region)
            .await
            .map_err(|e| BackendError::Permanent {
                operation: "listing the region's zones".to_owned(),
                message: e.to_string(),
                hint: "Check the region and the Compute permissions".to_owned(),
            })?
            .into_iter()
            .filter(|z| z.available)
            .map(|z| z.name)
            .collect();
        // A subnetwork spans every zone of its region: the i-th stands for the i-th zone.
        let subnet_zones = (0..req.subnet_ids.len())
            .map(|i| {
                zones
                    .get(i % zones.len().max(1))
                    .cloned()
                    .unwrap_or_default()
            })
            .collect();

        let range = names::peering_range(&ctx.stack);
        let address_path = format!("/compute/v1/projects/{project}/global/addresses/{range}");
        let found = unless_gone(
            call(
                &self.clients,
                ctx,
                "compute",
                Method::GET,
                &address_path,
                None,
                "globalAddresses.get",
            )
            .await,
        )
        .map_err(fail("compute", "reading the reserved range"))?;
        match found {
            Some(address) => {
                let on = text(&address, "/network").map(|n| last_segment(&n).to_owned());
                if on.as_deref() != Some(network.as_str()) {
                    return Err(BackendError::Permanent {
                        operation: "reserving the range for Cloud SQL".to_owned(),
                        message: format!(
                            "the range {range} exists on network {} instead of {network}",
                            on.unwrap_or_default()
                        ),
                        hint: "The database cannot move to another network: destroy it first"
                            .to_owned(),
                    });
                }
            }
            None => {
                let body = json!({
                    "name": range,
                    "purpose": "VPC_PEERING",
                    "addressType": "INTERNAL",
                    "prefixLength": RANGE_PREFIX,
                    "network": format!("projects/{project}/global/networks/{network}"),
                    "description": format!("Private services access of paved stack {}", ctx.stack),
                    "labels": labels(&ctx.component_tags(RANGE_KEY)),
                });
                let during = "reserving the range for Cloud SQL";
                let op = call(
                    &self.clients,
                    ctx,
                    "compute",
                    Method::POST,
                    &format!("/compute/v1/projects/{project}/global/addresses"),
                    Some(&body),
                    "globalAddresses.insert",
                )
                .await;
                match op {
                    Ok(op) => {
                        compute_wait(&self.clients, ctx, &project, op, during).await?;
                    }
                    Err(f) if f.is_already_exists() => {}
                    Err(f) => return Err(fail("compute", during)(f)),
                }
            }
        }
        made.push(record(RANGE_KEY, kind::PEERING_RANGE, &range));

        let listed = self.list_connections(ctx, &network).await?;
        match connection_ranges(&listed) {
            None => {
                self.write_connection(ctx, &network, std::slice::from_ref(&range), true)
                    .await?
            }
            Some(ranges) if !ranges.contains(&range) => {
                let mut all = ranges;
                all.push(range.clone());
                self.write_connection(ctx, &network, &all, false).await?;
            }
            Some(_) => {}
        }
        made.push(record(
            CONNECTION_KEY,
            kind::SERVICE_CONNECTION,
            &connection_id(&network),
        ));
        Ok(SubnetGroupState {
            id: group_id(&network, &range),
            zones: subnet_zones,
            subnet_ids: req.subnet_ids.clone(),
            vpc_id: network,
        })
    }

    /// Removes the stack's range from the connection on `network` (deleting the
    /// connection when it was the last). `Ok(Some(reason))` when Service
    /// Networking refuses because producer services still use it.
    pub(super) async fn release_connection(
        &self,
        ctx: &StackContext,
        network: &str,
    ) -> Result<Option<String>, BackendError> {
        let range = names::peering_range(&ctx.stack);
        let listed = self.list_connections(ctx, network).await?;
        let Some(ranges) = connection_ranges(&listed) else {
            return Ok(None);
        };
        if !ranges.contains(&range) {
            return Ok(None);
        }
        let rest: Vec<String> = ranges.into_iter().filter(|r| *r != range).collect();
        let during = "removing the private services access connection";
        let outcome = if rest.is_empty() {
            let numbered = self.numbered_network(ctx, network).await?;
            let op = call(
                &self.clients,
                ctx,
                "servicenetworking",
                Method::POST,
                &format!("{CONNECTIONS}/{PEERING}:deleteConnection"),
                Some(&json!({"consumerNetwork": numbered})),
                "connections.deleteConnection",
            )
            .await;
            match op {
                Ok(op) => networking_wait(&self.clients, ctx, op, during)
                    .await
                    .map(|_| ()),
                Err(f) if f.is_not_found() => Ok(()),
                Err(f) => Err(fail("servicenetworking", during)(f)),
            }
        } else {
            self.write_connection(ctx, network, &rest, false).await
        };
        match outcome {
            Ok(()) => Ok(None),
            Err(BackendError::Permanent { message, .. })
                if message.contains("still using") || message.contains("still used") =>
            {
                Ok(Some(message))
            }
            Err(e) => Err(e),
        }
    }

    /// Deletes the reserved range; gone counts as deleted.
    pub(super) async fn delete_range(&self, ctx: &StackContext) -> Result<(), BackendError> {
        let project = self.clients.project()?;
        let range = names::peering_range(&ctx.stack);
        let during = "deleting the reserved range";
        let op = call(
            &self.clients,
            ctx,
            "compute",
            Method::DELETE,
            &format!("/compute/v1/projects/{project}/global/addresses/{range}"),
            None,
            "globalAddresses.delete",
        )
        .await;
        match op {
            Ok(op) => compute_wait(&self.clients, ctx, &project, op, during)
                .await
                .map(|_| ()),
            Err(f) if f.is_not_found() => Ok(()),
            Err(f) => Err(fail("compute", during)(f)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_ranges_are_read() {
        assert_eq!(
            split_group_id(&group_id("paved-shop", "paved-orders-sql")),
            ("paved-shop".to_owned(), "paved-orders-sql".to_owned())
        );
        assert_eq!(connection_ranges(&json!({})), None);
        assert_eq!(
            connection_ranges(&json!({"connections": [{"reservedPeeringRanges": ["a", "b"]}]})),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
    }
}
