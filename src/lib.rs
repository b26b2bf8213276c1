//! paved: the paved road to production Kubernetes, as a Terraform/OpenTofu provider.
//!
//! Layers, top to bottom; an import only ever points down (`scripts/check-layers.py`
//! holds the code to this, and `scripts/test.sh` runs it):
//! - [`cli`], [`docs`], [`provider`]: the wiring: the binary, the generated docs, the
//!   provider block and the choice of an adapter per port;
//! - [`plugin`]: transport: handshake, AutoMTLS, the plugin library's gRPC services;
//! - [`protocol`]: tfplugin6 RPCs turned into calls on the framework's traits;
//! - [`resources`], [`data_sources`]: one folder per resource; none imports another;
//! - [`cloud`]: the adapters (AWS, GCP), implementing the ports; never a resource;
//! - [`ports`]: the traits adapters implement and the neutral types they speak;
//! - [`stack`]: the stack core: operation context, steps and partial state, the
//!   error type, tags, retries, waiters, timeouts, the resource outline;
//! - [`profiles`] (the defaults table) and [`validate`] (checks made before any
//!   cloud call);
//! - [`framework`], [`schema`], [`diag`] and the `paved_value` crate: the
//!   provider-author's API, schemas, diagnostics and values; they know no cloud;
//! - [`logging`], [`phases`], [`proto`]: log lines Terraform reads, benchmarks' timed
//!   marks, the generated protobuf code.

pub mod cli;
pub use paved_core::{diag, framework, profiles, schema, stack, validate};
pub mod cloud;
pub mod data_sources;
pub mod delivery;
pub mod diagram;
pub mod docs;
pub mod logging;
pub mod phases;
pub mod plugin;
pub mod ports;
pub mod proto;
pub mod protocol;
pub mod provider;
pub mod resources;
