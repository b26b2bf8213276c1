//! GKE stand-in (`/v1/projects/{p}/locations/{l}/clusters[...]`): clusters with
//! their node pools, their long-running operations, and `serverConfig`.
//!
//! A cluster keeps every field the client sent, with the outputs filled in; its
//! status is `PROVISIONING` (create), `RECONCILING` (update) or `STOPPING`
//! (delete) until its operation has been polled `operation_polls` times, then
//! `RUNNING` (or gone). One operation at a time per cluster (node pool
//! operations count on their cluster): a second mutation is refused with 400
//! `FAILED_PRECONDITION` "Cluster is running incompatible operation ...".
//! Validation errors are synchronous 400s with Google's error shape.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::config::GcpFakeConfig;
use super::http::{GcpAnswer, GcpRequest};
use super::ops::Operations;
use super::peers::Peers;
use super::resources::{parse_ref, region_zones, zone_region, Cidr};
use super::util::{fingerprint, hex_tag, last_segment, merge_patch, now_rfc3339, valid_name};

/// The GKE versions offered, oldest first: (minor, full version).
const VERSIONS: [(u32, &str); 5] = [
    (29, "1.29.15-gke.1000000"),
    (30, "1.30.12-gke.1000000"),
    (31, "1.31.8-gke.1000000"),
    (32, "1.32.4-gke.1000000"),
    (33, "1.33.1-gke.1000000"),
];

/// The newest offered version.
fn newest_version() -> &'static str {
    VERSIONS[VERSIONS.len() - 1].1
}

/// The minor of a version (`1.31.8-gke.1000000` → 31).
fn minor_of(version: &str) -> Option<u32> {
    let mut parts = version.split('.');
    (parts.next()? == "1").then_some(())?;
    let minor = parts.next()?;
    minor.split('-').next()?.parse().ok()
}

/// Resolves a requested version: `""`, `latest` or `-` → `current` when given
/// (else the newest), `1.31` → the offered `1.31.x`, a full `1.31.x-gke.y` of an
/// offered minor as given.
fn resolve_version(requested: &str, current: Option<&str>) -> Result<String, String> {
    let requested = requested.trim();
    if requested.is_empty() || requested == "-" {
        return Ok(current.unwrap_or(newest_version()).to_owned());
    }
    if requested == "latest" {
        return Ok(newest_version().to_owned());
    }
    let minor =
        minor_of(requested).ok_or_else(|| format!("Version \"{requested}\" is invalid."))?;
    let offered = VERSIONS
        .iter()
        .find(|(m, _)| *m == minor)
        .ok_or_else(|| format!("Version \"{requested}\" is unsupported."))?;
    if requested.split('.').count() == 2 {
        Ok(offered.1.to_owned())
    } else {
        Ok(requested.to_owned())
    }
}

/// Orders two versions by their numeric parts (`1.31.8-gke.1000000`).
fn version_key(version: &str) -> Vec<u64> {
    version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Turns proto enum numbers into their names where the API has enums, as the
/// Rust client may send either.
fn normalize_enums(value: &mut Value, parent: &str) {
    const DATAPATH: &[&str] = &[
        "DATAPATH_PROVIDER_UNSPECIFIED",
        "LEGACY_DATAPATH",
        "ADVANCED_DATAPATH",
    ];
    const CHANNEL: &[&str] = &["UNSPECIFIED", "RAPID", "REGULAR", "STABLE", "EXTENDED"];
    const EFFECT: &[&str] = &[
        "EFFECT_UNSPECIFIED",
        "NO_SCHEDULE",
        "PREFER_NO_SCHEDULE",
        "NO_EXECUTE",
    ];
    const DB_STATE: &[&str] = &["UNKNOWN", "ENCRYPTED", "DECRYPTED"];
    const LOCATION_POLICY: &[&str] = &["LOCATION_POLICY_UNSPECIFIED", "BALANCED", "ANY"];
    const STRATEGY: &[&str] = &[
        "NODE_POOL_UPDATE_STRATEGY_UNSPECIFIED",
        "",
        "BLUE_GREEN",
        "SURGE",
    ];
    const WI_MODE: &[&str] = &["MODE_UNSPECIFIED", "GCE_METADATA", "GKE_METADATA"];
    const STACK: &[&str] = &["STACK_TYPE_UNSPECIFIED", "IPV4", "IPV4_IPV6"];
    const LOGGING: &[&str] = &[
        "COMPONENT_UNSPECIFIED",
        "SYSTEM_COMPONENTS",
        "WORKLOADS",
        "APISERVER",
        "SCHEDULER",
        "CONTROLLER_MANAGER",
        "",
        "KCP_SSHD",
        "KCP_CONNECTION",
        "KCP_HPA",
    ];
    const MONITORING: &[&str] = &[
        "COMPONENT_UNSPECIFIED",
        "SYSTEM_COMPONENTS",
        "",
        "APISERVER",
        "SCHEDULER",
        "CONTROLLER_MANAGER",
        "",
        "STORAGE",
        "HPA",
        "POD",
        "DAEMONSET",
        "DEPLOYMENT",
        "STATEFULSET",
        "CADVISOR",
        "KUBELET",
        "DCGM",
    ];
    let table = |key: &str, parent: &str| -> Option<&'static [&'static str]> {
        Some(match (key, parent) {
            ("datapathProvider" | "desiredDatapathProvider", _) => DATAPATH,
            ("channel", _) => CHANNEL,
            ("effect", _) => EFFECT,
            ("state", "databaseEncryption" | "desiredDatabaseEncryption") => DB_STATE,
            ("locationPolicy", _) => LOCATION_POLICY,
            ("strategy", _) => STRATEGY,
            ("mode", "workloadMetadataConfig") => WI_MODE,
            ("stackType", _) => STACK,
            _ => return None,
        })
    };
    let name = |t: &[&str], n: &Value| -> Option<Value> {
        let i = usize::try_from(n.as_u64()?).ok()?;
        t.get(i).filter(|s| !s.is_empty()).map(|s| json!(s))
    };
    match value {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                if child.is_number() {
                    if let Some(named) = table(k, parent).and_then(|t| name(t, child)) {
                        *child = named;
                    }
                } else if k == "enableComponents" {
                    let t = if parent.contains("onitoring") {
                        MONITORING
                    } else {
                        LOGGING
                    };
                    for item in child.as_array_mut().into_iter().flatten() {
                        if let Some(named) = name(t, item) {
                            *item = named;
                        }
                    }
                } else {
                    normalize_enums(child, k);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                normalize_enums(item, parent);
            }
        }
        _ => {}
    }
}

/// A GKE error.
fn err(code: u16, status: &str, message: impl Into<String>) -> GcpAnswer {
    GcpAnswer::error(code, status, message)
}

/// 404 for `what` (`projects/p/locations/l/clusters/c`).
fn not_found(what: &str) -> GcpAnswer {
    err(404, "NOT_FOUND", format!("Not found: {what}."))
}

/// What finishing an operation does.
#[derive(Clone, Debug)]
enum Finish {
    /// The cluster (and its provisioning pools) becomes `RUNNING`.
    ClusterRunning,
    /// The cluster is removed.
    ClusterDeleted,
    /// The node pool and the cluster become `RUNNING`.
    PoolRunning(String),
    /// The node pool is removed.
    PoolDeleted(String),
}

/// One operation.
#[derive(Clone, Debug)]
struct OpRecord {
    /// The cluster's key.
    cluster: (String, String, String),
    /// The operation as served.
    json: Value,
    /// What happens when it is done.
    finish: Finish,
    /// Whether `finish` was applied.
    finished: bool,
}

/// The service's objects.
#[derive(Debug, Default)]
struct State {
    /// Clusters (node pools inline) by (project, location, name).
    clusters: BTreeMap<(String, String, String), Value>,
    /// Operations by name.
    operations: BTreeMap<String, OpRecord>,
    /// Counter behind addresses and ids.
    counter: u64,
}

/// What Compute says about a cluster's network, looked up before locking GKE.
#[derive(Debug, Default)]
struct NetInfo {
    /// The network's name.
    network: String,
    /// The network's JSON, when it exists.
    network_json: Option<Value>,
    /// The subnetwork's name (empty: none sent).
    subnetwork: String,
    /// The subnetwork's JSON, when it exists.
    subnetwork_json: Option<Value>,
}

/// The GKE stand-in.
#[derive(Debug)]
pub(crate) struct Gke {
    /// Base of self-links: `http://127.0.0.1:PORT/v1/`.
    base: String,
    /// Base of Compute links: `http://127.0.0.1:PORT/compute/v1/`.
    compute_base: String,
    /// Projects, down zones, the project number.
    config: GcpFakeConfig,
    /// Operation progress (target: the cluster's path).
    ops: Operations,
    /// The objects.
    state: Mutex<State>,
}

