//! The state of a `paved_ha_cluster` as the cloud has it: [`Observed`] gathers what
//! an apply made or a refresh found, completes the spec with the choices made at
//! create (zones, Kubernetes version, key), and renders the state object through the
//! same [`render`] the plan uses, so the apply's known values equal the plan's.
//!
//! It also turns what a refresh reads into drift in the state (node pool bounds,
//! instance types and capacity, the Kubernetes version, pools gone), and what an
//! import finds into the settings a configuration would have written.

use std::collections::BTreeMap;

use paved_value::Value;

use crate::stack::ComponentRecord;

use crate::ports::cluster::{
    ControlPlaneState, IdentityState, NetworkState, NodePoolState, StackSnapshot, Taint,
};

use super::config::{ClusterSpec, EncryptionKey, KubernetesVersion, NetworkMode};
use super::inventory::{components, ha_report, inventory_value};
use super::plan::{render, Outputs};
use super::schema::schema;
use crate::ports::key::KeyState;
use crate::ports::network::Tier;
use crate::profiles::Profile;
use crate::stack::plan::merge_block;
use crate::stack::state::{attr_mut, map_mut, set_attr, string_list};
use crate::stack::Knowable;

/// What the cloud says the stack is, gathered by an apply or a refresh.
#[derive(Debug, Default, Clone)]
pub struct Observed {
    /// The network.
    pub network: Option<NetworkState>,
    /// The encryption key.
    pub key: Option<KeyState>,
    /// The roles.
    pub iam: Option<IdentityState>,
    /// The control plane.
    pub control_plane: Option<ControlPlaneState>,
    /// Node pools by name.
    pub node_pools: BTreeMap<String, NodePoolState>,
    /// Every component found or made, by inventory key.
    pub components: BTreeMap<String, ComponentRecord>,
}

impl Observed {
    /// Everything a refresh read.
    pub fn from_snapshot(snapshot: StackSnapshot) -> Self {
        let mut observed = Observed {
            network: snapshot.network,
            key: snapshot.key,
            iam: snapshot.iam,
            control_plane: snapshot.control_plane,
            node_pools: snapshot.node_pools,
            components: BTreeMap::new(),
        };
        observed.absorb(snapshot.components);
        observed
    }

    /// Records components a step made or found.
    pub fn absorb(&mut self, components: Vec<ComponentRecord>) {
        for c in components {
            self.components.insert(c.key.clone(), c);
        }
    }

    /// Fills in what the plan left to the apply: the zones and range chosen, the
    /// Kubernetes version the control plane runs, the ARN of the key paved made.
    pub fn complete(&self, spec: &mut ClusterSpec) {
        if let Some(net) = &self.network {
            if !net.zones.is_empty() {
                spec.zones = Knowable::Known(Some(net.zones.clone()));
                spec.zone_count = Knowable::Known(u32::try_from(net.zones.len()).unwrap_or(0));
            }
            if !matches!(spec.network.cidr, Knowable::Known(Some(_))) && !net.cidr.is_empty() {
                spec.network.cidr = Knowable::Known(Some(net.cidr.clone()));
            }
        }
        if let Some(version) = self.running_version() {
            spec.kubernetes_version = Knowable::Known(Some(version));
        }
        if let (Knowable::Known(EncryptionKey::Created { id: arn }), Some(key)) =
            (&mut spec.encryption_key, &self.key)
        {
            *arn = Some(key.id.clone());
        }
    }

    /// The Kubernetes version the whole cluster runs: the lowest of the control
    /// plane's and the node pools'. They differ only while an upgrade is half done
    /// (stopped or failed after the control plane); the state then shows the older
    /// version, so the next plan shows the upgrade again and its apply finishes the
    /// pools. `None` without a control plane.
    pub fn running_version(&self) -> Option<String> {
        let cp = self.control_plane.as_ref()?;
        let lowest = self
            .node_pools
            .values()
            .map(|p| p.kubernetes_version.as_str())
            .chain(std::iter::once(cp.kubernetes_version.as_str()))
            .filter_map(|v| KubernetesVersion::parse(v).map(|parsed| (parsed, v)))
            .min_by_key(|(parsed, _)| *parsed)
            .map_or(cp.kubernetes_version.as_str(), |(_, v)| v);
        Some(lowest.to_owned())
    }

