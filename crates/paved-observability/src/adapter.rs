//! The custom-metrics adapter (prometheus-adapter) serving
//! `custom.metrics.k8s.io` from the in-cluster Prometheus, so HorizontalPodAutoscalers
//! can scale on request rates and queue depths. Pod CPU and memory stay
//! metrics-server's (`metrics.k8s.io`): no resource rules are served here.
//!
//! The adapter is an aggregated API server: the API server authenticates to it
//! (hence `system:auth-delegator` and the `extension-apiserver-authentication-reader`
//! binding in `kube-system`) and reaches it through the `APIService`s. It serves a
//! self-signed certificate, so the APIServices skip TLS verification.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec, Probe};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::{
    APIService, APIServiceSpec, ServiceReference,
};
use paved_manifests::{Manifest, Problem, RenderError};

use crate::endpoints::endpoints;
use crate::labels::{object_meta, skip_checks, Component};
use crate::spec::{Mode, ObservabilitySpec};
use crate::typed::adapter::{AdapterConfig, Naming, ResourceRef, Resources, Rule};
use crate::typed::{check_yaml, to_yaml};
use crate::workload::{cluster_scoped_name, container_port, delayed_probe, gomaxprocs_env};
use crate::workload::{
    config_map, config_map_volume, empty_dir, mount, parts_hash, pod_meta, pod_security, resources,
    restricted_container, selector, service, service_account, service_port, CONFIG_HASH_ANNOTATION,
};

/// The adapter's image (pinned).
pub const IMAGE: &str = "registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.12.0";
/// The name of its ServiceAccount, ConfigMap prefix, Deployment and Service.
pub const NAME: &str = "prometheus-adapter";
/// The ConfigMap of its rules.
pub const CONFIG_MAP: &str = "prometheus-adapter-config";
/// The rules file's name.
pub const CONFIG_FILE: &str = "config.yaml";
/// The port it serves the API on (TLS).
pub const SECURE_PORT: u16 = 6443;
/// The Service's port the APIServices point at.
pub const SERVICE_PORT: u16 = 443;
/// The API group served.
pub const GROUP: &str = "custom.metrics.k8s.io";
/// The versions served (HorizontalPodAutoscalers prefer the newest).
pub const VERSIONS: [&str; 2] = ["v1beta1", "v1beta2"];
/// Replicas: two, so the aggregated API (which kubectl and namespace deletion
/// discover) stays available through a node drain.
pub const REPLICAS: i32 = 2;
/// The user the adapter runs as.
pub const UID: i64 = 10001;

const CONFIG_DIR: &str = "/etc/adapter";

/// The adapter's rules, typed. Each metric is served for pods and namespaces;
/// the rate window is at least four scrapes.
pub(crate) fn config(spec: &ObservabilitySpec) -> AdapterConfig {
    let window = (spec.metrics.scrape_interval_seconds.saturating_mul(4)).max(120);
    let resources = || Resources {
        overrides: BTreeMap::from([
            (
                "namespace".to_string(),
                ResourceRef {
                    resource: "namespace".to_string(),
                },
            ),
            (
                "pod".to_string(),
                ResourceRef {
                    resource: "pod".to_string(),
                },
            ),
        ]),
    };
    let rate = format!("sum(rate(<<.Series>>{{<<.LabelMatchers>>}}[{window}s])) by (<<.GroupBy>>)");
    AdapterConfig {
        rules: vec![
            // Prometheus client libraries' request counter: `http_requests_per_second`.
            Rule {
                series_query: r#"http_requests_total{namespace!="",pod!=""}"#.to_string(),
                resources: resources(),
                name: Naming {
                    matches: "^http_requests_total$".to_string(),
                    as_name: "http_requests_per_second".to_string(),
                },
                metrics_query: rate.clone(),
            },
            // OpenTelemetry's HTTP server duration histogram, counted:
            // `http_server_requests_per_second`.
            Rule {
                series_query:
                    r#"http_server_request_duration_seconds_count{namespace!="",pod!=""}"#
                        .to_string(),
                resources: resources(),
                name: Naming {
                    matches: "^http_server_request_duration_seconds_count$".to_string(),
                    as_name: "http_server_requests_per_second".to_string(),
                },
                metrics_query: rate,
            },
            // Work waiting in a queue, as the application reports it: served under
            // its own name, summed over the selected pods.
            Rule {
                series_query: r#"{__name__=~".+_queue_(depth|length|size)",namespace!="",pod!=""}"#
                    .to_string(),
                resources: resources(),
                name: Naming {
                    matches: "^(.+_queue_(depth|length|size))$".to_string(),
                    as_name: "${1}".to_string(),
                },
                metrics_query: "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)".to_string(),
            },
        ],
    }
}

