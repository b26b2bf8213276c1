//! `paved_observability_stack` as Terraform drives it: the stack core's outline
//! ([`StackResource`]) over this resource's model. Validation and planning are pure
//! ([`super::plan()`]); apply, refresh and destroy go through the
//! [`ObservabilityBackend`] of the configured cloud and the cluster's Kubernetes API
//! ([`lifecycle`]).

use std::sync::Arc;

use async_trait::async_trait;
use paved_value::Value;

use super::config::cost_shape;
use super::config::ObservabilityConfig;
use super::lifecycle::{self, ObservabilityPorts};
use super::schema::{DEFAULT_CREATE_TIMEOUT, DEFAULT_DELETE_TIMEOUT, DEFAULT_UPDATE_TIMEOUT};
use super::state::{render_state, Observed, Outputs};
use super::{plan, schema, validate_config, TYPE_NAME};
use crate::diag::{Diagnostic, Diagnostics};
use crate::framework::{OpContext, PlanResponse};
use crate::ports::observability::ObservabilityBackend;
use crate::ports::{self, BackendFactory};
use crate::schema::Schema;
use crate::stack::cost::Quote;
use crate::stack::outline::{
    stack_spec, Connection, DefaultTimeouts, ReadBack, StackModel, StackResource,
};
use crate::stack::plan::read_back;
use crate::stack::TeardownReport;
use crate::stack::{BackendError, CloudError, ComponentRecord, Knowable, StackContext};

/// The `paved_observability_stack` resource.
pub type ObservabilityStackResource = StackResource<ObservabilityModel>;

/// The resource, reaching the cloud through backends from `backend`.
pub fn resource(backend: BackendFactory<dyn ObservabilityBackend>) -> ObservabilityStackResource {
    StackResource::new(ObservabilityModel { backend })
}

stack_spec!(ObservabilityConfig);

/// What `paved_observability_stack` supplies to the outline.
pub struct ObservabilityModel {
    backend: BackendFactory<dyn ObservabilityBackend>,
}

#[async_trait]
impl StackModel for ObservabilityModel {
    type Backend = ObservabilityPorts;
    type Spec = ObservabilityConfig;
    type Observed = Observed;

    const TYPE_NAME: &'static str = TYPE_NAME;
    const NOUN: &'static str = "observability stack";
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
        _backend: Option<&Self::Backend>,
        prior: &Value,
        proposed: &Value,
        config: &Value,
    ) -> PlanResponse {
        plan(prior, proposed, config)
    }

    fn connect<'a>(&self, ctx: &'a OpContext) -> Result<Connection<'a, Self::Backend>, CloudError> {
        let conn = ports::connect(ctx, &self.backend)?;
        let kube = ports::kube_access(ctx);
        Ok(Connection {
            backend: Arc::new(ObservabilityPorts {
                cloud: conn.backend,
                kube,
            }),
            default_tags: conn.default_tags,
        })
    }

    fn spec_from_config(
        &self,
        config: &Value,
        _prior: &Value,
    ) -> (ObservabilityConfig, Diagnostics) {
        ObservabilityConfig::from_config(config)
    }

    fn cost(&self, ports: &ObservabilityPorts, spec: &ObservabilityConfig) -> Knowable<Quote> {
        match cost_shape(spec) {
            Some(shape) => ports.cloud.cost(&shape),
            None => Knowable::Unknown,
        }
    }

    fn spec_from_state(&self, state: &Value) -> ObservabilityConfig {
        ObservabilityConfig::from_state(state)
    }

    async fn converge(
        &self,
        ports: &ObservabilityPorts,
        ctx: &StackContext,
        spec: &ObservabilityConfig,
        prior: Option<&ObservabilityConfig>,
        observed: &mut Observed,
    ) -> Result<(), BackendError> {
        lifecycle::converge(ports, ctx, spec, prior, observed).await
    }

    async fn read_stack(
        &self,
        ports: &ObservabilityPorts,
        ctx: &StackContext,
        spec: Option<&ObservabilityConfig>,
    ) -> Result<Option<ReadBack<Observed>>, BackendError> {
        let (observed, tags) = lifecycle::read(ports, ctx, spec).await?;
        // Gone when nothing of it is left: no cloud component and no object.
        let exists = !observed.components.is_empty()
            || observed.kube.as_ref().is_none_or(|k| !k.objects.is_empty());
        Ok(Some(ReadBack {
            observed,
            tags,
            exists,
        }))
    }

    fn merge_read(&self, observed: &mut Observed, read: Observed) {
        for (k, c) in read.components {
            observed.components.entry(k).or_insert(c);
        }
        for (k, b) in read.buckets {
            observed.buckets.entry(k).or_insert(b);
        }
        for (k, i) in read.identities {
            observed.identities.entry(k).or_insert(i);
        }
        if observed.managed.is_none() {
            observed.managed = read.managed;
        }
        if observed.kube.is_none() {
            observed.kube = read.kube;
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
        ports: &ObservabilityPorts,
        ctx: &StackContext,
        components: &[ComponentRecord],
        removed: &[String],
    ) -> Result<(), BackendError> {
        ports.cloud.retag(ctx, components, removed).await.result
    }

    async fn destroy(
        &self,
        ports: &ObservabilityPorts,
        ctx: &StackContext,
        spec: &ObservabilityConfig,
    ) -> Result<TeardownReport, BackendError> {
        lifecycle::destroy(ports, ctx, spec).await
    }

    fn applied_state(
        &self,
        observed: &Observed,
        spec: &ObservabilityConfig,
        config: &Value,
        _prior: &Value,
        _failed: bool,
    ) -> Value {
        let block = schema().block;
        let rendered = render_state(spec, &Outputs::observed(observed));
        read_back(&block, config, &rendered)
    }

    fn refreshed_state(&self, observed: Observed, current: &Value) -> Value {
        let cfg = ObservabilityConfig::from_state(current);
        let mut outputs = Outputs::observed(&observed);
        if observed.kube.is_none() {
            // The cluster could not be read: the state's objects stand.
            for (name, slot) in [
                ("kubernetes_objects", &mut outputs.kubernetes_objects),
                ("kubernetes_digest", &mut outputs.kubernetes_digest),
                ("kubernetes_hashes", &mut outputs.kubernetes_hashes),
            ] {
                *slot = current.get_attr(name).cloned().unwrap_or(Value::Null);
            }
        }
        read_back(&schema().block, current, &render_state(&cfg, &outputs))
    }

    fn imported_state(&self, id: &str, _observed: Observed) -> Result<Value, Diagnostic> {
        Err(Diagnostic::error(
            "Import is not supported",
            format!(
                "paved_observability_stack \"{id}\" cannot be imported yet: its settings live in the cluster's \
                 objects. Write the resource with the same name and namespace and apply: paved adopts the \
                 buckets and identities it finds and applies the objects over the existing ones."
            ),
        ))
    }

    fn not_found(&self, id: &str) -> Diagnostic {
        Diagnostic::error(
            "Observability stack not found",
            format!("No component of a paved observability stack named \"{id}\" exists."),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::timeouts::parse_duration;

    #[test]
    fn the_default_timeouts_parse() {
        let t = <ObservabilityModel as StackModel>::TIMEOUTS;
        for text in [t.create, t.update, t.delete] {
            assert!(parse_duration(text).is_some(), "{text}");
        }
    }
}
