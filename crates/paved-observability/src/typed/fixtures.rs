//! Specs the unit tests of the Grafana, Loki, Tempo, Alloy and adapter modules
//! render.

use std::collections::{BTreeMap, BTreeSet};

use crate::spec::{
    AlertingSpec, GrafanaSpec, LogsSpec, ManagedSpec, MetricsSpec, Mode, ObjectStore,
    ObservabilitySpec, Platform, TracesSpec,
};

/// A production stack on EKS: self-hosted, logs and traces on, the adapter, an
/// Ingress.
pub(crate) fn production() -> ObservabilitySpec {
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
            receivers: Vec::new(),
            routes: Vec::new(),
            default_receiver: None,
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
            dashboards: BTreeMap::new(),
            ingress_host: Some("grafana.shop.example.com".into()),
            admin_secret: "grafana-admin".into(),
        },
        custom_metrics_adapter: true,
    }
}

/// The production stack on GKE with Cloud Storage buckets.
pub(crate) fn gke() -> ObservabilitySpec {
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

/// The production stack writing to Amazon Managed Prometheus.
pub(crate) fn managed() -> ObservabilitySpec {
    let mut spec = production();
    spec.mode = Mode::Managed(ManagedSpec {
        remote_write_url:
            "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write"
                .into(),
        query_url: "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1".into(),
        identity: "arn:aws:iam::123456789012:role/shop-prometheus".into(),
    });
    spec.custom_metrics_adapter = false;
    spec
}

/// A development stack: metrics and Grafana only.
pub(crate) fn minimal() -> ObservabilitySpec {
    let mut spec = production();
    spec.profile_name = "development".into();
    spec.logs = None;
    spec.traces = None;
    spec.custom_metrics_adapter = false;
    spec.grafana.replicas = 1;
    spec.grafana.ingress_host = None;
    spec
}
