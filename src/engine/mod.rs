//! The shared engine every resource uses: retries with backoff and jitter, waiters,
//! `timeouts` blocks, and adoption of components by tags.
//!
//! # Layering
//!
//! ```text
//! resources (paved_ha_cluster, paved_managed_database, ...)
//!     │  decide *what* to create, in which order
//!     ▼
//! engine (this module)           ◄── cloud-neutral mechanisms, written once
//!     │  retry, wait, tag, adopt, time out, cancel
//!     ▼
//! cloud adapters (AWS now; GCP, Kubernetes later)
//!        make the calls; turn SDK errors into (code, status, io) for classification
//! ```
//!
//! Resources call the engine and the adapters; adapters may use the engine's pure
//! helpers (classification, tag constants); the engine depends on neither and knows
//! no SDK. A resource never writes its own retry loop, poll loop or tag convention:
//! throttling, StopProvider and crash-safe resume then behave the same everywhere.
//!
//! # Pieces
//!
//! - [`context`]: [`OperationContext`], what one Terraform operation gives every
//!   retry and waiter: the StopProvider token, the clock, the jitter seed.
//! - [`retry`]: [`Retry`] with a [`RetryPolicy`] and a [`Classify`]; the SDK-neutral
//!   [`classify_cloud_error`].
//! - [`waiter`]: [`Waiter`] polls until a target state or the timeout.
//! - [`sleep`]: the [`Sleeper`] trait both sleep on; tests use [`RecordingSleeper`] so
//!   they run instantly and can assert the delays chosen.
//! - [`tags`]: the `paved:*` tags, [`Adoption`] planning, GCP label mapping.
//! - [`timeouts`]: parsing the `timeouts` block against a resource's defaults.

pub mod context;
pub mod retry;
pub mod sleep;
pub mod tags;
pub mod timeouts;
pub mod waiter;

pub use context::OperationContext;
pub use retry::{classify_cloud_error, Classify, Retry, RetryError, RetryPolicy, Retryability};
pub use sleep::{RecordingSleeper, Sleeper, TokioSleeper};
pub use tags::{Adoption, FoundComponent, StackTags};
pub use timeouts::{Operation, Timeouts};
pub use waiter::{Poll, PollBackoff, WaitError, Waiter};

#[cfg(test)]
mod testing;
