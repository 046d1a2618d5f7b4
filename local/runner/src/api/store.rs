//! What the API keeps: each state machine (with what its history mapping needs to know of
//! its states) and every execution, running or finished, so Describe, List and History
//! answer for the whole life of the process.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{MachineType, wire::epoch};
use crate::definition::{Block, Integration, Kind, StateMachine};
use crate::engine::{Execution, ExecutionResult, RunnerConfig, TaskInvoker};
use crate::history::HistoryEventType;

/// An execution's status, as `ExecutionStatus` in the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
    /// In the model (a redrive); never reported here, accepted as a filter.
    PendingRedrive,
}

impl ExecutionStatus {
    pub(super) fn of(result: Option<&ExecutionResult>) -> Self {
        match result {
            None => ExecutionStatus::Running,
            Some(ExecutionResult::Succeeded { .. }) => ExecutionStatus::Succeeded,
            Some(ExecutionResult::Failed { .. }) => ExecutionStatus::Failed,
            Some(ExecutionResult::TimedOut) => ExecutionStatus::TimedOut,
            Some(ExecutionResult::Aborted) => ExecutionStatus::Aborted,
        }
    }

    /// The status from its wire name (`statusFilter`).
    pub(super) fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(Value::from(s)).ok()
    }

    pub(super) fn to_wire(self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// The kind of a state, which names its Entered / Exited history events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StateKind {
    Task,
    Choice,
    Pass,
    Wait,
    Succeed,
    Fail,
    Map,
    Parallel,
}

/// How a Task state calls its function: a Lambda function directly, or the
/// `lambda:invoke` integration (with `.waitForTaskToken` or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TaskCall {
    Function,
    LambdaInvoke,
    LambdaInvokeWaitForToken,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct StateInfo {
    pub(super) kind: StateKind,
    pub(super) task: Option<TaskCall>,
}

/// Every state of a machine by name, nested blocks included (ASL names are unique across
/// the whole machine).
fn collect_states(block: &Block, out: &mut HashMap<String, StateInfo>) {
    for (name, st) in &block.states {
        let (kind, task) = match &st.kind {
            Kind::Task(spec) => {
                let call = match (&spec.integration, spec.wait_for_token) {
                    (Integration::Function, _) => TaskCall::Function,
                    (Integration::LambdaInvoke, false) => TaskCall::LambdaInvoke,
                    (Integration::LambdaInvoke, true) => TaskCall::LambdaInvokeWaitForToken,
                };
                (StateKind::Task, Some(call))
            }
            Kind::Choice { .. } => (StateKind::Choice, None),
            Kind::Pass { .. } => (StateKind::Pass, None),
            Kind::Wait(_) => (StateKind::Wait, None),
            Kind::Succeed => (StateKind::Succeed, None),
            Kind::Fail { .. } => (StateKind::Fail, None),
            Kind::Map(m) => {
                collect_states(&m.processor, out);
                (StateKind::Map, None)
            }
            Kind::Parallel { branches } => {
                for b in branches {
                    collect_states(b, out);
                }
                (StateKind::Parallel, None)
            }
        };
        out.entry(name.clone()).or_insert(StateInfo { kind, task });
    }
}

/// A registered state machine.
pub(super) struct MachineEntry {
    pub(super) arn: String,
    pub(super) name: String,
    pub(super) machine: StateMachine,
    pub(super) invoker: Arc<dyn TaskInvoker>,
    pub(super) machine_type: MachineType,
    pub(super) config: RunnerConfig,
    pub(super) created: DateTime<Utc>,
    pub(super) states: HashMap<String, StateInfo>,
}

impl MachineEntry {
    pub(super) fn new(spec: super::MachineSpec, arn: String, created: DateTime<Utc>) -> Self {
        let mut states = HashMap::new();
        collect_states(&spec.machine.root, &mut states);
        Self {
            arn,
            name: spec.name,
            machine: spec.machine,
            invoker: spec.invoker,
            machine_type: spec.machine_type,
            config: spec.config,
            created,
            states,
        }
    }

    pub(super) fn type_wire(&self) -> &'static str {
        match self.machine_type {
            MachineType::Standard => "STANDARD",
            MachineType::Express => "EXPRESS",
        }
    }
}

/// What StopExecution said, for the ABORTED execution's `error` and `cause`.
#[derive(Debug, Clone, Default)]
pub(super) struct StopReason {
    pub(super) error: Option<String>,
    pub(super) cause: Option<String>,
}

/// One execution, running or finished.
pub(super) struct ExecRecord {
    pub(super) arn: String,
    pub(super) name: String,
    pub(super) machine: Arc<MachineEntry>,
    pub(super) input: Value,
    pub(super) start_date: DateTime<Utc>,
    pub(super) execution: Execution,
    /// Start order: ListExecutions answers newest first.
    pub(super) seq: u64,
    pub(super) stop: Mutex<Option<StopReason>>,
}

impl ExecRecord {
    pub(super) fn status(&self) -> ExecutionStatus {
        ExecutionStatus::of(self.execution.try_result().as_ref())
    }

    /// When it ended: the time of its last history event, once it has ended.
    pub(super) fn stop_date(&self) -> Option<DateTime<Utc>> {
        self.execution.try_result()?;
        self.execution.history().last().map(|e| e.timestamp)
    }

    pub(super) fn stop_reason(&self) -> Option<StopReason> {
        self.stop.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether one of its tasks was ever handed `token`.
    pub(super) fn issued(&self, token: &str) -> bool {
        self.execution.history().iter().any(|e| {
            e.event_type == HistoryEventType::TaskTokenIssued
                && e.detail.get("token").and_then(Value::as_str) == Some(token)
        })
    }

    /// An `ExecutionListItem`.
    pub(super) fn list_item(&self) -> Value {
        let mut item = serde_json::json!({
            "executionArn": self.arn,
            "stateMachineArn": self.machine.arn,
            "name": self.name,
            "status": self.status().to_wire(),
            "startDate": epoch(self.start_date),
        });
        if let (Some(t), Some(o)) = (self.stop_date(), item.as_object_mut()) {
            o.insert("stopDate".into(), epoch(t));
        }
        item
    }
}

/// Every execution: by ARN, and in start order.
#[derive(Default)]
pub(super) struct Executions {
    pub(super) by_arn: HashMap<String, Arc<ExecRecord>>,
    pub(super) order: Vec<Arc<ExecRecord>>,
}

/// A mutex that survives a poisoned lock (no panic on a second use).
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
