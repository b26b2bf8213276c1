//! `paved_network`: the network a cluster and its databases share, built on its
//! own so that neither waits for the other (a database no longer waits for a whole
//! cluster to take its network from it).
//!
//! - [`schema`](mod@schema): the attributes, each default declared on its attribute;
//! - [`config`]: [`NetworkConfig`], the effective configuration;
//! - [`validate`]: errors before any call, and production warnings;
//! - [`plan`](mod@plan): the pure plan; [`state`](mod@state): outputs and state;
//! - [`resource`]: the model the stack core's outline drives.

pub mod config;
pub mod plan;
pub mod resource;
pub mod schema;
pub mod state;
pub mod validate;

pub use config::NetworkConfig;
pub use plan::plan;
pub use resource::NetworkResource;
pub use schema::schema;

use paved_value::Value;

use crate::diag::{Diagnostics, Severity};
use crate::schema::declared::check_block;

/// The resource's type name in HCL.
pub const TYPE_NAME: &str = "paved_network";

/// The checks for `ValidateResourceConfig`: errors only (warnings come with the
/// plan).
pub fn validate_config(config: &Value) -> Diagnostics {
    let mut diags = check_block(&schema::declared().block, config);
    let (cfg, read) = NetworkConfig::from_config(config);
    diags.extend(read);
    diags.extend(validate::check(&cfg));
    diags.0.retain(|d| d.severity == Severity::Error);
    diags
}
