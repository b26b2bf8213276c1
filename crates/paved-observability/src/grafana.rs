//! Grafana: its datasources (Prometheus, Alertmanager, Loki, Tempo, linked to one
//! another: exemplars and log lines to traces, traces to logs and to the service
//! map), our dashboards and the user's, provisioned from ConfigMaps, and the
//! Deployment, Service, Ingress and disruption budget.
//!
//! Grafana keeps its own state (sessions, UI-made changes) in SQLite on an
//! emptyDir: everything that matters is provisioned, so a restarted pod loses
//! nothing of ours, but each replica has its own sessions.

#[path = "dashboards/mod.rs"]
mod dashboards;

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::core::v1::{
    ConfigMapProjection, Container, EnvVar, PodSpec, PodTemplateSpec, ProjectedVolumeSource,
    Secret, SecretVolumeSource, VolumeProjection,
};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, ServiceBackendPort,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::ByteString;
use paved_manifests::{Manifest, Problem, RenderError};

use self::dashboards::{ALERTMANAGER_UID, LOKI_UID, PROMETHEUS_UID, TEMPO_UID, UID_PREFIX};
use crate::endpoints::{
    endpoints, GRAFANA_PORT, GRAFANA_SERVICE, LOKI_PORT, LOKI_SERVICE, TEMPO_PORT, TEMPO_SERVICE,
};
use crate::labels::{object_meta, Component};
use crate::spec::{Mode, ObservabilitySpec, Platform};
use crate::typed::grafana::{
    Datasource, DatasourceLink, DatasourcesFile, DerivedField, Enabled, ExemplarDestination,
    JsonData, Provider, ProviderOptions, ProvidersFile, TagMapping, TracesToLogs,
};
use crate::typed::{check_yaml, to_yaml};
use crate::workload::gomaxprocs_env;
use crate::workload::{
    config_map, config_map_volume, container_port, delayed_probe, dns_subdomain_problem, empty_dir,
    mount, parts_hash, pod_annotations, pod_meta, pod_security, resources, restricted_container,
    selector, service, service_account, service_port,
};

/// Grafana's image (pinned).
pub const IMAGE: &str = "docker.io/grafana/grafana:11.2.0";
/// The user (and group) Grafana runs as: not the image's 472, but a UID above
/// 10000 that no host account has. The image's writable paths are
/// world-writable (it supports arbitrary UIDs) and ours are emptyDirs.
pub const UID: i64 = 10472;
/// The port Grafana listens on.
pub const CONTAINER_PORT: u16 = 3000;
/// The ConfigMap of the datasources provisioning file.
pub const DATASOURCES_CONFIG_MAP: &str = "grafana-datasources";
/// The datasources file's name.
pub const DATASOURCES_FILE: &str = "datasources.yaml";
/// The ConfigMap of the dashboard providers file.
pub const PROVIDER_CONFIG_MAP: &str = "grafana-dashboards-provider";
/// The providers file's name.
pub const PROVIDER_FILE: &str = "dashboards.yaml";
/// The ConfigMap of our dashboards.
pub const DASHBOARDS_CONFIG_MAP: &str = "grafana-dashboards";
/// The ConfigMaps of the user's dashboards: `<prefix>-0`, `<prefix>-1`, ...
pub const USER_DASHBOARDS_PREFIX: &str = "grafana-dashboards-user";
/// Bytes of dashboards per user ConfigMap (a ConfigMap holds at most 1 MiB).
pub const SHARD_BYTES: usize = 512 * 1024;
/// The largest dashboard accepted (it must fit one ConfigMap with its metadata).
pub const MAX_DASHBOARD_BYTES: usize = 900 * 1024;
/// The keys of the admin Secret.
pub const ADMIN_USER_KEY: &str = "admin-user";
/// The admin password's key in the admin Secret.
pub const ADMIN_PASSWORD_KEY: &str = "admin-password";
/// The admin user's name.
pub const ADMIN_USER: &str = "admin";

const PROVISIONING_DIR: &str = "/etc/grafana/provisioning";
const PAVED_DASHBOARDS_DIR: &str = "/etc/grafana/dashboards/paved";
const USER_DASHBOARDS_DIR: &str = "/etc/grafana/dashboards/user";
const DATA_DIR: &str = "/var/lib/grafana";
/// Where the admin Secret is mounted; Grafana reads the admin user and password
/// from its files (`GF_..._FILE`), so they are not in the environment.
const ADMIN_SECRET_DIR: &str = "/etc/grafana/admin";

fn service_url(spec: &ObservabilitySpec, service: &str, port: u16) -> String {
    format!("http://{service}.{}.svc:{port}", spec.namespace)
}

