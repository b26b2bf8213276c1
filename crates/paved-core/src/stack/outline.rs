//! The generic stack resource: the outline every stack resource follows, written
//! once. A resource supplies a [`StackModel`] (its schema, typed spec, planning,
//! how it converges its port and renders state) and [`StackResource`] does the rest
//! the same way for all of them:
//!
//! - **plan**: the model's pure plan, then `tags_all` from the provider's default
//!   tags and `cost_estimate` from the cloud's price table (with a warning over
//!   `monthly_budget_usd`); apply, refresh and import price the stack the same way,
//!   so the next plan is empty when nothing changed;
//! - **apply**: deletion protection refused at apply time too (whatever the plan);
//!   destroy through the model; create and update converge the stack, and a
//!   failure returns what exists, read back, as partial state with a message that
//!   tells the truth (a failed create is tainted; `terraform untaint` resumes);
//!   after a successful update, changed tags retag every component;
//! - **read**: the stack read back in one batched pass, drift and tag drift written
//!   into the state; a stack that is gone leaves the state; an unreachable cloud
//!   keeps it;
//! - **import**: by name, through the same read;
//! - **timeouts** from the `timeouts` block, with the model's defaults, and
//!   StopProvider through the operation's cancellation token.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use paved_value::Value;

use super::cost::{estimate_value, plan_warnings, Quote, BUDGET, ESTIMATE};
use super::error::{BackendError, CloudError};
use super::knowable::Knowable;
use super::resource::{
    kept_read, plan_tags_all, prior_tags_all, read_tags_all, refuse_protected_delete, report,
    report_cloud, report_failed_create, settle_tags, stack_context, teardown_response,
    unreachable_read, unreachable_response,
};
use super::state::{set_attr, unknowns_to_null};
use super::step::{ComponentRecord, StackContext, TeardownReport};
use super::tags::Tags;
use super::timeouts::{parse_duration, TimeoutsSpec};
use crate::diag::{Diagnostic, Diagnostics};
use crate::framework::{
    ApplyRequest, ApplyResponse, ImportedObject, OpContext, PlanRequest, PlanResponse, ReadRequest,
    ReadResponse, Resource,
};
use crate::schema::Schema;

/// The cloud an operation reaches, as the model connects to it.
pub struct Connection<'a, B: ?Sized> {
    /// The port the model drives.
    pub backend: Arc<B>,
    /// The provider's default tags.
    pub default_tags: &'a Tags,
}

/// What one read of the stack found: the model's view of it and the tags of the
/// components whose listing tells them (for tag drift).
pub struct ReadBack<O> {
    /// What exists.
    pub observed: O,
    /// Tags by component key.
    pub tags: BTreeMap<String, Tags>,
    /// Whether what was found makes the resource exist (a database without its
    /// primary does not): refresh then drops it and import finds nothing, while a
    /// failed apply still keeps every component found.
    pub exists: bool,
}

/// A resource's default timeouts, as its schema documents them (`"60m"`): the
/// outline's fallback when the operation's timeout is not known (refresh, import).
#[derive(Debug, Clone, Copy)]
pub struct DefaultTimeouts {
    /// Create.
    pub create: &'static str,
    /// Update.
    pub update: &'static str,
    /// Delete.
    pub delete: &'static str,
}

impl DefaultTimeouts {
    /// `text` as a duration; an hour if a resource ever declared one unreadable
    /// (each resource's tests parse its own).
    fn parse(text: &str) -> Duration {
        parse_duration(text).unwrap_or(Duration::from_secs(60 * 60))
    }
}

/// What the outline reads of a resource's typed spec.
pub trait StackSpec {
    /// The stack's name (the tag every component carries).
    fn stack_name(&self) -> String;
    /// The resource's own tags, when known.
    fn resource_tags(&self) -> Option<&Tags>;
    /// The `timeouts` block.
    fn timeouts(&self) -> &TimeoutsSpec;
    /// `deletion_protection`.
    fn protected(&self) -> bool;
}

