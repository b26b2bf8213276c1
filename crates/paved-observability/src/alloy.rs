//! Grafana Alloy on every node (a DaemonSet), rendered when logs or traces are on.
//! With logs it tails the node's pod log files (`/var/log/pods`, read from the
//! host), labels each stream with its namespace, pod, container and app, and
//! pushes to Loki. With traces it receives OTLP (gRPC and HTTP, behind the `alloy`
//! Service), limits memory, batches, and forwards to Tempo.
//!
//! The configuration is built with the typed builder of [`crate::typed::alloy`]
//! and checked against its table of components before it is rendered.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DaemonSet, DaemonSetSpec};
use k8s_openapi::api::core::v1::{
    Container, EnvVar, EnvVarSource, HostPathVolumeSource, ObjectFieldSelector, PodSecurityContext,
    PodSpec, PodTemplateSpec, SecurityContext, Toleration, Volume,
};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, RoleRef, Subject};
use paved_manifests::{Manifest, Problem, RenderError};

use crate::endpoints::{
    ALLOY_SERVICE, LOKI_PORT, LOKI_SERVICE, OTLP_GRPC_PORT, OTLP_HTTP_PORT, TEMPO_SERVICE,
};
use crate::labels::{object_meta, skip_checks, Component};
use crate::spec::ObservabilitySpec;
use crate::typed::alloy::{check, Block, Config, Value};
use crate::workload::{
    cluster_scoped_name, container_port, gomaxprocs_env, pod_security, restricted_container,
};
use crate::workload::{
    config_map, config_map_volume, delayed_probe, empty_dir, mount, parts_hash, pod_annotations,
    pod_meta, resources, selector, service, service_account, service_port,
};

/// Alloy's image (pinned).
pub const IMAGE: &str = "docker.io/grafana/alloy:v1.3.1";
/// The ConfigMap holding `config.alloy`.
pub const CONFIG_MAP: &str = "alloy-config";
/// The configuration file's name in the ConfigMap.
pub const CONFIG_FILE: &str = "config.alloy";
/// Alloy's own HTTP port (UI, `/metrics`, `/-/ready`).
pub const HTTP_PORT: u16 = 12345;
/// The environment variable holding the node's name (the discovery's field selector).
pub const NODE_NAME_ENV: &str = "NODE_NAME";
/// The host directory Alloy keeps its read positions in, so a replaced pod
/// resumes where the last one stopped instead of sending every file again.
pub const HOST_DATA_DIR: &str = "/var/lib/paved-alloy";

const CONFIG_DIR: &str = "/etc/alloy";
const DATA_DIR: &str = "/var/lib/alloy/data";

/// The name of the agent's ClusterRole and ClusterRoleBinding (cluster-scoped,
/// so named after the stack's namespace, as every cluster-scoped object of the stack).
pub(crate) fn cluster_role_name(spec: &ObservabilitySpec) -> String {
    cluster_scoped_name(spec, ALLOY_SERVICE)
}

/// Alloy's configuration, typed; `None` when neither logs nor traces are on.
pub(crate) fn config(spec: &ObservabilitySpec) -> Option<Config> {
    if spec.logs.is_none() && spec.traces.is_none() {
        return None;
    }
    let mut blocks = vec![Block::new("logging")
        .attr("level", "info")
        .attr("format", "logfmt")];
    if spec.logs.is_some() {
        blocks.extend(log_blocks(spec));
    }
    if spec.traces.is_some() {
        blocks.extend(trace_blocks(spec));
    }
    Some(Config { blocks })
}

fn relabel(source: &str, target: &str) -> Block {
    Block::new("rule")
        .attr("source_labels", Value::strings(&[source]))
        .attr("target_label", target)
}

