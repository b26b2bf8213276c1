//! Prometheus: an HA pair (or more) scraping the same targets, each with its own
//! volume, evaluating our rules and sending to the clustered Alertmanager; or, in
//! managed mode, agents remote-writing to the cloud's managed Prometheus (rules
//! and alert routing live there).
//!
//! No config-reloader sidecar: the pod template carries the SHA-256 of the
//! configuration and rules ([`crate::workload::CONFIG_HASH_ANNOTATION`]), so a change
//! rolls the StatefulSet.

pub(crate) mod config;

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    StatefulSet, StatefulSetPersistentVolumeClaimRetentionPolicy, StatefulSetSpec,
    StatefulSetUpdateStrategy,
};
use k8s_openapi::api::core::v1::{Container, PersistentVolumeClaim, PodSpec, PodTemplateSpec};
use k8s_openapi::api::rbac::v1::ClusterRole;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use paved_manifests::{Manifest, Problem, RenderError};

use crate::endpoints::{PROMETHEUS_PORT, PROMETHEUS_SERVICE};
use crate::labels::{object_meta, skip_checks, Component};
use crate::promql::is_label_name;
use crate::spec::{Mode, ObservabilitySpec};
use crate::workload::{
    cluster_role_binding, cluster_scoped_name, config_hash, config_map, config_map_volume,
    container_port, disruption_budget, field_env, gomaxprocs_env, host_anti_affinity, http_probe,
    mount, pod_meta, pod_security, resources, restricted_container, rule, selector, service,
    service_account, service_port, url_rule, volume_claim, zone_spread, CONFIG_HASH_ANNOTATION,
    GENERATED_HEADER, NOBODY, READ,
};
use config::{CLUSTER_LABEL, POD_NAME_ENV, REPLICA_LABEL, RULES_DIR, RULES_FILE};

/// The Prometheus image (server and agent are one binary).
pub const PROMETHEUS_IMAGE: &str = "quay.io/prometheus/prometheus:v2.54.1";
/// The StatefulSet, its ServiceAccount and its pods' prefix.
pub const NAME: &str = "prometheus";
/// The headless Service giving each replica a stable DNS name.
pub const HEADLESS_SERVICE: &str = "prometheus-headless";
/// The ConfigMap holding `prometheus.yml`.
pub const CONFIG_MAP: &str = "prometheus-config";
pub use crate::rules::RULES_CONFIG_MAP;
/// The configuration file's name in [`CONFIG_MAP`].
pub const CONFIG_FILE: &str = "prometheus.yml";
/// Where [`CONFIG_MAP`] is mounted (not `/etc/prometheus` itself: the rules
/// directory is mounted beside it, not inside a read-only volume).
pub const CONFIG_DIR: &str = "/etc/prometheus/config";
/// Where the data volume is mounted (TSDB, or the agent's WAL).
pub const DATA_DIR: &str = "/prometheus";
/// The name of the volume claim template.
pub const DATA_VOLUME: &str = "data";
/// Share of the volume the TSDB may fill before the oldest blocks go, in percent:
/// the rest is headroom for the WAL, compaction and the head block.
pub const RETENTION_SIZE_PERCENT: u64 = 85;
/// Resources of a server replica: requests / CPU limit / memory limit.
pub const SERVER_RESOURCES: (&str, &str, &str, &str) = ("500m", "2Gi", "4", "4Gi");
/// Resources of an agent replica (no TSDB, no rule evaluation).
pub const AGENT_RESOURCES: (&str, &str, &str, &str) = ("200m", "512Mi", "1", "1Gi");
/// Time a replica gets to flush its head block or WAL on shutdown.
pub const TERMINATION_GRACE_SECONDS: i64 = 300;

/// Prometheus's configuration file (`prometheus.yml`) as rendered into its ConfigMap.
pub fn prometheus_config(spec: &ObservabilitySpec) -> Result<String, RenderError> {
    let file = config::prometheus_file(spec);
    let text = yaml_serde::to_string(&file).map_err(|source| RenderError::Yaml {
        what: CONFIG_FILE.to_string(),
        source,
    })?;
    Ok(format!("{GENERATED_HEADER}{text}"))
}