fn datasource(name: &str, kind: &str, uid: &str, url: String, json_data: JsonData) -> Datasource {
    Datasource {
        name: name.to_string(),
        kind: kind.to_string(),
        uid: uid.to_string(),
        access: "proxy".to_string(),
        url,
        is_default: uid == PROMETHEUS_UID,
        editable: false,
        json_data,
    }
}

/// The datasources provisioning file, typed.
pub(crate) fn datasources(spec: &ObservabilitySpec) -> DatasourcesFile {
    let traces = spec.traces.is_some();
    let logs = spec.logs.is_some();
    let mut prometheus_json = JsonData {
        http_method: Some("POST".to_string()),
        time_interval: Some(format!("{}s", spec.metrics.scrape_interval_seconds)),
        ..JsonData::default()
    };
    if traces {
        // Exemplars carry the trace ID under the name their SDK chose.
        prometheus_json.exemplar_trace_id_destinations = ["trace_id", "traceID"]
            .into_iter()
            .map(|name| ExemplarDestination {
                name: name.to_string(),
                datasource_uid: TEMPO_UID.to_string(),
            })
            .collect();
    }
    let prometheus_url = match &spec.mode {
        Mode::SelfHosted => endpoints(spec).prometheus,
        Mode::Managed(managed) => {
            if let Platform::Eks { region, .. } = &spec.platform {
                // Amazon Managed Prometheus takes SigV4-signed requests; the AWS SDK's
                // default chain finds Grafana's IRSA role.
                prometheus_json.sig_v4_auth = Some(true);
                prometheus_json.sig_v4_auth_type = Some("default".to_string());
                prometheus_json.sig_v4_region = Some(region.clone());
            }
            managed.query_url.clone()
        }
    };
    let mut list = vec![datasource(
        "Prometheus",
        "prometheus",
        PROMETHEUS_UID,
        prometheus_url,
        prometheus_json,
    )];
    if let Some(alertmanager) = endpoints(spec).alertmanager {
        list.push(datasource(
            "Alertmanager",
            "alertmanager",
            ALERTMANAGER_UID,
            alertmanager,
            JsonData {
                implementation: Some("prometheus".to_string()),
                handle_grafana_managed_alerts: Some(false),
                ..JsonData::default()
            },
        ));
    }
    if logs {
        let derived_fields = if traces {
            vec![DerivedField {
                name: "TraceID".to_string(),
                // traceID=abc, trace_id=abc, "traceId":"abc", trace_id: abc
                matcher_regex: r#"(?:traceID|trace_id|traceId)"?\s*[=:]\s*"?(\w+)"#.to_string(),
                // `$$` is a literal `$` in provisioning files (which expand `$VAR`).
                url: "$${__value.raw}".to_string(),
                datasource_uid: TEMPO_UID.to_string(),
                url_display_label: "View trace".to_string(),
            }]
        } else {
            Vec::new()
        };
        list.push(datasource(
            "Loki",
            "loki",
            LOKI_UID,
            service_url(spec, LOKI_SERVICE, LOKI_PORT),
            JsonData {
                max_lines: Some(1000),
                derived_fields,
                ..JsonData::default()
            },
        ));
    }
    if traces {
        list.push(datasource(
            "Tempo",
            "tempo",
            TEMPO_UID,
            service_url(spec, TEMPO_SERVICE, TEMPO_PORT),
            JsonData {
                traces_to_logs_v2: logs.then(|| TracesToLogs {
                    datasource_uid: LOKI_UID.to_string(),
                    span_start_time_shift: "-5m".to_string(),
                    span_end_time_shift: "5m".to_string(),
                    // OpenTelemetry resource attributes to the labels Alloy gives
                    // log streams; attributes a span lacks are left out of the query.
                    tags: [
                        ("k8s.namespace.name", "namespace"),
                        ("k8s.pod.name", "pod"),
                        ("service.name", "app"),
                    ]
                    .into_iter()
                    .map(|(key, value)| TagMapping {
                        key: key.to_string(),
                        value: value.to_string(),
                    })
                    .collect(),
                    filter_by_trace_id: true,
                    filter_by_span_id: false,
                    custom_query: false,
                }),
                service_map: Some(DatasourceLink {
                    datasource_uid: PROMETHEUS_UID.to_string(),
                }),
                node_graph: Some(Enabled { enabled: true }),
                loki_search: logs.then(|| DatasourceLink {
                    datasource_uid: LOKI_UID.to_string(),
                }),
                ..JsonData::default()
            },
        ));
    }
    DatasourcesFile {
        api_version: 1,
        datasources: list,
    }
}

/// Grafana's provisioned datasources file.
pub fn datasources_yaml(spec: &ObservabilitySpec) -> Result<String, RenderError> {
    to_yaml(DATASOURCES_FILE, &datasources(spec))
}

