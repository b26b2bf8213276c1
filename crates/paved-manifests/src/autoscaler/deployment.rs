//! The autoscaler's Deployment: the container, its arguments, probes and hardening,
//! and where its pods may run.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EmptyDirVolumeSource, EnvVar, HTTPGetAction,
    PodSecurityContext, PodSpec, PodTemplateSpec, Probe, ResourceRequirements, SeccompProfile,
    SecurityContext, Toleration, TopologySpreadConstraint, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::release::{image_for, supported_minors};
use super::{selector_labels, HTTP_PORT, NAME, NAMESPACE};
use crate::error::RenderError;
use crate::labels::{common_labels, object_meta, Component};
use crate::spec::{AutoscalerSpec, BaselineSpec, Platform, TolerationSpec};
use crate::validate::Problem;

/// CPU the autoscaler requests. Its loop is light; memory grows with cluster size.
pub const REQUEST_CPU: &str = "100m";
/// Memory the autoscaler requests (upstream's example value, enough for some
/// hundreds of nodes).
pub const REQUEST_MEMORY: &str = "600Mi";
/// CPU limit: room for bursts during large scale-ups.
pub const LIMIT_CPU: &str = "1";
/// Memory limit, equal to the request so the pod is never OOM-killed by pressure
/// from others.
pub const LIMIT_MEMORY: &str = "600Mi";
/// The unprivileged user (`nobody`) the autoscaler runs as.
pub const RUN_AS_USER: i64 = 65534;
/// Built-in priority class that keeps the autoscaler scheduled under pressure.
pub const PRIORITY_CLASS: &str = "system-cluster-critical";
/// Path of the autoscaler's health endpoint.
pub const HEALTH_PATH: &str = "/health-check";
/// Node label of a node's zone.
pub const ZONE_KEY: &str = "topology.kubernetes.io/zone";
/// Node label of a node's name.
pub const HOSTNAME_KEY: &str = "kubernetes.io/hostname";

/// The autoscaler's command-line arguments.
pub fn args(spec: &BaselineSpec, autoscaler: &AutoscalerSpec) -> Vec<String> {
    let mut args = Vec::new();
    match &spec.platform {
        Platform::Eks { .. } => {
            args.push("--cloud-provider=aws".to_string());
            args.push(format!(
                "--node-group-auto-discovery=asg:tag={}",
                autoscaler.node_group_tag_keys.join(",")
            ));
        }
        Platform::Gke { .. } => args.push("--cloud-provider=gce".to_string()),
    }
    if autoscaler.spot_pools.is_empty() {
        args.push("--expander=least-waste".to_string());
    } else {
        args.push("--expander=priority,least-waste".to_string());
    }
    if autoscaler.balance_zones {
        args.push("--balance-similar-node-groups".to_string());
    }
    // System pods (DaemonSets aside) and emptyDir users are movable in this baseline;
    // without these two a node running CoreDNS or a cache would never scale down.
    args.push("--skip-nodes-with-system-pods=false".to_string());
    args.push("--skip-nodes-with-local-storage=false".to_string());
    args
}

fn quantities(cpu: &str, memory: &str) -> BTreeMap<String, Quantity> {
    BTreeMap::from([
        ("cpu".to_string(), Quantity(cpu.to_string())),
        ("memory".to_string(), Quantity(memory.to_string())),
    ])
}

fn toleration(t: &TolerationSpec) -> Toleration {
    Toleration {
        key: Some(t.key.clone()),
        operator: Some(if t.value.is_some() { "Equal" } else { "Exists" }.to_string()),
        value: t.value.clone(),
        effect: t.effect.map(|e| e.as_str().to_string()),
        ..Toleration::default()
    }
}

fn probe() -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(HEALTH_PATH.to_string()),
            port: IntOrString::Int(HTTP_PORT),
            ..HTTPGetAction::default()
        }),
        period_seconds: Some(10),
        timeout_seconds: Some(5),
        failure_threshold: Some(3),
        ..Probe::default()
    }
}

fn spread(key: &str) -> TopologySpreadConstraint {
    TopologySpreadConstraint {
        topology_key: key.to_string(),
        max_skew: 1,
        // Preferred, not required: a replica that cannot be spread still runs.
        when_unsatisfiable: "ScheduleAnyway".to_string(),
        label_selector: Some(LabelSelector {
            match_labels: Some(selector_labels()),
            ..LabelSelector::default()
        }),
        ..TopologySpreadConstraint::default()
    }
}

