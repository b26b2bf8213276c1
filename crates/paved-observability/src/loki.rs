//! Loki, single binary (`-target=all`): one StatefulSet pod with a local volume for
//! its write-ahead log and index cache, chunks and TSDB indexes in the object
//! store, retention applied by the compactor. Rendered when logs are on.

use paved_manifests::{Manifest, Problem, RenderError};

use crate::endpoints::{LOKI_PORT, LOKI_SERVICE};
use crate::labels::Component;
use crate::single_binary::SingleBinary;
use crate::spec::{LogsSpec, ObjectStore, ObservabilitySpec};
use crate::typed::loki::{
    Analytics, Common, CommonStorage, Compactor, Gcs, IndexPeriod, Ingester, IngesterWal, KvStore,
    LimitsConfig, LokiConfig, PeriodConfig, Ring, SchemaConfig, Server, StorageConfig, TsdbShipper,
    S3,
};
use crate::typed::store::backend;
use crate::typed::to_yaml;

/// Loki's image (pinned).
pub const IMAGE: &str = "docker.io/grafana/loki:3.1.1";
/// The ConfigMap holding `loki.yaml`.
pub const CONFIG_MAP: &str = "loki-config";
/// The configuration file's name in the ConfigMap.
pub const CONFIG_FILE: &str = "loki.yaml";
/// The StatefulSet's governing (headless) Service.
pub const HEADLESS_SERVICE: &str = "loki-headless";
/// Loki's gRPC port.
pub const GRPC_PORT: u16 = 9095;
/// Where the data volume is mounted: WAL, TSDB index and cache, compactor.
pub const DATA_DIR: &str = "/var/loki";
/// The first day of the v13/TSDB schema: before any data this stack writes.
pub const SCHEMA_FROM: &str = "2024-04-01";
/// The user the image runs as.
pub const UID: i64 = 10001;

const CONFIG_DIR: &str = "/etc/loki";

/// Loki's configuration, typed.
pub(crate) fn config(logs: &LogsSpec) -> LokiConfig {
    let (s3, gcs) = match &logs.store {
        ObjectStore::S3 {
            bucket,
            region,
            endpoint,
        } => (
            Some(S3 {
                bucketnames: bucket.clone(),
                region: region.clone(),
                endpoint: endpoint.clone(),
                // S3-compatible test stores serve buckets under the path, not as
                // virtual hosts.
                s3forcepathstyle: endpoint.as_ref().map(|_| true),
                insecure: endpoint.as_ref().map(|url| url.starts_with("http://")),
            }),
            None,
        ),
        ObjectStore::Gcs { bucket } => (
            None,
            Some(Gcs {
                bucket_name: bucket.clone(),
            }),
        ),
    };
    let store = backend(&logs.store).to_string();
    LokiConfig {
        target: "all".to_string(),
        auth_enabled: false,
        server: Server {
            http_listen_port: LOKI_PORT,
            grpc_listen_port: GRPC_PORT,
            log_level: "info".to_string(),
        },
        common: Common {
            path_prefix: DATA_DIR.to_string(),
            replication_factor: 1,
            ring: Ring {
                instance_addr: "127.0.0.1".to_string(),
                kvstore: KvStore {
                    store: "inmemory".to_string(),
                },
            },
            storage: CommonStorage { s3, gcs },
        },
        schema_config: SchemaConfig {
            configs: vec![PeriodConfig {
                from: SCHEMA_FROM.to_string(),
                store: "tsdb".to_string(),
                object_store: store.clone(),
                schema: "v13".to_string(),
                index: IndexPeriod {
                    prefix: "index_".to_string(),
                    period: "24h".to_string(),
                },
            }],
        },
        storage_config: StorageConfig {
            tsdb_shipper: TsdbShipper {
                active_index_directory: format!("{DATA_DIR}/tsdb-index"),
                cache_location: format!("{DATA_DIR}/tsdb-cache"),
            },
        },
        ingester: Ingester {
            wal: IngesterWal {
                enabled: true,
                dir: format!("{DATA_DIR}/wal"),
            },
        },
        compactor: Compactor {
            working_directory: format!("{DATA_DIR}/compactor"),
            compaction_interval: "10m".to_string(),
            retention_enabled: true,
            retention_delete_delay: "2h".to_string(),
            delete_request_store: store,
        },
        limits_config: LimitsConfig {
            retention_period: hours(logs.retention_days),
            reject_old_samples: true,
            reject_old_samples_max_age: "168h".to_string(),
            ingestion_rate_mb: 10,
            ingestion_burst_size_mb: 20,
            allow_structured_metadata: true,
            volume_enabled: true,
        },
        analytics: Analytics {
            reporting_enabled: false,
        },
    }
}

