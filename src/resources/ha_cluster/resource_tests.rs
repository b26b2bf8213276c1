//! Lifecycle tests of `paved_ha_cluster` through the `Resource` trait, the way
//! Terraform drives it (plan, apply, read, import), against the scripted fake
//! backend: create and the empty plan after it, failure mid-create with partial
//! state and resumption, throttled polls, StopProvider, timeouts, version upgrades,
//! pool updates and removals, destroy, and import.

use std::time::{Duration, Instant};

use paved_value::Value;

use super::fake::{ScriptedBackend, NEWEST_VERSION};
use super::schema;
use crate::diag::{Diagnostics, Severity};
use crate::ports::harness::{assert_known_values_kept, assert_no_errors, errors, Tf as Harness};
use crate::ports::testing::FixedCloud;
use crate::stack::schema_testing::{config_of, get, map, num, obj, strings};
use crate::stack::BackendError;

const STACK: &str = "shop";

fn config(pairs: Vec<(&str, Value)>) -> Value {
    config_of(&schema().block, pairs)
}

/// Terraform, the resource and the fake cloud behind it.
type Tf = Harness<ScriptedBackend>;

impl Tf {
    fn new() -> Self {
        let fake = ScriptedBackend::new();
        Tf::with(super::resource::resource(fake.factory()), fake)
    }
}

fn permanent(operation: &str) -> BackendError {
    BackendError::Permanent {
        operation: operation.into(),
        message: "UnsupportedAvailabilityZoneException".into(),
        hint: "Pick other zones".into(),
    }
}

/// The pools: `system` up to 6 nodes, and a spot pool with these bounds and, when
/// given, a `lifecycle` label and a taint.
fn pools(spot_min: i64, spot_max: i64, lifecycle: Option<&str>) -> Value {
    let mut spot = vec![
        ("capacity", "spot".into()),
        ("min_size", num(spot_min)),
        ("max_size", num(spot_max)),
    ];
    if let Some(label) = lifecycle {
        spot.push(("labels", map(vec![("lifecycle", label.into())])));
        spot.push((
            "taints",
            Value::List(vec![obj(vec![
                ("key", "spot".into()),
                ("value", "yes".into()),
                ("effect", "NoSchedule".into()),
            ])]),
        ));
    }
    map(vec![
        ("system", obj(vec![("max_size", num(6))])),
        ("spot", obj(spot)),
    ])
}

/// A production cluster with the system pool and a spot pool.
fn production() -> Value {
    config(vec![
        ("name", STACK.into()),
        ("node_pools", pools(3, 9, Some("spot"))),
    ])
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

/// The position of the first call named `name` (panics when absent).
fn position(calls: &[String], name: &str) -> usize {
    calls
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no call {name} in {calls:?}"))
}

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
    assert_eq!(
        get(&state, "kubernetes_version"),
        &Value::from(NEWEST_VERSION)
    );
    assert_eq!(
        get(&state, "zones"),
        &strings(&["eu-west-1a", "eu-west-1b", "eu-west-1c"])
    );
    assert_eq!(
        get(&state, "node_pool_status"),
        &map(vec![("spot", "ACTIVE".into()), ("system", "ACTIVE".into())])
    );
    // The kubeconfig is the adapter's (the AWS one's is checked in its tests).
    assert!(get(&state, "kubeconfig")
        .as_str()
        .is_some_and(|k| k.starts_with("apiVersion: v1\nkind: Config\n")));
    tf.assert_inventory_matches_cloud(&state);
    tf.assert_no_duplicates();

    let calls = tf.fake.calls();
    assert_eq!(
        calls[..5],
        [
            "ensure_network",
            "ensure_encryption_key",
            "ensure_identities",
            "ensure_control_plane",
            "ensure_identities oidc",
        ],
        "{calls:?}"
    );
    // The pools side by side, then the add-ons (coredns needs nodes).
    let mut pools = calls[5..7].to_vec();
    pools.sort();
    assert_eq!(pools, ["ensure_node_pool spot", "ensure_node_pool system"]);
    assert_eq!(calls[7..], ["ensure_addons"], "{calls:?}");

    // A new pool starts at min_size, with the labels and taints configured.
    let (spot, size) = tf.fake.pool(STACK, "spot").unwrap();
    assert_eq!((spot.min_size, spot.max_size, size), (3, 9, 3));
    let req = tf.fake.pool_request(STACK, "spot").unwrap();
    assert_eq!(
        req.labels.get("lifecycle").map(String::as_str),
        Some("spot")
    );
    assert_eq!(req.taints.len(), 1);
    assert_eq!(req.kubernetes_version, NEWEST_VERSION);
    assert_eq!(
        req.subnet_ids.len(),
        3,
        "pools spread over the private subnets"
    );

    // The control plane runs in the intra subnets, with the key made before it.
    let cp = &tf.fake.control_plane_requests()[0];
    let intra: Vec<&Value> = get(&state, "network.intra_subnet_ids")
        .as_map()
        .map(|m| m.values().collect())
        .unwrap_or_default();
    assert_eq!(
        cp.subnet_ids
            .iter()
            .map(|s| Value::from(s.as_str()))
            .collect::<Vec<_>>(),
        intra.into_iter().cloned().collect::<Vec<_>>()
    );
    assert_eq!(
        Value::from(cp.encryption_key.as_str()),
        *get(&state, "encryption_key_arn")
    );
    assert_eq!(cp.log_types.len(), 5, "production sends every log type");
    assert_eq!(cp.kubernetes_version, None, "the newest version at create");

    tf.fake.clear_calls();
    let read = tf.read(&state).await;
    assert_eq!(read, state, "read right after apply changes nothing");
    assert_eq!(tf.fake.calls(), ["read_stack"]);
    tf.assert_no_changes(&state, &cfg).await;
}

