//! Reading typed attribute values out of a configuration [`Value`], collecting
//! diagnostics for values that are set but not allowed.

use std::collections::{BTreeMap, BTreeSet};

use paved_value::{Path, Value};

use crate::diag::Diagnostics;
use crate::schema::{declared, Block};
use crate::stack::Knowable;

/// The defaults a resource's schema declares, read for one configuration: a
/// profile-aware default takes the configuration's profile (unknown while the
/// profile is). The reader takes every declared default from here, so a default is
/// written once, on its attribute.
pub struct Defaults<'a> {
    block: &'a Block,
    profile: Knowable<Option<String>>,
}

impl<'a> Defaults<'a> {
    /// The defaults of `block` for a configuration whose `profile` word is given
    /// (`Known(None)` when not set).
    pub fn new(block: &'a Block, profile: Knowable<Option<String>>) -> Self {
        Self { block, profile }
    }

    /// The declared default of the attribute at `names` (attribute names from the
    /// top, through nested attributes and blocks). A missing declaration is a
    /// defect of the schema; it reads as unknown (and fails debug builds).
    pub fn value(&self, names: &[&str]) -> Knowable<Value> {
        let declared = declared::find(self.block, names).and_then(|a| a.default.as_ref());
        let Some(default) = declared else {
            debug_assert!(false, "no default declared for {names:?}");
            return Knowable::Unknown;
        };
        let by_word = matches!(default, crate::schema::AttrDefault::ByWord { .. });
        match (&self.profile, by_word) {
            (Knowable::Unknown, true) => Knowable::Unknown,
            (Knowable::Known(word), _) => match default.value_for(word.as_deref()) {
                Some(v) => Knowable::Known(v),
                None => Knowable::Unknown,
            },
            (Knowable::Unknown, false) => default
                .value_for(None)
                .map_or(Knowable::Unknown, Knowable::Known),
        }
    }

    /// A declared whole-number default.
    pub fn count(&self, names: &[&str]) -> Knowable<u32> {
        self.value(names)
            .and_then(|v| v.as_i64().and_then(|n| u32::try_from(n).ok()))
    }

    /// A declared bool default.
    pub fn bool(&self, names: &[&str]) -> Knowable<bool> {
        self.value(names).and_then(|v| v.as_bool())
    }

    /// A declared string default.
    pub fn string(&self, names: &[&str]) -> Knowable<String> {
        self.value(names)
            .and_then(|v| v.as_str().map(str::to_string))
    }

    /// A declared list-of-strings default.
    pub fn strings(&self, names: &[&str]) -> Knowable<Vec<String>> {
        self.value(names).and_then(|v| {
            v.as_list()?
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect()
        })
    }
}

/// An attribute slot of a value: absent or null, unknown, or known.
#[derive(Clone, Copy)]
pub enum Slot<'a> {
    /// Absent or null.
    Null,
    /// Not known until apply.
    Unknown,
    /// A known, non-null value.
    Known(&'a Value),
}

/// The slot a value fills: null, unknown or known.
pub fn classify(v: &Value) -> Slot<'_> {
    if v.is_null() {
        Slot::Null
    } else if v.is_unknown() {
        Slot::Unknown
    } else {
        Slot::Known(v)
    }
}

/// The attribute `name` of the object in `parent` (unknown when the object is).
pub fn sub<'a>(parent: Slot<'a>, name: &str) -> Slot<'a> {
    match parent {
        Slot::Null => Slot::Null,
        Slot::Unknown => Slot::Unknown,
        Slot::Known(v) => v.get_attr(name).map_or(Slot::Null, classify),
    }
}

/// Reads typed values out of slots, collecting diagnostics. Each reader returns
/// `None` when the attribute is not set, so the caller picks the default.
#[derive(Default)]
pub struct Reader {
    /// The diagnostics collected so far.
    pub diags: Diagnostics,
}

impl Reader {
    /// A string; unknown when the value is not a string.
    pub fn string(&mut self, s: Slot<'_>) -> Option<Knowable<String>> {
        match s {
            Slot::Null => None,
            Slot::Unknown => Some(Knowable::Unknown),
            Slot::Known(v) => Some(
                v.as_str()
                    .map_or(Knowable::Unknown, |s| Knowable::Known(s.to_string())),
            ),
        }
    }

    /// A map of strings (null entries skipped); unknown when any entry is not a
    /// string, or when the value is not a map.
    pub fn string_map(&mut self, s: Slot<'_>) -> Option<Knowable<BTreeMap<String, String>>> {
        let v = match s {
            Slot::Null => return None,
            Slot::Unknown => return Some(Knowable::Unknown),
            Slot::Known(v) => v,
        };
        let Some(entries) = v.as_map() else {
            return Some(Knowable::Unknown);
        };
        let mut out = BTreeMap::new();
        for (k, item) in entries {
            match item.as_str() {
                Some(s) => {
                    out.insert(k.clone(), s.to_string());
                }
                None if item.is_null() => {}
                None => return Some(Knowable::Unknown),
            }
        }
        Some(Knowable::Known(out))
    }

