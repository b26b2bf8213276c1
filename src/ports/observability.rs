//! What builds a `paved_observability_stack` in a cloud, in the product's words:
//! the buckets logs and traces are kept in, the workload identities the in-cluster
//! components reach them (and the managed Prometheus) with, the secrets alert
//! receivers are configured from, and the cloud's managed Prometheus.
//!
//! The objects in the cluster go through the Kubernetes port ([`super::kube`]); this
//! port is only the cloud's side. Every call keeps the contract of
//! [`crate::stack::step`]: idempotent and adopting (components carry the stack's
//! tags), honest on failure (the components that exist come back with the error),
//! prompt to stop.
//!
//! Adapters decide the names and kinds of what they create (an S3 bucket named
//! with the account, an IAM role under a path of the stack; a GCS bucket and a
//! Google service account on GCP) and report them as [`ComponentRecord`]s.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;

use crate::stack::cost::Quote;
use crate::stack::step::{ComponentRecord, StackContext, Step};
use crate::stack::BackendError;
use crate::stack::Knowable;

/// What a bucket holds, and the part of its key (`bucket.logs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BucketPurpose {
    /// Loki's chunks and index.
    Logs,
    /// Tempo's traces.
    Traces,
}

impl BucketPurpose {
    /// `logs` or `traces`.
    pub fn as_str(self) -> &'static str {
        match self {
            BucketPurpose::Logs => "logs",
            BucketPurpose::Traces => "traces",
        }
    }

    /// The inventory key of the bucket (`bucket.logs`).
    pub fn key(self) -> String {
        format!("bucket.{}", self.as_str())
    }
}

/// A bucket to create (or adopt) and keep as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketRequest {
    /// What it holds.
    pub purpose: BucketPurpose,
    /// Objects expire this many days after they were written (a lifecycle rule, a
    /// day beyond the component's own retention so the component deletes first).
    pub expire_after_days: u32,
}

/// A bucket as it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketState {
    /// What it holds.
    pub purpose: BucketPurpose,
    /// Its name (globally unique; chosen by the adapter).
    pub name: String,
    /// The region it is in.
    pub region: String,
    /// Its lifecycle expiry in days, when it has one.
    pub expire_after_days: Option<u32>,
    /// Whether encryption at rest and the public-access block are on.
    pub locked_down: bool,
}

/// The cluster the stack's workloads run in, as workload identity needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterLink {
    /// The cluster's name.
    pub name: String,
    /// The OIDC issuer of the cluster's service-account tokens (EKS), or the
    /// workload pool's project (GKE).
    pub oidc_issuer: String,
    /// The account or project the cluster lives in.
    pub account: String,
}

/// Which in-cluster component an identity is for, and the part of its key
/// (`identity.loki`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdentityPurpose {
    /// Loki: read and write the logs bucket.
    Loki,
    /// Tempo: read and write the traces bucket.
    Tempo,
    /// Prometheus in agent mode and Grafana: write to and query the managed
    /// Prometheus.
    ManagedMetrics,
}

impl IdentityPurpose {
    /// `loki`, `tempo`, `managed-metrics`.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityPurpose::Loki => "loki",
            IdentityPurpose::Tempo => "tempo",
            IdentityPurpose::ManagedMetrics => "managed-metrics",
        }
    }

    /// The inventory key (`identity.loki`).
    pub fn key(self) -> String {
        format!("identity.{}", self.as_str())
    }
}

/// A workload identity to create (or adopt): the Kubernetes service accounts that
/// may act as it and what it may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRequest {
    /// What it is for.
    pub purpose: IdentityPurpose,
    /// The cluster whose service accounts act as it.
    pub cluster: ClusterLink,
    /// The namespace of the service accounts.
    pub namespace: String,
    /// The service accounts (in `namespace`) that may act as it.
    pub service_accounts: Vec<String>,
    /// Buckets it may read and write (by name).
    pub buckets: Vec<String>,
    /// The managed Prometheus workspace it may write to and query (its id).
    pub workspace: Option<String>,
}

/// A workload identity as it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityState {
    /// What it is for.
    pub purpose: IdentityPurpose,
    /// Its id as a service account annotation wants it (an IAM role ARN; a Google
    /// service account e-mail).
    pub id: String,
}

/// A secret's value, read from the cloud's secret store at apply time. Never
/// printed: `Debug` and `Display` show `(secret)`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    /// Wraps a value read from the store.
    pub fn new(value: String) -> Self {
        SecretValue(value)
    }

    /// The value, for the one place it is written to (a Kubernetes Secret).
    pub fn reveal(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(secret)")
    }
}

impl fmt::Display for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(secret)")
    }
}

/// The managed Prometheus to create (or adopt) and keep as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedMetricsRequest {
    /// The alert rule file (Prometheus rule groups, YAML), uploaded as one rule
    /// group namespace.
    pub rules_yaml: String,
    /// Where alerts are sent: e-mail addresses and HTTPS endpoints subscribed to the
    /// notification topic paved creates (AMP's Alertmanager sends only to SNS).
    pub subscriptions: Vec<String>,
}

