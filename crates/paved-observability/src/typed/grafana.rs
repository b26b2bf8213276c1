//! Grafana 11's provisioning files (datasources, dashboard providers) and the
//! subset of the dashboard JSON model our dashboards use, key for key as Grafana's
//! documentation spells them ("Provision Grafana", "JSON model", each datasource's
//! provisioning example).

use serde::{Deserialize, Serialize};

/// `provisioning/datasources/*.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DatasourcesFile {
    /// `apiVersion`: 1.
    pub api_version: u32,
    /// `datasources`.
    pub datasources: Vec<Datasource>,
}

/// One datasource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Datasource {
    /// `name`, as users see it.
    pub name: String,
    /// `type`: the plugin (`prometheus`, `alertmanager`, `loki`, `tempo`).
    #[serde(rename = "type")]
    pub kind: String,
    /// `uid`: what dashboards and other datasources refer to.
    pub uid: String,
    /// `access`: `proxy` (the Grafana server makes the requests).
    pub access: String,
    /// `url`.
    pub url: String,
    /// `isDefault`.
    pub is_default: bool,
    /// `editable`: whether the UI may change it (not: it is provisioned).
    pub editable: bool,
    /// `jsonData`: the plugin's settings.
    pub json_data: JsonData,
}

/// `jsonData`: the union of the settings of the plugins we provision; each
/// datasource sets only its own.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct JsonData {
    /// Prometheus: `httpMethod`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_method: Option<String>,
    /// Prometheus: `timeInterval`, the scrape interval (the smallest step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_interval: Option<String>,
    /// Prometheus: `exemplarTraceIdDestinations`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exemplar_trace_id_destinations: Vec<ExemplarDestination>,
    /// Prometheus on AMP: `sigV4Auth`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sig_v4_auth: Option<bool>,
    /// `sigV4AuthType`: `default` (the AWS SDK's chain: the pod's IRSA role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sig_v4_auth_type: Option<String>,
    /// `sigV4Region`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sig_v4_region: Option<String>,
    /// Alertmanager: `implementation` (`prometheus`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implementation: Option<String>,
    /// Alertmanager: `handleGrafanaManagedAlerts`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle_grafana_managed_alerts: Option<bool>,
    /// Loki: `maxLines`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_lines: Option<u32>,
    /// Loki: `derivedFields`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub derived_fields: Vec<DerivedField>,
    /// Tempo: `tracesToLogsV2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traces_to_logs_v2: Option<TracesToLogs>,
    /// Tempo: `serviceMap`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_map: Option<DatasourceLink>,
    /// Tempo: `nodeGraph`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_graph: Option<Enabled>,
    /// Tempo: `lokiSearch`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loki_search: Option<DatasourceLink>,
}

/// One of Prometheus's `exemplarTraceIdDestinations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExemplarDestination {
    /// `name`: the exemplar label holding the trace ID.
    pub name: String,
    /// `datasourceUid`: the tracing datasource.
    pub datasource_uid: String,
}

/// One of Loki's `derivedFields`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DerivedField {
    /// `name`.
    pub name: String,
    /// `matcherRegex`: the first group is the value.
    pub matcher_regex: String,
    /// `url`: with `datasourceUid`, the query run in that datasource.
    pub url: String,
    /// `datasourceUid`: the datasource the link opens.
    pub datasource_uid: String,
    /// `urlDisplayLabel`.
    pub url_display_label: String,
}

/// Tempo's `tracesToLogsV2`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TracesToLogs {
    /// `datasourceUid`: the logs datasource.
    pub datasource_uid: String,
    /// `spanStartTimeShift`.
    pub span_start_time_shift: String,
    /// `spanEndTimeShift`.
    pub span_end_time_shift: String,
    /// `tags`: span attributes mapped to log labels.
    pub tags: Vec<TagMapping>,
    /// `filterByTraceID`.
    #[serde(rename = "filterByTraceID")]
    pub filter_by_trace_id: bool,
    /// `filterBySpanID`.
    #[serde(rename = "filterBySpanID")]
    pub filter_by_span_id: bool,
    /// `customQuery`.
    pub custom_query: bool,
}

/// One span attribute mapped to a log label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagMapping {
    /// `key`: the span attribute.
    pub key: String,
    /// `value`: the log label.
    pub value: String,
}

