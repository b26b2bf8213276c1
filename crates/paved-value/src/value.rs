//! Terraform values.
//!
//! A [`Value`] is untyped on its own: it is read and written against a
//! [`Type`]. Nulls and unknowns carry no type; a value in a `dynamic` slot
//! carries its concrete type in [`Value::Dynamic`].

use std::collections::BTreeMap;

use crate::error::{EncodeError, EncodeErrorKind};
use crate::number::Number;
use crate::path::{Path, PathStep};
use crate::types::{ObjectType, Type};

/// Deepest value nesting the decoders and encoders accept.
pub const MAX_DEPTH: usize = 64;

/// What is known about an unknown value ("refinements").
///
/// The default is no refinement at all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Refinements {
    /// The value will definitely not be null.
    pub not_null: bool,
    /// A string value will start with this prefix (string type only).
    pub string_prefix: Option<String>,
    /// A number value is at least (inclusive: `true`) or above this bound.
    pub number_lower: Option<(Number, bool)>,
    /// A number value is at most (inclusive: `true`) or below this bound.
    pub number_upper: Option<(Number, bool)>,
    /// A collection (list, set, map) will have at least this many elements.
    pub length_lower: Option<u64>,
    /// A collection (list, set, map) will have at most this many elements.
    pub length_upper: Option<u64>,
}

impl Refinements {
    /// Whether this refines nothing (what a plain unknown carries).
    ///
    /// An empty string prefix and a zero length lower bound say nothing,
    /// so they count as no refinement.
    pub fn is_empty(&self) -> bool {
        !self.not_null
            && self.string_prefix.as_deref().is_none_or(str::is_empty)
            && self.number_lower.is_none()
            && self.number_upper.is_none()
            && self.length_lower.is_none_or(|l| l == 0)
            && self.length_upper.is_none()
    }
}

/// A Terraform value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// null (of whatever type the slot has).
    Null,
    /// A value not known until apply, with what is known about it.
    Unknown(Refinements),
    /// A bool.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// A list's elements.
    List(Vec<Value>),
    /// A set's elements, in the order given (wire order when decoded;
    /// duplicates are kept as they came).
    Set(Vec<Value>),
    /// A tuple's elements.
    Tuple(Vec<Value>),
    /// A map's elements.
    Map(BTreeMap<String, Value>),
    /// An object's attributes. Decoders always produce every attribute of
    /// the type (null where absent); encoders write absent attributes as
    /// null.
    Object(BTreeMap<String, Value>),
    /// A value in a `dynamic` slot, with its concrete type. Decoders
    /// produce it for dynamic slots holding `[type, value]`; the inner
    /// value is usually known and non-null, but Terraform may send a typed
    /// null or typed unknown this way, which is kept as such. The
    /// accessors (`is_null`, `get_attr`, `as_str`, ...) look through it.
    Dynamic(Box<Type>, Box<Value>),
}

impl Value {
    /// A plain unknown value (no refinements).
    pub fn unknown() -> Value {
        Value::Unknown(Refinements::default())
    }

    /// An unknown value known not to be null.
    pub fn unknown_not_null() -> Value {
        Value::Unknown(Refinements {
            not_null: true,
            ..Refinements::default()
        })
    }

    /// The null value of a type (always [`Value::Null`]; the type is for
    /// readability at call sites).
    pub fn null_of(_ty: &Type) -> Value {
        Value::Null
    }

    /// Looks through [`Value::Dynamic`] wrappers to the value inside.
    pub fn unwrap_dynamic(&self) -> &Value {
        let mut v = self;
        while let Value::Dynamic(_, inner) = v {
            v = inner;
        }
        v
    }

    /// Whether this is null (looking through `Dynamic`).
    pub fn is_null(&self) -> bool {
        matches!(self.unwrap_dynamic(), Value::Null)
    }

    /// Whether this is itself unknown (looking through `Dynamic`); see
    /// [`is_wholly_known`](Value::is_wholly_known) for unknowns nested
    /// inside.
    pub fn is_unknown(&self) -> bool {
        matches!(self.unwrap_dynamic(), Value::Unknown(_))
    }

