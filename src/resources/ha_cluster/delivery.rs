//! Getting the cluster's in-cluster objects where they belong, reading them back,
//! and cleaning up before teardown.
//!
//! - `delivery = "direct"`: server-side apply of every object in order (field
//!   manager `paved`), objects of the prior configuration no longer wanted deleted
//!   in reverse order, then a wait until the workloads are ready (kstatus: the
//!   latest generation observed, the replicas ready) within the operation's timeout.
//! - `delivery = "gitops"`: one YAML file per object and a `kustomization.yaml` in
//!   `gitops_path`; files of objects no longer wanted removed; no Kubernetes call.
//!
//! What exists is recorded in [`Observed::kube`] as it goes, so a failed apply
//! returns it as partial state. Refresh reads every object back and compares the
//! fields paved renders with the live ones: an object gone leaves
//! `kubernetes_objects`, one changed by hand is marked.

use std::collections::BTreeSet;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use paved_manifests::{Manifest, Rendered};
use serde_json::Value as Json;

use super::baseline::{label, object_label, render, ApplyInputs};
use super::config::ClusterSpec;
use super::kubernetes::Delivery;
use super::state::{KubeObserved, Observed};
use crate::ports::kube::{
    readiness, KubeApi, KubeAuth, KubeConnector, KubeError, KubeTarget, ObjectRef, Readiness,
};
use crate::stack::resource::known;
use crate::stack::retry::Retryability;
use crate::stack::waiter::{Poll, PollBackoff, Waiter};
use crate::stack::{BackendError, OperationContext, StackContext};

/// How often readiness is polled: 1s, growing to 10s (the stand-in and small
/// clusters are ready in seconds; a rollout takes minutes).
const READY_POLL: PollBackoff = PollBackoff {
    start: Duration::from_secs(1),
    factor: 1.5,
    cap: Duration::from_secs(10),
};

/// The marker refresh adds to an object changed outside paved.
pub const CHANGED: &str = " (changed outside paved)";

/// How the resource reaches Kubernetes APIs: the connector of the configured
/// cloud and its region (for EKS tokens).
#[derive(Clone)]
pub struct KubeAccess {
    /// Makes API clients.
    pub connector: Arc<dyn KubeConnector>,
    /// The region clusters are in.
    pub region: String,
}

fn permanent(operation: &str, message: impl Into<String>, hint: &str) -> BackendError {
    BackendError::Permanent {
        operation: operation.to_owned(),
        message: message.into(),
        hint: hint.to_owned(),
    }
}

fn kube_error(during: &str, e: KubeError) -> BackendError {
    if e.is_retryable() {
        BackendError::Retryable {
            operation: during.to_owned(),
            message: e.to_string(),
        }
    } else {
        let hint = match e {
            KubeError::Unauthorized(_) | KubeError::Forbidden(_) => {
                "The identity Terraform runs as must be one of the cluster's admins (it is when it created the \
                 cluster; otherwise list it in cluster_admins)."
            }
            KubeError::Unreachable { .. } => {
                "Run Terraform where the API is reachable, set kubernetes_api.url or proxy_url, or use \
                 delivery = \"gitops\"."
            }
            _ => "Check the message, fix the cause, and run apply again.",
        };
        permanent(during, e.to_string(), hint)
    }
}

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
    let account_id = autoscaler.split(':').nth(4).unwrap_or_default().to_owned();
    Ok(ApplyInputs {
        account_id,
        region: region.to_owned(),
        autoscaler_identity: autoscaler,
        kubernetes_version: cp.kubernetes_version.clone(),
        volume_key: None,
    })
}

/// Each object's content hash by its `kubernetes_objects` name.
fn hashes(rendered: &Rendered) -> std::collections::BTreeMap<String, String> {
    rendered
        .objects
        .iter()
        .map(|m| (object_label(m), m.hash.clone()))
        .collect()
}

fn object_ref(m: &Manifest) -> ObjectRef {
    ObjectRef {
        api_version: m.api_version.clone(),
        kind: m.kind.clone(),
        namespace: m.namespace.clone(),
        name: m.name.clone(),
    }
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
    let given_ca: Option<String> = match api {
        Some(a) => known(&a.ca_certificate, "kubernetes_api.ca_certificate")?,
        None => None,
    };
    let ca_pem = match given_ca.clone() {
        Some(pem) => pem,
        None => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(cp.certificate_authority.trim())
                .map_err(|e| {
                    permanent(during, format!("the cluster's CA is not base64: {e}"), "")
                })?;
            String::from_utf8_lossy(&bytes).into_owned()
        }
    };
    let api_url = match api {
        Some(a) => known(&a.url, "kubernetes_api.url")?,
        None => None,
    };
    // A tunnel to the API presents the cluster's certificate, checked for the
    // endpoint's name; a server with a CA of its own (`ca_certificate`) presents a
    // certificate for the URL's own host.
    let endpoint = match (&api_url, given_ca.is_some()) {
        (Some(url), true) => url.clone(),
        _ => cp.endpoint.clone(),
    };
    Ok(KubeTarget {
        endpoint,
        ca_pem,
        auth: KubeAuth::Eks {
            cluster_name: known(&spec.name, "name")?,
            region: region.to_owned(),
        },
        api_url,
        proxy_url: match api {
            Some(a) => known(&a.proxy_url, "kubernetes_api.proxy_url")?,
            None => None,
        },
    })
}

