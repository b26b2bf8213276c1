//! The msgpack encoding of values (Terraform's `DynamicValue.msgpack`).
//!
//! Follows cty's msgpack format:
//!
//! * null is nil; any extension is an unknown value. A plain unknown is
//!   written as `d4 00 00`; a refined unknown as extension type 12 holding
//!   a map from small integer keys to refinements (1: is-null, 2: string
//!   prefix, 3/4: number lower/upper bound as `[number, inclusive]`, 5/6:
//!   collection length lower/upper bound). Unknown keys are skipped.
//! * numbers are read from any integer width, float32/float64 or a decimal
//!   string, and written as the most compact integer, a float64 or a
//!   decimal string (see [`Number`]).
//! * strings are str (bin accepted); lists, sets and tuples are arrays;
//!   maps and objects are maps with string keys. Objects are written with
//!   every attribute of the type (null where absent); on decode a missing
//!   attribute is null and an unexpected one is an error.
//! * a value in a `dynamic` slot is `[type JSON (bin), value]`, unless it
//!   is wholly unknown (a bare extension) or null (a bare nil).
//!
//! Decoding is safe on untrusted input: nesting is limited to
//! [`MAX_DEPTH`] levels, lengths are checked against the remaining input
//! before anything is allocated, and trailing bytes are an error.

use std::collections::BTreeMap;

use rmp::Marker;

use crate::error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind};
use crate::number::Number;
use crate::path::{Path, PathStep};
use crate::types::Type;
use crate::value::{infer, Refinements, Value, MAX_DEPTH};

/// Extension type code of a refined unknown value.
const REFINED_UNKNOWN_EXT: i8 = 12;
/// Largest refinement payload accepted (as cty does).
const MAX_REFINEMENT_LEN: usize = 1024;
/// Cap on up-front vector capacity; vectors grow past it as elements
/// actually arrive.
const MAX_PREALLOC: usize = 256;

const KEY_NULLNESS: i64 = 1;
const KEY_STRING_PREFIX: i64 = 2;
const KEY_NUMBER_MIN: i64 = 3;
const KEY_NUMBER_MAX: i64 = 4;
const KEY_LENGTH_MIN: i64 = 5;
const KEY_LENGTH_MAX: i64 = 6;

/// Decodes msgpack `bytes` as a value of type `ty`.
///
/// The whole input must be one value: trailing bytes are an error.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    let mut d = Decoder {
        rd: Reader { buf: bytes, pos: 0 },
        path: Vec::new(),
        depth: 0,
    };
    let v = d.value(ty)?;
    let rest = d.rd.remaining();
    if rest > 0 {
        return Err(DecodeError {
            path: Path::root(),
            kind: DecodeErrorKind::TrailingBytes { count: rest },
        });
    }
    Ok(v)
}

/// Encodes `v` as msgpack for type `ty`.
///
/// Fails (with the path) when the value does not conform to the type, a
/// refinement does not apply to its type, a number is NaN or a malformed
/// decimal, or a value in a dynamic slot has no inferable type.
pub fn encode(v: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    let mut e = Encoder {
        out: Vec::new(),
        path: Vec::new(),
        depth: 0,
    };
    e.value(v, ty)?;
    Ok(e.out)
}

// ---------------------------------------------------------------------
// Reading

/// A cursor over the input.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
}

/// A msgpack item's header, with the payload of strings, binaries and
/// extensions.
enum Head<'a> {
    Nil,
    Bool(bool),
    Int(i64),
    UInt(u64),
    F32(f32),
    F64(f64),
    Str(&'a [u8]),
    Bin(&'a [u8]),
    Array(u32),
    Map(u32),
    Ext(i8, &'a [u8]),
    Reserved(u8),
}

impl Head<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Head::Nil => "nil",
            Head::Bool(_) => "bool",
            Head::Int(_) | Head::UInt(_) => "integer",
            Head::F32(_) | Head::F64(_) => "float",
            Head::Str(_) => "string",
            Head::Bin(_) => "binary",
            Head::Array(_) => "array",
            Head::Map(_) => "map",
            Head::Ext(..) => "extension",
            Head::Reserved(_) => "reserved byte",
        }
    }
}

