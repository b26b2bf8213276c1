//! Time, behind a trait: the [`Sleeper`] that retries and waiters sleep on and read the
//! clock from.
//!
//! Retries and waiters never call `tokio::time` directly. Production code passes
//! [`TokioSleeper`]; tests pass a [`RecordingSleeper`], whose sleeps return at once and
//! move a virtual clock forward, so a twenty-minute wait runs in microseconds, never
//! flakes on a loaded machine, and the test can assert the exact delays chosen.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::watch;

/// Sleeps and tells the time, so that the engine's timing can be replaced in tests.
///
/// The clock and the sleep live on one trait because they must agree: a fake sleep
/// has to move the fake clock, or deadlines computed from [`Sleeper::now`] would never
/// pass.
#[async_trait]
pub trait Sleeper: Send + Sync + fmt::Debug {
    /// Sleeps for `duration`. Callers race this against cancellation, so an
    /// implementation may simply never return (see [`RecordingSleeper::blocking`]).
    async fn sleep(&self, duration: Duration);

    /// The current instant on this sleeper's clock; deadlines and "waited for" are
    /// measured with it.
    fn now(&self) -> Instant;
}

/// The real sleeper: `tokio::time::sleep` and tokio's clock (which also honours a
/// paused tokio test clock).
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

#[async_trait]
impl Sleeper for TokioSleeper {
    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }

    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }
}

/// The process's time scale (see [`set_time_scale`]) and the instant it was set.
static TIME_SCALE: OnceLock<(f64, Instant)> = OnceLock::new();

/// Runs every waiter and retry of this process on a clock `scale` times faster than
/// the wall clock: a pause of a minute takes a second at 60, and deadlines pass as
/// fast. For benchmarks and tests against a stand-in whose objects take modelled
/// time on the same scale (the provider's CLI reads `PAVED_TIME_SCALE`); never in
/// production. The first call wins; a scale that is not finite and above 1 is
/// ignored. Returns whether the scale was set.
pub fn set_time_scale(scale: f64) -> bool {
    scale.is_finite()
        && scale > 1.0
        && TIME_SCALE
            .set((scale, tokio::time::Instant::now().into_std()))
            .is_ok()
}

/// The sleeper every operation uses unless a test gives another: [`TokioSleeper`],
/// or a [`ScaledSleeper`] when [`set_time_scale`] was called.
pub fn default_sleeper() -> Arc<dyn Sleeper> {
    match TIME_SCALE.get() {
        Some(&(scale, origin)) => Arc::new(ScaledSleeper { scale, origin }),
        None => Arc::new(TokioSleeper),
    }
}

/// A real sleeper on a faster clock (see [`set_time_scale`]): it sleeps a
/// `scale`-th of each pause, and its clock counts `scale` seconds per real second
/// from a shared origin, so deadlines and pauses agree.
#[derive(Debug, Clone, Copy)]
pub struct ScaledSleeper {
    scale: f64,
    origin: Instant,
}

#[async_trait]
impl Sleeper for ScaledSleeper {
    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration.div_f64(self.scale)).await;
    }

    fn now(&self) -> Instant {
        let real = tokio::time::Instant::now()
            .into_std()
            .saturating_duration_since(self.origin);
        self.origin + real.mul_f64(self.scale)
    }
}

/// A fake sleeper for tests: records every delay asked for and advances a virtual
/// clock by it instead of waiting.
///
/// Clones share the same record and clock, so a test keeps one clone to inspect while
/// the code under test owns another. Built with [`RecordingSleeper::blocking`], sleeps
/// are recorded but never complete, which lets a test cancel an operation while it is
/// backing off.
#[derive(Clone)]
pub struct RecordingSleeper {
    inner: Arc<Inner>,
}

struct Inner {
    origin: Instant,
    blocking: bool,
    state: Mutex<State>,
    /// How many sleeps have started; lets a test wait for "the code is now sleeping".
    started: watch::Sender<usize>,
}

#[derive(Default)]
struct State {
    elapsed: Duration,
    delays: Vec<Duration>,
}

impl RecordingSleeper {
    /// A fake whose sleeps return at once after moving the virtual clock forward.
    pub fn new() -> Self {
        Self::build(false)
    }

