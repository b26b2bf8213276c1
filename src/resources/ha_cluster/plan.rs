//! Planning a `paved_ha_cluster` change: a pure function of the prior state, the
//! proposed new state and the configuration, with no cloud call.
//!
//! The planned state keeps every configured value exactly as written, fills every
//! optional+computed attribute the user left out with its effective value (from
//! [`ClusterSpec`]), and sets computed outputs: unknown on create (and replacement),
//! kept from the prior state on update unless the change affects them. The
//! `inventory` lists the components the cloud's adapter says the spec stands for
//! (no call: the adapter computes them), and `ha_report` is computed from the spec.
//! Changes to the name, the network's range or id, the encryption key or the zones
//! force replacement, and a protected cluster (`deletion_protection`) refuses
//! destroy and replacement.
//!
//! The apply must produce the same known values: it renders `inventory` and
//! `ha_report` with [`components_on`]/[`inventory_value`] and [`ha_report`] from the
//! same spec, on the same cloud.

use std::collections::BTreeMap;

use paved_value::{Path, Value};

use super::baseline::planned_objects;
use super::config::{ClusterSpec, EncryptionKey, NetworkMode, NodePoolSpec, TaintSpec};
use super::kubernetes::{KubernetesSpec, TeamInput};

use crate::stack::Knowable;

use super::inventory::{components_on, ha_report, inventory_value, shape};
use super::schema::schema;
use super::validate;
use crate::diag::Diagnostics;
use crate::framework::PlanResponse;
use crate::ports::cluster::{ClusterBackend, POOL_READY};
use crate::ports::network::NatLayout;
use crate::schema::declared::keep_prior_values;
use crate::stack::inventory::Component;
use crate::stack::plan::{
    is_partial, is_protected, keep_prior_tags_all, merge_block, plan_destroy, quoted_name,
    replaced_paths, undecided,
};

/// The attributes whose change replaces the cluster.
pub fn replacing_paths() -> Vec<Path> {
    schema().block.replacing_paths()
}

/// Plans a create (`prior_state` null), update, or destroy (`proposed_new_state`
/// null) with no cloud at hand: the inventory, which the cloud's adapter decides, is
/// known after apply. Errors in the diagnostics mean the plan must not go ahead.
pub fn plan(prior_state: &Value, proposed_new_state: &Value, config: &Value) -> PlanResponse {
    plan_for(None, prior_state, proposed_new_state, config)
}

/// The plan on `cloud`, whose backend decides the components the inventory lists
/// (see [`components_on`]); `None`: no cloud at hand, the inventory is unknown.
pub fn plan_for(
    cloud: Option<&dyn ClusterBackend>,
    prior_state: &Value,
    proposed_new_state: &Value,
    config: &Value,
) -> PlanResponse {
    let mut diags = Diagnostics::new();
    let creating = prior_state.is_null();

    if proposed_new_state.is_null() {
        return plan_destroy(prior_state, "cluster", "");
    }

    let (mut spec, read_diags) = ClusterSpec::from_config(config, prior_state);
    spec.kubernetes.platform = cloud.and_then(|c| c.platform());
    if let Some(c) = cloud {
        spec.with_subnet_scope(Knowable::Known(c.regional_subnets()), prior_state);
    }
    diags.extend(read_diags);
    diags.extend(validate::check(&spec));
    for refused in cloud
        .map(|c| c.unsupported(&shape(&spec)))
        .unwrap_or_default()
    {
        let path = refused
            .path
            .iter()
            .fold(Path::root(), |p, name| p.attr(*name));
        diags.attribute_error(path, "Not available on this cloud", refused.message);
    }
    if creating {
        super::baseline::check_reachable(&spec, &mut diags);
    }
    let prior_spec = (!creating).then(|| {
        let mut prior = ClusterSpec::from_state(prior_state);
        prior.kubernetes.platform = spec.kubernetes.platform;
        prior
    });
    if let Some(prior_spec) = &prior_spec {
        diags.extend(validate::check_change(prior_spec, &spec));
    }

    let block = schema().block;
    let settings = merge_block(&block, config, &render(&spec, &Outputs::unknown()));
    let requires_replace: Vec<Path> = replaced_paths(prior_state, &settings, replacing_paths())
        .into_iter()
        .filter(|p| !undecided(prior_state, config, &settings, p))
        .collect();
    if !requires_replace.is_empty() && is_protected(prior_state) {
        let changes: Vec<String> = requires_replace.iter().map(Path::to_string).collect();
        diags.attribute_error(
            Path::root().attr("deletion_protection"),
            "Deletion protection is on",
            format!(
                "Changing {} replaces the cluster {}: the current one would be destroyed, and deletion_protection is true. \
                 Undo the change to keep the cluster; to replace it anyway, set deletion_protection = false, apply, then \
                 apply the change (or destroy).",
                changes.join(", "),
                quoted_name(prior_state)
            ),
        );
    }

    let outputs = match &prior_spec {
        Some(prior_spec) if requires_replace.is_empty() => {
            Outputs::on_update(cloud, &spec, prior_spec, prior_state)
        }
        _ => Outputs::on_create(cloud, &spec),
    };
    let mut planned_state = merge_block(&block, config, &render(&spec, &outputs));
    if prior_spec.is_some() && requires_replace.is_empty() && !is_partial(prior_state) {
        keep_prior_values(&block, &mut planned_state, prior_state);
    }
    keep_prior_tags_all(
        &mut planned_state,
        prior_state,
        !requires_replace.is_empty(),
    );
    PlanResponse {
        planned_state,
        requires_replace,
        planned_private: Vec::new(),
        diagnostics: diags,
    }
}