impl Gke {
    /// An empty service; self-links use `config.port`.
    pub(crate) fn new(config: &GcpFakeConfig) -> Self {
        Self {
            base: format!("http://127.0.0.1:{}/v1/", config.port),
            compute_base: format!("http://127.0.0.1:{}/compute/v1/", config.port),
            config: config.clone(),
            ops: Operations::new(config.operation_polls),
            state: Mutex::new(State::default()),
        }
    }

    /// Locks the objects.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Answers `req` when its path is `/v1/projects/{p}/locations/{l}/clusters...`,
    /// `.../operations...` or `.../serverConfig`.
    pub(crate) fn handle(&self, peers: &dyn Peers, req: &GcpRequest) -> Option<GcpAnswer> {
        let segs = req.segments();
        let ["v1", "projects", project, "locations", location, rest @ ..] = segs.as_slice() else {
            return None;
        };
        let is_ours = matches!(
            rest.first().map(|s| s.split(':').next().unwrap_or(s)),
            Some("clusters" | "operations" | "serverConfig")
        );
        if !is_ours {
            return None;
        }
        if !self.config.has_project(project) {
            return Some(err(
                403,
                "PERMISSION_DENIED",
                format!("Permission denied on resource project {project}."),
            ));
        }
        if *location != "-" && region_of(location).is_none() {
            return Some(err(
                400,
                "INVALID_ARGUMENT",
                format!("Location \"{location}\" is not a valid location."),
            ));
        }
        let m = req.method.as_str();
        let mut body = req.body.clone();
        normalize_enums(&mut body, "");
        let split = |s: &str| -> (String, String) {
            let (a, b) = s.split_once(':').unwrap_or((s, ""));
            (a.to_owned(), b.to_owned())
        };
        let answer = match (m, rest) {
            ("GET", ["serverConfig"]) => server_config(),
            ("GET", ["operations"]) => self.list_ops(project, location),
            ("GET", ["operations", op]) => self.get_op(project, location, op),
            ("GET", ["clusters"]) => self.list_clusters(project, location),
            ("POST", ["clusters"]) => self.create_cluster(peers, project, location, &body),
            (_, ["clusters", last]) => {
                let (cluster, verb) = split(last);
                match (m, verb.as_str()) {
                    ("GET", "") => self.get_cluster(project, location, &cluster),
                    ("DELETE", "") => self.delete_cluster(project, location, &cluster),
                    ("PUT", "") | ("POST", "update") => {
                        self.update_cluster(project, location, &cluster, &body)
                    }
                    ("POST", "setResourceLabels") => {
                        self.set_resource_labels(project, location, &cluster, &body)
                    }
                    ("POST", "setMaintenancePolicy") => {
                        self.set_maintenance_policy(project, location, &cluster, &body)
                    }
                    _ => err(
                        404,
                        "NOT_FOUND",
                        format!("paved-gcp-fake does not model {m} {}", req.path),
                    ),
                }
            }
            ("GET", ["clusters", cluster, "nodePools"]) => {
                self.list_pools(project, location, cluster)
            }
            ("POST", ["clusters", cluster, "nodePools"]) => {
                self.create_pool(project, location, cluster, &body)
            }
            (_, ["clusters", cluster, "nodePools", last]) => {
                let (pool, verb) = split(last);
                match (m, verb.as_str()) {
                    ("GET", "") => self.get_pool(project, location, cluster, &pool),
                    ("DELETE", "") => self.delete_pool(project, location, cluster, &pool),
                    ("PUT", "") | ("POST", "update") => {
                        self.update_pool(project, location, cluster, &pool, &body)
                    }
                    ("POST", "setAutoscaling") => {
                        self.pool_call(project, location, cluster, &pool, "setAutoscaling", &body)
                    }
                    ("POST", "setManagement") => {
                        self.pool_call(project, location, cluster, &pool, "setManagement", &body)
                    }
                    ("POST", "setSize") => {
                        self.pool_call(project, location, cluster, &pool, "setSize", &body)
                    }
                    _ => err(
                        404,
                        "NOT_FOUND",
                        format!("paved-gcp-fake does not model {m} {}", req.path),
                    ),
                }
            }
            _ => return None,
        };
        Some(answer)
    }

    // ----- reads -----

    /// A cluster as `GET` answers it.
    pub(crate) fn cluster_json(&self, project: &str, location: &str, name: &str) -> Option<Value> {
        self.lock()
            .clusters
            .get(&key(project, location, name))
            .cloned()
    }

    /// The first cluster using subnetwork `name` of `region`, with the secondary
    /// ranges it uses (Compute refuses to delete or shrink what it uses).
    pub(crate) fn subnetwork_user(
        &self,
        project: &str,
        region: &str,
        name: &str,
    ) -> Option<(String, Vec<String>)> {
        let st = self.lock();
        st.clusters.iter().find_map(|((p, l, c), cluster)| {
            let sub = cluster["networkConfig"]["subnetwork"].as_str()?;
            let r = parse_ref(sub, "subnetworks", p, None)?;
            let matches = p == project && r.name == name && r.region.as_deref() == Some(region);
            matches.then(|| {
                let policy = &cluster["ipAllocationPolicy"];
                let ranges = ["clusterSecondaryRangeName", "servicesSecondaryRangeName"]
                    .iter()
                    .filter_map(|f| policy[*f].as_str().map(str::to_owned))
                    .collect();
                (format!("projects/{p}/locations/{l}/clusters/{c}"), ranges)
            })
        })
    }

    /// `GET .../clusters/{c}`.
    fn get_cluster(&self, project: &str, location: &str, name: &str) -> GcpAnswer {
        self.cluster_json(project, location, name)
            .map(GcpAnswer::ok)
            .unwrap_or_else(|| not_found(&cluster_rel(project, location, name)))
    }

    /// `GET .../clusters` (`-`: every location).
    fn list_clusters(&self, project: &str, location: &str) -> GcpAnswer {
        let st = self.lock();
        let clusters: Vec<Value> = st
            .clusters
            .iter()
            .filter(|((p, l, _), _)| p == project && (location == "-" || l == location))
            .map(|(_, c)| c.clone())
            .collect();
        if clusters.is_empty() {
            return GcpAnswer::ok(json!({}));
        }
        GcpAnswer::ok(json!({ "clusters": clusters }))
    }

    /// `GET .../clusters/{c}/nodePools`.
    fn list_pools(&self, project: &str, location: &str, cluster: &str) -> GcpAnswer {
        match self.cluster_json(project, location, cluster) {
            Some(c) => match c
                .get("nodePools")
                .filter(|p| p.as_array().is_some_and(|a| !a.is_empty()))
            {
                Some(pools) => GcpAnswer::ok(json!({ "nodePools": pools })),
                None => GcpAnswer::ok(json!({})),
            },
            None => not_found(&cluster_rel(project, location, cluster)),
        }
    }

    /// `GET .../nodePools/{np}`.
    fn get_pool(&self, project: &str, location: &str, cluster: &str, pool: &str) -> GcpAnswer {
        let Some(c) = self.cluster_json(project, location, cluster) else {
            return not_found(&cluster_rel(project, location, cluster));
        };
        find_pool(&c, pool)
            .cloned()
            .map(GcpAnswer::ok)
            .unwrap_or_else(|| {
                not_found(&format!(
                    "{}/nodePools/{pool}",
                    cluster_rel(project, location, cluster)
                ))
            })
    }

    // ----- operations -----

    /// Starts an operation on the cluster at `k` and records it.
    fn start_op(
        &self,
        st: &mut State,
        k: &(String, String, String),
        op_type: &str,
        target_rel: &str,
        finish: Finish,
    ) -> Result<Value, GcpAnswer> {
        let (project, location, cluster) = k;
        let name = self
            .ops
            .start(&cluster_rel(project, location, cluster))
            .map_err(|busy| {
                err(
                    400,
                    "FAILED_PRECONDITION",
                    format!(
                        "Cluster is running incompatible operation {}.",
                        busy.running
                    ),
                )
            })?;
        let json = json!({
            "name": name,
            "zone": location,
            "location": location,
            "operationType": op_type,
            "status": "RUNNING",
            "selfLink": self.link(&format!("projects/{}/locations/{location}/operations/{name}", self.config.project_number)),
            "targetLink": self.link(target_rel),
            "startTime": now_rfc3339(),
        });
        st.operations.insert(
            name.clone(),
            OpRecord {
                cluster: k.clone(),
                json,
                finish,
                finished: false,
            },
        );
        if self.ops.is_done(&name) == Some(true) {
            finish_op(st, &name);
        }
        Ok(st
            .operations
            .get(&name)
            .map(|r| r.json.clone())
            .unwrap_or(Value::Null))
    }

