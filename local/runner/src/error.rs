//! Errors: `LoadError` refuses a definition before it runs; `StateError` is a
//! Step Functions error (name + cause) raised while an execution runs.

use serde_json::{Value, json};

/// Why a definition or template was refused. Every variant names where.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{scope}: expected a JSON object")]
    NotAnObject { scope: String },
    #[error("{scope}: missing required field `{field}`")]
    MissingField { scope: String, field: String },
    #[error("state `{state}`: unsupported state type `{state_type}`")]
    UnsupportedStateType { state: String, state_type: String },
    #[error("state `{state}`: field `{field}` is not supported on a {state_type} state")]
    UnsupportedField {
        state: String,
        state_type: String,
        field: String,
    },
    #[error("state `{state}`, field `{field}`: {message}")]
    InvalidField {
        state: String,
        field: String,
        message: String,
    },
    #[error("state `{state}`, field `{field}`: unsupported or invalid path `{path}`: {reason}")]
    InvalidPath {
        state: String,
        field: String,
        path: String,
        reason: String,
    },
    #[error("state `{state}`, field `{field}`: unsupported intrinsic function `{function}`")]
    UnsupportedIntrinsic {
        state: String,
        field: String,
        function: String,
    },
    #[error("state `{state}`, field `{field}`: unsupported comparison operator `{operator}`")]
    UnsupportedOperator {
        state: String,
        field: String,
        operator: String,
    },
    #[error("state `{state}`: unsupported Task resource `{resource}`")]
    UnsupportedResource { state: String, resource: String },
    #[error(
        "state `{state}`, field `{field}`: transition target `{target}` names no state in its scope"
    )]
    UnknownTarget {
        state: String,
        field: String,
        target: String,
    },
    #[error("state `{state}`: {message}")]
    InvalidTransition { state: String, message: String },
    #[error("state `{state}` is not reachable from StartAt")]
    Unreachable { state: String },
    #[error("template: {0}")]
    SamTemplate(String),
    #[error("template YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
    #[error("definition JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("reading `{path}`: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("unresolved substitution `${{{name}}}` in `{value}`")]
    UnresolvedSubstitution { name: String, value: String },
}

/// A Step Functions error raised while a state runs: the names the Retry and
/// Catch fields match on, and the cause text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateError {
    pub error: String,
    pub cause: String,
}

pub const STATES_ALL: &str = "States.ALL";
pub const STATES_RUNTIME: &str = "States.Runtime";
pub const STATES_TIMEOUT: &str = "States.Timeout";
pub const STATES_HEARTBEAT_TIMEOUT: &str = "States.HeartbeatTimeout";
pub const STATES_TASK_FAILED: &str = "States.TaskFailed";
pub const STATES_NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
pub const STATES_RESULT_PATH_MATCH_FAILURE: &str = "States.ResultPathMatchFailure";
pub const STATES_DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";
/// Not an AWS name: the runner's guard against runaway loops.
pub const RUNNER_TRANSITION_LIMIT: &str = "Runner.TransitionLimitExceeded";
/// Internal marker: the execution's own TimeoutSeconds passed (the
/// execution ends TimedOut; nothing inside it can catch this).
pub(crate) const RUNNER_EXECUTION_TIMED_OUT: &str = "Runner.ExecutionTimedOut";

impl StateError {
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            cause: cause.into(),
        }
    }

    pub fn runtime(cause: impl Into<String>) -> Self {
        Self::new(STATES_RUNTIME, cause)
    }

    /// The error output a Catcher hands on: `{"Error": .., "Cause": ..}`.
    pub fn to_output(&self) -> Value {
        json!({ "Error": self.error, "Cause": self.cause })
    }

    /// Terminal errors no Retrier or Catcher can handle (States.Runtime,
    /// States.DataLimitExceeded, and the runner's own transition cap).
    pub fn is_terminal(&self) -> bool {
        self.error == STATES_RUNTIME
            || self.error == STATES_DATA_LIMIT_EXCEEDED
            || self.error == RUNNER_TRANSITION_LIMIT
            || self.error == RUNNER_EXECUTION_TIMED_OUT
    }

    /// Whether an `ErrorEquals` list matches this error, per the Step
    /// Functions rules: `States.ALL` matches any non-terminal error,
    /// `States.TaskFailed` any non-terminal error except `States.Timeout`.
    pub fn matches(&self, error_equals: &[String]) -> bool {
        if self.is_terminal() {
            return false;
        }
        error_equals.iter().any(|name| {
            name == &self.error
                || name == STATES_ALL
                || (name == STATES_TASK_FAILED && self.error != STATES_TIMEOUT)
        })
    }
}

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.cause)
    }
}

impl std::error::Error for StateError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn all_matches_task_errors_but_not_runtime() {
        let e = StateError::new("Steward.Throttled", "slow down");
        assert!(e.matches(&names(&["States.ALL"])));
        assert!(e.matches(&names(&["Steward.Throttled"])));
        assert!(!e.matches(&names(&["Steward.Transient"])));
        let rt = StateError::runtime("bad path");
        assert!(!rt.matches(&names(&["States.ALL"])));
        assert!(!rt.matches(&names(&["States.Runtime"])));
    }

    #[test]
    fn task_failed_excludes_timeout() {
        let t = StateError::new(STATES_TIMEOUT, "");
        assert!(!t.matches(&names(&["States.TaskFailed"])));
        assert!(t.matches(&names(&["States.ALL"])));
        let h = StateError::new(STATES_HEARTBEAT_TIMEOUT, "");
        assert!(h.matches(&names(&["States.TaskFailed"])));
    }
}
