//! Lifecycle tests of `paved_managed_database` through the `Resource` trait, the
//! way Terraform drives it (plan, apply, read, import), against the scripted fake
//! cloud of [`super::fake`]: create and the empty plan after it, failures mid-create
//! with partial state and resumption, StopProvider, throttled polls, conflicts,
//! in-place updates, replicas, drift, deletion protection, destroy with a final
//! snapshot, restores and import.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use paved_value::Value;

use super::fake::{ScriptedDatabase, RESTORABLE_TIME, SUBNETS, VPC};
use super::schema;
use crate::diag::Diagnostics;
use crate::ports::database::ModifyRequest;
use crate::ports::harness::{
    assert_known_values_kept, assert_no_errors, error_at, errors, Tf as Harness,
};
use crate::stack::schema_testing::{config_of, get, map, num, obj, strings};
use crate::stack::BackendError;

const STACK: &str = "orders";

/// The application's nodes, admitted to the database port.
const NODES: &str = "sg-nodes";

fn config(pairs: Vec<(&str, Value)>) -> Value {
    config_of(&schema().block, pairs)
}

/// Terraform, the resource and the fake cloud behind it.
type Tf = Harness<ScriptedDatabase>;

impl Tf {
    fn new() -> Self {
        let fake = ScriptedDatabase::new();
        Tf::with(super::resource::resource(fake.factory()), fake)
    }
}

fn permanent(operation: &str) -> BackendError {
    BackendError::Permanent {
        operation: operation.into(),
        message: "InsufficientDBInstanceCapacity".into(),
        hint: "Pick another instance class".into(),
    }
}

/// The network: the fake's three subnets, the nodes' security group admitted.
fn network() -> Value {
    obj(vec![
        ("vpc_id", VPC.into()),
        ("subnet_ids", strings(&SUBNETS)),
        ("allowed_security_group_ids", strings(&[NODES])),
        ("allowed_cidrs", Value::Null),
    ])
}

/// A production database (the profile's defaults: Multi-AZ, one replica, 14 days
/// of backups, deletion protection, a final snapshot).
fn production() -> Value {
    config(vec![("name", STACK.into()), ("network", network())])
}

/// `base` with some top-level attributes replaced.
fn with(base: &Value, pairs: Vec<(&str, Value)>) -> Value {
    let mut out = base.clone();
    if let Value::Object(attrs) = &mut out {
        for (k, v) in pairs {
            assert!(attrs.contains_key(k), "{k} is not in the schema");
            attrs.insert(k.to_owned(), v);
        }
    }
    out
}

/// A production database without deletion protection.
fn unprotected() -> Value {
    with(&production(), vec![("deletion_protection", false.into())])
}

/// The `backup` block with `days` of retention.
fn backup(days: i64) -> Value {
    obj(vec![
        ("retention_days", num(days)),
        ("window", Value::Null),
        ("copy_to_region", Value::Null),
    ])
}

/// The `restore` block.
fn restore(
    snapshot_id: Option<&str>,
    source: Option<&str>,
    time: Option<&str>,
    latest: bool,
) -> Value {
    let text = |v: Option<&str>| v.map_or(Value::Null, Value::from);
    obj(vec![
        ("snapshot_id", text(snapshot_id)),
        ("source_db_instance_id", text(source)),
        ("restore_time", text(time)),
        (
            "use_latest_restorable_time",
            if latest { true.into() } else { Value::Null },
        ),
    ])
}

/// The calls a production create makes, in order.
const CREATE_CALLS: [&str; 6] = [
    "ensure_encryption_key",
    "ensure_subnet_group",
    "ensure_security_group",
    "ensure_parameter_group",
    "ensure_instance",
    "ensure_replica 0",
];

