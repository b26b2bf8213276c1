//! paved's default alert rules, one table: each rule with its expression, how
//! long it must hold, its severity, what it tells the person paged (summary,
//! description, and the runbook: the first thing to check), and the `promtool
//! test rules` cases that prove it fires (and, for the important ones, that it
//! stays quiet when things are fine).
//!
//! Expressions aggregate `by (cluster, ...)` so an alert carries exactly the
//! labels its text uses, and the same rule works on one cluster's Prometheus and
//! on a managed Prometheus holding several clusters (where `cluster` is stored).
//! Annotations use only `{{ $labels.<name> }}`, so the tests can state the
//! expected text exactly.

/// How urgent an alert is: the `severity` label routes and inhibits on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Severity {
    /// Someone must act now.
    Critical,
    /// Someone must act today.
    Warning,
    /// For the record (and the Watchdog).
    Info,
}

impl Severity {
    /// The label value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// The `severity` values a rule may carry.
pub(crate) const SEVERITIES: [&str; 3] = ["critical", "warning", "info"];

/// One `promtool test rules` case: input series (selector, values in promtool's
/// expanding notation, one sample a minute), the time the rule is evaluated at,
/// and the alerts expected then, each as its labels other than `alertname` and
/// `severity`. No expected alerts: the rule must stay quiet.
#[derive(Debug)]
pub(crate) struct Case {
    pub(crate) series: &'static [(&'static str, &'static str)],
    pub(crate) at: &'static str,
    pub(crate) fires: &'static [&'static [(&'static str, &'static str)]],
}

impl Case {
    /// A case where the rule fires, once per label set of `alerts`.
    const fn fires(
        series: &'static [(&'static str, &'static str)],
        at: &'static str,
        alerts: &'static [&'static [(&'static str, &'static str)]],
    ) -> Case {
        Case {
            series,
            at,
            fires: alerts,
        }
    }

    /// A case where the rule must stay quiet.
    const fn quiet(series: &'static [(&'static str, &'static str)], at: &'static str) -> Case {
        Case {
            series,
            at,
            fires: &[],
        }
    }
}

/// One default alert rule.
#[derive(Debug)]
pub(crate) struct DefaultRule {
    pub(crate) group: &'static str,
    pub(crate) alert: &'static str,
    pub(crate) expr: &'static str,
    pub(crate) for_duration: Option<&'static str>,
    pub(crate) severity: Severity,
    pub(crate) summary: &'static str,
    pub(crate) description: &'static str,
    pub(crate) runbook: &'static str,
    pub(crate) cases: &'static [Case],
}

/// The rule groups, in file order.
pub(crate) const GROUPS: [&str; 8] = [
    "paved.watchdog",
    "paved.nodes",
    "paved.kubelet",
    "paved.workloads",
    "paved.storage",
    "paved.apiserver",
    "paved.prometheus",
    "paved.alertmanager",
];

/// Alerts that only make sense where the cluster's operator runs the control
/// plane: the controller manager, the scheduler, etcd and kube-proxy are out of
/// reach (and unscrapable) on EKS and GKE, so paved defines none of them. Should
/// a platform with a self-managed control plane be supported, these are the
/// rules to write, and `rules::control_plane_is_managed` the switch.
pub(crate) const SELF_MANAGED_CONTROL_PLANE_ALERTS: [&str; 7] = [
    "KubeControllerManagerDown",
    "KubeSchedulerDown",
    "EtcdMembersDown",
    "EtcdNoLeader",
    "EtcdHighFsyncDurations",
    "EtcdDatabaseQuotaLow",
    "KubeProxyDown",
];

use Severity::{Critical, Info, Warning};

