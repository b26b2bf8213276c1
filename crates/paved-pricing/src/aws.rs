//! AWS list prices (US dollars) for the regions paved documents.
//!
//! Instances are priced from their family's `large` size in us-east-1 (EC2 and RDS
//! prices within a family scale with the size: `xlarge` is twice `large`, `medium`
//! half), times the region's ratio for the service. Everything else (NAT gateway,
//! block storage, database storage and backups, S3, CloudWatch Logs) is the region's
//! own price.

/// One region's prices.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// `us-east-1`.
    pub name: &'static str,
    /// EC2 on-demand prices here / us-east-1's.
    pub compute_ratio: f64,
    /// RDS instance prices here / us-east-1's.
    pub database_ratio: f64,
    /// A NAT gateway, per hour.
    pub nat_gateway_hour: f64,
    /// Data a NAT gateway processes, per GB.
    pub nat_gateway_gb: f64,
    /// EBS gp3, per GB-month.
    pub ebs_gp3_gb_month: f64,
    /// RDS gp3 storage of a Single-AZ instance, per GB-month (Multi-AZ pays twice).
    pub rds_gp3_gb_month: f64,
    /// RDS io2 storage, per GB-month (IOPS not counted).
    pub rds_io2_gb_month: f64,
    /// RDS backup storage beyond the free first copy, per GB-month.
    pub rds_backup_gb_month: f64,
    /// Aurora standard storage, per GB-month.
    pub aurora_storage_gb_month: f64,
    /// Aurora standard I/O, per million requests.
    pub aurora_io_million: f64,
    /// S3 Standard, per GB-month.
    pub s3_gb_month: f64,
    /// CloudWatch Logs ingestion, per GB.
    pub logs_ingest_gb: f64,
    /// CloudWatch Logs storage, per GB-month.
    pub logs_store_gb_month: f64,
}

/// The EKS control plane (standard support), per hour.
pub const EKS_CONTROL_PLANE_HOUR: f64 = 0.10;
/// The EKS control plane in extended support (a Kubernetes version past its
/// standard support), per hour.
pub const EKS_EXTENDED_SUPPORT_HOUR: f64 = 0.60;
/// A public IPv4 address (a NAT gateway's Elastic IP), per hour.
pub const PUBLIC_IPV4_HOUR: f64 = 0.005;
/// A Secrets Manager secret (the database's master password), per month.
pub const SECRET_MONTH: f64 = 0.40;
/// A customer-managed KMS key, per month (requests not counted).
pub const KMS_KEY_MONTH: f64 = 1.0;

/// Amazon Managed Service for Prometheus ingestion, per 10 million samples, by
/// tier: the first 2 billion samples a month, the next 250 billion, the rest.
pub const AMP_INGEST_TIERS: [(f64, f64); 3] =
    [(2.0e9, 0.90), (250.0e9, 0.35), (f64::INFINITY, 0.16)];