    /// `GET .../operations/{op}`: one poll.
    fn get_op(&self, project: &str, location: &str, name: &str) -> GcpAnswer {
        let done = self.ops.poll(name);
        let mut st = self.lock();
        let found = st.operations.get(name).is_some_and(|r| {
            r.cluster.0 == project && (location == "-" || r.cluster.1 == location)
        });
        if !found {
            return not_found(&format!(
                "projects/{project}/locations/{location}/operations/{name}"
            ));
        }
        if done == Some(true) {
            finish_op(&mut st, name);
        }
        GcpAnswer::ok(
            st.operations
                .get(name)
                .map(|r| r.json.clone())
                .unwrap_or(Value::Null),
        )
    }

    /// `GET .../operations` (without polling).
    fn list_ops(&self, project: &str, location: &str) -> GcpAnswer {
        let st = self.lock();
        let ops: Vec<Value> = st
            .operations
            .values()
            .filter(|r| r.cluster.0 == project && (location == "-" || r.cluster.1 == location))
            .map(|r| r.json.clone())
            .collect();
        GcpAnswer::ok(json!({ "operations": ops }))
    }

    /// The full URL of `rel` under `/v1/`.
    fn link(&self, rel: &str) -> String {
        format!("{}{rel}", self.base)
    }

    // ----- clusters -----

    /// Looks up the cluster's network and subnetwork in Compute (before GKE's lock).
    fn net_info(&self, peers: &dyn Peers, project: &str, region: &str, cluster: &Value) -> NetInfo {
        let net_text = cluster["network"]
            .as_str()
            .or(cluster["networkConfig"]["network"].as_str())
            .unwrap_or("default");
        let network = parse_ref(net_text, "networks", project, None)
            .map(|r| r.name)
            .unwrap_or_else(|| "default".to_owned());
        let sub_text = cluster["subnetwork"]
            .as_str()
            .or(cluster["networkConfig"]["subnetwork"].as_str())
            .unwrap_or("");
        let subnetwork = parse_ref(sub_text, "subnetworks", project, Some(region))
            .map(|r| r.name)
            .unwrap_or_default();
        NetInfo {
            network_json: peers.network_json(project, &network),
            subnetwork_json: (!subnetwork.is_empty())
                .then(|| peers.subnetwork(project, region, &subnetwork))
                .flatten(),
            network,
            subnetwork,
        }
    }

    /// `POST .../clusters` (`{"cluster": {...}}`).
    fn create_cluster(
        &self,
        peers: &dyn Peers,
        project: &str,
        location: &str,
        body: &Value,
    ) -> GcpAnswer {
        let Some(mut cluster) = body.get("cluster").filter(|c| c.is_object()).cloned() else {
            return err(400, "INVALID_ARGUMENT", "Cluster is required.");
        };
        if location == "-" {
            return err(
                400,
                "INVALID_ARGUMENT",
                "Location \"-\" is not a valid location for a new cluster.",
            );
        }
        let name = cluster["name"].as_str().unwrap_or_default().to_owned();
        if !valid_name(&name, 40) {
            return err(400, "INVALID_ARGUMENT", format!("Invalid value for field \"cluster.name\": \"{name}\". Cluster name must be at most 40 characters long and match regex '(?:[a-z](?:[-a-z0-9]{{0,38}}[a-z0-9])?)'."));
        }
        let region = region_of(location).unwrap_or_default();
        let info = self.net_info(peers, project, &region, &cluster);
        let k = key(project, location, &name);
        let rel = cluster_rel(project, location, &name);
        let mut st = self.lock();
        if st.clusters.contains_key(&k) {
            return err(409, "ALREADY_EXISTS", format!("Already exists: {rel}."));
        }
        if let Err(e) = self
            .fill_cluster(&mut st, project, location, &region, &info, &mut cluster)
            .and_then(|()| check_key_access(peers, &cluster))
        {
            return e;
        }
        let op = match self.start_op(&mut st, &k, "CREATE_CLUSTER", &rel, Finish::ClusterRunning) {
            Ok(op) => op,
            Err(e) => return e,
        };
        st.clusters.insert(k.clone(), cluster);
        if st
            .operations
            .get(op["name"].as_str().unwrap_or_default())
            .is_some_and(|r| r.finished)
        {
            // Done at once (no polls): apply what the operation finished.
            if let Some(c) = st.clusters.get_mut(&k) {
                set_running(c, None);
            }
        }
        GcpAnswer::ok(op)
    }

