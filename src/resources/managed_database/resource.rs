//! `paved_managed_database` as Terraform drives it: validation and planning are the
//! pure functions of this module's siblings; apply, refresh and import go through
//! the [`DatabaseBackend`] of the configured cloud.
//!
//! - Create makes the key and groups, then the primary (empty, or restored from a
//!   snapshot or to a point in time), then the replicas. Update changes the primary
//!   in place, applied immediately (not in the next maintenance window), and adds or
//!   removes replicas. A failure returns what exists as partial state.
//! - Destroy removes replicas, then the primary with a final snapshot named
//!   `<name>-final-<yyyymmddhhmm>` unless `final_snapshot = false`, then the groups.
//! - Refresh reads the stack in one batched pass and writes drift into the state.
//! - Import takes the instance identifier (the `name`).

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use paved_value::Value;

use crate::ports::database::{final_snapshot_name, DatabaseBackend, DeleteRequest};

use super::config::{DatabaseSpec, EncryptionKey};
use super::lifecycle;
use super::state::{import_settings, with_drift, Observed};
use super::{plan, schema, validate_config, TYPE_NAME};
use crate::diag::Diagnostics;
use crate::framework::{
    ApplyRequest, ApplyResponse, ImportedObject, OpContext, PlanRequest, PlanResponse, ReadRequest,
    ReadResponse, Resource,
};
use crate::ports::{self, BackendFactory, Cloud};
use crate::schema::Schema;
use crate::stack::resource::{
    kept_read, plan_tags_all, prior_tags_all, read_tags_all, refuse_protected_delete, report,
    report_cloud, report_failed_create, settle_tags, stack_context, teardown_response,
    unreachable_read, unreachable_response,
};
use crate::stack::state::{set_attr, unknowns_to_null};
use crate::stack::Knowable;
use crate::stack::StackContext;

const CREATE_TIMEOUT: Duration = Duration::from_secs(60 * 60);
const UPDATE_TIMEOUT: Duration = Duration::from_secs(80 * 60);
const DELETE_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// The `paved_managed_database` resource.
pub struct ManagedDatabaseResource {
    backend: BackendFactory<dyn DatabaseBackend>,
}

impl ManagedDatabaseResource {
    /// The resource, reaching the cloud through backends from `backend`.
    pub fn new(backend: BackendFactory<dyn DatabaseBackend>) -> Self {
        Self { backend }
    }

    fn context(
        &self,
        cloud: &dyn Cloud,
        ctx: &OpContext,
        spec: &DatabaseSpec,
        timeout: &Knowable<String>,
        fallback: Duration,
    ) -> StackContext {
        let name = spec.name.known().cloned().unwrap_or_default();
        stack_context(
            ctx,
            TYPE_NAME,
            cloud.default_tags(),
            &name,
            spec.tags.known(),
            timeout,
            fallback,
        )
    }
}

