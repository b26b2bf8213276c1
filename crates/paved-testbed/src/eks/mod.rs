//! An opt-in, in-memory stand-in for the EKS calls moto lacks: add-ons and
//! version updates.
//!
//! moto 5.2.5 has EKS clusters and node groups but no add-ons,
//! UpdateClusterVersion, UpdateNodegroupVersion or DescribeUpdate. When this
//! stand-in is on ([`ProxyHandle::with_eks_extras`]), the proxy answers those
//! calls itself, in the REST-JSON wire format `aws-sdk-eks` reads, and keeps
//! moto's own answers consistent with them. Clusters and node groups stay
//! moto's: every request on a cluster first reads it from moto with a
//! `GET /clusters/{name}` (DescribeCluster) carrying the request's own headers
//! (so moto's region and account apply); this internal read is neither counted
//! nor faulted. A cluster moto does not have gives `ResourceNotFoundException`
//! (404).
//!
//! | operation | request | answer |
//! | --- | --- | --- |
//! | CreateAddon | `POST /clusters/{c}/addons` with `addonName`, optional `addonVersion` (default: the add-on's default for the cluster's minor), `serviceAccountRoleArn`, `resolveConflicts`, `configurationValues`, `tags` | 200 `{"addon"}` with status `CREATING`; 409 `ResourceInUseException` when it exists; 400 `InvalidParameterException` for an unknown add-on, a version not compatible with the cluster's minor, a role that is not an IAM role ARN, a bad `resolveConflicts`, `configurationValues` that start with `{` and are not a JSON object |
//! | DescribeAddon | `GET /clusters/{c}/addons/{a}` | 200 `{"addon"}` (`CREATING`/`UPDATING`/`DELETING` until the delay is over, then `ACTIVE` or gone); 404 |
//! | ListAddons | `GET /clusters/{c}/addons` | 200 `{"addons": [names]}`, sorted, one page |
//! | UpdateAddon | `POST /clusters/{c}/addons/{a}/update` with optional `addonVersion`, `serviceAccountRoleArn`, `resolveConflicts`, `configurationValues` | 200 `{"update"}` of type `AddonUpdate` with a param per field given; the add-on shows the new values at once and status `UPDATING` until the delay is over; 400 for an incompatible or earlier version; 409 while the add-on is not `ACTIVE`; 404 |
//! | DeleteAddon | `DELETE /clusters/{c}/addons/{a}` (`preserve` ignored) | 200 `{"addon"}` with status `DELETING`; gone after the delay; 404 |
//! | DescribeAddonVersions | `GET /addons/supported-versions` with optional `kubernetesVersion`, `addonName`, `types`, `publishers`, `owners` | 200 `{"addons": [addonInfo]}` from [`ADDON_VERSIONS`], newest version first; with `kubernetesVersion`, only compatible versions and only that minor's compatibility entry |
//! | UpdateClusterVersion | `POST /clusters/{c}/updates` with `version` | 200 `{"update"}` of type `VersionUpdate`, params `Version` and `PlatformVersion`; 400 `InvalidParameterException` for a skip of more than one minor, the same or a lower minor, a minor outside [`KUBERNETES_VERSIONS`]; 409 while a version update of the cluster runs |
//! | UpdateNodegroupVersion | `POST /clusters/{c}/node-groups/{n}/update-version` with optional `version` (default: the cluster's), `releaseVersion`, `launchTemplate` | 200 `{"update"}` of type `VersionUpdate`, params `Version`, `ReleaseVersion` (and `LaunchTemplateName`, `LaunchTemplateVersion` with a launch template); 400 for a version above the cluster's or below the node group's, a release version of another minor, a different launch template id or name, or a launch template on a node group made without one; 404 when moto has no such node group; 409 while one runs |
//! | DescribeUpdate | `GET /clusters/{c}/updates/{id}` with optional `nodegroupName` or `addonName` | 200 `{"update"}`, `InProgress` until the delay is over, then `Successful`; 404 unless the update belongs to the node group or add-on named (or to the cluster itself when none is) |
//! | ListUpdates | `GET /clusters/{c}/updates` with optional `nodegroupName` or `addonName` | 200 `{"updateIds"}` of that resource, oldest first, one page |
//! | ListTagsForResource, TagResource, UntagResource | `GET`/`POST`/`DELETE /tags/{arn}` of an add-on ARN | the add-on's tags; 404 for an unknown add-on ARN (other ARNs are forwarded to moto) |
//!
//! moto's answers are rewritten to match: a forwarded DescribeCluster
//! (`GET /clusters/{c}`) of a cluster with a version update reports the new
//! `version` and `platformVersion` once the update is `Successful`, and the old
//! ones with `status: UPDATING` while it is `InProgress`; a forwarded
//! DescribeNodegroup likewise reports `version`, `releaseVersion` and
//! `launchTemplate` (with the new version). ListClusters carries only names,
//! so there is nothing to rewrite there. A change recorded for a cluster or
//! node group that moto has since deleted and made again (another `createdAt`,
//! certificate or node group ARN) is dropped, not applied to the new one.
//!
//! The delay ([`ProxyHandle::set_eks_delay`], default 0) is how long each
//! transition takes, measured from the request that starts it; the answer to
//! that request always shows the transitional state (`CREATING`, `DELETING`,
//! `InProgress`), so a waiter gets exercised even with no delay. Deleting a
//! cluster through the proxy (a forwarded `DELETE /clusters/{name}` that moto
//! answers with 2xx) deletes its add-ons and updates. Requests the stand-in
//! answers are counted and can get faults like any other (a faulted request
//! changes nothing); they are classified with their real operation names
//! (`eks:CreateAddon`, `eks:UpdateClusterVersion`, ...) whether or not the
//! stand-in is on; the tag calls keep their REST templates (`GET /tags/{id}`),
//! as they are the same calls as for clusters and node groups. While it is off, these requests are forwarded to moto,
//! and the state is kept for when it is turned on again.
//!
//! What it does **not** model:
//! * failures: no update ends `Failed` or `Cancelled`, no add-on ends
//!   `CREATE_FAILED`/`DEGRADED`, health issues are always empty, `force` is
//!   ignored, add-ons are not checked against the running Kubernetes version
//!   after a cluster upgrade;
//! * anything running in the cluster: `resolveConflicts`, `preserve` and the
//!   service account role are recorded only; `configurationValues` are not
//!   checked against the add-on's schema (DescribeAddonConfiguration is not
//!   served), YAML values are not parsed;
//! * pod identity associations, namespace configuration, marketplace add-ons,
//!   add-ons other than the five of [`ADDON_VERSIONS`], Kubernetes minors
//!   outside [`KUBERNETES_VERSIONS`], version rollbacks, Fargate, EKS Auto Mode;
//! * pagination (`maxResults`/`nextToken` are ignored: one page), and
//!   `clientRequestToken` idempotency;
//! * separate moto accounts or regions: state is kept per cluster name, so two
//!   live clusters of the same name behind one proxy would share it (a cluster
//!   made again under a used name is recognised and starts afresh);
//! * the cluster's own `status`: only `UPDATING` during a version update is
//!   added; a cluster being created or deleted in moto is taken as it is.