#[tokio::test]
async fn a_failure_mid_create_returns_what_exists_and_the_next_apply_resumes() {
    let mut tf = Tf::new();
    let cfg = production();
    let out = tf
        .create_failing(&cfg, "ensure_control_plane", permanent("CreateCluster"))
        .await;
    let message = errors(&out.diagnostics);
    assert!(message.contains("Creating the cluster failed"), "{message}");
    assert!(message.contains("CreateCluster failed"), "{message}");
    let partial = out.new_state;
    assert!(!partial.is_null(), "what exists must stay in the state");
    assert!(partial.conforms_to(&schema().value_type()));
    tf.assert_inventory_matches_cloud(&partial);
    let ids = Tf::ids(&partial);
    for key in [
        "vpc",
        "subnet.private.2",
        "nat_gateway.0",
        "kms_key",
        "iam_role.cluster",
        "iam_role.node",
    ] {
        assert!(!ids[key].is_null(), "{key} exists but has no id");
    }
    assert!(ids["cluster"].is_null());
    assert!(get(&partial, "encryption_key_arn")
        .as_str()
        .is_some_and(|a| a.starts_with("arn:aws:kms:")));
    assert!(get(&partial, "network.vpc_id").as_str().is_some());

    // After `terraform untaint`, the next apply is an update from the partial
    // state: it adopts what exists.
    tf.resume(&partial, &cfg).await;
    assert_eq!(tf.fake.creations("cluster"), 1);
}

#[tokio::test]
async fn a_create_whose_state_was_lost_adopts_the_stack_by_its_tags() {
    let tf = Tf::new();
    let cfg = production();
    let out = tf
        .create_failing(&cfg, "ensure_node_pool spot", permanent("CreateNodegroup"))
        .await;
    assert!(out.diagnostics.has_errors());
    // Terraform crashed before saving the partial state: the next create starts
    // from nothing and finds the stack by its tags.
    let state = tf.create(&cfg).await;
    tf.assert_no_duplicates();
    tf.assert_inventory_matches_cloud(&state);
}

#[tokio::test]
async fn throttled_status_polls_are_retried_inside_the_wait() {
    let tf = Tf::new();
    tf.fake.polls_to_active(3);
    tf.fake.throttle_polls(3);
    let state = tf.create(&production()).await;
    assert_eq!(tf.fake.throttled_polls(), 3);
    // Three throttled polls, then four per wait (three pending, one active) for
    // the control plane and each of the two pools.
    assert_eq!(tf.fake.polls(), 3 + 3 * 4);
    assert!(state.is_wholly_known());
    tf.assert_no_duplicates();
}

#[tokio::test]
async fn throttling_that_outlasts_the_retries_is_a_retryable_error_with_partial_state() {
    let tf = Tf::new();
    tf.fake.throttle_polls(1000);
    let (_, out) = tf.plan_apply(&Value::Null, &production()).await;
    let message = errors(&out.diagnostics);
    // A create that leaves partial state is tainted by Terraform: the message says
    // how to resume rather than "run apply again".
    assert!(message.contains("terraform untaint"), "{message}");
    assert!(!message.contains("Run apply again"), "{message}");
    assert!(message.contains("ThrottlingException"), "{message}");
    tf.assert_inventory_matches_cloud(&out.new_state);
}