#[tokio::test]
async fn create_converges_in_dependency_order_and_the_plan_after_it_is_empty() {
    let tf = Tf::new();
    let cfg = production();
    let (planned, out) = tf.plan_apply(&Value::Null, &cfg).await;
    assert_no_errors(&out.diagnostics);
    let state = out.new_state;
    assert!(state.is_wholly_known(), "{state:#?}");
    assert!(state.conforms_to(&schema().value_type()));
    assert_known_values_kept(&planned, &state, "");
    assert_eq!(tf.fake.calls(), CREATE_CALLS);

    // What the cloud holds.
    let instance = tf.fake.instance(STACK).expect("the instance exists");
    assert_eq!(instance.status, "available");
    assert!(instance.multi_az);
    assert!(instance.deletion_protection);
    assert_eq!(instance.backup_retention_days, 14);
    assert_eq!(instance.instance_class, "db.m6g.large");
    assert_eq!(instance.engine_version, "16.4", "RDS picks the minor");
    let replicas = tf.fake.replicas(STACK);
    assert_eq!(replicas.len(), 1);
    assert_ne!(replicas[&0].zone, instance.zone, "the replica is elsewhere");
    assert_eq!(
        tf.fake
            .parameters(STACK)
            .get("rds.force_ssl")
            .map(String::as_str),
        Some("1"),
        "TLS is enforced"
    );
    let sg = tf.fake.security_group(STACK).expect("the security group");
    assert_eq!(sg.allowed_security_group_ids, [NODES]);
    assert!(sg.allowed_cidrs.is_empty());

    // The instance was made with the groups and the key made before it.
    let requests = tf.fake.instance_requests();
    assert_eq!(requests.len(), 1);
    let req = &requests[0];
    let components = tf.fake.components(STACK);
    assert_eq!(req.subnet_group_id, components["subnet_group"].id);
    assert_eq!(req.security_group_id, components["security_group"].id);
    assert_eq!(req.parameter_group_id, "paved-orders-postgres16");
    assert_eq!(
        Value::from(req.encryption_key.as_str()),
        *get(&state, "encryption_key_arn")
    );
    assert_eq!(
        tf.fake.instance_key(STACK),
        Some(req.encryption_key.clone())
    );
    assert!(req.encryption_key.starts_with("arn:aws:kms:"));

    // The state shows the cloud's outputs (and never a password).
    assert_eq!(get(&state, "id"), &Value::from(STACK));
    assert_eq!(
        get(&state, "endpoint"),
        &Value::from(instance.endpoint.as_str())
    );
    assert_eq!(get(&state, "port"), &num(5432));
    assert_eq!(
        get(&state, "master_secret_arn"),
        &Value::from(instance.master_secret_arn.as_str())
    );
    assert_eq!(
        get(&state, "reader_endpoints"),
        &strings(&[replicas[&0].endpoint.as_str()])
    );
    assert_eq!(
        get(&state, "replica_status"),
        &map(vec![("orders-replica-0", "available".into())])
    );
    assert_eq!(
        get(&state, "latest_restorable_time"),
        &Value::from(RESTORABLE_TIME)
    );
    assert_eq!(get(&state, "engine_version"), &Value::from("16"));
    tf.assert_inventory_matches_cloud(&state);
    tf.assert_no_duplicates();

    // A refresh right after changes nothing, in one call; the plan is empty.
    tf.fake.clear_calls();
    let read = tf.read(&state).await;
    assert_eq!(read, state, "read right after apply changes nothing");
    assert_eq!(tf.fake.calls(), ["read_stack"]);
    tf.assert_no_changes(&state, &cfg).await;

    // The same apply again makes every call and creates nothing.
    tf.fake.clear_calls();
    let (planned, out) = tf.plan_apply(&state, &cfg).await;
    assert_no_errors(&out.diagnostics);
    assert_known_values_kept(&planned, &out.new_state, "");
    assert_eq!(tf.fake.calls(), CREATE_CALLS, "no modify_instance either");
    tf.assert_no_duplicates();
    assert_eq!(tf.fake.components(STACK), components);
}

