//! Loki, single binary (`-target=all`): one StatefulSet pod with a local volume for
//! its write-ahead log and index cache, chunks and TSDB indexes in the object
//! store, retention applied by the compactor. Rendered when logs are on.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::{Container, ContainerPort, PodSpec, PodTemplateSpec};
use paved_manifests::{Manifest, Problem, RenderError};

use crate::endpoints::{LOKI_PORT, LOKI_SERVICE};
use crate::labels::{object_meta, Component};
use crate::spec::{LogsSpec, ObjectStore, ObservabilitySpec};
use crate::typed::loki::{
    Analytics, Common, CommonStorage, Compactor, Gcs, IndexPeriod, Ingester, IngesterWal, KvStore,
    LimitsConfig, LokiConfig, PeriodConfig, Ring, SchemaConfig, Server, StorageConfig, TsdbShipper,
    S3,
};
use crate::typed::store::{backend, store_problems};
use crate::typed::workload::{
    config_hash, config_map, config_map_volume, empty_dir, http_probe, identity_problem, mount,
    pod_annotations, pod_meta, pod_security, resources, restricted_container, selector, service,
    service_account, service_port, volume_claim,
};
use crate::typed::{check_yaml, to_yaml};

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

/// Problems of the spec this component finds.
pub(crate) fn problems(spec: &ObservabilitySpec) -> Vec<Problem> {
    let Some(logs) = &spec.logs else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    if logs.retention_days < 1 {
        problems.push(Problem::new(
            "logs.retention_days",
            "is 0: keep logs at least 1 day (or turn logs off)",
        ));
    }
    if logs.volume_gib < 1 {
        problems.push(Problem::new(
            "logs.volume_gib",
            "is 0: Loki's write-ahead log and index cache need a volume of at least 1 GiB",
        ));
    }
    problems.extend(store_problems("logs.store", &spec.platform, &logs.store));
    let test_store = matches!(
        &logs.store,
        ObjectStore::S3 {
            endpoint: Some(_),
            ..
        }
    );
    if !(test_store && logs.identity.is_empty()) {
        problems.extend(identity_problem(
            "logs.identity",
            &spec.platform,
            &logs.identity,
        ));
    }
    problems
}

/// The objects of this component.
pub(crate) fn objects(spec: &ObservabilitySpec) -> Result<Vec<Manifest>, RenderError> {
    let Some(logs) = &spec.logs else {
        return Ok(Vec::new());
    };
    let text = to_yaml(CONFIG_FILE, &config(logs))?;
    // The text must read back into the model: a key the model does not know (or
    // spells differently) is a bug here, caught before anything is applied.
    check_yaml::<LokiConfig>(&text).map_err(|why| RenderError::Invalid {
        problems: vec![Problem::new("logs", format!("internal: loki.yaml: {why}"))],
    })?;
    let hash = config_hash(&[&text]);
    let component = Component::Loki;
    let name = LOKI_SERVICE;
    let mut objects = vec![
        // Loki never calls the Kubernetes API: no token. It reaches the bucket
        // through its cloud identity (IRSA's own projected token, or GKE's
        // metadata server).
        Manifest::from_object(&service_account(
            spec,
            component,
            name,
            Some(logs.identity.as_str()).filter(|i| !i.is_empty()),
            false,
        ))?,
        Manifest::from_object(&config_map(
            spec,
            component,
            CONFIG_MAP,
            BTreeMap::from([(CONFIG_FILE.to_string(), text)]),
        ))?,
    ];
    let ports = || {
        vec![
            service_port("http", LOKI_PORT, "http"),
            service_port("grpc", GRPC_PORT, "grpc"),
        ]
    };
    objects.push(Manifest::from_object(&service(
        spec,
        component,
        name,
        ports(),
        false,
    ))?);
    objects.push(Manifest::from_object(&service(
        spec,
        component,
        HEADLESS_SERVICE,
        ports(),
        true,
    ))?);
    objects.push(Manifest::from_object(&stateful_set(spec, logs, &hash))?);
    Ok(objects)
}

fn stateful_set(spec: &ObservabilitySpec, logs: &LogsSpec, hash: &str) -> StatefulSet {
    let component = Component::Loki;
    let container = Container {
        name: "loki".to_string(),
        image: Some(IMAGE.to_string()),
        image_pull_policy: Some("IfNotPresent".to_string()),
        args: Some(vec![
            format!("-config.file={CONFIG_DIR}/{CONFIG_FILE}"),
            "-target=all".to_string(),
        ]),
        ports: Some(vec![
            ContainerPort {
                name: Some("http".to_string()),
                container_port: i32::from(LOKI_PORT),
                protocol: Some("TCP".to_string()),
                ..ContainerPort::default()
            },
            ContainerPort {
                name: Some("grpc".to_string()),
                container_port: i32::from(GRPC_PORT),
                protocol: Some("TCP".to_string()),
                ..ContainerPort::default()
            },
        ]),
        readiness_probe: Some(http_probe("/ready", "http", 15)),
        // Replaying a long write-ahead log keeps /ready failing for a while.
        liveness_probe: Some(http_probe("/ready", "http", 300)),
        resources: Some(resources("250m", "512Mi", "2Gi")),
        security_context: Some(restricted_container(UID)),
        volume_mounts: Some(vec![
            mount("config", CONFIG_DIR, true),
            mount("data", DATA_DIR, false),
            mount("tmp", "/tmp", false),
        ]),
        ..Container::default()
    };
    StatefulSet {
        metadata: object_meta(spec, component, LOKI_SERVICE, true),
        spec: Some(StatefulSetSpec {
            replicas: Some(1),
            service_name: Some(HEADLESS_SERVICE.to_string()),
            pod_management_policy: Some("Parallel".to_string()),
            selector: selector(component),
            template: PodTemplateSpec {
                metadata: Some(pod_meta(
                    spec,
                    component,
                    pod_annotations(LOKI_PORT, "/metrics", hash),
                )),
                spec: Some(PodSpec {
                    service_account_name: Some(LOKI_SERVICE.to_string()),
                    security_context: Some(pod_security(UID, UID)),
                    termination_grace_period_seconds: Some(60),
                    containers: vec![container],
                    volumes: Some(vec![
                        config_map_volume("config", CONFIG_MAP),
                        empty_dir("tmp", "1Gi"),
                    ]),
                    ..PodSpec::default()
                }),
            },
            volume_claim_templates: Some(vec![volume_claim(
                spec,
                component,
                "data",
                logs.volume_gib,
            )]),
            ..StatefulSetSpec::default()
        }),
        ..StatefulSet::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::typed::fixtures;
    use crate::typed::workload::CONFIG_HASH_ANNOTATION;

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
