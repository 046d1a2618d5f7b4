//! A Task attempt: the request (timeouts, the function, its payload), then either a plain
//! invocation raced against `TimeoutSeconds`, or — for `.waitForTaskToken` — an
//! invocation that only hands the token out, followed by the wait for SendTaskSuccess /
//! Failure / Heartbeat, raced against `TimeoutSeconds` and `HeartbeatSeconds`.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::exec::Exec;
use super::tokens::{TokenEntry, TokenEvent, TokenGuard};
use super::{PendingTask, TaskFailure, TaskRequest};
use crate::definition::{Integration, Seconds, State, TaskSpec};
use crate::error::{STATES_HEARTBEAT_TIMEOUT, STATES_TIMEOUT, StateError};
use crate::history::HistoryEventType;

/// One attempt of a Task state: the state and its spec, the effective input and the
/// context object (for the `…Path` fields), the evaluated Parameters, the token of a
/// `.waitForTaskToken` task, and the attempt's retry count.
pub(super) struct TaskAttempt<'a> {
    pub(super) st: &'a State,
    pub(super) spec: &'a TaskSpec,
    pub(super) eff: &'a Value,
    pub(super) ctx: &'a Value,
    pub(super) params: Value,
    pub(super) token: Option<String>,
    pub(super) retry_count: u64,
}

/// When the attempt started, its time limits (resolved), and when `TimeoutSeconds` runs
/// out.
struct Limits {
    started: DateTime<Utc>,
    timeout: Option<u64>,
    heartbeat: Option<u64>,
    timeout_at: Option<DateTime<Utc>>,
}

fn seconds(n: u64) -> chrono::Duration {
    chrono::Duration::seconds(i64::try_from(n).unwrap_or(i64::MAX / 1000))
}

impl Exec {
    pub(super) async fn run_task(&self, a: TaskAttempt<'_>) -> Result<Value, StateError> {
        let st = a.st;
        let (request, limits) = self.task_request(&a)?;
        self.record(
            HistoryEventType::TaskScheduled,
            Some(&st.name),
            json!({"resource": a.spec.resource, "function": request.function_name, "input": request.input, "retry_count": a.retry_count}),
        );
        match a.token {
            None => self.invoke(st, a.spec, request, &limits).await,
            Some(token) => self.invoke_and_wait(st, request, token, &limits).await,
        }
    }

    /// The request for the invoker: the resolved time limits, and the function and payload
    /// (`FunctionName` and `Payload` for `lambda:invoke`, the resource and Parameters
    /// otherwise).
    fn task_request(&self, a: &TaskAttempt<'_>) -> Result<(TaskRequest, Limits), StateError> {
        let (st, spec) = (a.st, a.spec);
        let timeout = resolve_seconds(&spec.timeout, a.eff, a.ctx, "TimeoutSecondsPath")?;
        let heartbeat = resolve_seconds(&spec.heartbeat, a.eff, a.ctx, "HeartbeatSecondsPath")?;
        if let (Some(t), Some(h)) = (timeout, heartbeat)
            && h >= t
        {
            return Err(StateError::runtime(format!(
                "HeartbeatSeconds ({h}) must be smaller than TimeoutSeconds ({t})"
            )));
        }
        let params = &a.params;
        let (function_name, input) = match spec.integration {
            Integration::Function => (spec.resource.clone(), params.clone()),
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
            function_name,
            input,
            task_token: a.token.clone(),
            timeout_seconds: timeout,
            heartbeat_seconds: heartbeat,
            retry_count: a.retry_count,
        };
        let started = self.clock.now();
        let timeout_at = timeout.map(|s| started + seconds(s));
        Ok((
            request,
            Limits {
                started,
                timeout,
                heartbeat,
                timeout_at,
            },
        ))
    }

    fn task_timed_out(&self, st: &State, error: &str, cause: String) -> StateError {
        self.record(
            HistoryEventType::TaskTimedOut,
            Some(&st.name),
            json!({"error": error, "cause": cause}),
        );
        StateError::new(error, cause)
    }

    fn task_failed(&self, st: &State, f: TaskFailure) -> StateError {
        self.record(
            HistoryEventType::TaskFailed,
            Some(&st.name),
            json!({"error": f.error, "cause": f.cause}),
        );
        StateError::new(f.error, f.cause)
    }

