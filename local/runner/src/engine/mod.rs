//! The execution engine: runs a loaded state machine on tokio against a caller-supplied
//! task invoker and [`ExecutionClock`], and records a history.
//!
//! Here: the public face — [`Runner`], [`Execution`], the task invoker's contract
//! ([`TaskInvoker`], [`TaskRequest`], [`TaskFailure`]) and [`PendingTask`]. Within:
//! [`exec`] (one execution: history, clock, context object, the walk through a block),
//! [`states`] (Pass, Wait, Choice, Succeed, Fail), [`retry`] (Retry / Catch and one attempt),
//! [`task`] (Task, callbacks included), [`map`] (Map), [`tokens`] (task tokens).

mod exec;
mod map;
mod retry;
mod states;
mod task;
mod tokens;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

use crate::clock::ExecutionClock;
use crate::definition::StateMachine;
use crate::error::STATES_TIMEOUT;
use crate::history::{HistoryEvent, HistoryEventType};
use exec::Exec;
pub use tokens::TaskTokenError;
use tokens::{TokenEvent, TokenRegistry};

/// What the runner hands the invoker for one Task attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRequest {
    pub execution_name: String,
    pub state_name: String,
    /// The Task's `Resource` as written (after template substitution).
    pub resource: String,
    /// The function to run: `FunctionName` for `lambda:invoke`, the resource otherwise.
    pub function_name: String,
    /// The function's event: `Payload` for `lambda:invoke`, else the effective input.
    pub input: Value,
    /// Set for `.waitForTaskToken` tasks: answer it through the execution handle.
    pub task_token: Option<String>,
    pub timeout_seconds: Option<u64>,
    pub heartbeat_seconds: Option<u64>,
    /// 0 for the first attempt, then 1, 2... on retries.
    pub retry_count: u64,
}

/// A task's failure: `error` is the name Retry/Catch match on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {cause}")]
pub struct TaskFailure {
    pub error: String,
    pub cause: String,
}

impl TaskFailure {
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            cause: cause.into(),
        }
    }
}

/// Runs the functions a definition's Tasks name.
#[async_trait]
pub trait TaskInvoker: Send + Sync {
    /// The function's output, or its error. For a `.waitForTaskToken` task
    /// the output is ignored: the task waits for the token to be answered.
    async fn invoke(&self, request: TaskRequest) -> Result<Value, TaskFailure>;
}

#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// States entered per execution before it fails with
    /// `Runner.TransitionLimitExceeded` (Step Functions caps a history at 25,000 events).
    pub max_transitions: usize,
    /// Seed of the deterministic generator behind `JitterStrategy: FULL`.
    pub jitter_seed: u64,
    /// Used in the context object's ARNs.
    pub state_machine_name: String,
    pub region: String,
    pub account: String,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            max_transitions: 25_000,
            jitter_seed: 0x5EED,
            state_machine_name: "StateMachine".into(),
            region: "local".into(),
            account: "000000000000".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExecutionResult {
    Succeeded { output: Value },
    Failed { error: String, cause: String },
    TimedOut,
    Aborted,
}

/// A `.waitForTaskToken` task waiting for its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingTask {
    pub token: String,
    pub execution_name: String,
    pub state_name: String,
    /// What the task was invoked with (the Payload / effective input).
    pub input: Value,
    pub issued_at: DateTime<Utc>,
}

/// Starts executions of one state machine.
pub struct Runner {
    machine: Arc<StateMachine>,
    clock: Arc<ExecutionClock>,
    invoker: Arc<dyn TaskInvoker>,
    config: RunnerConfig,
    tokens: Arc<TokenRegistry>,
}

impl Runner {
    pub fn new(
        machine: StateMachine,
        clock: Arc<ExecutionClock>,
        invoker: Arc<dyn TaskInvoker>,
    ) -> Self {
        Self {
            machine: Arc::new(machine),
            clock,
            invoker,
            config: RunnerConfig::default(),
            tokens: Arc::new(TokenRegistry::new()),
        }
    }

    pub fn with_config(mut self, config: RunnerConfig) -> Self {
        self.config = config;
        self
    }

