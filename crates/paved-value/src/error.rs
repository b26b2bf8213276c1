//! Decoding and encoding errors. Each carries the [`Path`] where it
//! happened and displays as `at PATH: what went wrong`.

use crate::number::NumberError;
use crate::path::{at_prefix, Path};
use crate::types::TypeError;

/// A value could not be decoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{kind}", at_prefix(.path))]
pub struct DecodeError {
    /// Where in the value decoding failed (root for the whole input).
    pub path: Path,
    /// What went wrong.
    pub kind: DecodeErrorKind,
}

/// What went wrong while decoding.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeErrorKind {
    /// The input ended inside a value.
    #[error("unexpected end of input")]
    UnexpectedEof,
    /// Bytes follow the top-level value.
    #[error("{count} unexpected trailing byte(s) after the value")]
    TrailingBytes {
        /// How many bytes are left over.
        count: usize,
    },
    /// Nesting beyond the depth limit.
    #[error("value nested deeper than {limit} levels")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// The encoded value is of the wrong kind for the type.
    #[error("expected {expected}, found {found}")]
    TypeMismatch {
        /// What the type needs.
        expected: &'static str,
        /// What the input has.
        found: String,
    },
    /// A msgpack byte that starts no value (0xc1).
    #[error("invalid msgpack marker byte 0x{byte:02x}")]
    InvalidMarker {
        /// The byte.
        byte: u8,
    },
    /// A string that is not UTF-8.
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    /// A number that does not parse.
    #[error("invalid number: {0}")]
    InvalidNumber(#[source] NumberError),
    /// A NaN float.
    #[error("NaN is not a valid number")]
    NotANumber,
    /// A tuple with the wrong number of elements.
    #[error("expected a tuple of {expected} elements, found {found}")]
    TupleLength {
        /// Elements in the type.
        expected: usize,
        /// Elements in the input.
        found: usize,
    },
    /// An object key that the object type does not have.
    #[error("unsupported attribute {name:?} (not in the object type)")]
    UnsupportedAttribute {
        /// The key.
        name: String,
    },
    /// A map or object key that is not a string.
    #[error("map and object keys must be strings, found {found}")]
    NonStringKey {
        /// The key's kind.
        found: String,
    },
    /// The same key twice in one map or object.
    #[error("duplicate key {key:?}")]
    DuplicateKey {
        /// The key.
        key: String,
    },
    /// A dynamic-typed value that is not `[type, value]` (or
    /// `{"value": ..., "type": ...}` in JSON).
    #[error("a dynamic value must be {expected}, found {found}")]
    DynamicShape {
        /// The expected shape.
        expected: &'static str,
        /// What the input has.
        found: String,
    },
    /// The type inside a dynamic value is not a valid type.
    #[error("invalid type in dynamic value: {0}")]
    InvalidDynamicType(#[source] TypeError),
    /// A length prefix larger than the rest of the input could hold.
    #[error("declared length {declared} exceeds the {remaining} bytes remaining")]
    LengthExceedsInput {
        /// The declared length.
        declared: u64,
        /// Bytes left in the input.
        remaining: usize,
    },
    /// A malformed refinement payload on an unknown value.
    #[error("invalid unknown-value refinement: {reason}")]
    InvalidRefinement {
        /// What is wrong.
        reason: String,
    },
    /// The input is not JSON.
    #[error("invalid JSON: {message}")]
    Json {
        /// The JSON parser's message.
        message: String,
    },
}

/// A value could not be encoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{kind}", at_prefix(.path))]
pub struct EncodeError {
    /// Where in the value encoding failed.
    pub path: Path,
    /// What went wrong.
    pub kind: EncodeErrorKind,
}

/// What went wrong while encoding.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EncodeErrorKind {
    /// The value does not conform to the type.
    #[error("value does not conform to the type: expected {expected}, found {found}")]
    TypeMismatch {
        /// The type (in Terraform syntax).
        expected: String,
        /// The value's kind.
        found: &'static str,
    },
    /// An object value has an attribute the type lacks.
    #[error("object has attribute {name:?}, which the object type does not declare")]
    UnsupportedAttribute {
        /// The attribute.
        name: String,
    },
    /// A tuple value with the wrong number of elements.
    #[error("expected a tuple of {expected} elements, found {found}")]
    TupleLength {
        /// Elements in the type.
        expected: usize,
        /// Elements in the value.
        found: usize,
    },
    /// A `Number::Decimal` that does not parse.
    #[error("invalid number: {0}")]
    InvalidNumber(#[source] NumberError),
    /// NaN, or an infinity where the format has none (JSON).
    #[error("{what} cannot be encoded as {format}")]
    NonFiniteNumber {
        /// `NaN` or `infinity`.
        what: &'static str,
        /// `msgpack` or `JSON`.
        format: &'static str,
    },
    /// An unknown value in JSON (state is always wholly known).
    #[error("unknown values cannot be encoded as JSON (state must be wholly known)")]
    UnknownInJson,
    /// A refinement that makes no sense for the type.
    #[error("refinement {refinement} does not apply to a value of type {ty}")]
    InapplicableRefinement {
        /// The refinement's field name.
        refinement: &'static str,
        /// The type (in Terraform syntax).
        ty: String,
    },
    /// A value in a dynamic slot whose type cannot be inferred.
    #[error("cannot infer a type for this value in a dynamic slot: {reason}")]
    CannotInferType {
        /// Why.
        reason: String,
    },
    /// Nesting beyond the depth limit.
    #[error("value nested deeper than {limit} levels")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// A string, collection or extension longer than msgpack allows.
    #[error("length {len} exceeds msgpack's limit of 4294967295")]
    TooLong {
        /// The length.
        len: usize,
    },
    /// The JSON writer failed.
    #[error("JSON serialization failed: {message}")]
    Json {
        /// The serializer's message.
        message: String,
    },
}
