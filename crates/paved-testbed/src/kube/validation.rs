//! What the API server does to a write between decoding it and storing it,
//! for the kinds where paved depends on it: defaulting (StatefulSet,
//! DaemonSet), update validation (StatefulSet spec immutability,
//! PersistentVolumeClaim spec immutability and expansion, APIService names)
//! and admission (the `DefaultStorageClass` and `PersistentVolumeClaimResize`
//! plugins). Every refusal is worded as Kubernetes 1.31 words it.

use serde_json::{json, Map, Value};

use super::api_error::{ApiError, FieldError};
use super::fields;
use super::resources::ResourceType;

/// StatefulSet spec fields an update may change (1.31).
const STATEFULSET_MUTABLE: &[&str] = &[
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
];

/// The refusal of any other StatefulSet spec change, up to Kubernetes 1.33.
pub const STATEFULSET_FORBIDDEN: &str = "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";

/// The same refusal from Kubernetes 1.34, where `revisionHistoryLimit` became
/// mutable (observed on 1.34.8; 1.33 is treated as the older servers).
pub const STATEFULSET_FORBIDDEN_134: &str = "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";

/// The refusal of a change to a claim's spec outside what may change.
pub const PVC_SPEC_IMMUTABLE: &str =
    "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims";

/// The refusal of a smaller storage request.
pub const PVC_SHRINK: &str = "field can not be less than previous value";

/// The `PersistentVolumeClaimResize` admission refusal of a growth the
/// claim's StorageClass does not allow.
pub const PVC_RESIZE_FORBIDDEN: &str = "only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize";

/// The beta annotation that named a claim's class before `storageClassName`.
const BETA_STORAGE_CLASS: &str = "volume.beta.kubernetes.io/storage-class";

/// The annotation that marks the default StorageClass.
pub const DEFAULT_CLASS_ANNOTATION: &str = "storageclass.kubernetes.io/is-default-class";

fn path(p: &str) -> Vec<String> {
    p.split('.').map(str::to_string).collect()
}

fn set_default(obj: &mut Value, at: &str, value: Value) {
    let p = path(at);
    if fields::get(obj, &p).is_none_or(Value::is_null) {
        fields::set(obj, &p, value);
    }
}

/// Fills the defaults the API server sets on `apps/v1` StatefulSets and
/// DaemonSets (top-level spec fields only; the pod template is not
/// defaulted). Other kinds are left alone.
pub fn apply_defaults(rt: &ResourceType, obj: &mut Value) {
    if rt.group != "apps" {
        return;
    }
    match rt.kind {
        "StatefulSet" => {
            set_default(obj, "spec.replicas", json!(1));
            set_default(obj, "spec.podManagementPolicy", json!("OrderedReady"));
            set_default(obj, "spec.updateStrategy.type", json!("RollingUpdate"));
            if obj.pointer("/spec/updateStrategy/type") == Some(&json!("RollingUpdate")) {
                set_default(obj, "spec.updateStrategy.rollingUpdate.partition", json!(0));
            }
            set_default(obj, "spec.revisionHistoryLimit", json!(10));
            set_default(
                obj,
                "spec.persistentVolumeClaimRetentionPolicy.whenDeleted",
                json!("Retain"),
            );
            set_default(
                obj,
                "spec.persistentVolumeClaimRetentionPolicy.whenScaled",
                json!("Retain"),
            );
        }
        "DaemonSet" => {
            set_default(obj, "spec.updateStrategy.type", json!("RollingUpdate"));
            if obj.pointer("/spec/updateStrategy/type") == Some(&json!("RollingUpdate")) {
                set_default(
                    obj,
                    "spec.updateStrategy.rollingUpdate.maxUnavailable",
                    json!(1),
                );
                set_default(obj, "spec.updateStrategy.rollingUpdate.maxSurge", json!(0));
            }
            set_default(obj, "spec.revisionHistoryLimit", json!(10));
        }
        _ => {}
    }
}

/// Drops nulls and empty lists, which Go's semantic equality does not tell
/// from absent fields.
fn normalise(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null() && !v.as_array().is_some_and(Vec::is_empty))
                .map(|(k, v)| (k.clone(), normalise(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(normalise).collect()),
        other => other.clone(),
    }
}

