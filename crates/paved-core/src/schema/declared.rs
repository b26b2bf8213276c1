//! Behaviour declared on an attribute, beside its type and presence: its default,
//! the checks its value must pass, and the plan modifier that keeps the prior
//! state's value. Planning, validation and the generated docs all read these same
//! declarations, so a default or an allowed range is written once.
//!
//! The declarations are data, not code: the docs can say them in words
//! ([`AttrDefault::doc`], [`Check::doc`]), the reader can take a default from them
//! ([`AttrDefault::value_for`]), and one pass ([`check_block`]) runs every check on
//! a configuration, before any cloud call.

use paved_value::{Path, Value};

use super::{Attribute, AttributeKind, Block, Nesting};
use crate::diag::Diagnostics;

/// An attribute's default.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrDefault {
    /// One value, whatever else is set.
    Fixed(Value),
    /// A value chosen by the word a top-level attribute holds (the profile): one
    /// value per word; `fallback` is the word used when that attribute is not set.
    ByWord {
        /// The top-level attribute whose word decides.
        attribute: String,
        /// The word used when the attribute is not set.
        fallback: String,
        /// The value for each word, in the order the docs list them.
        values: Vec<(String, Value)>,
    },
    /// Worked out by the resource from other settings or at create; the text says how
    /// (for the docs).
    Derived(String),
}

impl AttrDefault {
    /// The default in words, for the docs ("`50`", "from the profile: production
    /// `true`, ...", or the derived text).
    pub fn doc(&self) -> String {
        match self {
            AttrDefault::Fixed(v) => format!("`{}`", value_doc(v)),
            AttrDefault::ByWord {
                attribute, values, ..
            } => {
                let parts: Vec<String> = values
                    .iter()
                    .map(|(word, v)| format!("{word} `{}`", value_doc(v)))
                    .collect();
                format!("from the {attribute}: {}", parts.join(", "))
            }
            AttrDefault::Derived(text) => text.clone(),
        }
    }

    /// The default's value given the word the deciding attribute holds (`None`
    /// when not set: the fallback word). `None` for a derived default, or a word
    /// the table does not list.
    pub fn value_for(&self, word: Option<&str>) -> Option<Value> {
        match self {
            AttrDefault::Fixed(v) => Some(v.clone()),
            AttrDefault::ByWord {
                fallback, values, ..
            } => {
                let word = word.unwrap_or(fallback);
                values
                    .iter()
                    .find(|(w, _)| w == word)
                    .map(|(_, v)| v.clone())
            }
            AttrDefault::Derived(_) => None,
        }
    }
}

/// How a value reads in the docs: strings bare, lists as `["a", "b"]`.
fn value_doc(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::List(items) | Value::Set(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|i| match i {
                    Value::String(s) => format!("\"{s}\""),
                    other => value_doc(other),
                })
                .collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Null => "null".to_string(),
        other => format!("{other:?}"),
    }
}

/// A check a set value must pass. Each says in its own words what is wrong and what
/// to use instead.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// A whole number from `min` to `max`, in `unit` (" GB", " days", or "").
    Range {
        /// Smallest allowed.
        min: i64,
        /// Largest allowed.
        max: i64,
        /// The unit, written after numbers (with its leading space).
        unit: &'static str,
        /// The error's summary ("Disk size out of range").
        summary: &'static str,
    },
    /// One number of a fixed set (periods a cloud service accepts).
    Among {
        /// The allowed numbers, in order.
        values: Vec<i64>,
        /// The unit, written after the list (with its leading space).
        unit: &'static str,
        /// Who accepts these ("The log service keeps logs for").
        who: &'static str,
        /// The error's summary.
        summary: &'static str,
    },
}

impl Check {
    /// The check in words, for the docs.
    pub fn doc(&self) -> String {
        match self {
            Check::Range { min, max, unit, .. } => format!("Allowed: {min} to {max}{unit}."),
            Check::Among { values, unit, .. } => format!("Allowed: {}{unit}.", join(values)),
        }
    }

    /// The problem with `value`, as (summary, detail); `None` when it passes or is
    /// not a number (the type check reports that).
    pub fn problem(&self, value: &Value) -> Option<(String, String)> {
        let n = value.as_number()?;
        match self {
            Check::Range {
                min,
                max,
                unit,
                summary,
            } => {
                let whole = value.as_i64();
                let inside = whole.is_some_and(|w| (*min..=*max).contains(&w));
                (!inside).then(|| {
                    (
                        summary.to_string(),
                        format!("{n}{unit} is not allowed: use {min} to {max}{unit}."),
                    )
                })
            }
            Check::Among {
                values,
                unit,
                who,
                summary,
            } => {
                let whole = value.as_i64();
                if whole.is_some_and(|w| values.contains(&w)) {
                    return None;
                }
                let target = whole.unwrap_or(0);
                let nearest = values
                    .iter()
                    .copied()
                    .min_by_key(|v| v.abs_diff(target))
                    .unwrap_or(target);
                Some((
                    summary.to_string(),
                    format!(
                        "{who} one of {}{unit}, not {n}. Use {nearest}, the nearest allowed value.",
                        join(values)
                    ),
                ))
            }
        }
    }
}

