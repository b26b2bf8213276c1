//! What a cluster stack consists of, and how well it survives the loss of a zone.
//!
//! [`components`] lists every cloud component a [`ClusterSpec`] stands for, in the
//! order they are created; the plan shows it as the computed `inventory` and the
//! backend tags each component with its key, so an interrupted apply finds what it
//! already made. [`ha_report`] judges the spec at plan time: the zones used, whether
//! the stack survives losing one of them, and findings in plain words. Both are pure
//! functions of the spec, so the plan and the apply compute the same values.

use crate::ports::cluster::{Capacity, ClusterBackend, ClusterShape, PoolShape};

use super::config::{ClusterSpec, EncryptionKey, NetworkMode};
use super::kubernetes::{group_access, ADDONS};
pub use crate::stack::inventory::inventory_value;
use crate::stack::inventory::{Component, HaReport};

use crate::stack::Knowable;

use crate::ports::cluster::kind;
use crate::ports::network::NatLayout;
use crate::ports::network::{subnet_layout, Ipv4Net, Tier};
use crate::profiles::Profile;

/// What the plan knows of the stack, in the port's terms: what a cloud lists its
/// components from ([`ClusterBackend::components`]).
pub fn shape(spec: &ClusterSpec) -> ClusterShape {
    let builds_network = spec
        .network
        .mode
        .clone()
        .map(|m| matches!(m, NetworkMode::Build));
    ClusterShape {
        name: spec.name.clone(),
        zone_count: spec.zone_count.clone(),
        zones: spec.zones.clone(),
        builds_network,
        cidr: spec.network.cidr.clone(),
        nat: spec.network.nat.clone(),
        creates_key: spec
            .encryption_key
            .clone()
            .map(|k| matches!(k, EncryptionKey::Created { .. })),
        log_types: spec.control_plane_logging.types.clone(),
        admins: spec.cluster_admins.clone(),
        pools: spec.node_pools.clone().map(|pools| {
            pools
                .into_iter()
                .map(|(name, p)| PoolShape {
                    name,
                    capacity: p.capacity,
                    instance_types: p.instance_types,
                })
                .collect()
        }),
        addons: spec.kubernetes.addons.clone().map(|on| {
            if on {
                ADDONS.iter().map(|a| (*a).to_owned()).collect()
            } else {
                Vec::new()
            }
        }),
        group_principals: group_access(&spec.kubernetes)
            .map(|access| access.into_iter().map(|a| a.principal).collect()),
    }
}

/// The components on `cloud` (as its backend decides them), or in the reference
/// shape ([`components`]) when the cloud leaves it to the resource or is unknown.
pub fn components_on(
    cloud: Option<&dyn ClusterBackend>,
    spec: &ClusterSpec,
) -> Knowable<Vec<Component>> {
    cloud
        .and_then(|c| c.components(&shape(spec)))
        .unwrap_or_else(|| components(spec))
}

fn fixed() -> Knowable<String> {
    Knowable::Known(String::new())
}