/// Problems of the spec this component finds: the adapter queries the in-cluster
/// Prometheus, which in managed mode is an agent that answers no queries.
pub(crate) fn problems(spec: &ObservabilitySpec) -> Vec<Problem> {
    if spec.custom_metrics_adapter && matches!(spec.mode, Mode::Managed(_)) {
        vec![Problem::new(
            "custom_metrics_adapter",
            "needs self-hosted Prometheus: in managed mode Prometheus runs as an agent that \
             answers no queries, and prometheus-adapter cannot sign requests to the managed \
             service; turn the adapter off or use self-hosted mode",
        )]
    } else {
        Vec::new()
    }
}

/// The objects of this component.
pub(crate) fn objects(spec: &ObservabilitySpec) -> Result<Vec<Manifest>, RenderError> {
    if !spec.custom_metrics_adapter {
        return Ok(Vec::new());
    }
    let problems = problems(spec);
    if !problems.is_empty() {
        return Err(RenderError::Invalid { problems });
    }
    let component = Component::MetricsAdapter;
    let text = to_yaml(CONFIG_FILE, &config(spec))?;
    check_yaml::<AdapterConfig>(&text).map_err(|why| RenderError::Invalid {
        problems: vec![Problem::new(
            "custom_metrics_adapter",
            format!("internal: {CONFIG_FILE}: {why}"),
        )],
    })?;
    let hash = parts_hash(&[&text]);
    let reader = cluster_scoped_name(spec, NAME);
    let delegator = cluster_scoped_name(spec, &format!("{NAME}-auth-delegator"));
    let auth_reader = cluster_scoped_name(spec, &format!("{NAME}-auth-reader"));

    let mut objects = vec![
        // An aggregated API server reviews tokens and reads its authentication
        // configuration through the API: it needs its token.
        Manifest::from_object(&service_account(spec, component, NAME, None, true))?,
        Manifest::from_object(&ClusterRole {
            metadata: object_meta(spec, component, &reader, false),
            rules: Some(vec![PolicyRule {
                api_groups: Some(vec![String::new()]),
                resources: Some(
                    ["namespaces", "pods", "services", "nodes"]
                        .iter()
                        .map(|r| r.to_string())
                        .collect(),
                ),
                verbs: ["get", "list", "watch"]
                    .iter()
                    .map(|v| v.to_string())
                    .collect(),
                ..PolicyRule::default()
            }]),
            ..ClusterRole::default()
        })?,
        Manifest::from_object(&cluster_binding(spec, &reader, &reader))?,
        Manifest::from_object(&cluster_binding(spec, &delegator, "system:auth-delegator"))?,
        Manifest::from_object(&RoleBinding {
            metadata: {
                let mut meta = object_meta(spec, component, &auth_reader, true);
                meta.namespace = Some("kube-system".to_string());
                meta
            },
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".to_string(),
                kind: "Role".to_string(),
                name: "extension-apiserver-authentication-reader".to_string(),
            },
            subjects: Some(vec![subject(spec)]),
        })?,
        Manifest::from_object(&config_map(
            spec,
            component,
            CONFIG_MAP,
            BTreeMap::from([(CONFIG_FILE.to_string(), text)]),
        ))?,
        Manifest::from_object(&service(
            spec,
            component,
            NAME,
            vec![service_port("https", SERVICE_PORT, "TCP")],
            false,
        ))?,
        Manifest::from_object(&deployment(spec, &hash))?,
        Manifest::from_object(&PodDisruptionBudget {
            metadata: object_meta(spec, component, NAME, true),
            spec: Some(PodDisruptionBudgetSpec {
                max_unavailable: Some(IntOrString::Int(1)),
                selector: Some(selector(component)),
                ..PodDisruptionBudgetSpec::default()
            }),
            ..PodDisruptionBudget::default()
        })?,
    ];
    for (version, priority) in VERSIONS.iter().zip([100, 200]) {
        objects.push(Manifest::from_object(&api_service(
            spec, version, priority,
        ))?);
    }
    Ok(objects)
}

