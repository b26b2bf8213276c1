//! A provisioning-time model: objects stay in their transitional state for a
//! modelled time, on a scaled clock.
//!
//! moto makes everything at once: a NAT gateway is `available`, an EKS cluster
//! `ACTIVE` and an RDS instance `available` in the answer to the call that
//! creates them, so an apply against moto says nothing about how the provider
//! overlaps AWS's real waits. With this model on, the proxy learns each object's
//! identity and start time from the call that creates, updates or deletes it
//! (its parameters or its answer) and, until the modelled duration of that
//! [`Kind`] has passed on the scaled clock, rewrites the status the read calls
//! report for it:
//!
//! | object | started by | read rewritten | status shown |
//! | --- | --- | --- | --- |
//! | EC2 NAT gateway | CreateNatGateway (id from the answer), DeleteNatGateway | DescribeNatGateways: `<state>` of the `natGatewaySet` item | `pending`, `deleting` |
//! | EKS cluster | `POST /clusters` (`name`), `DELETE /clusters/{c}` | `GET /clusters/{c}`: `cluster.status` | `CREATING`, `DELETING` |
//! | EKS node group | `POST /clusters/{c}/node-groups` (`nodegroupName`), `POST .../node-groups/{n}/update-config` or `update-version`, `DELETE .../node-groups/{n}` | `GET /clusters/{c}/node-groups/{n}`: `nodegroup.status` | `CREATING`, `UPDATING`, `DELETING` |
//! | EKS add-on | `POST /clusters/{c}/addons` (`addonName`) | `GET /clusters/{c}/addons/{a}`: `addon.status` | `CREATING` |
//! | RDS DB instance | CreateDBInstance (`MultiAZ` picks the kind), CreateDBInstanceReadReplica, RestoreDBInstanceFromDBSnapshot, RestoreDBInstanceToPointInTime (`TargetDBInstanceIdentifier`), ModifyDBInstance with `ApplyImmediately=true`, DeleteDBInstance (`SkipFinalSnapshot` picks the kind) | DescribeDBInstances: `<DBInstanceStatus>` of the `DBInstances` item | `creating`, `modifying`, `deleting` |
//! | RDS DB snapshot | CreateDBSnapshot | DescribeDBSnapshots: `<Status>` of the `DBSnapshots` item | `creating` |
//!
//! Only calls answered with 2xx start a transition; a later call on the same
//! object replaces its transition (a delete during a create starts the delete).
//! Identifiers of RDS objects are compared case-insensitively (RDS stores them
//! in lower case). EKS node groups and add-ons are keyed `cluster/name`.
//!
//! **Clock.** The model runs on a modelled clock that advances `time_scale`
//! modelled seconds per real second (`--time-scale 60`: one modelled minute per
//! real second). Changing the scale at run time keeps the modelled time reached
//! so far. Durations are in modelled seconds: [`KINDS`] has the defaults and
//! their sources; [`ModelSettings::durations`] overrides them.
//!
//! **Deletes.** The delete is forwarded at once (so the upstream validates it and
//! answers as usual). moto keeps a deleted NAT gateway with state `deleted`, so
//! its `<state>` is simply shown as `deleting`. moto forgets an EKS cluster, a
//! node group or a DB instance at once; the model keeps the object as the delete's
//! own answer described it (EKS answers `{"cluster"}`/`{"nodegroup"}`, RDS the
//! `<DBInstance>` element) and, while the delete runs, answers reads of it from
//! that copy with the deleting status: a 404 to `GET /clusters/{c}`,
//! `GET .../node-groups/{n}` or to a DescribeDBInstances naming the instance
//! becomes a 200 with that object, and a DescribeDBInstances without
//! `DBInstanceIdentifier` and `Filters` gets it added to its list. Once the
//! modelled time has passed, the upstream's own answer (404, absent) goes
//! through.
//!
//! What it does **not** model: filters on the status (moto filters on its own
//! state: a `state=pending` filter does not find a modelled-pending NAT gateway),
//! list calls (ListClusters, ListNodegroups do not show an object being deleted),
//! the answers of the create/update/delete calls themselves (moto's answer goes
//! through as it is), failures, objects made before the model was turned on,
//! RDS clusters (Aurora), a renamed instance (`NewDBInstanceIdentifier`), and
//! accounts or regions (objects are keyed by identifier only).
//!
//! Control: [`ProxyHandle::with_provisioning_model`](crate::ProxyHandle::with_provisioning_model),
//! [`ProxyHandle::set_provisioning`](crate::ProxyHandle::set_provisioning), the
//! `--time-scale` and `--provisioning-durations` flags of `paved-fault-proxy`, and
//! `GET|POST /__paved_proxy/provisioning` ([`ModelSettings`] in, [`ModelReport`]
//! out).

use std::collections::BTreeMap;
use std::time::Instant;

use hyper::http::{Method, Uri};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::classify::{Classification, Protocol};
use crate::error::Error;
use crate::wire::form_params;
use crate::xml_ranges::{splice, Document};

