//! From the resource's configuration to the renderer's input
//! ([`paved_observability::ObservabilitySpec`]): the cluster's platform, the
//! settings, and what only the apply knows (bucket names, identities, the managed
//! workspace). At plan time those are placeholders: the set of objects and their
//! names do not depend on them.

use std::collections::BTreeMap;

use paved_observability::{
    AlertingSpec, GrafanaSpec, LogsSpec, ManagedSpec, MetricsSpec, Mode, ObjectStore,
    ObservabilitySpec, Platform, ReceiverKind, ReceiverSpec, Rendered, RouteSpec, RuleOverride,
    TracesSpec,
};

use super::config::{ClusterConn, ModeWord, ObservabilityConfig, Settings};
use crate::delivery::object_label;
use crate::ports::observability::{
    BucketPurpose, BucketState, IdentityPurpose, IdentityState, ManagedMetricsState,
};
use crate::stack::Knowable;

/// The name of Grafana's admin Secret.
pub const GRAFANA_ADMIN_SECRET: &str = "grafana-admin";

/// What the apply knows and the plan does not.
#[derive(Debug, Clone, Default)]
pub struct ApplyValues {
    /// Buckets by purpose.
    pub buckets: BTreeMap<BucketPurpose, BucketState>,
    /// Identities by purpose.
    pub identities: BTreeMap<IdentityPurpose, IdentityState>,
    /// The managed Prometheus.
    pub managed: Option<ManagedMetricsState>,
}

/// The cluster a plan renders for: the real one when known, otherwise a stand-in
/// whose values change no object's identity.
fn placeholder_cluster() -> ClusterConn {
    ClusterConn {
        platform: Some("eks".into()),
        name: Some("cluster".into()),
        endpoint: None,
        certificate_authority: None,
        location: Some("eu-west-1".into()),
        account: Some("000000000000".into()),
        oidc_issuer_url: None,
        kubernetes_version: Some("1.31".into()),
    }
}

/// The platform of `cluster`.
pub fn platform(cluster: &ClusterConn) -> Result<Platform, String> {
    let account = cluster.account.clone().unwrap_or_default();
    let location = cluster.location.clone().unwrap_or_default();
    match cluster.platform.as_deref() {
        Some("eks") => Ok(Platform::Eks {
            account_id: account,
            region: location,
        }),
        Some("gke") => Ok(Platform::Gke {
            project: account,
            location,
        }),
        other => Err(format!(
            "cluster.platform is {other:?}: give the cluster's `connection` output whole (`eks` or `gke`)"
        )),
    }
}

fn minor(version: Option<&str>) -> (u32, u32) {
    let mut parts = version
        .unwrap_or("1.31")
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(1), parts.next().unwrap_or(31))
}

fn receiver_kind(r: &super::config::Receiver) -> ReceiverKind {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    match r.kind.as_str() {
        "slack" => ReceiverKind::Slack {
            channel: text(&r.channel),
        },
        "email" => ReceiverKind::Email {
            to: text(&r.to),
            from: text(&r.from),
            smarthost: text(&r.smarthost),
            username: text(&r.username),
        },
        "pagerduty" => ReceiverKind::PagerDuty,
        _ => ReceiverKind::Webhook,
    }
}

/// The default receiver: the one named, or the first by name.
pub fn default_receiver(settings: &Settings) -> Option<String> {
    settings
        .alerting
        .default_receiver
        .clone()
        .or_else(|| settings.alerting.receivers.as_ref()?.keys().next().cloned())
}

fn store(platform: &Platform, bucket: Option<&BucketState>, purpose: BucketPurpose) -> ObjectStore {
    let name = bucket.map_or_else(
        || format!("pending-{}", purpose.as_str()),
        |b| b.name.clone(),
    );
    match platform {
        Platform::Eks { region, .. } => ObjectStore::S3 {
            bucket: name,
            region: bucket.map_or_else(|| region.clone(), |b| b.region.clone()),
            endpoint: None,
        },
        Platform::Gke { .. } => ObjectStore::Gcs { bucket: name },
    }
}

/// The identity of `purpose`, or (at plan) one of the form the platform uses.
fn identity(platform: &Platform, values: &ApplyValues, purpose: IdentityPurpose) -> String {
    match values.identities.get(&purpose) {
        Some(i) => i.id.clone(),
        None => match platform {
            Platform::Eks { account_id, .. } => {
                format!(
                    "arn:aws:iam::{account_id}:role/pending-{}",
                    purpose.as_str()
                )
            }
            Platform::Gke { project, .. } => {
                format!(
                    "pending-{}@{project}.iam.gserviceaccount.com",
                    purpose.as_str()
                )
            }
        },
    }
}

