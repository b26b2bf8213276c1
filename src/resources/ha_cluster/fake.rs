//! A scripted, in-memory [`ClusterBackend`] for the resource's lifecycle tests.
//!
//! [`ScriptedBackend`] models stacks the way the AWS backend sees them: a network
//! with zones, subnets and NAT gateways, a key, roles, a control plane whose status
//! goes from `CREATING` to `ACTIVE` over a few polls, node pools likewise, and every
//! component under its inventory key. The components a stack consists of are the
//! AWS adapter's ([`crate::cloud::aws::cluster::inventory::components`]): the fake
//! scripts that cloud, so the plan lists what the AWS backend would build (the one
//! import of an adapter by a resource, allowed to a test-only `fake.rs` by
//! `scripts/check-layers.py`). `ensure_*` calls adopt what exists and create only
//! what is missing, and the fake counts creations per key, so a test can prove an
//! interrupted apply resumes without duplicates.
//!
//! Every call is recorded in order (`"ensure_network"`, `"upgrade_control_plane
//! 1.31"`, `"update_node_pool system"`...). A test can script faults: fail a call
//! (by its position or its name) with a given [`BackendError`], keep the control
//! plane or the node pools `CREATING` forever, throttle the first status polls, or leave components
//! behind on teardown. Waits go through the engine's [`Waiter`] on the real clock
//! with millisecond poll intervals, watching [`StackContext::cancel`] and
//! [`StackContext::deadline`], so cancellation and timeouts behave as in production
//! and tests still run in milliseconds.
//!
//! Managed add-ons (`"ensure_addons"`) are installed at the version asked or, without
//! one, at [`default_addon_version`] for the cluster's minor (so an upgrade moves
//! them); add-ons paved installed and no longer listed are removed. Team access
//! (`"ensure_group_access"`) is kept per principal; access paved granted and no
//! longer listed is revoked; a principal whose access was granted by hand
//! ([`ScriptedBackend::grant_admin_by_hand`]) is refused, as the AWS backend does.
//! With the workload identity provider, `ensure_identities` also makes the storage
//! driver's role (`iam_role.storage_driver`).
//!
//! Not modelled: removing surplus components when a layout shrinks (fewer NAT
//! gateways), converging control-plane settings in place (requests are recorded
//! only), waits for deletions and for add-ons (they are `ACTIVE` at once), keeping
//! an add-on newer than the default, and labels, taints or disk size read back (the
//! backend's [`NodePoolState`] has no place for them).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use paved_value::Value;

use crate::stack::inventory::Component;
use crate::stack::{
    BackendError, ComponentRecord, Knowable, LeftBehind, StackContext, Step, TeardownReport,
};

use crate::cloud::aws::cluster::inventory;
use crate::framework::PlanResponse;
use crate::ports::cluster::{
    AddonState, AddonsRequest, ClusterBackend, ClusterShape, ControlPlaneRequest,
    ControlPlaneState, GroupAccess, IdentityRequest, IdentityState, NetworkRequest, NetworkState,
    NodePoolRequest, NodePoolState, StackSnapshot, TeardownRequest, ZoneChoice,
};

use crate::ports::cluster::kind;
use crate::ports::harness::Script;
use crate::ports::key::{EncryptionKeyRequest, KeyState};
use crate::ports::network::NatLayout;
use crate::ports::network::Tier;
use crate::ports::BackendFactory;
use crate::stack::retry::{Jitter, RetryPolicy, Retryability};
use crate::stack::{OperationContext, Poll, PollBackoff, WaitError, Waiter};

/// The zones of the fake region, by name.
pub const ZONES: [&str; 5] = [
    "eu-west-1a",
    "eu-west-1b",
    "eu-west-1c",
    "eu-west-1d",
    "eu-west-1e",
];

/// The version a control plane created without one runs.
pub const NEWEST_VERSION: &str = "1.31";

/// The version the fake installs of add-on `name` when none is asked, for
/// Kubernetes `minor` (`1.31`): `v<minor>.0-<name>`, so each minor has its own.
pub fn default_addon_version(name: &str, minor: &str) -> String {
    format!("v{minor}.0-{name}")
}

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

/// What a status poll of the fake can answer besides a status.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PollError {
    /// `ThrottlingException`: retryable.
    Throttled,
}

impl fmt::Display for PollError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PollError::Throttled => f.write_str("ThrottlingException: Rate exceeded"),
        }
    }
}

fn classify(error: &PollError) -> Retryability {
    match error {
        PollError::Throttled => Retryability::Retryable,
    }
}

/// A node pool the fake holds.
#[derive(Debug, Clone)]
struct Pool {
    state: NodePoolState,
    /// The last request that created or updated it.
    request: NodePoolRequest,
    /// The current size: set to `min_size` at create, then only the autoscaler's.
    desired_size: u32,
    /// Polls left before it turns `ACTIVE`.
    polls_left: u32,
}

/// One stack: everything tagged with its name.
#[derive(Debug, Clone, Default)]
struct Stack {
    network: Option<NetworkState>,
    key: Option<KeyState>,
    iam: Option<IdentityState>,
    control_plane: Option<ControlPlaneState>,
    /// Polls left before the control plane turns `ACTIVE`.
    control_plane_polls_left: u32,
    pools: BTreeMap<String, Pool>,
    components: BTreeMap<String, ComponentRecord>,
    /// Principals with cluster access that paved did not grant (made by hand).
    foreign_admins: Vec<String>,
    /// Managed add-ons by name (paved's: they have an `addon.` component).
    addons: BTreeMap<String, AddonState>,
    /// Team access paved granted: principal -> Kubernetes groups.
    group_access: BTreeMap<String, Vec<String>>,
    /// The tags each component carries, by key (set at creation and by retag).
    tags: BTreeMap<String, BTreeMap<String, String>>,
    /// The stack's tags as the latest call gave them (new components get these).
    current_tags: BTreeMap<String, String>,
}

impl Stack {
    /// The control plane as the cloud lists it: with every principal holding an
    /// access entry, paved's (tagged components) and others.
    fn control_plane(&self) -> Option<ControlPlaneState> {
        let mut cp = self.control_plane.clone()?;
        let mut admins: Vec<String> = self
            .components
            .keys()
            .filter_map(|k| k.strip_prefix("access_entry."))
            .map(str::to_owned)
            .collect();
        admins.extend(self.foreign_admins.iter().cloned());
        for p in self.group_access.keys() {
            if !admins.contains(p) {
                admins.push(p.clone());
            }
        }
        cp.admins = Some(admins);
        Some(cp)
    }

