//! The specs the `grafana_*`, `loki_*`, `tempo_*` and `alloy_*` tests render.

use std::collections::{BTreeMap, BTreeSet};

use paved_observability::{
    AlertingSpec, GrafanaSpec, LogsSpec, Manifest, MetricsSpec, Mode, ObjectStore,
    ObservabilitySpec, Platform, ReceiverKind, ReceiverSpec, Rendered, TracesSpec,
};

/// A production stack on EKS: self-hosted metrics, logs and traces on, the
/// custom-metrics adapter, an Ingress, one user dashboard.
pub fn production() -> ObservabilitySpec {
    ObservabilitySpec {
        platform: Platform::Eks {
            account_id: "123456789012".into(),
            region: "eu-west-1".into(),
        },
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
            external_labels: BTreeMap::new(),
        },
        alerting: AlertingSpec {
            replicas: 3,
            receivers: vec![ReceiverSpec {
                name: "oncall".into(),
                kind: ReceiverKind::PagerDuty,
                send_resolved: true,
            }],
            routes: Vec::new(),
            default_receiver: Some("oncall".into()),
            heartbeat: false,
            disabled_rules: BTreeSet::new(),
            rule_overrides: BTreeMap::new(),
        },
        logs: Some(LogsSpec {
            retention_days: 30,
            store: ObjectStore::S3 {
                bucket: "shop-logs".into(),
                region: "eu-west-1".into(),
                endpoint: None,
            },
            identity: "arn:aws:iam::123456789012:role/shop-loki".into(),
            volume_gib: 20,
        }),
        traces: Some(TracesSpec {
            retention_days: 14,
            store: ObjectStore::S3 {
                bucket: "shop-traces".into(),
                region: "eu-west-1".into(),
                endpoint: None,
            },
            identity: "arn:aws:iam::123456789012:role/shop-tempo".into(),
            volume_gib: 10,
        }),
        grafana: GrafanaSpec {
            replicas: 2,
            dashboards: BTreeMap::from([(
                "team-a".to_string(),
                r#"{"title": "Team A", "uid": "team-a", "panels": []}"#.to_string(),
            )]),
            ingress_host: Some("grafana.shop.example.com".into()),
            admin_secret: "grafana-admin".into(),
        },
        custom_metrics_adapter: true,
    }
}

/// The production stack on GKE, with Cloud Storage buckets.
pub fn gke() -> ObservabilitySpec {
    let mut spec = production();
    spec.platform = Platform::Gke {
        project: "shop-prod".into(),
        location: "europe-west1".into(),
    };
    spec.storage_class = None;
    if let Some(logs) = spec.logs.as_mut() {
        logs.store = ObjectStore::Gcs {
            bucket: "shop-logs".into(),
        };
        logs.identity = "loki@shop-prod.iam.gserviceaccount.com".into();
    }
    if let Some(traces) = spec.traces.as_mut() {
        traces.store = ObjectStore::Gcs {
            bucket: "shop-traces".into(),
        };
        traces.identity = "tempo@shop-prod.iam.gserviceaccount.com".into();
    }
    spec
}

/// The object `kind`/`name` of `rendered`.
pub fn object<'a>(rendered: &'a Rendered, kind: &str, name: &str) -> &'a Manifest {
    rendered
        .objects
        .iter()
        .find(|m| m.kind == kind && m.name == name)
        .unwrap_or_else(|| panic!("{kind} {name} is not rendered"))
}

/// The file `key` of the ConfigMap `name`.
pub fn config_map_file(rendered: &Rendered, name: &str, key: &str) -> String {
    object(rendered, "ConfigMap", name).body["data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("ConfigMap {name} has no {key}"))
        .to_string()
}
