//! The cluster at a glance: nodes and pods, how much of the allocatable CPU and
//! memory is used and requested, which namespaces use it, what is restarting
//! and which scrape targets are down.

use super::{q, Board, Unit, CONTAINERS};
use crate::spec::{Mode, ObservabilitySpec};
use crate::typed::grafana::Dashboard;

/// The cluster overview.
pub(crate) fn dashboard(spec: &ObservabilitySpec) -> Dashboard {
    let cpu_used = format!(
        "sum(rate(container_cpu_usage_seconds_total{{{CONTAINERS}}}[$__rate_interval])) / sum(kube_node_status_allocatable{{resource=\"cpu\"}})"
    );
    let memory_used = format!(
        "sum(container_memory_working_set_bytes{{{CONTAINERS}}}) / sum(kube_node_status_allocatable{{resource=\"memory\"}})"
    );
    let mut board = Board::new(
        spec,
        "cluster",
        "Cluster overview",
        "Nodes, pods, CPU and memory use against what the nodes can allocate, restarts and scrape targets down.",
    )
    .row("Capacity")
    .stat("Nodes", "Nodes known to the cluster.", Unit::Count, 4, "count(kube_node_info)", None, None)
    .stat(
        "Nodes not ready",
        "Nodes whose Ready condition is not true.",
        Unit::Count,
        4,
        "count(kube_node_status_condition{condition=\"Ready\",status=\"true\"} == 0) or vector(0)",
        None,
        Some(1.0),
    )
    .stat(
        "Pods running",
        "Pods in phase Running.",
        Unit::Count,
        4,
        "sum(kube_pod_status_phase{phase=\"Running\"})",
        None,
        None,
    )
    .stat(
        "Pods pending",
        "Pods waiting to be scheduled or to start.",
        Unit::Count,
        4,
        "sum(kube_pod_status_phase{phase=\"Pending\"})",
        Some(1.0),
        Some(10.0),
    )
    .stat(
        "Pods failed",
        "Pods in phase Failed.",
        Unit::Count,
        4,
        "sum(kube_pod_status_phase{phase=\"Failed\"})",
        Some(1.0),
        None,
    )
    .stat(
        "Namespaces",
        "Active namespaces.",
        Unit::Count,
        4,
        "count(kube_namespace_status_phase{phase=\"Active\"} == 1)",
        None,
        None,
    )
    .row("CPU and memory")
    .stat("CPU used", "CPU used by containers, of what the nodes can allocate.", Unit::Ratio, 6, cpu_used.clone(), Some(0.7), Some(0.9))
    .stat(
        "CPU requested",
        "CPU requested by containers, of what the nodes can allocate: above 100% nothing more schedules.",
        Unit::Ratio,
        6,
        "sum(kube_pod_container_resource_requests{resource=\"cpu\"}) / sum(kube_node_status_allocatable{resource=\"cpu\"})",
        Some(0.8),
        Some(0.95),
    )
    .stat("Memory used", "Working set of containers, of what the nodes can allocate.", Unit::Ratio, 6, memory_used.clone(), Some(0.7), Some(0.9))
    .stat(
        "Memory requested",
        "Memory requested by containers, of what the nodes can allocate.",
        Unit::Ratio,
        6,
        "sum(kube_pod_container_resource_requests{resource=\"memory\"}) / sum(kube_node_status_allocatable{resource=\"memory\"})",
        Some(0.8),
        Some(0.95),
    )
    .graph(
        "CPU by namespace",
        "CPU cores used by the containers of each namespace.",
        Unit::Cores,
        12,
        vec![q(
            format!("sum by (namespace) (rate(container_cpu_usage_seconds_total{{{CONTAINERS}}}[$__rate_interval]))"),
            "{{namespace}}",
        )],
    )
    .graph(
        "Memory by namespace",
        "Working set of the containers of each namespace.",
        Unit::Bytes,
        12,
        vec![q(
            format!("sum by (namespace) (container_memory_working_set_bytes{{{CONTAINERS}}})"),
            "{{namespace}}",
        )],
    )
    .graph(
        "Cluster CPU and memory used",
        "The two ratios above over time.",
        Unit::Ratio,
        24,
        vec![q(cpu_used, "CPU"), q(memory_used, "memory")],
    )
    .row("Health")
    .graph(
        "Container restarts",
        "Restarts in the last hour, by namespace.",
        Unit::Count,
        12,
        vec![q(
            "sum by (namespace) (increase(kube_pod_container_status_restarts_total[1h])) > 0",
            "{{namespace}}",
        )],
    )
    .graph(
        "Scrape targets down",
        "Targets Prometheus could not scrape, by job.",
        Unit::Count,
        12,
        vec![q("count by (job) (up == 0)", "{{job}}")],
    );
    if matches!(spec.mode, Mode::SelfHosted) {
        board = board.stat(
            "Alerts firing",
            "Alerts firing now (the Watchdog always fires: it proves alerting works).",
            Unit::Count,
            6,
            "count(ALERTS{alertstate=\"firing\",alertname!=\"Watchdog\"}) or vector(0)",
            Some(1.0),
            None,
        );
    }
    board.build()
}
