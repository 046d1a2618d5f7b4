//! The template's schedules (`Schedule` events of its state machines) on the virtual
//! clock. EventBridge fires a `rate(N minutes)` schedule first N minutes after it is
//! created, then every N minutes; here "created" is when `serve` starts, on the emulator's
//! time.
//!
//! Two ways time moves, two ways schedules follow:
//! - [`Schedules::advance_to`] (the control API's clock advance, through `serve`): time
//!   steps from one due instant to the next; at each, the due executions start with the
//!   schedule's input and run to their end before time moves on. A day advanced in one
//!   call is a day of sweeps, each seeing its own time, in seconds.
//! - [`Schedules::catch_up`] (a few times a second): real time, or an execution's Wait
//!   state, moved the clock past due instants; each such schedule starts one execution now
//!   (late), however many of its instants were passed: onboarding's polling jumps hours, and
//!   dozens of sweeps at the same instant would all see the same time.

use chrono::{DateTime, Utc};
use std::sync::Arc;
use stepfunctions_runner::api::StepFunctionsApi;
use workspaces_core_emulator::Control;

use super::clocks::Clocks;
use super::stack::Schedule;

/// How long one scheduled execution may run (real time) before stepping goes on without it.
const EXECUTION_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

struct Entry {
    machine_arn: String,
    schedule: Schedule,
    next_due: DateTime<Utc>,
}

#[derive(Clone)]
pub struct Schedules {
    entries: Arc<tokio::sync::Mutex<Vec<Entry>>>,
    sfn: StepFunctionsApi,
    control: Control,
    clocks: Clocks,
    fired: Arc<std::sync::atomic::AtomicU64>,
}

impl Schedules {
    /// `schedules`: each machine's ARN and its schedules.
    pub fn new(
        schedules: Vec<(String, Schedule)>,
        sfn: StepFunctionsApi,
        control: Control,
        clocks: Clocks,
    ) -> Self {
        let now = control.now();
        let entries = schedules
            .into_iter()
            .map(|(machine_arn, schedule)| Entry {
                next_due: now + schedule.every,
                machine_arn,
                schedule,
            })
            .collect();
        Self {
            entries: Arc::new(tokio::sync::Mutex::new(entries)),
            sfn,
            control,
            clocks,
            fired: Arc::default(),
        }
    }

    /// Executions the schedules started.
    pub fn fired(&self) -> u64 {
        self.fired.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Starts the executions due at or before `now`, one per due instant, and returns
    /// their ARNs.
    fn fire_due(&self, entries: &mut [Entry], now: DateTime<Utc>) -> Vec<String> {
        let mut started = Vec::new();
        for entry in entries.iter_mut() {
            while entry.next_due <= now {
                started.extend(self.start(entry));
                entry.next_due += entry.schedule.every;
            }
        }
        started
    }

    /// Starts what real time or a Wait state made due (see the module docs): one execution
    /// per schedule, however many of its instants were passed — they would all see the same
    /// time, so more would only repeat the first one's work.
    pub async fn catch_up(&self) {
        let mut entries = self.entries.lock().await;
        self.clocks.sync();
        let now = self.control.now();
        for entry in entries.iter_mut().filter(|e| e.next_due <= now) {
            let mut passed = 0u32;
            while entry.next_due <= now {
                entry.next_due += entry.schedule.every;
                passed += 1;
            }
            tracing::debug!(schedule = %entry.schedule.name, passed, "started late, once");
            self.start(entry);
        }
    }

    fn start(&self, entry: &Entry) -> Option<String> {
        self.fired.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        match self
            .sfn
            .start_execution(&entry.machine_arn, None, entry.schedule.input.clone())
        {
            Ok(s) => Some(s.execution_arn),
            Err(e) => {
                tracing::error!(schedule = %entry.schedule.name, error = %e,
                    "the scheduled execution did not start");
                None
            }
        }
    }

    /// Moves the emulator's clock to `to`, stopping at each due instant to run what is due
    /// there to its end. Returns the executions it started.
    pub async fn advance_to(&self, to: DateTime<Utc>) -> usize {
        let mut entries = self.entries.lock().await;
        let mut started = 0;
        while let Some(next) = entries
            .iter()
            .map(|e| e.next_due)
            .min()
            .filter(|next| *next <= to)
        {
            self.set_time(next);
            let arns = self.fire_due(&mut entries, self.control.now());
            started += arns.len();
            for arn in arns {
                if tokio::time::timeout(EXECUTION_LIMIT, self.sfn.wait(&arn))
                    .await
                    .is_err()
                {
                    tracing::warn!(execution = %arn, "a scheduled execution is still running; time moves on");
                }
            }
        }
        self.set_time(to);
        started
    }

    fn set_time(&self, to: DateTime<Utc>) {
        if to > self.control.now()
            && let Err(e) = self.control.set_time(to)
        {
            tracing::error!(error = %e, "could not move the emulator's clock");
        }
        self.clocks.sync();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use stepfunctions_runner::api::{MachineSpec, MachineType};
    use stepfunctions_runner::{FnInvoker, RunnerConfig, StateMachine};

    #[tokio::test]
    async fn advancing_steps_every_instant_and_a_jump_starts_each_schedule_once() {
        let start: DateTime<Utc> = "2026-11-23T08:00:00Z".parse().unwrap();
        let emu = crate::serve::clocks::empty_emulator_at(start).await;
        let control = emu.control().clone();
        let clocks = Clocks::new(control.clone());
        let factory = clocks.clone();
        let sfn = StepFunctionsApi::new(
            "us-east-1",
            "111122223333",
            Arc::new(move || factory.new_clock()),
        );
        let machine = StateMachine::from_definition(&serde_json::json!({
            "StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": true}}
        }))
        .unwrap();
        let arn = sfn.add_state_machine(MachineSpec {
            name: "sweep".into(),
            machine,
            invoker: Arc::new(FnInvoker::new()),
            machine_type: MachineType::Standard,
            config: RunnerConfig::default(),
        });
        let every5 = Schedule {
            name: "Idle".into(),
            every: chrono::Duration::minutes(5),
            input: serde_json::json!({"kind": "IDLE"}),
        };
        let schedules = Schedules::new(vec![(arn, every5)], sfn.clone(), control.clone(), clocks);
        // 20 minutes stepped: the instants at 5, 10, 15 and 20 minutes, each at its time.
        let started = schedules
            .advance_to(control.now() + chrono::Duration::minutes(20))
            .await;
        assert_eq!((started, schedules.fired()), (4, 4));
        assert!(sfn.running().is_empty(), "each ran to its end");
        // A jump of an hour past six more instants (an execution's Wait state): one start.
        control.advance_seconds(3600.0).unwrap();
        schedules.catch_up().await;
        assert_eq!(schedules.fired(), 5);
        schedules.catch_up().await;
        assert_eq!(schedules.fired(), 5, "nothing more is due");
        emu.shutdown().await;
    }
}