    /// The components whose key starts with one of `prefixes`.
    fn area(&self, prefixes: &[&str]) -> Vec<ComponentRecord> {
        self.components
            .values()
            .filter(|c| prefixes.iter().any(|p| c.key.starts_with(p)))
            .cloned()
            .collect()
    }

    fn is_empty(&self) -> bool {
        self.components.is_empty()
    }
}

/// Component key prefixes of each area, for the components a step reports.
const NETWORK_AREA: &[&str] = &[
    "vpc",
    "internet_gateway",
    "subnet.",
    "elastic_ip.",
    "nat_gateway.",
    "route_table.",
];
const IAM_AREA: &[&str] = &["iam_role."];
const KEY_AREA: &[&str] = &["kms_key"];
const CONTROL_PLANE_AREA: &[&str] = &["log_group", "cluster", "oidc_provider", "access_entry."];
const ADDON_AREA: &[&str] = &["addon."];
const GROUP_ACCESS_AREA: &[&str] = &["group_access."];

/// The fake's whole world: stacks, the record of calls and the script.
#[derive(Debug, Default)]
struct World {
    stacks: BTreeMap<String, Stack>,
    script: Script,
    creations: BTreeMap<String, u32>,
    next_id: u64,
    polls_to_active: u32,
    stuck_creating: bool,
    stuck_pools: bool,
    throttle_polls: u32,
    throttled: u32,
    polls: u32,
    left_behind: BTreeMap<String, String>,
    pool_requests: Vec<(String, NodePoolRequest)>,
    control_plane_requests: Vec<ControlPlaneRequest>,
    addon_requests: Vec<AddonsRequest>,
    group_access_requests: Vec<Vec<GroupAccess>>,
    teardowns: Vec<TeardownRequest>,
}

impl World {
    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{:04}", self.next_id)
    }

    /// Adopts the component `key` of `stack`, or creates it (counting the creation).
    fn ensure(&mut self, stack: &str, key: &str, kind: &str, zone: Option<&str>) -> String {
        if let Some(found) = self.stacks.get(stack).and_then(|s| s.components.get(key)) {
            return found.id.clone();
        }
        let id = self.id(kind);
        self.create(stack, key, kind, zone, &id);
        id
    }

    /// Adopts or creates the stack's role `which` (`iam_role.<which>`), whose id is
    /// an IAM role ARN as the AWS backend reports it
    /// (`arn:aws:iam::123456789012:role/<stack>-<which>`).
    fn ensure_role(&mut self, stack: &str, which: &str) -> String {
        let key = format!("iam_role.{which}");
        if let Some(found) = self.stacks.get(stack).and_then(|s| s.components.get(&key)) {
            return found.id.clone();
        }
        let id = format!("arn:aws:iam::123456789012:role/{stack}-{which}");
        self.create(stack, &key, kind::IAM_ROLE, None, &id);
        id
    }

    /// Creates the component `key` with `id` (replacing one with that key).
    fn create(&mut self, stack: &str, key: &str, kind: &str, zone: Option<&str>, id: &str) {
        *self.creations.entry(key.to_owned()).or_default() += 1;
        let s = self.stacks.entry(stack.to_owned()).or_default();
        let tags = s.current_tags.clone();
        s.tags.insert(key.to_owned(), tags);
        s.components.insert(
            key.to_owned(),
            ComponentRecord {
                key: key.to_owned(),
                kind: kind.to_owned(),
                zone: zone.map(str::to_owned),
                id: id.to_owned(),
            },
        );
    }

    fn stack(&mut self, stack: &str) -> &mut Stack {
        self.stacks.entry(stack.to_owned()).or_default()
    }
}

/// What a wait waits for.
#[derive(Debug, Clone)]
enum Target {
    ControlPlane,
    Pool(String),
}

/// The scripted, in-memory backend. Share it with the resource through
/// [`ScriptedBackend::factory`] and inspect it afterwards.
#[derive(Debug, Default)]
pub struct ScriptedBackend {
    world: Mutex<World>,
}

/// The plan on the scripted cloud ([`super::plan::plan_for`]): its inventory lists
/// what the AWS adapter would build, as a plan on AWS does.
pub fn plan(prior_state: &Value, proposed_new_state: &Value, config: &Value) -> PlanResponse {
    let cloud = ScriptedBackend::default();
    super::plan::plan_for(Some(&cloud), prior_state, proposed_new_state, config)
}

impl ScriptedBackend {
    /// An empty cloud; control planes and pools turn `ACTIVE` after two polls.
    pub fn new() -> Arc<Self> {
        let fake = ScriptedBackend::default();
        fake.world().polls_to_active = 2;
        Arc::new(fake)
    }