/// Implements [`StackSpec`] for a typed spec with the usual fields: `name` and
/// `deletion_protection` (`Knowable`), `tags` (`Knowable<Tags>`) and `timeouts`.
#[macro_export]
macro_rules! stack_spec {
    ($spec:ty) => {
        impl $crate::stack::outline::StackSpec for $spec {
            fn stack_name(&self) -> String {
                self.name.known().cloned().unwrap_or_default()
            }

            fn resource_tags(&self) -> Option<&$crate::stack::tags::Tags> {
                self.tags.known()
            }

            fn timeouts(&self) -> &$crate::stack::timeouts::TimeoutsSpec {
                &self.timeouts
            }

            fn protected(&self) -> bool {
                self.deletion_protection.known() == Some(&true)
            }
        }
    };
}
pub use crate::stack_spec;

/// What a stack resource supplies to the outline: its own logic, nothing more.
#[async_trait]
pub trait StackModel: Send + Sync + 'static {
    /// The port the resource drives (`dyn ClusterBackend`).
    type Backend: ?Sized + Send + Sync;
    /// The typed, effective configuration.
    type Spec: StackSpec + Clone + Send + Sync;
    /// What converge and a read gather about the stack.
    type Observed: Default + Send + Sync;

    /// The type name in HCL (`paved_ha_cluster`).
    const TYPE_NAME: &'static str;
    /// The resource in a message (`cluster`).
    const NOUN: &'static str;
    /// Timeouts when the `timeouts` block sets none.
    const TIMEOUTS: DefaultTimeouts;

    /// The schema.
    fn schema(&self) -> Schema;
    /// Checks a configuration without any cloud call (errors only).
    fn validate(&self, config: &Value) -> Diagnostics;
    /// The pure plan: planned state, replacements, deletion protection at plan.
    /// `backend` is the configured cloud's (no call may be made through it: it
    /// answers what the cloud decides without asking it, such as the components a
    /// stack consists of); `None` when the provider could not connect.
    fn plan(
        &self,
        backend: Option<&Self::Backend>,
        prior: &Value,
        proposed: &Value,
        config: &Value,
    ) -> PlanResponse;
    /// The port and provider settings of the configured cloud.
    fn connect<'a>(&self, ctx: &'a OpContext) -> Result<Connection<'a, Self::Backend>, CloudError>;

    /// The spec of a configuration over the prior state.
    fn spec_from_config(&self, config: &Value, prior: &Value) -> (Self::Spec, Diagnostics);
    /// The spec a state stands for.
    fn spec_from_state(&self, state: &Value) -> Self::Spec;
    /// Completes a configuration's spec with what the connected cloud decides (a
    /// cluster's zone count on a cloud whose subnets span the region), as the plan
    /// did; `prior_state` is null on create. Nothing by default.
    fn fit_to_cloud(&self, _backend: &Self::Backend, _spec: &mut Self::Spec, _prior_state: &Value) {
    }
    /// What a stack of `spec` costs a month on the connected cloud, priced without
    /// any call (see [`super::cost`]); nothing is priced by default.
    fn cost(&self, _backend: &Self::Backend, _spec: &Self::Spec) -> Knowable<Quote> {
        Knowable::Known(Quote::NotOffered)
    }

    /// Creates or updates the stack, recording what exists in `observed` as it goes.
    async fn converge(
        &self,
        backend: &Self::Backend,
        ctx: &StackContext,
        spec: &Self::Spec,
        prior: Option<&Self::Spec>,
        observed: &mut Self::Observed,
    ) -> Result<(), BackendError>;
    /// Reads the stack back; `None` when it is gone. `spec` is what the state
    /// (or the configuration of a failed apply) stands for; `None` on import.
    async fn read_stack(
        &self,
        backend: &Self::Backend,
        ctx: &StackContext,
        spec: Option<&Self::Spec>,
    ) -> Result<Option<ReadBack<Self::Observed>>, BackendError>;
    /// Adds what a read found to what a failed converge recorded.
    fn merge_read(&self, observed: &mut Self::Observed, read: Self::Observed);
    /// Whether nothing of the stack exists.
    fn is_empty(&self, observed: &Self::Observed) -> bool;
    /// Every component that exists.
    fn components(&self, observed: &Self::Observed) -> Vec<ComponentRecord>;
    /// Sets the stack's tags on `components` and removes `removed`.
    async fn retag(
        &self,
        backend: &Self::Backend,
        ctx: &StackContext,
        components: &[ComponentRecord],
        removed: &[String],
    ) -> Result<(), BackendError>;
    /// Tears the stack down.
    async fn destroy(
        &self,
        backend: &Self::Backend,
        ctx: &StackContext,
        spec: &Self::Spec,
    ) -> Result<TeardownReport, BackendError>;

    /// The state after an apply of `config` (`failed`: what exists rather than what
    /// was asked, so the next plan shows what is still to do). `tags_all` is the
    /// outline's.
    fn applied_state(
        &self,
        observed: &Self::Observed,
        spec: &Self::Spec,
        config: &Value,
        prior: &Value,
        failed: bool,
    ) -> Value;
    /// The state a refresh of `current` renders, with drift written in.
    fn refreshed_state(&self, observed: Self::Observed, current: &Value) -> Value;
    /// The state an import of `id` renders, or why it cannot be imported.
    fn imported_state(&self, id: &str, observed: Self::Observed) -> Result<Value, Diagnostic>;
    /// The error for an import of `id` that found nothing.
    fn not_found(&self, id: &str) -> Diagnostic;
}

