//! Each node's CPU, memory, load, disks, network and pods, from node-exporter and
//! kube-state-metrics (node-exporter series carry the node's name as `node`).

use super::{q, Board, Unit};
use crate::spec::ObservabilitySpec;
use crate::typed::grafana::Dashboard;

/// File systems that are not disks.
const PSEUDO_FS: &str = r#"fstype!~"tmpfs|overlay|squashfs|nsfs|tracefs|ramfs""#;
/// Network devices that are not the node's own (loopback, pods' veths, CNI bridges).
const VIRTUAL_NICS: &str =
    r#"device!~"lo|veth.*|eni.*|gke.*|cali.*|cilium.*|lxc.*|docker.*|cni.*|flannel.*""#;

/// The nodes dashboard.
pub(crate) fn dashboard(spec: &ObservabilitySpec) -> Dashboard {
    let node = r#"node=~"$node""#;
    Board::new(
        spec,
        "nodes",
        "Nodes",
        "Each node's CPU, memory, load, disks, network and pods.",
    )
    .variable("node", "node", "node_uname_info", "Node")
    .row("Usage")
    .graph(
        "CPU used",
        "Share of the node's CPU time not idle.",
        Unit::Ratio,
        12,
        vec![q(
            format!("1 - avg by (node) (rate(node_cpu_seconds_total{{mode=\"idle\",{node}}}[$__rate_interval]))"),
            "{{node}}",
        )],
    )
    .graph(
        "Memory used",
        "Share of the node's memory not available to new work.",
        Unit::Ratio,
        12,
        vec![q(
            format!("1 - sum by (node) (node_memory_MemAvailable_bytes{{{node}}}) / sum by (node) (node_memory_MemTotal_bytes{{{node}}})"),
            "{{node}}",
        )],
    )
    .graph(
        "Load per core",
        "One-minute load average divided by the number of cores: above 1 work is waiting.",
        Unit::Count,
        12,
        vec![q(
            format!("sum by (node) (node_load1{{{node}}}) / count by (node) (node_cpu_seconds_total{{mode=\"idle\",{node}}})"),
            "{{node}}",
        )],
    )
    .graph(
        "Pods",
        "Pods on the node, against how many it can hold.",
        Unit::Count,
        12,
        vec![
            q(format!("count by (node) (kube_pod_info{{{node}}})"), "{{node}} pods"),
            q(
                format!("sum by (node) (kube_node_status_allocatable{{resource=\"pods\",{node}}})"),
                "{{node}} allocatable",
            ),
        ],
    )
    .row("Disks and network")
    .graph(
        "Disk space used",
        "Share of each file system used.",
        Unit::Ratio,
        12,
        vec![q(
            format!("1 - max by (node, mountpoint) (node_filesystem_avail_bytes{{{node},{PSEUDO_FS}}}) / max by (node, mountpoint) (node_filesystem_size_bytes{{{node},{PSEUDO_FS}}})"),
            "{{node}} {{mountpoint}}",
        )],
    )
    .graph(
        "Disk busy",
        "Share of time each disk was busy with I/O.",
        Unit::Ratio,
        12,
        vec![q(
            format!("rate(node_disk_io_time_seconds_total{{{node}}}[$__rate_interval])"),
            "{{node}} {{device}}",
        )],
    )
    .graph(
        "Network received",
        "Bytes received by the node's own interfaces.",
        Unit::BytesPerSecond,
        12,
        vec![q(
            format!("sum by (node) (rate(node_network_receive_bytes_total{{{node},{VIRTUAL_NICS}}}[$__rate_interval]))"),
            "{{node}}",
        )],
    )
    .graph(
        "Network sent",
        "Bytes sent by the node's own interfaces.",
        Unit::BytesPerSecond,
        12,
        vec![q(
            format!("sum by (node) (rate(node_network_transmit_bytes_total{{{node},{VIRTUAL_NICS}}}[$__rate_interval]))"),
            "{{node}}",
        )],
    )
    .build()
}
