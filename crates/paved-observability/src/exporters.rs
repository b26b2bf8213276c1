//! The exporters Prometheus scrapes besides the kubelets and the API server:
//! kube-state-metrics (the state of Kubernetes objects as series) and
//! node-exporter (each node's kernel, memory and filesystems).
//!
//! Both run least-privileged: kube-state-metrics lists only the kinds our rules
//! and dashboards read (never Secrets or ConfigMaps); node-exporter reads the
//! host's `/proc`, `/sys` and root filesystem through read-only mounts, as
//! `nobody`, without a service-account token.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    DaemonSet, DaemonSetSpec, DaemonSetUpdateStrategy, Deployment, DeploymentSpec,
    RollingUpdateDaemonSet,
};
use k8s_openapi::api::core::v1::{
    Container, HostPathVolumeSource, PodSpec, PodTemplateSpec, Toleration, Volume, VolumeMount,
};
use k8s_openapi::api::rbac::v1::ClusterRole;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use paved_manifests::{Manifest, RenderError};

use crate::labels::{object_meta, skip_checks, Component};
use crate::spec::ObservabilitySpec;
use crate::workload::{
    cluster_role_binding, cluster_scoped_name, container_port, gomaxprocs_env, http_probe,
    pod_meta, pod_security, resources, restricted_container, rule, selector, service,
    service_account, service_port, NOBODY,
};

/// The kube-state-metrics image.
pub const KSM_IMAGE: &str = "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.13.0";
/// The node-exporter image.
pub const NODE_EXPORTER_IMAGE: &str = "quay.io/prometheus/node-exporter:v1.8.2";
/// kube-state-metrics' Deployment, ServiceAccount and Service.
pub const KSM_SERVICE: &str = "kube-state-metrics";
/// node-exporter's DaemonSet, ServiceAccount and Service.
pub const NODE_EXPORTER_SERVICE: &str = "node-exporter";
/// kube-state-metrics' port serving the object metrics.
pub const KSM_METRICS_PORT: u16 = 8080;
/// kube-state-metrics' port serving its own metrics.
pub const KSM_TELEMETRY_PORT: u16 = 8081;
/// node-exporter's port (on the node's network).
pub const NODE_EXPORTER_PORT: u16 = 9100;

/// The kinds kube-state-metrics watches, as its `--resources` flag names them,
/// with the API group each is read from. The rules read pods, nodes, workloads,
/// jobs, autoscalers and volumes; the rest feed the dashboards.
pub const KSM_RESOURCES: [(&str, &str); 16] = [
    ("cronjobs", "batch"),
    ("daemonsets", "apps"),
    ("deployments", "apps"),
    ("horizontalpodautoscalers", "autoscaling"),
    ("jobs", "batch"),
    ("namespaces", ""),
    ("nodes", ""),
    ("persistentvolumeclaims", ""),
    ("persistentvolumes", ""),
    ("poddisruptionbudgets", "policy"),
    ("pods", ""),
    ("replicasets", "apps"),
    ("resourcequotas", ""),
    ("services", ""),
    ("statefulsets", "apps"),
    ("storageclasses", "storage.k8s.io"),
];

/// The objects of this component.
pub(crate) fn objects(spec: &ObservabilitySpec) -> Result<Vec<Manifest>, RenderError> {
    let mut objects = kube_state_metrics(spec)?;
    objects.extend(node_exporter(spec)?);
    Ok(objects)
}

