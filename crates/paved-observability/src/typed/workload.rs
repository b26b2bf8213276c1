//! Building blocks the Grafana, Loki, Tempo, Alloy and adapter workloads share:
//! hardened security contexts, probes, resources, volumes, the configuration-hash
//! annotation, Services, ConfigMaps, and the ServiceAccount bound to a cloud
//! identity. One home for each, so a fix reaches every workload.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapVolumeSource, EmptyDirVolumeSource, HTTPGetAction,
    PersistentVolumeClaim, PersistentVolumeClaimSpec, PodSecurityContext, Probe,
    ResourceRequirements, SeccompProfile, SecurityContext, Service, ServiceAccount, ServicePort,
    ServiceSpec, Volume, VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use paved_manifests::{Platform, Problem};
use sha2::{Digest, Sha256};

use crate::labels::{object_meta, selector_labels, Component};
use crate::spec::ObservabilitySpec;

/// Pod annotation carrying the SHA-256 of a workload's configuration: a change
/// of configuration changes the pod template, so the pods roll.
pub(crate) const CONFIG_HASH_ANNOTATION: &str = "paved.dev/config-hash";
/// Annotation binding a ServiceAccount to an IAM role (EKS, IRSA).
pub(crate) const EKS_ROLE_ANNOTATION: &str = "eks.amazonaws.com/role-arn";
/// Annotation binding a ServiceAccount to a Google service account (Workload Identity).
pub(crate) const GKE_SERVICE_ACCOUNT_ANNOTATION: &str = "iam.gke.io/gcp-service-account";

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

/// SHA-256 (lower-case hex) over `parts`, each preceded by its length so that
/// moving bytes from one part to the next changes the hash.
pub(crate) fn config_hash(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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

/// The container hardening every workload but the log agent gets: a fixed
/// non-root user, no privilege escalation, no capabilities, read-only root file
/// system, the runtime's seccomp profile.
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

/// The pod-level security context: volumes owned by `fs_group`.
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

/// `RuntimeDefault` seccomp.
pub(crate) fn runtime_default() -> SeccompProfile {
    SeccompProfile {
        type_: "RuntimeDefault".to_string(),
        ..SeccompProfile::default()
    }
}

/// An HTTP GET probe of `path` on the named container port.
pub(crate) fn http_probe(path: &str, port: &str, initial_delay_seconds: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_string()),
            port: IntOrString::String(port.to_string()),
            ..HTTPGetAction::default()
        }),
        initial_delay_seconds: Some(initial_delay_seconds),
        period_seconds: Some(10),
        timeout_seconds: Some(5),
        failure_threshold: Some(6),
        ..Probe::default()
    }
}

/// Requests of CPU and memory, and a memory limit (no CPU limit: throttling a
/// query engine hurts more than it protects).
pub(crate) fn resources(cpu: &str, memory: &str, memory_limit: &str) -> ResourceRequirements {
    ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_string(), Quantity(cpu.to_string())),
            ("memory".to_string(), Quantity(memory.to_string())),
        ])),
        limits: Some(BTreeMap::from([(
            "memory".to_string(),
            Quantity(memory_limit.to_string()),
        )])),
        ..ResourceRequirements::default()
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

/// The selector of `component`'s pods.
pub(crate) fn selector(component: Component) -> LabelSelector {
    LabelSelector {
        match_labels: Some(selector_labels(component)),
        ..LabelSelector::default()
    }
}

/// A pod template's metadata: the component's labels and `annotations`.
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

/// A TCP Service port `port` to the named container port.
pub(crate) fn service_port(name: &str, port: u16, target: &str) -> ServicePort {
    ServicePort {
        name: Some(name.to_string()),
        port: i32::from(port),
        target_port: Some(IntOrString::String(target.to_string())),
        protocol: Some("TCP".to_string()),
        ..ServicePort::default()
    }
}

/// A Service `name` selecting `component`'s pods; `headless` gives no cluster IP
/// (a StatefulSet's governing Service: one DNS name per pod).
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
            // A headless Service lists pods before they are ready, so a restarting
            // single instance stays addressable by its peers.
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

/// The ServiceAccount `name`, bound to the cloud `identity` when there is one.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_differ_when_bytes_move_between_parts() {
        assert_ne!(config_hash(&["ab", "c"]), config_hash(&["a", "bc"]));
        assert_eq!(config_hash(&["x"]).len(), 64);
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