#[tokio::test]
async fn a_failure_mid_create_returns_what_exists_and_the_next_apply_resumes() {
    let mut tf = Tf::new();
    let cfg = production();
    let out = tf
        .create_failing(&cfg, "ensure_instance", permanent("CreateDBInstance"))
        .await;
    let message = errors(&out.diagnostics);
    assert!(
        message.contains("Creating the database failed"),
        "{message}"
    );
    assert!(message.contains("CreateDBInstance failed"), "{message}");
    assert!(
        message.contains("terraform untaint paved_managed_database.<NAME>"),
        "{message}"
    );
    assert!(
        message.contains("paved will refuse that destroy"),
        "{message}"
    );
    let partial = out.new_state;
    assert!(!partial.is_null(), "what exists must stay in the state");
    assert!(partial.conforms_to(&schema().value_type()));
    tf.assert_inventory_matches_cloud(&partial);
    let ids = Tf::ids(&partial);
    for key in [
        "kms_key",
        "subnet_group",
        "security_group",
        "parameter_group",
    ] {
        assert!(!ids[key].is_null(), "{key} exists but has no id");
    }
    for key in ["instance", "replica.0", "master_secret"] {
        assert!(ids[key].is_null(), "{key} does not exist but has an id");
    }
    assert!(get(&partial, "id").is_null());
    assert!(get(&partial, "encryption_key_arn")
        .as_str()
        .is_some_and(|a| a.starts_with("arn:aws:kms:")));
    assert!(tf.fake.instance(STACK).is_none());

    // After `terraform untaint`, the next apply is an update from the partial
    // state: it adopts what exists and makes the rest.
    let state = tf.resume(&partial, &cfg).await;
    assert_eq!(get(&state, "id"), &Value::from(STACK));
    for key in ["kms_key", "subnet_group", "instance", "replica.0"] {
        assert_eq!(tf.fake.creations(STACK, key), 1, "{key}");
    }
}

#[tokio::test]
async fn a_failure_on_any_call_keeps_what_the_earlier_calls_made() {
    // Fail each call of a create in turn; every time, the partial state lists
    // exactly what exists, and a second apply from it converges without duplicates.
    let cfg = production();
    let calls = {
        let tf = Tf::new();
        tf.create(&cfg).await;
        tf.fake.calls().len()
    };
    assert_eq!(calls, CREATE_CALLS.len());
    for position in 1..=calls {
        Tf::new().create_failing_at(position, &cfg, STACK).await;
    }
}

#[tokio::test]
async fn a_create_whose_state_was_lost_adopts_the_stack_by_its_tags() {
    let tf = Tf::new();
    let cfg = production();
    let out = tf
        .create_failing(
            &cfg,
            "ensure_replica",
            permanent("CreateDBInstanceReadReplica"),
        )
        .await;
    assert!(out.diagnostics.has_errors());
    assert!(tf.fake.instance(STACK).is_some());
    // Terraform crashed before saving the partial state: the next create starts
    // from nothing and finds the stack.
    let state = tf.create(&cfg).await;
    tf.assert_no_duplicates();
    tf.assert_inventory_matches_cloud(&state);
    assert_eq!(tf.fake.replicas(STACK).len(), 1);
}

#[tokio::test]
async fn stop_provider_cancels_the_wait_promptly_and_keeps_the_instance() {
    let mut tf = Tf::new();
    tf.fake.stay_pending(true);
    let cfg = production();
    let plan = tf.plan(&Value::Null, &cfg).await;
    let cancel = tf.ctx.cancel.clone();
    let (out, cancelled_at) =
        tokio::join!(tf.apply(&Value::Null, &plan.planned_state, &cfg), async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            cancel.cancel();
            Instant::now()
        });
    let took = cancelled_at.elapsed();
    assert!(
        took < Duration::from_millis(500),
        "returned {took:?} after the stop"
    );
    let message = errors(&out.diagnostics);
    assert!(
        message.contains("stopped while waiting for the database to become available"),
        "{message}"
    );
    let partial = out.new_state;
    tf.assert_inventory_matches_cloud(&partial);
    assert!(
        !Tf::ids(&partial)["instance"].is_null(),
        "the instance being created is kept"
    );
    assert!(
        !tf.fake
            .calls()
            .iter()
            .any(|c| c.starts_with("ensure_replica")),
        "nothing starts after the stop"
    );
    // The next apply (after untaint) waits for the same instance.
    tf.resume(&partial, &cfg).await;
    assert_eq!(tf.fake.creations(STACK, "instance"), 1);
}

