//! Compute Engine stand-in (`/compute/v1/projects/{project}/...`): a fixed table
//! of regions and zones; VPC networks (with peerings), subnetworks, Cloud Routers
//! with Cloud NAT, and regional and global addresses; their operations.
//!
//! Objects change at once (an inserted object is readable at once, a deleted one
//! is gone at once); the operation each mutation returns reports `RUNNING` until
//! it has been polled `operation_polls` times (`GET .../operations/{op}`;
//! `POST .../operations/{op}/wait` polls until done). A second mutation of an
//! object while its operation runs is refused (400 `resourceNotReady`).
//! Every refusal is synchronous (an HTTP 4xx with Compute's error shape,
//! `{"error": {"code", "message", "errors": [{"reason", "message", "domain"}]}}`),
//! never an operation that fails later.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use serde_json::{json, Map, Value};

use super::config::GcpFakeConfig;
use super::http::{GcpAnswer, GcpRequest};
use super::ops::Operations;
use super::peers::Peers;
use super::resources::{ipv4, parse_ref, region_zones, zone_region, Cidr, REGIONS};
use super::util::{fingerprint, last_segment, merge_patch, now_rfc3339, valid_name};

/// The label fingerprint of an object without labels, as Compute reports it.
const EMPTY_LABEL_FINGERPRINT: &str = "42WmSpB8rSM=";

/// A Compute error: `{"error": {"code", "message", "errors": [{reason...}]}}`.
fn cerr(code: u16, reason: &str, message: impl Into<String>) -> GcpAnswer {
    let message = message.into();
    GcpAnswer {
        status: code,
        body: json!({"error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
        }}),
    }
}

/// 404 `notFound` for the resource at relative path `what`.
fn not_found(what: &str) -> GcpAnswer {
    cerr(
        404,
        "notFound",
        format!("The resource '{what}' was not found"),
    )
}

/// 409 `alreadyExists`.
fn already_exists(what: &str) -> GcpAnswer {
    cerr(
        409,
        "alreadyExists",
        format!("The resource '{what}' already exists"),
    )
}

/// 400 `invalid` for a field value.
fn invalid_field(field: &str, value: &str, why: &str) -> GcpAnswer {
    cerr(
        400,
        "invalid",
        format!("Invalid value for field '{field}': '{value}'. {why}"),
    )
}

/// 400 `resourceInUseByAnotherResource`.
fn in_use(kind: &str, what: &str, user: &str) -> GcpAnswer {
    cerr(
        400,
        "resourceInUseByAnotherResource",
        format!("The {kind} resource '{what}' is already being used by '{user}'"),
    )
}

