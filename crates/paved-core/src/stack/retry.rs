//! Retrying cloud calls: exponential backoff with full jitter, a cap on attempts and
//! on total time, error classification, and prompt cancellation.
//!
//! Every cloud adapter call that may be throttled or hit a transient failure goes
//! through [`Retry::run`]. What counts as retryable is decided by a [`Classify`]
//! implementation; [`classify_cloud_error`] covers AWS SDK-style error codes and HTTP
//! statuses without depending on any SDK.
//!
//! Backoff follows the "full jitter" scheme: before retry `n` (1-based) the engine
//! sleeps a uniformly random delay in `[0, min(max_delay, base_delay * 2^(n-1))]`.
//! Spreading retries this way keeps many concurrent callers (several resources in
//! one apply, several applies against one account) from hammering a throttled API in
//! lockstep.
//!
//! Cancellation (StopProvider) interrupts both the backoff sleep and the attempt in
//! flight. Dropping an in-flight cloud call is safe for paved because components are
//! found again by their tags on the next apply (see [`super::tags`]).

use std::fmt;
use std::future::Future;
use std::time::Duration;

use super::context::OperationContext;
pub use super::jitter::SplitMix64;
use super::timeouts::format_duration;

/// Whether an error is worth retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retryability {
    /// Transient: throttling, a 5xx, a timeout or a dropped connection. Trying again
    /// later may succeed.
    Retryable,
    /// Trying again cannot help (bad input, access denied, not found, quota).
    Permanent,
}

/// Decides whether an error of type `E` is retryable.
///
/// Implemented for every `Fn(&E) -> Retryability`, so a closure is enough:
/// `&|e: &MyError| classify_cloud_error(e.code(), e.status(), e.is_io())`.
pub trait Classify<E: ?Sized> {
    /// The retryability of `error`.
    fn classify(&self, error: &E) -> Retryability;
}

impl<E: ?Sized, F> Classify<E> for F
where
    F: Fn(&E) -> Retryability,
{
    fn classify(&self, error: &E) -> Retryability {
        self(error)
    }
}

/// AWS error codes that mean "throttled" or "transient server-side failure".
///
/// Matched exactly (AWS codes are case-sensitive). The list follows the AWS SDKs'
/// standard retry classification.
pub const RETRYABLE_ERROR_CODES: &[&str] = &[
    // Throttling.
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "ProvisionedThroughputExceededException",
    "SlowDown",
    "EC2ThrottledException",
    "BandwidthLimitExceeded",
    "PriorRequestNotComplete",
    "TransactionInProgressException",
    // Transient server-side failures.
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "Unavailable",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// HTTP statuses that mean "throttled" (429) or "transient server-side failure".
pub const RETRYABLE_HTTP_STATUSES: &[u16] = &[429, 500, 502, 503, 504];

/// Classifies a cloud API error from its parts, for any SDK: the service's error
/// `code` (e.g. `ThrottlingException`), the HTTP `status`, and whether the call failed
/// by timing out or at the connection level (reset, refused, DNS) before any answer.
///
/// Kept free of SDK types so adapters for AWS, GCP and Kubernetes can all use it: an
/// adapter extracts the three facts from its own error type.
pub fn classify_cloud_error(
    code: Option<&str>,
    status: Option<u16>,
    is_timeout_or_io: bool,
) -> Retryability {
    let retryable = is_timeout_or_io
        || code.is_some_and(|code| RETRYABLE_ERROR_CODES.contains(&code))
        || status.is_some_and(|status| RETRYABLE_HTTP_STATUSES.contains(&status));
    if retryable {
        Retryability::Retryable
    } else {
        Retryability::Permanent
    }
}

/// How delays between attempts are randomised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Jitter {
    /// Uniform in `[0, ceiling]` (recommended; the default).
    #[default]
    Full,
    /// Exactly the ceiling: plain exponential backoff. For callers that must be
    /// predictable, and for tests.
    None,
}

/// How hard to retry: attempts, backoff and an overall deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts including the first; 0 is treated as 1.
    pub max_attempts: u32,
    /// The backoff ceiling before the first retry; it doubles for each further retry.
    pub base_delay: Duration,
    /// The most the ceiling may grow to.
    pub max_delay: Duration,
    /// How the delay is drawn under the ceiling.
    pub jitter: Jitter,
    /// Time budget from the first attempt: no attempt starts after it, and the last
    /// backoff is shortened so one attempt is made right at it. `None` means only
    /// `max_attempts` limits retries. It does not cut an attempt short; per-request
    /// timeouts are the SDK's job.
    pub deadline: Option<Duration>,
}