#[tokio::test]
async fn throttled_status_polls_are_retried_inside_the_wait() {
    let tf = Tf::new();
    tf.fake.throttle_polls(3);
    let state = tf.create(&production()).await;
    assert_eq!(tf.fake.throttled_polls(), 3);
    // Three throttled polls, then three per wait (two pending, one available) for
    // the instance and the replica.
    assert_eq!(tf.fake.polls(), 3 + 2 * 3);
    assert!(state.is_wholly_known());
    tf.assert_no_duplicates();
}

#[tokio::test]
async fn the_inventory_shows_the_zone_each_copy_runs_in() {
    // The schema documents the inventory's `zone` as "the zone it lives in, once
    // known": the instance's and the replicas' zones are known after apply.
    let tf = Tf::new();
    let state = tf.create(&production()).await;
    let zones: BTreeMap<String, Value> = get(&state, "inventory")
        .as_list()
        .unwrap_or_default()
        .iter()
        .map(|row| {
            (
                get(row, "key").as_str().unwrap_or_default().to_owned(),
                get(row, "zone").clone(),
            )
        })
        .collect();
    let cloud = tf.fake.components(STACK);
    for key in ["instance", "replica.0"] {
        let zone = cloud[key]
            .zone
            .as_deref()
            .expect("the cloud knows the zone");
        assert_eq!(zones[key], Value::from(zone), "{key}: {zones:?}");
    }
    assert!(zones["subnet_group"].is_null(), "regional");
}

#[tokio::test]
async fn an_instance_of_the_same_name_outside_paved_is_a_conflict() {
    let tf = Tf::new();
    tf.fake.add_foreign_instance(STACK);
    let (_, out) = tf.plan_apply(&Value::Null, &production()).await;
    let message = errors(&out.diagnostics);
    assert!(
        message.contains("RDS instance orders already exists but is not part of stack \"orders\""),
        "{message}"
    );
    assert!(message.contains("choose another name"), "{message}");
    assert!(tf.fake.instance(STACK).is_none(), "nothing was adopted");
    tf.assert_inventory_matches_cloud(&out.new_state);
}

#[tokio::test]
async fn an_in_place_update_modifies_the_instance_and_the_next_plan_is_empty() {
    let tf = Tf::new();
    let state = tf.create(&production()).await;
    tf.fake.clear_calls();
    let cfg = with(
        &production(),
        vec![
            ("backup", backup(21)),
            ("instance_class", "db.m6g.xlarge".into()),
        ],
    );
    let (planned, out) = tf.plan_apply(&state, &cfg).await;
    assert_no_errors(&out.diagnostics);
    assert_known_values_kept(&planned, &out.new_state, "");
    let calls = tf.fake.calls();
    let at = |name: &str| {
        calls
            .iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("no call {name} in {calls:?}"))
    };
    assert!(at("modify_instance") > at("ensure_instance"), "{calls:?}");
    assert!(at("ensure_replica 0") > at("modify_instance"), "{calls:?}");
    assert_eq!(
        tf.fake.modifications(),
        [ModifyRequest {
            instance_class: Some("db.m6g.xlarge".to_owned()),
            backup_retention_days: Some(21),
            ..ModifyRequest::default()
        }]
    );
    let instance = tf.fake.instance(STACK).expect("the instance");
    assert_eq!(instance.instance_class, "db.m6g.xlarge");
    assert_eq!(instance.backup_retention_days, 21);
    assert_eq!(instance.status, "available");
    assert_eq!(tf.fake.creations(STACK, "instance"), 1, "not replaced");
    tf.assert_no_duplicates();
    let state = out.new_state;
    assert_eq!(get(&state, "backup.retention_days"), &num(21));
    assert_eq!(get(&state, "instance_class"), &Value::from("db.m6g.xlarge"));
    tf.assert_no_changes(&state, &cfg).await;
    tf.assert_no_changes(&tf.read(&state).await, &cfg).await;
}

