//! `prometheus.yml`, typed: the global block with the external labels, the rule
//! file, the Alertmanagers (self-hosted) or the remote write (managed), and the
//! scrape jobs. Every target is found through Kubernetes service discovery.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::endpoints::{ALERTMANAGER_SERVICE, PROMETHEUS_SERVICE};
use crate::spec::{Mode, ObservabilitySpec, Platform};

/// Where the rule file is mounted.
pub(crate) const RULES_DIR: &str = "/etc/prometheus/rules";
pub(crate) use crate::rules::RULES_FILE;
/// The external label naming the cluster.
pub(crate) const CLUSTER_LABEL: &str = "cluster";
/// The external label naming the replica of the HA pair; dropped before alerts
/// are sent, so both replicas' alerts deduplicate in Alertmanager.
pub(crate) const REPLICA_LABEL: &str = "replica";
/// The replica label Amazon Managed Prometheus deduplicates an HA pair on (it
/// keeps one replica's samples and drops the label on ingestion).
pub(crate) const AMP_REPLICA_LABEL: &str = "__replica__";
/// The environment variable holding the pod's name (expanded in external labels).
pub(crate) const POD_NAME_ENV: &str = "POD_NAME";

/// Job names: the `job` label of every series, and what the rules select on.
pub(crate) const JOB_APISERVER: &str = "apiserver";
/// The kubelets' own metrics.
pub(crate) const JOB_KUBELET: &str = "kubelet";
/// The kubelets' container metrics.
pub(crate) const JOB_CADVISOR: &str = "cadvisor";
/// kube-state-metrics.
pub(crate) const JOB_KUBE_STATE_METRICS: &str = "kube-state-metrics";
/// node-exporter.
pub(crate) const JOB_NODE_EXPORTER: &str = "node-exporter";
/// Prometheus itself.
pub(crate) const JOB_PROMETHEUS: &str = "prometheus";
/// Alertmanager.
pub(crate) const JOB_ALERTMANAGER: &str = "alertmanager";
/// Pods annotated `prometheus.io/scrape: "true"`.
pub(crate) const JOB_PODS: &str = "kubernetes-pods";
/// Services annotated `prometheus.io/scrape: "true"`.
pub(crate) const JOB_SERVICES: &str = "kubernetes-services";

/// The service account's token and CA, mounted in every pod.
const TOKEN_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";
const CA_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
/// The API server's certificate always names the `kubernetes` Service; its
/// endpoints' addresses (ENIs on EKS, a VIP on GKE) are not always in it.
const APISERVER_TLS_NAME: &str = "kubernetes";
/// The longest scrape timeout; shorter intervals get their own length.
const MAX_SCRAPE_TIMEOUT_SECONDS: u32 = 10;
/// cAdvisor series nothing of ours reads and that cost the most: dropped at scrape.
const CADVISOR_DROPPED: &str = "container_(tasks_state|memory_failures_total|network_tcp_usage_total|network_udp_usage_total|cpu_load_average_10s|blkio_device_usage_total)";

/// The whole file.
#[derive(Debug, Serialize)]
pub(crate) struct PrometheusFile {
    global: Global,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    rule_files: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alerting: Option<Alerting>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    remote_write: Vec<RemoteWrite>,
    scrape_configs: Vec<ScrapeConfig>,
}

#[derive(Debug, Serialize)]
struct Global {
    scrape_interval: String,
    scrape_timeout: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    evaluation_interval: Option<String>,
    external_labels: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
struct Alerting {
    alert_relabel_configs: Vec<Relabel>,
    alertmanagers: Vec<AlertmanagerTarget>,
}

#[derive(Debug, Serialize)]
struct AlertmanagerTarget {
    api_version: &'static str,
    scheme: &'static str,
    timeout: &'static str,
    kubernetes_sd_configs: Vec<KubernetesSd>,
    relabel_configs: Vec<Relabel>,
}

#[derive(Debug, Serialize)]
struct RemoteWrite {
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sigv4: Option<Sigv4>,
}

#[derive(Debug, Serialize)]
struct Sigv4 {
    region: String,
}

#[derive(Debug, Serialize)]
struct ScrapeConfig {
    job_name: &'static str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    honor_labels: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    scheme: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics_path: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    authorization: Option<Authorization>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls_config: Option<TlsConfig>,
    kubernetes_sd_configs: Vec<KubernetesSd>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    relabel_configs: Vec<Relabel>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    metric_relabel_configs: Vec<Relabel>,
}

impl ScrapeConfig {
    fn new(job_name: &'static str, sd: KubernetesSd) -> ScrapeConfig {
        ScrapeConfig {
            job_name,
            honor_labels: false,
            scheme: None,
            metrics_path: None,
            authorization: None,
            tls_config: None,
            kubernetes_sd_configs: vec![sd],
            relabel_configs: Vec::new(),
            metric_relabel_configs: Vec::new(),
        }
    }