    /// Whether no unknown appears anywhere in this value.
    pub fn is_wholly_known(&self) -> bool {
        match self.unwrap_dynamic() {
            Value::Unknown(_) => false,
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => true,
            Value::List(vs) | Value::Set(vs) | Value::Tuple(vs) => {
                vs.iter().all(Value::is_wholly_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            // unwrap_dynamic never returns a Dynamic.
            Value::Dynamic(_, v) => v.is_wholly_known(),
        }
    }

    /// An object attribute (looking through `Dynamic`); `None` if this is
    /// not an object or has no such attribute.
    pub fn get_attr(&self, name: &str) -> Option<&Value> {
        match self.unwrap_dynamic() {
            Value::Object(m) => m.get(name),
            _ => None,
        }
    }

    /// A map element by key (looking through `Dynamic`).
    pub fn get_key(&self, key: &str) -> Option<&Value> {
        match self.unwrap_dynamic() {
            Value::Map(m) => m.get(key),
            _ => None,
        }
    }

    /// A list, set or tuple element by position (looking through
    /// `Dynamic`).
    pub fn get_index(&self, index: usize) -> Option<&Value> {
        self.as_list().and_then(|l| l.get(index))
    }

    /// The value at a path, if every step exists.
    pub fn get_path(&self, path: &Path) -> Option<&Value> {
        let mut v = self;
        for step in &path.0 {
            v = match step {
                PathStep::Attribute(n) => v.get_attr(n)?,
                PathStep::ElementKeyString(k) => match v.unwrap_dynamic() {
                    Value::Map(m) | Value::Object(m) => m.get(k)?,
                    _ => return None,
                },
                PathStep::ElementKeyInt(i) => v.get_index(usize::try_from(*i).ok()?)?,
            };
        }
        Some(v)
    }

    /// The string, if this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self.unwrap_dynamic() {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The bool, if this is a known bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self.unwrap_dynamic() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number as an `i64`, if this is a known integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::as_i64)
    }

    /// The number, if this is a known number.
    pub fn as_number(&self) -> Option<&Number> {
        match self.unwrap_dynamic() {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The elements of a known list, set or tuple.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self.unwrap_dynamic() {
            Value::List(vs) | Value::Set(vs) | Value::Tuple(vs) => Some(vs),
            _ => None,
        }
    }

    /// The entries of a known map or object.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self.unwrap_dynamic() {
            Value::Map(m) | Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The refinements, if this is unknown.
    pub fn refinements(&self) -> Option<&Refinements> {
        match self.unwrap_dynamic() {
            Value::Unknown(r) => Some(r),
            _ => None,
        }
    }

    /// A short name of this value's kind, for messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Unknown(_) => "unknown",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Tuple(_) => "tuple",
            Value::Map(_) => "map",
            Value::Object(_) => "object",
            Value::Dynamic(..) => "dynamic value",
        }
    }

    /// Whether this value can be encoded with type `ty` (the structural
    /// check the encoders make, minus number validity).
    ///
    /// Null and unknown conform to every type. An object may omit
    /// attributes (they mean null) but not have extra ones. A
    /// [`Value::Dynamic`] conforms to `dynamic` when its inner value
    /// conforms to its own type, and to any other type when its inner
    /// value does. Any other value conforms to `dynamic` when its type can
    /// be inferred (see [`infer_type`](Value::infer_type)).
    pub fn conforms_to(&self, ty: &Type) -> bool {
        conforms(self, ty, 0)
    }

    /// The concrete type the encoders write for this value when it sits in
    /// a `dynamic` slot without a [`Value::Dynamic`] wrapper.
    ///
    /// Rules: bool, number and string are themselves; an object is an
    /// object of its attributes' inferred types; a tuple is a tuple of its
    /// elements' types; a list, set or map is a collection of the single
    /// type all its elements share. Nulls and unknowns fit any type, so
    /// they take their siblings' type, or `dynamic` when nothing else says
    /// (an empty collection is a collection of `dynamic`). A `Dynamic`
    /// value is its own type. Elements whose types differ (other than by
    /// such wildcards) are an error: Terraform would reject a collection
    /// of mixed types.
    pub fn infer_type(&self) -> Result<Type, EncodeError> {
        let mut path = Vec::new();
        infer(self, &mut path, 0)
    }
}

