//! The execution history: what happened, in which state, at which (virtual) time.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum HistoryEventType {
    ExecutionStarted,
    StateEntered,
    StateExited,
    TaskScheduled,
    TaskTokenIssued,
    TaskHeartbeat,
    TaskSucceeded,
    TaskFailed,
    TaskTimedOut,
    WaitStarted,
    ChoiceMatched,
    MapIterationStarted,
    RetryScheduled,
    CaughtError,
    ExecutionSucceeded,
    ExecutionFailed,
    ExecutionTimedOut,
    ExecutionAborted,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEvent {
    /// 1-based position in the history.
    pub id: usize,
    pub timestamp: DateTime<Utc>,
    pub event_type: HistoryEventType,
    /// The state the event belongs to (None for execution-level events).
    pub state: Option<String>,
    /// Event details (input, output, error, delay, ...).
    pub detail: Value,
}

impl std::fmt::Display for HistoryEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {:?}",
            self.timestamp.format("%Y-%m-%dT%H:%M:%SZ"),
            self.event_type
        )?;
        if let Some(s) = &self.state {
            write!(f, " [{s}]")?;
        }
        if !self.detail.is_null() {
            write!(f, " {}", self.detail)?;
        }
        Ok(())
    }
}
