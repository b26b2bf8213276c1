//! The pod and container building blocks every component of the stack shares:
//! hardened security contexts, probes, resources, environment, volumes, the
//! configuration-hash annotation that restarts pods when their configuration
//! changes, Services, ConfigMaps, PodDisruptionBudgets, service accounts bound to
//! a cloud identity, and RBAC. One home for each, so a hardening fix reaches every
//! workload at once.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Affinity, Capabilities, ConfigMap, ConfigMapVolumeSource, ContainerPort, EmptyDirVolumeSource,
    EnvVar, EnvVarSource, HTTPGetAction, ObjectFieldSelector, PersistentVolumeClaim,
    PersistentVolumeClaimSpec, PodAffinityTerm, PodAntiAffinity, PodSecurityContext, Probe,
    ResourceFieldSelector, ResourceRequirements, SeccompProfile, SecurityContext, Service,
    ServiceAccount, ServicePort, ServiceSpec, TopologySpreadConstraint, Volume, VolumeMount,
    VolumeResourceRequirements, WeightedPodAffinityTerm,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, PolicyRule, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use paved_manifests::{Platform, Problem};
use sha2::{Digest, Sha256};

use crate::labels::{object_meta, selector_labels, Component};
use crate::spec::ObservabilitySpec;

/// Pod-template annotation carrying the SHA-256 of the pod's configuration files:
/// a changed configuration changes the template, so the pods roll (no reloader
/// sidecar).
pub(crate) const CONFIG_HASH_ANNOTATION: &str = "paved.dev/config-hash";
/// The first line of every configuration file paved renders.
pub(crate) const GENERATED_HEADER: &str =
    "# Rendered by paved: change the paved_observability_stack resource, not this file.\n";
/// The unprivileged user and group (`nobody`) every metrics component runs as.
pub(crate) const NOBODY: i64 = 65534;
/// Node label of a node's zone.
pub(crate) const ZONE_KEY: &str = "topology.kubernetes.io/zone";
/// Node label of a node's name.
pub(crate) const HOSTNAME_KEY: &str = "kubernetes.io/hostname";
/// The RBAC API group.
pub(crate) const RBAC_GROUP: &str = "rbac.authorization.k8s.io";
/// Read verbs.
pub(crate) const READ: [&str; 3] = ["get", "list", "watch"];
/// Annotation binding a ServiceAccount to an IAM role (EKS, IRSA).
pub(crate) const EKS_ROLE_ANNOTATION: &str = "eks.amazonaws.com/role-arn";
/// Annotation binding a ServiceAccount to a Google service account (Workload Identity).
pub(crate) const GKE_SERVICE_ACCOUNT_ANNOTATION: &str = "iam.gke.io/gcp-service-account";

/// SHA-256 (hex) of named configuration files, in the order given: the metrics
/// components' (Prometheus, Alertmanager) configuration hash.
pub(crate) fn config_hash(files: &[(&str, &str)]) -> String {
    let mut hasher = Sha256::new();
    for (name, text) in files {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(text.len().to_le_bytes());
        hasher.update(text.as_bytes());
    }
    hex(hasher)
}

/// SHA-256 (hex) over `parts`, each preceded by its length so that moving bytes
/// from one part to the next changes the hash: the configuration hash of Grafana,
/// Loki, Tempo, Alloy and the adapter. It differs from [`config_hash`] only in
/// framing; both are kept because changing either would change the rendered pod
/// templates, and so roll every running pod for nothing.
pub(crate) fn parts_hash(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    hex(hasher)
}

/// The digest as lower-case hex.
fn hex(hasher: Sha256) -> String {
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The pod annotations that opt a workload into Prometheus's `kubernetes-pods`
/// scrape job: its metrics on `port` at `path`, plus the configuration hash.
pub(crate) fn pod_annotations(port: u16, path: &str, hash: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (CONFIG_HASH_ANNOTATION.to_string(), hash.to_string()),
        ("prometheus.io/scrape".to_string(), "true".to_string()),
        ("prometheus.io/port".to_string(), port.to_string()),
        ("prometheus.io/path".to_string(), path.to_string()),
    ])
}

