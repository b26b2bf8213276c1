//! Waiting for an RDS instance to become available or to be gone, over any status
//! poll: the poll reports the status it saw (or that the instance is gone), and the
//! shared AWS wait ([`crate::cloud::aws::wait`]) repeats it with a growing interval,
//! retries a throttled poll, stops on cancel and gives up at the deadline. The
//! decision of what each status means lives here, once, and is tested with scripted
//! sequences (moto is instant).

use std::future::Future;
use std::time::Duration;

use super::backend_error;
use crate::cloud::aws::error::SdkFailure;
use crate::cloud::aws::wait::{until, waiter};
use crate::stack::waiter::{Poll, PollBackoff, Waiter};
use crate::stack::{BackendError, StackContext};

/// What one poll saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seen<T> {
    /// The instance exists with this status; `T` is what the caller reads from it.
    Status(String, T),
    /// The instance does not exist.
    Gone,
}

/// Statuses from which an instance does not become available by itself.
const FAILED_STATUSES: &[&str] = &[
    "failed",
    "incompatible-parameters",
    "incompatible-network",
    "incompatible-option-group",
    "incompatible-restore",
    "incompatible-credentials",
    "inaccessible-encryption-credentials",
    "inaccessible-encryption-credentials-recoverable",
    "restore-error",
    "storage-full",
];

/// How the pause between instance polls grows: RDS takes minutes, so start at 10s
/// and settle at 30s, the AWS SDKs' own waiter delay for RDS. A longer pause would
/// leave the instance waiting on its poll, half a pause on average, at every step
/// of a chain (the primary, then its replica).
pub(crate) const INSTANCE_POLL: PollBackoff = PollBackoff {
    start: Duration::from_secs(10),
    factor: 1.5,
    cap: Duration::from_secs(30),
};

/// A waiter for `what` bounded by the stack's deadline and stopped by its cancel.
pub(crate) fn instance_waiter(ctx: &StackContext, what: impl Into<String>) -> Waiter {
    waiter(
        ctx,
        what,
        INSTANCE_POLL,
        "run apply again, it resumes where it stopped; raise the timeouts if RDS is just slow",
    )
}

/// What to do when an instance reaches a failed status (see
/// [`BackendError::from_wait`]).
const FAILED_HINT: &str = "Look at the instance's events in the RDS console (a parameter, network \
                           or key problem), fix it, then run apply again";

/// What a status means for the wait: done, pending or failed.
fn available<T>(seen: Seen<T>) -> Poll<T> {
    match seen {
        Seen::Status(status, value) if status == "available" => Poll::Done(value),
        Seen::Status(status, _) if FAILED_STATUSES.contains(&status.as_str()) => {
            Poll::Failed(format!("status {status}"))
        }
        Seen::Status(status, _) => Poll::Pending { status },
        Seen::Gone => Poll::Failed("it no longer exists (deleted outside paved?)".into()),
    }
}

fn gone<T>(seen: Seen<T>) -> Poll<()> {
    match seen {
        Seen::Gone => Poll::Done(()),
        Seen::Status(status, _) => Poll::Pending { status },
    }
}

/// Waits until the polled instance is `available` and returns what the poll read
/// from it. A failed status ends the wait with a permanent error; an instance that
/// disappears does too.
pub(crate) async fn until_available<T, F, Fut>(
    waiter: &Waiter,
    during: &str,
    poll: F,
) -> Result<T, BackendError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Seen<T>, SdkFailure>>,
{
    until(waiter, during, FAILED_HINT, poll, available, |last| {
        backend_error(during, last)
    })
    .await
}