/// The renderer's input for `settings` in `cluster`, with `values` from the apply.
pub fn renderer_spec(
    name: &str,
    profile: &str,
    mode: ModeWord,
    cluster: &ClusterConn,
    settings: &Settings,
    values: &ApplyValues,
) -> Result<ObservabilitySpec, String> {
    let platform = platform(cluster)?;
    let scrape = paved_observability::check_duration(&settings.metrics.scrape_interval)
        .ok()
        .and_then(|()| crate::stack::timeouts::parse_duration(&settings.metrics.scrape_interval))
        .map_or(30, |d| u32::try_from(d.as_secs()).unwrap_or(30));
    let a = &settings.alerting;
    let receivers: Vec<ReceiverSpec> = a
        .receivers
        .iter()
        .flatten()
        .map(|(n, r)| ReceiverSpec {
            name: n.clone(),
            kind: receiver_kind(r),
            send_resolved: r.send_resolved,
        })
        .collect();
    let logs = settings.logs.enabled.then(|| LogsSpec {
        retention_days: settings.logs.retention_days,
        store: store(
            &platform,
            values.buckets.get(&BucketPurpose::Logs),
            BucketPurpose::Logs,
        ),
        identity: identity(&platform, values, IdentityPurpose::Loki),
        volume_gib: settings.logs.volume_size_gb,
    });
    let traces = settings.traces.enabled.then(|| TracesSpec {
        retention_days: settings.traces.retention_days,
        store: store(
            &platform,
            values.buckets.get(&BucketPurpose::Traces),
            BucketPurpose::Traces,
        ),
        identity: identity(&platform, values, IdentityPurpose::Tempo),
        volume_gib: settings.traces.volume_size_gb,
    });
    let mode = match mode {
        ModeWord::SelfHosted => Mode::SelfHosted,
        ModeWord::Managed => {
            let m = values.managed.clone();
            Mode::Managed(ManagedSpec {
                remote_write_url: m.as_ref().map_or_else(
                    || "https://pending.invalid/api/v1/remote_write".to_owned(),
                    |m| m.remote_write_url.clone(),
                ),
                query_url: m.as_ref().map_or_else(
                    || "https://pending.invalid".to_owned(),
                    |m| m.query_url.clone(),
                ),
                identity: identity(&platform, values, IdentityPurpose::ManagedMetrics),
            })
        }
    };
    Ok(ObservabilitySpec {
        platform,
        cluster_name: cluster.name.clone().unwrap_or_default(),
        stack_name: name.to_owned(),
        kubernetes_minor: minor(cluster.kubernetes_version.as_deref()),
        profile_name: profile.to_owned(),
        namespace: settings.namespace.clone(),
        storage_class: settings.storage_class.clone(),
        mode,
        metrics: MetricsSpec {
            replicas: settings.metrics.replicas,
            retention_days: settings.metrics.retention_days,
            volume_gib: settings.metrics.volume_size_gb,
            scrape_interval_seconds: scrape,
            external_labels: settings.metrics.external_labels.clone().unwrap_or_default(),
        },
        alerting: AlertingSpec {
            replicas: a.replicas,
            receivers,
            routes: a
                .routes
                .iter()
                .flatten()
                .map(|r| RouteSpec {
                    receiver: r.receiver.clone(),
                    matchers: r.matchers.clone(),
                    continue_matching: r.continue_matching,
                })
                .collect(),
            default_receiver: default_receiver(settings),
            heartbeat: a.heartbeat_secret.is_some(),
            disabled_rules: a.disabled_rules.iter().flatten().cloned().collect(),
            rule_overrides: a
                .rule_overrides
                .iter()
                .flatten()
                .map(|(n, o)| {
                    (
                        n.clone(),
                        RuleOverride {
                            expr: o.expr.clone(),
                            for_duration: o.for_duration.clone(),
                            severity: o.severity.clone(),
                        },
                    )
                })
                .collect(),
        },
        logs,
        traces,
        grafana: GrafanaSpec {
            replicas: 1,
            dashboards: settings.grafana.dashboards.clone().unwrap_or_default(),
            ingress_host: settings.grafana.ingress_host.clone(),
            admin_secret: GRAFANA_ADMIN_SECRET.to_owned(),
        },
        custom_metrics_adapter: settings.autoscaling_metrics.custom_metrics_adapter,
    })
}

/// The renderer's input at plan time: the real cluster when known, placeholders
/// for what only the apply knows. `None` while a deciding setting is unknown.
pub fn plan_spec(cfg: &ObservabilityConfig) -> Option<ObservabilitySpec> {
    let (Knowable::Known(name), Knowable::Known(settings), Knowable::Known(mode)) =
        (&cfg.name, &cfg.settings, &cfg.mode)
    else {
        return None;
    };
    let profile = cfg.profile.known()?.name();
    let cluster = cfg
        .cluster
        .known()
        .cloned()
        .unwrap_or_else(placeholder_cluster);
    renderer_spec(
        name,
        profile,
        *mode,
        &cluster,
        settings,
        &ApplyValues::default(),
    )
    .ok()
}

/// The objects the configuration stands for, as `kubernetes_objects` lists them.
pub fn planned_objects(cfg: &ObservabilityConfig) -> Knowable<Vec<String>> {
    match plan_spec(cfg).map(|s| paved_observability::render(&s)) {
        Some(Ok(rendered)) => Knowable::Known(rendered.objects.iter().map(object_label).collect()),
        _ => Knowable::Unknown,
    }
}

/// Renders for an apply (or a read) with the real cluster and `values`.
pub fn render(cfg: &ObservabilityConfig, values: &ApplyValues) -> Result<Rendered, String> {
    let unknown = |what: &str| format!("{what} is not known");
    let name = cfg.name.known().ok_or_else(|| unknown("name"))?;
    let settings = cfg.settings.known().ok_or_else(|| unknown("a setting"))?;
    let mode = cfg.mode.known().ok_or_else(|| unknown("mode"))?;
    let profile = cfg.profile.known().ok_or_else(|| unknown("profile"))?;
    let cluster = cfg.cluster.known().ok_or_else(|| unknown("cluster"))?;
    let spec = renderer_spec(name, profile.name(), *mode, cluster, settings, values)?;
    paved_observability::render(&spec).map_err(|e| e.to_string())
}