    /// Invokes the function, racing its timeout; the output is the function's (wrapped as
    /// `lambda:invoke` answers, for that integration).
    async fn invoke(
        &self,
        st: &State,
        spec: &TaskSpec,
        request: TaskRequest,
        limits: &Limits,
    ) -> Result<Value, StateError> {
        let timeout_at = limits.timeout_at;
        let outcome = tokio::select! {
            biased;
            _ = self.deadline(timeout_at) => None,
            r = self.invoker.invoke(request) => Some(r),
        };
        // A handler that spent (virtual) time past the timeout timed out.
        let outcome = outcome.filter(|_| timeout_at.is_none_or(|t| self.clock.now() <= t));
        match outcome {
            None => Err(self.task_timed_out(
                st,
                STATES_TIMEOUT,
                format!(
                    "the task did not finish within {} seconds",
                    limits.timeout.unwrap_or_default()
                ),
            )),
            Some(Err(f)) => Err(self.task_failed(st, f)),
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
        }
    }

    /// A `.waitForTaskToken` task: registers the token, invokes the function (its output is
    /// ignored), then waits for the token's answer.
    async fn invoke_and_wait(
        &self,
        st: &State,
        request: TaskRequest,
        token: String,
        limits: &Limits,
    ) -> Result<Value, StateError> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.tokens.lock().insert(
            token.clone(),
            TokenEntry {
                task: PendingTask {
                    token: token.clone(),
                    execution_name: self.name.clone(),
                    state_name: st.name.clone(),
                    input: request.input.clone(),
                    issued_at: limits.started,
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
        let timeout_at = limits.timeout_at;
        let invoked = tokio::select! {
            biased;
            _ = self.deadline(timeout_at) => None,
            r = self.invoker.invoke(request) => Some(r),
        };
        let invoked = invoked.filter(|_| timeout_at.is_none_or(|t| self.clock.now() <= t));
        match invoked {
            None => {
                return Err(self.task_timed_out(
                    st,
                    STATES_TIMEOUT,
                    format!(
                        "no answer to the task token within {} seconds",
                        limits.timeout.unwrap_or_default()
                    ),
                ));
            }
            Some(Err(f)) => return Err(self.task_failed(st, f)),
            Some(Ok(_)) => {}
        }
        self.await_answer(st, rx, limits).await
    }

    /// Waits for SendTaskSuccess / SendTaskFailure, restarting the heartbeat countdown on
    /// each SendTaskHeartbeat.
    async fn await_answer(
        &self,
        st: &State,
        mut rx: mpsc::UnboundedReceiver<TokenEvent>,
        limits: &Limits,
    ) -> Result<Value, StateError> {
        let (timeout, heartbeat, timeout_at) =
            (limits.timeout, limits.heartbeat, limits.timeout_at);
        let hb = heartbeat.map(seconds);
        // The heartbeat countdown starts once the function has returned (as for
        // a Lambda callback task in Step Functions).
        let mut heartbeat_at = hb.map(|h| self.clock.now() + h);
        loop {
            tokio::select! {
                biased;
                _ = self.deadline(timeout_at) => {
                    return Err(self.task_timed_out(st, STATES_TIMEOUT, format!("no answer to the task token within {} seconds", timeout.unwrap_or_default())));
                }
                _ = self.deadline(heartbeat_at) => {
                    return Err(self.task_timed_out(st, STATES_HEARTBEAT_TIMEOUT, format!("no heartbeat within {} seconds", heartbeat.unwrap_or_default())));
                }
                ev = rx.recv() => match ev {
                    Some(TokenEvent::Success(out)) => {
                        self.record(HistoryEventType::TaskSucceeded, Some(&st.name), json!({"output": out}));
                        return Ok(out);
                    }
                    Some(TokenEvent::Failure(f)) => return Err(self.task_failed(st, f)),
                    Some(TokenEvent::Heartbeat) => {
                        self.record(HistoryEventType::TaskHeartbeat, Some(&st.name), Value::Null);
                        heartbeat_at = hb.map(|h| self.clock.now() + h);
                    }
                    None => return Err(StateError::runtime("the task token channel closed")),
                },
            }
        }
    }
}

/// `TimeoutSeconds` / `HeartbeatSeconds`, fixed or selected from the effective input.
fn resolve_seconds(
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