pub mod addons;
pub mod updates;

use std::collections::BTreeMap;
use std::sync::MutexGuard;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hyper::Method;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

pub(crate) use crate::wire::Answer;
use crate::wire::{percent_decode, DEFAULT_REGION};
use crate::ProxyHandle;

pub use addons::{addon_versions, default_addon_version, Addon, AddonVersionRow, ADDON_VERSIONS};
pub use updates::{Update, UpdateParam, AMI_RELEASE_VERSIONS, PLATFORM_VERSIONS};

use addons::AddonState;
use updates::{NodegroupChange, UpdateState, VersionChange};

/// An EKS request the stand-in answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Operation {
    CreateAddon { cluster: String },
    ListAddons { cluster: String },
    DescribeAddon { cluster: String, addon: String },
    UpdateAddon { cluster: String, addon: String },
    DeleteAddon { cluster: String, addon: String },
    DescribeAddonVersions,
    UpdateClusterVersion { cluster: String },
    ListUpdates { cluster: String },
    DescribeUpdate { cluster: String, id: String },
    UpdateNodegroupVersion { cluster: String, nodegroup: String },
    ListTags { arn: String },
    Tag { arn: String },
    Untag { arn: String },
}

impl Operation {
    /// The operation's EKS name; `None` for the tag operations, which keep
    /// their generic REST template (they are shared with clusters and node
    /// groups, which moto serves).
    fn action(&self) -> Option<&'static str> {
        Some(match self {
            Operation::CreateAddon { .. } => "CreateAddon",
            Operation::ListAddons { .. } => "ListAddons",
            Operation::DescribeAddon { .. } => "DescribeAddon",
            Operation::UpdateAddon { .. } => "UpdateAddon",
            Operation::DeleteAddon { .. } => "DeleteAddon",
            Operation::DescribeAddonVersions => "DescribeAddonVersions",
            Operation::UpdateClusterVersion { .. } => "UpdateClusterVersion",
            Operation::ListUpdates { .. } => "ListUpdates",
            Operation::DescribeUpdate { .. } => "DescribeUpdate",
            Operation::UpdateNodegroupVersion { .. } => "UpdateNodegroupVersion",
            Operation::ListTags { .. } | Operation::Tag { .. } | Operation::Untag { .. } => {
                return None
            }
        })
    }

    /// The cluster the request is about, if any.
    fn cluster(&self) -> Option<&str> {
        match self {
            Operation::CreateAddon { cluster }
            | Operation::ListAddons { cluster }
            | Operation::DescribeAddon { cluster, .. }
            | Operation::UpdateAddon { cluster, .. }
            | Operation::DeleteAddon { cluster, .. }
            | Operation::UpdateClusterVersion { cluster }
            | Operation::ListUpdates { cluster }
            | Operation::DescribeUpdate { cluster, .. }
            | Operation::UpdateNodegroupVersion { cluster, .. } => Some(cluster),
            _ => None,
        }
    }
}

