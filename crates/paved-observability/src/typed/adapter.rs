//! prometheus-adapter's discovery rules file (`--config`), as its
//! `docs/config.md` spells it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The whole file: custom-metrics rules only (no `resourceRules`: pod CPU and
/// memory are metrics-server's; no `externalRules`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdapterConfig {
    /// `rules`.
    pub rules: Vec<Rule>,
}

/// One discovery rule: which series become which custom metric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// `seriesQuery`: the series selector discovering candidate series.
    #[serde(rename = "seriesQuery")]
    pub series_query: String,
    /// `resources`: how series labels map to Kubernetes objects.
    pub resources: Resources,
    /// `name`: how the series name becomes the metric name.
    pub name: Naming,
    /// `metricsQuery`: the query template answering a request.
    #[serde(rename = "metricsQuery")]
    pub metrics_query: String,
}

/// `resources`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// `overrides`: label name to resource.
    pub overrides: BTreeMap<String, ResourceRef>,
}

/// One resource of `overrides`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceRef {
    /// `resource`: `namespace`, `pod`, ...
    pub resource: String,
}

/// `name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Naming {
    /// `matches`: a regular expression over the series name.
    pub matches: String,
    /// `as`: the metric name, `${1}` the first group.
    #[serde(rename = "as")]
    pub as_name: String,
}
