//! Power control plans: when a group of desktops (a pool, or a tenant's desktops outside
//! pools) should be up, as pure functions of a plan, its holiday calendars and the time,
//! tested without I/O.
//!
//! A [`PowerPlan`] has weekly [`Window`]s in an IANA time zone, the holiday calendars and
//! one-off closures on whose dates its windows do not open, the warm capacity ([`Buffer`])
//! kept started during a window (and pre-warmed before it opens, by the measured start time),
//! and how a window's end drains the group ([`Drain`]).
//!
//! Times are wall-clock times in the plan's zone, converted with `jiff` and its bundled tz
//! database (the `provided.al2023` Lambda image may carry no `/usr/share/zoneinfo`). A window
//! opening or closing in a daylight-saving gap happens at the instant the wall clock would
//! have shown that time at the offset before the gap (07:30 in a 07:00–08:00 gap is 08:30 of
//! the new offset: jiff's "compatible" disambiguation, as RFC 5545 and Temporal do); in a
//! repeated hour, at its first occurrence.
//!
//! The handlers that gather the input and carry out the decisions are in
//! `functions/src/plans/`; the records are [`crate::model::PlanRecord`] and
//! [`crate::model::CalendarRecord`].
//!
//! - [`calendar`]: holiday calendars from iCalendar documents or day lists, checked.
//! - [`openings`]: a plan's openings in UTC, holidays and closures, the phase at a time.
//! - [`warm`]: the warm capacity to start and hold, and the drain after a close.
//! - [`split`]: AVAILABLE time per month inside and outside the openings (reporting).

pub mod calendar;
pub mod openings;
pub mod split;
pub mod warm;

pub use calendar::{check_days, parse_ics};
pub use openings::{
    Occurrence, Opening, Phase, PlanStatus, Skip, local_time, occurrences, p90, start_lead, status,
};
pub use split::{MonthSplit, split_available};
pub use warm::{GroupDecision, GroupDesktop, GroupInput, StartReason, buffer_target, decide_group};

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::validate::{self, Problem, ValidationError};

/// Windows one plan may have.
pub const MAX_WINDOWS: usize = 28;
/// Holiday calendars one plan may name.
pub const MAX_PLAN_CALENDARS: usize = 5;
/// One-off closures one plan may have.
pub const MAX_CLOSURES: usize = 100;
/// Date spans one holiday calendar may hold.
pub const MAX_CALENDAR_DAYS: usize = 1000;
/// The longest drain grace (minutes).
pub const MAX_GRACE_MINUTES: u32 = 12 * 60;
/// The longest fixed pre-warm lead (minutes).
pub const MAX_START_LEAD_MINUTES: u32 = 240;
/// The largest buffer count.
pub const MAX_BUFFER_COUNT: u32 = 1000;
/// The drain grace when a plan does not say.
pub const DEFAULT_GRACE_MINUTES: u32 = 30;
/// How long a start is assumed to take before Steward has measured any for the tenant.
pub const DEFAULT_START_SECONDS: u32 = 600;

/// An IANA time zone name the bundled tz database knows (`Europe/Berlin`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ZoneName(String);