    /// HTTPS with the pod's service-account token.
    fn with_token(mut self, tls: TlsConfig) -> ScrapeConfig {
        self.scheme = Some("https");
        self.authorization = Some(Authorization {
            credentials_file: TOKEN_FILE,
        });
        self.tls_config = Some(tls);
        self
    }
}

#[derive(Debug, Serialize)]
struct Authorization {
    credentials_file: &'static str,
}

#[derive(Debug, Serialize)]
struct TlsConfig {
    ca_file: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_name: Option<&'static str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    insecure_skip_verify: bool,
}

#[derive(Debug, Serialize)]
struct KubernetesSd {
    role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespaces: Option<Namespaces>,
}

impl KubernetesSd {
    fn cluster_wide(role: &'static str) -> KubernetesSd {
        KubernetesSd {
            role,
            namespaces: None,
        }
    }

    fn in_namespace(role: &'static str, namespace: &str) -> KubernetesSd {
        KubernetesSd {
            role,
            namespaces: Some(Namespaces {
                names: vec![namespace.to_string()],
            }),
        }
    }
}

#[derive(Debug, Serialize)]
struct Namespaces {
    names: Vec<String>,
}

/// One relabelling step.
#[derive(Debug, Serialize)]
struct Relabel {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    source_labels: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    regex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_label: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replacement: Option<&'static str>,
    action: &'static str,
}

impl Relabel {
    /// Keep targets whose `sources` (joined by `;`) match `regex`.
    fn keep(sources: &[&'static str], regex: impl Into<String>) -> Relabel {
        Relabel {
            source_labels: sources.to_vec(),
            regex: Some(regex.into()),
            target_label: None,
            replacement: None,
            action: "keep",
        }
    }

    /// Drop what `sources` matching `regex` select.
    fn drop(sources: &[&'static str], regex: &'static str) -> Relabel {
        Relabel {
            action: "drop",
            ..Relabel::keep(sources, regex)
        }
    }

    /// Copy `source` to `target`.
    fn copy(source: &'static str, target: &'static str) -> Relabel {
        Relabel {
            source_labels: vec![source],
            regex: None,
            target_label: Some(target),
            replacement: None,
            action: "replace",
        }
    }

    /// Set `target` to `replacement` (with `$1`... from `regex`) when `sources`
    /// match `regex`.
    fn rewrite(
        sources: &[&'static str],
        regex: &'static str,
        target: &'static str,
        replacement: &'static str,
    ) -> Relabel {
        Relabel {
            source_labels: sources.to_vec(),
            regex: Some(regex.to_string()),
            target_label: Some(target),
            replacement: Some(replacement),
            action: "replace",
        }
    }

    /// Remove labels named by `regex`.
    fn label_drop(regex: &str) -> Relabel {
        Relabel {
            source_labels: Vec::new(),
            regex: Some(regex.to_string()),
            target_label: None,
            replacement: None,
            action: "labeldrop",
        }
    }
}

/// `$` is special in external labels (expanded from the environment): a literal
/// one is written `$$`.
fn escape_dollars(value: &str) -> String {
    value.replace('$', "$$")
}

/// The external labels: the cluster, the replica (from the pod's name, expanded
/// at start-up) and the spec's own.
fn external_labels(spec: &ObservabilitySpec) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> = spec
        .metrics
        .external_labels
        .iter()
        .map(|(k, v)| (k.clone(), escape_dollars(v)))
        .collect();
    labels.insert(
        CLUSTER_LABEL.to_string(),
        escape_dollars(&spec.cluster_name),
    );
    labels.insert(
        replica_label(spec).to_string(),
        format!("${{{POD_NAME_ENV}}}"),
    );
    labels
}

/// The label that tells the replicas apart: `replica`, except when an agent pair
/// writes to Amazon Managed Prometheus, which deduplicates on `__replica__`.
pub(crate) fn replica_label(spec: &ObservabilitySpec) -> &'static str {
    match (&spec.mode, &spec.platform) {
        (Mode::Managed(_), Platform::Eks { .. }) => AMP_REPLICA_LABEL,
        _ => REPLICA_LABEL,
    }
}

fn seconds(n: u32) -> String {
    format!("{n}s")
}

/// Keep the endpoints of the Service `service` on its port named `port` (names
/// are DNS labels: nothing in them is special in a regular expression but `-`,
/// which is literal outside brackets).
fn service_port(service: &str, port: &str) -> Relabel {
    Relabel::keep(
        &[
            "__meta_kubernetes_service_name",
            "__meta_kubernetes_endpointslice_port_name",
        ],
        format!("{service};{port}"),
    )
}

/// Labels naming where a service endpoint's series came from.
fn endpoint_labels() -> Vec<Relabel> {
    vec![
        Relabel::copy("__meta_kubernetes_namespace", "namespace"),
        Relabel::copy("__meta_kubernetes_service_name", "service"),
        Relabel::copy("__meta_kubernetes_pod_name", "pod"),
    ]
}

/// The node a target runs on as both `node` and `instance` (readable, and stable
/// across pod restarts).
fn node_labels(source: &'static str) -> Vec<Relabel> {
    vec![
        Relabel::copy(source, "node"),
        Relabel::copy(source, "instance"),
    ]
}

/// Opt-in scraping by annotation, for pods (`pod`) or services (`service`):
/// `prometheus.io/scrape: "true"`, and optionally `prometheus.io/scheme`,
/// `prometheus.io/path` and `prometheus.io/port`.
fn annotation_relabels(kind: &'static str) -> Vec<Relabel> {
    let (scrape, scheme, path, port) = match kind {
        "pod" => (
            "__meta_kubernetes_pod_annotation_prometheus_io_scrape",
            "__meta_kubernetes_pod_annotation_prometheus_io_scheme",
            "__meta_kubernetes_pod_annotation_prometheus_io_path",
            "__meta_kubernetes_pod_annotation_prometheus_io_port",
        ),
        _ => (
            "__meta_kubernetes_service_annotation_prometheus_io_scrape",
            "__meta_kubernetes_service_annotation_prometheus_io_scheme",
            "__meta_kubernetes_service_annotation_prometheus_io_path",
            "__meta_kubernetes_service_annotation_prometheus_io_port",
        ),
    };
    vec![
        Relabel::keep(&[scrape], "true"),
        Relabel::rewrite(&[scheme], "(https?)", "__scheme__", "$1"),
        Relabel::rewrite(&[path], "(.+)", "__metrics_path__", "$1"),
        // The port annotation replaces the port of the address: IPv4 `a.b.c.d:p`
        // or bare, IPv6 `[x::y]:p` or bare.
        Relabel::rewrite(
            &["__address__", port],
            r"([0-9.]+)(?::\d+)?;(\d+)",
            "__address__",
            "$1:$2",
        ),
        Relabel::rewrite(
            &["__address__", port],
            r"\[([0-9a-fA-F:.]+)\](?::\d+)?;(\d+)",
            "__address__",
            "[$1]:$2",
        ),
        Relabel::rewrite(
            &["__address__", port],
            r"([0-9a-fA-F]*:[0-9a-fA-F:.]*);(\d+)",
            "__address__",
            "[$1]:$2",
        ),
    ]
}

/// The scrape jobs (the same in both modes, but for Alertmanager).
fn scrape_configs(spec: &ObservabilitySpec) -> Vec<ScrapeConfig> {
    let ns = spec.namespace.as_str();
    let mut jobs = Vec::new();

    // The API server, through the `kubernetes` Service's endpoints.
    let mut apiserver = ScrapeConfig::new(
        JOB_APISERVER,
        KubernetesSd::in_namespace("endpointslice", "default"),
    )
    .with_token(TlsConfig {
        ca_file: CA_FILE,
        server_name: Some(APISERVER_TLS_NAME),
        insecure_skip_verify: false,
    });
    apiserver.relabel_configs = vec![service_port("kubernetes", "https")];
    jobs.push(apiserver);

    // The kubelets, directly on each node's port 10250 (the node's advertised
    // kubelet endpoint). Their serving certificates are self-signed on EKS and
    // GKE node pools, so the certificate cannot be verified; the request is still
    // authenticated with the token and authorised as `nodes/metrics`.
    let kubelet_tls = || TlsConfig {
        ca_file: CA_FILE,
        server_name: None,
        insecure_skip_verify: true,
    };
    for (job, path) in [
        (JOB_KUBELET, "/metrics"),
        (JOB_CADVISOR, "/metrics/cadvisor"),
    ] {
        let mut kubelet =
            ScrapeConfig::new(job, KubernetesSd::cluster_wide("node")).with_token(kubelet_tls());
        kubelet.metrics_path = Some(path);
        kubelet.relabel_configs = node_labels("__meta_kubernetes_node_name");
        if job == JOB_CADVISOR {
            kubelet.metric_relabel_configs = vec![Relabel::drop(&["__name__"], CADVISOR_DROPPED)];
        }
        jobs.push(kubelet);
    }

    // kube-state-metrics: its series carry the namespace and pod of the objects
    // they describe, so its own target labels must not overwrite them.
    let mut ksm = ScrapeConfig::new(
        JOB_KUBE_STATE_METRICS,
        KubernetesSd::in_namespace("endpointslice", ns),
    );
    ksm.honor_labels = true;
    ksm.relabel_configs = vec![service_port(crate::exporters::KSM_SERVICE, "http-metrics")];
    jobs.push(ksm);

    let mut node_exporter = ScrapeConfig::new(
        JOB_NODE_EXPORTER,
        KubernetesSd::in_namespace("endpointslice", ns),
    );
    node_exporter.relabel_configs = vec![service_port(
        crate::exporters::NODE_EXPORTER_SERVICE,
        "metrics",
    )];
    node_exporter
        .relabel_configs
        .extend(node_labels("__meta_kubernetes_pod_node_name"));
    jobs.push(node_exporter);

    let mut prometheus = ScrapeConfig::new(
        JOB_PROMETHEUS,
        KubernetesSd::in_namespace("endpointslice", ns),
    );
    prometheus.relabel_configs = vec![service_port(PROMETHEUS_SERVICE, "http")];
    prometheus.relabel_configs.extend(endpoint_labels());
    jobs.push(prometheus);

    if matches!(spec.mode, Mode::SelfHosted) {
        let mut alertmanager = ScrapeConfig::new(
            JOB_ALERTMANAGER,
            KubernetesSd::in_namespace("endpointslice", ns),
        );
        alertmanager.relabel_configs = vec![service_port(ALERTMANAGER_SERVICE, "http")];
        alertmanager.relabel_configs.extend(endpoint_labels());
        jobs.push(alertmanager);
    }

    // Workloads that opt in by annotation. Pods that finished are not scraped.
    let mut pods = ScrapeConfig::new(JOB_PODS, KubernetesSd::cluster_wide("pod"));
    pods.relabel_configs = annotation_relabels("pod");
    pods.relabel_configs.push(Relabel::drop(
        &["__meta_kubernetes_pod_phase"],
        "Pending|Succeeded|Failed|Unknown",
    ));
    pods.relabel_configs.extend([
        Relabel::copy("__meta_kubernetes_namespace", "namespace"),
        Relabel::copy("__meta_kubernetes_pod_name", "pod"),
        Relabel::copy("__meta_kubernetes_pod_node_name", "node"),
    ]);
    jobs.push(pods);

    let mut services = ScrapeConfig::new(JOB_SERVICES, KubernetesSd::cluster_wide("endpointslice"));
    services.relabel_configs = annotation_relabels("service");
    services.relabel_configs.extend(endpoint_labels());
    jobs.push(services);

    jobs
}

/// The Alertmanagers: the endpoints of the `alertmanager` Service. The replica
/// label is dropped from every alert so the pair's copies are one alert.
fn alerting(spec: &ObservabilitySpec) -> Alerting {
    Alerting {
        alert_relabel_configs: vec![Relabel::label_drop(replica_label(spec))],
        alertmanagers: vec![AlertmanagerTarget {
            api_version: "v2",
            scheme: "http",
            timeout: "10s",
            kubernetes_sd_configs: vec![KubernetesSd::in_namespace(
                "endpointslice",
                &spec.namespace,
            )],
            relabel_configs: vec![service_port(ALERTMANAGER_SERVICE, "http")],
        }],
    }
}

/// The typed file for `spec`.
pub(crate) fn prometheus_file(spec: &ObservabilitySpec) -> PrometheusFile {
    let interval = spec.metrics.scrape_interval_seconds;
    let timeout = interval.min(MAX_SCRAPE_TIMEOUT_SECONDS);
    let (evaluation_interval, rule_files, alerting, remote_write) = match &spec.mode {
        Mode::SelfHosted => (
            Some(seconds(interval)),
            vec![format!("{RULES_DIR}/{RULES_FILE}")],
            Some(alerting(spec)),
            Vec::new(),
        ),
        // An agent evaluates no rules and sends no alerts: the managed service does.
        Mode::Managed(managed) => (
            None,
            Vec::new(),
            None,
            vec![RemoteWrite {
                url: managed.remote_write_url.clone(),
                // AMP authenticates with SigV4 (IRSA credentials); Google's managed
                // service with the Workload Identity of the pod.
                sigv4: match &spec.platform {
                    Platform::Eks { region, .. } => Some(Sigv4 {
                        region: region.clone(),
                    }),
                    Platform::Gke { .. } => None,
                },
            }],
        ),
    };
    PrometheusFile {
        global: Global {
            scrape_interval: seconds(interval),
            scrape_timeout: seconds(timeout),
            evaluation_interval,
            external_labels: external_labels(spec),
        },
        rule_files,
        alerting,
        remote_write,
        scrape_configs: scrape_configs(spec),
    }
}

/// The job names of `spec`'s scrape configuration.
#[cfg(test)]
pub(crate) fn job_names(spec: &ObservabilitySpec) -> Vec<&'static str> {
    scrape_configs(spec).iter().map(|j| j.job_name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_are_escaped() {
        assert_eq!(escape_dollars("a$b$$"), "a$$b$$$$");
    }
}
