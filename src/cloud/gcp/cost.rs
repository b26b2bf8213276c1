//! The monthly cost of Google Cloud stacks, priced from [`paved_pricing::gcp`] at
//! plan without any call: GKE clusters with their network, and Cloud SQL
//! databases.

use paved_pricing::gcp::{self as prices, Region};
use paved_pricing::{spot_fraction, usage, Cloud};

use super::database::instance::tier;
use crate::cloud::pricing::{
    cluster_facts, database_facts, estimate, price_backups, price_pools, quote,
};
use crate::ports::cluster::ClusterShape;
use crate::ports::database::DatabaseShape;
use crate::ports::network::NatLayout;
use crate::stack::cost::{Estimate, Quote};
use crate::stack::{CloudError, Knowable};

fn priced(
    region: Result<String, CloudError>,
    price: impl FnOnce(&str, &'static Region) -> Option<Estimate>,
) -> Knowable<Quote> {
    let listed: Vec<&str> = prices::REGIONS.iter().map(|r| r.name).collect();
    quote(region, prices::region, &listed, price)
}

/// A GKE stack of `shape` in `region`.
pub(crate) fn cluster(region: Result<String, CloudError>, shape: &ClusterShape) -> Knowable<Quote> {
    priced(region, |name, t| {
        let facts = cluster_facts(shape)?;
        let mut e = estimate(name);
        e.hourly("control_plane", prices::GKE_CLUSTER_HOUR, 1.0);
        e.assume(
        "the GKE cluster management fee of a regional Standard cluster; the free tier's monthly credit (one zonal \
         or Autopilot cluster per billing account) does not apply",
    );
        price_pools(
            &mut e,
            &facts.pools,
            |ty| prices::machine_hour(t, ty),
            spot_fraction(Cloud::Gcp),
            t.pd_balanced_gb_month,
        );
        if let Some(nat @ (NatLayout::PerZone | NatLayout::Single)) = facts.nat {
            let vms: f64 = facts.pools.iter().map(|p| p.nodes).sum();
            let gateway = if vms >= 32.0 {
                prices::NAT_GATEWAY_MAX_HOUR
            } else {
                vms * prices::NAT_VM_HOUR
            };
            let addresses = if nat == NatLayout::PerZone {
                f64::from(facts.zone_count)
            } else {
                1.0
            };
            e.hourly("nat", gateway + addresses * prices::EXTERNAL_IP_HOUR, 1.0);
            e.add("nat", usage::NAT_GB_MONTH * prices::NAT_GB);
            e.assume(format!(
                "Cloud NAT for {vms} nodes with {addresses} external address(es), {} GB a month through it",
                usage::NAT_GB_MONTH
            ));
        }
        if facts.creates_key {
            e.add("encryption_key", prices::KMS_KEY_VERSION_MONTH);
        }
        e.assume(
        "control-plane logs within Cloud Logging's free 50 GiB a month per project; not counted: load balancers \
         that Kubernetes Services create, data transfer between zones and to the internet",
    );
        Some(e)
    })
}

/// A Cloud SQL stack of `shape` in `region`.
pub(crate) fn database(
    region: Result<String, CloudError>,
    shape: &DatabaseShape,
) -> Knowable<Quote> {
    priced(region, |name, t| {
        let facts = database_facts(shape)?;
        let mut e = estimate(name);
        let replicas = f64::from(facts.replicas);
        match tier(facts.class).as_deref().and_then(custom_size) {
            Some((cpus, memory_gb)) => {
                e.hourly(
                    "database.primary",
                    prices::sql_hour(t, cpus, memory_gb, facts.multi_az),
                    1.0,
                );
                if replicas > 0.0 {
                    e.hourly(
                        "database.replicas",
                        prices::sql_hour(t, cpus, memory_gb, false),
                        replicas,
                    );
                }
                e.assume(format!(
                "instance class {} as Cloud SQL Enterprise with {cpus} vCPUs and {memory_gb} GB{}",
                facts.class,
                if facts.multi_az {
                    ", highly available (billed twice)"
                } else {
                    ""
                }
            ));
            }
            None => e.unpriced(format!("instance class {}", facts.class)),
        }
        let copies = if facts.multi_az { 2.0 } else { 1.0 } + replicas;
        e.add("storage", facts.storage_gb * t.sql_ssd_gb_month * copies);
        price_backups(
            &mut e,
            facts.storage_gb,
            facts.retention_days,
            facts.backup_copy,
            prices::SQL_BACKUP_GB_MONTH,
        );
        if facts.creates_key {
            e.add("encryption_key", prices::KMS_KEY_VERSION_MONTH);
        }
        e.assume("storage at its allocated size: automatic increases cost more as it grows");
        Some(e)
    })
}

/// The vCPUs and GB of a `db-custom-<cpus>-<mb>` tier.
fn custom_size(tier: &str) -> Option<(f64, f64)> {
    let mut parts = tier.strip_prefix("db-custom-")?.split('-');
    let cpus: f64 = parts.next()?.parse().ok()?;
    let mb: f64 = parts.next()?.parse().ok()?;
    Some((cpus, mb / 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::cluster::{Capacity, PoolShape};

    fn priced(q: Knowable<Quote>) -> paved_pricing::CostEstimate {
        match q {
            Knowable::Known(Quote::Estimate(e)) => e,
            other => panic!("not an estimate: {other:?}"),
        }
    }

    #[test]
    fn a_gke_stack_with_cloud_nat() {
        let shape = ClusterShape {
            log_types: Knowable::Known(Vec::new()),
            pools: Knowable::Known(vec![PoolShape {
                disk_size_gb: Knowable::Known(100),
                ..PoolShape::sized("system", &["e2-standard-4"], Capacity::OnDemand, 3)
            }]),
            ..ClusterShape::production(Vec::new())
        };
        let e = priced(cluster(Ok("us-central1".into()), &shape));
        assert_eq!(e.by_component["control_plane"], 73.0);
        // 3 x e2-standard-4 (0.134024 an hour).
        assert_eq!(e.by_component["nodes.system"], 293.49);
        assert_eq!(e.by_component["node_disks"], 30.0);
        // 3 VMs x 0.0014 + 3 addresses x 0.005, a month, + 100 GB x 0.045.
        assert_eq!(e.by_component["nat"], 18.52);
        assert_eq!(e.by_component["encryption_key"], 0.06);
    }

    #[test]
    fn a_cloud_sql_database_from_its_class() {
        let shape = DatabaseShape {
            creates_key: Knowable::Known(false),
            read_replicas: Knowable::Known(0),
            backup_retention_days: Knowable::Known(7),
            ..DatabaseShape::production()
        };
        let e = priced(database(Ok("us-central1".into()), &shape));
        // db-custom-2-8192, regional: 2 x (2 x 0.0413 + 8 x 0.007) x 730.
        assert_eq!(e.by_component["database.primary"], 202.36);
        assert_eq!(e.by_component["storage"], 6.8);
        assert_eq!(custom_size("db-custom-2-8192"), Some((2.0, 8.0)));
        assert_eq!(custom_size("db-f1-micro"), None);
    }
}
