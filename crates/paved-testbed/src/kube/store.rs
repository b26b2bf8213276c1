//! Object storage and the write semantics of the API server: metadata,
//! server-side apply with field ownership, updates, patches, cascading
//! deletes, and the status the stand-in's "controllers" report.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use super::api_error::{ApiError, FieldError};
use super::controllers::{self, CONTROLLER_MANAGER};
use super::fields::{self, FieldPath, FieldSet};
use super::resources::{self, ResourceType, StatusModel};
use super::selector::{labels_of, FieldSelector, LabelSelector};
use super::validation::{self, DEFAULT_CLASS_ANNOTATION};

/// Namespaces that exist from the start and cannot be deleted.
pub const INITIAL_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public"];

/// How a manager touched its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Server-side apply.
    Apply,
    /// Create, update (PUT) or a non-apply patch.
    Update,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// One `metadata.managedFields` entry.
#[derive(Debug, Clone, PartialEq)]
struct Manager {
    name: String,
    operation: Operation,
    api_version: String,
    time: String,
    fields: FieldSet,
}

impl Manager {
    fn is(&self, name: &str, operation: Operation) -> bool {
        self.name == name && self.operation == operation
    }

    /// As the API server names a manager in conflict messages.
    fn display(&self) -> String {
        match self.operation {
            Operation::Apply => format!("{:?}", self.name),
            Operation::Update => format!("{:?} using {}", self.name, self.api_version),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "manager": self.name,
            "operation": self.operation.as_str(),
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": fields::to_fields_v1(&self.fields),
        })
    }
}

/// A stored object: the JSON without `status` and `managedFields`, which are
/// rendered on the way out.
#[derive(Debug, Clone)]
struct Stored {
    obj: Value,
    managers: Vec<Manager>,
    /// When the last generation change is "rolled out" (status readiness).
    ready_at: Instant,
    /// StatefulSets: the revision a template change is rolling out from
    /// (`status.currentRevision` until `ready_at`).
    rollout_from: Option<String>,
}

/// `(group/plural, namespace, name)`; namespace is empty when cluster-scoped.
type Key = (String, String, String);

fn key(rt: &ResourceType, namespace: &str, name: &str) -> Key {
    (
        rt.qualified_plural(),
        namespace.to_string(),
        name.to_string(),
    )
}

/// Settings of the simulated controllers.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// Delay between a workload's generation change and its status being ready.
    pub ready_after: Duration,
    /// Number of nodes DaemonSets schedule on.
    pub node_count: u32,
    /// The served Kubernetes minor version (`31` for v1.31.0): validation
    /// messages that changed between versions follow it.
    pub minor_version: u32,
}

/// What a delete does to dependents (`propagationPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// Dependents are deleted (immediately, here).
    Background,
    /// Dependents are deleted first (immediately, here).
    Foreground,
    /// Dependents lose their owner reference and stay.
    Orphan,
}

impl Propagation {
    /// Parses a `propagationPolicy` value.
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        match s {
            "Background" => Ok(Self::Background),
            "Foreground" => Ok(Self::Foreground),
            "Orphan" => Ok(Self::Orphan),
            other => Err(ApiError::bad_request(format!(
                "propagationPolicy: Unsupported value: {other:?}: supported values: \"Foreground\", \"Background\", \"Orphan\""
            ))),
        }
    }

    /// The `propagationPolicy` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Background => "Background",
            Self::Foreground => "Foreground",
            Self::Orphan => "Orphan",
        }
    }
}

/// One object deleted by a DELETE request (of the object or of a
/// collection it was in), with the propagation policy in effect: the
/// request's `propagationPolicy` (query or `DeleteOptions` body),
/// `orphanDependents: true` as `Orphan`, else `Background`.
///
/// The stand-in has no Pods or ReplicaSets, so for a workload `Orphan` and
/// `Background` differ only in this record (and for dependents that carry
/// an owner reference to it, such as claims of a StatefulSet whose
/// `whenDeleted` is `Delete`: `Orphan` keeps them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    /// The object's kind (`StatefulSet`).
    pub kind: String,
    /// Its namespace (empty for cluster-scoped kinds).
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// The propagation policy the delete used.
    pub propagation: Propagation,
}

impl Deletion {
    /// As `GET /_fake/deletions` lists it.
    pub fn to_json(&self) -> Value {
        json!({
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "propagationPolicy": self.propagation.as_str(),
        })
    }
}

/// The result of a write: the rendered object and whether it was created.
#[derive(Debug, Clone)]
pub struct Written {
    /// The object as the API answers it.
    pub object: Value,
    /// Whether the write created the object (HTTP 201).
    pub created: bool,
}

/// Every object, plus the global resourceVersion counter.
#[derive(Debug)]
pub struct Store {
    objects: BTreeMap<Key, Stored>,
    resource_version: u64,
    behaviour: Behaviour,
    deletions: Vec<Deletion>,
}

/// Current wall-clock time as the API server prints it (seconds, UTC).
pub fn timestamp_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let dt = time::OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(0))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

fn new_uid() -> String {
    let mut b = [0u8; 16];
    if aws_lc_rs::rand::fill(&mut b).is_err() {
        // Never expected; fall back to the clock so uids stay distinct.
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        b = nanos.to_le_bytes();
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut b = [0u8; 5];
    let _ = aws_lc_rs::rand::fill(&mut b);
    b.iter()
        .map(|x| ALPHABET[usize::from(*x) % ALPHABET.len()] as char)
        .collect()
}

fn str_at<'a>(obj: &'a Value, pointer: &str) -> Option<&'a str> {
    obj.pointer(pointer).and_then(Value::as_str)
}

/// The object without `metadata`: what a generation change is measured on.
fn without_metadata(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
    }
    v
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_path_segment_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s != "." && s != ".." && !s.contains(['/', '%'])
}

/// RFC 7386 JSON merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Some(t) = target.as_object_mut() {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// RFC 6902 JSON patch (add, remove, replace, test, copy, move).
pub fn json_patch(target: &mut Value, ops: &Value) -> Result<(), ApiError> {
    let ops = ops
        .as_array()
        .ok_or_else(|| ApiError::bad_request("a JSON patch must be a list of operations"))?;
    for op in ops {
        let name = str_at(op, "/op").unwrap_or("");
        let path = str_at(op, "/path").unwrap_or("");
        let bad = |msg: &str| ApiError::bad_request(format!("JSON patch {name} {path}: {msg}"));
        match name {
            "add" | "replace" => {
                let value = op.get("value").cloned().ok_or_else(|| bad("no value"))?;
                pointer_set(target, path, value, name == "add").map_err(|e| bad(&e))?;
            }
            "remove" => {
                pointer_remove(target, path).map_err(|e| bad(&e))?;
            }
            "test" => {
                if target.pointer(path) != op.get("value") {
                    return Err(ApiError::invalid_patch_test(path));
                }
            }
            "copy" | "move" => {
                let from = str_at(op, "/from").ok_or_else(|| bad("no from"))?;
                let value = target
                    .pointer(from)
                    .cloned()
                    .ok_or_else(|| bad("from does not exist"))?;
                if name == "move" {
                    pointer_remove(target, from).map_err(|e| bad(&e))?;
                }
                pointer_set(target, path, value, true).map_err(|e| bad(&e))?;
            }
            _ => return Err(bad("unsupported operation")),
        }
    }
    Ok(())
}

