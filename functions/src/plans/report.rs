//! What the idle sweep tells about each group's plan once per occasion, each told only
//! after the plan record's write that marks it told (conditional on its version, so two
//! sweeps never both tell it):
//!
//! - a window a holiday or a closure kept shut (`Power Plan Window Skipped`, once per
//!   window: `holiday_noted`);
//! - a group's warm-capacity override that ran out (`Override Ended`, once: the override
//!   stays, marked ended, so that an older event cannot set it again);
//! - the previous month's report (`Power Plan Report`, once per month: `reported_month`):
//!   hours AVAILABLE inside and outside the windows, and saved against always-on.
//!
//! [`month_report`] is also the `planReport` query's answer for one group.

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};
use serde::Serialize;
use serde_json::json;
use steward_shared::Error;
use steward_shared::model::{Actor, AuditOutcome, Month, PlanRecord, Tenant, Timestamp};
use steward_shared::plans::Skip;
use steward_shared::store::PlanStore;

use super::govern::{Group, PlanBook};
use crate::deps::Deps;
use crate::record::{Action, ActionName, PowerAction, outbound_types as ot, record_all};

/// One group's month, as the report event and the `planReport` query give it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MonthReport {
    pub scope: String,
    pub month: Month,
    pub inside_hours: f64,
    pub outside_hours: f64,
    /// The group's desktops when the report was made.
    pub desktops: u32,
    /// `desktops` × the month's hours (its elapsed hours, for the month under way).
    pub always_on_hours: f64,
    /// `alwaysOnHours − insideHours − outsideHours`, at least 0.
    pub saved_hours: f64,
}

/// The first instant of `month` (UTC).
fn month_start(month: &Month) -> Option<Timestamp> {
    let date = NaiveDate::parse_from_str(&format!("{}-01", month.as_str()), "%Y-%m-%d").ok()?;
    Some(Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0)?))
}

/// The month before the one `t` lies in.
pub fn previous_month(t: Timestamp) -> Month {
    let first = t.date_naive().with_day(1).unwrap_or_else(|| t.date_naive());
    Month::of(Utc.from_utc_datetime(&(first - Duration::days(1)).and_time(Default::default())))
}

/// Hours of `month` up to `now` (all of them for a month that ended).
fn month_hours(month: &Month, now: Timestamp) -> f64 {
    let Some(start) = month_start(month) else {
        return 0.0;
    };
    let next = Month::of(start + Duration::days(32));
    let end = month_start(&next).unwrap_or(start).min(now);
    ((end - start).num_seconds().max(0)) as f64 / 3600.0
}

fn hours(seconds: u64) -> f64 {
    (seconds as f64 / 36.0).round() / 100.0
}

/// A group's report for `month`, from its plan usage, with `desktops` in the group now.
pub fn month_report(
    scope: String,
    month: Month,
    inside_seconds: u64,
    outside_seconds: u64,
    desktops: u32,
    now: Timestamp,
) -> MonthReport {
    let inside = hours(inside_seconds);
    let outside = hours(outside_seconds);
    let always_on = (f64::from(desktops) * month_hours(&month, now) * 100.0).round() / 100.0;
    MonthReport {
        scope,
        month,
        inside_hours: inside,
        outside_hours: outside,
        desktops,
        always_on_hours: always_on,
        saved_hours: ((always_on - inside - outside).max(0.0) * 100.0).round() / 100.0,
    }
}