/// The objects of this component: identity and RBAC, configuration, Services,
/// the StatefulSet and (with more than one replica) its disruption budget.
pub(crate) fn objects(spec: &ObservabilitySpec) -> Result<Vec<Manifest>, RenderError> {
    let config_text = prometheus_config(spec)?;
    let mut files = vec![(CONFIG_FILE, config_text.clone())];
    let mut objects = Vec::new();

    let account = service_account(
        spec,
        Component::Prometheus,
        NAME,
        managed_identity(spec),
        true,
    );
    objects.push(Manifest::from_object(&account)?);
    let role_name = cluster_scoped_name(spec, NAME);
    objects.push(Manifest::from_object(&cluster_role(spec, &role_name))?);
    objects.push(Manifest::from_object(&cluster_role_binding(
        spec,
        Component::Prometheus,
        &role_name,
        NAME,
    ))?);

    let config_map = config_map(
        spec,
        Component::Prometheus,
        CONFIG_MAP,
        BTreeMap::from([(CONFIG_FILE.to_string(), config_text)]),
    );
    objects.push(Manifest::from_object(&config_map)?);
    if matches!(spec.mode, Mode::SelfHosted) {
        let rules = crate::rules::rules_yaml(spec)?;
        files.push((RULES_FILE, rules));
        objects.extend(crate::rules::objects(spec)?);
    }

    let port = || service_port("http", PROMETHEUS_PORT, "TCP");
    objects.push(Manifest::from_object(&service(
        spec,
        Component::Prometheus,
        HEADLESS_SERVICE,
        vec![port()],
        true,
    ))?);
    objects.push(Manifest::from_object(&service(
        spec,
        Component::Prometheus,
        PROMETHEUS_SERVICE,
        vec![port()],
        false,
    ))?);

    let hashed: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    objects.push(Manifest::from_object(&stateful_set(
        spec,
        &config_hash(&hashed),
    ))?);
    if spec.metrics.replicas > 1 {
        objects.push(Manifest::from_object(&disruption_budget(
            spec,
            Component::Prometheus,
            NAME,
        ))?);
    }
    Ok(objects)
}

/// The cloud identity the agent remote-writes as (managed mode only), which its
/// ServiceAccount is bound to.
fn managed_identity(spec: &ObservabilitySpec) -> Option<&str> {
    match &spec.mode {
        Mode::Managed(managed) => Some(managed.identity.as_str()),
        Mode::SelfHosted => None,
    }
}

/// What service discovery and scraping need: read nodes, services, endpoints and
/// pods; the kubelet's `/metrics` and `/metrics/cadvisor` (both authorised as
/// `nodes/metrics`); the API server's `/metrics`.
///
/// No `nodes/proxy`: the kubelet authorises everything it serves outside
/// `/metrics`, `/stats`, `/logs` and `/spec` (exec, attach, port-forward among
/// them) as `nodes/proxy`, and scraping the kubelet directly does not need it.
fn cluster_role(spec: &ObservabilitySpec, name: &str) -> ClusterRole {
    ClusterRole {
        metadata: object_meta(spec, Component::Prometheus, name, false),
        rules: Some(vec![
            rule(
                &[""],
                &["nodes", "nodes/metrics", "services", "endpoints", "pods"],
                &READ,
            ),
            rule(&["discovery.k8s.io"], &["endpointslices"], &READ),
            url_rule(&["/metrics"], &["get"]),
        ]),
        ..ClusterRole::default()
    }
}

/// `--storage.tsdb.retention.size`: 85% of the volume, in MB as Prometheus counts
/// them (base 2: 1 GiB = 1024 MB).
pub(crate) fn retention_size_mb(volume_gib: u32) -> u64 {
    u64::from(volume_gib) * 1024 * RETENTION_SIZE_PERCENT / 100
}