    /// A backend factory for [`super::resource::resource`] that hands out this fake.
    pub fn factory(self: &Arc<Self>) -> BackendFactory<dyn ClusterBackend> {
        let fake = Arc::clone(self);
        Arc::new(move |_| Ok(Arc::clone(&fake) as Arc<dyn ClusterBackend>))
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

    /// Drops every fault not yet triggered and lets stuck control planes finish.
    pub fn clear_faults(&self) {
        let mut w = self.world();
        w.script.clear_faults();
        w.stuck_creating = false;
        w.stuck_pools = false;
        w.throttle_polls = 0;
    }

    /// Keeps every control plane `CREATING` (or `UPDATING`) for as long as `stuck`.
    pub fn stay_creating(&self, stuck: bool) {
        self.world().stuck_creating = stuck;
    }

    /// Keeps every node pool `CREATING` (or `UPDATING`) for as long as `stuck`.
    pub fn stay_creating_pools(&self, stuck: bool) {
        self.world().stuck_pools = stuck;
    }

    /// Answers the next `count` status polls with a throttling error.
    pub fn throttle_polls(&self, count: u32) {
        self.world().throttle_polls = count;
    }

    /// How many polls a new (or upgrading) control plane or pool needs to turn `ACTIVE`.
    pub fn polls_to_active(&self, polls: u32) {
        self.world().polls_to_active = polls;
    }

    /// Makes teardown fail to remove the component `key`, with `reason`.
    pub fn leave_behind(&self, key: &str, reason: &str) {
        self.world()
            .left_behind
            .insert(key.to_owned(), reason.to_owned());
    }

    /// Sets a pool's current size, as the cluster autoscaler would.
    pub fn autoscale(&self, stack: &str, pool: &str, size: u32) {
        if let Some(p) = self
            .world()
            .stacks
            .get_mut(stack)
            .and_then(|s| s.pools.get_mut(pool))
        {
            p.desired_size = size;
        }
    }

    /// Sets (or, with `None`, removes) tag `key` on component `component` behind
    /// paved's back (drift).
    pub fn drift_tag(&self, stack: &str, component: &str, key: &str, value: Option<&str>) {
        if let Some(tags) = self
            .world()
            .stacks
            .get_mut(stack)
            .and_then(|s| s.tags.get_mut(component))
        {
            match value {
                Some(v) => tags.insert(key.to_owned(), v.to_owned()),
                None => tags.remove(key),
            };
        }
    }

    /// The tags component `component` carries.
    pub fn tags_of(&self, stack: &str, component: &str) -> BTreeMap<String, String> {
        self.world()
            .stacks
            .get(stack)
            .and_then(|s| s.tags.get(component).cloned())
            .unwrap_or_default()
    }

    /// Deletes `principal`'s access entry behind paved's back (drift).
    pub fn revoke_admin_by_hand(&self, stack: &str, principal: &str) {
        if let Some(s) = self.world().stacks.get_mut(stack) {
            s.components.remove(&format!("access_entry.{principal}"));
        }
    }

    /// Gives `principal` cluster access behind paved's back: not paved's entry.
    pub fn grant_admin_by_hand(&self, stack: &str, principal: &str) {
        if let Some(s) = self.world().stacks.get_mut(stack) {
            s.foreign_admins.push(principal.to_owned());
        }
    }

    /// Changes a pool's bounds behind paved's back (drift).
    pub fn drift_pool_bounds(&self, stack: &str, pool: &str, min: u32, max: u32) {
        if let Some(p) = self
            .world()
            .stacks
            .get_mut(stack)
            .and_then(|s| s.pools.get_mut(pool))
        {
            p.state.min_size = min;
            p.state.max_size = max;
        }
    }

    // ----- inspection -----

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<String> {
        self.world().script.calls().to_vec()
    }

    /// Whether a call named `name` was made.
    pub fn called(&self, name: &str) -> bool {
        self.world().script.calls().iter().any(|c| c == name)
    }

    /// Forgets the calls recorded so far (not the stacks).
    pub fn clear_calls(&self) {
        let mut w = self.world();
        w.script.clear_calls();
        w.pool_requests.clear();
        w.control_plane_requests.clear();
        w.addon_requests.clear();
        w.group_access_requests.clear();
        w.teardowns.clear();
    }

    /// How many times a component with inventory key `key` was created.
    pub fn creations(&self, key: &str) -> u32 {
        self.world().creations.get(key).copied().unwrap_or(0)
    }

    /// Keys created more than once.
    pub fn duplicates(&self) -> Vec<String> {
        self.world()
            .creations
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(k, _)| k.clone())
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

    /// Node pool requests passed to `ensure_node_pool` (`"ensure"`) and
    /// `update_node_pool` (`"update"`), in order.
    pub fn pool_requests(&self) -> Vec<(String, NodePoolRequest)> {
        self.world().pool_requests.clone()
    }

    /// Requests passed to `ensure_addons`, in order.
    pub fn addon_requests(&self) -> Vec<AddonsRequest> {
        self.world().addon_requests.clone()
    }

    /// Requests passed to `ensure_group_access`, in order.
    pub fn group_access_requests(&self) -> Vec<Vec<GroupAccess>> {
        self.world().group_access_requests.clone()
    }

    /// The add-ons of `stack`, by name.
    pub fn addons(&self, stack: &str) -> BTreeMap<String, AddonState> {
        self.world()
            .stacks
            .get(stack)
            .map(|s| s.addons.clone())
            .unwrap_or_default()
    }

    /// The team access paved granted in `stack`: principal -> groups.
    pub fn group_access(&self, stack: &str) -> BTreeMap<String, Vec<String>> {
        self.world()
            .stacks
            .get(stack)
            .map(|s| s.group_access.clone())
            .unwrap_or_default()
    }

    /// Revokes `principal`'s team access behind paved's back (drift).
    pub fn revoke_group_access_by_hand(&self, stack: &str, principal: &str) {
        if let Some(s) = self.world().stacks.get_mut(stack) {
            s.group_access.remove(principal);
            s.components.remove(&format!("group_access.{principal}"));
        }
    }

    /// Removes add-on `name` behind paved's back (drift).
    pub fn remove_addon_by_hand(&self, stack: &str, name: &str) {
        if let Some(s) = self.world().stacks.get_mut(stack) {
            s.addons.remove(name);
            s.components.remove(&format!("addon.{name}"));
        }
    }

    /// Requests passed to `ensure_control_plane`, in order.
    pub fn control_plane_requests(&self) -> Vec<ControlPlaneRequest> {
        self.world().control_plane_requests.clone()
    }

    /// Teardown requests, in order.
    pub fn teardowns(&self) -> Vec<TeardownRequest> {
        self.world().teardowns.clone()
    }

    /// How many status polls were answered with throttling.
    pub fn throttled_polls(&self) -> u32 {
        self.world().throttled
    }

    /// How many status polls were made.
    pub fn polls(&self) -> u32 {
        self.world().polls
    }

    /// A pool's state and current size.
    pub fn pool(&self, stack: &str, pool: &str) -> Option<(NodePoolState, u32)> {
        self.world()
            .stacks
            .get(stack)
            .and_then(|s| s.pools.get(pool))
            .map(|p| (p.state.clone(), p.desired_size))
    }

    /// The last request that created or updated a pool.
    pub fn pool_request(&self, stack: &str, pool: &str) -> Option<NodePoolRequest> {
        self.world()
            .stacks
            .get(stack)
            .and_then(|s| s.pools.get(pool))
            .map(|p| p.request.clone())
    }

    /// The control plane of `stack`.
    pub fn control_plane(&self, stack: &str) -> Option<ControlPlaneState> {
        self.world()
            .stacks
            .get(stack)
            .and_then(|s| s.control_plane.clone())
    }

    // ----- machinery -----

    /// Records the call `name` and returns the fault scripted for it, if any.
    fn enter(&self, name: String) -> Option<BackendError> {
        self.world().script.enter(&name)
    }

    /// The components of `area` in `ctx`'s stack.
    fn area(&self, ctx: &StackContext, area: &[&str]) -> Vec<ComponentRecord> {
        self.world()
            .stacks
            .get(&ctx.stack)
            .map(|s| s.area(area))
            .unwrap_or_default()
    }

    /// Fails with the scripted fault, or when stopped or out of time: the fake's
    /// checkpoint before changing anything.
    fn start<T>(
        &self,
        ctx: &StackContext,
        name: String,
        during: &str,
        area: &[&str],
    ) -> Result<(), Step<T>> {
        self.world()
            .stacks
            .entry(ctx.stack.clone())
            .or_default()
            .current_tags = ctx.tags.clone();
        let error = self.enter(name).or_else(|| ctx.checkpoint(during).err());
        match error {
            Some(e) => Err(Step::failed(e, self.area(ctx, area))),
            None => Ok(()),
        }
    }

    /// Waits, through the engine's [`Waiter`], until `target` is `ACTIVE`.
    async fn wait_active(
        &self,
        ctx: &StackContext,
        target: Target,
        during: &str,
    ) -> Result<(), BackendError> {
        let limit = ctx.deadline.map_or(Duration::from_secs(3600), |d| {
            d.saturating_duration_since(Instant::now())
        });
        let what = match &target {
            Target::ControlPlane => format!("the control plane of {}", ctx.stack),
            Target::Pool(name) => format!("node pool {name}"),
        };
        let waiter = Waiter::new(OperationContext::new(ctx.cancel.clone()), what, limit)
            .with_interval(POLL)
            .with_poll_retry(POLL_RETRY)
            .with_hint("raise the timeout in the timeouts block");
        waiter
            .wait(&classify, || {
                std::future::ready(self.poll(&ctx.stack, &target))
            })
            .await
            .map_err(|e| wait_error(e, during))
    }

    /// One status poll.
    fn poll(&self, stack: &str, target: &Target) -> Result<Poll<()>, PollError> {
        let mut w = self.world();
        w.polls += 1;
        if w.throttle_polls > 0 {
            w.throttle_polls -= 1;
            w.throttled += 1;
            return Err(PollError::Throttled);
        }
        let (stuck, stuck_pools) = (w.stuck_creating, w.stuck_pools);
        let Some(s) = w.stacks.get_mut(stack) else {
            return Ok(Poll::Failed("the stack is gone".to_owned()));
        };
        match target {
            Target::ControlPlane => {
                let Some(cp) = s.control_plane.as_mut() else {
                    return Ok(Poll::Failed("the control plane is gone".to_owned()));
                };
                if stuck || s.control_plane_polls_left > 0 {
                    s.control_plane_polls_left = s.control_plane_polls_left.saturating_sub(1);
                    return Ok(Poll::Pending {
                        status: cp.status.clone(),
                    });
                }
                cp.status = "ACTIVE".to_owned();
                Ok(Poll::Done(()))
            }
            Target::Pool(name) => {
                let Some(p) = s.pools.get_mut(name) else {
                    return Ok(Poll::Failed(format!("node pool {name} is gone")));
                };
                if stuck_pools || p.polls_left > 0 {
                    p.polls_left = p.polls_left.saturating_sub(1);
                    return Ok(Poll::Pending {
                        status: p.state.status.clone(),
                    });
                }
                p.state.status = "ACTIVE".to_owned();
                Ok(Poll::Done(()))
            }
        }
    }

    /// The control plane of `ctx`'s stack, or NotFound.
    fn current_control_plane(&self, ctx: &StackContext) -> Result<ControlPlaneState, BackendError> {
        self.world()
            .stacks
            .get(&ctx.stack)
            .and_then(Stack::control_plane)
            .ok_or_else(|| BackendError::NotFound {
                what: format!("the control plane of {}", ctx.stack),
            })
    }

    fn current_pool(&self, ctx: &StackContext, name: &str) -> Result<NodePoolState, BackendError> {
        self.world()
            .stacks
            .get(&ctx.stack)
            .and_then(|s| s.pools.get(name))
            .map(|p| p.state.clone())
            .ok_or_else(|| BackendError::NotFound {
                what: format!("node pool {name}"),
            })
    }

    fn pool_area(name: &str) -> [String; 2] {
        [
            format!("launch_template.{name}"),
            format!("node_group.{name}"),
        ]
    }

    fn pool_components(&self, ctx: &StackContext, name: &str) -> Vec<ComponentRecord> {
        let keys = Self::pool_area(name);
        let prefixes: Vec<&str> = keys.iter().map(String::as_str).collect();
        self.area(ctx, &prefixes)
    }

    /// [`Self::start`] for a call on node pool `name`.
    fn start_pool<T>(
        &self,
        ctx: &StackContext,
        call: &str,
        name: &str,
        during: &str,
    ) -> Result<(), Step<T>> {
        let keys = Self::pool_area(name);
        let area: Vec<&str> = keys.iter().map(String::as_str).collect();
        self.start(ctx, format!("{call} {name}"), during, &area)
    }

    /// Waits until the control plane is active; the step reports it and the
    /// control plane's components.
    async fn control_plane_step(
        &self,
        ctx: &StackContext,
        during: &str,
    ) -> Step<ControlPlaneState> {
        let result = self.wait_active(ctx, Target::ControlPlane, during).await;
        let components = self.area(ctx, CONTROL_PLANE_AREA);
        match result.and_then(|()| self.current_control_plane(ctx)) {
            Ok(cp) => Step::done(cp, components),
            Err(e) => Step::failed(e, components),
        }
    }

    /// Waits until pool `name` is active; the step reports it and its components.
    async fn pool_step(&self, ctx: &StackContext, name: &str, during: &str) -> Step<NodePoolState> {
        let result = self
            .wait_active(ctx, Target::Pool(name.to_owned()), during)
            .await;
        let components = self.pool_components(ctx, name);
        match result.and_then(|()| self.current_pool(ctx, name)) {
            Ok(pool) => Step::done(pool, components),
            Err(e) => Step::failed(e, components),
        }
    }

    fn build_network(
        &self,
        ctx: &StackContext,
        cidr: &str,
        zones: &ZoneChoice,
        nat: NatLayout,
    ) -> NetworkState {
        let mut w = self.world();
        let stack = ctx.stack.as_str();
        let zones: Vec<String> = match zones {
            ZoneChoice::Named(z) => z.clone(),
            ZoneChoice::Choose(n) => ZONES
                .iter()
                .take(*n as usize)
                .map(|z| z.to_string())
                .collect(),
        };
        let vpc_id = w.ensure(stack, "vpc", kind::VPC, None);
        w.ensure(stack, "internet_gateway", kind::INTERNET_GATEWAY, None);
        let mut subnet_ids: BTreeMap<Tier, BTreeMap<String, String>> = BTreeMap::new();
        for tier in Tier::ALL {
            for (i, zone) in zones.iter().enumerate() {
                let key = format!("subnet.{}.{i}", tier.as_str());
                let id = w.ensure(stack, &key, kind::SUBNET, Some(zone));
                subnet_ids.entry(tier).or_default().insert(zone.clone(), id);
            }
        }
        let nat_zones = match nat {
            NatLayout::PerZone => zones.len(),
            NatLayout::Single => 1,
            NatLayout::None => 0,
        };
        let mut nat_gateway_ids = Vec::new();
        for (i, zone) in zones.iter().enumerate().take(nat_zones) {
            w.ensure(
                stack,
                &format!("elastic_ip.{i}"),
                kind::ELASTIC_IP,
                Some(zone),
            );
            nat_gateway_ids.push(w.ensure(
                stack,
                &format!("nat_gateway.{i}"),
                kind::NAT_GATEWAY,
                Some(zone),
            ));
        }
        w.ensure(stack, "route_table.public", kind::ROUTE_TABLE, None);
        if nat == NatLayout::PerZone {
            for (i, zone) in zones.iter().enumerate() {
                let key = format!("route_table.private.{i}");
                w.ensure(stack, &key, kind::ROUTE_TABLE, Some(zone));
            }
        } else {
            w.ensure(stack, "route_table.private", kind::ROUTE_TABLE, None);
        }
        w.ensure(stack, "route_table.intra", kind::ROUTE_TABLE, None);
        let network = NetworkState {
            vpc_id,
            cidr: cidr.to_owned(),
            zones,
            subnet_ids,
            nat_gateway_ids,
        };
        w.stack(stack).network = Some(network.clone());
        network
    }
}

fn wait_error(err: WaitError<PollError>, during: &str) -> BackendError {
    BackendError::from_wait(err, during, "Check the cloud console", |last| {
        BackendError::Retryable {
            operation: during.to_owned(),
            message: last.to_string(),
        }
    })
}

/// The order teardown deletes components in (pools first, the network last).
fn teardown_rank(kind_name: &str) -> usize {
    const ORDER: &[&str] = &[
        kind::NODE_GROUP,
        kind::LAUNCH_TEMPLATE,
        kind::EKS_ADDON,
        kind::GROUP_ACCESS,
        kind::ACCESS_ENTRY,
        kind::OIDC_PROVIDER,
        kind::CLUSTER,
        kind::LOG_GROUP,
        kind::IAM_ROLE,
        kind::NAT_GATEWAY,
        kind::ELASTIC_IP,
        kind::ROUTE_TABLE,
        kind::SUBNET,
        kind::INTERNET_GATEWAY,
        kind::VPC,
        kind::KMS_KEY,
    ];
    ORDER
        .iter()
        .position(|k| *k == kind_name)
        .unwrap_or(ORDER.len())
}

#[async_trait]
impl ClusterBackend for ScriptedBackend {
    fn components(&self, shape: &ClusterShape) -> Knowable<Vec<Component>> {
        inventory::components(shape)
    }