/// The computed outputs of the plan (and, filled from the cloud, of the apply and refresh).
pub(crate) struct Outputs {
    pub(crate) id: Value,
    pub(crate) endpoint: Value,
    pub(crate) certificate_authority: Value,
    pub(crate) oidc_issuer_url: Value,
    pub(crate) connection: Value,
    pub(crate) kubeconfig: Value,
    pub(crate) vpc_id: Value,
    pub(crate) public_subnet_ids: Value,
    pub(crate) private_subnet_ids: Value,
    pub(crate) intra_subnet_ids: Value,
    pub(crate) nat_gateway_ids: Value,
    pub(crate) node_pool_status: Value,
    pub(crate) inventory: Value,
    pub(crate) ha_report: Value,
    pub(crate) kubernetes_objects: Value,
    pub(crate) kubernetes_digest: Value,
    pub(crate) kubernetes_hashes: Value,
    pub(crate) addons: Value,
}

impl Outputs {
    pub(crate) fn unknown() -> Self {
        Outputs {
            id: Value::unknown(),
            endpoint: Value::unknown(),
            certificate_authority: Value::unknown(),
            oidc_issuer_url: Value::unknown(),
            connection: Value::unknown(),
            kubeconfig: Value::unknown(),
            vpc_id: Value::unknown(),
            public_subnet_ids: Value::unknown(),
            private_subnet_ids: Value::unknown(),
            intra_subnet_ids: Value::unknown(),
            nat_gateway_ids: Value::unknown(),
            node_pool_status: Value::unknown(),
            inventory: Value::unknown(),
            ha_report: Value::unknown(),
            kubernetes_objects: Value::unknown(),
            kubernetes_digest: Value::unknown(),
            kubernetes_hashes: Value::unknown(),
            addons: Value::unknown(),
        }
    }

    /// Nothing exists yet: ids are unknown; what the spec decides is known.
    fn on_create(cloud: Option<&dyn ClusterBackend>, spec: &ClusterSpec) -> Self {
        Outputs {
            vpc_id: match &spec.network.mode {
                Knowable::Known(NetworkMode::Existing {
                    vpc_id: Knowable::Known(id),
                }) => Value::from(id.as_str()),
                _ => Value::unknown(),
            },
            nat_gateway_ids: no_nat_gateways(spec).unwrap_or_else(Value::unknown),
            inventory: match components_on(cloud, spec) {
                Knowable::Known(list) => inventory_value(&list, |_| Value::unknown()),
                Knowable::Unknown => Value::unknown(),
            },
            ha_report: ha_report(spec).to_value(),
            kubernetes_objects: known_or_unknown(&planned_objects(spec), |o| string_list(o)),
            addons: match spec.kubernetes.addons {
                Knowable::Known(false) => Value::Map(BTreeMap::new()),
                _ => Value::unknown(),
            },
            ..Outputs::unknown()
        }
    }

