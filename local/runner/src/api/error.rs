//! The errors of the Step Functions API, named as botocore's model names them (the
//! `__type` an SDK turns into its typed error), and their awsJson form.
//!
//! Messages name the member and the problem but never echo what the caller sent: a
//! request body may carry customer data, and an error message ends up in logs.

use serde_json::json;

use super::wire::WireResponse;

/// An error answer of the API (HTTP 400 unless said otherwise).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// `ValidationException`: a member is missing, of the wrong type or out of bounds.
    #[error("1 validation error detected: member `{member}` {problem}")]
    Validation {
        member: &'static str,
        problem: &'static str,
    },
    /// `ValidationException`: the body is not a JSON object.
    #[error("the request body is not a JSON object")]
    MalformedBody,
    /// `InvalidArn`.
    #[error("member `{member}` is not a valid {kind} ARN")]
    InvalidArn {
        member: &'static str,
        kind: &'static str,
    },
    /// `InvalidName`.
    #[error("member `name` {problem}")]
    InvalidName { problem: &'static str },
    /// `InvalidExecutionInput`.
    #[error("member `input` is not a JSON document")]
    InvalidExecutionInput,
    /// `InvalidOutput`.
    #[error("member `output` is not a JSON document")]
    InvalidOutput,
    /// `InvalidToken`: a task token this service never issues, or a bad page token.
    #[error("member `{member}` is not a valid token")]
    InvalidToken { member: &'static str },
    /// `TaskDoesNotExist`.
    #[error("no task holds this task token")]
    TaskDoesNotExist,
    /// `TaskTimedOut`: the token's task was already answered, timed out or its execution
    /// ended.
    #[error("the task of this task token has already closed (answered, timed out or ended)")]
    TaskTimedOut,
    /// `StateMachineDoesNotExist`.
    #[error("no state machine has this ARN")]
    StateMachineDoesNotExist,
    /// `ExecutionDoesNotExist`.
    #[error("no execution has this ARN")]
    ExecutionDoesNotExist,
    /// `ExecutionAlreadyExists`.
    #[error("an execution of this name exists with a different input or has already closed")]
    ExecutionAlreadyExists,
    /// `UnknownOperationException`.
    #[error("the operation is not one this Step Functions endpoint serves")]
    UnknownOperation,
    /// `InternalFailure` (500): the Rust API was called outside a tokio runtime.
    #[error("executions need a tokio runtime to run on")]
    NoRuntime,
}

impl ApiError {
    /// The error's shape name in botocore's model (the wire's `__type`).
    pub fn error_type(&self) -> &'static str {
        match self {
            ApiError::Validation { .. } | ApiError::MalformedBody => "ValidationException",
            ApiError::InvalidArn { .. } => "InvalidArn",
            ApiError::InvalidName { .. } => "InvalidName",
            ApiError::InvalidExecutionInput => "InvalidExecutionInput",
            ApiError::InvalidOutput => "InvalidOutput",
            ApiError::InvalidToken { .. } => "InvalidToken",
            ApiError::TaskDoesNotExist => "TaskDoesNotExist",
            ApiError::TaskTimedOut => "TaskTimedOut",
            ApiError::StateMachineDoesNotExist => "StateMachineDoesNotExist",
            ApiError::ExecutionDoesNotExist => "ExecutionDoesNotExist",
            ApiError::ExecutionAlreadyExists => "ExecutionAlreadyExists",
            ApiError::UnknownOperation => "UnknownOperationException",
            ApiError::NoRuntime => "InternalFailure",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            ApiError::NoRuntime => 500,
            _ => 400,
        }
    }

    /// The awsJson error answer: `{"__type": .., "message": ..}`.
    pub fn to_wire(&self) -> WireResponse {
        WireResponse::with_status(
            self.status(),
            json!({"__type": self.error_type(), "message": self.to_string()}),
        )
    }
}