fn log_blocks(spec: &ObservabilitySpec) -> Vec<Block> {
    let write = Block::component("loki.write", "default")
        .block(Block::new("endpoint").attr(
            "url",
            format!(
                "http://{LOKI_SERVICE}.{}.svc:{LOKI_PORT}/loki/api/v1/push",
                spec.namespace
            ),
        ))
        .attr(
            "external_labels",
            Value::Object(vec![(
                "cluster".to_string(),
                Value::string(&spec.cluster_name),
            )]),
        );
    let process = Block::component("loki.process", "pod_logs")
        // containerd writes CRI-formatted lines: time, stream, flags, message.
        .block(Block::new("stage.cri"))
        .attr(
            "forward_to",
            Value::List(vec![Value::export(&write, "receiver")]),
        );
    let discovery = Block::component("discovery.kubernetes", "pods")
        .attr("role", "pod")
        .block(
            // Only this node's pods: each agent tails the files on its own host.
            Block::new("selectors").attr("role", "pod").attr(
                "field",
                Value::Concat(vec![
                    Value::string("spec.nodeName="),
                    Value::Call("env".to_string(), vec![Value::string(NODE_NAME_ENV)]),
                ]),
            ),
        );
    let relabel_block = Block::component("discovery.relabel", "pod_logs")
        .attr("targets", Value::export(&discovery, "targets"))
        .block(relabel("__meta_kubernetes_namespace", "namespace"))
        .block(relabel("__meta_kubernetes_pod_name", "pod"))
        .block(relabel("__meta_kubernetes_pod_container_name", "container"))
        .block(relabel("__meta_kubernetes_pod_node_name", "node"))
        .block(
            // The app: the recommended name label, else the `app` label, else the
            // container's name (the first non-empty of the three).
            Block::new("rule")
                .attr(
                    "source_labels",
                    Value::strings(&[
                        "__meta_kubernetes_pod_label_app_kubernetes_io_name",
                        "__meta_kubernetes_pod_label_app",
                        "__meta_kubernetes_pod_container_name",
                    ]),
                )
                .attr("separator", ";")
                .attr("regex", "^;*([^;]+)(;.*)?$")
                .attr("replacement", "$1")
                .attr("target_label", "app"),
        )
        .block(
            // The kubelet writes /var/log/pods/<namespace>_<pod>_<uid>/<container>/<n>.log.
            Block::new("rule")
                .attr(
                    "source_labels",
                    Value::strings(&[
                        "__meta_kubernetes_pod_uid",
                        "__meta_kubernetes_pod_container_name",
                    ]),
                )
                .attr("separator", "/")
                .attr("replacement", "/var/log/pods/*$1/*.log")
                .attr("target_label", "__path__"),
        );
    let files = Block::component("local.file_match", "pod_logs")
        .attr("path_targets", Value::export(&relabel_block, "output"));
    let source = Block::component("loki.source.file", "pod_logs")
        .attr("targets", Value::export(&files, "targets"))
        .attr(
            "forward_to",
            Value::List(vec![Value::export(&process, "receiver")]),
        );
    vec![discovery, relabel_block, files, source, process, write]
}

fn traces_to(next: &Block) -> Block {
    Block::new("output").attr("traces", Value::List(vec![Value::export(next, "input")]))
}

fn trace_blocks(spec: &ObservabilitySpec) -> Vec<Block> {
    let exporter = Block::component("otelcol.exporter.otlp", "tempo").block(
        Block::new("client")
            .attr(
                "endpoint",
                format!("{TEMPO_SERVICE}.{}.svc:{OTLP_GRPC_PORT}", spec.namespace),
            )
            // In-cluster hop to Tempo, plain gRPC.
            .block(Block::new("tls").attr("insecure", true)),
    );
    let batch = Block::component("otelcol.processor.batch", "default").block(traces_to(&exporter));
    let limiter = Block::component("otelcol.processor.memory_limiter", "default")
        .attr("check_interval", "1s")
        .attr("limit_percentage", 80_i64)
        .attr("spike_limit_percentage", 20_i64)
        .block(traces_to(&batch));
    let receiver = Block::component("otelcol.receiver.otlp", "default")
        .block(Block::new("grpc").attr("endpoint", format!("0.0.0.0:{OTLP_GRPC_PORT}")))
        .block(Block::new("http").attr("endpoint", format!("0.0.0.0:{OTLP_HTTP_PORT}")))
        .block(traces_to(&limiter));
    vec![receiver, limiter, batch, exporter]
}

