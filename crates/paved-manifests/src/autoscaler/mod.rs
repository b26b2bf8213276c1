//! The cluster-autoscaler: its identity, permissions, priority expander, Deployment
//! and disruption budget, all in `kube-system`.

mod deployment;
mod disruption;
mod expander;
mod rbac;
pub mod release;
mod service_account;

use std::collections::BTreeMap;

use crate::error::RenderError;
use crate::manifest::Manifest;
use crate::spec::{AutoscalerSpec, BaselineSpec};

/// Name of every autoscaler object (ServiceAccount, roles, bindings, Deployment, PDB).
pub const NAME: &str = "cluster-autoscaler";
/// The namespace the autoscaler runs in.
pub const NAMESPACE: &str = "kube-system";
/// The ConfigMap the autoscaler writes its status to (its default name).
pub const STATUS_CONFIG_MAP: &str = "cluster-autoscaler-status";
/// The ConfigMap the priority expander reads (the name the autoscaler looks for).
pub const PRIORITY_CONFIG_MAP: &str = "cluster-autoscaler-priority-expander";
/// The autoscaler's HTTP port: metrics and `/health-check`.
pub const HTTP_PORT: i32 = 8085;
/// Label key selecting the autoscaler's pods.
pub const SELECTOR_KEY: &str = "app.kubernetes.io/name";

/// Labels that select the autoscaler's pods (Deployment selector, PDB, spread).
pub fn selector_labels() -> BTreeMap<String, String> {
    BTreeMap::from([(SELECTOR_KEY.to_string(), NAME.to_string())])
}

/// Every autoscaler object.
pub fn objects(
    spec: &BaselineSpec,
    autoscaler: &AutoscalerSpec,
) -> Result<Vec<Manifest>, RenderError> {
    let mut out = vec![Manifest::from_object(&service_account::service_account(
        spec, autoscaler,
    ))?];
    out.push(Manifest::from_object(&rbac::cluster_role(spec))?);
    out.push(Manifest::from_object(&rbac::cluster_role_binding(spec))?);
    out.push(Manifest::from_object(&rbac::role(spec))?);
    out.push(Manifest::from_object(&rbac::role_binding(spec))?);
    if let Some(config_map) = expander::priority_config_map(spec, autoscaler)? {
        out.push(Manifest::from_object(&config_map)?);
    }
    out.push(Manifest::from_object(&deployment::deployment(
        spec, autoscaler,
    )?)?);
    if autoscaler.pdb {
        out.push(Manifest::from_object(&disruption::pod_disruption_budget(
            spec,
        ))?);
    }
    Ok(out)
}
