//! Getting the cluster's in-cluster objects where they belong, reading them back,
//! and cleaning up before teardown, through the shared delivery
//! ([`crate::delivery`]): this module says where the cluster's API is and what
//! the baseline renders to.

use std::path::Path as FsPath;

use paved_manifests::{Manifest, Rendered};

use super::baseline::{render, ApplyInputs};
use super::config::ClusterSpec;
use super::kubernetes::Delivery;
use super::state::{KubeObserved, Observed};
use crate::delivery::{direct, gitops, kube_error, permanent, ApiRoute};
use crate::ports::kube::{KubeApi, KubeAuth, KubeTarget};
use crate::stack::resource::known;
use crate::stack::{BackendError, Knowable, StackContext};

pub use crate::delivery::drift::renders_into;
pub use crate::delivery::{KubeAccess, CHANGED};

/// What the apply needs to render the objects, from what it observed.
pub fn apply_inputs(observed: &Observed, region: &str) -> Result<ApplyInputs, BackendError> {
    let cp = observed.control_plane.as_ref().ok_or_else(|| {
        permanent(
            "rendering the cluster's objects",
            "the control plane does not exist",
            "",
        )
    })?;
    let autoscaler = observed
        .iam
        .as_ref()
        .and_then(|i| i.autoscaler_identity.clone())
        .unwrap_or_default();
    let gke = cp.platform == "gke";
    let account_id = if gke {
        cp.account.clone()
    } else {
        autoscaler.split(':').nth(4).unwrap_or_default().to_owned()
    };
    Ok(ApplyInputs {
        platform: cp.platform.clone(),
        account_id,
        region: if gke {
            cp.location.clone()
        } else {
            region.to_owned()
        },
        autoscaler_identity: autoscaler,
        kubernetes_version: cp.kubernetes_version.clone(),
        volume_key: None,
    })
}

/// The API target of the cluster `observed` holds.
fn target(
    spec: &ClusterSpec,
    observed: &Observed,
    region: &str,
) -> Result<KubeTarget, BackendError> {
    let during = "reaching the Kubernetes API";
    let cp = observed
        .control_plane
        .as_ref()
        .ok_or_else(|| permanent(during, "the control plane does not exist", ""))?;
    let api = spec.kubernetes.api.as_ref();
    let option = |k: Option<&Knowable<Option<String>>>, what: &str| match k {
        Some(k) => known(k, what),
        None => Ok(None),
    };
    ApiRoute {
        endpoint: cp.endpoint.clone(),
        ca_base64: cp.certificate_authority.clone(),
        url: option(api.map(|a| &a.url), "kubernetes_api.url")?,
        proxy_url: option(api.map(|a| &a.proxy_url), "kubernetes_api.proxy_url")?,
        ca_certificate: option(
            api.map(|a| &a.ca_certificate),
            "kubernetes_api.ca_certificate",
        )?,
        auth: KubeAuth::Cloud {
            cluster_name: known(&spec.name, "name")?,
            location: region.to_owned(),
        },
    }
    .target()
}

/// A client of the cluster's API.
async fn connect(
    access: &KubeAccess,
    spec: &ClusterSpec,
    observed: &Observed,
) -> Result<std::sync::Arc<dyn KubeApi>, BackendError> {
    access
        .connector
        .connect(&target(spec, observed, &access.region)?)
        .await
        .map_err(|e| kube_error("reaching the Kubernetes API", e))
}

/// The objects `prior` stood for (their identity does not depend on anything only
/// the apply knows).
fn prior_objects(prior: Option<&ClusterSpec>, inputs: &ApplyInputs) -> Vec<Manifest> {
    prior
        .and_then(|p| render(p, inputs).ok())
        .map(|r| r.objects)
        .unwrap_or_default()
}

/// Delivers the objects `spec` stands for (see [`crate::delivery`]).
pub async fn deliver(
    access: Option<&KubeAccess>,
    ctx: &StackContext,
    spec: &ClusterSpec,
    prior: Option<&ClusterSpec>,
    observed: &mut Observed,
) -> Result<(), BackendError> {
    let region = access.map(|a| a.region.as_str()).unwrap_or_default();
    let inputs = apply_inputs(observed, region)?;
    let rendered = render(spec, &inputs).map_err(|e| {
        permanent(
            "rendering the cluster's objects",
            e,
            "Fix the teams' settings.",
        )
    })?;
    let before = prior_objects(prior, &inputs);
    match known(&spec.kubernetes.delivery, "delivery")? {
        Delivery::Gitops => {
            let dir = known(&spec.kubernetes.gitops_path, "gitops_path")?.ok_or_else(|| {
                permanent(
                    "writing GitOps files",
                    "gitops_path is not set",
                    "Set gitops_path.",
                )
            })?;
            gitops::write_files(FsPath::new(&dir), &rendered, &before)?;
            observed.kube = Some(KubeObserved::whole(&rendered));
            Ok(())
        }
        Delivery::Direct => {
            let access = access.ok_or_else(|| {
                permanent(
                    "reaching the Kubernetes API",
                    "this cloud offers no Kubernetes client",
                    "Use delivery = \"gitops\".",
                )
            })?;
            let api = connect(access, spec, observed).await?;
            direct::apply_all(
                api.as_ref(),
                ctx,
                &rendered,
                None,
                &before,
                &mut observed.kube,
            )
            .await
        }
    }
}

/// Reads the objects back for a refresh: `None` when they cannot be read (the
/// state's list stands).
pub async fn read(
    access: Option<&KubeAccess>,
    spec: &ClusterSpec,
    observed: &Observed,
) -> Option<KubeObserved> {
    let region = access.map(|a| a.region.as_str()).unwrap_or_default();
    let inputs = apply_inputs(observed, region).ok()?;
    let rendered: Rendered = render(spec, &inputs).ok()?;
    match spec.kubernetes.delivery.known()? {
        Delivery::Gitops => {
            let dir = spec.kubernetes.gitops_path.known().cloned().flatten()?;
            Some(gitops::read_files(FsPath::new(&dir), &rendered))
        }
        Delivery::Direct => {
            let api = connect(access?, spec, observed).await.ok()?;
            direct::read_objects(api.as_ref(), &rendered).await
        }
    }
}

/// Before teardown: deletes the Services of type LoadBalancer and the
/// PersistentVolumeClaims in the cluster, so the cloud's load balancers and
/// volumes go through Kubernetes in order rather than being left behind. Best
/// effort: the teardown removes load balancers it finds anyway. Returns how many
/// were deleted.
pub async fn release_cloud_objects(
    access: Option<&KubeAccess>,
    spec: &ClusterSpec,
    observed: &Observed,
) -> usize {
    if spec.kubernetes.delivery.known() != Some(&Delivery::Direct) {
        return 0;
    }
    let Some(access) = access else {
        return 0;
    };
    let Ok(api) = connect(access, spec, observed).await else {
        return 0;
    };
    direct::release_cloud_objects(api.as_ref(), None).await
}
