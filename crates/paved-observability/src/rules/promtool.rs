//! The `promtool test rules` file for the default rules: one test group per
//! case of [`super::catalog`], each stating the exact alerts (labels and
//! expanded annotations) expected at its evaluation time.

use std::collections::BTreeMap;

use paved_manifests::RenderError;
use serde::Serialize;

use super::catalog::DefaultRule;
use super::RULES_FILE;
use crate::workload::GENERATED_HEADER;

/// The step of the tests' input series and rule evaluation.
const INTERVAL: &str = "1m";

#[derive(Debug, Serialize)]
struct TestFile {
    rule_files: Vec<&'static str>,
    evaluation_interval: &'static str,
    tests: Vec<TestGroup>,
}

#[derive(Debug, Serialize)]
struct TestGroup {
    name: String,
    interval: &'static str,
    input_series: Vec<InputSeries>,
    alert_rule_test: Vec<AlertTest>,
}

#[derive(Debug, Serialize)]
struct InputSeries {
    series: &'static str,
    values: &'static str,
}

#[derive(Debug, Serialize)]
struct AlertTest {
    eval_time: &'static str,
    alertname: &'static str,
    exp_alerts: Vec<ExpectedAlert>,
}

#[derive(Debug, Serialize)]
struct ExpectedAlert {
    exp_labels: BTreeMap<String, String>,
    exp_annotations: BTreeMap<String, String>,
}

/// `text` with every `{{ $labels.NAME }}` replaced by the label's value (empty
/// when the alert has no such label, as Prometheus's templates do). Any other
/// template action is refused: the expected text could not be stated exactly.
pub(crate) fn expand(text: &str, labels: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("unclosed template action in {text:?}"))?;
        let action = after[..end].trim();
        let name = action
            .strip_prefix("$labels.")
            .filter(|n| crate::promql::is_label_name(n))
            .ok_or_else(|| {
                format!("{action:?} in {text:?}: only {{{{ $labels.<name> }}}} is used in paved's rules")
            })?;
        out.push_str(labels.get(name).map(String::as_str).unwrap_or(""));
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn expected(rule: &DefaultRule, labels: &[(&str, &str)]) -> Result<ExpectedAlert, RenderError> {
    let mut exp_labels: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    exp_labels.insert("severity".to_string(), rule.severity.as_str().to_string());
    let mut exp_annotations = BTreeMap::new();
    for (key, text) in [
        ("summary", rule.summary),
        ("description", rule.description),
        ("runbook", rule.runbook),
    ] {
        let value = expand(text, &exp_labels).map_err(|why| RenderError::Invalid {
            problems: vec![paved_manifests::Problem::new(
                format!("rules[{}].annotations.{key}", rule.alert),
                why,
            )],
        })?;
        exp_annotations.insert(key.to_string(), value);
    }
    Ok(ExpectedAlert {
        exp_labels,
        exp_annotations,
    })
}

/// The test file for `rules`.
pub(crate) fn tests_yaml<'a>(
    rules: impl Iterator<Item = &'a DefaultRule>,
) -> Result<String, RenderError> {
    let mut tests = Vec::new();
    for rule in rules {
        for (i, case) in rule.cases.iter().enumerate() {
            let verdict = if case.fires.is_empty() {
                "stays quiet"
            } else {
                "fires"
            };
            tests.push(TestGroup {
                name: format!("{} #{}: {verdict} at {}", rule.alert, i + 1, case.at),
                interval: INTERVAL,
                input_series: case
                    .series
                    .iter()
                    .map(|(series, values)| InputSeries { series, values })
                    .collect(),
                alert_rule_test: vec![AlertTest {
                    eval_time: case.at,
                    alertname: rule.alert,
                    exp_alerts: case
                        .fires
                        .iter()
                        .map(|labels| expected(rule, labels))
                        .collect::<Result<_, _>>()?,
                }],
            });
        }
    }
    let file = TestFile {
        rule_files: vec![RULES_FILE],
        evaluation_interval: INTERVAL,
        tests,
    };
    let text = yaml_serde::to_string(&file).map_err(|source| RenderError::Yaml {
        what: "rule tests".to_string(),
        source,
    })?;
    Ok(format!("{GENERATED_HEADER}{text}"))
}