#[tokio::test]
async fn stop_provider_cancels_the_wait_promptly_and_keeps_what_exists() {
    let mut tf = Tf::new();
    tf.fake.stay_creating(true);
    let cfg = production();
    let partial = tf.create_stopped(&cfg, "creating the control plane").await;
    let ids = Tf::ids(&partial);
    assert!(
        !ids["cluster"].is_null(),
        "the cluster being created is kept"
    );
    assert!(!ids["vpc"].is_null());
    assert!(
        !tf.fake
            .calls()
            .iter()
            .any(|c| c.starts_with("ensure_node_pool")),
        "nothing starts after the stop"
    );
    // The next apply waits for the same control plane instead of making another.
    tf.resume(&partial, &cfg).await;
    assert_eq!(tf.fake.creations("cluster"), 1);
}

#[tokio::test]
async fn stop_provider_cancels_concurrent_pool_waits_and_keeps_the_pools() {
    let mut tf = Tf::new();
    tf.fake.stay_creating_pools(true);
    let cfg = production();
    let partial = tf.create_stopped(&cfg, "creating node pool").await;
    for pool in ["spot", "system"] {
        let key = format!("node_group.{pool}");
        assert!(
            Tf::inventory(&partial)
                .iter()
                .any(|(k, id)| *k == key && !id.is_null()),
            "{key} is kept"
        );
        assert_eq!(
            get(&partial, &format!("node_pool_status[\"{pool}\"]")),
            &Value::from("CREATING")
        );
    }
    // The next apply (after untaint) waits for the same pools, creating nothing.
    tf.resume(&partial, &cfg).await;
}

#[tokio::test]
async fn the_create_timeout_ends_the_wait_and_keeps_what_exists() {
    let tf = Tf::new();
    tf.fake.stay_creating(true);
    let cfg = with(
        &production(),
        vec![(
            "timeouts",
            obj(vec![
                ("create", "1s".into()),
                ("update", Value::Null),
                ("delete", Value::Null),
            ]),
        )],
    );
    let started = Instant::now();
    let (_, out) = tf.plan_apply(&Value::Null, &cfg).await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(3),
        "{took:?}"
    );
    let message = errors(&out.diagnostics);
    assert!(message.contains("did not finish within"), "{message}");
    assert!(message.contains("raise the timeout"), "{message}");
    let partial = out.new_state;
    tf.assert_inventory_matches_cloud(&partial);
    assert!(
        get(&partial, "id").as_str().is_some(),
        "the cluster is kept"
    );
}

#[tokio::test]
async fn upgrades_go_one_minor_at_a_time_control_plane_then_pools() {
    let tf = Tf::new();
    let cfg = |version: &str| with(&production(), vec![("kubernetes_version", version.into())]);
    let state = tf.create(&cfg("1.29")).await;
    assert_eq!(get(&state, "kubernetes_version"), &Value::from("1.29"));

    // Two minors at once is refused at plan time.
    let plan = tf.plan(&state, &cfg("1.31")).await;
    let message = errors(&plan.diagnostics);
    assert!(message.contains("1.30"), "{message}");
    assert!(plan
        .diagnostics
        .iter()
        .any(|d| d.severity == Severity::Error
            && d.path.as_ref().map(|p| p.to_string()).as_deref() == Some("kubernetes_version")));

    // One minor at a time: 1.29 → 1.30, then 1.30 → 1.31.
    let mut state = state;
    for version in ["1.30", "1.31"] {
        tf.fake.clear_calls();
        let (planned, out) = tf.plan_apply(&state, &cfg(version)).await;
        assert_no_errors(&out.diagnostics);
        assert_known_values_kept(&planned, &out.new_state, "");
        state = out.new_state;
        assert_eq!(get(&state, "kubernetes_version"), &Value::from(version));
        let calls = tf.fake.calls();
        let upgrade = format!("upgrade_control_plane {version}");
        // Every step is ensured again (each a no-op but for the upgrade), in order.
        assert_eq!(
            calls,
            [
                "ensure_network",
                "ensure_encryption_key",
                "ensure_identities",
                "ensure_control_plane",
                upgrade.as_str(),
                "ensure_identities oidc",
                // The add-ons move with the control plane, before the pools.
                "ensure_addons",
                "update_node_pool spot",
                "update_node_pool system",
            ]
        );
        assert_eq!(
            calls
                .iter()
                .filter(|c| c.starts_with("upgrade_control_plane"))
                .count(),
            1,
            "{calls:?}"
        );
        let at = position(&calls, &upgrade);
        assert!(at > position(&calls, "ensure_control_plane"), "{calls:?}");
        for pool in ["spot", "system"] {
            let update = position(&calls, &format!("update_node_pool {pool}"));
            assert!(update > at, "pools after the control plane: {calls:?}");
        }
        assert!(
            !calls.iter().any(|c| c.starts_with("ensure_node_pool")),
            "{calls:?}"
        );
        let requests = tf.fake.pool_requests();
        assert_eq!(requests.len(), 2);
        for (op, req) in &requests {
            assert_eq!(op, "update");
            assert_eq!(req.kubernetes_version, version);
        }
        assert_eq!(
            tf.fake.control_plane(STACK).map(|cp| cp.kubernetes_version),
            Some(version.to_owned())
        );
        for pool in ["spot", "system"] {
            let (p, _) = tf.fake.pool(STACK, pool).unwrap();
            assert_eq!(p.kubernetes_version, version);
        }
        tf.assert_no_changes(&state, &cfg(version)).await;
    }
    tf.assert_no_duplicates();
}

