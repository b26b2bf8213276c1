//! Field paths and sets, the unit of server-side-apply ownership.
//!
//! A field is a path of map keys to a leaf. Leaves are scalars, lists (lists
//! are atomic here: the whole list is one field, where the real API server
//! merges some lists by key) and empty maps. Sets are encoded as the API
//! server's `FieldsV1` (`{"f:spec": {"f:replicas": {}}}`).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// A path of map keys from the object's root to a leaf.
pub type FieldPath = Vec<String>;

/// A set of field paths.
pub type FieldSet = BTreeSet<FieldPath>;

/// Top-level keys that are never owned: identity, and `status`, which the
/// main resource does not write.
const UNOWNED_TOP: &[&str] = &["apiVersion", "kind", "status"];

/// `metadata` keys the server manages or that identify the object.
const SERVER_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];

/// The owned leaf paths of an object (or an apply configuration).
pub fn leaves(obj: &Value) -> FieldSet {
    let mut out = FieldSet::new();
    let Some(map) = obj.as_object() else {
        return out;
    };
    for (key, value) in map {
        if UNOWNED_TOP.contains(&key.as_str()) {
            continue;
        }
        if key == "metadata" {
            if let Some(meta) = value.as_object() {
                for (mk, mv) in meta {
                    if SERVER_METADATA.contains(&mk.as_str()) {
                        continue;
                    }
                    collect(mv, &mut vec!["metadata".into(), mk.clone()], &mut out);
                }
            }
            continue;
        }
        collect(value, &mut vec![key.clone()], &mut out);
    }
    out
}

fn collect(value: &Value, path: &mut FieldPath, out: &mut FieldSet) {
    match value {
        Value::Null => {}
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                path.push(k.clone());
                collect(v, path, out);
                path.pop();
            }
        }
        _ => {
            out.insert(path.clone());
        }
    }
}

/// The value at `path`, if any.
pub fn get<'a>(obj: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = obj;
    for key in path {
        cur = cur.as_object()?.get(key)?;
    }
    Some(cur)
}

/// Sets the value at `path`, creating (or replacing non-map) parents.
pub fn set(obj: &mut Value, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        *obj = value;
        return;
    };
    let mut cur = obj;
    for key in parents {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let Some(map) = cur.as_object_mut() else {
            return;
        };
        cur = map
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if !cur.is_object() {
        *cur = Value::Object(Map::new());
    }
    if let Some(map) = cur.as_object_mut() {
        map.insert(last.clone(), value);
    }
}

/// Removes the value at `path`, then removes parents that became empty
/// (below the top level). Returns whether something was removed.
pub fn remove(obj: &mut Value, path: &[String]) -> bool {
    fn go(cur: &mut Value, path: &[String], depth: usize) -> bool {
        let Some((first, rest)) = path.split_first() else {
            return false;
        };
        let Some(map) = cur.as_object_mut() else {
            return false;
        };
        if rest.is_empty() {
            return map.remove(first).is_some();
        }
        let Some(child) = map.get_mut(first) else {
            return false;
        };
        let removed = go(child, rest, depth + 1);
        if removed && depth >= 1 && child.as_object().is_some_and(Map::is_empty) {
            map.remove(first);
        }
        removed
    }
    go(obj, path, 0)
}

/// Whether one path is a prefix of the other (they cover the same data).
pub fn overlaps(a: &[String], b: &[String]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

/// The path as the API server prints it in conflicts: `.spec.replicas`.
pub fn display(path: &[String]) -> String {
    path.iter().map(|k| format!(".{k}")).collect()
}

/// Encodes a set as `FieldsV1`.
pub fn to_fields_v1(set: &FieldSet) -> Value {
    let mut root = Value::Object(Map::new());
    for path in set {
        let mut cur = &mut root;
        for key in path {
            let Some(map) = cur.as_object_mut() else {
                break;
            };
            cur = map
                .entry(format!("f:{key}"))
                .or_insert_with(|| Value::Object(Map::new()));
        }
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> FieldPath {
        s.split('.').map(str::to_string).collect()
    }

    #[test]
    fn leaves_skip_identity_and_status() {
        let obj = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "x", "namespace": "n", "labels": {"app": "x"}},
            "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "c"}]}}, "empty": {}},
            "status": {"replicas": 2}
        });
        let got: Vec<FieldPath> = leaves(&obj).into_iter().collect();
        assert_eq!(
            got,
            vec![
                p("metadata.labels.app"),
                p("spec.empty"),
                p("spec.replicas"),
                p("spec.template.spec.containers")
            ]
        );
    }

    #[test]
    fn set_remove_and_encode() {
        let mut obj = json!({"spec": {"a": {"b": 1}}});
        set(&mut obj, &p("spec.a.c"), json!(2));
        assert_eq!(obj, json!({"spec": {"a": {"b": 1, "c": 2}}}));
        assert!(remove(&mut obj, &p("spec.a.b")));
        assert!(remove(&mut obj, &p("spec.a.c")));
        assert_eq!(obj, json!({"spec": {}}));
        let set: FieldSet = [p("spec.replicas"), p("metadata.labels.app")].into();
        assert_eq!(
            to_fields_v1(&set),
            json!({"f:metadata": {"f:labels": {"f:app": {}}}, "f:spec": {"f:replicas": {}}})
        );
        assert_eq!(display(&p("spec.replicas")), ".spec.replicas");
        assert!(overlaps(&p("spec"), &p("spec.replicas")));
        assert!(!overlaps(&p("spec.a"), &p("spec.b")));
    }
}
