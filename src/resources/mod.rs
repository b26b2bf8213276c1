//! Managed resources, one folder each.

/// Helpers shared by the resource models (attribute readers, plan checks, schema pieces, validation checks).
pub mod common;
pub mod ha_cluster;
pub mod managed_database;