/// Whether `item` matches a Compute list filter: clauses `field eq "regex"`,
/// `field ne "regex"`, `field = "value"`, `field != "value"`, optionally in
/// parentheses and joined by whitespace or `AND` (all must hold). Regexes are
/// matched loosely: `.*` is a wildcard, backslash escapes are dropped.
fn filter_matches(item: &Value, filter: &str) -> bool {
    let cleaned = filter.replace(['(', ')'], " ");
    let mut tokens: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in cleaned.chars() {
        match c {
            '"' | '\'' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens.retain(|t| !t.eq_ignore_ascii_case("AND"));
    tokens.chunks(3).all(|clause| {
        let [field, op, pattern] = clause else {
            return true;
        };
        let mut value = item;
        for part in field.split('.') {
            value = &value[part];
        }
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        match op.as_str() {
            "eq" => loose_regex(pattern, &text),
            "ne" => !loose_regex(pattern, &text),
            "=" => text == *pattern,
            "!=" => text != *pattern,
            _ => true,
        }
    })
}

/// A full match of `text` against `pattern` where `.*` matches anything.
fn loose_regex(pattern: &str, text: &str) -> bool {
    // `\b` (a word boundary, as gcloud writes) matches nothing here; other
    // escapes stand for the character itself.
    let pattern = pattern.replace("\\b", "").replace('\\', "");
    let parts: Vec<&str> = pattern.split(".*").collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// The service's objects.
#[derive(Debug, Default)]
struct State {
    /// Networks by (project, name).
    networks: BTreeMap<(String, String), Value>,
    /// Subnetworks by (project, region, name).
    subnetworks: BTreeMap<(String, String, String), Value>,
    /// Routers by (project, region, name).
    routers: BTreeMap<(String, String, String), Value>,
    /// Regional addresses by (project, region, name).
    addresses: BTreeMap<(String, String, String), Value>,
    /// Global addresses by (project, name).
    global_addresses: BTreeMap<(String, String), Value>,
    /// Operations by name.
    operations: BTreeMap<String, Value>,
    /// Counter behind ids and allocated addresses.
    counter: u64,
}

impl State {
    /// A fresh numeric id, as a string.
    fn next_id(&mut self) -> String {
        self.counter += 1;
        (5_000_000_000_000_000_000u64 + self.counter * 7_919).to_string()
    }
}

/// The Compute Engine stand-in.
#[derive(Debug)]
pub(crate) struct Compute {
    /// Base of self-links: `http://127.0.0.1:PORT/compute/v1/`.
    base: String,
    /// Projects that exist; zones that are down; the project number.
    config: GcpFakeConfig,
    /// Operation progress.
    ops: Operations,
    /// The objects.
    state: Mutex<State>,
}

/// Where a regional or global object lives.
#[derive(Clone, Copy, Debug)]
enum Scope<'a> {
    /// `global/...`.
    Global,
    /// `regions/{region}/...`.
    Region(&'a str),
}

impl Compute {
    /// An empty service; self-links use `config.port`.
    pub(crate) fn new(config: &GcpFakeConfig) -> Self {
        Self {
            base: format!("http://127.0.0.1:{}/compute/v1/", config.port),
            config: config.clone(),
            ops: Operations::new(config.operation_polls),
            state: Mutex::new(State::default()),
        }
    }

    /// Locks the objects.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The full URL of relative path `rel` (`projects/p/global/networks/n`).
    pub(crate) fn link(&self, rel: &str) -> String {
        format!("{}{rel}", self.base)
    }

    /// Whether `zone` is known and `UP`.
    pub(crate) fn zone_is_up(&self, zone: &str) -> bool {
        zone_region(zone).is_some() && !self.config.down_zones.iter().any(|z| z == zone)
    }

    /// Answers `req` when its path is under `/compute/v1/projects/{p}/`.
    pub(crate) fn handle(&self, peers: &dyn Peers, req: &GcpRequest) -> Option<GcpAnswer> {
        let segs = req.segments();
        let ["compute", "v1", "projects", project, rest @ ..] = segs.as_slice() else {
            return None;
        };
        if !self.config.has_project(project) {
            return Some(not_found(&format!("projects/{project}")));
        }
        let m = req.method.as_str();
        let body = &req.body;
        let answer = match (m, rest) {
            ("GET", ["regions"]) => self.list_regions(project, req),
            ("GET", ["regions", region]) => self.get_region(project, region),
            ("GET", ["zones"]) => self.list_zones(project, req),
            ("GET", ["zones", zone]) => self.get_zone(project, zone),
            ("GET", ["global", "operations", op]) => self.get_op(project, op, false),
            ("GET", ["regions", _, "operations", op]) => self.get_op(project, op, false),
            ("POST", ["global", "operations", op, "wait"])
            | ("POST", ["regions", _, "operations", op, "wait"]) => self.get_op(project, op, true),
            ("GET", ["global", "networks"]) => self.list(project, "networks", Scope::Global, req),
            ("POST", ["global", "networks"]) => self.insert_network(project, body),
            ("GET", ["global", "networks", n]) => self.get_network(project, n),
            ("PATCH", ["global", "networks", n]) => self.patch_network(project, n, body),
            ("DELETE", ["global", "networks", n]) => self.delete_network(project, n),
            ("POST", ["global", "networks", n, "addPeering"]) => {
                self.add_peering_call(project, n, body)
            }
            ("POST", ["global", "networks", n, "removePeering"]) => {
                self.remove_peering_call(project, n, body)
            }
            ("GET", ["aggregated", "subnetworks"]) => self.aggregated_subnetworks(project, req),
            (_, ["regions", region, ..]) if region_zones(region).is_none() => {
                not_found(&format!("projects/{project}/regions/{region}"))
            }
            ("GET", ["regions", r, "subnetworks"]) => {
                self.list(project, "subnetworks", Scope::Region(r), req)
            }
            ("POST", ["regions", r, "subnetworks"]) => self.insert_subnetwork(project, r, body),
            ("GET", ["regions", r, "subnetworks", s]) => {
                self.get(project, "subnetworks", Scope::Region(r), s)
            }
            ("PATCH", ["regions", r, "subnetworks", s]) => {
                self.patch_subnetwork(peers, project, r, s, body, false)
            }
            ("POST", ["regions", r, "subnetworks", s, "setPrivateIpGoogleAccess"]) => {
                let patch = json!({"privateIpGoogleAccess": body["privateIpGoogleAccess"].as_bool().unwrap_or(false)});
                self.patch_subnetwork(peers, project, r, s, &patch, true)
            }
            ("POST", ["regions", r, "subnetworks", s, "expandIpCidrRange"]) => {
                let patch = json!({"ipCidrRange": body["ipCidrRange"].clone()});
                self.patch_subnetwork(peers, project, r, s, &patch, true)
            }
            ("DELETE", ["regions", r, "subnetworks", s]) => {
                self.delete_subnetwork(peers, project, r, s)
            }
            ("GET", ["regions", r, "routers"]) => {
                self.list(project, "routers", Scope::Region(r), req)
            }
            ("POST", ["regions", r, "routers"]) => self.write_router(project, r, None, body),
            ("GET", ["regions", r, "routers", name]) => {
                self.get(project, "routers", Scope::Region(r), name)
            }
            ("PATCH" | "PUT", ["regions", r, "routers", name]) => {
                self.write_router(project, r, Some((name, m == "PUT")), body)
            }
            ("DELETE", ["regions", r, "routers", name]) => self.delete_router(project, r, name),
            ("GET", ["regions", r, "addresses"]) => {
                self.list(project, "addresses", Scope::Region(r), req)
            }
            ("GET", ["global", "addresses"]) => self.list(project, "addresses", Scope::Global, req),
            ("POST", ["regions", r, "addresses"]) => {
                self.insert_address(project, Scope::Region(r), body)
            }
            ("POST", ["global", "addresses"]) => self.insert_address(project, Scope::Global, body),
            ("GET", ["regions", r, "addresses", a]) => {
                self.get(project, "addresses", Scope::Region(r), a)
            }
            ("GET", ["global", "addresses", a]) => self.get(project, "addresses", Scope::Global, a),
            ("DELETE", ["regions", r, "addresses", a]) => {
                self.delete_address(project, Scope::Region(r), a)
            }
            ("DELETE", ["global", "addresses", a]) => {
                self.delete_address(project, Scope::Global, a)
            }
            ("POST", ["regions", r, "addresses", a, "setLabels"]) => {
                self.set_labels(project, Scope::Region(r), a, body)
            }
            ("POST", ["global", "addresses", a, "setLabels"]) => {
                self.set_labels(project, Scope::Global, a, body)
            }
            _ => return None,
        };
        Some(answer)
    }

    // ----- regions and zones -----

    /// A region's JSON.
    fn region_json(&self, project: &str, region: &str) -> Option<Value> {
        let zones = region_zones(region)?;
        let index = REGIONS.iter().position(|(r, _)| *r == region).unwrap_or(0);
        Some(json!({
            "kind": "compute#region",
            "id": (1_210 + index).to_string(),
            "creationTimestamp": "1969-12-31T16:00:00.000-08:00",
            "name": region,
            "description": region,
            "status": "UP",
            "zones": zones.iter().map(|z| self.link(&format!("projects/{project}/zones/{z}"))).collect::<Vec<_>>(),
            "quotas": [],
            "selfLink": self.link(&format!("projects/{project}/regions/{region}")),
            "supportsPzs": false,
        }))
    }

    /// `GET regions/{region}`.
    fn get_region(&self, project: &str, region: &str) -> GcpAnswer {
        self.region_json(project, region)
            .map(GcpAnswer::ok)
            .unwrap_or_else(|| not_found(&format!("projects/{project}/regions/{region}")))
    }

    /// `GET regions`.
    fn list_regions(&self, project: &str, req: &GcpRequest) -> GcpAnswer {
        let items: Vec<Value> = REGIONS
            .iter()
            .filter_map(|(r, _)| self.region_json(project, r))
            .collect();
        self.list_answer(project, "regionList", "regions", items, req)
    }

    /// A zone's JSON.
    fn zone_json(&self, project: &str, zone: &str) -> Option<Value> {
        let region = zone_region(zone)?;
        let id = 2_000 + super::util::hash_of(&zone) % 1_000;
        Some(json!({
            "kind": "compute#zone",
            "id": id.to_string(),
            "creationTimestamp": "1969-12-31T16:00:00.000-08:00",
            "name": zone,
            "description": zone,
            "status": if self.zone_is_up(zone) { "UP" } else { "DOWN" },
            "region": self.link(&format!("projects/{project}/regions/{region}")),
            "selfLink": self.link(&format!("projects/{project}/zones/{zone}")),
            "availableCpuPlatforms": ["Intel Cascade Lake", "AMD Milan"],
            "supportsPzs": false,
        }))
    }

    /// `GET zones/{zone}`.
    fn get_zone(&self, project: &str, zone: &str) -> GcpAnswer {
        self.zone_json(project, zone)
            .map(GcpAnswer::ok)
            .unwrap_or_else(|| not_found(&format!("projects/{project}/zones/{zone}")))
    }

    /// `GET zones` (with `filter`).
    fn list_zones(&self, project: &str, req: &GcpRequest) -> GcpAnswer {
        let items: Vec<Value> = REGIONS
            .iter()
            .flat_map(|(r, zones)| zones.iter().map(move |z| format!("{r}-{z}")))
            .filter_map(|z| self.zone_json(project, &z))
            .collect();
        self.list_answer(project, "zoneList", "zones", items, req)
    }

    /// A list answer: `items` filtered by the `filter` parameter, omitted when empty.
    fn list_answer(
        &self,
        project: &str,
        kind: &str,
        rel: &str,
        items: Vec<Value>,
        req: &GcpRequest,
    ) -> GcpAnswer {
        let filter = req.param("filter").unwrap_or("");
        let items: Vec<Value> = items
            .into_iter()
            .filter(|i| filter.trim().is_empty() || filter_matches(i, filter))
            .collect();
        let mut out = json!({
            "kind": format!("compute#{kind}"),
            "id": format!("projects/{project}/{rel}"),
            "selfLink": self.link(&format!("projects/{project}/{rel}")),
        });
        if !items.is_empty() {
            out["items"] = Value::Array(items);
        }
        GcpAnswer::ok(out)
    }

    // ----- operations -----

    /// Starts an operation on `target_rel` (refused while one runs there) and
    /// returns its JSON.
    fn start_op(
        &self,
        st: &mut State,
        project: &str,
        scope: Scope<'_>,
        op_type: &str,
        target_rel: &str,
        target_id: &str,
    ) -> Result<Value, GcpAnswer> {
        let name = self.ops.start(target_rel).map_err(|_| {
            cerr(
                400,
                "resourceNotReady",
                format!("The resource '{target_rel}' is not ready"),
            )
        })?;
        let scope_rel = match scope {
            Scope::Global => format!("projects/{project}/global"),
            Scope::Region(r) => format!("projects/{project}/regions/{r}"),
        };
        let now = now_rfc3339();
        let id = st.next_id();
        let mut op = json!({
            "kind": "compute#operation",
            "id": id,
            "name": name,
            "operationType": op_type,
            "targetLink": self.link(target_rel),
            "targetId": target_id,
            "status": "RUNNING",
            "user": "paved-gcp-fake@example.com",
            "progress": 0,
            "insertTime": now,
            "startTime": now,
            "selfLink": self.link(&format!("{scope_rel}/operations/{name}")),
        });
        if let Scope::Region(r) = scope {
            op["region"] = json!(self.link(&format!("projects/{project}/regions/{r}")));
        }
        if self.ops.is_done(&name) == Some(true) {
            finish(&mut op);
        }
        st.operations.insert(name, op.clone());
        Ok(op)
    }

    /// `GET .../operations/{op}` (one poll) or `POST .../wait` (polls until done).
    fn get_op(&self, project: &str, name: &str, wait: bool) -> GcpAnswer {
        let in_project = self
            .ops
            .target(name)
            .is_some_and(|t| t.starts_with(&format!("projects/{project}/")));
        if !in_project {
            return not_found(&format!("projects/{project}/global/operations/{name}"));
        }
        let mut done = self.ops.poll(name);
        if wait {
            for _ in 0..=self.config.operation_polls {
                if done != Some(false) {
                    break;
                }
                done = self.ops.poll(name);
            }
        }
        let mut st = self.lock();
        let Some(op) = st.operations.get_mut(name) else {
            return not_found(&format!("operations/{name}"));
        };
        if done == Some(true) && op["status"] != "DONE" {
            finish(op);
        }
        GcpAnswer::ok(op.clone())
    }

    // ----- generic reads -----

    /// The map key and relative path of an object.
    fn rel(project: &str, collection: &str, scope: Scope<'_>, name: &str) -> String {
        match scope {
            Scope::Global => format!("projects/{project}/global/{collection}/{name}"),
            Scope::Region(r) => format!("projects/{project}/regions/{r}/{collection}/{name}"),
        }
    }

    /// One object of a collection.
    fn lookup(
        st: &State,
        project: &str,
        collection: &str,
        scope: Scope<'_>,
        name: &str,
    ) -> Option<Value> {
        let (p, n) = (project.to_owned(), name.to_owned());
        match (collection, scope) {
            ("networks", _) => st.networks.get(&(p, n)).cloned(),
            ("addresses", Scope::Global) => st.global_addresses.get(&(p, n)).cloned(),
            (_, Scope::Global) => None,
            (c, Scope::Region(r)) => {
                let key = (p, r.to_owned(), n);
                match c {
                    "subnetworks" => st.subnetworks.get(&key).cloned(),
                    "routers" => st.routers.get(&key).cloned(),
                    "addresses" => st.addresses.get(&key).cloned(),
                    _ => None,
                }
            }
        }
    }

    /// `GET .../{collection}/{name}`.
    fn get(&self, project: &str, collection: &str, scope: Scope<'_>, name: &str) -> GcpAnswer {
        let st = self.lock();
        Self::lookup(&st, project, collection, scope, name)
            .map(GcpAnswer::ok)
            .unwrap_or_else(|| not_found(&Self::rel(project, collection, scope, name)))
    }

    /// `GET .../{collection}` (with `filter`).
    fn list(
        &self,
        project: &str,
        collection: &str,
        scope: Scope<'_>,
        req: &GcpRequest,
    ) -> GcpAnswer {
        let st = self.lock();
        let items: Vec<Value> = match (collection, scope) {
            ("networks", _) => st
                .networks
                .iter()
                .filter(|((p, _), _)| p == project)
                .map(|(_, v)| v.clone())
                .collect(),
            ("addresses", Scope::Global) => st
                .global_addresses
                .iter()
                .filter(|((p, _), _)| p == project)
                .map(|(_, v)| v.clone())
                .collect(),
            (c, Scope::Region(r)) => {
                let map = match c {
                    "subnetworks" => &st.subnetworks,
                    "routers" => &st.routers,
                    _ => &st.addresses,
                };
                map.iter()
                    .filter(|((p, reg, _), _)| p == project && reg == r)
                    .map(|(_, v)| v.clone())
                    .collect()
            }
            _ => Vec::new(),
        };
        drop(st);
        let (kind, rel) = match scope {
            Scope::Global => (collection_kind(collection), format!("global/{collection}")),
            Scope::Region(r) => (
                collection_kind(collection),
                format!("regions/{r}/{collection}"),
            ),
        };
        self.list_answer(project, &format!("{kind}List"), &rel, items, req)
    }

    // ----- networks -----

    /// Whether network `name` exists in `project`.
    pub(crate) fn network_exists(&self, project: &str, name: &str) -> bool {
        self.lock()
            .networks
            .contains_key(&(project.to_owned(), name.to_owned()))
    }

    /// A network's JSON.
    pub(crate) fn network_json(&self, project: &str, name: &str) -> Option<Value> {
        self.lock()
            .networks
            .get(&(project.to_owned(), name.to_owned()))
            .cloned()
    }

    /// The `selfLink` of every network, in the order of the networks' keys.
    pub(crate) fn network_self_links(&self) -> Vec<String> {
        self.lock()
            .networks
            .values()
            .filter_map(|n| n["selfLink"].as_str().map(str::to_owned))
            .collect()
    }

    /// `GET global/networks/{n}`.
    fn get_network(&self, project: &str, name: &str) -> GcpAnswer {
        self.get(project, "networks", Scope::Global, name)
    }

    /// `POST global/networks`.
    fn insert_network(&self, project: &str, body: &Value) -> GcpAnswer {
        let name = body["name"].as_str().unwrap_or_default();
        if !valid_name(name, 63) {
            return invalid_field(
                "resource.name",
                name,
                "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'",
            );
        }
        if body.get("IPv4Range").is_some_and(|v| !v.is_null()) {
            return invalid_field(
                "resource.IPv4Range",
                "",
                "Legacy networks are not supported by paved-gcp-fake.",
            );
        }
        if let Some(mtu) = body.get("mtu").filter(|v| !v.is_null()) {
            if !mtu.as_u64().is_some_and(|m| (1300..=8896).contains(&m)) {
                return invalid_field(
                    "resource.mtu",
                    &mtu.to_string(),
                    "MTU must be between 1300 and 8896.",
                );
            }
        }
        let rel = format!("projects/{project}/global/networks/{name}");
        let mut st = self.lock();
        let key = (project.to_owned(), name.to_owned());
        if st.networks.contains_key(&key) {
            return already_exists(&rel);
        }
        let id = st.next_id();
        let op = match self.start_op(&mut st, project, Scope::Global, "insert", &rel, &id) {
            Ok(op) => op,
            Err(e) => return e,
        };
        let mut net = body.clone();
        if !net.is_object() {
            net = json!({});
        }
        let defaults = json!({
            "kind": "compute#network",
            "id": id,
            "creationTimestamp": now_rfc3339(),
            "selfLink": self.link(&rel),
            "selfLinkWithId": self.link(&format!("projects/{project}/global/networks/{id}")),
            "autoCreateSubnetworks": false,
            "routingConfig": {"routingMode": "REGIONAL", "bgpBestPathSelectionMode": "LEGACY"},
            "mtu": 1460,
            "networkFirewallPolicyEnforcementOrder": "AFTER_CLASSIC_FIREWALL",
        });
        for (k, v) in defaults.as_object().into_iter().flatten() {
            let keep = net.get(k).is_some_and(|x| !x.is_null())
                && !matches!(
                    k.as_str(),
                    "kind" | "id" | "creationTimestamp" | "selfLink" | "selfLinkWithId"
                );
            if !keep {
                net[k] = v.clone();
            }
        }
        if let Some(rc) = net["routingConfig"].as_object_mut() {
            rc.entry("bgpBestPathSelectionMode")
                .or_insert(json!("LEGACY"));
        }
        st.networks.insert(key, net);
        GcpAnswer::ok(op)
    }

    /// `PATCH global/networks/{n}`: `routingConfig`, `mtu`, `description` and
    /// the other mutable fields, merged.
    fn patch_network(&self, project: &str, name: &str, body: &Value) -> GcpAnswer {
        let rel = format!("projects/{project}/global/networks/{name}");
        let mut st = self.lock();
        let key = (project.to_owned(), name.to_owned());
        let Some(current) = st.networks.get(&key).cloned() else {
            return not_found(&rel);
        };
        if body
            .get("autoCreateSubnetworks")
            .is_some_and(|v| v.as_bool() == Some(true) && current["autoCreateSubnetworks"] != true)
        {
            return cerr(
                400,
                "invalid",
                "Switching a custom mode network to auto mode is not supported by paved-gcp-fake.",
            );
        }
        let id = current["id"].as_str().unwrap_or_default().to_owned();
        let op = match self.start_op(&mut st, project, Scope::Global, "patch", &rel, &id) {
            Ok(op) => op,
            Err(e) => return e,
        };
        let mut patch = body.clone();
        if let Some(obj) = patch.as_object_mut() {
            for k in [
                "name",
                "kind",
                "id",
                "selfLink",
                "selfLinkWithId",
                "creationTimestamp",
                "peerings",
                "subnetworks",
            ] {
                obj.remove(k);
            }
        }
        let mut net = current;
        merge_patch(&mut net, &patch);
        st.networks.insert(key, net);
        GcpAnswer::ok(op)
    }

    /// `DELETE global/networks/{n}`: refused while anything uses it.
    fn delete_network(&self, project: &str, name: &str) -> GcpAnswer {
        let rel = format!("projects/{project}/global/networks/{name}");
        let mut st = self.lock();
        let key = (project.to_owned(), name.to_owned());
        let Some(net) = st.networks.get(&key).cloned() else {
            return not_found(&rel);
        };
        let uses_it = |v: &Value| {
            v["network"]
                .as_str()
                .and_then(|n| parse_ref(n, "networks", project, None))
                .is_some_and(|r| r.project == project && r.name == name)
        };
        let mut user = None;
        if let Some(((_, r, s), _)) = st
            .subnetworks
            .iter()
            .find(|((p, _, _), v)| p == project && uses_it(v))
        {
            user = Some(format!("projects/{project}/regions/{r}/subnetworks/{s}"));
        } else if let Some(((_, r, s), _)) = st
            .routers
            .iter()
            .find(|((p, _, _), v)| p == project && uses_it(v))
        {
            user = Some(format!("projects/{project}/regions/{r}/routers/{s}"));
        } else if let Some(((_, a), _)) = st
            .global_addresses
            .iter()
            .find(|((p, _), v)| p == project && uses_it(v))
        {
            user = Some(format!("projects/{project}/global/addresses/{a}"));
        } else if let Some(peering) = net["peerings"].as_array().and_then(|ps| ps.first()) {
            user = Some(format!(
                "{rel}/peerings/{}",
                peering["name"].as_str().unwrap_or_default()
            ));
        }
        if let Some(user) = user {
            return in_use("network", &rel, &user);
        }
        let id = net["id"].as_str().unwrap_or_default().to_owned();
        let op = match self.start_op(&mut st, project, Scope::Global, "delete", &rel, &id) {
            Ok(op) => op,
            Err(e) => return e,
        };
        st.networks.remove(&key);
        GcpAnswer::ok(op)
    }

    /// A peering's JSON.
    fn peering_json(&self, name: &str, peer_network: &str, extra: &Value) -> Value {
        let peer = if peer_network.starts_with("http") {
            peer_network.to_owned()
        } else {
            let rel = peer_network.trim_start_matches('/');
            self.link(rel)
        };
        let mut p = json!({
            "name": name,
            "network": peer,
            "state": "ACTIVE",
            "stateDetails": format!("[{}]: Connected.", now_rfc3339()),
            "autoCreateRoutes": true,
            "exchangeSubnetRoutes": true,
            "exportCustomRoutes": false,
            "importCustomRoutes": false,
            "exportSubnetRoutesWithPublicIp": true,
            "importSubnetRoutesWithPublicIp": false,
            "stackType": "IPV4_ONLY",
        });
        merge_patch(&mut p, extra);
        p["name"] = json!(name);
        p
    }

    /// Adds (or replaces) peering `peering` to `peer_network` on `network` (used
    /// by Service Networking). Does nothing when the network does not exist.
    pub(crate) fn add_peering(
        &self,
        project: &str,
        network: &str,
        peering: &str,
        peer_network: &str,
    ) {
        let p = self.peering_json(peering, peer_network, &json!({}));
        let mut st = self.lock();
        if let Some(net) = st
            .networks
            .get_mut(&(project.to_owned(), network.to_owned()))
        {
            put_peering(net, p);
        }
    }

    /// Removes peering `peering` from `network`; whether it was there.
    pub(crate) fn remove_peering(&self, project: &str, network: &str, peering: &str) -> bool {
        let mut st = self.lock();
        let Some(net) = st
            .networks
            .get_mut(&(project.to_owned(), network.to_owned()))
        else {
            return false;
        };
        let Some(list) = net["peerings"].as_array_mut() else {
            return false;
        };
        let before = list.len();
        list.retain(|p| p["name"].as_str() != Some(peering));
        let removed = list.len() != before;
        if list.is_empty() {
            if let Some(obj) = net.as_object_mut() {
                obj.remove("peerings");
            }
        }
        removed
    }

    /// `POST global/networks/{n}/addPeering` (`networkPeering` or the legacy
    /// `name` + `peerNetwork`).
    fn add_peering_call(&self, project: &str, network: &str, body: &Value) -> GcpAnswer {
        let rel = format!("projects/{project}/global/networks/{network}");
        let (name, peer, extra) = match body.get("networkPeering").filter(|v| v.is_object()) {
            Some(np) => (np["name"].as_str(), np["network"].as_str(), np.clone()),
            None => (
                body["name"].as_str(),
                body["peerNetwork"].as_str(),
                json!({}),
            ),
        };
        let (Some(name), Some(peer)) = (name, peer) else {
            return cerr(
                400,
                "required",
                "Required field 'networkPeering' not specified",
            );
        };
        let Some(peer_ref) = parse_ref(peer, "networks", project, None) else {
            return invalid_field("networkPeering.network", peer, "Invalid network reference.");
        };
        let peering = self.peering_json(
            name,
            &format!(
                "projects/{}/global/networks/{}",
                peer_ref.project, peer_ref.name
            ),
            &extra,
        );
        let mut st = self.lock();
        let key = (project.to_owned(), network.to_owned());
        let Some(net) = st.networks.get(&key) else {
            return not_found(&rel);
        };
        if net["peerings"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["name"].as_str() == Some(name))
        {
            return cerr(
                400,
                "alreadyExists",
                format!("There is already a peering {name} on network {rel}."),
            );
        }
        let id = net["id"].as_str().unwrap_or_default().to_owned();
        let op = match self.start_op(&mut st, project, Scope::Global, "addPeering", &rel, &id) {
            Ok(op) => op,
            Err(e) => return e,
        };
        if let Some(net) = st.networks.get_mut(&key) {
            put_peering(net, peering);
        }
        GcpAnswer::ok(op)
    }

    /// `POST global/networks/{n}/removePeering` (`{"name": ...}`).
    fn remove_peering_call(&self, project: &str, network: &str, body: &Value) -> GcpAnswer {
        let rel = format!("projects/{project}/global/networks/{network}");
        let name = body["name"].as_str().unwrap_or_default();
        let id = {
            let st = self.lock();
            let Some(net) = st.networks.get(&(project.to_owned(), network.to_owned())) else {
                return not_found(&rel);
            };
            if !net["peerings"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["name"].as_str() == Some(name))
            {
                return cerr(
                    400,
                    "invalid",
                    format!("There is no peering {name} on network {rel}."),
                );
            }
            net["id"].as_str().unwrap_or_default().to_owned()
        };
        let op = {
            let mut st = self.lock();
            match self.start_op(&mut st, project, Scope::Global, "removePeering", &rel, &id) {
                Ok(op) => op,
                Err(e) => return e,
            }
        };
        self.remove_peering(project, network, name);
        GcpAnswer::ok(op)
    }

    // ----- subnetworks -----

    /// A subnetwork's JSON.
    pub(crate) fn subnetwork(&self, project: &str, region: &str, name: &str) -> Option<Value> {
        self.lock()
            .subnetworks
            .get(&(project.to_owned(), region.to_owned(), name.to_owned()))
            .cloned()
    }

    /// Checks a subnetwork's ranges: valid CIDRs, unique range names, no overlap
    /// among them nor with other subnetworks and peering ranges of its network.
    fn check_subnet_ranges(
        st: &State,
        project: &str,
        network: &str,
        myself: Option<(&str, &str)>,
        sub: &Value,
    ) -> Result<(), GcpAnswer> {
        let primary_text = sub["ipCidrRange"].as_str().unwrap_or_default();
        let Some(primary) = Cidr::parse(primary_text).filter(|c| (8..=29).contains(&c.len)) else {
            return Err(invalid_field(
                "resource.ipCidrRange",
                primary_text,
                "Invalid IPCidrRange.",
            ));
        };
        let mut ranges = vec![("primary".to_owned(), primary)];
        for range in sub["secondaryIpRanges"].as_array().into_iter().flatten() {
            let name = range["rangeName"].as_str().unwrap_or_default();
            let text = range["ipCidrRange"].as_str().unwrap_or_default();
            if !valid_name(name, 63) {
                return Err(invalid_field(
                    "resource.secondaryIpRanges.rangeName",
                    name,
                    "Must be a match of regex '[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?'",
                ));
            }
            if ranges.iter().any(|(n, _)| n == name) {
                return Err(invalid_field(
                    "resource.secondaryIpRanges.rangeName",
                    name,
                    "Secondary range names must be unique.",
                ));
            }
            let Some(cidr) = Cidr::parse(text).filter(|c| (8..=29).contains(&c.len)) else {
                return Err(invalid_field(
                    "resource.secondaryIpRanges.ipCidrRange",
                    text,
                    "Invalid IPCidrRange.",
                ));
            };
            ranges.push((name.to_owned(), cidr));
        }
        for (i, (_, a)) in ranges.iter().enumerate() {
            for (_, b) in &ranges[i + 1..] {
                if a.overlaps(*b) {
                    return Err(cerr(400, "invalid", format!("Invalid IPCidrRange: {b} conflicts with existing subnetwork range {a} of this subnetwork.")));
                }
            }
        }
        for ((p, r, n), other) in &st.subnetworks {
            if p != project || myself == Some((r.as_str(), n.as_str())) {
                continue;
            }
            let same_net = other["network"]
                .as_str()
                .and_then(|x| parse_ref(x, "networks", project, None))
                .is_some_and(|x| x.name == network);
            if !same_net {
                continue;
            }
            for (_, c) in subnet_ranges(other) {
                if let Some((_, mine)) = ranges.iter().find(|(_, m)| m.overlaps(c)) {
                    return Err(cerr(400, "invalid", format!("Invalid IPCidrRange: {mine} conflicts with existing subnetwork '{n}' in region '{r}'.")));
                }
            }
        }
        for ((p, a), addr) in &st.global_addresses {
            let same_net = addr["network"]
                .as_str()
                .and_then(|x| parse_ref(x, "networks", project, None))
                .is_some_and(|x| x.project == *p && x.name == network);
            if p != project || !same_net {
                continue;
            }
            if let Some(c) = address_range(addr) {
                if let Some((_, mine)) = ranges.iter().find(|(_, m)| m.overlaps(c)) {
                    return Err(cerr(400, "invalid", format!("Invalid IPCidrRange: {mine} conflicts with the allocated range '{a}' ({c}).")));
                }
            }
        }
        Ok(())
    }

    /// Fills a subnetwork's defaults and outputs.
    fn finish_subnet(&self, sub: &mut Value) {
        if let Some(primary) = sub["ipCidrRange"].as_str().and_then(Cidr::parse) {
            sub["gatewayAddress"] = json!(ipv4(primary.start + 1));
        }
        if sub["secondaryIpRanges"]
            .as_array()
            .is_some_and(Vec::is_empty)
        {
            if let Some(obj) = sub.as_object_mut() {
                obj.remove("secondaryIpRanges");
            }
        }
        if let Some(log) = sub.get_mut("logConfig").filter(|l| l.is_object()) {
            if log["enable"] == true {
                let defaults = [
                    ("aggregationInterval", json!("INTERVAL_5_SEC")),
                    ("flowSampling", json!(0.5)),
                    ("metadata", json!("INCLUDE_ALL_METADATA")),
                ];
                for (k, v) in defaults {
                    if log.get(k).is_none_or(Value::is_null) {
                        log[k] = v;
                    }
                }
            }
        }
        let mut for_print = sub.clone();
        if let Some(obj) = for_print.as_object_mut() {
            obj.remove("fingerprint");
        }
        sub["fingerprint"] = json!(fingerprint(&for_print));
    }

    /// `POST regions/{r}/subnetworks`.
    fn insert_subnetwork(&self, project: &str, region: &str, body: &Value) -> GcpAnswer {
        let name = body["name"].as_str().unwrap_or_default();
        if !valid_name(name, 63) {
            return invalid_field(
                "resource.name",
                name,
                "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'",
            );
        }
        let Some(net_ref) = body["network"]
            .as_str()
            .and_then(|n| parse_ref(n, "networks", project, None))
        else {
            return cerr(
                400,
                "required",
                "Required field 'resource.network' not specified",
            );
        };
        if let Some(r) = body["region"]
            .as_str()
            .filter(|r| last_segment(r) != region)
        {
            return invalid_field(
                "resource.region",
                r,
                "The region does not match the request's region.",
            );
        }
        let rel = format!("projects/{project}/regions/{region}/subnetworks/{name}");
        let net_rel = format!(
            "projects/{}/global/networks/{}",
            net_ref.project, net_ref.name
        );
        let mut st = self.lock();
        if !st
            .networks
            .contains_key(&(net_ref.project.clone(), net_ref.name.clone()))
        {
            return not_found(&net_rel);
        }
        let key = (project.to_owned(), region.to_owned(), name.to_owned());
        if st.subnetworks.contains_key(&key) {
            return already_exists(&rel);
        }
        if let Err(e) = Self::check_subnet_ranges(&st, project, &net_ref.name, None, body) {
            return e;
        }
        let id = st.next_id();
        let op = match self.start_op(&mut st, project, Scope::Region(region), "insert", &rel, &id) {
            Ok(op) => op,
            Err(e) => return e,
        };
        let mut sub = body.clone();
        sub["kind"] = json!("compute#subnetwork");
        sub["id"] = json!(id);
        sub["creationTimestamp"] = json!(now_rfc3339());
        sub["network"] = json!(self.link(&net_rel));
        sub["region"] = json!(self.link(&format!("projects/{project}/regions/{region}")));
        sub["selfLink"] = json!(self.link(&rel));
        for (k, v) in [
            ("privateIpGoogleAccess", json!(false)),
            ("purpose", json!("PRIVATE")),
            ("stackType", json!("IPV4_ONLY")),
        ] {
            if sub.get(k).is_none_or(Value::is_null) {
                sub[k] = v;
            }
        }
        self.finish_subnet(&mut sub);
        let link = self.link(&rel);
        if let Some(net) = st.networks.get_mut(&(net_ref.project, net_ref.name)) {
            push_unique(net, "subnetworks", &link);
        }
        st.subnetworks.insert(key, sub);
        GcpAnswer::ok(op)
    }

    /// `PATCH regions/{r}/subnetworks/{s}` (fingerprint required, as Compute
    /// does; `skip_fingerprint` for the custom methods that need none).
    fn patch_subnetwork(
        &self,
        peers: &dyn Peers,
        project: &str,
        region: &str,
        name: &str,
        body: &Value,
        skip_fingerprint: bool,
    ) -> GcpAnswer {
        let rel = format!("projects/{project}/regions/{region}/subnetworks/{name}");
        // Ask GKE before locking Compute (GKE's handlers lock in the other order).
        let gke_user = peers.subnetwork_user(project, region, name);
        let mut st = self.lock();
        let key = (project.to_owned(), region.to_owned(), name.to_owned());
        let Some(current) = st.subnetworks.get(&key).cloned() else {
            return not_found(&rel);
        };
        if !skip_fingerprint {
            let sent = body["fingerprint"].as_str().unwrap_or_default();
            if sent != current["fingerprint"].as_str().unwrap_or_default() {
                return cerr(412, "conditionNotMet", format!("Invalid value for field 'resource.fingerprint': '{sent}'. Supplied fingerprint does not match current metadata fingerprint."));
            }
        }
        for field in ["network", "region", "name", "purpose"] {
            if let Some(v) = body.get(field).filter(|v| !v.is_null()) {
                let same = match field {
                    "network" | "region" => {
                        v.as_str().map(last_segment) == current[field].as_str().map(last_segment)
                    }
                    _ => *v == current[field],
                };
                if !same {
                    return invalid_field(
                        &format!("resource.{field}"),
                        &v.to_string(),
                        "Field cannot be changed.",
                    );
                }
            }
        }
        let mut patch = body.clone();
        if let Some(obj) = patch.as_object_mut() {
            for k in [
                "kind",
                "id",
                "selfLink",
                "creationTimestamp",
                "gatewayAddress",
                "fingerprint",
                "network",
                "region",
            ] {
                obj.remove(k);
            }
        }
        let mut next = current.clone();
        merge_patch(&mut next, &patch);
        if let (Some(old), Some(new)) = (
            current["ipCidrRange"].as_str().and_then(Cidr::parse),
            next["ipCidrRange"].as_str().and_then(Cidr::parse),
        ) {
            if old != new && !new.contains(old) {
                return invalid_field("resource.ipCidrRange", &new.to_string(), "The new range must contain the existing range (a subnetwork's primary range can only be expanded).");
            }
        }
        if let Some((cluster, used)) = &gke_user {
            let kept: Vec<&str> = next["secondaryIpRanges"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["rangeName"].as_str())
                .collect();
            if let Some(missing) = used.iter().find(|u| !kept.contains(&u.as_str())) {
                return in_use(
                    "subnetwork secondary range",
                    &format!("{rel} ({missing})"),
                    cluster,
                );
            }
        }
        let network = last_segment(current["network"].as_str().unwrap_or_default()).to_owned();
        if let Err(e) =
            Self::check_subnet_ranges(&st, project, &network, Some((region, name)), &next)
        {
            return e;
        }
        let id = current["id"].as_str().unwrap_or_default().to_owned();
        let op = match self.start_op(&mut st, project, Scope::Region(region), "patch", &rel, &id) {
            Ok(op) => op,
            Err(e) => return e,
        };
        self.finish_subnet(&mut next);
        st.subnetworks.insert(key, next);
        GcpAnswer::ok(op)
    }

    /// `DELETE regions/{r}/subnetworks/{s}`: refused while a GKE cluster or a
    /// NAT uses it.
    fn delete_subnetwork(
        &self,
        peers: &dyn Peers,
        project: &str,
        region: &str,
        name: &str,
    ) -> GcpAnswer {
        let rel = format!("projects/{project}/regions/{region}/subnetworks/{name}");
        let gke_user = peers.subnetwork_user(project, region, name);
        let mut st = self.lock();
        let key = (project.to_owned(), region.to_owned(), name.to_owned());
        let Some(current) = st.subnetworks.get(&key).cloned() else {
            return not_found(&rel);
        };
        if let Some((cluster, _)) = gke_user {
            return in_use("subnetwork", &rel, &cluster);
        }
        let nat_user = st.routers.iter().find(|((p, r, _), router)| {
            p == project
                && r == region
                && router["nats"].as_array().into_iter().flatten().any(|nat| {
                    nat["subnetworks"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|s| s["name"].as_str().map(last_segment) == Some(name))
                })
        });
        if let Some(((_, r, n), _)) = nat_user {
            return in_use(
                "subnetwork",
                &rel,
                &format!("projects/{project}/regions/{r}/routers/{n}"),
            );
        }
        let id = current["id"].as_str().unwrap_or_default().to_owned();
        let op = match self.start_op(&mut st, project, Scope::Region(region), "delete", &rel, &id) {
            Ok(op) => op,
            Err(e) => return e,
        };
        st.subnetworks.remove(&key);
        let link = self.link(&rel);
        if let Some(net_ref) = current["network"]
            .as_str()
            .and_then(|n| parse_ref(n, "networks", project, None))
        {
            if let Some(net) = st.networks.get_mut(&(net_ref.project, net_ref.name)) {
                remove_from(net, "subnetworks", &link);
            }
        }
        GcpAnswer::ok(op)
    }

    /// `GET aggregated/subnetworks`.
    fn aggregated_subnetworks(&self, project: &str, req: &GcpRequest) -> GcpAnswer {
        let filter = req.param("filter").unwrap_or("");
        let st = self.lock();
        let mut items = Map::new();
        for ((p, r, _), sub) in &st.subnetworks {
            if p != project || !(filter.trim().is_empty() || filter_matches(sub, filter)) {
                continue;
            }
            let entry = items
                .entry(format!("regions/{r}"))
                .or_insert_with(|| json!({"subnetworks": []}));
            if let Some(list) = entry["subnetworks"].as_array_mut() {
                list.push(sub.clone());
            }
        }
        GcpAnswer::ok(json!({
            "kind": "compute#subnetworkAggregatedList",
            "id": format!("projects/{project}/aggregated/subnetworks"),
            "items": items,
            "selfLink": self.link(&format!("projects/{project}/aggregated/subnetworks")),
        }))
    }

    // ----- routers -----

    /// Validates a router's NATs and returns the NAT IP addresses (names) it uses,
    /// normalising references to full URLs.
    fn check_nats(
        &self,
        st: &State,
        project: &str,
        region: &str,
        router_rel: &str,
        router: &mut Value,
    ) -> Result<Vec<String>, GcpAnswer> {
        let mut used = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let Some(nats) = router.get_mut("nats").and_then(Value::as_array_mut) else {
            return Ok(used);
        };
        for nat in nats.iter_mut() {
            let name = nat["name"].as_str().unwrap_or_default().to_owned();
            if !valid_name(&name, 63) {
                return Err(invalid_field(
                    "resource.nats[].name",
                    &name,
                    "Must be a match of regex '[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?'",
                ));
            }
            if names.contains(&name) {
                return Err(invalid_field(
                    "resource.nats[].name",
                    &name,
                    "NAT names must be unique within a router.",
                ));
            }
            names.push(name.clone());
            let option = nat["natIpAllocateOption"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let ips: Vec<String> = nat["natIps"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            match option.as_str() {
                "AUTO_ONLY" if !ips.is_empty() => {
                    return Err(invalid_field(
                        "resource.nats[].natIps",
                        &ips.join(","),
                        "NAT IPs cannot be specified with AUTO_ONLY allocation.",
                    ));
                }
                "MANUAL_ONLY" if ips.is_empty() => {
                    return Err(cerr(400, "invalid", format!("Invalid value for field 'resource.nats[{name}].natIps': ''. At least one NAT IP is required with MANUAL_ONLY allocation.")));
                }
                "AUTO_ONLY" | "MANUAL_ONLY" => {}
                other => {
                    return Err(invalid_field(
                        "resource.nats[].natIpAllocateOption",
                        other,
                        "Must be AUTO_ONLY or MANUAL_ONLY.",
                    ));
                }
            }
            let mut links = Vec::new();
            for ip in &ips {
                let Some(r) = parse_ref(ip, "addresses", project, Some(region)) else {
                    return Err(invalid_field(
                        "resource.nats[].natIps",
                        ip,
                        "Invalid address reference.",
                    ));
                };
                let addr_rel = format!(
                    "projects/{}/regions/{}/addresses/{}",
                    r.project,
                    r.region.clone().unwrap_or_default(),
                    r.name
                );
                let Some(addr) = st.addresses.get(&(
                    r.project.clone(),
                    r.region.clone().unwrap_or_default(),
                    r.name.clone(),
                )) else {
                    return Err(not_found(&addr_rel));
                };
                if r.region.as_deref() != Some(region) {
                    return Err(invalid_field(
                        "resource.nats[].natIps",
                        ip,
                        "NAT IPs must be in the router's region.",
                    ));
                }
                if addr["addressType"] != "EXTERNAL" {
                    return Err(invalid_field(
                        "resource.nats[].natIps",
                        ip,
                        "NAT IPs must be external addresses.",
                    ));
                }
                let router_link = self.link(router_rel);
                if let Some(other) = addr["users"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .find(|u| *u != router_link)
                {
                    return Err(in_use("address", &addr_rel, other));
                }
                links.push(json!(self.link(&addr_rel)));
                used.push(r.name);
            }
            if !links.is_empty() {
                nat["natIps"] = Value::Array(links);
            }
            let ranges = nat["sourceSubnetworkIpRangesToNat"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            match ranges.as_str() {
                "ALL_SUBNETWORKS_ALL_IP_RANGES" | "ALL_SUBNETWORKS_ALL_PRIMARY_IP_RANGES" => {}
                "LIST_OF_SUBNETWORKS" => {
                    let Some(list) = nat
                        .get_mut("subnetworks")
                        .and_then(Value::as_array_mut)
                        .filter(|l| !l.is_empty())
                    else {
                        return Err(cerr(
                            400,
                            "invalid",
                            "Subnetworks must be specified with LIST_OF_SUBNETWORKS.",
                        ));
                    };
                    for s in list.iter_mut() {
                        let text = s["name"].as_str().unwrap_or_default().to_owned();
                        let Some(r) = parse_ref(&text, "subnetworks", project, Some(region)) else {
                            return Err(invalid_field(
                                "resource.nats[].subnetworks[].name",
                                &text,
                                "Invalid subnetwork reference.",
                            ));
                        };
                        let sub_rel = format!(
                            "projects/{}/regions/{}/subnetworks/{}",
                            r.project,
                            r.region.clone().unwrap_or_default(),
                            r.name
                        );
                        if !st.subnetworks.contains_key(&(
                            r.project.clone(),
                            r.region.clone().unwrap_or_default(),
                            r.name.clone(),
                        )) {
                            return Err(not_found(&sub_rel));
                        }
                        s["name"] = json!(self.link(&sub_rel));
                        if s.get("sourceIpRangesToNat").is_none_or(Value::is_null) {
                            s["sourceIpRangesToNat"] = json!(["ALL_IP_RANGES"]);
                        }
                    }
                }
                other => {
                    return Err(invalid_field("resource.nats[].sourceSubnetworkIpRangesToNat", other, "Must be ALL_SUBNETWORKS_ALL_IP_RANGES, ALL_SUBNETWORKS_ALL_PRIMARY_IP_RANGES or LIST_OF_SUBNETWORKS."));
                }
            }
            if nat["minPortsPerVm"].is_null() && nat["enableDynamicPortAllocation"] != true {
                nat["minPortsPerVm"] = json!(64);
            }
            if nat["endpointTypes"].is_null() {
                nat["endpointTypes"] = json!(["ENDPOINT_TYPE_VM"]);
            }
        }
        Ok(used)
    }

    /// Marks the NAT IPs of router `router_rel`: `used` become `IN_USE` by it,
    /// the others it held go back to `RESERVED`.
    fn mark_nat_ips(
        &self,
        st: &mut State,
        project: &str,
        region: &str,
        router_rel: &str,
        used: &[String],
    ) {
        let router_link = self.link(router_rel);
        for ((p, r, n), addr) in st.addresses.iter_mut() {
            if p != project || r != region {
                continue;
            }
            let mut users: Vec<String> = addr["users"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|u| u.as_str().map(str::to_owned))
                .filter(|u| *u != router_link)
                .collect();
            if used.contains(n) {
                users.push(router_link.clone());
            }
            if users.is_empty() {
                if let Some(obj) = addr.as_object_mut() {
                    obj.remove("users");
                }
                addr["status"] = json!("RESERVED");
            } else {
                addr["users"] = json!(users);
                addr["status"] = json!("IN_USE");
            }
        }
    }

    /// `POST regions/{r}/routers` (`existing` None), `PATCH` (merge) or `PUT`
    /// (replace) of `regions/{r}/routers/{name}`.
    fn write_router(
        &self,
        project: &str,
        region: &str,
        existing: Option<(&str, bool)>,
        body: &Value,
    ) -> GcpAnswer {
        let name = match existing {
            Some((n, _)) => n.to_owned(),
            None => body["name"].as_str().unwrap_or_default().to_owned(),
        };
        if existing.is_none() && !valid_name(&name, 63) {
            return invalid_field(
                "resource.name",
                &name,
                "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'",
            );
        }
        let rel = format!("projects/{project}/regions/{region}/routers/{name}");
        let key = (project.to_owned(), region.to_owned(), name.clone());
        let mut st = self.lock();
        let current = st.routers.get(&key).cloned();
        let mut router = match (existing, &current) {
            (None, Some(_)) => return already_exists(&rel),
            (Some(_), None) => return not_found(&rel),
            (None, None) => body.clone(),
            (Some((_, replace)), Some(cur)) => {
                let mut patch = body.clone();
                if let Some(obj) = patch.as_object_mut() {
                    for k in [
                        "kind",
                        "id",
                        "selfLink",
                        "creationTimestamp",
                        "region",
                        "name",
                    ] {
                        obj.remove(k);
                    }
                }
                if let Some(net) = patch.get("network").and_then(Value::as_str) {
                    if last_segment(net)
                        != last_segment(cur["network"].as_str().unwrap_or_default())
                    {
                        return invalid_field("resource.network", net, "Field cannot be changed.");
                    }
                }
                if replace {
                    let mut next = patch;
                    for k in [
                        "kind",
                        "id",
                        "selfLink",
                        "creationTimestamp",
                        "region",
                        "name",
                        "network",
                    ] {
                        next[k] = cur[k].clone();
                    }
                    next
                } else {
                    let mut next = cur.clone();
                    merge_patch(&mut next, &patch);
                    next
                }
            }
        };
        let Some(net_ref) = router["network"]
            .as_str()
            .and_then(|n| parse_ref(n, "networks", project, None))
        else {
            return cerr(
                400,
                "required",
                "Required field 'resource.network' not specified",
            );
        };
        let net_rel = format!(
            "projects/{}/global/networks/{}",
            net_ref.project, net_ref.name
        );
        if !st
            .networks
            .contains_key(&(net_ref.project.clone(), net_ref.name.clone()))
        {
            return not_found(&net_rel);
        }
        let used = match self.check_nats(&st, project, region, &rel, &mut router) {
            Ok(used) => used,
            Err(e) => return e,
        };
        let id = match &current {
            Some(cur) => cur["id"].as_str().unwrap_or_default().to_owned(),
            None => st.next_id(),
        };
        let op_type = match existing {
            None => "insert",
            Some((_, true)) => "update",
            Some((_, false)) => "patch",
        };
        let op = match self.start_op(&mut st, project, Scope::Region(region), op_type, &rel, &id) {
            Ok(op) => op,
            Err(e) => return e,
        };
        if current.is_none() {
            router["kind"] = json!("compute#router");
            router["id"] = json!(id);
            router["creationTimestamp"] = json!(now_rfc3339());
            router["selfLink"] = json!(self.link(&rel));
            router["region"] = json!(self.link(&format!("projects/{project}/regions/{region}")));
        }
        router["network"] = json!(self.link(&net_rel));
        if router["nats"].as_array().is_some_and(Vec::is_empty) {
            if let Some(obj) = router.as_object_mut() {
                obj.remove("nats");
            }
        }
        self.mark_nat_ips(&mut st, project, region, &rel, &used);
        st.routers.insert(key, router);
        GcpAnswer::ok(op)
    }

    /// `DELETE regions/{r}/routers/{name}` (frees its NAT IPs).
    fn delete_router(&self, project: &str, region: &str, name: &str) -> GcpAnswer {
        let rel = format!("projects/{project}/regions/{region}/routers/{name}");
        let key = (project.to_owned(), region.to_owned(), name.to_owned());
        let mut st = self.lock();
        let Some(current) = st.routers.get(&key).cloned() else {
            return not_found(&rel);
        };
        let id = current["id"].as_str().unwrap_or_default().to_owned();
        let op = match self.start_op(&mut st, project, Scope::Region(region), "delete", &rel, &id) {
            Ok(op) => op,
            Err(e) => return e,
        };
        st.routers.remove(&key);
        self.mark_nat_ips(&mut st, project, region, &rel, &[]);
        GcpAnswer::ok(op)
    }

    // ----- addresses -----

    /// A global address as the API would answer it (used by Service Networking).
    pub(crate) fn global_address(&self, project: &str, name: &str) -> Option<Value> {
        self.lock()
            .global_addresses
            .get(&(project.to_owned(), name.to_owned()))
            .cloned()
    }

    /// `POST regions/{r}/addresses` or `POST global/addresses`.
    fn insert_address(&self, project: &str, scope: Scope<'_>, body: &Value) -> GcpAnswer {
        let name = body["name"].as_str().unwrap_or_default();
        if !valid_name(name, 63) {
            return invalid_field(
                "resource.name",
                name,
                "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'",
            );
        }
        let rel = Self::rel(project, "addresses", scope, name);
        let address_type = body["addressType"]
            .as_str()
            .unwrap_or("EXTERNAL")
            .to_owned();
        if !matches!(address_type.as_str(), "EXTERNAL" | "INTERNAL") {
            return invalid_field(
                "resource.addressType",
                &address_type,
                "Must be EXTERNAL or INTERNAL.",
            );
        }
        let purpose = body["purpose"].as_str().unwrap_or_default().to_owned();
        let mut st = self.lock();
        if Self::lookup(&st, project, "addresses", scope, name).is_some() {
            return already_exists(&rel);
        }
        let mut addr = body.clone();
        let mut network_rel = None;
        if let Some(net) = body["network"].as_str() {
            let Some(r) = parse_ref(net, "networks", project, None) else {
                return invalid_field("resource.network", net, "Invalid network reference.");
            };
            let nrel = format!("projects/{}/global/networks/{}", r.project, r.name);
            if !st
                .networks
                .contains_key(&(r.project.clone(), r.name.clone()))
            {
                return not_found(&nrel);
            }
            addr["network"] = json!(self.link(&nrel));
            network_rel = Some((r.project, r.name));
        }
        if purpose == "VPC_PEERING" {
            if !matches!(scope, Scope::Global) || address_type != "INTERNAL" {
                return invalid_field(
                    "resource.purpose",
                    &purpose,
                    "VPC_PEERING addresses must be global and INTERNAL.",
                );
            }
            let Some((net_project, net_name)) = network_rel.clone() else {
                return cerr(
                    400,
                    "required",
                    "Required field 'resource.network' not specified",
                );
            };
            let prefix = body["prefixLength"].as_u64().unwrap_or(0);
            if !(8..=29).contains(&prefix) {
                return invalid_field(
                    "resource.prefixLength",
                    &prefix.to_string(),
                    "Prefix length must be between 8 and 29.",
                );
            }
            let taken = network_ranges(&st, &net_project, &net_name);
            let range = match body["address"].as_str() {
                Some(a) => match Cidr::parse(&format!("{a}/{prefix}")) {
                    Some(c) => c,
                    None => {
                        return invalid_field(
                            "resource.address",
                            a,
                            "The address is not the start of a range of that prefix length.",
                        )
                    }
                },
                None => match allocate(&taken, prefix as u8) {
                    Some(c) => c,
                    None => {
                        return cerr(
                            400,
                            "ipSpaceExhausted",
                            "No free range of that size in 10.0.0.0/8.",
                        )
                    }
                },
            };
            if let Some(clash) = taken.iter().find(|c| c.overlaps(range)) {
                return cerr(400, "invalid", format!("Invalid IPCidrRange: {range} conflicts with {clash} in network '{net_name}'."));
            }
            addr["address"] = json!(ipv4(range.start));
        } else if addr.get("address").is_none_or(Value::is_null) {
            st.counter += 1;
            let n = st.counter;
            addr["address"] = json!(if address_type == "EXTERNAL" {
                format!(
                    "34.{}.{}.{}",
                    100 + (n / 65_536) % 100,
                    (n / 256) % 256,
                    n % 256
                )
            } else {
                format!("10.250.{}.{}", (n / 256) % 256, n % 256)
            });
        }
        let id = st.next_id();
        let op = match self.start_op(&mut st, project, scope, "insert", &rel, &id) {
            Ok(op) => op,
            Err(e) => return e,
        };
        addr["kind"] = json!("compute#address");
        addr["id"] = json!(id);
        addr["creationTimestamp"] = json!(now_rfc3339());
        addr["selfLink"] = json!(self.link(&rel));
        addr["addressType"] = json!(address_type);
        addr["status"] = json!("RESERVED");
        if address_type == "EXTERNAL" && addr.get("networkTier").is_none_or(Value::is_null) {
            addr["networkTier"] = json!("PREMIUM");
        }
        if let Scope::Region(r) = scope {
            addr["region"] = json!(self.link(&format!("projects/{project}/regions/{r}")));
        }
        set_label_fingerprint(&mut addr);
        match scope {
            Scope::Global => st
                .global_addresses
                .insert((project.to_owned(), name.to_owned()), addr),
            Scope::Region(r) => st
                .addresses
                .insert((project.to_owned(), r.to_owned(), name.to_owned()), addr),
        };
        GcpAnswer::ok(op)
    }

    /// `DELETE .../addresses/{a}`: refused while in use.
    fn delete_address(&self, project: &str, scope: Scope<'_>, name: &str) -> GcpAnswer {
        let rel = Self::rel(project, "addresses", scope, name);
        let mut st = self.lock();
        let Some(addr) = Self::lookup(&st, project, "addresses", scope, name) else {
            return not_found(&rel);
        };
        if let Some(user) = addr["users"]
            .as_array()
            .and_then(|u| u.first())
            .and_then(Value::as_str)
        {
            let user = user.strip_prefix(&self.base).unwrap_or(user).to_owned();
            return in_use("address", &rel, &user);
        }
        let id = addr["id"].as_str().unwrap_or_default().to_owned();
        let op = match self.start_op(&mut st, project, scope, "delete", &rel, &id) {
            Ok(op) => op,
            Err(e) => return e,
        };
        match scope {
            Scope::Global => st
                .global_addresses
                .remove(&(project.to_owned(), name.to_owned())),
            Scope::Region(r) => {
                st.addresses
                    .remove(&(project.to_owned(), r.to_owned(), name.to_owned()))
            }
        };
        GcpAnswer::ok(op)
    }

    /// `POST .../addresses/{a}/setLabels` (`labels`, `labelFingerprint`).
    fn set_labels(&self, project: &str, scope: Scope<'_>, name: &str, body: &Value) -> GcpAnswer {
        let rel = Self::rel(project, "addresses", scope, name);
        let mut st = self.lock();
        let Some(mut addr) = Self::lookup(&st, project, "addresses", scope, name) else {
            return not_found(&rel);
        };
        let Some(sent) = body["labelFingerprint"].as_str() else {
            return cerr(
                400,
                "required",
                "Required field 'labelFingerprint' not specified",
            );
        };
        if Some(sent) != addr["labelFingerprint"].as_str() {
            return cerr(
                412,
                "conditionNotMet",
                "Labels fingerprint either invalid or resource labels have changed",
            );
        }
        let labels = body.get("labels").cloned().unwrap_or(json!({}));
        if !labels.is_object() {
            return invalid_field("labels", &labels.to_string(), "Labels must be a map.");
        }
        let id = addr["id"].as_str().unwrap_or_default().to_owned();
        let op = match self.start_op(&mut st, project, scope, "setLabels", &rel, &id) {
            Ok(op) => op,
            Err(e) => return e,
        };
        addr["labels"] = labels;
        set_label_fingerprint(&mut addr);
        match scope {
            Scope::Global => st
                .global_addresses
                .insert((project.to_owned(), name.to_owned()), addr),
            Scope::Region(r) => st
                .addresses
                .insert((project.to_owned(), r.to_owned(), name.to_owned()), addr),
        };
        GcpAnswer::ok(op)
    }

    /// Everything it holds, as JSON.
    pub(crate) fn dump(&self) -> Value {
        let st = self.lock();
        let values = |it: Vec<&Value>| Value::Array(it.into_iter().cloned().collect());
        json!({
            "networks": values(st.networks.values().collect()),
            "subnetworks": values(st.subnetworks.values().collect()),
            "routers": values(st.routers.values().collect()),
            "addresses": values(st.addresses.values().collect()),
            "globalAddresses": values(st.global_addresses.values().collect()),
            "operations": values(st.operations.values().collect()),
        })
    }
}

/// The `kind` stem of a collection (`networks` → `network`).
fn collection_kind(collection: &str) -> &'static str {
    match collection {
        "networks" => "network",
        "subnetworks" => "subnetwork",
        "routers" => "router",
        _ => "address",
    }
}

/// Marks an operation done.
fn finish(op: &mut Value) {
    op["status"] = json!("DONE");
    op["progress"] = json!(100);
    op["endTime"] = json!(now_rfc3339());
}

/// Adds or replaces `peering` (by name) in `net.peerings`.
fn put_peering(net: &mut Value, peering: Value) {
    if !net["peerings"].is_array() {
        net["peerings"] = json!([]);
    }
    if let Some(list) = net["peerings"].as_array_mut() {
        list.retain(|p| p["name"] != peering["name"]);
        list.push(peering);
    }
}

/// Adds `item` to the string array `obj[field]` unless there.
fn push_unique(obj: &mut Value, field: &str, item: &str) {
    if !obj[field].is_array() {
        obj[field] = json!([]);
    }
    if let Some(list) = obj[field].as_array_mut() {
        if !list.iter().any(|v| v.as_str() == Some(item)) {
            list.push(json!(item));
        }
    }
}

/// Removes `item` from the string array `obj[field]` (and the field when empty).
fn remove_from(obj: &mut Value, field: &str, item: &str) {
    let empty = match obj[field].as_array_mut() {
        Some(list) => {
            list.retain(|v| v.as_str() != Some(item));
            list.is_empty()
        }
        None => false,
    };
    if empty {
        if let Some(o) = obj.as_object_mut() {
            o.remove(field);
        }
    }
}

/// Sets `labelFingerprint` from `labels`.
fn set_label_fingerprint(obj: &mut Value) {
    let labels = obj.get("labels").cloned().unwrap_or(Value::Null);
    let empty = labels.as_object().is_none_or(Map::is_empty);
    obj["labelFingerprint"] = json!(if empty {
        EMPTY_LABEL_FINGERPRINT.to_owned()
    } else {
        fingerprint(&labels)
    });
}

/// Every IPv4 range of a subnetwork (primary and secondary).
fn subnet_ranges(sub: &Value) -> Vec<(String, Cidr)> {
    let mut out = Vec::new();
    if let Some(c) = sub["ipCidrRange"].as_str().and_then(Cidr::parse) {
        out.push(("primary".to_owned(), c));
    }
    for r in sub["secondaryIpRanges"].as_array().into_iter().flatten() {
        if let Some(c) = r["ipCidrRange"].as_str().and_then(Cidr::parse) {
            out.push((r["rangeName"].as_str().unwrap_or_default().to_owned(), c));
        }
    }
    out
}

/// The range a `VPC_PEERING` global address allocates.
fn address_range(addr: &Value) -> Option<Cidr> {
    let len = addr["prefixLength"].as_u64()?;
    Cidr::parse(&format!("{}/{len}", addr["address"].as_str()?))
}

/// Every range used in a network: subnetworks' and allocated peering ranges.
fn network_ranges(st: &State, project: &str, network: &str) -> Vec<Cidr> {
    let on_net = |v: &Value| {
        v["network"]
            .as_str()
            .and_then(|n| parse_ref(n, "networks", project, None))
            .is_some_and(|r| r.project == project && r.name == network)
    };
    let mut out: Vec<Cidr> = st
        .subnetworks
        .iter()
        .filter(|((p, _, _), v)| p == project && on_net(v))
        .flat_map(|(_, v)| subnet_ranges(v).into_iter().map(|(_, c)| c))
        .collect();
    out.extend(
        st.global_addresses
            .iter()
            .filter(|((p, _), v)| p == project && on_net(v))
            .filter_map(|(_, v)| address_range(v)),
    );
    out
}

/// The first free range of `prefix` in 10.0.0.0/8 (from 10.100.0.0 on).
fn allocate(taken: &[Cidr], prefix: u8) -> Option<Cidr> {
    let size = 1u64 << (32 - u32::from(prefix));
    let start = u64::from(u32::from_be_bytes([10, 100, 0, 0]));
    let end = u64::from(u32::from_be_bytes([11, 0, 0, 0]));
    let mut at = start.div_ceil(size) * size;
    while at + size <= end {
        let candidate = Cidr {
            start: at as u32,
            len: prefix,
        };
        if !taken.iter().any(|t| t.overlaps(candidate)) {
            return Some(candidate);
        }
        at += size;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gcp::resources::ResourceRef;

    #[test]
    fn references_in_every_form() {
        let want = |p: &str, n: &str| ResourceRef {
            project: p.into(),
            region: None,
            name: n.into(),
        };
        assert_eq!(
            parse_ref(
                "https://www.googleapis.com/compute/v1/projects/a/global/networks/n",
                "networks",
                "d",
                None
            ),
            Some(want("a", "n"))
        );
        assert_eq!(
            parse_ref("projects/a/global/networks/n", "networks", "d", None),
            Some(want("a", "n"))
        );
        assert_eq!(
            parse_ref(
                "projects/123456789012/global/networks/n",
                "networks",
                "d",
                None
            ),
            Some(want("d", "n"))
        );
        assert_eq!(
            parse_ref("global/networks/n", "networks", "d", None),
            Some(want("d", "n"))
        );
        assert_eq!(parse_ref("n", "networks", "d", None), Some(want("d", "n")));
        let sub = parse_ref(
            "regions/europe-west2/subnetworks/s",
            "subnetworks",
            "d",
            None,
        )
        .expect("parsed");
        assert_eq!(sub.region.as_deref(), Some("europe-west2"));
    }

    #[test]
    fn cidrs_and_filters() {
        let a = Cidr::parse("10.0.0.0/20").expect("valid");
        assert!(Cidr::parse("10.0.0.1/20").is_none());
        assert!(a.overlaps(Cidr::parse("10.0.8.0/24").expect("valid")));
        assert!(!a.overlaps(Cidr::parse("10.0.16.0/24").expect("valid")));
        assert_eq!(
            allocate(&[], 16).map(|c| c.to_string()).as_deref(),
            Some("10.100.0.0/16")
        );
        let zone = json!({"name": "europe-west2-a", "region": "http://x/compute/v1/projects/p/regions/europe-west2"});
        assert!(filter_matches(
            &zone,
            r#"region eq ".*/regions/europe-west2""#
        ));
        assert!(!filter_matches(
            &zone,
            r#"region eq ".*/regions/europe-west1""#
        ));
        assert!(filter_matches(&zone, "name eq europe-west2-a"));
        assert!(filter_matches(
            &zone,
            r#"region eq ".*\beurope\-west2\b.*""#
        ));
        assert!(filter_matches(
            &zone,
            r#"(name = "europe-west2-a") AND (region eq .*europe.*)"#
        ));
        assert_eq!(zone_region("us-central1-f"), Some("us-central1"));
    }
}
