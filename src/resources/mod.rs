//! Managed resources, one folder each.

pub mod ha_cluster;