#[tokio::test]
async fn replicas_are_added_each_in_its_own_zone_and_removed_highest_first() {
    let tf = Tf::new();
    let two = with(&production(), vec![("read_replicas", num(2))]);
    let state = tf.create(&two).await;
    let instance = tf.fake.instance(STACK).expect("the instance");
    let replicas = tf.fake.replicas(STACK);
    let mut zones: Vec<&str> = replicas.values().map(|r| r.zone.as_str()).collect();
    zones.push(instance.zone.as_str());
    zones.sort_unstable();
    zones.dedup();
    assert_eq!(zones.len(), 3, "every copy in its own zone: {replicas:?}");
    assert_eq!(
        get(&state, "replica_status"),
        &map(vec![
            ("orders-replica-0", "available".into()),
            ("orders-replica-1", "available".into()),
        ])
    );

    tf.fake.clear_calls();
    let none = with(&production(), vec![("read_replicas", num(0))]);
    let (planned, out) = tf.plan_apply(&state, &none).await;
    assert_no_errors(&out.diagnostics);
    assert_known_values_kept(&planned, &out.new_state, "");
    let deletes: Vec<String> = tf
        .fake
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("delete_replica"))
        .collect();
    assert_eq!(deletes, ["delete_replica 1", "delete_replica 0"]);
    assert!(tf.fake.replicas(STACK).is_empty());
    let state = out.new_state;
    assert_eq!(get(&state, "reader_endpoints"), &Value::List(Vec::new()));
    tf.assert_inventory_matches_cloud(&state);
    tf.assert_no_changes(&state, &none).await;
}

#[tokio::test]
async fn refresh_shows_backup_retention_changed_outside_paved_and_apply_restores_it() {
    let tf = Tf::new();
    let cfg = production();
    let state = tf.create(&cfg).await;
    tf.fake
        .change_instance_by_hand(STACK, |i| i.backup_retention_days = 3);
    let read = tf.read(&state).await;
    assert_eq!(get(&read, "backup.retention_days"), &num(3));
    let plan = tf.plan_in_place(&read, &cfg).await;
    assert_eq!(get(&plan.planned_state, "backup.retention_days"), &num(14));
    tf.fake.clear_calls();
    let out = tf.apply(&read, &plan.planned_state, &cfg).await;
    assert_no_errors(&out.diagnostics);
    assert_known_values_kept(&plan.planned_state, &out.new_state, "");
    assert_eq!(
        tf.fake.modifications(),
        [ModifyRequest {
            backup_retention_days: Some(14),
            ..ModifyRequest::default()
        }]
    );
    assert_eq!(
        tf.fake.instance(STACK).map(|i| i.backup_retention_days),
        Some(14)
    );
    let state = tf.read(&out.new_state).await;
    tf.assert_no_changes(&state, &cfg).await;
}

#[tokio::test]
async fn refresh_shows_ingress_opened_by_hand_and_apply_closes_it() {
    let tf = Tf::new();
    let cfg = production();
    let state = tf.create(&cfg).await;
    tf.fake.add_ingress_by_hand(STACK, "0.0.0.0/0");
    let read = tf.read(&state).await;
    assert_eq!(
        get(&read, "network.allowed_cidrs"),
        &strings(&["0.0.0.0/0"])
    );
    let (planned, out) = tf.plan_apply(&read, &cfg).await;
    assert_no_errors(&out.diagnostics);
    assert_known_values_kept(&planned, &out.new_state, "");
    let sg = tf.fake.security_group(STACK).expect("the security group");
    assert!(sg.allowed_cidrs.is_empty(), "{sg:?}");
    assert_eq!(tf.fake.creations(STACK, "security_group"), 1);
    let state = tf.read(&out.new_state).await;
    tf.assert_no_changes(&state, &cfg).await;
}

