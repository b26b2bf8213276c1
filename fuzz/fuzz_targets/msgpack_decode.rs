//! Fuzzes `paved_value::msgpack::decode`.
//!
//! Input: the first byte picks a type from [`TYPES`] (modulo its length);
//! the rest is the msgpack to decode. Whatever decodes must re-encode,
//! decode to the same value and re-encode to the same bytes; wholly known
//! values must also round-trip through the JSON encoding.

#![no_main]

use libfuzzer_sys::fuzz_target;
use paved_value::{json, msgpack, EncodeErrorKind, Type};

/// Types worth fuzzing, as Terraform's type JSON. Seed files in
/// `corpus/seed/` start with an index into this list: append, never
/// reorder.
const TYPES: &[&str] = &[
    r#""string""#,
    r#""number""#,
    r#""bool""#,
    r#""dynamic""#,
    r#"["list","string"]"#,
    r#"["set","number"]"#,
    r#"["map","bool"]"#,
    r#"["list","dynamic"]"#,
    r#"["tuple",["string","bool"]]"#,
    r#"["object",{"a":["list","string"],"b":["set","number"],"c":["map","bool"],"d":["object",{"x":"string"}]}]"#,
    r#"["object",{"pools":["list",["object",{"n":"number"}]],"t":["tuple",["string","bool"]]}]"#,
    r#"["object",{"extra":"dynamic","id":"string","pools":["set",["object",{"name":"string","size":"number"}]],"tags":["map","string"]},["extra"]]"#,
    r#"["map",["set","number"]]"#,
    r#"["list",["list",["list","string"]]]"#,
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let json_ty = TYPES[usize::from(pick) % TYPES.len()];
    let ty = match Type::from_json_bytes(json_ty.as_bytes()) {
        Ok(t) => t,
        Err(e) => panic!("bad type table entry {json_ty}: {e}"),
    };
    let Ok(v) = msgpack::decode(bytes, &ty) else {
        return;
    };
    let enc = match msgpack::encode(&v, &ty) {
        Ok(b) => b,
        Err(e) => panic!("decoded value does not re-encode: {e}\n{v:?}"),
    };
    match msgpack::decode(&enc, &ty) {
        Ok(v2) => assert_eq!(v2, v, "msgpack round trip changed the value"),
        Err(e) => panic!("re-encoded value does not decode: {e}\n{enc:02x?}"),
    }
    match msgpack::encode(&v, &ty) {
        Ok(again) => assert_eq!(again, enc, "encoding is not deterministic"),
        Err(e) => panic!("second encode failed: {e}"),
    }
    if v.is_wholly_known() {
        match json::encode(&v, &ty) {
            Ok(j) => match json::decode(&j, &ty) {
                Ok(v3) => assert_eq!(v3, v, "JSON round trip changed the value"),
                Err(e) => panic!("JSON does not decode: {e}\n{}", String::from_utf8_lossy(&j)),
            },
            // Infinities are numbers in msgpack but not in JSON.
            Err(e) if matches!(e.kind, EncodeErrorKind::NonFiniteNumber { .. }) => {}
            Err(e) => panic!("wholly known value does not encode as JSON: {e}\n{v:?}"),
        }
    }
});
