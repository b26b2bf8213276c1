//! Every wait of the cluster backend (control plane active, node group active,
//! deletions), written once over a status-polling closure and the engine's
//! [`Waiter`], so it is tested with a scripted sequence of statuses instead of a
//! cloud (moto is ready at once).
//!
//! A poll answers what the cloud shows: `None` when the object is not there, or an
//! [`Observed`] status word with the cloud's failure reason. The [`Target`] decides
//! what is done, what is a failure and what is still pending.

use std::future::Future;
use std::time::Duration;

use crate::cloud::aws::error::{failed, SdkFailure};
use crate::cloud::aws::wait::until;
use crate::stack::waiter::{Poll, PollBackoff, Waiter};
use crate::stack::OperationContext;
use crate::stack::{BackendError, StackContext};

/// What one poll saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// The cloud's status word (`CREATING`, `ACTIVE`, `CREATE_FAILED`...).
    pub status: String,
    /// Why it failed, as the cloud says (health issues), when it did.
    pub reason: Option<String>,
}

impl Observed {
    /// What a poll saw: the status word (`UNKNOWN` when the cloud gave none) and
    /// the health issues (code, message) as the reason.
    pub fn new<'a>(
        status: Option<&str>,
        issues: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
    ) -> Self {
        let reason = issues
            .map(|(code, message)| {
                format!(
                    "{}: {}",
                    code.unwrap_or("issue"),
                    message.unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        Observed {
            status: status.unwrap_or("UNKNOWN").to_owned(),
            reason: (!reason.is_empty()).then_some(reason),
        }
    }
}

/// What a wait waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A status in `ok`; a status in `failed` ends the wait with the cloud's reason;
    /// the object missing is a failure too.
    Status {
        /// Statuses that end the wait successfully.
        ok: &'static [&'static str],
        /// Statuses that end it with an error.
        failed: &'static [&'static str],
    },
    /// The object is gone; a status in `failed` ends the wait with an error.
    Gone {
        /// Statuses that end it with an error (`DELETE_FAILED`).
        failed: &'static [&'static str],
    },
}

/// An EKS cluster (or node group) that is ready.
pub const ACTIVE: Target = Target::Status {
    ok: &["ACTIVE"],
    failed: &["FAILED", "CREATE_FAILED", "DEGRADED", "DELETING"],
};

/// An EKS add-on that is ready (as the SDK's `AddonActive` waiter judges it).
pub const ADDON_ACTIVE: Target = Target::Status {
    ok: &["ACTIVE"],
    failed: &[
        "CREATE_FAILED",
        "UPDATE_FAILED",
        "DEGRADED",
        "DELETING",
        "DELETE_FAILED",
    ],
};

/// An EKS update (`DescribeUpdate`) that is over.
pub const UPDATE_DONE: Target = Target::Status {
    ok: &["Successful"],
    failed: &["Failed", "Cancelled"],
};

/// An EKS object being deleted.
pub const DELETED: Target = Target::Gone {
    failed: &["DELETE_FAILED", "FAILED"],
};

impl Target {
    /// What one poll's answer means for the wait.
    pub fn judge(&self, seen: Option<Observed>) -> Poll<()> {
        match (self, seen) {
            (Target::Gone { .. }, None) => Poll::Done(()),
            (Target::Status { .. }, None) => Poll::Failed("it no longer exists".to_owned()),
            (Target::Status { ok, failed }, Some(o)) => {
                if ok.contains(&o.status.as_str()) {
                    Poll::Done(())
                } else if failed.contains(&o.status.as_str()) {
                    Poll::Failed(reason(&o))
                } else {
                    Poll::Pending { status: o.status }
                }
            }
            (Target::Gone { failed }, Some(o)) => {
                if failed.contains(&o.status.as_str()) {
                    Poll::Failed(reason(&o))
                } else {
                    Poll::Pending { status: o.status }
                }
            }
        }
    }
}

fn reason(o: &Observed) -> String {
    match &o.reason {
        Some(r) => format!("status {}: {r}", o.status),
        None => format!("status {}", o.status),
    }
}

