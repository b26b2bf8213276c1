//! cty types and their JSON form.
//!
//! Terraform describes types in JSON: `"bool"`, `"number"`, `"string"`,
//! `"dynamic"`, `["list",T]`, `["set",T]`, `["map",T]`,
//! `["object",{"a":T,...}]` (optionally with a third element listing the
//! optional attributes, `["object",{...},["a"]]`) and `["tuple",[T,...]]`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Deepest type nesting [`Type::from_json`] accepts.
pub const MAX_TYPE_DEPTH: usize = 64;

/// A cty type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    /// `bool`.
    Bool,
    /// `number`.
    Number,
    /// `string`.
    String,
    /// `dynamic` (Terraform's `any`): the concrete type travels with the
    /// value.
    Dynamic,
    /// `list(T)`.
    List(Box<Type>),
    /// `set(T)`.
    Set(Box<Type>),
    /// `map(T)`: string keys.
    Map(Box<Type>),
    /// `object({...})`.
    Object(ObjectType),
    /// `tuple([...])`.
    Tuple(Vec<Type>),
}

/// The attributes of an object type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectType {
    /// Attribute names and their types.
    pub attributes: BTreeMap<String, Type>,
    /// Names of attributes that are optional (a type-constraint detail
    /// Terraform keeps in the type; every name here should be a key of
    /// `attributes`).
    pub optional: BTreeSet<String>,
}

impl ObjectType {
    /// An object type with these attributes, none optional.
    pub fn new<I: IntoIterator<Item = (String, Type)>>(attrs: I) -> ObjectType {
        ObjectType {
            attributes: attrs.into_iter().collect(),
            optional: BTreeSet::new(),
        }
    }
}

/// Why a type description is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypeError {
    /// The bytes are not JSON.
    #[error("type description is not valid JSON: {message}")]
    Json {
        /// The JSON parser's message.
        message: String,
    },
    /// A string that names no primitive type.
    #[error("unknown primitive type {name:?} (expected \"bool\", \"number\", \"string\" or \"dynamic\")")]
    UnknownPrimitive {
        /// The name given.
        name: String,
    },
    /// An array whose first element names no complex type kind.
    #[error(
        "unknown type kind {kind:?} (expected \"list\", \"set\", \"map\", \"object\" or \"tuple\")"
    )]
    UnknownKind {
        /// The kind given.
        kind: String,
    },
    /// A structurally malformed description.
    #[error("malformed type description: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// An optional-attribute name that is not an attribute.
    #[error("optional attribute {name:?} is not an attribute of the object type")]
    UnknownOptional {
        /// The name given.
        name: String,
    },
    /// Nesting beyond [`MAX_TYPE_DEPTH`].
    #[error("type description nested deeper than {limit} levels")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
}

fn malformed(reason: impl Into<String>) -> TypeError {
    TypeError::Malformed {
        reason: reason.into(),
    }
}

impl Type {
    /// An object type with these attributes, none optional.
    pub fn object<I: IntoIterator<Item = (String, Type)>>(attrs: I) -> Type {
        Type::Object(ObjectType::new(attrs))
    }

    /// An object type with these attributes, of which those named in
    /// `optional` are optional.
    pub fn object_with_optional<I, O>(attrs: I, optional: O) -> Type
    where
        I: IntoIterator<Item = (String, Type)>,
        O: IntoIterator<Item = String>,
    {
        Type::Object(ObjectType {
            attributes: attrs.into_iter().collect(),
            optional: optional.into_iter().collect(),
        })
    }

