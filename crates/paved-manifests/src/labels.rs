//! The labels and metadata every object carries: who manages it, which stack and which
//! part of the baseline it belongs to.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::spec::BaselineSpec;

/// Label naming the tool that manages the object.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY`] on every object paved renders.
pub const MANAGED_BY_PAVED: &str = "paved";
/// Label naming the stack (the cluster) the object belongs to.
pub const STACK: &str = "paved.dev/stack";
/// Label naming the part of the baseline the object belongs to.
pub const COMPONENT: &str = "paved.dev/component";
/// Label naming the profile the baseline was rendered from.
pub const PROFILE: &str = "paved.dev/profile";

/// The part of the baseline an object belongs to; the [`COMPONENT`] label's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Component {
    /// The cluster-autoscaler.
    Autoscaler,
    /// The default StorageClass.
    Storage,
    /// One team's namespaces and bindings.
    Team(String),
    /// The platform administrators' cluster-wide binding.
    PlatformAdmins,
}

impl Component {
    /// The label value: `autoscaler`, `storage`, `team-<name>`, `platform-admins`.
    pub fn label_value(&self) -> String {
        match self {
            Component::Autoscaler => "autoscaler".to_string(),
            Component::Storage => "storage".to_string(),
            Component::Team(name) => format!("team-{name}"),
            Component::PlatformAdmins => "platform-admins".to_string(),
        }
    }
}

/// The labels every object of `component` carries.
pub fn common_labels(spec: &BaselineSpec, component: &Component) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED_BY.to_string(), MANAGED_BY_PAVED.to_string()),
        (STACK.to_string(), spec.cluster_name.clone()),
        (COMPONENT.to_string(), component.label_value()),
        (PROFILE.to_string(), spec.profile_name.clone()),
    ])
}

/// Metadata for an object named `name` (in `namespace`, when namespaced).
pub fn object_meta(
    spec: &BaselineSpec,
    component: &Component,
    name: &str,
    namespace: Option<&str>,
) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: namespace.map(str::to_string),
        labels: Some(common_labels(spec, component)),
        ..ObjectMeta::default()
    }
}
