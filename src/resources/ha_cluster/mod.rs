//! `paved_ha_cluster`: a production Kubernetes cluster across zones.
//!
//! The cloud-neutral model of the resource, one concept per file:
//! - [`schema`](mod@schema): the attributes in the user's words, with their defaults documented;
//! - [`config`]: [`ClusterSpec`], the effective configuration, every default filled
//!   from the profile table and "not known until apply" kept explicit;
//! - [`validate`]: checks made before any cloud call, as errors and warnings with the
//!   attribute path and what to do;
//! - [`inventory`]: the spec in the port's terms (the cloud lists its components
//!   from it), and the HA report;
//! - [`plan`](mod@plan): the pure planning function (planned state, forced replacements,
//!   deletion protection);
//! - the trait the AWS and GCP backends implement is the port
//!   [`crate::ports::cluster::ClusterBackend`].
//!
//! - [`lifecycle`]: driving a backend through create and update;
//! - [`state`](mod@state): the state as the cloud has it (outputs, drift, import);
//! - [`resource`]: the `Resource` implementation Terraform drives.

pub mod baseline;
pub mod config;
pub mod delivery;
#[cfg(test)]
mod fake;
pub mod inventory;
pub mod kubernetes;
pub mod lifecycle;
pub mod plan;
pub mod resource;
#[cfg(test)]
mod resource_tests;
pub mod schema;
pub mod state;
pub mod validate;

pub use crate::stack::inventory::{Component, HaReport};
pub use config::ClusterSpec;
pub use inventory::ha_report;
pub use plan::plan;
pub use resource::HaClusterResource;
pub use schema::schema;

use paved_value::Value;

use crate::diag::{Diagnostics, Severity};

/// The resource's type name in HCL.
pub const TYPE_NAME: &str = "paved_ha_cluster";

/// The checks for `ValidateResourceConfig`: errors only. Warnings (risky but allowed
/// choices) are reported once, by [`plan()`], where the user reads them next to the
/// plan; reporting them at validation too would show each twice.
pub fn validate_config(config: &Value) -> Diagnostics {
    let (mut spec, mut diags) = ClusterSpec::from_config(config, &Value::Null);
    // No cloud yet: what a subnet covers (a zone, or the region) is decided at plan.
    spec.with_subnet_scope(crate::stack::Knowable::Unknown, &Value::Null);
    diags.extend(validate::check(&spec));
    diags.0.retain(|d| d.severity == Severity::Error);
    diags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_keeps_errors_and_leaves_warnings_to_the_plan() {
        let config = Value::Object(
            [
                ("name".to_string(), Value::from("shop")),
                ("zone_count".to_string(), Value::from(2i64)),
            ]
            .into_iter()
            .collect(),
        );
        assert!(validate_config(&config).is_empty());
        let config = Value::Object(
            [("name".to_string(), Value::from("-shop"))]
                .into_iter()
                .collect(),
        );
        assert!(validate_config(&config).has_errors());
    }
}
