//! Google Cloud list prices (US dollars) for the regions paved documents.
//!
//! Compute Engine and Cloud SQL bill per vCPU-hour and per GB-hour of memory; the
//! table keeps us-central1's rates per machine series and a ratio per region.
//! Disks and buckets are the region's own prices.

/// One region's prices.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// `us-central1`.
    pub name: &'static str,
    /// Compute Engine prices here / us-central1's.
    pub compute_ratio: f64,
    /// Cloud SQL prices here / us-central1's.
    pub sql_ratio: f64,
    /// Balanced persistent disk, per GB-month.
    pub pd_balanced_gb_month: f64,
    /// Cloud SQL SSD storage (zonal), per GB-month; regional (HA) pays twice.
    pub sql_ssd_gb_month: f64,
    /// Cloud Storage Standard (regional), per GB-month.
    pub gcs_gb_month: f64,
}

/// The GKE cluster management fee (a regional Standard cluster), per hour.
pub const GKE_CLUSTER_HOUR: f64 = 0.10;
/// Cloud NAT, per hour per VM using the gateway (up to 32 VMs).
pub const NAT_VM_HOUR: f64 = 0.0014;
/// Cloud NAT, per hour for a gateway serving 32 VMs or more.
pub const NAT_GATEWAY_MAX_HOUR: f64 = 0.044;
/// Data Cloud NAT processes, per GB.
pub const NAT_GB: f64 = 0.045;
/// A static external IPv4 address in use, per hour.
pub const EXTERNAL_IP_HOUR: f64 = 0.005;
/// A Cloud KMS key version (software), per month.
pub const KMS_KEY_VERSION_MONTH: f64 = 0.06;
/// Cloud SQL (Enterprise) per vCPU-hour in us-central1, zonal; HA pays twice.
pub const SQL_VCPU_HOUR: f64 = 0.0413;
/// Cloud SQL (Enterprise) per GB-hour of memory in us-central1, zonal.
pub const SQL_GB_HOUR: f64 = 0.007;
/// Cloud SQL backups, per GB-month.
pub const SQL_BACKUP_GB_MONTH: f64 = 0.08;
/// Managed Service for Prometheus ingestion per million samples, by tier of samples
/// a month: the first 50 billion, the next 200 billion, the next 250 billion, the
/// rest.
pub const GMP_INGEST_TIERS: [(f64, f64); 4] = [
    (50.0e9, 0.06),
    (200.0e9, 0.048),
    (250.0e9, 0.036),
    (f64::INFINITY, 0.024),
];

/// The regions the table covers.
pub const REGIONS: &[Region] = &[
    Region {
        name: "us-central1",
        compute_ratio: 1.0,
        sql_ratio: 1.0,
        pd_balanced_gb_month: 0.10,
        sql_ssd_gb_month: 0.17,
        gcs_gb_month: 0.020,
    },
    Region {
        name: "us-east1",
        compute_ratio: 1.0,
        sql_ratio: 1.0,
        pd_balanced_gb_month: 0.10,
        sql_ssd_gb_month: 0.17,
        gcs_gb_month: 0.020,
    },
    Region {
        name: "europe-west1",
        compute_ratio: 1.10,
        sql_ratio: 1.10,
        pd_balanced_gb_month: 0.11,
        sql_ssd_gb_month: 0.187,
        gcs_gb_month: 0.020,
    },
    Region {
        name: "europe-west2",
        compute_ratio: 1.16,
        sql_ratio: 1.16,
        pd_balanced_gb_month: 0.12,
        sql_ssd_gb_month: 0.204,
        gcs_gb_month: 0.023,
    },
    Region {
        name: "europe-west4",
        compute_ratio: 1.10,
        sql_ratio: 1.10,
        pd_balanced_gb_month: 0.11,
        sql_ssd_gb_month: 0.187,
        gcs_gb_month: 0.020,
    },
    Region {
        name: "asia-southeast1",
        compute_ratio: 1.23,
        sql_ratio: 1.22,
        pd_balanced_gb_month: 0.11,
        sql_ssd_gb_month: 0.209,
        gcs_gb_month: 0.020,
    },
];

