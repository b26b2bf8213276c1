//! Checks of a spec before rendering: each component's own, gathered.

use paved_manifests::Problem;

use crate::spec::ObservabilitySpec;
use crate::{adapter, alertmanager, alloy, grafana, loki, namespace, prometheus, rules, tempo};

/// Every problem of `spec`, each naming the field (`alerting.routes[0].matchers[1]`)
/// and saying what is wrong. Empty when the spec renders.
pub fn validate(spec: &ObservabilitySpec) -> Vec<Problem> {
    let mut problems = Vec::new();
    problems.extend(namespace::problems(spec));
    problems.extend(prometheus::problems(spec));
    problems.extend(alertmanager::problems(spec));
    problems.extend(rules::problems(spec));
    problems.extend(grafana::problems(spec));
    problems.extend(loki::problems(spec));
    problems.extend(tempo::problems(spec));
    problems.extend(alloy::problems(spec));
    problems.extend(adapter::problems(spec));
    problems
}
