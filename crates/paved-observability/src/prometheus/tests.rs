use std::collections::BTreeMap;

use super::*;
use crate::fixtures::metrics::{eks, gke, managed, minimal, production};
use paved_manifests::Rendered;

fn config_value(spec: &ObservabilitySpec) -> yaml_serde::Value {
    yaml_serde::from_str(&prometheus_config(spec).unwrap()).unwrap()
}

fn find<'a>(objects: &'a [Manifest], kind: &str, name: &str) -> &'a Manifest {
    objects
        .iter()
        .find(|m| m.kind == kind && m.name == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

#[test]
fn self_hosted_objects() {
    let spec = production(eks());
    let objects = objects(&spec).unwrap();
    let counts = Rendered::new(objects.clone()).count_by_kind();
    assert_eq!(
        counts,
        BTreeMap::from([
            ("ClusterRole".to_string(), 1),
            ("ClusterRoleBinding".to_string(), 1),
            ("ConfigMap".to_string(), 2),
            ("PodDisruptionBudget".to_string(), 1),
            ("Service".to_string(), 2),
            ("ServiceAccount".to_string(), 1),
            ("StatefulSet".to_string(), 1),
        ])
    );
    let role = find(&objects, "ClusterRole", "paved-observability-prometheus");
    let text = role.body.to_string();
    assert!(text.contains("nodes/metrics") && text.contains("endpointslices"));
    assert!(!text.contains("nodes/proxy"));
    let headless = find(&objects, "Service", HEADLESS_SERVICE);
    assert_eq!(headless.body["spec"]["clusterIP"], "None");
    let client = find(&objects, "Service", PROMETHEUS_SERVICE);
    assert_eq!(client.body["spec"]["ports"][0]["port"], 9090);
}

#[test]
fn stateful_set_is_sized_hardened_and_spread() {
    let spec = production(eks());
    let objects = objects(&spec).unwrap();
    let sts = &find(&objects, "StatefulSet", NAME).body["spec"];
    assert_eq!(sts["replicas"], 2);
    assert_eq!(sts["serviceName"], HEADLESS_SERVICE);
    let claim = &sts["volumeClaimTemplates"][0];
    assert_eq!(claim["metadata"]["name"], "data");
    assert_eq!(claim["spec"]["resources"]["requests"]["storage"], "200Gi");
    assert_eq!(claim["spec"]["storageClassName"], "standard-rwo");
    let pod = &sts["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsUser"], 65534);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let spread = &pod["topologySpreadConstraints"][0];
    assert_eq!(spread["topologyKey"], "topology.kubernetes.io/zone");
    assert_eq!(spread["whenUnsatisfiable"], "ScheduleAnyway");
    assert_eq!(
        pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
            ["podAffinityTerm"]["topologyKey"],
        "kubernetes.io/hostname"
    );
    let container = &pod["containers"][0];
    assert_eq!(container["image"], PROMETHEUS_IMAGE);
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/-/ready");
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/-/healthy");
    assert!(container["resources"]["limits"]["memory"].is_string());
    assert_eq!(container["env"][0]["name"], "POD_NAME");
    let args: Vec<&str> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for want in [
        "--storage.tsdb.retention.time=30d",
        "--storage.tsdb.retention.size=174080MB",
        "--web.enable-lifecycle",
        "--enable-feature=expand-external-labels",
        "--config.file=/etc/prometheus/config/prometheus.yml",
    ] {
        assert!(args.contains(&want), "{want} missing from {args:?}");
    }
    // No storage class: the cluster's default.
    let minimal = objects_of(&minimal(gke()));
    let sts = &find(&minimal, "StatefulSet", NAME).body["spec"];
    assert!(sts["volumeClaimTemplates"][0]["spec"]
        .get("storageClassName")
        .is_none());
    assert!(!minimal.iter().any(|m| m.kind == "PodDisruptionBudget"));
}

