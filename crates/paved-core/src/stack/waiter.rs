//! Waiting for a cloud operation to finish: poll until a target state, with a growing
//! poll interval, a timeout from the resource's `timeouts` block, and cancellation.
//!
//! A resource describes one check as a poll closure returning [`Poll`]; the
//! [`Waiter`] repeats it. Each poll runs through [`Retry`], so a throttled or failed
//! describe call is retried (within the wait's time budget) instead of failing an
//! hour-long create, while a permanent error (access denied, not found) ends the wait
//! at once. On timeout the error names what was awaited, the last status seen and how
//! long paved waited, and says what to do.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use super::context::OperationContext;
use super::retry::{Classify, Jitter, Retry, RetryError, RetryPolicy};
use super::timeouts::format_duration;

/// The answer of one poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll<T> {
    /// The target state is reached; the wait returns this value.
    Done(T),
    /// Not there yet; `status` is what the cloud reports (e.g. `CREATING`) and is
    /// quoted in the timeout error.
    Pending {
        /// The cloud's status word or a short description.
        status: String,
    },
    /// The operation failed for good (e.g. the cluster went to `FAILED`); the reason
    /// is shown to the user.
    Failed(String),
}

/// How the pause between polls grows: from `start`, multiplied by `factor` after
/// each poll, never above `cap`.
///
/// Growing intervals keep long waits (a 20-minute cluster create) from spending the
/// account's API rate on describe calls, while short operations still finish fast.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollBackoff {
    /// The first pause.
    pub start: Duration,
    /// Growth per poll; values below 1 (or not finite) are treated as 1.
    pub factor: f64,
    /// The longest pause.
    pub cap: Duration,
}

impl PollBackoff {
    /// A general default: 5s, growing by half each time, up to 30s.
    pub const DEFAULT: PollBackoff = PollBackoff {
        start: Duration::from_secs(5),
        factor: 1.5,
        cap: Duration::from_secs(30),
    };

    /// The first pause (`start`, capped).
    pub fn first(&self) -> Duration {
        self.start.min(self.cap)
    }

    /// The pause after `current`.
    pub fn next(&self, current: Duration) -> Duration {
        let factor = if self.factor.is_finite() && self.factor >= 1.0 {
            self.factor
        } else {
            1.0
        };
        Duration::try_from_secs_f64(current.as_secs_f64() * factor)
            .unwrap_or(self.cap)
            .min(self.cap)
    }
}

impl Default for PollBackoff {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Why a wait ended without reaching the target state.
#[derive(Debug, thiserror::Error)]
pub enum WaitError<E> {
    /// The timeout passed first.
    TimedOut {
        /// What was awaited, e.g. "EKS cluster shop".
        what: String,
        /// The last status the cloud reported, if any poll succeeded.
        last_status: Option<String>,
        /// How long paved waited.
        waited: Duration,
        /// What the user can do, e.g. "raise timeouts.create or check the AWS console".
        hint: String,
        /// The last poll error, when the final polls failed with retryable errors.
        #[source]
        last_error: Option<E>,
    },
    /// The poll reported a terminal failure.
    Failed {
        /// What was awaited.
        what: String,
        /// The failure as reported by the poll.
        reason: String,
    },
    /// Checking the state failed with a permanent error, or kept failing.
    PollFailed {
        /// What was awaited.
        what: String,
        /// The retry outcome, holding the poll's error.
        #[source]
        source: RetryError<E>,
    },
    /// Terraform asked the provider to stop.
    Cancelled {
        /// What was awaited.
        what: String,
        /// How long paved had waited.
        waited: Duration,
        /// The last status seen, if any.
        last_status: Option<String>,
    },
}

// Written by hand: the messages depend on optional parts, and thiserror cannot infer
// the `E: Display` bound through a helper function.
impl<E: fmt::Display> fmt::Display for WaitError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitError::TimedOut {
                what,
                last_status,
                waited,
                hint,
                last_error,
            } => {
                let waited = format_duration(*waited);
                match last_status {
                    Some(status) => write!(f, "{what} still {status} after {waited}")?,
                    None => write!(f, "{what} not ready after {waited} (no status reported)")?,
                }
                if let Some(error) = last_error {
                    write!(f, " (last error: {error})")?;
                }
                write!(f, "; {hint}")
            }
            WaitError::Failed { what, reason } => write!(f, "{what} failed: {reason}"),
            WaitError::PollFailed { source, .. } => write!(f, "{source}"),
            WaitError::Cancelled {
                what,
                waited,
                last_status,
            } => {
                write!(
                    f,
                    "stopped waiting for {what} after {} because Terraform asked the \
                     provider to stop",
                    format_duration(*waited)
                )?;
                if let Some(status) = last_status {
                    write!(f, " (last status: {status})")?;
                }
                f.write_str("; what was created is kept, run apply again to resume")
            }
        }
    }
}