    /// The cluster stays: outputs the change does not touch keep their prior values.
    /// A partial prior state (an apply that failed or was stopped left components
    /// missing) keeps only the ids of what exists: the apply makes the rest, so
    /// every other output is unknown.
    fn on_update(
        cloud: Option<&dyn ClusterBackend>,
        spec: &ClusterSpec,
        prior: &ClusterSpec,
        state: &Value,
    ) -> Self {
        let whole = !is_partial(state);
        let known = |v: Option<&Value>| match v {
            Some(v) if whole && !v.is_null() => v.clone(),
            _ => Value::unknown(),
        };
        let kept_network =
            |name: &str| known(state.get_attr("network").and_then(|n| n.get_attr(name)));
        let create = Outputs::on_create(cloud, spec);
        let same_mode = spec.network.mode.is_known() && spec.network.mode == prior.network.mode;
        let same_zones =
            matches!(spec.zones, Knowable::Known(Some(_))) && spec.zones == prior.zones;
        let same_subnets = same_mode
            && same_zones
            && spec.network.cidr == prior.network.cidr
            && spec.network.existing_subnet_ids == prior.network.existing_subnet_ids;
        let same_nat = same_mode
            && same_zones
            && spec.network.nat.is_known()
            && spec.network.nat == prior.network.nat;
        let subnets = |name: &str| {
            if same_subnets {
                kept_network(name)
            } else {
                Value::unknown()
            }
        };
        Outputs {
            // Declared `keep_prior` on the schema: the plan keeps them (see `plan`).
            id: Value::unknown(),
            endpoint: Value::unknown(),
            certificate_authority: Value::unknown(),
            oidc_issuer_url: Value::unknown(),
            // It carries the version: kept only while the version stays.
            connection: if spec.kubernetes_version.is_known()
                && spec.kubernetes_version == prior.kubernetes_version
            {
                known(state.get_attr("connection"))
            } else {
                Value::unknown()
            },
            kubeconfig: Value::unknown(),
            vpc_id: if same_mode {
                kept_network("vpc_id")
            } else {
                create.vpc_id
            },
            public_subnet_ids: subnets("public_subnet_ids"),
            private_subnet_ids: subnets("private_subnet_ids"),
            intra_subnet_ids: subnets("intra_subnet_ids"),
            nat_gateway_ids: if same_nat {
                kept_network("nat_gateway_ids")
            } else {
                create.nat_gateway_ids
            },
            node_pool_status: pool_status(
                spec,
                prior,
                state.get_attr("node_pool_status").filter(|_| whole),
            ),
            inventory: match components_on(cloud, spec) {
                Knowable::Known(list) => {
                    let prior_ids = prior_inventory_ids(cloud, prior, state);
                    inventory_value(&list, |c| match prior_ids.get(c.key.as_str()) {
                        Some((identity, zone, id))
                            if !id.is_null()
                                && c.identity.is_known()
                                && c.identity == *identity
                                && c.zone == *zone =>
                        {
                            id.clone()
                        }
                        _ => Value::unknown(),
                    })
                }
                Knowable::Unknown => Value::unknown(),
            },
            ha_report: create.ha_report,
            kubernetes_objects: create.kubernetes_objects,
            // Kept when what the objects are made of is unchanged.
            kubernetes_digest: match state.get_attr("kubernetes_digest") {
                Some(d) if whole && !d.is_null() && same_in_cluster(spec, prior) => d.clone(),
                _ => Value::unknown(),
            },
            kubernetes_hashes: match state.get_attr("kubernetes_hashes") {
                Some(h) if whole && !h.is_null() && same_in_cluster(spec, prior) => h.clone(),
                _ => Value::unknown(),
            },
            addons: if spec.kubernetes_version.is_known()
                && spec.kubernetes_version == prior.kubernetes_version
                && spec.kubernetes.addons == prior.kubernetes.addons
                && whole
            {
                state
                    .get_attr("addons")
                    .cloned()
                    .unwrap_or_else(Value::unknown)
            } else {
                create.addons
            },
        }
    }
}

