//! Reporting: a period a desktop was AVAILABLE, split per month into the seconds inside
//! the group's openings and outside them.
//!
//! Months are UTC calendar months, the usage ledger's ([`Month::of`]), so that the plan's
//! figures add up with the ledger's per-desktop ones. "Inside" means inside an opening that
//! happened: a window a holiday or closure skipped counts as outside, since a desktop up on
//! a holiday is exactly what the report is to show. Without a plan every second is outside.

use chrono::{Datelike, NaiveDate};

use super::{HolidayCalendar, PowerPlan, occurrences};
use crate::model::{Month, Timestamp};

/// Seconds of one month inside and outside the plan's openings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthSplit {
    pub month: Month,
    pub inside_seconds: u64,
    pub outside_seconds: u64,
}

/// The period [`from`, `to`) split per UTC month into seconds inside and outside the
/// plan's (not skipped) openings; empty when `to` is not after `from`. Where the plan's
/// times cannot be converted (beyond the year 9999) the period counts as outside.
pub fn split_available(
    plan: Option<&PowerPlan>,
    calendars: &[HolidayCalendar],
    from: Timestamp,
    to: Timestamp,
) -> Vec<MonthSplit> {
    let mut out = Vec::new();
    let mut start = from;
    while start < to {
        let end = next_month(start).map_or(to, |m| m.min(to));
        if end <= start {
            break;
        }
        let total = seconds(end - start);
        let inside = plan
            .map_or(0, |p| inside_seconds(p, calendars, start, end))
            .min(total);
        out.push(MonthSplit {
            month: Month::of(start),
            inside_seconds: inside,
            outside_seconds: total - inside,
        });
        start = end;
    }
    out
}

/// Seconds of [`from`, `to`) inside the plan's openings that happen.
fn inside_seconds(
    plan: &PowerPlan,
    calendars: &[HolidayCalendar],
    from: Timestamp,
    to: Timestamp,
) -> u64 {
    occurrences(plan, calendars, from, to)
        .iter()
        .filter(|o| o.skipped.is_none())
        .map(|o| {
            let a = o.opening.opens_at.max(from);
            let b = o.opening.closes_at.min(to);
            if b > a { seconds(b - a) } else { 0 }
        })
        .sum()
}

fn seconds(d: chrono::Duration) -> u64 {
    u64::try_from(d.num_seconds()).unwrap_or(0)
}

