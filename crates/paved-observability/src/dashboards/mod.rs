//! Our dashboards, built in Rust on the typed dashboard model of
//! [`crate::typed::grafana`]: the cluster overview, nodes, workloads, autoscalers
//! and the stack itself. Every query reads metrics that kube-state-metrics,
//! node-exporter, cAdvisor (through the kubelet), Prometheus, Alertmanager, Loki,
//! Tempo and Alloy expose, with the labels Prometheus's scrape jobs give them
//! (`node` on node-exporter series, `namespace`/`pod` on annotated pods).
//!
//! A [`Board`] lays panels out left to right on Grafana's 24-column grid and
//! numbers them; each dashboard module only says what to show.

mod cluster;
mod hpa;
mod nodes;
mod stack;
mod workloads;

use crate::spec::ObservabilitySpec;
use crate::typed::grafana::{
    Annotations, ColorMode, CustomField, Dashboard, DatasourceRef, FieldConfig, FieldDefaults,
    GridPos, Legend, Panel, PanelOptions, ReduceOptions, Stacking, Target, Templating,
    ThresholdStep, Thresholds, TimeRange, Tooltip, Variable,
};

/// The Prometheus datasource's uid.
pub(crate) const PROMETHEUS_UID: &str = "prometheus";
/// The Alertmanager datasource's uid.
pub(crate) const ALERTMANAGER_UID: &str = "alertmanager";
/// The Loki datasource's uid.
pub(crate) const LOKI_UID: &str = "loki";
/// The Tempo datasource's uid.
pub(crate) const TEMPO_UID: &str = "tempo";
/// The tag on every dashboard of ours.
pub(crate) const TAG: &str = "paved";
/// Every uid of ours starts with this; users' dashboards may not.
pub(crate) const UID_PREFIX: &str = "paved-";

/// cAdvisor's per-container series (not the pod's cgroup, not the pause container).
pub(crate) const CONTAINERS: &str = r#"container!="",container!="POD""#;

/// Grafana's dashboard schema version the model follows (Grafana 11.2).
const SCHEMA_VERSION: u32 = 39;
const GRID_WIDTH: u32 = 24;

/// Our dashboards for `spec`, as `(file stem, dashboard)`.
pub(crate) fn ours(spec: &ObservabilitySpec) -> Vec<(&'static str, Dashboard)> {
    vec![
        ("cluster", cluster::dashboard(spec)),
        ("nodes", nodes::dashboard(spec)),
        ("workloads", workloads::dashboard(spec)),
        ("hpa", hpa::dashboard(spec)),
        ("stack", stack::dashboard(spec)),
    ]
}

/// The Prometheus datasource.
pub(crate) fn prometheus() -> DatasourceRef {
    DatasourceRef {
        kind: "prometheus".to_string(),
        uid: PROMETHEUS_UID.to_string(),
    }
}

/// The Loki datasource.
pub(crate) fn loki() -> DatasourceRef {
    DatasourceRef {
        kind: "loki".to_string(),
        uid: LOKI_UID.to_string(),
    }
}

/// What a panel's values are, for Grafana's unit formatting.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Unit {
    /// A ratio shown as a percentage (0.25 → 25%).
    Ratio,
    /// Bytes.
    Bytes,
    /// Bytes per second.
    BytesPerSecond,
    /// Operations per second.
    PerSecond,
    /// Seconds.
    Seconds,
    /// CPU cores.
    Cores,
    /// A plain count.
    Count,
}

impl Unit {
    fn grafana(self) -> &'static str {
        match self {
            Unit::Ratio => "percentunit",
            Unit::Bytes => "bytes",
            Unit::BytesPerSecond => "Bps",
            Unit::PerSecond => "ops",
            Unit::Seconds => "s",
            Unit::Cores => "short",
            Unit::Count => "short",
        }
    }
}

/// One PromQL query with its legend.
pub(crate) struct Query {
    expr: String,
    legend: String,
}

/// A query `expr` whose series are named `legend` (`{{namespace}}`).
pub(crate) fn q(expr: impl Into<String>, legend: &str) -> Query {
    Query {
        expr: expr.into(),
        legend: legend.to_string(),
    }
}

/// A dashboard being laid out.
pub(crate) struct Board {
    dashboard: Dashboard,
    x: u32,
    y: u32,
    line_height: u32,
}

impl Board {
    /// A dashboard `uid` (after [`UID_PREFIX`]) titled `title` for the spec's cluster.
    pub(crate) fn new(
        spec: &ObservabilitySpec,
        uid: &str,
        title: &str,
        description: &str,
    ) -> Board {
        Board {
            dashboard: Dashboard {
                uid: format!("{UID_PREFIX}{uid}"),
                title: format!("{title} ({})", spec.cluster_name),
                description: description.to_string(),
                tags: vec![TAG.to_string()],
                timezone: "browser".to_string(),
                editable: false,
                graph_tooltip: 1,
                refresh: "1m".to_string(),
                schema_version: SCHEMA_VERSION,
                version: 1,
                time: TimeRange {
                    from: "now-6h".to_string(),
                    to: "now".to_string(),
                },
                templating: Templating { list: Vec::new() },
                annotations: Annotations { list: Vec::new() },
                panels: Vec::new(),
            },
            x: 0,
            y: 0,
            line_height: 0,
        }
    }