    async fn ensure_network(&self, ctx: &StackContext, req: &NetworkRequest) -> Step<NetworkState> {
        let during = "ensuring the network";
        if let Err(step) = self.start(ctx, "ensure_network".to_owned(), during, NETWORK_AREA) {
            return step;
        }
        let network = match req {
            NetworkRequest::Build { cidr, zones, nat } => {
                self.build_network(ctx, cidr, zones, *nat)
            }
            NetworkRequest::Existing {
                vpc_id, subnet_ids, ..
            } => {
                let private = subnet_ids.get(&Tier::Private).cloned().unwrap_or_default();
                let zones: Vec<String> = ZONES
                    .iter()
                    .take(private.len())
                    .map(|z| z.to_string())
                    .collect();
                let by_zone = subnet_ids
                    .iter()
                    .map(|(tier, ids)| (*tier, zones.iter().cloned().zip(ids.clone()).collect()))
                    .collect();
                let network = NetworkState {
                    vpc_id: vpc_id.clone(),
                    cidr: "10.99.0.0/16".to_owned(),
                    zones,
                    subnet_ids: by_zone,
                    nat_gateway_ids: Vec::new(),
                };
                self.world().stack(&ctx.stack).network = Some(network.clone());
                network
            }
        };
        Step::done(network, self.area(ctx, NETWORK_AREA))
    }

