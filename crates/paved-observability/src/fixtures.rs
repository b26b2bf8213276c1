//! The specs the crate's unit tests, integration tests (`tests/`) and the
//! `render` example render, built once. Public (and hidden from the docs) only
//! so that `tests/` and `examples/` can use them: not part of the renderer's
//! interface, and nothing in the provider calls them. Pure values, no panics.
//!
//! Every spec starts from one base (the same cluster, stack and namespace names)
//! and the same accounts, buckets and identities per platform, so a field added to
//! [`ObservabilitySpec`] is filled in one place.

use std::collections::{BTreeMap, BTreeSet};

use crate::spec::{
    AlertingSpec, GrafanaSpec, LogsSpec, ManagedSpec, MetricsSpec, Mode, ObjectStore,
    ObservabilitySpec, Platform, ReceiverKind, ReceiverSpec, RouteSpec, RuleOverride, TracesSpec,
};

/// The EKS account and region every EKS spec is on.
pub fn eks() -> Platform {
    Platform::Eks {
        account_id: "123456789012".into(),
        region: "eu-west-1".into(),
    }
}

/// The GKE project and location every GKE spec is on.
pub fn gke() -> Platform {
    Platform::Gke {
        project: "shop-prod".into(),
        location: "europe-west1".into(),
    }
}