impl<E> WaitError<E> {
    /// Whether the wait ended because Terraform asked the provider to stop (including
    /// while a poll was being retried).
    pub fn is_cancelled(&self) -> bool {
        match self {
            WaitError::Cancelled { .. } => true,
            WaitError::PollFailed { source, .. } => source.is_cancelled(),
            _ => false,
        }
    }

    /// Whether the wait ran out of time.
    pub fn is_timeout(&self) -> bool {
        matches!(self, WaitError::TimedOut { .. })
    }
}

/// Waits for one thing to reach its target state. Build one per wait:
///
/// ```
/// # use std::time::Duration;
/// # use paved_core::stack::{OperationContext, waiter::{Waiter, PollBackoff}};
/// let waiter = Waiter::new(OperationContext::default(), "EKS cluster shop", Duration::from_secs(45 * 60))
///     .with_interval(PollBackoff { start: Duration::from_secs(10), factor: 1.5, cap: Duration::from_secs(60) })
///     .with_hint("raise timeouts.create or check the AWS console");
/// # let _ = waiter;
/// ```
#[derive(Debug, Clone)]
pub struct Waiter {
    context: OperationContext,
    what: String,
    timeout: Duration,
    hint: String,
    interval: PollBackoff,
    poll_retry: RetryPolicy,
}

impl Waiter {
    /// Retries for a single failing poll: 5 attempts, 1s doubling to 15s, jittered.
    /// The wait's remaining time always bounds them too.
    pub const POLL_RETRY: RetryPolicy = RetryPolicy {
        max_attempts: 5,
        base_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(15),
        jitter: Jitter::Full,
        deadline: None,
    };

    /// A waiter for `what` (a phrase naming the object, e.g. "EKS cluster shop", used
    /// in errors and logs) that gives up after `timeout`.
    pub fn new(context: OperationContext, what: impl Into<String>, timeout: Duration) -> Self {
        Self {
            context,
            what: what.into(),
            timeout,
            hint: "raise the resource's timeouts or check the cloud console".to_owned(),
            interval: PollBackoff::DEFAULT,
            poll_retry: Self::POLL_RETRY,
        }
    }

    /// Sets how the pause between polls grows.
    pub fn with_interval(mut self, interval: PollBackoff) -> Self {
        self.interval = interval;
        self
    }

