//! Planning micro-benchmarks: `ha_cluster::plan_for()` and
//! `managed_database::plan_for()` on AWS (pure functions, no cloud call: the AWS
//! adapter lists the inventory) for a production configuration, as a create (no
//! prior state) and as a no-op update (prior state = what the apply returned).
//!
//! `cargo bench --bench planning` (add `--profile dev` on a shared machine to reuse
//! the debug build; numbers are then unoptimised).

mod fixtures;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use paved::framework::PlanResponse;
use paved_value::Value;

type PlanFn = fn(&Value, &Value, &Value) -> PlanResponse;

fn bench_resource(c: &mut Criterion, name: &str, plan: PlanFn, config: Value, applied: Value) {
    // The update really is a no-op: the benchmark measures the common case of a
    // `terraform plan` with nothing to do.
    let again = plan(&applied, &applied, &config);
    assert!(
        !again.diagnostics.has_errors(),
        "{name}: {:#?}",
        again.diagnostics
    );
    assert!(
        again.requires_replace.is_empty(),
        "{name}: {:?}",
        again.requires_replace
    );
    assert_eq!(
        again.planned_state, applied,
        "{name}: the plan after apply is empty"
    );

    let mut group = c.benchmark_group(format!("plan/{name}"));
    group.bench_function("create", |b| {
        b.iter(|| {
            plan(
                black_box(&Value::Null),
                black_box(&config),
                black_box(&config),
            )
        })
    });
    group.bench_function("noop_update", |b| {
        b.iter(|| plan(black_box(&applied), black_box(&applied), black_box(&config)))
    });
    group.finish();
}

fn planning(c: &mut Criterion) {
    bench_resource(
        c,
        "ha_cluster",
        fixtures::plan_cluster,
        fixtures::cluster_config(),
        fixtures::cluster_applied(),
    );
    bench_resource(
        c,
        "managed_database",
        fixtures::plan_database,
        fixtures::database_config(),
        fixtures::database_applied(),
    );
}

criterion_group! {
    name = benches;
    config = fixtures::criterion();
    targets = planning
}
criterion_main!(benches);