/// Attribute `name` of `object`, or null.
fn attr_or_null(object: &Value, name: &str) -> Value {
    object.get_attr(name).cloned().unwrap_or(Value::Null)
}

/// A stack resource: the outline over a model.
pub struct StackResource<M> {
    model: M,
}

impl<M: StackModel> StackResource<M> {
    /// The resource of `model`.
    pub fn new(model: M) -> Self {
        Self { model }
    }

    fn context(
        &self,
        ctx: &OpContext,
        conn: &Connection<'_, M::Backend>,
        spec: &M::Spec,
        timeout: &Knowable<String>,
        fallback: Duration,
    ) -> StackContext {
        stack_context(
            ctx,
            M::TYPE_NAME,
            conn.default_tags,
            &spec.stack_name(),
            spec.resource_tags(),
            timeout,
            fallback,
        )
    }

    /// What the stack a state stands for costs: the same function of the same
    /// values at apply (the new state), refresh, import and the plan of a change
    /// (the planned state), so an unchanged stack plans no change of its estimate.
    fn quote(&self, backend: &M::Backend, state: &Value) -> Knowable<Quote> {
        let mut spec = self.model.spec_from_state(state);
        self.model.fit_to_cloud(backend, &mut spec, state);
        self.model.cost(backend, &spec)
    }

    /// What a plan's stack costs. A create is priced from the configuration's spec
    /// (its planned state holds ids not known yet, which a state's reading needs);
    /// a change from its planned state, which keeps what the prior state decided.
    fn quote_plan(
        &self,
        backend: &M::Backend,
        req: &PlanRequest<'_>,
        planned: &Value,
    ) -> Knowable<Quote> {
        if !req.prior_state.is_null() {
            return self.quote(backend, planned);
        }
        let (mut spec, _) = self.model.spec_from_config(req.config, req.prior_state);
        self.model.fit_to_cloud(backend, &mut spec, req.prior_state);
        self.model.cost(backend, &spec)
    }

    /// [`Self::quote`] as the `cost_estimate` value a state holds.
    fn quote_state(&self, backend: &M::Backend, state: &Value) -> Value {
        unknowns_to_null(&estimate_value(&self.quote(backend, state)))
    }

    async fn destroy(
        &self,
        ctx: &OpContext,
        conn: &Connection<'_, M::Backend>,
        prior: &Value,
    ) -> ApplyResponse {
        if let Some(refused) = refuse_protected_delete(M::TYPE_NAME, prior) {
            return refused;
        }
        let spec = self.model.spec_from_state(prior);
        let timeout = &spec.timeouts().delete;
        let sctx = self.context(
            ctx,
            conn,
            &spec,
            timeout,
            DefaultTimeouts::parse(M::TIMEOUTS.delete),
        );
        let result = self
            .model
            .destroy(conn.backend.as_ref(), &sctx, &spec)
            .await;
        teardown_response(M::NOUN, prior, result)
    }
}