fn conforms(v: &Value, ty: &Type, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    let d = depth + 1;
    match (ty, v) {
        (_, Value::Null | Value::Unknown(_)) => true,
        (Type::Dynamic, Value::Dynamic(t, inner)) => conforms(inner, t, d),
        (Type::Dynamic, other) => other.infer_type().is_ok(),
        (_, Value::Dynamic(_, inner)) => conforms(inner, ty, d),
        (Type::Bool, Value::Bool(_))
        | (Type::Number, Value::Number(_))
        | (Type::String, Value::String(_)) => true,
        (Type::List(et), Value::List(vs)) | (Type::Set(et), Value::Set(vs)) => {
            vs.iter().all(|v| conforms(v, et, d))
        }
        (Type::Tuple(ts), Value::Tuple(vs)) => {
            ts.len() == vs.len() && ts.iter().zip(vs).all(|(t, v)| conforms(v, t, d))
        }
        (Type::Map(et), Value::Map(m)) => m.values().all(|v| conforms(v, et, d)),
        (Type::Object(ot), Value::Object(m)) => m
            .iter()
            .all(|(k, v)| ot.attributes.get(k).is_some_and(|t| conforms(v, t, d))),
        _ => false,
    }
}

fn infer_err(path: &[PathStep], reason: impl Into<String>) -> EncodeError {
    EncodeError {
        path: Path(path.to_vec()),
        kind: EncodeErrorKind::CannotInferType {
            reason: reason.into(),
        },
    }
}

/// Infers the type of `v`; `Type::Dynamic` in the result stands for "any"
/// where nulls, unknowns or empty collections gave no information.
pub(crate) fn infer(
    v: &Value,
    path: &mut Vec<PathStep>,
    depth: usize,
) -> Result<Type, EncodeError> {
    if depth > MAX_DEPTH {
        return Err(EncodeError {
            path: Path(path.clone()),
            kind: EncodeErrorKind::TooDeep { limit: MAX_DEPTH },
        });
    }
    let d = depth + 1;
    match v {
        Value::Null | Value::Unknown(_) => Ok(Type::Dynamic),
        Value::Bool(_) => Ok(Type::Bool),
        Value::Number(_) => Ok(Type::Number),
        Value::String(_) => Ok(Type::String),
        Value::Dynamic(t, _) => Ok((**t).clone()),
        Value::Object(m) => {
            let mut attrs = BTreeMap::new();
            for (k, v) in m {
                path.push(PathStep::Attribute(k.clone()));
                let t = infer(v, path, d)?;
                path.pop();
                attrs.insert(k.clone(), t);
            }
            Ok(Type::Object(ObjectType {
                attributes: attrs,
                optional: Default::default(),
            }))
        }
        Value::Tuple(vs) => {
            let mut ts = Vec::with_capacity(vs.len());
            for (i, v) in vs.iter().enumerate() {
                path.push(PathStep::ElementKeyInt(
                    i64::try_from(i).unwrap_or(i64::MAX),
                ));
                ts.push(infer(v, path, d)?);
                path.pop();
            }
            Ok(Type::Tuple(ts))
        }
        Value::List(vs) | Value::Set(vs) => {
            let mut et = Type::Dynamic;
            for (i, v) in vs.iter().enumerate() {
                path.push(PathStep::ElementKeyInt(
                    i64::try_from(i).unwrap_or(i64::MAX),
                ));
                let t = infer(v, path, d)?;
                et = unify(&et, &t).ok_or_else(|| {
                    infer_err(
                        path,
                        format!("element type {t} differs from the earlier elements' type {et}"),
                    )
                })?;
                path.pop();
            }
            Ok(if matches!(v, Value::List(_)) {
                Type::list(et)
            } else {
                Type::set(et)
            })
        }
        Value::Map(m) => {
            let mut et = Type::Dynamic;
            for (k, v) in m {
                path.push(PathStep::ElementKeyString(k.clone()));
                let t = infer(v, path, d)?;
                et = unify(&et, &t).ok_or_else(|| {
                    infer_err(
                        path,
                        format!("element type {t} differs from the other elements' type {et}"),
                    )
                })?;
                path.pop();
            }
            Ok(Type::map(et))
        }
    }
}

