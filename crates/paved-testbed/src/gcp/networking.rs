//! Service Networking stand-in: private services access connections
//! (`/v1/services/servicenetworking.googleapis.com/connections`), the producer
//! side of Cloud SQL's private IP. Creating a connection checks that the VPC
//! network and its reserved ranges (global addresses with purpose `VPC_PEERING`)
//! exist in Compute and adds the `servicenetworking-googleapis-com` peering to
//! the network; updating changes the ranges (refusing to drop one in use
//! without `force`); deleting removes the peering — unless a Cloud SQL instance
//! still sits on the network, the real "Producer services ... are still using
//! this connection." dead end, reported by the operation as code 9.
//! Operations (`GET /v1/operations/{op}`) finish after `operation_polls` polls.
//!
//! Not modelled: the producer's tenant projects and subnetworks, peered DNS
//! domains, `disableVpcServiceControls`, the days a deleted Cloud SQL instance
//! keeps blocking the deletion in the real service, services other than
//! `servicenetworking.googleapis.com`.

use std::sync::Mutex;

use serde_json::{json, Map, Value};

use super::config::GcpFakeConfig;
use super::http::{GcpAnswer, GcpRequest};
use super::ops::Operations;
use super::peers::Peers;
use super::util::{same_project, split_network};

/// The peering Service Networking adds to the consumer network.
pub(crate) const PEERING: &str = "servicenetworking-googleapis-com";

/// The producer network the peering points at.
const PRODUCER_NETWORK: &str = "projects/paved-fake-tenant/global/networks/servicenetworking";

/// One private services access connection.
#[derive(Clone, Debug)]
struct Connection {
    /// The consumer network as the request named it (`projects/N/global/networks/n`).
    network: String,
    /// The project part of that name (id or number).
    project: String,
    /// The network's name.
    name: String,
    /// Names of the reserved ranges (global addresses).
    ranges: Vec<String>,
}

impl Connection {
    /// The Connection resource.
    fn json(&self) -> Value {
        json!({
            "network": self.network,
            "reservedPeeringRanges": self.ranges,
            "peering": PEERING,
            "service": "services/servicenetworking.googleapis.com",
        })
    }
}

/// The service's mutable state.
#[derive(Debug, Default)]
struct State {
    /// Live connections.
    connections: Vec<Connection>,
    /// Each operation's outcome: `{"response": ...}` or `{"error": ...}`.
    outcomes: Map<String, Value>,
}

/// Service Networking state.
#[derive(Debug)]
pub(crate) struct Networking {
    /// Operation progress.
    ops: Operations,
    /// Connections and operation outcomes.
    state: Mutex<State>,
}

impl Networking {
    /// An empty service.
    pub(crate) fn new(config: &GcpFakeConfig) -> Self {
        Self {
            ops: Operations::new(config.operation_polls),
            state: Mutex::new(State::default()),
        }
    }

    /// Locks the state.
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The reserved range names of the connection on `project`'s network `name`,
    /// when there is one.
    pub(crate) fn connection_ranges(
        &self,
        number: u64,
        project: &str,
        name: &str,
    ) -> Option<Vec<String>> {
        self.lock()
            .connections
            .iter()
            .find(|c| c.name == name && same_project(&c.project, project, number))
            .map(|c| c.ranges.clone())
    }

