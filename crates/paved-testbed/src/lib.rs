//! A counting, fault-injecting HTTP proxy for testing the paved provider
//! against moto.
//!
//! The proxy sits between the AWS SDK (pointed at it through
//! `AWS_ENDPOINT_URL`) and moto. It forwards every request unchanged,
//! classifies it by AWS service and action and counts it, and can inject
//! latency, throttling errors, HTTP 500/503 errors and dropped connections
//! at configurable rates from a seeded RNG, in the error shapes the AWS SDK
//! retries. A control plane under [`CONTROL_PREFIX`] on the same port reads
//! and resets the counters and changes the configuration at run time.
//!
//! Opt-in, [`ProxyHandle::with_access_entries`] makes the proxy answer the EKS
//! access-entry API itself (which moto lacks), from memory: see
//! [`access_entries`]. Likewise [`ProxyHandle::with_eks_extras`] makes it
//! answer the EKS add-on and version-update calls moto lacks, and rewrite
//! moto's DescribeCluster and DescribeNodegroup answers to match: see [`eks`].
//! [`ProxyHandle::with_amp_extras`] makes it answer the AMP alert manager
//! definition calls moto lacks: see [`amp`].
//!
//! Two modes serve the speed benchmarks (`bench/stacks.py`), both off by default:
//! * [`replay`]: record the answers of read calls and answer them again from the
//!   records, without the upstream, so that a measured `terraform plan` does not
//!   time moto (`--record`, `--replay`, `GET|POST /__paved_proxy/replay`);
//! * [`provisioning`]: a provisioning-time model that holds NAT gateways, EKS
//!   clusters, node groups and add-ons, RDS instances and snapshots in their
//!   transitional state for AWS-like durations on a scaled clock (`--time-scale`,
//!   `--provisioning-durations`, `GET|POST /__paved_proxy/provisioning`; the
//!   durations and their sources are in [`provisioning::KINDS`]).
//!
//! ```no_run
//! use paved_testbed::{FaultConfig, FaultProxy};
//!
//! # fn main() -> Result<(), paved_testbed::Error> {
//! let proxy = FaultProxy::start(
//!     "http://127.0.0.1:5000",
//!     FaultConfig::none().with_throttle_rate(0.2).with_seed(7),
//! )?;
//! std::env::set_var("AWS_ENDPOINT_URL", proxy.endpoint());
//! // ... run the provider ...
//! let stats = proxy.stats();
//! println!("{} requests, {} DescribeVpcs", stats.total, stats.count("ec2", "DescribeVpcs"));
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

/// Defines, inside an `impl ProxyHandle` block, the controls of an opt-in stand-in:
/// `with` turns it on and returns the handle, `set` turns it on or off at run time,
/// `enabled` says whether it is on and `set_delay` sets how long its transitions take.
/// `store` names the handle's method reaching the stand-in's state, which has
/// `enabled` and `delay` fields. Each control's doc comment goes before its name.
macro_rules! stand_in_controls {
    (
        store: $store:ident;
        $(#[$with_doc:meta])* with: $with:ident;
        $(#[$set_doc:meta])* set: $set:ident;
        $(#[$enabled_doc:meta])* enabled: $enabled:ident;
        $(#[$delay_doc:meta])* set_delay: $set_delay:ident;
    ) => {
        $(#[$with_doc])*
        pub fn $with(self) -> Self {
            self.$set(true);
            self
        }

        $(#[$set_doc])*
        pub fn $set(&self, on: bool) {
            self.$store().enabled = on;
        }

        $(#[$enabled_doc])*
        pub fn $enabled(&self) -> bool {
            self.$store().enabled
        }

        $(#[$delay_doc])*
        pub fn $set_delay(&self, delay: ::std::time::Duration) {
            self.$store().delay = delay;
        }
    };
}

pub mod access_entries;
pub mod amp;
pub mod classify;
pub mod config;
pub mod eks;
pub mod error;
pub mod faults;
pub mod gcp;
pub mod kube;
pub mod provisioning;
pub mod proxy;
pub mod replay;
pub mod signals;
pub mod stats;
mod wire;
mod xml_ranges;

pub use access_entries::{AccessEntry, AssociatedAccessPolicy};
pub use amp::AlertManagerDefinition;
pub use classify::{Classification, Protocol};
pub use config::FaultConfig;
pub use eks::{Addon, Update, UpdateParam};
pub use error::Error;
pub use faults::{FaultKind, InjectedError};
pub use provisioning::{Kind, ModelReport, ModelSettings, KINDS};
pub use proxy::{FaultProxy, ProxyHandle, CONTROL_PREFIX, MAX_BODY_BYTES};
pub use replay::{ReplaySettings, ReplayStatus};
pub use stats::{FaultCounts, Stats};