/// The ServiceAccount annotation binding a pod to `identity` on `platform`.
pub(crate) fn identity_annotations(
    platform: &Platform,
    identity: &str,
) -> BTreeMap<String, String> {
    let key = match platform {
        Platform::Eks { .. } => EKS_ROLE_ANNOTATION,
        Platform::Gke { .. } => GKE_SERVICE_ACCOUNT_ANNOTATION,
    };
    BTreeMap::from([(key.to_string(), identity.to_string())])
}

/// Whether `identity` (at `path`) has the form `platform` binds service accounts to:
/// an IAM role ARN on EKS, a Google service account e-mail on GKE.
pub(crate) fn identity_problem(path: &str, platform: &Platform, identity: &str) -> Option<Problem> {
    match platform {
        Platform::Eks { .. } => {
            let ok = identity.starts_with("arn:aws") && identity.contains(":role/");
            (!ok).then(|| {
                Problem::new(
                    path,
                    format!(
                        "{identity:?} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>), \
                         which EKS binds the pods' service account to"
                    ),
                )
            })
        }
        Platform::Gke { .. } => {
            let ok = identity.split_once('@').is_some_and(|(user, domain)| {
                !user.is_empty() && domain.ends_with(".gserviceaccount.com")
            });
            (!ok).then(|| {
                Problem::new(
                    path,
                    format!(
                        "{identity:?} is not a Google service account e-mail \
                         (<name>@<project>.iam.gserviceaccount.com), which Workload Identity binds \
                         the pods' service account to"
                    ),
                )
            })
        }
    }
}

/// Why `value` is not a DNS-1123 subdomain (a host name or an object name:
/// dot-separated labels of lower-case letters, digits and `-`, at most 253), or `None`.
pub(crate) fn dns_subdomain_problem(value: &str) -> Option<String> {
    if value.is_empty() {
        return Some("is empty".to_string());
    }
    if value.len() > 253 {
        return Some(format!(
            "is {} characters long, at most 253 are allowed",
            value.len()
        ));
    }
    for part in value.split('.') {
        let ok = !part.is_empty()
            && part.len() <= 63
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !part.starts_with('-')
            && !part.ends_with('-');
        if !ok {
            return Some(format!(
                "has the part {part:?}: each dot-separated part must be 1 to 63 lower-case \
                 letters, digits or '-', starting and ending with a letter or digit"
            ));
        }
    }
    None
}

/// Name of a cluster-scoped object of the stack: prefixed with `paved-` and the
/// namespace, so it cannot collide with another tool's `prometheus` ClusterRole
/// or with a second stack in the same cluster.
pub(crate) fn cluster_scoped_name(spec: &ObservabilitySpec, name: &str) -> String {
    format!("paved-{}-{name}", spec.namespace)
}

/// Metadata of `component`'s pod template: the component's labels and `annotations`.
pub(crate) fn pod_meta(
    spec: &ObservabilitySpec,
    component: Component,
    annotations: BTreeMap<String, String>,
) -> ObjectMeta {
    let meta = object_meta(spec, component, component.label_value(), false);
    ObjectMeta {
        labels: meta.labels,
        annotations: (!annotations.is_empty()).then_some(annotations),
        ..ObjectMeta::default()
    }
}

/// The selector of `component`'s pods.
pub(crate) fn selector(component: Component) -> LabelSelector {
    LabelSelector {
        match_labels: Some(selector_labels(component)),
        ..LabelSelector::default()
    }
}

/// Requests and limits. The CPU limit is a ceiling well above the request: it
/// stops a runaway query from starving the node, and with [`gomaxprocs_env`] the Go
/// runtime runs no more threads than it pays for, so it is not throttled in bursts.
pub(crate) fn resources(
    request_cpu: &str,
    request_memory: &str,
    limit_cpu: &str,
    limit_memory: &str,
) -> ResourceRequirements {
    let quantity = |s: &str| Quantity(s.to_string());
    ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_string(), quantity(request_cpu)),
            ("memory".to_string(), quantity(request_memory)),
        ])),
        limits: Some(BTreeMap::from([
            ("cpu".to_string(), quantity(limit_cpu)),
            ("memory".to_string(), quantity(limit_memory)),
        ])),
        ..ResourceRequirements::default()
    }
}

