//! The effective configuration as a value: what the user wrote, with every
//! attribute they left out filled from its declared default (the profile's value,
//! or a fixed one), nested attributes included. A resource whose settings are
//! mostly plain values reads its typed spec from this, so each default is written
//! once, on its attribute, and the plan shows it.

use std::collections::BTreeMap;

use paved_value::Value;

use crate::schema::{Attribute, AttributeKind, Nesting, Presence};
use crate::stack::Knowable;

/// `config`'s attributes `attrs` with the declared defaults of those left out,
/// chosen by the `profile` word (`Known(None)`: not set; `Unknown`: a default that
/// depends on it is unknown). A nested object left out is made of its attributes'
/// defaults when it is optional and computed.
pub fn with_defaults(
    attrs: &[Attribute],
    config: &Value,
    profile: &Knowable<Option<String>>,
) -> Value {
    if config.is_unknown() {
        return config.clone();
    }
    let mut out = BTreeMap::new();
    for a in attrs {
        let c = config.get_attr(&a.name).unwrap_or(&Value::Null);
        out.insert(a.name.clone(), attribute(a, c, profile));
    }
    Value::Object(out)
}

fn attribute(a: &Attribute, c: &Value, profile: &Knowable<Option<String>>) -> Value {
    if c.is_unknown() {
        return c.clone();
    }
    if c.is_null() {
        if a.presence != Presence::OptionalComputed {
            return Value::Null;
        }
        let derived = matches!(a.default, Some(crate::schema::AttrDefault::Derived(_)));
        if let (
            true,
            AttributeKind::Nested {
                nesting: Nesting::Single,
                attributes,
            },
        ) = (a.default.is_none() || derived, &a.kind)
        {
            return with_defaults(attributes, &Value::Object(BTreeMap::new()), profile);
        }
        if let Some(default) = &a.default {
            let by_word = matches!(default, crate::schema::AttrDefault::ByWord { .. });
            return match (profile, by_word) {
                (Knowable::Unknown, true) => Value::unknown(),
                (Knowable::Known(word), _) => default
                    .value_for(word.as_deref())
                    .unwrap_or_else(Value::unknown),
                (Knowable::Unknown, false) => {
                    default.value_for(None).unwrap_or_else(Value::unknown)
                }
            };
        }
        return Value::unknown();
    }
    let AttributeKind::Nested {
        nesting,
        attributes,
    } = &a.kind
    else {
        return c.clone();
    };
    match (nesting, c.unwrap_dynamic()) {
        (Nesting::Map, Value::Map(entries)) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), with_defaults(attributes, v, profile)))
                .collect(),
        ),
        (Nesting::List, Value::List(items)) => Value::List(
            items
                .iter()
                .map(|v| with_defaults(attributes, v, profile))
                .collect(),
        ),
        (Nesting::Set, Value::Set(items)) => Value::Set(
            items
                .iter()
                .map(|v| with_defaults(attributes, v, profile))
                .collect(),
        ),
        _ => with_defaults(attributes, c, profile),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Attribute;

    fn attrs() -> Vec<Attribute> {
        vec![
            Attribute::string("name").required(),
            Attribute::number("replicas").optional_computed().default(
                crate::stack::schema::profile_default(|d| {
                    Value::from(i64::from(d.prometheus_replicas))
                }),
            ),
            Attribute::nested(
                "logs",
                Nesting::Single,
                vec![Attribute::bool("enabled")
                    .optional_computed()
                    .default_value(true)],
            )
            .optional_computed(),
            Attribute::nested(
                "routes",
                Nesting::List,
                vec![
                    Attribute::string("receiver").required(),
                    Attribute::bool("continue")
                        .optional_computed()
                        .default_value(false),
                ],
            )
            .optional(),
        ]
    }

    fn obj(pairs: Vec<(&str, Value)>) -> Value {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    #[test]
    fn defaults_fill_what_is_left_out_at_every_level() {
        let config = obj(vec![
            ("name", "a".into()),
            (
                "routes",
                Value::List(vec![obj(vec![("receiver", "x".into())])]),
            ),
        ]);
        let out = with_defaults(
            &attrs(),
            &config,
            &Knowable::Known(Some("development".into())),
        );
        assert_eq!(out.get_attr("replicas").and_then(Value::as_i64), Some(1));
        let logs = out.get_attr("logs").and_then(|l| l.get_attr("enabled"));
        assert_eq!(logs.and_then(Value::as_bool), Some(true));
        let route = out.get_attr("routes").and_then(|r| r.get_index(0)).unwrap();
        assert_eq!(
            route.get_attr("continue").and_then(Value::as_bool),
            Some(false)
        );
        // Written values stay; an unknown profile leaves its defaults unknown.
        let out = with_defaults(&attrs(), &config, &Knowable::Unknown);
        assert!(out.get_attr("replicas").is_some_and(Value::is_unknown));
        assert_eq!(out.get_attr("name").and_then(Value::as_str), Some("a"));
    }
}