    /// Validates a new cluster and fills its outputs and node pools.
    fn fill_cluster(
        &self,
        st: &mut State,
        project: &str,
        location: &str,
        region: &str,
        info: &NetInfo,
        cluster: &mut Value,
    ) -> Result<(), GcpAnswer> {
        let invalid = |m: String| err(400, "INVALID_ARGUMENT", m);
        let name = cluster["name"].as_str().unwrap_or_default().to_owned();
        // Locations.
        let locations = match cluster["locations"].as_array().filter(|l| !l.is_empty()) {
            Some(list) => {
                let zones: Vec<String> = list
                    .iter()
                    .filter_map(|z| z.as_str().map(str::to_owned))
                    .collect();
                self.check_zones(region, &zones)?;
                zones
            }
            None if location == region => {
                let zones: Vec<String> = region_zones(region)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|z| self.zone_up(z))
                    .take(3)
                    .collect();
                if zones.is_empty() {
                    return Err(err(
                        400,
                        "FAILED_PRECONDITION",
                        format!("No zone of region {region} is available."),
                    ));
                }
                zones
            }
            None => {
                self.check_zones(region, &[location.to_owned()])?;
                vec![location.to_owned()]
            }
        };
        // Network and subnetwork.
        let Some(network_json) = &info.network_json else {
            return Err(invalid(format!(
                "Network \"{}\" does not exist.",
                info.network
            )));
        };
        let custom_mode = network_json["autoCreateSubnetworks"] != true;
        if info.subnetwork.is_empty() && custom_mode {
            return Err(invalid(format!(
                "Subnetwork must be specified for custom mode network \"{}\".",
                info.network
            )));
        }
        let subnet = match (&info.subnetwork_json, info.subnetwork.is_empty()) {
            (Some(s), _) => Some(s.clone()),
            (None, true) => None,
            (None, false) => {
                return Err(invalid(format!("Subnetwork \"projects/{project}/regions/{region}/subnetworks/{}\" does not exist.", info.subnetwork)));
            }
        };
        if let Some(s) = &subnet {
            if last_segment(s["network"].as_str().unwrap_or_default()) != info.network {
                return Err(invalid(format!(
                    "Subnetwork \"{}\" does not belong to network \"{}\".",
                    info.subnetwork, info.network
                )));
            }
        }
        // IP allocation.
        let mut policy = cluster
            .get("ipAllocationPolicy")
            .cloned()
            .unwrap_or(json!({}));
        let mut pods_cidr = None;
        let mut services_cidr = None;
        if policy["useIpAliases"] == true {
            for (field, out) in [
                ("clusterSecondaryRangeName", &mut pods_cidr),
                ("servicesSecondaryRangeName", &mut services_cidr),
            ] {
                let Some(range) = policy[field].as_str() else {
                    continue;
                };
                let found = subnet.as_ref().and_then(|s| {
                    s["secondaryIpRanges"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|r| r["rangeName"].as_str() == Some(range))
                        .and_then(|r| r["ipCidrRange"].as_str().map(str::to_owned))
                });
                match found {
                    Some(cidr) => *out = Some(cidr),
                    None => {
                        return Err(invalid(format!(
                            "Retrieving secondary range \"{range}\" of subnetwork \"{}\": the subnetwork has no secondary range of that name.",
                            info.subnetwork
                        )))
                    }
                }
            }
            st.counter += 1;
            let n = st.counter % 50;
            let pods = pods_cidr
                .clone()
                .unwrap_or_else(|| format!("10.{}.0.0/14", 64 + 4 * n));
            let svcs = services_cidr
                .clone()
                .unwrap_or_else(|| format!("34.118.{}.0/20", (n * 16) % 256));
            policy["clusterIpv4Cidr"] = json!(pods);
            policy["clusterIpv4CidrBlock"] = json!(pods);
            policy["servicesIpv4Cidr"] = json!(svcs);
            policy["servicesIpv4CidrBlock"] = json!(svcs);
            policy["stackType"] = policy.get("stackType").cloned().unwrap_or(json!("IPV4"));
            cluster["clusterIpv4Cidr"] = json!(pods);
            cluster["servicesIpv4Cidr"] = json!(svcs);
            cluster["ipAllocationPolicy"] = policy;
        } else if policy.as_object().is_some_and(|p| !p.is_empty()) {
            cluster["ipAllocationPolicy"] = policy;
        }
        // Version.
        let master = resolve_version(
            cluster["initialClusterVersion"].as_str().unwrap_or(""),
            None,
        )
        .map_err(|m| invalid(format!("Master version unsupported: {m}")))?;
        // Node pools.
        let autopilot = cluster["autopilot"]["enabled"] == true;
        let pools_sent = cluster["nodePools"]
            .as_array()
            .is_some_and(|p| !p.is_empty());
        let initial = cluster["initialNodeCount"].as_i64().unwrap_or(0);
        if pools_sent && initial > 0 {
            return Err(invalid(
                "Cannot specify both cluster.initial_node_count and cluster.node_pools.".into(),
            ));
        }
        if !pools_sent && !autopilot {
            if initial <= 0 {
                return Err(invalid(
                    "Cluster.initial_node_count must be greater than zero.".into(),
                ));
            }
            let mut pool = json!({"name": "default-pool", "initialNodeCount": initial});
            if let Some(config) = cluster.get("nodeConfig").filter(|c| c.is_object()) {
                pool["config"] = config.clone();
            }
            cluster["nodePools"] = json!([pool]);
        }
        let mut pool_names: Vec<String> = Vec::new();
        let pods_range = cluster["ipAllocationPolicy"]["clusterSecondaryRangeName"].clone();
        let pods_block = cluster["ipAllocationPolicy"]["clusterIpv4CidrBlock"].clone();
        let mut pools = cluster["nodePools"].as_array().cloned().unwrap_or_default();
        for pool in &mut pools {
            let pool_name = pool["name"].as_str().unwrap_or_default().to_owned();
            if pool_names.contains(&pool_name) {
                return Err(invalid(format!(
                    "Node pool names must be unique: \"{pool_name}\"."
                )));
            }
            pool_names.push(pool_name);
            self.fill_pool(project, location, region, &name, &master, &locations, pool)?;
            if !pods_range.is_null() && pool["networkConfig"]["podRange"].is_null() {
                pool["networkConfig"]["podRange"] = pods_range.clone();
                pool["networkConfig"]["podIpv4CidrBlock"] = pods_block.clone();
            }
        }
        if !pools.is_empty() {
            cluster["nodePools"] = Value::Array(pools);
        }
        // Encryption at rest of Secrets.
        let mut db = cluster
            .get("databaseEncryption")
            .cloned()
            .unwrap_or(json!({"state": "DECRYPTED"}));
        check_database_encryption(&mut db)?;
        cluster["databaseEncryption"] = db;
        // Workload Identity.
        if let Some(pool) = cluster["workloadIdentityConfig"]["workloadPool"].as_str() {
            if pool != format!("{project}.svc.id.goog") {
                return Err(invalid(format!("Workload Identity pool \"{pool}\" is invalid: it must be \"{project}.svc.id.goog\".")));
            }
        }
        // Private cluster.
        st.counter += 1;
        let n = st.counter;
        let mut private_endpoint = format!("10.255.{}.2", n % 256);
        if let Some(block) = cluster["privateClusterConfig"]["masterIpv4CidrBlock"].as_str() {
            let Some(cidr) = Cidr::parse(block).filter(|c| c.len == 28) else {
                return Err(invalid(format!("Invalid master authorized CIDR block \"{block}\": it must be a /28 network range.")));
            };
            private_endpoint = ipv4_add(cidr.start, 2);
        }
        let public_endpoint = format!("203.0.113.{}", 10 + n % 240);
        let private_only = cluster["privateClusterConfig"]["enablePrivateEndpoint"] == true;
        if cluster["privateClusterConfig"].is_object() {
            cluster["privateClusterConfig"]["privateEndpoint"] = json!(private_endpoint);
            if !private_only {
                cluster["privateClusterConfig"]["publicEndpoint"] = json!(public_endpoint);
            }
        }
        // Outputs.
        let number = self.config.project_number;
        let rel = cluster_rel(project, location, &name);
        let now = now_rfc3339();
        cluster["selfLink"] = json!(self.link(&rel));
        cluster["id"] = json!(format!(
            "{}{}{}{}",
            hex_tag(&rel, 16),
            hex_tag(&now, 16),
            hex_tag(&format!("{rel}1"), 16),
            hex_tag(&format!("{now}2"), 16)
        ));
        cluster["location"] = json!(location);
        cluster["zone"] = json!(location);
        cluster["locations"] = json!(locations);
        cluster["createTime"] = json!(now);
        cluster["status"] = json!("PROVISIONING");
        cluster["currentMasterVersion"] = json!(master);
        if cluster["initialClusterVersion"]
            .as_str()
            .is_none_or(|v| v.is_empty() || v == "-" || v == "latest")
        {
            cluster["initialClusterVersion"] = json!(master);
        }
        cluster["endpoint"] = json!(if private_only {
            &private_endpoint
        } else {
            &public_endpoint
        });
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            base64::engine::general_purpose::STANDARD
                .encode(format!("paved-gcp-fake CA for {rel} {now}"))
        );
        cluster["masterAuth"]["clusterCaCertificate"] =
            json!(base64::engine::general_purpose::STANDARD.encode(pem));
        cluster["network"] = json!(info.network);
        cluster["networkConfig"]["network"] = json!(format!(
            "projects/{project}/global/networks/{}",
            info.network
        ));
        if let Some(s) = &subnet {
            let sname = s["name"].as_str().unwrap_or_default();
            cluster["subnetwork"] = json!(sname);
            cluster["networkConfig"]["subnetwork"] = json!(format!(
                "projects/{project}/regions/{region}/subnetworks/{sname}"
            ));
        }
        let dns = format!("gke-{}-{}.{region}.gke.goog", hex_tag(&rel, 16), number);
        let cpec = &mut cluster["controlPlaneEndpointsConfig"];
        cpec["dnsEndpointConfig"]["endpoint"] = json!(dns);
        if cpec["dnsEndpointConfig"]["allowExternalTraffic"].is_null() {
            cpec["dnsEndpointConfig"]["allowExternalTraffic"] = json!(false);
        }
        let ip = &mut cpec["ipEndpointsConfig"];
        if ip["enabled"].is_null() {
            ip["enabled"] = json!(true);
        }
        ip["privateEndpoint"] = json!(private_endpoint);
        if !private_only {
            ip["publicEndpoint"] = json!(public_endpoint);
        }
        if ip["enablePublicEndpoint"].is_null() {
            ip["enablePublicEndpoint"] = json!(!private_only);
        }
        let defaults = [
            ("releaseChannel", json!({"channel": "REGULAR"})),
            ("shieldedNodes", json!({"enabled": true})),
            (
                "loggingConfig",
                json!({"componentConfig": {"enableComponents": ["SYSTEM_COMPONENTS", "WORKLOADS"]}}),
            ),
            (
                "monitoringConfig",
                json!({"componentConfig": {"enableComponents": ["SYSTEM_COMPONENTS"]}}),
            ),
            ("legacyAbac", json!({})),
            ("nodeIpv4CidrSize", json!(24)),
        ];
        for (k, v) in defaults {
            if cluster.get(k).is_none_or(Value::is_null) {
                cluster[k] = v;
            }
        }
        if cluster["releaseChannel"]["channel"].is_null() {
            cluster["releaseChannel"]["channel"] = json!("REGULAR");
        }
        if cluster["maintenancePolicy"].is_object() {
            let rv = fingerprint(&cluster["maintenancePolicy"]);
            cluster["maintenancePolicy"]["resourceVersion"] = json!(hex_tag(&rv, 8));
        }
        if let Some(obj) = cluster.as_object_mut() {
            obj.remove("nodeConfig");
        }
        refresh_cluster(cluster);
        Ok(())
    }

    /// Whether `zone` is known and not configured down.
    fn zone_up(&self, zone: &str) -> bool {
        zone_region(zone).is_some() && !self.config.down_zones.iter().any(|z| z == zone)
    }

    /// Checks that `zones` are zones of `region` and up.
    fn check_zones(&self, region: &str, zones: &[String]) -> Result<(), GcpAnswer> {
        for zone in zones {
            if zone_region(zone) != Some(region) {
                return Err(err(
                    400,
                    "INVALID_ARGUMENT",
                    format!("Location \"{zone}\" is not a zone of region \"{region}\"."),
                ));
            }
            if !self.zone_up(zone) {
                return Err(err(
                    400,
                    "FAILED_PRECONDITION",
                    format!("Zone \"{zone}\" is not available (status DOWN)."),
                ));
            }
        }
        Ok(())
    }

    /// Validates a node pool and fills its defaults and outputs.
    #[allow(clippy::too_many_arguments)]
    fn fill_pool(
        &self,
        project: &str,
        location: &str,
        region: &str,
        cluster: &str,
        master: &str,
        cluster_locations: &[String],
        pool: &mut Value,
    ) -> Result<(), GcpAnswer> {
        let invalid = |m: String| err(400, "INVALID_ARGUMENT", m);
        let name = pool["name"].as_str().unwrap_or_default().to_owned();
        if !valid_name(&name, 40) {
            return Err(invalid(format!("Invalid value for field \"node_pool.name\": \"{name}\". Node pool name must be at most 40 characters long and match regex '(?:[a-z](?:[-a-z0-9]{{0,38}}[a-z0-9])?)'.")));
        }
        let autoscaling_on = pool["autoscaling"]["enabled"] == true;
        let count = pool["initialNodeCount"].as_i64().unwrap_or(0);
        if count < 0 || (count == 0 && !autoscaling_on) {
            return Err(invalid(format!(
                "Node pool \"{name}\": initial_node_count must be greater than zero."
            )));
        }
        check_autoscaling(&pool["autoscaling"])?;
        let locations: Vec<String> = match pool["locations"].as_array().filter(|l| !l.is_empty()) {
            Some(list) => {
                let zones: Vec<String> = list
                    .iter()
                    .filter_map(|z| z.as_str().map(str::to_owned))
                    .collect();
                self.check_zones(region, &zones)?;
                zones
            }
            None => cluster_locations.to_vec(),
        };
        let version = resolve_version(pool["version"].as_str().unwrap_or(""), Some(master))
            .map_err(|m| invalid(format!("Node version unsupported: {m}")))?;
        check_skew(master, &version)?;
        let config = &mut pool["config"];
        for (k, v) in [
            ("machineType", json!("e2-medium")),
            ("diskSizeGb", json!(100)),
            ("diskType", json!("pd-balanced")),
            ("imageType", json!("COS_CONTAINERD")),
            ("serviceAccount", json!("default")),
            (
                "oauthScopes",
                json!(["https://www.googleapis.com/auth/cloud-platform"]),
            ),
            ("metadata", json!({"disable-legacy-endpoints": "true"})),
        ] {
            if config.get(k).is_none_or(Value::is_null) {
                config[k] = v;
            }
        }
        check_taints(&config["taints"])?;
        if pool["management"].is_null() {
            pool["management"] = json!({"autoUpgrade": true, "autoRepair": true});
        }
        if pool["upgradeSettings"].is_null() {
            pool["upgradeSettings"] = json!({"maxSurge": 1, "strategy": "SURGE"});
        }
        let rel = format!(
            "{}/nodePools/{name}",
            cluster_rel(project, location, cluster)
        );
        let tag = hex_tag(&rel, 8);
        pool["locations"] = json!(locations);
        pool["version"] = json!(version);
        pool["status"] = json!("PROVISIONING");
        pool["selfLink"] = json!(self.link(&rel));
        pool["podIpv4CidrSize"] = pool
            .get("maxPodsConstraint")
            .map_or(json!(24), |_| json!(24));
        pool["instanceGroupUrls"] = json!(locations
            .iter()
            .map(|z| format!("{}projects/{project}/zones/{z}/instanceGroupManagers/gke-{cluster}-{name}-{tag}-grp", self.compute_base))
            .collect::<Vec<_>>());
        pool["etag"] = json!(hex_tag(&format!("{rel}{}", now_rfc3339()), 16));
        Ok(())
    }

    /// Runs `f` on the cluster at `k` (404 when absent), then starts an operation
    /// of `op_type` unless `f` refused; `f` returns the operation's finish.
    fn mutate(
        &self,
        project: &str,
        location: &str,
        cluster: &str,
        op_type: &str,
        target_rel: Option<String>,
        f: impl FnOnce(&mut Value) -> Result<Finish, GcpAnswer>,
    ) -> GcpAnswer {
        let k = key(project, location, cluster);
        let rel = cluster_rel(project, location, cluster);
        let mut st = self.lock();
        let Some(mut next) = st.clusters.get(&k).cloned() else {
            return not_found(&rel);
        };
        // Refuse before changing anything when an operation runs.
        if let Some(running) = st
            .operations
            .iter()
            .find(|(n, r)| r.cluster == k && !r.finished && self.ops.is_done(n) == Some(false))
            .map(|(n, _)| n.clone())
        {
            return err(
                400,
                "FAILED_PRECONDITION",
                format!("Cluster is running incompatible operation {running}."),
            );
        }
        let finish = match f(&mut next) {
            Ok(finish) => finish,
            Err(e) => return e,
        };
        let target = target_rel.unwrap_or(rel);
        let op = match self.start_op(&mut st, &k, op_type, &target, finish) {
            Ok(op) => op,
            Err(e) => return e,
        };
        let op_name = op["name"].as_str().unwrap_or_default().to_owned();
        let done = st.operations.get(&op_name).is_some_and(|r| r.finished);
        refresh_cluster(&mut next);
        st.clusters.insert(k.clone(), next);
        if done {
            // Re-apply the finish on the stored cluster (it was applied before insert).
            if let Some(record) = st.operations.get_mut(&op_name) {
                record.finished = false;
            }
            finish_op(&mut st, &op_name);
        }
        GcpAnswer::ok(op)
    }

    /// `DELETE .../clusters/{c}`.
    fn delete_cluster(&self, project: &str, location: &str, cluster: &str) -> GcpAnswer {
        self.mutate(project, location, cluster, "DELETE_CLUSTER", None, |c| {
            c["status"] = json!("STOPPING");
            Ok(Finish::ClusterDeleted)
        })
    }

    /// `PUT .../clusters/{c}` (`{"update": {desired...}}`): one change at a time.
    fn update_cluster(
        &self,
        project: &str,
        location: &str,
        cluster: &str,
        body: &Value,
    ) -> GcpAnswer {
        let Some(update) = body.get("update").and_then(Value::as_object).cloned() else {
            return err(400, "INVALID_ARGUMENT", "Update is required.");
        };
        const COMPANIONS: [&str; 2] = ["desiredNodePoolId", "etag"];
        let fields: Vec<&String> = update
            .iter()
            .filter(|(k, v)| !COMPANIONS.contains(&k.as_str()) && !v.is_null())
            .map(|(k, _)| k)
            .collect();
        let field = match fields.as_slice() {
            [one] => (*one).clone(),
            [] => {
                return err(
                    400,
                    "INVALID_ARGUMENT",
                    "Update must specify a change: no desired field was set.",
                )
            }
            _ => {
                return err(
                    400,
                    "INVALID_ARGUMENT",
                    format!(
                        "At most one update can be modified at once; got {}.",
                        fields
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            }
        };
        let value = update.get(&field).cloned().unwrap_or(Value::Null);
        let pool_id = update
            .get("desiredNodePoolId")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let op_type = match field.as_str() {
            "desiredMasterVersion" => "UPGRADE_MASTER",
            "desiredNodeVersion" | "desiredImageType" => "UPGRADE_NODES",
            _ => "UPDATE_CLUSTER",
        };
        let location_owned = location.to_owned();
        self.mutate(project, location, cluster, op_type, None, move |c| {
            let invalid = |m: String| err(400, "INVALID_ARGUMENT", m);
            match field.as_str() {
                "desiredMasterVersion" => {
                    let current = c["currentMasterVersion"].as_str().unwrap_or_default().to_owned();
                    let wanted = resolve_version(value.as_str().unwrap_or_default(), None).map_err(&invalid)?;
                    let (from, to) = (minor_of(&current).unwrap_or(0), minor_of(&wanted).unwrap_or(0));
                    if version_key(&wanted) < version_key(&current) {
                        return Err(err(400, "FAILED_PRECONDITION", format!("Master cannot be downgraded from \"{current}\" to \"{wanted}\".")));
                    }
                    if to > from + 1 {
                        return Err(err(400, "FAILED_PRECONDITION", format!("Master cannot be upgraded to \"{wanted}\" from \"{current}\": only one minor version at a time is allowed (next: 1.{}).", from + 1)));
                    }
                    c["currentMasterVersion"] = json!(wanted);
                    c["status"] = json!("RECONCILING");
                    Ok(Finish::ClusterRunning)
                }
                "desiredNodeVersion" | "desiredImageType" | "desiredNodePoolAutoscaling" => {
                    let pools = c["nodePools"].as_array().map(Vec::len).unwrap_or(0);
                    let pool_name = match (&pool_id, pools) {
                        (Some(p), _) => p.clone(),
                        (None, 1) => c["nodePools"][0]["name"].as_str().unwrap_or_default().to_owned(),
                        _ => return Err(invalid(format!("{field} requires desiredNodePoolId when the cluster has {pools} node pools."))),
                    };
                    let master = c["currentMasterVersion"].as_str().unwrap_or_default().to_owned();
                    let rel = format!("{}/nodePools/{pool_name}", c["selfLink"].as_str().unwrap_or_default());
                    let Some(pool) = find_pool_mut(c, &pool_name) else {
                        return Err(not_found(&rel));
                    };
                    match field.as_str() {
                        "desiredNodeVersion" => {
                            let v = resolve_version(value.as_str().unwrap_or_default(), Some(&master)).map_err(&invalid)?;
                            check_skew(&master, &v)?;
                            pool["version"] = json!(v);
                        }
                        "desiredImageType" => pool["config"]["imageType"] = value.clone(),
                        _ => {
                            check_autoscaling(&value)?;
                            pool["autoscaling"] = value.clone();
                        }
                    }
                    pool["status"] = json!("RECONCILING");
                    Ok(Finish::PoolRunning(pool_name))
                }
                "desiredDatabaseEncryption" => {
                    let mut db = value.clone();
                    check_database_encryption(&mut db)?;
                    c["databaseEncryption"] = db;
                    c["status"] = json!("RECONCILING");
                    Ok(Finish::ClusterRunning)
                }
                "desiredControlPlaneEndpointsConfig" => {
                    let mut merged = c["controlPlaneEndpointsConfig"].clone();
                    merge_patch(&mut merged, &value);
                    // The endpoints themselves are outputs.
                    merged["dnsEndpointConfig"]["endpoint"] = c["controlPlaneEndpointsConfig"]["dnsEndpointConfig"]["endpoint"].clone();
                    c["controlPlaneEndpointsConfig"] = merged;
                    if let Some(anc) = value["ipEndpointsConfig"].get("authorizedNetworksConfig") {
                        c["masterAuthorizedNetworksConfig"] = anc.clone();
                    }
                    c["status"] = json!("RECONCILING");
                    Ok(Finish::ClusterRunning)
                }
                "desiredMasterAuthorizedNetworksConfig" => {
                    c["masterAuthorizedNetworksConfig"] = value.clone();
                    c["controlPlaneEndpointsConfig"]["ipEndpointsConfig"]["authorizedNetworksConfig"] = value.clone();
                    c["status"] = json!("RECONCILING");
                    Ok(Finish::ClusterRunning)
                }
                "desiredLocations" => {
                    let zones: Vec<String> = value.as_array().into_iter().flatten().filter_map(|z| z.as_str().map(str::to_owned)).collect();
                    let region = region_of(&location_owned).unwrap_or_default();
                    for zone in &zones {
                        if zone_region(zone) != Some(region.as_str()) {
                            return Err(invalid(format!("Location \"{zone}\" is not a zone of region \"{region}\".")));
                        }
                    }
                    c["locations"] = json!(zones);
                    c["status"] = json!("RECONCILING");
                    Ok(Finish::ClusterRunning)
                }
                other => {
                    // Generic: `desiredFooBar` replaces `fooBar`.
                    let stem = other.strip_prefix("desired").unwrap_or(other);
                    let mut chars = stem.chars();
                    let target = match chars.next() {
                        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                        None => return Err(invalid(format!("Unknown update field {other}."))),
                    };
                    if target == "datapathProvider" {
                        c["networkConfig"]["datapathProvider"] = value.clone();
                    } else {
                        c[target.as_str()] = value.clone();
                    }
                    c["status"] = json!("RECONCILING");
                    Ok(Finish::ClusterRunning)
                }
            }
        })
    }

    /// `POST .../clusters/{c}:setResourceLabels` (`resourceLabels`,
    /// `labelFingerprint`). A missing or stale fingerprint is refused with 400
    /// `FAILED_PRECONDITION`.
    fn set_resource_labels(
        &self,
        project: &str,
        location: &str,
        cluster: &str,
        body: &Value,
    ) -> GcpAnswer {
        let labels = body.get("resourceLabels").cloned().unwrap_or(json!({}));
        let sent = body["labelFingerprint"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        self.mutate(project, location, cluster, "SET_LABELS", None, move |c| {
            if !labels.is_object() {
                return Err(err(400, "INVALID_ARGUMENT", "resourceLabels must be a map."));
            }
            if c["labelFingerprint"].as_str() != Some(sent.as_str()) {
                return Err(err(400, "FAILED_PRECONDITION", format!("Labels could not be set due to fingerprint mismatch: \"{sent}\" is not the current fingerprint.")));
            }
            c["resourceLabels"] = labels;
            Ok(Finish::ClusterRunning)
        })
    }

    /// `POST .../clusters/{c}:setMaintenancePolicy` (`maintenancePolicy`, with
    /// `resourceVersion` checked when sent).
    fn set_maintenance_policy(
        &self,
        project: &str,
        location: &str,
        cluster: &str,
        body: &Value,
    ) -> GcpAnswer {
        let policy = body
            .get("maintenancePolicy")
            .cloned()
            .unwrap_or(Value::Null);
        self.mutate(project, location, cluster, "SET_MAINTENANCE_POLICY", None, move |c| {
            if !policy.is_object() {
                return Err(err(400, "INVALID_ARGUMENT", "maintenancePolicy is required."));
            }
            let current_rv = c["maintenancePolicy"]["resourceVersion"].as_str().unwrap_or_default().to_owned();
            if let Some(sent) = policy["resourceVersion"].as_str().filter(|s| !s.is_empty()) {
                if sent != current_rv {
                    return Err(err(400, "FAILED_PRECONDITION", format!("The maintenance policy's resourceVersion \"{sent}\" is stale (current: \"{current_rv}\").")));
                }
            }
            let mut next = policy.clone();
            if let Some(obj) = next.as_object_mut() {
                obj.remove("resourceVersion");
            }
            let rv = hex_tag(&format!("{}{}", fingerprint(&next), now_rfc3339()), 8);
            next["resourceVersion"] = json!(rv);
            c["maintenancePolicy"] = next;
            Ok(Finish::ClusterRunning)
        })
    }

    // ----- node pools -----

    /// `POST .../clusters/{c}/nodePools` (`{"nodePool": {...}}`).
    fn create_pool(&self, project: &str, location: &str, cluster: &str, body: &Value) -> GcpAnswer {
        let Some(mut pool) = body.get("nodePool").filter(|p| p.is_object()).cloned() else {
            return err(400, "INVALID_ARGUMENT", "Node pool is required.");
        };
        let name = pool["name"].as_str().unwrap_or_default().to_owned();
        let rel = format!(
            "{}/nodePools/{name}",
            cluster_rel(project, location, cluster)
        );
        let region = region_of(location).unwrap_or_default();
        self.mutate(
            project,
            location,
            cluster,
            "CREATE_NODE_POOL",
            Some(rel.clone()),
            |c| {
                if find_pool(c, &name).is_some() {
                    return Err(err(
                        409,
                        "ALREADY_EXISTS",
                        format!("Already exists: {rel}."),
                    ));
                }
                let master = c["currentMasterVersion"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let locations: Vec<String> = c["locations"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|z| z.as_str().map(str::to_owned))
                    .collect();
                self.fill_pool(
                    project, location, &region, cluster, &master, &locations, &mut pool,
                )?;
                if let Some(range) = c["ipAllocationPolicy"]["clusterSecondaryRangeName"].as_str() {
                    if pool["networkConfig"]["podRange"].is_null() {
                        pool["networkConfig"]["podRange"] = json!(range);
                        pool["networkConfig"]["podIpv4CidrBlock"] =
                            c["ipAllocationPolicy"]["clusterIpv4CidrBlock"].clone();
                    }
                }
                if !c["nodePools"].is_array() {
                    c["nodePools"] = json!([]);
                }
                if let Some(list) = c["nodePools"].as_array_mut() {
                    list.push(pool);
                }
                Ok(Finish::PoolRunning(name.clone()))
            },
        )
    }

    /// `DELETE .../nodePools/{np}`.
    fn delete_pool(&self, project: &str, location: &str, cluster: &str, pool: &str) -> GcpAnswer {
        let rel = format!(
            "{}/nodePools/{pool}",
            cluster_rel(project, location, cluster)
        );
        self.mutate(
            project,
            location,
            cluster,
            "DELETE_NODE_POOL",
            Some(rel.clone()),
            |c| {
                let Some(p) = find_pool_mut(c, pool) else {
                    return Err(not_found(&rel));
                };
                p["status"] = json!("STOPPING");
                Ok(Finish::PoolDeleted(pool.to_owned()))
            },
        )
    }

    /// `PUT .../nodePools/{np}`: version, image type, locations, labels, taints,
    /// network config, disk and machine type, resource labels, tags and the
    /// other node config blocks.
    fn update_pool(
        &self,
        project: &str,
        location: &str,
        cluster: &str,
        pool: &str,
        body: &Value,
    ) -> GcpAnswer {
        let rel = format!(
            "{}/nodePools/{pool}",
            cluster_rel(project, location, cluster)
        );
        let region = region_of(location).unwrap_or_default();
        let version_change = body["nodeVersion"].as_str().is_some_and(|v| !v.is_empty())
            || body["imageType"]
                .as_str()
                .is_some_and(|v| !v.is_empty() && v != "-");
        let op_type = if version_change {
            "UPGRADE_NODES"
        } else {
            "UPDATE_CLUSTER"
        };
        let body = body.clone();
        self.mutate(project, location, cluster, op_type, Some(rel.clone()), |c| {
            let master = c["currentMasterVersion"].as_str().unwrap_or_default().to_owned();
            let Some(p) = find_pool_mut(c, pool) else {
                return Err(not_found(&rel));
            };
            if let Some(v) = body["nodeVersion"].as_str().filter(|v| !v.is_empty()) {
                let current = p["version"].as_str().unwrap_or_default().to_owned();
                let wanted = resolve_version(v, Some(&master)).map_err(|m| err(400, "INVALID_ARGUMENT", m))?;
                check_skew(&master, &wanted)?;
                if version_key(&wanted) < version_key(&current) && minor_of(&wanted) != minor_of(&current) {
                    return Err(err(400, "FAILED_PRECONDITION", format!("Node pool cannot be downgraded from \"{current}\" to \"{wanted}\".")));
                }
                p["version"] = json!(wanted);
            }
            if let Some(t) = body["imageType"].as_str().filter(|t| !t.is_empty() && *t != "-") {
                p["config"]["imageType"] = json!(t);
            }
            if let Some(zones) = body["locations"].as_array().filter(|l| !l.is_empty()) {
                let zones: Vec<String> = zones.iter().filter_map(|z| z.as_str().map(str::to_owned)).collect();
                self.check_zones(&region, &zones)?;
                p["locations"] = json!(zones);
            }
            if let Some(labels) = body.get("labels").filter(|l| l.is_object()) {
                p["config"]["labels"] = labels.get("labels").cloned().unwrap_or(json!({}));
            }
            if let Some(taints) = body.get("taints").filter(|t| t.is_object()) {
                let list = taints.get("taints").cloned().unwrap_or(json!([]));
                check_taints(&list)?;
                p["config"]["taints"] = list;
            }
            if let Some(labels) = body.get("resourceLabels").filter(|l| l.is_object()) {
                p["config"]["resourceLabels"] = labels.get("labels").cloned().unwrap_or(json!({}));
            }
            if let Some(tags) = body.get("tags").filter(|t| t.is_object()) {
                p["config"]["tags"] = tags.get("tags").cloned().unwrap_or(json!([]));
            }
            if let Some(nc) = body.get("nodeNetworkConfig").filter(|n| n.is_object()) {
                merge_patch(&mut p["networkConfig"], nc);
            }
            if let Some(us) = body.get("upgradeSettings").filter(|n| n.is_object()) {
                merge_patch(&mut p["upgradeSettings"], us);
            }
            for field in ["diskSizeGb", "diskType", "machineType", "kubeletConfig", "linuxNodeConfig", "workloadMetadataConfig", "gcfsConfig", "gvnic", "loggingConfig", "confidentialNodes", "fastSocket", "resourceManagerTags", "windowsNodeConfig", "accelerators", "storagePools", "containerdConfig"] {
                if let Some(v) = body.get(field).filter(|v| !v.is_null()) {
                    p["config"][field] = v.clone();
                }
            }
            p["status"] = json!("RECONCILING");
            p["etag"] = json!(hex_tag(&format!("{rel}{}", now_rfc3339()), 16));
            Ok(Finish::PoolRunning(pool.to_owned()))
        })
    }

    /// `POST .../nodePools/{np}:setAutoscaling`, `:setManagement`, `:setSize`.
    fn pool_call(
        &self,
        project: &str,
        location: &str,
        cluster: &str,
        pool: &str,
        verb: &str,
        body: &Value,
    ) -> GcpAnswer {
        let rel = format!(
            "{}/nodePools/{pool}",
            cluster_rel(project, location, cluster)
        );
        let op_type = match verb {
            "setManagement" => "SET_NODE_POOL_MANAGEMENT",
            "setSize" => "SET_NODE_POOL_SIZE",
            _ => "UPDATE_CLUSTER",
        };
        let body = body.clone();
        self.mutate(
            project,
            location,
            cluster,
            op_type,
            Some(rel.clone()),
            |c| {
                let Some(p) = find_pool_mut(c, pool) else {
                    return Err(not_found(&rel));
                };
                match verb {
                    "setAutoscaling" => {
                        let a = body.get("autoscaling").cloned().unwrap_or(Value::Null);
                        check_autoscaling(&a)?;
                        p["autoscaling"] = a;
                    }
                    "setManagement" => {
                        let m = body.get("management").cloned().unwrap_or(Value::Null);
                        if !m.is_object() {
                            return Err(err(400, "INVALID_ARGUMENT", "management is required."));
                        }
                        p["management"] = m;
                    }
                    _ => {
                        let Some(n) = body["nodeCount"].as_i64().filter(|n| *n >= 0) else {
                            return Err(err(
                                400,
                                "INVALID_ARGUMENT",
                                "nodeCount must be a non-negative number.",
                            ));
                        };
                        p["initialNodeCount"] = json!(n);
                    }
                }
                p["status"] = json!("RECONCILING");
                Ok(Finish::PoolRunning(pool.to_owned()))
            },
        )
    }

    /// Everything it holds, as JSON.
    pub(crate) fn dump(&self) -> Value {
        let st = self.lock();
        json!({
            "clusters": st.clusters.values().cloned().collect::<Vec<_>>(),
            "operations": st.operations.values().map(|r| r.json.clone()).collect::<Vec<_>>(),
        })
    }
}

/// The map key of a cluster.
fn key(project: &str, location: &str, name: &str) -> (String, String, String) {
    (project.to_owned(), location.to_owned(), name.to_owned())
}

/// `projects/p/locations/l/clusters/c`.
fn cluster_rel(project: &str, location: &str, name: &str) -> String {
    format!("projects/{project}/locations/{location}/clusters/{name}")
}

/// The region of a location (a region or a zone) the stand-in knows.
fn region_of(location: &str) -> Option<String> {
    if region_zones(location).is_some() {
        return Some(location.to_owned());
    }
    zone_region(location).map(str::to_owned)
}

/// `a + n` as a dotted address.
fn ipv4_add(a: u32, n: u32) -> String {
    let b = a.wrapping_add(n).to_be_bytes();
    format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])
}

/// The node pool named `name`.
fn find_pool<'a>(cluster: &'a Value, name: &str) -> Option<&'a Value> {
    cluster["nodePools"]
        .as_array()?
        .iter()
        .find(|p| p["name"].as_str() == Some(name))
}

