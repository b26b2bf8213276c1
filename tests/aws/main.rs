//! The AWS backends against moto, without Terraform: the network adapter, and the
//! `paved_ha_cluster` and `paved_managed_database` backends behind the counting proxy.
//! One binary, one module per former test file (`network`, `cluster`, `database`), and
//! `cluster_extras` (add-ons, team access, upgrades through the proxy's EKS stand-ins),
//! and `observability` (the cloud side of `paved_observability_stack`, with the proxy's
//! AMP stand-in).
//!
//! The backends build their SDK clients with the provider's `AwsClients`, whose loader
//! reads credentials from the process environment. The environment is set once, by
//! the constructor below, before `main` starts the test threads: no test changes it
//! while others run.

#[path = "../support/mod.rs"]
mod support;

mod cluster;
mod cluster_extras;
mod database;
mod kube;
mod network;
mod observability;

/// Sets [`support::aws::PROCESS_ENV`] before `main`, while the process has one thread
/// (an ELF constructor, as the `ctor` crate makes one).
#[used]
#[link_section = ".init_array"]
static SET_PROCESS_ENV: extern "C" fn() = {
    extern "C" fn set_process_env() {
        support::aws::set_process_env();
    }
    set_process_env
};