#[tokio::test]
async fn a_replica_deleted_by_hand_shows_in_refresh_and_apply_makes_it_again() {
    let tf = Tf::new();
    let cfg = production();
    let state = tf.create(&cfg).await;
    tf.fake.delete_replica_by_hand(STACK, 0);
    let read = tf.read(&state).await;
    assert_eq!(get(&read, "read_replicas"), &num(0));
    tf.assert_inventory_matches_cloud(&read);
    let (planned, out) = tf.plan_apply(&read, &cfg).await;
    assert_no_errors(&out.diagnostics);
    assert_known_values_kept(&planned, &out.new_state, "");
    assert_eq!(tf.fake.replicas(STACK).len(), 1);
    assert_eq!(tf.fake.creations(STACK, "replica.0"), 2);
    assert_eq!(tf.fake.creations(STACK, "instance"), 1);
    let state = out.new_state;
    tf.assert_inventory_matches_cloud(&state);
    tf.assert_no_changes(&state, &cfg).await;
}

#[tokio::test]
async fn destroy_of_a_protected_database_is_refused_at_plan_and_at_apply() {
    let tf = Tf::new();
    let state = tf.create(&production()).await;
    assert_eq!(get(&state, "deletion_protection"), &Value::from(true));
    let plan = tf.plan(&state, &Value::Null).await;
    assert!(error_at(&plan.diagnostics, "deletion_protection"));
    assert!(errors(&plan.diagnostics).contains("Deletion protection is on"));

    // Terraform plans a tainted resource's replacement without asking the provider
    // to plan the destroy: the apply-time check is what keeps the database.
    let before = tf.fake.components(STACK);
    tf.fake.clear_calls();
    let out = tf.apply(&state, &Value::Null, &Value::Null).await;
    let message = errors(&out.diagnostics);
    assert!(message.contains("Deletion protection is on"), "{message}");
    assert!(message.contains("terraform untaint"), "{message}");
    assert_eq!(out.new_state, state, "the state is kept");
    assert!(tf.fake.calls().is_empty(), "{:?}", tf.fake.calls());
    assert_eq!(tf.fake.components(STACK), before, "nothing was deleted");
    assert!(tf.fake.snapshots().is_empty());
}

#[tokio::test]
async fn the_clouds_own_deletion_protection_stops_a_destroy_the_state_allows() {
    // Someone turned protection on in the console; the state (not refreshed) says
    // off. The cloud refuses, before anything is deleted, and the state is kept.
    let tf = Tf::new();
    let state = tf.create(&unprotected()).await;
    tf.fake
        .change_instance_by_hand(STACK, |i| i.deletion_protection = true);
    let before = tf.fake.components(STACK);
    let out = tf.destroy(&state).await;
    let message = errors(&out.diagnostics);
    assert!(
        message.contains("Destroying the database failed"),
        "{message}"
    );
    assert!(message.contains("has deletion protection on"), "{message}");
    assert_eq!(out.new_state, state);
    assert_eq!(tf.fake.components(STACK), before, "nothing was deleted");
    assert!(tf.fake.snapshots().is_empty());
}

