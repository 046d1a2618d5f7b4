//! The power plans catalog, as partner events.
//!
//! - `Power Plan Updated` ([`PlanDetail`]): a pool's plan, or (without `poolId`) the plan of
//!   the tenant's desktops outside pools; `plan: null` removes it.
//! - `Holiday Calendar Loaded` ([`CalendarDetail`]): a named list of holiday dates, from an
//!   iCalendar document (`ics`) or a JSON list (`days`), replacing the calendar of that name.
//! - `Desktop Keep Running` ([`KeepRunningDetail`]): an override that keeps one desktop
//!   running (started if it is stopped) until a time, whatever the plan and the idle rule.
//! - `Pool Override` ([`PoolOverrideDetail`]): an override of a group's warm capacity until
//!   a time, inside windows or not.
//!
//! Overrides always end: `until` lies after the event, at most [`MAX_KEEP_RUNNING_HOURS`] /
//! [`MAX_OVERRIDE_DAYS`] later, and the idle sweep records their end.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use crate::ids::{PoolId, TenantId, WorkspaceId};
use crate::model::Timestamp;
use crate::plans::{Buffer, CalendarName, DateSpan, PowerPlan};
use crate::validate::{self, Problem, ValidationError};

/// The longest `Desktop Keep Running` (the service stops a MANUAL desktop after 48 h
/// AVAILABLE anyway).
pub const MAX_KEEP_RUNNING_HOURS: i64 = 48;
/// The longest `Pool Override`.
pub const MAX_OVERRIDE_DAYS: i64 = 7;
/// The longest iCalendar document `Holiday Calendar Loaded` may carry (EventBridge's entry
/// is 256 KB).
pub const MAX_ICS_CHARS: usize = 200_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanDetail {
    pub tenant_id: TenantId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_id: Option<PoolId>,
    pub occurred_at: Timestamp,
    /// The plan; `null` removes it. Required (an absent plan is refused, so a typo cannot
    /// remove one).
    pub plan: Option<PowerPlan>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CalendarDetail {
    pub tenant_id: TenantId,
    pub name: CalendarName,
    pub occurred_at: Timestamp,
    /// An iCalendar (RFC 5545) document whose all-day events are the holidays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ics: Option<String>,
    /// The holidays as a JSON list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<Vec<DateSpan>>,
}

impl CalendarDetail {
    /// The calendar's dates, from whichever of `ics` and `days` it carries (exactly one).
    pub fn dates(&self) -> Result<Vec<DateSpan>, ValidationError> {
        let days = match (&self.ics, &self.days) {
            (Some(ics), None) => {
                if ics.chars().count() > MAX_ICS_CHARS {
                    return Err(ValidationError::new(
                        "detail.ics",
                        Problem::TooLong {
                            max: MAX_ICS_CHARS,
                            len: ics.chars().count(),
                        },
                    ));
                }
                crate::plans::calendar::parse_ics(ics)?
            }
            (None, Some(days)) => days.clone(),
            (None, None) => {
                return Err(ValidationError::new(
                    "detail.days",
                    Problem::Inconsistent("give ics or days".into()),
                ));
            }
            (Some(_), Some(_)) => {
                return Err(ValidationError::new(
                    "detail.days",
                    Problem::Inconsistent("give ics or days, not both".into()),
                ));
            }
        };
        crate::plans::calendar::check_days(&days).map_err(|e| e.at("detail.days"))?;
        Ok(days)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeepRunningDetail {
    pub tenant_id: TenantId,
    pub workspace_id: WorkspaceId,
    pub until: Timestamp,
    pub occurred_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl KeepRunningDetail {
    pub fn check(&self) -> Result<(), ValidationError> {
        check_until(
            self.occurred_at,
            self.until,
            Duration::hours(MAX_KEEP_RUNNING_HOURS),
        )?;
        check_reason(self.reason.as_deref())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PoolOverrideDetail {
    pub tenant_id: TenantId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_id: Option<PoolId>,
    pub buffer: Buffer,
    pub until: Timestamp,
    pub occurred_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl PoolOverrideDetail {
    pub fn check(&self) -> Result<(), ValidationError> {
        self.buffer.check("detail.buffer")?;
        if self.buffer.count.is_none() && self.buffer.percent.is_none() {
            return Err(ValidationError::new(
                "detail.buffer",
                Problem::Inconsistent("give bufferCount or bufferPercent".into()),
            ));
        }
        check_until(
            self.occurred_at,
            self.until,
            Duration::days(MAX_OVERRIDE_DAYS),
        )?;
        check_reason(self.reason.as_deref())
    }
}

fn check_until(
    occurred: Timestamp,
    until: Timestamp,
    longest: Duration,
) -> Result<(), ValidationError> {
    if until <= occurred {
        return Err(ValidationError::new(
            "detail.until",
            Problem::Inconsistent("until must lie after occurredAt".into()),
        ));
    }
    if until - occurred > longest {
        return Err(ValidationError::new(
            "detail.until",
            Problem::Inconsistent(format!(
                "an override may last at most {} hours",
                longest.num_hours()
            )),
        ));
    }
    Ok(())
}

fn check_reason(reason: Option<&str>) -> Result<(), ValidationError> {
    match reason {
        Some(r) => validate::length("detail.reason", r, 1, 256),
        None => Ok(()),
    }
}
