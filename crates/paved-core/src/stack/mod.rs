//! The stack core: what every stack resource and every adapter shares, written once.
//!
//! ```text
//! resources (paved_ha_cluster, paved_managed_database, ...)
//!     │  decide *what* to create, in which order; plan; render state
//!     ▼
//! ports (traits in the product's words)  ──implemented by──  cloud adapters
//!     │                                                        │
//!     ▼                                                        ▼
//! stack core (this module): context, steps, errors, tags, retries, waiters, timeouts
//! ```
//!
//! The core imports no resource, no port and no adapter, and knows no SDK. A resource
//! or an adapter never writes its own retry loop, poll loop, tag convention or
//! wait-failure conversion: throttling, StopProvider and crash-safe resume then behave
//! the same everywhere.
//!
//! # Pieces
//!
//! - [`step`]: [`StackContext`] (stack, tags, cancellation, deadline, checkpoint),
//!   [`Step`] and [`ComponentRecord`] (partial state), teardown reports;
//! - [`error`]: [`BackendError`] with the one conversion from a failed wait, and
//!   [`CloudError`];
//! - [`inventory`]: the components of a stack and its zone-loss report;
//! - [`tags`]: the `paved:*` tags and the one builder of a component's tags;
//! - [`context`], [`retry`], [`waiter`], [`sleep`]: [`OperationContext`], retries with
//!   backoff and jitter, waiters, the clock (tests swap in [`RecordingSleeper`]);
//! - [`timeouts`]: the `timeouts` block and duration strings; [`knowable`]:
//!   [`Knowable`] values (known now or only after apply);
//! - the resource outline shared by every stack resource: [`reader`] (the typed
//!   reading of a configuration), [`schema`] and [`validate`] (shared attributes and
//!   checks), [`plan`] (deletion protection, replacements), [`cost`] (the monthly cost
//!   estimate and budget), [`state`] (editing state
//!   values), [`resource`] (stack context, reporting, teardown responses).

pub mod context;
pub mod cost;
pub mod effective;
pub mod error;
pub mod inventory;
pub mod jitter;
pub mod knowable;
pub mod outline;
pub mod plan;
pub mod reader;
pub mod resource;
pub mod retry;
pub mod schema;
#[cfg(any(test, feature = "testing"))]
pub mod schema_testing;
pub mod sleep;
pub mod state;
pub mod step;
pub mod tags;
pub mod timeouts;
pub mod validate;
pub mod waiter;

pub use context::OperationContext;
pub use error::{BackendError, CloudError};
pub use knowable::Knowable;
pub use retry::{classify_cloud_error, Classify, Retry, RetryError, RetryPolicy, Retryability};
pub use sleep::{set_time_scale, RecordingSleeper, ScaledSleeper, Sleeper, TokioSleeper};
pub use step::{ComponentRecord, LeftBehind, StackContext, Step, TeardownReport};
pub use waiter::{Poll, PollBackoff, WaitError, Waiter};

#[cfg(test)]
mod testing;