/// The pause between polls of EKS objects: 10s growing to 30s, the AWS SDKs' own
/// waiter delay for EKS (a cluster takes 10 to 15 minutes, a node group a few; a
/// longer pause leaves each step of the chain waiting on its poll).
pub const EKS_INTERVAL: PollBackoff = PollBackoff {
    start: Duration::from_secs(10),
    factor: 1.5,
    cap: Duration::from_secs(30),
};

/// What to do when the cloud reports a failed status (see [`BackendError::from_wait`]).
const FAILED_HINT: &str =
    "Fix the cause the cloud names (see the AWS console for details), then run apply again";

/// One wait: what is awaited, for how long, and how often to look.
#[derive(Debug, Clone)]
pub struct Wait {
    /// Cancellation and clock.
    pub context: OperationContext,
    /// What is awaited ("EKS cluster shop"), for messages.
    pub what: String,
    /// What is being done, for errors ("creating the control plane").
    pub during: String,
    /// How long to wait at most.
    pub limit: Duration,
    /// Pause between polls.
    pub interval: PollBackoff,
}

impl Wait {
    /// A wait under `ctx`: its cancel token, and as long as [`StackContext::wait_limit`].
    pub fn new(ctx: &StackContext, what: impl Into<String>, during: impl Into<String>) -> Self {
        Self {
            context: OperationContext::new(ctx.cancel.clone()),
            what: what.into(),
            during: during.into(),
            limit: ctx.wait_limit(),
            interval: EKS_INTERVAL,
        }
    }

    /// Polls until `target` is reached. `poll` returns what the cloud shows (`None`:
    /// not there); throttled or failing polls are retried within the limit.
    pub async fn until<F, Fut>(&self, target: Target, poll: F) -> Result<(), BackendError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<Observed>, SdkFailure>>,
    {
        let waiter = Waiter::new(self.context.clone(), self.what.clone(), self.limit)
            .with_interval(self.interval)
            .with_hint("run apply again; it resumes where it stopped");
        let judge = |seen| target.judge(seen);
        let poll_error = failed("EKS", self.during.clone());
        until(&waiter, &self.during, FAILED_HINT, poll, judge, poll_error).await
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::stack::sleep::RecordingSleeper;

    type Answer = Result<Option<Observed>, SdkFailure>;

    fn seen(status: &str) -> Answer {
        Ok(Some(Observed {
            status: status.to_owned(),
            reason: None,
        }))
    }

    fn throttled() -> Answer {
        Err(SdkFailure {
            code: Some("ThrottlingException".into()),
            status: Some(429),
            io: false,
            message: "Rate exceeded".into(),
        })
    }

    /// A poll giving `answers` in order, then repeating the last; counts polls.
    fn scripted(
        answers: Vec<Answer>,
    ) -> (
        Arc<Mutex<usize>>,
        impl FnMut() -> std::future::Ready<Answer>,
    ) {
        let polls = Arc::new(Mutex::new(0usize));
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
            std::future::ready(answer.unwrap_or(Ok(None)))
        };
        (polls, poll)
    }