/// The node pool named `name`, mutable.
fn find_pool_mut<'a>(cluster: &'a mut Value, name: &str) -> Option<&'a mut Value> {
    cluster
        .get_mut("nodePools")?
        .as_array_mut()?
        .iter_mut()
        .find(|p| p["name"].as_str() == Some(name))
}

/// Refuses a node version above the master's or more than two minors behind.
fn check_skew(master: &str, node: &str) -> Result<(), GcpAnswer> {
    let (m, n) = (minor_of(master).unwrap_or(0), minor_of(node).unwrap_or(0));
    if version_key(node) > version_key(master) {
        return Err(err(
            400,
            "INVALID_ARGUMENT",
            format!(
                "Node version \"{node}\" must not be newer than the master version \"{master}\"."
            ),
        ));
    }
    if n + 2 < m {
        return Err(err(400, "INVALID_ARGUMENT", format!("Node version \"{node}\" is more than two minor versions older than the master version \"{master}\".")));
    }
    Ok(())
}

/// Checks an autoscaling block: min ≤ max, total and per-zone limits not mixed.
fn check_autoscaling(a: &Value) -> Result<(), GcpAnswer> {
    if a.is_null() {
        return Ok(());
    }
    if !a.is_object() {
        return Err(err(
            400,
            "INVALID_ARGUMENT",
            "autoscaling must be an object.",
        ));
    }
    let num = |k: &str| a[k].as_i64();
    let per_zone = num("minNodeCount").is_some() || num("maxNodeCount").is_some();
    let total = num("totalMinNodeCount").is_some() || num("totalMaxNodeCount").is_some();
    if per_zone && total {
        return Err(err(400, "INVALID_ARGUMENT", "Autoscaling cannot set both per-zone (min/maxNodeCount) and total (totalMin/totalMaxNodeCount) limits."));
    }
    for (lo, hi) in [
        ("minNodeCount", "maxNodeCount"),
        ("totalMinNodeCount", "totalMaxNodeCount"),
    ] {
        if let (Some(l), Some(h)) = (num(lo), num(hi)) {
            if l < 0 || l > h {
                return Err(err(
                    400,
                    "INVALID_ARGUMENT",
                    format!("Autoscaling {lo} ({l}) must be between 0 and {hi} ({h})."),
                ));
            }
        }
    }
    if let Some(policy) = a["locationPolicy"].as_str() {
        if !matches!(policy, "BALANCED" | "ANY" | "LOCATION_POLICY_UNSPECIFIED") {
            return Err(err(
                400,
                "INVALID_ARGUMENT",
                format!("Invalid locationPolicy \"{policy}\"."),
            ));
        }
    }
    Ok(())
}