    /// The computed outputs: what exists, null for what does not.
    pub(crate) fn outputs(&self, spec: &ClusterSpec) -> Outputs {
        let cp = self.control_plane.as_ref();
        let net = self.network.as_ref();
        let text = |v: Option<&str>| v.map_or(Value::Null, Value::from);
        let tier_map = |tier: Tier| {
            net.and_then(|n| n.subnet_ids.get(&tier)).map_or_else(
                || Value::Map(BTreeMap::new()),
                |by_zone| {
                    Value::Map(
                        by_zone
                            .iter()
                            .map(|(z, id)| (z.clone(), Value::from(id.as_str())))
                            .collect(),
                    )
                },
            )
        };
        let pool_status = match &spec.node_pools {
            Knowable::Known(pools) => Value::Map(
                pools
                    .keys()
                    .map(|name| {
                        let status = self
                            .node_pools
                            .get(name)
                            .map_or("MISSING", |p| p.status.as_str());
                        (name.clone(), Value::from(status))
                    })
                    .collect(),
            ),
            Knowable::Unknown => Value::Null,
        };
        let inventory = match components(spec) {
            Knowable::Known(list) => inventory_value(&list, |c| {
                self.components
                    .get(&c.key)
                    .map_or(Value::Null, |r| Value::from(r.id.as_str()))
            }),
            Knowable::Unknown => Value::Null,
        };
        Outputs {
            id: text(cp.map(|c| c.id.as_str())),
            endpoint: text(cp.map(|c| c.endpoint.as_str())),
            certificate_authority: text(cp.map(|c| c.certificate_authority.as_str())),
            oidc_issuer_url: text(cp.map(|c| c.oidc_issuer_url.as_str())),
            kubeconfig: text(cp.map(|c| c.kubeconfig.as_str()).filter(|k| !k.is_empty())),
            vpc_id: text(net.map(|n| n.vpc_id.as_str())),
            public_subnet_ids: tier_map(Tier::Public),
            private_subnet_ids: tier_map(Tier::Private),
            intra_subnet_ids: tier_map(Tier::Intra),
            nat_gateway_ids: net.map_or_else(
                || Value::List(Vec::new()),
                |n| string_list(&n.nat_gateway_ids),
            ),
            node_pool_status: pool_status,
            inventory,
            ha_report: ha_report(spec).to_value(),
        }
    }

    /// The state object: `settings` (the configuration, or a state read as one) with
    /// the effective values of `spec` and these outputs.
    pub fn state(&self, spec: &ClusterSpec, settings: &Value) -> Value {
        merge_block(
            &schema().block,
            settings,
            &render(spec, &self.outputs(spec)),
        )
    }

    /// Whether anything of the stack exists.
    pub fn is_empty(&self) -> bool {
        self.components.is_empty()
            && self.network.is_none()
            && self.control_plane.is_none()
            && self.node_pools.is_empty()
    }
}

/// The state with the drift a refresh found written into it: the Kubernetes version
/// the control plane runs, each pool's bounds, instance types and capacity, pools
/// that no longer exist removed. The desired size is the autoscaler's and is not
/// read at all.
pub fn with_drift(state: &Value, observed: &Observed) -> Value {
    let mut out = state.clone();
    if let Some(version) = observed.running_version() {
        set_attr(&mut out, "kubernetes_version", Value::from(version));
    }
    if observed.control_plane.is_none() {
        return out;
    }
    // Principals whose access was revoked outside paved leave `cluster_admins`; the
    // order written stays, and access granted by others is not paved's to show.
    let listed = observed
        .control_plane
        .as_ref()
        .and_then(|cp| cp.admins.as_ref());
    if let (Some(listed), Some(Value::List(admins))) =
        (listed, attr_mut(&mut out, "cluster_admins"))
    {
        admins.retain(|a| a.as_str().is_some_and(|a| listed.iter().any(|l| l == a)));
    }
    if let Some(pools) = attr_mut(&mut out, "node_pools").and_then(map_mut) {
        pools.retain(|name, _| observed.node_pools.contains_key(name));
        for (name, pool) in pools.iter_mut() {
            let Some(actual) = observed.node_pools.get(name) else {
                continue;
            };
            set_attr(pool, "min_size", Value::from(i64::from(actual.min_size)));
            set_attr(pool, "max_size", Value::from(i64::from(actual.max_size)));
            set_attr(pool, "instance_types", string_list(&actual.instance_types));
            set_attr(pool, "capacity", Value::from(actual.capacity.as_str()));
            set_attr(pool, "labels", labels_value(&actual.labels));
            set_attr(pool, "taints", taints_value(&actual.taints));
        }
    }
    out
}

