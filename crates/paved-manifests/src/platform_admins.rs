//! The platform administrators: their groups get `cluster-admin` everywhere.

use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleRef, Subject};

use crate::labels::{object_meta, Component};
use crate::spec::BaselineSpec;

/// Name of the administrators' ClusterRoleBinding.
pub const BINDING_NAME: &str = "paved-platform-admins";

/// The ClusterRoleBinding; `None` when no administrator groups are named.
pub fn cluster_role_binding(spec: &BaselineSpec) -> Option<ClusterRoleBinding> {
    if spec.platform_admin_groups.is_empty() {
        return None;
    }
    let rbac = "rbac.authorization.k8s.io";
    Some(ClusterRoleBinding {
        metadata: object_meta(spec, &Component::PlatformAdmins, BINDING_NAME, None),
        role_ref: RoleRef {
            api_group: rbac.to_string(),
            kind: "ClusterRole".to_string(),
            name: "cluster-admin".to_string(),
        },
        subjects: Some(
            spec.platform_admin_groups
                .iter()
                .map(|group| Subject {
                    api_group: Some(rbac.to_string()),
                    kind: "Group".to_string(),
                    name: group.clone(),
                    ..Subject::default()
                })
                .collect(),
        ),
    })
}