/// Both platforms, by the name tests print.
pub fn platforms() -> [(&'static str, Platform); 2] {
    [("eks", eks()), ("gke", gke())]
}

/// The bucket `bucket` on the platform's object store (S3 in the region, or
/// Cloud Storage).
pub fn store(platform: &Platform, bucket: &str) -> ObjectStore {
    match platform {
        Platform::Eks { region, .. } => ObjectStore::S3 {
            bucket: bucket.into(),
            region: region.clone(),
            endpoint: None,
        },
        Platform::Gke { .. } => ObjectStore::Gcs {
            bucket: bucket.into(),
        },
    }
}

/// The cloud identity of the workload `who` on the platform (an IAM role ARN,
/// or a Google service account).
pub fn identity(platform: &Platform, who: &str) -> String {
    match platform {
        Platform::Eks { account_id, .. } => format!("arn:aws:iam::{account_id}:role/shop-{who}"),
        Platform::Gke { project, .. } => format!("{who}@{project}.iam.gserviceaccount.com"),
    }
}

/// Managed mode on the platform: Amazon Managed Prometheus, or Google Cloud
/// Managed Service for Prometheus.
pub fn managed_mode(platform: &Platform) -> Mode {
    let (remote_write_url, query_url) = match platform {
        Platform::Eks { .. } => {
            let workspace = "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1";
            (format!("{workspace}/api/v1/remote_write"), workspace.into())
        }
        Platform::Gke { .. } => {
            let prometheus = "https://monitoring.googleapis.com/v1/projects/shop-prod/location/global/prometheus";
            (format!("{prometheus}/api/v1/write"), prometheus.into())
        }
    };
    Mode::Managed(ManagedSpec {
        remote_write_url,
        query_url,
        identity: identity(platform, "prometheus"),
    })
}

/// What every spec shares: the names, self-hosted metrics (an HA pair, 15 days on
/// 100 GiB), three Alertmanagers with no receiver, two Grafanas; no logs, no
/// traces, no adapter, no StorageClass.
pub fn base(platform: Platform, profile: &str) -> ObservabilitySpec {
    ObservabilitySpec {
        platform,
        cluster_name: "shop".into(),
        stack_name: "shop-observability".into(),
        kubernetes_minor: (1, 31),
        profile_name: profile.into(),
        namespace: "observability".into(),
        storage_class: None,
        mode: Mode::SelfHosted,
        metrics: MetricsSpec {
            replicas: 2,
            retention_days: 15,
            volume_gib: 100,
            scrape_interval_seconds: 30,
            external_labels: BTreeMap::new(),
        },
        alerting: AlertingSpec {
            replicas: 3,
            receivers: Vec::new(),
            routes: Vec::new(),
            default_receiver: None,
            heartbeat: false,
            disabled_rules: BTreeSet::new(),
            rule_overrides: BTreeMap::new(),
        },
        logs: None,
        traces: None,
        grafana: GrafanaSpec {
            replicas: 2,
            dashboards: BTreeMap::new(),
            ingress_host: None,
            admin_secret: "grafana-admin".into(),
        },
        custom_metrics_adapter: false,
    }
}

/// A receiver that is told when alerts resolve.
fn receiver(name: &str, kind: ReceiverKind) -> ReceiverSpec {
    ReceiverSpec {
        name: name.into(),
        kind,
        send_resolved: true,
    }
}

/// A route of alerts matching `matchers` to `receiver`.
fn route(receiver: &str, matchers: &[&str], continue_matching: bool) -> RouteSpec {
    RouteSpec {
        receiver: receiver.into(),
        matchers: matchers.iter().map(|m| m.to_string()).collect(),
        continue_matching,
    }
}

/// Specs of the metrics components (Prometheus, Alertmanager, the rules), for
/// the `prometheus`, `alertmanager` and `rules` tests, promtool and amtool.
pub mod metrics {
    use super::*;

    pub use super::{eks, gke, platforms};

    /// Production-like: an HA pair, three Alertmanagers, a receiver of each kind,
    /// routes with `continue`, the heartbeat; label values and matchers written
    /// in the less common forms (`$`, unquoted, spaced) the programs must accept.
    pub fn production(platform: Platform) -> ObservabilitySpec {
        let mut spec = base(platform, "production");
        spec.storage_class = Some("standard-rwo".into());
        spec.metrics.retention_days = 30;
        spec.metrics.volume_gib = 200;
        spec.metrics.external_labels = BTreeMap::from([
            ("environment".into(), "production".into()),
            ("cost_center".into(), "a$b".into()),
        ]);
        let mail = ReceiverKind::Email {
            to: "team-a@example.com".into(),
            from: "alertmanager@example.com".into(),
            smarthost: "smtp.example.com:587".into(),
            username: "alertmanager".into(),
        };
        spec.alerting.receivers = vec![
            receiver("pager", ReceiverKind::PagerDuty),
            receiver(
                "slack-ops",
                ReceiverKind::Slack {
                    channel: "#ops-alerts".into(),
                },
            ),
            receiver("mail", mail),
            receiver("hook", ReceiverKind::Webhook),
        ];
        spec.alerting.routes = vec![
            route("pager", &[r#"severity="critical""#], true),
            route(
                "mail",
                &[r#"severity=~"warning|critical""#, "namespace=~team-.*"],
                false,
            ),
            route("hook", &[r#"severity = "info""#], false),
        ];
        spec.alerting.default_receiver = Some("slack-ops".into());
        spec.alerting.heartbeat = true;
        spec
    }

    /// The smallest: one replica each, no receiver, no route, no heartbeat.
    pub fn minimal(platform: Platform) -> ObservabilitySpec {
        let mut spec = base(platform, "development");
        spec.metrics = MetricsSpec {
            replicas: 1,
            retention_days: 1,
            volume_gib: 1,
            scrape_interval_seconds: 5,
            external_labels: BTreeMap::new(),
        };
        spec.alerting.replicas = 1;
        spec
    }

    /// Production with rule changes: some disabled, some overridden.
    pub fn customised(platform: Platform) -> ObservabilitySpec {
        let mut spec = production(platform);
        spec.alerting.disabled_rules =
            BTreeSet::from(["NodeClockSkew".to_string(), "JobRunningTooLong".to_string()]);
        spec.alerting.rule_overrides = BTreeMap::from([
            (
                "PodCrashLooping".to_string(),
                RuleOverride {
                    expr: Some(
                        r#"max by (cluster, namespace, pod) (kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff",namespace!~"sandbox-.*"}) >= 1"#
                            .into(),
                    ),
                    for_duration: Some("30m".into()),
                    severity: Some("critical".into()),
                },
            ),
            (
                "TargetDown".to_string(),
                RuleOverride {
                    for_duration: Some("1h30m".into()),
                    ..RuleOverride::default()
                },
            ),
        ]);
        spec
    }

    /// The production spec writing to the cloud's managed Prometheus.
    pub fn managed(platform: Platform) -> ObservabilitySpec {
        let mut spec = production(platform);
        spec.mode = managed_mode(&spec.platform);
        spec
    }
}

/// Specs of the whole stack (Grafana, Loki, Tempo, Alloy, the adapter), for
/// their tests.
pub mod stack {
    use super::*;

    /// A production stack on `platform`: self-hosted metrics with one receiver,
    /// logs and traces on, the custom-metrics adapter, an Ingress, one user
    /// dashboard; the `gp3` StorageClass on EKS, the default one on GKE.
    fn production_on(platform: Platform) -> ObservabilitySpec {
        let mut spec = base(platform, "production");
        let platform = spec.platform.clone();
        spec.storage_class = matches!(platform, Platform::Eks { .. }).then(|| "gp3".into());
        spec.alerting.receivers = vec![receiver("oncall", ReceiverKind::PagerDuty)];
        spec.alerting.default_receiver = Some("oncall".into());
        spec.logs = Some(LogsSpec {
            retention_days: 30,
            store: store(&platform, "shop-logs"),
            identity: identity(&platform, "loki"),
            volume_gib: 20,
        });
        spec.traces = Some(TracesSpec {
            retention_days: 14,
            store: store(&platform, "shop-traces"),
            identity: identity(&platform, "tempo"),
            volume_gib: 10,
        });
        spec.grafana.dashboards = BTreeMap::from([(
            "team-a".to_string(),
            r#"{"title": "Team A", "uid": "team-a", "panels": []}"#.to_string(),
        )]);
        spec.grafana.ingress_host = Some("grafana.shop.example.com".into());
        spec.custom_metrics_adapter = true;
        spec
    }

    /// The production stack on EKS.
    pub fn production() -> ObservabilitySpec {
        production_on(eks())
    }

    /// The production stack on GKE, with Cloud Storage buckets.
    pub fn gke() -> ObservabilitySpec {
        production_on(super::gke())
    }

    /// The production stack writing to Amazon Managed Prometheus (no adapter).
    pub fn managed() -> ObservabilitySpec {
        let mut spec = production();
        spec.mode = managed_mode(&spec.platform);
        spec.custom_metrics_adapter = false;
        spec
    }

    /// A development stack: metrics and Grafana only.
    pub fn minimal() -> ObservabilitySpec {
        let mut spec = production();
        spec.profile_name = "development".into();
        spec.logs = None;
        spec.traces = None;
        spec.custom_metrics_adapter = false;
        spec.grafana.replicas = 1;
        spec.grafana.ingress_host = None;
        spec
    }
}

/// The stack of `profile` (`production`, `staging` or `development`) on `cloud`
/// (`eks` or `gke`), self-hosted or `managed`: what the `render` example writes
/// for scripts/check-manifests.sh.
pub fn profile(profile: &str, cloud: &str, managed: bool) -> ObservabilitySpec {
    let production = profile == "production";
    let pick = |prod: u32, other: u32| if production { prod } else { other };
    let platform = if cloud == "eks" { eks() } else { gke() };
    let mut spec = base(platform.clone(), profile);
    spec.storage_class = production.then(|| "standard-rwo".into());
    if managed {
        spec.mode = managed_mode(&platform);
    }
    spec.metrics = MetricsSpec {
        replicas: pick(2, 1),
        retention_days: pick(30, 7),
        volume_gib: pick(200, 20),
        scrape_interval_seconds: 30,
        external_labels: BTreeMap::from([("environment".into(), profile.into())]),
    };
    spec.alerting.replicas = pick(3, 1);
    if production {
        spec.alerting.receivers = vec![receiver("ops-webhook", ReceiverKind::Webhook)];
        spec.alerting.routes = vec![route("ops-webhook", &[r#"severity="critical""#], false)];
        spec.alerting.default_receiver = Some("ops-webhook".into());
    }
    spec.alerting.heartbeat = production;
    spec.logs = Some(LogsSpec {
        retention_days: pick(30, 7),
        store: store(&platform, "shop-logs"),
        identity: identity(&platform, "loki"),
        volume_gib: pick(20, 5),
    });
    spec.traces = (profile != "development").then(|| TracesSpec {
        retention_days: pick(14, 3),
        store: store(&platform, "shop-traces"),
        identity: identity(&platform, "tempo"),
        volume_gib: pick(10, 5),
    });
    spec.grafana.replicas = pick(2, 1);
    spec.grafana.ingress_host = production.then(|| "grafana.shop.example.com".into());
    spec.custom_metrics_adapter = production && !managed;
    spec
}
