//! The harness of the resources' lifecycle tests: Terraform driving a resource
//! through the `Resource` trait (plan, apply, read, import) against a scripted fake
//! cloud, with the checks every such test makes (the plan after an apply is empty,
//! the planned values are kept, nothing is created twice, the inventory matches the
//! cloud). Each resource's fake implements [`ScriptedCloud`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use paved_value::Value;
use tokio_util::sync::CancellationToken;

use super::testing::FixedCloud;
use crate::diag::{Diagnostics, Severity};
use crate::framework::{
    ApplyRequest, ApplyResponse, OpContext, PlanRequest, PlanResponse, ReadRequest, Resource,
};
use crate::stack::schema_testing::get;
use crate::stack::{BackendError, ComponentRecord};

/// What the harness needs of a scripted fake cloud.
pub trait ScriptedCloud: Send + Sync {
    /// The next call named `call` fails with `error`.
    fn fail_next(&self, call: &str, error: BackendError);
    /// The call at `position` (1-based) fails with `error`.
    fn fail_call(&self, position: usize, error: BackendError);
    /// Drops every fault not yet triggered.
    fn clear_faults(&self);
    /// Components created more than once.
    fn duplicates(&self) -> Vec<String>;
    /// The components of `stack`, by key.
    fn components(&self, stack: &str) -> BTreeMap<String, ComponentRecord>;
}

/// Which call a scripted fault hits.
#[derive(Debug, Clone)]
enum Trigger {
    /// The call at this position (1-based) in the record of calls.
    Position(usize),
    /// The next call whose recorded name starts with this.
    Name(String),
}

/// A one-shot fault.
#[derive(Debug, Clone)]
struct Fault {
    trigger: Trigger,
    error: BackendError,
}

/// The record of the calls a fake received and the faults scripted for them: the
/// machinery every scripted fake shares.
#[derive(Debug, Default)]
pub struct Script {
    calls: Vec<String>,
    faults: Vec<Fault>,
}

impl Script {
    /// Fails the call at `position` (1-based, counting every call recorded so far
    /// and to come) with `error`.
    pub fn fail_call(&mut self, position: usize, error: BackendError) {
        self.faults.push(Fault {
            trigger: Trigger::Position(position),
            error,
        });
    }

    /// Fails the next call whose recorded name starts with `name` with `error`.
    pub fn fail_next(&mut self, name: &str, error: BackendError) {
        self.faults.push(Fault {
            trigger: Trigger::Name(name.to_owned()),
            error,
        });
    }

    /// Drops every fault not yet triggered.
    pub fn clear_faults(&mut self) {
        self.faults.clear();
    }

    /// Records the call `name` and returns the fault scripted for it, if any.
    pub fn enter(&mut self, name: &str) -> Option<BackendError> {
        self.calls.push(name.to_owned());
        let position = self.calls.len();
        let hit = self.faults.iter().position(|f| match &f.trigger {
            Trigger::Position(p) => *p == position,
            Trigger::Name(prefix) => name.starts_with(prefix.as_str()),
        })?;
        Some(self.faults.remove(hit).error)
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> &[String] {
        &self.calls
    }

    /// Forgets the calls recorded so far.
    pub fn clear_calls(&mut self) {
        self.calls.clear();
    }
}

/// Terraform, a resource and the scripted fake cloud behind it.
pub struct Tf<F: ScriptedCloud> {
    /// The resource under test.
    pub resource: Box<dyn Resource>,
    /// The fake cloud its backend factory hands out.
    pub fake: Arc<F>,
    /// The operation context (a fixed cloud in eu-west-1 unless a test swaps it).
    pub ctx: OpContext,
}

impl<F: ScriptedCloud> Tf<F> {
    /// Terraform driving `resource`, whose backends are `fake`.
    pub fn with(resource: impl Resource + 'static, fake: Arc<F>) -> Self {
        Tf {
            resource: Box::new(resource),
            fake,
            ctx: FixedCloud::new("eu-west-1").context(),
        }
    }

    /// The next `terraform apply`: a new provider process, with a new stop signal.
    pub fn next_run(&mut self) {
        self.ctx.cancel = CancellationToken::new();
    }

    /// PlanResourceChange: Terraform proposes the configuration (on create) or the
    /// configuration over the prior state.
    pub async fn plan(&self, prior: &Value, config: &Value) -> PlanResponse {
        self.resource
            .plan(
                &self.ctx,
                PlanRequest {
                    prior_state: prior,
                    proposed_new_state: config,
                    config,
                    prior_private: &[],
                },
            )
            .await
    }

    pub async fn apply(&self, prior: &Value, planned: &Value, config: &Value) -> ApplyResponse {
        self.resource
            .apply(
                &self.ctx,
                ApplyRequest {
                    prior_state: prior,
                    planned_state: planned,
                    config,
                    planned_private: &[],
                },
            )
            .await
    }