    /// A variable `$name` over the values of `label` on `metric` (a selector),
    /// multi-valued with "All" standing for any non-empty value.
    pub(crate) fn variable(mut self, name: &str, label: &str, metric: &str, title: &str) -> Board {
        let query = format!("label_values({metric}, {label})");
        self.dashboard.templating.list.push(Variable {
            name: name.to_string(),
            label: title.to_string(),
            kind: "query".to_string(),
            datasource: prometheus(),
            query: query.clone(),
            definition: query,
            refresh: 2,
            include_all: true,
            // `.+`, not `.*`: LogQL refuses a selector that matches empty values.
            all_value: Some(".+".to_string()),
            multi: true,
            sort: 1,
        });
        self
    }

    fn place(&mut self, w: u32, h: u32) -> GridPos {
        if self.x + w > GRID_WIDTH {
            self.y += self.line_height;
            self.x = 0;
            self.line_height = 0;
        }
        let pos = GridPos {
            h,
            w,
            x: self.x,
            y: self.y,
        };
        self.x += w;
        self.line_height = self.line_height.max(h);
        pos
    }

    fn next_id(&self) -> u32 {
        u32::try_from(self.dashboard.panels.len()).unwrap_or(u32::MAX - 1) + 1
    }

    /// A row header: the panels after it, up to the next row, belong to it.
    pub(crate) fn row(mut self, title: &str) -> Board {
        if self.x > 0 {
            self.y += self.line_height;
        }
        self.x = 0;
        self.line_height = 0;
        let grid_pos = self.place(GRID_WIDTH, 1);
        self.x = GRID_WIDTH;
        let id = self.next_id();
        self.dashboard.panels.push(Panel {
            id,
            kind: "row".to_string(),
            title: title.to_string(),
            description: None,
            grid_pos,
            datasource: None,
            targets: Vec::new(),
            field_config: None,
            options: None,
            collapsed: Some(false),
            panels: Some(Vec::new()),
        });
        self
    }

    fn targets(queries: Vec<Query>, instant: bool) -> Vec<Target> {
        queries
            .into_iter()
            .zip('A'..='Z')
            .map(|(query, ref_id)| Target {
                ref_id: ref_id.to_string(),
                datasource: prometheus(),
                expr: query.expr,
                legend_format: Some(query.legend),
                instant: instant.then_some(true),
                range: Some(!instant),
                exemplar: (!instant).then_some(true),
            })
            .collect()
    }

    /// A time series panel `w` columns wide.
    pub(crate) fn graph(
        mut self,
        title: &str,
        description: &str,
        unit: Unit,
        w: u32,
        queries: Vec<Query>,
    ) -> Board {
        let grid_pos = self.place(w, 8);
        let id = self.next_id();
        let min = match unit {
            Unit::Ratio | Unit::Bytes | Unit::BytesPerSecond | Unit::PerSecond | Unit::Count => {
                Some(0.0)
            }
            Unit::Seconds | Unit::Cores => None,
        };
        self.dashboard.panels.push(Panel {
            id,
            kind: "timeseries".to_string(),
            title: title.to_string(),
            description: Some(description.to_string()),
            grid_pos,
            datasource: Some(prometheus()),
            targets: Board::targets(queries, false),
            field_config: Some(FieldConfig {
                defaults: FieldDefaults {
                    unit: unit.grafana().to_string(),
                    min,
                    max: None,
                    decimals: None,
                    thresholds: None,
                    color: Some(ColorMode {
                        mode: "palette-classic".to_string(),
                    }),
                    custom: Some(CustomField {
                        draw_style: "line".to_string(),
                        line_width: 1,
                        fill_opacity: 10,
                        show_points: "never".to_string(),
                        stacking: Stacking {
                            mode: "none".to_string(),
                            group: "A".to_string(),
                        },
                    }),
                },
                overrides: Vec::new(),
            }),
            options: Some(PanelOptions {
                legend: Some(Legend {
                    show_legend: true,
                    display_mode: "table".to_string(),
                    placement: "bottom".to_string(),
                    calcs: vec!["lastNotNull".to_string(), "max".to_string()],
                }),
                tooltip: Some(Tooltip {
                    mode: "multi".to_string(),
                    sort: "desc".to_string(),
                }),
                ..PanelOptions::default()
            }),
            collapsed: None,
            panels: None,
        });
        self
    }

