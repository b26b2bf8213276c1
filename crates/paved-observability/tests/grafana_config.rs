//! Grafana's provisioning files and our dashboards read back into the typed
//! models (which reject unknown keys), every panel queries a provisioned
//! datasource, and every PromQL query parses.

#[allow(dead_code)]
use crate::grafana_fixture as fixture;

use std::collections::BTreeSet;

use paved_observability::configs::datasources_yaml;
use paved_observability::typed::check_yaml;
use paved_observability::typed::grafana::{Dashboard, DatasourcesFile, ProvidersFile};
use paved_observability::{check_promql, render, Mode, ObservabilitySpec};

fn specs() -> Vec<ObservabilitySpec> {
    let mut managed = fixture::production();
    managed.mode = Mode::Managed(paved_observability::ManagedSpec {
        remote_write_url:
            "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write"
                .into(),
        query_url: "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1".into(),
        identity: "arn:aws:iam::123456789012:role/shop-prometheus".into(),
    });
    managed.custom_metrics_adapter = false;
    let mut bare = fixture::production();
    bare.logs = None;
    bare.traces = None;
    vec![fixture::production(), fixture::gke(), managed, bare]
}

/// Grafana's variables, replaced by what they stand for so the parser sees PromQL.
fn expand(expr: &str) -> String {
    expr.replace("$__rate_interval", "5m")
        .replace("$namespace", ".+")
        .replace("$pod", ".+")
        .replace("$node", ".+")
        .replace("$hpa", ".+")
}

#[test]
fn datasources_read_back_and_link_to_provisioned_uids() {
    for spec in specs() {
        let text = datasources_yaml(&spec).expect("renders");
        let file: DatasourcesFile = check_yaml(&text).expect("every key is known");
        let uids: BTreeSet<&str> = file.datasources.iter().map(|d| d.uid.as_str()).collect();
        for d in &file.datasources {
            let j = &d.json_data;
            let links: Vec<&str> = j
                .exemplar_trace_id_destinations
                .iter()
                .map(|e| e.datasource_uid.as_str())
                .chain(j.derived_fields.iter().map(|f| f.datasource_uid.as_str()))
                .chain(
                    j.traces_to_logs_v2
                        .iter()
                        .map(|t| t.datasource_uid.as_str()),
                )
                .chain(j.service_map.iter().map(|l| l.datasource_uid.as_str()))
                .chain(j.loki_search.iter().map(|l| l.datasource_uid.as_str()))
                .collect();
            for link in links {
                assert!(uids.contains(link), "{} links to missing {link}", d.uid);
            }
        }
        let rendered = render(&spec).expect("renders");
        assert_eq!(
            fixture::config_map_file(&rendered, "grafana-datasources", "datasources.yaml"),
            text
        );
    }
}

#[test]
fn a_misspelt_datasource_key_is_refused() {
    let text = datasources_yaml(&fixture::production()).expect("renders");
    for (from, to) in [
        ("tracesToLogsV2:", "tracesToLogs2:"),
        (
            "exemplarTraceIdDestinations:",
            "exemplarTraceIDDestinations:",
        ),
        ("filterByTraceID:", "filterByTraceId:"),
        ("derivedFields:", "derivedField:"),
        ("isDefault:", "default:"),
    ] {
        assert!(text.contains(from), "{from}");
        assert!(
            check_yaml::<DatasourcesFile>(&text.replacen(from, to, 1)).is_err(),
            "{to} was accepted"
        );
    }
}

#[test]
fn providers_and_dashboards_read_back() {
    for spec in specs() {
        let rendered = render(&spec).expect("renders");
        let providers =
            fixture::config_map_file(&rendered, "grafana-dashboards-provider", "dashboards.yaml");
        let providers: ProvidersFile = check_yaml(&providers).expect("every key is known");
        assert_eq!(providers.providers.len(), 2, "ours and the user's");
        let datasources: DatasourcesFile =
            check_yaml(&datasources_yaml(&spec).expect("renders")).expect("typed");
        let uids: BTreeSet<String> = datasources.datasources.into_iter().map(|d| d.uid).collect();
        let map = fixture::object(&rendered, "ConfigMap", "grafana-dashboards");
        let files = map.body["data"].as_object().expect("data");
        assert_eq!(files.len(), 5);
        for (file, text) in files {
            let text = text.as_str().expect("text");
            let dashboard: Dashboard =
                serde_json::from_str(text).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert!(dashboard.uid.starts_with("paved-"));
            assert!(dashboard.title.ends_with("(shop)"));
            for variable in &dashboard.templating.list {
                let inner = variable
                    .query
                    .strip_prefix("label_values(")
                    .and_then(|q| q.rsplit_once(','))
                    .map(|(selector, _)| selector)
                    .expect("label_values(selector, label)");
                check_promql(&expand(inner)).unwrap_or_else(|e| panic!("{file}: {e}"));
            }
            for panel in &dashboard.panels {
                for target in &panel.targets {
                    assert!(
                        uids.contains(&target.datasource.uid),
                        "{file}: {}",
                        panel.title
                    );
                    if target.datasource.uid == "prometheus" {
                        check_promql(&expand(&target.expr))
                            .unwrap_or_else(|e| panic!("{file} / {}: {e}", panel.title));
                    }
                }
            }
        }
    }
}

#[test]
fn dashboards_cover_the_asked_views() {
    let rendered = render(&fixture::production()).expect("renders");
    let map = fixture::object(&rendered, "ConfigMap", "grafana-dashboards");
    let all = map.body["data"].to_string();
    for metric in [
        "kube_node_info",
        "node_cpu_seconds_total",
        "container_memory_working_set_bytes",
        "kube_pod_container_status_restarts_total",
        "kube_horizontalpodautoscaler_status_current_replicas",
        "kube_horizontalpodautoscaler_status_desired_replicas",
        "kube_horizontalpodautoscaler_spec_max_replicas",
        "prometheus_tsdb_head_series",
        "prometheus_tsdb_wal_fsync_duration_seconds",
        "alertmanager_notifications_total",
        "loki_distributor_bytes_received_total",
        "tempo_distributor_spans_received_total",
    ] {
        assert!(all.contains(metric), "{metric}");
    }
}

#[test]
fn user_dashboards_are_mounted_and_bad_ones_refused() {
    let rendered = render(&fixture::production()).expect("renders");
    let user = fixture::config_map_file(&rendered, "grafana-dashboards-user-0", "team-a.json");
    assert!(user.contains("Team A"));
    let mut spec = fixture::production();
    spec.grafana
        .dashboards
        .insert("broken".into(), "{\"panels\": [".into());
    let problems = paved_observability::validate(&spec);
    assert!(problems
        .iter()
        .any(|p| p.path == "grafana.dashboards[\"broken\"]"));
}
