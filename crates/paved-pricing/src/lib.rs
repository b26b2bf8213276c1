//! The monthly cost estimate every stack resource shows in its plan, and the price
//! tables it is computed from.
//!
//! A cloud adapter turns what a plan knows of a stack (its shape: node pools at
//! their minimum size, NAT gateways, database instances, volumes, buckets) into
//! lines of an [`Estimate`], pricing each from its cloud's table ([`aws`],
//! [`gcp`]); the estimate ends as a [`CostEstimate`] with its total, its lines by
//! component, and every assumption it rests on, in words.
//!
//! The tables carry list prices (on-demand, Linux, no commitment, no free tier
//! unless said) for the regions the docs list, as of [`PRICES_AS_OF`]. They are
//! data, kept in one place so that the docs print them from here ([`SOURCES`] says
//! where they come from). An estimate is a planning aid, not a bill: usage the plan
//! cannot know (traffic, log volume, requests) is taken at the stated assumptions.

pub mod aws;
mod estimate;
pub mod gcp;

pub use estimate::{CostEstimate, Estimate};

/// Hours in a month, as the clouds' own calculators count them (365 × 24 / 12).
pub const HOURS_PER_MONTH: f64 = 730.0;

/// When the tables' prices were read.
pub const PRICES_AS_OF: &str = "2026-03";

/// Where the tables' prices come from, for the docs.
pub const SOURCES: &[&str] = &[
    "AWS: the public pricing pages of EC2 (on-demand, Linux), EKS (standard support), VPC (NAT gateway, \
     public IPv4 address), EBS, RDS (PostgreSQL, Single-AZ and Multi-AZ instance deployments; Aurora \
     standard), S3 (Standard), CloudWatch Logs, KMS and Amazon Managed Service for Prometheus, us-east-1 \
     list prices read in March 2026; other regions from each service's published price in that region, \
     expressed as a ratio to us-east-1 (one ratio per service and region).",
    "Google Cloud: the public pricing pages of Compute Engine (per vCPU-hour and GB-hour of each machine \
     series), GKE (cluster management fee), Cloud NAT, Persistent Disk, Cloud SQL (Enterprise edition), \
     Cloud Storage (Standard, regional), Cloud KMS and Managed Service for Prometheus, us-central1 list prices \
     read in March 2026; other regions by a ratio per region, as for AWS.",
];

/// The typical discount of spot capacity from on-demand, as a fraction of the
/// on-demand price paid (AWS spot and GCP spot VMs both commonly run 60-70 % below
/// on-demand for general-purpose types; the estimate takes 65 % off on AWS, 70 %
/// on Google Cloud, and says so).
pub const fn spot_fraction(cloud: Cloud) -> f64 {
    match cloud {
        Cloud::Aws => 0.35,
        Cloud::Gcp => 0.30,
    }
}

/// The price of `quantity` billed by tiers: each `(size, price)` covers the next
/// `size` of the quantity at `price` per `unit` of it.
pub fn tiered(quantity: f64, tiers: &[(f64, f64)], unit: f64) -> f64 {
    let mut left = quantity;
    let mut usd = 0.0;
    for (size, price) in tiers {
        if left <= 0.0 {
            break;
        }
        let here = left.min(*size);
        usd += here / unit * price;
        left -= here;
    }
    usd
}

/// The clouds paved prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloud {
    /// Amazon Web Services.
    Aws,
    /// Google Cloud.
    Gcp,
}

/// Usage the plan cannot know, taken at these volumes (the estimate's assumptions
/// say so in words).
pub mod usage {
    /// GB a month through the NAT gateways of one network (image pulls, package
    /// downloads, calls to public APIs).
    pub const NAT_GB_MONTH: f64 = 100.0;
    /// GB of control-plane logs a month per log type sent to the cloud's log service.
    pub const CONTROL_PLANE_LOG_GB_PER_TYPE: f64 = 2.0;
    /// GB of logs stored per day in the logs bucket (compressed chunks).
    pub const LOG_GB_PER_DAY: f64 = 5.0;
    /// GB of traces stored per day in the traces bucket.
    pub const TRACE_GB_PER_DAY: f64 = 1.0;
    /// The share of a database's allocated storage that changes each day, which
    /// backups keep for the retention period beyond the free first copy.
    pub const BACKUP_DAILY_CHANGE: f64 = 0.05;
    /// GB an Aurora cluster's storage is taken to hold (it grows on its own).
    pub const AURORA_STORAGE_GB: f64 = 20.0;
    /// Millions of Aurora I/O requests a month.
    pub const AURORA_IO_MILLIONS: f64 = 50.0;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spot_is_cheaper_than_on_demand_on_both_clouds() {
        for cloud in [Cloud::Aws, Cloud::Gcp] {
            let f = spot_fraction(cloud);
            assert!(f > 0.0 && f < 1.0, "{cloud:?}: {f}");
        }
    }
}