/// `RuntimeDefault` seccomp.
pub(crate) fn runtime_default() -> SeccompProfile {
    SeccompProfile {
        type_: "RuntimeDefault".to_string(),
        ..SeccompProfile::default()
    }
}

/// The container hardening every workload gets: a fixed non-root user `uid`
/// ([`NOBODY`] for the metrics components), no privilege escalation, no
/// capabilities, read-only root file system, the runtime's seccomp profile. The
/// log agent, which must read root-owned files, starts from this and runs as root.
pub(crate) fn restricted_container(uid: i64) -> SecurityContext {
    SecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(uid),
        run_as_group: Some(uid),
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".to_string()]),
            ..Capabilities::default()
        }),
        seccomp_profile: Some(runtime_default()),
        ..SecurityContext::default()
    }
}

/// The pod-level counterpart: volumes are group-owned by `fs_group`, so the data
/// volume is writable.
pub(crate) fn pod_security(uid: i64, fs_group: i64) -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(uid),
        run_as_group: Some(uid),
        fs_group: Some(fs_group),
        seccomp_profile: Some(runtime_default()),
        ..PodSecurityContext::default()
    }
}

/// An HTTP probe of `path` on the container port named `port`, every `period`
/// seconds, failing after `failures` misses.
pub(crate) fn http_probe(path: &str, port: &str, period: i32, failures: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_string()),
            port: IntOrString::String(port.to_string()),
            ..HTTPGetAction::default()
        }),
        period_seconds: Some(period),
        timeout_seconds: Some(5),
        failure_threshold: Some(failures),
        ..Probe::default()
    }
}

/// An HTTP probe for a program that takes a while to start (a WAL to replay, a
/// database to migrate): first after `initial_delay_seconds`, then every 10 s,
/// failing after 6 misses.
pub(crate) fn delayed_probe(path: &str, port: &str, initial_delay_seconds: i32) -> Probe {
    Probe {
        initial_delay_seconds: Some(initial_delay_seconds),
        ..http_probe(path, port, 10, 6)
    }
}