fn subject(spec: &ObservabilitySpec) -> Subject {
    Subject {
        kind: "ServiceAccount".to_string(),
        name: NAME.to_string(),
        namespace: Some(spec.namespace.clone()),
        ..Subject::default()
    }
}

fn cluster_binding(spec: &ObservabilitySpec, name: &str, role: &str) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: object_meta(spec, Component::MetricsAdapter, name, false),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".to_string(),
            kind: "ClusterRole".to_string(),
            name: role.to_string(),
        },
        subjects: Some(vec![subject(spec)]),
    }
}

fn api_service(spec: &ObservabilitySpec, version: &str, version_priority: i32) -> APIService {
    APIService {
        metadata: object_meta(
            spec,
            Component::MetricsAdapter,
            &format!("{version}.{GROUP}"),
            false,
        ),
        spec: Some(APIServiceSpec {
            group: Some(GROUP.to_string()),
            version: Some(version.to_string()),
            group_priority_minimum: 100,
            version_priority,
            // The adapter's certificate is self-signed at start.
            insecure_skip_tls_verify: Some(true),
            service: Some(ServiceReference {
                name: Some(NAME.to_string()),
                namespace: Some(spec.namespace.clone()),
                port: Some(i32::from(SERVICE_PORT)),
            }),
            ..APIServiceSpec::default()
        }),
        ..APIService::default()
    }
}

/// The adapter serves only HTTPS: a delayed probe of `/healthz` over TLS.
fn https_probe(initial_delay_seconds: i32) -> Probe {
    let mut probe = delayed_probe("/healthz", "https", initial_delay_seconds);
    if let Some(get) = probe.http_get.as_mut() {
        get.scheme = Some("HTTPS".to_string());
    }
    probe
}

