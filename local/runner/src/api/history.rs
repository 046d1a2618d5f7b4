//! GetExecutionHistory: the runner's [`HistoryEvent`]s as the model's `HistoryEvent`s.
//!
//! Only what the runner records is reported, each under the model's event type and detail
//! member: states entered and exited (typed by the state's kind), a Lambda function called
//! directly (`LambdaFunction*`), the `lambda:invoke` integration (`Task*`, a token handed
//! out being its `TaskStarted`), Map iterations and the execution's own events. The
//! runner's bookkeeping events with no counterpart in the model (heartbeats, Wait and
//! Choice details, retries, caught errors) are left out and the rest numbered anew, so ids
//! run 1, 2, 3… and each `previousEventId` is the event before it, as in Step Functions.

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::store::{ExecRecord, StateInfo, StateKind, TaskCall};
use super::wire::{Body, PAGE_TOKEN, epoch, page_token};
use super::{ApiError, StepFunctionsApi};
use crate::history::{HistoryEvent, HistoryEventType};

/// The model's `HistoryEventType`s this API reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
enum WireEventType {
    ExecutionStarted,
    ExecutionSucceeded,
    ExecutionFailed,
    ExecutionTimedOut,
    ExecutionAborted,
    TaskStateEntered,
    TaskStateExited,
    ChoiceStateEntered,
    ChoiceStateExited,
    PassStateEntered,
    PassStateExited,
    WaitStateEntered,
    WaitStateExited,
    SucceedStateEntered,
    SucceedStateExited,
    FailStateEntered,
    MapStateEntered,
    MapStateExited,
    ParallelStateEntered,
    ParallelStateExited,
    MapIterationStarted,
    LambdaFunctionScheduled,
    LambdaFunctionSucceeded,
    LambdaFunctionFailed,
    LambdaFunctionTimedOut,
    TaskScheduled,
    TaskStarted,
    TaskSucceeded,
    TaskFailed,
    TaskTimedOut,
}

impl WireEventType {
    /// The `HistoryEvent` member that carries this type's details.
    fn details_member(self) -> &'static str {
        use WireEventType as T;
        match self {
            T::ExecutionStarted => "executionStartedEventDetails",
            T::ExecutionSucceeded => "executionSucceededEventDetails",
            T::ExecutionFailed => "executionFailedEventDetails",
            T::ExecutionTimedOut => "executionTimedOutEventDetails",
            T::ExecutionAborted => "executionAbortedEventDetails",
            T::TaskStateEntered
            | T::ChoiceStateEntered
            | T::PassStateEntered
            | T::WaitStateEntered
            | T::SucceedStateEntered
            | T::FailStateEntered
            | T::MapStateEntered
            | T::ParallelStateEntered => "stateEnteredEventDetails",
            T::TaskStateExited
            | T::ChoiceStateExited
            | T::PassStateExited
            | T::WaitStateExited
            | T::SucceedStateExited
            | T::MapStateExited
            | T::ParallelStateExited => "stateExitedEventDetails",
            T::MapIterationStarted => "mapIterationStartedEventDetails",
            T::LambdaFunctionScheduled => "lambdaFunctionScheduledEventDetails",
            T::LambdaFunctionSucceeded => "lambdaFunctionSucceededEventDetails",
            T::LambdaFunctionFailed => "lambdaFunctionFailedEventDetails",
            T::LambdaFunctionTimedOut => "lambdaFunctionTimedOutEventDetails",
            T::TaskScheduled => "taskScheduledEventDetails",
            T::TaskStarted => "taskStartedEventDetails",
            T::TaskSucceeded => "taskSucceededEventDetails",
            T::TaskFailed => "taskFailedEventDetails",
            T::TaskTimedOut => "taskTimedOutEventDetails",
        }
    }
}

