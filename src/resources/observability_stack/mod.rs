//! `paved_observability_stack`: metrics, alerts, dashboards, logs and traces for a
//! cluster, in one resource.
//!
//! - [`schema`](mod@schema): the attributes, each default declared on its attribute;
//! - [`config`]: [`ObservabilityConfig`], the effective configuration (defaults
//!   filled from the declarations) and the typed settings;
//! - [`render`](mod@render): the renderer's input (`paved_observability`), with
//!   placeholders at plan for what only the apply knows;
//! - [`validate`]: errors before any call (matchers, receivers, durations, PromQL)
//!   and warnings (retention that cannot fit, one Alertmanager, no receiver);
//! - [`plan`](mod@plan): the pure plan; [`state`](mod@state): outputs and state;
//! - [`lifecycle`]: the cloud side ([`crate::ports::observability`]) and the objects
//!   ([`crate::delivery`]) through apply, refresh and destroy;
//! - [`resource`]: the model the stack core's outline drives.

pub mod config;
pub mod lifecycle;
pub mod plan;
pub mod render;
pub mod resource;
pub mod schema;
pub mod state;
pub mod validate;

pub use config::ObservabilityConfig;
pub use plan::plan;
pub use resource::ObservabilityStackResource;
pub use schema::schema;

use paved_value::Value;

use crate::diag::{Diagnostics, Severity};

/// The resource's type name in HCL.
pub const TYPE_NAME: &str = "paved_observability_stack";

/// The checks for `ValidateResourceConfig`: errors only (warnings come with the
/// plan).
pub fn validate_config(config: &Value) -> Diagnostics {
    let (cfg, mut diags) = ObservabilityConfig::from_config(config);
    diags.extend(validate::check(&cfg, config));
    diags.0.retain(|d| d.severity == Severity::Error);
    diags
}