/// The settings an import writes for a stack paved built: what the cloud tells
/// (zones, range, NAT layout, version, pools), with the profile judged from the
/// NAT layout and zone count; settings the cloud does not tell take the profile's
/// defaults. `None` when the stack's network is not one paved built.
pub fn import_settings(name: &str, observed: &Observed) -> Option<Value> {
    let net = observed.network.as_ref()?;
    let zones = net.zones.len();
    let nat_mode = match net.nat_gateway_ids.len() {
        0 => "none",
        n if n == zones && zones > 1 => "per_zone",
        _ => "single",
    };
    let profile = if nat_mode == "per_zone" {
        Profile::Production
    } else if zones >= 3 {
        Profile::Staging
    } else {
        Profile::Development
    };
    let obj = |pairs: Vec<(&str, Value)>| {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    };
    let pools: BTreeMap<String, Value> = observed
        .node_pools
        .iter()
        .map(|(pool_name, p)| {
            (
                pool_name.clone(),
                obj(vec![
                    ("instance_types", string_list(&p.instance_types)),
                    ("capacity", Value::from(p.capacity.as_str())),
                    ("min_size", Value::from(i64::from(p.min_size))),
                    ("max_size", Value::from(i64::from(p.max_size))),
                    ("disk_size_gb", Value::Null),
                    ("labels", labels_value(&p.labels)),
                    ("taints", taints_value(&p.taints)),
                ]),
            )
        })
        .collect();
    Some(obj(vec![
        ("name", Value::from(name)),
        ("profile", Value::from(profile.name())),
        ("zones", string_list(&net.zones)),
        (
            "network",
            obj(vec![
                ("cidr", Value::from(net.cidr.as_str())),
                ("nat_mode", Value::from(nat_mode)),
                ("existing_vpc_id", Value::Null),
                ("existing_subnet_ids", Value::Null),
            ]),
        ),
        // The user's key (one paved did not create) is a setting; a key paved
        // created is left out, as its configuration would.
        (
            "encryption_key_arn",
            observed
                .key
                .as_ref()
                .filter(|k| !k.created)
                .map_or(Value::Null, |k| Value::from(k.id.as_str())),
        ),
        (
            "kubernetes_version",
            observed.control_plane.as_ref().map_or(Value::Null, |cp| {
                Value::from(cp.kubernetes_version.as_str())
            }),
        ),
        (
            "node_pools",
            if pools.is_empty() {
                Value::Null
            } else {
                Value::Map(pools)
            },
        ),
    ]))
}

/// Labels as the schema holds them: null when there are none (as when unset).
fn labels_value(labels: &BTreeMap<String, String>) -> Value {
    if labels.is_empty() {
        return Value::Null;
    }
    Value::Map(
        labels
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect(),
    )
}

/// Taints as the schema holds them: null when there are none (as when unset).
fn taints_value(taints: &[Taint]) -> Value {
    if taints.is_empty() {
        return Value::Null;
    }
    Value::List(
        taints
            .iter()
            .map(|t| {
                Value::Object(BTreeMap::from([
                    ("key".to_owned(), Value::from(t.key.as_str())),
                    (
                        "value".to_owned(),
                        t.value.as_deref().map_or(Value::Null, Value::from),
                    ),
                    ("effect".to_owned(), Value::from(t.effect.as_str())),
                ]))
            })
            .collect(),
    )
}

