//! `paved_ha_cluster` as Terraform drives it: validation and planning are the pure
//! functions of this module's siblings; apply, refresh and import go through the
//! [`ClusterBackend`] of the configured cloud.
//!
//! - Create and update converge the stack ([`lifecycle::converge`]) and render the
//!   state with [`Observed::state`]. A failure returns what exists as partial state
//!   with the error (read back from the cloud, so nothing is forgotten).
//! - Destroy tears the stack down in order; anything left behind is an error and the
//!   state is kept, so a second destroy retries.
//! - Refresh reads the whole stack in one batched pass and writes drift into the
//!   state; a stack that is gone leaves the state.
//! - Import takes the cluster's name.

use std::time::Duration;

use async_trait::async_trait;
use paved_value::Value;

use crate::ports::cluster::{ClusterBackend, TeardownRequest};

use super::config::{ClusterSpec, EncryptionKey};
use super::lifecycle;
use super::state::{builds_network, import_settings, network_from_state, with_drift, Observed};
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

/// Default create, update and delete timeouts (the schema documents them).
const CREATE_TIMEOUT: Duration = Duration::from_secs(60 * 60);
const UPDATE_TIMEOUT: Duration = Duration::from_secs(90 * 60);
const DELETE_TIMEOUT: Duration = Duration::from_secs(45 * 60);

/// The `paved_ha_cluster` resource.
pub struct HaClusterResource {
    backend: BackendFactory<dyn ClusterBackend>,
}

impl HaClusterResource {
    /// The resource, reaching the cloud through backends from `backend`.
    pub fn new(backend: BackendFactory<dyn ClusterBackend>) -> Self {
        Self { backend }
    }