/// `days` as a duration in hours (`720h`), the form Loki and Tempo take.
pub(crate) fn hours(days: u32) -> String {
    format!("{}h", u64::from(days) * 24)
}

/// Loki's configuration file, `None` when logs are off.
pub fn loki_config(spec: &ObservabilitySpec) -> Result<Option<String>, RenderError> {
    spec.logs
        .as_ref()
        .map(|logs| to_yaml(CONFIG_FILE, &config(logs)))
        .transpose()
}

/// Loki as a [`SingleBinary`].
fn single_binary(logs: &LogsSpec) -> SingleBinary<'_> {
    SingleBinary {
        component: Component::Loki,
        spec_path: "logs",
        name: LOKI_SERVICE,
        headless_service: HEADLESS_SERVICE,
        image: IMAGE,
        config_map: CONFIG_MAP,
        config_file: CONFIG_FILE,
        config_dir: CONFIG_DIR,
        data_dir: DATA_DIR,
        uid: UID,
        ports: &[("http", LOKI_PORT), ("grpc", GRPC_PORT)],
        volume_needed_by: "Loki's write-ahead log and index cache need",
        retention_days: logs.retention_days,
        volume_gib: logs.volume_gib,
        store: &logs.store,
        identity: &logs.identity,
    }
}

/// Problems of the spec this component finds.
pub(crate) fn problems(spec: &ObservabilitySpec) -> Vec<Problem> {
    spec.logs.as_ref().map_or_else(Vec::new, |logs| {
        single_binary(logs).problems(spec, Vec::new())
    })
}