fn is_ext(byte: u8) -> bool {
    matches!(
        Marker::from_u8(byte),
        Marker::FixExt1
            | Marker::FixExt2
            | Marker::FixExt4
            | Marker::FixExt8
            | Marker::FixExt16
            | Marker::Ext8
            | Marker::Ext16
            | Marker::Ext32
    )
}

struct Decoder<'a> {
    rd: Reader<'a>,
    path: Vec<PathStep>,
    depth: usize,
}

impl<'a> Decoder<'a> {
    fn err(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            path: Path(self.path.clone()),
            kind,
        }
    }

    fn eof(&self) -> DecodeError {
        self.err(DecodeErrorKind::UnexpectedEof)
    }

    fn mismatch(&self, expected: &'static str, found: &Head<'_>) -> DecodeError {
        self.err(DecodeErrorKind::TypeMismatch {
            expected,
            found: found.kind().to_string(),
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

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        match self.rd.array::<N>() {
            Some(a) => Ok(a),
            None => Err(self.eof()),
        }
    }

    fn payload(&mut self, len: u64) -> Result<&'a [u8], DecodeError> {
        let remaining = self.rd.remaining();
        let n = usize::try_from(len)
            .ok()
            .filter(|n| *n <= remaining)
            .ok_or_else(|| {
                self.err(DecodeErrorKind::LengthExceedsInput {
                    declared: len,
                    remaining,
                })
            })?;
        self.rd.take(n).ok_or_else(|| self.eof())
    }

    /// Checks that `count` items of at least `per_item` bytes each could
    /// fit in the rest of the input.
    fn check_count(&self, count: u32, per_item: u64) -> Result<(), DecodeError> {
        let need = u64::from(count).saturating_mul(per_item);
        let remaining = self.rd.remaining();
        if need > remaining as u64 {
            return Err(self.err(DecodeErrorKind::LengthExceedsInput {
                declared: u64::from(count),
                remaining,
            }));
        }
        Ok(())
    }

    fn head(&mut self) -> Result<Head<'a>, DecodeError> {
        let Some(byte) = self.rd.peek() else {
            return Err(self.eof());
        };
        self.rd.pos += 1;
        Ok(match Marker::from_u8(byte) {
            Marker::FixPos(v) => Head::Int(i64::from(v)),
            Marker::FixNeg(v) => Head::Int(i64::from(v)),
            Marker::Null => Head::Nil,
            Marker::True => Head::Bool(true),
            Marker::False => Head::Bool(false),
            Marker::U8 => Head::Int(i64::from(u8::from_be_bytes(self.fixed()?))),
            Marker::U16 => Head::Int(i64::from(u16::from_be_bytes(self.fixed()?))),
            Marker::U32 => Head::Int(i64::from(u32::from_be_bytes(self.fixed()?))),
            Marker::U64 => Head::UInt(u64::from_be_bytes(self.fixed()?)),
            Marker::I8 => Head::Int(i64::from(i8::from_be_bytes(self.fixed()?))),
            Marker::I16 => Head::Int(i64::from(i16::from_be_bytes(self.fixed()?))),
            Marker::I32 => Head::Int(i64::from(i32::from_be_bytes(self.fixed()?))),
            Marker::I64 => Head::Int(i64::from_be_bytes(self.fixed()?)),
            Marker::F32 => Head::F32(f32::from_be_bytes(self.fixed()?)),
            Marker::F64 => Head::F64(f64::from_be_bytes(self.fixed()?)),
            Marker::FixStr(n) => Head::Str(self.payload(u64::from(n))?),
            Marker::Str8 => {
                let n = u8::from_be_bytes(self.fixed()?);
                Head::Str(self.payload(u64::from(n))?)
            }
            Marker::Str16 => {
                let n = u16::from_be_bytes(self.fixed()?);
                Head::Str(self.payload(u64::from(n))?)
            }
            Marker::Str32 => {
                let n = u32::from_be_bytes(self.fixed()?);
                Head::Str(self.payload(u64::from(n))?)
            }
            Marker::Bin8 => {
                let n = u8::from_be_bytes(self.fixed()?);
                Head::Bin(self.payload(u64::from(n))?)
            }
            Marker::Bin16 => {
                let n = u16::from_be_bytes(self.fixed()?);
                Head::Bin(self.payload(u64::from(n))?)
            }
            Marker::Bin32 => {
                let n = u32::from_be_bytes(self.fixed()?);
                Head::Bin(self.payload(u64::from(n))?)
            }
            Marker::FixArray(n) => Head::Array(u32::from(n)),
            Marker::Array16 => Head::Array(u32::from(u16::from_be_bytes(self.fixed()?))),
            Marker::Array32 => Head::Array(u32::from_be_bytes(self.fixed()?)),
            Marker::FixMap(n) => Head::Map(u32::from(n)),
            Marker::Map16 => Head::Map(u32::from(u16::from_be_bytes(self.fixed()?))),
            Marker::Map32 => Head::Map(u32::from_be_bytes(self.fixed()?)),
            Marker::FixExt1 => self.ext_body(1)?,
            Marker::FixExt2 => self.ext_body(2)?,
            Marker::FixExt4 => self.ext_body(4)?,
            Marker::FixExt8 => self.ext_body(8)?,
            Marker::FixExt16 => self.ext_body(16)?,
            Marker::Ext8 => {
                let n = u8::from_be_bytes(self.fixed()?);
                self.ext_body(u64::from(n))?
            }
            Marker::Ext16 => {
                let n = u16::from_be_bytes(self.fixed()?);
                self.ext_body(u64::from(n))?
            }
            Marker::Ext32 => {
                let n = u32::from_be_bytes(self.fixed()?);
                self.ext_body(u64::from(n))?
            }
            Marker::Reserved => Head::Reserved(byte),
        })
    }

    fn ext_body(&mut self, len: u64) -> Result<Head<'a>, DecodeError> {
        let [ty] = self.fixed::<1>()?;
        let ty = i8::from_be_bytes([ty]);
        Ok(Head::Ext(ty, self.payload(len)?))
    }

    fn utf8(&self, b: &'a [u8]) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(b).map_err(|_| self.err(DecodeErrorKind::InvalidUtf8))
    }

    /// Skips one item (used for refinement keys we do not know).
    fn skip(&mut self) -> Result<(), DecodeError> {
        match self.head()? {
            Head::Array(n) => {
                self.check_count(n, 1)?;
                self.enter()?;
                for _ in 0..n {
                    self.skip()?;
                }
                self.leave();
            }
            Head::Map(n) => {
                self.check_count(n, 2)?;
                self.enter()?;
                for _ in 0..n {
                    self.skip()?;
                    self.skip()?;
                }
                self.leave();
            }
            Head::Reserved(byte) => return Err(self.err(DecodeErrorKind::InvalidMarker { byte })),
            _ => {}
        }
        Ok(())
    }

    fn value(&mut self, ty: &Type) -> Result<Value, DecodeError> {
        let Some(byte) = self.rd.peek() else {
            return Err(self.eof());
        };
        // Unknown and null come first, whatever the type: in particular a
        // dynamic slot holds a bare extension or nil, not [type, value].
        if is_ext(byte) {
            return self.unknown(ty);
        }
        if byte == 0xc0 {
            self.rd.pos += 1;
            return Ok(Value::Null);
        }
        match ty {
            Type::Dynamic => self.dynamic(),
            Type::Bool => match self.head()? {
                Head::Bool(b) => Ok(Value::Bool(b)),
                other => Err(self.mismatch("bool", &other)),
            },
            Type::Number => {
                let head = self.head()?;
                Ok(Value::Number(self.number(head)?))
            }
            Type::String => match self.head()? {
                Head::Str(b) | Head::Bin(b) => Ok(Value::String(self.utf8(b)?.to_string())),
                other => Err(self.mismatch("string", &other)),
            },
            Type::List(et) => {
                let n = self.array_len("list")?;
                Ok(Value::List(self.elements(n, |_| Some(et))?))
            }
            Type::Set(et) => {
                let n = self.array_len("set")?;
                Ok(Value::Set(self.elements(n, |_| Some(et))?))
            }
            Type::Tuple(ts) => {
                let n = self.array_len("tuple")?;
                if usize::try_from(n).ok() != Some(ts.len()) {
                    return Err(self.err(DecodeErrorKind::TupleLength {
                        expected: ts.len(),
                        found: usize::try_from(n).unwrap_or(usize::MAX),
                    }));
                }
                Ok(Value::Tuple(self.elements(n, |i| ts.get(i))?))
            }
            Type::Map(et) => {
                let n = self.map_len("map")?;
                let mut m = BTreeMap::new();
                self.enter()?;
                for _ in 0..n {
                    let key = self.key()?;
                    if m.contains_key(&key) {
                        return Err(self.err(DecodeErrorKind::DuplicateKey { key }));
                    }
                    self.path.push(PathStep::ElementKeyString(key));
                    let v = self.value(et)?;
                    if let Some(PathStep::ElementKeyString(key)) = self.path.pop() {
                        m.insert(key, v);
                    }
                }
                self.leave();
                Ok(Value::Map(m))
            }
            Type::Object(ot) => {
                let n = self.map_len("object")?;
                let mut m = BTreeMap::new();
                self.enter()?;
                for _ in 0..n {
                    let key = self.key()?;
                    let Some(at) = ot.attributes.get(&key) else {
                        return Err(self.err(DecodeErrorKind::UnsupportedAttribute { name: key }));
                    };
                    if m.contains_key(&key) {
                        return Err(self.err(DecodeErrorKind::DuplicateKey { key }));
                    }
                    self.path.push(PathStep::Attribute(key));
                    let v = self.value(at)?;
                    if let Some(PathStep::Attribute(key)) = self.path.pop() {
                        m.insert(key, v);
                    }
                }
                self.leave();
                for name in ot.attributes.keys() {
                    if !m.contains_key(name) {
                        m.insert(name.clone(), Value::Null);
                    }
                }
                Ok(Value::Object(m))
            }
        }
    }

    fn array_len(&mut self, expected: &'static str) -> Result<u32, DecodeError> {
        match self.head()? {
            Head::Array(n) => {
                self.check_count(n, 1)?;
                Ok(n)
            }
            other => Err(self.mismatch(expected, &other)),
        }
    }

    fn map_len(&mut self, expected: &'static str) -> Result<u32, DecodeError> {
        match self.head()? {
            Head::Map(n) => {
                self.check_count(n, 2)?;
                Ok(n)
            }
            other => Err(self.mismatch(expected, &other)),
        }
    }

    fn key(&mut self) -> Result<String, DecodeError> {
        match self.head()? {
            Head::Str(b) | Head::Bin(b) => Ok(self.utf8(b)?.to_string()),
            other => Err(self.err(DecodeErrorKind::NonStringKey {
                found: other.kind().to_string(),
            })),
        }
    }

    fn elements<'t>(
        &mut self,
        n: u32,
        ty_of: impl Fn(usize) -> Option<&'t Type>,
    ) -> Result<Vec<Value>, DecodeError> {
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        self.enter()?;
        let mut out = Vec::with_capacity(n.min(MAX_PREALLOC));
        for i in 0..n {
            let Some(et) = ty_of(i) else {
                break;
            };
            self.path.push(PathStep::ElementKeyInt(
                i64::try_from(i).unwrap_or(i64::MAX),
            ));
            let v = self.value(et)?;
            self.path.pop();
            out.push(v);
        }
        self.leave();
        Ok(out)
    }

    fn number(&self, head: Head<'_>) -> Result<Number, DecodeError> {
        let float = |f: f64| {
            if f.is_nan() {
                Err(self.err(DecodeErrorKind::NotANumber))
            } else {
                Ok(Number::from(f))
            }
        };
        match head {
            Head::Int(i) => Ok(Number::Int(i)),
            Head::UInt(u) => Ok(Number::from(u)),
            Head::F32(f) => float(f64::from(f)),
            Head::F64(f) => float(f),
            Head::Str(b) | Head::Bin(b) => Number::parse(self.utf8(b)?)
                .map_err(|e| self.err(DecodeErrorKind::InvalidNumber(e))),
            other => Err(self.mismatch("number", &other)),
        }
    }

    fn dynamic(&mut self) -> Result<Value, DecodeError> {
        const SHAPE: &str = "a two-element array [type JSON, value]";
        let shape = |found: String| DecodeErrorKind::DynamicShape {
            expected: SHAPE,
            found,
        };
        match self.head()? {
            Head::Array(2) => {}
            Head::Array(n) => return Err(self.err(shape(format!("an array of {n} elements")))),
            other => return Err(self.err(shape(other.kind().to_string()))),
        }
        self.enter()?;
        let ty = match self.head()? {
            Head::Str(b) | Head::Bin(b) => Type::from_json_bytes(b)
                .map_err(|e| self.err(DecodeErrorKind::InvalidDynamicType(e)))?,
            other => {
                return Err(self.err(shape(format!(
                    "an array whose first element is {} rather than the type's JSON",
                    other.kind()
                ))))
            }
        };
        let v = self.value(&ty)?;
        self.leave();
        Ok(Value::Dynamic(Box::new(ty), Box::new(v)))
    }

    fn unknown(&mut self, ty: &Type) -> Result<Value, DecodeError> {
        let (code, payload) = match self.head()? {
            Head::Ext(code, payload) => (code, payload),
            other => return Err(self.mismatch("extension", &other)),
        };
        // A zero- or one-byte payload, or any extension type other than
        // the refinement one, is a plain unknown.
        if payload.len() <= 1 || code != REFINED_UNKNOWN_EXT {
            return Ok(Value::unknown());
        }
        let bad =
            |d: &Decoder<'_>, reason: String| d.err(DecodeErrorKind::InvalidRefinement { reason });
        if payload.len() > MAX_REFINEMENT_LEN {
            return Err(bad(
                self,
                format!(
                    "payload of {} bytes exceeds the {MAX_REFINEMENT_LEN}-byte limit",
                    payload.len()
                ),
            ));
        }
        let mut sub = Decoder {
            rd: Reader {
                buf: payload,
                pos: 0,
            },
            path: self.path.clone(),
            depth: self.depth,
        };
        let n = match sub.head()? {
            Head::Map(n) => n,
            other => {
                return Err(bad(
                    &sub,
                    format!("payload must be a map, found {}", other.kind()),
                ))
            }
        };
        if *ty == Type::Dynamic {
            // cty never refines an unknown of dynamic type; ignore any.
            return Ok(Value::unknown());
        }
        sub.check_count(n, 2)?;
        sub.enter()?;
        let mut r = Refinements::default();
        let mut is_null = false;
        for _ in 0..n {
            let key = match sub.head()? {
                Head::Int(i) => i,
                Head::UInt(u) => i64::try_from(u).unwrap_or(i64::MAX),
                other => {
                    return Err(bad(
                        &sub,
                        format!("keys must be integers, found {}", other.kind()),
                    ))
                }
            };
            match key {
                KEY_NULLNESS => match sub.head()? {
                    Head::Bool(b) => {
                        is_null = b;
                        r.not_null = !b;
                    }
                    other => {
                        return Err(bad(
                            &sub,
                            format!("is-null refinement must be a bool, found {}", other.kind()),
                        ))
                    }
                },
                KEY_STRING_PREFIX => {
                    if *ty != Type::String {
                        return Err(bad(
                            &sub,
                            format!("string prefix refinement for a value of type {ty}"),
                        ));
                    }
                    match sub.head()? {
                        Head::Str(b) | Head::Bin(b) => {
                            let p = sub.utf8(b)?;
                            r.string_prefix = (!p.is_empty()).then(|| p.to_string());
                        }
                        other => {
                            return Err(bad(
                                &sub,
                                format!(
                                    "string prefix refinement must be a string, found {}",
                                    other.kind()
                                ),
                            ))
                        }
                    }
                }
                KEY_NUMBER_MIN | KEY_NUMBER_MAX => {
                    if *ty != Type::Number {
                        return Err(bad(
                            &sub,
                            format!("number bound refinement for a value of type {ty}"),
                        ));
                    }
                    let msg = "number bound refinement must be a [number, bool] array";
                    if !matches!(sub.head()?, Head::Array(2)) {
                        return Err(bad(&sub, msg.to_string()));
                    }
                    let head = sub.head()?;
                    let n = sub.number(head)?;
                    let Head::Bool(inclusive) = sub.head()? else {
                        return Err(bad(&sub, msg.to_string()));
                    };
                    if key == KEY_NUMBER_MIN {
                        r.number_lower = Some((n, inclusive));
                    } else {
                        r.number_upper = Some((n, inclusive));
                    }
                }
                KEY_LENGTH_MIN | KEY_LENGTH_MAX => {
                    if !ty.is_collection() {
                        return Err(bad(
                            &sub,
                            format!("length bound refinement for a value of type {ty}"),
                        ));
                    }
                    let len = match sub.head()? {
                        Head::Int(i) => u64::try_from(i).ok(),
                        Head::UInt(u) => Some(u),
                        _ => None,
                    };
                    let Some(len) = len else {
                        return Err(bad(
                            &sub,
                            "length bound refinement must be a non-negative integer".to_string(),
                        ));
                    };
                    if key == KEY_LENGTH_MIN {
                        r.length_lower = (len > 0).then_some(len);
                    } else {
                        r.length_upper = Some(len);
                    }
                }
                _ => sub.skip()?,
            }
        }
        // Bytes after the map are ignored, as cty does (room for padding or
        // future additions).
        if is_null {
            return Ok(Value::Null);
        }
        Ok(Value::Unknown(r))
    }
}

