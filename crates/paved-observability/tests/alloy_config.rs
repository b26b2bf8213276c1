//! Alloy's rendered configuration parses back into the builder's tree, uses only
//! known components, arguments, blocks and exports, and is what the ConfigMap holds.

#[allow(dead_code)]
use crate::grafana_fixture as fixture;

use paved_observability::configs::alloy_config;
use paved_observability::render;
use paved_observability::typed::alloy::{check, parse, COMPONENTS};

#[test]
fn rendered_config_parses_and_checks() {
    let spec = fixture::production();
    let text = alloy_config(&spec).expect("logs and traces on");
    let config = parse(&text).expect("parses");
    assert_eq!(check(&config), Vec::<String>::new());
    // Every component block is in the table.
    for block in config.blocks.iter().filter(|b| b.label.is_some()) {
        assert!(
            COMPONENTS.iter().any(|c| c.name == block.name),
            "{}",
            block.name
        );
    }
    let rendered = render(&spec).expect("renders");
    assert_eq!(
        fixture::config_map_file(&rendered, "alloy-config", "config.alloy"),
        text
    );
}

#[test]
fn pipelines_point_at_loki_and_tempo() {
    let text = alloy_config(&fixture::production()).expect("on");
    assert!(text.contains("\"http://loki.observability.svc:3100/loki/api/v1/push\""));
    assert!(text.contains("endpoint = \"tempo.observability.svc:4317\""));
    assert!(text.contains("endpoint = \"0.0.0.0:4317\""));
    assert!(text.contains("endpoint = \"0.0.0.0:4318\""));
    assert!(text.contains("env(\"NODE_NAME\")"));
    assert!(text.contains("/var/log/pods/*$1/*.log"));
}

#[test]
fn a_misspelt_component_or_argument_is_refused() {
    let text = alloy_config(&fixture::production()).expect("on");
    for (from, to) in [
        ("loki.write \"default\"", "loki.writer \"default\""),
        ("forward_to =", "forwardto ="),
        ("stage.cri", "stage.cry"),
        (
            "loki.write.default.receiver",
            "loki.write.default.receivers",
        ),
    ] {
        assert!(text.contains(from), "{from}");
        let config = parse(&text.replacen(from, to, 1)).expect("still parses");
        assert!(!check(&config).is_empty(), "{to} was accepted");
    }
}

#[test]
fn the_agent_runs_on_every_node_and_reads_the_host_logs() {
    let rendered = render(&fixture::production()).expect("renders");
    let ds = fixture::object(&rendered, "DaemonSet", "alloy");
    let pod = &ds.body["spec"]["template"]["spec"];
    assert_eq!(pod["tolerations"][0]["operator"], "Exists");
    assert!(pod["tolerations"][0].get("key").is_none());
    let service = fixture::object(&rendered, "Service", "alloy");
    assert_eq!(service.body["spec"]["ports"][0]["port"], 4317);
    assert_eq!(service.body["spec"]["ports"][1]["port"], 4318);
}