impl RetryPolicy {
    /// Defaults for cloud control-plane calls: 8 attempts, 500ms doubling to 20s,
    /// full jitter, no deadline (the resource's timeout bounds the operation).
    pub const CLOUD_DEFAULT: RetryPolicy = RetryPolicy {
        max_attempts: 8,
        base_delay: Duration::from_millis(500),
        max_delay: Duration::from_secs(20),
        jitter: Jitter::Full,
        deadline: None,
    };

    /// Returns this policy with an overall deadline.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The backoff ceiling before retry number `retry` (1 = the first retry):
    /// `min(max_delay, base_delay * 2^(retry-1))`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(63);
        let factor = 1u64 << doublings;
        let ceiling = u32::try_from(factor)
            .ok()
            .and_then(|factor| self.base_delay.checked_mul(factor))
            .unwrap_or(self.max_delay);
        ceiling.min(self.max_delay)
    }

    /// The delay to sleep before retry number `retry`, drawn from `rng`.
    pub fn delay(&self, retry: u32, rng: &mut SplitMix64) -> Duration {
        let ceiling = self.ceiling(retry);
        match self.jitter {
            Jitter::None => ceiling,
            Jitter::Full => {
                let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
                Duration::from_nanos(rng.below_inclusive(nanos))
            }
        }
    }

    fn attempts_allowed(&self) -> u32 {
        self.max_attempts.max(1)
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::CLOUD_DEFAULT
    }
}

/// What happened on one attempt, for logs and diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    /// 1-based attempt number.
    pub attempt: u32,
    /// Time since the first attempt started, on the operation's clock.
    pub started_after: Duration,
    /// How the attempt ended.
    pub outcome: AttemptOutcome,
    /// The backoff slept after this attempt, if another attempt followed.
    pub delay: Option<Duration>,
}

/// How one attempt ended. Errors are kept as their display text only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The operation succeeded.
    Succeeded,
    /// It failed with a retryable error.
    Retryable(String),
    /// It failed with a permanent error.
    Permanent(String),
    /// The operation was cancelled while this attempt was in flight.
    Cancelled,
}

/// Why a retried operation gave up.
///
/// Every variant keeps the last error so the caller can report or inspect it
/// ([`RetryError::last_error`]).
#[derive(Debug, thiserror::Error)]
pub enum RetryError<E> {
    /// The operation failed with an error retrying cannot fix.
    #[error("{operation} failed: {source}")]
    Permanent {
        /// What was attempted, e.g. "create VPC for stack shop".
        operation: String,
        /// Attempts made, including the failing one.
        attempts: u32,
        /// The permanent error.
        #[source]
        source: E,
    },
    /// Every allowed attempt failed with a retryable error.
    #[error(
        "{operation} still failing after {attempts} attempts: {last}; the cloud API is \
         throttling or unavailable, wait a few minutes and run apply again (it resumes \
         where it stopped)"
    )]
    Exhausted {
        /// What was attempted.
        operation: String,
        /// Attempts made.
        attempts: u32,
        /// The last retryable error.
        #[source]
        last: E,
    },
    /// The policy's deadline passed while the operation was still failing.
    #[error(
        "{operation} still failing after {} ({attempts} attempts): {last}; wait and run \
         apply again, or raise the resource's timeouts",
        format_duration(*.elapsed)
    )]
    DeadlineExceeded {
        /// What was attempted.
        operation: String,
        /// Attempts made.
        attempts: u32,
        /// Time spent, from the first attempt.
        elapsed: Duration,
        /// The last retryable error.
        #[source]
        last: E,
    },
    /// Terraform asked the provider to stop.
    #[error(
        "{operation} stopped after {attempts} attempt(s) because Terraform asked the \
         provider to stop{}; what was created is kept, run apply again to resume",
        last_error_suffix(.last)
    )]
    Cancelled {
        /// What was attempted.
        operation: String,
        /// Attempts started (the last may have been interrupted).
        attempts: u32,
        /// The last error seen before cancellation, if any.
        #[source]
        last: Option<E>,
    },
}

fn last_error_suffix<E: fmt::Display>(last: &Option<E>) -> String {
    match last {
        Some(error) => format!(" (last error: {error})"),
        None => String::new(),
    }
}