// ---------------------------------------------------------------------
// Writing

struct Encoder {
    out: Vec<u8>,
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

    fn len32(&self, len: usize) -> Result<u32, EncodeError> {
        u32::try_from(len).map_err(|_| self.err(EncodeErrorKind::TooLong { len }))
    }

    fn nil(&mut self) {
        self.out.push(0xc0);
    }

    fn bool(&mut self, b: bool) {
        self.out.push(if b { 0xc3 } else { 0xc2 });
    }

    fn uint(&mut self, u: u64) {
        if u < 128 {
            self.out.push(u as u8);
        } else if let Ok(v) = u8::try_from(u) {
            self.out.push(0xcc);
            self.out.push(v);
        } else if let Ok(v) = u16::try_from(u) {
            self.out.push(0xcd);
            self.out.extend_from_slice(&v.to_be_bytes());
        } else if let Ok(v) = u32::try_from(u) {
            self.out.push(0xce);
            self.out.extend_from_slice(&v.to_be_bytes());
        } else {
            self.out.push(0xcf);
            self.out.extend_from_slice(&u.to_be_bytes());
        }
    }

    fn int(&mut self, i: i64) {
        if let Ok(u) = u64::try_from(i) {
            return self.uint(u);
        }
        if i >= -32 {
            self.out.push(i as u8); // negative fixint: the low byte
        } else if let Ok(v) = i8::try_from(i) {
            self.out.push(0xd0);
            self.out.extend_from_slice(&v.to_be_bytes());
        } else if let Ok(v) = i16::try_from(i) {
            self.out.push(0xd1);
            self.out.extend_from_slice(&v.to_be_bytes());
        } else if let Ok(v) = i32::try_from(i) {
            self.out.push(0xd2);
            self.out.extend_from_slice(&v.to_be_bytes());
        } else {
            self.out.push(0xd3);
            self.out.extend_from_slice(&i.to_be_bytes());
        }
    }

