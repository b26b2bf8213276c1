//! Terraform values and types for the plugin protocol.
//!
//! Terraform passes values to providers as `DynamicValue`s: msgpack in
//! requests and responses, and JSON for prior state in
//! `UpgradeResourceState`/`MoveResourceState`. This crate models cty
//! [`Type`]s and [`Value`]s (including unknown values with refinements and
//! values of `dynamic` type) and reads and writes both encodings:
//! [`msgpack::decode`]/[`msgpack::encode`] and
//! [`json::decode`]/[`json::encode`].
//!
//! Decoders take untrusted bytes: they never panic, bound nesting depth at
//! [`MAX_DEPTH`], and never allocate from a declared length the input
//! could not back. Errors name the [`Path`] where they happened, e.g.
//! `at node_pools["system"].min_size: expected number, found string`.
//!
//! ```
//! use paved_value::{msgpack, Type, Value};
//!
//! let ty = Type::object([
//!     ("name".to_string(), Type::String),
//!     ("zones".to_string(), Type::list(Type::String)),
//! ]);
//! // {"name": "a", "zones": unknown}
//! let bytes = [0x82, 0xa4, b'n', b'a', b'm', b'e', 0xa1, b'a',
//!              0xa5, b'z', b'o', b'n', b'e', b's', 0xd4, 0x00, 0x00];
//! let v = msgpack::decode(&bytes, &ty)?;
//! assert_eq!(v.get_attr("name").and_then(Value::as_str), Some("a"));
//! assert!(v.get_attr("zones").is_some_and(Value::is_unknown));
//! assert_eq!(msgpack::encode(&v, &ty)?, bytes);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
pub mod json;
pub mod msgpack;
mod number;
mod path;
mod types;
mod value;

#[cfg(test)]
mod proptests;

pub use error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind};
pub use number::{Number, NumberError};
pub use path::{Path, PathStep};
pub use types::{ObjectType, Type, TypeError, MAX_TYPE_DEPTH};
pub use value::{Refinements, Value, MAX_DEPTH};