/// The managed Prometheus as it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedMetricsState {
    /// The workspace's id.
    pub workspace_id: String,
    /// Its remote-write URL.
    pub remote_write_url: String,
    /// Its query URL (the Prometheus API root Grafana reads).
    pub query_url: String,
    /// The notification topic alerts go to, when the cloud routes alerts so.
    pub alert_topic: Option<String>,
}

/// What one read of the stack found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservabilitySnapshot {
    /// Buckets by purpose.
    pub buckets: BTreeMap<BucketPurpose, BucketState>,
    /// Identities by purpose.
    pub identities: BTreeMap<IdentityPurpose, IdentityState>,
    /// The managed Prometheus, when there is one.
    pub managed: Option<ManagedMetricsState>,
    /// Every component found.
    pub components: Vec<ComponentRecord>,
    /// Tags of the components whose listing tells them, by component key.
    pub tags: BTreeMap<String, BTreeMap<String, String>>,
}

/// What deleting a bucket did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketDeletion {
    /// Gone (or was not there).
    Deleted,
    /// Left in place because it holds objects and emptying was not allowed.
    Refused {
        /// Its name.
        name: String,
        /// How many objects it holds (at least; a first page).
        objects: u64,
    },
}

/// What the plan knows of an observability stack that costs money: its volumes,
/// its buckets and the managed Prometheus's ingestion.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservabilityShape {
    /// Prometheus (or agent) replicas, each with a volume of `metrics_volume_gb`.
    pub metrics_replicas: u32,
    /// Each Prometheus replica's volume, in GB.
    pub metrics_volume_gb: u32,
    /// The managed Prometheus's ingestion, in managed mode.
    pub managed: Option<ManagedIngestion>,
    /// The logs store (Loki), when on.
    pub logs: Option<StoreShape>,
    /// The traces store (Tempo), when on.
    pub traces: Option<StoreShape>,
}

/// What the managed Prometheus ingests.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedIngestion {
    /// Active series the stack is sized for.
    pub series: u32,
    /// Seconds between scrapes.
    pub scrape_interval_seconds: f64,
}

/// A store with a bucket and a volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreShape {
    /// Days its data is kept.
    pub retention_days: u32,
    /// Its volume, in GB.
    pub volume_gb: u32,
}

/// A cloud that builds the cloud side of `paved_observability_stack`.
#[async_trait]
pub trait ObservabilityBackend: Send + Sync {
    /// What a stack of `shape` costs a month in the configured region, priced from
    /// paved's table without any call.
    fn cost(&self, _shape: &ObservabilityShape) -> Knowable<Quote> {
        Knowable::Known(Quote::NotOffered)
    }

    /// Ensures a bucket: encrypted at rest, public access blocked, versioning off,
    /// the lifecycle expiry asked, tagged; adopted when it exists with the stack's
    /// tags.
    async fn ensure_bucket(&self, ctx: &StackContext, req: &BucketRequest) -> Step<BucketState>;

    /// Ensures a workload identity and what it may reach.
    async fn ensure_identity(
        &self,
        ctx: &StackContext,
        req: &IdentityRequest,
    ) -> Step<IdentityState>;

    /// Ensures the managed Prometheus (workspace, rules, alert routing).
    async fn ensure_managed_metrics(
        &self,
        ctx: &StackContext,
        req: &ManagedMetricsRequest,
    ) -> Step<ManagedMetricsState>;

    /// Reads a secret's current value by its reference (a Secrets Manager ARN; a
    /// Secret Manager name). The error names the reference, never the value.
    async fn read_secret(
        &self,
        ctx: &StackContext,
        reference: &str,
    ) -> Result<SecretValue, BackendError>;

    /// Reads everything of the stack in a few batched calls.
    async fn read_stack(&self, ctx: &StackContext) -> Step<ObservabilitySnapshot>;

    /// Sets the stack's tags on `components` and removes the keys `removed`.
    async fn retag(
        &self,
        ctx: &StackContext,
        components: &[ComponentRecord],
        removed: &[String],
    ) -> Step<()>;

    /// Deletes the bucket of `purpose`: emptied first when `empty_first`, otherwise
    /// refused (left in place) when it holds objects.
    async fn delete_bucket(
        &self,
        ctx: &StackContext,
        purpose: BucketPurpose,
        empty_first: bool,
    ) -> Step<BucketDeletion>;

    /// Deletes the identity of `purpose` and what it was granted.
    async fn delete_identity(&self, ctx: &StackContext, purpose: IdentityPurpose) -> Step<()>;

    /// Deletes the managed Prometheus and its alert topic.
    async fn delete_managed_metrics(&self, ctx: &StackContext) -> Step<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_values_never_print() {
        let secret = SecretValue::new("https://hooks.slack.com/services/T/B/xyz".to_owned());
        assert_eq!(format!("{secret:?} {secret}"), "(secret) (secret)");
        assert!(secret.reveal().ends_with("xyz"));
    }

    #[test]
    fn keys_name_the_purpose() {
        assert_eq!(BucketPurpose::Traces.key(), "bucket.traces");
        assert_eq!(
            IdentityPurpose::ManagedMetrics.key(),
            "identity.managed-metrics"
        );
    }
}