/// A path's segments, percent-decoded (`+` stays a `+` in a path); the AMP
/// stand-in's paths too.
pub(crate) fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode(&s.replace('+', "%2B")))
        .collect()
}

/// Which modelled operation a request is, if any.
pub(crate) fn route(method: &Method, path: &str) -> Option<Operation> {
    let segs = segments(path);
    let parts: Vec<&str> = segs.iter().map(String::as_str).collect();
    let s = |v: &str| v.to_owned();
    Some(match (method, parts.as_slice()) {
        (&Method::POST, ["clusters", c, "addons"]) => Operation::CreateAddon { cluster: s(c) },
        (&Method::GET, ["clusters", c, "addons"]) => Operation::ListAddons { cluster: s(c) },
        (&Method::GET, ["clusters", c, "addons", a]) => Operation::DescribeAddon {
            cluster: s(c),
            addon: s(a),
        },
        (&Method::DELETE, ["clusters", c, "addons", a]) => Operation::DeleteAddon {
            cluster: s(c),
            addon: s(a),
        },
        (&Method::POST, ["clusters", c, "addons", a, "update"]) => Operation::UpdateAddon {
            cluster: s(c),
            addon: s(a),
        },
        (&Method::GET, ["addons", "supported-versions"]) => Operation::DescribeAddonVersions,
        (&Method::POST, ["clusters", c, "updates"]) => {
            Operation::UpdateClusterVersion { cluster: s(c) }
        }
        (&Method::GET, ["clusters", c, "updates"]) => Operation::ListUpdates { cluster: s(c) },
        (&Method::GET, ["clusters", c, "updates", id]) => Operation::DescribeUpdate {
            cluster: s(c),
            id: s(id),
        },
        (&Method::POST, ["clusters", c, "node-groups", n, "update-version"]) => {
            Operation::UpdateNodegroupVersion {
                cluster: s(c),
                nodegroup: s(n),
            }
        }
        (m, ["tags", arn]) if is_addon_arn(arn) => match *m {
            Method::GET => Operation::ListTags { arn: s(arn) },
            Method::POST => Operation::Tag { arn: s(arn) },
            Method::DELETE => Operation::Untag { arn: s(arn) },
            _ => return None,
        },
        _ => return None,
    })
}

fn is_addon_arn(arn: &str) -> bool {
    arn.starts_with("arn:")
        && arn
            .split(':')
            .nth(5)
            .is_some_and(|r| r.starts_with("addon/"))
}

/// The real EKS operation name of a request the stand-in models
/// (`CreateAddon`, `UpdateClusterVersion`, ...), used to classify it.
pub fn action_name(method: &Method, path: &str) -> Option<&'static str> {
    route(method, path)?.action()
}

/// The moto paths to read before answering `op`: the cluster
/// (`/clusters/{c}`) and, for UpdateNodegroupVersion, the node group
/// (`/clusters/{c}/node-groups/{n}`), built from the request's raw path.
pub(crate) fn lookup_paths(path: &str, op: &Operation) -> (Option<String>, Option<String>) {
    let raw: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let cluster = op
        .cluster()
        .and(raw.get(1))
        .map(|c| format!("/clusters/{c}"));
    let nodegroup = match (op, raw.get(1), raw.get(3)) {
        (Operation::UpdateNodegroupVersion { .. }, Some(c), Some(n)) => {
            Some(format!("/clusters/{c}/node-groups/{n}"))
        }
        _ => None,
    };
    (cluster, nodegroup)
}

/// What moto said when asked for a cluster or node group.
#[derive(Clone, Debug)]
pub(crate) enum Lookup {
    /// 2xx with this JSON body.
    Found(Value),
    /// 404.
    Missing,
    /// Anything else: why.
    Failed(String),
}

/// A moto answer the proxy rewrites.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RewriteTarget {
    /// DescribeCluster of this cluster.
    Cluster(String),
    /// DescribeNodegroup of this cluster's node group.
    Nodegroup(String, String),
}

/// Whether a forwarded request's answer may need rewriting.
pub(crate) fn rewrite_target(method: &Method, path: &str) -> Option<RewriteTarget> {
    if method != Method::GET {
        return None;
    }
    match segments(path).as_slice() {
        [clusters, c] if clusters == "clusters" => Some(RewriteTarget::Cluster(c.clone())),
        [clusters, c, ngs, n] if clusters == "clusters" && ngs == "node-groups" => {
            Some(RewriteTarget::Nodegroup(c.clone(), n.clone()))
        }
        _ => None,
    }
}

