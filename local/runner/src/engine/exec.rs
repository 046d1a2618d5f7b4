//! One execution: its state ([`Exec`]), its history, its clock (Wait sleeps and deadlines
//! bounded by the execution's timeout), the context object, and the walk through a block of
//! states. What each kind of state does is in [`super::states`], [`super::retry`],
//! [`super::task`] and [`super::map`].

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::tokens::TokenRegistry;
use super::{RunnerConfig, TaskInvoker};
use crate::clock::ExecutionClock;
use crate::definition::{Block, State, Transition};
use crate::error::{RUNNER_EXECUTION_TIMED_OUT, RUNNER_TRANSITION_LIMIT, StateError};
use crate::history::{HistoryEvent, HistoryEventType};

/// One execution's state, shared by its task and its [`super::Execution`] handles.
pub(super) struct Exec {
    pub(super) name: String,
    pub(super) id: String,
    pub(super) machine_id: String,
    pub(super) start_time: DateTime<Utc>,
    pub(super) input: Value,
    pub(super) clock: Arc<ExecutionClock>,
    pub(super) invoker: Arc<dyn TaskInvoker>,
    pub(super) tokens: Arc<TokenRegistry>,
    pub(super) history: Mutex<Vec<HistoryEvent>>,
    pub(super) transitions: AtomicUsize,
    pub(super) config: RunnerConfig,
    pub(super) rng: Mutex<u64>,
    pub(super) deadline: Option<DateTime<Utc>>,
}

/// Where a state sends its output.
pub(super) enum Flow {
    Next(String, Value),
    End(Value),
}

/// The state's own transition (Next, or End).
pub(super) fn flow(st: &State, out: Value) -> Flow {
    match &st.transition {
        Some(Transition::Next(n)) => Flow::Next(n.clone(), out),
        _ => Flow::End(out),
    }
}

/// What the context object (`$$`) of one state attempt says.
pub(super) struct StateCtx<'a> {
    pub(super) state: &'a State,
    pub(super) entered: DateTime<Utc>,
    pub(super) retry_count: u64,
    pub(super) token: Option<&'a str>,
    pub(super) map_item: Option<(usize, &'a Value)>,
}

/// A timestamp as the context object and the history write it.
pub(super) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Exec {
    pub(super) fn history_lock(&self) -> MutexGuard<'_, Vec<HistoryEvent>> {
        self.history.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn record(&self, event_type: HistoryEventType, state: Option<&str>, detail: Value) {
        let mut h = self.history_lock();
        let id = h.len() + 1;
        h.push(HistoryEvent {
            id,
            timestamp: self.clock.now(),
            event_type,
            state: state.map(str::to_string),
            detail,
        });
    }

    pub(super) fn past_deadline(&self) -> bool {
        self.deadline.is_some_and(|d| self.clock.now() >= d)
    }

    pub(super) fn check_deadline(&self) -> Result<(), StateError> {
        if self.past_deadline() {
            return Err(StateError::new(
                RUNNER_EXECUTION_TIMED_OUT,
                "the execution's TimeoutSeconds passed",
            ));
        }
        Ok(())
    }

    /// A workflow sleep (Wait, Retry back-off) that never runs the clock
    /// past the execution's own timeout.
    pub(super) async fn sleep(&self, until: DateTime<Utc>) -> Result<(), StateError> {
        let until = match self.deadline {
            Some(d) if d < until => d,
            _ => until,
        };
        self.clock.sleep_until(until).await;
        self.check_deadline()
    }

    pub(super) async fn deadline(&self, at: Option<DateTime<Utc>>) {
        match at {
            Some(t) => self.clock.deadline(t).await,
            None => std::future::pending().await,
        }
    }

    pub(super) fn context(&self, c: &StateCtx<'_>) -> Value {
        let mut ctx = json!({
            "Execution": {
                "Id": self.id,
                "Input": self.input,
                "Name": self.name,
                "RoleArn": format!("arn:aws:iam::{}:role/local-runner", self.config.account),
                "StartTime": ts(self.start_time),
            },
            "State": {
                "EnteredTime": ts(c.entered),
                "Name": c.state.name,
                "RetryCount": c.retry_count,
            },
            "StateMachine": {"Id": self.machine_id, "Name": self.config.state_machine_name},
        });
        if let Some(obj) = ctx.as_object_mut() {
            if let Some(t) = c.token {
                obj.insert("Task".into(), json!({"Token": t}));
            }
            if let Some((i, v)) = c.map_item {
                obj.insert("Map".into(), json!({"Item": {"Index": i, "Value": v}}));
            }
        }
        ctx
    }

    pub(super) fn next_random(&self) -> f64 {
        let mut s = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        // xorshift64*
        let mut x = *s;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *s = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(super) fn run_block<'a>(
        &'a self,
        block: &'a Block,
        input: Value,
    ) -> BoxFuture<'a, Result<Value, StateError>> {
        Box::pin(async move {
            let mut current = block.start_at.clone();
            let mut data = input;
            loop {
                let st = block
                    .states
                    .get(&current)
                    .ok_or_else(|| StateError::runtime(format!("no state named `{current}`")))?;
                let n = self.transitions.fetch_add(1, Ordering::SeqCst) + 1;
                if n > self.config.max_transitions {
                    return Err(StateError::new(
                        RUNNER_TRANSITION_LIMIT,
                        format!(
                            "more than {} state transitions; stopped at `{}`",
                            self.config.max_transitions, st.name
                        ),
                    ));
                }
                self.check_deadline()?;
                self.record(
                    HistoryEventType::StateEntered,
                    Some(&st.name),
                    json!({"input": data}),
                );
                match self.run_state(st, data).await? {
                    Flow::Next(next, out) => {
                        self.record(
                            HistoryEventType::StateExited,
                            Some(&st.name),
                            json!({"output": out, "next": next}),
                        );
                        current = next;
                        data = out;
                    }
                    Flow::End(out) => {
                        self.record(
                            HistoryEventType::StateExited,
                            Some(&st.name),
                            json!({"output": out}),
                        );
                        return Ok(out);
                    }
                }
            }
        })
    }
}
