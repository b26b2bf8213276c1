//! Long-running operations shared by the services that have them (Compute, GKE,
//! Cloud SQL, Service Networking): each finishes after a scripted number of polls,
//! and a target (a cluster, a node pool's cluster, an instance) has at most one
//! running operation; a second is refused as the real APIs refuse it. Each service
//! writes its own operation JSON; this module only keeps the count. A client that
//! stops polling (killed) does not hold its target forever: as real operations run
//! on their own, an operation older than a second per scripted poll no longer blocks
//! a new one on its target.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long one scripted poll stands for when nobody polls.
const POLL_TIME: Duration = Duration::from_secs(1);

/// One operation's progress.
#[derive(Clone, Debug)]
struct Progress {
    /// What it works on (a resource path); one running operation per target.
    target: String,
    /// Polls still needed before it reports done.
    polls_left: u32,
    /// When it started.
    started: Instant,
}

/// The operations of one service.
#[derive(Debug, Default)]
pub(crate) struct Operations {
    /// Polls an operation needs before it is done (0: done at once).
    polls: u32,
    /// Running and finished operations by name, and a counter for new names.
    inner: Mutex<(BTreeMap<String, Progress>, u64)>,
}

/// Another operation is running on the same target.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Busy {
    /// The running operation's name.
    pub running: String,
}

impl Operations {
    /// Operations that finish after `polls` polls.
    pub(crate) fn new(polls: u32) -> Self {
        Self {
            polls,
            inner: Mutex::new((BTreeMap::new(), 0)),
        }
    }

    /// Starts an operation on `target` and returns its new name (`operation-N`),
    /// or [`Busy`] when one is already running there. With 0 polls it is done at once.
    pub(crate) fn start(&self, target: &str) -> Result<String, Busy> {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (ops, next) = &mut *guard;
        if let Some((name, _)) = ops.iter().find(|(_, p)| {
            p.target == target && p.polls_left > 0 && p.started.elapsed() < POLL_TIME * self.polls
        }) {
            return Err(Busy {
                running: name.clone(),
            });
        }
        *next += 1;
        let name = format!("operation-{next}");
        ops.insert(
            name.clone(),
            Progress {
                target: target.to_owned(),
                polls_left: self.polls,
                started: Instant::now(),
            },
        );
        Ok(name)
    }

    /// Polls `name`: `Some(true)` when done (after this poll), `Some(false)` while
    /// running, `None` when there is no such operation.
    pub(crate) fn poll(&self, name: &str) -> Option<bool> {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let progress = guard.0.get_mut(name)?;
        progress.polls_left = progress.polls_left.saturating_sub(1);
        Some(progress.polls_left == 0)
    }

    /// Whether `name` is done, without counting a poll.
    pub(crate) fn is_done(&self, name: &str) -> Option<bool> {
        let guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        guard.0.get(name).map(|p| p.polls_left == 0)
    }

    /// The target `name` works on.
    pub(crate) fn target(&self, name: &str) -> Option<String> {
        let guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        guard.0.get(name).map(|p| p.target.clone())
    }
}

/// The current UTC time plus `offset_secs`, as Google's REST APIs write times
/// (RFC 3339, `Z`, milliseconds).
pub(crate) fn timestamp(offset_secs: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::seconds(offset_secs);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finishes_after_the_scripted_polls_and_refuses_a_second_on_the_target() {
        let ops = Operations::new(2);
        let a = ops.start("clusters/c").expect("first");
        assert_eq!(ops.start("clusters/c"), Err(Busy { running: a.clone() }));
        assert!(ops.start("clusters/d").is_ok());
        assert_eq!(ops.poll(&a), Some(false));
        assert_eq!(ops.poll(&a), Some(true));
        assert!(ops.start("clusters/c").is_ok());
        assert_eq!(ops.poll("nope"), None);
    }

    #[test]
    fn zero_polls_means_done_at_once() {
        let ops = Operations::new(0);
        let a = ops.start("x").expect("start");
        assert_eq!(ops.is_done(&a), Some(true));
        assert!(ops.start("x").is_ok());
    }
}