/// Alloy's configuration (Alloy syntax), `None` when neither logs nor traces are on.
pub fn alloy_config(spec: &ObservabilitySpec) -> Option<String> {
    config(spec).map(|c| c.render())
}

/// Problems of the spec this component finds: Alloy's configuration is derived
/// from the logs and traces settings, so only a configuration the component table
/// rejects (a bug here, reported against the setting that turned it on).
pub(crate) fn problems(spec: &ObservabilitySpec) -> Vec<Problem> {
    let Some(config) = config(spec) else {
        return Vec::new();
    };
    let path = if spec.logs.is_some() {
        "logs"
    } else {
        "traces"
    };
    check(&config)
        .into_iter()
        .map(|why| Problem::new(path, format!("internal: the Alloy configuration: {why}")))
        .collect()
}

/// The objects of this component.
pub(crate) fn objects(spec: &ObservabilitySpec) -> Result<Vec<Manifest>, RenderError> {
    let Some(text) = alloy_config(spec) else {
        return Ok(Vec::new());
    };
    let problems = problems(spec);
    if !problems.is_empty() {
        return Err(RenderError::Invalid { problems });
    }
    let component = Component::Alloy;
    let role_name = cluster_role_name(spec);
    let hash = parts_hash(&[&text]);
    let mut objects = vec![
        // The agent discovers pods through the API: it needs its token.
        Manifest::from_object(&service_account(spec, component, ALLOY_SERVICE, None, true))?,
        Manifest::from_object(&cluster_role(spec, &role_name))?,
        Manifest::from_object(&cluster_role_binding(spec, &role_name))?,
        Manifest::from_object(&config_map(
            spec,
            component,
            CONFIG_MAP,
            BTreeMap::from([(CONFIG_FILE.to_string(), text)]),
        ))?,
        Manifest::from_object(&daemon_set(spec, &hash))?,
    ];
    if spec.traces.is_some() {
        objects.push(Manifest::from_object(&service(
            spec,
            component,
            ALLOY_SERVICE,
            vec![
                service_port("otlp-grpc", OTLP_GRPC_PORT, "TCP"),
                service_port("otlp-http", OTLP_HTTP_PORT, "TCP"),
            ],
            false,
        ))?);
    }
    Ok(objects)
}

fn rule(resources: &[&str], verbs: &[&str]) -> PolicyRule {
    PolicyRule {
        api_groups: Some(vec![String::new()]),
        resources: Some(resources.iter().map(|r| r.to_string()).collect()),
        verbs: verbs.iter().map(|v| v.to_string()).collect(),
        ..PolicyRule::default()
    }
}

fn cluster_role(spec: &ObservabilitySpec, name: &str) -> ClusterRole {
    ClusterRole {
        metadata: object_meta(spec, Component::Alloy, name, false),
        rules: Some(vec![
            rule(&["pods", "nodes", "namespaces"], &["get", "list", "watch"]),
            rule(&["pods/log"], &["get"]),
        ]),
        ..ClusterRole::default()
    }
}

fn cluster_role_binding(spec: &ObservabilitySpec, name: &str) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: object_meta(spec, Component::Alloy, name, false),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".to_string(),
            kind: "ClusterRole".to_string(),
            name: name.to_string(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".to_string(),
            name: ALLOY_SERVICE.to_string(),
            namespace: Some(spec.namespace.clone()),
            ..Subject::default()
        }]),
    }
}

fn host_path(name: &str, path: &str, kind: &str) -> Volume {
    Volume {
        name: name.to_string(),
        host_path: Some(HostPathVolumeSource {
            path: path.to_string(),
            type_: Some(kind.to_string()),
        }),
        ..Volume::default()
    }
}