    async fn ensure_identities(
        &self,
        ctx: &StackContext,
        req: &IdentityRequest,
    ) -> Step<IdentityState> {
        let name = match req.workload_identity_provider {
            Some(_) => "ensure_identities oidc",
            None => "ensure_identities",
        };
        if let Err(step) = self.start(ctx, name.to_owned(), "ensuring the roles", IAM_AREA) {
            return step;
        }
        let iam = {
            let mut w = self.world();
            let stack = ctx.stack.as_str();
            let control_plane_identity = w.ensure_role(stack, "cluster");
            let node_identity = w.ensure_role(stack, "node");
            let autoscaler_identity = req
                .workload_identity_provider
                .as_ref()
                .map(|_| w.ensure_role(stack, "autoscaler"));
            let storage_driver_identity = req
                .workload_identity_provider
                .as_ref()
                .map(|_| w.ensure_role(stack, "storage_driver"));
            let iam = IdentityState {
                control_plane_identity,
                node_identity,
                autoscaler_identity,
                storage_driver_identity,
            };
            w.stack(stack).iam = Some(iam.clone());
            iam
        };
        Step::done(iam, self.area(ctx, IAM_AREA))
    }

    async fn ensure_encryption_key(
        &self,
        ctx: &StackContext,
        req: &EncryptionKeyRequest,
    ) -> Step<KeyState> {
        let during = "ensuring the encryption key";
        if let Err(step) = self.start(ctx, "ensure_encryption_key".to_owned(), during, KEY_AREA) {
            return step;
        }
        let key = {
            let mut w = self.world();
            let key = match req {
                EncryptionKeyRequest::Provided { id: arn } => KeyState {
                    id: arn.clone(),
                    created: false,
                },
                EncryptionKeyRequest::Create => {
                    let id = w.ensure(&ctx.stack, "kms_key", kind::KMS_KEY, None);
                    KeyState {
                        id: format!("arn:aws:kms:eu-west-1:123456789012:key/{id}"),
                        created: true,
                    }
                }
            };
            w.stack(&ctx.stack).key = Some(key.clone());
            key
        };
        Step::done(key, self.area(ctx, KEY_AREA))
    }

