//! Waiting on AWS objects, shared by the adapters: a poll reads what the cloud shows,
//! a judge (the adapter's: what each status means) says done, failed or pending, and
//! the engine's [`Waiter`] repeats the poll with a growing interval, retries a poll
//! that failed in a way that may pass (throttling, 5xx, transport), stops on cancel
//! and gives up at the deadline. How a wait that ends badly becomes a [`BackendError`]
//! is decided here, once.

use std::future::Future;

use super::error::SdkFailure;
use crate::stack::waiter::{Poll, PollBackoff, Waiter};
use crate::stack::{BackendError, OperationContext, StackContext};

/// A waiter for `what`, bounded by the stack's deadline and stopped by its cancel,
/// polling at `interval`; `hint` is what a timeout's message advises.
pub(crate) fn waiter(
    ctx: &StackContext,
    what: impl Into<String>,
    interval: PollBackoff,
    hint: &str,
) -> Waiter {
    Waiter::new(
        OperationContext::new(ctx.cancel.clone()),
        what,
        ctx.wait_limit(),
    )
    .with_interval(interval)
    .with_hint(hint)
}

/// Polls with `waiter` until `judge` says done or failed, doing `during`. A failed
/// status ends the wait with `hint`; a poll that kept failing ends it with its last
/// failure as `poll_error` phrases it.
pub(crate) async fn until<S, T, F, Fut>(
    waiter: &Waiter,
    during: &str,
    hint: &str,
    mut poll: F,
    judge: impl Fn(S) -> Poll<T>,
    poll_error: impl FnOnce(SdkFailure) -> BackendError,
) -> Result<T, BackendError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<S, SdkFailure>>,
{
    let classify = |f: &SdkFailure| f.retryability();
    let judge = &judge;
    waiter
        .wait(&classify, || {
            let seen = poll();
            async move { Ok(judge(seen.await?)) }
        })
        .await
        .map_err(|e| BackendError::from_wait(e, during, hint, poll_error))
}
