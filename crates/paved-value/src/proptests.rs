//! Property tests: round trips through both encodings for arbitrary
//! (type, conforming value) pairs, and decoders that never panic.

use std::collections::BTreeSet;

use proptest::prelude::*;

use crate::{json, msgpack, Number, ObjectType, Refinements, Type, Value};

fn arb_type() -> impl Strategy<Value = Type> {
    let leaf = prop_oneof![
        3 => Just(Type::Bool),
        3 => Just(Type::Number),
        3 => Just(Type::String),
        1 => Just(Type::Dynamic),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            prop::collection::btree_map("[a-z_]{1,6}", (inner.clone(), any::<bool>()), 0..4)
                .prop_map(|m| {
                    let optional: BTreeSet<String> = m
                        .iter()
                        .filter(|(_, (_, o))| *o)
                        .map(|(k, _)| k.clone())
                        .collect();
                    Type::Object(ObjectType {
                        attributes: m.into_iter().map(|(k, (t, _))| (k, t)).collect(),
                        optional,
                    })
                }),
            prop::collection::vec(inner, 0..3).prop_map(Type::Tuple),
        ]
    })
}

/// Concrete types for values in dynamic slots; shallower further down.
fn arb_concrete_type(depth: u32) -> BoxedStrategy<Type> {
    if depth >= 2 {
        prop_oneof![Just(Type::Bool), Just(Type::Number), Just(Type::String)].boxed()
    } else {
        arb_type().boxed()
    }
}

fn arb_number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::Int),
        (-1000i64..1000).prop_map(Number::Int),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Number::from),
        ("-?[0-9]{1,30}(\\.[0-9]{1,20})?", -500i64..500)
            .prop_filter_map("parses", |(m, e)| Number::parse(&format!("{m}e{e}")).ok()),
    ]
}

fn arb_refinements(ty: &Type) -> BoxedStrategy<Refinements> {
    let base = any::<bool>().prop_map(|not_null| Refinements {
        not_null,
        ..Default::default()
    });
    match ty {
        Type::Dynamic => Just(Refinements::default()).boxed(),
        Type::String => (base, proptest::option::of("\\PC{1,8}"))
            .prop_map(|(r, p)| Refinements {
                string_prefix: p,
                ..r
            })
            .boxed(),
        Type::Number => (
            base,
            proptest::option::of((arb_number(), any::<bool>())),
            proptest::option::of((arb_number(), any::<bool>())),
        )
            .prop_map(|(r, lo, hi)| Refinements {
                number_lower: lo,
                number_upper: hi,
                ..r
            })
            .boxed(),
        Type::List(_) | Type::Set(_) | Type::Map(_) => (
            base,
            proptest::option::of(1u64..u64::MAX),
            proptest::option::of(any::<u64>()),
        )
            .prop_map(|(r, lo, hi)| Refinements {
                length_lower: lo,
                length_upper: hi,
                ..r
            })
            .boxed(),
        _ => base.boxed(),
    }
}

/// A value conforming to `ty` (with every object attribute present).
fn arb_value(ty: &Type, unknowns: bool, depth: u32) -> BoxedStrategy<Value> {
    let known = arb_known(ty, unknowns, depth);
    if unknowns {
        prop_oneof![
            1 => Just(Value::Null),
            1 => arb_refinements(ty).prop_map(Value::Unknown),
            4 => known,
        ]
        .boxed()
    } else {
        prop_oneof![1 => Just(Value::Null), 5 => known].boxed()
    }
}

