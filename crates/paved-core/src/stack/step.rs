//! The contract between a stack resource and the adapters that build it, in the
//! product's terms: what every call gets ([`StackContext`]), what it leaves behind
//! ([`Step`], [`ComponentRecord`]) and what teardown reports ([`TeardownReport`]).
//!
//! Contract every adapter call keeps:
//! - **Idempotent and adopting.** Every component carries the stack's tags
//!   ([`STACK_TAG`] with the stack name, [`COMPONENT_TAG`] with its inventory key).
//!   An `ensure_*` call first looks for components with those tags and adopts them,
//!   creates only what is missing, changes in place what differs, and removes surplus
//!   components of its own area. Calling it again with the same request changes
//!   nothing, so an apply cut off by a crash, Ctrl-C or a timeout resumes where it
//!   stopped, without duplicates or orphans.
//! - **Honest on failure.** Each call returns a [`Step`]: the components that exist
//!   after the call (created, adopted or found) even when it failed, and the result.
//!   The resource saves them as partial state, so Terraform forgets nothing.
//! - **Prompt to stop.** Calls watch [`StackContext::cancel`] and
//!   [`StackContext::deadline`] between cloud calls (see [`StackContext::checkpoint`])
//!   and return [`BackendError::Cancelled`] or [`BackendError::TimedOut`], keeping
//!   what exists.
//! - **Retries inside.** Throttling and 5xx answers are retried with backoff and
//!   jitter ([`super::retry`]); [`BackendError::Retryable`] reaches the caller only
//!   when retries ran out.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::error::BackendError;
#[cfg(doc)]
use super::tags::{COMPONENT_TAG, STACK_TAG};

/// How long a wait may last when the operation has no deadline (see
/// [`StackContext::wait_limit`]): the longest of the fallbacks the AWS adapters had
/// (RDS instances), so no wait is cut shorter. A resource's operations always carry
/// a deadline; this bounds waits under contexts built without one (tests, tools).
const WAIT_WITHOUT_DEADLINE: Duration = Duration::from_secs(90 * 60);

/// What every backend call gets: which stack, its tags, and when to stop.
#[derive(Debug, Clone)]
pub struct StackContext {
    /// The stack's name (the resource's `name`); the value of [`STACK_TAG`].
    pub stack: String,
    /// The resource type that owns the stack's components (`paved_ha_cluster`); the
    /// value of the `paved:resource` tag.
    pub resource_type: &'static str,
    /// Tags for every component: the user's `tags`, the provider's default tags and
    /// [`STACK_TAG`]. The backend adds [`COMPONENT_TAG`] per component.
    pub tags: BTreeMap<String, String>,
    /// Fires when Terraform asks the provider to stop.
    pub cancel: CancellationToken,
    /// When the operation's timeout (the `timeouts` block) runs out.
    pub deadline: Option<Instant>,
}

impl StackContext {
    /// The full tags of component `key`: the user's tags and paved's identity tags
    /// ([`super::tags::component_tags`]).
    pub fn component_tags(&self, key: &str) -> BTreeMap<String, String> {
        super::tags::component_tags(&self.tags, &self.stack, self.resource_type, key)
    }

    /// The check between cloud calls: [`BackendError::Cancelled`] once Terraform
    /// asked to stop, [`BackendError::TimedOut`] once the deadline passed, naming
    /// what was `during`.
    pub fn checkpoint(&self, during: &str) -> Result<(), BackendError> {
        if self.cancel.is_cancelled() {
            return Err(BackendError::Cancelled {
                during: during.to_owned(),
            });
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(BackendError::TimedOut {
                during: during.to_owned(),
                limit: "the operation's timeout".to_owned(),
            });
        }
        Ok(())
    }

    /// How long a wait may last: the time left until [`Self::deadline`] (zero once it
    /// passed), or 90 minutes when the operation has no deadline.
    pub fn wait_limit(&self) -> Duration {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
            .unwrap_or(WAIT_WITHOUT_DEADLINE)
    }
}

/// One component that exists in the cloud: a row of the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentRecord {
    /// Its inventory key (`nat_gateway.1`).
    pub key: String,
    /// What it is (`nat_gateway`; see the adapter's inventory kinds).
    pub kind: String,
    /// Its zone; `None` for regional components.
    pub zone: Option<String>,
    /// Its id in the cloud.
    pub id: String,
}

/// What a backend call leaves behind: the components that exist, even on failure,
/// and the outcome.
#[derive(Debug)]
pub struct Step<T> {
    /// Components that exist after the call (created, adopted or found).
    pub components: Vec<ComponentRecord>,
    /// The call's result, or why it failed.
    pub result: Result<T, BackendError>,
}

impl<T> Step<T> {
    /// A call that succeeded.
    pub fn done(value: T, components: Vec<ComponentRecord>) -> Self {
        Step {
            components,
            result: Ok(value),
        }
    }

    /// A call that failed after making (or finding) `components`.
    pub fn failed(error: BackendError, components: Vec<ComponentRecord>) -> Self {
        Step {
            components,
            result: Err(error),
        }
    }
}

/// A component teardown could not remove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftBehind {
    /// The component.
    pub component: ComponentRecord,
    /// Why, and what the user can do.
    pub reason: String,
}

/// What teardown did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TeardownReport {
    /// Components deleted, in order.
    pub deleted: Vec<ComponentRecord>,
    /// Components that remain, with the reason.
    pub left_behind: Vec<LeftBehind>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(deadline: Option<Instant>) -> StackContext {
        StackContext {
            stack: "shop".into(),
            resource_type: "paved_ha_cluster",
            tags: BTreeMap::new(),
            cancel: CancellationToken::new(),
            deadline,
        }
    }

    #[test]
    fn waits_last_until_the_deadline_or_the_fallback() {
        assert_eq!(context(None).wait_limit(), Duration::from_secs(90 * 60));
        let left = context(Some(Instant::now() + Duration::from_secs(600))).wait_limit();
        assert!(left <= Duration::from_secs(600), "{left:?}");
        assert!(left > Duration::from_secs(590), "{left:?}");
        let passed = Instant::now()
            .checked_sub(Duration::from_secs(5))
            .unwrap_or_else(Instant::now);
        assert_eq!(context(Some(passed)).wait_limit(), Duration::ZERO);
    }
}