/// Checks taints: key, value and a known effect.
fn check_taints(taints: &Value) -> Result<(), GcpAnswer> {
    for t in taints.as_array().into_iter().flatten() {
        let effect = t["effect"].as_str().unwrap_or_default();
        if t["key"].as_str().is_none_or(str::is_empty)
            || !matches!(effect, "NO_SCHEDULE" | "PREFER_NO_SCHEDULE" | "NO_EXECUTE")
        {
            return Err(err(400, "INVALID_ARGUMENT", format!("Invalid taint {t}: a key and an effect of NO_SCHEDULE, PREFER_NO_SCHEDULE or NO_EXECUTE are required.")));
        }
    }
    Ok(())
}

/// The role GKE's service agent needs on a Secrets-encryption key.
const KMS_ROLE: &str = "roles/cloudkms.cryptoKeyEncrypterDecrypter";

/// At create, a Secrets-encryption key must exist in Cloud KMS and GKE's service
/// agent must be granted its use, as the real create checks before it starts.
fn check_key_access(peers: &dyn Peers, cluster: &Value) -> Result<(), GcpAnswer> {
    let db = &cluster["databaseEncryption"];
    if db["state"].as_str() != Some("ENCRYPTED") {
        return Ok(());
    }
    let key = db["keyName"].as_str().unwrap_or_default();
    if !peers.key_exists(key) {
        return Err(err(
            400,
            "FAILED_PRECONDITION",
            format!("Cloud KMS key \"{key}\" does not exist or is not accessible."),
        ));
    }
    let agent = format!(
        "serviceAccount:service-{}@container-engine-robot.iam.gserviceaccount.com",
        peers.config().project_number
    );
    if !peers.key_role(key, &agent, KMS_ROLE) {
        return Err(err(
            400,
            "FAILED_PRECONDITION",
            format!(
                "The Kubernetes Engine service agent {} lacks permission to use Cloud KMS key \"{key}\"; grant it {KMS_ROLE}.",
                agent.trim_start_matches("serviceAccount:")
            ),
        ));
    }
    Ok(())
}

