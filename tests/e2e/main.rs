//! The end-to-end tests: real Terraform (1.15.5, and 1.0.3 where it matters) drives
//! the provider binary against moto, most through the counting, fault-injecting proxy
//! (crates/paved-testbed); plus the test bed's self-test and the docs check. One
//! binary, one module per former test file:
//!
//! - `harness`: the bed itself (Terraform with the Go null provider, moto);
//! - `zones`, `validation`, `logging`, `debug_reattach`: the `paved_zones` data
//!   source, input refused before any AWS call, provider logs, debug mode;
//! - `ha_cluster`, `managed_database`: the two resources' lifecycles;
//! - `docs_fresh`: docs/ is what the schemas render.
//!
//! Run one module with `cargo test --test e2e -- zones::`.

#[path = "../support/mod.rs"]
mod support;

mod cost;
mod debug_reattach;
mod docs_fresh;
mod examples;
mod gcp_cluster;
mod gcp_database;
mod ha_cluster;
mod harness;
mod kubernetes;
mod logging;
mod managed_database;
mod network;
mod observability;
mod provisioning;
mod validation;
mod zones;
