//! One test binary for the test bed's stand-ins judged by real clients (kubectl, gcloud-shaped calls) and the proxy's behaviours: one module per file beside this one. One binary
//! instead of 8 keeps a cold build's target directory smaller (each test binary
//! links the crate and its dependencies again).
//!
//! Run one module with `cargo test -p paved-testbed --test standins -- MODULE::`.

mod access_entries;
mod eks_upgrades;
mod gcp_compute_gke;
mod gcp_sql_kms;
mod kube_fake;
mod kube_statefulsets;
mod proxy;
mod replay_provisioning;
