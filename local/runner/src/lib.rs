//! A local Step Functions runner: loads Amazon States Language definitions (inline, or
//! the ones a SAM template declares) and runs them against in-process task handlers on a
//! virtual clock the caller controls. It depends on no Steward crate; tasks are bound to
//! handlers by name (see the crate's README for the subset of ASL it runs).
//!
//! - [`definition`]: loading and validation ([`StateMachine::from_definition`]);
//!   anything unsupported is a [`LoadError`].
//! - [`sam_template`]: the definition of a SAM `AWS::Serverless::StateMachine`.
//! - [`path`], [`intrinsic`], [`choice`]: data flow (paths, [`path::PayloadTemplate`]),
//!   intrinsic functions, Choice rules.
//! - [`clock`]: [`ExecutionClock`], the virtual time executions run on.
//! - [`engine`]: [`Runner`], [`Execution`], [`TaskInvoker`]; [`invoker`]: [`FnInvoker`].
//! - [`history`]: the [`HistoryEvent`]s of an execution.
//! - [`api`]: the Step Functions service API (awsJson1_0) in front of runners:
//!   [`api::StepFunctionsApi`].

pub mod api;
pub mod choice;
pub mod clock;
pub mod definition;
pub mod engine;
pub mod error;
pub mod history;
pub mod intrinsic;
pub mod invoker;
pub mod path;
pub mod sam_template;

pub use clock::ExecutionClock;
pub use definition::StateMachine;
pub use engine::{
    Execution, ExecutionResult, PendingTask, Runner, RunnerConfig, TaskFailure, TaskInvoker,
    TaskRequest, TaskTokenError,
};
pub use error::{LoadError, StateError};
pub use history::{HistoryEvent, HistoryEventType};
pub use invoker::FnInvoker;
pub use sam_template::{
    definition_from_sam_template, definition_from_sam_template_file, substitution_keys,
};
