//! `paved_managed_database`: a managed relational database across zones.
//!
//! The cloud-neutral model of the resource, one concept per file, as
//! `paved_ha_cluster`'s:
//! - [`schema`](mod@schema): the attributes in the user's words, with their defaults documented;
//! - [`config`]: [`DatabaseSpec`], the effective configuration, every default filled
//!   from the profile and engine tables and "not known until apply" kept explicit;
//! - [`validate`]: checks made before any cloud call, as errors and warnings with the
//!   attribute path and what to do;
//! - [`inventory`]: the spec in the port's terms (the cloud lists its components
//!   from it), and the HA report;
//! - [`plan`](mod@plan): the pure planning function (planned state, forced replacements,
//!   deletion protection, storage shrink refusal, empty plan after apply);
//! - the trait the AWS and GCP backends implement is the port
//!   [`crate::ports::database::DatabaseBackend`].
//!
//! - [`lifecycle`]: driving a backend through create and update;
//! - [`state`](mod@state): the state as the cloud has it (outputs, drift, import);
//! - [`resource`]: the `Resource` implementation Terraform drives.

pub mod config;
#[cfg(test)]
mod fake;
pub mod inventory;
pub mod lifecycle;
pub mod plan;
pub mod resource;
#[cfg(test)]
mod resource_tests;
pub mod schema;
pub mod state;
pub mod validate;

pub use config::DatabaseSpec;
pub use inventory::ha_report;
pub use plan::plan;
pub use resource::ManagedDatabaseResource;
pub use schema::schema;

use paved_value::Value;

use crate::diag::{Diagnostics, Severity};

/// The resource's type name in HCL.
pub const TYPE_NAME: &str = "paved_managed_database";

/// The checks for `ValidateResourceConfig`: errors only. Warnings (risky but allowed
/// choices) are reported once, by [`plan()`], where the user reads them next to the
/// plan.
pub fn validate_config(config: &Value) -> Diagnostics {
    let (spec, mut diags) = DatabaseSpec::from_config(config, &Value::Null);
    diags.extend(validate::check(&spec));
    diags.0.retain(|d| d.severity == Severity::Error);
    diags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(pairs: Vec<(&str, Value)>) -> Value {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    #[test]
    fn validation_keeps_errors_and_leaves_warnings_to_the_plan() {
        let network = obj(vec![
            ("vpc_id", "vpc-1".into()),
            ("subnet_ids", Value::List(vec!["a".into(), "b".into()])),
        ]);
        let config = obj(vec![
            ("name", "orders".into()),
            ("network", network.clone()),
            ("backup", obj(vec![("retention_days", Value::from(3i64))])),
        ]);
        assert!(validate_config(&config).is_empty());
        let config = obj(vec![("name", "-orders".into()), ("network", network)]);
        assert!(validate_config(&config).has_errors());
    }
}
