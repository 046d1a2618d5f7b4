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
}

impl Error {
    /// The stable name of this error (see [`names`]).
    pub fn name(&self) -> &'static str {
        match self {
            Error::Validation(_) => names::VALIDATION,
            Error::Config(_) => names::CONFIG,
            Error::Store(e) => e.name(),
            Error::Aws(e) => e.kind.name(),
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
    }
}
