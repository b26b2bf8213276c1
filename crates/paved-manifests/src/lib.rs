//! paved's in-cluster baseline, rendered: the cluster-autoscaler, the default
//! StorageClass, team namespaces with their access, quotas, limits, Pod Security labels
//! and network policies, and the platform administrators' binding, as typed
//! `k8s-openapi` objects.
//!
//! Pure: no cluster is contacted and nothing is read from the environment. The same
//! [`BaselineSpec`] always renders the same bytes, so a digest of the result tells
//! whether anything changed. Callers resolve every value (profiles, defaults) before
//! calling; the only values chosen here are the named constants of each module.
//!
//! ```
//! use paved_manifests::*;
//! use std::collections::BTreeMap;
//!
//! let spec = BaselineSpec {
//!     platform: Platform::Gke { project: "shop-prod".into(), location: "europe-west1".into() },
//!     cluster_name: "shop".into(),
//!     kubernetes_minor: (1, 31),
//!     profile_name: "development".into(),
//!     autoscaler: None,
//!     storage_class: None,
//!     teams: BTreeMap::from([("project1".to_string(), TeamSpec {
//!         namespaces: vec!["project1-dev".into()],
//!         groups: vec!["project1-devs@example.com".into()],
//!         view_namespaces: vec![],
//!     })]),
//!     platform_admin_groups: vec!["sysadmin@example.com".into()],
//!     quota: QuotaSpec {
//!         requests_cpu: "4".into(), requests_memory: "8Gi".into(),
//!         limits_cpu: "8".into(), limits_memory: "16Gi".into(), pods: 50,
//!     },
//!     limit_range: LimitRangeSpec {
//!         default_request_cpu: "100m".into(), default_request_memory: "128Mi".into(),
//!         default_limit_cpu: "500m".into(), default_limit_memory: "512Mi".into(),
//!     },
//!     pod_security: PodSecurityLevel::Baseline,
//! };
//! assert!(validate(&spec).is_empty());
//! let rendered = render(&spec)?;
//! assert_eq!(rendered.count_by_kind()["NetworkPolicy"], 3);
//! let files = to_gitops_files(&rendered)?;
//! assert!(files.iter().any(|(name, _)| name == "_cluster/namespace-project1-dev.yaml"));
//! # Ok::<(), RenderError>(())
//! ```

#![warn(missing_docs)]

pub mod autoscaler;
mod error;
mod gitops;
pub mod labels;
mod manifest;
mod names;
mod platform_admins;
mod quantity;
mod render;
mod spec;
pub mod storage;
pub mod teams;
mod validate;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;

pub use error::RenderError;
pub use gitops::{file_name, to_gitops_files, CLUSTER_DIR, KUSTOMIZATION_FILE};
pub use manifest::{Manifest, ManifestId, Rendered, APPLY_ORDER};
pub use platform_admins::BINDING_NAME as PLATFORM_ADMINS_BINDING;
pub use render::render;
pub use spec::{
    AutoscalerSpec, BaselineSpec, LimitRangeSpec, Platform, PodSecurityLevel, QuotaSpec,
    StorageClassSpec, TaintEffect, TeamSpec, TolerationSpec,
};
pub use validate::{validate, Problem, RESERVED_NAMESPACES};
