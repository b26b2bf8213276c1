//! Driving the cloud and the cluster through create, update, read and destroy.
//!
//! Create and update, in order: the buckets (logs, traces) and the managed
//! Prometheus, then the workload identities that reach them, then the receivers'
//! secrets read from the cloud's secret store, then the objects rendered and
//! delivered (direct: Grafana's admin Secret made in the cluster when missing, the
//! Alertmanager configuration with the secrets put in; gitops: files, no secret).
//! Turning logs or traces off prunes their objects and identity and keeps the
//! bucket (its lifecycle expires the data; destroy removes it).
//!
//! Destroy: the objects first (workloads, claims, the namespace), then the managed
//! Prometheus, the identities, and the buckets: a bucket that holds data is only
//! emptied when `force_destroy` is true, otherwise left with what to do.

use std::collections::BTreeMap;
use std::path::Path as FsPath;
use std::sync::Arc;

use base64::Engine as _;
use paved_observability::Rendered;

use super::config::{ModeWord, ObservabilityConfig, Settings};
use super::render::render;
use super::state::Observed;
use crate::delivery::{
    direct, gitops, kube_error, object_ref, permanent, ApiRoute, Delivery, KubeAccess,
};
use crate::ports::kube::{KubeApi, KubeAuth, KubeTarget};
use crate::ports::observability::{
    BucketDeletion, BucketPurpose, BucketRequest, ClusterLink, IdentityPurpose, IdentityRequest,
    ManagedMetricsRequest, ObservabilityBackend,
};
use crate::stack::resource::known;
use crate::stack::step::{LeftBehind, TeardownReport};
use crate::stack::{BackendError, ComponentRecord, StackContext, Step};

/// The ports the resource drives.
pub struct ObservabilityPorts {
    /// The cloud's side.
    pub cloud: Arc<dyn ObservabilityBackend>,
    /// The cluster's API; `None` when the cloud offers no client.
    pub kube: Option<KubeAccess>,
}

fn record<T>(observed: &mut Observed, step: Step<T>) -> Result<T, BackendError> {
    observed.record(step.components);
    step.result
}

/// The service accounts (rendered with the objects) each identity is for.
fn service_accounts(purpose: IdentityPurpose) -> Vec<String> {
    match purpose {
        IdentityPurpose::Loki => vec!["loki".to_owned()],
        IdentityPurpose::Tempo => vec!["tempo".to_owned()],
        IdentityPurpose::ManagedMetrics => vec!["prometheus".to_owned(), "grafana".to_owned()],
    }
}

fn link(cfg: &ObservabilityConfig) -> Result<ClusterLink, BackendError> {
    let c = known(&cfg.cluster, "cluster")?;
    Ok(ClusterLink {
        name: c.name.unwrap_or_default(),
        oidc_issuer: c.oidc_issuer_url.unwrap_or_default(),
        account: c.account.unwrap_or_default(),
    })
}

/// The API target of the cluster.
fn target(cfg: &ObservabilityConfig) -> Result<KubeTarget, BackendError> {
    let during = "reaching the Kubernetes API";
    let c = known(&cfg.cluster, "cluster")?;
    let api = known(&cfg.api, "kubernetes_api")?;
    let auth = match c.platform.as_deref() {
        // The cloud's credentials make the token (EKS: a signed STS request; GKE:
        // the caller's access token).
        Some("eks" | "gke") => KubeAuth::Cloud {
            cluster_name: c.name.clone().unwrap_or_default(),
            location: c.location.clone().unwrap_or_default(),
        },
        other => {
            return Err(permanent(
                during,
                format!("paved cannot yet make a token for a {other:?} cluster"),
                "Use delivery = \"gitops\".",
            ))
        }
    };
    ApiRoute {
        endpoint: c.endpoint.clone().unwrap_or_default(),
        ca_base64: c.certificate_authority.clone().unwrap_or_default(),
        url: api.url,
        proxy_url: api.proxy_url,
        ca_certificate: api.ca_certificate,
        auth,
    }
    .target()
}