fn daemon_set(spec: &ObservabilitySpec, hash: &str) -> DaemonSet {
    let component = Component::Alloy;
    let mut ports = vec![container_port("http", HTTP_PORT, "TCP")];
    let mut mounts = vec![
        mount("config", CONFIG_DIR, true),
        mount("data", DATA_DIR, false),
        mount("tmp", "/tmp", false),
    ];
    let mut volumes = vec![
        config_map_volume("config", CONFIG_MAP),
        // One directory per stack on the host, created on first use.
        host_path(
            "data",
            &format!("{HOST_DATA_DIR}/{}", spec.namespace),
            "DirectoryOrCreate",
        ),
        empty_dir("tmp", "256Mi"),
    ];
    if spec.logs.is_some() {
        mounts.push(mount("varlog", "/var/log", true));
        volumes.push(host_path("varlog", "/var/log", "Directory"));
    }
    if spec.traces.is_some() {
        ports.push(container_port("otlp-grpc", OTLP_GRPC_PORT, "TCP"));
        ports.push(container_port("otlp-http", OTLP_HTTP_PORT, "TCP"));
    }
    let container = Container {
        name: "alloy".to_string(),
        image: Some(IMAGE.to_string()),
        image_pull_policy: Some("IfNotPresent".to_string()),
        args: Some(vec![
            "run".to_string(),
            format!("{CONFIG_DIR}/{CONFIG_FILE}"),
            format!("--storage.path={DATA_DIR}"),
            format!("--server.http.listen-addr=0.0.0.0:{HTTP_PORT}"),
            "--stability.level=generally-available".to_string(),
        ]),
        env: Some(vec![
            EnvVar {
                name: NODE_NAME_ENV.to_string(),
                value_from: Some(EnvVarSource {
                    field_ref: Some(ObjectFieldSelector {
                        field_path: "spec.nodeName".to_string(),
                        ..ObjectFieldSelector::default()
                    }),
                    ..EnvVarSource::default()
                }),
                ..EnvVar::default()
            },
            gomaxprocs_env(),
        ]),
        ports: Some(ports),
        readiness_probe: Some(delayed_probe("/-/ready", "http", 10)),
        // Alive while its HTTP server answers; `/-/healthy` would also fail (and
        // restart the agent) when one component is unhealthy, e.g. Loki is down.
        liveness_probe: Some(delayed_probe("/-/ready", "http", 60)),
        resources: Some(resources("100m", "128Mi", "1", "512Mi")),
        // Root, to read the kubelet's log files (root-owned, 0640); nothing else:
        // no capabilities, no escalation, read-only root file system.
        security_context: Some(SecurityContext {
            run_as_non_root: Some(false),
            ..restricted_container(0)
        }),
        volume_mounts: Some(mounts),
        ..Container::default()
    };
    let mut skips = vec![
        (
            "CKV_K8S_23",
            "root to read the kubelet's log files (root-owned 0640) and keep its WAL in a host directory the kubelet creates root-owned; no capabilities",
        ),
        (
            "CKV_K8S_40",
            "runs as root (UID 0) for the host paths it reads and writes; no capabilities",
        ),
    ];
    if spec.logs.is_some() {
        skips.push((
            "CKV_K8S_38",
            "Alloy discovers the node's pods through the Kubernetes API to find and label their logs (read-only ClusterRole)",
        ));
    }
    DaemonSet {
        metadata: skip_checks(object_meta(spec, component, ALLOY_SERVICE, true), &skips),
        spec: Some(DaemonSetSpec {
            selector: selector(component),
            template: PodTemplateSpec {
                metadata: Some(pod_meta(
                    spec,
                    component,
                    pod_annotations(HTTP_PORT, "/metrics", hash),
                )),
                spec: Some(PodSpec {
                    service_account_name: Some(ALLOY_SERVICE.to_string()),
                    // The token is for pod discovery, which only the logs need.
                    automount_service_account_token: Some(spec.logs.is_some()),
                    // As the container: root for the host paths, RuntimeDefault seccomp.
                    security_context: Some(PodSecurityContext {
                        run_as_non_root: Some(false),
                        fs_group: None,
                        ..pod_security(0, 0)
                    }),
                    // Every node, whatever its taints: logs of tainted pools count too.
                    tolerations: Some(vec![Toleration {
                        operator: Some("Exists".to_string()),
                        ..Toleration::default()
                    }]),
                    termination_grace_period_seconds: Some(30),
                    containers: vec![container],
                    volumes: Some(volumes),
                    ..PodSpec::default()
                }),
            },
            ..DaemonSetSpec::default()
        }),
        ..DaemonSet::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::stack as fixtures;
    use crate::typed::alloy::parse;

    #[test]
    fn nothing_when_logs_and_traces_are_off() {
        let spec = fixtures::minimal();
        assert_eq!(alloy_config(&spec), None);
        assert!(objects(&spec).expect("renders").is_empty());
    }

    #[test]
    fn objects_with_logs_and_traces() {
        let spec = fixtures::production();
        let objects = objects(&spec).expect("renders");
        let names: Vec<(&str, &str)> = objects
            .iter()
            .map(|m| (m.kind.as_str(), m.name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("ServiceAccount", "alloy"),
                ("ClusterRole", "paved-observability-alloy"),
                ("ClusterRoleBinding", "paved-observability-alloy"),
                ("ConfigMap", "alloy-config"),
                ("DaemonSet", "alloy"),
                ("Service", "alloy"),
            ]
        );
        let rules = &objects[1].body["rules"];
        assert_eq!(
            rules[0]["resources"],
            serde_json::json!(["pods", "nodes", "namespaces"])
        );
        assert_eq!(rules[1]["resources"], serde_json::json!(["pods/log"]));
        let pod = &objects[4].body["spec"]["template"]["spec"];
        assert_eq!(
            pod["tolerations"],
            serde_json::json!([{"operator": "Exists"}])
        );
        let varlog = pod["volumes"]
            .as_array()
            .expect("volumes")
            .iter()
            .find(|v| v["name"] == "varlog")
            .expect("varlog volume");
        assert_eq!(varlog["hostPath"]["path"], "/var/log");
        let mounts = &pod["containers"][0]["volumeMounts"];
        assert!(mounts
            .as_array()
            .expect("mounts")
            .iter()
            .any(|m| m["mountPath"] == "/var/log" && m["readOnly"] == true));
        assert_eq!(
            pod["containers"][0]["env"][0]["valueFrom"]["fieldRef"]["fieldPath"],
            "spec.nodeName"
        );
    }

    #[test]
    fn logs_only_has_no_otlp_service() {
        let mut spec = fixtures::production();
        spec.traces = None;
        let objects = objects(&spec).expect("renders");
        assert!(!objects.iter().any(|m| m.kind == "Service"));
        let text = alloy_config(&spec).expect("logs on");
        assert!(!text.contains("otelcol"));
        assert!(text.contains("loki.write \"default\""));
    }

    #[test]
    fn traces_only_has_no_log_pipeline_nor_host_logs() {
        let mut spec = fixtures::production();
        spec.logs = None;
        let text = alloy_config(&spec).expect("traces on");
        assert!(!text.contains("loki."));
        assert!(text.contains("endpoint = \"tempo.observability.svc:4317\""));
        let objects = objects(&spec).expect("renders");
        let ds = objects.iter().find(|m| m.kind == "DaemonSet").expect("ds");
        assert!(!ds.body.to_string().contains("varlog"));
    }

    #[test]
    fn configuration_is_known_and_reads_back() {
        let spec = fixtures::production();
        let config = config(&spec).expect("on");
        assert!(check(&config).is_empty(), "{:?}", check(&config));
        let text = config.render();
        assert_eq!(parse(&text), Ok(config));
        assert!(text.contains("field = \"spec.nodeName=\" + env(\"NODE_NAME\")"));
        assert!(text.contains("url = \"http://loki.observability.svc:3100/loki/api/v1/push\""));
        assert!(text.contains("forward_to = [loki.write.default.receiver]"));
        assert!(text.contains("traces = [otelcol.exporter.otlp.tempo.input]"));
        assert!(text.contains("insecure = true"));
    }

    #[test]
    fn cluster_name_is_quoted_not_pasted() {
        let mut spec = fixtures::production();
        spec.cluster_name = "shop\" }\nloki.write \"x\" {".into();
        let config = config(&spec).expect("on");
        let parsed = parse(&config.render()).expect("parses");
        assert_eq!(parsed, config);
        assert!(check(&parsed).is_empty());
    }
}