    /// Sets the advice given on timeout (which `timeouts` entry to raise, where to
    /// look).
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = hint.into();
        self
    }

    /// Sets how a failing poll is retried.
    pub fn with_poll_retry(mut self, policy: RetryPolicy) -> Self {
        self.poll_retry = policy;
        self
    }

    /// Polls until `poll` returns [`Poll::Done`] (its value is returned) or
    /// [`Poll::Failed`], the timeout passes, a poll fails permanently (as judged by
    /// `classify`) or keeps failing, or the context is cancelled. A last poll is made
    /// right at the timeout before giving up.
    pub async fn wait<T, E, C, F, Fut>(&self, classify: &C, mut poll: F) -> Result<T, WaitError<E>>
    where
        E: fmt::Display,
        C: Classify<E> + ?Sized,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Poll<T>, E>>,
    {
        let sleeper = self.context.sleeper();
        let cancel = self.context.cancel_token();
        let start = sleeper.now();
        let waited = || sleeper.now().saturating_duration_since(start);
        let mut interval = self.interval.first();
        let mut last_status: Option<String> = None;
        let operation = format!("checking {}", self.what);

        loop {
            let remaining = self.timeout.saturating_sub(waited());
            let deadline = self
                .poll_retry
                .deadline
                .map_or(remaining, |own| own.min(remaining));
            let retry = Retry::new(
                self.poll_retry.with_deadline(deadline),
                self.context.clone(),
            );
            match retry.run(&operation, classify, &mut poll).await {
                Ok(Poll::Done(value)) => return Ok(value),
                Ok(Poll::Failed(reason)) => {
                    return Err(WaitError::Failed {
                        what: self.what.clone(),
                        reason,
                    })
                }
                Ok(Poll::Pending { status }) => {
                    tracing::debug!(
                        what = %self.what,
                        status = %status,
                        waited = %format_duration(waited()),
                        "still waiting"
                    );
                    last_status = Some(status);
                }
                Err(RetryError::Cancelled { .. }) => {
                    return Err(WaitError::Cancelled {
                        what: self.what.clone(),
                        waited: waited(),
                        last_status,
                    })
                }
                Err(RetryError::DeadlineExceeded { last, .. }) if waited() >= self.timeout => {
                    return Err(self.timed_out(waited(), last_status, Some(last)));
                }
                Err(error) => {
                    return Err(WaitError::PollFailed {
                        what: self.what.clone(),
                        source: error,
                    })
                }
            }

            let elapsed = waited();
            if elapsed >= self.timeout {
                return Err(self.timed_out(elapsed, last_status, None));
            }
            let pause = interval.min(self.timeout - elapsed);
            let slept = tokio::select! {
                biased;
                _ = cancel.cancelled() => false,
                _ = sleeper.sleep(pause) => true,
            };
            if !slept {
                return Err(WaitError::Cancelled {
                    what: self.what.clone(),
                    waited: waited(),
                    last_status,
                });
            }
            interval = self.interval.next(interval);
        }
    }

    fn timed_out<E>(
        &self,
        waited: Duration,
        last_status: Option<String>,
        last_error: Option<E>,
    ) -> WaitError<E> {
        WaitError::TimedOut {
            what: self.what.clone(),
            last_status,
            waited,
            hint: self.hint.clone(),
            last_error,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::stack::sleep::RecordingSleeper;
    use crate::stack::testing::{classify, ApiError, DENIED, THROTTLED};

    type Answer = Result<Poll<&'static str>, ApiError>;

    /// A poll that gives `answers` in order, then keeps repeating the last one.
    fn scripted(answers: Vec<Answer>) -> impl FnMut() -> std::future::Ready<Answer> {
        let answers = Arc::new(Mutex::new(VecDeque::from(answers)));
        move || {
            let mut answers = answers.lock().unwrap();
            let answer = if answers.len() > 1 {
                answers.pop_front()
            } else {
                answers.front().cloned()
            };
            std::future::ready(answer.unwrap_or(Ok(Poll::Done("empty script"))))
        }
    }

    fn pending(status: &str) -> Answer {
        Ok(Poll::Pending {
            status: status.to_owned(),
        })
    }

    fn context(sleeper: &RecordingSleeper) -> OperationContext {
        OperationContext::default()
            .with_sleeper(Arc::new(sleeper.clone()))
            .with_seed(3)
    }

    const INTERVAL: PollBackoff = PollBackoff {
        start: Duration::from_secs(10),
        factor: 2.0,
        cap: Duration::from_secs(60),
    };

    fn waiter(sleeper: &RecordingSleeper, timeout: Duration) -> Waiter {
        Waiter::new(context(sleeper), "EKS cluster shop", timeout)
            .with_interval(INTERVAL)
            .with_hint("raise timeouts.create or check the AWS console")
    }

    fn secs(seconds: u64) -> Duration {
        Duration::from_secs(seconds)
    }

    #[tokio::test]
    async fn returns_done_after_pending_polls_with_growing_intervals() {
        let sleeper = RecordingSleeper::new();
        let result = waiter(&sleeper, secs(3600))
            .wait(
                &classify,
                scripted(vec![
                    pending("CREATING"),
                    pending("CREATING"),
                    pending("CREATING"),
                    pending("CREATING"),
                    Ok(Poll::Done("ACTIVE")),
                ]),
            )
            .await;
        assert_eq!(result.ok(), Some("ACTIVE"));
        assert_eq!(
            sleeper.delays(),
            vec![secs(10), secs(20), secs(40), secs(60)]
        );
    }

    #[tokio::test]
    async fn times_out_naming_what_the_status_and_the_time() {
        let sleeper = RecordingSleeper::new();
        let polls = Arc::new(Mutex::new(0u32));
        let counter = polls.clone();
        let result: Result<(), _> = waiter(&sleeper, secs(20 * 60))
            .wait(&classify, || {
                *counter.lock().unwrap() += 1;
                std::future::ready(Ok(Poll::Pending {
                    status: "CREATING".to_owned(),
                }))
            })
            .await;
        let error = result.err();
        assert!(
            error.as_ref().is_some_and(WaitError::is_timeout),
            "{error:?}"
        );
        assert_eq!(
            error.map(|e| e.to_string()).unwrap_or_default(),
            "EKS cluster shop still CREATING after 20m0s; raise timeouts.create or check \
             the AWS console"
        );
        let delays = sleeper.delays();
        assert_eq!(delays.iter().sum::<Duration>(), secs(20 * 60));
        assert!(delays.iter().all(|d| *d <= INTERVAL.cap));
        // A last poll is made right at the timeout.
        assert_eq!(*polls.lock().unwrap() as usize, delays.len() + 1);
    }

    #[tokio::test]
    async fn fails_when_the_poll_reports_failure() {
        let sleeper = RecordingSleeper::new();
        let result = waiter(&sleeper, secs(600))
            .wait(
                &classify,
                scripted(vec![
                    pending("CREATING"),
                    Ok(Poll::Failed("status FAILED: subnet has no free IPs".into())),
                ]),
            )
            .await;
        assert_eq!(
            result.err().map(|e| e.to_string()).unwrap_or_default(),
            "EKS cluster shop failed: status FAILED: subnet has no free IPs"
        );
    }

    #[tokio::test]
    async fn retries_a_retryable_poll_error() {
        let sleeper = RecordingSleeper::new();
        let result = waiter(&sleeper, secs(600))
            .with_poll_retry(RetryPolicy {
                jitter: Jitter::None,
                ..Waiter::POLL_RETRY
            })
            .wait(
                &classify,
                scripted(vec![
                    pending("CREATING"),
                    Err(THROTTLED),
                    Err(THROTTLED),
                    Ok(Poll::Done("ACTIVE")),
                ]),
            )
            .await;
        assert_eq!(result.ok(), Some("ACTIVE"));
        // Poll interval, then the retry backoff of the throttled poll.
        assert_eq!(sleeper.delays(), vec![secs(10), secs(1), secs(2)]);
    }

    #[tokio::test]
    async fn a_permanent_poll_error_ends_the_wait() {
        let sleeper = RecordingSleeper::new();
        let result = waiter(&sleeper, secs(600))
            .wait(&classify, scripted(vec![pending("CREATING"), Err(DENIED)]))
            .await;
        let error = result.err();
        assert!(
            matches!(
                error,
                Some(WaitError::PollFailed {
                    source: RetryError::Permanent { ref source, .. },
                    ..
                }) if *source == DENIED
            ),
            "{error:?}"
        );
        assert_eq!(
            error.map(|e| e.to_string()).unwrap_or_default(),
            "checking EKS cluster shop failed: AccessDenied (HTTP 403)"
        );
        assert_eq!(sleeper.delays(), vec![secs(10)]);
    }

    #[tokio::test]
    async fn retryable_errors_until_the_timeout_report_the_last_error() {
        let sleeper = RecordingSleeper::new();
        let result = waiter(&sleeper, secs(30))
            .with_poll_retry(RetryPolicy {
                max_attempts: 100,
                ..Waiter::POLL_RETRY
            })
            .wait(
                &classify,
                scripted(vec![pending("UPDATING"), Err(THROTTLED)]),
            )
            .await;
        let message = result.err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            message,
            "EKS cluster shop still UPDATING after 30s (last error: ThrottlingException \
             (HTTP 400)); raise timeouts.create or check the AWS console"
        );
        assert_eq!(sleeper.elapsed(), secs(30));
    }

    #[tokio::test]
    async fn stops_promptly_on_cancel() {
        let sleeper = RecordingSleeper::blocking();
        let token = CancellationToken::new();
        let waiter = Waiter::new(
            OperationContext::new(token.clone()).with_sleeper(Arc::new(sleeper.clone())),
            "EKS cluster shop",
            secs(3600),
        );
        let (result, ()) = tokio::join!(
            waiter.wait(&classify, scripted(vec![pending("CREATING")])),
            async {
                sleeper.wait_for_sleeps(1).await;
                token.cancel();
            }
        );
        let error = result.err();
        assert!(
            error.as_ref().is_some_and(WaitError::is_cancelled),
            "{error:?}"
        );
        assert_eq!(
            error.map(|e| e.to_string()).unwrap_or_default(),
            "stopped waiting for EKS cluster shop after 0s because Terraform asked the \
             provider to stop (last status: CREATING); what was created is kept, run \
             apply again to resume"
        );
    }

    #[test]
    fn poll_backoff_grows_and_caps_and_tolerates_bad_factors() {
        assert_eq!(INTERVAL.first(), secs(10));
        assert_eq!(INTERVAL.next(secs(10)), secs(20));
        assert_eq!(INTERVAL.next(secs(40)), secs(60));
        let odd = PollBackoff {
            factor: f64::NAN,
            ..INTERVAL
        };
        assert_eq!(odd.next(secs(10)), secs(10));
        let huge = PollBackoff {
            factor: f64::MAX,
            ..INTERVAL
        };
        assert_eq!(huge.next(secs(10)), secs(60));
    }
}
