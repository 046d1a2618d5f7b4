//! Reconciliation: what Steward believes about a desktop, brought in line with what the
//! service reports, and the AVAILABLE time that produces for the usage ledger.
//!
//! DescribeWorkspaces has no "AVAILABLE since" field, so Steward keeps its own. A transition
//! Steward caused has a known cause: the record's pending [`StewardCall`] explains every
//! state on the call's way and its ends ([`StewardAction::explains`]), however late the
//! sweep first sees them, so Steward's own start, stop, reboot, rebuild, restore, modify,
//! migrate or terminate is never drift. A transition no pending call explains is drift,
//! dated somewhere between the previous observation and this one and recorded with that
//! window as its stated uncertainty. The window is capped by `max_window` (the sweep
//! interval), so a gap in observations never back-dates a desktop's AVAILABLE time by more
//! than one interval.
//!
//! The observation that shows a pending call's end (or another resting state, or comes past
//! the call's patience) settles it: [`Reconciled::settled`] is what the partner's
//! completion event (`Desktop Available`, `Desktop Stopped`, `Lifecycle Operation
//! Completed` / `Failed`) reports.

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};

use crate::model::{
    AvailableSinceSource, Month, PendingImage, PowerPolicy, RunningMode, StewardAction,
    StewardCall, Timestamp, WorkspaceRecord, WorkspaceState,
};
use crate::store::UsageDelta;

/// What DescribeWorkspaces said about the desktop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observation {
    Seen {
        state: WorkspaceState,
        running_mode: RunningMode,
    },
    /// Not returned: the desktop is gone (TERMINATED shows only briefly).
    Absent,
}

/// Something that happened outside Steward, worth an event and an audit record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drift {
    /// It left AVAILABLE with no stop from Steward after being AVAILABLE at least as long as
    /// the service's forced-stop period: most likely the service's own 48-hour stop.
    ForcedStopSuspected,
    /// It stopped (or began stopping) with no stop from Steward.
    StoppedOutsideSteward,
    /// It came up with no start from Steward (console, CLI, the user's client).
    StartedOutsideSteward,
    /// It entered the service's maintenance.
    MaintenanceStarted,
    /// Its running mode changed outside Steward.
    RunningModeChanged,
    Terminated,
}

/// AVAILABLE time to add to the ledger: `[from, to)` with `uncertainty` on its ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvailablePeriod {
    pub from: Timestamp,
    pub to: Timestamp,
    pub uncertainty: Duration,
}

/// How a Steward call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    /// The desktop reached one of the call's end states.
    Completed { state: WorkspaceState },
    /// It came to rest somewhere else (ERROR, STOPPED after a start, …).
    Failed { state: WorkspaceState },
    /// No end within [`StewardCall::PATIENCE_MINUTES`].
    TimedOut { state: WorkspaceState },
}

/// A pending call this observation settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// The call as it was while pending.
    pub call: StewardCall,
    pub outcome: CallOutcome,
    /// The end happened in `(earliest, observed_at]`: after the call and the last
    /// observation that did not show it.
    pub earliest: Timestamp,
    pub observed_at: Timestamp,
}

impl Settled {
    /// The most the operation can have taken (call → observation), in seconds.
    pub fn took_at_most_seconds(&self) -> i64 {
        (self.observed_at - self.call.at).num_seconds().max(0)
    }