async fn connect(
    kube: Option<&KubeAccess>,
    cfg: &ObservabilityConfig,
) -> Result<Arc<dyn KubeApi>, BackendError> {
    let access = kube.ok_or_else(|| {
        permanent(
            "reaching the Kubernetes API",
            "this cloud offers no Kubernetes client",
            "Use delivery = \"gitops\".",
        )
    })?;
    access
        .connector
        .connect(&target(cfg)?)
        .await
        .map_err(|e| kube_error("reaching the Kubernetes API", e))
}

/// Ensures the buckets, the managed Prometheus and the identities `settings` ask for,
/// and removes the identities no longer wanted.
async fn ensure_cloud(
    cloud: &dyn ObservabilityBackend,
    ctx: &StackContext,
    cfg: &ObservabilityConfig,
    settings: &Settings,
    observed: &mut Observed,
) -> Result<(), BackendError> {
    let mode = known(&cfg.mode, "mode")?;
    let stores = [
        (BucketPurpose::Logs, IdentityPurpose::Loki, &settings.logs),
        (
            BucketPurpose::Traces,
            IdentityPurpose::Tempo,
            &settings.traces,
        ),
    ];
    for (purpose, _, store) in stores {
        if store.enabled {
            let req = BucketRequest {
                purpose,
                expire_after_days: store.retention_days + 1,
            };
            let bucket = record(observed, cloud.ensure_bucket(ctx, &req).await)?;
            observed.buckets.insert(purpose, bucket);
        }
    }
    if mode == ModeWord::Managed {
        let spec = super::render::renderer_spec(
            &known(&cfg.name, "name")?,
            known(&cfg.profile, "profile")?.name(),
            mode,
            &known(&cfg.cluster, "cluster")?,
            settings,
            &observed.values(),
        )
        .map_err(|e| permanent("rendering the alert rules", e, ""))?;
        let rules_yaml = paved_observability::configs::rules_yaml(&spec)
            .map_err(|e| permanent("rendering the alert rules", e.to_string(), ""))?;
        let mut subscriptions = Vec::new();
        // SNS reaches e-mail addresses (the receiver's `to`) and HTTPS webhooks
        // (the URL in the receiver's secret).
        for r in settings.alerting.receivers.iter().flatten().map(|(_, r)| r) {
            match (r.kind.as_str(), &r.to) {
                ("email", Some(to)) => subscriptions.push(to.clone()),
                _ => {
                    let value = cloud.read_secret(ctx, &r.secret).await?;
                    subscriptions.push(value.reveal().to_owned());
                }
            }
        }
        let req = ManagedMetricsRequest {
            rules_yaml,
            subscriptions,
        };
        let managed = record(observed, cloud.ensure_managed_metrics(ctx, &req).await)?;
        observed.managed = Some(managed);
    }
    let cluster = link(cfg)?;
    let namespace = settings.namespace.clone();
    let mut wanted: Vec<(IdentityPurpose, Vec<String>, Option<String>)> = Vec::new();
    for (purpose, identity, store) in stores {
        if store.enabled {
            let bucket = observed.buckets.get(&purpose).map(|b| b.name.clone());
            wanted.push((identity, bucket.into_iter().collect(), None));
        }
    }
    if let Some(m) = &observed.managed {
        wanted.push((
            IdentityPurpose::ManagedMetrics,
            Vec::new(),
            Some(m.workspace_id.clone()),
        ));
    }
    for (purpose, buckets, workspace) in &wanted {
        let req = IdentityRequest {
            purpose: *purpose,
            cluster: cluster.clone(),
            namespace: namespace.clone(),
            service_accounts: service_accounts(*purpose),
            buckets: buckets.clone(),
            workspace: workspace.clone(),
        };
        let identity = record(observed, cloud.ensure_identity(ctx, &req).await)?;
        observed.identities.insert(*purpose, identity);
    }
    let stale: Vec<IdentityPurpose> = observed
        .identities
        .keys()
        .filter(|p| !wanted.iter().any(|(w, _, _)| w == *p))
        .copied()
        .collect();
    for purpose in stale {
        record(observed, cloud.delete_identity(ctx, purpose).await)?;
        observed.identities.remove(&purpose);
        observed.components.remove(&purpose.key());
    }
    Ok(())
}