/// The command-line arguments.
pub(crate) fn args(spec: &ObservabilitySpec) -> Vec<String> {
    let mut args = vec![
        format!("--config.file={CONFIG_DIR}/{CONFIG_FILE}"),
        format!("--web.listen-address=:{PROMETHEUS_PORT}"),
        "--web.enable-lifecycle".to_string(),
        // `${POD_NAME}` in the external labels becomes each replica's name.
        "--enable-feature=expand-external-labels".to_string(),
    ];
    match &spec.mode {
        Mode::SelfHosted => args.extend([
            format!("--storage.tsdb.path={DATA_DIR}"),
            format!(
                "--storage.tsdb.retention.time={}d",
                spec.metrics.retention_days
            ),
            format!(
                "--storage.tsdb.retention.size={}MB",
                retention_size_mb(spec.metrics.volume_gib)
            ),
        ]),
        // Prometheus 2.x spells agent mode as a feature flag (3.x: `--agent`);
        // retention flags are refused in agent mode.
        Mode::Managed(_) => args.extend([
            "--enable-feature=agent".to_string(),
            format!("--storage.agent.path={DATA_DIR}"),
        ]),
    }
    args
}

fn container(spec: &ObservabilitySpec) -> Container {
    let (request_cpu, request_memory, limit_cpu, limit_memory) = match spec.mode {
        Mode::SelfHosted => SERVER_RESOURCES,
        Mode::Managed(_) => AGENT_RESOURCES,
    };
    let mut mounts = vec![
        mount("config", CONFIG_DIR, true),
        mount(DATA_VOLUME, DATA_DIR, false),
    ];
    if matches!(spec.mode, Mode::SelfHosted) {
        mounts.push(mount("rules", RULES_DIR, true));
    }
    Container {
        name: NAME.to_string(),
        image: Some(PROMETHEUS_IMAGE.to_string()),
        image_pull_policy: Some("IfNotPresent".to_string()),
        args: Some(args(spec)),
        env: Some(vec![
            field_env(POD_NAME_ENV, "metadata.name"),
            gomaxprocs_env(),
        ]),
        ports: Some(vec![container_port("http", PROMETHEUS_PORT, "TCP")]),
        resources: Some(resources(
            request_cpu,
            request_memory,
            limit_cpu,
            limit_memory,
        )),
        // Ready once the WAL is replayed (minutes on a large TSDB); healthy as
        // soon as the web server answers, so a long replay is not killed.
        readiness_probe: Some(http_probe("/-/ready", "http", 10, 3)),
        liveness_probe: Some(http_probe("/-/healthy", "http", 15, 6)),
        security_context: Some(restricted_container(NOBODY)),
        volume_mounts: Some(mounts),
        ..Container::default()
    }
}

fn stateful_set(spec: &ObservabilitySpec, hash: &str) -> StatefulSet {
    let mut volumes = vec![config_map_volume("config", CONFIG_MAP)];
    if matches!(spec.mode, Mode::SelfHosted) {
        volumes.push(config_map_volume("rules", RULES_CONFIG_MAP));
    }
    let annotations = BTreeMap::from([(CONFIG_HASH_ANNOTATION.to_string(), hash.to_string())]);
    // The claim template carries its name only (no labels, unlike Loki's and
    // Tempo's): a StatefulSet's claim templates cannot change once created.
    let claim = PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some(DATA_VOLUME.to_string()),
            ..ObjectMeta::default()
        },
        ..volume_claim(
            spec,
            Component::Prometheus,
            DATA_VOLUME,
            spec.metrics.volume_gib,
        )
    };
    StatefulSet {
        metadata: skip_checks(
            object_meta(spec, Component::Prometheus, NAME, true),
            &[(
                "CKV_K8S_38",
                "Prometheus discovers its scrape targets through the Kubernetes API (read-only ClusterRole)",
            )],
        ),
        spec: Some(StatefulSetSpec {
            replicas: Some(i32::try_from(spec.metrics.replicas).unwrap_or(i32::MAX)),
            service_name: Some(HEADLESS_SERVICE.to_string()),
            // Replicas are peers, not a chain: start and replace them together.
            pod_management_policy: Some("Parallel".to_string()),
            update_strategy: Some(StatefulSetUpdateStrategy {
                type_: Some("RollingUpdate".to_string()),
                ..StatefulSetUpdateStrategy::default()
            }),
            // Scaling down keeps the dropped replica's data until deleted by hand;
            // deleting the stack keeps it too (metrics outlive a mistaken destroy).
            persistent_volume_claim_retention_policy: Some(
                StatefulSetPersistentVolumeClaimRetentionPolicy {
                    when_deleted: Some("Retain".to_string()),
                    when_scaled: Some("Retain".to_string()),
                },
            ),
            selector: selector(Component::Prometheus),
            template: PodTemplateSpec {
                metadata: Some(pod_meta(spec, Component::Prometheus, annotations)),
                spec: Some(PodSpec {
                    service_account_name: Some(NAME.to_string()),
                    automount_service_account_token: Some(true),
                    security_context: Some(pod_security(NOBODY, NOBODY)),
                    containers: vec![container(spec)],
                    volumes: Some(volumes),
                    topology_spread_constraints: Some(zone_spread(Component::Prometheus)),
                    affinity: Some(host_anti_affinity(Component::Prometheus)),
                    termination_grace_period_seconds: Some(TERMINATION_GRACE_SECONDS),
                    ..PodSpec::default()
                }),
            },
            volume_claim_templates: Some(vec![claim]),
            ..StatefulSetSpec::default()
        }),
        ..StatefulSet::default()
    }
}

