//! HorizontalPodAutoscalers: replicas now, wanted and allowed, and the ones that
//! are stuck at their maximum or unable to scale.

use super::{q, Board, Unit};
use crate::spec::ObservabilitySpec;
use crate::typed::grafana::Dashboard;

/// The autoscalers dashboard.
pub(crate) fn dashboard(spec: &ObservabilitySpec) -> Dashboard {
    let sel = r#"namespace=~"$namespace",horizontalpodautoscaler=~"$hpa""#;
    let legend = "{{namespace}}/{{horizontalpodautoscaler}}";
    Board::new(
        spec,
        "hpa",
        "Autoscalers",
        "HorizontalPodAutoscalers: current, desired, minimum and maximum replicas.",
    )
    .variable("namespace", "namespace", "kube_horizontalpodautoscaler_info", "Namespace")
    .variable(
        "hpa",
        "horizontalpodautoscaler",
        "kube_horizontalpodautoscaler_info{namespace=~\"$namespace\"}",
        "Autoscaler",
    )
    .row("State")
    .stat(
        "At maximum",
        "Autoscalers running their maximum replicas: they cannot add more.",
        Unit::Count,
        8,
        format!("count(kube_horizontalpodautoscaler_status_current_replicas{{{sel}}} >= on (namespace, horizontalpodautoscaler) kube_horizontalpodautoscaler_spec_max_replicas) or vector(0)"),
        Some(1.0),
        None,
    )
    .stat(
        "Unable to scale",
        "Autoscalers whose AbleToScale condition is false.",
        Unit::Count,
        8,
        format!("count(kube_horizontalpodautoscaler_status_condition{{condition=\"AbleToScale\",status=\"false\",{sel}}} == 1) or vector(0)"),
        None,
        Some(1.0),
    )
    .stat(
        "Scaling limited",
        "Autoscalers that want more (or fewer) replicas than their bounds allow.",
        Unit::Count,
        8,
        format!("count(kube_horizontalpodautoscaler_status_condition{{condition=\"ScalingLimited\",status=\"true\",{sel}}} == 1) or vector(0)"),
        Some(1.0),
        None,
    )
    .row("Replicas")
    .graph(
        "Current against desired and maximum",
        "Replicas running, replicas the autoscaler wants, and its bounds.",
        Unit::Count,
        24,
        vec![
            q(format!("kube_horizontalpodautoscaler_status_current_replicas{{{sel}}}"), &format!("{legend} current")),
            q(format!("kube_horizontalpodautoscaler_status_desired_replicas{{{sel}}}"), &format!("{legend} desired")),
            q(format!("kube_horizontalpodautoscaler_spec_max_replicas{{{sel}}}"), &format!("{legend} max")),
            q(format!("kube_horizontalpodautoscaler_spec_min_replicas{{{sel}}}"), &format!("{legend} min")),
        ],
    )
    .graph(
        "Headroom",
        "Replicas the autoscaler may still add before its maximum.",
        Unit::Count,
        12,
        vec![q(
            format!("kube_horizontalpodautoscaler_spec_max_replicas{{{sel}}} - on (namespace, horizontalpodautoscaler) kube_horizontalpodautoscaler_status_current_replicas"),
            legend,
        )],
    )
    .graph(
        "Targets",
        "The metric targets each autoscaler steers by.",
        Unit::Count,
        12,
        vec![q(
            format!("kube_horizontalpodautoscaler_spec_target_metric{{{sel}}}"),
            "{{horizontalpodautoscaler}} {{metric_name}} ({{metric_target_type}})",
        )],
    )
    .build()
}