/// `GOMAXPROCS` set to the container's CPU limit, rounded up to whole cores: every
/// workload of the stack is a Go program, and one that runs a thread per node core
/// under a smaller CPU quota is throttled in bursts (missed scrapes, slow probes).
pub(crate) fn gomaxprocs_env() -> EnvVar {
    EnvVar {
        name: "GOMAXPROCS".to_string(),
        value_from: Some(EnvVarSource {
            resource_field_ref: Some(ResourceFieldSelector {
                resource: "limits.cpu".to_string(),
                divisor: Some(Quantity("1".to_string())),
                ..ResourceFieldSelector::default()
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }
}

/// An environment variable from the pod's own field (`metadata.name`, `status.podIP`).
pub(crate) fn field_env(name: &str, field_path: &str) -> EnvVar {
    EnvVar {
        name: name.to_string(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: field_path.to_string(),
                ..ObjectFieldSelector::default()
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }
}

/// Spread `component`'s replicas across zones (preferred: a replica that cannot
/// be spread still runs) ...
pub(crate) fn zone_spread(component: Component) -> Vec<TopologySpreadConstraint> {
    vec![TopologySpreadConstraint {
        topology_key: ZONE_KEY.to_string(),
        max_skew: 1,
        when_unsatisfiable: "ScheduleAnyway".to_string(),
        label_selector: Some(selector(component)),
        ..TopologySpreadConstraint::default()
    }]
}

/// ... and across nodes: preferred anti-affinity, so a pair never shares a node
/// when another fits, yet a one-node development cluster still runs both.
pub(crate) fn host_anti_affinity(component: Component) -> Affinity {
    Affinity {
        pod_anti_affinity: Some(PodAntiAffinity {
            preferred_during_scheduling_ignored_during_execution: Some(vec![
                WeightedPodAffinityTerm {
                    weight: 100,
                    pod_affinity_term: PodAffinityTerm {
                        topology_key: HOSTNAME_KEY.to_string(),
                        label_selector: Some(selector(component)),
                        ..PodAffinityTerm::default()
                    },
                },
            ]),
            ..PodAntiAffinity::default()
        }),
        ..Affinity::default()
    }
}

/// A volume of the ConfigMap `config_map`.
pub(crate) fn config_map_volume(name: &str, config_map: &str) -> Volume {
    Volume {
        name: name.to_string(),
        config_map: Some(ConfigMapVolumeSource {
            name: config_map.to_string(),
            ..ConfigMapVolumeSource::default()
        }),
        ..Volume::default()
    }
}

/// An emptyDir volume (`size_limit` caps what the node gives it).
pub(crate) fn empty_dir(name: &str, size_limit: &str) -> Volume {
    Volume {
        name: name.to_string(),
        empty_dir: Some(EmptyDirVolumeSource {
            size_limit: Some(Quantity(size_limit.to_string())),
            ..EmptyDirVolumeSource::default()
        }),
        ..Volume::default()
    }
}

/// A mount of volume `name` at `path`.
pub(crate) fn mount(name: &str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount {
        name: name.to_string(),
        mount_path: path.to_string(),
        read_only: read_only.then_some(true),
        ..VolumeMount::default()
    }
}

/// The volume claim template `name` of `gib` GiB, on the spec's StorageClass.
/// Its size and class cannot change in place: a StatefulSet refuses updates of its
/// claim templates.
pub(crate) fn volume_claim(
    spec: &ObservabilitySpec,
    component: Component,
    name: &str,
    gib: u32,
) -> PersistentVolumeClaim {
    // Only the name and the stable selector labels: a StatefulSet's claim
    // templates cannot change once created, so nothing that may (the profile
    // label) goes in. The namespace is the StatefulSet's.
    let metadata = ObjectMeta {
        name: Some(name.to_string()),
        labels: Some(selector_labels(component)),
        ..ObjectMeta::default()
    };
    PersistentVolumeClaim {
        metadata,
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".to_string()]),
            storage_class_name: spec.storage_class.clone(),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_string(),
                    Quantity(format!("{gib}Gi")),
                )])),
                ..VolumeResourceRequirements::default()
            }),
            ..PersistentVolumeClaimSpec::default()
        }),
        ..PersistentVolumeClaim::default()
    }
}

/// A container port, named so probes and Services can refer to it by name.
pub(crate) fn container_port(name: &str, port: u16, protocol: &str) -> ContainerPort {
    ContainerPort {
        name: Some(name.to_string()),
        container_port: i32::from(port),
        protocol: Some(protocol.to_string()),
        ..ContainerPort::default()
    }
}

/// A port of a Service, by name, forwarding to the container port of that name.
pub(crate) fn service_port(name: &str, port: u16, protocol: &str) -> ServicePort {
    ServicePort {
        name: Some(name.to_string()),
        port: i32::from(port),
        target_port: Some(IntOrString::String(name.to_string())),
        protocol: Some(protocol.to_string()),
        ..ServicePort::default()
    }
}

