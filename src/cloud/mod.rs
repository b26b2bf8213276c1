//! Cloud adapters: each implements the ports (`crate::ports`) for one cloud, with the
//! stack core's retries, waiters and tags, and imports nothing of a resource.
//! Clients are built lazily: configuring the provider makes no call and needs no
//! credentials.

pub mod aws;
pub mod gcp;
pub mod kube;
mod pricing;