/// The dashboard providers file, typed: our folder, and the user's when there
/// are user dashboards.
pub(crate) fn providers(spec: &ObservabilitySpec) -> ProvidersFile {
    let provider = |name: &str, folder: &str, folder_uid: &str, path: &str| Provider {
        name: name.to_string(),
        org_id: 1,
        folder: folder.to_string(),
        folder_uid: folder_uid.to_string(),
        kind: "file".to_string(),
        disable_deletion: true,
        update_interval_seconds: 60,
        allow_ui_updates: false,
        options: ProviderOptions {
            path: path.to_string(),
            folders_from_files_structure: false,
        },
    };
    let mut providers = vec![provider("paved", "paved", "paved", PAVED_DASHBOARDS_DIR)];
    if !spec.grafana.dashboards.is_empty() {
        providers.push(provider(
            "user",
            "Dashboards",
            "paved-user",
            USER_DASHBOARDS_DIR,
        ));
    }
    ProvidersFile {
        api_version: 1,
        providers,
    }
}

/// Our dashboards as files (`cluster.json`, ...).
pub(crate) fn our_dashboard_files(
    spec: &ObservabilitySpec,
) -> Result<BTreeMap<String, String>, RenderError> {
    dashboards::ours(spec)
        .into_iter()
        .map(|(stem, dashboard)| {
            let text =
                serde_json::to_string_pretty(&dashboard).map_err(|source| RenderError::Json {
                    kind: "Dashboard".to_string(),
                    name: stem.to_string(),
                    source,
                })?;
            Ok((format!("{stem}.json"), text))
        })
        .collect()
}

/// The user's dashboards split into ConfigMap-sized groups, in name order.
fn user_shards(spec: &ObservabilitySpec) -> Vec<BTreeMap<String, String>> {
    let mut shards: Vec<BTreeMap<String, String>> = Vec::new();
    let mut size = 0;
    for (name, text) in &spec.grafana.dashboards {
        if shards.is_empty() || (size > 0 && size + text.len() > SHARD_BYTES) {
            shards.push(BTreeMap::new());
            size = 0;
        }
        size += text.len();
        if let Some(shard) = shards.last_mut() {
            shard.insert(format!("{name}.json"), text.clone());
        }
    }
    shards
}

/// Problems of the spec this component finds.
pub(crate) fn problems(spec: &ObservabilitySpec) -> Vec<Problem> {
    let grafana = &spec.grafana;
    let mut problems = Vec::new();
    if grafana.replicas < 1 {
        problems.push(Problem::new(
            "grafana.replicas",
            "is 0: run at least 1 Grafana replica",
        ));
    }
    if let Some(why) = dns_subdomain_problem(&grafana.admin_secret) {
        problems.push(Problem::new(
            "grafana.admin_secret",
            format!("{:?} is not a Secret name: it {why}", grafana.admin_secret),
        ));
    }
    if let Some(host) = &grafana.ingress_host {
        if let Some(why) = dns_subdomain_problem(host) {
            problems.push(Problem::new(
                "grafana.ingress_host",
                format!("{host:?} is not a DNS name (write the host alone, like \"grafana.example.com\"): it {why}"),
            ));
        }
    }
    let mut uids: BTreeMap<String, String> = BTreeMap::new();
    for (name, text) in &grafana.dashboards {
        let path = format!("grafana.dashboards[{name:?}]");
        match dashboard_problem(name, text) {
            Err(why) => problems.push(Problem::new(path, why)),
            Ok(Some(uid)) => {
                if let Some(other) = uids.insert(uid.clone(), name.clone()) {
                    problems.push(Problem::new(
                        path,
                        format!(
                            "has the uid {uid:?}, as dashboard {other:?} does: uids must be unique"
                        ),
                    ));
                }
            }
            Ok(None) => {}
        }
    }
    problems
}

/// What is wrong with the user's dashboard `name`, or its uid (when it has one).
fn dashboard_problem(name: &str, text: &str) -> Result<Option<String>, String> {
    let key_ok = !name.is_empty()
        && name.len() <= 200
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !key_ok {
        return Err(
            "the name becomes the file name <name>.json: use letters, digits, '-', '_' and '.'"
                .to_string(),
        );
    }
    if text.len() > MAX_DASHBOARD_BYTES {
        return Err(format!(
            "is {} bytes; a dashboard must fit a ConfigMap (at most {MAX_DASHBOARD_BYTES} bytes)",
            text.len()
        ));
    }
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("is not valid JSON ({e}): paste the dashboard's JSON model"))?;
    let object = value
        .as_object()
        .ok_or("is not a JSON object: paste the dashboard's JSON model")?;
    match object.get("title").and_then(serde_json::Value::as_str) {
        Some(title) if !title.trim().is_empty() => {}
        _ => return Err("has no \"title\": give the dashboard a title".to_string()),
    }
    match object.get("uid") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(uid)) => {
            if uid.starts_with(UID_PREFIX) {
                Err(format!(
                    "has the uid {uid:?}: uids starting with {UID_PREFIX:?} are paved's own dashboards'"
                ))
            } else if uid.len() > 40 {
                Err(format!(
                    "has a uid of {} characters; Grafana allows 40",
                    uid.len()
                ))
            } else {
                Ok(Some(uid.clone()))
            }
        }
        Some(_) => Err("has a \"uid\" that is not a string".to_string()),
    }
}