    async fn ensure_control_plane(
        &self,
        ctx: &StackContext,
        req: &ControlPlaneRequest,
    ) -> Step<ControlPlaneState> {
        let during = "creating the control plane";
        let area = CONTROL_PLANE_AREA;
        if let Err(step) = self.start(ctx, "ensure_control_plane".to_owned(), during, area) {
            return step;
        }
        {
            let mut w = self.world();
            w.control_plane_requests.push(req.clone());
            let stack = ctx.stack.as_str();
            if !req.log_types.is_empty() {
                w.ensure(stack, "log_group", kind::LOG_GROUP, None);
            }
            let exists = w
                .stacks
                .get(stack)
                .is_some_and(|s| s.control_plane.is_some());
            if !exists {
                let id = w.ensure(stack, "cluster", kind::CLUSTER, None);
                let oidc = w.ensure(stack, "oidc_provider", kind::OIDC_PROVIDER, None);
                let polls = w.polls_to_active;
                let s = w.stack(stack);
                s.control_plane = Some(ControlPlaneState {
                    id: id.clone(),
                    endpoint: format!("https://{id}.eks.example"),
                    certificate_authority: "Q0E=".to_owned(),
                    oidc_issuer_url: format!("https://oidc.example/id/{id}"),
                    workload_identity_provider: oidc,
                    kubernetes_version: req
                        .kubernetes_version
                        .clone()
                        .unwrap_or_else(|| NEWEST_VERSION.to_owned()),
                    platform: "eks".to_owned(),
                    location: "eu-west-1".to_owned(),
                    account: "123456789012".to_owned(),
                    status: "CREATING".to_owned(),
                    admins: None,
                    kubeconfig: format!("apiVersion: v1\nkind: Config\n# {id}\n"),
                });
                s.control_plane_polls_left = polls;
            }
            for admin in &req.admins {
                w.ensure(
                    stack,
                    &format!("access_entry.{admin}"),
                    kind::ACCESS_ENTRY,
                    None,
                );
            }
            // Access paved granted to principals no longer listed is revoked; access
            // granted by hand is not paved's to remove.
            w.stack(stack).components.retain(|key, _| {
                key.strip_prefix("access_entry.")
                    .is_none_or(|p| req.admins.iter().any(|a| a == p))
            });
        }
        self.control_plane_step(ctx, during).await
    }

    async fn ensure_node_pool(
        &self,
        ctx: &StackContext,
        req: &NodePoolRequest,
    ) -> Step<NodePoolState> {
        let name = &req.name;
        let during = format!("creating node pool {name}");
        if let Err(step) = self.start_pool(ctx, "ensure_node_pool", name, &during) {
            return step;
        }
        {
            let mut w = self.world();
            w.pool_requests.push(("ensure".to_owned(), req.clone()));
            let stack = ctx.stack.as_str();
            let [template_key, group_key] = Self::pool_area(name);
            let launch_template_id = w.ensure(stack, &template_key, kind::LAUNCH_TEMPLATE, None);
            let same = w
                .stacks
                .get(stack)
                .and_then(|s| s.pools.get(name))
                .map(|p| {
                    p.state.capacity == req.capacity && p.state.instance_types == req.instance_types
                });
            if same != Some(true) {
                // Missing, or its capacity or instance types differ: a new node group.
                let id = w.id(kind::NODE_GROUP);
                w.create(stack, &group_key, kind::NODE_GROUP, None, &id);
                let polls = w.polls_to_active;
                w.stack(stack).pools.insert(
                    name.clone(),
                    Pool {
                        state: NodePoolState {
                            name: name.clone(),
                            id,
                            launch_template_id,
                            status: "CREATING".to_owned(),
                            kubernetes_version: req.kubernetes_version.clone(),
                            instance_types: req.instance_types.clone(),
                            capacity: req.capacity,
                            min_size: req.min_size,
                            max_size: req.max_size,
                            labels: req.labels.clone(),
                            taints: req.taints.clone(),
                        },
                        request: req.clone(),
                        desired_size: req.min_size,
                        polls_left: polls,
                    },
                );
            }
        }
        self.pool_step(ctx, name, &during).await
    }

    async fn upgrade_control_plane(
        &self,
        ctx: &StackContext,
        to_version: &str,
    ) -> Step<ControlPlaneState> {
        let during = format!("upgrading the control plane to {to_version}");
        let name = format!("upgrade_control_plane {to_version}");
        if let Err(step) = self.start(ctx, name, &during, CONTROL_PLANE_AREA) {
            return step;
        }
        let found = {
            let mut w = self.world();
            let polls = w.polls_to_active;
            match w.stacks.get_mut(&ctx.stack).and_then(|s| {
                s.control_plane
                    .as_mut()
                    .map(|cp| (cp, &mut s.control_plane_polls_left))
            }) {
                Some((cp, left)) => {
                    if cp.kubernetes_version != to_version {
                        cp.kubernetes_version = to_version.to_owned();
                        cp.status = "UPDATING".to_owned();
                        *left = polls;
                    }
                    true
                }
                None => false,
            }
        };
        match found {
            true => self.control_plane_step(ctx, &during).await,
            false => Step::failed(
                BackendError::NotFound {
                    what: format!("the control plane of {}", ctx.stack),
                },
                self.area(ctx, CONTROL_PLANE_AREA),
            ),
        }
    }

    async fn update_node_pool(
        &self,
        ctx: &StackContext,
        req: &NodePoolRequest,
    ) -> Step<NodePoolState> {
        let name = &req.name;
        let during = format!("updating node pool {name}");
        if let Err(step) = self.start_pool(ctx, "update_node_pool", name, &during) {
            return step;
        }
        let found = {
            let mut w = self.world();
            w.pool_requests.push(("update".to_owned(), req.clone()));
            let polls = w.polls_to_active;
            match w
                .stacks
                .get_mut(&ctx.stack)
                .and_then(|s| s.pools.get_mut(name))
            {
                Some(p) => {
                    // Bounds, labels, taints, disk and version change in place; the
                    // current size is the autoscaler's and is left alone.
                    p.state.min_size = req.min_size;
                    p.state.max_size = req.max_size;
                    p.state.kubernetes_version = req.kubernetes_version.clone();
                    p.state.status = "UPDATING".to_owned();
                    p.request = req.clone();
                    p.polls_left = polls;
                    true
                }
                None => false,
            }
        };
        if !found {
            return Step::failed(
                BackendError::NotFound {
                    what: format!("node pool {name}"),
                },
                self.pool_components(ctx, name),
            );
        }
        self.pool_step(ctx, name, &during).await
    }