/// A modelled transition: an object of some kind being created, updated or
/// deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// CreateNatGateway.
    NatGatewayCreate,
    /// DeleteNatGateway.
    NatGatewayDelete,
    /// CreateCluster (EKS control plane).
    EksClusterCreate,
    /// DeleteCluster.
    EksClusterDelete,
    /// CreateNodegroup (managed node group).
    EksNodegroupCreate,
    /// UpdateNodegroupConfig or UpdateNodegroupVersion.
    EksNodegroupUpdate,
    /// DeleteNodegroup.
    EksNodegroupDelete,
    /// CreateAddon.
    EksAddonCreate,
    /// CreateDBInstance, single-AZ.
    DbInstanceCreate,
    /// CreateDBInstance with `MultiAZ=true`.
    DbInstanceCreateMultiAz,
    /// CreateDBInstanceReadReplica.
    DbInstanceReadReplica,
    /// RestoreDBInstanceFromDBSnapshot or RestoreDBInstanceToPointInTime.
    DbInstanceRestore,
    /// ModifyDBInstance with `ApplyImmediately=true`.
    DbInstanceModify,
    /// DeleteDBInstance with `SkipFinalSnapshot=true`.
    DbInstanceDelete,
    /// DeleteDBInstance taking a final snapshot.
    DbInstanceDeleteFinalSnapshot,
    /// CreateDBSnapshot.
    DbSnapshotCreate,
}

/// The kind of object a [`Kind`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Object {
    /// EC2 NAT gateway, by `nat-...` id.
    NatGateway,
    /// EKS cluster, by name.
    EksCluster,
    /// EKS managed node group, by `cluster/nodegroup`.
    EksNodegroup,
    /// EKS add-on, by `cluster/addon`.
    EksAddon,
    /// RDS DB instance, by identifier (lower case).
    DbInstance,
    /// RDS DB snapshot, by identifier (lower case).
    DbSnapshot,
}

/// One row of [`KINDS`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KindSpec {
    /// The transition.
    pub kind: Kind,
    /// The object it is about.
    pub object: Object,
    /// The status reads show while it runs.
    pub status: &'static str,
    /// Default modelled duration, in seconds.
    pub seconds: f64,
    /// Where the figure comes from.
    pub source: &'static str,
}

/// The modelled durations, one row per [`Kind`].
///
/// Sources, honestly labelled: AWS documents few of these figures; most are
/// "commonly reported" (Terraform provider timeouts and create/destroy logs,
/// AWS re:Post and blog reports), for small objects in a quiet region. Real
/// durations vary with size and load: these are typical, not worst, cases.
///
/// | kind | seconds | source |
/// | --- | ---: | --- |
/// | nat_gateway_create | 90 | commonly reported 1-2 min (`pending` -> `available`); the VPC user guide says only that the gateway is `pending` until ready |
/// | nat_gateway_delete | 60 | commonly reported ~1 min (`deleting` -> `deleted`) |
/// | eks_cluster_create | 600 | commonly reported ~10 min for the control plane; the EKS user guide says "several minutes" |
/// | eks_cluster_delete | 300 | commonly reported ~5 min |
/// | eks_nodegroup_create | 210 | commonly reported 3-4 min for a small managed node group |
/// | eks_nodegroup_update | 300 | commonly reported ~5 min for a small group; a rolling replacement grows with the node count |
/// | eks_nodegroup_delete | 240 | commonly reported ~4 min |
/// | eks_addon_create | 60 | commonly reported ~1 min for the AWS add-ons (vpc-cni, coredns, kube-proxy) |
/// | db_instance_create | 480 | commonly reported 5-10 min, single-AZ |
/// | db_instance_create_multi_az | 810 | commonly reported 12-15 min, Multi-AZ primary |
/// | db_instance_read_replica | 600 | commonly reported ~10 min (a snapshot of the primary, then a restore) |
/// | db_instance_restore | 900 | commonly reported ~15 min from a snapshot, more with data size |
/// | db_instance_modify | 600 | commonly reported ~10 min for an instance class change with `ApplyImmediately` (Multi-AZ: standby first, then failover); setting-only changes take less |
/// | db_instance_delete | 300 | commonly reported ~5 min |
/// | db_instance_delete_final_snapshot | 480 | the delete plus a final snapshot of a small instance (commonly reported ~3 min); grows with data |
/// | db_snapshot_create | 240 | commonly reported a few minutes for a small instance; the RDS user guide says the first snapshot is a full copy and later ones incremental |
pub const KINDS: [KindSpec; 16] = [
    spec(Kind::NatGatewayCreate, Object::NatGateway, "pending", 90.0, "commonly reported 1-2 min; the VPC user guide says only that the gateway is pending until ready"),
    spec(Kind::NatGatewayDelete, Object::NatGateway, "deleting", 60.0, "commonly reported ~1 min"),
    spec(Kind::EksClusterCreate, Object::EksCluster, "CREATING", 600.0, "commonly reported ~10 min for the control plane; the EKS user guide says several minutes"),
    spec(Kind::EksClusterDelete, Object::EksCluster, "DELETING", 300.0, "commonly reported ~5 min"),
    spec(Kind::EksNodegroupCreate, Object::EksNodegroup, "CREATING", 210.0, "commonly reported 3-4 min for a small managed node group"),
    spec(Kind::EksNodegroupUpdate, Object::EksNodegroup, "UPDATING", 300.0, "commonly reported ~5 min for a small group; grows with the node count"),
    spec(Kind::EksNodegroupDelete, Object::EksNodegroup, "DELETING", 240.0, "commonly reported ~4 min"),
    spec(Kind::EksAddonCreate, Object::EksAddon, "CREATING", 60.0, "commonly reported ~1 min for the AWS add-ons"),
    spec(Kind::DbInstanceCreate, Object::DbInstance, "creating", 480.0, "commonly reported 5-10 min, single-AZ"),
    spec(Kind::DbInstanceCreateMultiAz, Object::DbInstance, "creating", 810.0, "commonly reported 12-15 min, Multi-AZ primary"),
    spec(Kind::DbInstanceReadReplica, Object::DbInstance, "creating", 600.0, "commonly reported ~10 min"),
    spec(Kind::DbInstanceRestore, Object::DbInstance, "creating", 900.0, "commonly reported ~15 min from a snapshot; more with data size"),
    spec(Kind::DbInstanceModify, Object::DbInstance, "modifying", 600.0, "commonly reported ~10 min for an instance class change applied immediately"),
    spec(Kind::DbInstanceDelete, Object::DbInstance, "deleting", 300.0, "commonly reported ~5 min"),
    spec(Kind::DbInstanceDeleteFinalSnapshot, Object::DbInstance, "deleting", 480.0, "the delete plus a final snapshot of a small instance (commonly reported ~3 min)"),
    spec(Kind::DbSnapshotCreate, Object::DbSnapshot, "creating", 240.0, "commonly reported a few minutes for a small instance"),
];