#[tokio::test]
async fn an_upgrade_cut_short_after_the_control_plane_is_finished_by_the_next_apply() {
    let tf = Tf::new();
    let cfg = |version: &str| with(&production(), vec![("kubernetes_version", version.into())]);
    let state = tf.create(&cfg("1.30")).await;
    tf.fake
        .fail_next("update_node_pool spot", permanent("UpdateNodegroupVersion"));
    let (_, out) = tf.plan_apply(&state, &cfg("1.31")).await;
    assert!(errors(&out.diagnostics).contains("Updating the cluster failed"));
    assert_eq!(
        tf.fake.control_plane(STACK).map(|cp| cp.kubernetes_version),
        Some("1.31".to_owned())
    );
    assert_eq!(
        tf.fake
            .pool(STACK, "spot")
            .map(|(p, _)| p.kubernetes_version),
        Some("1.30".to_owned())
    );
    // The state (and a refresh) shows the version the whole cluster runs.
    let state = out.new_state;
    assert_eq!(get(&state, "kubernetes_version"), &Value::from("1.30"));
    let state = tf.read(&state).await;
    assert_eq!(get(&state, "kubernetes_version"), &Value::from("1.30"));
    // So the plan shows the upgrade again, and its apply finishes the pools
    // without touching the control plane.
    tf.fake.clear_calls();
    let (planned, out) = tf.plan_apply(&state, &cfg("1.31")).await;
    assert_no_errors(&out.diagnostics);
    assert_known_values_kept(&planned, &out.new_state, "");
    let calls = tf.fake.calls();
    assert!(
        !calls.iter().any(|c| c.starts_with("upgrade_control_plane")),
        "{calls:?}"
    );
    for pool in ["spot", "system"] {
        assert_eq!(
            tf.fake.pool(STACK, pool).map(|(p, _)| p.kubernetes_version),
            Some("1.31".to_owned())
        );
    }
    assert_eq!(
        get(&out.new_state, "kubernetes_version"),
        &Value::from("1.31")
    );
    tf.assert_no_changes(&out.new_state, &cfg("1.31")).await;
}

#[tokio::test]
async fn a_pool_update_changes_bounds_and_labels_in_place_and_leaves_the_size_alone() {
    let tf = Tf::new();
    let state = tf.create(&production()).await;
    // The autoscaler has grown the spot pool.
    tf.fake.autoscale(STACK, "spot", 7);
    tf.fake.clear_calls();
    let cfg = with(
        &production(),
        vec![("node_pools", pools(6, 12, Some("preemptible")))],
    );
    let plan = tf.plan_in_place(&state, &cfg).await;
    assert!(get(&plan.planned_state, "node_pool_status[\"spot\"]").is_unknown());
    assert_eq!(
        get(&plan.planned_state, "node_pool_status[\"system\"]"),
        &Value::from("ACTIVE"),
        "an unchanged pool keeps its status"
    );
    let out = tf.apply(&state, &plan.planned_state, &cfg).await;
    assert_no_errors(&out.diagnostics);
    assert_known_values_kept(&plan.planned_state, &out.new_state, "");
    let calls = tf.fake.calls();
    assert!(
        calls.contains(&"update_node_pool spot".to_owned()),
        "{calls:?}"
    );
    assert!(
        !calls.iter().any(|c| c.starts_with("ensure_node_pool")),
        "{calls:?}"
    );
    assert!(!calls.iter().any(|c| c.starts_with("delete")), "{calls:?}");
    let req = tf.fake.pool_request(STACK, "spot").unwrap();
    assert_eq!((req.min_size, req.max_size), (6, 12));
    assert_eq!(
        req.labels.get("lifecycle").map(String::as_str),
        Some("preemptible")
    );
    let (spot, size) = tf.fake.pool(STACK, "spot").unwrap();
    assert_eq!((spot.min_size, spot.max_size), (6, 12));
    assert_eq!(size, 7, "the autoscaler's size is never reset");
    assert_eq!(tf.fake.creations("node_group.spot"), 1, "not replaced");
    let state = out.new_state;
    assert_eq!(get(&state, "node_pools[\"spot\"].max_size"), &num(12));
    tf.assert_no_changes(&state, &cfg).await;
}

