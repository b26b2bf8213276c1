//! Loki's rendered configuration reads back into the typed model, which rejects
//! unknown keys, and is the file the ConfigMap carries.

#[allow(dead_code)]
use crate::grafana_fixture as fixture;

use paved_observability::configs::loki_config;
use paved_observability::typed::check_yaml;
use paved_observability::typed::loki::LokiConfig;
use paved_observability::{render, ObjectStore};

#[test]
fn rendered_config_reads_back_into_the_typed_model() {
    for spec in [fixture::production(), fixture::gke()] {
        let text = loki_config(&spec).expect("renders").expect("logs on");
        let config: LokiConfig = check_yaml(&text).expect("every key is known");
        assert_eq!(config.limits_config.retention_period, "720h");
        assert!(config.compactor.retention_enabled);
        assert_eq!(config.schema_config.configs[0].schema, "v13");
        let rendered = render(&spec).expect("renders");
        assert_eq!(
            fixture::config_map_file(&rendered, "loki-config", "loki.yaml"),
            text
        );
    }
}

#[test]
fn a_misspelt_key_is_refused() {
    let text = loki_config(&fixture::production())
        .expect("renders")
        .expect("logs on");
    for (from, to) in [
        ("retention_period:", "retention_periods:"),
        ("bucketnames:", "bucket_names:"),
        ("delete_request_store:", "delete_requests_store:"),
        ("tsdb_shipper:", "tsdb_shippers:"),
        // A key the model does not know, in a block that has others.
        (
            "      bucketnames:",
            "      s3_force_path_style: true\n      bucketnames:",
        ),
    ] {
        assert!(text.contains(from), "{from}");
        assert!(
            check_yaml::<LokiConfig>(&text.replacen(from, to, 1)).is_err(),
            "{to} was accepted"
        );
    }
    // The insertion above is well-formed YAML: only the key is wrong.
    let inserted = text.replacen(
        "      bucketnames:",
        "      insecure: true\n      bucketnames:",
        1,
    );
    assert!(check_yaml::<LokiConfig>(&inserted).is_ok());
}

#[test]
fn retention_is_days_in_hours() {
    let mut spec = fixture::production();
    if let Some(logs) = spec.logs.as_mut() {
        logs.retention_days = 1;
    }
    let text = loki_config(&spec).expect("renders").expect("on");
    let config: LokiConfig = check_yaml(&text).expect("typed");
    assert_eq!(config.limits_config.retention_period, "24h");
}

#[test]
fn logs_off_renders_no_loki() {
    let mut spec = fixture::production();
    spec.logs = None;
    assert_eq!(loki_config(&spec).expect("renders"), None);
    let rendered = render(&spec).expect("renders");
    assert!(!rendered.objects.iter().any(|m| m.name.starts_with("loki")));
}

#[test]
fn bad_settings_are_problems_at_their_paths() {
    let mut spec = fixture::production();
    if let Some(logs) = spec.logs.as_mut() {
        logs.retention_days = 0;
        logs.store = ObjectStore::S3 {
            bucket: "x".into(),
            region: "eu-west-1".into(),
            endpoint: None,
        };
    }
    let paths: Vec<String> = paved_observability::validate(&spec)
        .into_iter()
        .map(|p| p.path)
        .collect();
    assert!(
        paths.contains(&"logs.retention_days".to_string()),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"logs.store.bucket".to_string()),
        "{paths:?}"
    );
}