/// The objects `prior` stood for (their identity does not depend on anything only
/// the apply knows).
fn prior_objects(prior: Option<&ClusterSpec>, inputs: &ApplyInputs) -> Vec<Manifest> {
    prior
        .and_then(|p| render(p, inputs).ok())
        .map(|r| r.objects)
        .unwrap_or_default()
}

/// Delivers the objects `spec` stands for (see the module docs).
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
            write_files(FsPath::new(&dir), &rendered, &before)?;
            observed.kube = Some(KubeObserved {
                objects: rendered.objects.iter().map(object_label).collect(),
                digest: Some(rendered.digest()),
                hashes: Some(hashes(&rendered)),
            });
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
            let api = access
                .connector
                .connect(&target(spec, observed, region)?)
                .await
                .map_err(|e| kube_error("reaching the Kubernetes API", e))?;
            apply_all(api.as_ref(), ctx, &rendered, &before, observed).await
        }
    }
}

async fn apply_all(
    api: &dyn KubeApi,
    ctx: &StackContext,
    rendered: &Rendered,
    before: &[Manifest],
    observed: &mut Observed,
) -> Result<(), BackendError> {
    let wanted: BTreeSet<String> = rendered.objects.iter().map(object_label).collect();
    // What exists while this runs: the prior objects, then each one applied.
    let mut exists: Vec<String> = before.iter().map(object_label).collect();
    let record = |exists: &[String], observed: &mut Observed, digest: Option<String>| {
        let done = digest.is_some();
        observed.kube = Some(KubeObserved {
            objects: exists.to_vec(),
            digest,
            hashes: done.then(|| hashes(rendered)),
        });
    };
    for m in &rendered.objects {
        ctx.checkpoint("applying the cluster's objects")?;
        let label = object_label(m);
        if let Err(e) = api.apply(&m.body).await {
            record(&exists, observed, None);
            return Err(kube_error(&format!("applying {label}"), e));
        }
        if !exists.contains(&label) {
            exists.push(label);
        }
    }
    // Objects no longer wanted go, workloads first and namespaces last.
    let stale: Vec<&Manifest> = before
        .iter()
        .filter(|m| !wanted.contains(&object_label(m)))
        .collect();
    let ids: Vec<_> = stale
        .iter()
        .map(|m| paved_manifests::ManifestId {
            api_version: m.api_version.clone(),
            kind: m.kind.clone(),
            namespace: m.namespace.clone(),
            name: m.name.clone(),
        })
        .collect();
    for id in Rendered::prune_order(&ids) {
        ctx.checkpoint("removing objects no longer wanted")?;
        let object = ObjectRef {
            api_version: id.api_version.clone(),
            kind: id.kind.clone(),
            namespace: id.namespace.clone(),
            name: id.name.clone(),
        };
        let label = label(&id.kind, id.namespace.as_deref(), &id.name);
        if let Err(e) = api.delete(&object).await {
            record(&exists, observed, None);
            return Err(kube_error(&format!("deleting {label}"), e));
        }
        exists.retain(|l| *l != label);
    }
    record(&exists, observed, None);
    wait_ready(api, ctx, rendered).await?;
    let ordered: Vec<String> = rendered.objects.iter().map(object_label).collect();
    record(&ordered, observed, Some(rendered.digest()));
    Ok(())
}

/// Waits until every workload is ready (see [`readiness`]).
async fn wait_ready(
    api: &dyn KubeApi,
    ctx: &StackContext,
    rendered: &Rendered,
) -> Result<(), BackendError> {
    for m in rendered
        .objects
        .iter()
        .filter(|m| matches!(m.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet"))
    {
        let label = object_label(m);
        let object = object_ref(m);
        let waiter = Waiter::new(
            OperationContext::new(ctx.cancel.clone()),
            label.clone(),
            ctx.wait_limit(),
        )
        .with_interval(READY_POLL)
        .with_hint("check the workload's pods (kubectl describe), then run apply again");
        let classify = |e: &KubeError| {
            if e.is_retryable() {
                Retryability::Retryable
            } else {
                Retryability::Permanent
            }
        };
        waiter
            .wait(&classify, || async {
                match api.get(&object).await? {
                    None => Ok(Poll::Pending {
                        status: "not found".to_owned(),
                    }),
                    Some(live) => Ok(match readiness(&live) {
                        Readiness::Ready => Poll::Done(()),
                        Readiness::InProgress(why) => Poll::Pending { status: why },
                    }),
                }
            })
            .await
            .map_err(|e| {
                BackendError::from_wait(e, &format!("waiting for {label}"), "", |last| {
                    kube_error(&format!("waiting for {label}"), last)
                })
            })?;
    }
    Ok(())
}

fn write_files(dir: &FsPath, rendered: &Rendered, before: &[Manifest]) -> Result<(), BackendError> {
    let during = "writing GitOps files";
    let io = |path: &FsPath, e: std::io::Error| {
        permanent(
            during,
            format!("{}: {e}", path.display()),
            "Check that gitops_path is a directory Terraform may write.",
        )
    };
    let files = paved_manifests::to_gitops_files(rendered)
        .map_err(|e| permanent(during, e.to_string(), ""))?;
    let wanted: BTreeSet<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    for (name, text) in &files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text).map_err(|e| io(&path, e))?;
        }
    }
    for m in before {
        let name = paved_manifests::file_name(m);
        if !wanted.contains(name.as_str()) {
            let path: PathBuf = dir.join(&name);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&path, e)),
            }
        }
    }
    Ok(())
}