/// The regions the table covers.
pub const REGIONS: &[Region] = &[
    Region {
        name: "us-east-1",
        compute_ratio: 1.0,
        database_ratio: 1.0,
        nat_gateway_hour: 0.045,
        nat_gateway_gb: 0.045,
        ebs_gp3_gb_month: 0.08,
        rds_gp3_gb_month: 0.115,
        rds_io2_gb_month: 0.125,
        rds_backup_gb_month: 0.095,
        aurora_storage_gb_month: 0.10,
        aurora_io_million: 0.20,
        s3_gb_month: 0.023,
        logs_ingest_gb: 0.50,
        logs_store_gb_month: 0.03,
    },
    Region {
        name: "us-east-2",
        compute_ratio: 1.0,
        database_ratio: 1.0,
        nat_gateway_hour: 0.045,
        nat_gateway_gb: 0.045,
        ebs_gp3_gb_month: 0.08,
        rds_gp3_gb_month: 0.115,
        rds_io2_gb_month: 0.125,
        rds_backup_gb_month: 0.095,
        aurora_storage_gb_month: 0.10,
        aurora_io_million: 0.20,
        s3_gb_month: 0.023,
        logs_ingest_gb: 0.50,
        logs_store_gb_month: 0.03,
    },
    Region {
        name: "us-west-2",
        compute_ratio: 1.0,
        database_ratio: 1.0,
        nat_gateway_hour: 0.045,
        nat_gateway_gb: 0.045,
        ebs_gp3_gb_month: 0.08,
        rds_gp3_gb_month: 0.115,
        rds_io2_gb_month: 0.125,
        rds_backup_gb_month: 0.095,
        aurora_storage_gb_month: 0.10,
        aurora_io_million: 0.20,
        s3_gb_month: 0.023,
        logs_ingest_gb: 0.50,
        logs_store_gb_month: 0.03,
    },
    Region {
        name: "eu-west-1",
        compute_ratio: 1.115,
        database_ratio: 1.11,
        nat_gateway_hour: 0.048,
        nat_gateway_gb: 0.048,
        ebs_gp3_gb_month: 0.088,
        rds_gp3_gb_month: 0.127,
        rds_io2_gb_month: 0.138,
        rds_backup_gb_month: 0.095,
        aurora_storage_gb_month: 0.11,
        aurora_io_million: 0.22,
        s3_gb_month: 0.023,
        logs_ingest_gb: 0.57,
        logs_store_gb_month: 0.03,
    },
    Region {
        name: "eu-west-2",
        compute_ratio: 1.156,
        database_ratio: 1.16,
        nat_gateway_hour: 0.050,
        nat_gateway_gb: 0.050,
        ebs_gp3_gb_month: 0.0928,
        rds_gp3_gb_month: 0.133,
        rds_io2_gb_month: 0.145,
        rds_backup_gb_month: 0.10,
        aurora_storage_gb_month: 0.11,
        aurora_io_million: 0.22,
        s3_gb_month: 0.024,
        logs_ingest_gb: 0.57,
        logs_store_gb_month: 0.0315,
    },
    Region {
        name: "eu-central-1",
        compute_ratio: 1.198,
        database_ratio: 1.19,
        nat_gateway_hour: 0.052,
        nat_gateway_gb: 0.052,
        ebs_gp3_gb_month: 0.0952,
        rds_gp3_gb_month: 0.137,
        rds_io2_gb_month: 0.149,
        rds_backup_gb_month: 0.10,
        aurora_storage_gb_month: 0.11,
        aurora_io_million: 0.22,
        s3_gb_month: 0.0245,
        logs_ingest_gb: 0.63,
        logs_store_gb_month: 0.0324,
    },
    Region {
        name: "ap-southeast-1",
        compute_ratio: 1.25,
        database_ratio: 1.25,
        nat_gateway_hour: 0.059,
        nat_gateway_gb: 0.059,
        ebs_gp3_gb_month: 0.096,
        rds_gp3_gb_month: 0.138,
        rds_io2_gb_month: 0.15,
        rds_backup_gb_month: 0.10,
        aurora_storage_gb_month: 0.11,
        aurora_io_million: 0.22,
        s3_gb_month: 0.025,
        logs_ingest_gb: 0.70,
        logs_store_gb_month: 0.033,
    },
    Region {
        name: "ap-northeast-1",
        compute_ratio: 1.292,
        database_ratio: 1.26,
        nat_gateway_hour: 0.062,
        nat_gateway_gb: 0.062,
        ebs_gp3_gb_month: 0.096,
        rds_gp3_gb_month: 0.138,
        rds_io2_gb_month: 0.15,
        rds_backup_gb_month: 0.10,
        aurora_storage_gb_month: 0.11,
        aurora_io_million: 0.22,
        s3_gb_month: 0.025,
        logs_ingest_gb: 0.76,
        logs_store_gb_month: 0.033,
    },
];

/// EC2 families: the `large` size's on-demand price per hour in us-east-1 (Linux).
pub const EC2_LARGE_HOUR: &[(&str, f64)] = &[
    ("c5", 0.085),
    ("c6a", 0.0765),
    ("c6g", 0.068),
    ("c6i", 0.085),
    ("c7g", 0.0725),
    ("c7i", 0.08925),
    ("m5", 0.096),
    ("m5a", 0.086),
    ("m6a", 0.0864),
    ("m6g", 0.077),
    ("m6i", 0.096),
    ("m7a", 0.11592),
    ("m7g", 0.0816),
    ("m7i", 0.1008),
    ("r5", 0.126),
    ("r6a", 0.1134),
    ("r6g", 0.1008),
    ("r6i", 0.126),
    ("r7g", 0.1071),
    ("r7i", 0.1323),
    ("t3", 0.0832),
    ("t3a", 0.0752),
    ("t4g", 0.0672),
];

/// RDS for PostgreSQL families (`db.m6g`): the `large` size's Single-AZ price per
/// hour in us-east-1. MySQL is priced the same (its list prices run a few per
/// cent lower).
pub const RDS_LARGE_HOUR: &[(&str, f64)] = &[
    ("m5", 0.178),
    ("m6g", 0.159),
    ("m6i", 0.178),
    ("m7g", 0.168),
    ("r5", 0.25),
    ("r6g", 0.225),
    ("r6i", 0.25),
    ("r7g", 0.239),
    ("t3", 0.145),
    ("t4g", 0.129),
];

/// Aurora PostgreSQL (standard) families: the `large` size's price per hour in
/// us-east-1.
pub const AURORA_LARGE_HOUR: &[(&str, f64)] = &[
    ("r5", 0.29),
    ("r6g", 0.26),
    ("r6i", 0.29),
    ("r7g", 0.276),
    ("t3", 0.164),
    ("t4g", 0.146),
];