    fn context(
        &self,
        cloud: &dyn Cloud,
        ctx: &OpContext,
        spec: &ClusterSpec,
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

fn region(cloud: &dyn Cloud) -> Option<String> {
    cloud.default_region().ok()
}

#[async_trait]
impl Resource for HaClusterResource {
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
        let mut diags = Diagnostics::new();
        let (cloud, backend) = match ports::backend(ctx, &self.backend) {
            Ok(b) => b,
            Err(e) => return unreachable_response(&e, req.prior_state),
        };
        if req.planned_state.is_null() {
            if let Some(refused) = refuse_protected_delete(TYPE_NAME, req.prior_state) {
                return refused;
            }
            return destroy(self, cloud, ctx, backend.as_ref(), req.prior_state).await;
        }
        let creating = req.prior_state.is_null();
        let (spec, read_diags) = ClusterSpec::from_config(req.config, req.prior_state);
        diags.extend(read_diags);
        let prior = (!creating).then(|| ClusterSpec::from_state(req.prior_state));
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
        let region = region(cloud);
        let mut done = spec.clone();
        if let Err(e) = result {
            let doing = if creating {
                "Creating the cluster"
            } else {
                "Updating the cluster"
            };
            // Return what exists, read back so nothing is forgotten.
            if let Ok(Some(snapshot)) = backend.read_stack(&sctx).await {
                let read = Observed::from_snapshot(snapshot);
                observed.absorb(read.components.values().cloned().collect());
                observed.network = observed.network.take().or(read.network);
                observed.key = observed.key.take().or(read.key);
                observed.iam = observed.iam.take().or(read.iam);
                observed.control_plane = observed.control_plane.take().or(read.control_plane);
                for (name, pool) in read.node_pools {
                    observed.node_pools.entry(name).or_insert(pool);
                }
            }
            if creating && observed.is_empty() {
                report(&mut diags, doing, &e);
                return ApplyResponse {
                    diagnostics: diags,
                    ..ApplyResponse::default()
                };
            }
            if creating {
                let protected = spec.deletion_protection.known() == Some(&true);
                report_failed_create(&mut diags, doing, TYPE_NAME, &e, protected);
            } else {
                report(&mut diags, doing, &e);
            }
            // What exists rather than what was asked, for the settings the cloud
            // reports (the version running everywhere, pool bounds, pools that
            // exist): the next plan then shows what is still to do.
            let settings = with_drift(req.config, &observed);
            let (mut done, _) = ClusterSpec::from_config(&settings, req.prior_state);
            observed.complete(&mut done);
            let mut state = unknowns_to_null(&observed.state(&done, &settings, region.as_deref()));
            // The tags the components had before: the next plan retags if needed.
            set_attr(&mut state, "tags_all", prior_tags_all(req.prior_state));
            return ApplyResponse {
                new_state: state,
                diagnostics: diags,
                ..ApplyResponse::default()
            };
        }
        observed.complete(&mut done);
        let mut state = unknowns_to_null(&observed.state(&done, req.config, region.as_deref()));
        // Tags changed (the resource's or the provider's defaults): every component
        // gets the new set; a failure keeps the old `tags_all`, so the next plan
        // shows the retag still to do.
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
            "cluster",
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
        let mut diags = Diagnostics::new();
        let current = req.current_state;
        let (cloud, backend) = match ports::backend(ctx, &self.backend) {
            Ok(b) => b,
            Err(e) => return unreachable_read(&e, &req),
        };
        let spec = ClusterSpec::from_state(current);
        let sctx = self.context(cloud, ctx, &spec, &Knowable::Unknown, CREATE_TIMEOUT);
        let snapshot = match backend.read_stack(&sctx).await {
            Ok(Some(s)) => s,
            Ok(None) => return ReadResponse::default(),
            Err(e) => {
                report(&mut diags, "Reading the cluster", &e);
                return kept_read(&req, diags);
            }
        };
        let tags_all = read_tags_all(&snapshot.tags, prior_tags_all(current));
        let mut observed = Observed::from_snapshot(snapshot);
        if observed.network.is_none() && !builds_network(&spec) {
            observed.network = network_from_state(current);
        }
        let settings = with_drift(current, &observed);
        // Read as a state, so that a key paved created stays one (and is deleted
        // with the cluster) rather than reading as the user's key.
        let mut spec = ClusterSpec::from_state(&settings);
        observed.complete(&mut spec);
        let mut state =
            unknowns_to_null(&observed.state(&spec, &settings, region(cloud).as_deref()));
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
        let (observed, tags_all) = match backend.read_stack(&sctx).await {
            Ok(Some(s)) => {
                let tags_all = read_tags_all(&s.tags, Value::Null);
                (Observed::from_snapshot(s), tags_all)
            }
            Ok(None) => {
                diags.error(
                    "Cluster not found",
                    format!(
                        "No component tagged paved:stack = \"{id}\" exists. Import takes the cluster's name \
                         (the `name` it was created with); check the name, the region and the account."
                    ),
                );
                return Vec::new();
            }
            Err(e) => {
                report(diags, "Reading the cluster", &e);
                return Vec::new();
            }
        };
        let Some(settings) = import_settings(id, &observed) else {
            diags.error(
                "Cluster network not found",
                format!(
                    "The stack \"{id}\" has no network paved built, and import cannot tell an existing network's \
                     subnets. Write the resource with network.existing_vpc_id and existing_subnet_ids instead, \
                     and let apply adopt the stack by its tags."
                ),
            );
            return Vec::new();
        };
        let (mut spec, _) = ClusterSpec::from_config(&settings, &Value::Null);
        observed.complete(&mut spec);
        let mut state =
            unknowns_to_null(&observed.state(&spec, &settings, region(cloud).as_deref()));
        set_attr(&mut state, "tags_all", tags_all);
        vec![ImportedObject {
            state,
            private: Vec::new(),
        }]
    }
}

async fn destroy(
    resource: &HaClusterResource,
    cloud: &dyn Cloud,
    ctx: &OpContext,
    backend: &dyn ClusterBackend,
    prior: &Value,
) -> ApplyResponse {
    let spec = ClusterSpec::from_state(prior);
    let sctx = resource.context(cloud, ctx, &spec, &spec.timeouts.delete, DELETE_TIMEOUT);
    let request = TeardownRequest {
        keep_network: !builds_network(&spec),
        delete_key: matches!(
            spec.encryption_key,
            Knowable::Known(EncryptionKey::Created { .. })
        ),
    };
    let step = backend.delete_stack(&sctx, &request).await;
    teardown_response("cluster", prior, step.result)
}
