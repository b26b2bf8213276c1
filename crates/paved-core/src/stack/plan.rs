//! Plan-time helpers shared by the resources: the deletion-protection flag, the
//! name shown in messages, the change test for replacing attributes, and the merge
//! of the configuration with the effective values that makes a planned state.

use std::collections::BTreeMap;

use paved_value::{Path, Value};

use crate::diag::Diagnostics;
use crate::framework::PlanResponse;
use crate::schema::{Attribute, AttributeKind, Block, Nesting, Presence};

/// Whether the state has `deletion_protection = true`.
pub fn is_protected(state: &Value) -> bool {
    state
        .get_attr("deletion_protection")
        .and_then(Value::as_bool)
        == Some(true)
}

/// The state's `name`, quoted for a message (empty when there is none).
pub fn quoted_name(state: &Value) -> String {
    state
        .get_attr("name")
        .and_then(Value::as_str)
        .map_or_else(String::new, |n| format!("\"{n}\""))
}

/// The plan of a destroy: refused when the state says the stack is protected, with
/// what to do (`noun`: "cluster"; `note`: a sentence added to the message, or "").
pub fn plan_destroy(prior_state: &Value, noun: &str, note: &str) -> PlanResponse {
    let mut diagnostics = Diagnostics::new();
    if is_protected(prior_state) {
        diagnostics.attribute_error(
            Path::root().attr("deletion_protection"),
            "Deletion protection is on",
            format!(
                "The {noun} {} has deletion_protection = true, so it cannot be destroyed. To destroy it, set \
                 deletion_protection = false, apply, then destroy.{note}",
                quoted_name(prior_state)
            ),
        );
    }
    PlanResponse {
        planned_state: Value::Null,
        diagnostics,
        ..PlanResponse::default()
    }
}

/// Whether the value at `path` differs between the prior and planned states, or
/// is not yet wholly known in the planned one.
pub fn changed(prior: &Value, planned: &Value, path: &Path) -> bool {
    let before = prior.get_path(path).unwrap_or(&Value::Null);
    let after = planned.get_path(path).unwrap_or(&Value::Null);
    !after.is_wholly_known() || before != after
}

/// The `paths` whose change replaces the resource: none on create (`prior` null),
/// otherwise those [`changed`] between `prior` and `planned`.
pub fn replaced_paths(prior: &Value, planned: &Value, paths: Vec<Path>) -> Vec<Path> {
    if prior.is_null() {
        return Vec::new();
    }
    paths
        .into_iter()
        .filter(|p| changed(prior, planned, p))
        .collect()
}

/// Whether the value at `path` was never decided: the prior state has none (an
/// apply stopped before making the key or choosing the zones), the configuration
/// does not set it and the plan still leaves it to the apply. Deciding it is not a
/// change, so it replaces nothing.
pub fn undecided(prior: &Value, config: &Value, planned: &Value, path: &Path) -> bool {
    let null_at = |v: &Value| v.get_path(path).is_none_or(Value::is_null);
    null_at(prior) && null_at(config) && planned.get_path(path).is_some_and(Value::is_unknown)
}

/// Whether `state` is what a failed or stopped apply left: its inventory lists a
/// component without an id (one that does not exist), or it has no inventory.
pub fn is_partial(state: &Value) -> bool {
    match state.get_attr("inventory").and_then(Value::as_list) {
        Some(rows) => rows
            .iter()
            .any(|row| row.get_attr("id").is_none_or(Value::is_null)),
        None => true,
    }
}

/// The planned object of a block: configured values exactly as written, effective
/// values for optional+computed attributes left out and for computed attributes.
/// Nested blocks (`timeouts`) are taken from the configuration as they are.
pub fn merge_block(block: &Block, config: &Value, effective: &Value) -> Value {
    let mut out = BTreeMap::new();
    for a in &block.attributes {
        let c = config.get_attr(&a.name).unwrap_or(&Value::Null);
        let e = effective.get_attr(&a.name).unwrap_or(&Value::Null);
        out.insert(a.name.clone(), merge_attribute(a, c, e));
    }
    for b in &block.blocks {
        let c = config
            .get_attr(&b.type_name)
            .cloned()
            .unwrap_or(Value::Null);
        out.insert(b.type_name.clone(), c);
    }
    Value::Object(out)
}

fn merge_attribute(a: &Attribute, c: &Value, e: &Value) -> Value {
    match a.presence {
        Presence::Computed => e.clone(),
        Presence::OptionalComputed if c.is_null() => e.clone(),
        _ => merge_configured(a, c, e),
    }
}

