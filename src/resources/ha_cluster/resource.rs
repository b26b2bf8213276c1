//! `paved_ha_cluster` as Terraform drives it: the stack core's outline
//! ([`StackResource`]) over this resource's model. Validation and planning are the
//! pure functions of this module's siblings; apply, refresh and import go through
//! the [`ClusterBackend`] of the configured cloud.
//!
//! - Create and update converge the stack ([`lifecycle::converge`]) and render the
//!   state with [`Observed::state`].
//! - Destroy tears the stack down in order, keeping a network that is the user's
//!   and scheduling the deletion of a key paved created.
//! - Refresh reads the whole stack in one batched pass and writes drift into the
//!   state.
//! - Import takes the cluster's name.

use async_trait::async_trait;
use paved_value::Value;

use super::config::{ClusterSpec, EncryptionKey};
use super::config::{DEFAULT_CREATE_TIMEOUT, DEFAULT_DELETE_TIMEOUT, DEFAULT_UPDATE_TIMEOUT};
use super::delivery::{self, KubeAccess};
use super::inventory::shape;
use super::lifecycle;
use super::plan::plan_for;
use super::state::{builds_network, import_settings, network_from_state, Layout, Observed};
use super::{schema, validate_config, TYPE_NAME};
use crate::diag::{Diagnostic, Diagnostics};
use crate::framework::{OpContext, PlanResponse};
use crate::ports::cluster::{ClusterBackend, TeardownRequest};
use crate::ports::{self, BackendFactory};
use crate::schema::Schema;
use crate::stack::cost::Quote;
use crate::stack::outline::{
    stack_spec, Connection, DefaultTimeouts, ReadBack, StackModel, StackResource,
};
use crate::stack::TeardownReport;
use crate::stack::{BackendError, CloudError, ComponentRecord, Knowable, StackContext};
use std::sync::Arc;

/// The `paved_ha_cluster` resource.
pub type HaClusterResource = StackResource<ClusterModel>;

/// The resource, reaching the cloud through backends from `backend` and the
/// clusters' Kubernetes APIs through the cloud's connector.
pub fn resource(backend: BackendFactory<dyn ClusterBackend>) -> HaClusterResource {
    StackResource::new(ClusterModel { backend })
}

/// What the model drives: the cloud's cluster backend, and the Kubernetes API of
/// the clusters it builds when the cloud offers a client.
pub struct ClusterPorts {
    /// The cloud's cluster backend.
    pub cluster: Arc<dyn ClusterBackend>,
    /// The Kubernetes client of the cloud, with its region.
    pub kube: Option<KubeAccess>,
}

stack_spec!(ClusterSpec);

/// What `paved_ha_cluster` supplies to the outline.
pub struct ClusterModel {
    backend: BackendFactory<dyn ClusterBackend>,
}

#[async_trait]
impl StackModel for ClusterModel {
    type Backend = ClusterPorts;
    type Spec = ClusterSpec;
    type Observed = Observed;