    /// Answers `req` when its path is this service's; `None` otherwise.
    pub(crate) fn handle(&self, peers: &dyn Peers, req: &GcpRequest) -> Option<GcpAnswer> {
        let segs = req.segments();
        let m = req.method.as_str();
        match segs.as_slice() {
            ["v1", "operations", op] if m == "GET" => Some(self.poll(op)),
            ["v1", "services", "servicenetworking.googleapis.com", "connections"] => match m {
                "GET" => Some(self.list(peers, req.param("network"))),
                "POST" => Some(self.create(peers, &req.body)),
                _ => None,
            },
            ["v1", "services", "servicenetworking.googleapis.com", "connections", last] => {
                match (m, last.split_once(':')) {
                    ("PATCH", None) => {
                        Some(self.update(peers, &req.body, req.param("force") == Some("true")))
                    }
                    ("POST", Some((_, "deleteConnection"))) => Some(self.delete(peers, &req.body)),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Starts an operation whose outcome is `outcome` and returns it.
    fn operation(&self, outcome: Value) -> GcpAnswer {
        let name = {
            let mut st = self.lock();
            let target = format!("connection-op-{}", st.outcomes.len());
            let name = match self.ops.start(&target) {
                Ok(n) => format!("operations/pssn.{n}"),
                Err(busy) => format!("operations/pssn.{}", busy.running),
            };
            st.outcomes.insert(name.clone(), outcome);
            name
        };
        GcpAnswer::ok(self.op_json(&name, false))
    }

    /// An operation's JSON; `poll` counts this read as a poll.
    fn op_json(&self, name: &str, poll: bool) -> Value {
        let short = name.trim_start_matches("operations/pssn.");
        let done = if poll {
            self.ops.poll(short)
        } else {
            self.ops.is_done(short)
        };
        let mut op = json!({"name": name, "metadata": {"@type": "type.googleapis.com/google.protobuf.Empty"}});
        if done == Some(true) {
            op["done"] = json!(true);
            if let Some(Value::Object(outcome)) = self.lock().outcomes.get(name) {
                for (k, v) in outcome {
                    op[k] = v.clone();
                }
            }
        }
        op
    }

    /// `GET /v1/operations/{op}`.
    fn poll(&self, op: &str) -> GcpAnswer {
        let name = format!("operations/{op}");
        if !self.lock().outcomes.contains_key(&name) {
            return GcpAnswer::not_found(format!("Operation {name}"));
        }
        GcpAnswer::ok(self.op_json(&name, true))
    }

    /// `GET .../connections?network=`.
    fn list(&self, peers: &dyn Peers, network: Option<&str>) -> GcpAnswer {
        let Some((project, name)) = network.and_then(split_network) else {
            return GcpAnswer::invalid(
                "network must be of the form projects/{project_number}/global/networks/{network}.",
            );
        };
        let number = peers.config().project_number;
        let found: Vec<Value> = self
            .lock()
            .connections
            .iter()
            .filter(|c| c.name == name && same_project(&c.project, &project, number))
            .map(Connection::json)
            .collect();
        if found.is_empty() {
            return GcpAnswer::ok(json!({}));
        }
        GcpAnswer::ok(json!({ "connections": found }))
    }

    /// Checks the network and the ranges of a create or update request.
    fn check(peers: &dyn Peers, body: &Value) -> Result<Connection, GcpAnswer> {
        let network = body["network"].as_str().unwrap_or_default();
        let Some((project, name)) = split_network(network) else {
            return Err(GcpAnswer::invalid(
                "network must be of the form projects/{project_number}/global/networks/{network}.",
            ));
        };
        let project = peers.compute_project(&project, &name);
        if !peers.network_exists(&project, &name) {
            return Err(GcpAnswer::precondition(format!(
                "The network {network} does not exist in the consumer project."
            )));
        }
        let ranges: Vec<String> = body["reservedPeeringRanges"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str().map(str::to_owned))
            .collect();
        if ranges.is_empty() {
            return Err(GcpAnswer::invalid(
                "reservedPeeringRanges must name at least one allocated range.",
            ));
        }
        for range in &ranges {
            let address = peers.global_address(&project, range);
            let ok = address.as_ref().is_some_and(|a| {
                a["purpose"] == "VPC_PEERING"
                    && a["network"]
                        .as_str()
                        .and_then(split_network)
                        .is_none_or(|(_, n)| n == name)
            });
            if !ok {
                return Err(GcpAnswer::precondition(format!(
                    "Allocated IP range '{range}' not found in network, or not reserved with purpose VPC_PEERING."
                )));
            }
        }
        Ok(Connection {
            network: network.to_owned(),
            project,
            name,
            ranges,
        })
    }

    /// `POST .../connections`.
    fn create(&self, peers: &dyn Peers, body: &Value) -> GcpAnswer {
        let conn = match Self::check(peers, body) {
            Ok(c) => c,
            Err(e) => return e,
        };
        let number = peers.config().project_number;
        let existing = self
            .lock()
            .connections
            .iter()
            .find(|c| c.name == conn.name && same_project(&c.project, &conn.project, number))
            .cloned();
        if let Some(existing) = existing {
            if existing.ranges != conn.ranges {
                return self.operation(json!({"error": {"code": 9, "message":
                    "Cannot modify allocated ranges in CreateConnection. Please use UpdateConnection."}}));
            }
            return self.operation(json!({"response": response(&existing)}));
        }
        peers.add_peering(&conn.project, &conn.name, PEERING, PRODUCER_NETWORK);
        self.lock().connections.push(conn.clone());
        self.operation(json!({"response": response(&conn)}))
    }

    /// `PATCH .../connections/-?updateMask=reservedPeeringRanges&force=`.
    fn update(&self, peers: &dyn Peers, body: &Value, force: bool) -> GcpAnswer {
        let conn = match Self::check(peers, body) {
            Ok(c) => c,
            Err(e) => return e,
        };
        let number = peers.config().project_number;
        let existing = self
            .lock()
            .connections
            .iter()
            .find(|c| c.name == conn.name && same_project(&c.project, &conn.project, number))
            .cloned();
        let Some(existing) = existing else {
            return GcpAnswer::not_found(format!("Connection for network {}", conn.network));
        };
        let in_use = peers.sql_ranges_in_use(&conn.project, &conn.name);
        if let Some(dropped) = existing
            .ranges
            .iter()
            .find(|r| !conn.ranges.contains(r) && in_use.contains(r))
        {
            if !force {
                return self.operation(json!({"error": {"code": 9, "message": format!(
                    "Cannot remove allocated range '{dropped}': it is still used by producer services. Use force to remove it anyway."
                )}}));
            }
        }
        {
            let mut st = self.lock();
            if let Some(c) = st
                .connections
                .iter_mut()
                .find(|c| c.name == conn.name && same_project(&c.project, &conn.project, number))
            {
                c.ranges = conn.ranges.clone();
            }
        }
        self.operation(json!({"response": response(&conn)}))
    }

    /// `POST .../connections/servicenetworking-googleapis-com:deleteConnection`.
    fn delete(&self, peers: &dyn Peers, body: &Value) -> GcpAnswer {
        let network = body["consumerNetwork"].as_str().unwrap_or_default();
        let Some((project, name)) = split_network(network) else {
            return GcpAnswer::invalid(
                "consumerNetwork must be of the form projects/{project_number}/global/networks/{network}.",
            );
        };
        let project = peers.compute_project(&project, &name);
        let number = peers.config().project_number;
        let exists = self
            .lock()
            .connections
            .iter()
            .any(|c| c.name == name && same_project(&c.project, &project, number));
        if !exists {
            return GcpAnswer::not_found(format!("Connection for network {network}"));
        }
        if !peers.sql_instances_on_network(&project, &name).is_empty() {
            return self.operation(json!({"error": {"code": 9, "message":
                "Failed to delete connection; Producer services (e.g. CloudSQL, Cloud Memstore, etc.) are still using this connection."}}));
        }
        self.lock()
            .connections
            .retain(|c| !(c.name == name && same_project(&c.project, &project, number)));
        peers.remove_peering(&project, &name, PEERING);
        self.operation(json!({"response": {"@type": "type.googleapis.com/google.protobuf.Empty"}}))
    }

    /// Everything it holds, as JSON.
    #[cfg_attr(not(test), allow(dead_code))] // a hook for tests and the server's state dump
    pub(crate) fn dump(&self) -> Value {
        let st = self.lock();
        let connections: Vec<Value> = st.connections.iter().map(Connection::json).collect();
        json!({ "connections": connections })
    }
}

/// A Connection as an operation's `response`.
fn response(conn: &Connection) -> Value {
    let mut json = conn.json();
    json["@type"] = json!("type.googleapis.com/google.cloud.servicenetworking.v1.Connection");
    json
}