/// Every component the spec stands for, in creation order; unknown when a setting
/// that decides what exists (zone count, network mode, NAT layout, pools...) is.
pub fn components(spec: &ClusterSpec) -> Knowable<Vec<Component>> {
    let (
        Knowable::Known(zone_count),
        Knowable::Known(mode),
        Knowable::Known(pools),
        Knowable::Known(key),
        Knowable::Known(log_types),
        Knowable::Known(admins),
    ) = (
        &spec.zone_count,
        &spec.network.mode,
        &spec.node_pools,
        &spec.encryption_key,
        &spec.control_plane_logging.types,
        &spec.cluster_admins,
    )
    else {
        return Knowable::Unknown;
    };
    let zone = |i: usize| -> Knowable<Option<String>> {
        match &spec.zones {
            Knowable::Known(Some(names)) => Knowable::Known(names.get(i).cloned()),
            _ => Knowable::Unknown,
        }
    };
    let in_zone = |i: usize, identity: String| {
        zone(i).map(|z| format!("{}|{identity}", z.unwrap_or_default()))
    };
    let mut out = Vec::new();

    if matches!(mode, NetworkMode::Build) {
        let (Knowable::Known(Some(cidr)), Knowable::Known(nat)) =
            (&spec.network.cidr, &spec.network.nat)
        else {
            return Knowable::Unknown;
        };
        let Some(layout) = Ipv4Net::parse(cidr)
            .ok()
            .and_then(|net| subnet_layout(net, *zone_count).ok())
        else {
            return Knowable::Unknown;
        };
        out.push(Component::regional(
            "vpc",
            kind::VPC,
            Knowable::Known(cidr.clone()),
        ));
        out.push(Component::regional(
            "internet_gateway",
            kind::INTERNET_GATEWAY,
            fixed(),
        ));
        for tier in Tier::ALL {
            for (i, subnets) in layout.iter().enumerate() {
                out.push(Component {
                    key: format!("subnet.{}.{i}", tier.as_str()),
                    kind: kind::SUBNET,
                    zone: zone(i),
                    identity: in_zone(i, subnets.get(tier).to_string()),
                });
            }
        }
        let nat_zones = match nat {
            NatLayout::PerZone => layout.len(),
            NatLayout::Single => 1,
            NatLayout::None => 0,
        };
        for i in 0..nat_zones {
            for (prefix, k) in [
                ("elastic_ip", kind::ELASTIC_IP),
                ("nat_gateway", kind::NAT_GATEWAY),
            ] {
                out.push(Component {
                    key: format!("{prefix}.{i}"),
                    kind: k,
                    zone: zone(i),
                    identity: in_zone(i, String::new()),
                });
            }
        }
        out.push(Component::regional(
            "route_table.public",
            kind::ROUTE_TABLE,
            fixed(),
        ));
        if *nat == NatLayout::PerZone {
            for i in 0..layout.len() {
                out.push(Component {
                    key: format!("route_table.private.{i}"),
                    kind: kind::ROUTE_TABLE,
                    zone: zone(i),
                    identity: in_zone(i, String::new()),
                });
            }
        } else {
            out.push(Component::regional(
                "route_table.private",
                kind::ROUTE_TABLE,
                fixed(),
            ));
        }
        out.push(Component::regional(
            "route_table.intra",
            kind::ROUTE_TABLE,
            fixed(),
        ));
    }

    out.push(Component::regional(
        "iam_role.cluster",
        kind::IAM_ROLE,
        fixed(),
    ));
    out.push(Component::regional(
        "iam_role.node",
        kind::IAM_ROLE,
        fixed(),
    ));
    if matches!(key, EncryptionKey::Created { .. }) {
        out.push(Component::regional("kms_key", kind::KMS_KEY, fixed()));
    }
    if !log_types.is_empty() {
        out.push(Component::regional("log_group", kind::LOG_GROUP, fixed()));
    }
    out.push(Component::regional(
        "cluster",
        kind::CLUSTER,
        spec.name.clone(),
    ));
    out.push(Component::regional(
        "oidc_provider",
        kind::OIDC_PROVIDER,
        fixed(),
    ));
    out.push(Component::regional(
        "iam_role.autoscaler",
        kind::IAM_ROLE,
        fixed(),
    ));
    out.push(Component::regional(
        "iam_role.storage_driver",
        kind::IAM_ROLE,
        fixed(),
    ));
    for admin in admins {
        out.push(Component::regional(
            format!("access_entry.{admin}"),
            kind::ACCESS_ENTRY,
            fixed(),
        ));
    }
    for (name, pool) in pools {
        out.push(Component::regional(
            format!("launch_template.{name}"),
            kind::LAUNCH_TEMPLATE,
            fixed(),
        ));
        // A managed node group cannot change its capacity type or instance types:
        // changing them makes a new node group.
        let identity = pool
            .capacity
            .clone()
            .zip(pool.instance_types.clone())
            .map(|(c, t)| format!("{}|{}", c.as_str(), t.join(",")));
        out.push(Component::regional(
            format!("node_group.{name}"),
            kind::NODE_GROUP,
            identity,
        ));
    }
    match &spec.kubernetes.addons {
        Knowable::Known(true) => {
            for name in ADDONS {
                out.push(Component::regional(
                    format!("addon.{name}"),
                    kind::EKS_ADDON,
                    fixed(),
                ));
            }
        }
        Knowable::Known(false) => {}
        Knowable::Unknown => return Knowable::Unknown,
    }
    match group_access(&spec.kubernetes) {
        Knowable::Known(access) => {
            for a in access {
                out.push(Component::regional(
                    format!("group_access.{}", a.principal),
                    kind::ACCESS_ENTRY,
                    fixed(),
                ));
            }
        }
        Knowable::Unknown => return Knowable::Unknown,
    }
    Knowable::Known(out)
}