/// The most specific type both `a` and `b` fit, treating `Dynamic` as a
/// wildcard; `None` if they conflict.
fn unify(a: &Type, b: &Type) -> Option<Type> {
    match (a, b) {
        (Type::Dynamic, t) | (t, Type::Dynamic) => Some(t.clone()),
        (Type::List(x), Type::List(y)) => Some(Type::list(unify(x, y)?)),
        (Type::Set(x), Type::Set(y)) => Some(Type::set(unify(x, y)?)),
        (Type::Map(x), Type::Map(y)) => Some(Type::map(unify(x, y)?)),
        (Type::Tuple(xs), Type::Tuple(ys)) if xs.len() == ys.len() => Some(Type::Tuple(
            xs.iter()
                .zip(ys)
                .map(|(x, y)| unify(x, y))
                .collect::<Option<_>>()?,
        )),
        (Type::Object(x), Type::Object(y)) if x.attributes.len() == y.attributes.len() => {
            let mut attrs = BTreeMap::new();
            for (k, xt) in &x.attributes {
                let yt = y.attributes.get(k)?;
                attrs.insert(k.clone(), unify(xt, yt)?);
            }
            Some(Type::Object(ObjectType {
                attributes: attrs,
                optional: Default::default(),
            }))
        }
        (x, y) if x == y => Some(x.clone()),
        _ => None,
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Number(Number::Int(i))
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Number(Number::from(f))
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Value {
        Value::Number(n)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    /// `None` is null.
    fn from(o: Option<T>) -> Value {
        o.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn accessors_look_through_dynamic() {
        let inner = obj(&[("name", "x".into()), ("n", 3.into())]);
        let d = Value::Dynamic(
            Box::new(inner.infer_type().unwrap_or(Type::Dynamic)),
            Box::new(inner),
        );
        assert_eq!(d.get_attr("name").and_then(Value::as_str), Some("x"));
        assert_eq!(d.get_attr("n").and_then(Value::as_i64), Some(3));
        assert!(!d.is_null());
        assert!(Value::Dynamic(Box::new(Type::String), Box::new(Value::Null)).is_null());
        assert!(Value::Dynamic(Box::new(Type::String), Box::new(Value::unknown())).is_unknown());
        let path = Path::root().attr("name");
        assert_eq!(d.get_path(&path), Some(&Value::from("x")));
    }

    #[test]
    fn wholly_known() {
        assert!(obj(&[("a", Value::List(vec![1.into()]))]).is_wholly_known());
        assert!(!obj(&[("a", Value::List(vec![Value::unknown()]))]).is_wholly_known());
        assert!(Value::Null.is_wholly_known());
    }

    #[test]
    fn conformance() {
        let ty = Type::object([
            ("a".to_string(), Type::list(Type::String)),
            ("b".to_string(), Type::Number),
        ]);
        assert!(obj(&[("a", Value::List(vec!["x".into()]))]).conforms_to(&ty));
        assert!(!obj(&[("a", Value::List(vec![1.into()]))]).conforms_to(&ty));
        assert!(!obj(&[("zzz", Value::Null)]).conforms_to(&ty));
        assert!(!Value::Set(vec![]).conforms_to(&Type::list(Type::String)));
        assert!(Value::Tuple(vec![true.into()]).conforms_to(&Type::tuple(vec![Type::Bool])));
        assert!(!Value::Tuple(vec![]).conforms_to(&Type::tuple(vec![Type::Bool])));
        assert!(!Value::List(vec![1.into(), "x".into()]).conforms_to(&Type::tuple(vec![])));
        assert!(!Value::List(vec![1.into(), "x".into()]).conforms_to(&Type::Dynamic));
        assert!(Value::Tuple(vec![1.into(), "x".into()]).conforms_to(&Type::Dynamic));
    }

    #[test]
    fn inference() {
        let v = Value::List(vec![
            obj(&[("a", Value::Null), ("b", 1.into())]),
            obj(&[("a", "x".into()), ("b", Value::unknown())]),
        ]);
        assert_eq!(
            v.infer_type(),
            Ok(Type::list(Type::object([
                ("a".to_string(), Type::String),
                ("b".to_string(), Type::Number),
            ])))
        );
        assert_eq!(
            Value::Map(BTreeMap::new()).infer_type(),
            Ok(Type::map(Type::Dynamic))
        );
        let err = Value::List(vec![1.into(), "x".into()]).infer_type();
        assert!(
            matches!(err, Err(EncodeError { ref path, .. }) if path.to_string() == "[1]"),
            "{err:?}"
        );
    }
}
