//! paved's bottom layers, in their own crate so that the compiler holds the rule
//! "shared code imports nothing above it": this crate depends on no resource, port,
//! cloud adapter or SDK, so no file here can name one.
//!
//! - [`framework`], [`schema`], [`diag`]: what a resource or data source implements
//!   and returns, with no protocol and no cloud in sight;
//! - [`profiles`] and [`validate`]: the profiles' defaults and the shared checks;
//! - [`stack`]: the stack core every stack resource and cloud adapter shares.
//!
//! The provider crate re-exports these modules at its root (`paved::stack`, ...).

pub mod diag;
pub mod framework;
pub mod profiles;
pub mod schema;
pub mod stack;
pub mod validate;