impl ApiError {
    fn invalid_patch_test(path: &str) -> Self {
        ApiError {
            code: 422,
            reason: "Invalid",
            message: format!("the test operation of the JSON patch failed at {path}"),
            details: None,
        }
    }
}

fn split_pointer(path: &str) -> Result<(String, String), String> {
    let i = path.rfind('/').ok_or("the path is not a JSON pointer")?;
    let last = path[i + 1..].replace("~1", "/").replace("~0", "~");
    Ok((path[..i].to_string(), last))
}

fn pointer_set(target: &mut Value, path: &str, value: Value, add: bool) -> Result<(), String> {
    if path.is_empty() {
        *target = value;
        return Ok(());
    }
    let (parent, last) = split_pointer(path)?;
    let parent = target
        .pointer_mut(&parent)
        .ok_or("the parent does not exist")?;
    match parent {
        Value::Object(m) => {
            if !add && !m.contains_key(&last) {
                return Err("the path does not exist".into());
            }
            m.insert(last, value);
        }
        Value::Array(a) => {
            if last == "-" && add {
                a.push(value);
            } else {
                let i: usize = last.parse().map_err(|_| "bad list index")?;
                if add && i <= a.len() {
                    a.insert(i, value);
                } else if !add && i < a.len() {
                    a[i] = value;
                } else {
                    return Err("list index out of range".into());
                }
            }
        }
        _ => return Err("the parent is not a map or list".into()),
    }
    Ok(())
}

fn pointer_remove(target: &mut Value, path: &str) -> Result<(), String> {
    let (parent, last) = split_pointer(path)?;
    let parent = target
        .pointer_mut(&parent)
        .ok_or("the parent does not exist")?;
    let removed = match parent {
        Value::Object(m) => m.remove(&last).is_some(),
        Value::Array(a) => match last.parse::<usize>() {
            Ok(i) if i < a.len() => {
                a.remove(i);
                true
            }
            _ => false,
        },
        _ => false,
    };
    if removed {
        Ok(())
    } else {
        Err("the path does not exist".into())
    }
}

/// A conflict found by apply: which manager owns which path.
struct Conflict {
    manager: usize,
    path: FieldPath,
}

fn conflict_error(managers: &[Manager], conflicts: &[Conflict]) -> ApiError {
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|c| {
            json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with {}", managers[c.manager].display()),
                "field": fields::display(&c.path),
            })
        })
        .collect();
    let message = if let [c] = conflicts {
        format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            managers[c.manager].display(),
            fields::display(&c.path)
        )
    } else {
        let mut by_manager: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for c in conflicts {
            by_manager
                .entry(managers[c.manager].display())
                .or_default()
                .push(fields::display(&c.path));
        }
        let mut lines = Vec::new();
        for (manager, paths) in by_manager {
            lines.push(format!("conflicts with {manager}:"));
            lines.extend(paths.into_iter().map(|p| format!("- {p}")));
        }
        format!(
            "Apply failed with {} conflicts: {}",
            conflicts.len(),
            lines.join("\n")
        )
    };
    ApiError::apply_conflict(message, causes)
}

/// Drops owned paths that no longer exist in `obj`, and empty managers.
fn prune_managers(managers: &mut Vec<Manager>, obj: &Value) {
    for m in managers.iter_mut() {
        m.fields
            .retain(|p| fields::get(obj, p).is_some_and(|v| !v.is_null()));
    }
    managers.retain(|m| !m.fields.is_empty());
}

/// Records an Update-operation write: the writer takes every field it
/// changed (from whoever owned it), owners of removed fields lose them.
fn record_update(
    managers: &mut Vec<Manager>,
    old: Option<&Value>,
    new: &Value,
    manager: &str,
    api_version: &str,
) {
    let changed: FieldSet = fields::leaves(new)
        .into_iter()
        .filter(|p| old.and_then(|o| fields::get(o, p)) != fields::get(new, p))
        .collect();
    if !changed.is_empty() {
        for m in managers.iter_mut() {
            if !m.is(manager, Operation::Update) {
                m.fields
                    .retain(|q| !changed.iter().any(|p| fields::overlaps(p, q)));
            }
        }
        let now = timestamp_now();
        match managers
            .iter_mut()
            .find(|m| m.is(manager, Operation::Update))
        {
            Some(m) => {
                m.fields.extend(changed);
                m.time = now;
                m.api_version = api_version.to_string();
            }
            None => managers.push(Manager {
                name: manager.to_string(),
                operation: Operation::Update,
                api_version: api_version.to_string(),
                time: now,
                fields: changed,
            }),
        }
    }
    prune_managers(managers, new);
}

impl Store {
    /// A store holding the initial namespaces.
    pub fn new(behaviour: Behaviour) -> Self {
        let mut store = Self {
            objects: BTreeMap::new(),
            resource_version: 0,
            behaviour,
            deletions: Vec::new(),
        };
        if let Some(ns) = resources::find_kind("", "Namespace") {
            for name in INITIAL_NAMESPACES {
                let obj =
                    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
                let _ = store.commit(ns, "", name, obj, Vec::new(), Instant::now(), false);
            }
        }
        store
    }

