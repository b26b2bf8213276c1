//! `paved_network` as Terraform drives it: the stack core's outline
//! ([`StackResource`]) over this resource's model. Validation and planning are
//! pure ([`super::plan()`]); apply, refresh and destroy go through the
//! [`NetworkBackend`] of the configured cloud.

use std::collections::BTreeMap;

use async_trait::async_trait;
use paved_value::Value;

use super::config::NetworkConfig;
use super::schema::{
    declared, DEFAULT_CREATE_TIMEOUT, DEFAULT_DELETE_TIMEOUT, DEFAULT_UPDATE_TIMEOUT,
};
use super::state::{render_state, Observed, Outputs};
use super::{plan, validate_config, TYPE_NAME};
use crate::diag::{Diagnostic, Diagnostics};
use crate::framework::{OpContext, PlanResponse};
use crate::ports::network::NatLayout;
use crate::ports::network_backend::{NetworkBackend, NetworkBuild, ZoneChoice};
use crate::ports::{self, BackendFactory};
use crate::schema::Schema;
use crate::stack::cost::Quote;
use crate::stack::outline::{
    stack_spec, Connection, DefaultTimeouts, ReadBack, StackModel, StackResource,
};
use crate::stack::plan::read_back;
use crate::stack::resource::known;
use crate::stack::TeardownReport;
use crate::stack::{BackendError, CloudError, ComponentRecord, Knowable, StackContext};

/// The `paved_network` resource.
pub type NetworkResource = StackResource<NetworkModel>;

/// The resource, reaching the cloud through backends from `backend`.
pub fn resource(backend: BackendFactory<dyn NetworkBackend>) -> NetworkResource {
    StackResource::new(NetworkModel { backend })
}

stack_spec!(NetworkConfig);

/// What `paved_network` supplies to the outline.
pub struct NetworkModel {
    backend: BackendFactory<dyn NetworkBackend>,
}

/// The request `spec` stands for; the zones a prior state chose are kept.
fn build_request(
    spec: &NetworkConfig,
    prior: Option<&NetworkConfig>,
) -> Result<NetworkBuild, BackendError> {
    let listed = |c: &NetworkConfig| match &c.zones {
        Knowable::Known(Some(z)) if !z.is_empty() => Some(z.clone()),
        _ => None,
    };
    let zones = match listed(spec).or_else(|| prior.and_then(listed)) {
        Some(z) => ZoneChoice::Named(z),
        None => ZoneChoice::Choose(known(&spec.zone_count, "zone_count")?),
    };
    Ok(NetworkBuild {
        cidr: known(&spec.cidr, "cidr")?,
        zones,
        nat: known(&spec.nat, "nat_mode")?,
    })
}

/// The configuration an imported network stands for, from what exists.
fn import_settings(id: &str, observed: &Observed) -> Option<Value> {
    let net = observed.network.as_ref()?;
    let zones = net.zones.len();
    let nat = match net.nat_gateway_ids.len() {
        0 => NatLayout::None,
        1 if zones > 1 => NatLayout::Single,
        _ => NatLayout::PerZone,
    };
    let zone_count = i64::try_from(zones).unwrap_or(i64::MAX);
    Some(Value::Object(BTreeMap::from([
        ("name".to_owned(), Value::from(id)),
        ("cidr".to_owned(), Value::from(net.cidr.as_str())),
        ("zone_count".to_owned(), Value::from(zone_count)),
        ("nat_mode".to_owned(), Value::from(nat.as_str())),
    ])))
}

#[async_trait]
impl StackModel for NetworkModel {
    type Backend = dyn NetworkBackend;
    type Spec = NetworkConfig;
    type Observed = Observed;

    const TYPE_NAME: &'static str = TYPE_NAME;
    const NOUN: &'static str = "network";
    const TIMEOUTS: DefaultTimeouts = DefaultTimeouts {
        create: DEFAULT_CREATE_TIMEOUT,
        update: DEFAULT_UPDATE_TIMEOUT,
        delete: DEFAULT_DELETE_TIMEOUT,
    };

    fn schema(&self) -> Schema {
        declared().clone()
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
        ports::connect(ctx, &self.backend)
    }

    fn spec_from_config(&self, config: &Value, _prior: &Value) -> (NetworkConfig, Diagnostics) {
        NetworkConfig::from_config(config)
    }

    fn cost(&self, backend: &dyn NetworkBackend, spec: &NetworkConfig) -> Knowable<Quote> {
        match (&spec.zone_count, &spec.nat) {
            (Knowable::Known(zones), Knowable::Known(nat)) => backend.cost(*zones, *nat),
            _ => Knowable::Unknown,
        }
    }

