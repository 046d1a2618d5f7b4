//! Steward's error type and its stable names.
//!
//! Every error maps to one name from [`names`]. Lambda handlers report that name as the
//! error type, and the state machines' `Retry`/`Catch` match on it, so the names are an
//! interface: add new ones, never rename.

use crate::aws::{AwsError, AwsErrorKind};
use crate::config::ConfigError;
use crate::store::StoreError;
use crate::validate::ValidationError;

/// The stable error names.
pub mod names {
    pub const VALIDATION: &str = "Steward.ValidationError";
    pub const CONFIG: &str = "Steward.ConfigError";
    pub const THROTTLED: &str = "Steward.Throttled";
    pub const TRANSIENT: &str = "Steward.Transient";
    pub const ACCESS_DENIED: &str = "Steward.AccessDenied";
    pub const NOT_FOUND: &str = "Steward.NotFound";
    pub const ALREADY_EXISTS: &str = "Steward.AlreadyExists";
    pub const CONFLICT: &str = "Steward.Conflict";
    pub const INVALID_STATE: &str = "Steward.InvalidState";
    pub const INVALID_REQUEST: &str = "Steward.InvalidRequest";
    pub const LIMIT_EXCEEDED: &str = "Steward.LimitExceeded";
    pub const STORE: &str = "Steward.StoreError";
    pub const AWS: &str = "Steward.AwsError";
    /// The role answered for another account than the tenant's.
    pub const ACCOUNT_MISMATCH: &str = "Steward.AccountMismatch";
    /// A customer's selection that is not among what was offered, or not usable.
    pub const INVALID_SELECTION: &str = "Steward.InvalidSelection";
    /// An AMI that cannot be imported as a WorkSpaces image (the reason says why).
    pub const INELIGIBLE_IMAGE: &str = "Steward.IneligibleImage";
    /// An irreversible change asked for without the explicit confirmation it needs.
    pub const CONFIRMATION_REQUIRED: &str = "Steward.ConfirmationRequired";
    /// An asynchronous operation the service finished in failure (import ERROR, …).
    pub const OPERATION_FAILED: &str = "Steward.OperationFailed";
    /// A resource Steward does not own (not in its registry, or without the partner tag).
    pub const NOT_OWNED: &str = "Steward.NotOwned";
    /// An asynchronous operation that did not finish within its polling budget.
    pub const POLL_TIMEOUT: &str = "Steward.PollTimeout";
    /// A customer pause that was not answered within its timeout.
    pub const CUSTOMER_INPUT_TIMEOUT: &str = "Steward.CustomerInputTimeout";
    /// A tenant in a status that does not allow the request.
    pub const TENANT_STATE: &str = "Steward.TenantState";
    /// A partner event Steward will not process (the message starts with the named reason:
    /// `MalformedDetail: …`, `NotOwned: …`). The event is kept: a rejection record in the
    /// table, and the failed invocation sends it to the function's dead-letter destination.
    pub const EVENT_REJECTED: &str = "Steward.EventRejected";
    /// A golden-image rollout stopped because more desktops failed than its threshold allows.
    pub const ROLLOUT_HALTED: &str = "Steward.RolloutHalted";

    /// A pre-flight check found the account not ready (the message lists each failed
    /// check's code and what to do); nothing was changed in it.
    pub const PREFLIGHT_FAILED: &str = "Steward.PreflightFailed";

    /// Names a state machine may retry: the call can succeed if made again later.
    pub const RETRYABLE: [&str; 2] = [THROTTLED, TRANSIENT];
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Validation(#[from] ValidationError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// Steward understood the request and refuses it, or the service finished an
    /// operation in failure; `name` is one of [`names`].
    #[error("{message}")]
    Refused { name: &'static str, message: String },
}

impl Error {
    /// The stable name of this error (see [`names`]).
    pub fn name(&self) -> &'static str {
        match self {
            Error::Validation(_) => names::VALIDATION,
            Error::Config(_) => names::CONFIG,
            Error::Store(e) => e.name(),
            Error::Aws(e) => e.kind.name(),
            Error::Refused { name, .. } => name,
        }
    }

    /// A refusal with one of the stable [`names`].
    pub fn refused(name: &'static str, message: impl Into<String>) -> Self {
        Error::Refused {
            name,
            message: message.into(),
        }
    }

    pub fn is_retryable(&self) -> bool {
        names::RETRYABLE.contains(&self.name())
    }
}

impl AwsErrorKind {
    pub fn name(self) -> &'static str {
        match self {
            AwsErrorKind::Throttled => names::THROTTLED,
            AwsErrorKind::Transient => names::TRANSIENT,
            AwsErrorKind::AccessDenied => names::ACCESS_DENIED,
            AwsErrorKind::NotFound => names::NOT_FOUND,
            AwsErrorKind::AlreadyExists => names::ALREADY_EXISTS,
            AwsErrorKind::InvalidState => names::INVALID_STATE,
            AwsErrorKind::InvalidRequest => names::INVALID_REQUEST,
            AwsErrorKind::LimitExceeded => names::LIMIT_EXCEEDED,
            AwsErrorKind::Other => names::AWS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::Problem;

    #[test]
    fn names_are_stable() {
        let e: Error = ValidationError::new("x", Problem::Missing).into();
        assert_eq!(e.name(), "Steward.ValidationError");
        assert!(!e.is_retryable());
        let e: Error = ConfigError::Missing {
            name: "STEWARD_TABLE_NAME",
        }
        .into();
        assert_eq!(e.name(), "Steward.ConfigError");
        assert_eq!(AwsErrorKind::Throttled.name(), "Steward.Throttled");
        assert_eq!(AwsErrorKind::Transient.name(), "Steward.Transient");
        assert_eq!(AwsErrorKind::AccessDenied.name(), "Steward.AccessDenied");
        let e = Error::refused(names::INELIGIBLE_IMAGE, "the AMI is encrypted");
        assert_eq!(e.name(), "Steward.IneligibleImage");
        assert_eq!(e.to_string(), "the AMI is encrypted");
        assert!(!e.is_retryable());
    }
}