    /// The global resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.resource_version
    }

    /// Every object deleted by a request so far, oldest first.
    pub fn deletions(&self) -> &[Deletion] {
        &self.deletions
    }

    /// The StorageClass named `name`.
    fn storage_class(&self, name: &str) -> Option<&Value> {
        self.objects
            .get(&(
                "storageclasses.storage.k8s.io".to_string(),
                String::new(),
                name.to_string(),
            ))
            .map(|s| &s.obj)
    }

    /// The StorageClass annotated as the default one, if any.
    fn default_storage_class(&self) -> Option<&Value> {
        self.objects
            .iter()
            .filter(|((plural, _, _), _)| plural == "storageclasses.storage.k8s.io")
            .map(|(_, s)| &s.obj)
            .find(|sc| {
                sc.pointer("/metadata/annotations")
                    .and_then(|a| a.get(DEFAULT_CLASS_ANNOTATION))
                    .and_then(Value::as_str)
                    == Some("true")
            })
    }

    /// Admission and validation of a write whose defaults are filled:
    /// mutating admission of creates (`DefaultStorageClass`: a claim without
    /// `storageClassName` gets the default class's name), update validation
    /// (StatefulSet spec immutability, claim spec immutability and no
    /// shrinking), APIService names, then validating admission
    /// (`PersistentVolumeClaimResize`).
    fn admit(
        &self,
        rt: &ResourceType,
        name: &str,
        old: Option<&Value>,
        new: &mut Value,
    ) -> Result<(), ApiError> {
        if old.is_none() && rt.status == StatusModel::PersistentVolumeClaim {
            let unset = new
                .pointer("/spec/storageClassName")
                .is_none_or(Value::is_null)
                && validation::claim_class(new).is_none();
            let default = self
                .default_storage_class()
                .and_then(|sc| str_at(sc, "/metadata/name"))
                .map(str::to_string);
            if let (true, Some(class)) = (unset, default) {
                fields::set(
                    new,
                    &["spec".to_string(), "storageClassName".to_string()],
                    json!(class),
                );
            }
        }
        let mut errors = Vec::new();
        match (rt.status, old) {
            (StatusModel::StatefulSet, Some(old)) => {
                errors.extend(validation::statefulset_update(
                    old,
                    new,
                    self.behaviour.minor_version,
                ));
            }
            (StatusModel::PersistentVolumeClaim, Some(old)) => {
                errors.extend(validation::pvc_update(old, new, self.pvc_can_bind(old)));
            }
            (StatusModel::ApiService, _) => errors.extend(validation::apiservice(name, new)),
            _ => {}
        }
        if !errors.is_empty() {
            return Err(ApiError::invalid(rt, name, &errors));
        }
        if let (StatusModel::PersistentVolumeClaim, Some(old)) = (rt.status, old) {
            if validation::pvc_grows(old, new) {
                let class = validation::claim_class(old)
                    .filter(|c| !c.is_empty())
                    .and_then(|c| self.storage_class(c));
                validation::pvc_resize_admission(rt, name, self.pvc_can_bind(old), class)?;
            }
        }
        Ok(())
    }

    fn namespace_exists(&self, name: &str) -> bool {
        self.objects
            .contains_key(&("namespaces".to_string(), String::new(), name.to_string()))
    }

    /// Checks the URL namespace of a write: present for namespaced types and
    /// existing, absent for cluster-scoped ones.
    fn check_namespace(&self, rt: &ResourceType, namespace: &str) -> Result<(), ApiError> {
        if rt.namespaced {
            if namespace.is_empty() {
                return Err(ApiError::bad_request(
                    "the server could not find the requested resource: a namespace is required",
                ));
            }
            if !self.namespace_exists(namespace) {
                return Err(ApiError::namespace_not_found(namespace));
            }
        }
        Ok(())
    }

    /// Validates a request body against the URL and normalises its identity
    /// (apiVersion, kind, name, namespace); drops server-managed metadata and
    /// `status`, which the main resource does not write.
    fn prepare_body(
        &self,
        rt: &ResourceType,
        namespace: &str,
        url_name: Option<&str>,
        body: &Value,
        require_type_meta: bool,
    ) -> Result<(Value, String), ApiError> {
        let mut obj = body.clone();
        let Some(map) = obj.as_object_mut() else {
            return Err(ApiError::bad_request(
                "the request body is not a JSON object",
            ));
        };
        let api_version = rt.api_version();
        match map.get("apiVersion").and_then(Value::as_str) {
            Some(v) if v == api_version => {}
            Some(v) => {
                return Err(ApiError::bad_request(format!(
                    "the API version in the data ({v}) does not match the expected API version ({api_version})"
                )))
            }
            None if require_type_meta => {
                return Err(ApiError::bad_request("apiVersion must be set"));
            }
            None => {}
        }
        match map.get("kind").and_then(Value::as_str) {
            Some(k) if k == rt.kind => {}
            Some(k) => {
                return Err(ApiError::bad_request(format!(
                    "the kind in the data ({k}) does not match the expected kind ({})",
                    rt.kind
                )))
            }
            None if require_type_meta => return Err(ApiError::bad_request("kind must be set")),
            None => {}
        }
        map.insert("apiVersion".into(), json!(api_version));
        map.insert("kind".into(), json!(rt.kind));
        map.remove("status");
        let meta = map
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        let Some(meta) = meta.as_object_mut() else {
            return Err(ApiError::bad_request("metadata is not a map"));
        };
        for k in [
            "uid",
            "creationTimestamp",
            "generation",
            "managedFields",
            "selfLink",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ] {
            meta.remove(k);
        }
        let mut name = meta
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if let Some(url_name) = url_name {
            if name.is_empty() {
                name = url_name.to_string();
            } else if name != url_name {
                return Err(ApiError::bad_request(
                    "the name of the object does not match the name on the URL",
                ));
            }
        }
        if name.is_empty() {
            if let Some(prefix) = meta.get("generateName").and_then(Value::as_str) {
                name = format!("{prefix}{}", random_suffix());
            }
        }
        if name.is_empty() {
            return Err(ApiError::invalid(
                rt,
                "",
                &[FieldError::required(
                    "metadata.name",
                    "name or generateName is required",
                )],
            ));
        }
        let valid = if rt.kind == "Namespace" {
            is_dns_label(&name)
        } else {
            is_path_segment_name(&name)
        };
        if !valid {
            return Err(ApiError::invalid(
                rt,
                &name,
                &[FieldError::invalid(
                    "metadata.name",
                    format!("{name:?}"),
                    "must be a valid name",
                )],
            ));
        }
        meta.insert("name".into(), json!(name));
        if rt.namespaced {
            match meta.get("namespace").and_then(Value::as_str) {
                Some(ns) if !ns.is_empty() && ns != namespace => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ))
                }
                _ => {}
            }
            meta.insert("namespace".into(), json!(namespace));
        } else {
            meta.remove("namespace");
        }
        Ok((obj, name))
    }

    /// Stores `obj` under its key with server metadata filled in; returns
    /// the rendered object. A write that changes nothing keeps the
    /// resourceVersion.
    #[allow(clippy::too_many_arguments)]
    fn commit(
        &mut self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        mut obj: Value,
        managers: Vec<Manager>,
        now: Instant,
        dry_run: bool,
    ) -> Written {
        let k = key(rt, namespace, name);
        let existing = self.objects.get(&k);
        let created = existing.is_none();
        let (uid, created_at, mut generation, mut ready_at, mut rv) = match existing {
            Some(s) => (
                str_at(&s.obj, "/metadata/uid").unwrap_or("").to_string(),
                str_at(&s.obj, "/metadata/creationTimestamp")
                    .unwrap_or("")
                    .to_string(),
                s.obj
                    .pointer("/metadata/generation")
                    .and_then(Value::as_i64)
                    .unwrap_or(1),
                s.ready_at,
                str_at(&s.obj, "/metadata/resourceVersion")
                    .unwrap_or("")
                    .to_string(),
            ),
            None => (
                new_uid(),
                timestamp_now(),
                1,
                now + self.behaviour.ready_after,
                String::new(),
            ),
        };
        let mut rollout_from = existing.and_then(|s| s.rollout_from.clone());
        let mut old_statefulset = None;
        if let (StatusModel::StatefulSet, Some(s)) = (rt.status, existing) {
            let before = controllers::revision(name, s.obj.pointer("/spec/template"));
            let after = controllers::revision(name, obj.pointer("/spec/template"));
            let rolling = now < s.ready_at;
            if before != after {
                // A change during a rollout keeps rolling from where it started.
                if !(rolling && rollout_from.is_some()) {
                    rollout_from = Some(before);
                }
            } else if !rolling {
                rollout_from = None;
            }
            old_statefulset = Some(s.obj.clone());
        }
        let mut changed = true;
        if let Some(s) = existing {
            let mut old_body = s.obj.clone();
            let mut new_body = obj.clone();
            for v in [&mut old_body, &mut new_body] {
                if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
                    m.remove("resourceVersion");
                    m.remove("uid");
                    m.remove("creationTimestamp");
                    m.remove("generation");
                }
            }
            let same_fields = s.managers.len() == managers.len()
                && s.managers.iter().zip(&managers).all(|(a, b)| {
                    a.name == b.name && a.operation == b.operation && a.fields == b.fields
                });
            changed = old_body != new_body || !same_fields;
            if without_metadata(&s.obj) != without_metadata(&obj) {
                generation += 1;
                ready_at = now + self.behaviour.ready_after;
            }
        }
        if changed && !dry_run {
            self.resource_version += 1;
            rv = self.resource_version.to_string();
        }
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("uid".into(), json!(uid));
            meta.insert("creationTimestamp".into(), json!(created_at));
            meta.insert("generation".into(), json!(generation));
            meta.insert("resourceVersion".into(), json!(rv));
        }
        let stored = Stored {
            obj,
            managers,
            ready_at,
            rollout_from,
        };
        let object = self.render(rt, &stored, now);
        if changed && !dry_run {
            self.objects.insert(k, stored);
            if rt.status == StatusModel::StatefulSet {
                self.statefulset_claims(namespace, name, old_statefulset.as_ref(), now);
            }
        }
        Written { object, created }
    }

    /// The StatefulSet controller's claims: every claim template gets a
    /// PersistentVolumeClaim per ordinal, made unless it exists (so claims
    /// are made on create and scale-up and never changed afterwards). On a
    /// scale-down, claims of the removed ordinals go only when
    /// `persistentVolumeClaimRetentionPolicy.whenScaled` is `Delete`;
    /// `whenDeleted: Delete` is modelled by the owner reference the claims
    /// are made with (deleting the StatefulSet then deletes them, unless the
    /// delete orphans). All claims are made at once, where the real
    /// controller makes them with each pod.
    fn statefulset_claims(
        &mut self,
        namespace: &str,
        name: &str,
        old: Option<&Value>,
        now: Instant,
    ) {
        let (Some(sts_rt), Some(pvc_rt)) = (
            resources::find("apps", "v1", "statefulsets"),
            resources::find("", "v1", "persistentvolumeclaims"),
        ) else {
            return;
        };
        let Some(sts) = self
            .objects
            .get(&key(sts_rt, namespace, name))
            .map(|s| s.obj.clone())
        else {
            return;
        };
        let wanted = controllers::ordinals(&sts);
        for ordinal in wanted.clone() {
            for claim in controllers::claims_for(&sts, ordinal) {
                let claim_name = str_at(&claim, "/metadata/name").unwrap_or("");
                if self
                    .objects
                    .contains_key(&key(pvc_rt, namespace, claim_name))
                {
                    continue;
                }
                // Refused claims (e.g. an invalid name) are skipped, as the
                // controller would only report them in events.
                let _ = self.create(pvc_rt, namespace, &claim, CONTROLLER_MANAGER, now, false);
            }
        }
        let Some(old) = old else { return };
        if !controllers::deletes_claims(&sts, "whenScaled") {
            return;
        }
        let templates = controllers::template_names(&sts);
        let condemned: Vec<Key> = controllers::ordinals(old)
            .filter(|o| !wanted.contains(o))
            .flat_map(|o| {
                templates
                    .iter()
                    .map(move |t| key(pvc_rt, namespace, &controllers::claim_name(t, name, o)))
            })
            .filter(|k| self.objects.contains_key(k))
            .collect();
        if !condemned.is_empty() {
            self.remove_cascading(condemned, Propagation::Background);
        }
    }

    /// The object as the API answers it: with `managedFields` and `status`.
    fn render(&self, rt: &ResourceType, stored: &Stored, now: Instant) -> Value {
        let mut obj = stored.obj.clone();
        if !stored.managers.is_empty() {
            if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
                let entries: Vec<Value> = stored.managers.iter().map(Manager::to_json).collect();
                meta.insert("managedFields".into(), Value::Array(entries));
            }
        }
        if let Some(status) = self.status_of(rt, stored, now) {
            if let Some(map) = obj.as_object_mut() {
                map.insert("status".into(), status);
            }
        }
        obj
    }

    fn status_of(&self, rt: &ResourceType, stored: &Stored, now: Instant) -> Option<Value> {
        let obj = &stored.obj;
        let generation = obj
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)?;
        let ready = now >= stored.ready_at;
        let replicas = obj
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let name = str_at(obj, "/metadata/name").unwrap_or("");
        match rt.status {
            StatusModel::None => None,
            StatusModel::Namespace => Some(json!({"phase": "Active"})),
            StatusModel::Deployment if ready => Some(json!({
                "observedGeneration": generation,
                "replicas": replicas,
                "updatedReplicas": replicas,
                "readyReplicas": replicas,
                "availableReplicas": replicas,
                "conditions": [
                    {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                     "message": "Deployment has minimum availability.",
                     "lastUpdateTime": timestamp_now(), "lastTransitionTime": timestamp_now()},
                    {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                     "message": format!("ReplicaSet \"{name}\" has successfully progressed."),
                     "lastUpdateTime": timestamp_now(), "lastTransitionTime": timestamp_now()}
                ]
            })),
            StatusModel::Deployment => Some(json!({
                "observedGeneration": generation,
                "replicas": replicas,
                "updatedReplicas": replicas,
                "unavailableReplicas": replicas,
                "conditions": [
                    {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable",
                     "message": "Deployment does not have minimum availability.",
                     "lastUpdateTime": timestamp_now(), "lastTransitionTime": timestamp_now()},
                    {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated",
                     "message": format!("ReplicaSet \"{name}\" is progressing."),
                     "lastUpdateTime": timestamp_now(), "lastTransitionTime": timestamp_now()}
                ]
            })),
            StatusModel::StatefulSet => {
                let update_revision = controllers::revision(name, obj.pointer("/spec/template"));
                let current_revision = match (&stored.rollout_from, ready) {
                    (Some(from), false) => from.clone(),
                    _ => update_revision.clone(),
                };
                let ready_count = if ready { replicas } else { 0 };
                Some(json!({
                    "observedGeneration": generation,
                    "replicas": replicas,
                    "readyReplicas": ready_count,
                    "availableReplicas": ready_count,
                    "currentReplicas": ready_count,
                    "updatedReplicas": ready_count,
                    "currentRevision": current_revision,
                    "updateRevision": update_revision,
                    "collisionCount": 0,
                }))
            }
            StatusModel::ApiService => {
                let (reason, message) = if obj.pointer("/spec/service").is_none_or(Value::is_null) {
                    ("Local", "Local APIServices are always available")
                } else {
                    ("Passed", "all checks passed")
                };
                Some(json!({"conditions": [{
                    "type": "Available",
                    "status": "True",
                    "lastTransitionTime": str_at(obj, "/metadata/creationTimestamp").unwrap_or(""),
                    "reason": reason,
                    "message": message,
                }]}))
            }
            StatusModel::DaemonSet => {
                let nodes = i64::from(self.behaviour.node_count);
                let ready_count = if ready { nodes } else { 0 };
                Some(json!({
                    "observedGeneration": generation,
                    "currentNumberScheduled": nodes,
                    "desiredNumberScheduled": nodes,
                    "numberMisscheduled": 0,
                    "numberReady": ready_count,
                    "numberAvailable": ready_count,
                    "updatedNumberScheduled": ready_count,
                    "numberUnavailable": nodes - ready_count,
                }))
            }
            StatusModel::PersistentVolumeClaim => {
                if self.pvc_can_bind(obj) {
                    let mut status = json!({"phase": "Bound"});
                    if let Some(modes) = obj.pointer("/spec/accessModes") {
                        status["accessModes"] = modes.clone();
                    }
                    if let Some(size) = obj.pointer("/spec/resources/requests/storage") {
                        status["capacity"] = json!({ "storage": size });
                    }
                    Some(status)
                } else {
                    Some(json!({"phase": "Pending"}))
                }
            }
        }
    }

    /// A claim binds when its StorageClass (named, or the default one)
    /// exists and does not wait for a consumer (there are no pods here).
    fn pvc_can_bind(&self, pvc: &Value) -> bool {
        let classes = self
            .objects
            .iter()
            .filter(|((plural, _, _), _)| plural == "storageclasses.storage.k8s.io")
            .map(|(_, s)| &s.obj);
        let wanted = str_at(pvc, "/spec/storageClassName");
        let mut found = None;
        for sc in classes {
            let matches = match wanted {
                Some(name) => str_at(sc, "/metadata/name") == Some(name),
                None => {
                    str_at(
                        sc,
                        "/metadata/annotations/storageclass.kubernetes.io~1is-default-class",
                    ) == Some("true")
                }
            };
            if matches {
                found = Some(sc);
                break;
            }
        }
        found.is_some_and(|sc| {
            str_at(sc, "/volumeBindingMode") != Some("WaitForFirstConsumer")
                || self.consumed_by_statefulset(pvc)
        })
    }

    /// Whether a StatefulSet of the claim's namespace has a pod that uses it
    /// (`<template>-<statefulset>-<ordinal>` for an ordinal it runs): the
    /// stand-in has no pods, so a StatefulSet's pods are taken to exist and
    /// to be scheduled, which binds a `WaitForFirstConsumer` claim.
    fn consumed_by_statefulset(&self, pvc: &Value) -> bool {
        let namespace = str_at(pvc, "/metadata/namespace").unwrap_or("");
        let claim = str_at(pvc, "/metadata/name").unwrap_or("");
        self.objects
            .iter()
            .filter(|((plural, ns, _), _)| plural == "statefulsets.apps" && ns == namespace)
            .any(|(_, sts)| {
                controllers::ordinals(&sts.obj).into_iter().any(|ordinal| {
                    controllers::claims_for(&sts.obj, ordinal)
                        .iter()
                        .any(|c| str_at(c, "/metadata/name") == Some(claim))
                })
            })
    }

    /// GET one object.
    pub fn get(
        &self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        now: Instant,
    ) -> Result<Value, ApiError> {
        self.objects
            .get(&key(rt, namespace, name))
            .map(|s| self.render(rt, s, now))
            .ok_or_else(|| ApiError::not_found(rt, name))
    }

    fn matching<'a>(
        &'a self,
        rt: &'a ResourceType,
        namespace: Option<&'a str>,
        labels: &'a LabelSelector,
        fields: &'a FieldSelector,
    ) -> impl Iterator<Item = (&'a Key, &'a Stored)> + 'a {
        let plural = rt.qualified_plural();
        self.objects.iter().filter(move |((p, ns, _), s)| {
            *p == plural
                && namespace.is_none_or(|want| want == ns)
                && labels.matches(&labels_of(&s.obj))
                && fields.matches(&s.obj)
        })
    }

    /// LIST (namespace `None` = all namespaces, or cluster-scoped).
    pub fn list(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
        now: Instant,
    ) -> Value {
        let items: Vec<Value> = self
            .matching(rt, namespace, labels, fields)
            .map(|(_, s)| self.render(rt, s, now))
            .collect();
        json!({
            "kind": rt.list_kind(),
            "apiVersion": rt.api_version(),
            "metadata": {"resourceVersion": self.resource_version.to_string()},
            "items": items,
        })
    }

    /// POST: create.
    pub fn create(
        &mut self,
        rt: &ResourceType,
        namespace: &str,
        body: &Value,
        manager: &str,
        now: Instant,
        dry_run: bool,
    ) -> Result<Written, ApiError> {
        self.check_namespace(rt, namespace)?;
        let (mut obj, name) = self.prepare_body(rt, namespace, None, body, false)?;
        if self.objects.contains_key(&key(rt, namespace, &name)) {
            return Err(ApiError::already_exists(rt, &name));
        }
        validation::apply_defaults(rt, &mut obj);
        let mut managers = Vec::new();
        record_update(&mut managers, None, &obj, manager, &rt.api_version());
        self.admit(rt, &name, None, &mut obj)?;
        Ok(self.commit(rt, namespace, &name, obj, managers, now, dry_run))
    }

    /// PUT: replace (optimistic concurrency when the body carries a
    /// resourceVersion).
    #[allow(clippy::too_many_arguments)]
    pub fn update(
        &mut self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        body: &Value,
        manager: &str,
        now: Instant,
        dry_run: bool,
    ) -> Result<Written, ApiError> {
        let (mut obj, _) = self.prepare_body(rt, namespace, Some(name), body, false)?;
        let existing = self
            .objects
            .get(&key(rt, namespace, name))
            .ok_or_else(|| ApiError::not_found(rt, name))?;
        let current_rv = str_at(&existing.obj, "/metadata/resourceVersion").unwrap_or("");
        match str_at(&obj, "/metadata/resourceVersion") {
            Some(rv) if !rv.is_empty() && rv != current_rv => {
                return Err(ApiError::stale(rt, name));
            }
            _ => {}
        }
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("resourceVersion");
        }
        validation::apply_defaults(rt, &mut obj);
        let mut managers = existing.managers.clone();
        record_update(
            &mut managers,
            Some(&existing.obj),
            &obj,
            manager,
            &rt.api_version(),
        );
        self.admit(rt, name, Some(&existing.obj), &mut obj)?;
        Ok(self.commit(rt, namespace, name, obj, managers, now, dry_run))
    }

    /// PATCH with a merge patch (JSON merge, or strategic merge treated as a
    /// JSON merge) or a JSON patch.
    #[allow(clippy::too_many_arguments)]
    pub fn patch(
        &mut self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        patch: &Value,
        json_patch_ops: bool,
        manager: &str,
        now: Instant,
        dry_run: bool,
    ) -> Result<Written, ApiError> {
        let existing = self
            .objects
            .get(&key(rt, namespace, name))
            .ok_or_else(|| ApiError::not_found(rt, name))?;
        let mut patched = existing.obj.clone();
        if json_patch_ops {
            json_patch(&mut patched, patch)?;
        } else {
            merge_patch(&mut patched, patch);
        }
        let current_rv = str_at(&existing.obj, "/metadata/resourceVersion")
            .unwrap_or("")
            .to_string();
        if str_at(&patched, "/metadata/resourceVersion").is_some_and(|rv| rv != current_rv) {
            return Err(ApiError::stale(rt, name));
        }
        let (mut obj, _) = self.prepare_body(rt, namespace, Some(name), &patched, false)?;
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("resourceVersion");
        }
        validation::apply_defaults(rt, &mut obj);
        let mut managers = existing.managers.clone();
        record_update(
            &mut managers,
            Some(&existing.obj),
            &obj,
            manager,
            &rt.api_version(),
        );
        self.admit(rt, name, Some(&existing.obj), &mut obj)?;
        Ok(self.commit(rt, namespace, name, obj, managers, now, dry_run))
    }

    /// PATCH with `application/apply-patch+yaml`: server-side apply.
    #[allow(clippy::too_many_arguments)]
    pub fn apply(
        &mut self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        body: &Value,
        manager: &str,
        force: bool,
        now: Instant,
        dry_run: bool,
    ) -> Result<Written, ApiError> {
        let (mut applied, _) = self.prepare_body(rt, namespace, Some(name), body, true)?;
        if let Some(meta) = applied.get_mut("metadata").and_then(Value::as_object_mut) {
            // Apply does not do optimistic concurrency here (kubectl never sends one).
            meta.remove("resourceVersion");
        }
        let new_fields = fields::leaves(&applied);
        let api_version = rt.api_version();
        let Some(existing) = self.objects.get(&key(rt, namespace, name)) else {
            self.check_namespace(rt, namespace)?;
            let managers = if new_fields.is_empty() {
                Vec::new()
            } else {
                vec![Manager {
                    name: manager.to_string(),
                    operation: Operation::Apply,
                    api_version,
                    time: timestamp_now(),
                    fields: new_fields,
                }]
            };
            validation::apply_defaults(rt, &mut applied);
            self.admit(rt, name, None, &mut applied)?;
            return Ok(self.commit(rt, namespace, name, applied, managers, now, dry_run));
        };

        let mut obj = existing.obj.clone();
        let mut managers = existing.managers.clone();

        // Conflicts: another manager owns an overlapping path whose value differs.
        let mut conflicts = Vec::new();
        for (i, m) in managers.iter().enumerate() {
            if m.is(manager, Operation::Apply) {
                continue;
            }
            for q in &m.fields {
                let differs = new_fields.iter().any(|p| {
                    fields::overlaps(p, q) && {
                        let longer = if q.len() >= p.len() { q } else { p };
                        fields::get(&obj, longer) != fields::get(&applied, longer)
                    }
                });
                if differs {
                    conflicts.push(Conflict {
                        manager: i,
                        path: q.clone(),
                    });
                }
            }
        }
        if !conflicts.is_empty() {
            if !force {
                return Err(conflict_error(&managers, &conflicts));
            }
            for c in &conflicts {
                managers[c.manager].fields.remove(&c.path);
            }
        }

        // Fields this manager applied before and omits now go, unless
        // someone else still owns them.
        let previous: FieldSet = managers
            .iter()
            .find(|m| m.is(manager, Operation::Apply))
            .map(|m| m.fields.clone())
            .unwrap_or_default();
        for p in previous.difference(&new_fields) {
            let kept_by_applier = new_fields.iter().any(|n| fields::overlaps(n, p));
            let owned_by_other = managers
                .iter()
                .filter(|m| !m.is(manager, Operation::Apply))
                .any(|m| m.fields.iter().any(|q| fields::overlaps(q, p)));
            if !kept_by_applier && !owned_by_other {
                fields::remove(&mut obj, p);
            }
        }
        for p in &new_fields {
            if let Some(v) = fields::get(&applied, p) {
                fields::set(&mut obj, p, v.clone());
            }
        }

        let new_time = timestamp_now();
        match managers
            .iter_mut()
            .find(|m| m.is(manager, Operation::Apply))
        {
            Some(m) => {
                if m.fields != new_fields {
                    m.time = new_time;
                }
                m.fields = new_fields;
                m.api_version = api_version;
            }
            None => managers.push(Manager {
                name: manager.to_string(),
                operation: Operation::Apply,
                api_version,
                time: new_time,
                fields: new_fields,
            }),
        }
        validation::apply_defaults(rt, &mut obj);
        prune_managers(&mut managers, &obj);
        self.admit(rt, name, Some(&existing.obj), &mut obj)?;
        Ok(self.commit(rt, namespace, name, obj, managers, now, dry_run))
    }

    /// DELETE one object, with cascading to its namespace's contents and to
    /// dependents by owner reference.
    pub fn delete(
        &mut self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        propagation: Propagation,
        now: Instant,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let k = key(rt, namespace, name);
        let stored = self
            .objects
            .get(&k)
            .ok_or_else(|| ApiError::not_found(rt, name))?;
        if rt.kind == "Namespace" && INITIAL_NAMESPACES.contains(&name) {
            return Err(ApiError::forbidden(format!(
                "namespaces \"{name}\" is forbidden: this namespace may not be deleted"
            )));
        }
        let rendered = self.render(rt, stored, now);
        if dry_run {
            return Ok(rendered);
        }
        self.record_deletion(rt, namespace, name, propagation);
        self.remove_cascading(vec![k], propagation);
        Ok(rendered)
    }

    fn record_deletion(
        &mut self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        propagation: Propagation,
    ) {
        self.deletions.push(Deletion {
            kind: rt.kind.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
            propagation,
        });
    }

    /// DELETE on a collection: every matching object, each cascading.
    #[allow(clippy::too_many_arguments)]
    pub fn delete_collection(
        &mut self,
        rt: &ResourceType,
        namespace: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
        propagation: Propagation,
        now: Instant,
        dry_run: bool,
    ) -> Value {
        let keys: Vec<Key> = self
            .matching(rt, namespace, labels, fields)
            .filter(|((_, _, name), _)| {
                !(rt.kind == "Namespace" && INITIAL_NAMESPACES.contains(&name.as_str()))
            })
            .map(|(k, _)| k.clone())
            .collect();
        let items: Vec<Value> = keys
            .iter()
            .filter_map(|k| self.objects.get(k).map(|s| self.render(rt, s, now)))
            .collect();
        if !dry_run && !keys.is_empty() {
            for (_, ns, name) in &keys {
                self.record_deletion(rt, ns, name, propagation);
            }
            self.remove_cascading(keys, propagation);
        }
        json!({
            "kind": rt.list_kind(),
            "apiVersion": rt.api_version(),
            "metadata": {"resourceVersion": self.resource_version.to_string()},
            "items": items,
        })
    }

    fn remove_cascading(&mut self, roots: Vec<Key>, propagation: Propagation) {
        let mut frontier: BTreeSet<String> = BTreeSet::new();
        for k in roots {
            if let Some(s) = self.objects.remove(&k) {
                if let Some(uid) = str_at(&s.obj, "/metadata/uid") {
                    frontier.insert(uid.to_string());
                }
                if k.0 == "namespaces" {
                    let inside: Vec<Key> = self
                        .objects
                        .keys()
                        .filter(|(_, ns, _)| *ns == k.2)
                        .cloned()
                        .collect();
                    for ik in inside {
                        if let Some(s) = self.objects.remove(&ik) {
                            if let Some(uid) = str_at(&s.obj, "/metadata/uid") {
                                frontier.insert(uid.to_string());
                            }
                        }
                    }
                }
            }
        }
        let mut first_level = true;
        while !frontier.is_empty() {
            let dependents: Vec<Key> = self
                .objects
                .iter()
                .filter(|(_, s)| {
                    s.obj
                        .pointer("/metadata/ownerReferences")
                        .and_then(Value::as_array)
                        .is_some_and(|refs| {
                            refs.iter()
                                .any(|r| str_at(r, "/uid").is_some_and(|u| frontier.contains(u)))
                        })
                })
                .map(|(k, _)| k.clone())
                .collect();
            let mut next = BTreeSet::new();
            for dk in dependents {
                if first_level && propagation == Propagation::Orphan {
                    if let Some(s) = self.objects.get_mut(&dk) {
                        if let Some(refs) = s
                            .obj
                            .pointer_mut("/metadata/ownerReferences")
                            .and_then(Value::as_array_mut)
                        {
                            refs.retain(|r| {
                                !str_at(r, "/uid").is_some_and(|u| frontier.contains(u))
                            });
                        }
                    }
                } else if let Some(s) = self.objects.remove(&dk) {
                    if let Some(uid) = str_at(&s.obj, "/metadata/uid") {
                        next.insert(uid.to_string());
                    }
                }
            }
            first_level = false;
            frontier = next;
        }
        self.resource_version += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Store {
        Store::new(Behaviour {
            ready_after: Duration::ZERO,
            node_count: 3,
            minor_version: 31,
        })
    }

    fn deploy() -> &'static ResourceType {
        resources::find("apps", "v1", "deployments").unwrap()
    }

    fn cm() -> &'static ResourceType {
        resources::find("", "v1", "configmaps").unwrap()
    }

    fn ns_rt() -> &'static ResourceType {
        resources::find("", "v1", "namespaces").unwrap()
    }

    fn deployment(replicas: i64, image: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "c", "image": image}]}}}
        })
    }

    #[test]
    fn apply_creates_and_records_ownership() {
        let mut s = store();
        let now = Instant::now();
        let w = s
            .apply(
                deploy(),
                "default",
                "web",
                &deployment(2, "a"),
                "paved",
                false,
                now,
                false,
            )
            .unwrap();
        assert!(w.created);
        let o = w.object;
        assert_eq!(o["metadata"]["generation"], 1);
        assert_eq!(o["metadata"]["managedFields"][0]["manager"], "paved");
        assert_eq!(o["metadata"]["managedFields"][0]["operation"], "Apply");
        assert_eq!(
            o["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:replicas"],
            json!({})
        );
        assert_eq!(o["status"]["readyReplicas"], 2);
        assert_eq!(o["status"]["observedGeneration"], 1);
        // No-op apply keeps the resourceVersion.
        let rv = o["metadata"]["resourceVersion"].clone();
        let again = s
            .apply(
                deploy(),
                "default",
                "web",
                &deployment(2, "a"),
                "paved",
                false,
                now,
                false,
            )
            .unwrap();
        assert!(!again.created);
        assert_eq!(again.object["metadata"]["resourceVersion"], rv);
    }

    #[test]
    fn conflicts_and_force() {
        let mut s = store();
        let now = Instant::now();
        s.apply(
            deploy(),
            "default",
            "web",
            &deployment(2, "a"),
            "paved",
            false,
            now,
            false,
        )
        .unwrap();
        // Same value: shared ownership, no conflict.
        let same = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 2}});
        s.apply(
            deploy(),
            "default",
            "web",
            &same,
            "other",
            false,
            now,
            false,
        )
        .unwrap();
        let other = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 5}});
        let err = s
            .apply(
                deploy(),
                "default",
                "web",
                &other,
                "other",
                false,
                now,
                false,
            )
            .unwrap_err();
        assert_eq!(err.code, 409);
        assert_eq!(
            err.message,
            "Apply failed with 1 conflict: conflict with \"paved\": .spec.replicas"
        );
        let w = s
            .apply(
                deploy(),
                "default",
                "web",
                &other,
                "other",
                true,
                now,
                false,
            )
            .unwrap();
        assert_eq!(w.object["spec"]["replicas"], 5);
        assert_eq!(w.object["metadata"]["generation"], 2);
        // paved lost .spec.replicas; its next apply without replicas does not remove it.
        let mut without = deployment(2, "a");
        without["spec"].as_object_mut().unwrap().remove("replicas");
        let w = s
            .apply(
                deploy(),
                "default",
                "web",
                &without,
                "paved",
                false,
                now,
                false,
            )
            .unwrap();
        assert_eq!(w.object["spec"]["replicas"], 5);
    }

    #[test]
    fn omitted_fields_are_removed() {
        let mut s = store();
        let now = Instant::now();
        let mut body = deployment(2, "a");
        body["metadata"]["labels"]["extra"] = json!("1");
        s.apply(
            deploy(),
            "default",
            "web",
            &body,
            "paved",
            false,
            now,
            false,
        )
        .unwrap();
        let w = s
            .apply(
                deploy(),
                "default",
                "web",
                &deployment(2, "a"),
                "paved",
                false,
                now,
                false,
            )
            .unwrap();
        assert_eq!(w.object["metadata"]["labels"], json!({"app": "web"}));
    }

    #[test]
    fn update_writers_conflict_with_apply() {
        let mut s = store();
        let now = Instant::now();
        s.apply(
            deploy(),
            "default",
            "web",
            &deployment(2, "a"),
            "paved",
            false,
            now,
            false,
        )
        .unwrap();
        s.patch(
            deploy(),
            "default",
            "web",
            &json!({"spec": {"replicas": 7}}),
            false,
            "kubectl-edit",
            now,
            false,
        )
        .unwrap();
        let err = s
            .apply(
                deploy(),
                "default",
                "web",
                &deployment(2, "a"),
                "paved",
                false,
                now,
                false,
            )
            .unwrap_err();
        assert_eq!(
            err.message,
            "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using apps/v1: .spec.replicas"
        );
    }

    #[test]
    fn namespaces_must_exist_and_cascade() {
        let mut s = store();
        let now = Instant::now();
        let c = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        let err = s.create(cm(), "ns", &c, "t", now, false).unwrap_err();
        assert_eq!(err.code, 404);
        assert_eq!(err.message, "namespaces \"ns\" not found");
        let n = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}});
        s.create(ns_rt(), "", &n, "t", now, false).unwrap();
        let created = s.create(cm(), "ns", &c, "t", now, false).unwrap().object;
        let uid = created["metadata"]["uid"].as_str().unwrap().to_string();
        let owned = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d",
            "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "c", "uid": uid}]}});
        s.create(cm(), "default", &owned, "t", now, false).unwrap();
        s.delete(ns_rt(), "", "ns", Propagation::Background, now, false)
            .unwrap();
        assert!(s.get(cm(), "ns", "c", now).is_err());
        assert!(s.get(cm(), "default", "d", now).is_err());
        assert_eq!(
            s.delete(ns_rt(), "", "default", Propagation::Background, now, false)
                .unwrap_err()
                .code,
            403
        );
    }

    #[test]
    fn orphan_keeps_dependents() {
        let mut s = store();
        let now = Instant::now();
        let c = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        let uid = s
            .create(cm(), "default", &c, "t", now, false)
            .unwrap()
            .object["metadata"]["uid"]
            .clone();
        let owned = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d",
            "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "c", "uid": uid}]}});
        s.create(cm(), "default", &owned, "t", now, false).unwrap();
        s.delete(cm(), "default", "c", Propagation::Orphan, now, false)
            .unwrap();
        let d = s.get(cm(), "default", "d", now).unwrap();
        assert_eq!(d["metadata"]["ownerReferences"], json!([]));
    }

    #[test]
    fn readiness_waits_and_pvc_binding() {
        let mut s = Store::new(Behaviour {
            ready_after: Duration::from_secs(60),
            node_count: 3,
            minor_version: 31,
        });
        let now = Instant::now();
        let o = s
            .apply(
                deploy(),
                "default",
                "web",
                &deployment(2, "a"),
                "paved",
                false,
                now,
                false,
            )
            .unwrap()
            .object;
        assert!(o["status"].get("readyReplicas").is_none());
        let later = s
            .get(deploy(), "default", "web", now + Duration::from_secs(61))
            .unwrap();
        assert_eq!(later["status"]["readyReplicas"], 2);

        let pvc_rt = resources::find("", "v1", "persistentvolumeclaims").unwrap();
        let pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "p"},
            "spec": {"storageClassName": "fast", "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}});
        let o = s
            .create(pvc_rt, "default", &pvc, "t", now, false)
            .unwrap()
            .object;
        assert_eq!(o["status"]["phase"], "Pending");
        let sc_rt = resources::find("storage.k8s.io", "v1", "storageclasses").unwrap();
        let sc = json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "fast"}, "provisioner": "x"});
        s.create(sc_rt, "", &sc, "t", now, false).unwrap();
        let o = s.get(pvc_rt, "default", "p", now).unwrap();
        assert_eq!(o["status"]["phase"], "Bound");
        assert_eq!(o["status"]["capacity"]["storage"], "1Gi");
    }

    #[test]
    fn status_in_apply_body_is_ignored() {
        let mut s = store();
        let now = Instant::now();
        let mut body = deployment(2, "a");
        body["status"] = json!({"readyReplicas": 99});
        let o = s
            .apply(
                deploy(),
                "default",
                "web",
                &body,
                "paved",
                false,
                now,
                false,
            )
            .unwrap()
            .object;
        assert_eq!(o["status"]["readyReplicas"], 2);
        assert!(o["metadata"]["managedFields"][0]["fieldsV1"]
            .get("f:status")
            .is_none());
    }

    fn sts_rt() -> &'static ResourceType {
        resources::find("apps", "v1", "statefulsets").unwrap()
    }

    fn statefulset(replicas: i64, storage: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "db"},
            "spec": {"replicas": replicas, "serviceName": "db",
                "selector": {"matchLabels": {"app": "db"}},
                "template": {"metadata": {"labels": {"app": "db"}}},
                "volumeClaimTemplates": [{"metadata": {"name": "data"},
                    "spec": {"resources": {"requests": {"storage": storage}}}}]}
        })
    }

    #[test]
    fn statefulset_updates_are_refused_as_the_api_server_refuses_them() {
        let mut s = store();
        let now = Instant::now();
        s.apply(
            sts_rt(),
            "default",
            "db",
            &statefulset(1, "1Gi"),
            "paved",
            true,
            now,
            false,
        )
        .unwrap();
        let err = s
            .apply(
                sts_rt(),
                "default",
                "db",
                &statefulset(1, "2Gi"),
                "paved",
                true,
                now,
                false,
            )
            .unwrap_err();
        assert_eq!(err.code, 422);
        assert_eq!(
            err.message,
            format!(
                "StatefulSet.apps \"db\" is invalid: spec: Forbidden: {}",
                validation::STATEFULSET_FORBIDDEN
            )
        );
        let status = err.to_status();
        assert_eq!(status["reason"], "Invalid");
        assert_eq!(status["details"]["kind"], "StatefulSet");
        assert_eq!(status["details"]["group"], "apps");
        assert_eq!(status["details"]["name"], "db");
        assert_eq!(
            status["details"]["causes"][0]["reason"],
            "FieldValueForbidden"
        );
        assert_eq!(status["details"]["causes"][0]["field"], "spec");
        // The same through PUT and merge patch; scaling is allowed.
        let mut replaced = s.get(sts_rt(), "default", "db", now).unwrap();
        replaced["spec"]["serviceName"] = json!("other");
        assert_eq!(
            s.update(sts_rt(), "default", "db", &replaced, "t", now, false)
                .unwrap_err()
                .code,
            422
        );
        let w = s
            .patch(
                sts_rt(),
                "default",
                "db",
                &json!({"spec": {"replicas": 3}}),
                false,
                "t",
                now,
                false,
            )
            .unwrap();
        assert_eq!(w.object["spec"]["replicas"], 3);
        let claims: Vec<String> = s
            .objects
            .keys()
            .filter(|(p, _, _)| p == "persistentvolumeclaims")
            .map(|(_, _, n)| n.clone())
            .collect();
        assert_eq!(claims, ["data-db-0", "data-db-1", "data-db-2"]);
    }

    #[test]
    fn claims_go_on_scale_down_when_when_scaled_is_delete() {
        let mut s = store();
        let now = Instant::now();
        let mut body = statefulset(3, "1Gi");
        body["spec"]["persistentVolumeClaimRetentionPolicy"] = json!({"whenScaled": "Delete"});
        s.apply(sts_rt(), "default", "db", &body, "paved", true, now, false)
            .unwrap();
        body["spec"]["replicas"] = json!(1);
        s.apply(sts_rt(), "default", "db", &body, "paved", true, now, false)
            .unwrap();
        let pvc = resources::find("", "v1", "persistentvolumeclaims").unwrap();
        assert!(s.get(pvc, "default", "data-db-0", now).is_ok());
        assert!(s.get(pvc, "default", "data-db-1", now).is_err());
        // Deletions by the controller are not requests: not recorded.
        assert!(s.deletions().is_empty());
        s.delete(sts_rt(), "default", "db", Propagation::Orphan, now, true)
            .unwrap();
        assert!(s.deletions().is_empty(), "dry runs are not recorded");
        s.delete(sts_rt(), "default", "db", Propagation::Orphan, now, false)
            .unwrap();
        assert_eq!(
            s.deletions(),
            [Deletion {
                kind: "StatefulSet".into(),
                namespace: "default".into(),
                name: "db".into(),
                propagation: Propagation::Orphan,
            }]
        );
    }

    #[test]
    fn json_patch_ops() {
        let mut v = json!({"a": [1, 2], "b": {"c": 1}});
        json_patch(
            &mut v,
            &json!([
                {"op": "add", "path": "/a/-", "value": 3},
                {"op": "replace", "path": "/b/c", "value": 2},
                {"op": "remove", "path": "/a/0"},
                {"op": "test", "path": "/b/c", "value": 2}
            ]),
        )
        .unwrap();
        assert_eq!(v, json!({"a": [2, 3], "b": {"c": 2}}));
    }
}