    fn spec_from_state(&self, state: &Value) -> NetworkConfig {
        NetworkConfig::from_state(state)
    }

    async fn converge(
        &self,
        backend: &dyn NetworkBackend,
        ctx: &StackContext,
        spec: &NetworkConfig,
        prior: Option<&NetworkConfig>,
        observed: &mut Observed,
    ) -> Result<(), BackendError> {
        let req = build_request(spec, prior)?;
        let step = backend.ensure_network(ctx, &req).await;
        observed.record(step.components);
        observed.network = Some(step.result?);
        Ok(())
    }

    async fn read_stack(
        &self,
        backend: &dyn NetworkBackend,
        ctx: &StackContext,
        _spec: Option<&NetworkConfig>,
    ) -> Result<Option<ReadBack<Observed>>, BackendError> {
        let snapshot = backend.read_network(ctx).await?;
        let mut observed = Observed {
            network: snapshot.network,
            ..Observed::default()
        };
        observed.record(snapshot.components);
        // Gone once its VPC is: subnets, gateways and route tables cannot outlive it.
        let exists = observed.network.is_some();
        Ok(Some(ReadBack {
            observed,
            tags: snapshot.tags,
            exists,
        }))
    }

    fn merge_read(&self, observed: &mut Observed, read: Observed) {
        for (k, c) in read.components {
            observed.components.entry(k).or_insert(c);
        }
        if observed.network.is_none() {
            observed.network = read.network;
        }
    }

    fn is_empty(&self, observed: &Observed) -> bool {
        observed.network.is_none() && observed.components.is_empty()
    }

    fn components(&self, observed: &Observed) -> Vec<ComponentRecord> {
        observed.components.values().cloned().collect()
    }

    async fn retag(
        &self,
        backend: &dyn NetworkBackend,
        ctx: &StackContext,
        components: &[ComponentRecord],
        removed: &[String],
    ) -> Result<(), BackendError> {
        backend.retag(ctx, components, removed).await.result
    }

    async fn destroy(
        &self,
        backend: &dyn NetworkBackend,
        ctx: &StackContext,
        _spec: &NetworkConfig,
    ) -> Result<TeardownReport, BackendError> {
        backend.delete_network(ctx).await.result
    }

    fn applied_state(
        &self,
        observed: &Observed,
        spec: &NetworkConfig,
        config: &Value,
        _prior: &Value,
        _failed: bool,
    ) -> Value {
        let rendered = render_state(spec, &Outputs::observed(observed));
        read_back(&declared().block, config, &rendered)
    }

    fn refreshed_state(&self, observed: Observed, current: &Value) -> Value {
        let cfg = NetworkConfig::from_state(current);
        read_back(
            &declared().block,
            current,
            &render_state(&cfg, &Outputs::observed(&observed)),
        )
    }

    fn imported_state(&self, id: &str, observed: Observed) -> Result<Value, Diagnostic> {
        let Some(settings) = import_settings(id, &observed) else {
            return Err(self.not_found(id));
        };
        let (cfg, _) = NetworkConfig::from_config(&settings);
        Ok(read_back(
            &declared().block,
            &settings,
            &render_state(&cfg, &Outputs::observed(&observed)),
        ))
    }

    fn not_found(&self, id: &str) -> Diagnostic {
        Diagnostic::error(
            "Network not found",
            format!(
                "No network of a paved_network named \"{id}\" exists. Import takes the network's name; check the \
                 name, the region and the account."
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
        let t = <NetworkModel as StackModel>::TIMEOUTS;
        for text in [t.create, t.update, t.delete] {
            assert!(parse_duration(text).is_some(), "{text}");
        }
    }

    #[test]
    fn an_update_keeps_the_zones_the_create_chose() {
        let state = Value::Object(BTreeMap::from([
            ("name".to_owned(), Value::from("shop")),
            (
                "zones".to_owned(),
                Value::List(vec!["us-east-1b".into(), "us-east-1c".into()]),
            ),
        ]));
        let prior = NetworkConfig::from_state(&state);
        let (spec, _) = NetworkConfig::from_config(&Value::Object(BTreeMap::from([(
            "name".to_owned(),
            Value::from("shop"),
        )])));
        let req = build_request(&spec, Some(&prior)).expect("request");
        assert_eq!(
            req.zones,
            ZoneChoice::Named(vec!["us-east-1b".to_owned(), "us-east-1c".to_owned()])
        );
        let fresh = build_request(&spec, None).expect("request");
        assert_eq!(fresh.zones, ZoneChoice::Choose(3));
    }
}