#[tokio::test]
async fn destroy_takes_a_final_snapshot_and_leaves_nothing() {
    let tf = Tf::new();
    let state = tf.create(&unprotected()).await;
    let key_arn = get(&state, "encryption_key_arn")
        .as_str()
        .unwrap_or_default()
        .to_owned();
    tf.fake.clear_calls();
    let out = tf.destroy(&state).await;
    assert_no_errors(&out.diagnostics);
    assert!(out.new_state.is_null());
    assert_eq!(tf.fake.calls(), ["delete_stack"]);
    let teardowns = tf.fake.teardowns();
    assert_eq!(teardowns.len(), 1);
    assert!(teardowns[0].delete_key, "the key paved made goes too");
    let name = teardowns[0]
        .final_snapshot
        .clone()
        .expect("production takes a final snapshot");
    assert!(name.starts_with("orders-final-"), "{name}");
    assert!(tf.fake.components(STACK).is_empty());
    assert!(tf.fake.instance(STACK).is_none());
    let snapshots = tf.fake.snapshots();
    let snapshot = snapshots.get(&name).expect("the final snapshot exists");
    assert_eq!(snapshot.source, STACK);
    assert_eq!(snapshot.engine_version, "16.4");
    assert_eq!(snapshot.size_gb, 20);
    assert_eq!(snapshot.encryption_key, key_arn);
    assert_eq!(tf.fake.scheduled_key_deletions(), [key_arn]);
    // A refresh of the old state finds nothing and drops it.
    assert!(tf.read(&state).await.is_null());
}

#[tokio::test]
async fn destroy_with_a_replica_left_behind_keeps_the_primary_and_the_state() {
    let tf = Tf::new();
    let state = tf.create(&unprotected()).await;
    let replica = tf.fake.replicas(STACK)[&0].id.clone();
    tf.fake.leave_behind(
        "replica.0",
        "InvalidDBInstanceState: the replica is being backed up",
    );
    let out = tf.destroy(&state).await;
    let message = errors(&out.diagnostics);
    assert!(message.contains("could not be deleted"), "{message}");
    assert!(message.contains(&replica), "{message}");
    assert!(message.contains("standalone database"), "{message}");
    assert_eq!(out.new_state, state, "the state stays for another destroy");
    assert!(tf.fake.instance(STACK).is_some(), "the primary is kept");
    assert!(tf.fake.snapshots().is_empty(), "no final snapshot yet");
    let left = tf.fake.components(STACK);
    for key in ["replica.0", "instance", "subnet_group", "security_group"] {
        assert!(left.contains_key(key), "{key} is kept: {left:?}");
    }
}

#[tokio::test]
async fn a_database_restored_from_a_final_snapshot() {
    let tf = Tf::new();
    let state = tf.create(&unprotected()).await;
    let out = tf.destroy(&state).await;
    assert_no_errors(&out.diagnostics);
    let snapshot = tf.fake.snapshots().into_keys().next().expect("a snapshot");

    let cfg = with(
        &unprotected(),
        vec![
            ("name", "orders-restored".into()),
            ("restore", restore(Some(&snapshot), None, None, false)),
        ],
    );
    tf.fake.clear_calls();
    let state = tf.create(&cfg).await;
    let calls = tf.fake.calls();
    assert!(
        calls.contains(&"restore_from_snapshot".to_owned()),
        "{calls:?}"
    );
    assert!(!calls.contains(&"ensure_instance".to_owned()), "{calls:?}");
    let restores = tf.fake.snapshot_restores();
    assert_eq!(restores.len(), 1);
    assert_eq!(restores[0].snapshot_id, snapshot);
    assert_eq!(restores[0].instance.name, "orders-restored");
    let instance = tf.fake.instance("orders-restored").expect("restored");
    assert_eq!(instance.engine_version, "16.4", "the snapshot's version");
    assert_eq!(get(&state, "id"), &Value::from("orders-restored"));
    tf.assert_inventory_matches_cloud(&state);
    tf.assert_no_changes(&state, &cfg).await;
}

