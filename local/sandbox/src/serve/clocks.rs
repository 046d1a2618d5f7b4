//! One virtual time for everything `serve` runs: the emulator's service clock.
//!
//! Each execution gets its own [`ExecutionClock`] (the runner's), started at the emulator's
//! time. Two rules keep them one time:
//! - an execution that jumps its clock (a Wait state, a Retry back-off: auto-advance, so a
//!   six-hour polling loop of onboarding takes milliseconds) moves the emulator's clock to
//!   at least the same instant — never by a delta, so clocks that are in step never push
//!   each other on;
//! - [`Clocks::sync`] moves every live execution clock up to the emulator's time, so that a
//!   paused task's timeout or heartbeat deadline fires when the partner advances the clock
//!   (the control API) or when real time passes it. `serve` syncs after every advance and
//!   a few times a second.

use std::sync::{Arc, Weak};

use stepfunctions_runner::ExecutionClock;
use workspaces_core_emulator::Control;

#[derive(Clone)]
pub struct Clocks {
    control: Control,
    live: Arc<parking_lot::Mutex<Vec<Weak<ExecutionClock>>>>,
}

impl Clocks {
    pub fn new(control: Control) -> Self {
        Self {
            control,
            live: Arc::default(),
        }
    }

    /// A clock for a new execution, coupled to the emulator's.
    pub fn new_clock(&self) -> Arc<ExecutionClock> {
        let clock = Arc::new(ExecutionClock::new(self.control.now()));
        let control = self.control.clone();
        clock.on_advance(move |_, to| {
            if to > control.now()
                && let Err(e) = control.set_time(to)
            {
                tracing::error!(error = %e, "could not move the emulator's clock");
            }
        });
        let mut live = self.live.lock();
        live.retain(|w| w.strong_count() > 0);
        live.push(Arc::downgrade(&clock));
        clock
    }

    /// Moves every live execution clock up to the emulator's time.
    pub fn sync(&self) {
        let now = self.control.now();
        let clocks: Vec<Arc<ExecutionClock>> =
            self.live.lock().iter().filter_map(Weak::upgrade).collect();
        for clock in clocks {
            clock.advance_to(now);
        }
    }

    /// Execution clocks still held by an execution.
    pub fn live(&self) -> usize {
        self.live
            .lock()
            .iter()
            .filter(|w| w.strong_count() > 0)
            .count()
    }
}

/// For the serve modules' tests: an empty emulator whose clock starts at `start`.
#[cfg(test)]
pub(super) async fn empty_emulator_at(
    start: chrono::DateTime<chrono::Utc>,
) -> workspaces_core_emulator::EmulatorHandle {
    use workspaces_core_emulator::{Emulator, EmulatorConfig, SeedKind};
    Emulator::start(EmulatorConfig {
        seed: SeedKind::None,
        start_time: Some(start),
        ..EmulatorConfig::default()
    })
    .await
    .expect("the emulator starts")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_jump_moves_the_emulator_and_sync_moves_the_others() {
        let start: chrono::DateTime<chrono::Utc> = "2026-11-23T08:00:00Z".parse().unwrap();
        let emu = empty_emulator_at(start).await;
        let clocks = Clocks::new(emu.control().clone());
        let a = clocks.new_clock();
        let b = clocks.new_clock();
        a.advance(chrono::Duration::hours(6));
        let emulator_now = emu.control().now();
        assert!(emulator_now >= start + chrono::Duration::hours(6));
        assert!(emulator_now < start + chrono::Duration::hours(6) + chrono::Duration::minutes(1));
        // b has not moved until synced; then it is at the emulator's time.
        assert!(b.now() < start + chrono::Duration::minutes(1));
        clocks.sync();
        assert!(b.now() >= emulator_now);
        // A sync never pushes the emulator on: a is behind by at most the real time passed.
        let before = emu.control().now();
        clocks.sync();
        assert!(emu.control().now() - before < chrono::Duration::seconds(1));
        assert_eq!(clocks.live(), 2);
        drop(a);
        assert_eq!(clocks.live(), 1);
        emu.shutdown().await;
    }
}