    /// `list(t)`.
    pub fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }

    /// `set(t)`.
    pub fn set(t: Type) -> Type {
        Type::Set(Box::new(t))
    }

    /// `map(t)`.
    pub fn map(t: Type) -> Type {
        Type::Map(Box::new(t))
    }

    /// `tuple([...])`.
    pub fn tuple(elems: Vec<Type>) -> Type {
        Type::Tuple(elems)
    }

    /// The element type of a list, set or map type.
    pub fn element_type(&self) -> Option<&Type> {
        match self {
            Type::List(t) | Type::Set(t) | Type::Map(t) => Some(t),
            _ => None,
        }
    }

    /// Whether this is a list, set or map type.
    pub fn is_collection(&self) -> bool {
        matches!(self, Type::List(_) | Type::Set(_) | Type::Map(_))
    }

    /// Whether this type is or contains `dynamic`.
    pub fn has_dynamic(&self) -> bool {
        match self {
            Type::Dynamic => true,
            Type::Bool | Type::Number | Type::String => false,
            Type::List(t) | Type::Set(t) | Type::Map(t) => t.has_dynamic(),
            Type::Object(o) => o.attributes.values().any(Type::has_dynamic),
            Type::Tuple(ts) => ts.iter().any(Type::has_dynamic),
        }
    }

    /// A short name of this type's kind, for messages: `bool`, `number`,
    /// `string`, `dynamic`, `list`, `set`, `map`, `object`, `tuple`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Type::Bool => "bool",
            Type::Number => "number",
            Type::String => "string",
            Type::Dynamic => "dynamic",
            Type::List(_) => "list",
            Type::Set(_) => "set",
            Type::Map(_) => "map",
            Type::Object(_) => "object",
            Type::Tuple(_) => "tuple",
        }
    }

    /// This type in Terraform's JSON form.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Type::Bool => J::String("bool".into()),
            Type::Number => J::String("number".into()),
            Type::String => J::String("string".into()),
            Type::Dynamic => J::String("dynamic".into()),
            Type::List(t) => J::Array(vec![J::String("list".into()), t.to_json()]),
            Type::Set(t) => J::Array(vec![J::String("set".into()), t.to_json()]),
            Type::Map(t) => J::Array(vec![J::String("map".into()), t.to_json()]),
            Type::Object(o) => {
                let attrs: serde_json::Map<String, J> = o
                    .attributes
                    .iter()
                    .map(|(k, t)| (k.clone(), t.to_json()))
                    .collect();
                let mut v = vec![J::String("object".into()), J::Object(attrs)];
                if !o.optional.is_empty() {
                    v.push(J::Array(
                        o.optional.iter().map(|n| J::String(n.clone())).collect(),
                    ));
                }
                J::Array(v)
            }
            Type::Tuple(ts) => J::Array(vec![
                J::String("tuple".into()),
                J::Array(ts.iter().map(Type::to_json).collect()),
            ]),
        }
    }

    /// This type as compact JSON bytes (object keys sorted).
    pub fn to_json_bytes(&self) -> Vec<u8> {
        self.to_json().to_string().into_bytes()
    }

    /// Parses Terraform's JSON form of a type.
    pub fn from_json(v: &serde_json::Value) -> Result<Type, TypeError> {
        from_json_at(v, 0)
    }

    /// Parses Terraform's JSON form of a type from bytes.
    pub fn from_json_bytes(b: &[u8]) -> Result<Type, TypeError> {
        let v: serde_json::Value = serde_json::from_slice(b).map_err(|e| TypeError::Json {
            message: e.to_string(),
        })?;
        Type::from_json(&v)
    }
}

fn from_json_at(v: &serde_json::Value, depth: usize) -> Result<Type, TypeError> {
    use serde_json::Value as J;
    if depth >= MAX_TYPE_DEPTH {
        return Err(TypeError::TooDeep {
            limit: MAX_TYPE_DEPTH,
        });
    }
    match v {
        J::String(s) => match s.as_str() {
            "bool" => Ok(Type::Bool),
            "number" => Ok(Type::Number),
            "string" => Ok(Type::String),
            "dynamic" => Ok(Type::Dynamic),
            _ => Err(TypeError::UnknownPrimitive { name: s.clone() }),
        },
        J::Array(items) => {
            let kind = match items.first() {
                Some(J::String(k)) => k.as_str(),
                Some(_) => {
                    return Err(malformed(
                        "the first element of a complex type must be a kind name string",
                    ))
                }
                None => return Err(malformed("empty array")),
            };
            let nested = |i: usize| -> Result<Type, TypeError> {
                match items.get(i) {
                    Some(t) => from_json_at(t, depth + 1),
                    None => Err(malformed(format!(
                        "{kind} type is missing its element type"
                    ))),
                }
            };
            let expect_len = |n: usize| -> Result<(), TypeError> {
                if items.len() == n {
                    Ok(())
                } else {
                    Err(malformed(format!(
                        "{kind} type must be a {n}-element array, found {} elements",
                        items.len()
                    )))
                }
            };
            match kind {
                "list" => {
                    expect_len(2)?;
                    Ok(Type::list(nested(1)?))
                }
                "set" => {
                    expect_len(2)?;
                    Ok(Type::set(nested(1)?))
                }
                "map" => {
                    expect_len(2)?;
                    Ok(Type::map(nested(1)?))
                }
                "tuple" => {
                    expect_len(2)?;
                    match items.get(1) {
                        Some(J::Array(ts)) => Ok(Type::Tuple(
                            ts.iter()
                                .map(|t| from_json_at(t, depth + 1))
                                .collect::<Result<_, _>>()?,
                        )),
                        _ => Err(malformed("tuple element types must be an array")),
                    }
                }
                "object" => {
                    if items.len() != 2 && items.len() != 3 {
                        return Err(malformed(format!(
                            "object type must be a 2- or 3-element array, found {} elements",
                            items.len()
                        )));
                    }
                    let attrs = match items.get(1) {
                        Some(J::Object(m)) => m
                            .iter()
                            .map(|(k, t)| Ok((k.clone(), from_json_at(t, depth + 1)?)))
                            .collect::<Result<BTreeMap<_, _>, TypeError>>()?,
                        _ => return Err(malformed("object attribute types must be a JSON object")),
                    };
                    let mut optional = BTreeSet::new();
                    if let Some(opt) = items.get(2) {
                        let J::Array(names) = opt else {
                            return Err(malformed(
                                "optional attribute list must be an array of names",
                            ));
                        };
                        for n in names {
                            let J::String(n) = n else {
                                return Err(malformed("optional attribute names must be strings"));
                            };
                            if !attrs.contains_key(n) {
                                return Err(TypeError::UnknownOptional { name: n.clone() });
                            }
                            optional.insert(n.clone());
                        }
                    }
                    Ok(Type::Object(ObjectType {
                        attributes: attrs,
                        optional,
                    }))
                }
                other => Err(TypeError::UnknownKind {
                    kind: other.to_string(),
                }),
            }
        }
        _ => Err(malformed("a type must be a string or an array")),
    }
}