fn deployment(spec: &ObservabilitySpec, hash: &str) -> Deployment {
    let component = Component::MetricsAdapter;
    let container = Container {
        name: NAME.to_string(),
        image: Some(IMAGE.to_string()),
        image_pull_policy: Some("IfNotPresent".to_string()),
        args: Some(vec![
            format!("--secure-port={SECURE_PORT}"),
            "--cert-dir=/tmp/cert".to_string(),
            format!("--prometheus-url={}/", endpoints(spec).prometheus),
            "--metrics-relist-interval=1m".to_string(),
            format!("--config={CONFIG_DIR}/{CONFIG_FILE}"),
            "--v=2".to_string(),
        ]),
        ports: Some(vec![container_port("https", SECURE_PORT, "TCP")]),
        readiness_probe: Some(https_probe(10)),
        liveness_probe: Some(https_probe(30)),
        env: Some(vec![gomaxprocs_env()]),
        resources: Some(resources("100m", "128Mi", "1", "512Mi")),
        security_context: Some(restricted_container(UID)),
        volume_mounts: Some(vec![
            mount("config", CONFIG_DIR, true),
            mount("tmp", "/tmp", false),
        ]),
        ..Container::default()
    };
    Deployment {
        metadata: skip_checks(
            object_meta(spec, component, NAME, true),
            &[(
                "CKV_K8S_38",
                "an aggregated API server: it delegates authentication and authorization to the Kubernetes API",
            )],
        ),
        spec: Some(DeploymentSpec {
            replicas: Some(REPLICAS),
            selector: selector(component),
            template: PodTemplateSpec {
                metadata: Some(pod_meta(
                    spec,
                    component,
                    BTreeMap::from([(CONFIG_HASH_ANNOTATION.to_string(), hash.to_string())]),
                )),
                spec: Some(PodSpec {
                    service_account_name: Some(NAME.to_string()),
                    security_context: Some(pod_security(UID, UID)),
                    containers: vec![container],
                    volumes: Some(vec![
                        config_map_volume("config", CONFIG_MAP),
                        empty_dir("tmp", "64Mi"),
                    ]),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::stack as fixtures;

    #[test]
    fn nothing_when_off() {
        assert!(objects(&fixtures::minimal()).expect("renders").is_empty());
    }

    #[test]
    fn objects_when_on() {
        let objects = objects(&fixtures::production()).expect("renders");
        let names: Vec<(&str, Option<&str>, &str)> = objects
            .iter()
            .map(|m| (m.kind.as_str(), m.namespace.as_deref(), m.name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                (
                    "ServiceAccount",
                    Some("observability"),
                    "prometheus-adapter"
                ),
                (
                    "ClusterRole",
                    None,
                    "paved-observability-prometheus-adapter"
                ),
                (
                    "ClusterRoleBinding",
                    None,
                    "paved-observability-prometheus-adapter"
                ),
                (
                    "ClusterRoleBinding",
                    None,
                    "paved-observability-prometheus-adapter-auth-delegator"
                ),
                (
                    "RoleBinding",
                    Some("kube-system"),
                    "paved-observability-prometheus-adapter-auth-reader"
                ),
                (
                    "ConfigMap",
                    Some("observability"),
                    "prometheus-adapter-config"
                ),
                ("Service", Some("observability"), "prometheus-adapter"),
                ("Deployment", Some("observability"), "prometheus-adapter"),
                (
                    "PodDisruptionBudget",
                    Some("observability"),
                    "prometheus-adapter"
                ),
                ("APIService", None, "v1beta1.custom.metrics.k8s.io"),
                ("APIService", None, "v1beta2.custom.metrics.k8s.io"),
            ]
        );
        assert_eq!(objects[3].body["roleRef"]["name"], "system:auth-delegator");
        assert_eq!(
            objects[4].body["roleRef"]["name"],
            "extension-apiserver-authentication-reader"
        );
        let api = &objects[9];
        assert_eq!(api.api_version, "apiregistration.k8s.io/v1");
        assert_eq!(api.body["spec"]["service"]["name"], "prometheus-adapter");
        assert_eq!(api.body["spec"]["service"]["port"], 443);
        let args = objects[7].body["spec"]["template"]["spec"]["containers"][0]["args"].to_string();
        assert!(args.contains("--prometheus-url=http://prometheus.observability.svc:9090/"));
    }

    #[test]
    fn rules_serve_request_rates_but_no_resource_metrics() {
        let text = to_yaml(CONFIG_FILE, &config(&fixtures::production())).expect("yaml");
        let parsed: AdapterConfig = check_yaml(&text).expect("typed");
        assert!(parsed
            .rules
            .iter()
            .any(|r| r.name.as_name == "http_requests_per_second"
                && r.series_query.starts_with("http_requests_total")));
        assert!(parsed.rules[0].metrics_query.contains("[120s]"));
        assert!(!text.contains("resourceRules"));
        assert!(!text.contains("container_cpu"));
    }

    #[test]
    fn managed_mode_is_a_problem() {
        let mut spec = fixtures::managed();
        spec.custom_metrics_adapter = true;
        assert_eq!(problems(&spec)[0].path, "custom_metrics_adapter");
        assert!(objects(&spec).is_err());
    }
}