    /// Plans a change from `prior` to `config` that has no errors and replaces
    /// nothing.
    pub async fn plan_in_place(&self, prior: &Value, config: &Value) -> PlanResponse {
        let plan = self.plan(prior, config).await;
        assert_no_errors(&plan.diagnostics);
        assert!(
            plan.requires_replace.is_empty(),
            "{:?}",
            plan.requires_replace
        );
        plan
    }

    /// Plans (without errors, in place) and applies a change from `prior` to `config`.
    pub async fn plan_apply(&self, prior: &Value, config: &Value) -> (Value, ApplyResponse) {
        let plan = self.plan_in_place(prior, config).await;
        let out = self.apply(prior, &plan.planned_state, config).await;
        (plan.planned_state, out)
    }

    /// Plans and applies a create of `config` whose call `call` fails with `error`.
    pub async fn create_failing(
        &self,
        config: &Value,
        call: &str,
        error: BackendError,
    ) -> ApplyResponse {
        self.fake.fail_next(call, error);
        self.plan_apply(&Value::Null, config).await.1
    }

    /// Plans and applies a create of `config`, with Terraform asking the provider
    /// to stop 100ms in; checks the apply returned promptly after the stop with an
    /// error saying it `stopped while ...`, and returns the partial state (checked
    /// against the cloud).
    pub async fn create_stopped(&self, config: &Value, stopped_while: &str) -> Value {
        let plan = self.plan(&Value::Null, config).await;
        let cancel = self.ctx.cancel.clone();
        let (out, cancelled_at) = tokio::join!(
            self.apply(&Value::Null, &plan.planned_state, config),
            async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                cancel.cancel();
                Instant::now()
            }
        );
        let took = cancelled_at.elapsed();
        assert!(
            took < Duration::from_millis(500),
            "returned {took:?} after the stop"
        );
        let message = errors(&out.diagnostics);
        assert!(
            message.contains(&format!("stopped while {stopped_while}")),
            "{message}"
        );
        self.assert_inventory_matches_cloud(&out.new_state);
        out.new_state
    }

    /// A create of `config` (stack `stack`) whose call at `position` fails for now:
    /// with nothing made, no state and the advice to apply again; otherwise the
    /// partial state lists exactly what exists, the message says Terraform taints
    /// it and that `terraform untaint` resumes (and that the protected stack's
    /// replacement is refused), and resuming from it converges.
    pub async fn create_failing_at(&mut self, position: usize, config: &Value, stack: &str) {
        self.fake.fail_call(
            position,
            BackendError::Retryable {
                operation: "the call".into(),
                message: "Rate exceeded".into(),
            },
        );
        let (_, out) = self.plan_apply(&Value::Null, config).await;
        let message = errors(&out.diagnostics);
        assert!(
            message.contains("Rate exceeded"),
            "call {position}: {message}"
        );
        if self.fake.components(stack).is_empty() {
            // Nothing exists, no state, nothing tainted: a plain apply resumes.
            assert!(
                message.contains("Run apply again"),
                "call {position}: {message}"
            );
            assert!(out.new_state.is_null(), "call {position}: nothing exists");
            return;
        }
        let untaint = format!("terraform untaint {}.<NAME>", self.resource.type_name());
        assert!(message.contains(&untaint), "call {position}: {message}");
        assert!(
            message.contains("paved will refuse that destroy"),
            "call {position}: {message}"
        );
        let partial = out.new_state;
        assert!(
            partial.conforms_to(&self.resource.schema().value_type()),
            "call {position}"
        );
        self.assert_inventory_matches_cloud(&partial);
        self.resume(&partial, config).await;
    }

    /// The next run (faults cleared) applies `config` over the `partial` state, as
    /// after `terraform untaint` (Terraform taints an object whose create failed):
    /// it converges to a wholly known state, keeps every value the plan knew,
    /// creates nothing twice and leaves nothing to plan. Returns the state.
    pub async fn resume(&mut self, partial: &Value, config: &Value) -> Value {
        self.fake.clear_faults();
        self.next_run();
        let (planned, out) = self.plan_apply(partial, config).await;
        assert_no_errors(&out.diagnostics);
        assert!(out.new_state.is_wholly_known(), "{:#?}", out.new_state);
        assert_known_values_kept(&planned, &out.new_state, "");
        self.assert_no_duplicates();
        self.assert_inventory_matches_cloud(&out.new_state);
        self.assert_no_changes(&out.new_state, config).await;
        out.new_state
    }

    /// Creates `config` and checks it succeeded; returns the state.
    pub async fn create(&self, config: &Value) -> Value {
        let (planned, out) = self.plan_apply(&Value::Null, config).await;
        assert_no_errors(&out.diagnostics);
        assert_known_values_kept(&planned, &out.new_state, "");
        out.new_state
    }

    pub async fn read(&self, state: &Value) -> Value {
        let out = self
            .resource
            .read(
                &self.ctx,
                ReadRequest {
                    current_state: state,
                    private: &[],
                },
            )
            .await;
        assert_no_errors(&out.diagnostics);
        out.new_state
    }