/// The Kubernetes minor versions the stand-ins model (the add-on version table
/// and the version updates).
pub const KUBERNETES_VERSIONS: [&str; 4] = ["1.29", "1.30", "1.31", "1.32"];

/// The EKS stand-ins' error answers.
impl Answer {
    fn eks_error(
        status: u16,
        code: &'static str,
        message: impl Into<String>,
        cluster: &str,
        addon: Option<&str>,
        nodegroup: Option<&str>,
    ) -> Self {
        let mut body = json!({ "message": message.into() });
        if !cluster.is_empty() {
            body["clusterName"] = json!(cluster);
        }
        if let Some(addon) = addon {
            body["addonName"] = json!(addon);
        }
        if let Some(nodegroup) = nodegroup {
            body["nodegroupName"] = json!(nodegroup);
        }
        Self {
            status,
            error_type: Some(code),
            body,
        }
    }

    fn eks_invalid(
        message: impl Into<String>,
        cluster: &str,
        addon: Option<&str>,
        nodegroup: Option<&str>,
    ) -> Self {
        Self::eks_error(
            400,
            "InvalidParameterException",
            message,
            cluster,
            addon,
            nodegroup,
        )
    }

    fn cluster_not_found(cluster: &str) -> Self {
        Self::eks_error(
            404,
            "ResourceNotFoundException",
            format!("No cluster found for name: {cluster}."),
            cluster,
            None,
            None,
        )
    }

    fn nodegroup_not_found(cluster: &str, nodegroup: &str) -> Self {
        Self::eks_error(
            404,
            "ResourceNotFoundException",
            format!("No node group found for name: {nodegroup}."),
            cluster,
            None,
            Some(nodegroup),
        )
    }

    fn addon_not_found(cluster: &str, addon: &str) -> Self {
        Self::eks_error(
            404,
            "ResourceNotFoundException",
            format!("No addon: {addon} found in cluster: {cluster}"),
            cluster,
            Some(addon),
            None,
        )
    }

    fn arn_not_found(arn: &str) -> Self {
        Self::eks_error(
            404,
            "NotFoundException",
            format!("Resource was not found: {arn}"),
            "",
            None,
            None,
        )
    }

    fn server(message: impl Into<String>) -> Self {
        Self::eks_error(500, "ServerException", message, "", None, None)
    }
}

/// The JSON request body (an empty body is `{}`).
fn parse_body<T: DeserializeOwned>(body: &[u8], cluster: &str) -> Result<T, Answer> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body)
        .map_err(|e| Answer::eks_invalid(format!("invalid request body: {e}"), cluster, None, None))
}

/// `1.31`, `1.31.2`, `v1.31` → `1.31`.
fn minor(version: &str) -> Option<String> {
    let (major, minor) = minor_number(version)?;
    Some(format!("{major}.{minor}"))
}

/// `1.31...` → `(1, 31)`.
fn minor_number(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.trim().trim_start_matches('v').split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// The time as EKS reports it: epoch seconds, millisecond precision.
fn now_epoch() -> f64 {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_millis() as f64) / 1000.0
}

/// A query string's `(name, value)` pairs, percent-decoded.
fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn query_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v.as_str())
}

/// What the stand-in needs of moto's DescribeCluster answer.
#[derive(Clone, Debug)]
pub(crate) struct ClusterInfo {
    name: String,
    /// ARN, `createdAt` and the start of the certificate: tells a cluster
    /// from one made again under the same name.
    identity: String,
    version: String,
    platform_version: Option<String>,
    partition: String,
    region: String,
    account: String,
}

impl ClusterInfo {
    /// From `{"cluster": {...}}`.
    fn from_describe(body: &Value) -> Option<Self> {
        let c = body.get("cluster")?;
        let name = c.get("name")?.as_str()?.to_owned();
        let arn = c["arn"].as_str().unwrap_or_default();
        let cert: String = c["certificateAuthority"]["data"]
            .as_str()
            .unwrap_or_default()
            .chars()
            .take(64)
            .collect();
        let fields: Vec<&str> = arn.split(':').collect();
        let field = |i: usize, default: &str| {
            fields
                .get(i)
                .filter(|f| !f.is_empty())
                .map_or_else(|| default.to_owned(), |f| (*f).to_owned())
        };
        Some(Self {
            identity: format!("{arn}|{}|{cert}", c["createdAt"]),
            version: c["version"].as_str().unwrap_or_default().to_owned(),
            platform_version: c["platformVersion"].as_str().map(str::to_owned),
            partition: field(1, "aws"),
            region: field(3, DEFAULT_REGION),
            account: field(4, "123456789012"),
            name,
        })
    }
}