/// What one group's plan record needs told, and the record with it marked told.
struct Telling {
    next: PlanRecord,
    actions: Vec<(ActionName, String, &'static str, serde_json::Value)>,
}

/// Tells what each group's plan has to tell this sweep; `desktops` counts each group's
/// desktops (by scope). A lost race leaves it to the next sweep.
pub async fn tell(
    deps: &Deps,
    tenant: &Tenant,
    book: &PlanBook,
    desktops: &std::collections::HashMap<String, u32>,
) -> Result<Vec<PowerAction>, Error> {
    let mut told = Vec::new();
    for group in &book.groups {
        let count = desktops.get(&group.record.scope()).copied().unwrap_or(0);
        let Some(telling) = telling(deps, tenant, group, book.now, count).await? else {
            continue;
        };
        match deps.store.put_plan(&telling.next).await {
            Ok(_) => {}
            Err(e) if super::config::lost(&e) => continue,
            Err(e) => return Err(e.into()),
        }
        let actions: Vec<Action<'_>> = telling
            .actions
            .into_iter()
            .map(|(action, reason, detail_type, details)| Action {
                tenant: &tenant.tenant_id,
                workspace: None,
                actor: Actor::IdleSweep,
                action,
                reason,
                outcome: AuditOutcome::Succeeded,
                detail_type,
                at: book.now,
                details: Some(details),
            })
            .collect();
        record_all(deps, &actions).await?;
        told.extend(actions.iter().map(Action::report));
    }
    Ok(told)
}

async fn telling(
    deps: &Deps,
    tenant: &Tenant,
    group: &Group,
    now: Timestamp,
    desktops: u32,
) -> Result<Option<Telling>, Error> {
    let mut next = group.record.clone();
    let scope = group.record.scope();
    let mut actions = Vec::new();
    if let Some(skipped) = group.status.as_ref().and_then(|s| s.skipped.as_ref())
        && group.record.holiday_noted != Some(skipped.opening.opens_at)
        && let Some(skip) = &skipped.skipped
    {
        let (date, calendar, name) = match skip {
            Skip::Holiday {
                calendar,
                date,
                name,
            } => (*date, Some(calendar.to_string()), name.clone()),
            Skip::Closure { date, name } => (*date, None, name.clone()),
        };
        next.holiday_noted = Some(skipped.opening.opens_at);
        actions.push((
            ActionName::Holiday,
            format!(
                "{scope}: the window of {date} ({} to {}) stays shut: {}",
                skipped.opening.opens_at.to_rfc3339(),
                skipped.opening.closes_at.to_rfc3339(),
                calendar.as_deref().map_or_else(
                    || "a closure".to_owned(),
                    |c| format!("holiday calendar {c}")
                ),
            ),
            ot::POWER_PLAN_WINDOW_SKIPPED,
            json!({
                "scope": scope,
                "opensAt": skipped.opening.opens_at,
                "closesAt": skipped.opening.closes_at,
                "date": date,
                "calendar": calendar,
                "name": name,
            }),
        ));
    }
    if let Some(o) = &group.record.override_
        && o.until <= now
        && !o.ended
    {
        if let Some(n) = next.override_.as_mut() {
            n.ended = true;
        }
        actions.push((
            ActionName::OverrideEnded,
            format!(
                "{scope}: the warm-capacity override ended at {}",
                o.until.to_rfc3339()
            ),
            ot::OVERRIDE_ENDED,
            json!({
                "scope": if group.record.pool_id.is_some() { "POOL" } else { "TENANT" },
                "poolId": group.record.pool_id,
                "until": o.until,
            }),
        ));
    }
    let previous = previous_month(now);
    if group.record.plan.is_some() && next.reported_month.as_ref() < Some(&previous) {
        let usage = deps
            .store
            .list_plan_usage(&tenant.tenant_id, &previous)
            .await?;
        let (inside, outside) = usage
            .iter()
            .filter(|u| u.scope == scope)
            .fold((0, 0), |(i, o), u| {
                (i + u.inside_seconds, o + u.outside_seconds)
            });
        let report = month_report(
            scope.clone(),
            previous.clone(),
            inside,
            outside,
            desktops,
            now,
        );
        next.reported_month = Some(previous);
        actions.push((
            ActionName::PlanReport,
            format!(
                "{scope}, {}: {} h AVAILABLE inside windows, {} h outside, {} h saved against always-on",
                report.month.as_str(),
                report.inside_hours,
                report.outside_hours,
                report.saved_hours
            ),
            ot::POWER_PLAN_REPORT,
            serde_json::to_value(&report).unwrap_or_default(),
        ));
    }
    if actions.is_empty() {
        return Ok(None);
    }
    next.updated_at = now;
    Ok(Some(Telling { next, actions }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn months_and_their_hours() {
        assert_eq!(
            previous_month(t("2027-01-01T00:05:00Z")).as_str(),
            "2026-12"
        );
        assert_eq!(
            previous_month(t("2026-03-31T23:00:00Z")).as_str(),
            "2026-02"
        );
        let feb = Month::parse("2026-02").unwrap();
        assert_eq!(month_hours(&feb, t("2026-06-01T00:00:00Z")), 28.0 * 24.0);
        assert_eq!(month_hours(&feb, t("2026-02-02T12:00:00Z")), 36.0);
        let r = month_report(
            "pool-a".into(),
            feb,
            36_000,
            7_200,
            2,
            t("2026-03-01T00:00:00Z"),
        );
        assert_eq!(r.inside_hours, 10.0);
        assert_eq!(r.outside_hours, 2.0);
        assert_eq!(r.always_on_hours, 1344.0);
        assert_eq!(r.saved_hours, 1332.0);
    }
}