/// A Service named `name` selecting `component`'s pods. A headless Service
/// (`headless`) gives each pod a DNS name and also lists pods not yet ready
/// (`publish_not_ready`), which gossip peers and a restarting single instance's
/// clients need to find it.
pub(crate) fn service(
    spec: &ObservabilitySpec,
    component: Component,
    name: &str,
    ports: Vec<ServicePort>,
    headless: bool,
) -> Service {
    Service {
        metadata: object_meta(spec, component, name, true),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".to_string()),
            cluster_ip: headless.then(|| "None".to_string()),
            publish_not_ready_addresses: headless.then_some(true),
            selector: Some(selector_labels(component)),
            ports: Some(ports),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// A ConfigMap `name` of `data` (file name to text).
pub(crate) fn config_map(
    spec: &ObservabilitySpec,
    component: Component,
    name: &str,
    data: BTreeMap<String, String>,
) -> ConfigMap {
    ConfigMap {
        metadata: object_meta(spec, component, name, true),
        data: Some(data),
        ..ConfigMap::default()
    }
}

/// A PodDisruptionBudget letting drains take one of `component`'s pods at a time.
pub(crate) fn disruption_budget(
    spec: &ObservabilitySpec,
    component: Component,
    name: &str,
) -> PodDisruptionBudget {
    PodDisruptionBudget {
        metadata: object_meta(spec, component, name, true),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(selector(component)),
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    }
}

/// The ServiceAccount `name`, bound to the cloud `identity` (on the spec's
/// platform) when there is one.
pub(crate) fn service_account(
    spec: &ObservabilitySpec,
    component: Component,
    name: &str,
    identity: Option<&str>,
    automount_token: bool,
) -> ServiceAccount {
    let mut metadata = object_meta(spec, component, name, true);
    if let Some(identity) = identity {
        metadata.annotations = Some(identity_annotations(&spec.platform, identity));
    }
    ServiceAccount {
        metadata,
        automount_service_account_token: Some(automount_token),
        ..ServiceAccount::default()
    }
}

/// An RBAC rule on resources.
pub(crate) fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
    PolicyRule {
        api_groups: Some(strings(groups)),
        resources: Some(strings(resources)),
        verbs: strings(verbs),
        ..PolicyRule::default()
    }
}

/// An RBAC rule on non-resource URLs (`/metrics`).
pub(crate) fn url_rule(urls: &[&str], verbs: &[&str]) -> PolicyRule {
    PolicyRule {
        non_resource_urls: Some(strings(urls)),
        verbs: strings(verbs),
        ..PolicyRule::default()
    }
}

/// Binds the ClusterRole `role` to the ServiceAccount `account` of the namespace.
pub(crate) fn cluster_role_binding(
    spec: &ObservabilitySpec,
    component: Component,
    role: &str,
    account: &str,
) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: object_meta(spec, component, role, false),
        role_ref: RoleRef {
            api_group: RBAC_GROUP.to_string(),
            kind: "ClusterRole".to_string(),
            name: role.to_string(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".to_string(),
            name: account.to_string(),
            namespace: Some(spec.namespace.clone()),
            ..Subject::default()
        }]),
    }
}

/// `items` as owned strings.
pub(crate) fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_hash_changes_with_content_and_name() {
        let a = config_hash(&[("a.yml", "x: 1")]);
        assert_eq!(a.len(), 64);
        assert_eq!(a, config_hash(&[("a.yml", "x: 1")]));
        assert_ne!(a, config_hash(&[("a.yml", "x: 2")]));
        assert_ne!(a, config_hash(&[("b.yml", "x: 1")]));
        // The boundary between files is part of the hash.
        assert_ne!(
            config_hash(&[("a", "bc"), ("d", "")]),
            config_hash(&[("a", "b"), ("cd", "")])
        );
    }

    #[test]
    fn hashes_differ_when_bytes_move_between_parts() {
        assert_ne!(parts_hash(&["ab", "c"]), parts_hash(&["a", "bc"]));
        assert_eq!(parts_hash(&["x"]).len(), 64);
    }

    #[test]
    fn identities_per_platform() {
        let eks = Platform::Eks {
            account_id: "123456789012".into(),
            region: "eu-west-1".into(),
        };
        let gke = Platform::Gke {
            project: "shop".into(),
            location: "europe-west1".into(),
        };
        assert!(identity_problem("x", &eks, "arn:aws:iam::123456789012:role/loki").is_none());
        assert!(identity_problem("x", &eks, "loki@shop.iam.gserviceaccount.com").is_some());
        assert!(identity_problem("x", &gke, "loki@shop.iam.gserviceaccount.com").is_none());
        assert!(identity_problem("x", &gke, "arn:aws:iam::1:role/loki").is_some());
        assert_eq!(
            identity_annotations(&gke, "a@b.iam.gserviceaccount.com")
                .keys()
                .next()
                .map(String::as_str),
            Some(GKE_SERVICE_ACCOUNT_ANNOTATION)
        );
    }

    #[test]
    fn dns_names() {
        assert_eq!(dns_subdomain_problem("grafana.shop.example.com"), None);
        assert!(dns_subdomain_problem("Grafana.example.com").is_some());
        assert!(dns_subdomain_problem("grafana..example.com").is_some());
        assert!(dns_subdomain_problem("-grafana.example.com").is_some());
        assert!(dns_subdomain_problem("").is_some());
        assert!(dns_subdomain_problem("https://grafana").is_some());
    }
}
