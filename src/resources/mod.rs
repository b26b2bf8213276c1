//! Managed resources, one folder each. A resource imports the stack core, the cloud
//! ports and the framework, never another resource (see `scripts/check-layers.py`).

pub mod ha_cluster;
pub mod managed_database;
pub mod network;
pub mod observability_stack;