/// Machine series: per vCPU-hour and per GB-hour of memory in us-central1
/// (on-demand).
pub const SERIES_HOUR: &[(&str, f64, f64)] = &[
    ("c3", 0.03465, 0.003938),
    ("e2", 0.021811, 0.002923),
    ("n1", 0.031611, 0.004237),
    ("n2", 0.031611, 0.004237),
    ("n2d", 0.027502, 0.003686),
    ("t2d", 0.027502, 0.003686),
];

/// The table of `name`, if paved has one.
pub fn region(name: &str) -> Option<&'static Region> {
    REGIONS.iter().find(|r| r.name == name)
}

/// The vCPUs and GB of memory of a predefined machine type (`n2-standard-4`,
/// `e2-medium`); `None` for a type the table cannot size (custom types, GPUs).
pub fn machine_size(machine_type: &str) -> Option<(f64, f64)> {
    match machine_type {
        "e2-micro" => return Some((0.25, 1.0)),
        "e2-small" => return Some((0.5, 2.0)),
        "e2-medium" => return Some((1.0, 4.0)),
        _ => {}
    }
    let mut parts = machine_type.split('-');
    let (series, class, n) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let cpus: f64 = n.parse().ok()?;
    let n1 = series == "n1";
    let gb_per_cpu = match class {
        "standard" if n1 => 3.75,
        "standard" => 4.0,
        "highmem" if n1 => 6.5,
        "highmem" => 8.0,
        "highcpu" if n1 => 0.9,
        "highcpu" => 1.0,
        _ => return None,
    };
    Some((cpus, cpus * gb_per_cpu))
}

/// A machine type's on-demand price per hour in `region`.
pub fn machine_hour(region: &Region, machine_type: &str) -> Option<f64> {
    let series = machine_type.split('-').next()?;
    let (_, cpu, gb) = SERIES_HOUR.iter().find(|(s, _, _)| *s == series)?;
    let (cpus, mem) = machine_size(machine_type)?;
    Some((cpus * cpu + mem * gb) * region.compute_ratio)
}

/// A Cloud SQL instance of `cpus` and `memory_gb`, per hour in `region`; `ha`: a
/// regional (highly available) instance, billed twice.
pub fn sql_hour(region: &Region, cpus: f64, memory_gb: f64, ha: bool) -> f64 {
    let zonal = (cpus * SQL_VCPU_HOUR + memory_gb * SQL_GB_HOUR) * region.sql_ratio;
    if ha {
        2.0 * zonal
    } else {
        zonal
    }
}

/// Managed Service for Prometheus ingestion of `samples` a month, in dollars.
pub fn gmp_ingest_month(samples: f64) -> f64 {
    crate::tiered(samples, &GMP_INGEST_TIERS, 1.0e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> &'static Region {
        region("us-central1").expect("listed")
    }

    #[test]
    fn machine_types_price_as_the_price_list_does() {
        // Published us-central1 prices: e2-standard-4 0.134024, n2-standard-4 0.194236,
        // e2-medium 0.033503, n1-standard-4 0.189999.
        let close = |t: &str, want: f64| {
            let got = machine_hour(us(), t).unwrap_or(0.0);
            assert!((got - want).abs() < 1e-4, "{t}: {got} != {want}");
        };
        close("e2-standard-4", 0.134024);
        close("n2-standard-4", 0.194236);
        close("e2-medium", 0.033503);
        close("n1-standard-4", 0.189999);
        assert_eq!(machine_hour(us(), "a2-highgpu-1g"), None);
        assert_eq!(machine_hour(us(), "n2-custom-4-8192"), None);
        assert_eq!(machine_hour(us(), "m6i.large"), None);
    }

    #[test]
    fn cloud_sql_ha_pays_twice_and_regions_cost_more() {
        let zonal = sql_hour(us(), 2.0, 8.0, false);
        assert!((zonal - (2.0 * 0.0413 + 8.0 * 0.007)).abs() < 1e-12);
        assert!((sql_hour(us(), 2.0, 8.0, true) - 2.0 * zonal).abs() < 1e-12);
        let eu = region("europe-west1").expect("listed");
        assert!(sql_hour(eu, 2.0, 8.0, false) > zonal);
    }

    #[test]
    fn managed_prometheus_is_tiered() {
        assert!((gmp_ingest_month(1.0e9) - 60.0).abs() < 1e-6);
        assert!((gmp_ingest_month(60.0e9) - (3000.0 + 480.0)).abs() < 1e-6);
    }
}