/// The Entered (or Exited) event type of a state kind; a Fail state never exits.
fn state_event(kind: StateKind, entered: bool) -> Option<WireEventType> {
    use StateKind as K;
    use WireEventType as T;
    Some(match (kind, entered) {
        (K::Task, true) => T::TaskStateEntered,
        (K::Task, false) => T::TaskStateExited,
        (K::Choice, true) => T::ChoiceStateEntered,
        (K::Choice, false) => T::ChoiceStateExited,
        (K::Pass, true) => T::PassStateEntered,
        (K::Pass, false) => T::PassStateExited,
        (K::Wait, true) => T::WaitStateEntered,
        (K::Wait, false) => T::WaitStateExited,
        (K::Succeed, true) => T::SucceedStateEntered,
        (K::Succeed, false) => T::SucceedStateExited,
        (K::Fail, true) => T::FailStateEntered,
        (K::Fail, false) => return None,
        (K::Map, true) => T::MapStateEntered,
        (K::Map, false) => T::MapStateExited,
        (K::Parallel, true) => T::ParallelStateEntered,
        (K::Parallel, false) => T::ParallelStateExited,
    })
}

/// A runner detail's JSON value as the model's string (`input`, `output`).
fn data(detail: &Value, key: &str) -> String {
    detail.get(key).unwrap_or(&Value::Null).to_string()
}

fn text(detail: &Value, key: &str) -> Value {
    detail.get(key).cloned().unwrap_or(Value::Null)
}

fn not_truncated() -> Value {
    json!({"truncated": false})
}

/// `lambda:invoke`'s `resourceType` and `resource` members.
fn integration(call: TaskCall) -> Value {
    let resource = match call {
        TaskCall::LambdaInvokeWaitForToken => "invoke.waitForTaskToken",
        _ => "invoke",
    };
    json!({"resourceType": "lambda", "resource": resource})
}

fn with(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        b.extend(e);
    }
    base
}

/// What a task event of the runner is on the wire: its type and details.
fn task_event(ev: &HistoryEvent, call: TaskCall, region: &str) -> Option<(WireEventType, Value)> {
    use HistoryEventType as H;
    use WireEventType as T;
    let d = &ev.detail;
    let lambda = call == TaskCall::Function;
    let failure = json!({"error": text(d, "error"), "cause": text(d, "cause")});
    Some(match ev.event_type {
        H::TaskScheduled if lambda => (
            T::LambdaFunctionScheduled,
            json!({"resource": text(d, "resource"), "input": data(d, "input"), "inputDetails": not_truncated()}),
        ),
        H::TaskScheduled => {
            let parameters =
                json!({"FunctionName": text(d, "function"), "Payload": text(d, "input")});
            (
                T::TaskScheduled,
                with(
                    integration(call),
                    json!({"region": region, "parameters": parameters.to_string()}),
                ),
            )
        }
        H::TaskTokenIssued if !lambda => (T::TaskStarted, integration(call)),
        H::TaskSucceeded if lambda => (
            T::LambdaFunctionSucceeded,
            json!({"output": data(d, "output"), "outputDetails": not_truncated()}),
        ),
        H::TaskSucceeded => (
            T::TaskSucceeded,
            with(
                integration(call),
                json!({"output": data(d, "output"), "outputDetails": not_truncated()}),
            ),
        ),
        H::TaskFailed if lambda => (T::LambdaFunctionFailed, failure),
        H::TaskFailed => (T::TaskFailed, with(integration(call), failure)),
        H::TaskTimedOut if lambda => (T::LambdaFunctionTimedOut, failure),
        H::TaskTimedOut => (T::TaskTimedOut, with(integration(call), failure)),
        _ => return None,
    })
}

/// Where the executions run: the region (of `TaskScheduled`) and the role ARN reported.
struct Place<'a> {
    region: &'a str,
    role_arn: &'a str,
}

