//! The power-plan queries: each group's plan where it stands now (`powerPlans`), and the
//! hours a month's plans saved against always-on (`planReport`) — answered from the table
//! alone.
//!
//! `powerPlans` evaluates each plan with the same pure functions and the same pre-warm lead
//! as the idle sweep (`steward_shared::plans`: [`status`], [`start_lead`] of the p90 of the
//! tenant's measured start times plus one sweep interval), so the phase and the next window
//! a partner reads are the ones the next sweep will act on. Times are given in UTC and, for
//! the customer's people, in the plan's zone ([`local_time`]). A calendar a plan names that
//! the tenant has not loaded is named in `missingCalendars`: the sweep treats it as empty,
//! and a partner should know its holidays are not being kept.
//!
//! `planReport` gives each group's month as the month-end `Power Plan Report` event does
//! ([`month_report`]), from the same usage ledger and with the group's desktops counted now:
//! a report asked for again later may differ in `desktops` and `alwaysOnHours` (the desktops
//! are today's, not a history), which the answer's `method` says.
//!
//! Groups are listed pools first (by pool id), then the tenant's desktops outside pools
//! (`TENANT`). The answers are this file's camelCase view types: the records' serde shapes
//! are storage shapes and never reach a partner; the plan itself is given as partners set it.

use chrono::{Duration, NaiveDate, SecondsFormat};
use serde::Serialize;
use serde_json::{Value, json};
use steward_shared::Error;
use steward_shared::ids::{PoolId, TenantId};
use steward_shared::model::{
    BufferOverride, CalendarRecord, Month, PlanRecord, RunningMode, Timestamp, WorkspaceRecord,
    WorkspaceState,
};
use steward_shared::plans::{
    Buffer, CalendarName, DateSpan, HolidayCalendar, Opening, Phase, PowerPlan, ZoneName,
    local_time, start_lead, status,
};
use steward_shared::store::{PageRequest, PlanStore, PoolStore, WorkspaceStore, collect_all};

use crate::deps::Deps;
use crate::plans::report::{MonthReport, month_report};

/// The idle sweep's interval (its schedule in `template.yaml`), the part of the pre-warm
/// lead that covers the wait for the next sweep.
const SWEEP_INTERVAL_MINUTES: i64 = 5;

/// Where a group is in its plan now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(super) enum PhaseName {
    /// Inside a window.
    Open,
    /// Within the pre-warm lead before a window.
    Prewarm,
    /// Neither.
    Closed,
}

impl From<Phase> for PhaseName {
    fn from(p: Phase) -> Self {
        match p {
            Phase::Open { .. } => PhaseName::Open,
            Phase::Prewarm { .. } => PhaseName::Prewarm,
            Phase::Closed => PhaseName::Closed,
        }
    }
}

/// Where the pre-warm lead comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(super) enum LeadSource {
    /// The plan's `startLeadMinutes`.
    Plan,
    /// The p90 of the tenant's measured start times, plus one sweep interval.
    Measured,
    /// No start measured yet: the default start time, plus one sweep interval.
    Default,
}

/// A window in UTC and in the plan's zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WindowAnswer {
    opens_at: Timestamp,
    closes_at: Timestamp,
    opens_at_local: String,
    closes_at_local: String,
}

impl WindowAnswer {
    fn of(zone: &ZoneName, o: &Opening) -> Self {
        Self {
            opens_at: o.opens_at,
            closes_at: o.closes_at,
            opens_at_local: local_time(zone, o.opens_at),
            closes_at_local: local_time(zone, o.closes_at),
        }
    }
}

/// The warm-capacity override in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct OverrideAnswer<'a> {
    /// `bufferCount` or `bufferPercent`.
    #[serde(flatten)]
    buffer: Buffer,
    until: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

impl<'a> From<&'a BufferOverride> for OverrideAnswer<'a> {
    fn from(o: &'a BufferOverride) -> Self {
        Self {
            buffer: o.buffer,
            until: o.until,
            reason: o.reason.as_deref(),
        }
    }
}