    /// Starts an execution on the current tokio runtime.
    pub fn start(&self, name: &str, input: Value) -> Execution {
        let c = &self.config;
        let id = format!(
            "arn:aws:states:{}:{}:execution:{}:{}",
            c.region, c.account, c.state_machine_name, name
        );
        let exec = Arc::new(Exec {
            name: name.to_string(),
            id,
            machine_id: format!(
                "arn:aws:states:{}:{}:stateMachine:{}",
                c.region, c.account, c.state_machine_name
            ),
            start_time: self.clock.now(),
            input: input.clone(),
            clock: self.clock.clone(),
            invoker: self.invoker.clone(),
            tokens: self.tokens.clone(),
            history: Mutex::new(Vec::new()),
            transitions: AtomicUsize::new(0),
            config: self.config.clone(),
            rng: Mutex::new(self.config.jitter_seed | 1),
            deadline: self.machine.timeout_seconds.map(|s| {
                self.clock.now()
                    + chrono::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000))
            }),
        });
        let (result_tx, result_rx) = watch::channel(None);
        let (stop_tx, mut stop_rx) = watch::channel(false);
        let machine = self.machine.clone();
        let e = exec.clone();
        exec.record(
            HistoryEventType::ExecutionStarted,
            None,
            json!({"input": input}),
        );
        tokio::spawn(async move {
            let result = tokio::select! {
                biased;
                _ = stop_rx.wait_for(|s| *s) => ExecutionResult::Aborted,
                _ = e.deadline(e.deadline) => ExecutionResult::TimedOut,
                r = e.run_block(&machine.root, input) => match r {
                    _ if e.past_deadline() => ExecutionResult::TimedOut,
                    Ok(output) => ExecutionResult::Succeeded { output },
                    Err(err) => ExecutionResult::Failed { error: err.error, cause: err.cause },
                },
            };
            let (ty, detail) = match &result {
                ExecutionResult::Succeeded { output } => (
                    HistoryEventType::ExecutionSucceeded,
                    json!({"output": output}),
                ),
                ExecutionResult::Failed { error, cause } => (
                    HistoryEventType::ExecutionFailed,
                    json!({"error": error, "cause": cause}),
                ),
                ExecutionResult::TimedOut => (
                    HistoryEventType::ExecutionTimedOut,
                    json!({"error": STATES_TIMEOUT}),
                ),
                ExecutionResult::Aborted => (HistoryEventType::ExecutionAborted, Value::Null),
            };
            e.record(ty, None, detail);
            let _ = result_tx.send(Some(result));
            e.tokens.bump();
        });
        Execution {
            exec,
            result: result_rx,
            stop: Arc::new(stop_tx),
        }
    }

    /// SendTaskSuccess: answers a `.waitForTaskToken` task of any execution.
    pub fn send_task_success(&self, token: &str, output: Value) -> Result<(), TaskTokenError> {
        self.tokens.send(token, TokenEvent::Success(output))
    }

    /// SendTaskFailure: the task fails with `error` (matched by Retry/Catch).
    pub fn send_task_failure(
        &self,
        token: &str,
        error: &str,
        cause: &str,
    ) -> Result<(), TaskTokenError> {
        self.tokens
            .send(token, TokenEvent::Failure(TaskFailure::new(error, cause)))
    }

    /// SendTaskHeartbeat: restarts the task's `HeartbeatSeconds` countdown.
    pub fn send_task_heartbeat(&self, token: &str) -> Result<(), TaskTokenError> {
        self.tokens.send(token, TokenEvent::Heartbeat)
    }

    /// Every pending task token of every execution.
    pub fn pending_tasks(&self) -> Vec<PendingTask> {
        self.tokens.pending(None)
    }
}

/// A handle on a running (or finished) execution.
#[derive(Clone)]
pub struct Execution {
    exec: Arc<Exec>,
    result: watch::Receiver<Option<ExecutionResult>>,
    stop: Arc<watch::Sender<bool>>,
}

impl std::fmt::Debug for Execution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Execution")
            .field("name", &self.exec.name)
            .finish()
    }
}

impl Execution {
    pub fn name(&self) -> &str {
        &self.exec.name
    }

    /// The execution ARN (`$$.Execution.Id`).
    pub fn id(&self) -> &str {
        &self.exec.id
    }

    /// Waits for the execution to end.
    pub async fn result(&self) -> ExecutionResult {
        let mut rx = self.result.clone();
        let crashed = || ExecutionResult::Failed {
            error: "Runner.Crashed".into(),
            cause: "the execution task ended without a result".into(),
        };
        let seen = match rx.wait_for(Option::is_some).await {
            Ok(r) => r.clone(),
            Err(_) => None,
        };
        seen.or_else(|| rx.borrow().clone()).unwrap_or_else(crashed)
    }

    /// The result if the execution has ended.
    pub fn try_result(&self) -> Option<ExecutionResult> {
        self.result.borrow().clone()
    }

    /// StopExecution: the execution ends as Aborted.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }

    pub fn history(&self) -> Vec<HistoryEvent> {
        self.exec.history_lock().clone()
    }

    /// The history, one event a line, for a demo's timeline.
    pub fn timeline(&self) -> String {
        self.history().iter().map(|e| format!("{e}\n")).collect()
    }

    /// Names of the states entered, in order (including nested ones).
    pub fn states_entered(&self) -> Vec<String> {
        self.history()
            .into_iter()
            .filter(|e| e.event_type == HistoryEventType::StateEntered)
            .filter_map(|e| e.state)
            .collect()
    }

    pub fn pending_tasks(&self) -> Vec<PendingTask> {
        self.exec.tokens.pending(Some(&self.exec.name))
    }

    /// Waits until a task of `state_name` holds a token (as a partner UI
    /// would see the pause); None if the execution ends first.
    pub async fn wait_for_task(&self, state_name: &str) -> Option<PendingTask> {
        let mut changes = self.exec.tokens.changed.subscribe();
        loop {
            changes.borrow_and_update();
            if let Some(t) = self
                .pending_tasks()
                .into_iter()
                .find(|t| t.state_name == state_name)
            {
                return Some(t);
            }
            if self.result.borrow().is_some() {
                return None;
            }
            if changes.changed().await.is_err() {
                return None;
            }
        }
    }

    pub fn send_task_success(&self, token: &str, output: Value) -> Result<(), TaskTokenError> {
        self.exec.tokens.send(token, TokenEvent::Success(output))
    }

    pub fn send_task_failure(
        &self,
        token: &str,
        error: &str,
        cause: &str,
    ) -> Result<(), TaskTokenError> {
        self.exec
            .tokens
            .send(token, TokenEvent::Failure(TaskFailure::new(error, cause)))
    }

    pub fn send_task_heartbeat(&self, token: &str) -> Result<(), TaskTokenError> {
        self.exec.tokens.send(token, TokenEvent::Heartbeat)
    }
}