/// The receivers' secrets, read from the cloud's store (self-hosted mode).
async fn secrets(
    cloud: &dyn ObservabilityBackend,
    ctx: &StackContext,
    cfg: &ObservabilityConfig,
    settings: &Settings,
) -> Result<BTreeMap<String, String>, BackendError> {
    let mut values = BTreeMap::new();
    if cfg.mode != crate::stack::Knowable::Known(ModeWord::SelfHosted) {
        return Ok(values);
    }
    for (name, r) in settings.alerting.receivers.iter().flatten() {
        let v = cloud.read_secret(ctx, &r.secret).await?;
        values.insert(name.clone(), v.reveal().to_owned());
    }
    if let Some(reference) = &settings.alerting.heartbeat_secret {
        let v = cloud.read_secret(ctx, reference).await?;
        values.insert(
            paved_observability::HEARTBEAT_SECRET.to_owned(),
            v.reveal().to_owned(),
        );
    }
    Ok(values)
}

/// A random password for Grafana's admin, made here and written only into the
/// cluster.
fn password() -> Result<String, BackendError> {
    let mut bytes = [0u8; 24];
    rustls::crypto::aws_lc_rs::default_provider()
        .secure_random
        .fill(&mut bytes)
        .map_err(|_| permanent("making Grafana's admin password", "no random source", ""))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The objects of `prior` (their identities do not depend on what only the apply
/// knows).
fn prior_objects(
    prior: Option<&ObservabilityConfig>,
    observed: &Observed,
) -> Vec<paved_observability::Manifest> {
    prior
        .and_then(|p| render(p, &observed.values()).ok())
        .map(|r| r.objects)
        .unwrap_or_default()
}

/// Creates or updates the stack.
pub async fn converge(
    ports: &ObservabilityPorts,
    ctx: &StackContext,
    cfg: &ObservabilityConfig,
    prior: Option<&ObservabilityConfig>,
    observed: &mut Observed,
) -> Result<(), BackendError> {
    let settings = known(&cfg.settings, "the stack's settings")?;
    // What exists already (a bucket kept while its store is off, identities no
    // longer wanted), in one batched read.
    let found = record(observed, ports.cloud.read_stack(ctx).await)?;
    observed.record(found.components);
    observed.buckets.extend(found.buckets);
    observed.identities.extend(found.identities);
    if observed.managed.is_none() {
        observed.managed = found.managed;
    }
    ensure_cloud(ports.cloud.as_ref(), ctx, cfg, &settings, observed).await?;
    let rendered = render(cfg, &observed.values()).map_err(|e| {
        permanent(
            "rendering the stack's objects",
            e,
            "Fix the settings named.",
        )
    })?;
    let before = prior_objects(prior, observed);
    match known(&cfg.delivery, "delivery")? {
        Delivery::Gitops => {
            let dir = known(&cfg.gitops_path, "gitops_path")?.ok_or_else(|| {
                permanent(
                    "writing GitOps files",
                    "gitops_path is not set",
                    "Set gitops_path.",
                )
            })?;
            gitops::write_files(FsPath::new(&dir), &rendered, &before)?;
            observed.kube = Some(crate::delivery::Delivered::whole(&rendered));
            Ok(())
        }
        Delivery::Direct => {
            let values = secrets(ports.cloud.as_ref(), ctx, cfg, &settings).await?;
            let send = paved_observability::resolve_secrets(&rendered, &values).map_err(|e| {
                permanent(
                    "putting the receivers' secrets in",
                    e.to_string(),
                    "Check alerting.receivers' secret references.",
                )
            })?;
            let api = connect(ports.kube.as_ref(), cfg).await?;
            admin_secret(api.as_ref(), cfg, &rendered).await?;
            direct::apply_all(
                api.as_ref(),
                ctx,
                &rendered,
                Some(&send),
                &before,
                &mut observed.kube,
            )
            .await
        }
    }
}

/// Makes Grafana's admin Secret when it is missing (after the namespace): the
/// password is generated here and written only into the cluster.
async fn admin_secret(
    api: &dyn KubeApi,
    cfg: &ObservabilityConfig,
    rendered: &Rendered,
) -> Result<(), BackendError> {
    let during = "making Grafana's admin Secret";
    if let Some(ns) = rendered.objects.iter().find(|m| m.kind == "Namespace") {
        api.apply(&ns.body)
            .await
            .map_err(|e| kube_error(during, e))?;
    }
    let spec = paved_observability::grafana_admin_secret(
        &super::render::plan_spec(cfg)
            .ok_or_else(|| permanent(during, "a setting is not known", ""))?,
        &password()?,
    )
    .map_err(|e| permanent(during, e.to_string(), ""))?;
    let exists = api
        .get(&object_ref(&spec))
        .await
        .map_err(|e| kube_error(during, e))?
        .is_some();
    if !exists {
        api.apply(&spec.body)
            .await
            .map_err(|e| kube_error(during, e))?;
    }
    Ok(())
}

/// Reads the stack back: the cloud in one batched pass, the objects when `cfg`
/// says what they are.
pub async fn read(
    ports: &ObservabilityPorts,
    ctx: &StackContext,
    cfg: Option<&ObservabilityConfig>,
) -> Result<(Observed, BTreeMap<String, BTreeMap<String, String>>), BackendError> {
    let mut snapshot = ports.cloud.read_stack(ctx).await.result?;
    let tags = std::mem::take(&mut snapshot.tags);
    let mut observed = Observed::from_snapshot(snapshot);
    if let Some(cfg) = cfg {
        observed.kube = read_objects(ports, cfg, &observed).await;
    }
    Ok((observed, tags))
}

async fn read_objects(
    ports: &ObservabilityPorts,
    cfg: &ObservabilityConfig,
    observed: &Observed,
) -> Option<crate::delivery::Delivered> {
    let rendered = render(cfg, &observed.values()).ok()?;
    match cfg.delivery.known()? {
        Delivery::Gitops => {
            let dir = cfg.gitops_path.known().cloned().flatten()?;
            Some(gitops::read_files(FsPath::new(&dir), &rendered))
        }
        Delivery::Direct => {
            let api = connect(ports.kube.as_ref(), cfg).await.ok()?;
            direct::read_objects(api.as_ref(), &rendered).await
        }
    }
}

/// Tears the stack down (see the module docs).
pub async fn destroy(
    ports: &ObservabilityPorts,
    ctx: &StackContext,
    cfg: &ObservabilityConfig,
) -> Result<TeardownReport, BackendError> {
    let (observed, _) = read(ports, ctx, None).await?;
    let mut report = TeardownReport::default();
    if let Ok(rendered) = render(cfg, &observed.values()) {
        match known(&cfg.delivery, "delivery")? {
            Delivery::Gitops => {
                if let Some(dir) = known(&cfg.gitops_path, "gitops_path")? {
                    gitops::write_files(
                        FsPath::new(&dir),
                        &Rendered::new(Vec::new()),
                        &rendered.objects,
                    )?;
                }
            }
            Delivery::Direct => {
                let api = connect(ports.kube.as_ref(), cfg).await?;
                let namespace = cfg.settings.known().map(|s| s.namespace.clone());
                direct::release_cloud_objects(api.as_ref(), namespace.as_deref()).await;
                direct::delete_all(api.as_ref(), ctx, &rendered).await?;
            }
        }
    }
    let cloud = ports.cloud.as_ref();
    if observed.managed.is_some() {
        cloud.delete_managed_metrics(ctx).await.result?;
    }
    for purpose in observed.identities.keys() {
        cloud.delete_identity(ctx, *purpose).await.result?;
    }
    let force = cfg.force_destroy.known() == Some(&true);
    for (purpose, bucket) in &observed.buckets {
        let component = observed
            .components
            .get(&purpose.key())
            .cloned()
            .unwrap_or_else(|| ComponentRecord {
                key: purpose.key(),
                kind: "bucket".to_owned(),
                zone: None,
                id: bucket.name.clone(),
            });
        match cloud.delete_bucket(ctx, *purpose, force).await.result? {
            BucketDeletion::Deleted => report.deleted.push(component),
            BucketDeletion::Refused { name, objects } => report.left_behind.push(LeftBehind {
                component,
                reason: format!(
                    "the {} bucket {name} holds {objects}+ objects and force_destroy is false. To delete it with \
                     its data, set force_destroy = true, apply, then destroy again; or empty it yourself (`aws s3 \
                     rm s3://{name} --recursive`) and destroy again. To keep the data, copy it out first.",
                    purpose.as_str()
                ),
            }),
        }
    }
    Ok(report)
}