#[async_trait]
impl<M: StackModel> Resource for StackResource<M> {
    fn type_name(&self) -> &'static str {
        M::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        self.model.schema()
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        self.model.validate(config)
    }

    async fn plan(&self, ctx: &OpContext, req: PlanRequest<'_>) -> PlanResponse {
        let conn = match self.model.connect(ctx) {
            Ok(conn) => Some(conn),
            // A cloud that cannot build this resource at all: say so at plan, before
            // anything is created (a destroy still plans, to let the state go).
            Err(e @ CloudError::NotSupported { .. }) if !req.proposed_new_state.is_null() => {
                let mut diagnostics = Diagnostics::new();
                diagnostics.0.push(Diagnostic::error(
                    format!("{} cannot be built on this cloud", M::TYPE_NAME),
                    e.to_string(),
                ));
                return PlanResponse {
                    diagnostics,
                    ..PlanResponse::default()
                };
            }
            Err(_) => None,
        };
        let mut response = self.model.plan(
            conn.as_ref().map(|c| c.backend.as_ref()),
            req.prior_state,
            req.proposed_new_state,
            req.config,
        );
        plan_tags_all(
            &mut response,
            conn.as_ref().map(|c| c.default_tags),
            req.config,
        );
        if !req.proposed_new_state.is_null() && !response.diagnostics.has_errors() {
            let quote = match &conn {
                Some(c) => self.quote_plan(c.backend.as_ref(), &req, &response.planned_state),
                None => Knowable::Unknown,
            };
            set_attr(
                &mut response.planned_state,
                ESTIMATE,
                estimate_value(&quote),
            );
            response
                .diagnostics
                .extend(plan_warnings(&quote, req.config, M::NOUN));
        }
        response
    }

    async fn apply(&self, ctx: &OpContext, req: ApplyRequest<'_>) -> ApplyResponse {
        let conn = match self.model.connect(ctx) {
            Ok(c) => c,
            Err(e) => return unreachable_response(&e, req.prior_state),
        };
        if req.planned_state.is_null() {
            return self.destroy(ctx, &conn, req.prior_state).await;
        }
        let backend = conn.backend.as_ref();
        let mut diags = Diagnostics::new();
        let creating = req.prior_state.is_null();
        let (mut spec, read_diags) = self.model.spec_from_config(req.config, req.prior_state);
        self.model.fit_to_cloud(backend, &mut spec, req.prior_state);
        diags.extend(read_diags);
        let prior = (!creating).then(|| self.model.spec_from_state(req.prior_state));
        let timeouts = spec.timeouts();
        let (timeout, fallback) = if creating {
            (&timeouts.create, DefaultTimeouts::parse(M::TIMEOUTS.create))
        } else {
            (&timeouts.update, DefaultTimeouts::parse(M::TIMEOUTS.update))
        };
        let sctx = self.context(ctx, &conn, &spec, timeout, fallback);
        let mut observed = M::Observed::default();
        let result = self
            .model
            .converge(backend, &sctx, &spec, prior.as_ref(), &mut observed)
            .await;
        if let Err(e) = &result {
            let doing = format!(
                "{} the {}",
                if creating { "Creating" } else { "Updating" },
                M::NOUN
            );
            // Return what exists, read back so nothing is forgotten.
            if let Ok(Some(read)) = self.model.read_stack(backend, &sctx, Some(&spec)).await {
                self.model.merge_read(&mut observed, read.observed);
            }
            if creating && self.model.is_empty(&observed) {
                report(&mut diags, &doing, e);
                return ApplyResponse {
                    diagnostics: diags,
                    ..ApplyResponse::default()
                };
            }
            if creating {
                let protected = spec.protected();
                report_failed_create(&mut diags, &doing, M::TYPE_NAME, e, protected);
            } else {
                report(&mut diags, &doing, e);
            }
            let mut state = unknowns_to_null(&self.model.applied_state(
                &observed,
                &spec,
                req.config,
                req.prior_state,
                true,
            ));
            // The tags the components had before: the next plan retags if needed.
            set_attr(&mut state, "tags_all", prior_tags_all(req.prior_state));
            let cost = self.quote_state(backend, &state);
            set_attr(&mut state, ESTIMATE, cost);
            set_attr(&mut state, BUDGET, attr_or_null(req.config, BUDGET));
            return ApplyResponse {
                new_state: state,
                diagnostics: diags,
                ..ApplyResponse::default()
            };
        }
        let mut state = unknowns_to_null(&self.model.applied_state(
            &observed,
            &spec,
            req.config,
            req.prior_state,
            false,
        ));
        let cost = self.quote_state(backend, &state);
        set_attr(&mut state, ESTIMATE, cost);
        set_attr(&mut state, BUDGET, attr_or_null(req.config, BUDGET));
        let components = self.model.components(&observed);
        let sctx_ref = &sctx;
        let retag = move |removed: Vec<String>| async move {
            self.model
                .retag(backend, sctx_ref, &components, &removed)
                .await
        };
        settle_tags(
            &mut state,
            req.prior_state,
            &sctx,
            creating,
            M::NOUN,
            &mut diags,
            retag,
        )
        .await;
        ApplyResponse {
            new_state: state,
            diagnostics: diags,
            ..ApplyResponse::default()
        }
    }

    async fn read(&self, ctx: &OpContext, req: ReadRequest<'_>) -> ReadResponse {
        let current = req.current_state;
        let conn = match self.model.connect(ctx) {
            Ok(c) => c,
            Err(e) => return unreachable_read(&e, &req),
        };
        let spec = self.model.spec_from_state(current);
        let sctx = self.context(
            ctx,
            &conn,
            &spec,
            &Knowable::Unknown,
            DefaultTimeouts::parse(M::TIMEOUTS.create),
        );
        let read = match self
            .model
            .read_stack(conn.backend.as_ref(), &sctx, Some(&spec))
            .await
        {
            Ok(Some(read)) if read.exists => read,
            Ok(_) => return ReadResponse::default(),
            Err(e) => {
                let mut diags = Diagnostics::new();
                report(&mut diags, &format!("Reading the {}", M::NOUN), &e);
                return kept_read(&req, diags);
            }
        };
        let tags_all = read_tags_all(&read.tags, prior_tags_all(current));
        let mut state = unknowns_to_null(&self.model.refreshed_state(read.observed, current));
        set_attr(&mut state, "tags_all", tags_all);
        let cost = self.quote_state(conn.backend.as_ref(), &state);
        set_attr(&mut state, ESTIMATE, cost);
        // The budget is the configuration's alone: nothing in the cloud holds it.
        set_attr(&mut state, BUDGET, attr_or_null(current, BUDGET));
        ReadResponse {
            new_state: state,
            private: req.private.to_vec(),
            diagnostics: Diagnostics::new(),
        }
    }

    async fn import(
        &self,
        ctx: &OpContext,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Vec<ImportedObject> {
        let conn = match self.model.connect(ctx) {
            Ok(c) => c,
            Err(e) => {
                report_cloud(diags, &e);
                return Vec::new();
            }
        };
        let sctx = stack_context(
            ctx,
            M::TYPE_NAME,
            conn.default_tags,
            id,
            None,
            &Knowable::Unknown,
            DefaultTimeouts::parse(M::TIMEOUTS.create),
        );
        let read = match self
            .model
            .read_stack(conn.backend.as_ref(), &sctx, None)
            .await
        {
            Ok(Some(read)) if read.exists => read,
            Ok(_) => {
                diags.0.push(self.model.not_found(id));
                return Vec::new();
            }
            Err(e) => {
                report(diags, &format!("Reading the {}", M::NOUN), &e);
                return Vec::new();
            }
        };
        let tags_all = read_tags_all(&read.tags, Value::Null);
        match self.model.imported_state(id, read.observed) {
            Ok(state) => {
                let mut state = unknowns_to_null(&state);
                set_attr(&mut state, "tags_all", tags_all);
                let cost = self.quote_state(conn.backend.as_ref(), &state);
                set_attr(&mut state, ESTIMATE, cost);
                set_attr(&mut state, BUDGET, Value::Null);
                vec![ImportedObject {
                    state,
                    private: Vec::new(),
                }]
            }
            Err(d) => {
                diags.0.push(d);
                Vec::new()
            }
        }
    }
}