impl<E> RetryError<E> {
    /// The last error the operation returned, if it returned one.
    pub fn last_error(&self) -> Option<&E> {
        match self {
            RetryError::Permanent { source, .. } => Some(source),
            RetryError::Exhausted { last, .. } | RetryError::DeadlineExceeded { last, .. } => {
                Some(last)
            }
            RetryError::Cancelled { last, .. } => last.as_ref(),
        }
    }

    /// Takes the last error out, dropping the retry context.
    pub fn into_last_error(self) -> Option<E> {
        match self {
            RetryError::Permanent { source, .. } => Some(source),
            RetryError::Exhausted { last, .. } | RetryError::DeadlineExceeded { last, .. } => {
                Some(last)
            }
            RetryError::Cancelled { last, .. } => last,
        }
    }

    /// How many attempts were made.
    pub fn attempts(&self) -> u32 {
        match self {
            RetryError::Permanent { attempts, .. }
            | RetryError::Exhausted { attempts, .. }
            | RetryError::DeadlineExceeded { attempts, .. }
            | RetryError::Cancelled { attempts, .. } => *attempts,
        }
    }

    /// Whether the operation ended because Terraform asked the provider to stop.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, RetryError::Cancelled { .. })
    }
}

/// The result of [`Retry::run_recorded`]: the outcome plus one record per attempt.
#[derive(Debug)]
pub struct Recorded<T, E> {
    /// What the operation finally returned.
    pub result: Result<T, RetryError<E>>,
    /// One entry per attempt, in order.
    pub attempts: Vec<AttemptRecord>,
}

/// Runs async operations under a [`RetryPolicy`] in an [`OperationContext`].
#[derive(Debug, Clone)]
pub struct Retry {
    policy: RetryPolicy,
    context: OperationContext,
}

impl Retry {
    /// A retrier for `policy` that sleeps on, and is cancelled through, `context`.
    pub fn new(policy: RetryPolicy, context: OperationContext) -> Self {
        Self { policy, context }
    }