/// Scrape intervals Prometheus is given, in seconds.
pub const SCRAPE_INTERVAL_RANGE: std::ops::RangeInclusive<u32> = 5..=300;

/// Problems of the spec this component finds: sizes, the interval, the external
/// labels, and the managed service's URL and identity.
pub(crate) fn problems(spec: &ObservabilitySpec) -> Vec<Problem> {
    let mut out = Vec::new();
    let metrics = &spec.metrics;
    if spec.cluster_name.trim().is_empty() {
        out.push(Problem::new(
            "cluster_name",
            "the cluster name is empty; it is the `cluster` label of every series and alert",
        ));
    }
    if metrics.replicas < 1 {
        out.push(Problem::new(
            "metrics.replicas",
            "Prometheus needs at least 1 replica (2 for an HA pair)",
        ));
    }
    if metrics.retention_days < 1 {
        out.push(Problem::new(
            "metrics.retention_days",
            "retention must be at least 1 day",
        ));
    }
    if metrics.volume_gib < 1 {
        out.push(Problem::new(
            "metrics.volume_gib",
            "each replica's volume must be at least 1 GiB",
        ));
    }
    if !SCRAPE_INTERVAL_RANGE.contains(&metrics.scrape_interval_seconds) {
        out.push(Problem::new(
            "metrics.scrape_interval_seconds",
            format!(
                "{} is outside {}..={} seconds (30 or 60 are usual)",
                metrics.scrape_interval_seconds,
                SCRAPE_INTERVAL_RANGE.start(),
                SCRAPE_INTERVAL_RANGE.end()
            ),
        ));
    }
    for name in metrics.external_labels.keys() {
        let path = format!("metrics.external_labels[{name:?}]");
        if !is_label_name(name) || name.starts_with("__") {
            out.push(Problem::new(
                path,
                format!(
                    "{name:?} is not a label name: use letters, digits and '_', not starting \
                     with a digit or with '__'"
                ),
            ));
        } else if name == CLUSTER_LABEL || name == REPLICA_LABEL {
            out.push(Problem::new(
                path,
                format!(
                    "{name:?} is reserved: paved sets `cluster` from the cluster's name and \
                     `replica` from each Prometheus pod's name"
                ),
            ));
        }
    }
    if let Mode::Managed(managed) = &spec.mode {
        let url = managed.remote_write_url.as_str();
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.contains(' ') {
            out.push(Problem::new(
                "mode.managed.remote_write_url",
                format!("{url:?} is not an http(s) URL of the managed Prometheus's remote-write endpoint"),
            ));
        }
        if managed.identity.trim().is_empty() {
            out.push(Problem::new(
                "mode.managed.identity",
                "the agent needs a cloud identity to write to the managed Prometheus \
                 (an IAM role ARN on EKS, a Google service account on GKE)",
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests;
