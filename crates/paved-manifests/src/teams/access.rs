//! Who may do what in team namespaces: the team's groups edit their own namespaces
//! and view the ones listed in `view_namespaces`.

use k8s_openapi::api::rbac::v1::{RoleBinding, RoleRef, Subject};

use crate::labels::{object_meta, Component};
use crate::spec::{BaselineSpec, TeamSpec};

/// The RBAC API group.
const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// Name of team `team`'s edit RoleBinding.
pub fn edit_binding_name(team: &str) -> String {
    format!("team-{team}-edit")
}

/// Name of team `team`'s view RoleBinding.
pub fn view_binding_name(team: &str) -> String {
    format!("team-{team}-view")
}

fn binding(
    spec: &BaselineSpec,
    component: &Component,
    name: String,
    namespace: &str,
    cluster_role: &str,
    team: &TeamSpec,
) -> Option<RoleBinding> {
    if team.groups.is_empty() {
        return None;
    }
    Some(RoleBinding {
        metadata: object_meta(spec, component, &name, Some(namespace)),
        role_ref: RoleRef {
            api_group: RBAC_GROUP.to_string(),
            kind: "ClusterRole".to_string(),
            name: cluster_role.to_string(),
        },
        subjects: Some(
            team.groups
                .iter()
                .map(|group| Subject {
                    api_group: Some(RBAC_GROUP.to_string()),
                    kind: "Group".to_string(),
                    name: group.clone(),
                    ..Subject::default()
                })
                .collect(),
        ),
    })
}

/// The built-in `edit` ClusterRole for the team's groups in `namespace`; `None` when
/// the team has no groups.
pub fn edit_binding(
    spec: &BaselineSpec,
    component: &Component,
    team_name: &str,
    team: &TeamSpec,
    namespace: &str,
) -> Option<RoleBinding> {
    binding(
        spec,
        component,
        edit_binding_name(team_name),
        namespace,
        "edit",
        team,
    )
}

/// The built-in `view` ClusterRole for the team's groups in `namespace`; `None` when
/// the team has no groups.
pub fn view_binding(
    spec: &BaselineSpec,
    component: &Component,
    team_name: &str,
    team: &TeamSpec,
    namespace: &str,
) -> Option<RoleBinding> {
    binding(
        spec,
        component,
        view_binding_name(team_name),
        namespace,
        "view",
        team,
    )
}
