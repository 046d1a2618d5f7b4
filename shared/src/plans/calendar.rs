//! Holiday calendars from partners: an iCalendar (`.ics`) document or a list of date spans,
//! checked and turned into [`DateSpan`]s.
//!
//! Public-holiday feeds are iCalendar files of all-day events, some with a yearly rule
//! (New Year's Day every year), so that is what is read: `VEVENT`s with `DTSTART` (a date,
//! or a date-time whose written date counts, whatever its `TZID` or `Z`), an exclusive
//! `DTEND` or a `DURATION` of days or weeks (neither: one day), `SUMMARY` as the name, and
//! `RRULE:FREQ=YEARLY` (with `COUNT`, `UNTIL` or `INTERVAL`; without `COUNT` or `UNTIL`,
//! [`DEFAULT_OCCURRENCES`] occurrences) expanded, `EXDATE`s left out. Any other recurrence
//! is refused rather than half-read: a calendar that silently misses holidays would start
//! desktops nobody uses. `STATUS:CANCELLED` events are left out; other components
//! (`VTIMEZONE`, `VALARM`, …) are skipped.
//!
//! Errors name `detail.ics` and, where they can, the line (of the unfolded property's first
//! physical line); they never quote the document, which came from outside. Nothing here
//! panics on any input: every slice is taken by checked byte ranges on ASCII digits.

use chrono::{Datelike, Duration, NaiveDate};

use super::{DateSpan, MAX_CALENDAR_DAYS};
use crate::validate::{self, Problem, ValidationError};

/// The longest iCalendar document accepted (characters).
pub const MAX_ICS_CHARS: usize = 200_000;
/// Occurrences of a yearly rule without `COUNT` or `UNTIL`.
pub const DEFAULT_OCCURRENCES: u32 = 10;
/// The longest holiday name kept (characters); a longer `SUMMARY` is cut.
pub const MAX_NAME_CHARS: usize = 128;

const FIELD: &str = "detail.ics";
/// The longest span [`DateSpan::check`] accepts (days after `from`).
const MAX_SPAN_DAYS: i64 = 3660;
/// The latest year a rule is expanded to.
const LAST_YEAR: i32 = 9999;

fn problem(why: impl Into<String>) -> ValidationError {
    ValidationError::new(FIELD, Problem::Inconsistent(why.into()))
}

fn at_line(line: usize, why: &str) -> ValidationError {
    problem(format!("line {line}: {why}"))
}

/// A list of date spans as given in JSON: at most [`MAX_CALENDAR_DAYS`], each valid.
pub fn check_days(days: &[DateSpan]) -> Result<(), ValidationError> {
    validate::max_items("detail.days", days.len(), MAX_CALENDAR_DAYS)?;
    days.iter().try_for_each(|d| d.check("detail.days"))
}

