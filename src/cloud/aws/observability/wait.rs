//! Waiting for AMP's asynchronous changes: a new workspace becomes `ACTIVE` (rules
//! and the alert manager definition can only be added then), and an alert manager
//! definition leaves `CREATING`/`UPDATING` for `ACTIVE` or a failed status whose
//! reason AMP gives (an Alertmanager configuration it refused). What each status
//! means lives here, once, over any poll, and is tested with scripted sequences.

use std::future::Future;
use std::time::Duration;

use crate::cloud::aws::error::{failed, SdkFailure};
use crate::cloud::aws::wait::until;
use crate::stack::waiter::{Poll, PollBackoff, Waiter};
use crate::stack::{BackendError, StackContext};

/// AMP settles in seconds to a minute: poll from 2s, settling at 15s.
pub(super) const AMP_POLL: PollBackoff = PollBackoff {
    start: Duration::from_secs(2),
    factor: 1.5,
    cap: Duration::from_secs(15),
};

/// What to do when a change ends in a failed status.
const FAILED_HINT: &str = "Fix what AMP names above (for an alert manager definition: the \
                           Alertmanager configuration), then run apply again";

/// One status seen by a poll, and what the caller reads from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Seen<T> {
    /// The status code (`ACTIVE`, `CREATING`, `CREATION_FAILED`...); `None` when the
    /// object is gone.
    pub status: Option<String>,
    /// Why, for a failed status.
    pub reason: Option<String>,
    /// What the caller wants once it is active.
    pub value: T,
}

/// A waiter for `what`, bounded by the stack's deadline and stopped by its cancel.
pub(super) fn waiter(ctx: &StackContext, what: impl Into<String>) -> Waiter {
    crate::cloud::aws::wait::waiter(
        ctx,
        what,
        AMP_POLL,
        "run apply again, it resumes where it stopped",
    )
}

/// What a status means: `ACTIVE` is done, `*_FAILED` fails with AMP's reason, a
/// vanished object fails, anything else is pending.
fn judge<T>(seen: Seen<T>) -> Poll<T> {
    match seen.status.as_deref() {
        Some("ACTIVE") => Poll::Done(seen.value),
        Some(s) if s.ends_with("FAILED") => Poll::Failed(format!(
            "status {s}: {}",
            seen.reason.as_deref().unwrap_or("AMP gave no reason")
        )),
        Some(s) => Poll::Pending {
            status: s.to_owned(),
        },
        None => Poll::Failed("it no longer exists (deleted outside paved?)".to_owned()),
    }
}

/// Polls until the object is `ACTIVE` and returns what the poll read from it.
pub(super) async fn until_active<T, F, Fut>(
    waiter: &Waiter,
    during: &str,
    poll: F,
) -> Result<T, BackendError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Seen<T>, SdkFailure>>,
{
    until(
        waiter,
        during,
        FAILED_HINT,
        poll,
        judge,
        failed("AMP", during),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::{OperationContext, RecordingSleeper};
    use std::sync::{Arc, Mutex};
    use tokio_util::sync::CancellationToken;

    fn scripted(statuses: &[Option<&str>]) -> Arc<Mutex<Vec<Seen<u32>>>> {
        Arc::new(Mutex::new(
            statuses
                .iter()
                .rev()
                .map(|s| Seen {
                    status: s.map(str::to_owned),
                    reason: Some("bad receiver".into()),
                    value: 7,
                })
                .collect(),
        ))
    }

    fn test_waiter() -> Waiter {
        let sleeper = Arc::new(RecordingSleeper::default());
        Waiter::new(
            OperationContext::new(CancellationToken::new()).with_sleeper(sleeper),
            "the alert manager definition",
            Duration::from_secs(600),
        )
        .with_interval(AMP_POLL)
    }

    async fn run(statuses: &[Option<&str>]) -> Result<u32, BackendError> {
        let script = scripted(statuses);
        until_active(&test_waiter(), "waiting", || {
            let script = script.clone();
            async move { Ok(script.lock().unwrap().pop().unwrap()) }
        })
        .await
    }

    #[tokio::test]
    async fn active_after_creating() {
        assert_eq!(
            run(&[Some("CREATING"), Some("UPDATING"), Some("ACTIVE")]).await,
            Ok(7)
        );
    }

    #[tokio::test]
    async fn a_failed_status_names_amps_reason() {
        let err = run(&[Some("CREATING"), Some("CREATION_FAILED")])
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("CREATION_FAILED"), "{err}");
        assert!(err.contains("bad receiver"), "{err}");
        let err = run(&[None]).await.unwrap_err().to_string();
        assert!(err.contains("no longer exists"), "{err}");
    }
}