/// A configured value as written; inside nested attributes, the attributes left out
/// take their effective values.
fn merge_configured(a: &Attribute, c: &Value, e: &Value) -> Value {
    let AttributeKind::Nested {
        nesting,
        attributes,
    } = &a.kind
    else {
        return c.clone();
    };
    if c.is_null() || c.is_unknown() {
        return c.clone();
    }
    let object = |c: &Value, e: &Value| -> Value {
        if c.is_null() || c.is_unknown() {
            return c.clone();
        }
        let mut out = BTreeMap::new();
        for n in attributes {
            let cv = c.get_attr(&n.name).unwrap_or(&Value::Null);
            let ev = e.get_attr(&n.name).unwrap_or(&Value::Null);
            out.insert(n.name.clone(), merge_attribute(n, cv, ev));
        }
        Value::Object(out)
    };
    match (nesting, c.unwrap_dynamic()) {
        (Nesting::Single | Nesting::Group, _) => object(c, e),
        (Nesting::Map, Value::Map(entries)) => Value::Map(
            entries
                .iter()
                .map(|(k, cv)| (k.clone(), object(cv, e.get_key(k).unwrap_or(&Value::Null))))
                .collect(),
        ),
        (Nesting::List, Value::List(items)) => Value::List(
            items
                .iter()
                .enumerate()
                .map(|(i, cv)| object(cv, e.get_index(i).unwrap_or(&Value::Null)))
                .collect(),
        ),
        (Nesting::Set, Value::Set(items)) => {
            Value::Set(items.iter().map(|cv| object(cv, &Value::Null)).collect())
        }
        _ => c.clone(),
    }
}

/// The state a read (refresh, or an apply that stopped) writes: `rendered`, the
/// whole state rendered from the typed spec with the drift already applied to it,
/// wins everywhere; where it is unknown (what the spec cannot tell, such as
/// `tags_all` before the tags are read), the value of `base` (the state, or the
/// configuration) stays. Nested blocks (`timeouts`) come from `base`.
pub fn read_back(block: &Block, base: &Value, rendered: &Value) -> Value {
    let mut out = BTreeMap::new();
    for a in &block.attributes {
        let b = base.get_attr(&a.name).unwrap_or(&Value::Null);
        let r = rendered.get_attr(&a.name).unwrap_or(&Value::Null);
        out.insert(a.name.clone(), read_back_value(b, r));
    }
    for nb in &block.blocks {
        let b = base.get_attr(&nb.type_name).cloned().unwrap_or(Value::Null);
        out.insert(nb.type_name.clone(), b);
    }
    Value::Object(out)
}

fn read_back_value(base: &Value, rendered: &Value) -> Value {
    if rendered.is_unknown() {
        return base.clone();
    }
    match (base, rendered) {
        (Value::Object(b), Value::Object(r)) => Value::Object(
            r.iter()
                .map(|(k, rv)| {
                    let bv = b.get(k).unwrap_or(&Value::Null);
                    (k.clone(), read_back_value(bv, rv))
                })
                .collect(),
        ),
        (Value::Map(b), Value::Map(r)) => Value::Map(
            r.iter()
                .map(|(k, rv)| {
                    let bv = b.get(k).unwrap_or(&Value::Null);
                    (k.clone(), read_back_value(bv, rv))
                })
                .collect(),
        ),
        _ => rendered.clone(),
    }
}

/// `tags_all` needs the provider's default tags, which the resource sets on the
/// plan ([`crate::stack::resource::plan_tags_all`]); without them, an update keeps
/// the prior value (a create or replacement leaves it unknown).
pub fn keep_prior_tags_all(planned: &mut Value, prior: &Value, replacing: bool) {
    if replacing {
        return;
    }
    if let (Value::Object(attrs), Some(tags)) = (planned, prior.get_attr("tags_all")) {
        attrs.insert("tags_all".to_owned(), tags.clone());
    }
}

/// The response of a create or update plan: the prior state itself when Terraform
/// proposes no change and nothing is wrong (so the plan is empty), else
/// `planned_state` with its replacements and diagnostics.
pub fn plan_response(
    prior_state: &Value,
    proposed_new_state: &Value,
    planned_state: Value,
    requires_replace: Vec<Path>,
    diagnostics: Diagnostics,
) -> PlanResponse {
    if !prior_state.is_null() && proposed_new_state == prior_state && !diagnostics.has_errors() {
        return PlanResponse {
            planned_state: prior_state.clone(),
            diagnostics,
            ..PlanResponse::default()
        };
    }
    PlanResponse {
        planned_state,
        requires_replace,
        planned_private: Vec::new(),
        diagnostics,
    }
}