/// The holidays of an iCalendar document, sorted by date (see the module docs).
pub fn parse_ics(text: &str) -> Result<Vec<DateSpan>, ValidationError> {
    let len = text.chars().count();
    if len > MAX_ICS_CHARS {
        return Err(ValidationError::new(
            FIELD,
            Problem::TooLong {
                max: MAX_ICS_CHARS,
                len,
            },
        ));
    }
    let mut stack: Vec<String> = Vec::new();
    let mut event: Option<Event> = None;
    let mut spans = Vec::new();
    let mut seen_calendar = false;
    for (line, content) in unfold(text) {
        if content.trim().is_empty() {
            continue;
        }
        let prop = split_line(&content).ok_or_else(|| at_line(line, "not a property line"))?;
        match prop.name.as_str() {
            "BEGIN" => {
                let kind = prop.value.trim().to_ascii_uppercase();
                match (stack.last().map(String::as_str), kind.as_str()) {
                    (None, "VCALENDAR") => seen_calendar = true,
                    (None, _) => return Err(at_line(line, "expected BEGIN:VCALENDAR")),
                    (Some("VCALENDAR"), "VEVENT") => event = Some(Event::new(line)),
                    _ => {}
                }
                stack.push(kind);
            }
            "END" => {
                let kind = prop.value.trim().to_ascii_uppercase();
                if stack.pop().as_deref() != Some(kind.as_str()) {
                    return Err(at_line(line, "END does not match its BEGIN"));
                }
                if kind == "VEVENT"
                    && stack.len() == 1
                    && let Some(e) = event.take()
                {
                    e.finish(&mut spans)?;
                }
            }
            _ => {
                if let (Some(e), Some("VEVENT")) = (&mut event, stack.last().map(String::as_str)) {
                    e.apply(&prop, line)?;
                } else if stack.is_empty() {
                    return Err(at_line(line, "a property outside BEGIN:VCALENDAR"));
                }
            }
        }
    }
    if !seen_calendar {
        return Err(problem("not an iCalendar document (no BEGIN:VCALENDAR)"));
    }
    if !stack.is_empty() {
        return Err(problem("the document ends inside a component (cut short?)"));
    }
    spans.sort_by_key(|s: &DateSpan| (s.from, s.to));
    Ok(spans)
}

/// Logical lines with the number of their first physical line: CRLF or LF line ends, a line
/// starting with a space or tab continues the one before (RFC 5545 §3.1).
fn unfold(text: &str) -> Vec<(usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out: Vec<(usize, String)> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let continued = raw.strip_prefix(' ').or_else(|| raw.strip_prefix('\t'));
        match (continued, out.last_mut()) {
            (Some(rest), Some((_, last))) => last.push_str(rest),
            _ => out.push((i + 1, raw.to_owned())),
        }
    }
    out
}

/// One content line: `NAME;PARAM=…:value`.
struct Prop<'a> {
    name: String,
    value: &'a str,
}

fn split_line(line: &str) -> Option<Prop<'_>> {
    let mut quoted = false;
    let colon = line.char_indices().find_map(|(i, c)| {
        if c == '"' {
            quoted = !quoted;
        }
        (c == ':' && !quoted).then_some(i)
    })?;
    let head = line.get(..colon)?;
    let value = line.get(colon + 1..)?;
    let name = head.split(';').next()?.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return None;
    }
    Some(Prop {
        name: name.to_ascii_uppercase(),
        value,
    })
}

/// A written date or date-time: its date, and whether it is a whole day boundary (a date,
/// or a date-time at 00:00:00).
#[derive(Debug, Clone, Copy)]
struct Stamp {
    date: NaiveDate,
    midnight: bool,
}

