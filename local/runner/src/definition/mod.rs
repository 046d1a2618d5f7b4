//! Loading and validating a definition into the typed form the engine runs.
//! Anything the runner does not implement is refused here, naming the state
//! and field.
//!
//! Here: the typed form and [`StateMachine::from_definition`]. Within: [`fields`] (the
//! fields each state may have, typed accessors), [`block`] (scopes of states and their
//! checks), [`states`] (each state type), [`retry_catch`] (Retry and Catch).

mod block;
mod fields;
mod retry_catch;
mod states;

use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::LoadError;
use super::choice::ChoiceRule;
use super::path::{IoPath, Path, PayloadTemplate, ResultPath};
use block::parse_block;
use fields::{Fields, check_keys};

/// A loaded, validated state machine.
#[derive(Debug, Clone)]
pub struct StateMachine {
    pub comment: Option<String>,
    pub timeout_seconds: Option<u64>,
    pub(crate) root: Arc<Block>,
    /// The ASL document it was loaded from (DescribeStateMachine answers it).
    pub(crate) source: Arc<Value>,
}

/// One scope of states: the top level, a Map's ItemProcessor or a Parallel branch.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub start_at: String,
    pub states: BTreeMap<String, State>,
}

#[derive(Debug, Clone)]
pub(crate) enum Transition {
    Next(String),
    End,
}

#[derive(Debug, Clone)]
pub(crate) struct State {
    pub name: String,
    pub kind: Kind,
    pub input_path: IoPath,
    pub output_path: IoPath,
    pub parameters: Option<PayloadTemplate>,
    pub result_selector: Option<PayloadTemplate>,
    pub result_path: ResultPath,
    pub transition: Option<Transition>,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Jitter {
    None,
    Full,
}

#[derive(Debug, Clone)]
pub(crate) struct Retrier {
    pub error_equals: Vec<String>,
    pub interval_seconds: f64,
    pub max_attempts: u64,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<f64>,
    pub jitter: Jitter,
}

#[derive(Debug, Clone)]
pub(crate) struct Catcher {
    pub error_equals: Vec<String>,
    pub next: String,
    pub result_path: ResultPath,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Integration {
    /// A function ARN or an in-process handler name: output = function output.
    Function,
    /// `arn:aws:states:::lambda:invoke`: Parameters carry FunctionName + Payload.
    LambdaInvoke,
}

#[derive(Debug, Clone)]
pub(crate) enum Seconds {
    Fixed(u64),
    Path(Path),
}

#[derive(Debug, Clone)]
pub(crate) struct TaskSpec {
    pub resource: String,
    pub integration: Integration,
    pub wait_for_token: bool,
    pub timeout: Option<Seconds>,
    pub heartbeat: Option<Seconds>,
}

#[derive(Debug, Clone)]
pub(crate) enum WaitSpec {
    Seconds(u64),
    SecondsPath(Path),
    Timestamp(chrono::DateTime<chrono::Utc>),
    TimestampPath(Path),
}

#[derive(Debug, Clone)]
pub(crate) struct MapSpec {
    pub items_path: Option<Path>,
    pub item_selector: Option<PayloadTemplate>,
    pub max_concurrency: usize,
    pub processor: Arc<Block>,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Pass {
        result: Option<Value>,
    },
    Task(TaskSpec),
    Choice {
        choices: Vec<ChoiceRule>,
        default: Option<String>,
    },
    Wait(WaitSpec),
    Succeed,
    Fail {
        error: Option<FailField>,
        cause: Option<FailField>,
    },
    Map(MapSpec),
    Parallel {
        branches: Vec<Arc<Block>>,
    },
}

#[derive(Debug, Clone)]
pub(crate) enum FailField {
    Literal(String),
    Path(Path),
}

impl StateMachine {
    /// Parses and validates an ASL definition. Refuses anything the runner
    /// does not implement.
    pub fn from_definition(definition: &Value) -> Result<StateMachine, LoadError> {
        let obj = definition
            .as_object()
            .ok_or_else(|| LoadError::NotAnObject {
                scope: "definition".into(),
            })?;
        check_keys(
            obj,
            &["StartAt", "States", "Comment", "TimeoutSeconds", "Version"],
            "<definition>",
            "state machine",
        )?;
        if let Some(v) = obj.get("Version")
            && v != "1.0"
        {
            return Err(LoadError::InvalidField {
                state: "<definition>".into(),
                field: "Version".into(),
                message: format!("only \"1.0\" is supported, got {v}"),
            });
        }
        let top = Fields {
            state: "<definition>",
            obj,
        };
        let timeout_seconds = top.uint("TimeoutSeconds")?;
        if timeout_seconds == Some(0) {
            return Err(top.invalid("TimeoutSeconds", "must be a positive integer"));
        }
        let root = parse_block(
            definition,
            "",
            &["StartAt", "States", "Comment", "TimeoutSeconds", "Version"],
        )?;
        Ok(StateMachine {
            comment: top.string("Comment")?.map(str::to_string),
            timeout_seconds,
            root: Arc::new(root),
            source: Arc::new(definition.clone()),
        })
    }

    /// The names of the top-level states.
    pub fn state_names(&self) -> Vec<String> {
        self.root.states.keys().cloned().collect()
    }

    pub fn start_at(&self) -> &str {
        &self.root.start_at
    }

    /// The ASL definition as loaded.
    pub fn definition(&self) -> &Value {
        &self.source
    }
}
