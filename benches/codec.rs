//! Codec micro-benchmarks: the msgpack round trip of a `paved_ha_cluster` value (what
//! every PlanResourceChange and ApplyResourceChange decodes and encodes), and the
//! JSON state upgrade Terraform asks for before every refresh
//! (UpgradeResourceState: stored JSON in, msgpack out).
//!
//! `cargo bench --bench codec` (add `--profile dev` on a shared machine to reuse
//! the debug build; numbers are then unoptimised).

mod fixtures;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use paved::resources::ha_cluster;
use paved_value::{json, msgpack, Value};

/// The UpgradeResourceState path of the protocol service for the current schema
/// version: parse the stored JSON, decode it against the schema's type, encode msgpack.
fn upgrade_state(raw: &[u8], ty: &paved_value::Type) -> Vec<u8> {
    let parsed: serde_json::Value = serde_json::from_slice(raw).expect("stored state is JSON");
    let bytes = serde_json::to_vec(&parsed).expect("JSON re-encodes");
    let value = json::decode(&bytes, ty).expect("state matches the schema");
    msgpack::encode(&value, ty).expect("state encodes")
}

fn codec(c: &mut Criterion) {
    let ty = ha_cluster::schema().value_type();
    let planned = fixtures::cluster_planned();
    let applied = fixtures::cluster_applied();

    let mut group = c.benchmark_group("codec/ha_cluster");
    for (name, value) in [("planned", &planned), ("applied", &applied)] {
        let bytes = msgpack::encode(value, &ty).expect("encode");
        let back: Value = msgpack::decode(&bytes, &ty).expect("decode");
        assert_eq!(
            &back, value,
            "the msgpack round trip keeps the {name} value"
        );
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(format!("msgpack_decode_encode/{name}"), |b| {
            b.iter(|| {
                let v = msgpack::decode(black_box(&bytes), &ty).expect("decode");
                msgpack::encode(black_box(&v), &ty).expect("encode")
            })
        });
    }

    let stored = json::encode(&applied, &ty).expect("state as JSON");
    let upgraded = upgrade_state(&stored, &ty);
    assert_eq!(
        msgpack::decode(&upgraded, &ty).expect("decode upgraded"),
        applied,
        "the upgrade keeps the state"
    );
    group.throughput(Throughput::Bytes(stored.len() as u64));
    group.bench_function("json_state_upgrade/applied", |b| {
        b.iter(|| upgrade_state(black_box(&stored), &ty))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = fixtures::criterion();
    targets = codec
}
criterion_main!(benches);