#[async_trait]
impl Resource for ManagedDatabaseResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        validate_config(config)
    }

    async fn plan(&self, ctx: &OpContext, req: PlanRequest<'_>) -> PlanResponse {
        let mut response = plan(req.prior_state, req.proposed_new_state, req.config);
        let defaults = ports::cloud(ctx).ok().map(|c| c.default_tags());
        plan_tags_all(&mut response, defaults, req.config);
        response
    }

    async fn apply(&self, ctx: &OpContext, req: ApplyRequest<'_>) -> ApplyResponse {
        let (cloud, backend) = match ports::backend(ctx, &self.backend) {
            Ok(b) => b,
            Err(e) => return unreachable_response(&e, req.prior_state),
        };
        if req.planned_state.is_null() {
            if let Some(refused) = refuse_protected_delete(TYPE_NAME, req.prior_state) {
                return refused;
            }
            let spec = DatabaseSpec::from_state(req.prior_state);
            let sctx = self.context(cloud, ctx, &spec, &spec.timeouts.delete, DELETE_TIMEOUT);
            let name = spec.name.known().cloned().unwrap_or_default();
            let request = DeleteRequest {
                final_snapshot: (spec.final_snapshot.known() == Some(&true))
                    .then(|| final_snapshot_name(&name, SystemTime::now())),
                delete_key: matches!(
                    spec.encryption_key,
                    Knowable::Known(EncryptionKey::Created { .. })
                ),
            };
            let step = backend.delete_stack(&sctx, &request).await;
            return teardown_response("database", req.prior_state, step.result);
        }
        let mut diags = Diagnostics::new();
        let creating = req.prior_state.is_null();
        let (spec, read_diags) = DatabaseSpec::from_config(req.config, req.prior_state);
        diags.extend(read_diags);
        let prior = (!creating).then(|| DatabaseSpec::from_state(req.prior_state));
        let (timeout, fallback) = if creating {
            (&spec.timeouts.create, CREATE_TIMEOUT)
        } else {
            (&spec.timeouts.update, UPDATE_TIMEOUT)
        };
        let sctx = self.context(cloud, ctx, &spec, timeout, fallback);
        let mut observed = Observed::default();
        let result = lifecycle::converge(
            backend.as_ref(),
            &sctx,
            &spec,
            prior.as_ref(),
            &mut observed,
        )
        .await;
        let failed = result.is_err();
        if let Err(e) = &result {
            let doing = if creating {
                "Creating the database"
            } else {
                "Updating the database"
            };
            let read = backend.read_stack(&sctx).await;
            if let Ok(snapshot) = read.result {
                observed.fill_from(Observed::from_snapshot(snapshot));
            }
            if creating && observed.is_empty() {
                report(&mut diags, doing, e);
                return ApplyResponse {
                    diagnostics: diags,
                    ..ApplyResponse::default()
                };
            }
            if creating {
                let protected = spec.deletion_protection.known() == Some(&true);
                report_failed_create(&mut diags, doing, TYPE_NAME, e, protected);
            } else {
                report(&mut diags, doing, e);
            }
        }
        let mut done = spec.clone();
        observed.complete(&mut done);
        let mut state = observed.state(&done, req.config);
        if !creating {
            // The latest restorable time moves every few minutes; an update keeps
            // the planned (prior) value and the next refresh brings the new one.
            if let Some(prior_time) = req.prior_state.get_attr("latest_restorable_time") {
                set_attr(&mut state, "latest_restorable_time", prior_time.clone());
            }
        }
        let mut state = unknowns_to_null(&state);
        if failed {
            // The tags the components had before: the next plan retags if needed.
            set_attr(&mut state, "tags_all", prior_tags_all(req.prior_state));
        } else {
            let components: Vec<_> = observed.components.values().cloned().collect();
            let retag = |removed: Vec<String>| async {
                let removed = removed;
                backend.retag(&sctx, &components, &removed).await.result
            };
            settle_tags(
                &mut state,
                req.prior_state,
                &sctx,
                creating,
                "database",
                &mut diags,
                retag,
            )
            .await;
        }
        ApplyResponse {
            new_state: state,
            diagnostics: diags,
            ..ApplyResponse::default()
        }
    }

    async fn read(&self, ctx: &OpContext, req: ReadRequest<'_>) -> ReadResponse {
        let mut diags = Diagnostics::new();
        let current = req.current_state;
        let (cloud, backend) = match ports::backend(ctx, &self.backend) {
            Ok(b) => b,
            Err(e) => return unreachable_read(&e, &req),
        };
        let spec = DatabaseSpec::from_state(current);
        let sctx = self.context(cloud, ctx, &spec, &Knowable::Unknown, CREATE_TIMEOUT);
        let snapshot = match backend.read_stack(&sctx).await.result {
            Ok(s) => s,
            Err(e) => {
                report(&mut diags, "Reading the database", &e);
                return kept_read(&req, diags);
            }
        };
        if snapshot.instance.is_none() {
            return ReadResponse::default();
        }
        let tags_all = read_tags_all(&snapshot.tags, prior_tags_all(current));
        let observed = Observed::from_snapshot(snapshot);
        let settings = with_drift(current, &observed);
        let mut spec = DatabaseSpec::from_state(&settings);
        observed.complete(&mut spec);
        let mut state = unknowns_to_null(&observed.state(&spec, &settings));
        set_attr(&mut state, "tags_all", tags_all);
        ReadResponse {
            new_state: state,
            private: req.private.to_vec(),
            diagnostics: diags,
        }
    }

    async fn import(
        &self,
        ctx: &OpContext,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Vec<ImportedObject> {
        let (cloud, backend) = match ports::backend(ctx, &self.backend) {
            Ok(b) => b,
            Err(e) => {
                report_cloud(diags, &e);
                return Vec::new();
            }
        };
        let sctx = stack_context(
            ctx,
            TYPE_NAME,
            cloud.default_tags(),
            id,
            None,
            &Knowable::Unknown,
            CREATE_TIMEOUT,
        );
        let (observed, tags_all) = match backend.read_stack(&sctx).await.result {
            Ok(s) => {
                let tags_all = read_tags_all(&s.tags, Value::Null);
                (Observed::from_snapshot(s), tags_all)
            }
            Err(e) => {
                report(diags, "Reading the database", &e);
                return Vec::new();
            }
        };
        let Some(settings) = import_settings(id, &observed) else {
            diags.error(
                "Database not found",
                format!(
                    "No database instance of a paved stack named \"{id}\" exists. Import takes the instance \
                     identifier (the `name` it was created with); check the name, the region and the account."
                ),
            );
            return Vec::new();
        };
        let (mut spec, _) = DatabaseSpec::from_config(&settings, &Value::Null);
        observed.complete(&mut spec);
        let mut state = unknowns_to_null(&observed.state(&spec, &settings));
        set_attr(&mut state, "tags_all", tags_all);
        vec![ImportedObject {
            state,
            private: Vec::new(),
        }]
    }
}