    fn f64(&mut self, f: f64) {
        self.out.push(0xcb);
        self.out.extend_from_slice(&f.to_be_bytes());
    }

    fn str(&mut self, s: &str) -> Result<(), EncodeError> {
        let n = self.len32(s.len())?;
        if n < 32 {
            self.out.push(0xa0 | n as u8);
        } else if let Ok(v) = u8::try_from(n) {
            self.out.push(0xd9);
            self.out.push(v);
        } else if let Ok(v) = u16::try_from(n) {
            self.out.push(0xda);
            self.out.extend_from_slice(&v.to_be_bytes());
        } else {
            self.out.push(0xdb);
            self.out.extend_from_slice(&n.to_be_bytes());
        }
        self.out.extend_from_slice(s.as_bytes());
        Ok(())
    }

    fn bin(&mut self, b: &[u8]) -> Result<(), EncodeError> {
        let n = self.len32(b.len())?;
        if let Ok(v) = u8::try_from(n) {
            self.out.push(0xc4);
            self.out.push(v);
        } else if let Ok(v) = u16::try_from(n) {
            self.out.push(0xc5);
            self.out.extend_from_slice(&v.to_be_bytes());
        } else {
            self.out.push(0xc6);
            self.out.extend_from_slice(&n.to_be_bytes());
        }
        self.out.extend_from_slice(b);
        Ok(())
    }