/// Whether every field paved renders has the same value in `live` (lists compared
/// whole; server-set fields paved does not render are ignored).
pub fn renders_into(rendered: &Json, live: &Json) -> bool {
    match (rendered, live) {
        (Json::Object(r), Json::Object(l)) => r
            .iter()
            .all(|(k, rv)| l.get(k).is_some_and(|lv| renders_into(rv, lv))),
        (Json::Array(r), Json::Array(l)) => {
            r.len() == l.len() && r.iter().zip(l).all(|(a, b)| renders_into(a, b))
        }
        (Json::Number(r), Json::Number(l)) => r.as_f64() == l.as_f64(),
        _ => rendered == live,
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
    let rendered = render(spec, &inputs).ok()?;
    let mut objects = Vec::new();
    match spec.kubernetes.delivery.known()? {
        Delivery::Gitops => {
            let dir = spec.kubernetes.gitops_path.known().cloned().flatten()?;
            for m in &rendered.objects {
                let path = FsPath::new(&dir).join(paved_manifests::file_name(m));
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let same = paved_manifests::to_gitops_files(&Rendered {
                    objects: vec![m.clone()],
                })
                .ok()
                .and_then(|f| {
                    f.into_iter()
                        .find(|(n, _)| *n == paved_manifests::file_name(m))
                })
                .is_some_and(|(_, want)| want == text);
                objects.push(if same {
                    object_label(m)
                } else {
                    format!("{}{CHANGED}", object_label(m))
                });
            }
        }
        Delivery::Direct => {
            let access = access?;
            let api = access
                .connector
                .connect(&target(spec, observed, region).ok()?)
                .await
                .ok()?;
            for m in &rendered.objects {
                match api.get(&object_ref(m)).await {
                    Ok(None) => {}
                    Ok(Some(live)) if renders_into(&m.body, &live) => objects.push(object_label(m)),
                    Ok(Some(_)) => objects.push(format!("{}{CHANGED}", object_label(m))),
                    Err(_) => return None,
                }
            }
        }
    }
    // Everything there as rendered: the digest of the rendering describes it.
    let whole =
        objects.len() == rendered.objects.len() && !objects.iter().any(|o| o.ends_with(CHANGED));
    Some(KubeObserved {
        objects,
        digest: whole.then(|| rendered.digest()),
        hashes: whole.then(|| hashes(&rendered)),
    })
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
    let Ok(target) = target(spec, observed, &access.region) else {
        return 0;
    };
    let Ok(api) = access.connector.connect(&target).await else {
        return 0;
    };
    let mut deleted = 0;
    for (kind, only_lb) in [("Service", true), ("PersistentVolumeClaim", false)] {
        let Ok(items) = api.list("v1", kind, None, "").await else {
            continue;
        };
        for item in items {
            let is_lb = item.pointer("/spec/type").and_then(Json::as_str) == Some("LoadBalancer");
            if only_lb && !is_lb {
                continue;
            }
            let name = item
                .pointer("/metadata/name")
                .and_then(Json::as_str)
                .unwrap_or_default();
            let namespace = item
                .pointer("/metadata/namespace")
                .and_then(Json::as_str)
                .map(str::to_owned);
            let object = ObjectRef {
                api_version: "v1".to_owned(),
                kind: kind.to_owned(),
                namespace,
                name: name.to_owned(),
            };
            if api.delete(&object).await.unwrap_or(false) {
                deleted += 1;
            }
        }
    }
    deleted
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn server_set_fields_are_not_drift_but_changed_ones_are() {
        let rendered = json!({"spec": {"replicas": 2, "template": {"x": [1, 2]}}});
        let live = json!({"spec": {"replicas": 2, "template": {"x": [1, 2]}, "paused": false},
                          "status": {"readyReplicas": 2}});
        assert!(renders_into(&rendered, &live));
        let edited = json!({"spec": {"replicas": 5, "template": {"x": [1, 2]}}});
        assert!(!renders_into(&rendered, &edited));
        assert!(!renders_into(&rendered, &json!({"spec": {"replicas": 2}})));
    }
}