/// Judges the spec: see [`HaReport`].
pub fn ha_report(spec: &ClusterSpec) -> HaReport {
    let unknown = |zones_used| HaReport {
        zones_used,
        survives_zone_loss: Knowable::Unknown,
        findings: Knowable::Unknown,
    };
    let (Knowable::Known(zones), Knowable::Known(mode), Knowable::Known(pools)) = (
        spec.zone_count.clone(),
        &spec.network.mode,
        &spec.node_pools,
    ) else {
        return unknown(spec.zone_count.clone());
    };
    let nat = match (mode, &spec.network.nat) {
        (NetworkMode::Existing { .. }, _) => None,
        (NetworkMode::Build, Knowable::Known(n)) => Some(*n),
        (NetworkMode::Build, Knowable::Unknown) => return unknown(Knowable::Known(zones)),
    };
    let mut mins = Vec::new();
    for (name, pool) in pools {
        let (Knowable::Known(min), Knowable::Known(capacity)) = (&pool.min_size, &pool.capacity)
        else {
            return unknown(Knowable::Known(zones));
        };
        mins.push((name, *min, *capacity));
    }

    let mut findings = Vec::new();
    let mut survives = zones >= 2;
    match zones {
        0 | 1 => findings.push(format!(
            "The stack runs in {zones} zone(s): losing it stops everything. Use at least two zones, three for production."
        )),
        2 => findings.push(
            "Two zones: losing one halves the capacity and leaves no spare zone while it is down; three zones are recommended for production."
                .to_string(),
        ),
        _ => {}
    }
    match nat {
        Some(NatLayout::Single) if zones >= 2 => {
            survives = false;
            findings.push(
                "One NAT gateway serves every zone: if its zone fails, nodes in the other zones lose outbound internet access. \
                 Set network.nat_mode = \"per_zone\" for a NAT gateway in each zone."
                    .to_string(),
            );
        }
        Some(NatLayout::None) => findings.push(
            "No NAT gateway: nodes have no outbound internet access, so images and cloud APIs must be reachable \
             through VPC endpoints or a proxy you provide."
                .to_string(),
        ),
        None => findings.push(
            "The network is not managed by paved (existing_vpc_id): its NAT gateways are not checked; make sure every \
             zone has its own way out."
                .to_string(),
        ),
        _ => {}
    }
    for (name, min, capacity) in &mins {
        if *min < zones {
            survives = false;
            findings.push(format!(
                "Node pool \"{name}\" keeps at least {min} node(s) across {zones} zones: some zones may have none, so \
                 losing a zone can leave the pool without nodes until the autoscaler replaces them. Set min_size to at least {zones}."
            ));
        }
        if *capacity == Capacity::Spot && pools.len() == 1 {
            findings.push(format!(
                "Every node is a spot node (pool \"{name}\"): a spot shortage can take all capacity at once."
            ));
        }
    }
    if spec.profile == Knowable::Known(Profile::Production)
        && !mins.iter().any(|(_, _, c)| *c == Capacity::OnDemand)
    {
        findings.push(
            "No node pool is on-demand: production workloads depend entirely on spot capacity."
                .to_string(),
        );
    }
    if survives {
        let nat_words = match nat {
            Some(NatLayout::PerZone) => "a NAT gateway in each zone",
            Some(_) => "no NAT gateway to lose",
            None => "a network of your own",
        };
        findings.insert(
            0,
            format!("Survives the loss of any one zone: {zones} zones, {nat_words}, and every node pool keeps a node in each zone."),
        );
    }
    HaReport {
        zones_used: Knowable::Known(zones),
        survives_zone_loss: Knowable::Known(survives),
        findings: Knowable::Known(findings),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use paved_value::Value;

    use super::*;

    fn spec(pairs: Vec<(&str, Value)>) -> ClusterSpec {
        let config = Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect());
        ClusterSpec::from_config(&config, &Value::Null).0
    }

    fn keys_of(spec: &ClusterSpec) -> Vec<String> {
        components(spec)
            .into_option()
            .unwrap()
            .into_iter()
            .map(|c| c.key)
            .collect()
    }

    #[test]
    fn production_inventory() {
        let s = spec(vec![("name", "shop".into())]);
        let keys = keys_of(&s);
        for k in [
            "vpc",
            "internet_gateway",
            "subnet.public.2",
            "subnet.private.0",
            "subnet.intra.1",
            "nat_gateway.2",
            "elastic_ip.0",
            "route_table.private.2",
            "route_table.intra",
            "kms_key",
            "log_group",
            "cluster",
            "oidc_provider",
            "iam_role.cluster",
            "iam_role.node",
            "iam_role.autoscaler",
            "launch_template.system",
            "node_group.system",
        ] {
            assert!(keys.iter().any(|x| x == k), "{k} missing from {keys:?}");
        }
        // ... + the storage driver's role + five managed add-ons.
        assert_eq!(keys.len(), 2 + 9 + 6 + 1 + 3 + 1 + 2 + 2 + 3 + 2 + 1 + 5);
    }

    #[test]
    fn development_has_one_nat_and_existing_networks_none() {
        let s = spec(vec![
            ("name", "shop".into()),
            ("profile", "development".into()),
        ]);
        let keys = keys_of(&s);
        assert!(
            keys.contains(&"nat_gateway.0".to_string())
                && !keys.contains(&"nat_gateway.1".to_string())
        );
        assert!(keys.contains(&"route_table.private".to_string()));
        let network = Value::Object(BTreeMap::from([(
            "existing_vpc_id".to_string(),
            Value::from("vpc-1"),
        )]));
        let s = spec(vec![
            ("name", "shop".into()),
            ("network", network),
            ("encryption_key_arn", "arn:k".into()),
        ]);
        let keys = keys_of(&s);
        assert!(
            !keys
                .iter()
                .any(|k| k.starts_with("subnet") || k == "vpc" || k == "kms_key"),
            "{keys:?}"
        );
    }

    #[test]
    fn report_for_each_profile() {
        let r = ha_report(&spec(vec![("name", "shop".into())]));
        assert_eq!(r.survives_zone_loss, Knowable::Known(true));
        assert!(r.findings.known().unwrap()[0]
            .starts_with("Survives the loss of any one zone: 3 zones"));
        let r = ha_report(&spec(vec![
            ("name", "shop".into()),
            ("profile", "staging".into()),
        ]));
        assert_eq!(r.survives_zone_loss, Knowable::Known(false));
        assert!(r
            .findings
            .known()
            .unwrap()
            .iter()
            .any(|f| f.contains("One NAT gateway serves every zone")));
        let r = ha_report(&spec(vec![
            ("name", "shop".into()),
            ("zone_count", Value::unknown()),
        ]));
        assert_eq!(r.zones_used, Knowable::Unknown);
        assert_eq!(r.to_value().get_attr("findings"), Some(&Value::unknown()));
    }
}
