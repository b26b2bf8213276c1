//! What the autoscaler may do: the cluster-wide reads and node/pod writes its
//! simulation and scale-down need, and its own ConfigMaps in `kube-system`.
//!
//! Written from the permissions the upstream autoscaler documents for its
//! auto-discovery deployment (FAQ "What are the Service Account permissions?"),
//! without the long-removed `extensions` API group.

use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};

use super::{NAME, NAMESPACE, PRIORITY_CONFIG_MAP, STATUS_CONFIG_MAP};
use crate::labels::{object_meta, Component};
use crate::spec::BaselineSpec;

/// The RBAC API group.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

const READ: [&str; 3] = ["get", "list", "watch"];

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str], names: &[&str]) -> PolicyRule {
    let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    PolicyRule {
        api_groups: Some(strings(groups)),
        resources: Some(strings(resources)),
        verbs: strings(verbs),
        resource_names: (!names.is_empty()).then(|| strings(names)),
        ..PolicyRule::default()
    }
}

/// Cluster-wide permissions.
pub fn cluster_role(spec: &BaselineSpec) -> ClusterRole {
    ClusterRole {
        metadata: object_meta(spec, &Component::Autoscaler, NAME, None),
        rules: Some(vec![
            // Events about scale-ups and -downs; the legacy leader-election endpoints.
            rule(&[""], &["events", "endpoints"], &["create", "patch"], &[]),
            // Scale-down drains nodes by evicting their pods.
            rule(&[""], &["pods/eviction"], &["create"], &[]),
            // Marks pods it could not help (NotTriggerScaleUp condition).
            rule(&[""], &["pods/status"], &["update"], &[]),
            rule(&[""], &["endpoints"], &["get", "update"], &[NAME]),
            // Taints nodes before removing them.
            rule(&[""], &["nodes"], &["get", "list", "watch", "update"], &[]),
            // Scheduling simulation reads everything that constrains placement.
            rule(
                &[""],
                &[
                    "namespaces",
                    "pods",
                    "services",
                    "replicationcontrollers",
                    "persistentvolumeclaims",
                    "persistentvolumes",
                ],
                &READ,
                &[],
            ),
            rule(&["policy"], &["poddisruptionbudgets"], &READ, &[]),
            rule(
                &["apps"],
                &["statefulsets", "replicasets", "daemonsets"],
                &READ,
                &[],
            ),
            rule(
                &["storage.k8s.io"],
                &[
                    "storageclasses",
                    "csinodes",
                    "csidrivers",
                    "csistoragecapacities",
                ],
                &READ,
                &[],
            ),
            rule(&["batch"], &["jobs", "cronjobs"], &READ, &[]),
            // Leader election between replicas.
            rule(&["coordination.k8s.io"], &["leases"], &["create"], &[]),
            rule(
                &["coordination.k8s.io"],
                &["leases"],
                &["get", "update"],
                &[NAME],
            ),
        ]),
        ..ClusterRole::default()
    }
}

fn subject() -> Subject {
    Subject {
        kind: "ServiceAccount".to_string(),
        name: NAME.to_string(),
        namespace: Some(NAMESPACE.to_string()),
        ..Subject::default()
    }
}

/// Binds [`cluster_role`] to the autoscaler's ServiceAccount.
pub fn cluster_role_binding(spec: &BaselineSpec) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: object_meta(spec, &Component::Autoscaler, NAME, None),
        role_ref: RoleRef {
            api_group: RBAC_GROUP.to_string(),
            kind: "ClusterRole".to_string(),
            name: NAME.to_string(),
        },
        subjects: Some(vec![subject()]),
    }
}

/// Permissions in `kube-system`: the status and priority-expander ConfigMaps.
pub fn role(spec: &BaselineSpec) -> Role {
    Role {
        metadata: object_meta(spec, &Component::Autoscaler, NAME, Some(NAMESPACE)),
        rules: Some(vec![
            // `create` cannot be limited by name: the status ConfigMap is created.
            rule(&[""], &["configmaps"], &["create", "list", "watch"], &[]),
            rule(
                &[""],
                &["configmaps"],
                &["get", "update", "delete", "watch"],
                &[STATUS_CONFIG_MAP, PRIORITY_CONFIG_MAP],
            ),
        ]),
    }
}

/// Binds [`role`] to the autoscaler's ServiceAccount.
pub fn role_binding(spec: &BaselineSpec) -> RoleBinding {
    RoleBinding {
        metadata: object_meta(spec, &Component::Autoscaler, NAME, Some(NAMESPACE)),
        role_ref: RoleRef {
            api_group: RBAC_GROUP.to_string(),
            kind: "Role".to_string(),
            name: NAME.to_string(),
        },
        subjects: Some(vec![subject()]),
    }
}