    /// How much earlier than `observed_at` it may have ended, in seconds.
    pub fn uncertainty_seconds(&self) -> i64 {
        (self.observed_at - self.earliest).num_seconds().max(0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reconciled {
    /// The record to write back (unchanged apart from `state_observed_at` when nothing moved).
    pub record: WorkspaceRecord,
    pub drift: Vec<Drift>,
    /// A closed AVAILABLE period, when the desktop left AVAILABLE.
    pub closed: Option<AvailablePeriod>,
    /// The desktop is gone: delete its record after booking `closed`.
    pub gone: bool,
    /// The Steward call this observation settled, if any.
    pub settled: Option<Settled>,
}

/// How a pending call stands at an observation of `state` at `now`, if it is settled.
fn settle(call: &StewardCall, state: WorkspaceState, now: Timestamp) -> Option<CallOutcome> {
    if !call.pending_at(now) {
        Some(CallOutcome::TimedOut { state })
    } else if call.action.ends_in().contains(&state) {
        Some(CallOutcome::Completed { state })
    } else if state.is_resting() && !call.action.explains(state) {
        Some(CallOutcome::Failed { state })
    } else {
        None
    }
}

/// One observation of a desktop, in the terms the AVAILABLE-period and drift rules need.
struct Transition<'a> {
    ws: &'a WorkspaceRecord,
    new_state: WorkspaceState,
    now: Timestamp,
    /// The transition, if any, happened in (window_start, now].
    window_start: Timestamp,
    /// The pending Steward call that explains what is seen now, if any: then none of this
    /// is drift, however late the sweep sees it.
    ours: Option<&'a StewardCall>,
}

impl Transition<'_> {
    /// The desktop left AVAILABLE: the period that closes, and the drift when Steward did
    /// not stop it.
    fn closed_period(&self, policy: &PowerPolicy) -> (AvailablePeriod, Option<Drift>) {
        let Transition {
            ws,
            new_state,
            now,
            window_start,
            ours,
        } = *self;
        let since = ws.available_since.unwrap_or(window_start);
        // Steward's own call took it out of service at the call.
        let by_steward = ours.filter(|c| c.at >= since);
        let period = match by_steward {
            Some(call) => AvailablePeriod {
                from: since,
                to: call.at,
                uncertainty: since_uncertainty(ws),
            },
            // Somewhere since the window opened; never past the service's forced stop when
            // observations stopped for longer than that (it would have stopped it then).
            None => {
                let forced_at =
                    since + Duration::minutes(i64::from(policy.service_forced_stop_minutes));
                let last_seen = ws.state_observed_at.min(now);
                if forced_at < window_start && last_seen < window_start {
                    let to = forced_at.max(last_seen);
                    AvailablePeriod {
                        from: since,
                        to,
                        uncertainty: since_uncertainty(ws) + (to - last_seen),
                    }
                } else {
                    AvailablePeriod {
                        from: since,
                        to: now,
                        uncertainty: since_uncertainty(ws) + (now - window_start),
                    }
                }
            }
        };
        let mut drift = None;
        if by_steward.is_none()
            && matches!(
                new_state,
                WorkspaceState::Stopping | WorkspaceState::Stopped
            )
        {
            let forced = Duration::minutes(i64::from(policy.service_forced_stop_minutes));
            drift = Some(if now - since >= forced {
                Drift::ForcedStopSuspected
            } else {
                Drift::StoppedOutsideSteward
            });
        }
        (period, drift)
    }

    /// The desktop came up: since when as far as Steward knows, how it knows, and the drift
    /// when Steward did not start it.
    fn opened_period(&self) -> (Timestamp, AvailableSinceSource, Option<Drift>) {
        let (since, source) = match self.ours {
            Some(call) => (
                call.at.max(self.window_start),
                AvailableSinceSource::Steward,
            ),
            None => (self.window_start, AvailableSinceSource::Observed),
        };
        let drift = (self.ours.is_none()
            && matches!(
                self.ws.state,
                WorkspaceState::Stopped | WorkspaceState::Starting | WorkspaceState::Stopping
            ))
        .then_some(Drift::StartedOutsideSteward);
        (since, source, drift)
    }
}

/// Brings `ws` in line with `seen` at `now`.
pub fn reconcile(
    ws: &WorkspaceRecord,
    seen: Observation,
    policy: &PowerPolicy,
    now: Timestamp,
    max_window: Duration,
) -> Reconciled {
    let mut record = ws.clone();
    let mut drift = Vec::new();
    let (new_state, new_mode) = match seen {
        Observation::Seen {
            state,
            running_mode,
        } => (state, Some(running_mode)),
        Observation::Absent => (WorkspaceState::Terminated, None),
    };
    let pending = ws.last_call.as_ref().filter(|c| c.settled_at.is_none());
    let moved = Transition {
        ws,
        new_state,
        now,
        window_start: ws.state_observed_at.max(now - max_window).min(now),
        ours: pending.filter(|c| c.pending_at(now) && c.action.explains(new_state)),
    };
    let ours = moved.ours;
    let settled = pending.and_then(|c| {
        settle(c, new_state, now).map(|outcome| Settled {
            call: c.clone(),
            outcome,
            earliest: c.at.max(ws.state_observed_at).min(now),
            observed_at: now,
        })
    });
    if let (Some(_), Some(call)) = (&settled, record.last_call.as_mut()) {
        call.settled_at = Some(now);
    }
    // An AVAILABLE period is open while `available_since` is set.
    let was = ws.available_since.is_some();
    let is = new_state.is_running();
    let mut closed = None;

    if was && !is {
        let (period, stopped) = moved.closed_period(policy);
        drift.extend(stopped);
        closed = Some(period);
        record.available_since = None;
        record.available_since_source = None;
        record.available_since_uncertainty_seconds = 0;
    } else if !was && is {
        let (since, source, started) = moved.opened_period();
        record.available_since_uncertainty_seconds = (now - since).num_seconds().max(0) as u64;
        drift.extend(started);
        record.available_since = Some(since);
        record.available_since_source = Some(source);
    }

    if new_state == WorkspaceState::Maintenance && ws.state != WorkspaceState::Maintenance {
        drift.push(Drift::MaintenanceStarted);
    }
    if new_state == WorkspaceState::Terminated && ours.is_none() {
        drift.push(Drift::Terminated);
    }
    if let Some(mode) = new_mode
        && mode != ws.running_mode
    {
        if !ours.is_some_and(|c| c.action == StewardAction::ModifyProperties) {
            drift.push(Drift::RunningModeChanged);
        }
        record.running_mode = mode;
    }
    record.state = new_state;
    record.state_observed_at = now;
    Reconciled {
        record,
        drift,
        closed,
        gone: matches!(seen, Observation::Absent),
        settled,
    }
}

/// A WorkSpaces image's state (the wire names); an unknown one counts as still working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum ImageState {
    Available,
    Pending,
    Error,
}

