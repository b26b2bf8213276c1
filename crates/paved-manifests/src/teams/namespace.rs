//! A team namespace, labelled with the Pod Security Standards level it runs at.

use k8s_openapi::api::core::v1::Namespace;

use crate::labels::{object_meta, Component};
use crate::spec::BaselineSpec;

/// Prefix of the Pod Security admission labels.
pub const POD_SECURITY_PREFIX: &str = "pod-security.kubernetes.io";
/// Pod Security admission modes; each gets the level and a pinned version.
pub const POD_SECURITY_MODES: [&str; 3] = ["enforce", "audit", "warn"];

/// The Namespace `name`.
pub fn namespace(spec: &BaselineSpec, component: &Component, name: &str) -> Namespace {
    let mut metadata = object_meta(spec, component, name, None);
    let level = spec.pod_security.as_str();
    // Pinning the version to the cluster's minor keeps an upgrade from tightening the
    // rules under running workloads; the pin moves with each cluster upgrade.
    let version = format!("v{}.{}", spec.kubernetes_minor.0, spec.kubernetes_minor.1);
    if let Some(labels) = metadata.labels.as_mut() {
        for mode in POD_SECURITY_MODES {
            labels.insert(format!("{POD_SECURITY_PREFIX}/{mode}"), level.to_string());
            labels.insert(
                format!("{POD_SECURITY_PREFIX}/{mode}-version"),
                version.clone(),
            );
        }
    }
    Namespace {
        metadata,
        ..Namespace::default()
    }
}