const fn spec(
    kind: Kind,
    object: Object,
    status: &'static str,
    seconds: f64,
    source: &'static str,
) -> KindSpec {
    KindSpec {
        kind,
        object,
        status,
        seconds,
        source,
    }
}

impl Kind {
    /// This kind's row of [`KINDS`].
    pub fn spec(self) -> &'static KindSpec {
        // Every kind has a row (checked by a test); the first row is never used
        // in its place.
        KINDS.iter().find(|s| s.kind == self).unwrap_or(&KINDS[0])
    }

    fn is_delete(self) -> bool {
        matches!(
            self,
            Kind::NatGatewayDelete
                | Kind::EksClusterDelete
                | Kind::EksNodegroupDelete
                | Kind::DbInstanceDelete
                | Kind::DbInstanceDeleteFinalSnapshot
        )
    }
}

/// What `POST /__paved_proxy/provisioning` accepts; missing fields change
/// nothing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSettings {
    /// Turn the model on or off (off forgets nothing but rewrites nothing).
    pub enabled: Option<bool>,
    /// Modelled seconds per real second (finite, above 0).
    pub time_scale: Option<f64>,
    /// Modelled seconds per kind, replacing all earlier overrides (kinds not
    /// named take their defaults; `{}` restores every default).
    pub durations: Option<BTreeMap<Kind, f64>>,
    /// Forget every tracked object (e.g. after resetting the emulator).
    pub clear: bool,
}

/// One kind in a [`ModelReport`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KindReport {
    /// The transition.
    pub kind: Kind,
    /// The object it is about.
    pub object: Object,
    /// The status shown while it runs.
    pub status: String,
    /// Modelled seconds in force.
    pub seconds: f64,
    /// The default from [`KINDS`].
    pub default_seconds: f64,
    /// Real seconds at the current scale.
    pub real_seconds: f64,
    /// Where the default comes from.
    pub source: String,
}

/// One object in transition in a [`ModelReport`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectReport {
    /// What it is.
    pub object: Object,
    /// Its identifier.
    pub id: String,
    /// The running transition.
    pub kind: Kind,
    /// The status reads show.
    pub status: String,
    /// Modelled seconds since it started.
    pub elapsed_seconds: f64,
    /// Modelled seconds left.
    pub remaining_seconds: f64,
}

/// The model, as `GET /__paved_proxy/provisioning` reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelReport {
    /// Whether reads are rewritten.
    pub enabled: bool,
    /// Modelled seconds per real second.
    pub time_scale: f64,
    /// The modelled clock: modelled seconds since the proxy started.
    pub modelled_seconds: f64,
    /// Every kind with its duration.
    pub kinds: Vec<KindReport>,
    /// Objects whose transition is still running.
    pub objects: Vec<ObjectReport>,
}

/// The parts of a request the model looks at.
#[derive(Clone, Debug)]
pub(crate) struct ModelRequest {
    service: String,
    action: String,
    method: Method,
    segments: Vec<String>,
    /// Query protocol parameters (query string and form body).
    params: Vec<(String, String)>,
    /// A JSON body.
    json: Option<Value>,
}

