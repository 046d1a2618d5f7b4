//! The usage ledger's records: AVAILABLE time per desktop and calendar month.

use chrono::Datelike;
use serde::{Deserialize, Serialize};

use super::Timestamp;
use crate::ids::{TenantId, WorkspaceId};
use crate::validate::{self, ValidationError};

/// A calendar month, `YYYY-MM`, the unit of the usage ledger.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Month(String);

impl Month {
    pub fn parse(value: impl Into<String>) -> Result<Self, ValidationError> {
        let value = value.into();
        validate::month("month", &value)?;
        Ok(Self(value))
    }

    pub fn of(t: Timestamp) -> Self {
        Self(format!("{:04}-{:02}", t.year(), t.month()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Month {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<Month> for String {
    fn from(value: Month) -> String {
        value.0
    }
}

/// Time a desktop spent AVAILABLE in one month. `uncertainty_seconds` bounds the error of
/// periods Steward observed rather than caused (at most one sweep interval each).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRecord {
    pub tenant_id: TenantId,
    pub workspace_id: WorkspaceId,
    pub month: Month,
    pub available_seconds: u64,
    pub uncertainty_seconds: u64,
}

#[cfg(test)]
mod tests {
    use super::super::WorkspaceState;
    use super::*;
    use chrono::DateTime;

    #[test]
    fn months() {
        let t = DateTime::parse_from_rfc3339("2026-02-28T23:59:59Z")
            .unwrap()
            .to_utc();
        assert_eq!(Month::of(t).as_str(), "2026-02");
        assert_eq!(
            Month::parse("2026-13").unwrap_err().problem.code(),
            "PatternMismatch"
        );
        assert_eq!(
            WorkspaceState::AdminMaintenance.as_str(),
            "ADMIN_MAINTENANCE"
        );
        let s: WorkspaceState = serde_json::from_str("\"ADMIN_MAINTENANCE\"").unwrap();
        assert_eq!(s, WorkspaceState::AdminMaintenance);
    }
}