fn parse_stamp(value: &str) -> Option<Stamp> {
    let v = value.trim();
    let b = v.as_bytes();
    let digits = |from: usize, to: usize| {
        b.get(from..to)
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    if !digits(0, 8) {
        return None;
    }
    let num = |from: usize, to: usize| v.get(from..to)?.parse::<u32>().ok();
    let date = NaiveDate::from_ymd_opt(i32::try_from(num(0, 4)?).ok()?, num(4, 6)?, num(6, 8)?)?;
    let midnight = match b.len() {
        8 => true,
        15 | 16 => {
            let zulu_ok = b.len() == 15 || b.get(15) == Some(&b'Z');
            if b.get(8) != Some(&b'T') || !digits(9, 15) || !zulu_ok {
                return None;
            }
            let (h, m, s) = (num(9, 11)?, num(11, 13)?, num(13, 15)?);
            if h > 23 || m > 59 || s > 60 {
                return None;
            }
            h == 0 && m == 0 && s == 0
        }
        _ => return None,
    };
    Some(Stamp { date, midnight })
}

/// `P<n>D` or `P<n>W` (an optional `+`): days.
fn parse_duration(value: &str) -> Option<i64> {
    let v = value.trim();
    let v = v.strip_prefix('+').unwrap_or(v).strip_prefix('P')?;
    let (n, unit) = match v.strip_suffix('D') {
        Some(n) => (n, 1),
        None => (v.strip_suffix('W')?, 7),
    };
    if n.is_empty() || n.len() > 6 || !n.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(n.parse::<i64>().ok()? * unit)
}

/// A yearly rule.
#[derive(Debug, Clone, Copy)]
struct Rule {
    count: Option<u32>,
    until: Option<NaiveDate>,
    interval: u32,
    by_month: Option<u32>,
    by_month_day: Option<u32>,
}

const UNSUPPORTED: &str = "only yearly recurrences on the event's own date are supported \
                           (FREQ=YEARLY with COUNT, UNTIL or INTERVAL)";

fn parse_rule(value: &str, line: usize) -> Result<Rule, ValidationError> {
    let bad = || at_line(line, "RRULE is not a valid recurrence");
    let mut rule = Rule {
        count: None,
        until: None,
        interval: 1,
        by_month: None,
        by_month_day: None,
    };
    let mut yearly = false;
    let small = |v: &str, max: u32| {
        v.parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(bad)
    };
    for part in value.trim().split(';').filter(|p| !p.is_empty()) {
        let (key, v) = part.split_once('=').ok_or_else(bad)?;
        match key.trim().to_ascii_uppercase().as_str() {
            "FREQ" => yearly = v.trim().eq_ignore_ascii_case("YEARLY"),
            "COUNT" => rule.count = Some(small(v.trim(), u32::MAX)?),
            "UNTIL" => rule.until = Some(parse_stamp(v).ok_or_else(bad)?.date),
            "INTERVAL" => rule.interval = small(v.trim(), 1000)?,
            "BYMONTH" => rule.by_month = Some(small(v.trim(), 12)?),
            "BYMONTHDAY" => rule.by_month_day = Some(small(v.trim(), 31)?),
            "WKST" => {}
            _ => return Err(at_line(line, UNSUPPORTED)),
        }
    }
    if !yearly {
        return Err(at_line(line, UNSUPPORTED));
    }
    if rule.count.is_some() && rule.until.is_some() {
        return Err(at_line(line, "RRULE has both COUNT and UNTIL"));
    }
    Ok(rule)
}

/// A `VEVENT` being read.
#[derive(Debug)]
struct Event {
    line: usize,
    start: Option<Stamp>,
    end: Option<(Stamp, usize)>,
    days: Option<(i64, usize)>,
    rule: Option<(Rule, usize)>,
    name: Option<String>,
    except: Vec<NaiveDate>,
    cancelled: bool,
}

impl Event {
    fn new(line: usize) -> Self {
        Self {
            line,
            start: None,
            end: None,
            days: None,
            rule: None,
            name: None,
            except: Vec::new(),
            cancelled: false,
        }
    }

    fn apply(&mut self, prop: &Prop, line: usize) -> Result<(), ValidationError> {
        let stamp = |what: &str| {
            parse_stamp(prop.value)
                .ok_or_else(|| at_line(line, &format!("{what} is not a date or date-time")))
        };
        match prop.name.as_str() {
            "DTSTART" => self.start = Some(stamp("DTSTART")?),
            "DTEND" => self.end = Some((stamp("DTEND")?, line)),
            "DURATION" => {
                let days = parse_duration(prop.value).ok_or_else(|| {
                    at_line(
                        line,
                        "DURATION must be a number of days or weeks (P2D, P1W)",
                    )
                })?;
                self.days = Some((days, line));
            }
            "RRULE" => {
                if self.rule.is_some() {
                    return Err(at_line(line, "an event has more than one RRULE"));
                }
                self.rule = Some((parse_rule(prop.value, line)?, line));
            }
            "EXDATE" => {
                for v in prop.value.split(',') {
                    let date = parse_stamp(v)
                        .ok_or_else(|| at_line(line, "EXDATE is not a date or date-time"))?
                        .date;
                    self.except.push(date);
                }
            }
            "SUMMARY" => self.name = summary(prop.value),
            "STATUS" => self.cancelled = prop.value.trim().eq_ignore_ascii_case("CANCELLED"),
            _ => {}
        }
        Ok(())
    }

    /// The event's spans (one, or one per occurrence of its rule), added to `out`.
    fn finish(self, out: &mut Vec<DateSpan>) -> Result<(), ValidationError> {
        let start = self
            .start
            .ok_or_else(|| at_line(self.line, "an event has no DTSTART"))?;
        let length = self.length(start)?;
        if self.cancelled {
            return Ok(());
        }
        let dates = match self.rule {
            Some((rule, line)) => expand(start.date, &rule, line)?,
            None => vec![start.date],
        };
        for from in dates.into_iter().filter(|d| !self.except.contains(d)) {
            if out.len() >= MAX_CALENDAR_DAYS {
                return Err(problem(format!(
                    "the events give more than {MAX_CALENDAR_DAYS} date spans"
                )));
            }
            let to = from
                .checked_add_signed(Duration::days(length))
                .filter(|to| to.year() <= LAST_YEAR)
                .ok_or_else(|| at_line(self.line, "an event ends after the year 9999"))?;
            let span = DateSpan {
                from,
                to,
                name: self.name.clone(),
            };
            span.check(FIELD)?;
            out.push(span);
        }
        Ok(())
    }

    /// Days after its first that the event covers.
    fn length(&self, start: Stamp) -> Result<i64, ValidationError> {
        let days = match (self.end, self.days) {
            (Some(_), Some((_, line))) => {
                return Err(at_line(line, "an event has both DTEND and DURATION"));
            }
            (Some((end, line)), None) => {
                if end.date < start.date {
                    return Err(at_line(line, "an event ends before it starts"));
                }
                // DTEND is exclusive: a day boundary ends the day before.
                let last = if end.midnight {
                    end.date.pred_opt().unwrap_or(end.date)
                } else {
                    end.date
                };
                (last - start.date).num_days().max(0)
            }
            (None, Some((days, _))) => (days - 1).max(0),
            (None, None) => 0,
        };
        if days > MAX_SPAN_DAYS {
            return Err(at_line(self.line, "an event may cover at most ten years"));
        }
        Ok(days)
    }
}

/// The start dates of a yearly rule from `first` (a 29 February only in leap years).
fn expand(first: NaiveDate, rule: &Rule, line: usize) -> Result<Vec<NaiveDate>, ValidationError> {
    if rule.by_month.is_some_and(|m| m != first.month())
        || rule.by_month_day.is_some_and(|d| d != first.day())
    {
        return Err(at_line(line, UNSUPPORTED));
    }
    let wanted = match (rule.count, rule.until) {
        (Some(n), _) => n,
        (None, Some(_)) => u32::MAX,
        (None, None) => DEFAULT_OCCURRENCES,
    };
    let too_many = || {
        at_line(
            line,
            &format!("RRULE gives more than {MAX_CALENDAR_DAYS} occurrences"),
        )
    };
    let mut dates = Vec::new();
    let mut year = first.year();
    while year <= LAST_YEAR && (dates.len() as u64) < u64::from(wanted) {
        if let Some(d) = NaiveDate::from_ymd_opt(year, first.month(), first.day()) {
            if rule.until.is_some_and(|u| d > u) {
                break;
            }
            if dates.len() >= MAX_CALENDAR_DAYS {
                return Err(too_many());
            }
            dates.push(d);
        }
        let Some(next) = i32::try_from(rule.interval)
            .ok()
            .and_then(|i| year.checked_add(i))
        else {
            break;
        };
        year = next;
    }
    if rule.count.is_some_and(|n| n as usize > MAX_CALENDAR_DAYS) {
        return Err(too_many());
    }
    Ok(dates)
}

/// A `SUMMARY` as a holiday name: unescaped, on one line, at most [`MAX_NAME_CHARS`]
/// characters; none when empty.
fn summary(value: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n' | 'N') => out.push(' '),
                Some(other) => out.push(other),
                None => {}
            },
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    let name: String = out.trim().chars().take(MAX_NAME_CHARS).collect();
    let name = name.trim_end().to_owned();
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A public-holiday feed as calendar tools export them: CRLF, folded lines (one in a
    /// property name), a VTIMEZONE whose own RRULE is not an event's, all-day and timed
    /// events, yearly rules with COUNT, UNTIL, none (ten) and an EXDATE, an alarm, a
    /// cancelled event.
    const GERMAN: &[&str] = &[
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Example Holidays//DE//EN",
        "CALSCALE:GREGORIAN",
        "X-WR-CALNAME:Feiertage Berlin",
        "BEGIN:VTIMEZONE",
        "TZID:Europe/Berlin",
        "BEGIN:STANDARD",
        "DTSTART:19701025T030000",
        "TZOFFSETFROM:+0200",
        "TZOFFSETTO:+0100",
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
        "END:STANDARD",
        "END:VTIMEZONE",
        "BEGIN:VEVENT",
        "UID:neujahr@example.org",
        "DTSTAMP:20260101T000000Z",
        "DTSTART;VALUE=DATE:20260101",
        "DTEND;VALUE=DATE:20260102",
        "RRULE:FREQ=YEARLY;COUNT=3",
        "SUMMARY:Neujahr",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "DTSTART;VALUE=DATE:20260403",
        "DTEND;VALUE=DATE:20260404",
        "SUMMARY:Karfreitag",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "DTSTART;VALUE=DATE:20260406",
        "DURATION:P1D",
        "SUMMARY:Ostermontag",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "DTST",
        " ART;VALUE=DATE:20260501",
        "SUMMARY:Tag der Arbeit",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "DTSTART;VALUE=DATE:20261003",
        "DTEND;VALUE=DATE:20261004",
        "RRULE:FREQ=YEARLY;UNTIL=20281003",
        "SUMMARY:Tag der Deutschen",
        "  Einheit",
        "DESCRIPTION:Nationalfeiertag\\, bundesweit",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "DTSTART;VALUE=DATE:20261224",
        "DTEND;VALUE=DATE:20261227",
        "SUMMARY:Weihnachten\\, Betriebsruhe",
        "BEGIN:VALARM",
        "TRIGGER:-PT15M",
        "ACTION:DISPLAY",
        "END:VALARM",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "DTSTART;TZID=Europe/Berlin:20260308T000000",
        "DTEND;TZID=Europe/Berlin:20260309T000000",
        "SUMMARY:Internationaler Frauentag",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "DTSTART:20261231T120000Z",
        "DTEND:20261231T180000Z",
        "SUMMARY:Silvester (halber Tag)",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "DTSTART;VALUE=DATE:20261225",
        "RRULE:FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25",
        "SUMMARY:1. Weihnachtstag",
        "EXDATE;VALUE=DATE:20301225",
        "STATUS:CONFIRMED",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "DTSTART;VALUE=DATE:20260520",
        "SUMMARY:Abgesagt",
        "STATUS:CANCELLED",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ];

    fn doc(lines: &[&str]) -> String {
        lines.join("\r\n")
    }

    /// A calendar with one event of the given lines.
    fn event(lines: &[&str]) -> String {
        let mut all = vec!["BEGIN:VCALENDAR", "BEGIN:VEVENT"];
        all.extend_from_slice(lines);
        all.extend_from_slice(&["END:VEVENT", "END:VCALENDAR"]);
        all.join("\n")
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn spans(got: &[DateSpan]) -> Vec<(String, String, Option<&str>)> {
        got.iter()
            .map(|s| (s.from.to_string(), s.to.to_string(), s.name.as_deref()))
            .collect()
    }

    fn message(e: &ValidationError) -> String {
        assert_eq!(e.field, FIELD);
        e.problem.to_string()
    }

    #[test]
    fn a_german_public_holiday_feed() {
        let got = parse_ics(&doc(GERMAN)).unwrap();
        let one = |date: &str, name: &'static str| (date.to_owned(), date.to_owned(), Some(name));
        let xmas = "1. Weihnachtstag";
        let mut want = vec![
            one("2026-01-01", "Neujahr"),
            one("2026-03-08", "Internationaler Frauentag"),
            one("2026-04-03", "Karfreitag"),
            one("2026-04-06", "Ostermontag"),
            one("2026-05-01", "Tag der Arbeit"),
            one("2026-10-03", "Tag der Deutschen Einheit"),
            (
                "2026-12-24".to_owned(),
                "2026-12-26".to_owned(),
                Some("Weihnachten, Betriebsruhe"),
            ),
            one("2026-12-25", xmas),
            one("2026-12-31", "Silvester (halber Tag)"),
            one("2027-01-01", "Neujahr"),
            one("2027-10-03", "Tag der Deutschen Einheit"),
            one("2027-12-25", xmas),
            one("2028-01-01", "Neujahr"),
            one("2028-10-03", "Tag der Deutschen Einheit"),
        ];
        for year in [2028, 2029, 2031, 2032, 2033, 2034, 2035] {
            want.push(one(&format!("{year}-12-25"), xmas));
        }
        assert_eq!(spans(&got), want);
        // LF line ends read the same.
        assert_eq!(parse_ics(&GERMAN.join("\n")).unwrap(), got);
        check_days(&got).unwrap();
    }

    #[test]
    fn durations_ends_and_leap_days() {
        let got = parse_ics(&event(&["DTSTART;VALUE=DATE:20260720", "DURATION:P2W"])).unwrap();
        assert_eq!(
            spans(&got),
            vec![("2026-07-20".into(), "2026-08-02".into(), None)]
        );
        let got = parse_ics(&event(&["DTSTART:20260720", "DURATION:+P3D"])).unwrap();
        assert_eq!((got[0].from, got[0].to), (d("2026-07-20"), d("2026-07-22")));
        // A date-time end inside a day includes that day; DTEND equal to DTSTART is one day.
        let got = parse_ics(&event(&[
            "DTSTART:20260720T220000",
            "DTEND:20260721T020000",
        ]))
        .unwrap();
        assert_eq!((got[0].from, got[0].to), (d("2026-07-20"), d("2026-07-21")));
        let got = parse_ics(&event(&["DTSTART:20260720", "DTEND:20260720"])).unwrap();
        assert_eq!((got[0].from, got[0].to), (d("2026-07-20"), d("2026-07-20")));
        let got = parse_ics(&event(&[
            "DTSTART;VALUE=DATE:20280229",
            "RRULE:FREQ=YEARLY;COUNT=2",
        ]))
        .unwrap();
        let froms: Vec<NaiveDate> = got.iter().map(|s| s.from).collect();
        assert_eq!(froms, vec![d("2028-02-29"), d("2032-02-29")]);
        let got = parse_ics(&event(&[
            "DTSTART;VALUE=DATE:20260101",
            "RRULE:FREQ=YEARLY;INTERVAL=5;UNTIL=20401231T235959Z",
        ]))
        .unwrap();
        let froms: Vec<NaiveDate> = got.iter().map(|s| s.from).collect();
        assert_eq!(
            froms,
            vec![d("2026-01-01"), d("2031-01-01"), d("2036-01-01")]
        );
    }

    #[test]
    fn summaries_are_unescaped_and_cut_to_128_characters() {
        let long = format!("SUMMARY:{}", "Ä".repeat(200));
        let got = parse_ics(&event(&["DTSTART:20260101", &long])).unwrap();
        assert_eq!(got[0].name.as_deref(), Some("Ä".repeat(128).as_str()));
        let got = parse_ics(&event(&["DTSTART:20260101", "SUMMARY:  a\\;b\\nc\\\\d\t "])).unwrap();
        assert_eq!(got[0].name.as_deref(), Some("a;b c\\d"));
        let got = parse_ics(&event(&["DTSTART:20260101", "SUMMARY: "])).unwrap();
        assert_eq!(got[0].name, None);
    }

    #[test]
    fn unsupported_recurrences_are_refused_by_line() {
        let unsupported = format!("line 5: {UNSUPPORTED}");
        for rule in [
            "RRULE:FREQ=WEEKLY;COUNT=3",
            "RRULE:FREQ=YEARLY;BYDAY=1MO",
            "RRULE:FREQ=YEARLY;BYMONTH=11",
            "RRULE:COUNT=3",
        ] {
            let e = parse_ics(&event(&["DTSTART:20260101", "SUMMARY:x", rule])).unwrap_err();
            assert_eq!(message(&e), unsupported, "{rule}");
            assert_eq!(e.problem.code(), "Inconsistent");
        }
        let e = parse_ics(&event(&[
            "DTSTART:20260101",
            "RRULE:FREQ=YEARLY;COUNT=1001",
        ]))
        .unwrap_err();
        assert_eq!(
            message(&e),
            "line 4: RRULE gives more than 1000 occurrences"
        );
        let e = parse_ics(&event(&["DTSTART:20260101", "RRULE:FREQ=YEARLY;COUNT=0"])).unwrap_err();
        assert_eq!(message(&e), "line 4: RRULE is not a valid recurrence");
        let e = parse_ics(&event(&[
            "DTSTART:20260101",
            "RRULE:FREQ=YEARLY;COUNT=2;UNTIL=20300101",
        ]))
        .unwrap_err();
        assert_eq!(message(&e), "line 4: RRULE has both COUNT and UNTIL");
    }

    #[test]
    fn bad_events_are_refused_by_line_without_quoting_the_document() {
        let cases: &[(&[&str], &str)] = &[
            (&["SUMMARY:x"], "line 2: an event has no DTSTART"),
            (
                &["DTSTART:SECRET12"],
                "line 3: DTSTART is not a date or date-time",
            ),
            (
                &["DTSTART:20261301"],
                "line 3: DTSTART is not a date or date-time",
            ),
            (
                &["DTSTART:20260101T250000"],
                "line 3: DTSTART is not a date or date-time",
            ),
            (
                &["DTSTART:20260105", "DTEND:20260104"],
                "line 4: an event ends before it starts",
            ),
            (
                &["DTSTART:20260105", "DURATION:PT1H"],
                "line 4: DURATION must be a number of days or weeks (P2D, P1W)",
            ),
            (
                &["DTSTART:20260105", "DURATION:P1D", "DTEND:20260107"],
                "line 4: an event has both DTEND and DURATION",
            ),
            (
                &["DTSTART:20260105", "DURATION:P4000D"],
                "line 2: an event may cover at most ten years",
            ),
            (
                &["DTSTART:20260105", "EXDATE:SECRET12"],
                "line 4: EXDATE is not a date or date-time",
            ),
            (
                &["DTSTART:20260105", "SECRET12"],
                "line 4: not a property line",
            ),
            (
                &["DTSTART:99991231", "DURATION:P2D"],
                "line 2: an event ends after the year 9999",
            ),
        ];
        for (lines, want) in cases {
            let e = parse_ics(&event(lines)).unwrap_err();
            let got = message(&e);
            assert_eq!(&got, want, "{lines:?}");
            assert!(!got.contains("SECRET"));
        }
        let cases = [
            ("hello world", "line 1: not a property line"),
            ("hello: world", "line 1: a property outside BEGIN:VCALENDAR"),
            ("BEGIN:VEVENT", "line 1: expected BEGIN:VCALENDAR"),
            ("", "not an iCalendar document (no BEGIN:VCALENDAR)"),
            (
                "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20260101\n",
                "the document ends inside a component (cut short?)",
            ),
            (
                "BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VCALENDAR",
                "line 3: END does not match its BEGIN",
            ),
            (
                "BEGIN:VCALENDAR\nEND:VCALENDAR\nSUMMARY:x",
                "line 3: a property outside BEGIN:VCALENDAR",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(message(&parse_ics(text).unwrap_err()), want, "{text}");
        }
        assert_eq!(
            parse_ics("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"),
            Ok(vec![])
        );
    }

    #[test]
    fn limits() {
        let e = parse_ics(&"x".repeat(MAX_ICS_CHARS + 1)).unwrap_err();
        assert_eq!(
            e.problem,
            Problem::TooLong {
                max: MAX_ICS_CHARS,
                len: MAX_ICS_CHARS + 1
            }
        );
        let mut lines = vec!["BEGIN:VCALENDAR".to_owned()];
        for i in 0..1001 {
            let date = d("2026-01-01") + Duration::days(i);
            lines.push(format!(
                "BEGIN:VEVENT\nDTSTART:{}\nEND:VEVENT",
                date.format("%Y%m%d")
            ));
        }
        lines.push("END:VCALENDAR".to_owned());
        let e = parse_ics(&lines.join("\n")).unwrap_err();
        assert_eq!(message(&e), "the events give more than 1000 date spans");
        lines.remove(1);
        assert_eq!(parse_ics(&lines.join("\n")).unwrap().len(), 1000);
    }

    #[test]
    fn garbage_and_cut_documents_are_refused_without_panicking() {
        let text = doc(GERMAN);
        let end = text.rfind("END:VCALENDAR").unwrap() + "END:VCALENDAR".len();
        for (i, _) in text.char_indices() {
            if i < end {
                assert!(parse_ics(&text[..i]).is_err(), "prefix of {i} bytes");
            }
        }
        // Deterministic pseudo-random bytes, made valid UTF-8 lossily.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for round in 0..200 {
            let bytes: Vec<u8> = (0..(round * 7 % 400))
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x % 256) as u8
                })
                .collect();
            let junk = String::from_utf8_lossy(&bytes);
            assert!(parse_ics(&junk).is_err(), "round {round}");
            let wrapped =
                format!("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:{junk}\nEND:VEVENT\nEND:VCALENDAR");
            let _ = parse_ics(&wrapped);
        }
        for odd in [
            "\u{feff}BEGIN:VCALENDAR\nEND:VCALENDAR",
            "BEGIN:VCALENDAR\nX-NOTE:\u{0}\u{fffd}\nEND:VCALENDAR",
        ] {
            assert_eq!(parse_ics(odd), Ok(vec![]));
        }
        assert!(parse_ics("BEGIN:VCALENDAR\nDTSTART:2026\u{e9}0101\nEND:VCALENDAR").is_ok());
        let e = parse_ics(&event(&["DTSTART:2026\u{e9}101"])).unwrap_err();
        assert_eq!(message(&e), "line 3: DTSTART is not a date or date-time");
    }

    #[test]
    fn day_lists_are_checked() {
        let span = |from: &str, to: &str| DateSpan {
            from: d(from),
            to: d(to),
            name: None,
        };
        assert_eq!(check_days(&[span("2026-01-01", "2026-01-02")]), Ok(()));
        let e = check_days(&[span("2026-01-02", "2026-01-01")]).unwrap_err();
        assert_eq!(
            (e.field.as_ref(), e.problem.code()),
            ("detail.days", "Inconsistent")
        );
        let many = vec![span("2026-01-01", "2026-01-01"); MAX_CALENDAR_DAYS + 1];
        let e = check_days(&many).unwrap_err();
        assert_eq!(
            e.problem,
            Problem::TooMany {
                max: 1000,
                len: 1001
            }
        );
        assert_eq!(check_days(&many[1..]), Ok(()));
    }
}
