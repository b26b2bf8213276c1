//! Direct delivery: server-side apply of every object in order, pruning what is no
//! longer wanted, a wait until the workloads are ready, and reading the objects
//! back for a refresh.
//!
//! A StatefulSet's claim templates cannot change in place (the API refuses it):
//! when they differ from the live ones, the claims that exist are expanded to the
//! new size first, then the StatefulSet is deleted with orphan propagation (its
//! pods and claims keep running) and made again from the new rendering, which
//! takes the pods over.

use std::collections::BTreeSet;
use std::time::Duration;

use paved_manifests::{Manifest, ManifestId, Rendered};
use serde_json::{json, Value as Json};

use super::drift::{content_compared, renders_into};
use super::gitops::settle;
use super::{kube_error, label, object_label, object_ref, Delivered, CHANGED};
use crate::ports::kube::{readiness, KubeApi, KubeError, ObjectRef, Readiness};
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

/// Applies `rendered` (sending `send`'s bodies instead where given: the same
/// objects with secrets put in), deletes `before`'s objects no longer rendered,
/// and waits until the workloads are ready. `out` says what exists at every
/// step: the prior objects, then each one applied; the whole rendering once done.
pub async fn apply_all(
    api: &dyn KubeApi,
    ctx: &StackContext,
    rendered: &Rendered,
    send: Option<&Rendered>,
    before: &[Manifest],
    out: &mut Option<Delivered>,
) -> Result<(), BackendError> {
    let wanted: BTreeSet<String> = rendered.objects.iter().map(object_label).collect();
    let mut exists: Vec<String> = before.iter().map(object_label).collect();
    for (i, m) in rendered.objects.iter().enumerate() {
        ctx.checkpoint("applying the objects")?;
        let label = object_label(m);
        let body = send
            .and_then(|s| s.objects.get(i))
            .filter(|b| b.id() == m.id())
            .map_or(&m.body, |b| &b.body);
        let result = match m.kind.as_str() {
            "StatefulSet" => apply_stateful_set(api, m, body).await,
            _ => api.apply(body).await.map(|_| ()),
        };
        if let Err(e) = result {
            *out = Some(Delivered::partial(exists));
            return Err(kube_error(&format!("applying {label}"), e));
        }
        if !exists.contains(&label) {
            exists.push(label);
        }
    }
    // Objects no longer wanted go, workloads first and namespaces last.
    let stale: Vec<ManifestId> = before
        .iter()
        .filter(|m| !wanted.contains(&object_label(m)))
        .map(Manifest::id)
        .collect();
    for id in Rendered::prune_order(&stale) {
        ctx.checkpoint("removing objects no longer wanted")?;
        let object = ObjectRef {
            api_version: id.api_version.clone(),
            kind: id.kind.clone(),
            namespace: id.namespace.clone(),
            name: id.name.clone(),
        };
        let label = label(&id.kind, id.namespace.as_deref(), &id.name);
        if let Err(e) = api.delete(&object).await {
            *out = Some(Delivered::partial(exists));
            return Err(kube_error(&format!("deleting {label}"), e));
        }
        exists.retain(|l| *l != label);
    }
    *out = Some(Delivered::partial(exists));
    wait_ready(api, ctx, rendered).await?;
    *out = Some(Delivered::whole(rendered));
    Ok(())
}

/// The storage each claim template asks for, by template name.
fn claim_sizes(stateful_set: &Json) -> Vec<(String, Json)> {
    stateful_set
        .pointer("/spec/volumeClaimTemplates")
        .and_then(Json::as_array)
        .map(|templates| {
            templates
                .iter()
                .map(|t| {
                    let name = t
                        .pointer("/metadata/name")
                        .and_then(Json::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    let size = t
                        .pointer("/spec/resources/requests/storage")
                        .cloned()
                        .unwrap_or(Json::Null);
                    (name, size)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Applies a StatefulSet, growing its claims and making it again when its claim
/// templates changed (see the module docs).
async fn apply_stateful_set(api: &dyn KubeApi, m: &Manifest, body: &Json) -> Result<(), KubeError> {
    let object = object_ref(m);
    let Some(live) = api.get(&object).await? else {
        return api.apply(body).await.map(|_| ());
    };
    let wanted = claim_sizes(body);
    let had = claim_sizes(&live);
    if wanted == had {
        return api.apply(body).await.map(|_| ());
    }
    let replicas = live
        .pointer("/spec/replicas")
        .and_then(Json::as_u64)
        .unwrap_or(1);
    let namespace = m.namespace.clone();
    for (template, size) in &wanted {
        if had.iter().any(|(t, s)| t == template && s == size) {
            continue;
        }
        for ordinal in 0..replicas {
            let claim = ObjectRef {
                api_version: "v1".to_owned(),
                kind: "PersistentVolumeClaim".to_owned(),
                namespace: namespace.clone(),
                name: format!("{template}-{}-{ordinal}", m.name),
            };
            if api.get(&claim).await?.is_none() {
                continue;
            }
            api.apply(&json!({
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": claim.name, "namespace": claim.namespace},
                "spec": {"resources": {"requests": {"storage": size}}},
            }))
            .await?;
        }
    }
    api.delete_orphan(&object).await?;
    api.apply(body).await.map(|_| ())
}

/// Waits until every workload of `rendered` is ready (see [`readiness`]).
pub async fn wait_ready(
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

/// Reads `rendered`'s objects back: one gone is left out, one changed by hand is
/// marked [`CHANGED`]. `None` when the API cannot be read (the state stands).
pub async fn read_objects(api: &dyn KubeApi, rendered: &Rendered) -> Option<Delivered> {
    let mut objects = Vec::new();
    for m in &rendered.objects {
        match api.get(&object_ref(m)).await {
            Ok(None) => {}
            Ok(Some(live)) if !content_compared(&m.kind) || renders_into(&m.body, &live) => {
                objects.push(object_label(m));
            }
            Ok(Some(_)) => objects.push(format!("{}{CHANGED}", object_label(m))),
            Err(_) => return None,
        }
    }
    Some(settle(objects, rendered))
}

/// Deletes every object of `rendered`, in prune order (workloads first); `Ok` with
/// how many existed.
pub async fn delete_all(
    api: &dyn KubeApi,
    ctx: &StackContext,
    rendered: &Rendered,
) -> Result<usize, BackendError> {
    let mut deleted = 0;
    for id in Rendered::prune_order(&rendered.ids()) {
        ctx.checkpoint("deleting the objects")?;
        let object = ObjectRef {
            api_version: id.api_version.clone(),
            kind: id.kind.clone(),
            namespace: id.namespace.clone(),
            name: id.name.clone(),
        };
        let label = label(&id.kind, id.namespace.as_deref(), &id.name);
        if api
            .delete(&object)
            .await
            .map_err(|e| kube_error(&format!("deleting {label}"), e))?
        {
            deleted += 1;
        }
    }
    Ok(deleted)
}

/// Deletes the Services of type LoadBalancer and the PersistentVolumeClaims in the
/// cluster (in `namespace`, or everywhere), so the cloud's load balancers and
/// volumes go through Kubernetes rather than being left behind. Best effort;
/// returns how many were deleted.
pub async fn release_cloud_objects(api: &dyn KubeApi, namespace: Option<&str>) -> usize {
    let mut deleted = 0;
    for (kind, only_lb) in [("Service", true), ("PersistentVolumeClaim", false)] {
        let Ok(items) = api.list("v1", kind, namespace, "").await else {
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
