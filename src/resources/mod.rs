//! Managed resources, one folder each.

pub mod ha_cluster;
pub mod managed_database;