    const TYPE_NAME: &'static str = TYPE_NAME;
    const NOUN: &'static str = "cluster";
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
        let cloud = backend.map(|b| b.cluster.as_ref());
        plan_for(cloud, prior, proposed, config)
    }

    fn connect<'a>(&self, ctx: &'a OpContext) -> Result<Connection<'a, Self::Backend>, CloudError> {
        let conn = ports::connect(ctx, &self.backend)?;
        let kube = ports::kube_access(ctx);
        Ok(Connection {
            backend: Arc::new(ClusterPorts {
                cluster: conn.backend,
                kube,
            }),
            default_tags: conn.default_tags,
        })
    }

    fn spec_from_config(&self, config: &Value, prior: &Value) -> (ClusterSpec, Diagnostics) {
        ClusterSpec::from_config(config, prior)
    }

    fn cost(&self, ports: &ClusterPorts, spec: &ClusterSpec) -> Knowable<Quote> {
        ports.cluster.cost(&shape(spec))
    }

    fn spec_from_state(&self, state: &Value) -> ClusterSpec {
        ClusterSpec::from_state(state)
    }

    fn fit_to_cloud(&self, ports: &ClusterPorts, spec: &mut ClusterSpec, prior_state: &Value) {
        spec.with_subnet_scope(
            Knowable::Known(ports.cluster.regional_subnets()),
            prior_state,
        );
    }

    async fn converge(
        &self,
        ports: &ClusterPorts,
        ctx: &StackContext,
        spec: &ClusterSpec,
        prior: Option<&ClusterSpec>,
        observed: &mut Observed,
    ) -> Result<(), BackendError> {
        observed.cloud = Some(Layout(ports.cluster.clone()));
        lifecycle::converge(ports.cluster.as_ref(), ctx, spec, prior, observed).await?;
        delivery::deliver(ports.kube.as_ref(), ctx, spec, prior, observed).await
    }

    async fn read_stack(
        &self,
        ports: &ClusterPorts,
        ctx: &StackContext,
        spec: Option<&ClusterSpec>,
    ) -> Result<Option<ReadBack<Observed>>, BackendError> {
        let builds_network = spec.and_then(|s| s.builds_network().known().copied());
        let Some(mut snapshot) = ports.cluster.read_stack_scoped(ctx, builds_network).await? else {
            return Ok(None);
        };
        let tags = std::mem::take(&mut snapshot.tags);
        let mut observed = Observed::from_snapshot(snapshot);
        observed.cloud = Some(Layout(ports.cluster.clone()));
        if let Some(spec) = spec {
            let mut running = spec.clone();
            observed.complete(&mut running);
            observed.kube = delivery::read(ports.kube.as_ref(), &running, &observed).await;
        }
        Ok(Some(ReadBack {
            observed,
            tags,
            exists: true,
        }))
    }

    fn merge_read(&self, observed: &mut Observed, read: Observed) {
        observed.absorb(read.components.values().cloned().collect());
        observed.network = observed.network.take().or(read.network);
        observed.key = observed.key.take().or(read.key);
        observed.iam = observed.iam.take().or(read.iam);
        observed.control_plane = observed.control_plane.take().or(read.control_plane);
        observed.addons = observed.addons.take().or(read.addons);
        observed.group_access = observed.group_access.take().or(read.group_access);
        observed.kube = observed.kube.take().or(read.kube);
        observed.cloud = observed.cloud.take().or(read.cloud);
        for (name, pool) in read.node_pools {
            observed.node_pools.entry(name).or_insert(pool);
        }
    }

    fn is_empty(&self, observed: &Observed) -> bool {
        observed.is_empty()
    }

    fn components(&self, observed: &Observed) -> Vec<ComponentRecord> {
        observed.components.values().cloned().collect()
    }

    async fn retag(
        &self,
        ports: &ClusterPorts,
        ctx: &StackContext,
        components: &[ComponentRecord],
        removed: &[String],
    ) -> Result<(), BackendError> {
        ports.cluster.retag(ctx, components, removed).await.result
    }

    async fn destroy(
        &self,
        ports: &ClusterPorts,
        ctx: &StackContext,
        spec: &ClusterSpec,
    ) -> Result<TeardownReport, BackendError> {
        let backend = ports.cluster.as_ref();
        // Load balancers and volumes Kubernetes made go through Kubernetes first.
        if ports.kube.is_some() {
            if let Ok(Some(snapshot)) = backend.read_stack(ctx).await {
                let observed = Observed::from_snapshot(snapshot);
                delivery::release_cloud_objects(ports.kube.as_ref(), spec, &observed).await;
            }
        }
        let request = TeardownRequest {
            keep_network: !builds_network(spec),
            delete_key: matches!(
                spec.encryption_key,
                Knowable::Known(EncryptionKey::Created { .. })
            ),
        };
        backend.delete_stack(ctx, &request).await.result
    }

    fn applied_state(
        &self,
        observed: &Observed,
        spec: &ClusterSpec,
        config: &Value,
        _prior: &Value,
        failed: bool,
    ) -> Value {
        if !failed {
            let mut done = spec.clone();
            observed.complete(&mut done);
            return observed.state(&done, config);
        }
        // What exists rather than what was asked, for the settings the cloud
        // reports (the version running everywhere, pool bounds, pools that exist):
        // the next plan then shows what is still to do.
        let mut done = spec.clone();
        observed.apply_drift(&mut done);
        observed.complete(&mut done);
        observed.read_back(&done, config)
    }

    fn refreshed_state(&self, mut observed: Observed, current: &Value) -> Value {
        if observed.network.is_none() && !builds_network(&ClusterSpec::from_state(current)) {
            observed.network = network_from_state(current);
        }
        // Read as a state, so that a key paved created stays one (and is deleted
        // with the cluster) rather than reading as the user's key.
        let mut spec = ClusterSpec::from_state(current);
        observed.apply_drift(&mut spec);
        observed.complete(&mut spec);
        observed.read_back(&spec, current)
    }

    fn imported_state(&self, id: &str, observed: Observed) -> Result<Value, Diagnostic> {
        let Some(settings) = import_settings(id, &observed) else {
            return Err(Diagnostic::error(
                "Cluster network not found",
                format!(
                    "The stack \"{id}\" has no network paved built, and import cannot tell an existing network's \
                     subnets. Write the resource with network.existing_vpc_id and existing_subnet_ids instead, \
                     and let apply adopt the stack by its tags."
                ),
            ));
        };
        let (mut spec, _) = ClusterSpec::from_config(&settings, &Value::Null);
        observed.complete(&mut spec);
        Ok(observed.state(&spec, &settings))
    }

    fn not_found(&self, id: &str) -> Diagnostic {
        Diagnostic::error(
            "Cluster not found",
            format!(
                "No component tagged paved:stack = \"{id}\" exists. Import takes the cluster's name \
                 (the `name` it was created with); check the name, the region and the account."
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
        let t = <ClusterModel as StackModel>::TIMEOUTS;
        for text in [t.create, t.update, t.delete] {
            assert!(parse_duration(text).is_some(), "{text}");
        }
    }
}