/// How a pending image operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageEnd {
    /// The image is AVAILABLE.
    Available,
    /// The image is in ERROR.
    Error,
    /// DescribeWorkspaceImages no longer returns it (deleted, or the copy was refused).
    Gone,
    /// Still not done after [`PendingImage::PATIENCE_MINUTES`].
    TimedOut,
}

/// What one description of a pending image (`state`: its wire state, `None` when not
/// returned) says about the operation at `now`; `None` while it is still working.
pub fn image_end(p: &PendingImage, state: Option<&str>, now: Timestamp) -> Option<ImageEnd> {
    let Some(state) = state else {
        return Some(ImageEnd::Gone);
    };
    let parsed = serde_json::from_value::<ImageState>(serde_json::Value::String(state.to_owned()));
    match parsed {
        Ok(ImageState::Available) => Some(ImageEnd::Available),
        Ok(ImageState::Error) => Some(ImageEnd::Error),
        Ok(ImageState::Pending) | Err(_)
            if now - p.requested_at > Duration::minutes(PendingImage::PATIENCE_MINUTES) =>
        {
            Some(ImageEnd::TimedOut)
        }
        Ok(ImageState::Pending) | Err(_) => None,
    }
}

/// How uncertain a record's `available_since` is.
fn since_uncertainty(ws: &WorkspaceRecord) -> Duration {
    Duration::seconds(i64::try_from(ws.available_since_uncertainty_seconds).unwrap_or(i64::MAX))
}

