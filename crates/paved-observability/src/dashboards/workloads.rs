//! Namespaces and pods: CPU (and throttling), memory (and against the limit),
//! restarts, containers waiting and why, and the pods' logs when logs are on.

use super::{q, Board, Unit, CONTAINERS};
use crate::spec::ObservabilitySpec;
use crate::typed::grafana::Dashboard;

/// The workloads dashboard.
pub(crate) fn dashboard(spec: &ObservabilitySpec) -> Dashboard {
    let sel = r#"namespace=~"$namespace",pod=~"$pod""#;
    let mut board = Board::new(
        spec,
        "workloads",
        "Workloads",
        "CPU, memory, restarts and waiting containers of the pods of a namespace.",
    )
    .variable("namespace", "namespace", "kube_namespace_status_phase", "Namespace")
    .variable("pod", "pod", "kube_pod_info{namespace=~\"$namespace\"}", "Pod")
    .row("CPU")
    .graph(
        "CPU used",
        "CPU cores used by each pod's containers.",
        Unit::Cores,
        12,
        vec![q(
            format!("sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{{{sel},{CONTAINERS}}}[$__rate_interval]))"),
            "{{namespace}}/{{pod}}",
        )],
    )
    .graph(
        "CPU throttled",
        "Share of CPU periods in which the pod's containers hit their CPU limit.",
        Unit::Ratio,
        12,
        vec![q(
            format!("sum by (namespace, pod) (rate(container_cpu_cfs_throttled_periods_total{{{sel},{CONTAINERS}}}[$__rate_interval])) / sum by (namespace, pod) (rate(container_cpu_cfs_periods_total{{{sel},{CONTAINERS}}}[$__rate_interval]))"),
            "{{namespace}}/{{pod}}",
        )],
    )
    .row("Memory")
    .graph(
        "Memory used",
        "Working set of each pod's containers (what the OOM killer counts).",
        Unit::Bytes,
        12,
        vec![q(
            format!("sum by (namespace, pod) (container_memory_working_set_bytes{{{sel},{CONTAINERS}}})"),
            "{{namespace}}/{{pod}}",
        )],
    )
    .graph(
        "Memory against limit",
        "Working set of each pod, of its memory limit (pods without a limit are absent).",
        Unit::Ratio,
        12,
        vec![q(
            format!("sum by (namespace, pod) (container_memory_working_set_bytes{{{sel},{CONTAINERS}}}) / sum by (namespace, pod) (kube_pod_container_resource_limits{{resource=\"memory\",{sel}}})"),
            "{{namespace}}/{{pod}}",
        )],
    )
    .row("Restarts and readiness")
    .graph(
        "Restarts",
        "Container restarts in the last hour.",
        Unit::Count,
        8,
        vec![q(
            format!("sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total{{{sel}}}[1h])) > 0"),
            "{{namespace}}/{{pod}}",
        )],
    )
    .graph(
        "Containers waiting",
        "Containers not running, by the reason they wait (CrashLoopBackOff, ImagePullBackOff, ...).",
        Unit::Count,
        8,
        vec![q(
            format!("sum by (reason) (kube_pod_container_status_waiting_reason{{{sel}}}) > 0"),
            "{{reason}}",
        )],
    )
    .graph(
        "Last terminated: OOMKilled",
        "Containers whose last termination was the out-of-memory killer.",
        Unit::Count,
        8,
        vec![q(
            format!("sum by (namespace, pod) (kube_pod_container_status_last_terminated_reason{{reason=\"OOMKilled\",{sel}}}) > 0"),
            "{{namespace}}/{{pod}}",
        )],
    );
    if spec.logs.is_some() {
        board = board.row("Logs").logs(
            "Logs",
            "The selected pods' logs (trace IDs link to Tempo).",
            "{namespace=~\"$namespace\", pod=~\"$pod\"}",
        );
    }
    board.build()
}