impl ModelRequest {
    pub(crate) fn new(class: &Classification, method: &Method, uri: &Uri, body: &[u8]) -> Self {
        let mut params = form_params(uri.query().unwrap_or(""));
        let json = match class.protocol {
            Protocol::Query | Protocol::Ec2Query => {
                params.extend(form_params(&String::from_utf8_lossy(body)));
                None
            }
            _ => serde_json::from_slice(body).ok(),
        };
        Self {
            service: class.service.clone(),
            action: class.action.clone(),
            method: method.clone(),
            segments: crate::eks::segments(uri.path()),
            params,
            json,
        }
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn has_param_prefix(&self, prefix: &str) -> bool {
        self.params.iter().any(|(n, _)| n.starts_with(prefix))
    }

    fn json_str(&self, field: &str) -> Option<String> {
        self.json.as_ref()?.get(field)?.as_str().map(str::to_string)
    }

    fn path(&self) -> Vec<&str> {
        self.segments.iter().map(String::as_str).collect()
    }

    /// The object a read call is about, when it is one the model rewrites.
    fn read_target(&self) -> Option<(Object, Option<String>)> {
        match (self.service.as_str(), self.action.as_str()) {
            ("ec2", "DescribeNatGateways") => return Some((Object::NatGateway, None)),
            ("rds", "DescribeDBInstances") => {
                let id = self.param("DBInstanceIdentifier").map(str::to_lowercase);
                return Some((Object::DbInstance, id));
            }
            ("rds", "DescribeDBSnapshots") => return Some((Object::DbSnapshot, None)),
            ("eks", _) if self.method == Method::GET => {}
            _ => return None,
        }
        match self.path().as_slice() {
            ["clusters", c] => Some((Object::EksCluster, Some(c.to_string()))),
            ["clusters", c, "node-groups", n] => {
                Some((Object::EksNodegroup, Some(format!("{c}/{n}"))))
            }
            ["clusters", c, "addons", a] => Some((Object::EksAddon, Some(format!("{c}/{a}")))),
            _ => None,
        }
    }

    /// The transition a write call starts, if any, before looking at its
    /// answer: (object, id if the request names it, kind).
    fn write_target(&self) -> Option<(Object, Option<String>, Kind)> {
        let lower = |name: &str| self.param(name).map(str::to_lowercase);
        let is_true = |name: &str| {
            self.param(name)
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        };
        match (self.service.as_str(), self.action.as_str()) {
            ("ec2", "CreateNatGateway") => {
                return Some((Object::NatGateway, None, Kind::NatGatewayCreate))
            }
            ("ec2", "DeleteNatGateway") => {
                let id = self.param("NatGatewayId").map(str::to_string);
                return Some((Object::NatGateway, id, Kind::NatGatewayDelete));
            }
            ("rds", "CreateDBInstance") => {
                let kind = if is_true("MultiAZ") {
                    Kind::DbInstanceCreateMultiAz
                } else {
                    Kind::DbInstanceCreate
                };
                return Some((Object::DbInstance, lower("DBInstanceIdentifier"), kind));
            }
            ("rds", "CreateDBInstanceReadReplica") => {
                return Some((
                    Object::DbInstance,
                    lower("DBInstanceIdentifier"),
                    Kind::DbInstanceReadReplica,
                ))
            }
            ("rds", "RestoreDBInstanceFromDBSnapshot") => {
                return Some((
                    Object::DbInstance,
                    lower("DBInstanceIdentifier"),
                    Kind::DbInstanceRestore,
                ))
            }
            ("rds", "RestoreDBInstanceToPointInTime") => {
                return Some((
                    Object::DbInstance,
                    lower("TargetDBInstanceIdentifier"),
                    Kind::DbInstanceRestore,
                ))
            }
            ("rds", "ModifyDBInstance") if is_true("ApplyImmediately") => {
                return Some((
                    Object::DbInstance,
                    lower("DBInstanceIdentifier"),
                    Kind::DbInstanceModify,
                ))
            }
            ("rds", "DeleteDBInstance") => {
                let kind = if is_true("SkipFinalSnapshot") {
                    Kind::DbInstanceDelete
                } else {
                    Kind::DbInstanceDeleteFinalSnapshot
                };
                return Some((Object::DbInstance, lower("DBInstanceIdentifier"), kind));
            }
            ("rds", "CreateDBSnapshot") => {
                return Some((
                    Object::DbSnapshot,
                    lower("DBSnapshotIdentifier"),
                    Kind::DbSnapshotCreate,
                ))
            }
            ("eks", _) => {}
            _ => return None,
        }
        let path = self.path();
        match (&self.method, path.as_slice()) {
            (&Method::POST, ["clusters"]) => Some((
                Object::EksCluster,
                self.json_str("name"),
                Kind::EksClusterCreate,
            )),
            (&Method::DELETE, ["clusters", c]) => Some((
                Object::EksCluster,
                Some(c.to_string()),
                Kind::EksClusterDelete,
            )),
            (&Method::POST, ["clusters", c, "node-groups"]) => Some((
                Object::EksNodegroup,
                self.json_str("nodegroupName").map(|n| format!("{c}/{n}")),
                Kind::EksNodegroupCreate,
            )),
            (
                &Method::POST,
                ["clusters", c, "node-groups", n, "update-config" | "update-version"],
            ) => Some((
                Object::EksNodegroup,
                Some(format!("{c}/{n}")),
                Kind::EksNodegroupUpdate,
            )),
            (&Method::DELETE, ["clusters", c, "node-groups", n]) => Some((
                Object::EksNodegroup,
                Some(format!("{c}/{n}")),
                Kind::EksNodegroupDelete,
            )),
            (&Method::POST, ["clusters", c, "addons"]) => Some((
                Object::EksAddon,
                self.json_str("addonName").map(|a| format!("{c}/{a}")),
                Kind::EksAddonCreate,
            )),
            _ => None,
        }
    }
}

/// What the model wants from an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Interest {
    /// Nothing: pass it through untouched.
    None,
    /// A write that starts a transition: read its answer.
    Write,
    /// A read of a modelled object with a transition running: maybe rewrite it.
    Read,
}

/// A read answer the model changed.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Rewritten {
    /// The status (200 when a deleted object is answered from the model's copy).
    pub(crate) status: u16,
    /// The new body.
    pub(crate) body: Vec<u8>,
    /// The content type to set, when the answer is made up from the model's copy.
    pub(crate) content_type: Option<&'static str>,
}

/// A copy of an object being deleted, from the delete's answer.
#[derive(Clone, Debug, PartialEq)]
enum Kept {
    /// The EKS object (`cluster` or `nodegroup` of the answer).
    Json(Value),
    /// The RDS `<DBInstance>` element.
    Xml(String),
}

#[derive(Clone, Debug, PartialEq)]
struct Transition {
    kind: Kind,
    /// Modelled second it started at.
    started: f64,
    copy: Option<Kept>,
}

/// The model's state.
#[derive(Debug)]
pub(crate) struct ProvisioningModel {
    enabled: bool,
    scale: f64,
    /// Real instant and modelled second of the last scale change.
    base_real: Instant,
    base_modelled: f64,
    overrides: BTreeMap<Kind, f64>,
    objects: BTreeMap<(Object, String), Transition>,
}