fn month_start(year: i32, month: u32) -> Timestamp {
    Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn next_month_start(t: Timestamp) -> Timestamp {
    let (y, m) = if t.month() == 12 {
        (t.year() + 1, 1)
    } else {
        (t.year(), t.month() + 1)
    };
    month_start(y, m)
}

/// Splits `[from, to)` into calendar months (UTC): `(month, seconds)`, in order.
pub fn split_by_month(from: Timestamp, to: Timestamp) -> Vec<(Month, u64)> {
    let mut out = Vec::new();
    let mut cur = from;
    while cur < to {
        let end = next_month_start(cur).min(to);
        let secs = (end - cur).num_seconds().max(0) as u64;
        if secs > 0 {
            out.push((Month::of(cur), secs));
        }
        cur = end;
    }
    out
}

/// Ledger entries for a closed period: seconds per month, the uncertainty booked to the
/// month the period ends in.
pub fn ledger_entries(p: &AvailablePeriod) -> Vec<(Month, u64, u64)> {
    let mut parts: Vec<(Month, u64, u64)> = split_by_month(p.from, p.to)
        .into_iter()
        .map(|(m, s)| (m, s, 0))
        .collect();
    if let Some(last) = parts.last_mut() {
        last.2 = p.uncertainty.num_seconds().max(0) as u64;
    }
    parts
}

/// The usage-ledger additions for one AVAILABLE period of `record`'s desktop.
pub fn period_usage(record: &WorkspaceRecord, period: &AvailablePeriod) -> Vec<UsageDelta> {
    ledger_entries(period)
        .into_iter()
        .map(|(month, secs, unc)| UsageDelta {
            tenant_id: record.tenant_id.clone(),
            workspace_id: record.workspace_id.clone(),
            month,
            available_seconds: secs,
            uncertainty_seconds: unc,
        })
        .collect()
}

/// The usage-ledger additions for the AVAILABLE period of `before` that ends at `until`
/// (Steward's own stop, or a desktop it terminates): from `available_since`, with the
/// uncertainty that start carries; nothing when the desktop was not AVAILABLE.
pub fn usage_until(before: &WorkspaceRecord, until: Timestamp) -> Vec<UsageDelta> {
    let Some(from) = before.available_since else {
        return Vec::new();
    };
    let period = AvailablePeriod {
        from,
        to: until,
        uncertainty: since_uncertainty(before),
    };
    period_usage(before, &period)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FirstSeen;
    use crate::model::{StewardAction, StewardCall};

    fn t(minutes: i64) -> Timestamp {
        DateTime::parse_from_rfc3339("2026-11-21T00:00:00Z")
            .unwrap()
            .to_utc()
            + Duration::minutes(minutes)
    }

    fn desktop(state: WorkspaceState, observed: i64) -> WorkspaceRecord {
        WorkspaceRecord {
            created_at: t(0),
            version: 1,
            ..WorkspaceRecord::new(FirstSeen::sample(state, t(observed)))
        }
    }

    fn seen(state: WorkspaceState) -> Observation {
        Observation::Seen {
            state,
            running_mode: RunningMode::Manual,
        }
    }

    const WINDOW: Duration = Duration::minutes(15);

    #[test]
    fn a_start_steward_made_dates_available_exactly() {
        let mut w = desktop(WorkspaceState::Stopped, 0);
        w.last_call = Some(StewardCall::new(StewardAction::Start, t(3), None));
        let r = reconcile(
            &w,
            seen(WorkspaceState::Available),
            &PowerPolicy::default(),
            t(10),
            WINDOW,
        );
        assert_eq!(r.record.available_since, Some(t(3)));
        assert_eq!(
            r.record.available_since_source,
            Some(AvailableSinceSource::Steward)
        );
        assert_eq!(r.record.available_since_uncertainty_seconds, 7 * 60);
        assert!(r.drift.is_empty());
        assert_eq!(r.record.state_observed_at, t(10));
    }

    #[test]
    fn an_observed_start_is_dated_at_the_earliest_within_one_window() {
        let w = desktop(WorkspaceState::Stopped, 0);
        let r = reconcile(
            &w,
            seen(WorkspaceState::Available),
            &PowerPolicy::default(),
            t(10),
            WINDOW,
        );
        assert_eq!(r.record.available_since, Some(t(0)));
        assert_eq!(
            r.record.available_since_source,
            Some(AvailableSinceSource::Observed)
        );
        assert_eq!(r.record.available_since_uncertainty_seconds, 10 * 60);
        assert_eq!(r.drift, vec![Drift::StartedOutsideSteward]);
        // A long gap in observations back-dates by one window at most.
        let r = reconcile(
            &w,
            seen(WorkspaceState::Available),
            &PowerPolicy::default(),
            t(600),
            WINDOW,
        );
        assert_eq!(r.record.available_since, Some(t(585)));
    }

    #[test]
    fn a_stop_steward_made_closes_the_period_exactly() {
        let mut w = desktop(WorkspaceState::Available, 100);
        w.available_since = Some(t(0));
        w.last_call = Some(StewardCall::new(StewardAction::Stop, t(105), None));
        let r = reconcile(
            &w,
            seen(WorkspaceState::Stopping),
            &PowerPolicy::default(),
            t(110),
            WINDOW,
        );
        assert_eq!(
            r.closed,
            Some(AvailablePeriod {
                from: t(0),
                to: t(105),
                uncertainty: Duration::zero()
            })
        );
        assert_eq!(r.record.available_since, None);
        assert!(r.drift.is_empty());
    }

    #[test]
    fn stops_outside_steward_are_drift_with_stated_uncertainty() {
        let mut w = desktop(WorkspaceState::Available, 100);
        w.available_since = Some(t(0));
        w.available_since_uncertainty_seconds = 120;
        let r = reconcile(
            &w,
            seen(WorkspaceState::Stopped),
            &PowerPolicy::default(),
            t(110),
            WINDOW,
        );
        assert_eq!(r.drift, vec![Drift::StoppedOutsideSteward]);
        assert_eq!(
            r.closed,
            Some(AvailablePeriod {
                from: t(0),
                to: t(110),
                uncertainty: Duration::minutes(12)
            }),
            "both ends' windows are stated"
        );
        // After 48 h AVAILABLE, a stop nobody made is most likely the service's own.
        let mut old = desktop(WorkspaceState::Available, 48 * 60);
        old.available_since = Some(t(0));
        let r = reconcile(
            &old,
            seen(WorkspaceState::Stopped),
            &PowerPolicy::default(),
            t(48 * 60 + 5),
            WINDOW,
        );
        assert_eq!(r.drift, vec![Drift::ForcedStopSuspected]);
    }

    #[test]
    fn terminations_maintenance_and_mode_changes() {
        let mut w = desktop(WorkspaceState::Available, 100);
        w.available_since = Some(t(0));
        let r = reconcile(
            &w,
            Observation::Absent,
            &PowerPolicy::default(),
            t(110),
            WINDOW,
        );
        assert!(r.gone);
        assert_eq!(r.drift, vec![Drift::Terminated]);
        assert!(r.closed.is_some());

        let r = reconcile(
            &w,
            seen(WorkspaceState::Maintenance),
            &PowerPolicy::default(),
            t(110),
            WINDOW,
        );
        assert_eq!(r.drift, vec![Drift::MaintenanceStarted]);

        let r = reconcile(
            &w,
            Observation::Seen {
                state: WorkspaceState::Available,
                running_mode: RunningMode::AlwaysOn,
            },
            &PowerPolicy::default(),
            t(110),
            WINDOW,
        );
        assert_eq!(r.drift, vec![Drift::RunningModeChanged]);
        assert_eq!(r.record.running_mode, RunningMode::AlwaysOn);
        assert!(r.closed.is_none());
        assert_eq!(
            r.record.available_since,
            Some(t(0)),
            "still the same AVAILABLE period"
        );
    }

    fn with_call(mut w: WorkspaceRecord, action: StewardAction, at: i64) -> WorkspaceRecord {
        w.last_call = Some(StewardCall::new(action, t(at), Some("evt-1".into())));
        w
    }

    #[test]
    fn stewards_start_seen_late_and_through_starting_is_never_drift() {
        // Started at 0:00 (the handler wrote STARTING then); the sweep saw STARTING at 0:05
        // and sees AVAILABLE at 0:20, well past one window after the call.
        let w = with_call(
            desktop(WorkspaceState::Starting, 5),
            StewardAction::Start,
            0,
        );
        let r = reconcile(
            &w,
            seen(WorkspaceState::Available),
            &PowerPolicy::default(),
            t(20),
            Duration::minutes(5),
        );
        assert!(r.drift.is_empty(), "{:?}", r.drift);
        assert_eq!(
            r.record.available_since_source,
            Some(AvailableSinceSource::Steward)
        );
        assert_eq!(r.record.available_since, Some(t(15)));
        let settled = r.settled.expect("the start ended");
        assert_eq!(
            settled.outcome,
            CallOutcome::Completed {
                state: WorkspaceState::Available
            }
        );
        assert_eq!(settled.earliest, t(5), "after the last sight of STARTING");
        assert_eq!(settled.took_at_most_seconds(), 20 * 60);
        assert_eq!(settled.uncertainty_seconds(), 15 * 60);
        assert_eq!(r.record.last_call.unwrap().settled_at, Some(t(20)));
        // The intermediate state alone settles nothing and is not drift either.
        let w = with_call(desktop(WorkspaceState::Stopped, 0), StewardAction::Start, 1);
        let r = reconcile(
            &w,
            seen(WorkspaceState::Starting),
            &PowerPolicy::default(),
            t(5),
            WINDOW,
        );
        assert!(r.drift.is_empty() && r.settled.is_none());
    }

    #[test]
    fn a_console_start_after_stewards_settled_stop_is_drift() {
        let mut w = with_call(desktop(WorkspaceState::Stopped, 60), StewardAction::Stop, 0);
        w.last_call.as_mut().unwrap().settled_at = Some(t(30));
        let r = reconcile(
            &w,
            seen(WorkspaceState::Available),
            &PowerPolicy::default(),
            t(65),
            WINDOW,
        );
        assert_eq!(r.drift, vec![Drift::StartedOutsideSteward]);
        assert_eq!(r.record.available_since, Some(t(60)));
        assert_eq!(
            r.record.available_since_source,
            Some(AvailableSinceSource::Observed)
        );
        assert!(r.settled.is_none());
    }

    #[test]
    fn lifecycle_calls_are_attributed_and_settle_at_their_end() {
        // A rebuild: REBUILDING, then AVAILABLE again.
        let w = with_call(
            desktop(WorkspaceState::Rebuilding, 10),
            StewardAction::Rebuild,
            10,
        );
        let r = reconcile(
            &w,
            seen(WorkspaceState::Rebuilding),
            &PowerPolicy::default(),
            t(15),
            WINDOW,
        );
        assert!(r.drift.is_empty() && r.settled.is_none());
        let r = reconcile(
            &r.record,
            seen(WorkspaceState::Available),
            &PowerPolicy::default(),
            t(50),
            WINDOW,
        );
        assert!(r.drift.is_empty());
        assert_eq!(
            r.settled.map(|s| s.outcome),
            Some(CallOutcome::Completed {
                state: WorkspaceState::Available
            })
        );
        assert_eq!(
            r.record.available_since_source,
            Some(AvailableSinceSource::Steward)
        );
        // A terminate: gone without drift.
        let w = with_call(
            desktop(WorkspaceState::Terminating, 10),
            StewardAction::Terminate,
            10,
        );
        let r = reconcile(
            &w,
            Observation::Absent,
            &PowerPolicy::default(),
            t(15),
            WINDOW,
        );
        assert!(r.gone && r.drift.is_empty());
        assert!(matches!(
            r.settled.map(|s| s.outcome),
            Some(CallOutcome::Completed { .. })
        ));
        // A start that came to rest in ERROR failed.
        let w = with_call(
            desktop(WorkspaceState::Starting, 10),
            StewardAction::Start,
            10,
        );
        let r = reconcile(
            &w,
            seen(WorkspaceState::Error),
            &PowerPolicy::default(),
            t(15),
            WINDOW,
        );
        assert_eq!(
            r.settled.map(|s| s.outcome),
            Some(CallOutcome::Failed {
                state: WorkspaceState::Error
            })
        );
        // A call past its patience explains nothing any more.
        let late = StewardCall::PATIENCE_MINUTES + 10;
        let w = with_call(
            desktop(WorkspaceState::Stopped, late - 5),
            StewardAction::Stop,
            0,
        );
        let r = reconcile(
            &w,
            seen(WorkspaceState::Available),
            &PowerPolicy::default(),
            t(late),
            WINDOW,
        );
        assert_eq!(r.drift, vec![Drift::StartedOutsideSteward]);
        assert!(matches!(
            r.settled.map(|s| s.outcome),
            Some(CallOutcome::TimedOut { .. })
        ));
    }

    #[test]
    fn a_reboot_keeps_the_available_period_open() {
        let mut w = with_call(
            desktop(WorkspaceState::Rebooting, 100),
            StewardAction::Reboot,
            100,
        );
        w.available_since = Some(t(0));
        let r = reconcile(
            &w,
            seen(WorkspaceState::Available),
            &PowerPolicy::default(),
            t(105),
            WINDOW,
        );
        assert!(r.closed.is_none() && r.drift.is_empty());
        assert_eq!(r.record.available_since, Some(t(0)));
        assert!(r.settled.is_some());
    }

    #[test]
    fn a_long_gap_never_counts_past_the_services_forced_stop() {
        // Last seen AVAILABLE at 1:00 (since 0:00), then not again until 72 h: the service
        // stopped it at 48 h at the latest, so the ledger stops there.
        let mut w = desktop(WorkspaceState::Available, 60);
        w.available_since = Some(t(0));
        let r = reconcile(
            &w,
            seen(WorkspaceState::Stopped),
            &PowerPolicy::default(),
            t(72 * 60),
            WINDOW,
        );
        assert_eq!(r.drift, vec![Drift::ForcedStopSuspected]);
        assert_eq!(
            r.closed,
            Some(AvailablePeriod {
                from: t(0),
                to: t(48 * 60),
                uncertainty: Duration::minutes(48 * 60 - 60),
            })
        );
    }

    #[test]
    fn image_operations_end_available_in_error_gone_or_late() {
        use crate::ids::{ImageId, RegionName};
        use crate::model::ImageOperation;
        let p = PendingImage {
            image_id: ImageId::parse("wsi-abc123def").unwrap(),
            region: RegionName::parse("us-east-1").unwrap(),
            operation: ImageOperation::Create,
            event_id: "evt-1".into(),
            requested_at: t(0),
            workspace_id: None,
        };
        assert_eq!(image_end(&p, Some("PENDING"), t(30)), None);
        assert_eq!(
            image_end(&p, Some("AVAILABLE"), t(50)),
            Some(ImageEnd::Available)
        );
        assert_eq!(image_end(&p, Some("ERROR"), t(50)), Some(ImageEnd::Error));
        assert_eq!(image_end(&p, None, t(50)), Some(ImageEnd::Gone));
        assert_eq!(image_end(&p, Some("SOMETHING_NEW"), t(50)), None);
        let late = PendingImage::PATIENCE_MINUTES + 1;
        assert_eq!(
            image_end(&p, Some("PENDING"), t(late)),
            Some(ImageEnd::TimedOut)
        );
    }

    #[test]
    fn months_split_at_utc_boundaries() {
        let from = DateTime::parse_from_rfc3339("2026-11-30T23:00:00Z")
            .unwrap()
            .to_utc();
        let to = DateTime::parse_from_rfc3339("2027-01-01T01:00:00Z")
            .unwrap()
            .to_utc();
        let parts = split_by_month(from, to);
        let got: Vec<(&str, u64)> = parts.iter().map(|(m, s)| (m.as_str(), *s)).collect();
        assert_eq!(
            got,
            [
                ("2026-11", 3600),
                ("2026-12", 31 * 86400),
                ("2027-01", 3600)
            ]
        );
        assert!(split_by_month(to, from).is_empty());
        let entries = ledger_entries(&AvailablePeriod {
            from,
            to,
            uncertainty: Duration::minutes(5),
        });
        assert_eq!(entries.last().map(|e| e.2), Some(300));
        assert_eq!(entries[0].2, 0);
    }

    #[test]
    fn a_closed_period_becomes_the_desktops_ledger_additions() {
        let mut w = desktop(WorkspaceState::Available, 0);
        assert!(
            usage_until(&w, t(60)).is_empty(),
            "never AVAILABLE: nothing"
        );
        w.available_since = Some(t(10));
        w.available_since_uncertainty_seconds = 90;
        let added = usage_until(&w, t(70));
        assert_eq!(
            added,
            [UsageDelta {
                tenant_id: w.tenant_id.clone(),
                workspace_id: w.workspace_id.clone(),
                month: Month::of(t(10)),
                available_seconds: 3600,
                uncertainty_seconds: 90,
            }]
        );
        let period = AvailablePeriod {
            from: t(10),
            to: t(70),
            uncertainty: Duration::seconds(90),
        };
        assert_eq!(period_usage(&w, &period), added);
    }
}
