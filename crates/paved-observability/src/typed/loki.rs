//! The subset of Loki 3.1's configuration file we write, key for key as the
//! configuration reference spells it (`docs/sources/shared/configuration.md`).

use serde::{Deserialize, Serialize};

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LokiConfig {
    /// `target`: the modules this process runs (`all` for a single binary).
    pub target: String,
    /// `auth_enabled`: multi-tenancy through `X-Scope-OrgID`; off (one tenant).
    pub auth_enabled: bool,
    /// `server`.
    pub server: Server,
    /// `common`: storage and ring settings every module inherits.
    pub common: Common,
    /// `schema_config`.
    pub schema_config: SchemaConfig,
    /// `storage_config`.
    pub storage_config: StorageConfig,
    /// `ingester`.
    pub ingester: Ingester,
    /// `compactor`: index compaction and retention.
    pub compactor: Compactor,
    /// `limits_config`.
    pub limits_config: LimitsConfig,
    /// `analytics`: anonymous usage reporting.
    pub analytics: Analytics,
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

/// `common`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Common {
    /// `path_prefix`: the local directory under which modules keep their files.
    pub path_prefix: String,
    /// `replication_factor`.
    pub replication_factor: u32,
    /// `ring`.
    pub ring: Ring,
    /// `storage`: the object store chunks and indexes go to.
    pub storage: CommonStorage,
}

/// `common.ring`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ring {
    /// `instance_addr`.
    pub instance_addr: String,
    /// `kvstore`.
    pub kvstore: KvStore,
}

/// `kvstore`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KvStore {
    /// `store`: `inmemory` for a single instance.
    pub store: String,
}

/// `common.storage`: exactly one of the stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommonStorage {
    /// `s3` (the `s3_storage_config` block).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3>,
    /// `gcs` (the `gcs_storage_config` block).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcs: Option<Gcs>,
}

/// The `s3_storage_config` block. Credentials come from the pod's workload
/// identity (the SDK's default chain), so none are written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3 {
    /// `bucketnames`: comma-separated bucket names.
    pub bucketnames: String,
    /// `region`.
    pub region: String,
    /// `endpoint`: a non-AWS endpoint (tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// `s3forcepathstyle`: path-style URLs, which S3-compatible stores need.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3forcepathstyle: Option<bool>,
    /// `insecure`: plain HTTP to the endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
}

/// The `gcs_storage_config` block (credentials from Workload Identity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gcs {
    /// `bucket_name`.
    pub bucket_name: String,
}

/// `schema_config`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaConfig {
    /// `configs`: index schemas by start date.
    pub configs: Vec<PeriodConfig>,
}

/// One `period_config`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodConfig {
    /// `from`: the first day (`YYYY-MM-DD`) this schema applies to.
    pub from: String,
    /// `store`: the index type (`tsdb`).
    pub store: String,
    /// `object_store`: where chunks go (`s3`, `gcs`).
    pub object_store: String,
    /// `schema`: `v13`.
    pub schema: String,
    /// `index`.
    pub index: IndexPeriod,
}

/// `index` of a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexPeriod {
    /// `prefix` of index tables.
    pub prefix: String,
    /// `period` of index tables (`24h` for tsdb).
    pub period: String,
}

/// `storage_config`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// `tsdb_shipper`.
    pub tsdb_shipper: TsdbShipper,
}

/// `storage_config.tsdb_shipper`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TsdbShipper {
    /// `active_index_directory`.
    pub active_index_directory: String,
    /// `cache_location`.
    pub cache_location: String,
}

/// `ingester`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ingester {
    /// `wal`.
    pub wal: IngesterWal,
}

/// `ingester.wal`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngesterWal {
    /// `enabled`.
    pub enabled: bool,
    /// `dir`.
    pub dir: String,
}

/// `compactor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compactor {
    /// `working_directory`.
    pub working_directory: String,
    /// `compaction_interval`.
    pub compaction_interval: String,
    /// `retention_enabled`: delete what is older than `retention_period`.
    pub retention_enabled: bool,
    /// `retention_delete_delay`.
    pub retention_delete_delay: String,
    /// `delete_request_store`: the store delete requests are kept in (required
    /// with retention in Loki 3).
    pub delete_request_store: String,
}

/// `limits_config`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// `retention_period` (`<hours>h`).
    pub retention_period: String,
    /// `reject_old_samples`.
    pub reject_old_samples: bool,
    /// `reject_old_samples_max_age`.
    pub reject_old_samples_max_age: String,
    /// `ingestion_rate_mb`.
    pub ingestion_rate_mb: u32,
    /// `ingestion_burst_size_mb`.
    pub ingestion_burst_size_mb: u32,
    /// `allow_structured_metadata`.
    pub allow_structured_metadata: bool,
    /// `volume_enabled`: the volume endpoints Grafana's log explorer uses.
    pub volume_enabled: bool,
}

/// `analytics`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Analytics {
    /// `reporting_enabled`.
    pub reporting_enabled: bool,
}