#[tokio::test]
async fn a_failed_pool_update_leaves_the_old_bounds_in_the_state_so_the_next_apply_retries() {
    let tf = Tf::new();
    let state = tf.create(&production()).await;
    let cfg = with(
        &production(),
        vec![("node_pools", pools(6, 12, Some("spot")))],
    );
    tf.fake
        .fail_next("update_node_pool spot", permanent("UpdateNodegroupConfig"));
    let (_, out) = tf.plan_apply(&state, &cfg).await;
    assert!(out.diagnostics.has_errors());
    let state = out.new_state;
    assert_eq!(get(&state, "node_pools[\"spot\"].max_size"), &num(9));
    let (planned, out) = tf.plan_apply(&state, &cfg).await;
    assert_no_errors(&out.diagnostics);
    assert_known_values_kept(&planned, &out.new_state, "");
    let (spot, _) = tf.fake.pool(STACK, "spot").unwrap();
    assert_eq!((spot.min_size, spot.max_size), (6, 12));
    tf.assert_no_changes(&out.new_state, &cfg).await;
}

#[tokio::test]
async fn a_pool_removed_from_the_configuration_is_deleted() {
    let tf = Tf::new();
    let state = tf.create(&production()).await;
    tf.fake.clear_calls();
    let cfg = with(
        &production(),
        vec![(
            "node_pools",
            map(vec![("system", obj(vec![("max_size", num(6))]))]),
        )],
    );
    let (planned, out) = tf.plan_apply(&state, &cfg).await;
    assert_no_errors(&out.diagnostics);
    assert_known_values_kept(&planned, &out.new_state, "");
    let calls = tf.fake.calls();
    assert!(
        calls.contains(&"delete_node_pool spot".to_owned()),
        "{calls:?}"
    );
    assert!(tf.fake.pool(STACK, "spot").is_none());
    let state = out.new_state;
    assert!(get(&state, "node_pools").get_key("spot").is_none());
    assert!(get(&state, "node_pool_status").get_key("spot").is_none());
    assert!(!Tf::inventory(&state)
        .iter()
        .any(|(k, _)| k.ends_with(".spot")));
    tf.assert_inventory_matches_cloud(&state);
    tf.assert_no_changes(&state, &cfg).await;
}

#[tokio::test]
async fn destroy_tears_down_the_network_and_the_key_paved_made() {
    let tf = Tf::new();
    let cfg = with(&production(), vec![("deletion_protection", false.into())]);
    let state = tf.create(&cfg).await;
    tf.fake.clear_calls();
    let out = tf.destroy(&state).await;
    assert_no_errors(&out.diagnostics);
    assert!(out.new_state.is_null());
    assert_eq!(
        tf.fake.calls(),
        // One read finds the API, so Kubernetes releases its load balancers and
        // volumes before the teardown.
        [
            "read_stack",
            "delete_stack keep_network=false delete_key=true"
        ]
    );
    assert!(tf.fake.components(STACK).is_empty());
    // A refresh of the old state finds nothing and drops it.
    assert!(tf.read(&state).await.is_null());
}

#[tokio::test]
async fn destroy_with_a_component_left_behind_fails_and_keeps_the_state() {
    let tf = Tf::new();
    let cfg = with(&production(), vec![("deletion_protection", false.into())]);
    let state = tf.create(&cfg).await;
    let vpc = tf.fake.components(STACK)["vpc"].id.clone();
    tf.fake
        .leave_behind("vpc", "a load balancer paved did not make still uses it");
    let out = tf.destroy(&state).await;
    let message = errors(&out.diagnostics);
    assert!(message.contains("could not be deleted"), "{message}");
    assert!(message.contains(&vpc), "{message}");
    assert!(message.contains("load balancer"), "{message}");
    assert_eq!(out.new_state, state, "the state stays for another destroy");
    assert_eq!(tf.fake.components(STACK).len(), 1);
}