fn kube_state_metrics(spec: &ObservabilitySpec) -> Result<Vec<Manifest>, RenderError> {
    let component = Component::KubeStateMetrics;
    let role_name = cluster_scoped_name(spec, KSM_SERVICE);
    // One rule per API group, listing the group's kinds.
    let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (resource, group) in KSM_RESOURCES {
        groups.entry(group).or_default().push(resource);
    }
    let role = ClusterRole {
        metadata: object_meta(spec, component, &role_name, false),
        rules: Some(
            groups
                .iter()
                .map(|(group, resources)| rule(&[group], resources, &["list", "watch"]))
                .collect(),
        ),
        ..ClusterRole::default()
    };
    let resources_flag: Vec<&str> = KSM_RESOURCES.iter().map(|(r, _)| *r).collect();
    let container = Container {
        name: KSM_SERVICE.to_string(),
        image: Some(KSM_IMAGE.to_string()),
        image_pull_policy: Some("IfNotPresent".to_string()),
        args: Some(vec![
            format!("--port={KSM_METRICS_PORT}"),
            format!("--telemetry-port={KSM_TELEMETRY_PORT}"),
            format!("--resources={}", resources_flag.join(",")),
        ]),
        ports: Some(vec![
            container_port("http-metrics", KSM_METRICS_PORT, "TCP"),
            container_port("telemetry", KSM_TELEMETRY_PORT, "TCP"),
        ]),
        env: Some(vec![gomaxprocs_env()]),
        resources: Some(resources("100m", "256Mi", "1", "512Mi")),
        // `/healthz` answers as soon as the server runs; `/readyz` once the
        // first metrics are gathered (the landing page on older releases).
        liveness_probe: Some(http_probe("/healthz", "http-metrics", 10, 3)),
        readiness_probe: Some(http_probe("/readyz", "telemetry", 10, 3)),
        security_context: Some(restricted_container(NOBODY)),
        ..Container::default()
    };
    let deployment = Deployment {
        metadata: skip_checks(
            object_meta(spec, component, KSM_SERVICE, true),
            &[(
                "CKV_K8S_38",
                "kube-state-metrics lists and watches the objects it exports (read-only ClusterRole)",
            )],
        ),
        spec: Some(DeploymentSpec {
            // One replica: two would export every series twice.
            replicas: Some(1),
            selector: selector(component),
            template: PodTemplateSpec {
                metadata: Some(pod_meta(spec, component, BTreeMap::new())),
                spec: Some(PodSpec {
                    service_account_name: Some(KSM_SERVICE.to_string()),
                    automount_service_account_token: Some(true),
                    security_context: Some(pod_security(NOBODY, NOBODY)),
                    containers: vec![container],
                    node_selector: Some(linux()),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    };
    Ok(vec![
        Manifest::from_object(&service_account(spec, component, KSM_SERVICE, None, true))?,
        Manifest::from_object(&role)?,
        Manifest::from_object(&cluster_role_binding(
            spec,
            component,
            &role_name,
            KSM_SERVICE,
        ))?,
        Manifest::from_object(&service(
            spec,
            component,
            KSM_SERVICE,
            vec![
                service_port("http-metrics", KSM_METRICS_PORT, "TCP"),
                service_port("telemetry", KSM_TELEMETRY_PORT, "TCP"),
            ],
            false,
        ))?,
        Manifest::from_object(&deployment)?,
    ])
}

/// The host paths node-exporter reads, and where they are mounted.
const HOST_MOUNTS: [(&str, &str, &str); 3] = [
    ("proc", "/proc", "/host/proc"),
    ("sys", "/sys", "/host/sys"),
    ("root", "/", "/host/root"),
];

/// Mount points whose filesystems are not the node's own (containers' layers and
/// volumes, kernel filesystems): left out of the filesystem metrics.
const MOUNT_POINTS_EXCLUDED: &str =
    "^/(dev|proc|sys|run/containerd/.+|var/lib/docker/.+|var/lib/kubelet/.+|var/lib/containerd/.+)($|/)";

fn node_exporter(spec: &ObservabilitySpec) -> Result<Vec<Manifest>, RenderError> {
    let component = Component::NodeExporter;
    let container = Container {
        name: NODE_EXPORTER_SERVICE.to_string(),
        image: Some(NODE_EXPORTER_IMAGE.to_string()),
        image_pull_policy: Some("IfNotPresent".to_string()),
        args: Some(vec![
            "--path.procfs=/host/proc".to_string(),
            "--path.sysfs=/host/sys".to_string(),
            "--path.rootfs=/host/root".to_string(),
            format!("--web.listen-address=:{NODE_EXPORTER_PORT}"),
            format!("--collector.filesystem.mount-points-exclude={MOUNT_POINTS_EXCLUDED}"),
            "--no-collector.wifi".to_string(),
            "--no-collector.hwmon".to_string(),
        ]),
        ports: Some(vec![container_port("metrics", NODE_EXPORTER_PORT, "TCP")]),
        env: Some(vec![gomaxprocs_env()]),
        resources: Some(resources("50m", "64Mi", "500m", "128Mi")),
        liveness_probe: Some(http_probe("/", "metrics", 15, 3)),
        readiness_probe: Some(http_probe("/", "metrics", 10, 3)),
        security_context: Some(restricted_container(NOBODY)),
        volume_mounts: Some(
            HOST_MOUNTS
                .iter()
                .map(|(name, _, mount)| VolumeMount {
                    name: name.to_string(),
                    mount_path: mount.to_string(),
                    read_only: Some(true),
                    // Volumes mounted on the node after start are seen too.
                    mount_propagation: (*name == "root").then(|| "HostToContainer".to_string()),
                    ..VolumeMount::default()
                })
                .collect(),
        ),
        ..Container::default()
    };
    let volumes = HOST_MOUNTS
        .iter()
        .map(|(name, path, _)| Volume {
            name: name.to_string(),
            host_path: Some(HostPathVolumeSource {
                path: path.to_string(),
                type_: Some("Directory".to_string()),
            }),
            ..Volume::default()
        })
        .collect();
    let daemon_set = DaemonSet {
        metadata: skip_checks(
            object_meta(spec, component, NODE_EXPORTER_SERVICE, true),
            &[(
                "CKV_K8S_19",
                "node-exporter reports the node's own network interfaces: it needs the host network namespace",
            )],
        ),
        spec: Some(DaemonSetSpec {
            selector: selector(component),
            update_strategy: Some(DaemonSetUpdateStrategy {
                type_: Some("RollingUpdate".to_string()),
                rolling_update: Some(RollingUpdateDaemonSet {
                    max_unavailable: Some(IntOrString::String("10%".to_string())),
                    ..RollingUpdateDaemonSet::default()
                }),
            }),
            template: PodTemplateSpec {
                metadata: Some(pod_meta(spec, component, BTreeMap::new())),
                spec: Some(PodSpec {
                    service_account_name: Some(NODE_EXPORTER_SERVICE.to_string()),
                    automount_service_account_token: Some(false),
                    // The node's network namespace, so the network metrics are
                    // the node's and not the pod's. No host PID namespace: the
                    // host's /proc is read through the mount.
                    host_network: Some(true),
                    dns_policy: Some("ClusterFirstWithHostNet".to_string()),
                    security_context: Some(pod_security(NOBODY, NOBODY)),
                    containers: vec![container],
                    volumes: Some(volumes),
                    node_selector: Some(linux()),
                    // Every node, whatever its taints.
                    tolerations: Some(vec![Toleration {
                        operator: Some("Exists".to_string()),
                        ..Toleration::default()
                    }]),
                    priority_class_name: Some("system-node-critical".to_string()),
                    ..PodSpec::default()
                }),
            },
            ..DaemonSetSpec::default()
        }),
        ..DaemonSet::default()
    };
    Ok(vec![
        Manifest::from_object(&service_account(
            spec,
            component,
            NODE_EXPORTER_SERVICE,
            None,
            false,
        ))?,
        Manifest::from_object(&service(
            spec,
            component,
            NODE_EXPORTER_SERVICE,
            vec![service_port("metrics", NODE_EXPORTER_PORT, "TCP")],
            true,
        ))?,
        Manifest::from_object(&daemon_set)?,
    ])
}

fn linux() -> BTreeMap<String, String> {
    BTreeMap::from([("kubernetes.io/os".to_string(), "linux".to_string())])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::metrics::production;
    use crate::spec::Platform;

    #[test]
    fn ksm_reads_no_secrets_and_only_lists_and_watches() {
        let spec = production(Platform::Gke {
            project: "p".into(),
            location: "europe-west1".into(),
        });
        let objects = kube_state_metrics(&spec).unwrap();
        let role = objects.iter().find(|m| m.kind == "ClusterRole").unwrap();
        let text = role.body.to_string();
        assert!(!text.contains("secrets") && !text.contains("configmaps"));
        for rule in role.body["rules"].as_array().unwrap() {
            assert_eq!(rule["verbs"], serde_json::json!(["list", "watch"]));
        }
        let deployment = objects.iter().find(|m| m.kind == "Deployment").unwrap();
        let args = &deployment.body["spec"]["template"]["spec"]["containers"][0]["args"];
        assert!(args.to_string().contains("--resources=cronjobs,daemonsets"));
        assert_eq!(
            deployment.body["spec"]["template"]["spec"]["containers"][0]["image"],
            KSM_IMAGE
        );
    }

    #[test]
    fn node_exporter_is_read_only_and_tolerates_everything() {
        let spec = production(Platform::Gke {
            project: "p".into(),
            location: "europe-west1".into(),
        });
        let objects = node_exporter(&spec).unwrap();
        let ds = objects.iter().find(|m| m.kind == "DaemonSet").unwrap();
        let pod = &ds.body["spec"]["template"]["spec"];
        assert_eq!(
            pod["tolerations"],
            serde_json::json!([{"operator": "Exists"}])
        );
        assert_eq!(pod["automountServiceAccountToken"], false);
        assert!(pod.get("hostPID").is_none());
        let container = &pod["containers"][0];
        assert_eq!(container["image"], NODE_EXPORTER_IMAGE);
        assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
        assert_eq!(container["securityContext"]["runAsUser"], 65534);
        for mount in container["volumeMounts"].as_array().unwrap() {
            assert_eq!(mount["readOnly"], true, "{mount}");
        }
    }
}