/// Whether the in-cluster objects are made of the same settings as before (their
/// digest is then kept).
fn same_in_cluster(spec: &ClusterSpec, prior: &ClusterSpec) -> bool {
    spec.kubernetes == prior.kubernetes
        && spec.kubernetes_version.is_known()
        && spec.kubernetes_version == prior.kubernetes_version
        && spec.node_pools == prior.node_pools
        && spec.profile == prior.profile
}

/// `[]` when the spec makes no NAT gateway (an existing network, or `none`).
fn no_nat_gateways(spec: &ClusterSpec) -> Option<Value> {
    let none = matches!(
        (&spec.network.mode, &spec.network.nat),
        (Knowable::Known(NetworkMode::Existing { .. }), _)
            | (
                Knowable::Known(NetworkMode::Build),
                Knowable::Known(NatLayout::None)
            )
    );
    none.then(|| Value::List(Vec::new()))
}

/// Each pool's status: kept for an `ACTIVE` pool whose settings and Kubernetes
/// version are unchanged, unknown for one the apply creates or updates, and for
/// one not settled (`CREATING` when a stopped apply left it, `DEGRADED`...): the
/// apply waits for it, so its status may change.
fn pool_status(spec: &ClusterSpec, prior: &ClusterSpec, prior_status: Option<&Value>) -> Value {
    let (Knowable::Known(pools), Knowable::Known(prior_pools)) =
        (&spec.node_pools, &prior.node_pools)
    else {
        return Value::unknown();
    };
    let same_version =
        spec.kubernetes_version.is_known() && spec.kubernetes_version == prior.kubernetes_version;
    let unchanged =
        |name: &str, pool: &NodePoolSpec| same_version && prior_pools.get(name) == Some(pool);
    Value::Map(
        pools
            .iter()
            .map(|(name, pool)| {
                let kept = prior_status
                    .and_then(|s| s.get_key(name))
                    .filter(|s| {
                        s.as_str().is_some_and(|w| POOL_READY.contains(&w)) && unchanged(name, pool)
                    })
                    .cloned();
                (name.clone(), kept.unwrap_or_else(Value::unknown))
            })
            .collect(),
    )
}

type PriorComponent = (Knowable<String>, Knowable<Option<String>>, Value);

/// The prior components by key: their identity and zone as the prior spec had them,
/// and the id the state recorded.
fn prior_inventory_ids(
    cloud: Option<&dyn ClusterBackend>,
    prior: &ClusterSpec,
    state: &Value,
) -> BTreeMap<String, PriorComponent> {
    let ids: BTreeMap<&str, &Value> = state
        .get_attr("inventory")
        .and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .filter_map(|row| Some((row.get_attr("key")?.as_str()?, row.get_attr("id")?)))
        .collect();
    let list: Vec<Component> = components_on(cloud, prior)
        .into_option()
        .unwrap_or_default();
    list.into_iter()
        .filter_map(|c| {
            let id = (*ids.get(c.key.as_str())?).clone();
            Some((c.key, (c.identity, c.zone, id)))
        })
        .collect()
}

fn known_or_unknown<T>(k: &Knowable<T>, f: impl FnOnce(&T) -> Value) -> Value {
    match k {
        Knowable::Known(v) => f(v),
        Knowable::Unknown => Value::unknown(),
    }
}

fn string_list(items: &[String]) -> Value {
    Value::List(items.iter().map(|s| Value::from(s.as_str())).collect())
}

fn optional_text(k: &Knowable<Option<String>>) -> Value {
    known_or_unknown(k, |t| t.as_deref().map_or(Value::Null, Value::from))
}

fn kubernetes_api(k: &KubernetesSpec) -> Value {
    match &k.api {
        None => Value::Null,
        Some(api) => object(vec![
            ("url", optional_text(&api.url)),
            ("proxy_url", optional_text(&api.proxy_url)),
            ("ca_certificate", optional_text(&api.ca_certificate)),
        ]),
    }
}

