//! The types of the EventBridge model: what a caller gives (rules, targets, entries) and what it
//! gets back, and EventBridge's named failures.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::pattern::PatternError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum RuleState {
    #[default]
    #[serde(rename = "ENABLED")]
    Enabled,
    #[serde(rename = "DISABLED")]
    Disabled,
    /// Behaves as `ENABLED` here: no CloudTrail management events exist locally.
    #[serde(rename = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")]
    EnabledWithAllCloudtrailManagementEvents,
}

/// A rule to create or replace.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSpec {
    pub name: String,
    /// Bus name or ARN.
    pub bus: String,
    pub pattern: Value,
    pub state: RuleState,
    pub description: Option<String>,
}

/// A rule's target. `arn` is an SQS queue ARN or a Lambda function ARN.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TargetSpec {
    pub id: String,
    pub arn: String,
    /// Constant JSON text delivered instead of the event.
    pub input: Option<String>,
    /// `$` or `$.a.b`: the part of the event delivered.
    pub input_path: Option<String>,
    /// SQS queue ARN receiving the events this target could not take.
    pub dead_letter_arn: Option<String>,
    pub max_retries: Option<u32>,
    pub max_event_age_seconds: Option<u32>,
}

/// What DescribeRule and ListRules say of a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleInfo {
    pub name: String,
    pub arn: String,
    pub bus: String,
    /// The pattern as compact JSON text.
    pub pattern: String,
    pub state: RuleState,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BusInfo {
    pub name: String,
    pub arn: String,
    pub description: Option<String>,
    pub created: DateTime<Utc>,
}

/// One PutEvents entry (fields optional as on the wire: missing ones are entry errors).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Entry {
    pub source: Option<String>,
    pub detail_type: Option<String>,
    /// A JSON object, as text.
    pub detail: Option<String>,
    pub resources: Vec<String>,
    pub time: Option<DateTime<Utc>>,
    /// Bus name or ARN; `default` when absent.
    pub bus: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EntryErrorCode {
    InvalidArgument,
    MalformedDetail,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryResult {
    Accepted {
        event_id: String,
    },
    Failed {
        code: EntryErrorCode,
        message: String,
    },
}

/// Why a target could not take an event (the DLQ's `ERROR_CODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TargetErrorCode {
    /// The queue or function does not exist: not retried.
    #[serde(rename = "RESOURCE_NOT_FOUND")]
    ResourceNotFound,
    /// The target refused for now: retried up to the policy's attempts.
    #[serde(rename = "THROTTLING")]
    Throttling,
    /// The target refused the input: not retried.
    #[serde(rename = "INVALID_PARAMETER")]
    InvalidParameter,
}

impl TargetErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ResourceNotFound => "RESOURCE_NOT_FOUND",
            Self::Throttling => "THROTTLING",
            Self::InvalidParameter => "INVALID_PARAMETER",
        }
    }

    pub fn retryable(self) -> bool {
        matches!(self, Self::Throttling)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TargetError {
    pub code: TargetErrorCode,
    pub message: String,
}

impl TargetError {
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            code: TargetErrorCode::ResourceNotFound,
            message: message.into(),
        }
    }
}

/// Where an undeliverable event ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    DeadLettered {
        queue_arn: String,
    },
    /// No dead-letter queue (or it could not take the event): logged and kept here only.
    Dropped,
}

/// One event a target could not take.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryFailure {
    pub rule_arn: String,
    pub target_arn: String,
    pub event: Value,
    pub error: TargetError,
    pub retry_attempts: u32,
    pub disposition: Disposition,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventsError {
    #[error("{what} does not exist.")]
    ResourceNotFound { what: &'static str },
    #[error("{what} already exists.")]
    ResourceAlreadyExists { what: &'static str },
    #[error(transparent)]
    InvalidEventPattern(#[from] PatternError),
    #[error("Parameter {field} is not valid. Reason: {problem}.")]
    Validation {
        field: &'static str,
        problem: &'static str,
    },
    #[error("Rule can't be deleted since it has targets.")]
    RuleHasTargets,
    #[error("The requested resource exceeds the maximum number allowed: {what}.")]
    LimitExceeded { what: &'static str },
}

impl EventsError {
    pub(crate) fn invalid(field: &'static str, problem: &'static str) -> Self {
        Self::Validation { field, problem }
    }
}
