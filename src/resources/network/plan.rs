//! Planning a `paved_network` change: a pure function of the prior state, the
//! proposed new state and the configuration. No cloud call.
//!
//! Every effective setting is shown (defaults filled from the profile), and the
//! subnets' ranges are known at plan. The ids are known after the first apply and
//! kept after; a changed NAT layout leaves only the NAT gateways' ids unknown.
//! Changing `name`, `cidr`, `zones` or `zone_count` replaces the network.

use paved_value::{Path, Value};

use super::config::NetworkConfig;
use super::schema::declared;
use super::state::{render_state, Outputs};
use super::validate;
use crate::framework::PlanResponse;
use crate::schema::declared::{check_block, keep_prior_values};
use crate::stack::plan::{
    is_protected, keep_prior_tags_all, merge_block, plan_destroy, plan_response, quoted_name,
    replaced_paths,
};

/// Plans a create (`prior_state` null), update, or destroy (`proposed_new_state`
/// null).
pub fn plan(prior_state: &Value, proposed_new_state: &Value, config: &Value) -> PlanResponse {
    if proposed_new_state.is_null() {
        return plan_destroy(
            prior_state,
            "network",
            " Destroy the clusters and databases in it first: Terraform does, when they take the network's ids.",
        );
    }
    let block = &declared().block;
    let mut diags = check_block(block, config);
    let (cfg, read) = NetworkConfig::from_config(config);
    diags.extend(read);
    diags.extend(validate::check(&cfg));
    // A new network: its subnets' ids are unknown, their number (one a zone) known.
    let fresh = merge_block(block, config, &render_state(&cfg, &Outputs::planned(&cfg)));
    // What the prior state chose (the zones, the ids) stands unless the change
    // replaces it.
    let mut kept = merge_block(block, config, &render_state(&cfg, &Outputs::unknown()));
    if !prior_state.is_null() {
        keep_prior_values(block, &mut kept, prior_state);
    }
    let requires_replace = replaced_paths(prior_state, &kept, block.replacing_paths());
    if !requires_replace.is_empty() && is_protected(prior_state) {
        let changes: Vec<String> = requires_replace.iter().map(Path::to_string).collect();
        diags.attribute_error(
            Path::root().attr("deletion_protection"),
            "Deletion protection is on",
            format!(
                "Changing {} replaces the network {}, and deletion_protection is true. Undo the change, or set \
                 deletion_protection = false, apply, then apply the change.",
                changes.join(", "),
                quoted_name(prior_state)
            ),
        );
    }
    let updating = !prior_state.is_null() && requires_replace.is_empty();
    let mut planned_state = if updating { kept } else { fresh };
    if updating {
        let nat_changed = prior_state.get_attr("nat_mode") != planned_state.get_attr("nat_mode");
        if nat_changed {
            if let Value::Object(attrs) = &mut planned_state {
                attrs.insert("nat_gateway_ids".to_owned(), Value::unknown());
            }
        }
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
