//! Planning a `paved_observability_stack` change: a pure function of the prior
//! state, the proposed new state and the configuration. No cloud or cluster call:
//! the plan works before the cluster exists.
//!
//! Every effective setting is shown (defaults filled from the profile). The objects
//! the stack keeps in the cluster are known at plan; their digest is known once
//! nothing that renders them is unknown. Changing `name` or `namespace` replaces
//! the stack; everything else (retention, receivers, routes, volumes growing,
//! logs and traces on or off) changes in place.

use paved_value::{Path, Value};

use super::config::ObservabilityConfig;
use super::schema::schema;
use super::state::{render_state, Outputs};
use super::validate;
use crate::diag::Diagnostics;
use crate::framework::PlanResponse;
use crate::schema::declared::keep_prior_values;
use crate::stack::plan::{
    is_protected, keep_prior_tags_all, merge_block, plan_destroy, plan_response, quoted_name,
    replaced_paths,
};

/// Plans a create (`prior_state` null), update, or destroy (`proposed_new_state`
/// null).
pub fn plan(prior_state: &Value, proposed_new_state: &Value, config: &Value) -> PlanResponse {
    if proposed_new_state.is_null() {
        return plan_destroy(prior_state, "observability stack", "");
    }
    let mut diags = Diagnostics::new();
    let (cfg, read) = ObservabilityConfig::from_config(config);
    diags.extend(read);
    diags.extend(validate::check(&cfg, config));
    let prior = (!prior_state.is_null()).then(|| ObservabilityConfig::from_state(prior_state));
    if let Some(p) = &prior {
        diags.extend(validate::check_change(p, &cfg));
    }
    let block = schema().block;
    let settings = merge_block(
        &block,
        config,
        &render_state(&cfg, &Outputs::on_create(&cfg)),
    );
    let requires_replace = replaced_paths(prior_state, &settings, block.replacing_paths());
    if !requires_replace.is_empty() && is_protected(prior_state) {
        let changes: Vec<String> = requires_replace.iter().map(Path::to_string).collect();
        diags.attribute_error(
            Path::root().attr("deletion_protection"),
            "Deletion protection is on",
            format!(
                "Changing {} replaces the observability stack {}, and deletion_protection is true. Undo the \
                 change, or set deletion_protection = false, apply, then apply the change.",
                changes.join(", "),
                quoted_name(prior_state)
            ),
        );
    }
    let outputs = match &prior {
        Some(p) if requires_replace.is_empty() => on_update(&cfg, p, prior_state),
        _ => Outputs::on_create(&cfg),
    };
    let mut planned_state = merge_block(&block, config, &render_state(&cfg, &outputs));
    if prior.is_some() && requires_replace.is_empty() {
        keep_prior_values(&block, &mut planned_state, prior_state);
    }
    keep_prior_tags_all(
        &mut planned_state,
        prior_state,
        !requires_replace.is_empty(),
    );
    plan_response(
        prior_state,
        proposed_new_state,
        planned_state,
        requires_replace,
        diags,
    )
}

/// The stack stays: what the change does not touch keeps its prior value.
fn on_update(cfg: &ObservabilityConfig, prior: &ObservabilityConfig, state: &Value) -> Outputs {
    let kept = |name: &str| {
        state
            .get_attr(name)
            .filter(|v| !v.is_null())
            .cloned()
            .unwrap_or_else(Value::unknown)
    };
    let create = Outputs::on_create(cfg);
    let same_render = cfg.settings.is_known()
        && cfg.cluster.is_known()
        && cfg.settings == prior.settings
        && cfg.cluster == prior.cluster
        && cfg.mode == prior.mode
        && cfg.profile == prior.profile;
    let same_stores = match (cfg.settings.known(), prior.settings.known()) {
        (Some(a), Some(b)) => {
            a.logs.enabled == b.logs.enabled && a.traces.enabled == b.traces.enabled
        }
        _ => false,
    } && cfg.mode == prior.mode
        && stores_present(cfg, state);
    Outputs {
        buckets: if same_stores {
            kept("buckets")
        } else {
            Value::unknown()
        },
        inventory: if same_stores {
            kept("inventory")
        } else {
            Value::unknown()
        },
        kubernetes_objects: create.kubernetes_objects,
        kubernetes_digest: if same_render {
            kept("kubernetes_digest")
        } else {
            Value::unknown()
        },
        kubernetes_hashes: if same_render {
            kept("kubernetes_hashes")
        } else {
            Value::unknown()
        },
    }
}

/// Whether the prior state lists a bucket for every store the configuration has
/// on (a refresh after something was deleted outside paved may have dropped one,
/// which the apply makes again).
fn stores_present(cfg: &ObservabilityConfig, state: &Value) -> bool {
    let Some(settings) = cfg.settings.known() else {
        return false;
    };
    let buckets = state.get_attr("buckets");
    let has = |purpose: &str| {
        buckets
            .and_then(|b| b.get_key(purpose))
            .is_some_and(|v| !v.is_null())
    };
    (!settings.logs.enabled || has("logs")) && (!settings.traces.enabled || has("traces"))
}
