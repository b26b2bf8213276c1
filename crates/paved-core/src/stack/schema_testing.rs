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

/// Asserts that `planned` (a plan of a configuration that sets nothing but the
/// name, `profile` and attributes without defaults) holds, where the user set nothing, for every attribute of `block` declaring a value
/// default (fixed or per profile), that declared value: the reader takes its
/// defaults from the declarations the docs show. Nested single objects are
/// walked; `within` names map entries to look into as well (`("node_pools",
/// "system")`). Returns how many defaults were compared.
pub fn assert_declared_defaults_planned(
    block: &Block,
    planned: &Value,
    profile: &str,
    within: &[(&str, &str)],
) -> usize {
    fn compare(attrs: &[Attribute], at: &Value, where_: &str, profile: &str) -> usize {
        let mut n = 0;
        for a in attrs {
            let Some(v) = at.get_attr(&a.name) else {
                continue;
            };
            let by_user = where_.is_empty() && a.name == "profile";
            let declared = a.default.as_ref().and_then(|d| d.value_for(Some(profile)));
            if let Some(expected) = declared.filter(|_| !by_user) {
                assert_eq!(v, &expected, "{where_}{} in the {profile} profile", a.name);
                n += 1;
            }
            if let AttributeKind::Nested {
                nesting: crate::schema::Nesting::Single,
                attributes,
            } = &a.kind
            {
                n += compare(attributes, v, &format!("{where_}{}.", a.name), profile);
            }
        }
        n
    }
    let mut n = compare(&block.attributes, planned, "", profile);
    for (attr, key) in within {
        let Some(a) = block.find_attribute(attr) else {
            panic!("{attr} is not in the schema")
        };
        let AttributeKind::Nested { attributes, .. } = &a.kind else {
            panic!("{attr} is not nested")
        };
        let entry = get(planned, &format!("{attr}[\"{key}\"]"));
        n += compare(attributes, entry, &format!("{attr}[\"{key}\"]."), profile);
    }
    for b in &block.blocks {
        if let Some(inner) = planned.get_attr(&b.type_name).filter(|v| !v.is_null()) {
            n += compare(
                &b.block.attributes,
                inner,
                &format!("{}.", b.type_name),
                profile,
            );
        }
    }
    n
}
