//! Plan-time helpers shared by the resources: the deletion-protection flag, the
//! name shown in messages, and the change test for replacing attributes.

use paved_value::{Path, Value};

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
