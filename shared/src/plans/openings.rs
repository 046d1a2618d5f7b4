//! When a plan's windows open: its openings as UTC instants, which of them a holiday or a
//! closure skips, and the phase a group is in at a given time.
//!
//! Wall-clock times are converted with jiff's bundled tz database and its "compatible"
//! disambiguation (a time in a spring-forward gap is read at the offset before the gap, so
//! 02:30 in a 02:00–03:00 gap is 03:30 of the new offset; a time in a repeated hour is its
//! first occurrence), the rule RFC 5545 and Temporal use, so a partner's calendar tool and
//! Steward agree. Everything else is chrono: jiff only converts, at the edges, through
//! nanoseconds since the epoch.
//!
//! An opening belongs to the local date it opens on: a holiday on a Wednesday skips the
//! window that opens on Wednesday (a night shift from Tuesday 22:00 still runs into it).
//! Overlapping or touching openings merge into one, since a group cannot be "closed" for no
//! time between them; the merged opening is skipped only when every part of it is, so a
//! holiday never cuts into a shift that began on a working day.
//!
//! Nothing here panics on any input: an instant or date outside what jiff or chrono can
//! represent skips the opening it would have produced. A range is generated at most
//! [`MAX_RANGE_DAYS`] days long, so a caller's wild range costs bounded time; a chain of
//! touching openings longer than the generated range (a plan that never closes) is cut at
//! its edges.

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat};
use jiff::civil;
use jiff::tz::TimeZone;

use super::{CalendarName, HolidayCalendar, LocalTime, PowerPlan, Weekday, ZoneName};
use crate::model::Timestamp;
use crate::plans::DEFAULT_START_SECONDS;

/// The longest range [`occurrences`] generates (days); a longer one is cut there.
pub const MAX_RANGE_DAYS: i64 = 1000;
/// How far [`status`] looks ahead for the next opening (days).
pub const LOOK_AHEAD_DAYS: i64 = 400;
/// How far [`status`] looks back for the last close (days).
pub const LOOK_BACK_DAYS: i64 = 14;
/// The first, short look-ahead of [`status`] (most plans open within it).
const NEAR_DAYS: i64 = 15;
/// Local dates generated before and after the range, so that night windows and merges
/// reaching into it are seen.
const MARGIN_DAYS: i64 = 2;

/// One opening of a plan: open from `opens_at` (included) to `closes_at` (excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Opening {
    pub opens_at: Timestamp,
    pub closes_at: Timestamp,
}

impl Opening {
    pub fn contains(&self, t: Timestamp) -> bool {
        self.opens_at <= t && t < self.closes_at
    }
}

/// Why an opening does not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// Its opening date is a holiday in one of the plan's calendars.
    Holiday {
        calendar: CalendarName,
        date: NaiveDate,
        name: Option<String>,
    },
    /// Its opening date is one of the plan's closures.
    Closure {
        date: NaiveDate,
        name: Option<String>,
    },
}

impl Skip {
    /// The local date skipped.
    pub fn date(&self) -> NaiveDate {
        match self {
            Skip::Holiday { date, .. } | Skip::Closure { date, .. } => *date,
        }
    }

    /// The holiday's or the closure's name.
    pub fn name(&self) -> Option<&str> {
        match self {
            Skip::Holiday { name, .. } | Skip::Closure { name, .. } => name.as_deref(),
        }
    }

    /// The calendar that skipped it (none for a closure).
    pub fn calendar(&self) -> Option<&CalendarName> {
        match self {
            Skip::Holiday { calendar, .. } => Some(calendar),
            Skip::Closure { .. } => None,
        }
    }
}

/// An opening and, when it does not happen, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    pub opening: Opening,
    pub skipped: Option<Skip>,
}

/// Where a group is in its plan at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Inside an opening, until `closes_at`.
    Open { closes_at: Timestamp },
    /// Within the pre-warm lead before an opening at `opens_at`.
    Prewarm { opens_at: Timestamp },
    /// Neither.
    Closed,
}

/// A plan's state at a given time, as the sweep needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanStatus {
    pub phase: Phase,
    /// The current opening when open, else the next one that is not skipped (within
    /// [`LOOK_AHEAD_DAYS`]).
    pub next: Option<Opening>,
    /// The latest close (not of a skipped opening) at or before now, within
    /// [`LOOK_BACK_DAYS`]: what a drain refers to.
    pub last_close: Option<Timestamp>,
    /// A skipped occurrence whose pre-warm lead or opening covers now (to be recorded once).
    pub skipped: Option<Occurrence>,
}

/// The plan's openings that intersect [`from`, `to`), sorted by `opens_at`, overlapping
/// and touching ones merged, each with the skip (a holiday or closure) that cancels it.
/// Only the calendars the plan names count; a named calendar not in `calendars` is empty.
pub fn occurrences(
    plan: &PowerPlan,
    calendars: &[HolidayCalendar],
    from: Timestamp,
    to: Timestamp,
) -> Vec<Occurrence> {
    occurrences_in(&plan.zone.tz(), plan, calendars, from, to)
}

