//! The execution engine: runs a loaded state machine on tokio against a
//! caller-supplied task invoker and clock, and records a history.

use super::clock::ExecutionClock;
use super::definition::{
    Block, FailField, Integration, Jitter, Kind, MapSpec, Seconds, State, StateMachine, TaskSpec,
    Transition, WaitSpec,
};
use super::error::{
    RUNNER_EXECUTION_TIMED_OUT, RUNNER_TRANSITION_LIMIT, STATES_HEARTBEAT_TIMEOUT,
    STATES_NO_CHOICE_MATCHED, STATES_TIMEOUT, StateError,
};
use super::history::{HistoryEvent, HistoryEventType};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, watch};

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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskTokenError {
    /// Unknown, already answered, timed out or its execution ended.
    #[error(
        "task token `{0}` does not exist (unknown, answered, timed out or its execution ended)"
    )]
    TaskDoesNotExist(String),
}

enum TokenEvent {
    Success(Value),
    Failure(TaskFailure),
    Heartbeat,
}

struct TokenEntry {
    task: PendingTask,
    tx: mpsc::UnboundedSender<TokenEvent>,
}

struct TokenRegistry {
    map: Mutex<HashMap<String, TokenEntry>>,
    changed: watch::Sender<u64>,
}

impl TokenRegistry {
    fn new() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            changed: watch::Sender::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, TokenEntry>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn bump(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    fn send(&self, token: &str, ev: TokenEvent) -> Result<(), TaskTokenError> {
        let mut map = self.lock();
        let missing = || TaskTokenError::TaskDoesNotExist(token.to_string());
        let entry = map.get(token).ok_or_else(missing)?;
        let keep = matches!(ev, TokenEvent::Heartbeat);
        entry.tx.send(ev).map_err(|_| missing())?;
        if !keep {
            map.remove(token);
        }
        drop(map);
        self.bump();
        Ok(())
    }

    fn pending(&self, execution: Option<&str>) -> Vec<PendingTask> {
        let mut v: Vec<PendingTask> = self
            .lock()
            .values()
            .filter(|e| execution.is_none_or(|n| e.task.execution_name == n))
            .map(|e| e.task.clone())
            .collect();
        v.sort_by(|a, b| {
            a.issued_at
                .cmp(&b.issued_at)
                .then(a.state_name.cmp(&b.state_name))
        });
        v
    }
}

/// Removes a token when its task ends, however it ends (even on abort).
struct TokenGuard {
    registry: Arc<TokenRegistry>,
    token: String,
}

impl Drop for TokenGuard {
    fn drop(&mut self) {
        if self.registry.lock().remove(&self.token).is_some() {
            self.registry.bump();
        }
    }
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

struct Exec {
    name: String,
    id: String,
    machine_id: String,
    start_time: DateTime<Utc>,
    input: Value,
    clock: Arc<ExecutionClock>,
    invoker: Arc<dyn TaskInvoker>,
    tokens: Arc<TokenRegistry>,
    history: Mutex<Vec<HistoryEvent>>,
    transitions: AtomicUsize,
    config: RunnerConfig,
    rng: Mutex<u64>,
    deadline: Option<DateTime<Utc>>,
}

/// Where a state sends its output.
enum Flow {
    Next(String, Value),
    End(Value),
}

fn flow(st: &State, out: Value) -> Flow {
    match &st.transition {
        Some(Transition::Next(n)) => Flow::Next(n.clone(), out),
        _ => Flow::End(out),
    }
}

struct StateCtx<'a> {
    state: &'a State,
    entered: DateTime<Utc>,
    retry_count: u64,
    token: Option<&'a str>,
    map_item: Option<(usize, &'a Value)>,
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Exec {
    fn history_lock(&self) -> MutexGuard<'_, Vec<HistoryEvent>> {
        self.history.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn record(&self, event_type: HistoryEventType, state: Option<&str>, detail: Value) {
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

    fn past_deadline(&self) -> bool {
        self.deadline.is_some_and(|d| self.clock.now() >= d)
    }

    fn check_deadline(&self) -> Result<(), StateError> {
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
    async fn sleep(&self, until: DateTime<Utc>) -> Result<(), StateError> {
        let until = match self.deadline {
            Some(d) if d < until => d,
            _ => until,
        };
        self.clock.sleep_until(until).await;
        self.check_deadline()
    }

    async fn deadline(&self, at: Option<DateTime<Utc>>) {
        match at {
            Some(t) => self.clock.deadline(t).await,
            None => std::future::pending().await,
        }
    }

    fn context(&self, c: &StateCtx<'_>) -> Value {
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

    fn next_random(&self) -> f64 {
        let mut s = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        // xorshift64*
        let mut x = *s;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *s = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn run_block<'a>(
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

    async fn run_state(&self, st: &State, raw: Value) -> Result<Flow, StateError> {
        let entered = self.clock.now();
        let sc = StateCtx {
            state: st,
            entered,
            retry_count: 0,
            token: None,
            map_item: None,
        };
        match &st.kind {
            Kind::Pass { result } => {
                let ctx = self.context(&sc);
                let eff = st.input_path.apply(&raw, &ctx, "InputPath")?;
                let eff = match &st.parameters {
                    Some(t) => t.evaluate(&eff, &ctx)?,
                    None => eff,
                };
                let merged = st.result_path.apply(&raw, result.clone().unwrap_or(eff))?;
                Ok(flow(st, st.output_path.apply(&merged, &ctx, "OutputPath")?))
            }
            Kind::Wait(spec) => {
                let ctx = self.context(&sc);
                let eff = st.input_path.apply(&raw, &ctx, "InputPath")?;
                let until = match spec {
                    WaitSpec::Seconds(s) => entered + chrono::Duration::seconds(*s as i64),
                    WaitSpec::SecondsPath(p) => {
                        let v = p.select_required(&eff, &ctx, "SecondsPath")?;
                        let s = v.as_u64().ok_or_else(|| {
                            StateError::runtime(format!(
                                "SecondsPath '{}' must select a non-negative integer, got {v}",
                                p.as_str()
                            ))
                        })?;
                        entered
                            + chrono::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000))
                    }
                    WaitSpec::Timestamp(t) => *t,
                    WaitSpec::TimestampPath(p) => {
                        let v = p.select_required(&eff, &ctx, "TimestampPath")?;
                        v.as_str()
                            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                            .map(|t| t.with_timezone(&Utc))
                            .ok_or_else(|| {
                                StateError::runtime(format!(
                                    "TimestampPath '{}' must select an RFC 3339 timestamp, got {v}",
                                    p.as_str()
                                ))
                            })?
                    }
                };
                self.record(
                    HistoryEventType::WaitStarted,
                    Some(&st.name),
                    json!({"until": ts(until)}),
                );
                self.sleep(until).await?;
                Ok(flow(st, st.output_path.apply(&eff, &ctx, "OutputPath")?))
            }
            Kind::Choice { choices, default } => {
                let ctx = self.context(&sc);
                let eff = st.input_path.apply(&raw, &ctx, "InputPath")?;
                let mut next = None;
                for (i, c) in choices.iter().enumerate() {
                    if c.rule.evaluate(&eff, &ctx)? {
                        self.record(
                            HistoryEventType::ChoiceMatched,
                            Some(&st.name),
                            json!({"rule": i, "next": c.next}),
                        );
                        next = Some(c.next.clone());
                        break;
                    }
                }
                let next = match (next, default) {
                    (Some(n), _) => n,
                    (None, Some(d)) => {
                        self.record(
                            HistoryEventType::ChoiceMatched,
                            Some(&st.name),
                            json!({"rule": "Default", "next": d}),
                        );
                        d.clone()
                    }
                    (None, None) => {
                        return Err(StateError::new(
                            STATES_NO_CHOICE_MATCHED,
                            format!("no choice rule of `{}` matched the input {eff}", st.name),
                        ));
                    }
                };
                Ok(Flow::Next(
                    next,
                    st.output_path.apply(&eff, &ctx, "OutputPath")?,
                ))
            }
            Kind::Succeed => {
                let ctx = self.context(&sc);
                let eff = st.input_path.apply(&raw, &ctx, "InputPath")?;
                Ok(Flow::End(st.output_path.apply(&eff, &ctx, "OutputPath")?))
            }
            Kind::Fail { error, cause } => {
                let ctx = self.context(&sc);
                let field = |f: &Option<FailField>, name: &str| -> Result<String, StateError> {
                    Ok(match f {
                        None => String::new(),
                        Some(FailField::Literal(s)) => s.clone(),
                        Some(FailField::Path(p)) => match p.select_required(&raw, &ctx, name)? {
                            Value::String(s) => s,
                            other => {
                                return Err(StateError::runtime(format!(
                                    "{name} '{}' must select a string, got {other}",
                                    p.as_str()
                                )));
                            }
                        },
                    })
                };
                Err(StateError::new(
                    field(error, "ErrorPath")?,
                    field(cause, "CausePath")?,
                ))
            }
            Kind::Task(_) | Kind::Map(_) | Kind::Parallel { .. } => {
                self.run_with_retry(st, raw, entered).await
            }
        }
    }

    async fn run_with_retry(
        &self,
        st: &State,
        raw: Value,
        entered: DateTime<Utc>,
    ) -> Result<Flow, StateError> {
        let mut counts = vec![0u64; st.retry.len()];
        let mut retry_count = 0u64;
        loop {
            let err = match self.attempt(st, &raw, entered, retry_count).await {
                Ok(out) => return Ok(flow(st, out)),
                Err(e) => e,
            };
            if let Some(i) = st.retry.iter().position(|r| err.matches(&r.error_equals)) {
                let r = &st.retry[i];
                if counts[i] < r.max_attempts {
                    let exp = i32::try_from(counts[i]).unwrap_or(i32::MAX);
                    let mut delay = r.interval_seconds * r.backoff_rate.powi(exp);
                    if let Some(max) = r.max_delay_seconds {
                        delay = delay.min(max);
                    }
                    if r.jitter == Jitter::Full {
                        delay *= self.next_random();
                    }
                    let delay = delay.min(99_999_999.0);
                    counts[i] += 1;
                    retry_count += 1;
                    self.record(
                        HistoryEventType::RetryScheduled,
                        Some(&st.name),
                        json!({"error": err.error, "cause": err.cause, "retrier": i, "attempt": counts[i], "delay_seconds": delay}),
                    );
                    let until = self.clock.now()
                        + chrono::Duration::milliseconds((delay * 1000.0).round() as i64);
                    self.sleep(until).await?;
                    continue;
                }
            }
            if let Some(c) = st.catch.iter().find(|c| err.matches(&c.error_equals)) {
                self.record(
                    HistoryEventType::CaughtError,
                    Some(&st.name),
                    json!({"error": err.error, "cause": err.cause, "next": c.next}),
                );
                let out = c.result_path.apply(&raw, err.to_output())?;
                return Ok(Flow::Next(c.next.clone(), out));
            }
            return Err(err);
        }
    }

    /// One attempt of a Task, Map or Parallel state: input processing, the
    /// work, then ResultSelector → ResultPath → OutputPath.
    async fn attempt(
        &self,
        st: &State,
        raw: &Value,
        entered: DateTime<Utc>,
        retry_count: u64,
    ) -> Result<Value, StateError> {
        let token = match &st.kind {
            Kind::Task(spec) if spec.wait_for_token => Some(
                uuid::Uuid::new_v4().simple().to_string()
                    + &uuid::Uuid::new_v4().simple().to_string(),
            ),
            _ => None,
        };
        let sc = StateCtx {
            state: st,
            entered,
            retry_count,
            token: token.as_deref(),
            map_item: None,
        };
        let ctx = self.context(&sc);
        let eff = st.input_path.apply(raw, &ctx, "InputPath")?;
        let result = match &st.kind {
            Kind::Task(spec) => {
                let params = match &st.parameters {
                    Some(t) => t.evaluate(&eff, &ctx)?,
                    None => eff.clone(),
                };
                self.run_task(st, spec, &eff, &ctx, params, token, retry_count)
                    .await?
            }
            Kind::Map(spec) => self.run_map(st, spec, &eff, entered, retry_count).await?,
            Kind::Parallel { branches } => {
                let input = match &st.parameters {
                    Some(t) => t.evaluate(&eff, &ctx)?,
                    None => eff.clone(),
                };
                let mut runs = Vec::with_capacity(branches.len());
                for b in branches {
                    runs.push(self.run_block(b, input.clone()));
                }
                Value::Array(futures::future::try_join_all(runs).await?)
            }
            _ => {
                return Err(StateError::runtime(format!(
                    "state `{}` cannot be retried",
                    st.name
                )));
            }
        };
        let result = match &st.result_selector {
            Some(t) => t.evaluate(&result, &ctx)?,
            None => result,
        };
        let merged = st.result_path.apply(raw, result)?;
        st.output_path.apply(&merged, &ctx, "OutputPath")
    }

    fn resolve_seconds(
        &self,
        s: &Option<Seconds>,
        eff: &Value,
        ctx: &Value,
        field: &str,
    ) -> Result<Option<u64>, StateError> {
        match s {
            None => Ok(None),
            Some(Seconds::Fixed(n)) => Ok(Some(*n)),
            Some(Seconds::Path(p)) => {
                let v = p.select_required(eff, ctx, field)?;
                v.as_u64().filter(|n| *n > 0).map(Some).ok_or_else(|| {
                    StateError::runtime(format!(
                        "{field} '{}' must select a positive integer, got {v}",
                        p.as_str()
                    ))
                })
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_task(
        &self,
        st: &State,
        spec: &TaskSpec,
        eff: &Value,
        ctx: &Value,
        params: Value,
        token: Option<String>,
        retry_count: u64,
    ) -> Result<Value, StateError> {
        let timeout = self.resolve_seconds(&spec.timeout, eff, ctx, "TimeoutSecondsPath")?;
        let heartbeat = self.resolve_seconds(&spec.heartbeat, eff, ctx, "HeartbeatSecondsPath")?;
        if let (Some(t), Some(h)) = (timeout, heartbeat)
            && h >= t
        {
            return Err(StateError::runtime(format!(
                "HeartbeatSeconds ({h}) must be smaller than TimeoutSeconds ({t})"
            )));
        }
        let (function_name, input) = match spec.integration {
            Integration::Function => (spec.resource.clone(), params),
            Integration::LambdaInvoke => {
                let name = params
                    .get("FunctionName")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        StateError::runtime(format!(
                            "lambda:invoke in `{}` needs a string FunctionName, got {params}",
                            st.name
                        ))
                    })?
                    .to_string();
                (
                    name,
                    params.get("Payload").cloned().unwrap_or_else(|| json!({})),
                )
            }
        };
        let request = TaskRequest {
            execution_name: self.name.clone(),
            state_name: st.name.clone(),
            resource: spec.resource.clone(),
            function_name: function_name.clone(),
            input: input.clone(),
            task_token: token.clone(),
            timeout_seconds: timeout,
            heartbeat_seconds: heartbeat,
            retry_count,
        };
        let started = self.clock.now();
        let timeout_at = timeout.map(|s| {
            started + chrono::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000))
        });
        self.record(HistoryEventType::TaskScheduled, Some(&st.name), json!({"resource": spec.resource, "function": function_name, "input": input, "retry_count": retry_count}));
        let timed_out = |error: &str, cause: String| {
            self.record(
                HistoryEventType::TaskTimedOut,
                Some(&st.name),
                json!({"error": error, "cause": cause}),
            );
            StateError::new(error, cause)
        };
        let failed = |f: TaskFailure| {
            self.record(
                HistoryEventType::TaskFailed,
                Some(&st.name),
                json!({"error": f.error, "cause": f.cause}),
            );
            StateError::new(f.error, f.cause)
        };

        let Some(token) = token else {
            let outcome = tokio::select! {
                biased;
                _ = self.deadline(timeout_at) => None,
                r = self.invoker.invoke(request) => Some(r),
            };
            // A handler that spent (virtual) time past the timeout timed out.
            let outcome = outcome.filter(|_| timeout_at.is_none_or(|t| self.clock.now() <= t));
            return match outcome {
                None => Err(timed_out(
                    STATES_TIMEOUT,
                    format!(
                        "the task did not finish within {} seconds",
                        timeout.unwrap_or_default()
                    ),
                )),
                Some(Err(f)) => Err(failed(f)),
                Some(Ok(out)) => {
                    self.record(
                        HistoryEventType::TaskSucceeded,
                        Some(&st.name),
                        json!({"output": out}),
                    );
                    Ok(match spec.integration {
                        Integration::Function => out,
                        Integration::LambdaInvoke => json!({
                            "ExecutedVersion": "$LATEST",
                            "Payload": out,
                            "SdkHttpMetadata": {"HttpStatusCode": 200},
                            "SdkResponseMetadata": {"RequestId": uuid::Uuid::new_v4().to_string()},
                            "StatusCode": 200,
                        }),
                    })
                }
            };
        };

        let (tx, mut rx) = mpsc::unbounded_channel();
        self.tokens.lock().insert(
            token.clone(),
            TokenEntry {
                task: PendingTask {
                    token: token.clone(),
                    execution_name: self.name.clone(),
                    state_name: st.name.clone(),
                    input: input.clone(),
                    issued_at: started,
                },
                tx,
            },
        );
        let _guard = TokenGuard {
            registry: self.tokens.clone(),
            token: token.clone(),
        };
        self.record(
            HistoryEventType::TaskTokenIssued,
            Some(&st.name),
            json!({"token": token}),
        );
        self.tokens.bump();
        let invoked = tokio::select! {
            biased;
            _ = self.deadline(timeout_at) => None,
            r = self.invoker.invoke(request) => Some(r),
        };
        let invoked = invoked.filter(|_| timeout_at.is_none_or(|t| self.clock.now() <= t));
        match invoked {
            None => {
                return Err(timed_out(
                    STATES_TIMEOUT,
                    format!(
                        "no answer to the task token within {} seconds",
                        timeout.unwrap_or_default()
                    ),
                ));
            }
            Some(Err(f)) => return Err(failed(f)),
            Some(Ok(_)) => {}
        }
        let hb = heartbeat
            .map(|h| chrono::Duration::seconds(i64::try_from(h).unwrap_or(i64::MAX / 1000)));
        // The heartbeat countdown starts once the function has returned (as for
        // a Lambda callback task in Step Functions).
        let mut heartbeat_at = hb.map(|h| self.clock.now() + h);
        loop {
            tokio::select! {
                biased;
                _ = self.deadline(timeout_at) => {
                    return Err(timed_out(STATES_TIMEOUT, format!("no answer to the task token within {} seconds", timeout.unwrap_or_default())));
                }
                _ = self.deadline(heartbeat_at) => {
                    return Err(timed_out(STATES_HEARTBEAT_TIMEOUT, format!("no heartbeat within {} seconds", heartbeat.unwrap_or_default())));
                }
                ev = rx.recv() => match ev {
                    Some(TokenEvent::Success(out)) => {
                        self.record(HistoryEventType::TaskSucceeded, Some(&st.name), json!({"output": out}));
                        return Ok(out);
                    }
                    Some(TokenEvent::Failure(f)) => return Err(failed(f)),
                    Some(TokenEvent::Heartbeat) => {
                        self.record(HistoryEventType::TaskHeartbeat, Some(&st.name), Value::Null);
                        heartbeat_at = hb.map(|h| self.clock.now() + h);
                    }
                    None => return Err(StateError::runtime("the task token channel closed")),
                },
            }
        }
    }

    async fn run_map(
        &self,
        st: &State,
        spec: &MapSpec,
        eff: &Value,
        entered: DateTime<Utc>,
        retry_count: u64,
    ) -> Result<Value, StateError> {
        let sc = StateCtx {
            state: st,
            entered,
            retry_count,
            token: None,
            map_item: None,
        };
        let ctx = self.context(&sc);
        let items = match &spec.items_path {
            Some(p) => p.select_required(eff, &ctx, "ItemsPath")?,
            None => eff.clone(),
        };
        let Value::Array(items) = items else {
            return Err(StateError::runtime(format!(
                "the Map state `{}` needs ItemsPath to select an array, got {items}",
                st.name
            )));
        };
        let concurrency = if spec.max_concurrency == 0 {
            items.len().max(1)
        } else {
            spec.max_concurrency
        };
        let mut runs: Vec<BoxFuture<'_, Result<Value, StateError>>> =
            Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            runs.push(self.run_item(st, spec, eff, entered, retry_count, i, item));
        }
        let mut stream = futures::stream::iter(runs).buffered(concurrency);
        let mut results = Vec::with_capacity(items.len());
        while let Some(r) = stream.next().await {
            results.push(r?);
        }
        Ok(Value::Array(results))
    }

    #[allow(clippy::too_many_arguments)]
    fn run_item<'a>(
        &'a self,
        st: &'a State,
        spec: &'a MapSpec,
        eff: &'a Value,
        entered: DateTime<Utc>,
        retry_count: u64,
        index: usize,
        item: &'a Value,
    ) -> BoxFuture<'a, Result<Value, StateError>> {
        Box::pin(async move {
            let input = match &spec.item_selector {
                Some(t) => {
                    let ictx = self.context(&StateCtx {
                        state: st,
                        entered,
                        retry_count,
                        token: None,
                        map_item: Some((index, item)),
                    });
                    t.evaluate(eff, &ictx)?
                }
                None => item.clone(),
            };
            self.record(
                HistoryEventType::MapIterationStarted,
                Some(&st.name),
                json!({"index": index, "input": input}),
            );
            self.run_block(&spec.processor, input).await
        })
    }
}