/// One group's plan and where it stands now. Without a plan (removed, or only an override
/// was set) everything the plan decides is null.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PlanAnswer<'a> {
    /// The pool id, or `TENANT`.
    scope: String,
    pool_id: Option<&'a PoolId>,
    plan: Option<&'a PowerPlan>,
    zone: Option<&'a ZoneName>,
    phase: Option<PhaseName>,
    /// The pre-warm lead in whole minutes, rounded up.
    start_lead_minutes: Option<i64>,
    start_lead_source: Option<LeadSource>,
    measured_p90_start_seconds: Option<u32>,
    /// The window open now, else the next one a holiday or closure does not skip.
    next_window: Option<WindowAnswer>,
    /// The latest close of a window that happened, within the sweep's look-back.
    last_close: Option<Timestamp>,
    #[serde(rename = "override")]
    override_: Option<OverrideAnswer<'a>>,
    /// Calendars the plan names that the tenant has not loaded (treated as empty).
    missing_calendars: Vec<&'a CalendarName>,
}

/// One of the tenant's holiday calendars: how many spans it holds and how many distinct
/// dates they cover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CalendarAnswer<'a> {
    name: &'a CalendarName,
    spans: usize,
    dates: i64,
}

impl<'a> From<&'a CalendarRecord> for CalendarAnswer<'a> {
    fn from(c: &'a CalendarRecord) -> Self {
        Self {
            name: &c.name,
            spans: c.days.len(),
            dates: dates_covered(&c.days),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PowerPlansAnswer<'a> {
    tenant_id: &'a TenantId,
    plans: Vec<PlanAnswer<'a>>,
    calendars: Vec<CalendarAnswer<'a>>,
}

/// The month's totals over the groups (sums of the groups' figures).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ReportTotals {
    inside_hours: f64,
    outside_hours: f64,
    always_on_hours: f64,
    saved_hours: f64,
}

impl ReportTotals {
    fn of(groups: &[MonthReport]) -> Self {
        let sum = |f: fn(&MonthReport) -> f64| hundredths(groups.iter().map(f).sum());
        Self {
            inside_hours: sum(|g| g.inside_hours),
            outside_hours: sum(|g| g.outside_hours),
            always_on_hours: sum(|g| g.always_on_hours),
            saved_hours: sum(|g| g.saved_hours),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PlanReportAnswer<'a> {
    tenant_id: &'a TenantId,
    month: &'a Month,
    groups: Vec<MonthReport>,
    totals: ReportTotals,
    /// How `alwaysOnHours` and `savedHours` are reckoned, in one line.
    method: String,
}

fn hundredths(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Distinct dates the spans cover (overlapping spans counted once).
fn dates_covered(spans: &[DateSpan]) -> i64 {
    let mut sorted: Vec<(NaiveDate, NaiveDate)> = spans
        .iter()
        .filter(|s| s.from <= s.to)
        .map(|s| (s.from, s.to))
        .collect();
    sorted.sort_unstable();
    let mut total = 0;
    let mut run: Option<(NaiveDate, NaiveDate)> = None;
    for (from, to) in sorted {
        match &mut run {
            Some((_, end)) if from <= *end => *end = (*end).max(to),
            _ => {
                if let Some((f, t)) = run.replace((from, to)) {
                    total += (t - f).num_days() + 1;
                }
            }
        }
    }
    if let Some((f, t)) = run {
        total += (t - f).num_days() + 1;
    }
    total
}

/// The tenant's plan records, pools first (by id), then the tenant group.
async fn plan_records(deps: &Deps, tid: &TenantId) -> Result<Vec<PlanRecord>, Error> {
    let mut records = deps.store.list_plans(tid).await?;
    records
        .sort_by(|a, b| (a.pool_id.is_none(), &a.pool_id).cmp(&(b.pool_id.is_none(), &b.pool_id)));
    Ok(records)
}

/// What the plans are evaluated with: the tenant's calendars and measured start p90.
struct Evaluation<'a> {
    calendars: &'a [HolidayCalendar],
    p90_start_seconds: Option<u32>,
    now: Timestamp,
}

impl Evaluation<'_> {
    fn answer<'r>(&self, r: &'r PlanRecord) -> PlanAnswer<'r> {
        let mut a = PlanAnswer {
            scope: r.scope(),
            pool_id: r.pool_id.as_ref(),
            plan: r.plan.as_ref(),
            zone: None,
            phase: None,
            start_lead_minutes: None,
            start_lead_source: None,
            measured_p90_start_seconds: None,
            next_window: None,
            last_close: None,
            override_: r.active_override(self.now).map(OverrideAnswer::from),
            missing_calendars: Vec::new(),
        };
        let Some(plan) = &r.plan else {
            return a;
        };
        let interval = Duration::minutes(SWEEP_INTERVAL_MINUTES);
        let lead = start_lead(plan, self.p90_start_seconds, interval);
        let s = status(plan, self.calendars, self.now, lead);
        a.zone = Some(&plan.zone);
        a.phase = Some(s.phase.into());
        a.start_lead_minutes = Some((lead.num_seconds().max(0) + 59) / 60);
        a.start_lead_source = Some(match (plan.start_lead_minutes, self.p90_start_seconds) {
            (Some(_), _) => LeadSource::Plan,
            (None, Some(_)) => LeadSource::Measured,
            (None, None) => LeadSource::Default,
        });
        a.measured_p90_start_seconds = self.p90_start_seconds;
        a.next_window = s.next.map(|o| WindowAnswer::of(&plan.zone, &o));
        a.last_close = s.last_close;
        a.missing_calendars = plan
            .calendars
            .iter()
            .filter(|n| !self.calendars.iter().any(|c| &c.name == *n))
            .collect();
        a
    }
}

