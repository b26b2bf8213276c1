//! `paved_managed_database` as Terraform drives it: the stack core's outline
//! ([`StackResource`]) over this resource's model. Validation and planning are the
//! pure functions of this module's siblings; apply, refresh and import go through
//! the [`DatabaseBackend`] of the configured cloud.
//!
//! - Create makes the key and groups, then the primary (empty, or restored from a
//!   snapshot or to a point in time), then the replicas. Update changes the primary
//!   in place, applied immediately (not in the next maintenance window), and adds or
//!   removes replicas.
//! - Destroy removes replicas, then the primary with a final snapshot named
//!   `<name>-final-<yyyymmddhhmm>` unless `final_snapshot = false`, then the groups.
//! - Refresh reads the stack in one batched pass and writes drift into the state;
//!   a stack without its primary is gone.
//! - Import takes the instance identifier (the `name`).

use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use paved_value::Value;

use super::config::{DatabaseSpec, EncryptionKey};
use super::config::{DEFAULT_CREATE_TIMEOUT, DEFAULT_DELETE_TIMEOUT, DEFAULT_UPDATE_TIMEOUT};
use super::inventory::shape;
use super::lifecycle;
use super::plan::plan_for;
use super::state::{import_settings, Layout, Observed};
use super::{schema, validate_config, TYPE_NAME};
use crate::diag::{Diagnostic, Diagnostics};
use crate::framework::{OpContext, PlanResponse};
use crate::ports::database::{final_snapshot_name, DatabaseBackend, DeleteRequest};
use crate::ports::{self, BackendFactory};
use crate::schema::Schema;
use crate::stack::cost::Quote;
use crate::stack::outline::{
    stack_spec, Connection, DefaultTimeouts, ReadBack, StackModel, StackResource,
};
use crate::stack::state::set_attr;
use crate::stack::TeardownReport;
use crate::stack::{BackendError, CloudError, ComponentRecord, Knowable, StackContext};

/// The `paved_managed_database` resource.
pub type ManagedDatabaseResource = StackResource<DatabaseModel>;

/// The resource, reaching the cloud through backends from `backend`.
pub fn resource(backend: BackendFactory<dyn DatabaseBackend>) -> ManagedDatabaseResource {
    StackResource::new(DatabaseModel { backend })
}

stack_spec!(DatabaseSpec);

/// What `paved_managed_database` supplies to the outline.
pub struct DatabaseModel {
    backend: BackendFactory<dyn DatabaseBackend>,
}

/// The port the resource drives, held so that what it decides without a call
/// (the components of a spec) stays with the state it renders.
pub struct DatabasePorts {
    /// The cloud's database backend.
    pub db: Arc<dyn DatabaseBackend>,
}

#[async_trait]
impl StackModel for DatabaseModel {
    type Backend = DatabasePorts;
    type Spec = DatabaseSpec;
    type Observed = Observed;