    /// A single-value panel `w` columns wide; `warn_at`/`bad_at` colour it
    /// orange/red from those values up.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn stat(
        mut self,
        title: &str,
        description: &str,
        unit: Unit,
        w: u32,
        expr: impl Into<String>,
        warn_at: Option<f64>,
        bad_at: Option<f64>,
    ) -> Board {
        let grid_pos = self.place(w, 4);
        let id = self.next_id();
        let mut steps = vec![ThresholdStep {
            color: "green".to_string(),
            value: None,
        }];
        if let Some(value) = warn_at {
            steps.push(ThresholdStep {
                color: "orange".to_string(),
                value: Some(value),
            });
        }
        if let Some(value) = bad_at {
            steps.push(ThresholdStep {
                color: "red".to_string(),
                value: Some(value),
            });
        }
        self.dashboard.panels.push(Panel {
            id,
            kind: "stat".to_string(),
            title: title.to_string(),
            description: Some(description.to_string()),
            grid_pos,
            datasource: Some(prometheus()),
            targets: Board::targets(vec![q(expr, "")], true),
            field_config: Some(FieldConfig {
                defaults: FieldDefaults {
                    unit: unit.grafana().to_string(),
                    min: None,
                    max: None,
                    decimals: matches!(unit, Unit::Count).then_some(0),
                    thresholds: Some(Thresholds {
                        mode: "absolute".to_string(),
                        steps,
                    }),
                    color: Some(ColorMode {
                        mode: "thresholds".to_string(),
                    }),
                    custom: None,
                },
                overrides: Vec::new(),
            }),
            options: Some(PanelOptions {
                reduce_options: Some(ReduceOptions {
                    calcs: vec!["lastNotNull".to_string()],
                    fields: String::new(),
                    values: false,
                }),
                color_mode: Some("value".to_string()),
                graph_mode: Some("none".to_string()),
                text_mode: Some("value".to_string()),
                ..PanelOptions::default()
            }),
            collapsed: None,
            panels: None,
        });
        self
    }

    /// A logs panel over the LogQL `expr`, the full width.
    pub(crate) fn logs(mut self, title: &str, description: &str, expr: &str) -> Board {
        let grid_pos = self.place(GRID_WIDTH, 12);
        let id = self.next_id();
        self.dashboard.panels.push(Panel {
            id,
            kind: "logs".to_string(),
            title: title.to_string(),
            description: Some(description.to_string()),
            grid_pos,
            datasource: Some(loki()),
            targets: vec![Target {
                ref_id: "A".to_string(),
                datasource: loki(),
                expr: expr.to_string(),
                legend_format: None,
                instant: None,
                range: None,
                exemplar: None,
            }],
            field_config: None,
            options: Some(PanelOptions {
                show_time: Some(true),
                wrap_log_message: Some(true),
                enable_log_details: Some(true),
                sort_order: Some("Descending".to_string()),
                ..PanelOptions::default()
            }),
            collapsed: None,
            panels: None,
        });
        self
    }

    /// The finished dashboard.
    pub(crate) fn build(self) -> Dashboard {
        self.dashboard
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::stack as fixtures;

    #[test]
    fn layout_wraps_rows_and_numbers_panels() {
        let spec = fixtures::production();
        let board = Board::new(&spec, "t", "T", "d")
            .row("One")
            .stat("a", "", Unit::Count, 6, "up", None, None)
            .graph("b", "", Unit::Ratio, 12, vec![q("up", "")])
            .graph("c", "", Unit::Ratio, 12, vec![q("up", "")])
            .row("Two")
            .stat("d", "", Unit::Count, 6, "up", None, Some(1.0))
            .build();
        let at: Vec<(u32, u32, u32)> = board
            .panels
            .iter()
            .map(|p| (p.id, p.grid_pos.x, p.grid_pos.y))
            .collect();
        assert_eq!(
            at,
            [
                (1, 0, 0),
                (2, 0, 1),
                (3, 6, 1),
                (4, 0, 9),
                (5, 0, 17),
                (6, 0, 18)
            ]
        );
        assert_eq!(board.uid, "paved-t");
        assert_eq!(board.title, "T (shop)");
    }

    #[test]
    fn every_dashboard_has_a_unique_uid_and_queries() {
        let spec = fixtures::production();
        let boards = ours(&spec);
        let mut uids: Vec<&str> = boards.iter().map(|(_, d)| d.uid.as_str()).collect();
        uids.sort_unstable();
        uids.dedup();
        assert_eq!(uids.len(), boards.len());
        for (_, board) in &boards {
            assert!(board.uid.len() <= 40, "{}", board.uid);
            for panel in board.panels.iter().filter(|p| p.kind != "row") {
                assert!(
                    !panel.targets.is_empty(),
                    "{}: {}",
                    board.title,
                    panel.title
                );
                for target in &panel.targets {
                    assert!(!target.expr.is_empty());
                }
            }
        }
    }
}
