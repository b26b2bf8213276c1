//! The autoscaler's PodDisruptionBudget: node drains take at most one replica at a time.

use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{selector_labels, NAME, NAMESPACE};
use crate::labels::{object_meta, Component};
use crate::spec::BaselineSpec;

/// At most this many autoscaler pods may be disrupted at once.
pub const MAX_UNAVAILABLE: i32 = 1;

/// The PodDisruptionBudget.
pub fn pod_disruption_budget(spec: &BaselineSpec) -> PodDisruptionBudget {
    PodDisruptionBudget {
        metadata: object_meta(spec, &Component::Autoscaler, NAME, Some(NAMESPACE)),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(MAX_UNAVAILABLE)),
            selector: Some(LabelSelector {
                match_labels: Some(selector_labels()),
                ..LabelSelector::default()
            }),
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    }
}
