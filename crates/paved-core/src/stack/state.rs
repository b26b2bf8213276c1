//! Editing state values: the apply and refresh of every resource patch a few
//! attributes of an object and must never hand Terraform an unknown value.

use std::collections::BTreeMap;

use paved_value::Value;

use crate::stack::tags::{merged, STACK_TAG};

/// `v` with every unknown value replaced by null: what a partial state records for
/// values a failed apply never learned.
pub fn unknowns_to_null(v: &Value) -> Value {
    match v {
        v if v.is_unknown() => Value::Null,
        Value::Object(attrs) => Value::Object(
            attrs
                .iter()
                .map(|(k, v)| (k.clone(), unknowns_to_null(v)))
                .collect(),
        ),
        Value::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), unknowns_to_null(v)))
                .collect(),
        ),
        Value::List(items) => Value::List(items.iter().map(unknowns_to_null).collect()),
        Value::Set(items) => Value::Set(items.iter().map(unknowns_to_null).collect()),
        Value::Tuple(items) => Value::Tuple(items.iter().map(unknowns_to_null).collect()),
        other => other.clone(),
    }
}

/// Sets attribute `name` of an object value (a no-op on anything else).
pub fn set_attr(object: &mut Value, name: &str, value: Value) {
    if let Value::Object(attrs) = object {
        attrs.insert(name.to_owned(), value);
    }
}

/// The attribute `name` of an object value, for editing in place.
pub fn attr_mut<'a>(object: &'a mut Value, name: &str) -> Option<&'a mut Value> {
    match object {
        Value::Object(attrs) => attrs.get_mut(name),
        _ => None,
    }
}

/// The entries of a map value, for editing in place.
pub fn map_mut(map: &mut Value) -> Option<&mut BTreeMap<String, Value>> {
    match map {
        Value::Map(entries) => Some(entries),
        _ => None,
    }
}

/// A list of strings.
pub fn string_list<S: AsRef<str>>(items: &[S]) -> Value {
    Value::List(items.iter().map(|s| Value::from(s.as_ref())).collect())
}

/// The tags every component of a stack carries (besides the backend's own
/// `paved:*` keys): the provider's default tags, then the resource's (which win),
/// then the stack tag.
pub fn stack_tags(
    default_tags: &BTreeMap<String, String>,
    resource_tags: Option<&BTreeMap<String, String>>,
    stack: &str,
) -> BTreeMap<String, String> {
    let mut tags = merged(default_tags, resource_tags.unwrap_or(&BTreeMap::new()));
    tags.insert(STACK_TAG.to_owned(), stack.to_owned());
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknowns_become_null_at_every_depth() {
        let v = Value::Object(BTreeMap::from([
            ("a".to_string(), Value::unknown()),
            (
                "b".to_string(),
                Value::List(vec![Value::from("x"), Value::unknown()]),
            ),
        ]));
        let out = unknowns_to_null(&v);
        assert!(out.is_wholly_known());
        assert_eq!(out.get_attr("a"), Some(&Value::Null));
        assert_eq!(
            out.get_attr("b").and_then(|b| b.get_index(0)),
            Some(&Value::from("x"))
        );
        assert_eq!(
            out.get_attr("b").and_then(|b| b.get_index(1)),
            Some(&Value::Null)
        );
    }

    #[test]
    fn resource_tags_win_and_the_stack_tag_is_always_there() {
        let defaults = BTreeMap::from([("team".to_string(), "a".to_string())]);
        let own = BTreeMap::from([("team".to_string(), "b".to_string())]);
        let tags = stack_tags(&defaults, Some(&own), "shop");
        assert_eq!(tags["team"], "b");
        assert_eq!(tags[STACK_TAG], "shop");
    }
}