#[tokio::test]
async fn destroy_of_a_protected_cluster_is_refused_at_plan() {
    let tf = Tf::new();
    let state = tf.create(&production()).await;
    assert_eq!(get(&state, "deletion_protection"), &Value::from(true));
    let plan = tf.plan(&state, &Value::Null).await;
    assert!(plan
        .diagnostics
        .iter()
        .any(|d| d.severity == Severity::Error
            && d.path.as_ref().map(|p| p.to_string()).as_deref() == Some("deletion_protection")));
}

#[tokio::test]
async fn destroy_of_a_protected_cluster_is_refused_at_apply_whatever_the_plan() {
    // Terraform plans a tainted resource's replacement without asking the provider
    // to plan the destroy: the apply-time check is what keeps the stack.
    let tf = Tf::new();
    let state = tf.create(&production()).await;
    let before = tf.fake.components(STACK).len();
    let out = tf.apply(&state, &Value::Null, &Value::Null).await;
    let message = errors(&out.diagnostics);
    assert!(message.contains("Deletion protection is on"), "{message}");
    assert!(message.contains("terraform untaint"), "{message}");
    assert_eq!(out.new_state, state, "the state is kept");
    assert_eq!(
        tf.fake.components(STACK).len(),
        before,
        "nothing was deleted"
    );
}

#[tokio::test]
async fn an_unprotected_failed_create_says_terraform_will_replace_it() {
    let tf = Tf::new();
    let cfg = with(
        &production(),
        vec![("deletion_protection", Value::from(false))],
    );
    let out = tf
        .create_failing(
            &cfg,
            "ensure_control_plane",
            permanent("creating the control plane"),
        )
        .await;
    let message = errors(&out.diagnostics);
    assert!(!out.new_state.is_null(), "partial state is returned");
    assert!(message.contains("plans to replace it"), "{message}");
    assert!(message.contains("destroys what was created"), "{message}");
    assert!(message.contains("terraform untaint"), "{message}");
}

#[tokio::test]
async fn import_by_name_then_the_creating_configuration_plans_no_change() {
    let tf = Tf::new();
    // Pools with bounds and capacity only: the cloud does not report labels, taints
    // or disk size back (see the next test).
    let cfg = with(&production(), vec![("node_pools", pools(3, 9, None))]);
    let created = tf.create(&cfg).await;
    let mut diags = Diagnostics::new();
    let imported = tf.resource.import(&tf.ctx, STACK, &mut diags).await;
    assert_no_errors(&diags);
    assert_eq!(imported.len(), 1);
    let state = &imported[0].state;
    assert!(state.conforms_to(&schema().value_type()));
    assert_eq!(get(state, "id"), get(&created, "id"));
    // Terraform reads the imported object before planning.
    let state = tf.read(state).await;
    tf.assert_no_changes(&state, &cfg).await;

    let mut diags = Diagnostics::new();
    assert!(tf
        .resource
        .import(&tf.ctx, "nope", &mut diags)
        .await
        .is_empty());
    assert!(errors(&diags).contains("Cluster not found"));
}

#[tokio::test]
async fn after_import_labels_and_taints_are_set_again_in_place() {
    let tf = Tf::new();
    let cfg = production();
    tf.create(&cfg).await;
    let mut diags = Diagnostics::new();
    let imported = tf.resource.import(&tf.ctx, STACK, &mut diags).await;
    assert_no_errors(&diags);
    let state = tf.read(&imported[0].state).await;
    // The backend's pool state has no labels or taints, so import cannot recover
    // them: the plan updates the pool in place, and replaces nothing.
    let plan = tf.plan_in_place(&state, &cfg).await;
    tf.fake.clear_calls();
    let out = tf.apply(&state, &plan.planned_state, &cfg).await;
    assert_no_errors(&out.diagnostics);
    assert_known_values_kept(&plan.planned_state, &out.new_state, "");
    assert!(tf.fake.called("update_node_pool spot"));
    tf.assert_no_duplicates();
    tf.assert_no_changes(&out.new_state, &cfg).await;
}