    const TYPE_NAME: &'static str = TYPE_NAME;
    const NOUN: &'static str = "database";
    const TIMEOUTS: DefaultTimeouts = DefaultTimeouts {
        create: DEFAULT_CREATE_TIMEOUT,
        update: DEFAULT_UPDATE_TIMEOUT,
        delete: DEFAULT_DELETE_TIMEOUT,
    };

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        validate_config(config)
    }

    fn plan(
        &self,
        backend: Option<&Self::Backend>,
        prior: &Value,
        proposed: &Value,
        config: &Value,
    ) -> PlanResponse {
        plan_for(backend.map(|b| b.db.as_ref()), prior, proposed, config)
    }

    fn connect<'a>(&self, ctx: &'a OpContext) -> Result<Connection<'a, Self::Backend>, CloudError> {
        let conn = ports::connect(ctx, &self.backend)?;
        Ok(Connection {
            backend: Arc::new(DatabasePorts { db: conn.backend }),
            default_tags: conn.default_tags,
        })
    }

    fn spec_from_config(&self, config: &Value, prior: &Value) -> (DatabaseSpec, Diagnostics) {
        DatabaseSpec::from_config(config, prior)
    }

    fn cost(&self, ports: &DatabasePorts, spec: &DatabaseSpec) -> Knowable<Quote> {
        ports.db.cost(&shape(spec))
    }

    fn spec_from_state(&self, state: &Value) -> DatabaseSpec {
        DatabaseSpec::from_state(state)
    }

    async fn converge(
        &self,
        ports: &DatabasePorts,
        ctx: &StackContext,
        spec: &DatabaseSpec,
        prior: Option<&DatabaseSpec>,
        observed: &mut Observed,
    ) -> Result<(), BackendError> {
        observed.cloud = Some(Layout(ports.db.clone()));
        lifecycle::converge(ports.db.as_ref(), ctx, spec, prior, observed).await
    }

    async fn read_stack(
        &self,
        ports: &DatabasePorts,
        ctx: &StackContext,
        _spec: Option<&DatabaseSpec>,
    ) -> Result<Option<ReadBack<Observed>>, BackendError> {
        let mut snapshot = ports.db.read_stack(ctx).await.result?;
        let tags = std::mem::take(&mut snapshot.tags);
        let mut observed = Observed::from_snapshot(snapshot);
        // Anything of the stack left (a teardown that left the connection behind,
        // an instance deleted by hand) keeps the resource: forgetting it would
        // orphan what remains; the next apply converges, the next destroy retries.
        let exists = !observed.is_empty();
        observed.cloud = Some(Layout(ports.db.clone()));
        Ok(Some(ReadBack {
            observed,
            tags,
            exists,
        }))
    }

    fn merge_read(&self, observed: &mut Observed, read: Observed) {
        observed.fill_from(read);
    }

    fn is_empty(&self, observed: &Observed) -> bool {
        observed.is_empty()
    }

    fn components(&self, observed: &Observed) -> Vec<ComponentRecord> {
        observed.components.values().cloned().collect()
    }

    async fn retag(
        &self,
        ports: &DatabasePorts,
        ctx: &StackContext,
        components: &[ComponentRecord],
        removed: &[String],
    ) -> Result<(), BackendError> {
        ports.db.retag(ctx, components, removed).await.result
    }

    async fn destroy(
        &self,
        ports: &DatabasePorts,
        ctx: &StackContext,
        spec: &DatabaseSpec,
    ) -> Result<TeardownReport, BackendError> {
        let name = spec.name.known().cloned().unwrap_or_default();
        let request = DeleteRequest {
            final_snapshot: (spec.final_snapshot.known() == Some(&true))
                .then(|| final_snapshot_name(&name, SystemTime::now())),
            delete_key: matches!(
                spec.encryption_key,
                Knowable::Known(EncryptionKey::Created { .. })
            ),
        };
        ports.db.delete_stack(ctx, &request).await.result
    }

    fn applied_state(
        &self,
        observed: &Observed,
        spec: &DatabaseSpec,
        config: &Value,
        prior: &Value,
        _failed: bool,
    ) -> Value {
        let mut done = spec.clone();
        observed.complete(&mut done);
        let mut state = observed.state(&done, config);
        if !prior.is_null() {
            // The latest restorable time moves every few minutes; an update keeps
            // the planned (prior) value and the next refresh brings the new one.
            if let Some(prior_time) = prior.get_attr("latest_restorable_time") {
                set_attr(&mut state, "latest_restorable_time", prior_time.clone());
            }
        }
        state
    }

    fn refreshed_state(&self, observed: Observed, current: &Value) -> Value {
        let mut spec = DatabaseSpec::from_state(current);
        observed.apply_drift(&mut spec);
        observed.complete(&mut spec);
        observed.read_back(&spec, current)
    }

    fn imported_state(&self, id: &str, observed: Observed) -> Result<Value, Diagnostic> {
        let Some(settings) = import_settings(id, &observed) else {
            return Err(self.not_found(id));
        };
        let (mut spec, _) = DatabaseSpec::from_config(&settings, &Value::Null);
        observed.complete(&mut spec);
        Ok(observed.state(&spec, &settings))
    }

    fn not_found(&self, id: &str) -> Diagnostic {
        Diagnostic::error(
            "Database not found",
            format!(
                "No database instance of a paved stack named \"{id}\" exists. Import takes the instance \
                 identifier (the `name` it was created with); check the name, the region and the account."
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::timeouts::parse_duration;

    #[test]
    fn the_default_timeouts_parse() {
        let t = <DatabaseModel as StackModel>::TIMEOUTS;
        for text in [t.create, t.update, t.delete] {
            assert!(parse_duration(text).is_some(), "{text}");
        }
    }
}
