//! paved: the paved road to production Kubernetes, as a Terraform/OpenTofu provider.
//!
//! Layers, each depending only on those below it:
//! - [`plugin`]: transport: handshake, AutoMTLS, the plugin library's gRPC services;
//! - [`protocol`]: tfplugin6 RPCs turned into calls on the framework's traits;
//! - [`framework`], [`schema`], [`diag`] and the `paved_value` crate: the
//!   provider-author's API, schemas, diagnostics and values;
//! - [`provider`], [`data_sources`]: what paved offers, with [`profiles`] (the
//!   defaults table) and [`validate`] (checks made before any cloud call);
//! - [`cloud`]: AWS and GCP adapters behind traits.

pub mod cli;
pub mod cloud;
pub mod data_sources;
pub mod diag;
pub mod docs;
pub mod engine;
pub mod framework;
pub mod logging;
pub mod plugin;
pub mod profiles;
pub mod proto;
pub mod protocol;
pub mod provider;
pub mod resources;
pub mod schema;
pub mod validate;