fn teams(teams: &BTreeMap<String, TeamInput>) -> Value {
    Value::Map(
        teams
            .iter()
            .map(|(name, t)| {
                let team = object(vec![
                    ("namespaces", string_list(&t.namespaces)),
                    ("roles", t.written.render("roles", string_list(&t.roles))),
                    (
                        "view_namespaces",
                        t.written
                            .render("view_namespaces", string_list(&t.view_namespaces)),
                    ),
                ]);
                (name.clone(), team)
            })
            .collect(),
    )
}

fn string_map(entries: &BTreeMap<String, String>) -> Value {
    Value::Map(
        entries
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect(),
    )
}

fn taints(taints: &[TaintSpec]) -> Value {
    let text = |k: &Knowable<String>| known_or_unknown(k, |s| Value::from(s.as_str()));
    Value::List(
        taints
            .iter()
            .map(|t| {
                object(vec![
                    ("key", text(&t.key)),
                    (
                        "value",
                        known_or_unknown(&t.value, |v| {
                            v.as_deref().map_or(Value::Null, Value::from)
                        }),
                    ),
                    ("effect", text(&t.effect)),
                ])
            })
            .collect(),
    )
}

fn object(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// The whole state object the spec stands for: effective settings and `outputs`.
/// This is the typed spec's one encoding ([`ClusterSpec::from_config`] and
/// [`ClusterSpec::from_state`] decode): optional attributes without a default render
/// as written (null when left out), so a state read back through the spec is the
/// state again. Planning merges it with the configuration ([`merge_block`]);
/// refresh writes it over the state ([`read_back`](crate::stack::plan::read_back)).
pub(crate) fn render(spec: &ClusterSpec, outputs: &Outputs) -> Value {
    let n = |k: &Knowable<u32>| known_or_unknown(k, |v| Value::from(i64::from(*v)));
    let net = &spec.network;
    let network = object(vec![
        (
            "cidr",
            match &net.cidr {
                Knowable::Known(Some(c)) => Value::from(c.as_str()),
                _ => Value::unknown(),
            },
        ),
        (
            "nat_mode",
            known_or_unknown(&net.nat, |m| Value::from(m.as_str())),
        ),
        (
            "existing_vpc_id",
            match &net.mode {
                Knowable::Known(NetworkMode::Build) => Value::Null,
                Knowable::Known(NetworkMode::Existing { vpc_id }) => {
                    known_or_unknown(vpc_id, |id| Value::from(id.as_str()))
                }
                Knowable::Unknown => Value::unknown(),
            },
        ),
        (
            "existing_subnet_ids",
            known_or_unknown(&net.existing_subnet_ids, |tiers| match tiers {
                None => Value::Null,
                Some(tiers) => Value::Map(
                    tiers
                        .iter()
                        .map(|(tier, ids)| (tier.clone(), string_list(ids)))
                        .collect(),
                ),
            }),
        ),
        ("vpc_id", outputs.vpc_id.clone()),
        ("public_subnet_ids", outputs.public_subnet_ids.clone()),
        ("private_subnet_ids", outputs.private_subnet_ids.clone()),
        ("intra_subnet_ids", outputs.intra_subnet_ids.clone()),
        ("nat_gateway_ids", outputs.nat_gateway_ids.clone()),
    ]);
    let node_pools = known_or_unknown(&spec.node_pools, |pools| {
        Value::Map(
            pools
                .iter()
                .map(|(name, p)| {
                    let pool = object(vec![
                        (
                            "instance_types",
                            known_or_unknown(&p.instance_types, |t| string_list(t)),
                        ),
                        (
                            "capacity",
                            known_or_unknown(&p.capacity, |c| Value::from(c.as_str())),
                        ),
                        ("min_size", n(&p.min_size)),
                        ("max_size", n(&p.max_size)),
                        ("disk_size_gb", n(&p.disk_size_gb)),
                        (
                            "labels",
                            p.written
                                .render("labels", known_or_unknown(&p.labels, string_map)),
                        ),
                        (
                            "taints",
                            p.written
                                .render("taints", known_or_unknown(&p.taints, |t| taints(t))),
                        ),
                    ]);
                    (name.clone(), pool)
                })
                .collect(),
        )
    });
    let logging = object(vec![
        (
            "types",
            known_or_unknown(&spec.control_plane_logging.types, |t| string_list(t)),
        ),
        (
            "retention_days",
            n(&spec.control_plane_logging.retention_days),
        ),
    ]);
    let encryption_key_arn = match &spec.encryption_key {
        Knowable::Known(EncryptionKey::Provided(arn))
        | Knowable::Known(EncryptionKey::Created { id: Some(arn) }) => Value::from(arn.as_str()),
        _ => Value::unknown(),
    };
    object(vec![
        ("id", outputs.id.clone()),
        (
            "name",
            known_or_unknown(&spec.name, |s| Value::from(s.as_str())),
        ),
        (
            "profile",
            known_or_unknown(&spec.profile, |p| Value::from(p.name())),
        ),
        (
            "zones",
            match &spec.zones {
                Knowable::Known(Some(z)) => string_list(z),
                _ => Value::unknown(),
            },
        ),
        ("zone_count", n(&spec.zone_count)),
        ("network", network),
        (
            "kubernetes_version",
            match &spec.kubernetes_version {
                Knowable::Known(Some(v)) => Value::from(v.as_str()),
                _ => Value::unknown(),
            },
        ),
        (
            "endpoint_public_cidrs",
            spec.written.render(
                "endpoint_public_cidrs",
                known_or_unknown(&spec.endpoint_public_cidrs, |c| string_list(c)),
            ),
        ),
        ("node_pools", node_pools),
        ("control_plane_logging", logging),
        ("encryption_key_arn", encryption_key_arn),
        (
            "cluster_admins",
            spec.written.render(
                "cluster_admins",
                known_or_unknown(&spec.cluster_admins, |a| string_list(a)),
            ),
        ),
        (
            "deletion_protection",
            known_or_unknown(&spec.deletion_protection, |b| Value::from(*b)),
        ),
        (
            "tags",
            spec.written
                .render("tags", known_or_unknown(&spec.tags, string_map)),
        ),
        ("tags_all", Value::unknown()),
        ("endpoint", outputs.endpoint.clone()),
        (
            "certificate_authority",
            outputs.certificate_authority.clone(),
        ),
        ("oidc_issuer_url", outputs.oidc_issuer_url.clone()),
        ("connection", outputs.connection.clone()),
        ("node_pool_status", outputs.node_pool_status.clone()),
        ("inventory", outputs.inventory.clone()),
        ("ha_report", outputs.ha_report.clone()),
        ("kubeconfig", outputs.kubeconfig.clone()),
        (
            "delivery",
            known_or_unknown(&spec.kubernetes.delivery, |d| Value::from(d.as_str())),
        ),
        (
            "gitops_path",
            known_or_unknown(&spec.kubernetes.gitops_path, |p| {
                p.as_deref().map_or(Value::Null, Value::from)
            }),
        ),
        ("kubernetes_api", kubernetes_api(&spec.kubernetes)),
        (
            "baseline",
            object(vec![
                (
                    "addons",
                    known_or_unknown(&spec.kubernetes.addons, |b| Value::from(*b)),
                ),
                (
                    "autoscaler",
                    known_or_unknown(&spec.kubernetes.autoscaler, |b| Value::from(*b)),
                ),
                (
                    "storage_class",
                    known_or_unknown(&spec.kubernetes.storage_class, |b| Value::from(*b)),
                ),
            ]),
        ),
        (
            "teams",
            spec.kubernetes
                .written
                .render("teams", known_or_unknown(&spec.kubernetes.teams, teams)),
        ),
        (
            "platform_admins",
            spec.kubernetes.written.render(
                "platform_admins",
                known_or_unknown(&spec.kubernetes.platform_admins, |a| string_list(a)),
            ),
        ),
        ("kubernetes_objects", outputs.kubernetes_objects.clone()),
        ("kubernetes_digest", outputs.kubernetes_digest.clone()),
        ("kubernetes_hashes", outputs.kubernetes_hashes.clone()),
        ("addons", outputs.addons.clone()),
        ("timeouts", Value::Null),
    ])
}

#[cfg(test)]
mod tests;