    /// A bool; unknown when the value is not a bool.
    pub fn bool(&mut self, s: Slot<'_>) -> Option<Knowable<bool>> {
        match s {
            Slot::Null => None,
            Slot::Unknown => Some(Knowable::Unknown),
            Slot::Known(v) => Some(v.as_bool().map_or(Knowable::Unknown, Knowable::Known)),
        }
    }

    /// A whole number from 0 to `u32::MAX`; reports anything else at `path`.
    pub fn count(&mut self, s: Slot<'_>, path: Path) -> Option<Knowable<u32>> {
        match s {
            Slot::Null => None,
            Slot::Unknown => Some(Knowable::Unknown),
            Slot::Known(v) => match v.as_i64().and_then(|n| u32::try_from(n).ok()) {
                Some(n) => Some(Knowable::Known(n)),
                None => {
                    let shown = v.as_number().map(|n| n.to_string()).unwrap_or_default();
                    self.diags.attribute_error(
                        path,
                        "Not a whole number",
                        format!("{shown} is not allowed here: use a whole number, 0 or more."),
                    );
                    Some(Knowable::Unknown)
                }
            },
        }
    }

    /// A word from a fixed set, parsed by `parse`: reports anything else at
    /// `path`, naming the `allowed` words.
    pub fn word<T: Copy>(
        &mut self,
        s: Slot<'_>,
        path: Path,
        what: &str,
        parse: impl Fn(&str) -> Option<T>,
        allowed: &[&str],
    ) -> Option<Knowable<T>> {
        let text = self.string(s)?;
        Some(match text {
            Knowable::Unknown => Knowable::Unknown,
            Knowable::Known(t) => match parse(&t) {
                Some(v) => Knowable::Known(v),
                None => {
                    let names: Vec<String> = allowed.iter().map(|a| format!("\"{a}\"")).collect();
                    self.diags.attribute_error(
                        path,
                        format!("Unknown {what}"),
                        format!("\"{t}\" is not a {what}. Use one of {}.", names.join(", ")),
                    );
                    Knowable::Unknown
                }
            },
        })
    }
}

/// Which optional attributes without a default the configuration wrote (set, even
/// to an empty list or map). The typed spec keeps this so that rendering it gives
/// back what was written: an attribute left out renders as null, not as an empty
/// value, while drift read onto the spec (labels added by hand) still shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written(BTreeSet<String>);

impl Written {
    /// Notes `name` as written when its slot holds a value (known or not).
    pub fn note(&mut self, name: &str, slot: Slot<'_>) {
        if !matches!(slot, Slot::Null) {
            self.0.insert(name.to_string());
        }
    }

    /// Whether `name` was written.
    pub fn has(&self, name: &str) -> bool {
        self.0.contains(name)
    }

    /// The rendered value of the optional attribute `name`: null when it was not
    /// written and `value` is empty (an empty list or map), else `value`.
    pub fn render(&self, name: &str, value: Value) -> Value {
        let empty = match &value {
            Value::List(items) | Value::Set(items) => items.is_empty(),
            Value::Map(entries) => entries.is_empty(),
            _ => false,
        };
        if empty && !self.has(name) {
            Value::Null
        } else {
            value
        }
    }
}

/// The `timeouts` block of the configuration `top`: each operation's duration as
/// written, else its declared default.
pub fn read_timeouts(
    r: &mut Reader,
    top: Slot<'_>,
    declared: &Defaults<'_>,
) -> crate::stack::timeouts::TimeoutsSpec {
    let block = sub(top, "timeouts");
    let mut one = |name: &str| {
        r.string(sub(block, name))
            .unwrap_or_else(|| declared.string(&["timeouts", name]))
    };
    crate::stack::timeouts::TimeoutsSpec {
        create: one("create"),
        update: one("update"),
        delete: one("delete"),
    }
}

/// An optional string attribute: `Known(None)` when not set, unknown while it is
/// (or when it is not a string).
pub fn optional_text(v: Option<&Value>) -> Knowable<Option<String>> {
    match v.map(classify).unwrap_or(Slot::Null) {
        Slot::Null => Knowable::Known(None),
        Slot::Unknown => Knowable::Unknown,
        Slot::Known(v) => v
            .as_str()
            .map_or(Knowable::Unknown, |s| Knowable::Known(Some(s.to_owned()))),
    }
}

/// The profile a `profile` word names: the default profile when not set; an
/// unknown word is reported at `profile`, naming the allowed ones.
pub fn read_profile(
    r: &mut Reader,
    word: &Knowable<Option<String>>,
) -> Knowable<crate::profiles::Profile> {
    use crate::profiles::{self, Profile};
    match word {
        Knowable::Unknown => Knowable::Unknown,
        Knowable::Known(None) => Knowable::Known(profiles::DEFAULT_PROFILE),
        Knowable::Known(Some(word)) => r
            .word(
                Slot::Known(&Value::from(word.as_str())),
                Path::root().attr("profile"),
                "profile",
                Profile::parse,
                &profiles::ALL.map(Profile::name),
            )
            .unwrap_or(Knowable::Unknown),
    }
}