fn occurrences_in(
    tz: &TimeZone,
    plan: &PowerPlan,
    calendars: &[HolidayCalendar],
    from: Timestamp,
    to: Timestamp,
) -> Vec<Occurrence> {
    if to <= from {
        return Vec::new();
    }
    let to = from
        .checked_add_signed(Duration::days(MAX_RANGE_DAYS))
        .map_or(to, |cap| cap.min(to));
    let (Some(first), Some(last)) = (local_date(tz, from), local_date(tz, to)) else {
        return Vec::new();
    };
    let mut raw = Vec::new();
    let mut date = shift(first, -MARGIN_DAYS);
    let end = shift(last, MARGIN_DAYS);
    while let (Some(d), Some(end)) = (date, end) {
        if d > end {
            break;
        }
        openings_on(tz, plan, calendars, d, &mut raw);
        date = d.tomorrow().ok();
    }
    raw.sort_by_key(|o: &Occurrence| (o.opening.opens_at, o.opening.closes_at));
    merge(raw)
        .into_iter()
        .filter(|o| o.opening.closes_at > from && o.opening.opens_at < to)
        .collect()
}

/// The openings of the windows that open on local date `date`.
fn openings_on(
    tz: &TimeZone,
    plan: &PowerPlan,
    calendars: &[HolidayCalendar],
    date: civil::Date,
    out: &mut Vec<Occurrence>,
) {
    let day = weekday(date.weekday());
    let mut skip = None;
    for w in plan.windows.iter().filter(|w| w.days.contains(&day)) {
        if w.open == w.close {
            continue;
        }
        let close_date = if w.close < w.open {
            date.tomorrow().ok()
        } else {
            Some(date)
        };
        let (Some(opens_at), Some(closes_at)) = (
            instant(tz, date, w.open),
            close_date.and_then(|d| instant(tz, d, w.close)),
        ) else {
            continue;
        };
        // A window wholly inside a spring-forward gap can close before it opens.
        if closes_at <= opens_at {
            continue;
        }
        let skipped = skip
            .get_or_insert_with(|| skip_of(plan, calendars, date))
            .clone();
        out.push(Occurrence {
            opening: Opening {
                opens_at,
                closes_at,
            },
            skipped,
        });
    }
}

/// Merges overlapping and touching occurrences (sorted by `opens_at`).
fn merge(sorted: Vec<Occurrence>) -> Vec<Occurrence> {
    let mut out: Vec<Occurrence> = Vec::with_capacity(sorted.len());
    for o in sorted {
        match out.last_mut() {
            Some(last) if o.opening.opens_at <= last.opening.closes_at => {
                last.opening.closes_at = last.opening.closes_at.max(o.opening.closes_at);
                if o.skipped.is_none() {
                    last.skipped = None;
                }
            }
            _ => out.push(o),
        }
    }
    out
}

/// Why the windows opening on `date` are skipped: the first of the plan's calendars (in
/// the plan's order) with a span on it, else the first closure on it.
fn skip_of(plan: &PowerPlan, calendars: &[HolidayCalendar], date: civil::Date) -> Option<Skip> {
    let date = naive(date)?;
    for name in &plan.calendars {
        let Some(cal) = calendars.iter().find(|c| &c.name == name) else {
            continue;
        };
        if let Some(span) = cal.days.iter().find(|s| s.contains(date)) {
            return Some(Skip::Holiday {
                calendar: name.clone(),
                date,
                name: span.name.clone(),
            });
        }
    }
    plan.closures
        .iter()
        .find(|s| s.contains(date))
        .map(|s| Skip::Closure {
            date,
            name: s.name.clone(),
        })
}

/// The plan's state at `now`, with pre-warm lead `lead`.
pub fn status(
    plan: &PowerPlan,
    calendars: &[HolidayCalendar],
    now: Timestamp,
    lead: Duration,
) -> PlanStatus {
    let tz = plan.zone.tz();
    let after = |days| now.checked_add_signed(Duration::days(days)).unwrap_or(now);
    let back = now
        .checked_sub_signed(Duration::days(LOOK_BACK_DAYS))
        .unwrap_or(now);
    let near = occurrences_in(&tz, plan, calendars, back, after(NEAR_DAYS));
    let happens = |o: &&Occurrence| o.skipped.is_none();
    let open = near
        .iter()
        .filter(happens)
        .find(|o| o.opening.contains(now))
        .map(|o| o.opening);
    let upcoming = |list: &[Occurrence]| {
        list.iter()
            .filter(happens)
            .find(|o| o.opening.opens_at > now)
            .map(|o| o.opening)
    };
    let next = open.or_else(|| upcoming(&near)).or_else(|| {
        let far = occurrences_in(
            &tz,
            plan,
            calendars,
            after(NEAR_DAYS),
            after(LOOK_AHEAD_DAYS),
        );
        upcoming(&far)
    });
    let phase = match (open, next) {
        (Some(o), _) => Phase::Open {
            closes_at: o.closes_at,
        },
        (None, Some(n)) if within_lead(n.opens_at, now, lead) => Phase::Prewarm {
            opens_at: n.opens_at,
        },
        _ => Phase::Closed,
    };
    let last_close = near
        .iter()
        .filter(happens)
        .map(|o| o.opening.closes_at)
        .filter(|c| *c <= now)
        .max();
    let skipped = near
        .iter()
        .find(|o| {
            o.skipped.is_some()
                && within_lead(o.opening.opens_at, now, lead)
                && now < o.opening.closes_at
        })
        .cloned();
    PlanStatus {
        phase,
        next,
        last_close,
        skipped,
    }
}