    async fn delete_node_pool(&self, ctx: &StackContext, name: &str) -> Step<()> {
        let during = format!("deleting node pool {name}");
        if let Err(step) = self.start_pool(ctx, "delete_node_pool", name, &during) {
            return step;
        }
        let keys = Self::pool_area(name);
        let mut w = self.world();
        if let Some(s) = w.stacks.get_mut(&ctx.stack) {
            s.pools.remove(name);
            for key in &keys {
                s.components.remove(key);
            }
        }
        Step::done((), Vec::new())
    }

    async fn read_stack(&self, ctx: &StackContext) -> Result<Option<StackSnapshot>, BackendError> {
        if let Some(e) = self.enter("read_stack".to_owned()) {
            return Err(e);
        }
        let w = self.world();
        let Some(s) = w.stacks.get(&ctx.stack).filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        Ok(Some(StackSnapshot {
            addons: s.addons.clone(),
            group_access: s.control_plane.as_ref().map(|_| {
                s.group_access
                    .iter()
                    .map(|(principal, groups)| GroupAccess {
                        principal: principal.clone(),
                        groups: groups.clone(),
                    })
                    .collect()
            }),
            network: s.network.clone(),
            iam: s.iam.clone(),
            key: s.key.clone(),
            control_plane: s.control_plane(),
            node_pools: s
                .pools
                .iter()
                .map(|(name, p)| (name.clone(), p.state.clone()))
                .collect(),
            components: s.components.values().cloned().collect(),
            tags: s
                .tags
                .iter()
                .filter(|(k, _)| s.components.contains_key(*k))
                .map(|(k, t)| (k.clone(), t.clone()))
                .collect(),
        }))
    }

    async fn ensure_addons(
        &self,
        ctx: &StackContext,
        req: &AddonsRequest,
    ) -> Step<Vec<AddonState>> {
        let during = "converging the add-ons";
        if let Err(step) = self.start(ctx, "ensure_addons".to_owned(), during, ADDON_AREA) {
            return step;
        }
        let result = {
            let mut w = self.world();
            w.addon_requests.push(req.clone());
            let stack = ctx.stack.as_str();
            if w.stacks
                .get(stack)
                .is_none_or(|s| s.control_plane.is_none())
            {
                Err(BackendError::NotFound {
                    what: format!("the control plane of {stack}"),
                })
            } else {
                let mut states = Vec::new();
                for a in &req.addons {
                    let key = format!("addon.{}", a.name);
                    w.ensure(stack, &key, kind::EKS_ADDON, None);
                    let version = a
                        .version
                        .clone()
                        .unwrap_or_else(|| default_addon_version(&a.name, &req.kubernetes_version));
                    let state = AddonState {
                        name: a.name.clone(),
                        version,
                        status: "ACTIVE".to_owned(),
                        identity: a.identity.clone(),
                    };
                    w.stack(stack).addons.insert(a.name.clone(), state.clone());
                    states.push(state);
                }
                // Add-ons paved installed and no longer listed go.
                let s = w.stack(stack);
                let gone: Vec<String> = s
                    .addons
                    .keys()
                    .filter(|n| !req.addons.iter().any(|a| &a.name == *n))
                    .filter(|n| s.components.contains_key(&format!("addon.{n}")))
                    .cloned()
                    .collect();
                for n in gone {
                    s.addons.remove(&n);
                    s.components.remove(&format!("addon.{n}"));
                }
                Ok(states)
            }
        };
        Step {
            components: self.area(ctx, ADDON_AREA),
            result,
        }
    }

    async fn ensure_group_access(
        &self,
        ctx: &StackContext,
        access: &[GroupAccess],
    ) -> Step<Vec<GroupAccess>> {
        let during = "converging team access";
        let area = GROUP_ACCESS_AREA;
        if let Err(step) = self.start(ctx, "ensure_group_access".to_owned(), during, area) {
            return step;
        }
        let result = {
            let mut w = self.world();
            w.group_access_requests.push(access.to_vec());
            let stack = ctx.stack.as_str();
            let s = w.stack(stack);
            let foreign: Vec<String> = access
                .iter()
                .filter(|a| s.foreign_admins.contains(&a.principal))
                .map(|a| a.principal.clone())
                .collect();
            if s.control_plane.is_none() {
                Err(BackendError::NotFound {
                    what: format!("the control plane of {stack}"),
                })
            } else if !foreign.is_empty() {
                Err(BackendError::Permanent {
                    operation: "granting team access".to_owned(),
                    message: format!(
                        "the access entries of {} were made outside paved",
                        foreign.join(", ")
                    ),
                    hint: "Delete those access entries and run apply again".to_owned(),
                })
            } else {
                for a in access {
                    let key = format!("group_access.{}", a.principal);
                    w.ensure(stack, &key, kind::GROUP_ACCESS, None);
                    w.stack(stack)
                        .group_access
                        .insert(a.principal.clone(), a.groups.clone());
                }
                let s = w.stack(stack);
                s.group_access
                    .retain(|p, _| access.iter().any(|a| &a.principal == p));
                s.components.retain(|key, _| {
                    key.strip_prefix("group_access.")
                        .is_none_or(|p| access.iter().any(|a| a.principal == p))
                });
                Ok(access.to_vec())
            }
        };
        Step {
            components: self.area(ctx, GROUP_ACCESS_AREA),
            result,
        }
    }

    async fn retag(
        &self,
        ctx: &StackContext,
        components: &[ComponentRecord],
        removed: &[String],
    ) -> Step<()> {
        if let Err(step) = self.start(ctx, "retag".to_owned(), "retagging the stack", &[]) {
            return step;
        }
        let mut w = self.world();
        let s = w.stack(&ctx.stack);
        for c in components {
            if s.components.contains_key(&c.key) {
                let tags = s.tags.entry(c.key.clone()).or_default();
                tags.extend(ctx.tags.iter().map(|(k, v)| (k.clone(), v.clone())));
                tags.retain(|k, _| !removed.contains(k));
            }
        }
        Step::done((), Vec::new())
    }

