//! Pieces the metrics components (Prometheus, Alertmanager, the exporters) share:
//! hardened security contexts, probes, resources, the config-hash annotation that
//! restarts pods when their configuration changes, Services, PodDisruptionBudgets,
//! service accounts and RBAC. One home for each, so a hardening fix lands once.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Affinity, Capabilities, EnvVar, EnvVarSource, HTTPGetAction, ObjectFieldSelector,
    PodAffinityTerm, PodAntiAffinity, PodSecurityContext, Probe, ResourceRequirements,
    SeccompProfile, SecurityContext, Service, ServiceAccount, ServicePort, ServiceSpec,
    TopologySpreadConstraint, WeightedPodAffinityTerm,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, PolicyRule, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use sha2::{Digest, Sha256};

use crate::labels::{common_labels, object_meta, selector_labels, Component};
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

/// SHA-256 (hex) of named configuration files, in the order given.
pub(crate) fn config_hash(files: &[(&str, &str)]) -> String {
    let mut hasher = Sha256::new();
    for (name, text) in files {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(text.len().to_le_bytes());
        hasher.update(text.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Name of a cluster-scoped object of the stack: prefixed with `paved-` and the
/// namespace, so it cannot collide with another tool's `prometheus` ClusterRole
/// or with a second stack in the same cluster.
pub(crate) fn cluster_scoped_name(spec: &ObservabilitySpec, name: &str) -> String {
    format!("paved-{}-{name}", spec.namespace)
}

/// Metadata of `component`'s pod template, with `annotations`.
pub(crate) fn pod_meta(
    spec: &ObservabilitySpec,
    component: Component,
    annotations: BTreeMap<String, String>,
) -> ObjectMeta {
    let mut labels = common_labels(spec, component);
    labels.extend(selector_labels(component));
    ObjectMeta {
        labels: Some(labels),
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

/// Requests and limits (`None` leaves the CPU unlimited: throttling a scraper
/// makes it miss scrapes, while its memory is bounded).
pub(crate) fn resources(
    request_cpu: &str,
    request_memory: &str,
    limit_cpu: Option<&str>,
    limit_memory: &str,
) -> ResourceRequirements {
    let quantity = |s: &str| Quantity(s.to_string());
    let mut limits = BTreeMap::from([("memory".to_string(), quantity(limit_memory))]);
    if let Some(cpu) = limit_cpu {
        limits.insert("cpu".to_string(), quantity(cpu));
    }
    ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_string(), quantity(request_cpu)),
            ("memory".to_string(), quantity(request_memory)),
        ])),
        limits: Some(limits),
        ..ResourceRequirements::default()
    }
}

fn runtime_default() -> SeccompProfile {
    SeccompProfile {
        type_: "RuntimeDefault".to_string(),
        ..SeccompProfile::default()
    }
}

/// A container that runs as `nobody`, cannot gain privileges, holds no
/// capabilities and cannot write its root filesystem.
pub(crate) fn container_security() -> SecurityContext {
    SecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(NOBODY),
        run_as_group: Some(NOBODY),
        read_only_root_filesystem: Some(true),
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".to_string()]),
            ..Capabilities::default()
        }),
        seccomp_profile: Some(runtime_default()),
        ..SecurityContext::default()
    }
}

/// The pod-level counterpart: volumes are group-owned by `nobody` so the data
/// volume is writable.
pub(crate) fn pod_security() -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(NOBODY),
        run_as_group: Some(NOBODY),
        fs_group: Some(NOBODY),
        seccomp_profile: Some(runtime_default()),
        ..PodSecurityContext::default()
    }
}

/// An HTTP probe of `path` on the container port named `port`.
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
/// (`publish_not_ready`), which gossip peers need to find each other.
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

/// A ServiceAccount named `name` with `annotations` (workload identity).
pub(crate) fn service_account(
    spec: &ObservabilitySpec,
    component: Component,
    name: &str,
    annotations: BTreeMap<String, String>,
    automount: bool,
) -> ServiceAccount {
    let mut metadata = object_meta(spec, component, name, true);
    metadata.annotations = (!annotations.is_empty()).then_some(annotations);
    ServiceAccount {
        metadata,
        automount_service_account_token: Some(automount),
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
}