impl ZoneName {
    pub fn parse(value: impl Into<String>) -> Result<Self, ValidationError> {
        let value = value.into();
        validate::length("zone", &value, 1, 64)?;
        if jiff::tz::db().get(&value).is_err() {
            return Err(ValidationError::new(
                "zone",
                Problem::Pattern {
                    expected: "an IANA time zone name, e.g. Europe/Berlin",
                },
            ));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The zone from the bundled database (the name was checked when parsed).
    pub fn tz(&self) -> jiff::tz::TimeZone {
        jiff::tz::db()
            .get(&self.0)
            .unwrap_or(jiff::tz::TimeZone::UTC)
    }
}

impl TryFrom<String> for ZoneName {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<ZoneName> for String {
    fn from(value: ZoneName) -> String {
        value.0
    }
}

impl fmt::Display for ZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

/// A wall-clock time of day, `HH:MM` (00:00–23:59), as minutes after midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LocalTime(u16);

impl LocalTime {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let bad = || {
            ValidationError::new(
                "time",
                Problem::Pattern {
                    expected: "HH:MM from 00:00 to 23:59",
                },
            )
        };
        let (h, m) = value.split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let h: u16 = h.parse().map_err(|_| bad())?;
        let m: u16 = m.parse().map_err(|_| bad())?;
        if h > 23 || m > 59 {
            return Err(bad());
        }
        Ok(Self(h * 60 + m))
    }

    pub fn from_minutes(minutes: u16) -> Option<Self> {
        (minutes < 24 * 60).then_some(Self(minutes))
    }

    /// Minutes after midnight.
    pub fn minutes(self) -> u16 {
        self.0
    }

    pub fn hour(self) -> i8 {
        (self.0 / 60) as i8
    }

    pub fn minute(self) -> i8 {
        (self.0 % 60) as i8
    }
}

impl TryFrom<String> for LocalTime {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<LocalTime> for String {
    fn from(value: LocalTime) -> String {
        format!("{:02}:{:02}", value.0 / 60, value.0 % 60)
    }
}

/// A weekly window: on each of `days`, open from `open` to `close` (wall clock in the
/// plan's zone). A `close` earlier than `open` closes the next day (a night shift); the
/// window belongs to the day it opens on (a holiday on that date skips it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Window {
    pub days: Vec<Weekday>,
    pub open: LocalTime,
    pub close: LocalTime,
}

/// A name of a tenant's holiday calendar (1–64 letters, digits, `.`, `_`, `-`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CalendarName(String);

impl CalendarName {
    pub fn parse(value: impl Into<String>) -> Result<Self, ValidationError> {
        let value = value.into();
        validate::length("name", &value, 1, 64)?;
        if !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(ValidationError::new(
                "name",
                Problem::Pattern {
                    expected: "letters, digits, '.', '_' and '-'",
                },
            ));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CalendarName {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<CalendarName> for String {
    fn from(value: CalendarName) -> String {
        value.0
    }
}

impl fmt::Display for CalendarName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Dates `from` to `to` (both included, local dates of the plan's zone), with an optional
/// name (a holiday's, a closure's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DateSpan {
    pub from: NaiveDate,
    pub to: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl DateSpan {
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }

    /// `from` not after `to`, at most ten years long, a name of 1–128 characters.
    pub fn check(&self, field: &'static str) -> Result<(), ValidationError> {
        if self.to < self.from {
            return Err(ValidationError::new(
                field,
                Problem::Inconsistent("a span's to is before its from".into()),
            ));
        }
        if (self.to - self.from).num_days() > 3660 {
            return Err(ValidationError::new(
                field,
                Problem::Inconsistent("a span may cover at most ten years".into()),
            ));
        }
        if let Some(n) = &self.name {
            validate::length(field, n, 1, 128)?;
        }
        Ok(())
    }
}

/// A tenant's named list of holidays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HolidayCalendar {
    pub name: CalendarName,
    pub days: Vec<DateSpan>,
}

/// Warm capacity: how many of the group's free desktops are kept started during a window —
/// a count, or a percentage of the free desktops (rounded up); neither means none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Buffer {
    #[serde(
        default,
        rename = "bufferCount",
        skip_serializing_if = "Option::is_none"
    )]
    pub count: Option<u32>,
    #[serde(
        default,
        rename = "bufferPercent",
        skip_serializing_if = "Option::is_none"
    )]
    pub percent: Option<u8>,
}

impl Buffer {
    /// At most one of the two; a count up to [`MAX_BUFFER_COUNT`], a percentage up to 100.
    pub fn check(&self, field: &'static str) -> Result<(), ValidationError> {
        if self.count.is_some() && self.percent.is_some() {
            return Err(ValidationError::new(
                field,
                Problem::Inconsistent("give bufferCount or bufferPercent, not both".into()),
            ));
        }
        if let Some(c) = self.count {
            validate::range(field, i64::from(c), 0, i64::from(MAX_BUFFER_COUNT))?;
        }
        if let Some(p) = self.percent {
            validate::range(field, i64::from(p), 0, 100)?;
        }
        Ok(())
    }
}

/// What a window's end does to the group's desktops that were up in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Drain {
    /// How long after the end a desktop with a live session is stopped (its session was
    /// warned at the end).
    #[serde(default = "default_grace")]
    pub grace_minutes: u32,
    /// Never stop a desktop with a live session: it is warned, and drained at the first
    /// sweep that finds no live session on it.
    #[serde(default)]
    pub keep_sessions: bool,
}

fn default_grace() -> u32 {
    DEFAULT_GRACE_MINUTES
}

impl Default for Drain {
    fn default() -> Self {
        Self {
            grace_minutes: DEFAULT_GRACE_MINUTES,
            keep_sessions: false,
        }
    }
}

