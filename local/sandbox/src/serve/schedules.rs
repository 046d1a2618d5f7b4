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
//!   state, moved the clock past due instants; those executions start now, one per missed
//!   instant, as EventBridge would have started them (late).

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
    async fn fire_due(&self, entries: &mut [Entry], now: DateTime<Utc>) -> Vec<String> {
        let mut started = Vec::new();
        for entry in entries.iter_mut() {
            while entry.next_due <= now {
                match self.sfn.start_execution(
                    &entry.machine_arn,
                    None,
                    entry.schedule.input.clone(),
                ) {
                    Ok(s) => started.push(s.execution_arn),
                    Err(e) => tracing::error!(schedule = %entry.schedule.name, error = %e,
                        "the scheduled execution did not start"),
                }
                self.fired.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                entry.next_due += entry.schedule.every;
            }
        }
        started
    }

    /// Starts what real time or a Wait state made due (see the module docs).
    pub async fn catch_up(&self) {
        let mut entries = self.entries.lock().await;
        self.clocks.sync();
        let now = self.control.now();
        self.fire_due(&mut entries, now).await;
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
            let arns = self.fire_due(&mut entries, self.control.now()).await;
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
