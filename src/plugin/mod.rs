//! Plugin transport: how Terraform starts paved and talks to it.
//!
//! The handshake (environment in, one line out), AutoMTLS on a unix socket, and the
//! gRPC services of the plugin library (health, controller, broker, stdio) around the
//! provider service. Nothing here knows about resources: the provider service comes
//! from [`crate::protocol`].

pub mod conn;
pub mod go_plugin;
pub mod handshake;
pub mod server;
pub mod timed;
pub mod tls;
