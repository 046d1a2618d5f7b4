//! What onboarding's handlers are sent.
//!
//! Two kinds of document, one file each: `execution` is the execution input (what the
//! partner asks for, checked once by the first step and passed on normalised), `handoff`
//! is what travels beside it in the execution's state (the customer's answers, the earlier
//! steps' results, the pause and failure events). They change for different reasons — the
//! first with the partner-facing contract, the second with the state machine.

mod execution;
mod handoff;

pub use execution::{
    BundleSpec, CreationPropertiesSpec, DEFAULT_CUSTOMER_INPUT_TIMEOUT_SECONDS, DEFAULT_INGESTION,
    Desired, DirectorySpec, MAX_WORKSPACES, OnboardingRequest, Selections, UNDEFINED_USER,
    WorkspacesSpec,
};
pub use handoff::{
    Answers, BundleResult, ByolProgress, ByolRoute, CaughtError, DesktopsStatus, DirectoryResult,
    DirectoryStatus, FailureInput, ImportResult, Offer, PauseInput, PauseKind, Results, StepInput,
    WorkspacesResult,
};