/// The network a state records, for a cluster in the user's network: refresh finds
/// only what carries the stack's tags, and the user's VPC does not.
pub fn network_from_state(state: &Value) -> Option<NetworkState> {
    let net = state.get_attr("network")?;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let vpc_id = text(net.get_attr("vpc_id"))?;
    let mut subnet_ids = BTreeMap::new();
    for tier in Tier::ALL {
        let by_zone: BTreeMap<String, String> = net
            .get_attr(&format!("{}_subnet_ids", tier.as_str()))
            .and_then(Value::as_map)
            .map(|m| {
                m.iter()
                    .filter_map(|(z, id)| Some((z.clone(), id.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        if !by_zone.is_empty() {
            subnet_ids.insert(tier, by_zone);
        }
    }
    Some(NetworkState {
        vpc_id,
        cidr: text(net.get_attr("cidr")).unwrap_or_default(),
        zones: state
            .get_attr("zones")
            .and_then(Value::as_list)
            .map(|l| {
                l.iter()
                    .filter_map(|z| z.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        subnet_ids,
        nat_gateway_ids: Vec::new(),
    })
}

/// Whether the spec's network is one paved builds (unknown counts as built).
pub fn builds_network(spec: &ClusterSpec) -> bool {
    !matches!(
        spec.network.mode,
        Knowable::Known(NetworkMode::Existing { .. })
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::cluster::Capacity;

    fn cp() -> ControlPlaneState {
        ControlPlaneState {
            id: "shop".into(),
            endpoint: "https://example.eks".into(),
            certificate_authority: "Q0E=".into(),
            oidc_issuer_url: "https://oidc.example/id/1".into(),
            workload_identity_provider: "arn:oidc".into(),
            kubernetes_version: "1.31".into(),
            status: "ACTIVE".into(),
            admins: None,
            kubeconfig: String::new(),
        }
    }

    fn pool(min: u32, max: u32) -> NodePoolState {
        NodePoolState {
            name: "system".into(),
            id: "ng-1".into(),
            launch_template_id: "lt-1".into(),
            status: "ACTIVE".into(),
            kubernetes_version: "1.31".into(),
            instance_types: vec!["m6i.large".into()],
            capacity: Capacity::OnDemand,
            min_size: min,
            max_size: max,
            labels: BTreeMap::new(),
            taints: Vec::new(),
        }
    }

    #[test]
    fn drift_rewrites_pool_bounds_and_drops_vanished_pools() {
        let state = Value::Object(BTreeMap::from([
            ("kubernetes_version".to_string(), Value::from("1.30")),
            (
                "node_pools".to_string(),
                Value::Map(BTreeMap::from([
                    (
                        "system".to_string(),
                        Value::Object(BTreeMap::from([
                            ("min_size".to_string(), Value::from(3i64)),
                            ("max_size".to_string(), Value::from(9i64)),
                        ])),
                    ),
                    ("gone".to_string(), Value::Object(BTreeMap::new())),
                ])),
            ),
        ]));
        let observed = Observed {
            control_plane: Some(cp()),
            node_pools: BTreeMap::from([("system".to_string(), pool(4, 12))]),
            ..Observed::default()
        };
        let out = with_drift(&state, &observed);
        assert_eq!(
            out.get_attr("kubernetes_version"),
            Some(&Value::from("1.31"))
        );
        let pools = out.get_attr("node_pools").and_then(Value::as_map).unwrap();
        assert!(!pools.contains_key("gone"));
        assert_eq!(
            pools["system"].get_attr("min_size"),
            Some(&Value::from(4i64))
        );
        assert_eq!(
            pools["system"].get_attr("max_size"),
            Some(&Value::from(12i64))
        );
    }

    #[test]
    fn import_judges_the_profile_from_the_nat_layout() {
        let net = |nats: usize| NetworkState {
            vpc_id: "vpc-1".into(),
            cidr: "10.0.0.0/16".into(),
            zones: vec!["a".into(), "b".into(), "c".into()],
            subnet_ids: BTreeMap::new(),
            nat_gateway_ids: (0..nats).map(|i| format!("nat-{i}")).collect(),
        };
        let observed = |nats| Observed {
            network: Some(net(nats)),
            ..Observed::default()
        };
        let profile = |v: Value| v.get_attr("profile").cloned().unwrap();
        assert_eq!(
            profile(import_settings("shop", &observed(3)).unwrap()),
            Value::from("production")
        );
        assert_eq!(
            profile(import_settings("shop", &observed(1)).unwrap()),
            Value::from("staging")
        );
        assert!(import_settings("shop", &Observed::default()).is_none());
    }
}