/// A link to another datasource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DatasourceLink {
    /// `datasourceUid`.
    pub datasource_uid: String,
}

/// `{ enabled: bool }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enabled {
    /// `enabled`.
    pub enabled: bool,
}

/// `provisioning/dashboards/*.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProvidersFile {
    /// `apiVersion`: 1.
    pub api_version: u32,
    /// `providers`.
    pub providers: Vec<Provider>,
}

/// One dashboard provider: a folder of dashboard files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Provider {
    /// `name`.
    pub name: String,
    /// `orgId`.
    pub org_id: u32,
    /// `folder`: the Grafana folder the dashboards appear in.
    pub folder: String,
    /// `folderUid`.
    pub folder_uid: String,
    /// `type`: `file`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `disableDeletion`.
    pub disable_deletion: bool,
    /// `updateIntervalSeconds`.
    pub update_interval_seconds: u32,
    /// `allowUiUpdates`.
    pub allow_ui_updates: bool,
    /// `options`.
    pub options: ProviderOptions,
}

/// A provider's `options`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProviderOptions {
    /// `path`: the directory of dashboard files.
    pub path: String,
    /// `foldersFromFilesStructure`.
    pub folders_from_files_structure: bool,
}

/// A dashboard (the subset of the JSON model ours use).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Dashboard {
    /// `uid`.
    pub uid: String,
    /// `title`.
    pub title: String,
    /// `description`.
    pub description: String,
    /// `tags`.
    pub tags: Vec<String>,
    /// `timezone`.
    pub timezone: String,
    /// `editable`.
    pub editable: bool,
    /// `graphTooltip`: 1 shares the crosshair across panels.
    pub graph_tooltip: u32,
    /// `refresh`.
    pub refresh: String,
    /// `schemaVersion`.
    pub schema_version: u32,
    /// `version`.
    pub version: u32,
    /// `time`.
    pub time: TimeRange,
    /// `templating`.
    pub templating: Templating,
    /// `annotations`.
    pub annotations: Annotations,
    /// `panels`.
    pub panels: Vec<Panel>,
}

/// `time`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeRange {
    /// `from`.
    pub from: String,
    /// `to`.
    pub to: String,
}

/// `templating`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Templating {
    /// `list`.
    pub list: Vec<Variable>,
}

/// `annotations` (none of ours add any; the key is kept for Grafana's built-ins).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Annotations {
    /// `list`.
    pub list: Vec<Annotation>,
}

/// An annotation query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Annotation {
    /// `name`.
    pub name: String,
    /// `datasource`.
    pub datasource: DatasourceRef,
    /// `enable`.
    pub enable: bool,
    /// `expr`.
    pub expr: String,
    /// `iconColor`.
    pub icon_color: String,
    /// `titleFormat`.
    pub title_format: String,
}

/// A query variable over label values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Variable {
    /// `name`: `$name` in queries.
    pub name: String,
    /// `label`.
    pub label: String,
    /// `type`: `query`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `datasource`.
    pub datasource: DatasourceRef,
    /// `query`: `label_values(metric, label)`.
    pub query: String,
    /// `definition`: the same, as the editor shows it.
    pub definition: String,
    /// `refresh`: 2 reloads the values when the time range changes.
    pub refresh: u32,
    /// `includeAll`.
    pub include_all: bool,
    /// `allValue`: the regular expression "All" stands for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_value: Option<String>,
    /// `multi`.
    pub multi: bool,
    /// `sort`: 1 alphabetical.
    pub sort: u32,
}

/// `{ type, uid }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasourceRef {
    /// `type`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `uid`.
    pub uid: String,
}

/// A panel (or a row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Panel {
    /// `id`, unique in the dashboard.
    pub id: u32,
    /// `type`: `row`, `timeseries`, `stat`, `logs`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `title`.
    pub title: String,
    /// `description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `gridPos`.
    pub grid_pos: GridPos,
    /// `datasource`; none on rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasource: Option<DatasourceRef>,
    /// `targets`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Target>,
    /// `fieldConfig`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_config: Option<FieldConfig>,
    /// `options`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<PanelOptions>,
    /// `collapsed` (rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collapsed: Option<bool>,
    /// `panels` (rows: the panels a collapsed row holds; empty when expanded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub panels: Option<Vec<Panel>>,
}