/// Waits until the polled instance is gone.
pub(crate) async fn until_gone<T, F, Fut>(
    waiter: &Waiter,
    during: &str,
    poll: F,
) -> Result<(), BackendError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Seen<T>, SdkFailure>>,
{
    until(waiter, during, FAILED_HINT, poll, gone, |last| {
        backend_error(during, last)
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::stack::sleep::RecordingSleeper;
    use crate::stack::OperationContext;

    type Answer = Result<Seen<&'static str>, SdkFailure>;

    fn status(s: &str) -> Answer {
        Ok(Seen::Status(s.to_owned(), "instance"))
    }

    fn throttled() -> Answer {
        Err(SdkFailure {
            code: Some("Throttling".to_owned()),
            status: Some(400),
            io: false,
            message: "Rate exceeded".to_owned(),
        })
    }

    fn denied() -> Answer {
        Err(SdkFailure {
            code: Some("AccessDenied".to_owned()),
            status: Some(403),
            io: false,
            message: "not allowed".to_owned(),
        })
    }

    /// A poll giving `answers` in order, then repeating the last; counts polls.
    fn scripted(
        answers: Vec<Answer>,
    ) -> (Arc<Mutex<u32>>, impl FnMut() -> std::future::Ready<Answer>) {
        let polls = Arc::new(Mutex::new(0));
        let counter = polls.clone();
        let answers = Arc::new(Mutex::new(VecDeque::from(answers)));
        let poll = move || {
            *counter.lock().unwrap() += 1;
            let mut answers = answers.lock().unwrap();
            let answer = if answers.len() > 1 {
                answers.pop_front()
            } else {
                answers.front().cloned()
            };
            std::future::ready(answer.unwrap_or(Ok(Seen::Gone)))
        };
        (polls, poll)
    }

    fn waiter(sleeper: &RecordingSleeper, cancel: CancellationToken, timeout: Duration) -> Waiter {
        let context = OperationContext::new(cancel)
            .with_sleeper(Arc::new(sleeper.clone()))
            .with_seed(5);
        Waiter::new(context, "RDS instance orders", timeout).with_interval(INSTANCE_POLL)
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[tokio::test]
    async fn available_after_creating_and_backing_up_with_growing_pauses() {
        let sleeper = RecordingSleeper::new();
        let (polls, poll) = scripted(vec![
            status("creating"),
            status("creating"),
            status("backing-up"),
            status("available"),
        ]);
        let w = waiter(&sleeper, CancellationToken::new(), secs(3600));
        let got = until_available(&w, "creating the instance", poll).await;
        assert_eq!(got, Ok("instance"));
        assert_eq!(*polls.lock().unwrap(), 4);
        assert_eq!(
            sleeper.delays(),
            vec![secs(10), secs(15), secs(22) + Duration::from_millis(500)]
        );
    }

    #[tokio::test]
    async fn failed_statuses_are_permanent() {
        for bad in ["failed", "incompatible-parameters"] {
            let sleeper = RecordingSleeper::new();
            let (_, poll) = scripted(vec![status("creating"), status(bad)]);
            let w = waiter(&sleeper, CancellationToken::new(), secs(3600));
            let err = until_available(&w, "creating the instance", poll)
                .await
                .expect_err("a failed status ends the wait");
            match err {
                BackendError::Permanent { message, .. } => {
                    assert!(message.contains(bad), "{message}")
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn throttled_polls_are_retried() {
        let sleeper = RecordingSleeper::new();
        let (polls, poll) = scripted(vec![
            status("modifying"),
            throttled(),
            throttled(),
            status("available"),
        ]);
        let w = waiter(&sleeper, CancellationToken::new(), secs(3600));
        assert_eq!(until_available(&w, "modifying", poll).await, Ok("instance"));
        assert_eq!(*polls.lock().unwrap(), 4);
    }

    #[tokio::test]
    async fn a_permanent_poll_error_ends_the_wait() {
        let sleeper = RecordingSleeper::new();
        let (polls, poll) = scripted(vec![status("creating"), denied()]);
        let w = waiter(&sleeper, CancellationToken::new(), secs(3600));
        let err = until_available(&w, "creating", poll)
            .await
            .expect_err("denied");
        assert!(matches!(err, BackendError::Permanent { .. }), "{err:?}");
        assert_eq!(*polls.lock().unwrap(), 2);
    }

    #[tokio::test]
    async fn cancel_stops_the_wait() {
        let sleeper = RecordingSleeper::new();
        let cancel = CancellationToken::new();
        cancel.cancel();
        let (_, poll) = scripted(vec![status("creating")]);
        let w = waiter(&sleeper, cancel, secs(3600));
        let err = until_available(&w, "creating the instance", poll)
            .await
            .expect_err("cancelled");
        assert!(matches!(err, BackendError::Cancelled { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn the_deadline_times_out() {
        let sleeper = RecordingSleeper::new();
        let (polls, poll) = scripted(vec![status("creating")]);
        let w = waiter(&sleeper, CancellationToken::new(), secs(300));
        let err = until_available(&w, "creating the instance", poll)
            .await
            .expect_err("timed out");
        assert!(matches!(err, BackendError::TimedOut { .. }), "{err:?}");
        assert_eq!(sleeper.delays().iter().sum::<Duration>(), secs(300));
        assert!(*polls.lock().unwrap() > 2);
    }

    #[tokio::test]
    async fn gone_after_deleting() {
        let sleeper = RecordingSleeper::new();
        let (polls, poll) = scripted(vec![status("deleting"), status("deleting"), Ok(Seen::Gone)]);
        let w = waiter(&sleeper, CancellationToken::new(), secs(3600));
        assert_eq!(until_gone(&w, "deleting", poll).await, Ok(()));
        assert_eq!(*polls.lock().unwrap(), 3);
        assert_eq!(sleeper.delays(), vec![secs(10), secs(15)]);
    }

    #[tokio::test]
    async fn an_instance_that_vanishes_while_awaited_is_an_error() {
        let sleeper = RecordingSleeper::new();
        let (_, poll) = scripted(vec![status("creating"), Ok(Seen::Gone)]);
        let w = waiter(&sleeper, CancellationToken::new(), secs(3600));
        let err = until_available(&w, "creating", poll)
            .await
            .expect_err("gone");
        assert!(matches!(err, BackendError::Permanent { .. }), "{err:?}");
    }
}