/// Checks a `databaseEncryption` block and fills `currentState`.
fn check_database_encryption(db: &mut Value) -> Result<(), GcpAnswer> {
    let state = db["state"].as_str().unwrap_or("DECRYPTED").to_owned();
    match state.as_str() {
        "ENCRYPTED" => {
            let key = db["keyName"].as_str().unwrap_or_default();
            let parts: Vec<&str> = key.split('/').collect();
            let shaped = matches!(
                parts.as_slice(),
                [
                    "projects",
                    _,
                    "locations",
                    _,
                    "keyRings",
                    _,
                    "cryptoKeys",
                    _
                ]
            );
            if !shaped {
                return Err(err(400, "INVALID_ARGUMENT", format!("Invalid databaseEncryption.keyName \"{key}\": expected projects/*/locations/*/keyRings/*/cryptoKeys/*.")));
            }
            db["currentState"] = json!("CURRENT_STATE_ENCRYPTED");
        }
        "DECRYPTED" | "UNKNOWN" => {
            db["state"] = json!("DECRYPTED");
            db["currentState"] = json!("CURRENT_STATE_DECRYPTED");
        }
        other => {
            return Err(err(
                400,
                "INVALID_ARGUMENT",
                format!("Invalid databaseEncryption.state \"{other}\"."),
            ));
        }
    }
    Ok(())
}