#[tokio::test]
async fn import_of_a_cluster_with_the_users_key_keeps_the_key_as_the_users() {
    let tf = Tf::new();
    let arn = "arn:aws:kms:eu-west-1:123456789012:key/mine";
    let cfg = with(
        &production(),
        vec![
            ("encryption_key_arn", arn.into()),
            ("node_pools", Value::Null),
        ],
    );
    tf.create(&cfg).await;
    let mut diags = Diagnostics::new();
    let imported = tf.resource.import(&tf.ctx, STACK, &mut diags).await;
    assert_no_errors(&diags);
    let state = tf.read(&imported[0].state).await;
    assert_eq!(get(&state, "encryption_key_arn"), &Value::from(arn));
    assert!(
        !Tf::inventory(&state).iter().any(|(k, _)| k == "kms_key"),
        "the user's key is not a component of the stack"
    );
    tf.assert_no_changes(&state, &cfg).await;
    // And destroy leaves the user's key alone.
    let cfg = with(&cfg, vec![("deletion_protection", false.into())]);
    let (_, out) = tf.plan_apply(&state, &cfg).await;
    assert_no_errors(&out.diagnostics);
    let out = tf.destroy(&out.new_state).await;
    assert_no_errors(&out.diagnostics);
    assert!(tf.fake.teardowns().iter().all(|t| !t.delete_key));
}

#[tokio::test]
async fn refresh_shows_pool_bounds_changed_outside_paved_and_apply_restores_them() {
    let tf = Tf::new();
    let cfg = production();
    let state = tf.create(&cfg).await;
    tf.fake.drift_pool_bounds(STACK, "spot", 1, 20);
    let read = tf.read(&state).await;
    assert_eq!(get(&read, "node_pools[\"spot\"].min_size"), &num(1));
    assert_eq!(get(&read, "node_pools[\"spot\"].max_size"), &num(20));
    let plan = tf.plan_in_place(&read, &cfg).await;
    assert_eq!(
        get(&plan.planned_state, "node_pools[\"spot\"].max_size"),
        &num(9)
    );
    tf.fake.clear_calls();
    let out = tf.apply(&read, &plan.planned_state, &cfg).await;
    assert_no_errors(&out.diagnostics);
    assert_known_values_kept(&plan.planned_state, &out.new_state, "");
    assert!(tf.fake.called("update_node_pool spot"));
    let (spot, _) = tf.fake.pool(STACK, "spot").unwrap();
    assert_eq!((spot.min_size, spot.max_size), (3, 9));
    tf.assert_no_changes(&out.new_state, &cfg).await;
}

const ALICE: &str = "arn:aws:iam::123456789012:role/alice";
const BOB: &str = "arn:aws:iam::123456789012:role/bob";
const CAROL: &str = "arn:aws:iam::123456789012:role/carol";