/// Every plan record of the tenant, evaluated now, and the tenant's holiday calendars.
pub(super) async fn power_plans(deps: &Deps, tid: &TenantId) -> Result<Value, Error> {
    let records = plan_records(deps, tid).await?;
    let mut loaded = deps.store.list_calendars(tid).await?;
    loaded.sort_by(|a, b| a.name.cmp(&b.name));
    let calendars: Vec<HolidayCalendar> =
        loaded.iter().cloned().map(HolidayCalendar::from).collect();
    let times = deps.store.get_start_times(tid).await?;
    let eval = Evaluation {
        calendars: &calendars,
        p90_start_seconds: times.and_then(|t| t.p90()),
        now: deps.now(),
    };
    let answer = PowerPlansAnswer {
        tenant_id: tid,
        plans: records.iter().map(|r| eval.answer(r)).collect(),
        calendars: loaded.iter().map(CalendarAnswer::from).collect(),
    };
    Ok(json!(answer))
}

/// Whether a desktop counts as one of a group's now (a terminated one does not).
fn live(r: &WorkspaceRecord) -> bool {
    r.state != WorkspaceState::Terminated
}

/// The live desktops of the tenant group: MANUAL desktops without a pool seat.
async fn tenant_group_desktops(deps: &Deps, tid: &TenantId) -> Result<u32, Error> {
    let all = collect_all(|p: PageRequest| deps.store.list_workspaces(tid, p)).await?;
    let n = all
        .iter()
        .filter(|r| r.pool.is_none() && r.running_mode == RunningMode::Manual && live(r))
        .count();
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// The group's live desktops now.
async fn group_desktops(deps: &Deps, tid: &TenantId, pool: Option<&PoolId>) -> Result<u32, Error> {
    match pool {
        Some(p) => {
            let n = deps
                .store
                .pool_desktops(tid, p)
                .await?
                .iter()
                .filter(|r| live(r))
                .count();
            Ok(u32::try_from(n).unwrap_or(u32::MAX))
        }
        None => tenant_group_desktops(deps, tid).await,
    }
}

/// How a month stands against now.
enum MonthSpan {
    Ended,
    UnderWay,
    NotBegun,
}

/// The one-line explanation of `alwaysOnHours` and `savedHours` for `month` at `now`.
fn method(month: &Month, now: Timestamp) -> String {
    let hours = month_report(String::new(), month.clone(), 0, 0, 1, now).always_on_hours;
    let current = Month::of(now);
    let span = match month.cmp(&current) {
        std::cmp::Ordering::Less => MonthSpan::Ended,
        std::cmp::Ordering::Equal => MonthSpan::UnderWay,
        std::cmp::Ordering::Greater => MonthSpan::NotBegun,
    };
    let m = month.as_str();
    let hours_of = match span {
        MonthSpan::Ended => format!("the {hours} hours of {m}"),
        MonthSpan::UnderWay => format!(
            "the {hours} hours of {m} elapsed by {}",
            now.to_rfc3339_opts(SecondsFormat::Secs, true)
        ),
        MonthSpan::NotBegun => format!("the 0 hours of {m}, which has not begun"),
    };
    format!(
        "alwaysOnHours = the group's desktops now × {hours_of}, months in UTC; savedHours = \
         alwaysOnHours − insideHours − outsideHours, at least 0; insideHours and outsideHours \
         are the hours the idle sweep booked AVAILABLE, split by the group's windows; totals \
         are the groups' sums"
    )
}

/// Each group's report for `month`, from the plan usage ledger and the group's desktops now.
pub(super) async fn plan_report(
    deps: &Deps,
    tid: &TenantId,
    month: &Month,
) -> Result<Value, Error> {
    let now = deps.now();
    let records = plan_records(deps, tid).await?;
    let usage = deps.store.list_plan_usage(tid, month).await?;
    let mut groups = Vec::with_capacity(records.len());
    for r in &records {
        let scope = r.scope();
        let (inside, outside) =
            usage
                .iter()
                .filter(|u| u.scope == scope)
                .fold((0u64, 0u64), |(i, o), u| {
                    (
                        i.saturating_add(u.inside_seconds),
                        o.saturating_add(u.outside_seconds),
                    )
                });
        let desktops = group_desktops(deps, tid, r.pool_id.as_ref()).await?;
        groups.push(month_report(
            scope,
            month.clone(),
            inside,
            outside,
            desktops,
            now,
        ));
    }
    let answer = PlanReportAnswer {
        tenant_id: tid,
        month,
        totals: ReportTotals::of(&groups),
        groups,
        method: method(month, now),
    };
    Ok(json!(answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn span(from: &str, to: &str) -> DateSpan {
        DateSpan {
            from: d(from),
            to: d(to),
            name: None,
        }
    }

    fn t(s: &str) -> Timestamp {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn overlapping_spans_count_their_dates_once() {
        assert_eq!(dates_covered(&[]), 0);
        assert_eq!(dates_covered(&[span("2026-12-24", "2026-12-26")]), 3);
        let spans = [
            span("2026-12-25", "2026-12-31"),
            span("2026-12-24", "2026-12-26"),
            span("2027-01-01", "2027-01-01"),
            span("2026-12-28", "2026-12-29"),
        ];
        assert_eq!(dates_covered(&spans), 9);
        // A span backwards (never stored: refused when loaded) counts nothing.
        assert_eq!(dates_covered(&[span("2026-12-26", "2026-12-24")]), 0);
    }

    #[test]
    fn totals_are_the_groups_sums_to_the_hundredth() {
        let now = t("2026-12-01T05:50:00Z");
        let m = Month::parse("2026-12").unwrap();
        let groups = [
            month_report("a".into(), m.clone(), 0, 1800, 3, now),
            month_report("TENANT".into(), m.clone(), 0, 0, 2, now),
            month_report("b".into(), m, 0, 0, 1, now),
        ];
        let totals = ReportTotals::of(&groups);
        assert_eq!(
            json!(totals),
            json!({"insideHours": 0.0, "outsideHours": 0.5, "alwaysOnHours": 35.0,
                   "savedHours": 34.5})
        );
        assert_eq!(
            json!(ReportTotals::of(&[])),
            json!({"insideHours": 0.0,
            "outsideHours": 0.0, "alwaysOnHours": 0.0, "savedHours": 0.0})
        );
    }

    #[test]
    fn the_method_names_the_months_hours_as_they_stand() {
        let now = t("2026-12-01T05:50:00Z");
        let ended = method(&Month::parse("2026-11").unwrap(), now);
        assert!(
            ended.starts_with(
                "alwaysOnHours = the group's desktops now × the 720 hours of 2026-11, months in UTC;"
            ),
            "{ended}"
        );
        let under_way = method(&Month::parse("2026-12").unwrap(), now);
        assert!(
            under_way.starts_with(
                "alwaysOnHours = the group's desktops now × the 5.83 hours of 2026-12 elapsed \
                 by 2026-12-01T05:50:00Z, months in UTC;"
            ),
            "{under_way}"
        );
        let later = method(&Month::parse("2027-01").unwrap(), now);
        assert!(
            later.contains("× the 0 hours of 2027-01, which has not begun"),
            "{later}"
        );
        assert!(!later.contains('\n'));
    }

    #[test]
    fn an_override_answer_carries_only_the_buffer_it_set() {
        let o = BufferOverride {
            buffer: Buffer {
                count: None,
                percent: Some(50),
            },
            until: t("2026-12-01T08:00:00Z"),
            set_at: t("2026-12-01T05:00:00Z"),
            reason: None,
            ended: false,
        };
        assert_eq!(
            json!(OverrideAnswer::from(&o)),
            json!({"bufferPercent": 50, "until": "2026-12-01T08:00:00Z"})
        );
        assert_eq!(json!(PhaseName::from(Phase::Closed)), json!("CLOSED"));
        assert_eq!(json!(LeadSource::Measured), json!("MEASURED"));
    }
}
