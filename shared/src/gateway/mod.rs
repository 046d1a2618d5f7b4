//! One gateway per AWS service: the only code that speaks to the SDKs, turning their
//! shapes into domain types, batching to the service's limits and keeping per-item
//! failures apart from whole-call failures.
//!
//! - [`workspaces`]: every WorkSpaces call, organised by resource (desktops, power, images,
//!   bundles, directories, account, tags);
//! - [`ec2`]: EC2 DescribeImages (the customer's AMIs), spoken directly rather than through
//!   the SDK (see its module doc);
//! - [`eventbridge`]: the publisher of Steward's outbound events.

pub mod ec2;
pub mod eventbridge;
pub mod workspaces;

/// The outcome of one item of a batch call (a desktop of StopWorkspaces, an entry of
/// PutEvents…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutcome {
    Accepted,
    Failed { code: String, message: String },
}