/// The add-on's last transition; once it is over (`ready_at`), the add-on is
/// `ACTIVE` (or gone after `Deleting`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    Creating,
    Updating,
    Deleting,
}

/// The stand-in's state of one cluster.
#[derive(Debug, Default)]
pub(crate) struct ClusterState {
    /// moto's identity of the cluster this state belongs to.
    identity: Option<String>,
    addons: BTreeMap<String, AddonState>,
    version: Option<VersionChange>,
    nodegroups: BTreeMap<String, NodegroupChange>,
    updates: Vec<UpdateState>,
}

/// The stand-in's state: on or off, the transition delay, and the clusters.
#[derive(Debug)]
pub(crate) struct EksStore {
    enabled: bool,
    delay: Duration,
    clusters: BTreeMap<String, ClusterState>,
    seed: u64,
    next_id: u64,
}

impl Default for EksStore {
    fn default() -> Self {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
            ^ u64::from(std::process::id());
        Self {
            enabled: false,
            delay: Duration::ZERO,
            clusters: BTreeMap::new(),
            seed,
            next_id: 0,
        }
    }
}

/// SplitMix64: well-mixed bits from a counter.
fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl EksStore {
    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }

    /// A fresh UUID-shaped id (version-4 layout).
    fn next_uuid(&mut self) -> String {
        self.next_id += 1;
        let a = splitmix(self.seed ^ self.next_id);
        let b = splitmix(a);
        format!(
            "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            8 + (b >> 62),
            (b >> 48) & 0xfff,
            b & 0xffff_ffff_ffff
        )
    }

    fn cluster_state(&mut self, cluster: &str) -> &mut ClusterState {
        self.clusters.entry(cluster.to_owned()).or_default()
    }

    /// Drops the state of `cluster` when it was recorded for another
    /// incarnation of the cluster, and records `identity`.
    fn sync_identity(&mut self, cluster: &str, identity: &str) {
        let state = self.cluster_state(cluster);
        if state.identity.as_deref() != Some(identity) {
            if state.identity.is_some() {
                *state = ClusterState::default();
            }
            state.identity = Some(identity.to_owned());
        }
    }

    /// Removes add-ons whose deletion is over.
    fn purge(&mut self, cluster: &str, now: Instant) {
        if let Some(state) = self.clusters.get_mut(cluster) {
            state.addons.retain(|_, a| a.status(now).is_some());
        }
    }

    /// The cluster's Kubernetes version as DescribeCluster reports it now.
    fn effective_version(&self, cluster: &str, info: &ClusterInfo, now: Instant) -> String {
        match self.clusters.get(cluster).and_then(|c| c.version.as_ref()) {
            Some(c) if now >= c.ready_at => c.to_version.clone(),
            Some(c) => c.from_version.clone(),
            None => info.version.clone(),
        }
    }

    /// The cluster's platform version as DescribeCluster reports it now.
    fn effective_platform(
        &self,
        cluster: &str,
        info: &ClusterInfo,
        now: Instant,
    ) -> Option<String> {
        match self.clusters.get(cluster).and_then(|c| c.version.as_ref()) {
            Some(c) if now >= c.ready_at => Some(c.to_platform.clone()),
            Some(c) => c.from_platform.clone(),
            None => info.platform_version.clone(),
        }
    }

    /// Forgets everything about `cluster` (it was deleted).
    pub(crate) fn forget_cluster(&mut self, cluster: &str) {
        self.clusters.remove(cluster);
    }

    /// Whether a forwarded answer for `target` needs rewriting.
    pub(crate) fn wants_rewrite(&self, target: &RewriteTarget) -> bool {
        match target {
            RewriteTarget::Cluster(c) => self.clusters.get(c).is_some_and(|s| s.version.is_some()),
            RewriteTarget::Nodegroup(c, n) => self
                .clusters
                .get(c)
                .is_some_and(|s| s.nodegroups.contains_key(n)),
        }
    }

    /// Rewrites moto's JSON answer for `target` in place.
    pub(crate) fn rewrite(&mut self, target: &RewriteTarget, body: &mut Value, now: Instant) {
        match target {
            RewriteTarget::Cluster(_) => self.rewrite_cluster(body, now),
            RewriteTarget::Nodegroup(c, _) => self.rewrite_nodegroup(c, body, now),
        }
    }

    /// Answers one request. `cluster` and `nodegroup` are moto's answers to
    /// the reads [`lookup_paths`] asked for.
    pub(crate) fn answer(
        &mut self,
        op: &Operation,
        query: Option<&str>,
        body: &[u8],
        cluster: Option<Lookup>,
        nodegroup: Option<Lookup>,
        now: Instant,
    ) -> Answer {
        let pairs = query_pairs(query);
        let info = match (op.cluster(), cluster) {
            (None, _) => None,
            (Some(name), Some(Lookup::Found(v))) => match ClusterInfo::from_describe(&v) {
                Some(info) => {
                    self.sync_identity(name, &info.identity);
                    self.purge(name, now);
                    Some(info)
                }
                None => return Answer::server("cannot read the cluster from the upstream"),
            },
            (Some(name), Some(Lookup::Missing)) => return Answer::cluster_not_found(name),
            (Some(_), Some(Lookup::Failed(why))) => {
                return Answer::server(format!("cannot read the cluster from the upstream: {why}"))
            }
            (Some(_), None) => return Answer::server("the cluster was not read from the upstream"),
        };
        match (op, info) {
            (Operation::CreateAddon { cluster }, Some(info)) => {
                self.create_addon(cluster, &info, body, now)
            }
            (Operation::ListAddons { cluster }, Some(_)) => self.list_addons(cluster),
            (Operation::DescribeAddon { cluster, addon }, Some(_)) => {
                self.describe_addon(cluster, addon, now)
            }
            (Operation::UpdateAddon { cluster, addon }, Some(info)) => {
                self.update_addon(cluster, addon, &info, body, now)
            }
            (Operation::DeleteAddon { cluster, addon }, Some(_)) => {
                self.delete_addon(cluster, addon, now)
            }
            (Operation::DescribeAddonVersions, _) => addons::describe_addon_versions(&pairs),
            (Operation::UpdateClusterVersion { cluster }, Some(info)) => {
                self.update_cluster_version(cluster, &info, body, now)
            }
            (Operation::ListUpdates { cluster }, Some(_)) => self.list_updates(
                cluster,
                query_value(&pairs, "nodegroupName"),
                query_value(&pairs, "addonName"),
            ),
            (Operation::DescribeUpdate { cluster, id }, Some(_)) => self.describe_update(
                cluster,
                id,
                query_value(&pairs, "nodegroupName"),
                query_value(&pairs, "addonName"),
                now,
            ),
            (
                Operation::UpdateNodegroupVersion {
                    cluster,
                    nodegroup: ng,
                },
                Some(info),
            ) => match nodegroup {
                Some(Lookup::Found(v)) => {
                    self.update_nodegroup_version(cluster, ng, &info, &v, body, now)
                }
                Some(Lookup::Missing) => Answer::nodegroup_not_found(cluster, ng),
                Some(Lookup::Failed(why)) => Answer::server(format!(
                    "cannot read the node group from the upstream: {why}"
                )),
                None => Answer::server("the node group was not read from the upstream"),
            },
            (Operation::ListTags { arn }, _) => self.list_tags(arn, now),
            (Operation::Tag { arn }, _) => self.tag(arn, body, now),
            (Operation::Untag { arn }, _) => {
                let keys: Vec<String> = pairs
                    .iter()
                    .filter(|(k, _)| k == "tagKeys")
                    .map(|(_, v)| v.clone())
                    .collect();
                self.untag(arn, &keys, now)
            }
            (_, None) => Answer::server("the cluster was not read from the upstream"),
        }
    }

    fn addons(&self, cluster: &str, now: Instant) -> Vec<Addon> {
        self.clusters
            .get(cluster)
            .map(|c| c.addons.values().filter_map(|a| a.snapshot(now)).collect())
            .unwrap_or_default()
    }

    fn updates(&self, cluster: &str, now: Instant) -> Vec<Update> {
        self.clusters
            .get(cluster)
            .map(|c| c.updates.iter().map(|u| u.snapshot(now)).collect())
            .unwrap_or_default()
    }
}

