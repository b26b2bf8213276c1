//! The JSON encoding of values, as in Terraform state (`RawState.json` of
//! UpgradeResourceState and MoveResourceState).
//!
//! * null is `null`; bools, numbers and strings are themselves (numbers
//!   keep full precision).
//! * lists, sets and tuples are arrays; maps and objects are objects.
//! * a value in a `dynamic` slot is `{"value": V, "type": T}` (a bare
//!   `null` is a null of unknown type).
//! * unknown values cannot appear (state is wholly known).
//!
//! Decoding is lenient the way state upgrades need: object keys the type
//! does not have (attributes removed from a schema) are ignored, missing
//! attributes are null, and primitive values convert where Terraform's
//! would (a number or bool read as a string, a numeric string as a number,
//! `"true"`/`"false"` as a bool).

use std::collections::BTreeMap;

use serde_json::Value as J;

use crate::error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind};
use crate::number::Number;
use crate::path::{Path, PathStep};
use crate::types::Type;
use crate::value::{infer, Value, MAX_DEPTH};

/// Decodes JSON `bytes` as a value of type `ty`.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    let j: J = serde_json::from_slice(bytes).map_err(|e| DecodeError {
        path: Path::root(),
        kind: DecodeErrorKind::Json {
            message: e.to_string(),
        },
    })?;
    decode_json(&j, ty)
}

/// Decodes an already-parsed JSON value as a value of type `ty`.
pub fn decode_json(j: &J, ty: &Type) -> Result<Value, DecodeError> {
    let mut d = Decoder {
        path: Vec::new(),
        depth: 0,
    };
    d.value(j, ty)
}

/// Encodes `v` as JSON for type `ty`.
///
/// Fails (with the path) on unknown values, values that do not conform to
/// the type, NaN or infinite numbers, and values in dynamic slots with no
/// inferable type.
pub fn encode(v: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    let j = encode_json(v, ty)?;
    serde_json::to_vec(&j).map_err(|e| EncodeError {
        path: Path::root(),
        kind: EncodeErrorKind::Json {
            message: e.to_string(),
        },
    })
}

/// Encodes `v` as a JSON value for type `ty`.
pub fn encode_json(v: &Value, ty: &Type) -> Result<J, EncodeError> {
    let mut e = Encoder {
        path: Vec::new(),
        depth: 0,
    };
    e.value(v, ty)
}

fn json_kind(j: &J) -> &'static str {
    match j {
        J::Null => "null",
        J::Bool(_) => "bool",
        J::Number(_) => "number",
        J::String(_) => "string",
        J::Array(_) => "array",
        J::Object(_) => "object",
    }
}

struct Decoder {
    path: Vec<PathStep>,
    depth: usize,
}