    fn wait(sleeper: &RecordingSleeper, token: CancellationToken, limit: Duration) -> Wait {
        Wait {
            context: OperationContext::new(token)
                .with_sleeper(Arc::new(sleeper.clone()))
                .with_seed(1),
            what: "EKS cluster shop".into(),
            during: "creating the control plane".into(),
            limit,
            interval: EKS_INTERVAL,
        }
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[tokio::test]
    async fn active_after_three_polls_with_growing_pauses() {
        let sleeper = RecordingSleeper::new();
        let (polls, poll) = scripted(vec![seen("CREATING"), seen("CREATING"), seen("ACTIVE")]);
        let result = wait(&sleeper, CancellationToken::new(), secs(3600))
            .until(ACTIVE, poll)
            .await;
        assert_eq!(result, Ok(()));
        assert_eq!(*polls.lock().unwrap(), 3);
        assert_eq!(sleeper.delays(), vec![secs(10), secs(15)]);
    }

    #[tokio::test]
    async fn failed_status_is_permanent_with_the_clouds_reason() {
        let sleeper = RecordingSleeper::new();
        let (_, poll) = scripted(vec![
            seen("CREATING"),
            Ok(Some(Observed {
                status: "FAILED".into(),
                reason: Some("Ec2SubnetInvalidConfiguration: no free addresses".into()),
            })),
        ]);
        let err = wait(&sleeper, CancellationToken::new(), secs(3600))
            .until(ACTIVE, poll)
            .await
            .unwrap_err();
        assert!(matches!(err, BackendError::Permanent { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("status FAILED: Ec2SubnetInvalidConfiguration"),
            "{text}"
        );
        assert!(!err.is_retryable());
    }

    #[tokio::test]
    async fn throttled_polls_are_retried() {
        let sleeper = RecordingSleeper::new();
        let (polls, poll) = scripted(vec![
            seen("CREATING"),
            throttled(),
            throttled(),
            seen("ACTIVE"),
        ]);
        let result = wait(&sleeper, CancellationToken::new(), secs(3600))
            .until(ACTIVE, poll)
            .await;
        assert_eq!(result, Ok(()));
        assert_eq!(*polls.lock().unwrap(), 4);
        // One poll interval, then two retry backoffs of the throttled poll.
        assert_eq!(sleeper.delays().len(), 3);
        assert_eq!(sleeper.delays()[0], secs(10));
    }

    #[tokio::test]
    async fn cancel_stops_the_wait() {
        let sleeper = RecordingSleeper::blocking();
        let token = CancellationToken::new();
        let (_, poll) = scripted(vec![seen("CREATING")]);
        let w = wait(&sleeper, token.clone(), secs(3600));
        let (result, ()) = tokio::join!(w.until(ACTIVE, poll), async {
            sleeper.wait_for_sleeps(1).await;
            token.cancel();
        });
        assert_eq!(
            result,
            Err(BackendError::Cancelled {
                during: "creating the control plane".into()
            })
        );
    }

    #[tokio::test]
    async fn deadline_gives_timed_out() {
        let sleeper = RecordingSleeper::new();
        let (polls, poll) = scripted(vec![seen("CREATING")]);
        let err = wait(&sleeper, CancellationToken::new(), secs(120))
            .until(ACTIVE, poll)
            .await
            .unwrap_err();
        assert_eq!(
            err,
            BackendError::TimedOut {
                during: "creating the control plane".into(),
                limit: "the operation's timeout".into()
            }
        );
        assert_eq!(sleeper.elapsed(), secs(120));
        assert!(*polls.lock().unwrap() >= 2);
    }

    #[tokio::test]
    async fn deletion_is_done_when_gone() {
        let sleeper = RecordingSleeper::new();
        let (polls, poll) = scripted(vec![seen("DELETING"), Ok(None)]);
        let result = wait(&sleeper, CancellationToken::new(), secs(600))
            .until(DELETED, poll)
            .await;
        assert_eq!(result, Ok(()));
        assert_eq!(*polls.lock().unwrap(), 2);
        let (_, poll) = scripted(vec![Ok(Some(Observed {
            status: "DELETE_FAILED".into(),
            reason: Some("instances still attached".into()),
        }))]);
        let err = wait(&sleeper, CancellationToken::new(), secs(600))
            .until(DELETED, poll)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("instances still attached"),
            "{err}"
        );
    }

    #[test]
    fn health_issues_become_the_reason() {
        let o = Observed::new(
            Some("CREATE_FAILED"),
            [(Some("Ec2SubnetInvalidConfiguration"), Some("no addresses"))].into_iter(),
        );
        assert_eq!(
            o.reason.as_deref(),
            Some("Ec2SubnetInvalidConfiguration: no addresses")
        );
        assert_eq!(Observed::new(None, std::iter::empty()).reason, None);
    }

    #[test]
    fn a_vanished_object_fails_an_active_wait() {
        assert!(matches!(ACTIVE.judge(None), Poll::Failed(_)));
        assert_eq!(DELETED.judge(None), Poll::Done(()));
        assert_eq!(
            ACTIVE.judge(Some(Observed {
                status: "UPDATING".into(),
                reason: None
            })),
            Poll::Pending {
                status: "UPDATING".into()
            }
        );
    }
}