/// The EKS add-on and update stand-in's controls on the proxy handle.
impl ProxyHandle {
    fn eks(&self) -> MutexGuard<'_, EksStore> {
        self.eks_store()
    }

    stand_in_controls! {
        store: eks;
        /// Turns on the EKS add-on and update stand-in (see [`crate::eks`]): from
        /// now on the proxy answers the add-on calls, UpdateClusterVersion,
        /// UpdateNodegroupVersion, DescribeUpdate and ListUpdates itself, and
        /// rewrites moto's DescribeCluster and DescribeNodegroup answers to
        /// match. Independent of the [`FaultConfig`](crate::FaultConfig) and of
        /// [`ProxyHandle::with_access_entries`]. Returns the handle, for
        /// `FaultProxy::start(..)?.with_eks_extras()`.
        with: with_eks_extras;
        /// Turns the stand-in on or off at run time. Turning it off keeps its
        /// state; while it is off, its requests are forwarded like any other and
        /// moto's answers are not rewritten.
        set: set_eks_extras;
        /// Whether the EKS add-on and update stand-in is on.
        enabled: eks_extras_enabled;
        /// Sets how long each add-on and update transition takes (CREATING →
        /// ACTIVE, UPDATING → ACTIVE, DELETING → gone, InProgress → Successful),
        /// for transitions started from now on. Default: zero.
        set_delay: set_eks_delay;
    }

    /// [`ProxyHandle::set_eks_delay`], returning the handle.
    pub fn with_eks_delay(self, delay: Duration) -> Self {
        self.set_eks_delay(delay);
        self
    }

    /// The transition delay in force.
    pub fn eks_delay(&self) -> Duration {
        self.eks().delay
    }

    /// The add-ons of `cluster`, sorted by name, with their status as of now
    /// (add-ons whose deletion is over are left out).
    pub fn eks_addons(&self, cluster: &str) -> Vec<Addon> {
        self.eks().addons(cluster, Instant::now())
    }

    /// The add-on `addon` of `cluster`, if the stand-in holds it.
    pub fn eks_addon(&self, cluster: &str, addon: &str) -> Option<Addon> {
        self.eks_addons(cluster)
            .into_iter()
            .find(|a| a.addon_name == addon)
    }

    /// Every update of `cluster` (its own, its node groups' and its
    /// add-ons'), oldest first, with their status as of now.
    pub fn eks_updates(&self, cluster: &str) -> Vec<Update> {
        self.eks().updates(cluster, Instant::now())
    }

    /// The Kubernetes version the stand-in makes DescribeCluster report for
    /// `cluster` now; `None` when no version update was made through it.
    pub fn eks_cluster_version(&self, cluster: &str) -> Option<String> {
        let now = Instant::now();
        let store = self.eks();
        let change = store.clusters.get(cluster)?.version.as_ref()?;
        Some(if now >= change.ready_at {
            change.to_version.clone()
        } else {
            change.from_version.clone()
        })
    }

    /// The Kubernetes version the stand-in makes DescribeNodegroup report for
    /// node group `nodegroup` of `cluster` now; `None` when no version update
    /// was made through it.
    pub fn eks_nodegroup_version(&self, cluster: &str, nodegroup: &str) -> Option<String> {
        let now = Instant::now();
        let store = self.eks();
        let change = store.clusters.get(cluster)?.nodegroups.get(nodegroup)?;
        Some(if now >= change.ready_at {
            change.to_version.clone()
        } else {
            change.from_version.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found_cluster(name: &str, version: &str, created: &str) -> Lookup {
        Lookup::Found(json!({ "cluster": {
            "name": name,
            "arn": format!("arn:aws:eks:eu-west-1:111122223333:cluster/{name}"),
            "createdAt": created,
            "version": version,
            "platformVersion": "eks.4",
            "status": "ACTIVE",
            "certificateAuthority": { "data": "Q0E=" },
        }}))
    }

    #[test]
    fn routes_and_names() {
        let r = |m: Method, p: &str| route(&m, p);
        assert_eq!(
            r(Method::POST, "/clusters/shop/addons"),
            Some(Operation::CreateAddon {
                cluster: "shop".into()
            })
        );
        assert_eq!(
            r(Method::POST, "/clusters/shop/addons/vpc-cni/update"),
            Some(Operation::UpdateAddon {
                cluster: "shop".into(),
                addon: "vpc-cni".into()
            })
        );
        assert_eq!(
            r(Method::GET, "/clusters/shop/updates/abc"),
            Some(Operation::DescribeUpdate {
                cluster: "shop".into(),
                id: "abc".into()
            })
        );
        assert_eq!(
            r(Method::GET, "/addons/supported-versions"),
            Some(Operation::DescribeAddonVersions)
        );
        let arn = "arn%3Aaws%3Aeks%3Aeu-west-1%3A1%3Aaddon%2Fshop%2Fcoredns%2Fx";
        assert_eq!(
            r(Method::GET, &format!("/tags/{arn}")),
            Some(Operation::ListTags {
                arn: "arn:aws:eks:eu-west-1:1:addon/shop/coredns/x".into()
            })
        );
        let cluster_arn = "arn%3Aaws%3Aeks%3Aeu-west-1%3A1%3Acluster%2Fshop";
        assert_eq!(r(Method::GET, &format!("/tags/{cluster_arn}")), None);
        assert_eq!(r(Method::GET, "/clusters/shop"), None);
        assert_eq!(
            r(Method::POST, "/clusters/shop/node-groups/ng/update-config"),
            None
        );
        assert_eq!(
            action_name(
                &Method::POST,
                "/clusters/shop/node-groups/ng/update-version"
            ),
            Some("UpdateNodegroupVersion")
        );
        assert_eq!(
            action_name(&Method::POST, "/clusters/shop/updates"),
            Some("UpdateClusterVersion")
        );
        assert_eq!(action_name(&Method::GET, &format!("/tags/{arn}")), None);
        let op = Operation::UpdateNodegroupVersion {
            cluster: "shop".into(),
            nodegroup: "ng".into(),
        };
        assert_eq!(
            lookup_paths("/clusters/shop/node-groups/ng/update-version", &op),
            (
                Some("/clusters/shop".into()),
                Some("/clusters/shop/node-groups/ng".into())
            )
        );
        assert_eq!(
            rewrite_target(&Method::GET, "/clusters/shop"),
            Some(RewriteTarget::Cluster("shop".into()))
        );
        assert_eq!(rewrite_target(&Method::GET, "/clusters"), None);
        assert_eq!(minor("1.31.2").as_deref(), Some("1.31"));
        assert_eq!(minor("v1.30").as_deref(), Some("1.30"));
        assert_eq!(minor("latest"), None);
    }

    #[test]
    fn uuids_are_uuid_shaped_and_distinct() {
        let mut s = EksStore::default();
        let a = s.next_uuid();
        let b = s.next_uuid();
        assert_ne!(a, b);
        for id in [a, b] {
            let parts: Vec<&str> = id.split('-').collect();
            assert_eq!(
                parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
                [8, 4, 4, 4, 12],
                "{id}"
            );
            assert!(parts[2].starts_with('4'), "{id}");
            assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"), "{id}");
        }
    }

    #[test]
    fn addon_lifecycle_with_a_delay() {
        let mut s = EksStore {
            delay: Duration::from_secs(10),
            ..EksStore::default()
        };
        let t0 = Instant::now();
        let later = t0 + Duration::from_secs(11);
        let cluster = || Some(found_cluster("shop", "1.31", "t1"));
        let create = Operation::CreateAddon {
            cluster: "shop".into(),
        };
        let body = json!({ "addonName": "coredns", "tags": { "k": "v" } }).to_string();
        let a = s.answer(&create, None, body.as_bytes(), cluster(), None, t0);
        assert_eq!(a.status, 200, "{a:?}");
        assert_eq!(a.body["addon"]["status"], "CREATING");
        assert_eq!(a.body["addon"]["addonVersion"], "v1.11.3-eksbuild.2");
        assert!(a.body["addon"]["addonArn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:eks:eu-west-1:111122223333:addon/shop/coredns/"));
        let describe = Operation::DescribeAddon {
            cluster: "shop".into(),
            addon: "coredns".into(),
        };
        let d = s.answer(&describe, None, b"", cluster(), None, t0);
        assert_eq!(d.body["addon"]["status"], "CREATING");
        let d = s.answer(&describe, None, b"", cluster(), None, later);
        assert_eq!(d.body["addon"]["status"], "ACTIVE");

        // The cluster is made again in moto: the old add-on is forgotten.
        let d = s.answer(
            &describe,
            None,
            b"",
            Some(found_cluster("shop", "1.31", "t2")),
            None,
            later,
        );
        assert_eq!(d.status, 404);
        let gone = s.answer(&describe, None, b"", Some(Lookup::Missing), None, later);
        assert_eq!(
            (gone.status, gone.error_type),
            (404, Some("ResourceNotFoundException"))
        );
        assert_eq!(gone.body["message"], "No cluster found for name: shop.");
    }

    #[test]
    fn cluster_version_rules() {
        let mut s = EksStore::default();
        let t0 = Instant::now();
        let op = Operation::UpdateClusterVersion {
            cluster: "shop".into(),
        };
        let up = |s: &mut EksStore, from: &str, to: &str| {
            s.answer(
                &op,
                None,
                json!({ "version": to }).to_string().as_bytes(),
                Some(found_cluster("shop", from, "t1")),
                None,
                t0,
            )
        };
        for (from, to) in [
            ("1.29", "1.31"),
            ("1.30", "1.30"),
            ("1.31", "1.30"),
            ("1.32", "1.33"),
        ] {
            let a = up(&mut s, from, to);
            assert_eq!(
                (a.status, a.error_type),
                (400, Some("InvalidParameterException")),
                "{from} -> {to}: {a:?}"
            );
        }
        let a = up(&mut s, "1.29", "1.30");
        assert_eq!(a.status, 200, "{a:?}");
        assert_eq!(a.body["update"]["type"], "VersionUpdate");
        assert_eq!(
            a.body["update"]["params"],
            json!([{ "type": "Version", "value": "1.30" }, { "type": "PlatformVersion", "value": "eks.27" }])
        );
        // moto still says 1.29; the stand-in's 1.30 counts: next is 1.31.
        assert_eq!(up(&mut s, "1.29", "1.32").status, 400);
        assert_eq!(up(&mut s, "1.29", "1.31").status, 200);
        let mut described = found_cluster("shop", "1.29", "t1");
        if let Lookup::Found(v) = &mut described {
            s.rewrite(&RewriteTarget::Cluster("shop".into()), v, t0);
            assert_eq!(v["cluster"]["version"], "1.31");
            assert_eq!(v["cluster"]["platformVersion"], "eks.19");
        }
    }
}
