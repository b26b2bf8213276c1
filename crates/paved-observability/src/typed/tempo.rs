//! The subset of Tempo 2.6's configuration file we write, key for key as the
//! configuration reference and manifest (`docs/sources/tempo/configuration`) spell it.

use serde::{Deserialize, Serialize};

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TempoConfig {
    /// `target`: `all` for a single binary.
    pub target: String,
    /// `stream_over_http_enabled`: streaming search for Grafana.
    pub stream_over_http_enabled: bool,
    /// `server`.
    pub server: Server,
    /// `distributor`.
    pub distributor: Distributor,
    /// `ingester`.
    pub ingester: Ingester,
    /// `compactor`.
    pub compactor: Compactor,
    /// `storage`.
    pub storage: Storage,
    /// `usage_report`.
    pub usage_report: UsageReport,
}

/// `server`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// `http_listen_port`.
    pub http_listen_port: u16,
    /// `grpc_listen_port`.
    pub grpc_listen_port: u16,
    /// `log_level`.
    pub log_level: String,
}

/// `distributor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Distributor {
    /// `receivers` (OpenTelemetry Collector receiver configuration).
    pub receivers: Receivers,
}

/// `distributor.receivers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receivers {
    /// `otlp`.
    pub otlp: Otlp,
}

/// `distributor.receivers.otlp`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Otlp {
    /// `protocols`.
    pub protocols: OtlpProtocols,
}

/// `distributor.receivers.otlp.protocols`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtlpProtocols {
    /// `grpc`.
    pub grpc: Endpoint,
    /// `http`.
    pub http: Endpoint,
}

/// A listener.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// `endpoint` (`host:port`).
    pub endpoint: String,
}

/// `ingester`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ingester {
    /// `max_block_duration`: how long a head block is filled before it is cut.
    pub max_block_duration: String,
    /// `trace_idle_period`.
    pub trace_idle_period: String,
}

/// `compactor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compactor {
    /// `compaction`.
    pub compaction: Compaction,
}

/// `compactor.compaction`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compaction {
    /// `block_retention`: how long traces are kept (`<hours>h`).
    pub block_retention: String,
}

/// `storage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    /// `trace`.
    pub trace: TraceStorage,
}

/// `storage.trace`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceStorage {
    /// `backend`: `s3` or `gcs`.
    pub backend: String,
    /// `wal`.
    pub wal: Wal,
    /// `s3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3>,
    /// `gcs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcs: Option<Gcs>,
}

/// `storage.trace.wal`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wal {
    /// `path`.
    pub path: String,
}

/// `storage.trace.s3` (credentials from the pod's workload identity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3 {
    /// `bucket`.
    pub bucket: String,
    /// `endpoint`: required by Tempo (`s3.<region>.amazonaws.com` on AWS).
    pub endpoint: String,
    /// `region`.
    pub region: String,
    /// `forcepathstyle`.
    pub forcepathstyle: bool,
    /// `insecure`: plain HTTP.
    pub insecure: bool,
}

/// `storage.trace.gcs` (credentials from Workload Identity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gcs {
    /// `bucket_name`.
    pub bucket_name: String,
}

/// `usage_report`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageReport {
    /// `reporting_enabled`.
    pub reporting_enabled: bool,
}
