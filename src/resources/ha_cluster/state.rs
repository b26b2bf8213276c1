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
    ClusterBackend, ControlPlaneState, GroupAccess, IdentityState, NetworkState, NodePoolState,
    StackSnapshot, Taint,
};

use super::config::{
    ClusterSpec, EncryptionKey, KubernetesVersion, NetworkMode, TaintSpec, SYSTEM_POOL,
};
use super::inventory::{components_on, ha_report, inventory_value};
use super::plan::{render, Outputs};
use super::schema::schema;
use crate::ports::key::KeyState;
use crate::ports::network::Tier;
use crate::profiles::Profile;
use crate::stack::plan::{merge_block, read_back};
use crate::stack::state::string_list;
use crate::stack::Knowable;

/// The cloud's backend, kept for what it decides without a call (the components
/// of a spec).
#[derive(Clone)]
pub struct Layout(pub std::sync::Arc<dyn ClusterBackend>);

impl std::fmt::Debug for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Layout(cloud backend)")
    }
}

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
    /// The backend that decides which components a spec stands for (its
    /// [`ClusterBackend::components`]), set by the apply or read that had it;
    /// `None`: no cloud, so the inventory is not known.
    pub cloud: Option<Layout>,
    /// Managed add-ons and their versions; `None` when not read or ensured.
    pub addons: Option<BTreeMap<String, String>>,
    /// Team access as granted or read; `None` when not known.
    pub group_access: Option<Vec<GroupAccess>>,
    /// The in-cluster objects as delivered or read back; `None` when not known.
    pub kube: Option<KubeObserved>,
}

