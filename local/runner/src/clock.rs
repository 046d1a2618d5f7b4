//! The clock executions run on: virtual time the caller controls. Waits, Retry back-off,
//! task and execution timeouts all go through it, so tests run hours of virtual time
//! instantly.
//!
//! There is one clock type and no trait over it: every caller (Steward's sandbox, the
//! tests) runs workflows on virtual time, and a wall-clock variant that nothing ran was
//! dropped. A host whose services keep their own time (Steward's WorkSpaces Core emulator
//! has its service clock) couples them with [`ExecutionClock::on_advance`].

use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::oneshot;

type Observer = Arc<dyn Fn(DateTime<Utc>, DateTime<Utc>) + Send + Sync>;

struct Inner {
    now: DateTime<Utc>,
    sleepers: Vec<(DateTime<Utc>, oneshot::Sender<()>)>,
}

/// The virtual clock of executions, which the caller controls.
///
/// In auto-advance mode (the default) [`ExecutionClock::sleep_until`] moves time forward
/// to its deadline at once, so a six-hour polling loop runs in milliseconds.
/// [`ExecutionClock::deadline`] timers never move time; they fire when time passes them —
/// through another sleep or through [`ExecutionClock::advance`]. With auto-advance off,
/// every sleep waits for the caller to advance time. Observers registered with
/// [`ExecutionClock::on_advance`] run on every advance (outside the clock's lock), so an
/// emulator can do its work.
pub struct ExecutionClock {
    inner: Mutex<Inner>,
    auto_advance: AtomicBool,
    observers: Mutex<Vec<Observer>>,
}

impl std::fmt::Debug for ExecutionClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecutionClock")
            .field("now", &self.lock().now)
            .field("auto_advance", &self.auto_advance.load(Ordering::SeqCst))
            .finish()
    }
}

impl ExecutionClock {
    /// A clock at `start` that auto-advances for workflow sleeps.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            inner: Mutex::new(Inner {
                now: start,
                sleepers: Vec::new(),
            }),
            auto_advance: AtomicBool::new(true),
            observers: Mutex::new(Vec::new()),
        }
    }

    /// A clock at `start` that moves only when the caller advances it.
    pub fn manual(start: DateTime<Utc>) -> Self {
        let c = Self::new(start);
        c.set_auto_advance(false);
        c
    }

    pub fn set_auto_advance(&self, on: bool) {
        self.auto_advance.store(on, Ordering::SeqCst);
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f(from, to)` after every forward move of time.
    pub fn on_advance(&self, f: impl Fn(DateTime<Utc>, DateTime<Utc>) + Send + Sync + 'static) {
        self.observers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Arc::new(f));
    }

    pub fn advance(&self, by: chrono::Duration) {
        let to = self.now() + by;
        self.advance_to(to);
    }

    /// Moves time to `to` (never backwards), wakes every sleeper whose
    /// deadline has passed, then runs the observers.
    pub fn advance_to(&self, to: DateTime<Utc>) {
        let (from, due) = {
            let mut inner = self.lock();
            if to <= inner.now {
                return;
            }
            let from = inner.now;
            inner.now = to;
            let (due, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut inner.sleepers)
                .into_iter()
                .filter(|(_, tx)| !tx.is_closed())
                .partition(|(at, _)| *at <= to);
            inner.sleepers = keep;
            (from, due)
        };
        for (_, tx) in due {
            let _ = tx.send(());
        }
        let observers: Vec<Observer> = self
            .observers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for o in observers {
            o(from, to);
        }
    }

    /// The earliest pending sleep or deadline, if any.
    pub fn next_deadline(&self) -> Option<DateTime<Utc>> {
        self.lock()
            .sleepers
            .iter()
            .filter(|(_, tx)| !tx.is_closed())
            .map(|(at, _)| *at)
            .min()
    }

    /// Advances to the earliest pending deadline; false when none is pending.
    pub fn advance_to_next_deadline(&self) -> bool {
        match self.next_deadline() {
            Some(at) => {
                self.advance_to(at);
                true
            }
            None => false,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.lock().now
    }

    /// Sleep of the workflow itself (a Wait state, a Retry back-off): in auto-advance mode
    /// time jumps straight to `deadline`.
    pub async fn sleep_until(&self, deadline: DateTime<Utc>) {
        if self.auto_advance.load(Ordering::SeqCst) {
            self.advance_to(deadline);
        } else {
            self.wait(deadline).await;
        }
    }

    /// A deadline that races outside work (a task timeout, a heartbeat, a callback pause,
    /// the execution timeout). It never moves time on its own: it fires only once time has
    /// reached it because something else advanced the clock.
    pub async fn deadline(&self, at: DateTime<Utc>) {
        self.wait(at).await;
    }

    async fn wait(&self, at: DateTime<Utc>) {
        let rx = {
            let mut inner = self.lock();
            if at <= inner.now {
                return;
            }
            let (tx, rx) = oneshot::channel();
            inner.sleepers.push((at, tx));
            rx
        };
        let _ = rx.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::sync::atomic::AtomicUsize;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn auto_sleep_jumps_and_fires_passed_deadlines() {
        let clock = Arc::new(ExecutionClock::new(t0()));
        let seen = Arc::new(AtomicUsize::new(0));
        let s = seen.clone();
        clock.on_advance(move |_, _| {
            s.fetch_add(1, Ordering::SeqCst);
        });
        let c2 = clock.clone();
        let timer =
            tokio::spawn(async move { c2.deadline(t0() + chrono::Duration::seconds(5)).await });
        tokio::task::yield_now().await;
        clock.sleep_until(t0() + chrono::Duration::hours(6)).await;
        assert_eq!(clock.now(), t0() + chrono::Duration::hours(6));
        assert!(timer.await.is_ok());
        assert_eq!(seen.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn manual_clock_waits_for_advance() {
        let clock = Arc::new(ExecutionClock::manual(t0()));
        let c2 = clock.clone();
        let sleeper =
            tokio::spawn(async move { c2.sleep_until(t0() + chrono::Duration::seconds(10)).await });
        while clock.next_deadline().is_none() {
            tokio::task::yield_now().await;
        }
        assert!(!sleeper.is_finished());
        assert!(clock.advance_to_next_deadline());
        assert!(sleeper.await.is_ok());
        assert_eq!(clock.now(), t0() + chrono::Duration::seconds(10));
    }
}