fn container(spec: &BaselineSpec, autoscaler: &AutoscalerSpec, image: String) -> Container {
    let env = match &spec.platform {
        Platform::Eks { region, .. } => Some(vec![EnvVar {
            name: "AWS_REGION".to_string(),
            value: Some(region.clone()),
            ..EnvVar::default()
        }]),
        Platform::Gke { .. } => None,
    };
    Container {
        name: NAME.to_string(),
        image: Some(image),
        image_pull_policy: Some("IfNotPresent".to_string()),
        // The image's entrypoint is a CMD, so the binary is named here.
        command: Some(vec!["./cluster-autoscaler".to_string()]),
        args: Some(args(spec, autoscaler)),
        env,
        ports: Some(vec![ContainerPort {
            name: Some("http".to_string()),
            container_port: HTTP_PORT,
            protocol: Some("TCP".to_string()),
            ..ContainerPort::default()
        }]),
        resources: Some(ResourceRequirements {
            requests: Some(quantities(REQUEST_CPU, REQUEST_MEMORY)),
            limits: Some(quantities(LIMIT_CPU, LIMIT_MEMORY)),
            ..ResourceRequirements::default()
        }),
        liveness_probe: Some(probe()),
        readiness_probe: Some(probe()),
        security_context: Some(SecurityContext {
            run_as_non_root: Some(true),
            run_as_user: Some(RUN_AS_USER),
            run_as_group: Some(RUN_AS_USER),
            read_only_root_filesystem: Some(true),
            allow_privilege_escalation: Some(false),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".to_string()]),
                ..Capabilities::default()
            }),
            seccomp_profile: Some(runtime_default()),
            ..SecurityContext::default()
        }),
        volume_mounts: Some(vec![VolumeMount {
            name: "tmp".to_string(),
            mount_path: "/tmp".to_string(),
            ..VolumeMount::default()
        }]),
        ..Container::default()
    }
}

fn runtime_default() -> SeccompProfile {
    SeccompProfile {
        type_: "RuntimeDefault".to_string(),
        ..SeccompProfile::default()
    }
}

/// The Deployment; fails when the spec's Kubernetes minor has no autoscaler release.
pub fn deployment(
    spec: &BaselineSpec,
    autoscaler: &AutoscalerSpec,
) -> Result<Deployment, RenderError> {
    let (major, minor) = spec.kubernetes_minor;
    let image = image_for(major, minor).ok_or_else(|| RenderError::Invalid {
        problems: vec![Problem::new(
            "kubernetes_minor",
            format!(
                "no cluster-autoscaler release is known for Kubernetes {major}.{minor}; \
                 use one of {}",
                supported_minors()
            ),
        )],
    })?;
    let mut pod_labels = common_labels(spec, &Component::Autoscaler);
    pod_labels.extend(selector_labels());
    let mut metadata = object_meta(spec, &Component::Autoscaler, NAME, Some(NAMESPACE));
    if let Some(labels) = metadata.labels.as_mut() {
        labels.extend(selector_labels());
    }
    let tolerations: Vec<Toleration> = autoscaler
        .system_pool_tolerations
        .iter()
        .map(toleration)
        .collect();
    Ok(Deployment {
        metadata,
        spec: Some(DeploymentSpec {
            replicas: Some(autoscaler.replicas),
            selector: LabelSelector {
                match_labels: Some(selector_labels()),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(pod_labels),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    service_account_name: Some(NAME.to_string()),
                    priority_class_name: Some(PRIORITY_CLASS.to_string()),
                    containers: vec![container(spec, autoscaler, image)],
                    security_context: Some(PodSecurityContext {
                        run_as_non_root: Some(true),
                        run_as_user: Some(RUN_AS_USER),
                        run_as_group: Some(RUN_AS_USER),
                        fs_group: Some(RUN_AS_USER),
                        seccomp_profile: Some(runtime_default()),
                        ..PodSecurityContext::default()
                    }),
                    node_selector: (!autoscaler.system_pool_selector.is_empty())
                        .then(|| autoscaler.system_pool_selector.clone()),
                    tolerations: (!tolerations.is_empty()).then_some(tolerations),
                    topology_spread_constraints: Some(vec![spread(ZONE_KEY), spread(HOSTNAME_KEY)]),
                    volumes: Some(vec![Volume {
                        name: "tmp".to_string(),
                        empty_dir: Some(EmptyDirVolumeSource::default()),
                        ..Volume::default()
                    }]),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    })
}
