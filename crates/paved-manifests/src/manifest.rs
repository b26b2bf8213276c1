//! Rendered objects: one typed object serialised once into a [`Manifest`] with its
//! content hash, the [`Rendered`] set in apply order, and the order to delete in.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::RenderError;

/// Kinds in the order they are applied: what others refer to comes first (a namespace
/// before what lives in it, a service account before the binding and the workload
/// that use it, a ConfigMap before the Deployment that reads it). Deletion runs the
/// other way. An APIService comes after the Deployment that serves it, an Ingress
/// after its Service. Kinds not listed here (left over from an older paved) sort
/// just before Deployments, so they are deleted right after the workloads.
pub const APPLY_ORDER: [&str; 21] = [
    "Namespace",
    "PriorityClass",
    "ServiceAccount",
    "ClusterRole",
    "Role",
    "ClusterRoleBinding",
    "RoleBinding",
    "ConfigMap",
    "Secret",
    "StorageClass",
    "ResourceQuota",
    "LimitRange",
    "NetworkPolicy",
    "Service",
    "PodDisruptionBudget",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "APIService",
    "Ingress",
    "HorizontalPodAutoscaler",
];

/// Where `Deployment` is in [`APPLY_ORDER`].
const DEPLOYMENT_RANK: usize = 15;

/// Rank of `kind` in [`APPLY_ORDER`] (doubled, leaving room between kinds); unknown
/// kinds rank between `PodDisruptionBudget` and `Deployment`.
fn apply_rank(kind: &str) -> usize {
    match APPLY_ORDER.iter().position(|k| *k == kind) {
        Some(position) => position * 2,
        None => DEPLOYMENT_RANK * 2 - 1,
    }
}

/// Identifies one object in a cluster.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ManifestId {
    /// `apiVersion`, e.g. `apps/v1`.
    pub api_version: String,
    /// `kind`, e.g. `Deployment`.
    pub kind: String,
    /// The namespace, `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
}

impl fmt::Display for ManifestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(
                f,
                "{} {}/{} ({})",
                self.kind, ns, self.name, self.api_version
            ),
            None => write!(f, "{} {} ({})", self.kind, self.name, self.api_version),
        }
    }
}

/// One rendered object.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// `apiVersion`, e.g. `apps/v1`.
    pub api_version: String,
    /// `kind`, e.g. `Deployment`.
    pub kind: String,
    /// The namespace, `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
    /// The typed object serialised to JSON, object keys sorted.
    pub body: Value,
    /// SHA-256 (lower-case hex) of the body's canonical JSON: sorted keys, no spaces.
    pub hash: String,
}

impl Manifest {
    /// Serialises a typed object. Every map in the body is rebuilt with its keys in
    /// sorted order, so the body, its JSON text and its hash are the same whatever
    /// features serde_json was built with elsewhere in the workspace.
    pub fn from_object<K>(object: &K) -> Result<Manifest, RenderError>
    where
        K: k8s_openapi::Resource + k8s_openapi::Metadata<Ty = ObjectMeta> + Serialize,
    {
        let meta = object.metadata();
        let name = meta.name.clone().unwrap_or_default();
        let json_error = |source| RenderError::Json {
            kind: K::KIND.to_string(),
            name: name.clone(),
            source,
        };
        let body = sort_keys(serde_json::to_value(object).map_err(json_error)?);
        let canonical = serde_json::to_vec(&body).map_err(json_error)?;
        Ok(Manifest {
            api_version: K::API_VERSION.to_string(),
            kind: K::KIND.to_string(),
            namespace: meta.namespace.clone(),
            name: name.clone(),
            body,
            hash: sha256_hex(&canonical),
        })
    }

    /// This object's identity.
    pub fn id(&self) -> ManifestId {
        ManifestId {
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }
}

/// The whole baseline, in apply order.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// Objects in apply order: by [`APPLY_ORDER`], then namespace, then name.
    pub objects: Vec<Manifest>,
}

impl Rendered {
    /// Puts `objects` into apply order.
    pub fn new(mut objects: Vec<Manifest>) -> Rendered {
        objects.sort_by(|a, b| {
            (apply_rank(&a.kind), &a.namespace, &a.name, &a.api_version).cmp(&(
                apply_rank(&b.kind),
                &b.namespace,
                &b.name,
                &b.api_version,
            ))
        });
        Rendered { objects }
    }

    /// SHA-256 (hex) over every object's kind, namespace, name and hash, in order:
    /// equal digests mean an identical baseline.
    pub fn digest(&self) -> String {
        let mut hasher = Sha256::new();
        for m in &self.objects {
            let line = format!(
                "{}\t{}\t{}\t{}\t{}\n",
                m.api_version,
                m.kind,
                m.namespace.as_deref().unwrap_or(""),
                m.name,
                m.hash
            );
            hasher.update(line.as_bytes());
        }
        hex(&hasher.finalize())
    }