    /// A fake whose sleeps are recorded but never return: the code under test stays
    /// "asleep" until something else (cancellation) ends it.
    pub fn blocking() -> Self {
        Self::build(true)
    }

    fn build(blocking: bool) -> Self {
        let (started, _) = watch::channel(0);
        Self {
            inner: Arc::new(Inner {
                origin: Instant::now(),
                blocking,
                state: Mutex::new(State::default()),
                started,
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock can only come from a failing test; the data
        // (a list of durations) stays consistent, so keep using it.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every delay slept so far, in order.
    pub fn delays(&self) -> Vec<Duration> {
        self.state().delays.clone()
    }

    /// Virtual time elapsed since this fake was built (sleeps plus [`Self::advance`]).
    pub fn elapsed(&self) -> Duration {
        self.state().elapsed
    }

    /// Moves the virtual clock forward without recording a sleep, to model an
    /// operation that itself takes time.
    pub fn advance(&self, duration: Duration) {
        let mut state = self.state();
        state.elapsed = state.elapsed.saturating_add(duration);
    }

    /// Resolves once at least `count` sleeps have started (they may still be blocked).
    pub async fn wait_for_sleeps(&self, count: usize) {
        let mut started = self.inner.started.subscribe();
        // The sender lives in `self`, so the channel cannot close while we wait.
        let _ = started.wait_for(|&n| n >= count).await;
    }
}

impl Default for RecordingSleeper {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for RecordingSleeper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("RecordingSleeper")
            .field("blocking", &self.inner.blocking)
            .field("elapsed", &state.elapsed)
            .field("delays", &state.delays)
            .finish()
    }
}

#[async_trait]
impl Sleeper for RecordingSleeper {
    async fn sleep(&self, duration: Duration) {
        {
            let mut state = self.state();
            state.delays.push(duration);
            if !self.inner.blocking {
                state.elapsed = state.elapsed.saturating_add(duration);
            }
        }
        self.inner.started.send_modify(|n| *n += 1);
        if self.inner.blocking {
            std::future::pending::<()>().await;
        }
    }

    fn now(&self) -> Instant {
        let elapsed = self.state().elapsed;
        // `Instant + Duration` can overflow only after centuries of virtual time;
        // saturate at the origin's far end instead of panicking.
        self.inner
            .origin
            .checked_add(elapsed)
            .unwrap_or(self.inner.origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_scaled_sleeper_sleeps_a_fraction_and_its_clock_runs_faster() {
        let origin = tokio::time::Instant::now().into_std();
        let fast = ScaledSleeper {
            scale: 100.0,
            origin,
        };
        let real = std::time::Instant::now();
        let before = fast.now();
        fast.sleep(Duration::from_secs(5)).await;
        let real_elapsed = real.elapsed();
        let modelled = fast.now().saturating_duration_since(before);
        assert!(
            real_elapsed < Duration::from_secs(2),
            "5 s at 100x took {real_elapsed:?}"
        );
        assert!(
            modelled >= Duration::from_secs(5),
            "the scaled clock moved {modelled:?}"
        );
        assert!(!set_time_scale(f64::NAN) && !set_time_scale(0.5));
    }

    #[tokio::test]
    async fn recording_sleeper_records_and_advances_the_clock() {
        let sleeper = RecordingSleeper::new();
        let start = sleeper.now();
        sleeper.sleep(Duration::from_secs(3)).await;
        sleeper.advance(Duration::from_secs(2));
        sleeper.sleep(Duration::from_millis(500)).await;
        assert_eq!(
            sleeper.delays(),
            vec![Duration::from_secs(3), Duration::from_millis(500)]
        );
        assert_eq!(sleeper.elapsed(), Duration::from_millis(5500));
        assert_eq!(sleeper.now() - start, Duration::from_millis(5500));
    }

    #[tokio::test]
    async fn blocking_sleeper_never_wakes_but_reports_the_sleep() {
        let sleeper = RecordingSleeper::blocking();
        let observer = sleeper.clone();
        let outcome = tokio::select! {
            biased;
            _ = sleeper.sleep(Duration::from_secs(1)) => "woke",
            _ = observer.wait_for_sleeps(1) => "observed",
        };
        assert_eq!(outcome, "observed");
        assert_eq!(observer.delays(), vec![Duration::from_secs(1)]);
        assert_eq!(observer.elapsed(), Duration::ZERO);
    }
}
