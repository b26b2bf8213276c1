//! Tempo, single binary: one StatefulSet pod receiving OTLP from Alloy, its
//! write-ahead log on a local volume, blocks in the object store, retention applied
//! by the compactor. The metrics generator stays off (it runs only with a storage
//! path, which is not set). Rendered when traces are on.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::{Container, ContainerPort, PodSpec, PodTemplateSpec};
use paved_manifests::{Manifest, Problem, RenderError};

use crate::endpoints::{OTLP_GRPC_PORT, OTLP_HTTP_PORT, TEMPO_PORT, TEMPO_SERVICE};
use crate::labels::{object_meta, Component};
use crate::loki::hours;
use crate::spec::{ObjectStore, ObservabilitySpec, TracesSpec};
use crate::typed::store::{backend, bucket, endpoint_host, store_problems};
use crate::typed::tempo::{
    Compaction, Compactor, Distributor, Endpoint, Gcs, Ingester, Otlp, OtlpProtocols, Receivers,
    Server, Storage, TempoConfig, TraceStorage, UsageReport, Wal, S3,
};
use crate::typed::workload::{
    config_hash, config_map, config_map_volume, empty_dir, http_probe, identity_problem, mount,
    pod_annotations, pod_meta, pod_security, resources, restricted_container, selector, service,
    service_account, service_port, volume_claim,
};
use crate::typed::{check_yaml, to_yaml};

/// Tempo's image (pinned).
pub const IMAGE: &str = "docker.io/grafana/tempo:2.6.0";
/// The ConfigMap holding `tempo.yaml`.
pub const CONFIG_MAP: &str = "tempo-config";
/// The configuration file's name in the ConfigMap.
pub const CONFIG_FILE: &str = "tempo.yaml";
/// The StatefulSet's governing (headless) Service.
pub const HEADLESS_SERVICE: &str = "tempo-headless";
/// Tempo's gRPC port (internal: querier and ingester).
pub const GRPC_PORT: u16 = 9095;
/// Where the WAL volume is mounted.
pub const DATA_DIR: &str = "/var/tempo";
/// The user the image runs as.
pub const UID: i64 = 10001;

const CONFIG_DIR: &str = "/etc/tempo";

/// Tempo's configuration, typed.
pub(crate) fn config(traces: &TracesSpec) -> TempoConfig {
    let (s3, gcs) = match &traces.store {
        ObjectStore::S3 {
            bucket,
            region,
            endpoint,
        } => {
            // Tempo requires an endpoint even on AWS.
            let (host, insecure) = match endpoint {
                Some(url) => endpoint_host(url),
                None => (format!("s3.{region}.amazonaws.com"), false),
            };
            (
                Some(S3 {
                    bucket: bucket.clone(),
                    endpoint: host,
                    region: region.clone(),
                    forcepathstyle: endpoint.is_some(),
                    insecure,
                }),
                None,
            )
        }
        ObjectStore::Gcs { bucket } => (
            None,
            Some(Gcs {
                bucket_name: bucket.clone(),
            }),
        ),
    };
    TempoConfig {
        target: "all".to_string(),
        stream_over_http_enabled: true,
        server: Server {
            http_listen_port: TEMPO_PORT,
            grpc_listen_port: GRPC_PORT,
            log_level: "info".to_string(),
        },
        distributor: Distributor {
            receivers: Receivers {
                otlp: Otlp {
                    protocols: OtlpProtocols {
                        // Explicit: newer receivers default to localhost only.
                        grpc: Endpoint {
                            endpoint: format!("0.0.0.0:{OTLP_GRPC_PORT}"),
                        },
                        http: Endpoint {
                            endpoint: format!("0.0.0.0:{OTLP_HTTP_PORT}"),
                        },
                    },
                },
            },
        },
        ingester: Ingester {
            max_block_duration: "5m".to_string(),
            trace_idle_period: "10s".to_string(),
        },
        compactor: Compactor {
            compaction: Compaction {
                block_retention: hours(traces.retention_days),
            },
        },
        storage: Storage {
            trace: TraceStorage {
                backend: backend(&traces.store).to_string(),
                wal: Wal {
                    path: format!("{DATA_DIR}/wal"),
                },
                s3,
                gcs,
            },
        },
        usage_report: UsageReport {
            reporting_enabled: false,
        },
    }
}

