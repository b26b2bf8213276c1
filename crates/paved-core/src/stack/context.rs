//! What every engine call needs from the Terraform operation in progress: the
//! StopProvider cancellation token, the clock to sleep on, and the jitter seed.
//!
//! A resource builds one [`OperationContext`] per RPC and hands it to every
//! [`Retry`](super::retry::Retry) and [`Waiter`](super::waiter::Waiter) it uses, so
//! that Ctrl-C reaches all of them and tests swap the clock in one place.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::jitter::SplitMix64;
use super::sleep::{default_sleeper, Sleeper};

/// The shared runtime inputs of retries and waiters for one operation.
///
/// Cheap to clone: clones share the token and the sleeper.
#[derive(Debug, Clone)]
pub struct OperationContext {
    sleeper: Arc<dyn Sleeper>,
    cancel: CancellationToken,
    seed: Option<u64>,
}

impl OperationContext {
    /// A context on the real clock (or the process's scaled one, see
    /// [`set_time_scale`](super::sleep::set_time_scale)) that stops when `cancel` is
    /// cancelled (the provider cancels it on StopProvider). Jitter is seeded randomly.
    pub fn new(cancel: CancellationToken) -> Self {
        Self {
            sleeper: default_sleeper(),
            cancel,
            seed: None,
        }
    }

    /// Replaces the clock, typically with a
    /// [`RecordingSleeper`](super::sleep::RecordingSleeper) in tests.
    pub fn with_sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.sleeper = sleeper;
        self
    }

    /// Fixes the jitter seed so the delays chosen are reproducible (tests only; in
    /// production identical seeds would make concurrent clients retry in lockstep,
    /// which is what jitter exists to prevent).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The sleeper and clock of this operation.
    pub fn sleeper(&self) -> &dyn Sleeper {
        self.sleeper.as_ref()
    }

    /// The token that is cancelled when Terraform asks the provider to stop.
    pub fn cancel_token(&self) -> &CancellationToken {
        &self.cancel
    }

    /// Whether Terraform has asked the provider to stop.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// A fresh jitter generator: the fixed seed if one was set, else a random one.
    pub(crate) fn jitter(&self) -> SplitMix64 {
        match self.seed {
            Some(seed) => SplitMix64::new(seed),
            None => SplitMix64::from_entropy(),
        }
    }
}

impl Default for OperationContext {
    /// A context on the real clock that is never cancelled.
    fn default() -> Self {
        Self::new(CancellationToken::new())
    }
}
