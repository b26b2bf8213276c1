//! What a cluster stack consists of, and how well it survives the loss of a zone.
//!
//! [`shape`] puts what the plan knows of a [`ClusterSpec`] in the port's terms, and
//! [`components_on`] asks the cloud's adapter which components a stack of that
//! shape consists of, in the order they are created: each cloud decides its own.
//! The plan shows them as the computed `inventory` and the backend tags each
//! component with its key, so an interrupted apply finds what it already made.
//! [`ha_report`] judges the spec at plan time: the zones used, whether the stack
//! survives losing one of them, and findings in plain words. Both are pure functions
//! of the spec (and the cloud), so the plan and the apply compute the same values.

use crate::ports::cluster::{Capacity, ClusterBackend, ClusterShape, PoolShape};

use super::config::{ClusterSpec, EncryptionKey, NetworkMode};
use super::kubernetes::{group_access, ADDONS};
pub use crate::stack::inventory::inventory_value;
use crate::stack::inventory::{Component, HaReport};

use crate::stack::Knowable;

use crate::ports::network::NatLayout;
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
                    min_size: p.min_size,
                    disk_size_gb: p.disk_size_gb,
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
        platform_admins: spec.kubernetes.platform_admins.clone(),
        log_retention_days: spec.control_plane_logging.retention_days.clone(),
    }
}

/// The components of the spec's stack on `cloud`, as its adapter decides them;
/// unknown without a cloud (a plan with no backend shows the inventory as known
/// after apply).
pub fn components_on(
    cloud: Option<&dyn ClusterBackend>,
    spec: &ClusterSpec,
) -> Knowable<Vec<Component>> {
    cloud.map_or(Knowable::Unknown, |c| c.components(&shape(spec)))
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
    use paved_value::Value;

    use super::*;

    fn spec(pairs: Vec<(&str, Value)>) -> ClusterSpec {
        let config = Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect());
        ClusterSpec::from_config(&config, &Value::Null).0
    }

    #[test]
    fn production_shape() {
        // What the adapter lists the components from (the AWS adapter's tests hold
        // what it lists for it).
        let s = shape(&spec(vec![("name", "shop".into())]));
        assert_eq!(s.zone_count, Knowable::Known(3));
        assert_eq!(s.zones, Knowable::Known(None));
        assert_eq!(s.builds_network, Knowable::Known(true));
        assert_eq!(s.nat, Knowable::Known(NatLayout::PerZone));
        assert_eq!(s.creates_key, Knowable::Known(true));
        assert!(!s.log_types.known().unwrap().is_empty());
        assert_eq!(s.admins, Knowable::Known(Vec::new()));
        let pools = s.pools.known().unwrap();
        assert_eq!(pools.len(), 1);
        assert_eq!(pools[0].name, "system");
        assert_eq!(s.addons.known().unwrap().len(), ADDONS.len());
        assert_eq!(s.group_principals, Knowable::Known(Vec::new()));
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