fn arb_known(ty: &Type, unknowns: bool, depth: u32) -> BoxedStrategy<Value> {
    match ty {
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Number => arb_number().prop_map(Value::Number).boxed(),
        Type::String => "\\PC{0,12}".prop_map(Value::String).boxed(),
        Type::Dynamic => arb_concrete_type(depth)
            .prop_flat_map(move |t| {
                let tb = Box::new(t.clone());
                arb_value(&t, unknowns, depth + 1)
                    .prop_map(move |v| Value::Dynamic(tb.clone(), Box::new(v)))
            })
            .boxed(),
        Type::List(et) => prop::collection::vec(arb_value(et, unknowns, depth + 1), 0..4)
            .prop_map(Value::List)
            .boxed(),
        Type::Set(et) => prop::collection::vec(arb_value(et, unknowns, depth + 1), 0..4)
            .prop_map(Value::Set)
            .boxed(),
        Type::Map(et) => {
            prop::collection::btree_map("\\PC{0,5}", arb_value(et, unknowns, depth + 1), 0..4)
                .prop_map(Value::Map)
                .boxed()
        }
        Type::Tuple(ts) => ts
            .iter()
            .map(|t| arb_value(t, unknowns, depth + 1))
            .collect::<Vec<_>>()
            .prop_map(Value::Tuple)
            .boxed(),
        Type::Object(ot) => ot
            .attributes
            .iter()
            .map(|(k, t)| {
                let k = k.clone();
                arb_value(t, unknowns, depth + 1).prop_map(move |v| (k.clone(), v))
            })
            .collect::<Vec<_>>()
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect()))
            .boxed(),
    }
}

fn typed_value(unknowns: bool) -> impl Strategy<Value = (Type, Value)> {
    arb_type().prop_flat_map(move |t| {
        let v = arb_value(&t, unknowns, 0);
        (Just(t), v)
    })
}

/// Types for the never-panic tests.
fn fuzz_types() -> Vec<Type> {
    vec![
        Type::String,
        Type::Number,
        Type::Dynamic,
        Type::list(Type::Dynamic),
        Type::map(Type::set(Type::Number)),
        Type::tuple(vec![Type::Bool, Type::String]),
        Type::object([
            ("a".to_string(), Type::list(Type::String)),
            ("b".to_string(), Type::Dynamic),
            (
                "c".to_string(),
                Type::set(Type::object([("x".to_string(), Type::Number)])),
            ),
        ]),
    ]
}

proptest! {

    #[test]
    fn type_json_round_trip(t in arb_type()) {
        prop_assert_eq!(Type::from_json_bytes(&t.to_json_bytes()), Ok(t));
    }

    #[test]
    fn number_text_round_trip(n in arb_number()) {
        prop_assert!(n.is_canonical(), "{:?}", n);
        let text = n.to_string();
        let back = Number::parse(&text);
        prop_assert_eq!(back.as_ref(), Ok(&n), "{}", text);
        // Structurally equal, too: canonical forms are unique.
        prop_assert_eq!(format!("{:?}", back), format!("{:?}", Ok::<_, ()>(n)));
    }

    #[test]
    fn msgpack_round_trip((t, v) in typed_value(true)) {
        let bytes = msgpack::encode(&v, &t).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = msgpack::decode(&bytes, &t).map_err(|e| TestCaseError::fail(format!("{e} in {bytes:02x?}")))?;
        prop_assert_eq!(&back, &v);
        // Canonical encoding is stable.
        let again = msgpack::encode(&back, &t).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(again, bytes);
        prop_assert!(v.conforms_to(&t));
    }

    #[test]
    fn json_round_trip((t, v) in typed_value(false)) {
        prop_assert!(v.is_wholly_known());
        let bytes = json::encode(&v, &t).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = json::decode(&bytes, &t)
            .map_err(|e| TestCaseError::fail(format!("{e} in {}", String::from_utf8_lossy(&bytes))))?;
        prop_assert_eq!(&back, &v);
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        for t in fuzz_types() {
            let _ = msgpack::decode(&bytes, &t);
            let _ = json::decode(&bytes, &t);
        }
    }

    #[test]
    fn mutated_encodings_never_panic(
        (t, v) in typed_value(true),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut bytes = msgpack::encode(&v, &t).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (i, b) in edits {
            let i = i.index(bytes.len());
            bytes[i] = b;
        }
        if let Ok(v2) = msgpack::decode(&bytes, &t) {
            // Whatever decodes must re-encode and decode to itself.
            let again = msgpack::encode(&v2, &t).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(msgpack::decode(&again, &t).ok(), Some(v2));
        }
    }
}
