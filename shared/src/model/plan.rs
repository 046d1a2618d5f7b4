//! Power control plans and holiday calendars as the store keeps them.
//!
//! A [`PlanRecord`] is one group's plan: a pool's (`pool_id` set) or the tenant's for its
//! desktops outside pools (`pool_id` empty). It holds the plan the newest `Power Plan
//! Updated` set (none once removed), the buffer override a `Pool Override` set until it
//! expires, and what the idle sweep has already told about it (the last skipped window it
//! recorded, the last month it reported), so that each is told once. Like pools, it keeps
//! the time of the event that last changed the plan and the override (`changed_at`,
//! `override.set_at`): an older event is superseded, whatever order they arrive in.
//!
//! A [`CalendarRecord`] is one of the tenant's named holiday calendars; [`StartTimes`] the
//! start durations Steward measured in the tenant's account (its p90 is the pre-warm lead);
//! [`PlanUsageRecord`] the hours a group's desktops were AVAILABLE inside and outside its
//! windows in one month.

use serde::{Deserialize, Serialize};

use super::{Month, Timestamp};
use crate::ids::{PoolId, TenantId};
use crate::plans::{Buffer, CalendarName, DateSpan, HolidayCalendar, PowerPlan, p90};

/// Start durations kept per tenant (the newest).
pub const START_SAMPLES_KEPT: usize = 50;

/// A group's buffer override: this warm capacity until `until`, windows or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BufferOverride {
    pub buffer: Buffer,
    pub until: Timestamp,
    /// When the event that set it occurred.
    pub set_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Its end has been recorded (the override stays, so an older event cannot set it
    /// again).
    #[serde(default)]
    pub ended: bool,
}

/// One group's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRecord {
    pub tenant_id: TenantId,
    /// The pool the plan governs; none: the tenant's desktops outside pools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_id: Option<PoolId>,
    /// The plan; none once removed (or when only an override was set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PowerPlan>,
    /// When the event that last set or removed the plan occurred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_at: Option<Timestamp>,
    #[serde(
        default,
        rename = "buffer_override",
        skip_serializing_if = "Option::is_none"
    )]
    pub override_: Option<BufferOverride>,
    /// The opening time of the last window a holiday or closure skipped that the sweep
    /// recorded (so it records each once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holiday_noted: Option<Timestamp>,
    /// The last month whose report was published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_month: Option<Month>,
    pub updated_at: Timestamp,
    #[serde(default)]
    pub version: u64,
}

impl PlanRecord {
    pub fn new(tenant_id: TenantId, pool_id: Option<PoolId>, at: Timestamp) -> Self {
        Self {
            tenant_id,
            pool_id,
            plan: None,
            changed_at: None,
            override_: None,
            holiday_noted: None,
            reported_month: None,
            updated_at: at,
            version: 0,
        }
    }

    /// The override in force at `now`.
    pub fn active_override(&self, now: Timestamp) -> Option<&BufferOverride> {
        self.override_.as_ref().filter(|o| o.until > now)
    }

    /// The group's name in reports: the pool id, or `TENANT`.
    pub fn scope(&self) -> String {
        scope_name(self.pool_id.as_ref())
    }
}

/// A group's name in keys and reports: the pool id, or `TENANT` (pool ids are lower case,
/// so no pool is called that).
pub fn scope_name(pool: Option<&PoolId>) -> String {
    pool.map_or_else(|| "TENANT".to_owned(), ToString::to_string)
}

/// One of the tenant's holiday calendars.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarRecord {
    pub tenant_id: TenantId,
    pub name: CalendarName,
    pub days: Vec<DateSpan>,
    /// When the event that loaded it occurred (an older load is superseded).
    pub changed_at: Timestamp,
    #[serde(default)]
    pub version: u64,
}

impl From<CalendarRecord> for HolidayCalendar {
    fn from(c: CalendarRecord) -> Self {
        Self {
            name: c.name,
            days: c.days,
        }
    }
}

/// Start durations Steward measured in the tenant's account: seconds from its
/// StartWorkspaces to the sweep that saw the desktop AVAILABLE (an upper bound, by at most
/// one sweep interval), the newest [`START_SAMPLES_KEPT`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartTimes {
    pub tenant_id: TenantId,
    pub samples: Vec<u32>,
    pub updated_at: Timestamp,
    #[serde(default)]
    pub version: u64,
}

impl StartTimes {
    /// The p90 of the samples (none before any was measured): the pre-warm lead's measured
    /// part.
    pub fn p90(&self) -> Option<u32> {
        p90(&self.samples)
    }

    /// Adds `seconds` (the newest last), keeping the newest [`START_SAMPLES_KEPT`].
    pub fn add(&mut self, seconds: impl IntoIterator<Item = u32>) {
        self.samples.extend(seconds);
        let extra = self.samples.len().saturating_sub(START_SAMPLES_KEPT);
        self.samples.drain(..extra);
    }
}

/// Hours a group's desktops were AVAILABLE inside and outside its windows in one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanUsageRecord {
    pub tenant_id: TenantId,
    /// The pool id or `TENANT` ([`scope_name`]).
    pub scope: String,
    pub month: Month,
    pub inside_seconds: u64,
    pub outside_seconds: u64,
}