/// Tempo's configuration file, `None` when traces are off.
pub fn tempo_config(spec: &ObservabilitySpec) -> Result<Option<String>, RenderError> {
    spec.traces
        .as_ref()
        .map(|traces| to_yaml(CONFIG_FILE, &config(traces)))
        .transpose()
}

/// Problems of the spec this component finds.
pub(crate) fn problems(spec: &ObservabilitySpec) -> Vec<Problem> {
    let Some(traces) = &spec.traces else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    if traces.retention_days < 1 {
        problems.push(Problem::new(
            "traces.retention_days",
            "is 0: keep traces at least 1 day (or turn traces off)",
        ));
    }
    if traces.volume_gib < 1 {
        problems.push(Problem::new(
            "traces.volume_gib",
            "is 0: Tempo's write-ahead log needs a volume of at least 1 GiB",
        ));
    }
    problems.extend(store_problems(
        "traces.store",
        &spec.platform,
        &traces.store,
    ));
    if let Some(logs) = &spec.logs {
        if bucket(&logs.store) == bucket(&traces.store)
            && backend(&logs.store) == backend(&traces.store)
        {
            problems.push(Problem::new(
                "traces.store.bucket",
                format!(
                    "{:?} is the logs' bucket too: Tempo takes every top-level folder of its \
                     bucket for a tenant and would trip over Loki's; give traces their own bucket",
                    bucket(&traces.store)
                ),
            ));
        }
    }
    let test_store = matches!(
        &traces.store,
        ObjectStore::S3 {
            endpoint: Some(_),
            ..
        }
    );
    if !(test_store && traces.identity.is_empty()) {
        problems.extend(identity_problem(
            "traces.identity",
            &spec.platform,
            &traces.identity,
        ));
    }
    problems
}

/// The objects of this component.
pub(crate) fn objects(spec: &ObservabilitySpec) -> Result<Vec<Manifest>, RenderError> {
    let Some(traces) = &spec.traces else {
        return Ok(Vec::new());
    };
    let text = to_yaml(CONFIG_FILE, &config(traces))?;
    check_yaml::<TempoConfig>(&text).map_err(|why| RenderError::Invalid {
        problems: vec![Problem::new(
            "traces",
            format!("internal: tempo.yaml: {why}"),
        )],
    })?;
    let hash = config_hash(&[&text]);
    let component = Component::Tempo;
    let ports = || {
        vec![
            service_port("http", TEMPO_PORT, "http"),
            service_port("grpc", GRPC_PORT, "grpc"),
            service_port("otlp-grpc", OTLP_GRPC_PORT, "otlp-grpc"),
            service_port("otlp-http", OTLP_HTTP_PORT, "otlp-http"),
        ]
    };
    Ok(vec![
        // No Kubernetes API calls, so no token; the bucket is reached through the
        // cloud identity.
        Manifest::from_object(&service_account(
            spec,
            component,
            TEMPO_SERVICE,
            Some(traces.identity.as_str()).filter(|i| !i.is_empty()),
            false,
        ))?,
        Manifest::from_object(&config_map(
            spec,
            component,
            CONFIG_MAP,
            BTreeMap::from([(CONFIG_FILE.to_string(), text)]),
        ))?,
        Manifest::from_object(&service(spec, component, TEMPO_SERVICE, ports(), false))?,
        Manifest::from_object(&service(spec, component, HEADLESS_SERVICE, ports(), true))?,
        Manifest::from_object(&stateful_set(spec, traces, &hash))?,
    ])
}

fn port(name: &str, port: u16) -> ContainerPort {
    ContainerPort {
        name: Some(name.to_string()),
        container_port: i32::from(port),
        protocol: Some("TCP".to_string()),
        ..ContainerPort::default()
    }
}