fn spec_of(obj: &Value) -> Map<String, Value> {
    obj.get("spec")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// A StatefulSet update that changes a spec field outside the mutable ones:
/// `spec: Forbidden: updates to statefulset spec ...`. `minor` is the
/// served Kubernetes minor version.
pub fn statefulset_update(old: &Value, new: &Value, minor: u32) -> Option<FieldError> {
    let (mut o, mut n) = (spec_of(old), spec_of(new));
    let newer = minor >= 34;
    for k in STATEFULSET_MUTABLE
        .iter()
        .copied()
        .chain(newer.then_some("revisionHistoryLimit"))
    {
        o.remove(k);
        n.remove(k);
    }
    if normalise(&Value::Object(o)) == normalise(&Value::Object(n)) {
        return None;
    }
    let message = if newer {
        STATEFULSET_FORBIDDEN_134
    } else {
        STATEFULSET_FORBIDDEN
    };
    Some(FieldError::forbidden("spec", message))
}

/// `accessModes` → `AccessModes`: the Go field name the diff shows.
fn go_field(json_key: &str) -> String {
    let mut c = json_key.chars();
    match c.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

/// An approximation of the go-cmp diff the API server appends to the
/// claim refusal (the real one is deliberately unstable in its spacing and
/// prints Go values; this prints the changed fields with JSON values).
fn spec_diff(old: &Map<String, Value>, new: &Map<String, Value>) -> String {
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut lines = vec!["  core.PersistentVolumeClaimSpec{".to_string()];
    for k in keys {
        let (a, b) = (old.get(k), new.get(k));
        if a == b {
            continue;
        }
        let show = |v: Option<&Value>| v.map_or_else(|| "nil".to_string(), Value::to_string);
        lines.push(format!("- \t{}: {},", go_field(k), show(a)));
        lines.push(format!("+ \t{}: {},", go_field(k), show(b)));
    }
    lines.push("  }".to_string());
    lines.join("\n")
}

/// The class a claim was made with: `spec.storageClassName`, else the beta
/// annotation; `None` or `""` = no class.
pub fn claim_class(pvc: &Value) -> Option<&str> {
    pvc.pointer("/spec/storageClassName")
        .and_then(Value::as_str)
        .or_else(|| {
            pvc.get("metadata")
                .and_then(|m| m.get("annotations"))
                .and_then(|a| a.get(BETA_STORAGE_CLASS))
                .and_then(Value::as_str)
        })
}

fn storage_request(pvc: &Value) -> Option<&Value> {
    pvc.pointer("/spec/resources/requests/storage")
}

/// Validation of a claim update (`ValidatePersistentVolumeClaimUpdate`
/// with the 1.31 default feature gates): the spec may change only in
/// `resources.requests` of a bound claim and in a first `volumeName`, a
/// class may be set on a claim that had none, and the storage request may
/// never shrink.
pub fn pvc_update(old: &Value, new: &Value, old_bound: bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let (mut o, mut n) = (spec_of(old), spec_of(new));
    if o.get("volumeName")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        o.remove("volumeName");
        n.remove("volumeName");
    }
    if claim_class(old).is_none() {
        // RetroactiveDefaultStorageClass: a class may be set once.
        n.remove("storageClassName");
        o.remove("storageClassName");
    }
    if old_bound {
        let old_storage = o
            .get("resources")
            .and_then(|r| r.get("requests"))
            .and_then(|r| r.get("storage"))
            .cloned();
        if let Some(requests) = n
            .get_mut("resources")
            .and_then(|r| r.get_mut("requests"))
            .and_then(Value::as_object_mut)
        {
            match old_storage {
                Some(s) => {
                    requests.insert("storage".into(), s);
                }
                None => {
                    requests.remove("storage");
                }
            }
        }
    }
    let (on, nn) = (normalise(&Value::Object(o)), normalise(&Value::Object(n)));
    if on != nn {
        let empty = Map::new();
        let diff = spec_diff(
            on.as_object().unwrap_or(&empty),
            nn.as_object().unwrap_or(&empty),
        );
        errors.push(FieldError::forbidden(
            "spec",
            format!("{PVC_SPEC_IMMUTABLE}\n{diff}"),
        ));
    }
    let size = |v: &Value| {
        storage_request(v)
            .and_then(Value::as_str)
            .and_then(quantity)
    };
    if let (Some(before), Some(after)) = (size(old), size(new)) {
        if after < before {
            errors.push(FieldError::forbidden(
                "spec.resources.requests.storage",
                PVC_SHRINK,
            ));
        }
    }
    errors
}

/// Whether an update asks for more storage than the claim had.
pub fn pvc_grows(old: &Value, new: &Value) -> bool {
    let size = |v: &Value| {
        storage_request(v)
            .and_then(Value::as_str)
            .and_then(quantity)
    };
    matches!((size(old), size(new)), (Some(before), Some(after)) if after > before)
}

/// The `PersistentVolumeClaimResize` admission check of a growing claim,
/// given its StorageClass (if found): only a bound claim of a class with
/// `allowVolumeExpansion: true` may grow.
pub fn pvc_resize_admission(
    rt: &ResourceType,
    name: &str,
    old_bound: bool,
    class: Option<&Value>,
) -> Result<(), ApiError> {
    if !old_bound {
        return Err(ApiError::admission_forbidden(
            rt,
            name,
            "Only bound persistent volume claims can be expanded",
        ));
    }
    let allowed = class
        .and_then(|c| c.get("allowVolumeExpansion"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if allowed {
        Ok(())
    } else {
        Err(ApiError::admission_forbidden(
            rt,
            name,
            PVC_RESIZE_FORBIDDEN,
        ))
    }
}

/// APIService validation: the name must be `<spec.version>.<spec.group>`.
pub fn apiservice(name: &str, obj: &Value) -> Option<FieldError> {
    let spec = |k: &str| {
        obj.get("spec")
            .and_then(|s| s.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let required = format!("{}.{}", spec("version"), spec("group"));
    (name != required).then(|| {
        FieldError::invalid(
            "metadata.name",
            format!("{name:?}"),
            format!("must be `spec.version+\".\"+spec.group`: {required:?}"),
        )
    })
}

/// A Kubernetes quantity (`1Gi`, `500Mi`, `1.5G`, `100m`, `1e3`) in base
/// units; `None` when it does not parse.
pub fn quantity(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        other => {
            let exp = other.strip_prefix(['e', 'E'])?;
            10f64.powi(exp.parse().ok()?)
        }
    };
    Some(number * factor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::resources;

    fn sts() -> &'static ResourceType {
        resources::find("apps", "v1", "statefulsets").unwrap()
    }

    #[test]
    fn quantities() {
        assert_eq!(quantity("1Gi"), Some(1073741824.0));
        assert_eq!(quantity("1024Mi"), quantity("1Gi"));
        assert_eq!(quantity("1.5G"), Some(1.5e9));
        assert_eq!(quantity("100m"), Some(0.1));
        assert_eq!(quantity("2e3"), Some(2000.0));
        assert_eq!(quantity("1E"), Some(1e18));
        assert_eq!(quantity("1Xi"), None);
        assert_eq!(quantity("Gi"), None);
    }

    #[test]
    fn statefulset_defaults_and_immutability() {
        let mut a = json!({"spec": {"serviceName": "db", "template": {"x": 1}}});
        apply_defaults(sts(), &mut a);
        assert_eq!(a["spec"]["podManagementPolicy"], "OrderedReady");
        assert_eq!(a["spec"]["updateStrategy"]["rollingUpdate"]["partition"], 0);
        assert_eq!(
            a["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"],
            "Retain"
        );
        let mut b = a.clone();
        b["spec"]["replicas"] = json!(5);
        b["spec"]["template"] = json!({"x": 2});
        assert!(statefulset_update(&a, &b, 31).is_none());
        b["spec"]["volumeClaimTemplates"] = json!([]);
        assert!(statefulset_update(&a, &b, 31).is_none(), "empty = absent");
        b["spec"]["revisionHistoryLimit"] = json!(3);
        let e = statefulset_update(&a, &b, 31).unwrap();
        assert_eq!(
            e.to_string(),
            format!("spec: Forbidden: {STATEFULSET_FORBIDDEN}")
        );
        assert!(statefulset_update(&a, &b, 34).is_none());
        b["spec"]["serviceName"] = json!("other");
        let e = statefulset_update(&a, &b, 34).unwrap();
        assert!(e.detail.contains("'revisionHistoryLimit'"));
    }

    #[test]
    fn claim_updates() {
        let pvc = |storage: &str, modes: &str| {
            json!({"spec": {"storageClassName": "fast", "accessModes": [modes],
                "resources": {"requests": {"storage": storage}}}})
        };
        let old = pvc("1Gi", "ReadWriteOnce");
        assert!(pvc_update(&old, &pvc("2Gi", "ReadWriteOnce"), true).is_empty());
        assert!(pvc_update(&old, &pvc("1024Mi", "ReadWriteOnce"), true).is_empty());
        let shrink = pvc_update(&old, &pvc("512Mi", "ReadWriteOnce"), true);
        assert_eq!(
            shrink.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [format!(
                "spec.resources.requests.storage: Forbidden: {PVC_SHRINK}"
            )]
        );
        let modes = pvc_update(&old, &pvc("1Gi", "ReadWriteMany"), true);
        assert_eq!(modes.len(), 1);
        assert!(modes[0]
            .to_string()
            .starts_with(&format!("spec: Forbidden: {PVC_SPEC_IMMUTABLE}\n")));
        assert!(modes[0]
            .detail
            .contains("- \tAccessModes: [\"ReadWriteOnce\"],"));
        // A pending claim may not change its request at all.
        assert_eq!(
            pvc_update(&old, &pvc("2Gi", "ReadWriteOnce"), false).len(),
            1
        );
        // A class may be set on a claim without one.
        let mut classless = old.clone();
        classless["spec"]
            .as_object_mut()
            .unwrap()
            .remove("storageClassName");
        assert!(pvc_update(&classless, &old, true).is_empty());
        assert!(pvc_grows(&old, &pvc("2Gi", "ReadWriteOnce")));
    }

    #[test]
    fn apiservice_names() {
        let obj = json!({"spec": {"group": "metrics.k8s.io", "version": "v1beta1"}});
        assert!(apiservice("v1beta1.metrics.k8s.io", &obj).is_none());
        assert_eq!(
            apiservice("metrics", &obj).unwrap().to_string(),
            "metadata.name: Invalid value: \"metrics\": must be `spec.version+\".\"+spec.group`: \"v1beta1.metrics.k8s.io\""
        );
    }
}
