//! A local Step Functions runner: loads the Amazon States Language
//! definitions `template.yaml` declares and runs them against in-process
//! handlers on a clock the caller controls.
//!
//! - [`definition`]: loading and validation ([`StateMachine::from_definition`]);
//!   anything unsupported is a [`LoadError`].
//! - [`template`]: the definition of a SAM `AWS::Serverless::StateMachine`.
//! - [`path`], [`intrinsic`], [`choice`]: data flow, intrinsic functions, Choice rules.
//! - [`clock`]: [`Clock`], [`VirtualClock`], [`SystemClock`].
//! - [`engine`]: [`Runner`], [`Execution`], [`TaskInvoker`]; [`invoker`]: [`FnInvoker`].
//! - [`history`]: the [`HistoryEvent`]s of an execution.

pub mod choice;
pub mod clock;
pub mod definition;
pub mod engine;
pub mod error;
pub mod history;
pub mod intrinsic;
pub mod invoker;
pub mod path;
pub mod template;

pub use clock::{Clock, SystemClock, VirtualClock};
pub use definition::StateMachine;
pub use engine::{
    Execution, ExecutionResult, PendingTask, Runner, RunnerConfig, TaskFailure, TaskInvoker,
    TaskRequest, TaskTokenError,
};
pub use error::{LoadError, StateError};
pub use history::{HistoryEvent, HistoryEventType};
pub use invoker::FnInvoker;
pub use template::{definition_from_template, definition_from_template_file, substitution_keys};
