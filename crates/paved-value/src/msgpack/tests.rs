//! Byte-exact vectors for the msgpack encoding.

use std::collections::BTreeMap;

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

/// Decodes, checks the value, and checks it re-encodes to `canonical`.
fn check(bytes: &[u8], ty: &Type, want: &Value, canonical: &[u8]) {
    let got = ok(decode(bytes, ty));
    assert_eq!(&got, want, "decoding {bytes:02x?}");
    assert_eq!(ok(encode(&got, ty)), canonical, "re-encoding {want:?}");
}

/// Decodes and re-encodes to the same bytes.
fn exact(bytes: &[u8], ty: &Type, want: &Value) {
    check(bytes, ty, want, bytes);
}

fn decode_err(bytes: &[u8], ty: &Type) -> DecodeError {
    match decode(bytes, ty) {
        Ok(v) => panic!("decoding {bytes:02x?} gave {v:?}, expected an error"),
        Err(e) => e,
    }
}

fn num(n: Number) -> Value {
    Value::Number(n)
}

#[test]
fn nil() {
    for ty in [
        Type::String,
        Type::Number,
        Type::list(Type::Bool),
        Type::Dynamic,
    ] {
        exact(&[0xc0], &ty, &Value::Null);
    }
}

#[test]
fn bools_and_strings() {
    exact(&[0xc3], &Type::Bool, &Value::Bool(true));
    exact(&[0xc2], &Type::Bool, &Value::Bool(false));
    exact(&[0xa2, b'h', b'i'], &Type::String, &Value::from("hi"));
    exact(&[0xa0], &Type::String, &Value::from(""));
    // bin and the wider str forms are accepted; writing uses the smallest.
    check(
        &[0xc4, 0x02, b'h', b'i'],
        &Type::String,
        &Value::from("hi"),
        &[0xa2, b'h', b'i'],
    );
    check(
        &[0xd9, 0x02, b'h', b'i'],
        &Type::String,
        &Value::from("hi"),
        &[0xa2, b'h', b'i'],
    );
    check(
        &[0xda, 0x00, 0x02, b'h', b'i'],
        &Type::String,
        &Value::from("hi"),
        &[0xa2, b'h', b'i'],
    );
    check(
        &[0xdb, 0, 0, 0, 2, b'h', b'i'],
        &Type::String,
        &Value::from("hi"),
        &[0xa2, b'h', b'i'],
    );
    let long = "x".repeat(40);
    let mut bytes = vec![0xd9, 40];
    bytes.extend_from_slice(long.as_bytes());
    exact(&bytes, &Type::String, &Value::from(long));
}