    fn array_len(&mut self, len: usize) -> Result<(), EncodeError> {
        let n = self.len32(len)?;
        if n < 16 {
            self.out.push(0x90 | n as u8);
        } else if let Ok(v) = u16::try_from(n) {
            self.out.push(0xdc);
            self.out.extend_from_slice(&v.to_be_bytes());
        } else {
            self.out.push(0xdd);
            self.out.extend_from_slice(&n.to_be_bytes());
        }
        Ok(())
    }

    fn map_len(&mut self, len: usize) -> Result<(), EncodeError> {
        let n = self.len32(len)?;
        if n < 16 {
            self.out.push(0x80 | n as u8);
        } else if let Ok(v) = u16::try_from(n) {
            self.out.push(0xde);
            self.out.extend_from_slice(&v.to_be_bytes());
        } else {
            self.out.push(0xdf);
            self.out.extend_from_slice(&n.to_be_bytes());
        }
        Ok(())
    }

    fn ext(&mut self, code: i8, payload: &[u8]) -> Result<(), EncodeError> {
        let n = self.len32(payload.len())?;
        match n {
            1 => self.out.push(0xd4),
            2 => self.out.push(0xd5),
            4 => self.out.push(0xd6),
            8 => self.out.push(0xd7),
            16 => self.out.push(0xd8),
            _ => {
                if let Ok(v) = u8::try_from(n) {
                    self.out.push(0xc7);
                    self.out.push(v);
                } else if let Ok(v) = u16::try_from(n) {
                    self.out.push(0xc8);
                    self.out.extend_from_slice(&v.to_be_bytes());
                } else {
                    self.out.push(0xc9);
                    self.out.extend_from_slice(&n.to_be_bytes());
                }
            }
        }
        self.out.extend_from_slice(&code.to_be_bytes());
        self.out.extend_from_slice(payload);
        Ok(())
    }