/// Recomputes a cluster's derived fields: `currentNodeVersion` (the oldest
/// pool's), `currentNodeCount`, `labelFingerprint`, `etag`.
fn refresh_cluster(c: &mut Value) {
    let pools = c["nodePools"].as_array().cloned().unwrap_or_default();
    let oldest = pools
        .iter()
        .filter_map(|p| p["version"].as_str())
        .min_by_key(|v| version_key(v))
        .map(str::to_owned);
    if let Some(v) = oldest {
        c["currentNodeVersion"] = json!(v);
    }
    let nodes: i64 = pools
        .iter()
        .map(|p| {
            let zones = p["locations"].as_array().map_or(1, Vec::len) as i64;
            p["initialNodeCount"].as_i64().unwrap_or(0) * zones
        })
        .sum();
    c["currentNodeCount"] = json!(nodes);
    let labels = c.get("resourceLabels").cloned().unwrap_or(json!({}));
    let empty = labels.as_object().is_none_or(Map::is_empty);
    c["labelFingerprint"] = json!(if empty {
        "a9dc16a7".to_owned()
    } else {
        hex_tag(&fingerprint(&labels), 8)
    });
    let mut for_etag = c.clone();
    if let Some(obj) = for_etag.as_object_mut() {
        obj.remove("etag");
    }
    c["etag"] = json!(hex_tag(&for_etag.to_string(), 8));
}

/// Marks the cluster and its changing pools `RUNNING` (only `pool` when given).
fn set_running(c: &mut Value, pool: Option<&str>) {
    if matches!(c["status"].as_str(), Some("PROVISIONING" | "RECONCILING")) {
        c["status"] = json!("RUNNING");
    }
    for p in c["nodePools"].as_array_mut().into_iter().flatten() {
        let mine = pool.is_none_or(|name| p["name"].as_str() == Some(name));
        if mine && matches!(p["status"].as_str(), Some("PROVISIONING" | "RECONCILING")) {
            p["status"] = json!("RUNNING");
        }
    }
    refresh_cluster(c);
}

/// Marks operation `name` done and applies what it finishes (once).
fn finish_op(st: &mut State, name: &str) {
    let Some(record) = st.operations.get_mut(name) else {
        return;
    };
    if record.finished {
        return;
    }
    record.finished = true;
    record.json["status"] = json!("DONE");
    record.json["endTime"] = json!(now_rfc3339());
    record.json["progress"] = json!({"status": "DONE"});
    let (k, finish) = (record.cluster.clone(), record.finish.clone());
    match finish {
        Finish::ClusterDeleted => {
            st.clusters.remove(&k);
        }
        Finish::ClusterRunning => {
            if let Some(c) = st.clusters.get_mut(&k) {
                set_running(c, None);
            }
        }
        Finish::PoolRunning(pool) => {
            if let Some(c) = st.clusters.get_mut(&k) {
                set_running(c, Some(&pool));
            }
        }
        Finish::PoolDeleted(pool) => {
            if let Some(c) = st.clusters.get_mut(&k) {
                if let Some(list) = c["nodePools"].as_array_mut() {
                    list.retain(|p| p["name"].as_str() != Some(pool.as_str()));
                }
                set_running(c, None);
            }
        }
    }
}

/// `GET .../serverConfig`.
fn server_config() -> GcpAnswer {
    let versions: Vec<&str> = VERSIONS.iter().rev().map(|(_, v)| *v).collect();
    let channel = |name: &str, default: &str| json!({"channel": name, "defaultVersion": default, "validVersions": versions});
    GcpAnswer::ok(json!({
        "defaultClusterVersion": newest_version(),
        "validMasterVersions": versions,
        "validNodeVersions": versions,
        "defaultImageType": "COS_CONTAINERD",
        "validImageTypes": ["COS_CONTAINERD", "UBUNTU_CONTAINERD"],
        "channels": [
            channel("RAPID", newest_version()),
            channel("REGULAR", VERSIONS[VERSIONS.len() - 2].1),
            channel("STABLE", VERSIONS[VERSIONS.len() - 3].1),
        ],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(
            resolve_version("1.31", None).as_deref(),
            Ok("1.31.8-gke.1000000")
        );
        assert_eq!(resolve_version("", None).as_deref(), Ok(newest_version()));
        assert_eq!(
            resolve_version("-", Some("1.30.1-gke.1")).as_deref(),
            Ok("1.30.1-gke.1")
        );
        assert!(resolve_version("1.20", None).is_err());
        assert!(check_skew("1.31.8-gke.1000000", "1.29.15-gke.1000000").is_ok());
        assert!(check_skew("1.32.4-gke.1000000", "1.29.15-gke.1000000").is_err());
        assert!(check_skew("1.30.12-gke.1000000", "1.31.8-gke.1000000").is_err());
    }

    #[test]
    fn enums_sent_as_numbers_become_names() {
        let mut v = json!({"cluster": {
            "networkConfig": {"datapathProvider": 2},
            "releaseChannel": {"channel": 3},
            "databaseEncryption": {"state": 1},
            "loggingConfig": {"componentConfig": {"enableComponents": [1, 2]}},
            "nodePools": [{"config": {"taints": [{"key": "k", "effect": 1}]}}],
        }});
        normalize_enums(&mut v, "");
        let c = &v["cluster"];
        assert_eq!(c["networkConfig"]["datapathProvider"], "ADVANCED_DATAPATH");
        assert_eq!(c["releaseChannel"]["channel"], "STABLE");
        assert_eq!(c["databaseEncryption"]["state"], "ENCRYPTED");
        assert_eq!(
            c["loggingConfig"]["componentConfig"]["enableComponents"],
            json!(["SYSTEM_COMPONENTS", "WORKLOADS"])
        );
        assert_eq!(
            c["nodePools"][0]["config"]["taints"][0]["effect"],
            "NO_SCHEDULE"
        );
    }
}
