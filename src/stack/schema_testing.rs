//! Helpers for the resources' tests: building configuration values.

use std::collections::BTreeMap;

use paved_value::{Path, Value};

use crate::schema::{Attribute, AttributeKind, Block};

/// An object value with the given attributes.
pub fn obj(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// A map value with the given entries.
pub fn map(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// A list of strings.
pub fn strings(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| Value::from(*s)).collect())
}

/// A number.
pub fn num(n: i64) -> Value {
    Value::from(n)
}

/// A configuration of `block` as Terraform sends it: every attribute and nested
/// block present, null unless set by `pairs` (each must be in the schema).
pub fn config_of(block: &Block, pairs: Vec<(&str, Value)>) -> Value {
    let mut all: BTreeMap<String, Value> = block
        .attributes
        .iter()
        .map(|a| (a.name.clone(), Value::Null))
        .chain(
            block
                .blocks
                .iter()
                .map(|b| (b.type_name.clone(), Value::Null)),
        )
        .collect();
    for (k, v) in pairs {
        assert!(all.contains_key(k), "{k} is not in the schema");
        all.insert(k.to_string(), v);
    }
    Value::Object(all)
}

/// The value at `path` in `v`: dot-separated attribute names, each optionally
/// followed by a map key in brackets (`node_pools["spot"].name`); panics when absent.
pub fn get<'a>(v: &'a Value, path: &str) -> &'a Value {
    let mut p = Path::root();
    for step in path.split('.') {
        p = match step.split_once('[') {
            Some((attr, key)) => p
                .attr(attr)
                .key(key.trim_end_matches(']').trim_matches('"')),
            None => p.attr(step),
        };
    }
    v.get_path(&p)
        .unwrap_or_else(|| panic!("{path} not in {v:#?}"))
}

/// Calls `f` on every attribute of `attrs`, nested ones included (parents first).
pub fn walk(attrs: &[Attribute], f: &mut impl FnMut(&Attribute)) {
    for a in attrs {
        f(a);
        if let AttributeKind::Nested { attributes, .. } = &a.kind {
            walk(attributes, f);
        }
    }
}
