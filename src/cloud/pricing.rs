//! What the clouds' cost estimates share: reading the plan's shapes once all that
//! prices them is known, the node pools priced at their minimum size, and the
//! database's storage and backups. Each cloud's adapter (`aws/cost.rs`,
//! `gcp/cost.rs`) supplies its own prices and its own components.

use crate::ports::cluster::{Capacity, ClusterShape};
use crate::ports::database::DatabaseShape;
use crate::ports::network::NatLayout;
use crate::stack::cost::{Estimate, Quote};
use crate::stack::{CloudError, Knowable};
use paved_pricing::usage;

/// The quote of a stack in the configured region: `price` builds the estimate from
/// the region's table (`None` while a setting it needs is unknown). Unknown while
/// the region is; no prices, with why, for a region the table lacks.
pub(crate) fn quote<T: 'static>(
    region: Result<String, CloudError>,
    find: fn(&str) -> Option<&'static T>,
    listed: &[&str],
    price: impl FnOnce(&str, &'static T) -> Option<Estimate>,
) -> Knowable<Quote> {
    let region = match region {
        Ok(r) => r,
        Err(CloudError::UnknownSetting(_)) => return Knowable::Unknown,
        Err(e) => return Knowable::Known(Quote::NoPrices(format!("{e}."))),
    };
    let Some(table) = find(&region) else {
        return Knowable::Known(Quote::NoPrices(format!(
            "paved's price table has no prices for region {region:?}; it covers {}.",
            listed.join(", ")
        )));
    };
    match price(&region, table) {
        Some(e) => Knowable::Known(Quote::Estimate(e.finish())),
        None => Knowable::Unknown,
    }
}

/// A new estimate in `region`, with the assumption every estimate rests on.
pub(crate) fn estimate(region: &str) -> Estimate {
    let mut e = Estimate::new(region);
    e.assume(format!(
        "list prices of {region}, on-demand, as of {}: no savings plans, reservations, committed-use discounts, \
         credits or taxes",
        paved_pricing::PRICES_AS_OF
    ));
    e
}

/// One node pool as priced: its first instance type at its minimum size.
pub(crate) struct PricedPool<'a> {
    /// The pool's name.
    pub name: &'a str,
    /// The instance type priced (the first listed).
    pub instance_type: &'a str,
    /// Nodes at the minimum size.
    pub nodes: f64,
    /// Each node's disk, in GB.
    pub disk_gb: f64,
    /// Spot capacity.
    pub spot: bool,
}

/// What a cluster's estimate needs of the shape, once known.
pub(crate) struct ClusterFacts<'a> {
    /// Zones.
    pub zone_count: u32,
    /// The NAT layout of the network paved builds; `None` on an existing network.
    pub nat: Option<NatLayout>,
    /// The pools.
    pub pools: Vec<PricedPool<'a>>,
    /// paved creates the secrets key.
    pub creates_key: bool,
    /// Control-plane log types.
    pub log_types: usize,
    /// Days they are kept.
    pub log_retention_days: u32,
}

/// The shape's facts, or `None` while any is unknown.
pub(crate) fn cluster_facts(shape: &ClusterShape) -> Option<ClusterFacts<'_>> {
    let (
        Knowable::Known(zone_count),
        Knowable::Known(builds),
        Knowable::Known(pools),
        Knowable::Known(creates_key),
        Knowable::Known(log_types),
        Knowable::Known(log_retention_days),
    ) = (
        &shape.zone_count,
        &shape.builds_network,
        &shape.pools,
        &shape.creates_key,
        &shape.log_types,
        &shape.log_retention_days,
    )
    else {
        return None;
    };
    let nat = if *builds {
        Some(shape.nat.known().copied()?)
    } else {
        None
    };
    let mut priced = Vec::new();
    for pool in pools {
        let (
            Knowable::Known(types),
            Knowable::Known(capacity),
            Knowable::Known(min),
            Knowable::Known(disk),
        ) = (
            &pool.instance_types,
            &pool.capacity,
            &pool.min_size,
            &pool.disk_size_gb,
        )
        else {
            return None;
        };
        if let Some(first) = types.first() {
            priced.push(PricedPool {
                name: &pool.name,
                instance_type: first,
                nodes: f64::from(*min),
                disk_gb: f64::from(*disk),
                spot: *capacity == Capacity::Spot,
            });
        }
    }
    Some(ClusterFacts {
        zone_count: *zone_count,
        nat,
        pools: priced,
        creates_key: *creates_key,
        log_types: log_types.len(),
        log_retention_days: *log_retention_days,
    })
}

