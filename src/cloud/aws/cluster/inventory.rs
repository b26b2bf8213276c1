//! The components an EKS stack consists of: the plan's `inventory` of a
//! `paved_ha_cluster` on AWS, listed from what the plan knows of the stack
//! ([`ClusterShape`]) without any call.
//!
//! Each component carries its key as a tag, so an interrupted apply finds what it
//! already made; the keys here are the ones the adapter's concerns tag with
//! (`subnet.private.0`, `nat_gateway.1`, `launch_template.system`...).

use crate::ports::cluster::{kind, ClusterShape};
use crate::ports::network::{subnet_layout, Ipv4Net, NatLayout, Tier};
use crate::stack::inventory::Component;
use crate::stack::Knowable;

/// A regional component that is never remade (its identity never changes).
fn once(key: impl Into<String>, kind: &'static str) -> Component {
    Component::regional(key, kind, Knowable::Known(String::new()))
}

/// Every component of an EKS stack of `shape`, in creation order; unknown when a
/// setting that decides what exists (zone count, network mode, NAT layout,
/// pools...) is.
pub fn components(shape: &ClusterShape) -> Knowable<Vec<Component>> {
    let (
        Knowable::Known(zone_count),
        Knowable::Known(builds_network),
        Knowable::Known(pools),
        Knowable::Known(creates_key),
        Knowable::Known(log_types),
        Knowable::Known(admins),
        Knowable::Known(addons),
        Knowable::Known(principals),
    ) = (
        &shape.zone_count,
        &shape.builds_network,
        &shape.pools,
        &shape.creates_key,
        &shape.log_types,
        &shape.admins,
        &shape.addons,
        &shape.group_principals,
    )
    else {
        return Knowable::Unknown;
    };
    let mut out = Vec::new();
    if *builds_network {
        let Some(network) = network(shape, *zone_count) else {
            return Knowable::Unknown;
        };
        out.extend(network);
    }
    out.push(once("iam_role.cluster", kind::IAM_ROLE));
    out.push(once("iam_role.node", kind::IAM_ROLE));
    if *creates_key {
        out.push(once("kms_key", kind::KMS_KEY));
    }
    if !log_types.is_empty() {
        out.push(once("log_group", kind::LOG_GROUP));
    }
    out.push(Component::regional(
        "cluster",
        kind::CLUSTER,
        shape.name.clone(),
    ));
    out.push(once("oidc_provider", kind::OIDC_PROVIDER));
    out.push(once("iam_role.autoscaler", kind::IAM_ROLE));
    out.push(once("iam_role.storage_driver", kind::IAM_ROLE));
    let access = |admin: &String| once(format!("access_entry.{admin}"), kind::ACCESS_ENTRY);
    out.extend(admins.iter().map(access));
    for pool in pools {
        let name = &pool.name;
        out.push(once(
            format!("launch_template.{name}"),
            kind::LAUNCH_TEMPLATE,
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
    out.extend(
        addons
            .iter()
            .map(|name| once(format!("addon.{name}"), kind::EKS_ADDON)),
    );
    let group = |principal: &String| once(format!("group_access.{principal}"), kind::ACCESS_ENTRY);
    out.extend(principals.iter().map(group));
    Knowable::Known(out)
}

/// The network paved builds over `zone_count` zones: VPC, internet gateway, a
/// subnet per tier and zone, NAT gateways with their addresses, and route tables;
/// `None` when its range or NAT layout is unknown (or the range cannot be laid out).
fn network(shape: &ClusterShape, zone_count: u32) -> Option<Vec<Component>> {
    let (Knowable::Known(Some(cidr)), Knowable::Known(nat)) = (&shape.cidr, &shape.nat) else {
        return None;
    };
    let layout = subnet_layout(Ipv4Net::parse(cidr).ok()?, zone_count).ok()?;
    let zone = |i: usize| -> Knowable<Option<String>> {
        match &shape.zones {
            Knowable::Known(Some(names)) => Knowable::Known(names.get(i).cloned()),
            _ => Knowable::Unknown,
        }
    };
    let in_zone = |i: usize, key: String, kind: &'static str, identity: String| Component {
        key,
        kind,
        zone: zone(i),
        identity: zone(i).map(|z| format!("{}|{identity}", z.unwrap_or_default())),
    };
    let mut out = vec![
        Component::regional("vpc", kind::VPC, Knowable::Known(cidr.clone())),
        once("internet_gateway", kind::INTERNET_GATEWAY),
    ];
    for tier in Tier::ALL {
        for (i, subnets) in layout.iter().enumerate() {
            out.push(in_zone(
                i,
                format!("subnet.{}.{i}", tier.as_str()),
                kind::SUBNET,
                subnets.get(tier).to_string(),
            ));
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
            out.push(in_zone(i, format!("{prefix}.{i}"), k, String::new()));
        }
    }
    out.push(once("route_table.public", kind::ROUTE_TABLE));
    if *nat == NatLayout::PerZone {
        for i in 0..layout.len() {
            out.push(in_zone(
                i,
                format!("route_table.private.{i}"),
                kind::ROUTE_TABLE,
                String::new(),
            ));
        }
    } else {
        out.push(once("route_table.private", kind::ROUTE_TABLE));
    }
    out.push(once("route_table.intra", kind::ROUTE_TABLE));
    Some(out)
}

#[cfg(test)]
mod tests {
    use crate::ports::cluster::{Capacity, PoolShape};

    use super::*;

    /// The managed add-ons paved installs on EKS (the resource's `baseline.addons`).
    const ADDONS: [&str; 5] = [
        "vpc-cni",
        "kube-proxy",
        "coredns",
        "aws-ebs-csi-driver",
        "metrics-server",
    ];

    /// A production stack: three zones, a network paved builds with a NAT gateway
    /// per zone, a key paved creates, logs, one `system` pool and the add-ons.
    fn production() -> ClusterShape {
        ClusterShape {
            addons: Knowable::Known(ADDONS.iter().map(|a| (*a).to_owned()).collect()),
            ..ClusterShape::production(vec![PoolShape::sized(
                "system",
                &["m6i.large"],
                Capacity::OnDemand,
                3,
            )])
        }
    }

    fn keys_of(shape: &ClusterShape) -> Vec<String> {
        components(shape)
            .into_option()
            .unwrap()
            .into_iter()
            .map(|c| c.key)
            .collect()
    }

    #[test]
    fn production_inventory() {
        let keys = keys_of(&production());
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
        let development = ClusterShape {
            zone_count: Knowable::Known(2),
            nat: Knowable::Known(NatLayout::Single),
            ..production()
        };
        let keys = keys_of(&development);
        assert!(
            keys.contains(&"nat_gateway.0".to_string())
                && !keys.contains(&"nat_gateway.1".to_string())
        );
        assert!(keys.contains(&"route_table.private".to_string()));
        let existing = ClusterShape {
            builds_network: Knowable::Known(false),
            cidr: Knowable::Known(None),
            nat: Knowable::Known(NatLayout::None),
            creates_key: Knowable::Known(false),
            ..production()
        };
        let keys = keys_of(&existing);
        assert!(
            !keys
                .iter()
                .any(|k| k.starts_with("subnet") || k == "vpc" || k == "kms_key"),
            "{keys:?}"
        );
    }

    #[test]
    fn zones_and_identities_follow_the_shape() {
        let named = ClusterShape {
            zones: Knowable::Known(Some(vec!["a".into(), "b".into(), "c".into()])),
            ..production()
        };
        let list = components(&named).into_option().unwrap();
        let subnet = list.iter().find(|c| c.key == "subnet.private.1").unwrap();
        assert_eq!(subnet.zone, Knowable::Known(Some("b".to_owned())));
        assert!(subnet.identity.known().unwrap().starts_with("b|10.0."));
        let pool = list.iter().find(|c| c.key == "node_group.system").unwrap();
        assert_eq!(pool.identity, Knowable::Known("on_demand|m6i.large".into()));
        // Zones chosen at apply: where each zonal component lands is unknown.
        let list = components(&production()).into_option().unwrap();
        let nat = list.iter().find(|c| c.key == "nat_gateway.0").unwrap();
        assert_eq!(nat.zone, Knowable::Unknown);
        let unknown = ClusterShape {
            addons: Knowable::Unknown,
            ..production()
        };
        assert_eq!(components(&unknown), Knowable::Unknown);
    }
}
