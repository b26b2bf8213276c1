//! Tempo, single binary: one StatefulSet pod receiving OTLP from Alloy, its
//! write-ahead log on a local volume, blocks in the object store, retention applied
//! by the compactor. The metrics generator stays off (it runs only with a storage
//! path, which is not set). Rendered when traces are on.

use paved_manifests::{Manifest, Problem, RenderError};

use crate::endpoints::{OTLP_GRPC_PORT, OTLP_HTTP_PORT, TEMPO_PORT, TEMPO_SERVICE};
use crate::labels::Component;
use crate::loki::hours;
use crate::single_binary::SingleBinary;
use crate::spec::{ObjectStore, ObservabilitySpec, TracesSpec};
use crate::typed::store::{backend, bucket, endpoint_host};
use crate::typed::tempo::{
    Compaction, Compactor, Distributor, Endpoint, Gcs, Ingester, Otlp, OtlpProtocols, Receivers,
    Server, Storage, TempoConfig, TraceStorage, UsageReport, Wal, S3,
};
use crate::typed::to_yaml;

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

/// Tempo as a [`SingleBinary`].
fn single_binary(traces: &TracesSpec) -> SingleBinary<'_> {
    SingleBinary {
        component: Component::Tempo,
        spec_path: "traces",
        name: TEMPO_SERVICE,
        headless_service: HEADLESS_SERVICE,
        image: IMAGE,
        config_map: CONFIG_MAP,
        config_file: CONFIG_FILE,
        config_dir: CONFIG_DIR,
        data_dir: DATA_DIR,
        uid: UID,
        ports: &[
            ("http", TEMPO_PORT),
            ("grpc", GRPC_PORT),
            ("otlp-grpc", OTLP_GRPC_PORT),
            ("otlp-http", OTLP_HTTP_PORT),
        ],
        volume_needed_by: "Tempo's write-ahead log needs",
        retention_days: traces.retention_days,
        volume_gib: traces.volume_gib,
        store: &traces.store,
        identity: &traces.identity,
    }
}

/// Problems of the spec this component finds: those of any single binary, and
/// a bucket shared with the logs.
pub(crate) fn problems(spec: &ObservabilitySpec) -> Vec<Problem> {
    let Some(traces) = &spec.traces else {
        return Vec::new();
    };
    let mut shared_bucket = Vec::new();
    if let Some(logs) = &spec.logs {
        if bucket(&logs.store) == bucket(&traces.store)
            && backend(&logs.store) == backend(&traces.store)
        {
            shared_bucket.push(Problem::new(
                "traces.store.bucket",
                format!(
                    "{:?} is the logs' bucket too: Tempo takes every top-level folder of its \
                     bucket for a tenant and would trip over Loki's; give traces their own bucket",
                    bucket(&traces.store)
                ),
            ));
        }
    }
    single_binary(traces).problems(spec, shared_bucket)
}

/// The objects of this component.
pub(crate) fn objects(spec: &ObservabilitySpec) -> Result<Vec<Manifest>, RenderError> {
    let Some(traces) = &spec.traces else {
        return Ok(Vec::new());
    };
    single_binary(traces).objects(spec, &config(traces))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::stack as fixtures;
    use crate::typed::check_yaml;

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
