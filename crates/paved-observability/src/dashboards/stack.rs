//! The observability stack itself: Prometheus's ingestion, series and
//! write-ahead log (or its remote write, in managed mode), Alertmanager's
//! notifications, Loki's and Tempo's ingestion, and the Alloy agents feeding them.
//! Rows for what the spec turns off are left out.

use super::{q, Board, Unit};
use crate::spec::{Mode, ObservabilitySpec};
use crate::typed::grafana::Dashboard;

/// The stack dashboard.
pub(crate) fn dashboard(spec: &ObservabilitySpec) -> Dashboard {
    // The namespace is a DNS label (checked): nothing in it needs escaping.
    let ns = format!("namespace=\"{}\"", spec.namespace);
    let prom = r#"job="prometheus""#;
    let mut board = Board::new(
        spec,
        "stack",
        "Observability stack",
        "Prometheus, Alertmanager, Loki, Tempo and the Alloy agents: what they take in and whether it gets through.",
    )
    .row("Prometheus");
    board = match &spec.mode {
        Mode::SelfHosted => board
            .graph(
                "Series in the head block",
                "Active series per replica: memory grows with them.",
                Unit::Count,
                8,
                vec![q(format!("prometheus_tsdb_head_series{{{prom}}}"), "{{pod}}")],
            )
            .graph(
                "Samples ingested",
                "Samples appended per second, per replica.",
                Unit::PerSecond,
                8,
                vec![q(
                    format!("rate(prometheus_tsdb_head_samples_appended_total{{{prom}}}[$__rate_interval])"),
                    "{{pod}}",
                )],
            )
            .graph(
                "Storage used",
                "Bytes of persisted blocks and of the write-ahead log, per replica.",
                Unit::Bytes,
                8,
                vec![
                    q(format!("prometheus_tsdb_storage_blocks_bytes{{{prom}}}"), "{{pod}} blocks"),
                    q(format!("prometheus_tsdb_wal_storage_size_bytes{{{prom}}}"), "{{pod}} WAL"),
                ],
            )
            .graph(
                "WAL fsync (99th percentile)",
                "How long syncing the write-ahead log to disk takes; slow disks show here first.",
                Unit::Seconds,
                8,
                vec![q(
                    format!("prometheus_tsdb_wal_fsync_duration_seconds{{quantile=\"0.99\",{prom}}}"),
                    "{{pod}}",
                )],
            )
            .graph(
                "WAL failures",
                "Corruptions, failed writes and failed truncations of the write-ahead log in the last hour.",
                Unit::Count,
                8,
                vec![
                    q(format!("increase(prometheus_tsdb_wal_corruptions_total{{{prom}}}[1h])"), "{{pod}} corruptions"),
                    q(format!("increase(prometheus_tsdb_wal_writes_failed_total{{{prom}}}[1h])"), "{{pod}} failed writes"),
                    q(format!("increase(prometheus_tsdb_wal_truncations_failed_total{{{prom}}}[1h])"), "{{pod}} failed truncations"),
                ],
            )
            .graph(
                "Rule evaluation failures",
                "Rule evaluations that failed, per second.",
                Unit::PerSecond,
                8,
                vec![q(
                    format!("sum by (pod) (rate(prometheus_rule_evaluation_failures_total{{{prom}}}[$__rate_interval]))"),
                    "{{pod}}",
                )],
            ),
        Mode::Managed(_) => board
            .graph(
                "Active series",
                "Series the agent holds in its write-ahead log, per replica.",
                Unit::Count,
                8,
                vec![q(format!("prometheus_agent_active_series{{{prom}}}"), "{{pod}}")],
            )
            .graph(
                "Samples sent",
                "Samples the agent sent to the managed service, and failed to, per second.",
                Unit::PerSecond,
                8,
                vec![
                    q(
                        format!("sum by (pod) (rate(prometheus_remote_storage_samples_total{{{prom}}}[$__rate_interval]))"),
                        "{{pod}} sent",
                    ),
                    q(
                        format!("sum by (pod) (rate(prometheus_remote_storage_samples_failed_total{{{prom}}}[$__rate_interval]))"),
                        "{{pod}} failed",
                    ),
                ],
            )
            .graph(
                "Remote write lag",
                "How far the newest sample sent is behind the newest sample scraped.",
                Unit::Seconds,
                8,
                vec![q(
                    format!("max by (pod) (prometheus_remote_storage_highest_timestamp_in_seconds{{{prom}}}) - max by (pod) (prometheus_remote_storage_queue_highest_sent_timestamp_seconds{{{prom}}})"),
                    "{{pod}}",
                )],
            ),
    };
    board = board.graph(
        "Scrape targets down",
        "Targets that could not be scraped, by job.",
        Unit::Count,
        24,
        vec![q("count by (job) (up == 0)", "{{job}}")],
    );
    if matches!(spec.mode, Mode::SelfHosted) {
        let am = r#"job="alertmanager""#;
        board = board
            .row("Alertmanager")
            .graph(
                "Notifications sent",
                "Notifications per second, by integration (Slack, e-mail, ...).",
                Unit::PerSecond,
                8,
                vec![q(
                    format!("sum by (integration) (rate(alertmanager_notifications_total{{{am}}}[$__rate_interval]))"),
                    "{{integration}}",
                )],
            )
            .graph(
                "Notifications failed",
                "Failed notifications per second, by integration: receivers that cannot be reached.",
                Unit::PerSecond,
                8,
                vec![q(
                    format!("sum by (integration) (rate(alertmanager_notifications_failed_total{{{am}}}[$__rate_interval]))"),
                    "{{integration}}",
                )],
            )
            .graph(
                "Notification latency (99th percentile)",
                "How long sending a notification takes, by integration.",
                Unit::Seconds,
                8,
                vec![q(
                    format!("histogram_quantile(0.99, sum by (le, integration) (rate(alertmanager_notification_latency_seconds_bucket{{{am}}}[$__rate_interval])))"),
                    "{{integration}}",
                )],
            )
            .graph(
                "Alerts",
                "Alerts Alertmanager holds, by state.",
                Unit::Count,
                12,
                vec![q(format!("max by (state) (alertmanager_alerts{{{am}}})"), "{{state}}")],
            )
            .graph(
                "Cluster members",
                "Peers each replica sees: fewer than the replicas means a split cluster (and duplicate notifications).",
                Unit::Count,
                12,
                vec![q(format!("alertmanager_cluster_members{{{am}}}"), "{{pod}}")],
            );
    }
    if spec.logs.is_some() {
        board = board
            .row("Loki")
            .graph(
                "Log bytes received",
                "Bytes of log lines Loki receives, per second.",
                Unit::BytesPerSecond,
                8,
                vec![q(
                    format!("sum(rate(loki_distributor_bytes_received_total{{{ns}}}[$__rate_interval]))"),
                    "bytes",
                )],
            )
            .graph(
                "Log lines received",
                "Lines Loki receives, per second.",
                Unit::PerSecond,
                8,
                vec![q(
                    format!("sum(rate(loki_distributor_lines_received_total{{{ns}}}[$__rate_interval]))"),
                    "lines",
                )],
            )
            .graph(
                "Streams in memory",
                "Streams the ingester holds: grows with label cardinality.",
                Unit::Count,
                8,
                vec![q(format!("sum(loki_ingester_memory_streams{{{ns}}})"), "streams")],
            )
            .graph(
                "Push latency (99th percentile)",
                "How long Loki takes to accept a push.",
                Unit::Seconds,
                8,
                vec![q(
                    format!("histogram_quantile(0.99, sum by (le) (rate(loki_request_duration_seconds_bucket{{route=\"loki_api_v1_push\",{ns}}}[$__rate_interval])))"),
                    "push",
                )],
            )
            .graph(
                "Lines discarded",
                "Lines Loki refused, by reason (rate limits, too old, too long).",
                Unit::PerSecond,
                8,
                vec![q(
                    format!("sum by (reason) (rate(loki_discarded_samples_total{{{ns}}}[$__rate_interval]))"),
                    "{{reason}}",
                )],
            )
            .graph(
                "Agents: entries sent and dropped",
                "Log entries the Alloy agents sent to Loki and dropped after retries, per second.",
                Unit::PerSecond,
                8,
                vec![
                    q(
                        format!("sum(rate(loki_write_sent_entries_total{{{ns}}}[$__rate_interval]))"),
                        "sent",
                    ),
                    q(
                        format!("sum(rate(loki_write_dropped_entries_total{{{ns}}}[$__rate_interval]))"),
                        "dropped",
                    ),
                ],
            );
    }
    if spec.traces.is_some() {
        board = board
            .row("Tempo")
            .graph(
                "Spans received",
                "Spans Tempo receives, per second.",
                Unit::PerSecond,
                8,
                vec![q(
                    format!("sum(rate(tempo_distributor_spans_received_total{{{ns}}}[$__rate_interval]))"),
                    "spans",
                )],
            )
            .graph(
                "Trace bytes received",
                "Bytes of spans Tempo receives, per second.",
                Unit::BytesPerSecond,
                8,
                vec![q(
                    format!("sum(rate(tempo_distributor_bytes_received_total{{{ns}}}[$__rate_interval]))"),
                    "bytes",
                )],
            )
            .graph(
                "Live traces",
                "Traces the ingester holds in memory.",
                Unit::Count,
                8,
                vec![q(format!("sum(tempo_ingester_live_traces{{{ns}}})"), "traces")],
            )
            .graph(
                "Spans discarded",
                "Spans Tempo refused, by reason (rate limits, trace too large).",
                Unit::PerSecond,
                8,
                vec![q(
                    format!("sum by (reason) (rate(tempo_discarded_spans_total{{{ns}}}[$__rate_interval]))"),
                    "{{reason}}",
                )],
            )
            .graph(
                "Blocks flushed",
                "Blocks the ingester wrote to the bucket, per second.",
                Unit::PerSecond,
                8,
                vec![q(
                    format!("sum(rate(tempo_ingester_blocks_flushed_total{{{ns}}}[$__rate_interval]))"),
                    "blocks",
                )],
            )
            .graph(
                "Agents: spans accepted and failed",
                "Spans the Alloy agents accepted from applications, and failed to export to Tempo, per second.",
                Unit::PerSecond,
                8,
                vec![
                    q(
                        format!("sum(rate(otelcol_receiver_accepted_spans_total{{{ns}}}[$__rate_interval]))"),
                        "accepted",
                    ),
                    q(
                        format!("sum(rate(otelcol_exporter_send_failed_spans_total{{{ns}}}[$__rate_interval]))"),
                        "failed",
                    ),
                ],
            );
    }
    board.build()
}