    fn number(&mut self, n: &Number) -> Result<(), EncodeError> {
        let canonical = match n {
            Number::Decimal(s) => {
                Number::parse(s).map_err(|e| self.err(EncodeErrorKind::InvalidNumber(e)))?
            }
            other => other.canonical(),
        };
        match canonical {
            Number::Int(i) => self.int(i),
            Number::Float(f) if f.is_nan() => {
                return Err(self.err(EncodeErrorKind::NonFiniteNumber {
                    what: "NaN",
                    format: "msgpack",
                }))
            }
            Number::Float(f) => self.f64(f),
            Number::Decimal(s) => self.str(&s)?,
        }
        Ok(())
    }

    fn mismatch(&self, ty: &Type, v: &Value) -> EncodeError {
        self.err(EncodeErrorKind::TypeMismatch {
            expected: ty.to_string(),
            found: v.kind_name(),
        })
    }

    fn value(&mut self, v: &Value, ty: &Type) -> Result<(), EncodeError> {
        match (ty, v) {
            (Type::Dynamic, Value::Null) => self.nil(),
            (Type::Dynamic, Value::Unknown(_)) => self.out.extend_from_slice(&[0xd4, 0, 0]),
            (Type::Dynamic, Value::Dynamic(t, inner)) => self.dynamic(t, inner)?,
            (Type::Dynamic, other) => {
                let t = infer(other, &mut self.path, self.depth)?;
                self.dynamic(&t, other)?;
            }
            // A wrapped value in a slot of a concrete type: the slot's type
            // governs.
            (_, Value::Dynamic(_, inner)) => {
                self.enter()?;
                self.value(inner, ty)?;
                self.leave();
            }
            (_, Value::Null) => self.nil(),
            (_, Value::Unknown(r)) => self.unknown(r, ty)?,
            (Type::Bool, Value::Bool(b)) => self.bool(*b),
            (Type::Number, Value::Number(n)) => self.number(n)?,
            (Type::String, Value::String(s)) => self.str(s)?,
            (Type::List(et), Value::List(vs)) | (Type::Set(et), Value::Set(vs)) => {
                self.array_len(vs.len())?;
                self.enter()?;
                for (i, v) in vs.iter().enumerate() {
                    self.path.push(PathStep::ElementKeyInt(
                        i64::try_from(i).unwrap_or(i64::MAX),
                    ));
                    self.value(v, et)?;
                    self.path.pop();
                }
                self.leave();
            }
            (Type::Tuple(ts), Value::Tuple(vs)) => {
                if ts.len() != vs.len() {
                    return Err(self.err(EncodeErrorKind::TupleLength {
                        expected: ts.len(),
                        found: vs.len(),
                    }));
                }
                self.array_len(vs.len())?;
                self.enter()?;
                for (i, (v, t)) in vs.iter().zip(ts).enumerate() {
                    self.path.push(PathStep::ElementKeyInt(
                        i64::try_from(i).unwrap_or(i64::MAX),
                    ));
                    self.value(v, t)?;
                    self.path.pop();
                }
                self.leave();
            }
            (Type::Map(et), Value::Map(m)) => {
                self.map_len(m.len())?;
                self.enter()?;
                for (k, v) in m {
                    self.str(k)?;
                    self.path.push(PathStep::ElementKeyString(k.clone()));
                    self.value(v, et)?;
                    self.path.pop();
                }
                self.leave();
            }
            (Type::Object(ot), Value::Object(m)) => {
                if let Some(extra) = m.keys().find(|k| !ot.attributes.contains_key(*k)) {
                    return Err(self.err(EncodeErrorKind::UnsupportedAttribute {
                        name: extra.clone(),
                    }));
                }
                self.map_len(ot.attributes.len())?;
                self.enter()?;
                for (name, at) in &ot.attributes {
                    self.str(name)?;
                    match m.get(name) {
                        Some(v) => {
                            self.path.push(PathStep::Attribute(name.clone()));
                            self.value(v, at)?;
                            self.path.pop();
                        }
                        None => self.nil(),
                    }
                }
                self.leave();
            }
            _ => return Err(self.mismatch(ty, v)),
        }
        Ok(())
    }