    /// The policy in force.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// Runs `op` until it succeeds, fails permanently, runs out of attempts or time,
    /// or the context is cancelled. `operation` names the call in errors and logs
    /// ("create NAT gateway nat-gateway/eu-west-1a"); never put request bodies or
    /// secrets in it.
    pub async fn run<T, E, C, F, Fut>(
        &self,
        operation: &str,
        classify: &C,
        op: F,
    ) -> Result<T, RetryError<E>>
    where
        E: fmt::Display,
        C: Classify<E> + ?Sized,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.run_recorded(operation, classify, op).await.result
    }

    /// Like [`Retry::run`], also returning a record of every attempt.
    pub async fn run_recorded<T, E, C, F, Fut>(
        &self,
        operation: &str,
        classify: &C,
        mut op: F,
    ) -> Recorded<T, E>
    where
        E: fmt::Display,
        C: Classify<E> + ?Sized,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let sleeper = self.context.sleeper();
        let cancel = self.context.cancel_token();
        let mut rng = self.context.jitter();
        let mut records = Vec::new();
        let start = sleeper.now();
        let max_attempts = self.policy.attempts_allowed();
        let mut last: Option<E> = None;
        let mut attempt: u32 = 0;

        let cancelled = |attempts: u32, last: Option<E>| RetryError::Cancelled {
            operation: operation.to_owned(),
            attempts,
            last,
        };

        loop {
            if cancel.is_cancelled() {
                return Recorded {
                    result: Err(cancelled(attempt, last)),
                    attempts: records,
                };
            }
            attempt += 1;
            let started_after = sleeper.now().saturating_duration_since(start);
            let outcome = tokio::select! {
                biased;
                _ = cancel.cancelled() => None,
                outcome = op() => Some(outcome),
            };
            let error = match outcome {
                None => {
                    records.push(AttemptRecord {
                        attempt,
                        started_after,
                        outcome: AttemptOutcome::Cancelled,
                        delay: None,
                    });
                    return Recorded {
                        result: Err(cancelled(attempt, last)),
                        attempts: records,
                    };
                }
                Some(Ok(value)) => {
                    records.push(AttemptRecord {
                        attempt,
                        started_after,
                        outcome: AttemptOutcome::Succeeded,
                        delay: None,
                    });
                    return Recorded {
                        result: Ok(value),
                        attempts: records,
                    };
                }
                Some(Err(error)) => error,
            };

            if classify.classify(&error) == Retryability::Permanent {
                records.push(AttemptRecord {
                    attempt,
                    started_after,
                    outcome: AttemptOutcome::Permanent(error.to_string()),
                    delay: None,
                });
                return Recorded {
                    result: Err(RetryError::Permanent {
                        operation: operation.to_owned(),
                        attempts: attempt,
                        source: error,
                    }),
                    attempts: records,
                };
            }

            let mut record = AttemptRecord {
                attempt,
                started_after,
                outcome: AttemptOutcome::Retryable(error.to_string()),
                delay: None,
            };
            if attempt >= max_attempts {
                records.push(record);
                return Recorded {
                    result: Err(RetryError::Exhausted {
                        operation: operation.to_owned(),
                        attempts: attempt,
                        last: error,
                    }),
                    attempts: records,
                };
            }

            let mut delay = self.policy.delay(attempt, &mut rng);
            if let Some(deadline) = self.policy.deadline {
                let elapsed = sleeper.now().saturating_duration_since(start);
                if elapsed >= deadline {
                    records.push(record);
                    return Recorded {
                        result: Err(RetryError::DeadlineExceeded {
                            operation: operation.to_owned(),
                            attempts: attempt,
                            elapsed,
                            last: error,
                        }),
                        attempts: records,
                    };
                }
                // One last attempt right at the deadline rather than giving up early.
                delay = delay.min(deadline - elapsed);
            }

            tracing::debug!(
                operation,
                attempt,
                delay = %format_duration(delay),
                error = %error,
                "retrying after a retryable error"
            );
            record.delay = Some(delay);
            records.push(record);
            last = Some(error);

            let slept = tokio::select! {
                biased;
                _ = cancel.cancelled() => false,
                _ = sleeper.sleep(delay) => true,
            };
            if !slept {
                return Recorded {
                    result: Err(cancelled(attempt, last)),
                    attempts: records,
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::stack::sleep::RecordingSleeper;
    use crate::stack::testing::{classify, ApiError, DENIED, THROTTLED};

    fn policy(max_attempts: u32) -> RetryPolicy {
        RetryPolicy {
            max_attempts,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
            jitter: Jitter::None,
            deadline: None,
        }
    }

    fn context(sleeper: &RecordingSleeper) -> OperationContext {
        OperationContext::default()
            .with_sleeper(Arc::new(sleeper.clone()))
            .with_seed(7)
    }

    /// An operation that fails with `failures` in order, then succeeds with the
    /// attempt number.
    fn scripted(
        failures: Vec<ApiError>,
    ) -> impl FnMut() -> std::future::Ready<Result<u32, ApiError>> {
        let mut calls = 0u32;
        move || {
            calls += 1;
            let result = match failures.get(calls as usize - 1) {
                Some(error) => Err(error.clone()),
                None => Ok(calls),
            };
            std::future::ready(result)
        }
    }

    #[test]
    fn classifies_codes_statuses_and_io() {
        use Retryability::*;
        for code in [
            "Throttling",
            "ThrottlingException",
            "RequestLimitExceeded",
            "TooManyRequestsException",
            "RequestThrottled",
            "ProvisionedThroughputExceededException",
            "SlowDown",
            "InternalError",
            "InternalFailure",
            "ServiceUnavailable",
            "Unavailable",
        ] {
            assert_eq!(
                classify_cloud_error(Some(code), Some(400), false),
                Retryable
            );
        }
        for status in [429, 500, 502, 503, 504] {
            assert_eq!(classify_cloud_error(None, Some(status), false), Retryable);
        }
        assert_eq!(classify_cloud_error(None, None, true), Retryable);
        assert_eq!(
            classify_cloud_error(Some("AccessDenied"), Some(403), false),
            Permanent
        );
        assert_eq!(
            classify_cloud_error(Some("InvalidParameterValue"), Some(400), false),
            Permanent
        );
        assert_eq!(classify_cloud_error(None, Some(404), false), Permanent);
        assert_eq!(classify_cloud_error(None, None, false), Permanent);
        // Codes are case-sensitive, as AWS sends them.
        assert_eq!(
            classify_cloud_error(Some("throttling"), None, false),
            Permanent
        );
    }

    #[tokio::test]
    async fn succeeds_after_retryable_failures() {
        let sleeper = RecordingSleeper::new();
        let retry = Retry::new(policy(5), context(&sleeper));
        let recorded = retry
            .run_recorded(
                "create VPC",
                &classify,
                scripted(vec![THROTTLED, THROTTLED, THROTTLED]),
            )
            .await;
        assert_eq!(recorded.result.ok(), Some(4));
        assert_eq!(recorded.attempts.len(), 4);
        assert_eq!(
            recorded.attempts[0].outcome,
            AttemptOutcome::Retryable("ThrottlingException (HTTP 400)".into())
        );
        assert_eq!(recorded.attempts[3].outcome, AttemptOutcome::Succeeded);
        assert_eq!(
            sleeper.delays(),
            vec![
                Duration::from_secs(1),
                Duration::from_secs(2),
                Duration::from_secs(4)
            ]
        );
        assert_eq!(recorded.attempts[3].started_after, Duration::from_secs(7));
    }

    #[tokio::test]
    async fn stops_at_once_on_a_permanent_error() {
        let sleeper = RecordingSleeper::new();
        let retry = Retry::new(policy(5), context(&sleeper));
        let result = retry
            .run("create VPC", &classify, scripted(vec![DENIED, THROTTLED]))
            .await;
        let error = result.err();
        assert!(
            matches!(error, Some(RetryError::Permanent { attempts: 1, ref source, .. }) if *source == DENIED),
            "{error:?}"
        );
        assert!(sleeper.delays().is_empty());
        assert_eq!(
            error.map(|e| e.to_string()).unwrap_or_default(),
            "create VPC failed: AccessDenied (HTTP 403)"
        );
    }

    #[tokio::test]
    async fn respects_max_attempts() {
        let sleeper = RecordingSleeper::new();
        let retry = Retry::new(policy(3), context(&sleeper));
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = retry
            .run("describe subnets", &classify, || {
                calls.fetch_add(1, Ordering::SeqCst);
                std::future::ready(Err(THROTTLED))
            })
            .await;
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        let error = result.err();
        assert!(
            matches!(error, Some(RetryError::Exhausted { attempts: 3, .. })),
            "{error:?}"
        );
        assert_eq!(sleeper.delays().len(), 2);
        let message = error.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.starts_with(
                "describe subnets still failing after 3 attempts: ThrottlingException"
            ),
            "{message}"
        );
        assert!(message.contains("run apply again"), "{message}");
    }

    #[tokio::test]
    async fn zero_max_attempts_still_tries_once() {
        let sleeper = RecordingSleeper::new();
        let retry = Retry::new(policy(0), context(&sleeper));
        let result = retry.run("op", &classify, scripted(vec![])).await;
        assert_eq!(result.ok(), Some(1));
    }

    #[tokio::test]
    async fn respects_the_deadline_with_a_final_attempt_at_it() {
        let sleeper = RecordingSleeper::new();
        // 1s, 2s, 4s backoff, but only 5.5s in total.
        let retry = Retry::new(
            policy(10).with_deadline(Duration::from_millis(5500)),
            context(&sleeper),
        );
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = retry
            .run("delete NAT gateway", &classify, || {
                calls.fetch_add(1, Ordering::SeqCst);
                std::future::ready(Err(THROTTLED))
            })
            .await;
        assert_eq!(
            sleeper.delays(),
            vec![
                Duration::from_secs(1),
                Duration::from_secs(2),
                Duration::from_millis(2500)
            ]
        );
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        let error = result.err();
        assert!(
            matches!(
                error,
                Some(RetryError::DeadlineExceeded { attempts: 4, elapsed, .. })
                    if elapsed == Duration::from_millis(5500)
            ),
            "{error:?}"
        );
        let message = error.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.starts_with("delete NAT gateway still failing after 5.5s (4 attempts)"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn the_deadline_counts_time_spent_in_attempts() {
        let sleeper = RecordingSleeper::new();
        let retry = Retry::new(
            policy(10).with_deadline(Duration::from_secs(10)),
            context(&sleeper),
        );
        let clock = sleeper.clone();
        let result: Result<(), _> = retry
            .run("slow call", &classify, || {
                // Each attempt takes 6s of (virtual) time.
                clock.advance(Duration::from_secs(6));
                std::future::ready(Err(THROTTLED))
            })
            .await;
        // Attempt 1 ends at 6s, backs off 1s, attempt 2 ends at 13s: past the deadline.
        assert!(
            matches!(
                result,
                Err(RetryError::DeadlineExceeded { attempts: 2, .. })
            ),
            "{result:?}"
        );
        assert_eq!(sleeper.delays(), vec![Duration::from_secs(1)]);
    }

    #[tokio::test]
    async fn cancellation_during_backoff_returns_cancelled_with_the_last_error() {
        let sleeper = RecordingSleeper::blocking();
        let token = CancellationToken::new();
        let retry = Retry::new(
            policy(5),
            OperationContext::new(token.clone())
                .with_sleeper(Arc::new(sleeper.clone()))
                .with_seed(1),
        );
        let (result, ()) = tokio::join!(
            retry.run("create subnet", &classify, scripted(vec![THROTTLED])),
            async {
                sleeper.wait_for_sleeps(1).await;
                token.cancel();
            }
        );
        let error = result.err();
        assert!(
            matches!(
                error,
                Some(RetryError::Cancelled { attempts: 1, last: Some(ref last), .. })
                    if *last == THROTTLED
            ),
            "{error:?}"
        );
        let message = error.map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            message,
            "create subnet stopped after 1 attempt(s) because Terraform asked the provider \
             to stop (last error: ThrottlingException (HTTP 400)); what was created is \
             kept, run apply again to resume"
        );
    }

    #[tokio::test]
    async fn cancellation_interrupts_an_attempt_in_flight() {
        let sleeper = RecordingSleeper::new();
        let token = CancellationToken::new();
        let retry = Retry::new(
            policy(5),
            OperationContext::new(token.clone()).with_sleeper(Arc::new(sleeper.clone())),
        );
        let started = tokio::sync::Notify::new();
        let (recorded, ()) = tokio::join!(
            retry.run_recorded("hang", &classify, || async {
                started.notify_one();
                std::future::pending::<Result<(), ApiError>>().await
            }),
            async {
                started.notified().await;
                token.cancel();
            }
        );
        assert!(
            matches!(
                recorded.result,
                Err(RetryError::Cancelled {
                    attempts: 1,
                    last: None,
                    ..
                })
            ),
            "{:?}",
            recorded.result
        );
        assert_eq!(recorded.attempts[0].outcome, AttemptOutcome::Cancelled);
    }

    #[tokio::test]
    async fn an_already_cancelled_context_makes_no_attempt() {
        let token = CancellationToken::new();
        token.cancel();
        let retry = Retry::new(policy(5), OperationContext::new(token));
        let calls = AtomicU32::new(0);
        let result: Result<(), RetryError<ApiError>> = retry
            .run("op", &classify, || {
                calls.fetch_add(1, Ordering::SeqCst);
                std::future::ready(Ok(()))
            })
            .await;
        assert!(matches!(
            result,
            Err(RetryError::Cancelled { attempts: 0, .. })
        ));
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn backoff_ceiling_grows_and_caps() {
        let policy = policy(20);
        let ceilings: Vec<u64> = (1..=7).map(|n| policy.ceiling(n).as_secs()).collect();
        assert_eq!(ceilings, vec![1, 2, 4, 8, 8, 8, 8]);
        // No overflow for absurd retry numbers.
        assert_eq!(policy.ceiling(u32::MAX), Duration::from_secs(8));
    }

    #[tokio::test]
    async fn full_jitter_stays_under_the_ceiling_and_is_reproducible() {
        let jittered = RetryPolicy {
            jitter: Jitter::Full,
            ..policy(12)
        };
        let run = || async {
            let sleeper = RecordingSleeper::new();
            let retry = Retry::new(jittered, context(&sleeper));
            let _: Result<(), _> = retry
                .run("op", &classify, || std::future::ready(Err(THROTTLED)))
                .await;
            sleeper.delays()
        };
        let first = run().await;
        let second = run().await;
        assert_eq!(first, second, "same seed, same delays");
        assert_eq!(first.len(), 11);
        for (index, delay) in first.iter().enumerate() {
            let ceiling = jittered.ceiling(index as u32 + 1);
            assert!(
                *delay <= ceiling,
                "retry {}: {delay:?} > {ceiling:?}",
                index + 1
            );
        }
        // Jitter actually varies the delays.
        assert!(first.windows(2).any(|pair| pair[0] != pair[1]));
        assert!(first.iter().any(|d| *d != jittered.ceiling(1)));
    }

    #[test]
    fn splitmix_is_deterministic_and_bounded() {
        let mut a = SplitMix64::new(42);
        let mut b = SplitMix64::new(42);
        for _ in 0..100 {
            let x = a.below_inclusive(10);
            assert_eq!(x, b.below_inclusive(10));
            assert!(x <= 10);
        }
        assert_eq!(a.below_inclusive(0), 0);
        let _ = a.below_inclusive(u64::MAX);
        assert_ne!(SplitMix64::new(1).next_u64(), SplitMix64::new(2).next_u64());
    }
}