impl Default for ProvisioningModel {
    fn default() -> Self {
        Self {
            enabled: false,
            scale: 1.0,
            base_real: Instant::now(),
            base_modelled: 0.0,
            overrides: BTreeMap::new(),
            objects: BTreeMap::new(),
        }
    }
}

/// (container, item, id element, status element) of a query-protocol describe.
fn xml_shape(object: Object) -> Option<(&'static str, &'static str, &'static str, &'static str)> {
    match object {
        Object::NatGateway => Some(("natGatewaySet", "item", "natGatewayId", "state")),
        Object::DbInstance => Some((
            "DBInstances",
            "DBInstance",
            "DBInstanceIdentifier",
            "DBInstanceStatus",
        )),
        Object::DbSnapshot => Some((
            "DBSnapshots",
            "DBSnapshot",
            "DBSnapshotIdentifier",
            "Status",
        )),
        _ => None,
    }
}

/// The field of an EKS answer holding the object.
fn json_field(object: Object) -> Option<&'static str> {
    match object {
        Object::EksCluster => Some("cluster"),
        Object::EksNodegroup => Some("nodegroup"),
        Object::EksAddon => Some("addon"),
        _ => None,
    }
}

fn normalise(object: Object, id: &str) -> String {
    match object {
        Object::DbInstance | Object::DbSnapshot => id.to_lowercase(),
        _ => id.to_string(),
    }
}

impl ProvisioningModel {
    /// Checks and applies settings at real instant `now`; on error nothing
    /// changes.
    pub(crate) fn apply(&mut self, settings: &ModelSettings, now: Instant) -> Result<(), Error> {
        if let Some(scale) = settings.time_scale {
            if !(scale.is_finite() && scale > 0.0) {
                return Err(Error::InvalidConfig(format!(
                    "time_scale must be a finite number above 0, got {scale}"
                )));
            }
        }
        if let Some(durations) = &settings.durations {
            if let Some((kind, secs)) = durations
                .iter()
                .find(|(_, s)| !(s.is_finite() && **s >= 0.0))
            {
                return Err(Error::InvalidConfig(format!(
                    "the duration of {kind:?} must be a finite number of seconds, at least 0, got {secs}"
                )));
            }
        }
        if settings.clear {
            self.objects.clear();
        }
        if let Some(scale) = settings.time_scale {
            self.base_modelled = self.modelled(now);
            self.base_real = now;
            self.scale = scale;
        }
        if let Some(durations) = &settings.durations {
            self.overrides = durations.clone();
        }
        if let Some(enabled) = settings.enabled {
            self.enabled = enabled;
        }
        Ok(())
    }