/// Adds each pool's nodes at `hour_of` its instance type (spot at `spot_fraction`
/// of it) and their disks at `disk_gb_month`.
pub(crate) fn price_pools(
    e: &mut Estimate,
    pools: &[PricedPool<'_>],
    hour_of: impl Fn(&str) -> Option<f64>,
    spot_fraction: f64,
    disk_gb_month: f64,
) {
    for pool in pools {
        match hour_of(pool.instance_type) {
            Some(hour) => {
                let hour = if pool.spot {
                    hour * spot_fraction
                } else {
                    hour
                };
                e.hourly(format!("nodes.{}", pool.name), hour, pool.nodes);
                e.assume(format!(
                    "node pool {}: {} x {} at its min_size",
                    pool.name, pool.nodes, pool.instance_type
                ));
            }
            None => e.unpriced(format!("instance type {}", pool.instance_type)),
        }
        e.add("node_disks", pool.nodes * pool.disk_gb * disk_gb_month);
        if pool.spot {
            e.assume(format!(
                "spot capacity at {:.0} % of the on-demand price (a typical discount; spot prices move)",
                spot_fraction * 100.0
            ));
        }
    }
    e.assume(
        "node pools at their min_size, priced at their first instance type: each node the autoscaler adds \
         costs as much again",
    );
}

/// What a database's estimate needs of the shape, once known.
pub(crate) struct DatabaseFacts<'a> {
    /// The instance class.
    pub class: &'a str,
    /// A standby in a second zone.
    pub multi_az: bool,
    /// Read replicas.
    pub replicas: u32,
    /// Allocated storage, in GB.
    pub storage_gb: f64,
    /// Backup retention, in days.
    pub retention_days: u32,
    /// Backups copied to a second region.
    pub backup_copy: bool,
    /// paved creates the storage key.
    pub creates_key: bool,
}

/// The shape's facts, or `None` while any is unknown.
pub(crate) fn database_facts(shape: &DatabaseShape) -> Option<DatabaseFacts<'_>> {
    let (_, creates_key, replicas) = shape.decided()?;
    Some(DatabaseFacts {
        class: shape.instance_class.known()?,
        multi_az: *shape.multi_az.known()?,
        replicas,
        storage_gb: f64::from(*shape.storage_gb.known()?),
        retention_days: *shape.backup_retention_days.known()?,
        backup_copy: *shape.backup_copy.known()?,
        creates_key,
    })
}

/// Adds automated backups of `storage_gb` kept `retention_days` (the first copy
/// free, each day's changes beyond it), and their copy to a second region.
pub(crate) fn price_backups(
    e: &mut Estimate,
    storage_gb: f64,
    retention_days: u32,
    copy: bool,
    gb_month: f64,
) {
    if retention_days == 0 {
        return;
    }
    let changes = storage_gb * usage::BACKUP_DAILY_CHANGE * f64::from(retention_days);
    e.add("backups", changes * gb_month);
    e.assume(format!(
        "backups: the first full copy free, then {:.0} % of the storage changing a day, kept {retention_days} days",
        usage::BACKUP_DAILY_CHANGE * 100.0
    ));
    if copy {
        e.add("backups.copy", (storage_gb + changes) * gb_month);
        e.assume(
            "the backup copy in the second region priced at this region's backup storage; the transfer between \
             regions not counted",
        );
    }
}

/// NAT gateways of a network over `zone_count` zones: how many.
pub(crate) fn nat_gateways(nat: NatLayout, zone_count: u32) -> f64 {
    match nat {
        NatLayout::PerZone => f64::from(zone_count),
        NatLayout::Single => 1.0,
        NatLayout::None => 0.0,
    }
}
