//! One gateway per AWS service: the only code that speaks to the SDKs, turning their
//! shapes into domain types, batching to the service's limits and keeping per-item
//! failures apart from whole-call failures.

pub mod ec2;
pub mod eventbridge;
pub mod lifecycle;
pub mod setup;
pub mod workspaces;

/// The outcome of one item of a batch call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutcome {
    Accepted,
    Failed { code: String, message: String },
}