/// The start of the UTC month after `t`'s.
fn next_month(t: Timestamp) -> Option<Timestamp> {
    let (year, month) = match t.month() {
        12 => (t.year().checked_add(1)?, 1),
        m => (t.year(), m + 1),
    };
    Some(
        NaiveDate::from_ymd_opt(year, month, 1)?
            .and_hms_opt(0, 0, 0)?
            .and_utc(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plans::{CalendarName, DateSpan};
    use chrono::DateTime;
    use serde_json::json;

    fn ts(s: &str) -> Timestamp {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn plan(zone: &str, days: &[&str], open: &str, close: &str) -> PowerPlan {
        serde_json::from_value(json!({
            "zone": zone,
            "windows": [{"days": days, "open": open, "close": close}]
        }))
        .unwrap()
    }

    const ALL: [&str; 7] = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];

    fn split(month: &str, inside: u64, outside: u64) -> MonthSplit {
        MonthSplit {
            month: Month::parse(month).unwrap(),
            inside_seconds: inside,
            outside_seconds: outside,
        }
    }

    #[test]
    fn without_a_plan_everything_is_outside_per_month() {
        let got = split_available(
            None,
            &[],
            ts("2026-01-31T22:00:00Z"),
            ts("2026-02-01T02:00:00Z"),
        );
        assert_eq!(
            got,
            vec![split("2026-01", 0, 7200), split("2026-02", 0, 7200)]
        );
        let year = split_available(
            None,
            &[],
            ts("2026-01-15T00:00:00Z"),
            ts("2027-01-15T00:00:00Z"),
        );
        assert_eq!(year.len(), 13);
        let total: u64 = year.iter().map(|m| m.outside_seconds).sum();
        assert_eq!(total, 365 * 86_400);
        assert_eq!(year[1], split("2026-02", 0, 28 * 86_400));
    }

    #[test]
    fn a_night_window_across_a_month_end() {
        let p = plan("Europe/Berlin", &ALL, "22:00", "06:00");
        // 21:00Z–05:00Z.
        let got = split_available(
            Some(&p),
            &[],
            ts("2026-11-30T20:00:00Z"),
            ts("2026-12-01T08:00:00Z"),
        );
        assert_eq!(
            got,
            vec![
                split("2026-11", 10_800, 3_600),
                split("2026-12", 18_000, 10_800)
            ]
        );
    }

    #[test]
    fn a_month_end_on_a_dst_change() {
        // Berlin falls back on Sunday 2027-10-31: Saturday night's window is 9 hours
        // (20:00Z–05:00Z), Sunday night's runs 21:00Z–05:00Z across the month end.
        let p = plan("Europe/Berlin", &ALL, "22:00", "06:00");
        let got = split_available(
            Some(&p),
            &[],
            ts("2027-10-30T12:00:00Z"),
            ts("2027-11-01T12:00:00Z"),
        );
        assert_eq!(
            got,
            vec![
                split("2027-10", 12 * 3600, 24 * 3600),
                split("2027-11", 5 * 3600, 7 * 3600)
            ]
        );
        // Spring forward: 22:00 CET to 06:00 CEST is 7 hours.
        let got = split_available(
            Some(&p),
            &[],
            ts("2026-03-28T12:00:00Z"),
            ts("2026-03-29T12:00:00Z"),
        );
        assert_eq!(got, vec![split("2026-03", 7 * 3600, 17 * 3600)]);
    }

    #[test]
    fn a_skipped_window_counts_as_outside() {
        let mut p = plan(
            "Europe/Berlin",
            &["MON", "TUE", "WED", "THU", "FRI"],
            "07:00",
            "19:00",
        );
        p.calendars = vec![CalendarName::parse("de-be").unwrap()];
        let cals = [HolidayCalendar {
            name: CalendarName::parse("de-be").unwrap(),
            days: vec![DateSpan {
                from: "2026-12-02".parse().unwrap(),
                to: "2026-12-02".parse().unwrap(),
                name: None,
            }],
        }];
        let from = ts("2026-12-01T00:00:00Z");
        let to = ts("2026-12-03T00:00:00Z");
        let got = split_available(Some(&p), &cals, from, to);
        assert_eq!(got, vec![split("2026-12", 12 * 3600, 36 * 3600)]);
        let got = split_available(Some(&p), &[], from, to);
        assert_eq!(got, vec![split("2026-12", 24 * 3600, 24 * 3600)]);
    }

    #[test]
    fn empty_and_extreme_periods() {
        let p = plan("UTC", &ALL, "00:00", "12:00");
        let t = ts("2026-12-01T00:00:00Z");
        assert_eq!(split_available(Some(&p), &[], t, t), vec![]);
        assert_eq!(
            split_available(Some(&p), &[], t, t - chrono::Duration::hours(1)),
            vec![]
        );
        // Past jiff's range the plan cannot be read: all outside, no panic.
        let end = NaiveDate::from_ymd_opt(10_000, 2, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc();
        let got = split_available(Some(&p), &[], ts("9999-12-31T00:00:00Z"), end);
        let got: Vec<(&str, u64, u64)> = got
            .iter()
            .map(|m| (m.month.as_str(), m.inside_seconds, m.outside_seconds))
            .collect();
        assert_eq!(
            got,
            vec![("9999-12", 0, 86_400), ("10000-01", 0, 31 * 86_400)]
        );
    }
}