/// The objects of this component.
pub(crate) fn objects(spec: &ObservabilitySpec) -> Result<Vec<Manifest>, RenderError> {
    let component = Component::Grafana;
    let datasources_text = datasources_yaml(spec)?;
    let providers_text = to_yaml(PROVIDER_FILE, &providers(spec))?;
    // Both must read back into their models: a stray key is a bug here.
    let internal = |file: &str, why: String| RenderError::Invalid {
        problems: vec![Problem::new("grafana", format!("internal: {file}: {why}"))],
    };
    check_yaml::<DatasourcesFile>(&datasources_text).map_err(|w| internal(DATASOURCES_FILE, w))?;
    check_yaml::<ProvidersFile>(&providers_text).map_err(|w| internal(PROVIDER_FILE, w))?;
    let ours = our_dashboard_files(spec)?;
    let shards = user_shards(spec);

    let mut hashed: Vec<&str> = vec![&datasources_text, &providers_text];
    hashed.extend(ours.values().map(String::as_str));
    hashed.extend(shards.iter().flat_map(|s| s.values().map(String::as_str)));
    let hash = parts_hash(&hashed);

    let identity = match &spec.mode {
        Mode::Managed(managed) => Some(managed.identity.as_str()),
        Mode::SelfHosted => None,
    };
    let mut objects = vec![
        // Grafana never calls the Kubernetes API; in managed mode it reads the
        // managed Prometheus as the cloud identity.
        Manifest::from_object(&service_account(
            spec,
            component,
            GRAFANA_SERVICE,
            identity,
            false,
        ))?,
        Manifest::from_object(&config_map(
            spec,
            component,
            DATASOURCES_CONFIG_MAP,
            BTreeMap::from([(DATASOURCES_FILE.to_string(), datasources_text)]),
        ))?,
        Manifest::from_object(&config_map(
            spec,
            component,
            PROVIDER_CONFIG_MAP,
            BTreeMap::from([(PROVIDER_FILE.to_string(), providers_text)]),
        ))?,
        Manifest::from_object(&config_map(spec, component, DASHBOARDS_CONFIG_MAP, ours))?,
    ];
    let shard_names: Vec<String> = (0..shards.len())
        .map(|i| format!("{USER_DASHBOARDS_PREFIX}-{i}"))
        .collect();
    for (name, shard) in shard_names.iter().zip(shards) {
        objects.push(Manifest::from_object(&config_map(
            spec, component, name, shard,
        ))?);
    }
    objects.push(Manifest::from_object(&service(
        spec,
        component,
        GRAFANA_SERVICE,
        vec![service_port("http", GRAFANA_PORT, "TCP")],
        false,
    ))?);
    objects.push(Manifest::from_object(&deployment(
        spec,
        &hash,
        &shard_names,
    ))?);
    if spec.grafana.replicas > 1 {
        objects.push(Manifest::from_object(&disruption_budget(spec))?);
    }
    if let Some(host) = &spec.grafana.ingress_host {
        objects.push(Manifest::from_object(&ingress(spec, host))?);
    }
    Ok(objects)
}

fn env(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.to_string(),
        value: Some(value.to_string()),
        ..EnvVar::default()
    }
}

fn container_env(spec: &ObservabilitySpec) -> Vec<EnvVar> {
    let mut env_vars = vec![
        env(
            "GF_SECURITY_ADMIN_USER__FILE",
            &format!("{ADMIN_SECRET_DIR}/{ADMIN_USER_KEY}"),
        ),
        env(
            "GF_SECURITY_ADMIN_PASSWORD__FILE",
            &format!("{ADMIN_SECRET_DIR}/{ADMIN_PASSWORD_KEY}"),
        ),
        env("GF_PATHS_DATA", DATA_DIR),
        env("GF_PATHS_PROVISIONING", PROVISIONING_DIR),
        // Logs to stdout only: nothing written under the read-only root.
        env("GF_LOG_MODE", "console"),
        env("GF_USERS_ALLOW_SIGN_UP", "false"),
        env("GF_AUTH_ANONYMOUS_ENABLED", "false"),
        env("GF_ANALYTICS_REPORTING_ENABLED", "false"),
        env("GF_ANALYTICS_CHECK_FOR_UPDATES", "false"),
        env("GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES", "false"),
        // No plugin downloads at start: the pod needs no Internet egress.
        env("GF_PLUGINS_PREINSTALL_DISABLED", "true"),
        env(
            "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH",
            &format!("{PAVED_DASHBOARDS_DIR}/cluster.json"),
        ),
    ];
    if let Some(host) = &spec.grafana.ingress_host {
        env_vars.push(env("GF_SERVER_DOMAIN", host));
    }
    if matches!(
        (&spec.mode, &spec.platform),
        (Mode::Managed(_), Platform::Eks { .. })
    ) {
        // SigV4 signing of datasource requests is off unless enabled.
        env_vars.push(env("GF_AUTH_SIGV4_AUTH_ENABLED", "true"));
    }
    env_vars.push(gomaxprocs_env());
    env_vars
}

