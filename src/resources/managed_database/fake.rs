//! A scripted, in-memory [`DatabaseBackend`] for the resource's lifecycle tests.
//!
//! [`ScriptedDatabase`] is a small RDS-like cloud in one region (`eu-west-1`), with
//! three subnets (one per zone of [`ZONES`]) in the VPC [`VPC`]. It keeps each
//! stack's parts under their inventory keys, the way the AWS backend reports them
//! (`kms_key`, `subnet_group`, `security_group`, `parameter_group`, `instance`,
//! `master_secret`, `replica.<i>`), and models:
//!
//! - **The inventory**: the components a stack consists of are the AWS adapter's
//!   ([`crate::cloud::aws::database::inventory::components`]): the fake scripts
//!   that cloud, so the plan lists what the AWS backend would build (the one import
//!   of an adapter by a resource, allowed to a test-only `fake.rs` by
//!   `scripts/check-layers.py`).
//! - **Adoption.** Every `ensure_*` call finds the stack's component by stack and
//!   key and adopts it, creating only what is missing; calling it again creates
//!   nothing. The fake counts creations per stack and key, so a test can prove an
//!   interrupted apply resumes without duplicates. Names follow the AWS backend's
//!   (`paved-<stack>`, `paved-<stack>-<family>`, `<name>-replica-<i>`).
//! - **The key**: the user's (checked by nothing, never a component of the stack)
//!   or one the fake creates; delete schedules a created key for deletion.
//! - **Groups**: a subnet group over known subnets (unknown ones are `NotFound`,
//!   subnets of two VPCs are refused) reporting each subnet's zone; a security group
//!   in a known VPC whose ingress is converged to exactly the request; parameter
//!   groups per family, with the engine's TLS parameter forced on (a new family
//!   makes a second group, as a major upgrade does).
//! - **The instance**: created from the request (a major version alone resolves to
//!   a minor, as RDS picks one: `16` runs `16.4`, `8.0` runs `8.0.39`), in the
//!   first zone of its subnet group, with a managed master secret and a latest
//!   restorable time while backups are on; it turns `available` after a few status
//!   polls. An existing instance is adopted as it is (its settings are not
//!   converged: that is `modify_instance`'s job). A name used by an instance that
//!   is not paved's is a `Conflict`; groups the request names must exist; Aurora is
//!   refused as the AWS backend refuses it.
//! - **In-place changes** (`modify_instance`): every field of [`ModifyRequest`],
//!   refusing what RDS refuses (shrinking storage, a major upgrade without the
//!   flag, a parameter group that does not exist); the instance is `modifying`
//!   for a few polls when something changed.
//! - **Replicas** in the first zone of the subnet group not in `avoid_zones` (the
//!   primary's when none is left), adopted by index; deleting one that does not
//!   exist does nothing.
//! - **Refresh** (`read_stack`): what exists, as [`DatabaseSnapshot`]; the key only
//!   when the fake created it, the parameter group the instance uses.
//! - **Teardown** (`delete_stack`): refused before anything is touched when the
//!   instance has deletion protection on (what remains is reported left behind);
//!   otherwise replicas, then the instance (with its secret, after a final snapshot
//!   when asked; a snapshot name already taken keeps the instance), then the
//!   parameter, security and subnet groups (kept while the instance that uses them
//!   remains), then the key when asked. A second call finds nothing.
//! - **Restores**: from a snapshot the fake holds (final snapshots of deleted
//!   instances; the engine must match, version and storage come from the snapshot),
//!   or to a point in time of an instance that exists with backups on (the time,
//!   UTC `Z` RFC 3339, must not be after its latest restorable time). A restored
//!   instance of the stack that exists is adopted.
//!
//! Every call is recorded in order by name (`"ensure_instance"`, `"ensure_replica 0"`,
//! `"modify_instance"`, `"delete_stack"`...), and so are the requests of the calls
//! that change the instance. A test can script faults: fail the call at a position,
//! or the next call whose name starts with a prefix, with a given [`BackendError`]
//! (the step then reports what exists of that call's components); keep instances
//! and replicas pending forever; throttle status polls; leave components behind on
//! teardown; and change the cloud behind paved's back (drift). Waits go through the
//! engine's [`Waiter`] on the real clock with millisecond intervals, watching
//! [`StackContext::cancel`] and [`StackContext::deadline`], so Ctrl-C and timeouts
//! behave as in production while tests run in milliseconds.
//!
//! Not modelled: tags (stacks are found by name, the `paved:*` tags are not
//! stored); RDS's rule that a subnet group covers two zones (the resource checks
//! it itself); waits for deletions (deletes are instant); storage autoscaling;
//! Multi-AZ standbys and failovers (the flag only); replica settings after create
//! (a replica keeps its first class); the parameters' effect on the engine; backup
//! copies to another region (recorded in the request only); and the passage of time
//! (the latest restorable time is fixed at [`RESTORABLE_TIME`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use paved_value::Value;

use crate::cloud::aws::database::inventory;
use crate::framework::PlanResponse;
use crate::ports::database::{
    kind, replica_key, DatabaseBackend, DatabaseShape, DatabaseSnapshot, DeleteRequest, Engine,
    InstanceRequest, InstanceState, ModifyRequest, ParameterGroupRequest, ParameterGroupState,
    PointInTimeRequest, ReplicaRequest, ReplicaState, SecurityGroupRequest, SecurityGroupState,
    SnapshotRestoreRequest, SubnetGroupRequest, SubnetGroupState,
};
use crate::ports::harness::Script;
use crate::ports::key::{EncryptionKeyRequest, KeyState};
use crate::ports::BackendFactory;
use crate::stack::inventory::Component;
use crate::stack::retry::{Jitter, RetryPolicy, Retryability};
use crate::stack::{
    BackendError, ComponentRecord, Knowable, LeftBehind, OperationContext, Poll, PollBackoff,
    StackContext, Step, TeardownReport, WaitError, Waiter,
};

/// The zones of the fake region.
pub const ZONES: [&str; 3] = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];

/// The VPC the fake's subnets are in.
pub const VPC: &str = "vpc-1";

/// The fake's subnets: `SUBNETS[i]` is in `ZONES[i]`, all in [`VPC`].
pub const SUBNETS: [&str; 3] = ["subnet-a", "subnet-b", "subnet-c"];

/// The latest restorable time of every instance with backups on.
pub const RESTORABLE_TIME: &str = "2026-01-31T12:00:00Z";

const REGION: &str = "eu-west-1";
const ACCOUNT: &str = "123456789012";

/// Poll intervals of the fake's waits: milliseconds, so tests stay fast.
const POLL: PollBackoff = PollBackoff {
    start: Duration::from_millis(2),
    factor: 1.5,
    cap: Duration::from_millis(10),
};

/// Retries of a failing poll: the waiter's shape, in milliseconds.
const POLL_RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 5,
    base_delay: Duration::from_millis(1),
    max_delay: Duration::from_millis(5),
    jitter: Jitter::Full,
    deadline: None,
};

/// Component keys of each call's area (what a failed step reports).
const KEY_AREA: &[&str] = &["kms_key"];
const SUBNET_GROUP_AREA: &[&str] = &["subnet_group"];
const SECURITY_GROUP_AREA: &[&str] = &["security_group"];
const PARAMETER_GROUP_AREA: &[&str] = &["parameter_group"];
const INSTANCE_AREA: &[&str] = &["instance", "master_secret"];

/// What a status poll of the fake can answer besides a status.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PollError {
    /// `ThrottlingException`: retryable.
    Throttled,
}

impl fmt::Display for PollError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PollError::Throttled => f.write_str("Throttling: Rate exceeded"),
        }
    }
}

fn classify(error: &PollError) -> Retryability {
    match error {
        PollError::Throttled => Retryability::Retryable,
    }
}