fn join(values: &[i64]) -> String {
    values
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs every declared check of `block` on the known, set values of `config`,
/// nested attributes included (each element of a map or list of objects), naming
/// the attribute's path in each error.
pub fn check_block(block: &Block, config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    check_attributes(&block.attributes, config, &Path::root(), &mut diags);
    diags
}

fn check_attributes(attrs: &[Attribute], object: &Value, at: &Path, diags: &mut Diagnostics) {
    for a in attrs {
        let Some(v) = object.get_attr(&a.name) else {
            continue;
        };
        if v.is_null() || v.is_unknown() {
            continue;
        }
        let here = at.clone().attr(&a.name);
        for check in &a.checks {
            if let Some((summary, detail)) = check.problem(v) {
                diags.attribute_error(here.clone(), summary, detail);
            }
        }
        if let AttributeKind::Nested {
            nesting,
            attributes,
        } = &a.kind
        {
            match nesting {
                Nesting::Single | Nesting::Group => check_attributes(attributes, v, &here, diags),
                Nesting::Map => {
                    for (key, item) in v.as_map().into_iter().flatten() {
                        check_attributes(attributes, item, &here.clone().key(key), diags);
                    }
                }
                Nesting::List | Nesting::Set => {
                    for (i, item) in v.as_list().unwrap_or_default().iter().enumerate() {
                        let index = i64::try_from(i).unwrap_or(i64::MAX);
                        check_attributes(attributes, item, &here.clone().index(index), diags);
                    }
                }
            }
        }
    }
}

/// The declaration of the attribute at `names` (attribute names from the top,
/// through nested attributes; map keys and list indexes are not named).
pub fn find<'a>(block: &'a Block, names: &[&str]) -> Option<&'a Attribute> {
    let (first, rest) = names.split_first()?;
    if block.find_attribute(first).is_none() {
        return find(&block.find_block(first)?.block, rest);
    }
    let mut attr = block.find_attribute(first)?;
    for name in rest {
        let AttributeKind::Nested { attributes, .. } = &attr.kind else {
            return None;
        };
        attr = attributes.iter().find(|a| a.name == *name)?;
    }
    Some(attr)
}

/// The planned values of the attributes declared [`Attribute::keep_prior`]: where
/// the plan left one unknown and the prior state holds a value, the prior value is
/// kept (the change does not touch it). The caller decides when this applies (an
/// update of a whole stack, not a create or a replacement).
pub fn keep_prior_values(block: &Block, planned: &mut Value, prior: &Value) {
    let Value::Object(attrs) = planned else {
        return;
    };
    for a in block.attributes.iter().filter(|a| a.keep_prior) {
        let Some(prior_value) = prior.get_attr(&a.name).filter(|v| !v.is_null()) else {
            continue;
        };
        if let Some(slot) = attrs.get_mut(&a.name) {
            if slot.is_unknown() {
                *slot = prior_value.clone();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Attribute;

    fn block() -> Block {
        Block::new("b")
            .attribute(
                Attribute::number("size")
                    .optional_computed()
                    .check(Check::Range {
                        min: 20,
                        max: 100,
                        unit: " GB",
                        summary: "Disk size out of range",
                    }),
            )
            .attribute(Attribute::nested(
                "pools",
                Nesting::Map,
                vec![Attribute::number("days").optional().check(Check::Among {
                    values: vec![1, 7, 30],
                    unit: " days",
                    who: "Kept for",
                    summary: "Unsupported retention period",
                })],
            ))
    }

    #[test]
    fn checks_name_the_path_and_say_what_to_use() {
        let config = Value::Object(
            [
                ("size".to_string(), Value::from(10i64)),
                (
                    "pools".to_string(),
                    Value::Map(
                        [(
                            "a".to_string(),
                            Value::Object([("days".to_string(), Value::from(8i64))].into()),
                        )]
                        .into(),
                    ),
                ),
            ]
            .into(),
        );
        let d = check_block(&block(), &config);
        let errors: Vec<String> = d.iter().map(|d| format!("{:?}", d)).collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0].contains("10 GB is not allowed: use 20 to 100 GB."),
            "{errors:?}"
        );
        assert!(
            errors[1].contains("Use 7, the nearest allowed value"),
            "{errors:?}"
        );
        assert!(errors[1].contains("pools"), "{errors:?}");
    }

    #[test]
    fn unset_and_unknown_values_are_not_checked() {
        let config = Value::Object([("size".to_string(), Value::unknown())].into());
        assert!(check_block(&block(), &config).is_empty());
        assert!(check_block(&block(), &Value::Null).is_empty());
    }

    #[test]
    fn defaults_by_word_fall_back_and_document_every_word() {
        let d = AttrDefault::ByWord {
            attribute: "profile".into(),
            fallback: "production".into(),
            values: vec![
                ("production".into(), Value::from(true)),
                ("development".into(), Value::from(false)),
            ],
        };
        assert_eq!(d.value_for(None), Some(Value::from(true)));
        assert_eq!(d.value_for(Some("development")), Some(Value::from(false)));
        assert_eq!(d.value_for(Some("other")), None);
        assert_eq!(
            d.doc(),
            "from the profile: production `true`, development `false`"
        );
        assert_eq!(
            AttrDefault::Fixed(Value::List(vec![Value::from("a"), Value::from("b")])).doc(),
            "`[\"a\", \"b\"]`"
        );
    }

    #[test]
    fn keep_prior_fills_only_unknown_declared_values() {
        let block = Block::new("b")
            .attribute(Attribute::string("id").computed().keep_prior())
            .attribute(Attribute::string("other").computed());
        let mut planned = Value::Object(
            [
                ("id".to_string(), Value::unknown()),
                ("other".to_string(), Value::unknown()),
            ]
            .into(),
        );
        let prior = Value::Object(
            [
                ("id".to_string(), Value::from("x")),
                ("other".to_string(), Value::from("y")),
            ]
            .into(),
        );
        keep_prior_values(&block, &mut planned, &prior);
        assert_eq!(planned.get_attr("id"), Some(&Value::from("x")));
        assert!(planned.get_attr("other").is_some_and(Value::is_unknown));
    }
}