/// The principals holding an access entry paved made, as the fake cloud has them.
fn access_entries(tf: &Tf) -> Vec<String> {
    tf.fake
        .components(STACK)
        .keys()
        .filter_map(|k| k.strip_prefix("access_entry."))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn an_admin_removed_from_cluster_admins_loses_access_and_others_are_left_alone() {
    let tf = Tf::new();
    let cfg = with(
        &production(),
        vec![("cluster_admins", strings(&[ALICE, BOB]))],
    );
    let state = tf.create(&cfg).await;
    assert_eq!(access_entries(&tf), vec![ALICE.to_owned(), BOB.to_owned()]);
    // Someone grants Carol access by hand: not paved's, never shown or removed.
    tf.fake.grant_admin_by_hand(STACK, CAROL);
    let read = tf.read(&state).await;
    assert_eq!(get(&read, "cluster_admins"), &strings(&[ALICE, BOB]));
    tf.assert_no_changes(&read, &cfg).await;

    let fewer = with(&production(), vec![("cluster_admins", strings(&[ALICE]))]);
    let plan = tf.plan_in_place(&read, &fewer).await;
    let out = tf.apply(&read, &plan.planned_state, &fewer).await;
    assert_no_errors(&out.diagnostics);
    assert_eq!(
        access_entries(&tf),
        vec![ALICE.to_owned()],
        "Bob's entry is revoked"
    );
    assert!(
        !Tf::inventory(&out.new_state)
            .iter()
            .any(|(k, _)| k.contains("bob")),
        "the inventory no longer lists Bob's entry"
    );
    let read = tf.read(&out.new_state).await;
    assert_eq!(get(&read, "cluster_admins"), &strings(&[ALICE]));
    tf.assert_no_changes(&read, &fewer).await;
}

#[tokio::test]
async fn refresh_shows_an_access_entry_revoked_by_hand_and_apply_grants_it_again() {
    let tf = Tf::new();
    let cfg = with(
        &production(),
        vec![("cluster_admins", strings(&[ALICE, BOB]))],
    );
    let state = tf.create(&cfg).await;
    tf.fake.revoke_admin_by_hand(STACK, BOB);
    let read = tf.read(&state).await;
    assert_eq!(get(&read, "cluster_admins"), &strings(&[ALICE]));
    let plan = tf.plan_in_place(&read, &cfg).await;
    assert_eq!(
        get(&plan.planned_state, "cluster_admins"),
        &strings(&[ALICE, BOB])
    );
    let out = tf.apply(&read, &plan.planned_state, &cfg).await;
    assert_no_errors(&out.diagnostics);
    assert_eq!(access_entries(&tf), vec![ALICE.to_owned(), BOB.to_owned()]);
    tf.assert_no_changes(&tf.read(&out.new_state).await, &cfg)
        .await;
}

fn smap(pairs: &[(&str, &str)]) -> Value {
    map(pairs.iter().map(|(k, v)| (*k, Value::from(*v))).collect())
}

fn tag_map(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The user tags (paved's aside) every component of the fake stack carries.
fn tags_everywhere(tf: &Tf) -> Vec<std::collections::BTreeMap<String, String>> {
    tf.fake
        .components(STACK)
        .keys()
        .map(|k| {
            let mut t = tf.fake.tags_of(STACK, k);
            t.retain(|k, _| !k.starts_with("paved:"));
            t
        })
        .collect()
}

#[tokio::test]
async fn changed_tags_and_default_tags_retag_every_component() {
    let mut tf = Tf::new();
    let mut cloud = FixedCloud::new("eu-west-1");
    cloud.default_tags = tag_map(&[("team", "platform"), ("costcenter", "42")]);
    tf.ctx = cloud.context();
    let cfg = with(&production(), vec![("tags", smap(&[("env", "prod")]))]);
    let state = tf.create(&cfg).await;
    let first = tag_map(&[("team", "platform"), ("costcenter", "42"), ("env", "prod")]);
    assert_eq!(
        get(&state, "tags_all"),
        &smap(&[("costcenter", "42"), ("env", "prod"), ("team", "platform")])
    );
    assert!(tags_everywhere(&tf).iter().all(|t| t == &first));
    tf.assert_no_changes(&state, &cfg).await;

    // The provider's default tags change (costcenter goes, team changes) and the
    // resource's tags gain one: an in-place update that retags everything.
    let mut cloud = FixedCloud::new("eu-west-1");
    cloud.default_tags = tag_map(&[("team", "shop")]);
    tf.ctx = cloud.context();
    let cfg = with(
        &production(),
        vec![("tags", smap(&[("env", "prod"), ("owner", "ana")]))],
    );
    let plan = tf.plan_in_place(&state, &cfg).await;
    assert_eq!(
        get(&plan.planned_state, "tags_all"),
        &smap(&[("env", "prod"), ("owner", "ana"), ("team", "shop")])
    );
    tf.fake.clear_calls();
    let out = tf.apply(&state, &plan.planned_state, &cfg).await;
    assert_no_errors(&out.diagnostics);
    assert!(tf.fake.called("retag"), "{:?}", tf.fake.calls());
    let wanted = tag_map(&[("team", "shop"), ("env", "prod"), ("owner", "ana")]);
    for tags in tags_everywhere(&tf) {
        assert_eq!(tags, wanted, "costcenter is removed, the rest set");
    }
    assert_known_values_kept(&plan.planned_state, &out.new_state, "");
    tf.assert_no_changes(&tf.read(&out.new_state).await, &cfg)
        .await;
}

#[tokio::test]
async fn refresh_shows_a_tag_changed_by_hand_and_apply_puts_it_back() {
    let tf = Tf::new();
    let cfg = with(&production(), vec![("tags", smap(&[("env", "prod")]))]);
    let state = tf.create(&cfg).await;
    tf.fake.drift_tag(STACK, "vpc", "env", Some("test"));
    tf.fake.drift_tag(STACK, "node_group.spot", "env", None);
    let read = tf.read(&state).await;
    assert_eq!(
        get(&read, "tags_all"),
        &smap(&[]),
        "env no longer on every component"
    );
    let plan = tf.plan_in_place(&read, &cfg).await;
    assert_eq!(
        get(&plan.planned_state, "tags_all"),
        &smap(&[("env", "prod")])
    );
    let out = tf.apply(&read, &plan.planned_state, &cfg).await;
    assert_no_errors(&out.diagnostics);
    assert!(tf
        .fake
        .tags_of(STACK, "vpc")
        .get("env")
        .is_some_and(|v| v == "prod"));
    assert!(tf
        .fake
        .tags_of(STACK, "node_group.spot")
        .get("env")
        .is_some_and(|v| v == "prod"));
    tf.assert_no_changes(&tf.read(&out.new_state).await, &cfg)
        .await;
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
    for position in 1..=calls {
        Tf::new().create_failing_at(position, &cfg, STACK).await;
    }
}