    /// How many objects of each kind.
    pub fn count_by_kind(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for m in &self.objects {
            *counts.entry(m.kind.clone()).or_insert(0) += 1;
        }
        counts
    }

    /// The identities of every object, in apply order.
    pub fn ids(&self) -> Vec<ManifestId> {
        self.objects.iter().map(Manifest::id).collect()
    }

    /// `ids` in the order to delete them: the reverse of [`APPLY_ORDER`] (workloads
    /// first, namespaces last), ties broken by identity so the order is stable.
    pub fn prune_order(ids: &[ManifestId]) -> Vec<ManifestId> {
        let mut out = ids.to_vec();
        out.sort_by(|a, b| {
            (Reverse(apply_rank(&a.kind)), a).cmp(&(Reverse(apply_rank(&b.kind)), b))
        });
        out.dedup();
        out
    }

    /// Of the objects applied earlier (`applied`), those this rendering no longer
    /// contains, in the order to delete them.
    pub fn stale(&self, applied: &[ManifestId]) -> Vec<ManifestId> {
        let wanted: std::collections::BTreeSet<ManifestId> = self.ids().into_iter().collect();
        let gone: Vec<ManifestId> = applied
            .iter()
            .filter(|id| !wanted.contains(id))
            .cloned()
            .collect();
        Rendered::prune_order(&gone)
    }
}

/// Rebuilds every JSON object with its keys inserted in sorted order.
fn sort_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<String, Value> =
                map.into_iter().map(|(k, v)| (k, sort_keys(v))).collect();
            Value::Object(sorted.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

/// SHA-256 of `bytes` as lower-case hex.
fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ConfigMap, Namespace};

    fn id(kind: &str, ns: Option<&str>, name: &str) -> ManifestId {
        ManifestId {
            api_version: "v1".into(),
            kind: kind.into(),
            namespace: ns.map(Into::into),
            name: name.into(),
        }
    }

    #[test]
    fn hash_is_sha256_of_sorted_compact_json() {
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some("a".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let m = Manifest::from_object(&ns).unwrap();
        let text = r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}}"#;
        assert_eq!(m.hash, sha256_hex(text.as_bytes()));
        assert_eq!(m.hash.len(), 64);
        assert_eq!((m.kind.as_str(), m.namespace.clone()), ("Namespace", None));
    }

    #[test]
    fn apply_order_ranks_known_kinds_and_slots_unknown_before_deployments() {
        assert!(apply_rank("Namespace") < apply_rank("ServiceAccount"));
        assert!(apply_rank("RoleBinding") < apply_rank("ConfigMap"));
        assert!(apply_rank("PodDisruptionBudget") < apply_rank("Widget"));
        assert!(apply_rank("Widget") < apply_rank("Deployment"));
        assert_eq!(APPLY_ORDER[DEPLOYMENT_RANK], "Deployment");
        assert!(apply_rank("Secret") < apply_rank("StatefulSet"));
        assert!(apply_rank("Deployment") < apply_rank("APIService"));
    }

    #[test]
    fn prune_order_deletes_workloads_first_and_namespaces_last() {
        let ids = vec![
            id("Namespace", None, "a"),
            id("ConfigMap", Some("a"), "c"),
            id("Deployment", Some("a"), "d"),
            id("Widget", Some("a"), "w"),
            id("RoleBinding", Some("a"), "r"),
            id("ConfigMap", Some("a"), "b"),
        ];
        let kinds: Vec<_> = Rendered::prune_order(&ids)
            .into_iter()
            .map(|i| format!("{}/{}", i.kind, i.name))
            .collect();
        assert_eq!(
            kinds,
            [
                "Deployment/d",
                "Widget/w",
                "ConfigMap/b",
                "ConfigMap/c",
                "RoleBinding/r",
                "Namespace/a"
            ]
        );
    }

    #[test]
    fn stale_lists_only_what_is_gone() {
        let cm = ConfigMap {
            metadata: ObjectMeta {
                name: Some("keep".into()),
                namespace: Some("a".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let rendered = Rendered::new(vec![Manifest::from_object(&cm).unwrap()]);
        let applied = vec![
            id("ConfigMap", Some("a"), "keep"),
            id("Namespace", None, "old"),
            id("ConfigMap", Some("old"), "gone"),
        ];
        assert_eq!(
            rendered.stale(&applied),
            vec![
                id("ConfigMap", Some("old"), "gone"),
                id("Namespace", None, "old")
            ]
        );
    }
}