impl Decoder {
    fn err(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            path: Path(self.path.clone()),
            kind,
        }
    }

    fn mismatch(&self, expected: &'static str, j: &J) -> DecodeError {
        self.err(DecodeErrorKind::TypeMismatch {
            expected,
            found: json_kind(j).to_string(),
        })
    }

    fn enter(&mut self) -> Result<(), DecodeError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.err(DecodeErrorKind::TooDeep { limit: MAX_DEPTH }));
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn number(&self, text: &str) -> Result<Number, DecodeError> {
        Number::parse(text).map_err(|e| self.err(DecodeErrorKind::InvalidNumber(e)))
    }

    fn elements(
        &mut self,
        items: &[J],
        ty_of: impl Fn(usize) -> Type,
    ) -> Result<Vec<Value>, DecodeError> {
        self.enter()?;
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            self.path.push(PathStep::ElementKeyInt(
                i64::try_from(i).unwrap_or(i64::MAX),
            ));
            let v = self.value(item, &ty_of(i))?;
            self.path.pop();
            out.push(v);
        }
        self.leave();
        Ok(out)
    }

    fn value(&mut self, j: &J, ty: &Type) -> Result<Value, DecodeError> {
        if j.is_null() {
            return Ok(Value::Null);
        }
        match ty {
            Type::Dynamic => self.dynamic(j),
            Type::Bool => match j {
                J::Bool(b) => Ok(Value::Bool(*b)),
                J::String(s) if s == "true" => Ok(Value::Bool(true)),
                J::String(s) if s == "false" => Ok(Value::Bool(false)),
                other => Err(self.mismatch("bool", other)),
            },
            Type::Number => match j {
                J::Number(n) => Ok(Value::Number(self.number(n.as_str())?)),
                J::String(s) => Ok(Value::Number(self.number(s)?)),
                other => Err(self.mismatch("number", other)),
            },
            Type::String => match j {
                J::String(s) => Ok(Value::String(s.clone())),
                J::Number(n) => Ok(Value::String(n.as_str().to_string())),
                J::Bool(b) => Ok(Value::String(b.to_string())),
                other => Err(self.mismatch("string", other)),
            },
            Type::List(et) => match j {
                J::Array(items) => Ok(Value::List(self.elements(items, |_| (**et).clone())?)),
                other => Err(self.mismatch("list", other)),
            },
            Type::Set(et) => match j {
                J::Array(items) => Ok(Value::Set(self.elements(items, |_| (**et).clone())?)),
                other => Err(self.mismatch("set", other)),
            },
            Type::Tuple(ts) => match j {
                J::Array(items) if items.len() == ts.len() => {
                    Ok(Value::Tuple(self.elements(items, |i| {
                        ts.get(i).cloned().unwrap_or(Type::Dynamic)
                    })?))
                }
                J::Array(items) => Err(self.err(DecodeErrorKind::TupleLength {
                    expected: ts.len(),
                    found: items.len(),
                })),
                other => Err(self.mismatch("tuple", other)),
            },
            Type::Map(et) => match j {
                J::Object(entries) => {
                    self.enter()?;
                    let mut m = BTreeMap::new();
                    for (k, item) in entries {
                        self.path.push(PathStep::ElementKeyString(k.clone()));
                        let v = self.value(item, et)?;
                        self.path.pop();
                        m.insert(k.clone(), v);
                    }
                    self.leave();
                    Ok(Value::Map(m))
                }
                other => Err(self.mismatch("map", other)),
            },
            Type::Object(ot) => match j {
                J::Object(entries) => {
                    self.enter()?;
                    let mut m = BTreeMap::new();
                    for (name, at) in &ot.attributes {
                        let v = match entries.get(name) {
                            Some(item) => {
                                self.path.push(PathStep::Attribute(name.clone()));
                                let v = self.value(item, at)?;
                                self.path.pop();
                                v
                            }
                            None => Value::Null,
                        };
                        m.insert(name.clone(), v);
                    }
                    self.leave();
                    Ok(Value::Object(m))
                }
                other => Err(self.mismatch("object", other)),
            },
        }
    }

    fn dynamic(&mut self, j: &J) -> Result<Value, DecodeError> {
        const SHAPE: &str = "an object {\"value\": ..., \"type\": ...}";
        let J::Object(entries) = j else {
            return Err(self.err(DecodeErrorKind::DynamicShape {
                expected: SHAPE,
                found: json_kind(j).to_string(),
            }));
        };
        if let Some(extra) = entries.keys().find(|k| *k != "value" && *k != "type") {
            return Err(self.err(DecodeErrorKind::DynamicShape {
                expected: SHAPE,
                found: format!("an object with key {extra:?}"),
            }));
        }
        let Some(tj) = entries.get("type") else {
            return Err(self.err(DecodeErrorKind::DynamicShape {
                expected: SHAPE,
                found: "an object without \"type\"".to_string(),
            }));
        };
        let ty =
            Type::from_json(tj).map_err(|e| self.err(DecodeErrorKind::InvalidDynamicType(e)))?;
        self.enter()?;
        let v = match entries.get("value") {
            Some(vj) => self.value(vj, &ty)?,
            None => Value::Null,
        };
        self.leave();
        Ok(Value::Dynamic(Box::new(ty), Box::new(v)))
    }
}

struct Encoder {
    path: Vec<PathStep>,
    depth: usize,
}

impl Encoder {
    fn err(&self, kind: EncodeErrorKind) -> EncodeError {
        EncodeError {
            path: Path(self.path.clone()),
            kind,
        }
    }