impl fmt::Display for Type {
    /// Writes the type in Terraform's type-constraint syntax:
    /// `list(string)`, `object({a=number, b=optional(bool)})`, `any` for
    /// dynamic.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Bool => f.write_str("bool"),
            Type::Number => f.write_str("number"),
            Type::String => f.write_str("string"),
            Type::Dynamic => f.write_str("any"),
            Type::List(t) => write!(f, "list({t})"),
            Type::Set(t) => write!(f, "set({t})"),
            Type::Map(t) => write!(f, "map({t})"),
            Type::Object(o) => {
                f.write_str("object({")?;
                for (i, (name, t)) in o.attributes.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if o.optional.contains(name) {
                        write!(f, "{name}=optional({t})")?;
                    } else {
                        write!(f, "{name}={t}")?;
                    }
                }
                f.write_str("})")
            }
            Type::Tuple(ts) => {
                f.write_str("tuple([")?;
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str("])")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(json: &str, ty: &Type) {
        let parsed = Type::from_json_bytes(json.as_bytes());
        assert_eq!(parsed.as_ref(), Ok(ty), "{json}");
        assert_eq!(String::from_utf8_lossy(&ty.to_json_bytes()), json);
    }

    #[test]
    fn json_forms() {
        round_trip(r#""bool""#, &Type::Bool);
        round_trip(r#""number""#, &Type::Number);
        round_trip(r#""string""#, &Type::String);
        round_trip(r#""dynamic""#, &Type::Dynamic);
        round_trip(r#"["list","string"]"#, &Type::list(Type::String));
        round_trip(
            r#"["set",["map","number"]]"#,
            &Type::set(Type::map(Type::Number)),
        );
        round_trip(
            r#"["object",{"a":"string","b":["list","bool"]}]"#,
            &Type::object([
                ("b".to_string(), Type::list(Type::Bool)),
                ("a".to_string(), Type::String),
            ]),
        );
        round_trip(
            r#"["object",{"a":"string","b":"number"},["b"]]"#,
            &Type::object_with_optional(
                [
                    ("a".to_string(), Type::String),
                    ("b".to_string(), Type::Number),
                ],
                ["b".to_string()],
            ),
        );
        round_trip(
            r#"["tuple",["string","dynamic"]]"#,
            &Type::tuple(vec![Type::String, Type::Dynamic]),
        );
        round_trip(r#"["tuple",[]]"#, &Type::tuple(vec![]));
        round_trip(r#"["object",{}]"#, &Type::object([]));
    }

    #[test]
    fn bad_descriptions() {
        for bad in [
            "",
            "null",
            "1",
            r#""int""#,
            "[]",
            r#"["list"]"#,
            r#"["list","string","x"]"#,
            r#"["vector","string"]"#,
            r#"[1,"string"]"#,
            r#"["object",["a"]]"#,
            r#"["object",{"a":"string"},["b"]]"#,
            r#"["object",{"a":"string"},"a"]"#,
            r#"["tuple","string"]"#,
        ] {
            assert!(Type::from_json_bytes(bad.as_bytes()).is_err(), "{bad}");
        }
        let deep = format!("{}\"string\"{}", r#"["list","#.repeat(100), "]".repeat(100));
        assert_eq!(
            Type::from_json_bytes(deep.as_bytes()),
            Err(TypeError::TooDeep {
                limit: MAX_TYPE_DEPTH
            })
        );
        // Deeper than serde_json's own limit: still an error, no overflow.
        let deeper = format!(
            "{}\"string\"{}",
            r#"["list","#.repeat(10000),
            "]".repeat(10000)
        );
        assert!(Type::from_json_bytes(deeper.as_bytes()).is_err());
    }

    #[test]
    fn display() {
        let t = Type::object_with_optional(
            [
                ("a".to_string(), Type::list(Type::String)),
                ("b".to_string(), Type::Dynamic),
            ],
            ["b".to_string()],
        );
        assert_eq!(t.to_string(), "object({a=list(string), b=optional(any)})");
        assert_eq!(
            Type::tuple(vec![Type::Bool, Type::map(Type::Number)]).to_string(),
            "tuple([bool, map(number)])"
        );
    }
}