/// A DB snapshot the fake holds: the final snapshot of a deleted instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbSnapshot {
    /// The instance it was taken of.
    pub source: String,
    /// Its engine.
    pub engine: Engine,
    /// The engine version the instance ran.
    pub engine_version: String,
    /// The instance's allocated storage, GB.
    pub size_gb: u32,
    /// The key it is encrypted with.
    pub encryption_key: String,
}

/// The primary instance of a stack.
#[derive(Debug, Clone)]
struct Instance {
    state: InstanceState,
    engine: Engine,
    parameter_group_id: String,
    encryption_key: String,
    /// Polls left before it turns `available`.
    polls_left: u32,
}

/// A read replica.
#[derive(Debug, Clone)]
struct Replica {
    state: ReplicaState,
    /// Polls left before it turns `available`.
    polls_left: u32,
}

/// A parameter group.
#[derive(Debug, Clone)]
struct ParameterGroup {
    family: String,
    parameters: BTreeMap<String, String>,
}

/// One stack: everything paved made for one database.
#[derive(Debug, Clone, Default)]
struct Stack {
    /// The key the fake created for the stack.
    key: Option<KeyState>,
    subnet_group: Option<SubnetGroupState>,
    security_group: Option<SecurityGroupState>,
    /// Parameter groups by name.
    parameter_groups: BTreeMap<String, ParameterGroup>,
    instance: Option<Instance>,
    replicas: BTreeMap<u32, Replica>,
    /// Every component, by inventory key.
    components: BTreeMap<String, ComponentRecord>,
    /// The stack's tags when it was first touched: every component carries them
    /// until retagged.
    initial_tags: Option<BTreeMap<String, String>>,
    /// The tags of components retagged (or changed by hand) since, by key.
    tags: BTreeMap<String, BTreeMap<String, String>>,
}

impl Stack {
    /// The components with these keys.
    fn rows(&self, keys: &[&str]) -> Vec<ComponentRecord> {
        keys.iter()
            .filter_map(|k| self.components.get(*k).cloned())
            .collect()
    }

    /// The parameter group the instance uses, else the last one ensured.
    fn parameter_group(&self) -> Option<ParameterGroupState> {
        let name = self
            .instance
            .as_ref()
            .map(|i| i.parameter_group_id.clone())
            .or_else(|| self.components.get("parameter_group").map(|c| c.id.clone()))?;
        self.parameter_groups
            .get(&name)
            .map(|g| ParameterGroupState {
                id: name,
                family: g.family.clone(),
            })
    }

    fn snapshot(&self) -> DatabaseSnapshot {
        DatabaseSnapshot {
            key: self.key.clone(),
            subnet_group: self.subnet_group.clone(),
            security_group: self.security_group.clone(),
            parameter_group: self.parameter_group(),
            instance: self.instance.as_ref().map(|i| i.state.clone()),
            replicas: self
                .replicas
                .iter()
                .map(|(i, r)| (*i, r.state.clone()))
                .collect(),
            components: self.components.values().cloned().collect(),
            tags: self
                .components
                .keys()
                .map(|k| (k.clone(), self.tags_of(k)))
                .collect(),
        }
    }

    /// The tags component `key` carries.
    fn tags_of(&self, key: &str) -> BTreeMap<String, String> {
        self.tags
            .get(key)
            .or(self.initial_tags.as_ref())
            .cloned()
            .unwrap_or_default()
    }

    fn is_empty(&self) -> bool {
        self.components.is_empty() && self.instance.is_none()
    }
}

/// The fake's whole world: stacks, the region's network, snapshots, the record of
/// calls and the script.
#[derive(Debug, Default)]
struct World {
    stacks: BTreeMap<String, Stack>,
    /// Subnets by id: (zone, VPC).
    subnets: BTreeMap<String, (String, String)>,
    /// Instance identifiers taken by databases paved did not make.
    foreign_instances: BTreeSet<String>,
    snapshots: BTreeMap<String, DbSnapshot>,
    scheduled_key_deletions: Vec<String>,
    script: Script,
    creations: BTreeMap<(String, String), u32>,
    next_id: u64,
    polls_to_available: u32,
    stay_pending: bool,
    throttle_polls: u32,
    throttled: u32,
    polls: u32,
    left_behind: BTreeMap<String, String>,
    instance_requests: Vec<InstanceRequest>,
    modifications: Vec<ModifyRequest>,
    teardowns: Vec<DeleteRequest>,
    snapshot_restores: Vec<SnapshotRestoreRequest>,
    point_in_time_restores: Vec<PointInTimeRequest>,
}

fn record(key: &str, kind: &str, zone: Option<&str>, id: &str) -> ComponentRecord {
    ComponentRecord {
        key: key.to_owned(),
        kind: kind.to_owned(),
        zone: zone.map(str::to_owned),
        id: id.to_owned(),
    }
}

/// The version RDS runs for a requested one: a major alone gets a minor.
fn resolved_version(engine: Engine, version: &str) -> String {
    if version.split('.').count() > engine.info().major_parts {
        return version.to_owned();
    }
    match engine {
        Engine::Mysql => format!("{version}.39"),
        Engine::Postgres | Engine::AuroraPostgresql => format!("{version}.4"),
    }
}

/// Whether `t` looks like a UTC RFC 3339 time (`2026-01-31T12:00:00Z`).
fn is_utc_rfc3339(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && t.ends_with('Z')
}

fn permanent(operation: &str, message: String, hint: &str) -> BackendError {
    BackendError::Permanent {
        operation: operation.to_owned(),
        message,
        hint: hint.to_owned(),
    }
}