/// A power control plan (per pool, or per tenant for its desktops outside pools).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PowerPlan {
    pub zone: ZoneName,
    pub windows: Vec<Window>,
    /// Names of the tenant's holiday calendars on whose dates the windows do not open.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calendars: Vec<CalendarName>,
    /// One-off closures: dates on which the windows do not open.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub closures: Vec<DateSpan>,
    /// Warm capacity during a window: a count of free desktops kept started…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buffer_count: Option<u32>,
    /// …or a percentage of the free desktops (rounded up); neither means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buffer_percent: Option<u8>,
    #[serde(default)]
    pub drain: Drain,
    /// A fixed pre-warm lead; without it, the tenant's measured p90 start time plus one
    /// sweep interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_lead_minutes: Option<u32>,
    /// Whether a pool assigns new desktops outside its windows (by default it refuses them
    /// with `POOL_CLOSED`; a user's held desktop is always given back).
    #[serde(default)]
    pub assign_outside_windows: bool,
}

impl PowerPlan {
    /// The plan's warm capacity.
    pub fn buffer(&self) -> Buffer {
        Buffer {
            count: self.buffer_count,
            percent: self.buffer_percent,
        }
    }

    /// The plan's ranges and counts, each refused by field name.
    pub fn check(&self) -> Result<(), ValidationError> {
        validate::count("detail.plan.windows", self.windows.len(), 1, MAX_WINDOWS)?;
        for w in &self.windows {
            validate::count("detail.plan.windows.days", w.days.len(), 1, 7)?;
            if w.open == w.close {
                return Err(ValidationError::new(
                    "detail.plan.windows",
                    Problem::Inconsistent("a window's open and close are the same time".into()),
                ));
            }
        }
        validate::max_items(
            "detail.plan.calendars",
            self.calendars.len(),
            MAX_PLAN_CALENDARS,
        )?;
        validate::max_items("detail.plan.closures", self.closures.len(), MAX_CLOSURES)?;
        for c in &self.closures {
            c.check("detail.plan.closures")?;
        }
        self.buffer().check("detail.plan.buffer")?;
        validate::range(
            "detail.plan.drain.graceMinutes",
            i64::from(self.drain.grace_minutes),
            0,
            i64::from(MAX_GRACE_MINUTES),
        )?;
        if let Some(m) = self.start_lead_minutes {
            validate::range(
                "detail.plan.startLeadMinutes",
                i64::from(m),
                0,
                i64::from(MAX_START_LEAD_MINUTES),
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_plan_reads_and_writes_its_wire_form() {
        let wire = json!({
            "zone": "Europe/Berlin",
            "windows": [{"days": ["MON", "TUE", "WED", "THU", "FRI"], "open": "07:00", "close": "19:00"}],
            "calendars": ["de-be"],
            "closures": [{"from": "2026-12-24", "to": "2026-12-26", "name": "works holiday"}],
            "bufferCount": 20,
            "drain": {"graceMinutes": 15, "keepSessions": false}
        });
        let plan: PowerPlan = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(plan.buffer().count, Some(20));
        assert_eq!(plan.windows[0].open.minutes(), 420);
        assert_eq!(plan.zone.as_str(), "Europe/Berlin");
        plan.check().unwrap();
        let mut back = serde_json::to_value(&plan).unwrap();
        back.as_object_mut().unwrap().remove("assignOutsideWindows");
        assert_eq!(back, wire);
    }

    #[test]
    fn bad_plans_are_refused_by_field() {
        assert_eq!(
            ZoneName::parse("Mars/Olympus").unwrap_err().problem.code(),
            "PatternMismatch"
        );
        for t in ["7:00", "24:00", "07:60", "0700", "ab:cd"] {
            assert!(LocalTime::parse(t).is_err(), "{t}");
        }
        let mut plan: PowerPlan = serde_json::from_value(json!({
            "zone": "UTC",
            "windows": [{"days": ["MON"], "open": "07:00", "close": "07:00"}]
        }))
        .unwrap();
        assert_eq!(plan.check().unwrap_err().field, "detail.plan.windows");
        plan.windows[0].close = LocalTime::parse("19:00").unwrap();
        plan.buffer_count = Some(1);
        plan.buffer_percent = Some(10);
        assert_eq!(plan.check().unwrap_err().field, "detail.plan.buffer");
        plan.buffer_count = None;
        plan.buffer_percent = Some(101);
        assert_eq!(plan.check().unwrap_err().problem.code(), "OutOfRange");
        let both = serde_json::from_value::<PowerPlan>(json!({
            "zone": "UTC", "windows": [], "extra": 1
        }));
        assert!(both.is_err(), "unknown fields are refused");
        assert_eq!(
            CalendarName::parse("de be").unwrap_err().problem.code(),
            "PatternMismatch"
        );
    }
}