fn objects_of(spec: &ObservabilitySpec) -> Vec<Manifest> {
    objects(spec).unwrap()
}

#[test]
fn retention_size_is_85_percent_in_base_two() {
    assert_eq!(retention_size_mb(1), 870);
    assert_eq!(retention_size_mb(10), 8704);
    assert_eq!(retention_size_mb(100), 87040);
}

#[test]
fn config_hash_follows_config_and_rules() {
    let spec = production(eks());
    let hash = |spec: &ObservabilitySpec| {
        let objects = objects(spec).unwrap();
        find(&objects, "StatefulSet", NAME).body["spec"]["template"]["metadata"]["annotations"]
            [CONFIG_HASH_ANNOTATION]
            .as_str()
            .unwrap()
            .to_string()
    };
    let base = hash(&spec);
    assert_eq!(base.len(), 64);
    assert_eq!(base, hash(&spec));
    let mut scrape = spec.clone();
    scrape.metrics.scrape_interval_seconds = 15;
    assert_ne!(base, hash(&scrape));
    let mut rules = spec.clone();
    rules.alerting.disabled_rules.insert("NodeClockSkew".into());
    assert_ne!(base, hash(&rules));
}

#[test]
fn self_hosted_config_labels_alerts_and_jobs() {
    let spec = production(eks());
    let config = config_value(&spec);
    let global = &config["global"];
    assert_eq!(global["scrape_interval"], "30s");
    assert_eq!(global["scrape_timeout"], "10s");
    assert_eq!(global["evaluation_interval"], "30s");
    assert_eq!(global["external_labels"]["cluster"], "shop");
    assert_eq!(global["external_labels"]["replica"], "${POD_NAME}");
    assert_eq!(global["external_labels"]["environment"], "production");
    assert_eq!(config["rule_files"][0], "/etc/prometheus/rules/rules.yaml");
    let alerting = &config["alerting"];
    assert_eq!(alerting["alert_relabel_configs"][0]["action"], "labeldrop");
    assert_eq!(alerting["alert_relabel_configs"][0]["regex"], "replica");
    let am = &alerting["alertmanagers"][0];
    assert_eq!(
        am["kubernetes_sd_configs"][0]["namespaces"]["names"][0],
        "observability"
    );
    assert_eq!(am["relabel_configs"][0]["regex"], "alertmanager;http");
    assert!(config.get("remote_write").is_none());
    let jobs: Vec<&str> = config["scrape_configs"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|j| j["job_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        jobs,
        [
            "apiserver",
            "kubelet",
            "cadvisor",
            "kube-state-metrics",
            "node-exporter",
            "prometheus",
            "alertmanager",
            "kubernetes-pods",
            "kubernetes-services"
        ]
    );
    let job = |name: &str| {
        config["scrape_configs"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|j| j["job_name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(job("cadvisor")["metrics_path"], "/metrics/cadvisor");
    assert_eq!(job("kubelet")["scheme"], "https");
    assert_eq!(job("apiserver")["tls_config"]["server_name"], "kubernetes");
    assert_eq!(job("kube-state-metrics")["honor_labels"], true);
    let pods = yaml_serde::to_string(&job("kubernetes-pods")).unwrap();
    for annotation in ["scrape", "path", "port", "scheme"] {
        assert!(
            pods.contains(&format!(
                "__meta_kubernetes_pod_annotation_prometheus_io_{annotation}"
            )),
            "{annotation}"
        );
    }
}

#[test]
fn short_intervals_shorten_the_timeout_and_dollars_are_escaped() {
    let mut spec = minimal(gke());
    spec.metrics.scrape_interval_seconds = 5;
    spec.metrics.external_labels = BTreeMap::from([("team".into(), "a$b".into())]);
    let config = config_value(&spec);
    assert_eq!(config["global"]["scrape_timeout"], "5s");
    assert_eq!(config["global"]["external_labels"]["team"], "a$$b");
}

#[test]
fn managed_mode_is_an_agent_writing_remotely() {
    let spec = managed(eks());
    let config = config_value(&spec);
    assert!(config.get("rule_files").is_none());
    assert!(config.get("alerting").is_none());
    assert!(config["global"].get("evaluation_interval").is_none());
    assert_eq!(config["remote_write"][0]["sigv4"]["region"], "eu-west-1");
    assert!(config["remote_write"][0]["url"]
        .as_str()
        .unwrap()
        .contains("aps-workspaces"));
    assert_eq!(
        config["global"]["external_labels"]["__replica__"],
        "${POD_NAME}"
    );
    let jobs = config["scrape_configs"].as_sequence().unwrap();
    assert!(!jobs.iter().any(|j| j["job_name"] == "alertmanager"));

    let objects = objects(&spec).unwrap();
    assert!(!objects.iter().any(|m| m.name == RULES_CONFIG_MAP));
    let account = find(&objects, "ServiceAccount", NAME);
    assert_eq!(
        account.body["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        "arn:aws:iam::123456789012:role/shop-prometheus"
    );
    let sts = find(&objects, "StatefulSet", NAME);
    let args = sts.body["spec"]["template"]["spec"]["containers"][0]["args"].to_string();
    assert!(args.contains("--enable-feature=agent"));
    assert!(args.contains("--storage.agent.path=/prometheus"));
    assert!(!args.contains("retention"));
    assert!(!args.contains("tsdb"));
    assert!(sts.body["spec"]["volumeClaimTemplates"][0].is_object());
    assert!(!sts.body["spec"]["template"]["spec"]["volumes"]
        .to_string()
        .contains(RULES_CONFIG_MAP));

    let gke_spec = managed(gke());
    let config = config_value(&gke_spec);
    assert!(config["remote_write"][0].get("sigv4").is_none());
    assert_eq!(
        config["global"]["external_labels"]["replica"],
        "${POD_NAME}"
    );
    let gke_objects = objects_of(&gke_spec);
    assert_eq!(
        find(&gke_objects, "ServiceAccount", NAME).body["metadata"]["annotations"]
            ["iam.gke.io/gcp-service-account"],
        "prometheus@shop-prod.iam.gserviceaccount.com"
    );
}

#[test]
fn problems_name_the_fields() {
    assert!(problems(&production(eks())).is_empty());
    assert!(problems(&managed(gke())).is_empty());
    let mut spec = managed(eks());
    spec.cluster_name = String::new();
    spec.metrics.replicas = 0;
    spec.metrics.retention_days = 0;
    spec.metrics.volume_gib = 0;
    spec.metrics.scrape_interval_seconds = 301;
    spec.metrics.external_labels = BTreeMap::from([
        ("cluster".into(), "x".into()),
        ("replica".into(), "x".into()),
        ("bad-name".into(), "x".into()),
        ("__meta".into(), "x".into()),
        ("ok".into(), "x".into()),
    ]);
    if let Mode::Managed(m) = &mut spec.mode {
        m.remote_write_url = "aps-workspaces".into();
        m.identity = " ".into();
    }
    let paths: Vec<String> = problems(&spec).into_iter().map(|p| p.path).collect();
    assert_eq!(
        paths,
        [
            "cluster_name",
            "metrics.replicas",
            "metrics.retention_days",
            "metrics.volume_gib",
            "metrics.scrape_interval_seconds",
            "metrics.external_labels[\"__meta\"]",
            "metrics.external_labels[\"bad-name\"]",
            "metrics.external_labels[\"cluster\"]",
            "metrics.external_labels[\"replica\"]",
            "mode.managed.remote_write_url",
            "mode.managed.identity",
        ]
    );
    let mut spec = production(eks());
    spec.metrics.scrape_interval_seconds = 4;
    assert_eq!(problems(&spec).len(), 1);
    spec.metrics.scrape_interval_seconds = 5;
    assert!(problems(&spec).is_empty());
}