#[tokio::test]
async fn a_point_in_time_copy_of_another_database() {
    let tf = Tf::new();
    tf.create(&production()).await;
    let copy = |restore_block: Value| {
        with(
            &unprotected(),
            vec![("name", "orders-copy".into()), ("restore", restore_block)],
        )
    };

    // A time after the source's latest restorable time is refused by the cloud.
    let late = copy(restore(
        None,
        Some(STACK),
        Some("2026-02-01T00:00:00Z"),
        false,
    ));
    let (_, out) = tf.plan_apply(&Value::Null, &late).await;
    let message = errors(&out.diagnostics);
    assert!(
        message.contains("after the latest restorable time"),
        "{message}"
    );
    assert!(tf.fake.instance("orders-copy").is_none());

    // The latest restorable time works (the state of the failed try was lost).
    let cfg = copy(restore(None, Some(STACK), None, true));
    let state = tf.create(&cfg).await;
    let restores = tf.fake.point_in_time_restores();
    assert_eq!(restores.len(), 2);
    assert_eq!(restores[1].source_db_instance_id, STACK);
    assert_eq!(restores[1].restore_time, None);
    assert!(tf.fake.instance("orders-copy").is_some());
    assert!(tf.fake.instance(STACK).is_some(), "the source is untouched");
    tf.assert_no_duplicates();
    tf.assert_inventory_matches_cloud(&state);
    tf.assert_no_changes(&state, &cfg).await;
}

#[tokio::test]
async fn import_by_name_then_the_creating_configuration_plans_no_change() {
    let tf = Tf::new();
    let cfg = production();
    let created = tf.create(&cfg).await;
    let mut diags = Diagnostics::new();
    let imported = tf.resource.import(&tf.ctx, STACK, &mut diags).await;
    assert_no_errors(&diags);
    assert_eq!(imported.len(), 1);
    let state = &imported[0].state;
    assert!(state.conforms_to(&schema().value_type()));
    assert_eq!(get(state, "id"), get(&created, "id"));
    assert_eq!(
        get(state, "encryption_key_arn"),
        get(&created, "encryption_key_arn")
    );
    tf.assert_inventory_matches_cloud(state);
    // Terraform reads the imported object before planning.
    let state = tf.read(state).await;
    tf.assert_no_changes(&state, &cfg).await;

    let mut diags = Diagnostics::new();
    assert!(tf
        .resource
        .import(&tf.ctx, "nope", &mut diags)
        .await
        .is_empty());
    assert!(errors(&diags).contains("Database not found"));
}

#[tokio::test]
async fn changed_tags_retag_every_component_and_drift_shows() {
    let tf = Tf::new();
    let tags = |pairs: &[(&str, &str)]| {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Value::from(*v)))
                .collect(),
        )
    };
    let cfg = with(
        &production(),
        vec![("tags", tags(&[("env", "prod"), ("old", "x")]))],
    );
    let state = tf.create(&cfg).await;
    assert_eq!(
        get(&state, "tags_all"),
        &tags(&[("env", "prod"), ("old", "x")])
    );
    tf.assert_no_changes(&state, &cfg).await;

    let cfg = with(
        &production(),
        vec![("tags", tags(&[("env", "prod"), ("owner", "ana")]))],
    );
    let plan = tf.plan_in_place(&state, &cfg).await;
    tf.fake.clear_calls();
    let out = tf.apply(&state, &plan.planned_state, &cfg).await;
    assert_no_errors(&out.diagnostics);
    assert!(
        tf.fake.calls().iter().any(|c| c == "retag"),
        "{:?}",
        tf.fake.calls()
    );
    let wanted: BTreeMap<String, String> = [("env", "prod"), ("owner", "ana")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for key in tf.fake.components(STACK).keys() {
        assert_eq!(
            tf.fake.tags_of(STACK, key),
            wanted,
            "{key}: old removed, owner added"
        );
    }
    let read = tf.read(&out.new_state).await;
    tf.assert_no_changes(&read, &cfg).await;

    // A tag changed by hand on the instance shows in refresh; apply puts it back.
    tf.fake.drift_tag(STACK, "instance", "owner", "mallory");
    let read = tf.read(&read).await;
    assert_eq!(get(&read, "tags_all"), &tags(&[("env", "prod")]));
    let plan = tf.plan_in_place(&read, &cfg).await;
    let out = tf.apply(&read, &plan.planned_state, &cfg).await;
    assert_no_errors(&out.diagnostics);
    assert_eq!(tf.fake.tags_of(STACK, "instance"), wanted);
    tf.assert_no_changes(&tf.read(&out.new_state).await, &cfg)
        .await;
}