    /// Whether reads are rewritten.
    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }

    /// The modelled clock at real instant `now`.
    fn modelled(&self, now: Instant) -> f64 {
        self.base_modelled
            + now.saturating_duration_since(self.base_real).as_secs_f64() * self.scale
    }

    fn seconds(&self, kind: Kind) -> f64 {
        self.overrides
            .get(&kind)
            .copied()
            .unwrap_or(kind.spec().seconds)
    }

    /// The transition of an object, if it still runs at `now`.
    fn live(&self, object: Object, id: &str, now: Instant) -> Option<&Transition> {
        let t = self.objects.get(&(object, normalise(object, id)))?;
        (self.modelled(now) - t.started < self.seconds(t.kind)).then_some(t)
    }

    fn any_live(&self, object: Object, now: Instant) -> bool {
        let clock = self.modelled(now);
        self.objects
            .iter()
            .any(|((o, _), t)| *o == object && clock - t.started < self.seconds(t.kind))
    }

    /// What the model wants from the answer to `request`.
    pub(crate) fn interest(&self, request: &ModelRequest, now: Instant) -> Interest {
        if !self.enabled {
            return Interest::None;
        }
        if request.write_target().is_some() {
            return Interest::Write;
        }
        match request.read_target() {
            Some((object, _)) if self.any_live(object, now) => Interest::Read,
            _ => Interest::None,
        }
    }

    /// Learns from a write's answer: starts the transition it begins.
    pub(crate) fn after_write(
        &mut self,
        request: &ModelRequest,
        status: u16,
        body: &[u8],
        now: Instant,
    ) {
        if !self.enabled || !(200..300).contains(&status) {
            return;
        }
        let Some((object, id, kind)) = request.write_target() else {
            return;
        };
        let text = String::from_utf8_lossy(body);
        let id = match (id, object) {
            (Some(id), _) => id,
            (None, Object::NatGateway) => {
                let Some(id) = Document::parse(&text).and_then(|doc| {
                    let gateway = doc.named("natGateway").into_iter().next()?;
                    let id = doc.child(gateway, "natGatewayId")?;
                    Some(doc.text(id).to_string())
                }) else {
                    return;
                };
                id
            }
            (None, _) => return,
        };
        let copy = if kind.is_delete() {
            match (json_field(object), xml_shape(object)) {
                (Some(field), _) => serde_json::from_slice::<Value>(body)
                    .ok()
                    .and_then(|v| v.get(field).cloned())
                    .map(Kept::Json),
                (None, Some((_, item, _, _))) if object == Object::DbInstance => {
                    Document::parse(&text).and_then(|doc| {
                        let node = doc.named(item).into_iter().next()?;
                        Some(Kept::Xml(doc.outer(node).to_string()))
                    })
                }
                _ => None,
            }
        } else {
            None
        };
        self.objects.insert(
            (object, normalise(object, &id)),
            Transition {
                kind,
                started: self.modelled(now),
                copy,
            },
        );
    }

    /// Rewrites a read's answer for the objects in transition; `None` leaves it
    /// as it is.
    pub(crate) fn rewrite_read(
        &self,
        request: &ModelRequest,
        status: u16,
        body: &[u8],
        now: Instant,
    ) -> Option<Rewritten> {
        if !self.enabled {
            return None;
        }
        let (object, named) = request.read_target()?;
        if let Some(field) = json_field(object) {
            let id = named?;
            let t = self.live(object, &id, now)?;
            let shown = t.kind.spec().status;
            if (200..300).contains(&status) {
                let mut value: Value = serde_json::from_slice(body).ok()?;
                let item = value.get_mut(field)?.as_object_mut()?;
                item.insert("status".into(), Value::String(shown.into()));
                return Some(Rewritten {
                    status,
                    body: serde_json::to_vec(&value).ok()?,
                    content_type: None,
                });
            }
            if status == 404 {
                let Some(Kept::Json(copy)) = &t.copy else {
                    return None;
                };
                let mut copy = copy.clone();
                if let Some(item) = copy.as_object_mut() {
                    item.insert("status".into(), Value::String(shown.into()));
                }
                let body = serde_json::to_vec(&serde_json::json!({ field: copy })).ok()?;
                return Some(Rewritten {
                    status: 200,
                    body,
                    content_type: Some("application/json"),
                });
            }
            return None;
        }
        let text = std::str::from_utf8(body).ok()?;
        if status == 404 && object == Object::DbInstance {
            return self.made_up_instance(named.as_deref()?, now);
        }
        if !(200..300).contains(&status) {
            return None;
        }
        self.rewrite_xml(object, request, named.as_deref(), text, now)
            .map(|body| Rewritten {
                status,
                body: body.into_bytes(),
                content_type: None,
            })
    }

    /// A `<DBInstance>` copy with its status set to `status`.
    fn copy_with_status(copy: &str, status: &str) -> Option<String> {
        let doc = Document::parse(copy)?;
        let root = doc.named("DBInstance").into_iter().next()?;
        let node = doc.child(root, "DBInstanceStatus")?;
        Some(splice(
            copy,
            vec![(doc.nodes()[node].inner.clone(), status.to_string())],
        ))
    }

    /// A DescribeDBInstances answer made from the copy of an instance being
    /// deleted, for a request that named it and got a 404.
    fn made_up_instance(&self, id: &str, now: Instant) -> Option<Rewritten> {
        let t = self.live(Object::DbInstance, id, now)?;
        let Some(Kept::Xml(copy)) = &t.copy else {
            return None;
        };
        let item = Self::copy_with_status(copy, t.kind.spec().status)?;
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeDBInstancesResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><DescribeDBInstancesResult><DBInstances>{item}</DBInstances></DescribeDBInstancesResult><ResponseMetadata><RequestId>00000000-0000-4000-8000-provisioning</RequestId></ResponseMetadata></DescribeDBInstancesResponse>"
        );
        Some(Rewritten {
            status: 200,
            body: body.into_bytes(),
            content_type: Some("text/xml"),
        })
    }

    fn rewrite_xml(
        &self,
        object: Object,
        request: &ModelRequest,
        named: Option<&str>,
        text: &str,
        now: Instant,
    ) -> Option<String> {
        let (container, item, id_tag, status_tag) = xml_shape(object)?;
        let doc = Document::parse(text)?;
        let mut edits = Vec::new();
        let mut present = Vec::new();
        for node in doc.items(container, item) {
            let Some(id) = doc.child(node, id_tag).map(|n| doc.text(n)) else {
                continue;
            };
            present.push(normalise(object, id));
            let Some(t) = self.live(object, id, now) else {
                continue;
            };
            if let Some(status) = doc.child(node, status_tag) {
                edits.push((
                    doc.nodes()[status].inner.clone(),
                    t.kind.spec().status.to_string(),
                ));
            }
        }
        // DB instances moto has already forgotten, while their delete runs.
        if object == Object::DbInstance && !request.has_param_prefix("Filters.") {
            let clock = self.modelled(now);
            let missing: Vec<String> = self
                .objects
                .iter()
                .filter(|((o, id), t)| {
                    *o == Object::DbInstance
                        && t.kind.is_delete()
                        && clock - t.started < self.seconds(t.kind)
                        && !present.contains(id)
                        && named.is_none_or(|n| n == id)
                })
                .filter_map(|(_, t)| match &t.copy {
                    Some(Kept::Xml(copy)) => Self::copy_with_status(copy, t.kind.spec().status),
                    _ => None,
                })
                .collect();
            if !missing.is_empty() {
                if let Some(list) = doc.named(container).into_iter().next() {
                    let node = &doc.nodes()[list];
                    let joined = missing.concat();
                    if node.inner.is_empty() && text[node.outer.clone()].ends_with("/>") {
                        edits.push((
                            node.outer.clone(),
                            format!("<{container}>{joined}</{container}>"),
                        ));
                    } else {
                        edits.push((node.inner.end..node.inner.end, joined));
                    }
                }
            }
        }
        if edits.is_empty() {
            return None;
        }
        Some(splice(text, edits))
    }

    /// The model as reported by the control plane.
    pub(crate) fn report(&self, now: Instant) -> ModelReport {
        let clock = self.modelled(now);
        let kinds = KINDS
            .iter()
            .map(|spec| {
                let seconds = self.seconds(spec.kind);
                KindReport {
                    kind: spec.kind,
                    object: spec.object,
                    status: spec.status.to_string(),
                    seconds,
                    default_seconds: spec.seconds,
                    real_seconds: seconds / self.scale,
                    source: spec.source.to_string(),
                }
            })
            .collect();
        let objects = self
            .objects
            .iter()
            .filter_map(|((object, id), t)| {
                let elapsed = clock - t.started;
                let remaining = self.seconds(t.kind) - elapsed;
                (remaining > 0.0).then(|| ObjectReport {
                    object: *object,
                    id: id.clone(),
                    kind: t.kind,
                    status: t.kind.spec().status.to_string(),
                    elapsed_seconds: elapsed,
                    remaining_seconds: remaining,
                })
            })
            .collect();
        ModelReport {
            enabled: self.enabled,
            time_scale: self.scale,
            modelled_seconds: clock,
            kinds,
            objects,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::classify;
    use hyper::header::HeaderValue;
    use hyper::http::HeaderMap;
    use std::time::Duration;

    fn request(service: &str, method: Method, uri: &'static str, body: &str) -> ModelRequest {
        let mut h = HeaderMap::new();
        let auth = format!("AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/{service}/aws4_request, Signature=x");
        h.insert(
            "authorization",
            HeaderValue::from_str(&auth).expect("header"),
        );
        if service != "eks" {
            h.insert(
                "content-type",
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            );
        }
        let uri = Uri::from_static(uri);
        let class = classify(&method, &uri, &h, body.as_bytes());
        ModelRequest::new(&class, &method, &uri, body.as_bytes())
    }

    fn on(scale: f64, now: Instant) -> ProvisioningModel {
        let mut model = ProvisioningModel::default();
        model
            .apply(
                &ModelSettings {
                    enabled: Some(true),
                    time_scale: Some(scale),
                    ..ModelSettings::default()
                },
                now,
            )
            .expect("valid settings");
        model
    }

    #[test]
    fn every_kind_has_one_row_with_a_source() {
        let kinds = [
            Kind::NatGatewayCreate,
            Kind::NatGatewayDelete,
            Kind::EksClusterCreate,
            Kind::EksClusterDelete,
            Kind::EksNodegroupCreate,
            Kind::EksNodegroupUpdate,
            Kind::EksNodegroupDelete,
            Kind::EksAddonCreate,
            Kind::DbInstanceCreate,
            Kind::DbInstanceCreateMultiAz,
            Kind::DbInstanceReadReplica,
            Kind::DbInstanceRestore,
            Kind::DbInstanceModify,
            Kind::DbInstanceDelete,
            Kind::DbInstanceDeleteFinalSnapshot,
            Kind::DbSnapshotCreate,
        ];
        assert_eq!(kinds.len(), KINDS.len());
        for kind in kinds {
            assert_eq!(
                KINDS.iter().filter(|s| s.kind == kind).count(),
                1,
                "{kind:?}"
            );
            let spec = kind.spec();
            assert_eq!(spec.kind, kind);
            assert!(spec.seconds > 0.0 && !spec.source.is_empty());
        }
    }

    #[test]
    fn writes_are_recognised() {
        let target = |r: ModelRequest| r.write_target();
        assert_eq!(
            target(request(
                "rds",
                Method::POST,
                "/",
                "Action=CreateDBInstanceReadReplica&DBInstanceIdentifier=Replica-1"
            )),
            Some((
                Object::DbInstance,
                Some("replica-1".into()),
                Kind::DbInstanceReadReplica
            ))
        );
        assert_eq!(
            target(request(
                "rds",
                Method::POST,
                "/",
                "Action=RestoreDBInstanceToPointInTime&TargetDBInstanceIdentifier=r2"
            )),
            Some((
                Object::DbInstance,
                Some("r2".into()),
                Kind::DbInstanceRestore
            ))
        );
        assert_eq!(
            target(request(
                "rds",
                Method::POST,
                "/",
                "Action=RestoreDBInstanceFromDBSnapshot&DBInstanceIdentifier=r3"
            )),
            Some((
                Object::DbInstance,
                Some("r3".into()),
                Kind::DbInstanceRestore
            ))
        );
        assert_eq!(
            target(request(
                "rds",
                Method::POST,
                "/",
                "Action=ModifyDBInstance&DBInstanceIdentifier=d&ApplyImmediately=true"
            )),
            Some((Object::DbInstance, Some("d".into()), Kind::DbInstanceModify))
        );
        assert_eq!(
            target(request(
                "rds",
                Method::POST,
                "/",
                "Action=ModifyDBInstance&DBInstanceIdentifier=d"
            )),
            None,
            "changes for the maintenance window change no status"
        );
        assert_eq!(
            target(request(
                "rds",
                Method::POST,
                "/",
                "Action=DeleteDBInstance&DBInstanceIdentifier=d&SkipFinalSnapshot=true"
            )),
            Some((Object::DbInstance, Some("d".into()), Kind::DbInstanceDelete))
        );
        assert_eq!(
            target(request(
                "rds",
                Method::POST,
                "/",
                "Action=CreateDBSnapshot&DBSnapshotIdentifier=S1&DBInstanceIdentifier=d"
            )),
            Some((
                Object::DbSnapshot,
                Some("s1".into()),
                Kind::DbSnapshotCreate
            ))
        );
        assert_eq!(
            target(request(
                "eks",
                Method::POST,
                "/clusters/prod/node-groups",
                r#"{"nodegroupName":"general"}"#
            )),
            Some((
                Object::EksNodegroup,
                Some("prod/general".into()),
                Kind::EksNodegroupCreate
            ))
        );
        assert_eq!(
            target(request(
                "eks",
                Method::POST,
                "/clusters/prod/node-groups/general/update-config",
                "{}"
            )),
            Some((
                Object::EksNodegroup,
                Some("prod/general".into()),
                Kind::EksNodegroupUpdate
            ))
        );
        assert_eq!(
            target(request(
                "eks",
                Method::DELETE,
                "/clusters/prod/node-groups/general",
                ""
            )),
            Some((
                Object::EksNodegroup,
                Some("prod/general".into()),
                Kind::EksNodegroupDelete
            ))
        );
        assert_eq!(
            target(request(
                "eks",
                Method::POST,
                "/clusters/prod/addons",
                r#"{"addonName":"vpc-cni"}"#
            )),
            Some((
                Object::EksAddon,
                Some("prod/vpc-cni".into()),
                Kind::EksAddonCreate
            ))
        );
        assert_eq!(
            target(request("ec2", Method::POST, "/", "Action=CreateVpc")),
            None
        );
        assert_eq!(
            target(request("eks", Method::GET, "/clusters/prod", "")),
            None
        );
    }

    #[test]
    fn node_groups_add_ons_and_snapshots_are_rewritten() {
        let t0 = Instant::now();
        let mut model = on(60.0, t0);
        let ok = br#"{"nodegroup":{"status":"ACTIVE"}}"#;
        model.after_write(
            &request(
                "eks",
                Method::POST,
                "/clusters/prod/node-groups/ng/update-config",
                "{}",
            ),
            200,
            b"{}",
            t0,
        );
        model.after_write(
            &request(
                "eks",
                Method::POST,
                "/clusters/prod/addons",
                r#"{"addonName":"coredns"}"#,
            ),
            200,
            b"{}",
            t0,
        );
        model.after_write(
            &request(
                "rds",
                Method::POST,
                "/",
                "Action=CreateDBSnapshot&DBSnapshotIdentifier=snap",
            ),
            200,
            b"",
            t0,
        );
        // A failed call starts nothing.
        model.after_write(
            &request(
                "eks",
                Method::POST,
                "/clusters/other/addons",
                r#"{"addonName":"coredns"}"#,
            ),
            409,
            b"{}",
            t0,
        );
        let read_ng = request("eks", Method::GET, "/clusters/prod/node-groups/ng", "");
        assert_eq!(model.interest(&read_ng, t0), Interest::Read);
        let at = |secs: f64| t0 + Duration::from_secs_f64(secs / 60.0);
        let rewritten = model
            .rewrite_read(&read_ng, 200, ok, at(299.0))
            .expect("rewritten");
        let value: Value = serde_json::from_slice(&rewritten.body).expect("json");
        assert_eq!(value["nodegroup"]["status"], "UPDATING");
        assert!(
            model.rewrite_read(&read_ng, 200, ok, at(301.0)).is_none(),
            "over after 300 modelled s"
        );

        let read_addon = request("eks", Method::GET, "/clusters/prod/addons/coredns", "");
        let addon = model
            .rewrite_read(
                &read_addon,
                200,
                br#"{"addon":{"status":"ACTIVE"}}"#,
                at(59.0),
            )
            .expect("rewritten");
        assert!(String::from_utf8_lossy(&addon.body).contains("CREATING"));
        assert!(model
            .rewrite_read(
                &request("eks", Method::GET, "/clusters/other/addons/coredns", ""),
                200,
                br#"{"addon":{"status":"ACTIVE"}}"#,
                at(1.0)
            )
            .is_none());

        let snaps = "<DescribeDBSnapshotsResponse><DescribeDBSnapshotsResult><DBSnapshots><DBSnapshot><DBSnapshotIdentifier>snap</DBSnapshotIdentifier><Status>available</Status></DBSnapshot></DBSnapshots></DescribeDBSnapshotsResult></DescribeDBSnapshotsResponse>";
        let read_snaps = request("rds", Method::POST, "/", "Action=DescribeDBSnapshots");
        let out = model
            .rewrite_read(&read_snaps, 200, snaps.as_bytes(), at(100.0))
            .expect("rewritten");
        assert_eq!(
            String::from_utf8_lossy(&out.body),
            snaps.replace("<Status>available", "<Status>creating")
        );
        assert!(model
            .rewrite_read(&read_snaps, 200, snaps.as_bytes(), at(241.0))
            .is_none());
    }

    #[test]
    fn changing_the_scale_keeps_the_modelled_time() {
        let t0 = Instant::now();
        let mut model = on(10.0, t0);
        let t1 = t0 + Duration::from_secs(2);
        assert!((model.modelled(t1) - 20.0).abs() < 1e-9);
        model
            .apply(
                &ModelSettings {
                    time_scale: Some(100.0),
                    ..ModelSettings::default()
                },
                t1,
            )
            .expect("valid");
        let t2 = t1 + Duration::from_secs(1);
        assert!((model.modelled(t2) - 120.0).abs() < 1e-9);
        let bad = ModelSettings {
            time_scale: Some(f64::NAN),
            ..ModelSettings::default()
        };
        assert!(model.apply(&bad, t2).is_err());
        assert_eq!(model.report(t2).time_scale, 100.0);
        // Off: nothing is rewritten or learned.
        model
            .apply(
                &ModelSettings {
                    enabled: Some(false),
                    ..ModelSettings::default()
                },
                t2,
            )
            .expect("valid");
        let read = request("eks", Method::GET, "/clusters/prod", "");
        assert_eq!(model.interest(&read, t2), Interest::None);
    }
}