/// Whether `now` is at or after `opens_at − lead` (a lead too large to subtract reaches
/// back to any time).
fn within_lead(opens_at: Timestamp, now: Timestamp, lead: Duration) -> bool {
    match opens_at.checked_sub_signed(lead) {
        Some(start) => start <= now,
        None => lead > Duration::zero(),
    }
}

/// The p90 of measured start durations (nearest rank); none without samples.
pub fn p90(samples: &[u32]) -> Option<u32> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = (sorted.len() * 9).div_ceil(10);
    sorted.get(rank.saturating_sub(1)).copied()
}

/// The pre-warm lead: the plan's `startLeadMinutes`, else the measured p90 start time (or
/// [`DEFAULT_START_SECONDS`] before any was measured) plus one sweep `interval`, so that the
/// first sweep at or after `opens_at − lead` starts desktops that are up by `opens_at`.
pub fn start_lead(plan: &PowerPlan, p90_seconds: Option<u32>, interval: Duration) -> Duration {
    if let Some(m) = plan.start_lead_minutes {
        return Duration::minutes(i64::from(m));
    }
    let start = Duration::seconds(i64::from(p90_seconds.unwrap_or(DEFAULT_START_SECONDS)));
    start.checked_add(&interval).unwrap_or(start)
}

/// `t` in RFC 3339 with the zone's offset at `t`, to the second
/// (`2026-12-01T07:00:00+01:00`).
pub fn local_time(zone: &ZoneName, t: Timestamp) -> String {
    match jiff::Timestamp::from_second(t.timestamp()) {
        Ok(ts) => ts.display_with_offset(zone.tz().to_offset(ts)).to_string(),
        Err(_) => t.to_rfc3339_opts(SecondsFormat::Secs, true),
    }
}

/// The instant at which the wall clock in `tz` shows `time` on `date` ("compatible").
fn instant(tz: &TimeZone, date: civil::Date, time: LocalTime) -> Option<Timestamp> {
    let t = civil::Time::new(time.hour(), time.minute(), 0, 0).ok()?;
    let ts = tz.to_timestamp(date.to_datetime(t)).ok()?;
    from_jiff(ts)
}

fn local_date(tz: &TimeZone, t: Timestamp) -> Option<civil::Date> {
    Some(tz.to_datetime(to_jiff(t)?).date())
}

fn shift(date: civil::Date, days: i64) -> Option<civil::Date> {
    date.checked_add(jiff::Span::new().try_days(days).ok()?)
        .ok()
}

fn to_jiff(t: Timestamp) -> Option<jiff::Timestamp> {
    let nanos = i128::from(t.timestamp()) * 1_000_000_000 + i128::from(t.timestamp_subsec_nanos());
    jiff::Timestamp::from_nanosecond(nanos).ok()
}

fn from_jiff(t: jiff::Timestamp) -> Option<Timestamp> {
    let nanos = t.as_nanosecond();
    let secs = i64::try_from(nanos.div_euclid(1_000_000_000)).ok()?;
    let sub = u32::try_from(nanos.rem_euclid(1_000_000_000)).ok()?;
    DateTime::from_timestamp(secs, sub)
}

fn naive(date: civil::Date) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(
        i32::from(date.year()),
        u32::try_from(date.month()).ok()?,
        u32::try_from(date.day()).ok()?,
    )
}

