//! The monthly cost of AWS stacks, priced from [`paved_pricing::aws`] at plan
//! without any call: EKS clusters, their networks, RDS databases and the cloud side
//! of observability stacks.

use paved_pricing::aws::{self as prices, Region};
use paved_pricing::{spot_fraction, usage, Cloud, HOURS_PER_MONTH};

use crate::cloud::pricing::{
    cluster_facts, database_facts, estimate, nat_gateways, price_backups, price_pools, quote,
};
use crate::ports::cluster::ClusterShape;
use crate::ports::database::{DatabaseShape, Engine, StorageType};
use crate::ports::network::NatLayout;
use crate::ports::observability::ObservabilityShape;
use crate::stack::cost::{Estimate, Quote};
use crate::stack::{CloudError, Knowable};

fn priced(
    region: Result<String, CloudError>,
    price: impl FnOnce(&str, &'static Region) -> Option<Estimate>,
) -> Knowable<Quote> {
    let listed: Vec<&str> = prices::REGIONS.iter().map(|r| r.name).collect();
    quote(region, prices::region, &listed, price)
}

/// NAT gateways with their public addresses, and the data they process.
fn price_nat(e: &mut Estimate, t: &Region, nat: NatLayout, zone_count: u32) {
    let count = nat_gateways(nat, zone_count);
    if count == 0.0 {
        return;
    }
    e.hourly(
        "nat_gateways",
        t.nat_gateway_hour + prices::PUBLIC_IPV4_HOUR,
        count,
    );
    e.add("nat_gateways", usage::NAT_GB_MONTH * t.nat_gateway_gb);
    e.assume(format!(
        "{count} NAT gateway(s) with a public IPv4 address each, {} GB a month through them",
        usage::NAT_GB_MONTH
    ));
}

/// An EKS stack of `shape` in `region`.
pub(crate) fn cluster(region: Result<String, CloudError>, shape: &ClusterShape) -> Knowable<Quote> {
    priced(region, |name, t| {
        let facts = cluster_facts(shape)?;
        let mut e = estimate(name);
        e.hourly("control_plane", prices::EKS_CONTROL_PLANE_HOUR, 1.0);
        e.assume(format!(
        "the EKS control plane in standard support (${:.2} an hour; a Kubernetes version in extended support costs \
         ${:.2})",
        prices::EKS_CONTROL_PLANE_HOUR,
        prices::EKS_EXTENDED_SUPPORT_HOUR
    ));
        price_pools(
            &mut e,
            &facts.pools,
            |ty| prices::instance_hour(t, ty),
            spot_fraction(Cloud::Aws),
            t.ebs_gp3_gb_month,
        );
        if let Some(nat) = facts.nat {
            price_nat(&mut e, t, nat, facts.zone_count);
        }
        if facts.creates_key {
            e.add("encryption_key", prices::KMS_KEY_MONTH);
        }
        if facts.log_types > 0 {
            let gb = facts.log_types as f64 * usage::CONTROL_PLANE_LOG_GB_PER_TYPE;
            let stored = gb * f64::from(facts.log_retention_days) / 30.0;
            e.add(
                "control_plane_logs",
                gb * t.logs_ingest_gb + stored * t.logs_store_gb_month,
            );
            e.assume(format!(
                "control-plane logs: {} GB a month per log type, kept {} days",
                usage::CONTROL_PLANE_LOG_GB_PER_TYPE,
                facts.log_retention_days
            ));
        }
        e.assume(
        "not counted: load balancers that Kubernetes Services create (the baseline creates none), data transfer \
         between zones and to the internet, volumes that workloads claim",
    );
        Some(e)
    })
}

/// A network of `zone_count` zones with NAT layout `nat` in `region`.
pub(crate) fn network(
    region: Result<String, CloudError>,
    zone_count: u32,
    nat: NatLayout,
) -> Knowable<Quote> {
    priced(region, |name, t| {
        let mut e = estimate(name);
        price_nat(&mut e, t, nat, zone_count);
        e.assume("the VPC, subnets, route tables and internet gateway cost nothing by themselves");
        Some(e)
    })
}

/// An RDS (or Aurora) stack of `shape` in `region`.
pub(crate) fn database(
    region: Result<String, CloudError>,
    shape: &DatabaseShape,
) -> Knowable<Quote> {
    priced(region, |name, t| {
        let facts = database_facts(shape)?;
        let (Knowable::Known(engine), Knowable::Known(storage_type)) =
            (&shape.engine, &shape.storage_type)
        else {
            return None;
        };
        let aurora = *engine == Engine::AuroraPostgresql;
        let mut e = estimate(name);
        let replicas = f64::from(facts.replicas);
        match prices::database_hour(t, facts.class, aurora) {
            Some(hour) => {
                let primary = if facts.multi_az && !aurora { 2.0 } else { 1.0 };
                e.hourly("database.primary", hour, primary);
                if replicas > 0.0 {
                    e.hourly("database.replicas", hour, replicas);
                }
            }
            None => e.unpriced(format!("instance class {}", facts.class)),
        }
        let storage_gb = if aurora {
            e.add(
                "storage",
                usage::AURORA_STORAGE_GB * t.aurora_storage_gb_month
                    + usage::AURORA_IO_MILLIONS * t.aurora_io_million,
            );
            e.assume(format!(
                "Aurora storage of {} GB and {} million I/O requests a month",
                usage::AURORA_STORAGE_GB,
                usage::AURORA_IO_MILLIONS
            ));
            usage::AURORA_STORAGE_GB
        } else {
            let per_gb = match storage_type {
                StorageType::Gp3 => t.rds_gp3_gb_month,
                StorageType::Io2 => t.rds_io2_gb_month,
            };
            let copies = if facts.multi_az { 2.0 } else { 1.0 } + replicas;
            e.add("storage", facts.storage_gb * per_gb * copies);
            if facts.multi_az {
                e.assume("Multi-AZ: the standby billed as a second instance with its own storage");
            }
            if *storage_type == StorageType::Io2 {
                e.assume("io2 storage: provisioned IOPS not counted");
            }
            facts.storage_gb
        };
        price_backups(
            &mut e,
            storage_gb,
            facts.retention_days,
            facts.backup_copy,
            t.rds_backup_gb_month,
        );
        if facts.creates_key {
            e.add("encryption_key", prices::KMS_KEY_MONTH);
        }
        e.add("master_secret", prices::SECRET_MONTH);
        if *engine == Engine::Mysql {
            e.assume(
                "MySQL priced at PostgreSQL's rates (MySQL's list prices run a few per cent lower)",
            );
        }
        e.assume(
            "storage at its allocated size: autoscaling up to max_size_gb costs more as it grows",
        );
        Some(e)
    })
}

/// The cloud side of an observability stack of `shape` in `region`.
pub(crate) fn observability(
    region: Result<String, CloudError>,
    shape: &ObservabilityShape,
) -> Knowable<Quote> {
    priced(region, |name, t| {
        let mut e = estimate(name);
        let mut volume_gb = f64::from(shape.metrics_replicas) * f64::from(shape.metrics_volume_gb);
        for (store, key, per_day) in [
            (&shape.logs, "bucket.logs", usage::LOG_GB_PER_DAY),
            (&shape.traces, "bucket.traces", usage::TRACE_GB_PER_DAY),
        ] {
            if let Some(store) = store {
                volume_gb += f64::from(store.volume_gb);
                e.add(
                    key,
                    per_day * f64::from(store.retention_days) * t.s3_gb_month,
                );
            }
        }
        e.add("volumes", volume_gb * t.ebs_gp3_gb_month);
        e.assume(format!(
        "buckets: {} GB of logs and {} GB of traces stored a day, for their retention; requests not counted",
        usage::LOG_GB_PER_DAY,
        usage::TRACE_GB_PER_DAY
    ));
        if let Some(m) = &shape.managed {
            let samples =
                f64::from(m.series) * (60.0 / m.scrape_interval_seconds) * 60.0 * HOURS_PER_MONTH;
            e.add("managed_prometheus", prices::amp_ingest_month(samples));
            e.assume(format!(
            "managed Prometheus: {} active series scraped every {} s, {:.1} billion samples a month; storage and \
             queries not counted",
            m.series,
            m.scrape_interval_seconds,
            samples / 1.0e9
        ));
        }
        e.assume(
        "the stack's workloads run on the cluster's nodes: their cost is in the cluster's estimate",
    );
        Some(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::cluster::{Capacity, PoolShape};

    fn production() -> ClusterShape {
        ClusterShape::production(vec![
            PoolShape::sized("system", &["m6i.large"], Capacity::OnDemand, 3),
            PoolShape::sized("spot", &["m6i.large", "m5.large"], Capacity::Spot, 3),
        ])
    }

    fn priced(q: Knowable<Quote>) -> paved_pricing::CostEstimate {
        match q {
            Knowable::Known(Quote::Estimate(e)) => e,
            other => panic!("not an estimate: {other:?}"),
        }
    }

    #[test]
    fn a_production_cluster_is_priced_line_by_line() {
        let e = priced(cluster(Ok("us-east-1".into()), &production()));
        let line = |k: &str| e.by_component.get(k).copied().unwrap_or(-1.0);
        assert_eq!(line("control_plane"), 73.0);
        // 3 x m6i.large at 0.096 an hour.
        assert_eq!(line("nodes.system"), 210.24);
        // Spot at 35 % of it.
        assert_eq!(line("nodes.spot"), 73.58);
        // 6 nodes x 50 GB x 0.08.
        assert_eq!(line("node_disks"), 24.0);
        // 3 x (0.045 + 0.005) x 730 + 100 GB x 0.045.
        assert_eq!(line("nat_gateways"), 114.0);
        assert_eq!(line("encryption_key"), 1.0);
        // 4 GB ingested at 0.50, 12 GB kept at 0.03.
        assert_eq!(line("control_plane_logs"), 2.36);
        let sum: f64 = e.by_component.values().sum();
        assert!((e.monthly_usd - sum).abs() < 1e-9);
        assert!(e.assumptions.iter().any(|a| a.contains("min_size")));
        assert!(e.unpriced.is_empty());
    }

    #[test]
    fn an_existing_network_pays_no_nat_and_an_unknown_type_is_left_out() {
        let mut shape = production();
        shape.builds_network = Knowable::Known(false);
        shape.pools = Knowable::Known(vec![PoolShape::sized(
            "gpu",
            &["p5.48xlarge"],
            Capacity::OnDemand,
            1,
        )]);
        let e = priced(cluster(Ok("eu-west-1".into()), &shape));
        assert!(!e.by_component.contains_key("nat_gateways"));
        assert!(!e.by_component.contains_key("nodes.gpu"));
        assert_eq!(e.unpriced, vec!["instance type p5.48xlarge"]);
    }

    #[test]
    fn regions_unknown_or_unlisted() {
        assert_eq!(
            cluster(Err(CloudError::UnknownSetting("aws.region")), &production()),
            Knowable::Unknown
        );
        match cluster(Ok("mars-north-1".into()), &production()) {
            Knowable::Known(Quote::NoPrices(why)) => {
                assert!(
                    why.contains("mars-north-1") && why.contains("eu-west-1"),
                    "{why}"
                )
            }
            other => panic!("{other:?}"),
        }
        let mut shape = production();
        shape.pools = Knowable::Unknown;
        assert_eq!(cluster(Ok("us-east-1".into()), &shape), Knowable::Unknown);
    }

    fn db(engine: Engine, class: &str, multi_az: bool, replicas: u32) -> DatabaseShape {
        DatabaseShape {
            engine: Knowable::Known(engine),
            multi_az: Knowable::Known(multi_az),
            read_replicas: Knowable::Known(replicas),
            instance_class: Knowable::Known(class.into()),
            storage_gb: Knowable::Known(100),
            ..DatabaseShape::production()
        }
    }

    #[test]
    fn a_multi_az_database_with_a_replica() {
        let e = priced(database(
            Ok("us-east-1".into()),
            &db(Engine::Postgres, "db.m6g.large", true, 1),
        ));
        let line = |k: &str| e.by_component.get(k).copied().unwrap_or(-1.0);
        // Primary and standby: 2 x 0.159 x 730.
        assert_eq!(line("database.primary"), 232.14);
        assert_eq!(line("database.replicas"), 116.07);
        // 100 GB x 0.115 x 3 copies.
        assert_eq!(line("storage"), 34.5);
        // 100 x 5 % x 14 days x 0.095.
        assert_eq!(line("backups"), 6.65);
        assert_eq!(line("master_secret"), 0.4);
        let aurora = priced(database(
            Ok("us-east-1".into()),
            &db(Engine::AuroraPostgresql, "db.r6g.large", true, 0),
        ));
        assert_eq!(aurora.by_component["database.primary"], 189.8);
    }

    #[test]
    fn observability_buckets_volumes_and_managed_ingestion() {
        use crate::ports::observability::{ManagedIngestion, StoreShape};
        let shape = ObservabilityShape {
            metrics_replicas: 2,
            metrics_volume_gb: 100,
            managed: Some(ManagedIngestion {
                series: 100_000,
                scrape_interval_seconds: 30.0,
            }),
            logs: Some(StoreShape {
                retention_days: 30,
                volume_gb: 20,
            }),
            traces: None,
        };
        let e = priced(observability(Ok("us-east-1".into()), &shape));
        // 220 GB of gp3.
        assert_eq!(e.by_component["volumes"], 17.6);
        // 150 GB in S3.
        assert_eq!(e.by_component["bucket.logs"], 3.45);
        assert!(!e.by_component.contains_key("bucket.traces"));
        // 100 k series x 2 a minute x 60 x 730 = 8.76 B samples: 2 B at 0.90, 6.76 B at 0.35.
        assert_eq!(e.by_component["managed_prometheus"], 416.6);
    }
}