fn stateful_set(spec: &ObservabilitySpec, traces: &TracesSpec, hash: &str) -> StatefulSet {
    let component = Component::Tempo;
    let container = Container {
        name: "tempo".to_string(),
        image: Some(IMAGE.to_string()),
        image_pull_policy: Some("IfNotPresent".to_string()),
        args: Some(vec![
            format!("-config.file={CONFIG_DIR}/{CONFIG_FILE}"),
            "-target=all".to_string(),
        ]),
        ports: Some(vec![
            port("http", TEMPO_PORT),
            port("grpc", GRPC_PORT),
            port("otlp-grpc", OTLP_GRPC_PORT),
            port("otlp-http", OTLP_HTTP_PORT),
        ]),
        readiness_probe: Some(http_probe("/ready", "http", 15)),
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
        metadata: object_meta(spec, component, TEMPO_SERVICE, true),
        spec: Some(StatefulSetSpec {
            replicas: Some(1),
            service_name: Some(HEADLESS_SERVICE.to_string()),
            pod_management_policy: Some("Parallel".to_string()),
            selector: selector(component),
            template: PodTemplateSpec {
                metadata: Some(pod_meta(
                    spec,
                    component,
                    pod_annotations(TEMPO_PORT, "/metrics", hash),
                )),
                spec: Some(PodSpec {
                    service_account_name: Some(TEMPO_SERVICE.to_string()),
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
                traces.volume_gib,
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

    #[test]
    fn nothing_when_traces_are_off() {
        let spec = fixtures::minimal();
        assert!(objects(&spec).expect("renders").is_empty());
        assert_eq!(tempo_config(&spec).expect("renders"), None);
        assert!(problems(&spec).is_empty());
    }

    #[test]
    fn objects_of_a_production_stack() {
        let objects = objects(&fixtures::production()).expect("renders");
        let names: Vec<(&str, &str)> = objects
            .iter()
            .map(|m| (m.kind.as_str(), m.name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("ServiceAccount", "tempo"),
                ("ConfigMap", "tempo-config"),
                ("Service", "tempo"),
                ("Service", "tempo-headless"),
                ("StatefulSet", "tempo"),
            ]
        );
        let ports: Vec<i64> = objects[2].body["spec"]["ports"]
            .as_array()
            .expect("ports")
            .iter()
            .filter_map(|p| p["port"].as_i64())
            .collect();
        assert_eq!(ports, [3200, 9095, 4317, 4318]);
        let sts = &objects[4].body["spec"];
        assert_eq!(sts["replicas"], 1);
        assert_eq!(
            sts["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
            "10Gi"
        );
        assert_eq!(sts["template"]["spec"]["containers"][0]["image"], IMAGE);
        assert_eq!(
            objects[0].body["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
            "arn:aws:iam::123456789012:role/shop-tempo"
        );
    }

    #[test]
    fn config_values() {
        let text = tempo_config(&fixtures::production())
            .expect("renders")
            .expect("on");
        let parsed: TempoConfig = check_yaml(&text).expect("typed");
        assert_eq!(parsed.compactor.compaction.block_retention, "336h");
        assert_eq!(
            parsed.distributor.receivers.otlp.protocols.grpc.endpoint,
            "0.0.0.0:4317"
        );
        assert_eq!(
            parsed.distributor.receivers.otlp.protocols.http.endpoint,
            "0.0.0.0:4318"
        );
        assert_eq!(parsed.storage.trace.backend, "s3");
        assert_eq!(parsed.storage.trace.wal.path, "/var/tempo/wal");
        let s3 = parsed.storage.trace.s3.expect("s3");
        assert_eq!(s3.bucket, "shop-traces");
        assert_eq!(s3.endpoint, "s3.eu-west-1.amazonaws.com");
        assert!(!s3.forcepathstyle && !s3.insecure);

        let gke = tempo_config(&fixtures::gke())
            .expect("renders")
            .expect("on");
        let parsed: TempoConfig = check_yaml(&gke).expect("typed");
        assert_eq!(parsed.storage.trace.backend, "gcs");
        assert_eq!(
            parsed.storage.trace.gcs.map(|g| g.bucket_name).as_deref(),
            Some("shop-traces")
        );
        let sa = &objects(&fixtures::gke()).expect("renders")[0].body;
        assert_eq!(
            sa["metadata"]["annotations"]["iam.gke.io/gcp-service-account"],
            "tempo@shop-prod.iam.gserviceaccount.com"
        );
    }

    #[test]
    fn problems_name_the_fields() {
        let mut spec = fixtures::gke();
        if let Some(traces) = spec.traces.as_mut() {
            traces.retention_days = 0;
            traces.volume_gib = 0;
            traces.store = ObjectStore::Gcs {
                bucket: "shop-logs".into(),
            };
            traces.identity = "arn:aws:iam::1:role/x".into();
        }
        let paths: Vec<String> = problems(&spec).into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            [
                "traces.retention_days",
                "traces.volume_gib",
                "traces.store.bucket",
                "traces.identity"
            ]
        );
    }
}