fn deployment(spec: &ObservabilitySpec, hash: &str, user_shards: &[String]) -> Deployment {
    let component = Component::Grafana;
    let mut mounts = vec![
        mount(
            "datasources",
            &format!("{PROVISIONING_DIR}/datasources"),
            true,
        ),
        mount(
            "dashboard-providers",
            &format!("{PROVISIONING_DIR}/dashboards"),
            true,
        ),
        mount("dashboards", PAVED_DASHBOARDS_DIR, true),
        mount("admin", ADMIN_SECRET_DIR, true),
        // SQLite, sessions, rendered images: lost with the pod, nothing provisioned.
        mount("storage", DATA_DIR, false),
        mount("logs", "/var/log/grafana", false),
        mount("tmp", "/tmp", false),
    ];
    let mut volumes = vec![
        config_map_volume("datasources", DATASOURCES_CONFIG_MAP),
        config_map_volume("dashboard-providers", PROVIDER_CONFIG_MAP),
        config_map_volume("dashboards", DASHBOARDS_CONFIG_MAP),
        k8s_openapi::api::core::v1::Volume {
            name: "admin".to_string(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(spec.grafana.admin_secret.clone()),
                // Readable by Grafana's group (the pod's fsGroup) only.
                default_mode: Some(0o440),
                optional: Some(false),
                ..SecretVolumeSource::default()
            }),
            ..k8s_openapi::api::core::v1::Volume::default()
        },
        empty_dir("storage", "1Gi"),
        empty_dir("logs", "64Mi"),
        empty_dir("tmp", "256Mi"),
    ];
    if !user_shards.is_empty() {
        mounts.push(mount("user-dashboards", USER_DASHBOARDS_DIR, true));
        volumes.push(k8s_openapi::api::core::v1::Volume {
            name: "user-dashboards".to_string(),
            // Every shard's files in one directory.
            projected: Some(ProjectedVolumeSource {
                sources: Some(
                    user_shards
                        .iter()
                        .map(|name| VolumeProjection {
                            config_map: Some(ConfigMapProjection {
                                name: name.clone(),
                                ..ConfigMapProjection::default()
                            }),
                            ..VolumeProjection::default()
                        })
                        .collect(),
                ),
                ..ProjectedVolumeSource::default()
            }),
            ..k8s_openapi::api::core::v1::Volume::default()
        });
    }
    let container = Container {
        name: "grafana".to_string(),
        image: Some(IMAGE.to_string()),
        image_pull_policy: Some("IfNotPresent".to_string()),
        env: Some(container_env(spec)),
        ports: Some(vec![container_port("http", CONTAINER_PORT, "TCP")]),
        readiness_probe: Some(delayed_probe("/api/health", "http", 10)),
        liveness_probe: Some(delayed_probe("/api/health", "http", 60)),
        resources: Some(resources("100m", "256Mi", "2", "1Gi")),
        security_context: Some(restricted_container(UID)),
        volume_mounts: Some(mounts),
        ..Container::default()
    };
    Deployment {
        metadata: object_meta(spec, component, GRAFANA_SERVICE, true),
        spec: Some(DeploymentSpec {
            replicas: Some(i32::try_from(spec.grafana.replicas).unwrap_or(i32::MAX)),
            selector: selector(component),
            strategy: Some(DeploymentStrategy {
                type_: Some("RollingUpdate".to_string()),
                ..DeploymentStrategy::default()
            }),
            template: PodTemplateSpec {
                metadata: Some(pod_meta(
                    spec,
                    component,
                    pod_annotations(CONTAINER_PORT, "/metrics", hash),
                )),
                spec: Some(PodSpec {
                    service_account_name: Some(GRAFANA_SERVICE.to_string()),
                    // Grafana never calls the Kubernetes API: no token in the pod.
                    automount_service_account_token: Some(false),
                    security_context: Some(pod_security(UID, UID)),
                    containers: vec![container],
                    volumes: Some(volumes),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

fn disruption_budget(spec: &ObservabilitySpec) -> PodDisruptionBudget {
    PodDisruptionBudget {
        metadata: object_meta(spec, Component::Grafana, GRAFANA_SERVICE, true),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(selector(Component::Grafana)),
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    }
}

fn ingress(spec: &ObservabilitySpec, host: &str) -> Ingress {
    Ingress {
        metadata: object_meta(spec, Component::Grafana, GRAFANA_SERVICE, true),
        spec: Some(IngressSpec {
            rules: Some(vec![IngressRule {
                host: Some(host.to_string()),
                http: Some(HTTPIngressRuleValue {
                    paths: vec![HTTPIngressPath {
                        path: Some("/".to_string()),
                        path_type: "Prefix".to_string(),
                        backend: IngressBackend {
                            service: Some(IngressServiceBackend {
                                name: GRAFANA_SERVICE.to_string(),
                                port: Some(ServiceBackendPort {
                                    number: Some(i32::from(GRAFANA_PORT)),
                                    ..ServiceBackendPort::default()
                                }),
                            }),
                            ..IngressBackend::default()
                        },
                    }],
                }),
            }]),
            ..IngressSpec::default()
        }),
        ..Ingress::default()
    }
}

/// The Secret holding Grafana's admin user and `password`: created in the cluster
/// once, at apply, never rendered with the other objects (so never hashed, in state
/// or in GitOps files).
pub fn admin_secret(spec: &ObservabilitySpec, password: &str) -> Result<Manifest, RenderError> {
    let secret = Secret {
        metadata: object_meta(spec, Component::Grafana, &spec.grafana.admin_secret, true),
        type_: Some("Opaque".to_string()),
        data: Some(BTreeMap::from([
            (
                ADMIN_USER_KEY.to_string(),
                ByteString(ADMIN_USER.as_bytes().to_vec()),
            ),
            (
                ADMIN_PASSWORD_KEY.to_string(),
                ByteString(password.as_bytes().to_vec()),
            ),
        ])),
        ..Secret::default()
    };
    Manifest::from_object(&secret)
}

/// The uids of the datasources `spec` provisions.
#[cfg(test)]
pub(crate) fn datasource_uids(spec: &ObservabilitySpec) -> std::collections::BTreeSet<String> {
    datasources(spec)
        .datasources
        .into_iter()
        .map(|d| d.uid)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::stack as fixtures;
    use crate::typed::grafana::Dashboard;

    fn find<'a>(objects: &'a [Manifest], kind: &str, name: &str) -> Option<&'a Manifest> {
        objects.iter().find(|m| m.kind == kind && m.name == name)
    }

    #[test]
    fn objects_of_a_production_stack() {
        let objects = objects(&fixtures::production()).expect("renders");
        for (kind, name) in [
            ("ServiceAccount", "grafana"),
            ("ConfigMap", "grafana-datasources"),
            ("ConfigMap", "grafana-dashboards-provider"),
            ("ConfigMap", "grafana-dashboards"),
            // The fixture's one user dashboard.
            ("ConfigMap", "grafana-dashboards-user-0"),
            ("Service", "grafana"),
            ("Deployment", "grafana"),
            ("PodDisruptionBudget", "grafana"),
            ("Ingress", "grafana"),
        ] {
            assert!(find(&objects, kind, name).is_some(), "{kind} {name}");
        }
        assert_eq!(objects.len(), 9);
        let deployment = &find(&objects, "Deployment", "grafana").expect("d").body;
        assert_eq!(deployment["spec"]["replicas"], 2);
        let pod = &deployment["spec"]["template"];
        assert_eq!(
            pod["metadata"]["annotations"]["paved.dev/config-hash"]
                .as_str()
                .map(str::len),
            Some(64)
        );
        let container = &pod["spec"]["containers"][0];
        assert_eq!(container["image"], IMAGE);
        // A UID above 10000, which no host account has.
        assert!(container["securityContext"]["runAsUser"].as_i64() >= Some(10_000));
        assert_eq!(pod["spec"]["automountServiceAccountToken"], false);
        assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
        assert_eq!(
            container["readinessProbe"]["httpGet"]["path"],
            "/api/health"
        );
        // The admin credentials are files from the Secret, not environment values.
        let env = container["env"].as_array().expect("env");
        assert!(env.iter().all(|e| e["valueFrom"]["secretKeyRef"].is_null()));
        let admin = env
            .iter()
            .find(|e| e["name"] == "GF_SECURITY_ADMIN_PASSWORD__FILE")
            .expect("password file env");
        assert_eq!(admin["value"], "/etc/grafana/admin/admin-password");
        let volume = pod["spec"]["volumes"]
            .as_array()
            .expect("volumes")
            .iter()
            .find(|v| v["name"] == "admin")
            .expect("admin volume");
        assert_eq!(volume["secret"]["secretName"], "grafana-admin");
        let ingress = &find(&objects, "Ingress", "grafana").expect("i").body;
        assert_eq!(
            ingress["spec"]["rules"][0]["host"],
            "grafana.shop.example.com"
        );
        assert_eq!(
            ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"]["number"],
            80
        );
        let svc = &find(&objects, "Service", "grafana").expect("s").body;
        assert_eq!(svc["spec"]["ports"][0]["port"], 80);
        assert_eq!(svc["spec"]["ports"][0]["targetPort"], "http");
        let dashboards = &find(&objects, "ConfigMap", "grafana-dashboards")
            .expect("c")
            .body;
        let files: Vec<&String> = dashboards["data"]
            .as_object()
            .expect("data")
            .keys()
            .collect();
        assert_eq!(
            files,
            [
                "cluster.json",
                "hpa.json",
                "nodes.json",
                "stack.json",
                "workloads.json"
            ]
        );
    }

    #[test]
    fn minimal_stack_has_no_ingress_nor_budget() {
        let objects = objects(&fixtures::minimal()).expect("renders");
        assert!(!objects.iter().any(|m| m.kind == "Ingress"));
        assert!(!objects.iter().any(|m| m.kind == "PodDisruptionBudget"));
        let uids = datasource_uids(&fixtures::minimal());
        assert_eq!(
            uids.into_iter().collect::<Vec<_>>(),
            ["alertmanager", "prometheus"]
        );
    }

    #[test]
    fn datasources_link_to_each_other() {
        let file = datasources(&fixtures::production());
        let by_uid = |uid: &str| {
            file.datasources
                .iter()
                .find(|d| d.uid == uid)
                .cloned()
                .expect(uid)
        };
        let prometheus = by_uid("prometheus");
        assert!(prometheus.is_default);
        assert_eq!(prometheus.url, "http://prometheus.observability.svc:9090");
        assert!(prometheus
            .json_data
            .exemplar_trace_id_destinations
            .iter()
            .all(|d| d.datasource_uid == "tempo"));
        assert_eq!(
            by_uid("alertmanager").json_data.implementation.as_deref(),
            Some("prometheus")
        );
        let loki = by_uid("loki");
        assert_eq!(loki.url, "http://loki.observability.svc:3100");
        assert_eq!(loki.json_data.derived_fields[0].datasource_uid, "tempo");
        assert_eq!(loki.json_data.derived_fields[0].url, "$${__value.raw}");
        let tempo = by_uid("tempo");
        assert_eq!(tempo.url, "http://tempo.observability.svc:3200");
        let to_logs = tempo.json_data.traces_to_logs_v2.expect("traces to logs");
        assert_eq!(to_logs.datasource_uid, "loki");
        assert!(to_logs.filter_by_trace_id);
        assert_eq!(
            tempo
                .json_data
                .service_map
                .map(|l| l.datasource_uid)
                .as_deref(),
            Some("prometheus")
        );
        // Every link points at a provisioned datasource.
        let uids = datasource_uids(&fixtures::production());
        for d in &file.datasources {
            let j = &d.json_data;
            let links = j
                .exemplar_trace_id_destinations
                .iter()
                .map(|e| e.datasource_uid.clone())
                .chain(j.derived_fields.iter().map(|f| f.datasource_uid.clone()))
                .chain(j.traces_to_logs_v2.iter().map(|t| t.datasource_uid.clone()))
                .chain(j.service_map.iter().map(|l| l.datasource_uid.clone()))
                .chain(j.loki_search.iter().map(|l| l.datasource_uid.clone()));
            for link in links {
                assert!(uids.contains(&link), "{} links to {link}", d.uid);
            }
        }
    }

    #[test]
    fn logs_without_traces_have_no_trace_links() {
        let mut spec = fixtures::production();
        spec.traces = None;
        let file = datasources(&spec);
        assert!(file.datasources.iter().all(|d| d.uid != "tempo"));
        let loki = file
            .datasources
            .iter()
            .find(|d| d.uid == "loki")
            .expect("loki");
        assert!(loki.json_data.derived_fields.is_empty());
        let prometheus = &file.datasources[0];
        assert!(prometheus
            .json_data
            .exemplar_trace_id_destinations
            .is_empty());
    }

    #[test]
    fn managed_mode_reads_the_managed_service_with_sigv4() {
        let spec = fixtures::managed();
        let file = datasources(&spec);
        assert!(file.datasources.iter().all(|d| d.uid != "alertmanager"));
        let prometheus = &file.datasources[0];
        assert_eq!(
            prometheus.url,
            "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1"
        );
        assert_eq!(prometheus.json_data.sig_v4_auth, Some(true));
        assert_eq!(
            prometheus.json_data.sig_v4_region.as_deref(),
            Some("eu-west-1")
        );
        let objects = objects(&spec).expect("renders");
        let sa = find(&objects, "ServiceAccount", "grafana").expect("sa");
        assert_eq!(
            sa.body["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
            "arn:aws:iam::123456789012:role/shop-prometheus"
        );
        let deployment = find(&objects, "Deployment", "grafana").expect("d");
        assert!(deployment
            .body
            .to_string()
            .contains("GF_AUTH_SIGV4_AUTH_ENABLED"));
    }

    #[test]
    fn user_dashboards_are_checked_and_provisioned() {
        let mut spec = fixtures::production();
        spec.grafana.dashboards.insert(
            "team-a".into(),
            r#"{"title": "Team A", "uid": "team-a", "panels": []}"#.into(),
        );
        spec.grafana.dashboards.insert(
            "big".into(),
            format!(r#"{{"title": "Big", "x": "{}"}}"#, "y".repeat(SHARD_BYTES)),
        );
        assert!(problems(&spec).is_empty(), "{:?}", problems(&spec));
        let objects = objects(&spec).expect("renders");
        assert!(find(&objects, "ConfigMap", "grafana-dashboards-user-0").is_some());
        assert!(find(&objects, "ConfigMap", "grafana-dashboards-user-1").is_some());
        let deployment = find(&objects, "Deployment", "grafana")
            .expect("d")
            .body
            .to_string();
        assert!(deployment.contains("grafana-dashboards-user-1"));
        assert_eq!(providers(&spec).providers.len(), 2);

        let bad = |text: &str| {
            let mut spec = fixtures::production();
            spec.grafana.dashboards.insert("x".into(), text.into());
            problems(&spec)
        };
        for text in [
            "{",
            "[]",
            r#"{"panels": []}"#,
            r#"{"title": ""}"#,
            r#"{"title": "a", "uid": "paved-cluster"}"#,
        ] {
            let found = bad(text);
            assert_eq!(found.len(), 1, "{text}");
            assert_eq!(found[0].path, "grafana.dashboards[\"x\"]");
        }
        let mut spec = fixtures::production();
        spec.grafana
            .dashboards
            .insert("a".into(), r#"{"title": "A", "uid": "same"}"#.into());
        spec.grafana
            .dashboards
            .insert("b".into(), r#"{"title": "B", "uid": "same"}"#.into());
        assert_eq!(problems(&spec)[0].path, "grafana.dashboards[\"b\"]");
    }

    #[test]
    fn problems_name_the_fields() {
        let mut spec = fixtures::production();
        spec.grafana.replicas = 0;
        spec.grafana.ingress_host = Some("https://grafana.example.com/".into());
        spec.grafana.admin_secret = "Admin Secret".into();
        let paths: Vec<String> = problems(&spec).into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            [
                "grafana.replicas",
                "grafana.admin_secret",
                "grafana.ingress_host"
            ]
        );
    }

    #[test]
    fn admin_secret_holds_user_and_password() {
        let secret = admin_secret(&fixtures::production(), "s3cret").expect("renders");
        assert_eq!(secret.kind, "Secret");
        assert_eq!(secret.name, "grafana-admin");
        assert_eq!(secret.namespace.as_deref(), Some("observability"));
        // Secret data is base64 in JSON.
        assert_eq!(secret.body["data"]["admin-user"], "YWRtaW4=");
        assert_eq!(secret.body["data"]["admin-password"], "czNjcmV0");
    }

    #[test]
    fn config_hash_follows_the_dashboards() {
        let hash = |spec: &ObservabilitySpec| {
            let objects = objects(spec).expect("renders");
            find(&objects, "Deployment", "grafana").expect("d").body["spec"]["template"]["metadata"]
                ["annotations"]["paved.dev/config-hash"]
                .clone()
        };
        let spec = fixtures::production();
        let mut changed = spec.clone();
        changed
            .grafana
            .dashboards
            .insert("a".into(), r#"{"title": "A"}"#.into());
        assert_eq!(hash(&spec), hash(&spec.clone()));
        assert_ne!(hash(&spec), hash(&changed));
    }

    #[test]
    fn our_dashboards_read_back_into_the_model() {
        for spec in [
            fixtures::production(),
            fixtures::managed(),
            fixtures::minimal(),
        ] {
            let uids = datasource_uids(&spec);
            for (file, text) in our_dashboard_files(&spec).expect("renders") {
                let dashboard: Dashboard = serde_json::from_str(&text).expect(&file);
                for panel in &dashboard.panels {
                    for target in &panel.targets {
                        assert!(
                            uids.contains(&target.datasource.uid),
                            "{file}: {}",
                            panel.title
                        );
                    }
                }
            }
        }
    }
}