    async fn delete_stack(
        &self,
        ctx: &StackContext,
        req: &TeardownRequest,
    ) -> Step<TeardownReport> {
        let name = format!(
            "delete_stack keep_network={} delete_key={}",
            req.keep_network, req.delete_key
        );
        if let Err(step) = self.start(ctx, name, "destroying the cluster", &[""]) {
            return step;
        }
        let mut w = self.world();
        w.teardowns.push(req.clone());
        let left_behind = w.left_behind.clone();
        let Some(stack) = w.stacks.get_mut(&ctx.stack) else {
            return Step::done(TeardownReport::default(), Vec::new());
        };
        let mut all: Vec<ComponentRecord> = stack.components.values().cloned().collect();
        all.sort_by_key(|c| teardown_rank(&c.kind));
        let mut report = TeardownReport::default();
        let mut kept = BTreeMap::new();
        for c in all {
            if let Some(reason) = left_behind.get(&c.key) {
                report.left_behind.push(LeftBehind {
                    component: c.clone(),
                    reason: reason.clone(),
                });
                kept.insert(c.key.clone(), c);
            } else if c.kind == kind::KMS_KEY && !req.delete_key {
                kept.insert(c.key.clone(), c);
            } else {
                report.deleted.push(c);
            }
        }
        if kept.is_empty() {
            w.stacks.remove(&ctx.stack);
            return Step::done(report, Vec::new());
        }
        let remaining: Vec<ComponentRecord> = kept.values().cloned().collect();
        *stack = Stack {
            components: kept,
            ..Stack::default()
        };
        Step::done(report, remaining)
    }
}

impl crate::ports::harness::ScriptedCloud for ScriptedBackend {
    fn fail_next(&self, call: &str, error: BackendError) {
        ScriptedBackend::fail_next(self, call, error);
    }
    fn fail_call(&self, position: usize, error: BackendError) {
        ScriptedBackend::fail_call(self, position, error);
    }
    fn clear_faults(&self) {
        ScriptedBackend::clear_faults(self);
    }
    fn duplicates(&self) -> Vec<String> {
        ScriptedBackend::duplicates(self)
    }
    fn components(&self, stack: &str) -> BTreeMap<String, ComponentRecord> {
        ScriptedBackend::components(self, stack)
    }
}

#[cfg(test)]
mod tests {
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::ports::cluster::AddonRequest;

    fn ctx() -> StackContext {
        StackContext {
            stack: "shop".into(),
            resource_type: "paved_ha_cluster",
            tags: BTreeMap::new(),
            cancel: CancellationToken::new(),
            deadline: None,
        }
    }

    fn control_plane() -> ControlPlaneRequest {
        ControlPlaneRequest {
            name: "shop".into(),
            kubernetes_version: Some("1.30".into()),
            vpc_id: String::new(),
            subnet_ids: Vec::new(),
            public_access_cidrs: Vec::new(),
            encryption_key: "k".into(),
            control_plane_identity: "r".into(),
            log_types: Vec::new(),
            log_retention_days: 7,
            admins: Vec::new(),
            zones: Vec::new(),
            initial_node_pools: Vec::new(),
        }
    }

    fn addons(minor: &str, names: &[&str]) -> AddonsRequest {
        AddonsRequest {
            kubernetes_version: minor.into(),
            addons: names
                .iter()
                .map(|n| AddonRequest {
                    name: n.to_string(),
                    version: None,
                    identity: None,
                })
                .collect(),
        }
    }

    #[tokio::test]
    async fn addons_group_access_and_the_storage_role_follow_the_contract() {
        let fake = ScriptedBackend::new();
        let ctx = ctx();
        // Without a control plane there is nothing to install in.
        let step = fake
            .ensure_addons(&ctx, &addons("1.30", &["coredns"]))
            .await;
        assert!(matches!(step.result, Err(BackendError::NotFound { .. })));
        fake.ensure_control_plane(&ctx, &control_plane())
            .await
            .result
            .unwrap();
        let iam = fake
            .ensure_identities(
                &ctx,
                &IdentityRequest {
                    workload_identity_provider: Some("oidc".into()),
                },
            )
            .await
            .result
            .unwrap();
        assert!(iam.storage_driver_identity.is_some());

        let step = fake
            .ensure_addons(&ctx, &addons("1.30", &["coredns", "kube-proxy"]))
            .await;
        let states = step.result.unwrap();
        assert_eq!(states[0].version, default_addon_version("coredns", "1.30"));
        assert_eq!(step.components.len(), 2);
        // After an upgrade the defaults move; an add-on no longer listed goes.
        let states = fake
            .ensure_addons(&ctx, &addons("1.31", &["coredns"]))
            .await
            .result
            .unwrap();
        assert_eq!(states[0].version, default_addon_version("coredns", "1.31"));
        assert_eq!(fake.addons("shop").keys().collect::<Vec<_>>(), ["coredns"]);

        let dev = GroupAccess {
            principal: "arn:aws:iam::1:role/dev".into(),
            groups: vec!["project1-dev".into()],
        };
        fake.ensure_group_access(&ctx, std::slice::from_ref(&dev))
            .await
            .result
            .unwrap();
        let snapshot = fake.read_stack(&ctx).await.unwrap().unwrap();
        assert_eq!(snapshot.group_access, Some(vec![dev.clone()]));
        assert_eq!(snapshot.addons.len(), 1);
        assert!(snapshot
            .iam
            .as_ref()
            .is_some_and(|i| i.storage_driver_identity.is_some()));
        fake.ensure_group_access(&ctx, &[]).await.result.unwrap();
        assert!(fake.group_access("shop").is_empty());
        assert!(!fake
            .components("shop")
            .keys()
            .any(|k| k.starts_with("group_access.")));

        // Access granted by hand is not paved's to change; scripted faults apply.
        fake.grant_admin_by_hand("shop", "arn:aws:iam::1:role/carol");
        let carol = GroupAccess {
            principal: "arn:aws:iam::1:role/carol".into(),
            groups: vec!["x".into()],
        };
        let step = fake.ensure_group_access(&ctx, &[carol]).await;
        assert!(matches!(step.result, Err(BackendError::Permanent { .. })));
        fake.fail_next(
            "ensure_addons",
            BackendError::Retryable {
                operation: "CreateAddon".into(),
                message: "throttled".into(),
            },
        );
        let step = fake
            .ensure_addons(&ctx, &addons("1.31", &["coredns"]))
            .await;
        assert!(step.result.is_err());
        assert_eq!(
            step.components.len(),
            1,
            "what exists travels with the error"
        );
        let calls = fake.calls();
        assert!(calls.iter().filter(|c| *c == "ensure_addons").count() >= 4);
        assert!(calls.iter().any(|c| c == "ensure_group_access"));
    }
}