impl World {
    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{:04}", self.next_id)
    }

    fn stack(&mut self, stack: &str) -> &mut Stack {
        self.stacks.entry(stack.to_owned()).or_default()
    }

    /// Records a new component of `stack` (counting the creation).
    fn create(&mut self, stack: &str, component: ComponentRecord) {
        *self
            .creations
            .entry((stack.to_owned(), component.key.clone()))
            .or_default() += 1;
        self.stack(stack)
            .components
            .insert(component.key.clone(), component);
    }

    /// The components of `stack` with these keys.
    fn rows(&self, stack: &str, keys: &[&str]) -> Vec<ComponentRecord> {
        self.stacks
            .get(stack)
            .map(|s| s.rows(keys))
            .unwrap_or_default()
    }

    /// Every component of `stack`.
    fn all_rows(&self, stack: &str) -> Vec<ComponentRecord> {
        self.stacks
            .get(stack)
            .map(|s| s.components.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Refuses what RDS refuses before making an instance for `stack`: Aurora (as
    /// the AWS backend does), a name taken outside paved, groups that do not exist.
    fn check_instance(&self, stack: &str, req: &InstanceRequest) -> Result<(), BackendError> {
        let operation = "creating the database";
        if req.engine == Engine::AuroraPostgresql {
            return Err(permanent(
                operation,
                "engine aurora-postgresql is not supported yet on AWS".to_owned(),
                "Use engine = \"postgres\" for now",
            ));
        }
        if self.foreign_instances.contains(&req.name) {
            return Err(BackendError::Conflict {
                what: format!("RDS instance {}", req.name),
                stack: stack.to_owned(),
                hint: "choose another name for the database, or delete or rename that instance"
                    .to_owned(),
            });
        }
        let s = self.stacks.get(stack);
        let missing = |what: String| BackendError::NotFound { what };
        if s.and_then(|s| s.subnet_group.as_ref())
            .is_none_or(|g| g.id != req.subnet_group_id)
        {
            return Err(missing(format!("DB subnet group {}", req.subnet_group_id)));
        }
        if s.and_then(|s| s.security_group.as_ref())
            .is_none_or(|g| g.id != req.security_group_id)
        {
            return Err(missing(format!("security group {}", req.security_group_id)));
        }
        if s.is_none_or(|s| !s.parameter_groups.contains_key(&req.parameter_group_id)) {
            return Err(missing(format!(
                "DB parameter group {}",
                req.parameter_group_id
            )));
        }
        Ok(())
    }

    /// Makes the primary of `stack` from `req`, running `engine_version` with
    /// `size_gb` of storage; it is `creating` for a few polls.
    fn new_instance(
        &mut self,
        stack: &str,
        req: &InstanceRequest,
        engine_version: String,
        size_gb: u32,
    ) {
        let polls = self.polls_to_available;
        let secret = self.id("rds!db");
        let secret_arn = format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret}");
        let zone = self
            .stacks
            .get(stack)
            .and_then(|s| s.subnet_group.as_ref())
            .and_then(|g| g.zones.iter().min().cloned())
            .unwrap_or_else(|| ZONES[0].to_owned());
        let state = InstanceState {
            id: req.name.clone(),
            endpoint: format!("{}.c0ffee.{REGION}.rds.amazonaws.com", req.name),
            port: req.engine.info().port,
            engine_version,
            instance_class: req.instance_class.clone(),
            size_gb,
            multi_az: req.multi_az,
            zone: zone.clone(),
            status: "creating".to_owned(),
            master_secret_arn: secret_arn.clone(),
            latest_restorable_time: (req.backup_retention_days > 0)
                .then(|| RESTORABLE_TIME.to_owned()),
            max_size_gb: req.max_size_gb,
            storage_type: req.storage_type.as_str().to_owned(),
            backup_retention_days: req.backup_retention_days,
            backup_window: req.backup_window.clone(),
            maintenance_window: req.maintenance_window.clone(),
            deletion_protection: req.deletion_protection,
            iam_authentication: req.iam_authentication,
        };
        self.create(
            stack,
            record("instance", kind::DB_INSTANCE, Some(&zone), &req.name),
        );
        self.create(
            stack,
            record("master_secret", kind::SECRET, None, &secret_arn),
        );
        self.stack(stack).instance = Some(Instance {
            state,
            engine: req.engine,
            parameter_group_id: req.parameter_group_id.clone(),
            encryption_key: req.encryption_key.clone(),
            polls_left: polls,
        });
    }

    /// The instance `id` of any stack.
    fn find_instance(&self, id: &str) -> Option<&Instance> {
        self.stacks
            .values()
            .filter_map(|s| s.instance.as_ref())
            .find(|i| i.state.id == id)
    }
}

/// What a wait waits for.
#[derive(Debug, Clone, Copy)]
enum Target {
    Instance,
    Replica(u32),
}

/// The scripted, in-memory database cloud. Share it with the resource through
/// [`ScriptedDatabase::factory`] and inspect it afterwards.
#[derive(Debug, Default)]
pub struct ScriptedDatabase {
    world: Mutex<World>,
}

/// The plan on the scripted cloud ([`super::plan::plan_for`]): its inventory lists
/// what the AWS adapter would build, as a plan on AWS does.
pub fn plan(prior_state: &Value, proposed_new_state: &Value, config: &Value) -> PlanResponse {
    let cloud = ScriptedDatabase::default();
    super::plan::plan_for(Some(&cloud), prior_state, proposed_new_state, config)
}

/// [`super::plan::plan_change_for`] on the scripted cloud (see [`plan`]).
pub fn plan_change(prior_state: &Value, config: &Value) -> PlanResponse {
    let cloud = ScriptedDatabase::default();
    super::plan::plan_change_for(Some(&cloud), prior_state, config)
}

impl ScriptedDatabase {
    /// A cloud with the subnets of [`SUBNETS`] and nothing else; instances and
    /// replicas turn `available` after two polls.
    pub fn new() -> Arc<Self> {
        let fake = ScriptedDatabase::default();
        {
            let mut w = fake.world();
            w.polls_to_available = 2;
            for (subnet, zone) in SUBNETS.iter().zip(ZONES) {
                w.subnets
                    .insert((*subnet).to_owned(), (zone.to_owned(), VPC.to_owned()));
            }
        }
        Arc::new(fake)
    }

    /// A backend factory for [`super::resource::resource`] that hands out
    /// this fake.
    pub fn factory(self: &Arc<Self>) -> BackendFactory<dyn DatabaseBackend> {
        let fake = Arc::clone(self);
        Arc::new(move |_| Ok(Arc::clone(&fake) as Arc<dyn DatabaseBackend>))
    }

    fn world(&self) -> MutexGuard<'_, World> {
        // A test that panicked while holding the lock has failed already.
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ----- script -----

    /// Fails the call at `position` (1-based, counting every call recorded so far
    /// and to come) with `error`.
    pub fn fail_call(&self, position: usize, error: BackendError) {
        self.world().script.fail_call(position, error);
    }

    /// Fails the next call whose recorded name starts with `name` with `error`.
    pub fn fail_next(&self, name: &str, error: BackendError) {
        self.world().script.fail_next(name, error);
    }

    /// Drops every fault not yet triggered, lets pending instances finish and stops
    /// throttling.
    pub fn clear_faults(&self) {
        let mut w = self.world();
        w.script.clear_faults();
        w.stay_pending = false;
        w.throttle_polls = 0;
    }

    /// Keeps every instance and replica in its current status (`creating`,
    /// `modifying`) for as long as `stuck`.
    pub fn stay_pending(&self, stuck: bool) {
        self.world().stay_pending = stuck;
    }

    /// Answers the next `count` status polls with a throttling error.
    pub fn throttle_polls(&self, count: u32) {
        self.world().throttle_polls = count;
    }

    /// Makes teardown fail to remove the component `key`, with `reason`.
    pub fn leave_behind(&self, key: &str, reason: &str) {
        self.world()
            .left_behind
            .insert(key.to_owned(), reason.to_owned());
    }

    /// An instance named `id` that paved did not make (another team's database).
    pub fn add_foreign_instance(&self, id: &str) {
        self.world().foreign_instances.insert(id.to_owned());
    }

    /// Changes the primary of `stack` behind paved's back (drift), as the console
    /// would.
    pub fn change_instance_by_hand(&self, stack: &str, change: impl FnOnce(&mut InstanceState)) {
        if let Some(i) = self
            .world()
            .stacks
            .get_mut(stack)
            .and_then(|s| s.instance.as_mut())
        {
            change(&mut i.state);
        }
    }

    /// Deletes read replica `index` of `stack` behind paved's back.
    pub fn delete_replica_by_hand(&self, stack: &str, index: u32) {
        if let Some(s) = self.world().stacks.get_mut(stack) {
            s.replicas.remove(&index);
            s.components.remove(&replica_key(index));
        }
    }

    /// Opens the database port of `stack` to `cidr` behind paved's back.
    pub fn add_ingress_by_hand(&self, stack: &str, cidr: &str) {
        if let Some(g) = self
            .world()
            .stacks
            .get_mut(stack)
            .and_then(|s| s.security_group.as_mut())
        {
            g.allowed_cidrs.push(cidr.to_owned());
        }
    }

    // ----- inspection -----

    /// Every call so far, in order.
    /// The user tags (paved's aside) component `key` carries.
    pub fn tags_of(&self, stack: &str, key: &str) -> BTreeMap<String, String> {
        let mut tags = self
            .world()
            .stacks
            .get(stack)
            .map(|s| s.tags_of(key))
            .unwrap_or_default();
        tags.retain(|k, _| !k.starts_with("paved:"));
        tags
    }

    /// Sets tag `key` on component `component` behind paved's back (drift).
    pub fn drift_tag(&self, stack: &str, component: &str, key: &str, value: &str) {
        if let Some(s) = self.world().stacks.get_mut(stack) {
            let mut tags = s.tags_of(component);
            tags.insert(key.to_owned(), value.to_owned());
            s.tags.insert(component.to_owned(), tags);
        }
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<String> {
        self.world().script.calls().to_vec()
    }

    /// Forgets the calls and requests recorded so far (not the stacks).
    pub fn clear_calls(&self) {
        let mut w = self.world();
        w.script.clear_calls();
        w.instance_requests.clear();
        w.modifications.clear();
        w.teardowns.clear();
        w.snapshot_restores.clear();
        w.point_in_time_restores.clear();
    }

    /// How many times the component `key` of `stack` was created.
    pub fn creations(&self, stack: &str, key: &str) -> u32 {
        self.world()
            .creations
            .get(&(stack.to_owned(), key.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// Components (`stack/key`) created more than once.
    pub fn duplicates(&self) -> Vec<String> {
        self.world()
            .creations
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|((s, k), _)| format!("{s}/{k}"))
            .collect()
    }

    /// The components of `stack`, by key.
    pub fn components(&self, stack: &str) -> BTreeMap<String, ComponentRecord> {
        self.world()
            .stacks
            .get(stack)
            .map(|s| s.components.clone())
            .unwrap_or_default()
    }

    /// The primary of `stack`.
    pub fn instance(&self, stack: &str) -> Option<InstanceState> {
        self.world()
            .stacks
            .get(stack)
            .and_then(|s| s.instance.as_ref())
            .map(|i| i.state.clone())
    }

    /// The key the primary of `stack` is encrypted with.
    pub fn instance_key(&self, stack: &str) -> Option<String> {
        self.world()
            .stacks
            .get(stack)
            .and_then(|s| s.instance.as_ref())
            .map(|i| i.encryption_key.clone())
    }

    /// The read replicas of `stack`, by index.
    pub fn replicas(&self, stack: &str) -> BTreeMap<u32, ReplicaState> {
        self.world()
            .stacks
            .get(stack)
            .map(|s| {
                s.replicas
                    .iter()
                    .map(|(i, r)| (*i, r.state.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The parameters of the parameter group the primary of `stack` uses (else the
    /// last one ensured).
    pub fn parameters(&self, stack: &str) -> BTreeMap<String, String> {
        let w = self.world();
        let Some(s) = w.stacks.get(stack) else {
            return BTreeMap::new();
        };
        s.parameter_group()
            .and_then(|g| s.parameter_groups.get(&g.id))
            .map(|g| g.parameters.clone())
            .unwrap_or_default()
    }

    /// The security group of `stack`.
    pub fn security_group(&self, stack: &str) -> Option<SecurityGroupState> {
        self.world()
            .stacks
            .get(stack)
            .and_then(|s| s.security_group.clone())
    }

    /// Requests passed to `ensure_instance`, in order.
    pub fn instance_requests(&self) -> Vec<InstanceRequest> {
        self.world().instance_requests.clone()
    }

    /// Requests passed to `modify_instance`, in order.
    pub fn modifications(&self) -> Vec<ModifyRequest> {
        self.world().modifications.clone()
    }

    /// Requests passed to `delete_stack`, in order.
    pub fn teardowns(&self) -> Vec<DeleteRequest> {
        self.world().teardowns.clone()
    }

    /// Requests passed to `restore_from_snapshot`, in order.
    pub fn snapshot_restores(&self) -> Vec<SnapshotRestoreRequest> {
        self.world().snapshot_restores.clone()
    }

    /// Requests passed to `restore_to_point_in_time`, in order.
    pub fn point_in_time_restores(&self) -> Vec<PointInTimeRequest> {
        self.world().point_in_time_restores.clone()
    }

    /// The DB snapshots the fake holds, by name.
    pub fn snapshots(&self) -> BTreeMap<String, DbSnapshot> {
        self.world().snapshots.clone()
    }

    /// ARNs of the keys scheduled for deletion, in order.
    pub fn scheduled_key_deletions(&self) -> Vec<String> {
        self.world().scheduled_key_deletions.clone()
    }

    /// How many status polls were made.
    pub fn polls(&self) -> u32 {
        self.world().polls
    }

    /// How many status polls were answered with throttling.
    pub fn throttled_polls(&self) -> u32 {
        self.world().throttled
    }

    // ----- machinery -----

    /// Records the call `name` and returns the fault scripted for it, if any.
    fn enter(&self, name: &str) -> Option<BackendError> {
        self.world().script.enter(name)
    }

    /// Records the call and fails it with the scripted fault, or when stopped or
    /// out of time, reporting the components of `area` that exist (every component
    /// when `area` is `None`).
    fn start<T>(
        &self,
        ctx: &StackContext,
        name: &str,
        during: &str,
        area: Option<&[&str]>,
    ) -> Result<(), Step<T>> {
        {
            let mut w = self.world();
            let s = w.stack(&ctx.stack);
            if s.initial_tags.is_none() {
                s.initial_tags = Some(ctx.tags.clone());
            }
        }
        let error = self.enter(name).or_else(|| ctx.checkpoint(during).err());
        match error {
            Some(e) => Err(Step::failed(e, self.rows(ctx, area))),
            None => Ok(()),
        }
    }

    fn rows(&self, ctx: &StackContext, area: Option<&[&str]>) -> Vec<ComponentRecord> {
        let w = self.world();
        match area {
            Some(keys) => w.rows(&ctx.stack, keys),
            None => w.all_rows(&ctx.stack),
        }
    }

    /// Waits, through the engine's [`Waiter`], until `target` is `available`.
    async fn wait_available(
        &self,
        ctx: &StackContext,
        target: Target,
        during: &str,
    ) -> Result<(), BackendError> {
        let limit = ctx.deadline.map_or(Duration::from_secs(3600), |d| {
            d.saturating_duration_since(Instant::now())
        });
        let what = match target {
            Target::Instance => format!("RDS instance {}", ctx.stack),
            Target::Replica(i) => format!("RDS instance {}-replica-{i}", ctx.stack),
        };
        let waiter = Waiter::new(OperationContext::new(ctx.cancel.clone()), what, limit)
            .with_interval(POLL)
            .with_poll_retry(POLL_RETRY)
            .with_hint("raise the timeout in the timeouts block");
        waiter
            .wait(&classify, || {
                std::future::ready(self.poll(&ctx.stack, target))
            })
            .await
            .map_err(|e| wait_error(e, during))
    }

    /// One status poll.
    fn poll(&self, stack: &str, target: Target) -> Result<Poll<()>, PollError> {
        let mut w = self.world();
        w.polls += 1;
        if w.throttle_polls > 0 {
            w.throttle_polls -= 1;
            w.throttled += 1;
            return Err(PollError::Throttled);
        }
        let stuck = w.stay_pending;
        let Some(s) = w.stacks.get_mut(stack) else {
            return Ok(Poll::Failed("the stack is gone".to_owned()));
        };
        let (status, polls_left) = match target {
            Target::Instance => match s.instance.as_mut() {
                Some(i) => (&mut i.state.status, &mut i.polls_left),
                None => return Ok(Poll::Failed("the instance is gone".to_owned())),
            },
            Target::Replica(index) => match s.replicas.get_mut(&index) {
                Some(r) => (&mut r.state.status, &mut r.polls_left),
                None => return Ok(Poll::Failed(format!("read replica {index} is gone"))),
            },
        };
        if stuck || *polls_left > 0 {
            *polls_left = polls_left.saturating_sub(1);
            return Ok(Poll::Pending {
                status: status.clone(),
            });
        }
        "available".clone_into(status);
        Ok(Poll::Done(()))
    }

    /// Waits until the primary is available; the step reports it and its rows.
    async fn instance_step(&self, ctx: &StackContext, during: &str) -> Step<InstanceState> {
        let result = self.wait_available(ctx, Target::Instance, during).await;
        let components = self.rows(ctx, Some(INSTANCE_AREA));
        let current = self
            .instance(&ctx.stack)
            .ok_or_else(|| BackendError::NotFound {
                what: format!("RDS instance {}", ctx.stack),
            });
        match result.and(current) {
            Ok(i) => Step::done(i, components),
            Err(e) => Step::failed(e, components),
        }
    }

    /// Waits until replica `index` is available; the step reports it.
    async fn replica_step(
        &self,
        ctx: &StackContext,
        index: u32,
        during: &str,
    ) -> Step<ReplicaState> {
        let result = self
            .wait_available(ctx, Target::Replica(index), during)
            .await;
        let key = replica_key(index);
        let components = self.rows(ctx, Some(&[key.as_str()]));
        let current =
            self.replicas(&ctx.stack)
                .remove(&index)
                .ok_or_else(|| BackendError::NotFound {
                    what: format!("read replica {index}"),
                });
        match result.and(current) {
            Ok(r) => Step::done(r, components),
            Err(e) => Step::failed(e, components),
        }
    }
}

fn wait_error(err: WaitError<PollError>, during: &str) -> BackendError {
    BackendError::from_wait(err, during, "Check the RDS console", |last| {
        BackendError::Retryable {
            operation: during.to_owned(),
            message: last.to_string(),
        }
    })
}

#[async_trait]
impl DatabaseBackend for ScriptedDatabase {
    fn components(&self, shape: &DatabaseShape) -> Knowable<Vec<Component>> {
        inventory::components(shape)
    }

    async fn ensure_encryption_key(
        &self,
        ctx: &StackContext,
        req: &EncryptionKeyRequest,
    ) -> Step<KeyState> {
        let during = "ensuring the encryption key";
        if let Err(step) = self.start(ctx, "ensure_encryption_key", during, Some(KEY_AREA)) {
            return step;
        }
        let mut w = self.world();
        let stack = ctx.stack.as_str();
        let key = match req {
            EncryptionKeyRequest::Provided { id: arn } => KeyState {
                id: arn.clone(),
                created: false,
            },
            EncryptionKeyRequest::Create => match w.stacks.get(stack).and_then(|s| s.key.clone()) {
                Some(key) => key,
                None => {
                    let id = w.id("key");
                    let arn = format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{id}");
                    w.create(stack, record("kms_key", kind::KMS_KEY, None, &arn));
                    let key = KeyState {
                        id: arn,
                        created: true,
                    };
                    w.stack(stack).key = Some(key.clone());
                    key
                }
            },
        };
        Step::done(key, w.rows(stack, KEY_AREA))
    }

    async fn ensure_subnet_group(
        &self,
        ctx: &StackContext,
        req: &SubnetGroupRequest,
    ) -> Step<SubnetGroupState> {
        let during = "ensuring the DB subnet group";
        let area = SUBNET_GROUP_AREA;
        if let Err(step) = self.start(ctx, "ensure_subnet_group", during, Some(area)) {
            return step;
        }
        let mut w = self.world();
        let stack = ctx.stack.as_str();
        let mut zones = Vec::new();
        let mut vpcs = BTreeSet::new();
        for id in &req.subnet_ids {
            match w.subnets.get(id) {
                Some((zone, vpc)) => {
                    zones.push(zone.clone());
                    vpcs.insert(vpc.clone());
                }
                None => {
                    let error = BackendError::NotFound {
                        what: format!("subnet {id}"),
                    };
                    return Step::failed(error, w.rows(stack, area));
                }
            }
        }
        let mut vpcs = vpcs.into_iter();
        let (Some(vpc_id), None) = (vpcs.next(), vpcs.next()) else {
            let error = permanent(
                during,
                "InvalidParameterValue: the subnets of a DB subnet group must all be in one VPC"
                    .to_owned(),
                "List subnets of the database's VPC in network.subnet_ids",
            );
            return Step::failed(error, w.rows(stack, area));
        };
        let id = format!("paved-{stack}");
        if w.stacks.get(stack).is_none_or(|s| s.subnet_group.is_none()) {
            w.create(stack, record("subnet_group", kind::SUBNET_GROUP, None, &id));
        }
        let group = SubnetGroupState {
            id,
            zones,
            subnet_ids: req.subnet_ids.clone(),
            vpc_id,
        };
        w.stack(stack).subnet_group = Some(group.clone());
        Step::done(group, w.rows(stack, area))
    }

    async fn ensure_security_group(
        &self,
        ctx: &StackContext,
        req: &SecurityGroupRequest,
    ) -> Step<SecurityGroupState> {
        let during = "ensuring the database security group";
        let area = SECURITY_GROUP_AREA;
        if let Err(step) = self.start(ctx, "ensure_security_group", during, Some(area)) {
            return step;
        }
        let mut w = self.world();
        let stack = ctx.stack.as_str();
        if !w.subnets.values().any(|(_, vpc)| *vpc == req.vpc_id) {
            let error = BackendError::NotFound {
                what: format!("VPC {}", req.vpc_id),
            };
            return Step::failed(error, w.rows(stack, area));
        }
        let existing = w
            .stacks
            .get(stack)
            .and_then(|s| s.security_group.as_ref())
            .map(|g| g.id.clone());
        let id = match existing {
            Some(id) => id,
            None => {
                let id = w.id("sg");
                w.create(
                    stack,
                    record("security_group", kind::SECURITY_GROUP, None, &id),
                );
                id
            }
        };
        // Ingress is exactly what the request lists: rules added by hand go.
        let group = SecurityGroupState {
            id,
            allowed_security_group_ids: req.allowed_security_group_ids.clone(),
            allowed_cidrs: req.allowed_cidrs.clone(),
        };
        w.stack(stack).security_group = Some(group.clone());
        Step::done(group, w.rows(stack, area))
    }

    async fn ensure_parameter_group(
        &self,
        ctx: &StackContext,
        req: &ParameterGroupRequest,
    ) -> Step<ParameterGroupState> {
        let during = "ensuring the DB parameter group";
        let area = PARAMETER_GROUP_AREA;
        if let Err(step) = self.start(ctx, "ensure_parameter_group", during, Some(area)) {
            return step;
        }
        let mut w = self.world();
        let stack = ctx.stack.as_str();
        let info = req.engine.info();
        if !req.family.starts_with(info.family_prefix) {
            let error = permanent(
                during,
                format!(
                    "InvalidParameterValue: family {} is not a family of {}",
                    req.family, info.name
                ),
                "This is a bug in paved; please report it",
            );
            return Step::failed(error, w.rows(stack, area));
        }
        let name = format!("paved-{stack}-{}", req.family.replace('.', "-"));
        let mut parameters = req.parameters.clone();
        parameters.insert(info.tls_parameter.to_owned(), "1".to_owned());
        let group = ParameterGroup {
            family: req.family.clone(),
            parameters,
        };
        let row = record("parameter_group", kind::PARAMETER_GROUP, None, &name);
        let exists = w
            .stacks
            .get(stack)
            .is_some_and(|s| s.parameter_groups.contains_key(&name));
        if exists {
            w.stack(stack).components.insert(row.key.clone(), row);
        } else {
            w.create(stack, row);
        }
        w.stack(stack).parameter_groups.insert(name.clone(), group);
        let state = ParameterGroupState {
            id: name,
            family: req.family.clone(),
        };
        Step::done(state, w.rows(stack, area))
    }

    async fn ensure_instance(
        &self,
        ctx: &StackContext,
        req: &InstanceRequest,
    ) -> Step<InstanceState> {
        let during = "creating the database";
        if let Err(step) = self.start(ctx, "ensure_instance", during, Some(INSTANCE_AREA)) {
            return step;
        }
        {
            let mut w = self.world();
            let stack = ctx.stack.as_str();
            w.instance_requests.push(req.clone());
            let exists = w.stacks.get(stack).is_some_and(|s| s.instance.is_some());
            if !exists {
                if let Err(e) = w.check_instance(stack, req) {
                    return Step::failed(e, w.rows(stack, INSTANCE_AREA));
                }
                let version = resolved_version(req.engine, &req.engine_version);
                w.new_instance(stack, req, version, req.size_gb);
            }
        }
        self.instance_step(ctx, "waiting for the database to become available")
            .await
    }

    async fn ensure_replica(&self, ctx: &StackContext, req: &ReplicaRequest) -> Step<ReplicaState> {
        let index = req.index;
        let during = format!("creating read replica {index}");
        let key = replica_key(index);
        let area = [key.as_str()];
        let name = format!("ensure_replica {index}");
        if let Err(step) = self.start(ctx, &name, &during, Some(&area)) {
            return step;
        }
        {
            let mut w = self.world();
            let stack = ctx.stack.as_str();
            let polls = w.polls_to_available;
            let exists = w
                .stacks
                .get(stack)
                .is_some_and(|s| s.replicas.contains_key(&index));
            if !exists {
                let source = w
                    .stacks
                    .get(stack)
                    .and_then(|s| s.instance.as_ref())
                    .filter(|i| i.state.id == req.source_id)
                    .map(|i| i.state.zone.clone());
                let Some(primary_zone) = source else {
                    let error = BackendError::NotFound {
                        what: format!("the primary RDS instance {}", req.source_id),
                    };
                    return Step::failed(error, w.rows(stack, &area));
                };
                let mut zones: Vec<String> = w
                    .stacks
                    .get(stack)
                    .and_then(|s| s.subnet_group.as_ref())
                    .map(|g| g.zones.clone())
                    .unwrap_or_default();
                zones.sort();
                let zone = zones
                    .into_iter()
                    .find(|z| !req.avoid_zones.contains(z))
                    .unwrap_or(primary_zone);
                let id = format!("{stack}-replica-{index}");
                w.create(stack, record(&key, kind::DB_REPLICA, Some(&zone), &id));
                let state = ReplicaState {
                    index,
                    endpoint: format!("{id}.c0ffee.{REGION}.rds.amazonaws.com"),
                    id,
                    zone,
                    status: "creating".to_owned(),
                };
                w.stack(stack).replicas.insert(
                    index,
                    Replica {
                        state,
                        polls_left: polls,
                    },
                );
            }
        }
        self.replica_step(
            ctx,
            index,
            "waiting for the read replica to become available",
        )
        .await
    }

    async fn delete_replica(&self, ctx: &StackContext, index: u32) -> Step<()> {
        let key = replica_key(index);
        let area = [key.as_str()];
        let during = format!("deleting read replica {index}");
        let name = format!("delete_replica {index}");
        if let Err(step) = self.start(ctx, &name, &during, Some(&area)) {
            return step;
        }
        let mut w = self.world();
        if let Some(s) = w.stacks.get_mut(&ctx.stack) {
            s.replicas.remove(&index);
            s.components.remove(&key);
        }
        Step::done((), Vec::new())
    }

    async fn modify_instance(
        &self,
        ctx: &StackContext,
        instance_id: &str,
        req: &ModifyRequest,
    ) -> Step<InstanceState> {
        let during = format!("changing RDS instance {instance_id}");
        if let Err(step) = self.start(ctx, "modify_instance", &during, Some(INSTANCE_AREA)) {
            return step;
        }
        {
            let mut w = self.world();
            w.modifications.push(req.clone());
            let polls = w.polls_to_available;
            let stack = ctx.stack.as_str();
            let rows = w.rows(stack, INSTANCE_AREA);
            let Some(s) = w.stacks.get_mut(stack) else {
                let error = BackendError::NotFound {
                    what: format!("RDS instance {instance_id}"),
                };
                return Step::failed(error, rows);
            };
            let groups: BTreeSet<String> = s.parameter_groups.keys().cloned().collect();
            let Some(inst) = s.instance.as_mut().filter(|i| i.state.id == instance_id) else {
                let error = BackendError::NotFound {
                    what: format!("RDS instance {instance_id}"),
                };
                return Step::failed(error, rows);
            };
            let refuse = |message: String, hint: &str| {
                Step::failed(permanent(&during, message, hint), rows.clone())
            };
            if let Some(size) = req.size_gb.filter(|s| *s < inst.state.size_gb) {
                return refuse(
                    format!(
                        "InvalidParameterCombination: allocated storage cannot shrink from {} to {size} GB",
                        inst.state.size_gb
                    ),
                    "Keep storage.size_gb at least as large",
                );
            }
            if let Some(version) = &req.engine_version {
                let engine = inst.engine;
                let major = engine.major_of(version);
                if major != engine.major_of(&inst.state.engine_version)
                    && !req.allow_major_version_upgrade
                {
                    return refuse(
                        "InvalidParameterCombination: The AllowMajorVersionUpgrade flag must be \
                         present when upgrading to a new major version"
                            .to_owned(),
                        "Set allow_major_version_upgrade = true",
                    );
                }
            }
            if let Some(group) = req
                .parameter_group_id
                .as_ref()
                .filter(|g| !groups.contains(*g))
            {
                let error = BackendError::NotFound {
                    what: format!("DB parameter group {group}"),
                };
                return Step::failed(error, rows);
            }
            let before = inst.state.clone();
            let before_group = inst.parameter_group_id.clone();
            let st = &mut inst.state;
            if let Some(v) = &req.instance_class {
                st.instance_class.clone_from(v);
            }
            if let Some(v) = req.size_gb {
                st.size_gb = v;
            }
            if let Some(v) = req.max_size_gb {
                st.max_size_gb = v;
            }
            if let Some(v) = req.backup_retention_days {
                st.backup_retention_days = v;
                st.latest_restorable_time = (v > 0).then(|| RESTORABLE_TIME.to_owned());
            }
            if let Some(v) = &req.backup_window {
                st.backup_window.clone_from(v);
            }
            if let Some(v) = &req.maintenance_window {
                st.maintenance_window.clone_from(v);
            }
            if let Some(v) = req.multi_az {
                st.multi_az = v;
            }
            if let Some(v) = &req.engine_version {
                st.engine_version = resolved_version(inst.engine, v);
            }
            if let Some(v) = req.deletion_protection {
                st.deletion_protection = v;
            }
            if let Some(v) = req.iam_authentication {
                st.iam_authentication = v;
            }
            if let Some(v) = &req.parameter_group_id {
                inst.parameter_group_id.clone_from(v);
            }
            if inst.state != before || inst.parameter_group_id != before_group {
                "modifying".clone_into(&mut inst.state.status);
                inst.polls_left = polls;
            }
            let group = inst.parameter_group_id.clone();
            s.components.insert(
                "parameter_group".to_owned(),
                record("parameter_group", kind::PARAMETER_GROUP, None, &group),
            );
        }
        self.instance_step(ctx, "waiting for the change to be applied")
            .await
    }

    async fn read_stack(&self, ctx: &StackContext) -> Step<DatabaseSnapshot> {
        // A read makes no change: like the AWS backend's, it runs even after a stop
        // (the resource reads what exists once a step was cut short).
        if let Some(e) = self.enter("read_stack") {
            return Step::failed(e, self.rows(ctx, None));
        }
        let snapshot = self
            .world()
            .stacks
            .get(&ctx.stack)
            .map(Stack::snapshot)
            .unwrap_or_default();
        let components = snapshot.components.clone();
        Step::done(snapshot, components)
    }

    async fn retag(
        &self,
        ctx: &StackContext,
        components: &[ComponentRecord],
        removed: &[String],
    ) -> Step<()> {
        if let Err(step) = self.start(ctx, "retag", "retagging the database", Some(&[])) {
            return step;
        }
        let mut w = self.world();
        let s = w.stack(&ctx.stack);
        for c in components {
            if s.components.contains_key(&c.key) {
                let mut tags = s.tags_of(&c.key);
                tags.extend(ctx.tags.iter().map(|(k, v)| (k.clone(), v.clone())));
                tags.retain(|k, _| !removed.contains(k));
                s.tags.insert(c.key.clone(), tags);
            }
        }
        Step::done((), Vec::new())
    }

    async fn delete_stack(&self, ctx: &StackContext, req: &DeleteRequest) -> Step<TeardownReport> {
        let during = "deleting the database";
        if let Err(step) = self.start(ctx, "delete_stack", during, None) {
            return step;
        }
        let mut w = self.world();
        w.teardowns.push(req.clone());
        let left_behind = w.left_behind.clone();
        let Some(mut s) = w.stacks.remove(&ctx.stack) else {
            return Step::done(TeardownReport::default(), Vec::new());
        };
        // Deletion protection refuses teardown before anything is touched.
        if let Some(inst) = s.instance.as_ref().filter(|i| i.state.deletion_protection) {
            let error = permanent(
                during,
                format!("RDS instance {} has deletion protection on", inst.state.id),
                "Set deletion_protection = false and apply, then destroy again",
            );
            let mut rows = s.rows(INSTANCE_AREA);
            rows.extend(s.replicas.keys().filter_map(|i| {
                let key = replica_key(*i);
                s.components.get(&key).cloned()
            }));
            w.stacks.insert(ctx.stack.clone(), s);
            return Step::failed(error, rows);
        }
        let mut report = TeardownReport::default();
        fn leave(report: &mut TeardownReport, component: ComponentRecord, reason: String) {
            report.left_behind.push(LeftBehind { component, reason });
        }

        // 1. Replicas.
        let mut replicas_left = false;
        for index in s.replicas.keys().copied().collect::<Vec<_>>() {
            let key = replica_key(index);
            let Some(row) = s.components.get(&key).cloned() else {
                s.replicas.remove(&index);
                continue;
            };
            match left_behind.get(&key) {
                Some(reason) => {
                    replicas_left = true;
                    leave(&mut report, row, reason.clone());
                }
                None => {
                    s.replicas.remove(&index);
                    s.components.remove(&key);
                    report.deleted.push(row);
                }
            }
        }

        // 2. The primary, after its final snapshot, with its secret.
        if let Some(inst) = s.instance.clone() {
            let rows = s.rows(INSTANCE_AREA);
            let taken = req
                .final_snapshot
                .as_ref()
                .filter(|name| w.snapshots.contains_key(*name));
            let reason = if replicas_left {
                Some(
                    "a read replica could not be deleted; deleting the primary would turn the \
                     replica into a standalone database"
                        .to_owned(),
                )
            } else if let Some(reason) = left_behind.get("instance") {
                Some(reason.clone())
            } else {
                taken.map(|name| {
                    format!("DBSnapshotAlreadyExists: a DB snapshot named {name} already exists")
                })
            };
            match reason {
                Some(reason) => {
                    for row in rows {
                        leave(&mut report, row, reason.clone());
                    }
                }
                None => {
                    if let Some(name) = &req.final_snapshot {
                        w.snapshots.insert(
                            name.clone(),
                            DbSnapshot {
                                source: inst.state.id.clone(),
                                engine: inst.engine,
                                engine_version: inst.state.engine_version.clone(),
                                size_gb: inst.state.size_gb,
                                encryption_key: inst.encryption_key.clone(),
                            },
                        );
                    }
                    s.instance = None;
                    for row in rows {
                        s.components.remove(&row.key);
                        report.deleted.push(row);
                    }
                }
            }
        }

        // 3. The groups, which RDS keeps while the instance using them remains.
        let in_use = s.instance.as_ref().map(|i| i.state.id.clone());
        let group_reason = |key: &str| -> Option<String> {
            left_behind.get(key).cloned().or_else(|| {
                in_use
                    .as_ref()
                    .map(|id| format!("it is in use by RDS instance {id}"))
            })
        };
        let used_group = s.instance.as_ref().map(|i| i.parameter_group_id.clone());
        for name in s.parameter_groups.keys().cloned().collect::<Vec<_>>() {
            let row = record("parameter_group", kind::PARAMETER_GROUP, None, &name);
            let reason = left_behind.get("parameter_group").cloned().or_else(|| {
                in_use
                    .as_ref()
                    .filter(|_| used_group.as_ref() == Some(&name))
                    .map(|id| format!("it is in use by RDS instance {id}"))
            });
            match reason {
                Some(reason) => leave(&mut report, row, reason),
                None => {
                    s.parameter_groups.remove(&name);
                    report.deleted.push(row);
                }
            }
        }
        if s.parameter_groups.is_empty() {
            s.components.remove("parameter_group");
        }
        for key in ["security_group", "subnet_group"] {
            let Some(row) = s.components.get(key).cloned() else {
                continue;
            };
            match group_reason(key) {
                Some(reason) => leave(&mut report, row, reason),
                None => {
                    s.components.remove(key);
                    if key == "security_group" {
                        s.security_group = None;
                    } else {
                        s.subnet_group = None;
                    }
                    report.deleted.push(row);
                }
            }
        }

        // 4. The key paved created, when asked (scheduled for deletion).
        if req.delete_key {
            if let Some(row) = s.components.get("kms_key").cloned() {
                match left_behind.get("kms_key") {
                    Some(reason) => leave(&mut report, row, reason.clone()),
                    None => {
                        s.components.remove("kms_key");
                        s.key = None;
                        w.scheduled_key_deletions.push(row.id.clone());
                        report.deleted.push(row);
                    }
                }
            }
        }

        let remaining: Vec<ComponentRecord> = s.components.values().cloned().collect();
        if !s.is_empty() {
            w.stacks.insert(ctx.stack.clone(), s);
        }
        Step::done(report, remaining)
    }

    async fn restore_from_snapshot(
        &self,
        ctx: &StackContext,
        req: &SnapshotRestoreRequest,
    ) -> Step<InstanceState> {
        let during = "restoring the database";
        let area = INSTANCE_AREA;
        if let Err(step) = self.start(ctx, "restore_from_snapshot", during, Some(area)) {
            return step;
        }
        {
            let mut w = self.world();
            let stack = ctx.stack.as_str();
            w.snapshot_restores.push(req.clone());
            let exists = w.stacks.get(stack).is_some_and(|s| s.instance.is_some());
            if !exists {
                if let Err(e) = w.check_instance(stack, &req.instance) {
                    return Step::failed(e, w.rows(stack, area));
                }
                let Some(snapshot) = w.snapshots.get(&req.snapshot_id).cloned() else {
                    let error = BackendError::NotFound {
                        what: format!("DB snapshot {}", req.snapshot_id),
                    };
                    return Step::failed(error, w.rows(stack, area));
                };
                if snapshot.engine != req.instance.engine {
                    let error = permanent(
                        during,
                        format!(
                            "InvalidParameterCombination: snapshot {} is of engine {}, not {}",
                            req.snapshot_id,
                            snapshot.engine.as_str(),
                            req.instance.engine.as_str()
                        ),
                        "Restore it with the snapshot's engine",
                    );
                    return Step::failed(error, w.rows(stack, area));
                }
                w.new_instance(
                    stack,
                    &req.instance,
                    snapshot.engine_version,
                    snapshot.size_gb,
                );
            }
        }
        self.instance_step(ctx, "waiting for the restored database")
            .await
    }

    async fn restore_to_point_in_time(
        &self,
        ctx: &StackContext,
        req: &PointInTimeRequest,
    ) -> Step<InstanceState> {
        let during = "restoring the database to a point in time";
        let area = INSTANCE_AREA;
        if let Err(step) = self.start(ctx, "restore_to_point_in_time", during, Some(area)) {
            return step;
        }
        {
            let mut w = self.world();
            let stack = ctx.stack.as_str();
            w.point_in_time_restores.push(req.clone());
            let exists = w.stacks.get(stack).is_some_and(|s| s.instance.is_some());
            if !exists {
                if let Err(e) = w.check_instance(stack, &req.instance) {
                    return Step::failed(e, w.rows(stack, area));
                }
                let source = &req.source_db_instance_id;
                let Some(found) = w.find_instance(source).cloned() else {
                    let error = BackendError::NotFound {
                        what: format!("RDS instance {source}"),
                    };
                    return Step::failed(error, w.rows(stack, area));
                };
                let problem = match (&found.state.latest_restorable_time, &req.restore_time) {
                    (None, _) => Some((
                        format!(
                            "InvalidDBInstanceState: automated backups are off on {source}, so it \
                             cannot be restored to a point in time"
                        ),
                        "Turn backups on for the source first",
                    )),
                    (_, Some(t)) if !is_utc_rfc3339(t) => Some((
                        format!("restore_time {t:?} is not an RFC 3339 time"),
                        "Write it like 2026-11-22T01:30:00Z",
                    )),
                    (Some(latest), Some(t)) if t > latest => Some((
                        format!(
                            "InvalidRestoreFault: {t} is after the latest restorable time of \
                             {source}, {latest}"
                        ),
                        "Pick an earlier time, or use_latest_restorable_time = true",
                    )),
                    _ => None,
                };
                if let Some((message, hint)) = problem {
                    return Step::failed(permanent(during, message, hint), w.rows(stack, area));
                }
                if found.engine != req.instance.engine {
                    let error = permanent(
                        during,
                        format!(
                            "InvalidParameterCombination: {source} runs {}, not {}",
                            found.engine.as_str(),
                            req.instance.engine.as_str()
                        ),
                        "Restore it with the source's engine",
                    );
                    return Step::failed(error, w.rows(stack, area));
                }
                w.new_instance(
                    stack,
                    &req.instance,
                    found.state.engine_version.clone(),
                    found.state.size_gb,
                );
            }
        }
        self.instance_step(ctx, "waiting for the restored database")
            .await
    }
}

impl crate::ports::harness::ScriptedCloud for ScriptedDatabase {
    fn fail_next(&self, call: &str, error: BackendError) {
        ScriptedDatabase::fail_next(self, call, error);
    }
    fn fail_call(&self, position: usize, error: BackendError) {
        ScriptedDatabase::fail_call(self, position, error);
    }
    fn clear_faults(&self) {
        ScriptedDatabase::clear_faults(self);
    }
    fn duplicates(&self) -> Vec<String> {
        ScriptedDatabase::duplicates(self)
    }
    fn components(&self, stack: &str) -> BTreeMap<String, ComponentRecord> {
        ScriptedDatabase::components(self, stack)
    }
}

#[cfg(test)]
mod tests {
    //! The fake against the AWS backend's observable behaviour (see
    //! `tests/aws/database.rs`): teardown order, a second teardown doing nothing,
    //! and what `modify_instance` refuses.

    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::ports::database::StorageType;

    fn context(stack: &str) -> StackContext {
        StackContext {
            stack: stack.to_owned(),
            resource_type: "paved_managed_database",
            tags: BTreeMap::new(),
            cancel: CancellationToken::new(),
            deadline: Some(Instant::now() + Duration::from_secs(10)),
        }
    }

    /// Builds a whole stack (key, groups, primary, one replica) through the port.
    async fn build(fake: &ScriptedDatabase, ctx: &StackContext) -> InstanceState {
        let key = fake
            .ensure_encryption_key(ctx, &EncryptionKeyRequest::Create)
            .await
            .result
            .expect("key");
        let subnets = fake
            .ensure_subnet_group(
                ctx,
                &SubnetGroupRequest {
                    subnet_ids: SUBNETS.iter().map(|s| (*s).to_owned()).collect(),
                },
            )
            .await
            .result
            .expect("subnet group");
        assert_eq!(subnets.zones, ZONES);
        let sg = fake
            .ensure_security_group(
                ctx,
                &SecurityGroupRequest {
                    vpc_id: VPC.to_owned(),
                    port: 5432,
                    allowed_security_group_ids: Vec::new(),
                    allowed_cidrs: vec!["10.1.0.0/16".to_owned()],
                },
            )
            .await
            .result
            .expect("security group");
        let pg = fake
            .ensure_parameter_group(
                ctx,
                &ParameterGroupRequest {
                    engine: Engine::Postgres,
                    family: "postgres16".to_owned(),
                    parameters: BTreeMap::new(),
                },
            )
            .await
            .result
            .expect("parameter group");
        let req = InstanceRequest {
            name: ctx.stack.clone(),
            engine: Engine::Postgres,
            engine_version: "16".to_owned(),
            instance_class: "db.m6g.large".to_owned(),
            size_gb: 100,
            max_size_gb: 500,
            storage_type: StorageType::Gp3,
            multi_az: true,
            backup_retention_days: 14,
            backup_window: "03:00-04:00".to_owned(),
            backup_copy_region: None,
            maintenance_window: "sun:05:00-sun:06:00".to_owned(),
            subnet_group_id: subnets.id,
            security_group_id: sg.id,
            parameter_group_id: pg.id,
            encryption_key: key.id,
            deletion_protection: false,
            iam_authentication: false,
        };
        let instance = fake
            .ensure_instance(ctx, &req)
            .await
            .result
            .expect("instance");
        let replica = fake
            .ensure_replica(
                ctx,
                &ReplicaRequest {
                    index: 0,
                    source_id: instance.id.clone(),
                    instance_class: req.instance_class.clone(),
                    avoid_zones: vec![instance.zone.clone()],
                },
            )
            .await
            .result
            .expect("replica");
        assert_ne!(replica.zone, instance.zone);
        instance
    }

    #[tokio::test]
    async fn teardown_goes_in_dependency_order_and_a_second_one_does_nothing() {
        let fake = ScriptedDatabase::new();
        let ctx = context("orders");
        build(&fake, &ctx).await;
        // Another stack's read sees none of it.
        let other = fake.read_stack(&context("payments")).await.result.unwrap();
        assert!(other.instance.is_none() && other.components.is_empty());
        let req = DeleteRequest {
            final_snapshot: Some("orders-final-202601311200".to_owned()),
            delete_key: true,
        };
        let step = fake.delete_stack(&ctx, &req).await;
        let report = step.result.expect("teardown");
        let deleted: Vec<&str> = report.deleted.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            deleted,
            [
                "replica.0",
                "instance",
                "master_secret",
                "parameter_group",
                "security_group",
                "subnet_group",
                "kms_key"
            ]
        );
        assert!(report.left_behind.is_empty());
        assert!(step.components.is_empty());
        assert!(fake.snapshots().contains_key("orders-final-202601311200"));
        let again = fake.delete_stack(&ctx, &req).await.result.expect("again");
        assert_eq!(again, TeardownReport::default());
        let read = fake.read_stack(&ctx).await.result.expect("read");
        assert_eq!(read, DatabaseSnapshot::default());
    }

    #[tokio::test]
    async fn modify_refuses_what_rds_refuses_and_changes_the_rest() {
        let fake = ScriptedDatabase::new();
        let ctx = context("orders");
        let instance = build(&fake, &ctx).await;
        let shrink = ModifyRequest {
            size_gb: Some(50),
            ..ModifyRequest::default()
        };
        let err = fake
            .modify_instance(&ctx, &instance.id, &shrink)
            .await
            .result
            .expect_err("storage cannot shrink");
        assert!(err.to_string().contains("cannot shrink"), "{err}");
        let major = ModifyRequest {
            engine_version: Some("17".to_owned()),
            ..ModifyRequest::default()
        };
        let err = fake
            .modify_instance(&ctx, &instance.id, &major)
            .await
            .result
            .expect_err("a major upgrade needs the flag");
        assert!(
            err.to_string().contains("AllowMajorVersionUpgrade"),
            "{err}"
        );
        let grow = ModifyRequest {
            size_gb: Some(200),
            deletion_protection: Some(true),
            ..ModifyRequest::default()
        };
        let changed = fake
            .modify_instance(&ctx, &instance.id, &grow)
            .await
            .result
            .expect("grow");
        assert_eq!(
            (changed.size_gb, changed.status.as_str()),
            (200, "available")
        );
        assert!(changed.deletion_protection);
        let missing = fake
            .modify_instance(&ctx, "nope", &grow)
            .await
            .result
            .expect_err("no such instance");
        assert!(
            matches!(missing, BackendError::NotFound { .. }),
            "{missing}"
        );
    }
}