/// What a runner event is on the wire, if anything.
fn wire_event(
    rec: &ExecRecord,
    ev: &HistoryEvent,
    at: &Place<'_>,
) -> Option<(WireEventType, Value)> {
    use HistoryEventType as H;
    use WireEventType as T;
    let d = &ev.detail;
    let info: Option<StateInfo> = ev
        .state
        .as_ref()
        .and_then(|s| rec.machine.states.get(s).copied());
    let name = ev.state.clone().unwrap_or_default();
    Some(match ev.event_type {
        H::ExecutionStarted => (
            T::ExecutionStarted,
            json!({"input": data(d, "input"), "inputDetails": not_truncated(),
                   "roleArn": at.role_arn}),
        ),
        H::ExecutionSucceeded => (
            T::ExecutionSucceeded,
            json!({"output": data(d, "output"), "outputDetails": not_truncated()}),
        ),
        H::ExecutionFailed => (
            T::ExecutionFailed,
            json!({"error": text(d, "error"), "cause": text(d, "cause")}),
        ),
        H::ExecutionTimedOut => (T::ExecutionTimedOut, json!({"error": text(d, "error")})),
        H::ExecutionAborted => {
            let r = rec.stop_reason().unwrap_or_default();
            let mut m = Map::new();
            if let Some(e) = r.error {
                m.insert("error".into(), json!(e));
            }
            if let Some(c) = r.cause {
                m.insert("cause".into(), json!(c));
            }
            (T::ExecutionAborted, Value::Object(m))
        }
        H::StateEntered => (
            state_event(info?.kind, true)?,
            json!({"name": name, "input": data(d, "input"), "inputDetails": not_truncated()}),
        ),
        H::StateExited => (
            state_event(info?.kind, false)?,
            json!({"name": name, "output": data(d, "output"), "outputDetails": not_truncated()}),
        ),
        H::MapIterationStarted => (
            T::MapIterationStarted,
            json!({"name": name, "index": text(d, "index")}),
        ),
        _ => return task_event(ev, info?.task?, at.region),
    })
}

/// Drops the execution data (inputs, outputs) of an event's details.
fn strip_data(details: &mut Value) {
    if let Some(m) = details.as_object_mut() {
        for k in ["input", "inputDetails", "output", "outputDetails"] {
            m.remove(k);
        }
    }
}

impl StepFunctionsApi {
    pub(super) fn op_get_execution_history(&self, b: &Body) -> Result<Value, ApiError> {
        let arn = b.required("executionArn", super::wire::ARN)?;
        let page = b.page_size(100)?;
        let reverse = b.boolean("reverseOrder")?.unwrap_or(false);
        let with_data = b.boolean("includeExecutionData")?.unwrap_or(true);
        let after = b.next_token(PAGE_TOKEN)?;
        let rec = self.execution(arn)?;
        let role_arn = self.role_arn();
        let at = Place {
            region: &self.inner.region,
            role_arn: &role_arn,
        };
        let mut events = Vec::new();
        for ev in rec.execution.history() {
            let Some((ty, mut details)) = wire_event(&rec, &ev, &at) else {
                continue;
            };
            if !with_data {
                strip_data(&mut details);
            }
            let id = events.len() as u64 + 1;
            let mut e = Map::new();
            e.insert("timestamp".into(), epoch(ev.timestamp));
            e.insert(
                "type".into(),
                serde_json::to_value(ty).unwrap_or(Value::Null),
            );
            e.insert("id".into(), json!(id));
            e.insert("previousEventId".into(), json!(id - 1));
            e.insert(ty.details_member().into(), details);
            events.push((id, Value::Object(e)));
        }
        if reverse {
            events.reverse();
        }
        // The token is the id of the last event handed out: ids are stable, so a page
        // boundary holds while the execution appends events.
        let mut rest = events
            .into_iter()
            .filter(|(id, _)| after.is_none_or(|a| if reverse { *id < a } else { *id > a }));
        let listed: Vec<(u64, Value)> = rest.by_ref().take(page).collect();
        let more = rest.next().is_some();
        let mut out = Map::new();
        if let (true, Some((last, _))) = (more, listed.last()) {
            out.insert("nextToken".into(), page_token(*last));
        }
        out.insert(
            "events".into(),
            Value::Array(listed.into_iter().map(|(_, e)| e).collect()),
        );
        Ok(Value::Object(out))
    }
}