fn weekday(w: civil::Weekday) -> Weekday {
    match w {
        civil::Weekday::Monday => Weekday::Mon,
        civil::Weekday::Tuesday => Weekday::Tue,
        civil::Weekday::Wednesday => Weekday::Wed,
        civil::Weekday::Thursday => Weekday::Thu,
        civil::Weekday::Friday => Weekday::Fri,
        civil::Weekday::Saturday => Weekday::Sat,
        civil::Weekday::Sunday => Weekday::Sun,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plans::DateSpan;
    use serde_json::json;

    fn ts(s: &str) -> Timestamp {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn plan(zone: &str, windows: serde_json::Value) -> PowerPlan {
        serde_json::from_value(json!({"zone": zone, "windows": windows})).unwrap()
    }

    fn every_day(open: &str, close: &str) -> serde_json::Value {
        json!([{"days": ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"], "open": open, "close": close}])
    }

    fn weekdays(open: &str, close: &str) -> serde_json::Value {
        json!([{"days": ["MON", "TUE", "WED", "THU", "FRI"], "open": open, "close": close}])
    }

    fn opening(open: &str, close: &str) -> Opening {
        Opening {
            opens_at: ts(open),
            closes_at: ts(close),
        }
    }

    fn calendar(name: &str, spans: &[(&str, &str, Option<&str>)]) -> HolidayCalendar {
        HolidayCalendar {
            name: CalendarName::parse(name).unwrap(),
            days: spans
                .iter()
                .map(|(f, t, n)| DateSpan {
                    from: day(f),
                    to: day(t),
                    name: n.map(str::to_owned),
                })
                .collect(),
        }
    }

    /// One daylight-saving change: the zone, its date (a Sunday), whether clocks go
    /// forward, and the exact UTC instants expected around it.
    struct Change {
        zone: &'static str,
        date: &'static str,
        forward: bool,
        /// 07:00 on the day before.
        before: &'static str,
        /// 07:00 on the day after.
        after: &'static str,
        /// The wall-clock time in the gap or the repeated hour, and its instant.
        odd_time: &'static str,
        odd_instant: &'static str,
    }

    const CHANGES: [Change; 12] = [
        Change {
            zone: "Europe/Berlin",
            date: "2026-03-29",
            forward: true,
            before: "2026-03-28T06:00:00Z",
            after: "2026-03-30T05:00:00Z",
            odd_time: "02:30",
            odd_instant: "2026-03-29T01:30:00Z",
        },
        Change {
            zone: "Europe/Berlin",
            date: "2026-10-25",
            forward: false,
            before: "2026-10-24T05:00:00Z",
            after: "2026-10-26T06:00:00Z",
            odd_time: "02:30",
            odd_instant: "2026-10-25T00:30:00Z",
        },
        Change {
            zone: "Europe/Berlin",
            date: "2027-03-28",
            forward: true,
            before: "2027-03-27T06:00:00Z",
            after: "2027-03-29T05:00:00Z",
            odd_time: "02:30",
            odd_instant: "2027-03-28T01:30:00Z",
        },
        Change {
            zone: "Europe/Berlin",
            date: "2027-10-31",
            forward: false,
            before: "2027-10-30T05:00:00Z",
            after: "2027-11-01T06:00:00Z",
            odd_time: "02:30",
            odd_instant: "2027-10-31T00:30:00Z",
        },
        Change {
            zone: "America/New_York",
            date: "2026-03-08",
            forward: true,
            before: "2026-03-07T12:00:00Z",
            after: "2026-03-09T11:00:00Z",
            odd_time: "02:30",
            odd_instant: "2026-03-08T07:30:00Z",
        },
        Change {
            zone: "America/New_York",
            date: "2026-11-01",
            forward: false,
            before: "2026-10-31T11:00:00Z",
            after: "2026-11-02T12:00:00Z",
            odd_time: "01:30",
            odd_instant: "2026-11-01T05:30:00Z",
        },
        Change {
            zone: "America/New_York",
            date: "2027-03-14",
            forward: true,
            before: "2027-03-13T12:00:00Z",
            after: "2027-03-15T11:00:00Z",
            odd_time: "02:30",
            odd_instant: "2027-03-14T07:30:00Z",
        },
        Change {
            zone: "America/New_York",
            date: "2027-11-07",
            forward: false,
            before: "2027-11-06T11:00:00Z",
            after: "2027-11-08T12:00:00Z",
            odd_time: "01:30",
            odd_instant: "2027-11-07T05:30:00Z",
        },
        Change {
            zone: "Australia/Sydney",
            date: "2026-04-05",
            forward: false,
            before: "2026-04-03T20:00:00Z",
            after: "2026-04-05T21:00:00Z",
            odd_time: "02:30",
            odd_instant: "2026-04-04T15:30:00Z",
        },
        Change {
            zone: "Australia/Sydney",
            date: "2026-10-04",
            forward: true,
            before: "2026-10-02T21:00:00Z",
            after: "2026-10-04T20:00:00Z",
            odd_time: "02:30",
            odd_instant: "2026-10-03T16:30:00Z",
        },
        Change {
            zone: "Australia/Sydney",
            date: "2027-04-04",
            forward: false,
            before: "2027-04-02T20:00:00Z",
            after: "2027-04-04T21:00:00Z",
            odd_time: "02:30",
            odd_instant: "2027-04-03T15:30:00Z",
        },
        Change {
            zone: "Australia/Sydney",
            date: "2027-10-03",
            forward: true,
            before: "2027-10-01T21:00:00Z",
            after: "2027-10-03T20:00:00Z",
            odd_time: "02:30",
            odd_instant: "2027-10-02T16:30:00Z",
        },
    ];

    /// The tz database agrees that each change happens on its date (the offset at local
    /// noon the day before equals the one at local midnight, and differs at noon).
    #[test]
    fn the_changes_are_on_the_dates_the_tests_assume() {
        for c in &CHANGES {
            let tz = TimeZone::get(c.zone).unwrap();
            let d: civil::Date = c.date.parse().unwrap();
            let offset = |date: civil::Date, h| {
                tz.to_offset(tz.to_timestamp(date.at(h, 0, 0, 0)).unwrap())
                    .seconds()
            };
            let eve = d.yesterday().unwrap();
            assert_eq!(offset(eve, 12), offset(d, 0), "{} {}", c.zone, c.date);
            let diff = offset(d, 12) - offset(d, 0);
            assert_eq!(
                diff,
                if c.forward { 3600 } else { -3600 },
                "{} {}",
                c.zone,
                c.date
            );
        }
    }

    #[test]
    fn a_day_window_opens_at_seven_local_on_both_sides_of_every_change() {
        for c in &CHANGES {
            let p = plan(c.zone, every_day("07:00", "19:00"));
            let before = ts(c.before);
            let after = ts(c.after);
            let on_the_day = after - Duration::hours(24);
            let got = occurrences(&p, &[], before, after + Duration::minutes(1));
            let want: Vec<Occurrence> = [before, on_the_day, after]
                .into_iter()
                .map(|o| Occurrence {
                    opening: Opening {
                        opens_at: o,
                        closes_at: o + Duration::hours(12),
                    },
                    skipped: None,
                })
                .collect();
            assert_eq!(got, want, "{} {}", c.zone, c.date);
            let shift = (after - before).num_hours();
            assert_eq!(
                shift,
                if c.forward { 47 } else { 49 },
                "{} {}",
                c.zone,
                c.date
            );
        }
    }

    #[test]
    fn a_window_in_the_gap_or_the_repeated_hour_opens_at_the_exact_instant() {
        for c in &CHANGES {
            let p = plan(
                c.zone,
                json!([{"days": ["SUN"], "open": c.odd_time, "close": "05:00"}]),
            );
            let odd = ts(c.odd_instant);
            let got = occurrences(&p, &[], odd - Duration::days(1), odd + Duration::days(1));
            assert_eq!(got.len(), 1, "{} {}", c.zone, c.date);
            assert_eq!(got[0].opening.opens_at, odd, "{} {}", c.zone, c.date);
            // 05:00 is after the change: the offset after it.
            let close_offset_hours = if c.forward { 1 } else { -1 };
            let local_length = if c.odd_time == "01:30" { 210 } else { 150 };
            assert_eq!(
                (got[0].opening.closes_at - odd).num_minutes(),
                local_length - 60 * close_offset_hours,
                "{} {}",
                c.zone,
                c.date
            );
        }
    }

    #[test]
    fn a_night_window_across_a_change_is_an_hour_shorter_or_longer() {
        for c in &CHANGES {
            let p = plan(c.zone, every_day("22:00", "06:00"));
            let opens = ts(c.before) + Duration::hours(15);
            let got = occurrences(&p, &[], opens, opens + Duration::minutes(1));
            assert_eq!(got.len(), 1, "{} {}", c.zone, c.date);
            assert_eq!(got[0].opening.opens_at, opens);
            let hours = (got[0].opening.closes_at - opens).num_hours();
            assert_eq!(
                hours,
                if c.forward { 7 } else { 9 },
                "{} {}",
                c.zone,
                c.date
            );
        }
    }

    #[test]
    fn a_window_inside_the_gap_is_read_at_the_offset_before_it() {
        // 02:10–02:50 on the spring-forward day is 03:10–03:50 CEST; 02:30–03:00 would
        // close (03:00 CEST) before it opens (03:30 CEST), so it never opens that day.
        let p = plan(
            "Europe/Berlin",
            json!([
                {"days": ["SUN"], "open": "02:10", "close": "02:50"},
                {"days": ["SAT"], "open": "02:30", "close": "03:00"}
            ]),
        );
        let got = occurrences(
            &p,
            &[],
            ts("2026-03-27T00:00:00Z"),
            ts("2026-03-30T00:00:00Z"),
        );
        let openings: Vec<Opening> = got.iter().map(|o| o.opening).collect();
        assert_eq!(
            openings,
            vec![
                opening("2026-03-28T01:30:00Z", "2026-03-28T02:00:00Z"),
                opening("2026-03-29T01:10:00Z", "2026-03-29T01:50:00Z"),
            ]
        );
        let mut p = p;
        p.windows[1].days = vec![Weekday::Sun];
        let got = occurrences(
            &p,
            &[],
            ts("2026-03-29T00:00:00Z"),
            ts("2026-03-30T00:00:00Z"),
        );
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].opening,
            opening("2026-03-29T01:10:00Z", "2026-03-29T01:50:00Z")
        );
    }

    fn berlin_with_holidays() -> (PowerPlan, Vec<HolidayCalendar>) {
        let mut p = plan("Europe/Berlin", weekdays("07:00", "19:00"));
        p.calendars = vec![CalendarName::parse("de-be").unwrap()];
        p.closures = vec![DateSpan {
            from: day("2026-12-04"),
            to: day("2026-12-04"),
            name: Some("works outing".into()),
        }];
        let cals = vec![
            calendar(
                "de-be",
                &[
                    ("2026-12-02", "2026-12-02", Some("Day of Prayer")),
                    ("2026-12-24", "2026-12-26", Some("Christmas")),
                ],
            ),
            // Not named by the plan: does not count.
            calendar("fr", &[("2026-12-01", "2026-12-01", None)]),
        ];
        (p, cals)
    }

    #[test]
    fn a_wednesday_holiday_skips_only_wednesday_and_a_closure_its_date() {
        let (p, cals) = berlin_with_holidays();
        let got = occurrences(
            &p,
            &cals,
            ts("2026-11-30T00:00:00Z"),
            ts("2026-12-07T00:00:00Z"),
        );
        let want = vec![
            (
                opening("2026-11-30T06:00:00Z", "2026-11-30T18:00:00Z"),
                None,
            ),
            (
                opening("2026-12-01T06:00:00Z", "2026-12-01T18:00:00Z"),
                None,
            ),
            (
                opening("2026-12-02T06:00:00Z", "2026-12-02T18:00:00Z"),
                Some(Skip::Holiday {
                    calendar: CalendarName::parse("de-be").unwrap(),
                    date: day("2026-12-02"),
                    name: Some("Day of Prayer".into()),
                }),
            ),
            (
                opening("2026-12-03T06:00:00Z", "2026-12-03T18:00:00Z"),
                None,
            ),
            (
                opening("2026-12-04T06:00:00Z", "2026-12-04T18:00:00Z"),
                Some(Skip::Closure {
                    date: day("2026-12-04"),
                    name: Some("works outing".into()),
                }),
            ),
        ];
        let want: Vec<Occurrence> = want
            .into_iter()
            .map(|(opening, skipped)| Occurrence { opening, skipped })
            .collect();
        assert_eq!(got, want);
        let skip = got[2].skipped.as_ref().unwrap();
        assert_eq!(skip.date(), day("2026-12-02"));
        assert_eq!(skip.name(), Some("Day of Prayer"));
        assert_eq!(skip.calendar().map(CalendarName::as_str), Some("de-be"));
        assert_eq!(got[4].skipped.as_ref().unwrap().calendar(), None);
    }

    #[test]
    fn a_date_range_skips_each_of_its_days() {
        let (p, cals) = berlin_with_holidays();
        let got = occurrences(
            &p,
            &cals,
            ts("2026-12-23T00:00:00Z"),
            ts("2026-12-29T00:00:00Z"),
        );
        let summary: Vec<(Timestamp, Option<NaiveDate>)> = got
            .iter()
            .map(|o| (o.opening.opens_at, o.skipped.as_ref().map(Skip::date)))
            .collect();
        assert_eq!(
            summary,
            vec![
                (ts("2026-12-23T06:00:00Z"), None),
                (ts("2026-12-24T06:00:00Z"), Some(day("2026-12-24"))),
                (ts("2026-12-25T06:00:00Z"), Some(day("2026-12-25"))),
                (ts("2026-12-28T06:00:00Z"), None),
            ]
        );
    }

    #[test]
    fn a_holiday_skips_the_night_shift_opening_on_it_not_the_one_running_into_it() {
        let (mut p, cals) = berlin_with_holidays();
        p.windows = weekdays("22:00", "06:00")
            .as_array()
            .unwrap()
            .iter()
            .map(|w| serde_json::from_value(w.clone()).unwrap())
            .collect();
        let got = occurrences(
            &p,
            &cals,
            ts("2026-12-01T12:00:00Z"),
            ts("2026-12-03T12:00:00Z"),
        );
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0].opening,
            opening("2026-12-01T21:00:00Z", "2026-12-02T05:00:00Z")
        );
        assert_eq!(got[0].skipped, None);
        assert_eq!(
            got[1].opening,
            opening("2026-12-02T21:00:00Z", "2026-12-03T05:00:00Z")
        );
        assert_eq!(
            got[1].skipped.as_ref().map(Skip::date),
            Some(day("2026-12-02"))
        );
    }

    #[test]
    fn overlapping_and_touching_windows_merge() {
        let p = plan(
            "Europe/Berlin",
            json!([
                {"days": ["MON"], "open": "07:00", "close": "12:00"},
                {"days": ["MON"], "open": "11:00", "close": "19:00"},
                {"days": ["MON"], "open": "19:00", "close": "20:00"},
                {"days": ["MON"], "open": "08:00", "close": "09:00"},
                {"days": ["MON"], "open": "21:00", "close": "22:00"}
            ]),
        );
        let got = occurrences(
            &p,
            &[],
            ts("2026-11-30T00:00:00Z"),
            ts("2026-12-01T00:00:00Z"),
        );
        let openings: Vec<Opening> = got.iter().map(|o| o.opening).collect();
        assert_eq!(
            openings,
            vec![
                opening("2026-11-30T06:00:00Z", "2026-11-30T19:00:00Z"),
                opening("2026-11-30T20:00:00Z", "2026-11-30T21:00:00Z"),
            ]
        );
        // A range touching only the second part still returns the whole merged opening.
        let got = occurrences(
            &p,
            &[],
            ts("2026-11-30T18:30:00Z"),
            ts("2026-11-30T18:31:00Z"),
        );
        assert_eq!(
            got[0].opening,
            opening("2026-11-30T06:00:00Z", "2026-11-30T19:00:00Z")
        );
    }

    #[test]
    fn a_merged_opening_is_skipped_only_when_every_part_is() {
        let mut p = plan(
            "Europe/Berlin",
            json!([
                {"days": ["TUE"], "open": "22:00", "close": "06:00"},
                {"days": ["WED"], "open": "06:00", "close": "14:00"},
                {"days": ["WED"], "open": "13:00", "close": "18:00"}
            ]),
        );
        p.closures = vec![DateSpan {
            from: day("2026-12-02"),
            to: day("2026-12-02"),
            name: None,
        }];
        let got = occurrences(
            &p,
            &[],
            ts("2026-12-01T00:00:00Z"),
            ts("2026-12-03T00:00:00Z"),
        );
        assert_eq!(
            got,
            vec![Occurrence {
                opening: opening("2026-12-01T21:00:00Z", "2026-12-02T17:00:00Z"),
                skipped: None
            }]
        );
        p.windows.remove(0);
        let got = occurrences(
            &p,
            &[],
            ts("2026-12-01T00:00:00Z"),
            ts("2026-12-03T00:00:00Z"),
        );
        assert_eq!(
            got,
            vec![Occurrence {
                opening: opening("2026-12-02T05:00:00Z", "2026-12-02T17:00:00Z"),
                skipped: Some(Skip::Closure {
                    date: day("2026-12-02"),
                    name: None
                })
            }]
        );
    }

    #[test]
    fn phases_at_the_boundaries() {
        let (p, cals) = berlin_with_holidays();
        let lead = Duration::minutes(30);
        let tue = opening("2026-12-01T06:00:00Z", "2026-12-01T18:00:00Z");
        let monday_close = Some(ts("2026-11-30T18:00:00Z"));
        let at = |s: &str| status(&p, &cals, ts(s), lead);

        let s = at("2026-12-01T05:29:59Z");
        assert_eq!(s.phase, Phase::Closed);
        assert_eq!(
            (s.next, s.last_close, s.skipped),
            (Some(tue), monday_close, None)
        );

        let s = at("2026-12-01T05:30:00Z");
        assert_eq!(
            s.phase,
            Phase::Prewarm {
                opens_at: tue.opens_at
            }
        );
        assert_eq!((s.next, s.last_close), (Some(tue), monday_close));

        let s = at("2026-12-01T06:00:00Z");
        assert_eq!(
            s.phase,
            Phase::Open {
                closes_at: tue.closes_at
            }
        );
        assert_eq!((s.next, s.last_close), (Some(tue), monday_close));

        // At the close: closed; the next opening skips the Wednesday holiday.
        let s = at("2026-12-01T18:00:00Z");
        assert_eq!(s.phase, Phase::Closed);
        let thu = opening("2026-12-03T06:00:00Z", "2026-12-03T18:00:00Z");
        assert_eq!(
            (s.next, s.last_close, s.skipped.clone()),
            (Some(thu), Some(tue.closes_at), None)
        );

        // The holiday is reported from its pre-warm time until its close.
        let wed = opening("2026-12-02T06:00:00Z", "2026-12-02T18:00:00Z");
        for now in [
            "2026-12-02T05:30:00Z",
            "2026-12-02T12:00:00Z",
            "2026-12-02T17:59:59Z",
        ] {
            let s = at(now);
            assert_eq!(s.phase, Phase::Closed, "{now}");
            assert_eq!(s.next, Some(thu), "{now}");
            assert_eq!(s.last_close, Some(tue.closes_at), "{now}");
            assert_eq!(s.skipped.map(|o| o.opening), Some(wed), "{now}");
        }
        assert_eq!(at("2026-12-02T05:29:59Z").skipped, None);
        assert_eq!(at("2026-12-02T18:00:00Z").skipped, None);

        // After a weekend, the last close is Friday's.
        let s = at("2026-12-07T05:00:00Z");
        assert_eq!(s.last_close, Some(ts("2026-12-03T18:00:00Z")));
        assert_eq!(s.phase, Phase::Closed);
    }

    #[test]
    fn the_look_back_and_look_ahead_are_bounded() {
        let mut p = plan("Europe/Berlin", weekdays("07:00", "19:00"));
        p.closures = vec![DateSpan {
            from: day("2026-12-01"),
            to: day("2027-01-31"),
            name: None,
        }];
        // 15 days after the last close: no last close; the next opening is 40 days away.
        let s = status(&p, &[], ts("2026-12-22T12:00:00Z"), Duration::minutes(30));
        assert_eq!(s.phase, Phase::Closed);
        assert_eq!(s.last_close, None);
        assert_eq!(
            s.next,
            Some(opening("2027-02-01T06:00:00Z", "2027-02-01T18:00:00Z"))
        );
        // Closed for ten years: no next opening within the look-ahead.
        p.closures[0].to = day("2036-11-30");
        let s = status(&p, &[], ts("2026-12-22T12:00:00Z"), Duration::minutes(30));
        assert_eq!((s.phase, s.next, s.last_close), (Phase::Closed, None, None));
    }

    #[test]
    fn p90_and_the_start_lead() {
        assert_eq!(p90(&[]), None);
        assert_eq!(p90(&[42]), Some(42));
        assert_eq!(p90(&[10, 9, 8, 7, 6, 5, 4, 3, 2, 1]), Some(9));
        let hundred: Vec<u32> = (1..=100).rev().collect();
        assert_eq!(p90(&hundred), Some(90));
        assert_eq!(p90(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), Some(10));

        let mut p = plan("UTC", weekdays("07:00", "19:00"));
        let five = Duration::minutes(5);
        assert_eq!(start_lead(&p, None, five), Duration::minutes(15));
        assert_eq!(start_lead(&p, Some(300), five), Duration::minutes(10));
        p.start_lead_minutes = Some(20);
        assert_eq!(start_lead(&p, Some(300), five), Duration::minutes(20));
    }

    #[test]
    fn local_times_carry_the_offset_at_that_instant() {
        let berlin = ZoneName::parse("Europe/Berlin").unwrap();
        assert_eq!(
            local_time(&berlin, ts("2026-12-01T06:00:00Z")),
            "2026-12-01T07:00:00+01:00"
        );
        assert_eq!(
            local_time(&berlin, ts("2026-07-01T05:00:00.75Z")),
            "2026-07-01T07:00:00+02:00"
        );
        let ny = ZoneName::parse("America/New_York").unwrap();
        assert_eq!(
            local_time(&ny, ts("2026-11-01T05:30:00Z")),
            "2026-11-01T01:30:00-04:00"
        );
        assert_eq!(
            local_time(&ny, ts("2026-11-01T06:30:00Z")),
            "2026-11-01T01:30:00-05:00"
        );
        let utc = ZoneName::parse("UTC").unwrap();
        assert_eq!(
            local_time(&utc, ts("2026-12-01T06:00:00Z")),
            "2026-12-01T06:00:00+00:00"
        );
        assert_eq!(
            local_time(&utc, DateTime::<chrono::Utc>::MAX_UTC),
            "+262142-12-31T23:59:59Z"
        );
    }

    #[test]
    fn extreme_inputs_do_not_panic() {
        let p = plan("Pacific/Kiritimati", every_day("00:00", "23:59"));
        let min = DateTime::<chrono::Utc>::MIN_UTC;
        let max = DateTime::<chrono::Utc>::MAX_UTC;
        assert_eq!(occurrences(&p, &[], min, max), vec![]);
        assert_eq!(occurrences(&p, &[], max, min), vec![]);
        let s = status(&p, &[], max, Duration::MAX);
        assert_eq!((s.phase, s.next), (Phase::Closed, None));
        let s = status(&p, &[], min, Duration::MIN);
        assert_eq!((s.phase, s.next), (Phase::Closed, None));
        // jiff ends in 9999: a range reaching past it gives nothing, not a panic.
        let end = ts("9999-12-30T00:00:00Z");
        let got = occurrences(&p, &[], end, end + Duration::days(10));
        assert_eq!(got, vec![], "{got:?}");
        // A long range is cut at MAX_RANGE_DAYS.
        let p = plan("UTC", every_day("00:00", "23:59"));
        let from = ts("2026-01-01T00:00:00Z");
        let got = occurrences(&p, &[], from, from + Duration::days(5000));
        assert_eq!(got.len(), 1000);
        let _ = start_lead(&p, Some(u32::MAX), Duration::MAX);
    }
}