/// `gridPos`: 24 columns wide.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridPos {
    /// `h`.
    pub h: u32,
    /// `w`.
    pub w: u32,
    /// `x`.
    pub x: u32,
    /// `y`.
    pub y: u32,
}

/// One query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Target {
    /// `refId`.
    pub ref_id: String,
    /// `datasource`.
    pub datasource: DatasourceRef,
    /// `expr`: PromQL or LogQL.
    pub expr: String,
    /// `legendFormat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legend_format: Option<String>,
    /// `instant`: one value, not a range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instant: Option<bool>,
    /// `range`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<bool>,
    /// `exemplar`: ask Prometheus for exemplars too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exemplar: Option<bool>,
}

/// `fieldConfig`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldConfig {
    /// `defaults`.
    pub defaults: FieldDefaults,
    /// `overrides` (ours set none).
    pub overrides: Vec<FieldOverride>,
}

/// `fieldConfig.overrides[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldOverride {
    /// `matcher`.
    pub matcher: Matcher,
    /// `properties`.
    pub properties: Vec<Property>,
}

/// An override's `matcher`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matcher {
    /// `id` (`byName`).
    pub id: String,
    /// `options`.
    pub options: String,
}

/// An override's property.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Property {
    /// `id` (`unit`, `color`).
    pub id: String,
    /// `value`.
    pub value: String,
}

/// `fieldConfig.defaults`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDefaults {
    /// `unit` (`percentunit`, `bytes`, `short`, `s`, `reqps`).
    pub unit: String,
    /// `min`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// `max`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// `decimals`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u32>,
    /// `thresholds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<Thresholds>,
    /// `color`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<ColorMode>,
    /// `custom`: the panel type's own field settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<CustomField>,
}

/// `thresholds`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// `mode`: `absolute`.
    pub mode: String,
    /// `steps`; the first has no value (the base).
    pub steps: Vec<ThresholdStep>,
}

/// A threshold step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdStep {
    /// `color`.
    pub color: String,
    /// `value`; `null` for the base step.
    pub value: Option<f64>,
}

/// `color`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColorMode {
    /// `mode`: `palette-classic`, `thresholds`.
    pub mode: String,
}

/// The time series panel's `custom` field settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CustomField {
    /// `drawStyle`: `line`.
    pub draw_style: String,
    /// `lineWidth`.
    pub line_width: u32,
    /// `fillOpacity`.
    pub fill_opacity: u32,
    /// `showPoints`: `never`.
    pub show_points: String,
    /// `stacking`.
    pub stacking: Stacking,
}

/// `stacking`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stacking {
    /// `mode`: `none` or `normal`.
    pub mode: String,
    /// `group`.
    pub group: String,
}

/// `options` of the panel types we use (each sets its own).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PanelOptions {
    /// Time series: `legend`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legend: Option<Legend>,
    /// Time series: `tooltip`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tooltip: Option<Tooltip>,
    /// Stat: `reduceOptions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reduce_options: Option<ReduceOptions>,
    /// Stat: `colorMode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color_mode: Option<String>,
    /// Stat: `graphMode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph_mode: Option<String>,
    /// Stat: `textMode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_mode: Option<String>,
    /// Logs: `showTime`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_time: Option<bool>,
    /// Logs: `wrapLogMessage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrap_log_message: Option<bool>,
    /// Logs: `enableLogDetails`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_log_details: Option<bool>,
    /// Logs: `sortOrder`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_order: Option<String>,
}

/// `legend`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Legend {
    /// `showLegend`.
    pub show_legend: bool,
    /// `displayMode`: `list` or `table`.
    pub display_mode: String,
    /// `placement`: `bottom` or `right`.
    pub placement: String,
    /// `calcs`: `lastNotNull`, `max`, ...
    pub calcs: Vec<String>,
}

/// `tooltip`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tooltip {
    /// `mode`: `multi`.
    pub mode: String,
    /// `sort`: `desc`.
    pub sort: String,
}

/// `reduceOptions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReduceOptions {
    /// `calcs`.
    pub calcs: Vec<String>,
    /// `fields`.
    pub fields: String,
    /// `values`.
    pub values: bool,
}
