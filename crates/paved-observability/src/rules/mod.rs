//! paved's alert rules: the default table ([`catalog`]) adapted to the platform,
//! with the spec's disabled rules left out and overrides applied, rendered as a
//! Prometheus rule file; and the `promtool test rules` file that proves every
//! default rule fires ([`promtool`]).
//!
//! Self-hosted, the rule file is a ConfigMap Prometheus mounts. Managed, no rule
//! file is rendered into the cluster: the caller uploads [`rules_yaml`] to the
//! managed service (an Amazon Managed Prometheus rule-group namespace, say).

mod catalog;
mod promtool;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use paved_manifests::{Manifest, Problem, RenderError};
use serde::Serialize;

use crate::labels::{object_meta, Component};
use crate::promql::{check_alert_expr, check_duration};
use crate::spec::{Mode, ObservabilitySpec, Platform};
use crate::workload::GENERATED_HEADER;
use catalog::{DefaultRule, GROUPS, RULES, SELF_MANAGED_CONTROL_PLANE_ALERTS, SEVERITIES};

/// The rule file's name in its ConfigMap (and in Prometheus's rule directory).
pub(crate) const RULES_FILE: &str = "rules.yaml";

/// The ConfigMap holding the rule file.
pub const RULES_CONFIG_MAP: &str = "prometheus-rules";

/// Whether the cloud runs `platform`'s control plane (controller manager,
/// scheduler, etcd): then the alerts about those parts are not rendered (see
/// [`catalog::SELF_MANAGED_CONTROL_PLANE_ALERTS`]). Every platform paved supports
/// has a managed control plane; a new one must decide here.
pub(crate) fn control_plane_is_managed(platform: &Platform) -> bool {
    match platform {
        Platform::Eks { .. } | Platform::Gke { .. } => true,
    }
}

/// The default rules that apply on `platform`, in file order.
fn default_rules(platform: &Platform) -> impl Iterator<Item = &'static DefaultRule> {
    let managed = control_plane_is_managed(platform);
    RULES
        .iter()
        .filter(move |r| !(managed && SELF_MANAGED_CONTROL_PLANE_ALERTS.contains(&r.alert)))
}

/// The alert names of the default rules on `platform`, in file order.
pub fn default_rule_names(platform: &Platform) -> Vec<&'static str> {
    default_rules(platform).map(|r| r.alert).collect()
}

#[derive(Debug, Serialize)]
struct RuleFile {
    groups: Vec<RuleGroup>,
}

#[derive(Debug, Serialize)]
struct RuleGroup {
    name: &'static str,
    rules: Vec<AlertRule>,
}

#[derive(Debug, Serialize)]
struct AlertRule {
    alert: &'static str,
    expr: String,
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    for_duration: Option<String>,
    labels: BTreeMap<&'static str, String>,
    annotations: BTreeMap<&'static str, &'static str>,
}

/// The rule as rendered: the default with the spec's override applied.
fn alert_rule(rule: &DefaultRule, spec: &ObservabilitySpec) -> AlertRule {
    let change = spec.alerting.rule_overrides.get(rule.alert);
    let pick = |field: Option<&Option<String>>, default: Option<&str>| match field {
        Some(Some(value)) => Some(value.clone()),
        _ => default.map(str::to_string),
    };
    AlertRule {
        alert: rule.alert,
        expr: pick(change.map(|c| &c.expr), Some(rule.expr)).unwrap_or_default(),
        for_duration: pick(change.map(|c| &c.for_duration), rule.for_duration),
        labels: BTreeMap::from([(
            "severity",
            pick(change.map(|c| &c.severity), Some(rule.severity.as_str())).unwrap_or_default(),
        )]),
        annotations: BTreeMap::from([
            ("summary", rule.summary),
            ("description", rule.description),
            ("runbook", rule.runbook),
        ]),
    }
}

/// The alert rule file (Prometheus rule groups) as rendered into its ConfigMap,
/// with the spec's disabled rules left out and overrides applied.
pub fn rules_yaml(spec: &ObservabilitySpec) -> Result<String, RenderError> {
    let rules: Vec<&DefaultRule> = default_rules(&spec.platform)
        .filter(|r| !spec.alerting.disabled_rules.contains(r.alert))
        .collect();
    let groups = GROUPS
        .iter()
        .map(|group| RuleGroup {
            name: group,
            rules: rules
                .iter()
                .filter(|r| r.group == *group)
                .map(|r| alert_rule(r, spec))
                .collect(),
        })
        // A group whose rules are all disabled is left out.
        .filter(|g| !g.rules.is_empty())
        .collect();
    let text = yaml_serde::to_string(&RuleFile { groups }).map_err(|source| RenderError::Yaml {
        what: RULES_FILE.to_string(),
        source,
    })?;
    Ok(format!("{GENERATED_HEADER}{text}"))
}

/// `promtool test rules` unit tests of the default rules on `platform`: a file
/// that names the rule file as `rules.yaml` (in the same directory).
pub fn rule_tests_yaml(platform: &Platform) -> Result<String, RenderError> {
    promtool::tests_yaml(default_rules(platform))
}

/// The ConfigMap holding the rule file (self-hosted mode; none when managed).
pub(crate) fn objects(spec: &ObservabilitySpec) -> Result<Vec<Manifest>, RenderError> {
    if !matches!(spec.mode, Mode::SelfHosted) {
        return Ok(Vec::new());
    }
    let config_map = ConfigMap {
        metadata: object_meta(spec, Component::Prometheus, RULES_CONFIG_MAP, true),
        data: Some(BTreeMap::from([(
            RULES_FILE.to_string(),
            rules_yaml(spec)?,
        )])),
        ..ConfigMap::default()
    };
    Ok(vec![Manifest::from_object(&config_map)?])
}

/// Problems of the spec's rule changes: names that are no default rule (the
/// message lists the known ones), override expressions that do not parse or are
/// no instant vector, `for` that is no duration, severities we do not route.
pub(crate) fn problems(spec: &ObservabilitySpec) -> Vec<Problem> {
    let known = default_rule_names(&spec.platform);
    let unknown = |name: &str| {
        format!(
            "{name:?} is not one of paved's alert rules; known: {}",
            known.join(", ")
        )
    };
    let mut out = Vec::new();
    for name in &spec.alerting.disabled_rules {
        if !known.contains(&name.as_str()) {
            out.push(Problem::new(
                format!("alerting.disabled_rules[{name:?}]"),
                unknown(name),
            ));
        }
    }
    for (name, change) in &spec.alerting.rule_overrides {
        let path = format!("alerting.rule_overrides[{name:?}]");
        if !known.contains(&name.as_str()) {
            out.push(Problem::new(&path, unknown(name)));
            continue;
        }
        if let Some(expr) = &change.expr {
            if let Err(why) = check_alert_expr(expr) {
                out.push(Problem::new(format!("{path}.expr"), why));
            }
        }
        if let Some(duration) = &change.for_duration {
            if let Err(why) = check_duration(duration) {
                out.push(Problem::new(format!("{path}.for_duration"), why));
            }
        }
        if let Some(severity) = &change.severity {
            if !SEVERITIES.contains(&severity.as_str()) {
                out.push(Problem::new(
                    format!("{path}.severity"),
                    format!(
                        "{severity:?} is not a severity the routes know; use one of {}",
                        SEVERITIES.join(", ")
                    ),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