/// Every default rule, in file order (grouped as [`GROUPS`]).
pub(crate) const RULES: &[DefaultRule] = &[
    // ---------------------------------------------------------------- watchdog
    DefaultRule {
        group: "paved.watchdog",
        alert: "Watchdog",
        expr: "vector(1)",
        for_duration: None,
        severity: Info,
        summary: "Always firing: proves that alerts flow from Prometheus to Alertmanager.",
        description: "This alert fires all the time on purpose. Alertmanager sends it every minute to the heartbeat receiver (an outside dead man's switch) or, without one, to nobody. When the heartbeat stops, alerting is broken.",
        runbook: "Never silence it; if the heartbeat monitor complains, check that the Prometheus and Alertmanager pods run and that Prometheus's Status > Runtime page lists the Alertmanagers.",
        cases: &[Case::fires(&[], "1m", &[&[]])],
    },
    // ------------------------------------------------------------------- nodes
    DefaultRule {
        group: "paved.nodes",
        alert: "NodeNotReady",
        expr: r#"max by (cluster, node) (kube_node_status_condition{job="kube-state-metrics",condition="Ready",status="true"}) == 0"#,
        for_duration: Some("15m"),
        severity: Warning,
        summary: "Node {{ $labels.node }} is not Ready.",
        description: "Node {{ $labels.node }} has not been Ready for 15 minutes: its pods are unreachable or being evicted, and the capacity is gone until it recovers or is replaced.",
        runbook: "Run `kubectl describe node {{ $labels.node }}` and read its conditions and events; then look at the instance in the cloud console (status checks, a preempted spot node).",
        cases: &[
            Case::fires(
                &[
                    (r#"kube_node_status_condition{job="kube-state-metrics",node="n1",condition="Ready",status="true"}"#, "0x20"),
                    (r#"kube_node_status_condition{job="kube-state-metrics",node="n2",condition="Ready",status="true"}"#, "1x20"),
                ],
                "16m",
                &[&[("node", "n1")]],
            ),
            // Still pending: a short blip does not page.
            Case::quiet(&[(r#"kube_node_status_condition{job="kube-state-metrics",node="n1",condition="Ready",status="true"}"#, "0x20")], "10m"),
        ],
    },
    DefaultRule {
        group: "paved.nodes",
        alert: "NodeUnderPressure",
        expr: r#"max by (cluster, node, condition) (kube_node_status_condition{job="kube-state-metrics",condition=~"MemoryPressure|DiskPressure|PIDPressure",status="true"}) == 1"#,
        for_duration: Some("10m"),
        severity: Warning,
        summary: "Node {{ $labels.node }} reports {{ $labels.condition }}.",
        description: "The kubelet on {{ $labels.node }} has reported {{ $labels.condition }} for 10 minutes; it evicts pods and refuses new ones until the pressure goes.",
        runbook: "Run `kubectl describe node {{ $labels.node }}` for the eviction events, then `kubectl top pods -A --sort-by=memory` for the pods using the most on that node.",
        cases: &[
            Case::fires(
                &[
                    (r#"kube_node_status_condition{job="kube-state-metrics",node="n1",condition="DiskPressure",status="true"}"#, "1x15"),
                    (r#"kube_node_status_condition{job="kube-state-metrics",node="n1",condition="MemoryPressure",status="true"}"#, "0x15"),
                ],
                "11m",
                &[&[("node", "n1"), ("condition", "DiskPressure")]],
            ),
        ],
    },
    DefaultRule {
        group: "paved.nodes",
        alert: "NodeFilesystemSpaceLow",
        expr: r#"100 * max by (cluster, instance, device, mountpoint) (node_filesystem_avail_bytes{job="node-exporter",fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs|fuse.*"} / node_filesystem_size_bytes{job="node-exporter",fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs|fuse.*"}) < 15 unless on (cluster, instance, device, mountpoint) max by (cluster, instance, device, mountpoint) (node_filesystem_readonly{job="node-exporter"}) == 1"#,
        for_duration: Some("30m"),
        severity: Warning,
        summary: "Filesystem {{ $labels.mountpoint }} on {{ $labels.instance }} has less than 15% space left.",
        description: "{{ $labels.device }} mounted at {{ $labels.mountpoint }} on node {{ $labels.instance }} has had less than 15% free space for 30 minutes. The kubelet starts evicting pods when the node's disk runs out.",
        runbook: "Check the node's image and container log usage (`kubectl describe node {{ $labels.instance }}`, DiskPressure); unused images are garbage-collected only above the kubelet's threshold.",
        cases: &[
            Case::fires(
                &[
                    (r#"node_filesystem_avail_bytes{job="node-exporter",instance="n1",device="/dev/nvme0n1p1",mountpoint="/",fstype="xfs"}"#, "10x40"),
                    (r#"node_filesystem_size_bytes{job="node-exporter",instance="n1",device="/dev/nvme0n1p1",mountpoint="/",fstype="xfs"}"#, "100x40"),
                    (r#"node_filesystem_readonly{job="node-exporter",instance="n1",device="/dev/nvme0n1p1",mountpoint="/",fstype="xfs"}"#, "0x40"),
                ],
                "31m",
                &[&[("instance", "n1"), ("device", "/dev/nvme0n1p1"), ("mountpoint", "/")]],
            ),
            // A read-only filesystem is full by design.
            Case::quiet(
                &[
                    (r#"node_filesystem_avail_bytes{job="node-exporter",instance="n1",device="/dev/sda1",mountpoint="/usr",fstype="ext4"}"#, "0x40"),
                    (r#"node_filesystem_size_bytes{job="node-exporter",instance="n1",device="/dev/sda1",mountpoint="/usr",fstype="ext4"}"#, "100x40"),
                    (r#"node_filesystem_readonly{job="node-exporter",instance="n1",device="/dev/sda1",mountpoint="/usr",fstype="ext4"}"#, "1x40"),
                ],
                "31m",
            ),
        ],
    },
    DefaultRule {
        group: "paved.nodes",
        alert: "NodeFilesystemSpaceCritical",
        expr: r#"100 * max by (cluster, instance, device, mountpoint) (node_filesystem_avail_bytes{job="node-exporter",fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs|fuse.*"} / node_filesystem_size_bytes{job="node-exporter",fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs|fuse.*"}) < 5 unless on (cluster, instance, device, mountpoint) max by (cluster, instance, device, mountpoint) (node_filesystem_readonly{job="node-exporter"}) == 1"#,
        for_duration: Some("5m"),
        severity: Critical,
        summary: "Filesystem {{ $labels.mountpoint }} on {{ $labels.instance }} is almost full.",
        description: "{{ $labels.device }} mounted at {{ $labels.mountpoint }} on node {{ $labels.instance }} has less than 5% free space; pods on the node are about to be evicted and writes to fail.",
        runbook: "Cordon and drain node {{ $labels.instance }} if it cannot be cleaned quickly; then find what filled it (container logs, emptyDir volumes, images) before it happens on the next node.",
        cases: &[
            Case::fires(
                &[
                    (r#"node_filesystem_avail_bytes{job="node-exporter",instance="n1",device="/dev/nvme0n1p1",mountpoint="/",fstype="xfs"}"#, "3x10"),
                    (r#"node_filesystem_size_bytes{job="node-exporter",instance="n1",device="/dev/nvme0n1p1",mountpoint="/",fstype="xfs"}"#, "100x10"),
                    (r#"node_filesystem_readonly{job="node-exporter",instance="n1",device="/dev/nvme0n1p1",mountpoint="/",fstype="xfs"}"#, "0x10"),
                ],
                "6m",
                &[&[("instance", "n1"), ("device", "/dev/nvme0n1p1"), ("mountpoint", "/")]],
            ),
            Case::quiet(
                &[
                    (r#"node_filesystem_avail_bytes{job="node-exporter",instance="n1",device="/dev/nvme0n1p1",mountpoint="/",fstype="xfs"}"#, "10x10"),
                    (r#"node_filesystem_size_bytes{job="node-exporter",instance="n1",device="/dev/nvme0n1p1",mountpoint="/",fstype="xfs"}"#, "100x10"),
                    (r#"node_filesystem_readonly{job="node-exporter",instance="n1",device="/dev/nvme0n1p1",mountpoint="/",fstype="xfs"}"#, "0x10"),
                ],
                "6m",
            ),
        ],
    },
    DefaultRule {
        group: "paved.nodes",
        alert: "NodeFilesystemInodesLow",
        expr: r#"100 * max by (cluster, instance, device, mountpoint) (node_filesystem_files_free{job="node-exporter",fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs|fuse.*"} / node_filesystem_files{job="node-exporter",fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs|fuse.*"}) < 5 unless on (cluster, instance, device, mountpoint) max by (cluster, instance, device, mountpoint) (node_filesystem_readonly{job="node-exporter"}) == 1"#,
        for_duration: Some("30m"),
        severity: Warning,
        summary: "Filesystem {{ $labels.mountpoint }} on {{ $labels.instance }} is running out of inodes.",
        description: "{{ $labels.device }} mounted at {{ $labels.mountpoint }} on node {{ $labels.instance }} has had less than 5% of its inodes free for 30 minutes; new files cannot be created once they are gone, whatever the free space.",
        runbook: "Look for a pod writing many small files (caches, mail queues, unrotated logs) on node {{ $labels.instance }}, usually in an emptyDir volume.",
        cases: &[
            Case::fires(
                &[
                    (r#"node_filesystem_files_free{job="node-exporter",instance="n1",device="/dev/nvme0n1p1",mountpoint="/",fstype="xfs"}"#, "2x40"),
                    (r#"node_filesystem_files{job="node-exporter",instance="n1",device="/dev/nvme0n1p1",mountpoint="/",fstype="xfs"}"#, "100x40"),
                    (r#"node_filesystem_readonly{job="node-exporter",instance="n1",device="/dev/nvme0n1p1",mountpoint="/",fstype="xfs"}"#, "0x40"),
                ],
                "31m",
                &[&[("instance", "n1"), ("device", "/dev/nvme0n1p1"), ("mountpoint", "/")]],
            ),
        ],
    },
    DefaultRule {
        group: "paved.nodes",
        alert: "NodeMemoryLow",
        expr: r#"100 * max by (cluster, instance) (node_memory_MemAvailable_bytes{job="node-exporter"} / node_memory_MemTotal_bytes{job="node-exporter"}) < 5"#,
        for_duration: Some("15m"),
        severity: Warning,
        summary: "Node {{ $labels.instance }} has less than 5% memory available.",
        description: "Node {{ $labels.instance }} has had less than 5% of its memory available for 15 minutes; the kernel's OOM killer or the kubelet's evictions are next.",
        runbook: "Compare the node's pods' memory use with their requests (`kubectl top pods -A`, `kubectl describe node {{ $labels.instance }}`): pods without limits or with requests far below use overcommit the node.",
        cases: &[
            Case::fires(
                &[
                    (r#"node_memory_MemAvailable_bytes{job="node-exporter",instance="n1"}"#, "2x20"),
                    (r#"node_memory_MemTotal_bytes{job="node-exporter",instance="n1"}"#, "100x20"),
                ],
                "16m",
                &[&[("instance", "n1")]],
            ),
        ],
    },
    DefaultRule {
        group: "paved.nodes",
        alert: "NodeClockSkew",
        expr: r#"max by (cluster, instance) (abs(node_timex_offset_seconds{job="node-exporter"})) > 0.05"#,
        for_duration: Some("10m"),
        severity: Warning,
        summary: "The clock of node {{ $labels.instance }} is off by more than 50ms.",
        description: "Node {{ $labels.instance }}'s clock has been more than 50ms away from its time source for 10 minutes. Skewed clocks break token expiry, TLS and the ordering of logs and metrics.",
        runbook: "Check the node's time synchronisation (chrony on EKS nodes, the metadata server on GKE) and whether it can reach its time source.",
        cases: &[Case::fires(&[(r#"node_timex_offset_seconds{job="node-exporter",instance="n1"}"#, "-0.2+0x15")], "11m", &[&[("instance", "n1")]])],
    },
    DefaultRule {
        group: "paved.nodes",
        alert: "NodeExporterAbsent",
        expr: r#"absent(up{job="node-exporter"} == 1)"#,
        for_duration: Some("15m"),
        severity: Warning,
        summary: "No node-exporter is being scraped.",
        description: "Prometheus has scraped no node-exporter for 15 minutes, so no node alert (disk, memory, clock) can fire.",
        runbook: "Check the node-exporter DaemonSet's pods and events in the stack's namespace, then Prometheus's Targets page for the node-exporter job.",
        cases: &[
            Case::fires(&[(r#"up{job="node-exporter",instance="n1"}"#, "0x20")], "16m", &[&[]]),
            Case::quiet(&[(r#"up{job="node-exporter",instance="n1"}"#, "1x20")], "16m"),
        ],
    },
    // ----------------------------------------------------------------- kubelet
    DefaultRule {
        group: "paved.kubelet",
        alert: "KubeletDown",
        expr: r#"absent(up{job="kubelet"} == 1)"#,
        for_duration: Some("15m"),
        severity: Critical,
        summary: "No kubelet can be scraped.",
        description: "Prometheus has reached no kubelet for 15 minutes: container, volume and kubelet alerts are blind, and the nodes may be unhealthy.",
        runbook: "Check Prometheus's Targets page for the kubelet job's error (certificate, 403: the ClusterRole's nodes/metrics, timeout: a security group or firewall rule on port 10250).",
        cases: &[
            Case::fires(&[(r#"up{job="kubelet",instance="n1"}"#, "0x20")], "16m", &[&[]]),
            Case::quiet(
                &[
                    (r#"up{job="kubelet",instance="n1"}"#, "0x20"),
                    (r#"up{job="kubelet",instance="n2"}"#, "1x20"),
                ],
                "16m",
            ),
        ],
    },
    DefaultRule {
        group: "paved.kubelet",
        alert: "KubeletTooManyPods",
        expr: r#"count by (cluster, node) (kube_pod_info{job="kube-state-metrics",node!=""} * on (cluster, namespace, pod) group_left () (kube_pod_status_phase{job="kube-state-metrics",phase=~"Pending|Running"} == 1)) / on (cluster, node) max by (cluster, node) (kube_node_status_capacity{job="kube-state-metrics",resource="pods"}) > 0.95"#,
        for_duration: Some("15m"),
        severity: Warning,
        summary: "Node {{ $labels.node }} is at its pod limit.",
        description: "Node {{ $labels.node }} runs more than 95% of the pods it can hold; new pods will not be scheduled there, whatever CPU and memory are free.",
        runbook: "Check the node pool's maximum pods per node (on EKS the VPC CNI's IP limit of the instance type, on GKE the pool's max-pods) and whether the autoscaler adds nodes.",
        cases: &[
            Case::fires(
                &[
                    (r#"kube_node_status_capacity{job="kube-state-metrics",node="n1",resource="pods",unit="integer"}"#, "1x20"),
                    (r#"kube_pod_info{job="kube-state-metrics",namespace="shop",pod="web-1",node="n1",uid="u1"}"#, "1x20"),
                    (r#"kube_pod_status_phase{job="kube-state-metrics",namespace="shop",pod="web-1",uid="u1",phase="Running"}"#, "1x20"),
                    (r#"kube_pod_status_phase{job="kube-state-metrics",namespace="shop",pod="web-1",uid="u1",phase="Pending"}"#, "0x20"),
                ],
                "16m",
                &[&[("node", "n1")]],
            ),
            Case::quiet(
                &[
                    (r#"kube_node_status_capacity{job="kube-state-metrics",node="n1",resource="pods",unit="integer"}"#, "110x20"),
                    (r#"kube_pod_info{job="kube-state-metrics",namespace="shop",pod="web-1",node="n1",uid="u1"}"#, "1x20"),
                    (r#"kube_pod_status_phase{job="kube-state-metrics",namespace="shop",pod="web-1",uid="u1",phase="Running"}"#, "1x20"),
                ],
                "16m",
            ),
        ],
    },
    DefaultRule {
        group: "paved.kubelet",
        alert: "KubeletPlegSlow",
        expr: r#"histogram_quantile(0.99, sum by (cluster, instance, le) (rate(kubelet_pleg_relist_duration_seconds_bucket{job="kubelet"}[5m]))) >= 10"#,
        for_duration: Some("5m"),
        severity: Warning,
        summary: "The kubelet on {{ $labels.instance }} is slow to see its containers.",
        description: "The kubelet on {{ $labels.instance }} takes 10 seconds or more (99th percentile) to relist its containers; above a few minutes the node turns NotReady.",
        runbook: "Check the container runtime on node {{ $labels.instance }} (containerd's logs, a very large number of containers, disk I/O saturation).",
        cases: &[
            Case::fires(
                &[
                    (r#"kubelet_pleg_relist_duration_seconds_bucket{job="kubelet",instance="n1",le="1"}"#, "0x15"),
                    (r#"kubelet_pleg_relist_duration_seconds_bucket{job="kubelet",instance="n1",le="10"}"#, "0x15"),
                    (r#"kubelet_pleg_relist_duration_seconds_bucket{job="kubelet",instance="n1",le="+Inf"}"#, "0+10x15"),
                ],
                "11m",
                &[&[("instance", "n1")]],
            ),
        ],
    },
    // --------------------------------------------------------------- workloads
    DefaultRule {
        group: "paved.workloads",
        alert: "PodCrashLooping",
        expr: r#"max by (cluster, namespace, pod, container) (max_over_time(kube_pod_container_status_waiting_reason{job="kube-state-metrics",reason="CrashLoopBackOff"}[5m])) >= 1"#,
        for_duration: Some("15m"),
        severity: Warning,
        summary: "Container {{ $labels.container }} of {{ $labels.namespace }}/{{ $labels.pod }} is crash looping.",
        description: "Container {{ $labels.container }} in pod {{ $labels.namespace }}/{{ $labels.pod }} keeps exiting and has been waiting in CrashLoopBackOff for 15 minutes.",
        runbook: "Read the last run's output with `kubectl logs -n {{ $labels.namespace }} {{ $labels.pod }} -c {{ $labels.container }} --previous`, and the exit reason in `kubectl describe pod`.",
        cases: &[
            Case::fires(&[(r#"kube_pod_container_status_waiting_reason{job="kube-state-metrics",namespace="shop",pod="web-1",container="app",reason="CrashLoopBackOff"}"#, "1x20")], "16m", &[&[("namespace", "shop"), ("pod", "web-1"), ("container", "app")]]),
            Case::quiet(&[(r#"kube_pod_container_status_waiting_reason{job="kube-state-metrics",namespace="shop",pod="web-1",container="app",reason="CrashLoopBackOff"}"#, "0x20")], "16m"),
        ],
    },
    DefaultRule {
        group: "paved.workloads",
        alert: "PodNotReady",
        expr: r#"sum by (cluster, namespace, pod) (kube_pod_status_phase{job="kube-state-metrics",phase=~"Pending|Unknown"}) > 0 or sum by (cluster, namespace, pod) (kube_pod_status_ready{job="kube-state-metrics",condition="false"} * on (cluster, namespace, pod) group_left () kube_pod_status_phase{job="kube-state-metrics",phase="Running"}) > 0"#,
        for_duration: Some("15m"),
        severity: Warning,
        summary: "Pod {{ $labels.namespace }}/{{ $labels.pod }} has not been ready for 15 minutes.",
        description: "Pod {{ $labels.namespace }}/{{ $labels.pod }} has been pending, unknown, or running but not ready for 15 minutes, so it serves no traffic.",
        runbook: "Read the events of `kubectl describe pod -n {{ $labels.namespace }} {{ $labels.pod }}` (unschedulable, image pull, failing readiness probe).",
        cases: &[
            Case::fires(
                &[
                    (r#"kube_pod_status_phase{job="kube-state-metrics",namespace="shop",pod="web-1",uid="u1",phase="Pending"}"#, "1x20"),
                    (r#"kube_pod_status_phase{job="kube-state-metrics",namespace="shop",pod="web-1",uid="u1",phase="Running"}"#, "0x20"),
                ],
                "16m",
                &[&[("namespace", "shop"), ("pod", "web-1")]],
            ),
            Case::fires(
                &[
                    (r#"kube_pod_status_phase{job="kube-state-metrics",namespace="shop",pod="web-2",uid="u2",phase="Pending"}"#, "0x20"),
                    (r#"kube_pod_status_phase{job="kube-state-metrics",namespace="shop",pod="web-2",uid="u2",phase="Running"}"#, "1x20"),
                    (r#"kube_pod_status_ready{job="kube-state-metrics",namespace="shop",pod="web-2",uid="u2",condition="false"}"#, "1x20"),
                ],
                "16m",
                &[&[("namespace", "shop"), ("pod", "web-2")]],
            ),
            Case::quiet(
                &[
                    (r#"kube_pod_status_phase{job="kube-state-metrics",namespace="shop",pod="web-3",uid="u3",phase="Pending"}"#, "0x20"),
                    (r#"kube_pod_status_phase{job="kube-state-metrics",namespace="shop",pod="web-3",uid="u3",phase="Running"}"#, "1x20"),
                    (r#"kube_pod_status_ready{job="kube-state-metrics",namespace="shop",pod="web-3",uid="u3",condition="false"}"#, "0x20"),
                ],
                "16m",
            ),
        ],
    },
    DefaultRule {
        group: "paved.workloads",
        alert: "DeploymentReplicasMismatch",
        expr: r#"max by (cluster, namespace, deployment) (kube_deployment_spec_replicas{job="kube-state-metrics"}) > max by (cluster, namespace, deployment) (kube_deployment_status_replicas_available{job="kube-state-metrics"}) and on (cluster, namespace, deployment) max by (cluster, namespace, deployment) (changes(kube_deployment_status_replicas_updated{job="kube-state-metrics"}[10m])) == 0"#,
        for_duration: Some("15m"),
        severity: Warning,
        summary: "Deployment {{ $labels.namespace }}/{{ $labels.deployment }} is missing replicas.",
        description: "Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has had fewer available replicas than it asks for, with no rollout progressing, for 15 minutes.",
        runbook: "Run `kubectl get pods -n {{ $labels.namespace }}` for the deployment's pods that are not ready, then describe one for its events (scheduling, quota, probes).",
        cases: &[
            Case::fires(
                &[
                    (r#"kube_deployment_spec_replicas{job="kube-state-metrics",namespace="shop",deployment="web"}"#, "3x20"),
                    (r#"kube_deployment_status_replicas_available{job="kube-state-metrics",namespace="shop",deployment="web"}"#, "1x20"),
                    (r#"kube_deployment_status_replicas_updated{job="kube-state-metrics",namespace="shop",deployment="web"}"#, "3x20"),
                ],
                "16m",
                &[&[("namespace", "shop"), ("deployment", "web")]],
            ),
            Case::quiet(
                &[
                    (r#"kube_deployment_spec_replicas{job="kube-state-metrics",namespace="shop",deployment="web"}"#, "3x20"),
                    (r#"kube_deployment_status_replicas_available{job="kube-state-metrics",namespace="shop",deployment="web"}"#, "3x20"),
                    (r#"kube_deployment_status_replicas_updated{job="kube-state-metrics",namespace="shop",deployment="web"}"#, "3x20"),
                ],
                "16m",
            ),
        ],
    },
    DefaultRule {
        group: "paved.workloads",
        alert: "StatefulSetReplicasMismatch",
        expr: r#"max by (cluster, namespace, statefulset) (kube_statefulset_replicas{job="kube-state-metrics"}) > max by (cluster, namespace, statefulset) (kube_statefulset_status_replicas_ready{job="kube-state-metrics"}) and on (cluster, namespace, statefulset) max by (cluster, namespace, statefulset) (changes(kube_statefulset_status_replicas_updated{job="kube-state-metrics"}[10m])) == 0"#,
        for_duration: Some("15m"),
        severity: Warning,
        summary: "StatefulSet {{ $labels.namespace }}/{{ $labels.statefulset }} is missing replicas.",
        description: "StatefulSet {{ $labels.namespace }}/{{ $labels.statefulset }} has had fewer ready replicas than it asks for, with no rollout progressing, for 15 minutes.",
        runbook: "Find the first replica that is not ready (`kubectl get pods -n {{ $labels.namespace }}`): a StatefulSet waits on it, often on its volume claim or its zone.",
        cases: &[
            Case::fires(
                &[
                    (r#"kube_statefulset_replicas{job="kube-state-metrics",namespace="shop",statefulset="db"}"#, "3x20"),
                    (r#"kube_statefulset_status_replicas_ready{job="kube-state-metrics",namespace="shop",statefulset="db"}"#, "2x20"),
                    (r#"kube_statefulset_status_replicas_updated{job="kube-state-metrics",namespace="shop",statefulset="db"}"#, "3x20"),
                ],
                "16m",
                &[&[("namespace", "shop"), ("statefulset", "db")]],
            ),
        ],
    },
    DefaultRule {
        group: "paved.workloads",
        alert: "DaemonSetPodsUnavailable",
        expr: r#"max by (cluster, namespace, daemonset) (kube_daemonset_status_number_unavailable{job="kube-state-metrics"}) > 0"#,
        for_duration: Some("15m"),
        severity: Warning,
        summary: "DaemonSet {{ $labels.namespace }}/{{ $labels.daemonset }} has unavailable pods.",
        description: "Some nodes have had no available pod of DaemonSet {{ $labels.namespace }}/{{ $labels.daemonset }} for 15 minutes, so whatever it does per node (logs, metrics, networking) is missing there.",
        runbook: "Run `kubectl get pods -n {{ $labels.namespace }} -o wide` for the DaemonSet's pods that are not ready and the nodes they are on; check taints the DaemonSet does not tolerate.",
        cases: &[Case::fires(&[(r#"kube_daemonset_status_number_unavailable{job="kube-state-metrics",namespace="kube-system",daemonset="aws-node"}"#, "1x20")], "16m", &[&[("namespace", "kube-system"), ("daemonset", "aws-node")]])],
    },
    DefaultRule {
        group: "paved.workloads",
        alert: "JobFailed",
        expr: r#"max by (cluster, namespace, job_name) (kube_job_failed{job="kube-state-metrics",condition="true"}) > 0"#,
        for_duration: None,
        severity: Warning,
        summary: "Job {{ $labels.namespace }}/{{ $labels.job_name }} failed.",
        description: "Job {{ $labels.namespace }}/{{ $labels.job_name }} has failed (its pods failed more often than its backoff limit allows, or it ran past its deadline). The alert lasts until the Job is deleted.",
        runbook: "Read the failed pods' logs (`kubectl logs -n {{ $labels.namespace }} job/{{ $labels.job_name }}`); once handled, delete the Job to resolve the alert.",
        cases: &[
            Case::fires(&[(r#"kube_job_failed{job="kube-state-metrics",namespace="shop",job_name="backup-1",condition="true"}"#, "1x5")], "1m", &[&[("namespace", "shop"), ("job_name", "backup-1")]]),
            Case::quiet(&[(r#"kube_job_failed{job="kube-state-metrics",namespace="shop",job_name="backup-1",condition="true"}"#, "0x5")], "1m"),
        ],
    },
    DefaultRule {
        group: "paved.workloads",
        alert: "JobRunningTooLong",
        expr: r#"time() - max by (cluster, namespace, job_name) (kube_job_status_start_time{job="kube-state-metrics"}) > 43200 and on (cluster, namespace, job_name) max by (cluster, namespace, job_name) (kube_job_status_active{job="kube-state-metrics"}) > 0"#,
        for_duration: None,
        severity: Warning,
        summary: "Job {{ $labels.namespace }}/{{ $labels.job_name }} has been running for more than 12 hours.",
        description: "Job {{ $labels.namespace }}/{{ $labels.job_name }} started more than 12 hours ago and still has active pods; it may be stuck, and a CronJob's next runs may be skipped.",
        runbook: "Check whether the Job's pod is making progress (`kubectl logs -n {{ $labels.namespace }} job/{{ $labels.job_name }}`); give long Jobs an activeDeadlineSeconds.",
        cases: &[
            Case::fires(
                &[
                    (r#"kube_job_status_start_time{job="kube-state-metrics",namespace="shop",job_name="migrate"}"#, "-50000+0x5"),
                    (r#"kube_job_status_active{job="kube-state-metrics",namespace="shop",job_name="migrate"}"#, "1x5"),
                ],
                "1m",
                &[&[("namespace", "shop"), ("job_name", "migrate")]],
            ),
            Case::quiet(
                &[
                    (r#"kube_job_status_start_time{job="kube-state-metrics",namespace="shop",job_name="migrate"}"#, "-50000+0x5"),
                    (r#"kube_job_status_active{job="kube-state-metrics",namespace="shop",job_name="migrate"}"#, "0x5"),
                ],
                "1m",
            ),
        ],
    },
    DefaultRule {
        group: "paved.workloads",
        alert: "HpaMaxedOut",
        expr: r#"max by (cluster, namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_status_current_replicas{job="kube-state-metrics"}) >= max by (cluster, namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_max_replicas{job="kube-state-metrics"}) and on (cluster, namespace, horizontalpodautoscaler) max by (cluster, namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_max_replicas{job="kube-state-metrics"}) > max by (cluster, namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_min_replicas{job="kube-state-metrics"})"#,
        for_duration: Some("15m"),
        severity: Warning,
        summary: "HPA {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} is at its maximum.",
        description: "HorizontalPodAutoscaler {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} has run at its maximum replicas for 15 minutes: load beyond it is not absorbed.",
        runbook: "Check the workload's latency and saturation; raise maxReplicas if the load is real (and the quota allows it), or look for what drives the metric.",
        cases: &[
            Case::fires(
                &[
                    (r#"kube_horizontalpodautoscaler_status_current_replicas{job="kube-state-metrics",namespace="shop",horizontalpodautoscaler="web"}"#, "10x20"),
                    (r#"kube_horizontalpodautoscaler_spec_max_replicas{job="kube-state-metrics",namespace="shop",horizontalpodautoscaler="web"}"#, "10x20"),
                    (r#"kube_horizontalpodautoscaler_spec_min_replicas{job="kube-state-metrics",namespace="shop",horizontalpodautoscaler="web"}"#, "2x20"),
                ],
                "16m",
                &[&[("namespace", "shop"), ("horizontalpodautoscaler", "web")]],
            ),
            Case::quiet(
                &[
                    (r#"kube_horizontalpodautoscaler_status_current_replicas{job="kube-state-metrics",namespace="shop",horizontalpodautoscaler="web"}"#, "5x20"),
                    (r#"kube_horizontalpodautoscaler_spec_max_replicas{job="kube-state-metrics",namespace="shop",horizontalpodautoscaler="web"}"#, "10x20"),
                    (r#"kube_horizontalpodautoscaler_spec_min_replicas{job="kube-state-metrics",namespace="shop",horizontalpodautoscaler="web"}"#, "2x20"),
                ],
                "16m",
            ),
        ],
    },
    DefaultRule {
        group: "paved.workloads",
        alert: "ContainerOomKilled",
        expr: r#"sum by (cluster, namespace, pod, container) (increase(kube_pod_container_status_restarts_total{job="kube-state-metrics"}[15m])) > 0 and on (cluster, namespace, pod, container) max by (cluster, namespace, pod, container) (kube_pod_container_status_last_terminated_reason{job="kube-state-metrics",reason="OOMKilled"}) == 1"#,
        for_duration: None,
        severity: Warning,
        summary: "Container {{ $labels.container }} of {{ $labels.namespace }}/{{ $labels.pod }} was killed for using too much memory.",
        description: "Container {{ $labels.container }} in pod {{ $labels.namespace }}/{{ $labels.pod }} restarted in the last 15 minutes after hitting its memory limit (OOMKilled).",
        runbook: "Compare the container's memory use before the kill with its limit (`kubectl describe pod -n {{ $labels.namespace }} {{ $labels.pod }}`); raise the limit or find the leak.",
        cases: &[
            Case::fires(
                &[
                    (r#"kube_pod_container_status_restarts_total{job="kube-state-metrics",namespace="shop",pod="web-1",container="app"}"#, "0 0 0 1 1 1 1 1"),
                    (r#"kube_pod_container_status_last_terminated_reason{job="kube-state-metrics",namespace="shop",pod="web-1",container="app",reason="OOMKilled"}"#, "0 0 0 1 1 1 1 1"),
                ],
                "5m",
                &[&[("namespace", "shop"), ("pod", "web-1"), ("container", "app")]],
            ),
        ],
    },
    DefaultRule {
        group: "paved.workloads",
        alert: "KubeStateMetricsAbsent",
        expr: r#"absent(up{job="kube-state-metrics"} == 1)"#,
        for_duration: Some("15m"),
        severity: Critical,
        summary: "kube-state-metrics is not being scraped.",
        description: "Prometheus has not scraped kube-state-metrics for 15 minutes: every alert on pods, workloads, jobs and nodes' readiness is blind.",
        runbook: "Check the kube-state-metrics Deployment's pod in the stack's namespace (`kubectl describe`, its logs: RBAC errors list what it may not read).",
        cases: &[
            Case::fires(&[(r#"up{job="kube-state-metrics",instance="10.0.0.5:8080"}"#, "0x20")], "16m", &[&[]]),
            Case::quiet(&[(r#"up{job="kube-state-metrics",instance="10.0.0.5:8080"}"#, "1x20")], "16m"),
        ],
    },
    // ----------------------------------------------------------------- storage
    DefaultRule {
        group: "paved.storage",
        alert: "PersistentVolumeFillingUp",
        expr: r#"100 * max by (cluster, namespace, persistentvolumeclaim) (kubelet_volume_stats_available_bytes{job="kubelet"} / kubelet_volume_stats_capacity_bytes{job="kubelet"}) < 10 unless on (cluster, namespace, persistentvolumeclaim) max by (cluster, namespace, persistentvolumeclaim) (kube_persistentvolumeclaim_access_mode{job="kube-state-metrics",access_mode="ReadOnlyMany"}) == 1"#,
        for_duration: Some("5m"),
        severity: Warning,
        summary: "Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} has less than 10% space left.",
        description: "The volume claimed by {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} has had less than 10% free space for 5 minutes.",
        runbook: "Expand the claim (`kubectl edit pvc -n {{ $labels.namespace }} {{ $labels.persistentvolumeclaim }}`, the StorageClass allows expansion) or clean up what the application keeps.",
        cases: &[
            Case::fires(
                &[
                    (r#"kubelet_volume_stats_available_bytes{job="kubelet",namespace="shop",persistentvolumeclaim="data-db-0"}"#, "5x10"),
                    (r#"kubelet_volume_stats_capacity_bytes{job="kubelet",namespace="shop",persistentvolumeclaim="data-db-0"}"#, "100x10"),
                ],
                "6m",
                &[&[("namespace", "shop"), ("persistentvolumeclaim", "data-db-0")]],
            ),
            // Read-only volumes are full by design.
            Case::quiet(
                &[
                    (r#"kubelet_volume_stats_available_bytes{job="kubelet",namespace="shop",persistentvolumeclaim="assets"}"#, "5x10"),
                    (r#"kubelet_volume_stats_capacity_bytes{job="kubelet",namespace="shop",persistentvolumeclaim="assets"}"#, "100x10"),
                    (r#"kube_persistentvolumeclaim_access_mode{job="kube-state-metrics",namespace="shop",persistentvolumeclaim="assets",access_mode="ReadOnlyMany"}"#, "1x10"),
                ],
                "6m",
            ),
        ],
    },
    DefaultRule {
        group: "paved.storage",
        alert: "PersistentVolumeFull",
        expr: r#"100 * max by (cluster, namespace, persistentvolumeclaim) (kubelet_volume_stats_available_bytes{job="kubelet"} / kubelet_volume_stats_capacity_bytes{job="kubelet"}) < 3 unless on (cluster, namespace, persistentvolumeclaim) max by (cluster, namespace, persistentvolumeclaim) (kube_persistentvolumeclaim_access_mode{job="kube-state-metrics",access_mode="ReadOnlyMany"}) == 1"#,
        for_duration: Some("1m"),
        severity: Critical,
        summary: "Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is almost full.",
        description: "The volume claimed by {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} has less than 3% free space; the application's writes are about to fail.",
        runbook: "Expand the claim now (`kubectl edit pvc -n {{ $labels.namespace }} {{ $labels.persistentvolumeclaim }}`); a database may need to be stopped before it corrupts.",
        cases: &[
            Case::fires(
                &[
                    (r#"kubelet_volume_stats_available_bytes{job="kubelet",namespace="shop",persistentvolumeclaim="data-db-0"}"#, "1x10"),
                    (r#"kubelet_volume_stats_capacity_bytes{job="kubelet",namespace="shop",persistentvolumeclaim="data-db-0"}"#, "100x10"),
                ],
                "2m",
                &[&[("namespace", "shop"), ("persistentvolumeclaim", "data-db-0")]],
            ),
        ],
    },
    DefaultRule {
        group: "paved.storage",
        alert: "PersistentVolumePredictedFull",
        expr: r#"(100 * max by (cluster, namespace, persistentvolumeclaim) (kubelet_volume_stats_available_bytes{job="kubelet"} / kubelet_volume_stats_capacity_bytes{job="kubelet"}) < 15) and on (cluster, namespace, persistentvolumeclaim) (max by (cluster, namespace, persistentvolumeclaim) (predict_linear(kubelet_volume_stats_available_bytes{job="kubelet"}[6h], 4 * 24 * 3600)) < 0) unless on (cluster, namespace, persistentvolumeclaim) max by (cluster, namespace, persistentvolumeclaim) (kube_persistentvolumeclaim_access_mode{job="kube-state-metrics",access_mode="ReadOnlyMany"}) == 1"#,
        for_duration: Some("1h"),
        severity: Warning,
        summary: "Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} will be full within four days.",
        description: "The volume claimed by {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} has less than 15% free space and, at the rate of the last 6 hours, fills up within four days.",
        runbook: "Check what grows on the volume (retention settings, logs, a backlog) and plan an expansion of the claim before it is urgent.",
        cases: &[
            Case::fires(
                &[
                    (r#"kubelet_volume_stats_available_bytes{job="kubelet",namespace="shop",persistentvolumeclaim="logs"}"#, "1400-1x80"),
                    (r#"kubelet_volume_stats_capacity_bytes{job="kubelet",namespace="shop",persistentvolumeclaim="logs"}"#, "10000x80"),
                ],
                "70m",
                &[&[("namespace", "shop"), ("persistentvolumeclaim", "logs")]],
            ),
            // Low but steady: nothing to predict.
            Case::quiet(
                &[
                    (r#"kubelet_volume_stats_available_bytes{job="kubelet",namespace="shop",persistentvolumeclaim="logs"}"#, "1400x80"),
                    (r#"kubelet_volume_stats_capacity_bytes{job="kubelet",namespace="shop",persistentvolumeclaim="logs"}"#, "10000x80"),
                ],
                "70m",
            ),
        ],
    },
    DefaultRule {
        group: "paved.storage",
        alert: "PersistentVolumeErrors",
        expr: r#"max by (cluster, persistentvolume, phase) (kube_persistentvolume_status_phase{job="kube-state-metrics",phase=~"Failed|Pending"}) > 0"#,
        for_duration: Some("5m"),
        severity: Warning,
        summary: "PersistentVolume {{ $labels.persistentvolume }} is {{ $labels.phase }}.",
        description: "PersistentVolume {{ $labels.persistentvolume }} has been in phase {{ $labels.phase }} for 5 minutes; the claim bound to it cannot be used.",
        runbook: "Run `kubectl describe pv {{ $labels.persistentvolume }}` for the provisioner's or the CSI driver's error (quota, zone, KMS key permissions).",
        cases: &[Case::fires(&[(r#"kube_persistentvolume_status_phase{job="kube-state-metrics",persistentvolume="pv-1",phase="Failed"}"#, "1x10")], "6m", &[&[("persistentvolume", "pv-1"), ("phase", "Failed")]])],
    },
    // --------------------------------------------------------------- apiserver
    DefaultRule {
        group: "paved.apiserver",
        alert: "ApiServerUnreachable",
        expr: r#"absent(up{job="apiserver"} == 1)"#,
        for_duration: Some("5m"),
        severity: Critical,
        summary: "The Kubernetes API server cannot be scraped.",
        description: "Prometheus has not reached the API server for 5 minutes. The control plane is the cloud's, but nothing can be deployed or scaled while it is unreachable from inside the cluster.",
        runbook: "Run `kubectl get --raw /readyz` from outside; then check the cloud's status page for the control plane and Prometheus's Targets page for the apiserver job's error.",
        cases: &[
            Case::fires(&[(r#"up{job="apiserver",instance="10.0.0.1:443"}"#, "0x10")], "6m", &[&[]]),
            Case::quiet(&[(r#"up{job="apiserver",instance="10.0.0.1:443"}"#, "1x10")], "6m"),
        ],
    },
    DefaultRule {
        group: "paved.apiserver",
        alert: "ApiServerErrorsHigh",
        expr: r#"sum by (cluster) (rate(apiserver_request_total{job="apiserver",code=~"5.."}[5m])) / sum by (cluster) (rate(apiserver_request_total{job="apiserver"}[5m])) > 0.05"#,
        for_duration: Some("10m"),
        severity: Warning,
        summary: "More than 5% of API server requests fail.",
        description: "For 10 minutes more than 5% of the requests to the Kubernetes API server have failed with a server error (5xx).",
        runbook: "Look for a failing admission webhook or aggregated API (`kubectl get apiservices`, webhook timeouts in events) before suspecting the managed control plane.",
        cases: &[
            Case::fires(
                &[
                    (r#"apiserver_request_total{job="apiserver",verb="GET",code="200"}"#, "0+100x20"),
                    (r#"apiserver_request_total{job="apiserver",verb="GET",code="503"}"#, "0+10x20"),
                ],
                "16m",
                &[&[]],
            ),
            Case::quiet(
                &[
                    (r#"apiserver_request_total{job="apiserver",verb="GET",code="200"}"#, "0+100x20"),
                    (r#"apiserver_request_total{job="apiserver",verb="GET",code="503"}"#, "0+1x20"),
                ],
                "16m",
            ),
        ],
    },
    DefaultRule {
        group: "paved.apiserver",
        alert: "ApiServerLatencyHigh",
        expr: r#"histogram_quantile(0.99, sum by (cluster, verb, le) (rate(apiserver_request_duration_seconds_bucket{job="apiserver",verb!~"LIST|WATCH|CONNECT"}[5m]))) > 1"#,
        for_duration: Some("10m"),
        severity: Warning,
        summary: "API server {{ $labels.verb }} requests are slow.",
        description: "For 10 minutes the 99th percentile of the API server's {{ $labels.verb }} requests has been above one second.",
        runbook: "Check admission webhooks' latency first (`apiserver_admission_webhook_admission_duration_seconds`), then clients flooding the API (`apiserver_request_total` by user agent).",
        cases: &[
            Case::fires(
                &[
                    (r#"apiserver_request_duration_seconds_bucket{job="apiserver",verb="GET",le="0.5"}"#, "0x20"),
                    (r#"apiserver_request_duration_seconds_bucket{job="apiserver",verb="GET",le="1"}"#, "0x20"),
                    (r#"apiserver_request_duration_seconds_bucket{job="apiserver",verb="GET",le="5"}"#, "0+10x20"),
                    (r#"apiserver_request_duration_seconds_bucket{job="apiserver",verb="GET",le="+Inf"}"#, "0+10x20"),
                ],
                "16m",
                &[&[("verb", "GET")]],
            ),
            // LIST requests may be slow: they are left out.
            Case::quiet(
                &[
                    (r#"apiserver_request_duration_seconds_bucket{job="apiserver",verb="LIST",le="1"}"#, "0x20"),
                    (r#"apiserver_request_duration_seconds_bucket{job="apiserver",verb="LIST",le="5"}"#, "0+10x20"),
                    (r#"apiserver_request_duration_seconds_bucket{job="apiserver",verb="LIST",le="+Inf"}"#, "0+10x20"),
                ],
                "16m",
            ),
        ],
    },
    DefaultRule {
        group: "paved.apiserver",
        alert: "ApiServerClientCertificateExpiringSoon",
        expr: r#"histogram_quantile(0.01, sum by (cluster, instance, le) (rate(apiserver_client_certificate_expiration_seconds_bucket{job="apiserver"}[5m]))) < 604800"#,
        for_duration: Some("5m"),
        severity: Warning,
        summary: "A client certificate used with the API server expires within 7 days.",
        description: "Some client authenticating to the API server (at {{ $labels.instance }}) with a certificate has less than 7 days before it expires.",
        runbook: "Find clients using certificate authentication (kubeconfigs with client-certificate-data, long-lived CSR-issued certs) and renew them; node certificates rotate by themselves.",
        cases: &[
            Case::fires(
                &[
                    (r#"apiserver_client_certificate_expiration_seconds_bucket{job="apiserver",instance="10.0.0.1:443",le="86400"}"#, "0x15"),
                    (r#"apiserver_client_certificate_expiration_seconds_bucket{job="apiserver",instance="10.0.0.1:443",le="172800"}"#, "0+10x15"),
                    (r#"apiserver_client_certificate_expiration_seconds_bucket{job="apiserver",instance="10.0.0.1:443",le="604800"}"#, "0+10x15"),
                    (r#"apiserver_client_certificate_expiration_seconds_bucket{job="apiserver",instance="10.0.0.1:443",le="+Inf"}"#, "0+10x15"),
                ],
                "11m",
                &[&[("instance", "10.0.0.1:443")]],
            ),
        ],
    },
    DefaultRule {
        group: "paved.apiserver",
        alert: "ApiServerClientCertificateExpiring",
        expr: r#"histogram_quantile(0.01, sum by (cluster, instance, le) (rate(apiserver_client_certificate_expiration_seconds_bucket{job="apiserver"}[5m]))) < 86400"#,
        for_duration: Some("5m"),
        severity: Critical,
        summary: "A client certificate used with the API server expires within 24 hours.",
        description: "Some client authenticating to the API server (at {{ $labels.instance }}) with a certificate has less than 24 hours before it expires; it will be locked out.",
        runbook: "Renew the expiring client certificate now (see ApiServerClientCertificateExpiringSoon); the API server's audit log names the user of each certificate.",
        cases: &[
            Case::fires(
                &[
                    (r#"apiserver_client_certificate_expiration_seconds_bucket{job="apiserver",instance="10.0.0.1:443",le="21600"}"#, "0+10x15"),
                    (r#"apiserver_client_certificate_expiration_seconds_bucket{job="apiserver",instance="10.0.0.1:443",le="86400"}"#, "0+10x15"),
                    (r#"apiserver_client_certificate_expiration_seconds_bucket{job="apiserver",instance="10.0.0.1:443",le="+Inf"}"#, "0+10x15"),
                ],
                "11m",
                &[&[("instance", "10.0.0.1:443")]],
            ),
            // Two days left: the warning only.
            Case::quiet(
                &[
                    (r#"apiserver_client_certificate_expiration_seconds_bucket{job="apiserver",instance="10.0.0.1:443",le="86400"}"#, "0x15"),
                    (r#"apiserver_client_certificate_expiration_seconds_bucket{job="apiserver",instance="10.0.0.1:443",le="172800"}"#, "0+10x15"),
                    (r#"apiserver_client_certificate_expiration_seconds_bucket{job="apiserver",instance="10.0.0.1:443",le="+Inf"}"#, "0+10x15"),
                ],
                "11m",
            ),
        ],
    },
    // -------------------------------------------------------------- prometheus
    DefaultRule {
        group: "paved.prometheus",
        alert: "TargetDown",
        expr: r#"100 * (count by (cluster, job) (up == 0) / count by (cluster, job) (up)) > 10"#,
        for_duration: Some("15m"),
        severity: Warning,
        summary: "More than 10% of the {{ $labels.job }} targets are down.",
        description: "For 15 minutes Prometheus has failed to scrape more than 10% of the targets of job {{ $labels.job }}; their metrics, and the alerts on them, are missing.",
        runbook: "Open Prometheus's Targets page and read the error of the {{ $labels.job }} targets that are down (connection refused, timeout, 401/403).",
        cases: &[
            Case::fires(
                &[
                    (r#"up{job="cadvisor",instance="n1"}"#, "0x20"),
                    (r#"up{job="cadvisor",instance="n2"}"#, "1x20"),
                ],
                "16m",
                &[&[("job", "cadvisor")]],
            ),
            Case::quiet(&[(r#"up{job="cadvisor",instance="n1"}"#, "1x20")], "16m"),
        ],
    },
    DefaultRule {
        group: "paved.prometheus",
        alert: "PrometheusConfigReloadFailed",
        expr: r#"max by (cluster, namespace, pod) (prometheus_config_last_reload_successful{job="prometheus"}) == 0"#,
        for_duration: Some("10m"),
        severity: Warning,
        summary: "Prometheus {{ $labels.pod }} could not load its configuration.",
        description: "Prometheus {{ $labels.namespace }}/{{ $labels.pod }} failed to load its last configuration and keeps running the previous one.",
        runbook: "Read the pod's log (`kubectl logs -n {{ $labels.namespace }} {{ $labels.pod }}`) for the loading error; the configuration is paved's, so report it.",
        cases: &[Case::fires(&[(r#"prometheus_config_last_reload_successful{job="prometheus",namespace="observability",pod="prometheus-0"}"#, "0x15")], "11m", &[&[("namespace", "observability"), ("pod", "prometheus-0")]])],
    },
    DefaultRule {
        group: "paved.prometheus",
        alert: "PrometheusRuleEvaluationFailures",
        expr: r#"sum by (cluster, namespace, pod) (increase(prometheus_rule_evaluation_failures_total{job="prometheus"}[5m])) > 0"#,
        for_duration: Some("15m"),
        severity: Critical,
        summary: "Prometheus {{ $labels.pod }} fails to evaluate rules.",
        description: "Prometheus {{ $labels.namespace }}/{{ $labels.pod }} has failed rule evaluations for 15 minutes; the alerts of those rules cannot fire.",
        runbook: "Open Prometheus's Rules page for the failing rule's error (often a many-to-many match after an override changed an expression).",
        cases: &[
            Case::fires(&[(r#"prometheus_rule_evaluation_failures_total{job="prometheus",namespace="observability",pod="prometheus-0",rule_group="paved.nodes"}"#, "0+1x20")], "16m", &[&[("namespace", "observability"), ("pod", "prometheus-0")]]),
            Case::quiet(&[(r#"prometheus_rule_evaluation_failures_total{job="prometheus",namespace="observability",pod="prometheus-0",rule_group="paved.nodes"}"#, "3x20")], "16m"),
        ],
    },
    DefaultRule {
        group: "paved.prometheus",
        alert: "PrometheusTsdbCompactionsFailing",
        expr: r#"sum by (cluster, namespace, pod) (increase(prometheus_tsdb_compactions_failed_total{job="prometheus"}[3h])) > 0"#,
        for_duration: Some("15m"),
        severity: Warning,
        summary: "Prometheus {{ $labels.pod }} fails to compact its storage.",
        description: "Prometheus {{ $labels.namespace }}/{{ $labels.pod }} has had failed compactions in the last 3 hours; its disk use and memory grow until it is fixed.",
        runbook: "Read the pod's log for the compaction error; a full volume is the usual cause (PersistentVolumeFillingUp on its data claim).",
        cases: &[Case::fires(&[(r#"prometheus_tsdb_compactions_failed_total{job="prometheus",namespace="observability",pod="prometheus-1"}"#, "0+1x20")], "16m", &[&[("namespace", "observability"), ("pod", "prometheus-1")]])],
    },
    DefaultRule {
        group: "paved.prometheus",
        alert: "PrometheusNotificationQueueFilling",
        expr: r#"max by (cluster, namespace, pod) (predict_linear(prometheus_notifications_queue_length{job="prometheus"}[5m], 1800)) > max by (cluster, namespace, pod) (min_over_time(prometheus_notifications_queue_capacity{job="prometheus"}[5m]))"#,
        for_duration: Some("15m"),
        severity: Warning,
        summary: "Prometheus {{ $labels.pod }}'s alert queue will be full within 30 minutes.",
        description: "The queue of alerts Prometheus {{ $labels.namespace }}/{{ $labels.pod }} sends to Alertmanager grows; once full, alerts are dropped.",
        runbook: "Check that the Alertmanagers answer (PrometheusNotificationErrors, their pods) and whether a rule produces a flood of alerts.",
        cases: &[
            Case::fires(
                &[
                    (r#"prometheus_notifications_queue_length{job="prometheus",namespace="observability",pod="prometheus-0"}"#, "0+500x20"),
                    (r#"prometheus_notifications_queue_capacity{job="prometheus",namespace="observability",pod="prometheus-0"}"#, "10000x20"),
                ],
                "17m",
                &[&[("namespace", "observability"), ("pod", "prometheus-0")]],
            ),
        ],
    },
    DefaultRule {
        group: "paved.prometheus",
        alert: "PrometheusNotificationErrors",
        expr: r#"100 * sum by (cluster, namespace, pod) (rate(prometheus_notifications_errors_total{job="prometheus"}[5m])) / sum by (cluster, namespace, pod) (rate(prometheus_notifications_sent_total{job="prometheus"}[5m])) > 3"#,
        for_duration: Some("15m"),
        severity: Warning,
        summary: "Prometheus {{ $labels.pod }} fails to send alerts to Alertmanager.",
        description: "More than 3% of the alerts Prometheus {{ $labels.namespace }}/{{ $labels.pod }} sends to Alertmanager have failed for 15 minutes.",
        runbook: "Read the Prometheus pod's log for the notifier's error, then check the Alertmanager pods and the `alertmanager` Service's endpoints.",
        cases: &[
            Case::fires(
                &[
                    (r#"prometheus_notifications_errors_total{job="prometheus",namespace="observability",pod="prometheus-0",alertmanager="http://10.0.0.9:9093/api/v2/alerts"}"#, "0+5x20"),
                    (r#"prometheus_notifications_sent_total{job="prometheus",namespace="observability",pod="prometheus-0",alertmanager="http://10.0.0.9:9093/api/v2/alerts"}"#, "0+10x20"),
                ],
                "16m",
                &[&[("namespace", "observability"), ("pod", "prometheus-0")]],
            ),
        ],
    },
    DefaultRule {
        group: "paved.prometheus",
        alert: "PrometheusAlertmanagersMissing",
        expr: r#"max by (cluster, namespace, pod) (max_over_time(prometheus_notifications_alertmanagers_discovered{job="prometheus"}[5m])) < 1"#,
        for_duration: Some("10m"),
        severity: Warning,
        summary: "Prometheus {{ $labels.pod }} has found no Alertmanager.",
        description: "Prometheus {{ $labels.namespace }}/{{ $labels.pod }} has discovered no Alertmanager for 10 minutes, so its alerts go nowhere (the heartbeat, if configured, stops too).",
        runbook: "Check the `alertmanager` Service's endpoints (`kubectl get endpointslices -n {{ $labels.namespace }}`) and the Alertmanager pods' readiness.",
        cases: &[Case::fires(&[(r#"prometheus_notifications_alertmanagers_discovered{job="prometheus",namespace="observability",pod="prometheus-0"}"#, "0x15")], "11m", &[&[("namespace", "observability"), ("pod", "prometheus-0")]])],
    },
    // ------------------------------------------------------------ alertmanager
    DefaultRule {
        group: "paved.alertmanager",
        alert: "AlertmanagerConfigReloadFailed",
        expr: r#"max by (cluster, namespace, pod) (alertmanager_config_last_reload_successful{job="alertmanager"}) == 0"#,
        for_duration: Some("10m"),
        severity: Critical,
        summary: "Alertmanager {{ $labels.pod }} could not load its configuration.",
        description: "Alertmanager {{ $labels.namespace }}/{{ $labels.pod }} failed to load its configuration and keeps the previous one: receivers or routes changed since are not in effect.",
        runbook: "Read the pod's log (`kubectl logs -n {{ $labels.namespace }} {{ $labels.pod }}`); a receiver secret that is not a valid URL is the usual cause.",
        cases: &[Case::fires(&[(r#"alertmanager_config_last_reload_successful{job="alertmanager",namespace="observability",pod="alertmanager-0"}"#, "0x15")], "11m", &[&[("namespace", "observability"), ("pod", "alertmanager-0")]])],
    },
    DefaultRule {
        group: "paved.alertmanager",
        alert: "AlertmanagerClusterMembersMismatch",
        expr: r#"max by (cluster, namespace, pod) (max_over_time(alertmanager_cluster_members{job="alertmanager"}[5m])) < on (cluster, namespace) group_left () count by (cluster, namespace) (max_over_time(alertmanager_cluster_members{job="alertmanager"}[5m]))"#,
        for_duration: Some("15m"),
        severity: Warning,
        summary: "Alertmanager {{ $labels.pod }} does not see all its peers.",
        description: "Alertmanager {{ $labels.namespace }}/{{ $labels.pod }} sees fewer cluster members than there are Alertmanagers: notifications may be sent twice and silences not shared.",
        runbook: "Check that the gossip port 9094 (TCP and UDP) is open between the Alertmanager pods (network policies) and the `alertmanager-cluster` Service resolves each pod.",
        cases: &[
            Case::fires(
                &[
                    (r#"alertmanager_cluster_members{job="alertmanager",namespace="observability",pod="alertmanager-0"}"#, "1x20"),
                    (r#"alertmanager_cluster_members{job="alertmanager",namespace="observability",pod="alertmanager-1"}"#, "1x20"),
                ],
                "16m",
                &[
                    &[("namespace", "observability"), ("pod", "alertmanager-0")],
                    &[("namespace", "observability"), ("pod", "alertmanager-1")],
                ],
            ),
            Case::quiet(
                &[
                    (r#"alertmanager_cluster_members{job="alertmanager",namespace="observability",pod="alertmanager-0"}"#, "2x20"),
                    (r#"alertmanager_cluster_members{job="alertmanager",namespace="observability",pod="alertmanager-1"}"#, "2x20"),
                ],
                "16m",
            ),
        ],
    },
    DefaultRule {
        group: "paved.alertmanager",
        alert: "AlertmanagerNotificationsFailing",
        expr: r#"sum by (cluster, namespace, pod, integration) (rate(alertmanager_notifications_failed_total{job="alertmanager"}[5m])) / sum by (cluster, namespace, pod, integration) (rate(alertmanager_notifications_total{job="alertmanager"}[5m])) > 0.01"#,
        for_duration: Some("5m"),
        severity: Critical,
        summary: "Alertmanager {{ $labels.pod }} fails to send {{ $labels.integration }} notifications.",
        description: "More than 1% of the {{ $labels.integration }} notifications of Alertmanager {{ $labels.namespace }}/{{ $labels.pod }} have failed for 5 minutes: alerts are not reaching people.",
        runbook: "Read the Alertmanager pod's log for the {{ $labels.integration }} error (a revoked webhook URL or key, the SMTP relay refusing); fix the secret in the cloud's secret store.",
        cases: &[
            Case::fires(
                &[
                    (r#"alertmanager_notifications_failed_total{job="alertmanager",namespace="observability",pod="alertmanager-0",integration="slack"}"#, "0+1x15"),
                    (r#"alertmanager_notifications_total{job="alertmanager",namespace="observability",pod="alertmanager-0",integration="slack"}"#, "0+10x15"),
                ],
                "11m",
                &[&[("namespace", "observability"), ("pod", "alertmanager-0"), ("integration", "slack")]],
            ),
            Case::quiet(
                &[
                    (r#"alertmanager_notifications_failed_total{job="alertmanager",namespace="observability",pod="alertmanager-0",integration="slack"}"#, "0x15"),
                    (r#"alertmanager_notifications_total{job="alertmanager",namespace="observability",pod="alertmanager-0",integration="slack"}"#, "0+10x15"),
                ],
                "11m",
            ),
        ],
    },
];

/// The job names the rules select on, for the test that every one is scraped.
#[cfg(test)]
pub(crate) const SELECTED_JOBS: [&str; 6] = [
    "kube-state-metrics",
    "node-exporter",
    "kubelet",
    "apiserver",
    "prometheus",
    "alertmanager",
];