    /// Plans the destroy and applies it.
    pub async fn destroy(&self, state: &Value) -> ApplyResponse {
        let plan = self.plan(state, &Value::Null).await;
        assert_no_errors(&plan.diagnostics);
        assert!(plan.planned_state.is_null());
        self.apply(state, &Value::Null, &Value::Null).await
    }

    /// The plan of `config` over `state` changes nothing.
    pub async fn assert_no_changes(&self, state: &Value, config: &Value) {
        let plan = self.plan_in_place(state, config).await;
        let mut diffs = Vec::new();
        differences(&plan.planned_state, state, "", &mut diffs);
        assert!(diffs.is_empty(), "the plan is not empty: {diffs:#?}");
    }

    /// No component was created twice.
    pub fn assert_no_duplicates(&self) {
        let twice = self.fake.duplicates();
        assert!(twice.is_empty(), "created more than once: {twice:?}");
    }

    /// The inventory's ids by key (null for components that do not exist).
    pub fn inventory(state: &Value) -> Vec<(String, Value)> {
        get(state, "inventory")
            .as_list()
            .unwrap_or_default()
            .iter()
            .map(|row| {
                (
                    get(row, "key").as_str().unwrap_or_default().to_owned(),
                    get(row, "id").clone(),
                )
            })
            .collect()
    }

    /// The inventory's ids, by key.
    pub fn ids(state: &Value) -> BTreeMap<String, Value> {
        Self::inventory(state).into_iter().collect()
    }

    /// Every inventory row with an id names a component the fake holds for the
    /// state's stack, with that id; every component the fake holds is in the
    /// inventory.
    pub fn assert_inventory_matches_cloud(&self, state: &Value) {
        let stack = get(state, "name").as_str().unwrap_or_default();
        let cloud = self.fake.components(stack);
        let rows = Self::inventory(state);
        for (key, id) in &rows {
            match cloud.get(key) {
                Some(c) => assert_eq!(id, &Value::from(c.id.as_str()), "{key}"),
                None => assert!(id.is_null(), "{key} has id {id:?} but does not exist"),
            }
        }
        for key in cloud.keys() {
            assert!(
                rows.iter().any(|(k, id)| k == key && !id.is_null()),
                "{key} exists but the inventory does not list it: {rows:?}"
            );
        }
    }
}

/// The paths where `a` and `b` differ, with both values.
pub fn differences(a: &Value, b: &Value, at: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) | (Value::Map(x), Value::Map(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let (xv, yv) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                differences(xv, yv, &format!("{at}.{k}"), out);
            }
        }
        (Value::List(x), Value::List(y)) if x.len() == y.len() => {
            for (i, (xv, yv)) in x.iter().zip(y).enumerate() {
                differences(xv, yv, &format!("{at}[{i}]"), out);
            }
        }
        _ if a != b => out.push(format!("{at}: {a:?} != {b:?}")),
        _ => {}
    }
}

pub fn assert_no_errors(diags: &Diagnostics) {
    assert!(!diags.has_errors(), "{diags:#?}");
}

/// The error diagnostics' summaries and details, joined.
pub fn errors(diags: &Diagnostics) -> String {
    diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{}: {}", d.summary, d.detail))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether an error diagnostic points at `path`.
pub fn error_at(diags: &Diagnostics, path: &str) -> bool {
    diags.iter().any(|d| {
        d.severity == Severity::Error
            && d.path.as_ref().map(|p| p.to_string()).as_deref() == Some(path)
    })
}

/// Every value known in `planned` is the same in `state` (what Terraform checks
/// of an apply's result); the message lists every value that changed.
pub fn assert_known_values_kept(planned: &Value, state: &Value, at: &str) {
    let mut changed = Vec::new();
    known_values_changed(planned, state, at, &mut changed);
    assert!(
        changed.is_empty(),
        "planned values changed by apply (Terraform rejects this result): {changed:#?}"
    );
}

/// The paths of values known in `planned` that `state` does not keep.
pub fn known_values_changed(planned: &Value, state: &Value, at: &str, out: &mut Vec<String>) {
    if planned.is_unknown() {
        return;
    }
    match (planned, state) {
        (Value::Object(p), Value::Object(s)) => {
            for (k, pv) in p {
                let sv = s.get(k).unwrap_or(&Value::Null);
                known_values_changed(pv, sv, &format!("{at}.{k}"), out);
            }
        }
        (Value::Map(p), Value::Map(s)) if p.keys().eq(s.keys()) => {
            for (k, pv) in p {
                known_values_changed(pv, &s[k], &format!("{at}[{k:?}]"), out);
            }
        }
        (Value::List(p), Value::List(s)) if p.len() == s.len() => {
            for (i, (pv, sv)) in p.iter().zip(s).enumerate() {
                known_values_changed(pv, sv, &format!("{at}[{i}]"), out);
            }
        }
        _ if planned != state => out.push(format!("{at}: planned {planned:?}, got {state:?}")),
        _ => {}
    }
}