/// The objects of this component.
pub(crate) fn objects(spec: &ObservabilitySpec) -> Result<Vec<Manifest>, RenderError> {
    let Some(logs) = &spec.logs else {
        return Ok(Vec::new());
    };
    single_binary(logs).objects(spec, &config(logs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::stack as fixtures;
    use crate::typed::check_yaml;
    use crate::workload::CONFIG_HASH_ANNOTATION;

    fn kinds(objects: &[Manifest]) -> Vec<(String, String)> {
        objects
            .iter()
            .map(|m| (m.kind.clone(), m.name.clone()))
            .collect()
    }

    #[test]
    fn nothing_when_logs_are_off() {
        let spec = fixtures::minimal();
        assert!(objects(&spec).expect("renders").is_empty());
        assert_eq!(loki_config(&spec).expect("renders"), None);
        assert!(problems(&spec).is_empty());
    }

    #[test]
    fn objects_of_a_production_stack() {
        let objects = objects(&fixtures::production()).expect("renders");
        let names = kinds(&objects);
        for expected in [
            ("ServiceAccount", "loki"),
            ("ConfigMap", "loki-config"),
            ("Service", "loki"),
            ("Service", "loki-headless"),
            ("StatefulSet", "loki"),
        ] {
            assert!(
                names.contains(&(expected.0.to_string(), expected.1.to_string())),
                "{expected:?} missing from {names:?}"
            );
        }
        let sts = &objects[4].body;
        assert_eq!(sts["spec"]["serviceName"], "loki-headless");
        let claim = &sts["spec"]["volumeClaimTemplates"][0]["spec"];
        assert_eq!(claim["resources"]["requests"]["storage"], "20Gi");
        assert_eq!(claim["storageClassName"], "gp3");
        let pod = &sts["spec"]["template"];
        assert_eq!(
            pod["metadata"]["annotations"][CONFIG_HASH_ANNOTATION]
                .as_str()
                .map(str::len),
            Some(64)
        );
        let container = &pod["spec"]["containers"][0];
        assert_eq!(container["image"], IMAGE);
        assert_eq!(container["args"][1], "-target=all");
        assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/ready");
        assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    }

    #[test]
    fn identity_annotation_follows_the_platform() {
        let eks = objects(&fixtures::production()).expect("renders");
        assert_eq!(
            eks[0].body["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
            "arn:aws:iam::123456789012:role/shop-loki"
        );
        let gke = objects(&fixtures::gke()).expect("renders");
        assert_eq!(
            gke[0].body["metadata"]["annotations"]["iam.gke.io/gcp-service-account"],
            "loki@shop-prod.iam.gserviceaccount.com"
        );
        assert_eq!(
            gke[4].body["spec"]["volumeClaimTemplates"][0]["spec"].get("storageClassName"),
            None
        );
    }

    #[test]
    fn config_values() {
        let spec = fixtures::production();
        let text = loki_config(&spec).expect("renders").expect("logs on");
        let parsed: LokiConfig = check_yaml(&text).expect("typed");
        assert_eq!(parsed.limits_config.retention_period, "720h");
        assert!(parsed.compactor.retention_enabled);
        assert_eq!(parsed.compactor.delete_request_store, "s3");
        assert_eq!(parsed.schema_config.configs[0].schema, "v13");
        assert_eq!(parsed.schema_config.configs[0].store, "tsdb");
        assert_eq!(parsed.common.ring.kvstore.store, "inmemory");
        assert_eq!(parsed.common.replication_factor, 1);
        assert!(!parsed.auth_enabled);
        let s3 = parsed.common.storage.s3.expect("s3");
        assert_eq!(s3.bucketnames, "shop-logs");
        assert_eq!(s3.region, "eu-west-1");
        assert_eq!(s3.endpoint, None);
        assert_eq!(s3.s3forcepathstyle, None);

        let gke = loki_config(&fixtures::gke()).expect("renders").expect("on");
        let parsed: LokiConfig = check_yaml(&gke).expect("typed");
        assert_eq!(
            parsed.common.storage.gcs.map(|g| g.bucket_name).as_deref(),
            Some("shop-logs")
        );
        assert_eq!(parsed.schema_config.configs[0].object_store, "gcs");
        assert_eq!(parsed.compactor.delete_request_store, "gcs");
    }

    #[test]
    fn test_store_uses_path_style() {
        let mut spec = fixtures::production();
        if let Some(logs) = spec.logs.as_mut() {
            logs.store = ObjectStore::S3 {
                bucket: "logs".into(),
                region: "us-east-1".into(),
                endpoint: Some("http://minio.test:9000".into()),
            };
            logs.identity = String::new();
        }
        assert!(problems(&spec).is_empty(), "{:?}", problems(&spec));
        let text = loki_config(&spec).expect("renders").expect("on");
        let parsed: LokiConfig = check_yaml(&text).expect("typed");
        let s3 = parsed.common.storage.s3.expect("s3");
        assert_eq!(s3.endpoint.as_deref(), Some("http://minio.test:9000"));
        assert_eq!(s3.s3forcepathstyle, Some(true));
        assert_eq!(s3.insecure, Some(true));
    }

    #[test]
    fn problems_name_the_fields() {
        let mut spec = fixtures::production();
        if let Some(logs) = spec.logs.as_mut() {
            logs.retention_days = 0;
            logs.volume_gib = 0;
            logs.store = ObjectStore::S3 {
                bucket: "Bad_Bucket".into(),
                region: String::new(),
                endpoint: None,
            };
            logs.identity = "loki@x.iam.gserviceaccount.com".into();
        }
        let paths: Vec<String> = problems(&spec).into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            [
                "logs.retention_days",
                "logs.volume_gib",
                "logs.store.bucket",
                "logs.store.region",
                "logs.identity"
            ]
        );
        let mut gcs_on_eks = fixtures::production();
        if let Some(logs) = gcs_on_eks.logs.as_mut() {
            logs.store = ObjectStore::Gcs {
                bucket: "shop-logs".into(),
            };
        }
        assert_eq!(problems(&gcs_on_eks)[0].path, "logs.store");
    }
}
