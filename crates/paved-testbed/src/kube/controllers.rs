//! Pure parts of the stand-in's StatefulSet "controller": revision names
//! and the PersistentVolumeClaims a StatefulSet's `volumeClaimTemplates`
//! ask for. The store runs them after each StatefulSet write.

use serde_json::{json, Map, Value};

/// The field manager the controller's writes are recorded under.
pub const CONTROLLER_MANAGER: &str = "kube-controller-manager";

/// `rand.SafeEncodeString`'s alphabet (no vowels, no look-alikes).
const SAFE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// A ControllerRevision name for a pod template, shaped as the real
/// controller's: `<statefulset>-<encoded FNV-32a hash>` (the hash is of the
/// template's JSON, not of Go's encoding, so the value differs from a real
/// cluster's; equal templates give equal names).
pub fn revision(name: &str, template: Option<&Value>) -> String {
    let text = template.map(Value::to_string).unwrap_or_default();
    let mut hash: u32 = 0x811c_9dc5;
    for b in text.bytes() {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    let encoded: String = hash
        .to_string()
        .bytes()
        .map(|b| SAFE_ALPHABET[usize::from(b) % SAFE_ALPHABET.len()] as char)
        .collect();
    format!("{name}-{encoded}")
}

fn int_at(obj: &Value, pointer: &str, default: i64) -> i64 {
    obj.pointer(pointer)
        .and_then(Value::as_i64)
        .unwrap_or(default)
}

/// The ordinals a StatefulSet's pods have: `[start, start + replicas)`.
pub fn ordinals(sts: &Value) -> std::ops::Range<i64> {
    let start = int_at(sts, "/spec/ordinals/start", 0).max(0);
    let replicas = int_at(sts, "/spec/replicas", 1).max(0);
    start..start + replicas
}

/// `persistentVolumeClaimRetentionPolicy.<when>` is `Delete`.
pub fn deletes_claims(sts: &Value, when: &str) -> bool {
    sts.pointer(&format!(
        "/spec/persistentVolumeClaimRetentionPolicy/{when}"
    ))
    .and_then(Value::as_str)
        == Some("Delete")
}

/// `<template>-<statefulset>-<ordinal>`.
pub fn claim_name(template: &str, statefulset: &str, ordinal: i64) -> String {
    format!("{template}-{statefulset}-{ordinal}")
}

/// The names of the claim templates (templates without a name are skipped:
/// the real API server refuses them).
pub fn template_names(sts: &Value) -> Vec<String> {
    sts.pointer("/spec/volumeClaimTemplates")
        .and_then(Value::as_array)
        .map(|ts| {
            ts.iter()
                .filter_map(|t| t.pointer("/metadata/name").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The claims the StatefulSet wants for `ordinal`: per template, a copy of
/// its metadata and spec named `<template>-<statefulset>-<ordinal>`, its
/// labels joined by the selector's `matchLabels` (as the controller's
/// `getPersistentVolumeClaims`), and, when `whenDeleted` is `Delete`, an
/// owner reference to the StatefulSet (1.31 sets a plain, non-controller one).
pub fn claims_for(sts: &Value, ordinal: i64) -> Vec<Value> {
    let name = sts
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let selector = sts
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let owner = deletes_claims(sts, "whenDeleted").then(|| {
        json!({
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "name": name,
            "uid": sts.pointer("/metadata/uid").cloned().unwrap_or(Value::Null),
        })
    });
    let Some(templates) = sts
        .pointer("/spec/volumeClaimTemplates")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    templates
        .iter()
        .filter_map(|t| {
            let template_name = t.pointer("/metadata/name").and_then(Value::as_str)?;
            let mut meta: Map<String, Value> = t
                .get("metadata")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            meta.remove("namespace");
            meta.remove("creationTimestamp");
            meta.insert(
                "name".into(),
                json!(claim_name(template_name, name, ordinal)),
            );
            let mut labels = meta
                .get("labels")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            labels.extend(selector.clone());
            if !labels.is_empty() {
                meta.insert("labels".into(), Value::Object(labels));
            }
            if let Some(owner) = &owner {
                meta.insert("ownerReferences".into(), json!([owner]));
            }
            Some(json!({
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": meta,
                "spec": t.get("spec").cloned().unwrap_or_else(|| json!({})),
            }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_follow_the_template() {
        let a = revision("db", Some(&json!({"spec": {"image": "a"}})));
        let b = revision("db", Some(&json!({"spec": {"image": "b"}})));
        assert_ne!(a, b);
        assert!(a.starts_with("db-"));
        assert_eq!(a, revision("db", Some(&json!({"spec": {"image": "a"}}))));
        assert!(a[3..].bytes().all(|c| SAFE_ALPHABET.contains(&c)));
    }

    #[test]
    fn claims_join_template_and_selector_labels() {
        let sts = json!({
            "metadata": {"name": "db", "uid": "u-1"},
            "spec": {
                "replicas": 2,
                "ordinals": {"start": 3},
                "selector": {"matchLabels": {"app": "db"}},
                "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Retain"},
                "volumeClaimTemplates": [
                    {"metadata": {"name": "data", "labels": {"tier": "disk"}, "annotations": {"a": "b"}},
                     "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}},
                    {"spec": {}}
                ]
            }
        });
        assert_eq!(ordinals(&sts), 3..5);
        assert_eq!(template_names(&sts), ["data"]);
        let claims = claims_for(&sts, 4);
        assert_eq!(claims.len(), 1);
        let c = &claims[0];
        assert_eq!(c["metadata"]["name"], "data-db-4");
        assert_eq!(
            c["metadata"]["labels"],
            json!({"app": "db", "tier": "disk"})
        );
        assert_eq!(c["metadata"]["annotations"], json!({"a": "b"}));
        assert_eq!(c["metadata"]["ownerReferences"][0]["uid"], "u-1");
        assert_eq!(c["spec"]["resources"]["requests"]["storage"], "1Gi");
        assert!(deletes_claims(&sts, "whenDeleted"));
        assert!(!deletes_claims(&sts, "whenScaled"));
    }
}
