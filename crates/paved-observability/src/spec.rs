//! The renderer's input: plain values the caller (the `paved_observability_stack`
//! resource) has already resolved from the profile table and the configuration.
//! Nothing here has a default; the renderer reads what it is given.

use std::collections::{BTreeMap, BTreeSet};

pub use paved_manifests::Platform;

/// Everything one observability stack is rendered from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservabilitySpec {
    /// The cloud the cluster runs on, with its account or project and region.
    pub platform: Platform,
    /// The cluster's name (the `cluster` external label, dashboards' titles).
    pub cluster_name: String,
    /// The stack's own name: the `paved.dev/stack` label on every object.
    pub stack_name: String,
    /// The cluster's Kubernetes version as `(major, minor)`.
    pub kubernetes_minor: (u32, u32),
    /// The profile the values came from (`production`, ...); a label only.
    pub profile_name: String,
    /// The namespace every namespaced object lives in (rendered as a Namespace too).
    pub namespace: String,
    /// The StorageClass of every volume claim; `None` uses the cluster's default.
    pub storage_class: Option<String>,
    /// Self-hosted Prometheus and Alertmanager, or the cloud's managed Prometheus.
    pub mode: Mode,
    /// Prometheus.
    pub metrics: MetricsSpec,
    /// Alertmanager and the alert rules.
    pub alerting: AlertingSpec,
    /// Loki and the log agent; `None` when logs are off.
    pub logs: Option<LogsSpec>,
    /// Tempo; `None` when traces are off.
    pub traces: Option<TracesSpec>,
    /// Grafana.
    pub grafana: GrafanaSpec,
    /// Whether to run a custom-metrics adapter (prometheus-adapter) serving
    /// `custom.metrics.k8s.io` for HorizontalPodAutoscalers.
    pub custom_metrics_adapter: bool,
}

/// Where metrics are stored and alerts evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Prometheus (HA pair, local TSDB, rules) and a clustered Alertmanager in the
    /// cluster.
    SelfHosted,
    /// The cloud's managed Prometheus: Prometheus runs in agent mode and
    /// remote-writes; rules and alert routing live in the managed service, so no
    /// Alertmanager and no rule files are rendered.
    Managed(ManagedSpec),
}

/// The managed Prometheus the agent writes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedSpec {
    /// The remote-write URL (AMP: `https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>/api/v1/remote_write`).
    pub remote_write_url: String,
    /// The query URL Grafana's Prometheus datasource reads from.
    pub query_url: String,
    /// The cloud identity the agent and Grafana act as (IAM role ARN through IRSA,
    /// Google service account through Workload Identity).
    pub identity: String,
}

/// Prometheus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsSpec {
    /// Replicas (2 in production: an HA pair scraping the same targets).
    pub replicas: u32,
    /// Retention by time, in days.
    pub retention_days: u32,
    /// Each replica's volume, GiB; retention by size is 85% of it.
    pub volume_gib: u32,
    /// The scrape (and rule evaluation) interval, seconds.
    pub scrape_interval_seconds: u32,
    /// External labels added to every series and alert (besides `cluster` and the
    /// per-replica `replica` label, which is dropped before alerting).
    pub external_labels: BTreeMap<String, String>,
}

/// Alertmanager, receivers, routes and the default rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertingSpec {
    /// Alertmanager replicas (clustered through its gossip port; a PDB when > 1).
    pub replicas: u32,
    /// Receivers by name, in configuration order.
    pub receivers: Vec<ReceiverSpec>,
    /// Routes below the root, in order; the first that matches takes the alert
    /// unless it says `continue`.
    pub routes: Vec<RouteSpec>,
    /// The root route's receiver; `None` when no receiver is configured (alerts go
    /// nowhere: the resource warns).
    pub default_receiver: Option<String>,
    /// Whether the always-firing `Watchdog` alert is sent, every minute, to a
    /// heartbeat URL (secret [`HEARTBEAT_SECRET`]) so an outside dead man's switch
    /// notices when alerting stops.
    pub heartbeat: bool,
    /// Default rules turned off, by alert name.
    pub disabled_rules: BTreeSet<String>,
    /// Default rules changed, by alert name.
    pub rule_overrides: BTreeMap<String, RuleOverride>,
}