/// The table of `name`, if paved has one.
pub fn region(name: &str) -> Option<&'static Region> {
    REGIONS.iter().find(|r| r.name == name)
}

/// A size's price relative to `large` (`medium` 0.5, `4xlarge` 8); `None` for a
/// size the scale does not cover (`metal`).
pub fn size_factor(size: &str) -> Option<f64> {
    Some(match size {
        "nano" => 1.0 / 16.0,
        "micro" => 1.0 / 8.0,
        "small" => 0.25,
        "medium" => 0.5,
        "large" => 1.0,
        "xlarge" => 2.0,
        other => {
            let n: f64 = other.strip_suffix("xlarge")?.parse().ok()?;
            2.0 * n
        }
    })
}

fn priced(table: &[(&str, f64)], family: &str, size: &str, ratio: f64) -> Option<f64> {
    let (_, large) = table.iter().find(|(f, _)| *f == family)?;
    Some(large * size_factor(size)? * ratio)
}

/// An EC2 instance type's on-demand price per hour in `region` (`m6i.large`).
pub fn instance_hour(region: &Region, instance_type: &str) -> Option<f64> {
    let (family, size) = instance_type.split_once('.')?;
    priced(EC2_LARGE_HOUR, family, size, region.compute_ratio)
}

/// An RDS instance class's Single-AZ price per hour in `region` (`db.m6g.large`);
/// `aurora` for an Aurora instance.
pub fn database_hour(region: &Region, class: &str, aurora: bool) -> Option<f64> {
    let (family, size) = class.strip_prefix("db.")?.split_once('.')?;
    let table = if aurora {
        AURORA_LARGE_HOUR
    } else {
        RDS_LARGE_HOUR
    };
    priced(table, family, size, region.database_ratio)
}

/// Managed Prometheus ingestion of `samples` a month, in dollars (tiered).
pub fn amp_ingest_month(samples: f64) -> f64 {
    crate::tiered(samples, &AMP_INGEST_TIERS, 1.0e7)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> &'static Region {
        region("us-east-1").expect("us-east-1 is in the table")
    }

    #[test]
    fn sizes_scale_from_large_as_the_price_list_does() {
        // Published us-east-1 prices: t3.micro 0.0104, t3.medium 0.0416, m6i.xlarge 0.192,
        // m6i.4xlarge 0.768.
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(
            instance_hour(us(), "t3.micro").unwrap_or(0.0),
            0.0104
        ));
        assert!(close(
            instance_hour(us(), "t3.medium").unwrap_or(0.0),
            0.0416
        ));
        assert!(close(
            instance_hour(us(), "m6i.xlarge").unwrap_or(0.0),
            0.192
        ));
        assert!(close(
            instance_hour(us(), "m6i.4xlarge").unwrap_or(0.0),
            0.768
        ));
        assert_eq!(instance_hour(us(), "m6i.metal"), None);
        assert_eq!(instance_hour(us(), "z9.large"), None);
        assert_eq!(instance_hour(us(), "large"), None);
    }

    #[test]
    fn database_classes_and_regions() {
        let close = |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() < 1e-9);
        assert!(close(database_hour(us(), "db.m6g.large", false), 0.159));
        assert!(close(
            database_hour(us(), "db.t4g.micro", false),
            0.129 / 8.0
        ));
        assert!(close(database_hour(us(), "db.r6g.large", true), 0.26));
        assert_eq!(
            database_hour(us(), "db.m6g.large", true),
            None,
            "Aurora offers no db.m6g"
        );
        assert_eq!(database_hour(us(), "m6g.large", false), None);
        let eu = region("eu-central-1").expect("listed");
        assert!(instance_hour(eu, "m6i.large") > instance_hour(us(), "m6i.large"));
        assert_eq!(region("mars-north-1"), None);
    }

    #[test]
    fn every_region_prices_every_service() {
        for r in REGIONS {
            for (what, v) in [
                ("nat", r.nat_gateway_hour),
                ("ebs", r.ebs_gp3_gb_month),
                ("rds", r.rds_gp3_gb_month),
                ("s3", r.s3_gb_month),
                ("logs", r.logs_ingest_gb),
            ] {
                assert!(v > 0.0, "{}: {what}", r.name);
            }
            assert!(
                r.compute_ratio >= 1.0 && r.database_ratio >= 1.0,
                "{}",
                r.name
            );
        }
    }

    #[test]
    fn managed_prometheus_ingestion_is_tiered() {
        assert!((amp_ingest_month(1.0e9) - 90.0).abs() < 1e-6);
        // 2 B at 0.90 per 10 M, 1 B at 0.35.
        assert!((amp_ingest_month(3.0e9) - 215.0).abs() < 1e-6);
        assert_eq!(amp_ingest_month(0.0), 0.0);
    }
}