    fn enter(&mut self) -> Result<(), EncodeError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.err(EncodeErrorKind::TooDeep { limit: MAX_DEPTH }));
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn number(&self, n: &Number) -> Result<J, EncodeError> {
        let canonical = match n {
            Number::Decimal(s) => {
                Number::parse(s).map_err(|e| self.err(EncodeErrorKind::InvalidNumber(e)))?
            }
            other => other.canonical(),
        };
        let text = match canonical {
            Number::Int(i) => return Ok(J::Number(i.into())),
            Number::Float(f) if !f.is_finite() => {
                return Err(self.err(EncodeErrorKind::NonFiniteNumber {
                    what: if f.is_nan() { "NaN" } else { "infinity" },
                    format: "JSON",
                }))
            }
            // Display writes the exact value, which is valid JSON number
            // syntax for finite floats and canonical decimals.
            c => c.to_string(),
        };
        text.parse::<serde_json::Number>()
            .map(J::Number)
            .map_err(|e| {
                self.err(EncodeErrorKind::Json {
                    message: format!("number {text}: {e}"),
                })
            })
    }

    fn elements(&mut self, vs: &[Value], ty_of: impl Fn(usize) -> Type) -> Result<J, EncodeError> {
        self.enter()?;
        let mut out = Vec::with_capacity(vs.len());
        for (i, v) in vs.iter().enumerate() {
            self.path.push(PathStep::ElementKeyInt(
                i64::try_from(i).unwrap_or(i64::MAX),
            ));
            out.push(self.value(v, &ty_of(i))?);
            self.path.pop();
        }
        self.leave();
        Ok(J::Array(out))
    }

    fn value(&mut self, v: &Value, ty: &Type) -> Result<J, EncodeError> {
        match (ty, v) {
            (_, Value::Unknown(_)) => Err(self.err(EncodeErrorKind::UnknownInJson)),
            (_, Value::Null) => Ok(J::Null),
            (Type::Dynamic, Value::Dynamic(t, inner)) => self.dynamic(t, inner),
            (Type::Dynamic, other) => {
                let t = infer(other, &mut self.path, self.depth)?;
                self.dynamic(&t, other)
            }
            (_, Value::Dynamic(_, inner)) => {
                self.enter()?;
                let j = self.value(inner, ty)?;
                self.leave();
                Ok(j)
            }
            (Type::Bool, Value::Bool(b)) => Ok(J::Bool(*b)),
            (Type::Number, Value::Number(n)) => self.number(n),
            (Type::String, Value::String(s)) => Ok(J::String(s.clone())),
            (Type::List(et), Value::List(vs)) | (Type::Set(et), Value::Set(vs)) => {
                self.elements(vs, |_| (**et).clone())
            }
            (Type::Tuple(ts), Value::Tuple(vs)) => {
                if ts.len() != vs.len() {
                    return Err(self.err(EncodeErrorKind::TupleLength {
                        expected: ts.len(),
                        found: vs.len(),
                    }));
                }
                self.elements(vs, |i| ts.get(i).cloned().unwrap_or(Type::Dynamic))
            }
            (Type::Map(et), Value::Map(m)) => {
                self.enter()?;
                let mut out = serde_json::Map::new();
                for (k, v) in m {
                    self.path.push(PathStep::ElementKeyString(k.clone()));
                    let j = self.value(v, et)?;
                    self.path.pop();
                    out.insert(k.clone(), j);
                }
                self.leave();
                Ok(J::Object(out))
            }
            (Type::Object(ot), Value::Object(m)) => {
                if let Some(extra) = m.keys().find(|k| !ot.attributes.contains_key(*k)) {
                    return Err(self.err(EncodeErrorKind::UnsupportedAttribute {
                        name: extra.clone(),
                    }));
                }
                self.enter()?;
                let mut out = serde_json::Map::new();
                for (name, at) in &ot.attributes {
                    let j = match m.get(name) {
                        Some(v) => {
                            self.path.push(PathStep::Attribute(name.clone()));
                            let j = self.value(v, at)?;
                            self.path.pop();
                            j
                        }
                        None => J::Null,
                    };
                    out.insert(name.clone(), j);
                }
                self.leave();
                Ok(J::Object(out))
            }
            _ => Err(self.err(EncodeErrorKind::TypeMismatch {
                expected: ty.to_string(),
                found: v.kind_name(),
            })),
        }
    }

    fn dynamic(&mut self, t: &Type, inner: &Value) -> Result<J, EncodeError> {
        self.enter()?;
        let value = self.value(inner, t)?;
        self.leave();
        let mut out = serde_json::Map::new();
        out.insert("value".to_string(), value);
        out.insert("type".to_string(), t.to_json());
        Ok(J::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
        match r {
            Ok(v) => v,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    fn s(x: &str) -> String {
        x.to_string()
    }

    fn state_type() -> Type {
        Type::object([
            (s("id"), Type::String),
            (s("size"), Type::Number),
            (s("tags"), Type::map(Type::String)),
            (s("zones"), Type::list(Type::String)),
            (
                s("pools"),
                Type::set(Type::object([
                    (s("name"), Type::String),
                    (s("min"), Type::Number),
                ])),
            ),
            (s("extra"), Type::Dynamic),
        ])
    }

    #[test]
    fn state_with_extra_and_missing_keys() {
        let json = br#"{"id":"abc","size":3,"removed_attr":{"x":1},"tags":{"a":"b"},
            "pools":[{"name":"p","min":1,"old":true}],"extra":{"value":["x",1],"type":["tuple",["string","number"]]}}"#;
        let v = ok(decode(json, &state_type()));
        assert_eq!(v.get_attr("id").and_then(Value::as_str), Some("abc"));
        assert_eq!(v.get_attr("size").and_then(Value::as_i64), Some(3));
        assert_eq!(v.get_attr("zones"), Some(&Value::Null));
        let pools = v
            .get_attr("pools")
            .and_then(Value::as_list)
            .unwrap_or_default();
        assert_eq!(pools.len(), 1);
        assert_eq!(pools[0].get_attr("name").and_then(Value::as_str), Some("p"));
        assert!(pools[0].get_attr("old").is_none());
        let extra = v.get_attr("extra");
        assert_eq!(
            extra,
            Some(&Value::Dynamic(
                Box::new(Type::tuple(vec![Type::String, Type::Number])),
                Box::new(Value::Tuple(vec!["x".into(), 1.into()]))
            ))
        );
        // Re-encoding writes every attribute and drops the removed one.
        let out = ok(encode(&v, &state_type()));
        let text = String::from_utf8_lossy(&out);
        assert_eq!(
            text,
            r#"{"extra":{"type":["tuple",["string","number"]],"value":["x",1]},"id":"abc","pools":[{"min":1,"name":"p"}],"size":3,"tags":{"a":"b"},"zones":null}"#
        );
        assert_eq!(ok(decode(&out, &state_type())), v);
    }

    #[test]
    fn numbers_keep_precision() {
        let v = ok(decode(b"123456789012345678901234567890.5", &Type::Number));
        assert_eq!(
            v,
            Value::Number(Number::Decimal(s("123456789012345678901234567890.5")))
        );
        assert_eq!(
            ok(encode(&v, &Type::Number)),
            b"123456789012345678901234567890.5"
        );
        assert_eq!(ok(encode(&Value::from(0.5), &Type::Number)), b"0.5");
        assert_eq!(ok(encode(&Value::from(-7), &Type::Number)), b"-7");
        let big = ok(decode(b"1e400", &Type::Number));
        // serde_json writes the exponent with a sign; Terraform reads either.
        assert_eq!(ok(encode(&big, &Type::Number)), b"1e+400");
        assert_eq!(ok(decode(b"1e+400", &Type::Number)), big);
        assert!(encode(&Value::Number(Number::Float(f64::INFINITY)), &Type::Number).is_err());
    }

    #[test]
    fn lenient_primitives() {
        assert_eq!(ok(decode(b"12", &Type::String)), Value::from("12"));
        assert_eq!(ok(decode(b"true", &Type::String)), Value::from("true"));
        assert_eq!(ok(decode(b"\"12.5\"", &Type::Number)), Value::from(12.5));
        assert_eq!(ok(decode(b"\"false\"", &Type::Bool)), Value::from(false));
        assert!(decode(b"\"yes\"", &Type::Bool).is_err());
    }

    #[test]
    fn errors_carry_paths() {
        let ty = Type::object([(
            s("node_pools"),
            Type::map(Type::object([(s("min_size"), Type::Number)])),
        )]);
        let err = decode(br#"{"node_pools":{"system":{"min_size":[1]}}}"#, &ty);
        let Err(err) = err else {
            panic!("expected an error");
        };
        assert_eq!(
            err.to_string(),
            r#"at node_pools["system"].min_size: expected number, found array"#
        );
        assert!(matches!(
            decode(b"{} x", &ty),
            Err(DecodeError {
                kind: DecodeErrorKind::Json { .. },
                ..
            })
        ));
        let unknown = Value::Object(BTreeMap::from([(s("node_pools"), Value::unknown())]));
        let err = encode(&unknown, &ty);
        assert!(
            matches!(err, Err(EncodeError { kind: EncodeErrorKind::UnknownInJson, ref path }) if path.to_string() == "node_pools")
        );
    }

    #[test]
    fn dynamic_forms() {
        assert_eq!(ok(decode(b"null", &Type::Dynamic)), Value::Null);
        let v = ok(decode(br#"{"value":null,"type":"string"}"#, &Type::Dynamic));
        assert_eq!(
            v,
            Value::Dynamic(Box::new(Type::String), Box::new(Value::Null))
        );
        assert!(decode(br#"{"value":1}"#, &Type::Dynamic).is_err());
        assert!(decode(br#"{"value":1,"type":"number","x":2}"#, &Type::Dynamic).is_err());
        assert!(decode(br#"[1]"#, &Type::Dynamic).is_err());
        // A plain value in a dynamic slot gets an inferred type.
        let out = ok(encode(&Value::List(vec!["a".into()]), &Type::Dynamic));
        assert_eq!(out, br#"{"type":["list","string"],"value":["a"]}"#);
    }

    #[test]
    fn deep_json_is_an_error() {
        let ty = (0..100).fold(Type::String, |t, _| Type::list(t));
        let json = format!("{}\"x\"{}", "[".repeat(100), "]".repeat(100));
        assert!(matches!(
            decode(json.as_bytes(), &ty),
            Err(DecodeError {
                kind: DecodeErrorKind::TooDeep { .. },
                ..
            })
        ));
        let json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(decode(json.as_bytes(), &ty).is_err());
    }
}
