//! The table of resource types the stand-in serves, and discovery documents
//! built from it.
//!
//! Adding a type is one line in [`RESOURCES`]; discovery, routing, storage,
//! List kinds and request counts all follow from it.

use serde_json::{json, Value};

/// What the stand-in's "controllers" write into an object's `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusModel {
    /// No status is reported.
    None,
    /// `apps/v1` Deployment: replicas ready after the configured delay.
    Deployment,
    /// `apps/v1` StatefulSet: replicas ready after the configured delay.
    StatefulSet,
    /// `apps/v1` DaemonSet: one pod per configured node, ready after the delay.
    DaemonSet,
    /// PersistentVolumeClaim: `Bound` when a usable StorageClass exists.
    PersistentVolumeClaim,
    /// Namespace: always `phase: Active`.
    Namespace,
    /// `apiregistration.k8s.io/v1` APIService: an `Available=True` condition
    /// (reason `Local` without `spec.service`, else `Passed`).
    ApiService,
}

/// One resource type: where it lives in the API and how it behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceType {
    /// API group (`""` for the core group).
    pub group: &'static str,
    /// API version within the group.
    pub version: &'static str,
    /// Plural resource name, as in URLs (`deployments`).
    pub plural: &'static str,
    /// Singular resource name (`deployment`).
    pub singular: &'static str,
    /// Kind (`Deployment`).
    pub kind: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// Short names kubectl accepts (`deploy`).
    pub short_names: &'static [&'static str],
    /// The status the stand-in reports.
    pub status: StatusModel,
}

impl ResourceType {
    /// `group/version`, or just `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `plural.group` as the API server names a resource in messages
    /// (`deployments.apps`), or just the plural for the core group.
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// The List kind (`DeploymentList`).
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }
}

// Positional on purpose: each table row stays one readable line.
#[allow(clippy::too_many_arguments)]
const fn rt(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    status: StatusModel,
) -> ResourceType {
    ResourceType {
        group,
        version,
        plural,
        singular,
        kind,
        namespaced,
        short_names,
        status,
    }
}

use StatusModel as S;

/// Every resource type served. One line each.
#[rustfmt::skip]
pub const RESOURCES: &[ResourceType] = &[
    rt("", "v1", "namespaces", "namespace", "Namespace", false, &["ns"], S::Namespace),
    rt("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, &["sa"], S::None),
    rt("", "v1", "configmaps", "configmap", "ConfigMap", true, &["cm"], S::None),
    rt("", "v1", "secrets", "secret", "Secret", true, &[], S::None),
    rt("", "v1", "services", "service", "Service", true, &["svc"], S::None),
    rt("", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", true, &["pvc"], S::PersistentVolumeClaim),
    rt("", "v1", "resourcequotas", "resourcequota", "ResourceQuota", true, &["quota"], S::None),
    rt("", "v1", "limitranges", "limitrange", "LimitRange", true, &["limits"], S::None),
    rt("apps", "v1", "deployments", "deployment", "Deployment", true, &["deploy"], S::Deployment),
    rt("apps", "v1", "daemonsets", "daemonset", "DaemonSet", true, &["ds"], S::DaemonSet),
    rt("apps", "v1", "statefulsets", "statefulset", "StatefulSet", true, &["sts"], S::StatefulSet),
    rt("rbac.authorization.k8s.io", "v1", "roles", "role", "Role", true, &[], S::None),
    rt("rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", true, &[], S::None),
    rt("rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", false, &[], S::None),
    rt("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", false, &[], S::None),
    rt("networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", true, &["netpol"], S::None),
    rt("networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", true, &["ing"], S::None),
    rt("policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", true, &["pdb"], S::None),
    rt("storage.k8s.io", "v1", "storageclasses", "storageclass", "StorageClass", false, &["sc"], S::None),
    rt("scheduling.k8s.io", "v1", "priorityclasses", "priorityclass", "PriorityClass", false, &["pc"], S::None),
    rt("autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler", true, &["hpa"], S::None),
    rt("apiregistration.k8s.io", "v1", "apiservices", "apiservice", "APIService", false, &[], S::ApiService),
];

/// Verbs advertised for every resource: exactly the ones the stand-in serves.
pub const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
];

/// The resource type served at `group`/`version` under `plural`.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceType> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// The resource type of `kind` in `group`.
pub fn find_kind(group: &str, kind: &str) -> Option<&'static ResourceType> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.kind == kind)
}

/// Distinct non-core groups, in table order.
fn groups() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for r in RESOURCES {
        if !r.group.is_empty() && !out.contains(&r.group) {
            out.push(r.group);
        }
    }
    out
}

/// Versions served in `group`, in table order.
fn versions(group: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for r in RESOURCES.iter().filter(|r| r.group == group) {
        if !out.contains(&r.version) {
            out.push(r.version);
        }
    }
    out
}

/// `GET /api`: the core group's versions.
pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": versions(""),
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ]
    })
}

fn api_group(group: &str) -> Value {
    let versions: Vec<Value> = versions(group)
        .into_iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    let preferred = versions.first().cloned().unwrap_or(Value::Null);
    json!({"name": group, "versions": versions, "preferredVersion": preferred})
}

/// `GET /apis`: every non-core group.
pub fn api_group_list() -> Value {
    let groups: Vec<Value> = groups().into_iter().map(api_group).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `GET /apis/<group>`, if the group is served.
pub fn api_group_doc(group: &str) -> Option<Value> {
    if group.is_empty() || !groups().contains(&group) {
        return None;
    }
    let mut doc = api_group(group);
    if let Some(map) = doc.as_object_mut() {
        map.insert("kind".into(), json!("APIGroup"));
        map.insert("apiVersion".into(), json!("v1"));
    }
    Some(doc)
}

/// `GET /api/v1` or `GET /apis/<group>/<version>`, if served.
pub fn api_resource_list(group: &str, version: &str) -> Option<Value> {
    let resources: Vec<Value> = RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .map(|r| {
            let mut doc = json!({
                "name": r.plural,
                "singularName": r.singular,
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": VERBS,
            });
            if !r.short_names.is_empty() {
                doc["shortNames"] = json!(r.short_names);
            }
            doc
        })
        .collect();
    if resources.is_empty() {
        return None;
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        for (i, a) in RESOURCES.iter().enumerate() {
            for b in &RESOURCES[i + 1..] {
                assert!(
                    !(a.group == b.group && (a.plural == b.plural || a.kind == b.kind)),
                    "duplicate {a:?}"
                );
            }
        }
        assert_eq!(
            find("apps", "v1", "deployments").map(|r| r.kind),
            Some("Deployment")
        );
        assert_eq!(
            find_kind("", "Namespace").map(|r| r.plural),
            Some("namespaces")
        );
    }

    #[test]
    fn discovery_documents() {
        let groups = api_group_list();
        assert!(groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == "rbac.authorization.k8s.io"));
        let core = api_resource_list("", "v1").unwrap();
        assert_eq!(core["groupVersion"], "v1");
        let apps = api_resource_list("apps", "v1").unwrap();
        assert_eq!(apps["resources"][0]["kind"], "Deployment");
        assert!(api_resource_list("apps", "v2").is_none());
        assert!(api_group_doc("nope").is_none());
    }
}
