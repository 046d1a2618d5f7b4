//! SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat: a task token addresses a paused
//! task of any execution, so the token is looked up among the running executions' pending
//! tasks. A token this runner could not have issued is `InvalidToken`; one it issued whose
//! task has closed (answered, timed out, its execution ended) is `TaskTimedOut`; any other
//! is `TaskDoesNotExist`.

use serde_json::{Value, json};
use std::sync::Arc;

use super::executions::{CAUSE, ERROR};
use super::store::{ExecRecord, lock};
use super::wire::{Body, DATA, Len};
use super::{ApiError, StepFunctionsApi};
use crate::engine::TaskTokenError;

/// `TaskToken`: 1 to 2048 characters.
const TOKEN: Len = Len(1, 2048);

/// The runner's tokens: two simple UUIDs, 64 lowercase hexadecimal digits.
fn well_formed(token: &str) -> bool {
    token.len() == 64
        && token
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// An answer to a task token.
enum Answer<'a> {
    Success(Value),
    Failure { error: &'a str, cause: &'a str },
    Heartbeat,
}

impl StepFunctionsApi {
    /// The running execution whose task holds `token`.
    fn token_holder(&self, token: &str) -> Result<Arc<ExecRecord>, ApiError> {
        if !well_formed(token) {
            return Err(ApiError::InvalidToken {
                member: "taskToken",
            });
        }
        let records: Vec<Arc<ExecRecord>> = lock(&self.inner.executions).order.clone();
        let holder = records.iter().find(|r| {
            r.execution.try_result().is_none()
                && r.execution.pending_tasks().iter().any(|t| t.token == token)
        });
        match holder {
            Some(r) => Ok(r.clone()),
            None if records.iter().any(|r| r.issued(token)) => Err(ApiError::TaskTimedOut),
            None => Err(ApiError::TaskDoesNotExist),
        }
    }

    fn answer(&self, token: &str, answer: Answer<'_>) -> Result<Value, ApiError> {
        let rec = self.token_holder(token)?;
        let e = &rec.execution;
        let sent = match answer {
            Answer::Success(output) => e.send_task_success(token, output),
            Answer::Failure { error, cause } => e.send_task_failure(token, error, cause),
            Answer::Heartbeat => e.send_task_heartbeat(token),
        };
        // The task closed between the lookup and the answer.
        sent.map_err(|TaskTokenError::TaskDoesNotExist(_)| ApiError::TaskTimedOut)?;
        Ok(json!({}))
    }

    pub(super) fn op_send_task_success(&self, b: &Body) -> Result<Value, ApiError> {
        let token = b.required("taskToken", TOKEN)?;
        let output = b.required("output", DATA)?;
        let output = serde_json::from_str(output).map_err(|_| ApiError::InvalidOutput)?;
        self.answer(token, Answer::Success(output))
    }

    pub(super) fn op_send_task_failure(&self, b: &Body) -> Result<Value, ApiError> {
        let token = b.required("taskToken", TOKEN)?;
        let error = b.string("error", ERROR)?.unwrap_or_default();
        let cause = b.string("cause", CAUSE)?.unwrap_or_default();
        self.answer(token, Answer::Failure { error, cause })
    }

    pub(super) fn op_send_task_heartbeat(&self, b: &Body) -> Result<Value, ApiError> {
        let token = b.required("taskToken", TOKEN)?;
        self.answer(token, Answer::Heartbeat)
    }
}
