//! The labels and metadata every object carries: who manages it, which stack and
//! which component of the stack it belongs to.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use paved_manifests::labels::{COMPONENT, MANAGED_BY, MANAGED_BY_PAVED, PROFILE, STACK};

use crate::spec::ObservabilitySpec;

/// Label naming the workload (`app.kubernetes.io/name`), the selector of its pods.
pub const NAME: &str = "app.kubernetes.io/name";

/// The components of the stack; the `paved.dev/component` label's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    /// The namespace.
    Namespace,
    /// Prometheus.
    Prometheus,
    /// Alertmanager.
    Alertmanager,
    /// kube-state-metrics.
    KubeStateMetrics,
    /// node-exporter.
    NodeExporter,
    /// Grafana.
    Grafana,
    /// Loki.
    Loki,
    /// Grafana Alloy, the node agent.
    Alloy,
    /// Tempo.
    Tempo,
    /// The custom-metrics adapter.
    MetricsAdapter,
}

impl Component {
    /// The label value.
    pub fn label_value(self) -> &'static str {
        match self {
            Component::Namespace => "namespace",
            Component::Prometheus => "prometheus",
            Component::Alertmanager => "alertmanager",
            Component::KubeStateMetrics => "kube-state-metrics",
            Component::NodeExporter => "node-exporter",
            Component::Grafana => "grafana",
            Component::Loki => "loki",
            Component::Alloy => "alloy",
            Component::Tempo => "tempo",
            Component::MetricsAdapter => "metrics-adapter",
        }
    }
}

/// The labels every object of `component` carries.
pub fn common_labels(spec: &ObservabilitySpec, component: Component) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED_BY.to_string(), MANAGED_BY_PAVED.to_string()),
        (STACK.to_string(), spec.stack_name.clone()),
        (COMPONENT.to_string(), component.label_value().to_string()),
        (PROFILE.to_string(), spec.profile_name.clone()),
    ])
}

/// The labels that select `component`'s pods (stable across paved versions).
pub fn selector_labels(component: Component) -> BTreeMap<String, String> {
    BTreeMap::from([(NAME.to_string(), component.label_value().to_string())])
}

/// `meta` with annotations telling checkov (which scripts/check-manifests.sh runs
/// over the rendered files) that this one object fails the checks in `skips` on
/// purpose: `checkov.io/skipN: CHECK_ID=reason`. Scoped to the object, so the same
/// checks still judge every other workload. A reason cannot contain `=` (checkov
/// splits on it).
pub(crate) fn skip_checks(mut meta: ObjectMeta, skips: &[(&str, &str)]) -> ObjectMeta {
    let annotations = meta.annotations.get_or_insert_with(BTreeMap::new);
    for (i, (check, reason)) in skips.iter().enumerate() {
        debug_assert!(!reason.contains('='), "a checkov reason contains '='");
        annotations.insert(
            format!("checkov.io/skip{}", i + 1),
            format!("{check}={reason}"),
        );
    }
    meta
}

/// Metadata for an object named `name` in the stack's namespace (`namespaced`) or
/// cluster-scoped.
pub fn object_meta(
    spec: &ObservabilitySpec,
    component: Component,
    name: &str,
    namespaced: bool,
) -> ObjectMeta {
    let mut labels = common_labels(spec, component);
    labels.extend(selector_labels(component));
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: namespaced.then(|| spec.namespace.clone()),
        labels: Some(labels),
        ..ObjectMeta::default()
    }
}
