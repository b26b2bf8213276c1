//! Tempo's rendered configuration reads back into the typed model, which rejects
//! unknown keys, and is the file the ConfigMap carries.

#[allow(dead_code)]
use crate::grafana_fixture as fixture;

use paved_observability::configs::tempo_config;
use paved_observability::render;
use paved_observability::typed::check_yaml;
use paved_observability::typed::tempo::TempoConfig;

#[test]
fn rendered_config_reads_back_into_the_typed_model() {
    for spec in [fixture::production(), fixture::gke()] {
        let text = tempo_config(&spec).expect("renders").expect("traces on");
        let config: TempoConfig = check_yaml(&text).expect("every key is known");
        assert_eq!(config.compactor.compaction.block_retention, "336h");
        assert_eq!(
            config.distributor.receivers.otlp.protocols.grpc.endpoint,
            "0.0.0.0:4317"
        );
        let rendered = render(&spec).expect("renders");
        assert_eq!(
            fixture::config_map_file(&rendered, "tempo-config", "tempo.yaml"),
            text
        );
    }
}

#[test]
fn a_misspelt_key_is_refused() {
    let text = tempo_config(&fixture::production())
        .expect("renders")
        .expect("on");
    for (from, to) in [
        ("block_retention:", "retention:"),
        ("forcepathstyle:", "force_path_style:"),
        ("receivers:", "receiver:"),
        ("wal:", "wall:"),
    ] {
        assert!(text.contains(from), "{from}");
        assert!(
            check_yaml::<TempoConfig>(&text.replacen(from, to, 1)).is_err(),
            "{to} was accepted"
        );
    }
}

#[test]
fn service_exposes_query_and_otlp_ports() {
    let rendered = render(&fixture::production()).expect("renders");
    let service = fixture::object(&rendered, "Service", "tempo");
    let ports: Vec<i64> = service.body["spec"]["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .filter_map(|p| p["port"].as_i64())
        .collect();
    for port in [3200, 4317, 4318] {
        assert!(ports.contains(&port), "{port} in {ports:?}");
    }
}