/// The in-cluster objects as an apply delivered them or a refresh found them.
pub use crate::delivery::Delivered as KubeObserved;

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
            cloud: None,
            addons: Some(
                snapshot
                    .addons
                    .values()
                    .map(|a| (a.name.clone(), a.version.clone()))
                    .collect(),
            ),
            group_access: snapshot.group_access,
            kube: None,
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
        let cloud = self.cloud.as_ref().map(|l| l.0.as_ref());
        let inventory = match components_on(cloud, spec) {
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
            connection: cp.map_or(Value::Null, |c| connection(spec, c)),
            kubeconfig: text(cp.map(|c| c.kubeconfig.as_str()).filter(|k| !k.is_empty())),
            vpc_id: text(net.map(|n| n.vpc_id.as_str())),
            public_subnet_ids: tier_map(Tier::Public),
            private_subnet_ids: tier_map(Tier::Private),
            intra_subnet_ids: tier_map(Tier::Isolated),
            nat_gateway_ids: net.map_or_else(
                || Value::List(Vec::new()),
                |n| string_list(&n.nat_gateway_ids),
            ),
            node_pool_status: pool_status,
            inventory,
            ha_report: ha_report(spec).to_value(),
            kubernetes_objects: self
                .kube
                .as_ref()
                .map_or_else(Value::unknown, |k| string_list(&k.objects)),
            kubernetes_digest: match self.kube.as_ref().map(|k| k.digest.as_deref()) {
                Some(Some(d)) => Value::from(d),
                _ => Value::unknown(),
            },
            kubernetes_hashes: match self.kube.as_ref().and_then(|k| k.hashes.as_ref()) {
                Some(h) => Value::Map(
                    h.iter()
                        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                        .collect(),
                ),
                None => Value::unknown(),
            },
            addons: self.addons.as_ref().map_or_else(Value::unknown, |a| {
                Value::Map(
                    a.iter()
                        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                        .collect(),
                )
            }),
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

impl Observed {
    /// The drift a refresh (or a stopped apply) found, written onto the typed
    /// spec: principals whose access was revoked outside paved leave
    /// `cluster_admins` (the order written stays; access granted by others is not
    /// paved's to show), pools that no longer exist leave `node_pools`, and each
    /// pool takes the bounds, instance types, capacity, labels and taints it has.
    /// The Kubernetes version is [`Observed::complete`]'s. The desired size is the
    /// autoscaler's and is not read at all.
    pub fn apply_drift(&self, spec: &mut ClusterSpec) {
        let Some(cp) = &self.control_plane else {
            return;
        };
        if let (Some(listed), Knowable::Known(admins)) = (&cp.admins, &mut spec.cluster_admins) {
            admins.retain(|a| listed.iter().any(|l| l == a));
        }
        let Knowable::Known(pools) = &mut spec.node_pools else {
            return;
        };
        pools.retain(|name, _| self.node_pools.contains_key(name));
        for (name, pool) in pools.iter_mut() {
            let Some(actual) = self.node_pools.get(name) else {
                continue;
            };
            pool.min_size = Knowable::Known(actual.min_size);
            pool.max_size = Knowable::Known(actual.max_size);
            pool.instance_types = Knowable::Known(actual.instance_types.clone());
            pool.capacity = Knowable::Known(actual.capacity);
            pool.labels = Knowable::Known(actual.labels.clone());
            pool.taints = Knowable::Known(actual.taints.iter().map(taint_spec).collect());
        }
    }

    /// The state a read writes: the spec (drift applied) rendered with these
    /// outputs, over `base` (the prior state, or the configuration of a stopped
    /// apply) where the spec cannot tell.
    ///
    /// The `system` pool the profile adds stays out of `node_pools` where `base`
    /// did not write it (it shows in `node_pool_status` and `inventory`), as the
    /// plan keeps a configured map exactly as written: otherwise every refresh
    /// would add it and every plan remove it.
    pub fn read_back(&self, spec: &ClusterSpec, base: &Value) -> Value {
        let mut out = read_back(&schema().block, base, &render(spec, &self.outputs(spec)));
        let implicit = base
            .get_attr("node_pools")
            .and_then(Value::as_map)
            .is_some_and(|written| !written.contains_key(SYSTEM_POOL));
        if let (true, Value::Object(attrs)) = (implicit, &mut out) {
            if let Some(Value::Map(pools)) = attrs.get_mut("node_pools") {
                pools.remove(SYSTEM_POOL);
            }
        }
        out
    }
}

fn taint_spec(t: &Taint) -> TaintSpec {
    TaintSpec {
        key: Knowable::Known(t.key.clone()),
        value: Knowable::Known(t.value.clone()),
        effect: Knowable::Known(t.effect.clone()),
    }
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

/// The `connection` output: what a resource running in the cluster needs to reach
/// it (the observability stack's `cluster`).
fn connection(spec: &ClusterSpec, cp: &ControlPlaneState) -> Value {
    let fields: [(&str, Value); 8] = [
        ("platform", Value::from(cp.platform.as_str())),
        (
            "name",
            spec.name
                .known()
                .map_or(Value::Null, |n| Value::from(n.as_str())),
        ),
        ("endpoint", Value::from(cp.endpoint.as_str())),
        (
            "certificate_authority",
            Value::from(cp.certificate_authority.as_str()),
        ),
        ("location", Value::from(cp.location.as_str())),
        ("account", Value::from(cp.account.as_str())),
        ("oidc_issuer_url", Value::from(cp.oidc_issuer_url.as_str())),
        (
            "kubernetes_version",
            Value::from(cp.kubernetes_version.as_str()),
        ),
    ];
    Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
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
            platform: "eks".into(),
            location: "eu-west-1".into(),
            account: "123456789012".into(),
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

    /// A state as an apply of `pools` at Kubernetes 1.30 leaves it (outputs null).
    fn applied(pools: Value) -> Value {
        use crate::stack::schema_testing::config_of;
        let config = config_of(
            &schema().block,
            vec![
                ("name", Value::from("shop")),
                ("kubernetes_version", Value::from("1.30")),
                ("zones", string_list(&["a", "b", "c"])),
                ("node_pools", pools),
            ],
        );
        let planned = super::super::fake::plan(&Value::Null, &config, &config).planned_state;
        crate::stack::state::unknowns_to_null(&planned)
    }

    fn pools(entries: Vec<(&str, Value)>) -> Value {
        Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    fn bounds(min: i64, max: i64) -> Value {
        Value::Object(BTreeMap::from([
            ("min_size".to_string(), Value::from(min)),
            ("max_size".to_string(), Value::from(max)),
        ]))
    }

    #[test]
    fn drift_goes_onto_the_typed_spec_and_renders_once() {
        use crate::schema::Presence;
        let block = schema().block;
        let full = |v: Value| {
            // Fill the nested objects as Terraform would (every attribute present).
            let mut o = BTreeMap::new();
            if let crate::schema::AttributeKind::Nested { attributes, .. } =
                &block.find_attribute("node_pools").unwrap().kind
            {
                for a in attributes {
                    let given = v.get_attr(&a.name).cloned().unwrap_or(Value::Null);
                    assert!(a.presence != Presence::Required || !given.is_null());
                    o.insert(a.name.clone(), given);
                }
            }
            Value::Object(o)
        };
        let state = applied(pools(vec![
            ("system", full(bounds(3, 9))),
            ("gone", full(bounds(3, 9))),
        ]));
        let mut labelled = pool(4, 12);
        labelled
            .labels
            .insert("team".to_string(), "by-hand".to_string());
        let observed = Observed {
            control_plane: Some(cp()),
            node_pools: BTreeMap::from([("system".to_string(), labelled)]),
            ..Observed::default()
        };
        let mut spec = ClusterSpec::from_state(&state);
        observed.apply_drift(&mut spec);
        observed.complete(&mut spec);
        let out = observed.read_back(&spec, &state);
        assert_eq!(
            out.get_attr("kubernetes_version"),
            Some(&Value::from("1.31"))
        );
        let pools = out.get_attr("node_pools").and_then(Value::as_map).unwrap();
        assert!(!pools.contains_key("gone"));
        let system = &pools["system"];
        assert_eq!(system.get_attr("min_size"), Some(&Value::from(4i64)));
        assert_eq!(system.get_attr("max_size"), Some(&Value::from(12i64)));
        assert_eq!(
            system.get_attr("labels").and_then(|l| l.get_key("team")),
            Some(&Value::from("by-hand"))
        );
        // Taints were never written and none exist: still null, not an empty list.
        assert_eq!(system.get_attr("taints"), Some(&Value::Null));
        // The block and what the spec cannot tell stay as the state had them.
        assert_eq!(out.get_attr("timeouts"), state.get_attr("timeouts"));
    }

    #[test]
    fn the_implicit_system_pool_stays_out_of_a_written_map() {
        // A map written without `system`: the refresh shows its status, never adds
        // it to `node_pools` (the next plan would remove it again).
        let state = applied(pools(vec![("general", bounds(3, 9))]));
        let observed = Observed {
            control_plane: Some(cp()),
            node_pools: BTreeMap::from([
                ("general".to_string(), pool(3, 9)),
                ("system".to_string(), pool(3, 4)),
            ]),
            ..Observed::default()
        };
        let mut spec = ClusterSpec::from_state(&state);
        observed.apply_drift(&mut spec);
        observed.complete(&mut spec);
        let out = observed.read_back(&spec, &state);
        let written: Vec<&String> = out
            .get_attr("node_pools")
            .and_then(Value::as_map)
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        assert_eq!(written, ["general"]);
        assert!(out
            .get_attr("node_pool_status")
            .and_then(Value::as_map)
            .is_some_and(|m| m.contains_key("system")));
    }

    #[test]
    fn a_state_read_back_without_drift_is_the_same_state() {
        // The codec's round trip: state -> typed spec -> rendered state.
        let state = applied(Value::Null);
        let spec = ClusterSpec::from_state(&state);
        let out = Observed::default().read_back(&spec, &state);
        let Value::Object(attrs) = &state else {
            panic!("a state is an object")
        };
        for (name, v) in attrs {
            let outputs = [
                "id",
                "endpoint",
                "certificate_authority",
                "oidc_issuer_url",
                "connection",
                "kubeconfig",
                "node_pool_status",
                "inventory",
                "network",
            ];
            if outputs.contains(&name.as_str()) {
                continue; // rendered from what the cloud reported (nothing here)
            }
            assert_eq!(out.get_attr(name), Some(v), "{name}");
        }
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