#[test]
fn plain_unknown() {
    exact(&[0xd4, 0x00, 0x00], &Type::String, &Value::unknown());
    exact(&[0xd4, 0x00, 0x00], &Type::Dynamic, &Value::unknown());
    exact(
        &[0xd4, 0x00, 0x00],
        &Type::list(Type::String),
        &Value::unknown(),
    );
    // Any extension is an unknown.
    for bytes in [
        &[0xd5, 0x00, 0x00, 0x00][..],
        &[0xc7, 0x00, 0x05],
        &[0xc7, 0x03, 0x07, 1, 2, 3],
        &[0xd8, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        &[0xc8, 0x00, 0x01, 0x00, 0x00],
        &[0xc9, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00],
        // type 12 with at most one byte, or an empty map, is plain too.
        &[0xd4, 0x0c, 0x80],
        &[0xd5, 0x0c, 0x80, 0x00],
    ] {
        check(bytes, &Type::Number, &Value::unknown(), &[0xd4, 0x00, 0x00]);
    }
}

fn refined(r: Refinements) -> Value {
    Value::Unknown(r)
}

#[test]
fn refined_unknowns() {
    // 1: not null
    exact(
        &[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2],
        &Type::String,
        &refined(Refinements {
            not_null: true,
            ..Default::default()
        }),
    );
    // 1 = true: definitely null, which is just null.
    check(
        &[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc3],
        &Type::String,
        &Value::Null,
        &[0xc0],
    );
    // 2: string prefix (with not-null, as Terraform sends it)
    exact(
        &[0xc7, 0x07, 0x0c, 0x82, 0x01, 0xc2, 0x02, 0xa2, b'a', b'b'],
        &Type::String,
        &refined(Refinements {
            not_null: true,
            string_prefix: Some(s("ab")),
            ..Default::default()
        }),
    );
    exact(
        &[0xc7, 0x05, 0x0c, 0x81, 0x02, 0xa2, b'a', b'b'],
        &Type::String,
        &refined(Refinements {
            string_prefix: Some(s("ab")),
            ..Default::default()
        }),
    );
    // 3: number lower bound, inclusive
    exact(
        &[0xc7, 0x05, 0x0c, 0x81, 0x03, 0x92, 0x01, 0xc3],
        &Type::Number,
        &refined(Refinements {
            number_lower: Some((Number::Int(1), true)),
            ..Default::default()
        }),
    );
    // 4: number upper bound 0.5, exclusive
    exact(
        &[
            0xc7, 0x0d, 0x0c, 0x81, 0x04, 0x92, 0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0, 0xc2,
        ],
        &Type::Number,
        &refined(Refinements {
            number_upper: Some((Number::Float(0.5), false)),
            ..Default::default()
        }),
    );
    // 5: length lower bound (4-byte payload: fixext4)
    exact(
        &[0xd6, 0x0c, 0x81, 0x05, 0xcc, 0xc8],
        &Type::list(Type::String),
        &refined(Refinements {
            length_lower: Some(200),
            ..Default::default()
        }),
    );
    // 6: length upper bound
    exact(
        &[0xc7, 0x03, 0x0c, 0x81, 0x06, 0x0a],
        &Type::map(Type::String),
        &refined(Refinements {
            length_upper: Some(10),
            ..Default::default()
        }),
    );
    // several at once
    exact(
        &[0xc7, 0x07, 0x0c, 0x83, 0x01, 0xc2, 0x05, 0x01, 0x06, 0x03],
        &Type::set(Type::Number),
        &refined(Refinements {
            not_null: true,
            length_lower: Some(1),
            length_upper: Some(3),
            ..Default::default()
        }),
    );
    // unknown keys are skipped, whatever their value
    check(
        &[
            0xc7, 0x09, 0x0c, 0x82, 0x09, 0x92, 0x01, 0x81, 0xa0, 0xc0, 0x01, 0xc2,
        ],
        &Type::Bool,
        &Value::unknown_not_null(),
        &[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2],
    );
    // a zero lower bound and empty prefix say nothing
    check(
        &[0xc7, 0x03, 0x0c, 0x81, 0x05, 0x00],
        &Type::list(Type::Bool),
        &Value::unknown(),
        &[0xd4, 0, 0],
    );
    check(
        &[0xc7, 0x03, 0x0c, 0x81, 0x02, 0xa0],
        &Type::String,
        &Value::unknown(),
        &[0xd4, 0, 0],
    );
    // bytes after the map are ignored
    check(
        &[0xd6, 0x0c, 0x81, 0x01, 0xc2, 0x00],
        &Type::String,
        &Value::unknown_not_null(),
        &[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2],
    );
    // refinements of a dynamic unknown are dropped
    check(
        &[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2],
        &Type::Dynamic,
        &Value::unknown(),
        &[0xd4, 0, 0],
    );
    assert_eq!(
        ok(encode(&Value::unknown_not_null(), &Type::Dynamic)),
        [0xd4, 0, 0]
    );
}

#[test]
fn bad_refinements() {
    for (bytes, ty) in [
        // prefix on a number
        (
            &[0xc7, 0x05, 0x0c, 0x81, 0x02, 0xa2, b'a', b'b'][..],
            Type::Number,
        ),
        // number bound on a string
        (
            &[0xc7, 0x05, 0x0c, 0x81, 0x03, 0x92, 0x01, 0xc3],
            Type::String,
        ),
        // length bound on a string
        (&[0xc7, 0x03, 0x0c, 0x81, 0x05, 0x01], Type::String),
        // negative length
        (
            &[0xc7, 0x03, 0x0c, 0x81, 0x05, 0xff],
            Type::list(Type::String),
        ),
        // not a map
        (&[0xd5, 0x0c, 0x91, 0x01], Type::String),
        // non-integer key
        (&[0xc7, 0x04, 0x0c, 0x81, 0xa1, b'x', 0xc2], Type::String),
        // is-null not a bool
        (&[0xc7, 0x03, 0x0c, 0x81, 0x01, 0x01], Type::String),
        // bound not a pair
        (&[0xc7, 0x04, 0x0c, 0x81, 0x03, 0x91, 0x01], Type::Number),
        // map longer than the payload
        (&[0xc7, 0x03, 0x0c, 0x85, 0x01, 0xc2], Type::String),
    ] {
        let e = decode_err(bytes, &ty);
        assert!(
            matches!(
                e.kind,
                DecodeErrorKind::InvalidRefinement { .. }
                    | DecodeErrorKind::LengthExceedsInput { .. }
            ),
            "{bytes:02x?}: {e}"
        );
    }
    // oversize payload
    let mut big = vec![0xc8, 0x04, 0x01, 0x0c, 0x80];
    big.resize(5 + 1024, 0);
    assert!(matches!(
        decode_err(&big, &Type::String).kind,
        DecodeErrorKind::InvalidRefinement { .. }
    ));
    // Encoding a refinement that does not fit the type is an error.
    let r = refined(Refinements {
        string_prefix: Some(s("x")),
        ..Default::default()
    });
    let e = encode(&r, &Type::Number);
    assert!(matches!(
        e,
        Err(EncodeError {
            kind: EncodeErrorKind::InapplicableRefinement { .. },
            ..
        })
    ));
}

#[test]
fn integers_of_every_width() {
    let cases: &[(&[u8], Number, &[u8])] = &[
        (&[0x05], Number::Int(5), &[0x05]),
        (&[0x7f], Number::Int(127), &[0x7f]),
        (&[0xe0], Number::Int(-32), &[0xe0]),
        (&[0xff], Number::Int(-1), &[0xff]),
        (&[0xcc, 0xff], Number::Int(255), &[0xcc, 0xff]),
        (&[0xcc, 0x05], Number::Int(5), &[0x05]),
        (&[0xcd, 0x01, 0x00], Number::Int(256), &[0xcd, 0x01, 0x00]),
        (&[0xcd, 0x00, 0x05], Number::Int(5), &[0x05]),
        (
            &[0xce, 0x00, 0x01, 0x00, 0x00],
            Number::Int(65536),
            &[0xce, 0x00, 0x01, 0x00, 0x00],
        ),
        (
            &[0xcf, 0, 0, 0, 0x01, 0, 0, 0, 0],
            Number::Int(1 << 32),
            &[0xcf, 0, 0, 0, 0x01, 0, 0, 0, 0],
        ),
        (
            &[0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            Number::Int(i64::MAX),
            &[0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ),
        // u64 beyond i64: 2^63 is a float64 exactly; u64::MAX is not.
        (
            &[0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0],
            Number::Float(9_223_372_036_854_775_808.0),
            &[0xcb, 0x43, 0xe0, 0, 0, 0, 0, 0, 0],
        ),
        (
            &[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            Number::Decimal(s("18446744073709551615")),
            b"\xb418446744073709551615",
        ),
        (&[0xd0, 0x80], Number::Int(-128), &[0xd0, 0x80]),
        (&[0xd0, 0xdf], Number::Int(-33), &[0xd0, 0xdf]),
        (&[0xd0, 0x05], Number::Int(5), &[0x05]),
        (&[0xd1, 0xff, 0x7f], Number::Int(-129), &[0xd1, 0xff, 0x7f]),
        (
            &[0xd1, 0x80, 0x00],
            Number::Int(-32768),
            &[0xd1, 0x80, 0x00],
        ),
        (
            &[0xd2, 0xff, 0xff, 0x7f, 0xff],
            Number::Int(-32769),
            &[0xd2, 0xff, 0xff, 0x7f, 0xff],
        ),
        (
            &[0xd2, 0x80, 0, 0, 0],
            Number::Int(-(1 << 31)),
            &[0xd2, 0x80, 0, 0, 0],
        ),
        (
            &[0xd3, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff],
            Number::Int(-(1 << 31) - 1),
            &[0xd3, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff],
        ),
        (
            &[0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0],
            Number::Int(i64::MIN),
            &[0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0],
        ),
        (&[0xd3, 0, 0, 0, 0, 0, 0, 0, 0x05], Number::Int(5), &[0x05]),
    ];
    for (bytes, n, canonical) in cases {
        check(bytes, &Type::Number, &num(n.clone()), canonical);
    }
}

#[test]
fn floats() {
    // float32 1.5
    check(
        &[0xca, 0x3f, 0xc0, 0, 0],
        &Type::Number,
        &num(Number::Float(1.5)),
        &[0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0],
    );
    // float64 0.1 (exactly that binary value)
    exact(
        &[0xcb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a],
        &Type::Number,
        &num(Number::Float(0.1)),
    );
    // integral floats are integers
    check(
        &[0xcb, 0x40, 0, 0, 0, 0, 0, 0, 0],
        &Type::Number,
        &Value::from(2),
        &[0x02],
    );
    check(
        &[0xca, 0xc0, 0, 0, 0],
        &Type::Number,
        &Value::from(-2),
        &[0xfe],
    );
    // infinities are numbers in cty
    exact(
        &[0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0],
        &Type::Number,
        &num(Number::Float(f64::INFINITY)),
    );
    // NaN is not
    assert_eq!(
        decode_err(&[0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0], &Type::Number).kind,
        DecodeErrorKind::NotANumber
    );
    assert_eq!(
        decode_err(&[0xca, 0x7f, 0xc0, 0, 0], &Type::Number).kind,
        DecodeErrorKind::NotANumber
    );
    assert!(encode(&num(Number::Float(f64::NAN)), &Type::Number).is_err());
}

#[test]
fn decimal_string_numbers() {
    exact(b"\xa30.1", &Type::Number, &num(Number::Decimal(s("0.1"))));
    exact(
        b"\xa51e400",
        &Type::Number,
        &num(Number::Decimal(s("1e400"))),
    );
    exact(
        b"\xa8-1.5e-90",
        &Type::Number,
        &num(Number::Decimal(s("-1.5e-90"))),
    );
    // Non-canonical strings normalise; integers become integers.
    check(b"\xa212", &Type::Number, &Value::from(12), &[0x0c]);
    check(
        b"\xa50.100",
        &Type::Number,
        &num(Number::Decimal(s("0.1"))),
        b"\xa30.1",
    );
    check(
        b"\xa30.5",
        &Type::Number,
        &num(Number::Float(0.5)),
        &[0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0],
    );
    check(
        b"\xc4\x030.1",
        &Type::Number,
        &num(Number::Decimal(s("0.1"))),
        b"\xa30.1",
    );
    // A hand-built non-canonical Number encodes canonically.
    assert_eq!(
        ok(encode(&num(Number::Decimal(s("7.0"))), &Type::Number)),
        [0x07]
    );
    assert_eq!(ok(encode(&num(Number::Float(3.0)), &Type::Number)), [0x03]);
    assert!(matches!(
        decode_err(b"\xa3abc", &Type::Number).kind,
        DecodeErrorKind::InvalidNumber(_)
    ));
    assert!(matches!(
        encode(&num(Number::Decimal(s("abc"))), &Type::Number),
        Err(EncodeError {
            kind: EncodeErrorKind::InvalidNumber(_),
            ..
        })
    ));
}

/// `[bin("\"string\""), "hi"]` and the same with the type as str.
const DYN_BIN: &[u8] = b"\x92\xc4\x08\"string\"\xa2hi";
const DYN_STR: &[u8] = b"\x92\xa8\"string\"\xa2hi";

#[test]
fn dynamic_values() {
    let hi = Value::Dynamic(Box::new(Type::String), Box::new(Value::from("hi")));
    exact(DYN_BIN, &Type::Dynamic, &hi);
    check(DYN_STR, &Type::Dynamic, &hi, DYN_BIN);
    // Bare unknown and bare nil, before any unwrapping.
    exact(&[0xd4, 0, 0], &Type::Dynamic, &Value::unknown());
    exact(&[0xc0], &Type::Dynamic, &Value::Null);
    // Typed unknown and typed null inside the wrapper are kept.
    exact(
        b"\x92\xc4\x08\"string\"\xd4\x00\x00",
        &Type::Dynamic,
        &Value::Dynamic(Box::new(Type::String), Box::new(Value::unknown())),
    );
    exact(
        b"\x92\xc4\x08\"number\"\xc0",
        &Type::Dynamic,
        &Value::Dynamic(Box::new(Type::Number), Box::new(Value::Null)),
    );
    // A complex type.
    let ty = Type::list(Type::Number);
    exact(
        b"\x92\xc4\x11[\"list\",\"number\"]\x92\x01\x02",
        &Type::Dynamic,
        &Value::Dynamic(
            Box::new(ty),
            Box::new(Value::List(vec![1.into(), 2.into()])),
        ),
    );
    // An unwrapped value in a dynamic slot gets its inferred type.
    assert_eq!(ok(encode(&Value::from("hi"), &Type::Dynamic)), DYN_BIN);
    // A wrapped value in a concrete slot is written as the slot's type.
    assert_eq!(ok(encode(&hi, &Type::String)), b"\xa2hi");
    // Dynamic inside an object.
    let oty = Type::object([(s("v"), Type::Dynamic)]);
    let mut bytes = b"\x81\xa1v".to_vec();
    bytes.extend_from_slice(DYN_BIN);
    exact(
        &bytes,
        &oty,
        &Value::Object(BTreeMap::from([(s("v"), hi.clone())])),
    );
    exact(
        b"\x81\xa1v\xd4\x00\x00",
        &oty,
        &Value::Object(BTreeMap::from([(s("v"), Value::unknown())])),
    );
}

#[test]
fn bad_dynamic_values() {
    for bytes in [
        &b"\xa2hi"[..],
        b"\x93\xc4\x08\"string\"\xa2hi\xc0",
        b"\x91\xc4\x08\"string\"",
        b"\x92\x01\xa2hi",
        b"\x92\xc4\x05\"int\"\xa2hi",
        b"\x92\xc4\x08\"number\"\xa2hi",
    ] {
        let e = decode_err(bytes, &Type::Dynamic);
        assert!(
            matches!(
                e.kind,
                DecodeErrorKind::DynamicShape { .. }
                    | DecodeErrorKind::InvalidDynamicType(_)
                    | DecodeErrorKind::InvalidNumber(_)
            ),
            "{bytes:02x?}: {e}"
        );
    }
}

fn nested_type() -> Type {
    Type::object([
        (s("a"), Type::list(Type::String)),
        (s("b"), Type::set(Type::Number)),
        (s("c"), Type::map(Type::Bool)),
        (s("d"), Type::object([(s("x"), Type::String)])),
    ])
}

/// `{a: ["x"], b: [1, 2], c: {k: true}, d: {x: null}}`
const NESTED: &[u8] = b"\x84\xa1a\x91\xa1x\xa1b\x92\x01\x02\xa1c\x81\xa1k\xc3\xa1d\x81\xa1x\xc0";

fn nested_value() -> Value {
    Value::Object(BTreeMap::from([
        (s("a"), Value::List(vec!["x".into()])),
        (s("b"), Value::Set(vec![1.into(), 2.into()])),
        (s("c"), Value::Map(BTreeMap::from([(s("k"), true.into())]))),
        (
            s("d"),
            Value::Object(BTreeMap::from([(s("x"), Value::Null)])),
        ),
    ]))
}

#[test]
fn nested_objects() {
    exact(NESTED, &nested_type(), &nested_value());
    // Keys in any order; set order is kept as on the wire.
    let shuffled = b"\x84\xa1d\x81\xa1x\xc0\xa1b\x92\x02\x01\xa1c\x81\xa1k\xc3\xa1a\x91\xa1x";
    let v = ok(decode(shuffled, &nested_type()));
    assert_eq!(v.get_attr("b"), Some(&Value::Set(vec![2.into(), 1.into()])));
    // A missing attribute decodes as null; encoding writes it back.
    let missing = b"\x83\xa1a\x91\xa1x\xa1b\x92\x01\x02\xa1c\x81\xa1k\xc3";
    let v = ok(decode(missing, &nested_type()));
    assert_eq!(v.get_attr("d"), Some(&Value::Null));
    assert_eq!(
        ok(encode(&v, &nested_type())),
        b"\x84\xa1a\x91\xa1x\xa1b\x92\x01\x02\xa1c\x81\xa1k\xc3\xa1d\xc0"
    );
    // An absent attribute in the Value is written as nil.
    let mut partial = nested_value();
    if let Value::Object(m) = &mut partial {
        m.remove("d");
    }
    assert_eq!(
        ok(encode(&partial, &nested_type())),
        b"\x84\xa1a\x91\xa1x\xa1b\x92\x01\x02\xa1c\x81\xa1k\xc3\xa1d\xc0"
    );
    // Block-like shapes: list of objects and a tuple.
    let ty = Type::object([
        (
            s("pools"),
            Type::list(Type::object([(s("n"), Type::Number)])),
        ),
        (s("t"), Type::tuple(vec![Type::String, Type::Bool])),
    ]);
    exact(
        b"\x82\xa5pools\x92\x81\xa1n\x01\x81\xa1n\xd4\x00\x00\xa1t\x92\xa1x\xc2",
        &ty,
        &Value::Object(BTreeMap::from([
            (
                s("pools"),
                Value::List(vec![
                    Value::Object(BTreeMap::from([(s("n"), 1.into())])),
                    Value::Object(BTreeMap::from([(s("n"), Value::unknown())])),
                ]),
            ),
            (s("t"), Value::Tuple(vec!["x".into(), false.into()])),
        ])),
    );
}

#[test]
fn errors_name_the_path() {
    let ty = Type::object([(
        s("node_pools"),
        Type::map(Type::object([(s("min_size"), Type::Number)])),
    )]);
    let bytes = b"\x81\xaanode_pools\x81\xa6system\x81\xa8min_size\xa1x";
    let e = decode_err(bytes, &ty);
    assert_eq!(
        e.to_string(),
        r#"at node_pools["system"].min_size: invalid number: "x" is not a decimal number (expected digits with an optional sign, fraction and exponent, like -12.5e3)"#
    );
    let bytes = b"\x81\xaanode_pools\x81\xa6system\x81\xa8min_size\xc3";
    assert_eq!(
        decode_err(bytes, &ty).to_string(),
        r#"at node_pools["system"].min_size: expected number, found bool"#
    );
    let bytes = b"\x81\xaanode_pools\x81\xa6system\x81\xa5bogus\x01";
    assert_eq!(
        decode_err(bytes, &ty).to_string(),
        r#"at node_pools["system"]: unsupported attribute "bogus" (not in the object type)"#
    );
    let zones = Type::object([(s("zones"), Type::list(Type::String))]);
    assert_eq!(
        decode_err(b"\x81\xa5zones\x91\x01", &zones).to_string(),
        "at zones[0]: expected string, found integer"
    );
    // Encoding errors too.
    let v = Value::Object(BTreeMap::from([(s("zones"), Value::List(vec![1.into()]))]));
    match encode(&v, &zones) {
        Err(e) => assert_eq!(
            e.to_string(),
            "at zones[0]: value does not conform to the type: expected string, found number"
        ),
        Ok(b) => panic!("encoded {b:02x?}"),
    }
    let v = Value::Object(BTreeMap::from([(s("zone"), Value::Null)]));
    assert!(matches!(
        encode(&v, &zones),
        Err(EncodeError { kind: EncodeErrorKind::UnsupportedAttribute { ref name }, .. }) if name == "zone"
    ));
    assert!(matches!(
        encode(&Value::Tuple(vec![]), &Type::tuple(vec![Type::Bool])),
        Err(EncodeError {
            kind: EncodeErrorKind::TupleLength {
                expected: 1,
                found: 0
            },
            ..
        })
    ));
    assert!(encode(&Value::List(vec![]), &Type::set(Type::Bool)).is_err());
    assert!(encode(&Value::List(vec![1.into(), "x".into()]), &Type::Dynamic).is_err());
}

#[test]
fn malformed_input() {
    let e = |bytes: &[u8], ty: &Type| decode_err(bytes, ty).kind;
    assert_eq!(e(&[], &Type::String), DecodeErrorKind::UnexpectedEof);
    assert_eq!(
        e(&[0xc0, 0xc0], &Type::String),
        DecodeErrorKind::TrailingBytes { count: 1 }
    );
    assert_eq!(
        e(&[0x92, 0x01], &Type::list(Type::Number)),
        DecodeErrorKind::LengthExceedsInput {
            declared: 2,
            remaining: 1
        }
    );
    assert_eq!(
        e(&[0x91], &Type::list(Type::Number)),
        DecodeErrorKind::LengthExceedsInput {
            declared: 1,
            remaining: 0
        }
    );
    assert_eq!(
        e(&[0xdd, 0xff, 0xff, 0xff, 0xff], &Type::list(Type::Number)),
        DecodeErrorKind::LengthExceedsInput {
            declared: u64::from(u32::MAX),
            remaining: 0
        }
    );
    assert_eq!(
        e(&[0xdb, 0xff, 0xff, 0xff, 0xff, b'x'], &Type::String),
        DecodeErrorKind::LengthExceedsInput {
            declared: u64::from(u32::MAX),
            remaining: 1
        }
    );
    assert_eq!(
        e(&[0xcd, 0x01], &Type::Number),
        DecodeErrorKind::UnexpectedEof
    );
    assert_eq!(
        e(&[0xa1, 0xff], &Type::String),
        DecodeErrorKind::InvalidUtf8
    );
    assert!(matches!(
        e(&[0xc1], &Type::String),
        DecodeErrorKind::TypeMismatch { .. }
    ));
    assert!(matches!(
        e(&[0x01], &Type::String),
        DecodeErrorKind::TypeMismatch { .. }
    ));
    assert_eq!(
        e(b"\x82\xa1a\x01\xa1a\x02", &Type::map(Type::Number)),
        DecodeErrorKind::DuplicateKey { key: s("a") }
    );
    assert!(matches!(
        e(b"\x81\x01\x02", &Type::map(Type::Number)),
        DecodeErrorKind::NonStringKey { .. }
    ));
    assert_eq!(
        e(b"\x91\x01", &Type::tuple(vec![Type::Number, Type::Number])),
        DecodeErrorKind::TupleLength {
            expected: 2,
            found: 1
        }
    );
    // Nesting: 64 levels are fine, 65 are not.
    let ty = |n: usize| (0..n).fold(Type::Bool, |t, _| Type::list(t));
    let bytes = |n: usize| {
        let mut b = vec![0x91; n];
        b.push(0xc3);
        b
    };
    assert!(decode(&bytes(64), &ty(64)).is_ok());
    assert_eq!(
        e(&bytes(65), &ty(65)),
        DecodeErrorKind::TooDeep { limit: MAX_DEPTH }
    );
    // Nested dynamic wrappers count too.
    let mut dynamic = Vec::new();
    for _ in 0..100 {
        dynamic.extend_from_slice(b"\x92\xc4\x09\"dynamic\"");
    }
    dynamic.push(0xc3);
    assert_eq!(
        e(&dynamic, &Type::Dynamic),
        DecodeErrorKind::TooDeep { limit: MAX_DEPTH }
    );
    // Encoding depth is bounded too.
    let deep = (0..100).fold(Value::Bool(true), |v, _| Value::List(vec![v]));
    assert!(matches!(
        encode(&deep, &ty(100)),
        Err(EncodeError {
            kind: EncodeErrorKind::TooDeep { .. },
            ..
        })
    ));
}

/// The vectors above, for the fuzz seed corpus (see `fuzz/`): each is
/// `(type JSON, msgpack bytes)`.
#[test]
fn seed_vectors_decode() {
    for (ty, bytes) in seed_vectors() {
        let ty = ok(Type::from_json_bytes(ty.as_bytes()));
        let v = ok(decode(&bytes, &ty));
        assert_eq!(ok(decode(&ok(encode(&v, &ty)), &ty)), v);
    }
}

pub(crate) fn seed_vectors() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (r#""string""#, vec![0xc0]),
        (r#""string""#, vec![0xd4, 0, 0]),
        (
            r#""string""#,
            vec![0xc7, 0x07, 0x0c, 0x82, 0x01, 0xc2, 0x02, 0xa2, b'a', b'b'],
        ),
        (
            r#""number""#,
            vec![
                0xc7, 0x0d, 0x0c, 0x81, 0x04, 0x92, 0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0, 0xc2,
            ],
        ),
        (
            r#"["list","string"]"#,
            vec![0xc7, 0x07, 0x0c, 0x83, 0x01, 0xc2, 0x05, 0x01, 0x06, 0x03],
        ),
        (r#""number""#, vec![0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0]),
        (
            r#""number""#,
            vec![0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ),
        (r#""number""#, vec![0xca, 0x3f, 0xc0, 0, 0]),
        (r#""number""#, b"\xa8-1.5e-90".to_vec()),
        (r#""dynamic""#, DYN_BIN.to_vec()),
        (r#""dynamic""#, DYN_STR.to_vec()),
        (
            r#""dynamic""#,
            b"\x92\xc4\x11[\"list\",\"number\"]\x92\x01\x02".to_vec(),
        ),
        (
            r#"["object",{"a":["list","string"],"b":["set","number"],"c":["map","bool"],"d":["object",{"x":"string"}]}]"#,
            NESTED.to_vec(),
        ),
        (
            r#"["object",{"pools":["list",["object",{"n":"number"}]],"t":["tuple",["string","bool"]]}]"#,
            b"\x82\xa5pools\x92\x81\xa1n\x01\x81\xa1n\xd4\x00\x00\xa1t\x92\xa1x\xc2".to_vec(),
        ),
    ]
}