    fn dynamic(&mut self, t: &Type, inner: &Value) -> Result<(), EncodeError> {
        self.array_len(2)?;
        self.bin(&t.to_json_bytes())?;
        self.enter()?;
        self.value(inner, t)?;
        self.leave();
        Ok(())
    }

    fn unknown(&mut self, r: &Refinements, ty: &Type) -> Result<(), EncodeError> {
        let inapplicable = |e: &Encoder, refinement: &'static str| {
            e.err(EncodeErrorKind::InapplicableRefinement {
                refinement,
                ty: ty.to_string(),
            })
        };
        let mut body = Encoder {
            out: Vec::new(),
            path: self.path.clone(),
            depth: self.depth,
        };
        let mut count = 0usize;
        if r.not_null {
            body.int(KEY_NULLNESS);
            body.bool(false);
            count += 1;
        }
        if let Some(p) = r.string_prefix.as_deref().filter(|p| !p.is_empty()) {
            if *ty != Type::String {
                return Err(inapplicable(self, "string_prefix"));
            }
            body.int(KEY_STRING_PREFIX);
            body.str(p)?;
            count += 1;
        }
        for (key, bound, name) in [
            (KEY_NUMBER_MIN, &r.number_lower, "number_lower"),
            (KEY_NUMBER_MAX, &r.number_upper, "number_upper"),
        ] {
            if let Some((n, inclusive)) = bound {
                if *ty != Type::Number {
                    return Err(inapplicable(self, name));
                }
                body.int(key);
                body.array_len(2)?;
                body.number(n)?;
                body.bool(*inclusive);
                count += 1;
            }
        }
        for (key, bound, name) in [
            (
                KEY_LENGTH_MIN,
                r.length_lower.filter(|l| *l > 0),
                "length_lower",
            ),
            (KEY_LENGTH_MAX, r.length_upper, "length_upper"),
        ] {
            if let Some(len) = bound {
                if !ty.is_collection() {
                    return Err(inapplicable(self, name));
                }
                body.int(key);
                body.uint(len);
                count += 1;
            }
        }
        if count == 0 || *ty == Type::Dynamic {
            self.out.extend_from_slice(&[0xd4, 0, 0]);
            return Ok(());
        }
        let mut payload = Encoder {
            out: Vec::with_capacity(body.out.len() + 1),
            path: Vec::new(),
            depth: 0,
        };
        payload.map_len(count)?;
        payload.out.extend_from_slice(&body.out);
        self.ext(REFINED_UNKNOWN_EXT, &payload.out)
    }
}

#[cfg(test)]
mod tests;