/// The key of the heartbeat URL among the receivers' secrets.
pub const HEARTBEAT_SECRET: &str = "heartbeat";

/// The text standing for the secret `name` in the rendered Alertmanager
/// configuration: `https://paved-secret.invalid/NAME`, NAME a receiver's name or
/// [`HEARTBEAT_SECRET`]. The rendered objects (hashed, kept in state, written as
/// GitOps files) carry only placeholders; `resolve_secrets` puts the values in at
/// apply time.
///
/// A URL because Alertmanager checks URL fields (`api_url`, `url`) when it loads
/// its configuration, so the placeholder form must pass `amtool check-config`;
/// the `.invalid` top-level domain (RFC 2606) never resolves, so a placeholder
/// left in by mistake sends nothing anywhere. One form serves every field (URLs,
/// keys, passwords).
pub fn secret_placeholder(name: &str) -> String {
    format!("https://paved-secret.invalid/{name}")
}

/// One receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverSpec {
    /// Its name, as routes refer to it.
    pub name: String,
    /// What it sends to.
    pub kind: ReceiverKind,
    /// Whether resolved notifications are sent too.
    pub send_resolved: bool,
}

/// What a receiver sends to. The secret part of each (a URL, a key, a password)
/// comes from the receivers' secret under the receiver's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiverKind {
    /// A Slack incoming webhook (the secret is the webhook URL).
    Slack {
        /// The channel (`#alerts`).
        channel: String,
    },
    /// E-mail through an SMTP relay (the secret is the SMTP password).
    Email {
        /// Recipient address.
        to: String,
        /// Sender address.
        from: String,
        /// `host:port` of the SMTP relay.
        smarthost: String,
        /// SMTP user name.
        username: String,
    },
    /// A generic webhook (the secret is the URL).
    Webhook,
    /// PagerDuty Events API v2 (the secret is the routing key).
    PagerDuty,
}

/// One route under the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    /// The receiver alerts matching this route go to.
    pub receiver: String,
    /// Alertmanager matchers (`severity="critical"`, `namespace=~"team-.*"`).
    pub matchers: Vec<String>,
    /// Whether later routes are tried after this one matched.
    pub continue_matching: bool,
}

/// Changes to one default rule.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RuleOverride {
    /// A replacement PromQL expression.
    pub expr: Option<String>,
    /// A replacement `for` duration (`15m`).
    pub for_duration: Option<String>,
    /// A replacement `severity` label (`critical`, `warning`, `info`).
    pub severity: Option<String>,
}

/// Where an object store bucket is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectStore {
    /// Amazon S3.
    S3 {
        /// Bucket name.
        bucket: String,
        /// The bucket's region.
        region: String,
        /// An endpoint other than AWS's (tests); `None` in production.
        endpoint: Option<String>,
    },
    /// Google Cloud Storage.
    Gcs {
        /// Bucket name.
        bucket: String,
    },
}

/// Loki (single binary) and the log agent (Grafana Alloy, a DaemonSet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsSpec {
    /// How long logs are kept (compactor retention), days.
    pub retention_days: u32,
    /// The bucket chunks and indexes go to.
    pub store: ObjectStore,
    /// The cloud identity Loki acts as to reach the bucket (workload identity).
    pub identity: String,
    /// Loki's local volume (WAL, cache), GiB.
    pub volume_gib: u32,
}

/// Tempo (single binary); Alloy receives OTLP and forwards traces to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracesSpec {
    /// How long traces are kept, days.
    pub retention_days: u32,
    /// The bucket traces go to.
    pub store: ObjectStore,
    /// The cloud identity Tempo acts as to reach the bucket.
    pub identity: String,
    /// Tempo's local volume (WAL), GiB.
    pub volume_gib: u32,
}

/// Grafana.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrafanaSpec {
    /// Replicas.
    pub replicas: u32,
    /// Dashboards the user adds, by file name stem, as dashboard JSON text.
    pub dashboards: BTreeMap<String, String>,
    /// A host name for an Ingress in front of Grafana; `None` renders no Ingress.
    pub ingress_host: Option<String>,
    /// The Secret holding the admin user and password (`admin-user`,
    /// `admin-password`); generated in the cluster, never rendered.
    pub admin_secret: String,
}
