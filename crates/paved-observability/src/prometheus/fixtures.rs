//! Specs the unit tests of the metrics components share.

use std::collections::{BTreeMap, BTreeSet};

use crate::spec::{
    AlertingSpec, GrafanaSpec, ManagedSpec, MetricsSpec, Mode, ObservabilitySpec, Platform,
    ReceiverKind, ReceiverSpec, RouteSpec,
};

pub(crate) fn eks() -> Platform {
    Platform::Eks {
        account_id: "123456789012".into(),
        region: "eu-west-1".into(),
    }
}

pub(crate) fn gke() -> Platform {
    Platform::Gke {
        project: "shop-prod".into(),
        location: "europe-west1".into(),
    }
}

/// A production-like self-hosted spec: an HA pair, three Alertmanagers, one
/// receiver of each kind, routes, the heartbeat.
pub(crate) fn production(platform: Platform) -> ObservabilitySpec {
    ObservabilitySpec {
        platform,
        cluster_name: "shop".into(),
        stack_name: "shop-observability".into(),
        kubernetes_minor: (1, 31),
        profile_name: "production".into(),
        namespace: "observability".into(),
        storage_class: Some("gp3".into()),
        mode: Mode::SelfHosted,
        metrics: MetricsSpec {
            replicas: 2,
            retention_days: 15,
            volume_gib: 100,
            scrape_interval_seconds: 30,
            external_labels: BTreeMap::from([("environment".into(), "prod".into())]),
        },
        alerting: AlertingSpec {
            replicas: 3,
            receivers: vec![
                ReceiverSpec {
                    name: "pager".into(),
                    kind: ReceiverKind::PagerDuty,
                    send_resolved: true,
                },
                ReceiverSpec {
                    name: "slack-ops".into(),
                    kind: ReceiverKind::Slack {
                        channel: "#ops-alerts".into(),
                    },
                    send_resolved: true,
                },
                ReceiverSpec {
                    name: "mail".into(),
                    kind: ReceiverKind::Email {
                        to: "ops@example.com".into(),
                        from: "alertmanager@example.com".into(),
                        smarthost: "smtp.example.com:587".into(),
                        username: "alertmanager".into(),
                    },
                    send_resolved: false,
                },
                ReceiverSpec {
                    name: "hook".into(),
                    kind: ReceiverKind::Webhook,
                    send_resolved: true,
                },
            ],
            routes: vec![
                RouteSpec {
                    receiver: "pager".into(),
                    matchers: vec![r#"severity="critical""#.into()],
                    continue_matching: true,
                },
                RouteSpec {
                    receiver: "mail".into(),
                    matchers: vec![
                        r#"severity=~"warning|critical""#.into(),
                        r#"namespace=~"team-.*""#.into(),
                    ],
                    continue_matching: false,
                },
                RouteSpec {
                    receiver: "hook".into(),
                    matchers: vec![r#"severity="info""#.into()],
                    continue_matching: false,
                },
            ],
            default_receiver: Some("slack-ops".into()),
            heartbeat: true,
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

/// The smallest spec: one replica of each, no receivers, no heartbeat.
pub(crate) fn minimal(platform: Platform) -> ObservabilitySpec {
    let mut spec = production(platform);
    spec.profile_name = "development".into();
    spec.storage_class = None;
    spec.metrics = MetricsSpec {
        replicas: 1,
        retention_days: 3,
        volume_gib: 10,
        scrape_interval_seconds: 60,
        external_labels: BTreeMap::new(),
    };
    spec.alerting = AlertingSpec {
        replicas: 1,
        receivers: Vec::new(),
        routes: Vec::new(),
        default_receiver: None,
        heartbeat: false,
        disabled_rules: BTreeSet::new(),
        rule_overrides: BTreeMap::new(),
    };
    spec
}

/// The production spec in managed mode.
pub(crate) fn managed(platform: Platform) -> ObservabilitySpec {
    let mut spec = production(platform.clone());
    spec.mode = Mode::Managed(match platform {
        Platform::Eks { .. } => ManagedSpec {
            remote_write_url:
                "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write"
                    .into(),
            query_url: "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1".into(),
            identity: "arn:aws:iam::123456789012:role/shop-prometheus".into(),
        },
        Platform::Gke { .. } => ManagedSpec {
            remote_write_url: "https://monitoring.googleapis.com/v1/projects/shop-prod/location/global/prometheus/api/v1/write".into(),
            query_url: "https://monitoring.googleapis.com/v1/projects/shop-prod/location/global/prometheus".into(),
            identity: "prometheus@shop-prod.iam.gserviceaccount.com".into(),
        },
    });
    spec
}
