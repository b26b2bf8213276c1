//! The state: the effective configuration with the outputs, as the plan predicts
//! them ([`Outputs::planned`]) and as the apply and refresh find them
//! ([`Outputs::observed`]).

use std::collections::BTreeMap;

use paved_value::Value;

use super::config::NetworkConfig;
use crate::ports::network::{subnet_layout, Ipv4Net, Tier};
use crate::ports::network_backend::NetworkState;
use crate::stack::state::{set_attr, string_list};
use crate::stack::{ComponentRecord, Knowable};

/// What converge and a read gather about the network.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// The network, once it exists.
    pub network: Option<NetworkState>,
    /// Every component, by key.
    pub components: BTreeMap<String, ComponentRecord>,
}

impl Observed {
    /// Records the components a call reported.
    pub fn record(&mut self, components: Vec<ComponentRecord>) {
        for c in components {
            self.components.insert(c.key.clone(), c);
        }
    }
}

/// The computed outputs.
#[derive(Debug, Clone)]
pub struct Outputs {
    /// `vpc_id`.
    pub vpc_id: Value,
    /// `zones` (when not written).
    pub zones: Value,
    /// `subnet_ids`.
    pub subnet_ids: Value,
    /// `nat_gateway_ids`.
    pub nat_gateway_ids: Value,
}

impl Outputs {
    /// Nothing known before the apply.
    pub fn unknown() -> Self {
        Outputs {
            vpc_id: Value::unknown(),
            zones: Value::unknown(),
            subnet_ids: Value::unknown(),
            nat_gateway_ids: Value::unknown(),
        }
    }

    /// What a plan knows: the subnets' ids by tier, one a zone, each unknown until
    /// created (so a cluster that takes them knows its zone count at plan).
    pub fn planned(cfg: &NetworkConfig) -> Self {
        let subnet_ids = match &cfg.zone_count {
            Knowable::Known(zones) => Value::Map(
                Tier::ALL
                    .iter()
                    .map(|tier| {
                        let ids = (0..*zones).map(|_| Value::unknown()).collect();
                        (tier.as_str().to_owned(), Value::List(ids))
                    })
                    .collect(),
            ),
            Knowable::Unknown => Value::unknown(),
        };
        Outputs {
            subnet_ids,
            ..Outputs::unknown()
        }
    }

    /// As the apply or a read found them.
    pub fn observed(o: &Observed) -> Self {
        let Some(net) = &o.network else {
            return Outputs {
                vpc_id: Value::Null,
                zones: Value::Null,
                subnet_ids: Value::Map(BTreeMap::new()),
                nat_gateway_ids: Value::List(Vec::new()),
            };
        };
        let by_tier = Tier::ALL
            .iter()
            .map(|tier| {
                let ids = net.subnet_ids.get(tier);
                let ordered: Vec<&str> = net
                    .zones
                    .iter()
                    .filter_map(|z| ids.and_then(|m| m.get(z)).map(String::as_str))
                    .collect();
                (tier.as_str().to_owned(), string_list(&ordered))
            })
            .collect();
        Outputs {
            vpc_id: Value::from(net.vpc_id.as_str()),
            zones: string_list(&net.zones),
            subnet_ids: Value::Map(by_tier),
            nat_gateway_ids: string_list(&net.nat_gateway_ids),
        }
    }
}

/// The subnets' ranges by tier, in zone order: known once the range and the zone
/// count are.
pub fn subnet_cidrs(cfg: &NetworkConfig) -> Value {
    let (Knowable::Known(cidr), Knowable::Known(zones)) = (&cfg.cidr, &cfg.zone_count) else {
        return Value::unknown();
    };
    let Some(layout) = Ipv4Net::parse(cidr)
        .ok()
        .and_then(|net| subnet_layout(net, *zones).ok())
    else {
        return Value::unknown();
    };
    Value::Map(
        Tier::ALL
            .iter()
            .map(|tier| {
                let ranges: Vec<String> = layout.iter().map(|z| z.get(*tier).to_string()).collect();
                (tier.as_str().to_owned(), string_list(&ranges))
            })
            .collect(),
    )
}

/// The whole state `cfg` and `outputs` stand for (`tags_all` left unknown: the
/// outline sets it).
pub fn render_state(cfg: &NetworkConfig, outputs: &Outputs) -> Value {
    let mut state = cfg.effective.clone();
    set_attr(
        &mut state,
        "id",
        cfg.name
            .known()
            .map_or_else(Value::unknown, |n| Value::from(n.as_str())),
    );
    if !matches!(cfg.zones, Knowable::Known(Some(_))) {
        set_attr(&mut state, "zones", outputs.zones.clone());
    }
    set_attr(&mut state, "vpc_id", outputs.vpc_id.clone());
    set_attr(&mut state, "subnet_ids", outputs.subnet_ids.clone());
    set_attr(&mut state, "subnet_cidrs", subnet_cidrs(cfg));
    set_attr(
        &mut state,
        "nat_gateway_ids",
        outputs.nat_gateway_ids.clone(),
    );
    set_attr(&mut state, "tags_all", Value::unknown());
    state
}
