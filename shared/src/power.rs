//! Power governance decisions, as pure functions of a desktop record, its tenant's policy and
//! the time. The sweeps and the partner-events function only gather input, call these, and
//! carry out what they decide. Both stoppers (a sweep, a stop request) mark the record before
//! their StopWorkspaces call and take the mark back when the service refuses the desktop
//! ([`mark_stopping`], [`unmark_stopping`]), so the mark is one rule, here.
//!
//! Partner events arrive at least once and in no particular order, so the session reducer is
//! order-tolerant: applying the same set of session events in any order, any number of times,
//! leaves the same record.

use chrono::Duration;

use crate::ids::OpaqueId;
use crate::model::{
    EndedSession, GuardHardLimitAction, PowerPolicy, RunningMode, Session, StewardAction,
    StewardCall, Timestamp, WorkspaceRecord, WorkspaceState,
};

/// How many ended sessions a record remembers (most recent first).
pub const ENDED_SESSIONS_KEPT: usize = 32;

fn minutes(m: u32) -> Duration {
    Duration::minutes(i64::from(m))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionChange {
    Started,
    Heartbeat,
    Ended,
}

fn later(a: Option<Timestamp>, b: Timestamp) -> Timestamp {
    a.map_or(b, |a| a.max(b))
}

/// Applies one session event to a desktop record. Returns whether the record changed.
///
/// - `Started`/`Heartbeat` for an unknown session open it (a lost start is implied by its
///   heartbeat); for a session already ended they change nothing but the activity time.
/// - `Ended` closes the session and remembers it, so late starts or heartbeats stay ignored.
/// - Times only move forward: the latest heartbeat and activity win, whatever the order.
pub fn apply_session(
    ws: &mut WorkspaceRecord,
    change: SessionChange,
    session_id: &OpaqueId,
    at: Timestamp,
) -> bool {
    let before = ws.clone();
    ws.last_activity_at = Some(later(ws.last_activity_at, at));
    let ended = ws
        .ended_sessions
        .iter_mut()
        .find(|e| &e.session_id == session_id);
    match (change, ended) {
        (SessionChange::Ended, Some(e)) => e.ended_at = e.ended_at.max(at),
        (SessionChange::Ended, None) => {
            ws.sessions.retain(|s| &s.session_id != session_id);
            ws.ended_sessions.push(EndedSession {
                session_id: session_id.clone(),
                ended_at: at,
            });
            ws.ended_sessions.sort_by(|a, b| {
                b.ended_at
                    .cmp(&a.ended_at)
                    .then(a.session_id.cmp(&b.session_id))
            });
            ws.ended_sessions.truncate(ENDED_SESSIONS_KEPT);
        }
        (_, Some(_)) => {}
        (SessionChange::Started | SessionChange::Heartbeat, None) => {
            match ws.sessions.iter_mut().find(|s| &s.session_id == session_id) {
                Some(s) => {
                    if change == SessionChange::Started {
                        s.started_at = s.started_at.min(at);
                    }
                    s.last_heartbeat_at = s.last_heartbeat_at.max(at);
                }
                None => {
                    ws.sessions.push(Session {
                        session_id: session_id.clone(),
                        started_at: at,
                        last_heartbeat_at: at,
                    });
                    ws.sessions.sort_by(|a, b| a.session_id.cmp(&b.session_id));
                }
            }
        }
    }
    *ws != before
}

/// Sessions still alive at `now`: heard from within the heartbeat timeout.
pub fn live_sessions<'a>(
    ws: &'a WorkspaceRecord,
    policy: &'a PowerPolicy,
    now: Timestamp,
) -> impl Iterator<Item = &'a Session> + 'a {
    let timeout = minutes(policy.heartbeat_timeout_minutes);
    ws.sessions
        .iter()
        .filter(move |s| now - s.last_heartbeat_at <= timeout)
}

pub fn has_live_session(ws: &WorkspaceRecord, policy: &PowerPolicy, now: Timestamp) -> bool {
    live_sessions(ws, policy, now).next().is_some()
}

/// Why the idle sweep leaves a desktop running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepReason {
    NotManual,
    NotAvailable(WorkspaceState),
    /// Steward does not know when it became AVAILABLE: the next reconciliation will tell.
    AvailableSinceUnknown,
    LiveSession,
    Leased {
        until: Timestamp,
    },
    StartGrace {
        until: Timestamp,
    },
    NotIdleLongEnough {
        until: Timestamp,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleDecision {
    Keep(KeepReason),
    /// Stop it: idle since `idle_since`.
    Stop {
        idle_since: Timestamp,
    },
}

/// The idle-stop policy: a MANUAL desktop that is AVAILABLE, has no live session, no lease,
/// is past its start grace and has been idle longer than the tenant's timeout is stopped.
pub fn idle_decision(ws: &WorkspaceRecord, policy: &PowerPolicy, now: Timestamp) -> IdleDecision {
    use IdleDecision::Keep;
    if ws.running_mode != RunningMode::Manual {
        return Keep(KeepReason::NotManual);
    }
    if ws.state != WorkspaceState::Available {
        return Keep(KeepReason::NotAvailable(ws.state));
    }
    let Some(available_since) = ws.available_since else {
        return Keep(KeepReason::AvailableSinceUnknown);
    };
    if has_live_session(ws, policy, now) {
        return Keep(KeepReason::LiveSession);
    }
    if let Some(until) = ws.lease_until.filter(|u| *u > now) {
        return Keep(KeepReason::Leased { until });
    }
    let grace_end = available_since + minutes(policy.start_grace_minutes);
    if now < grace_end {
        return Keep(KeepReason::StartGrace { until: grace_end });
    }
    // Idle since the later of: coming up, the last thing any session did, the lease's end.
    let mut idle_since = later(ws.last_activity_at, available_since);
    if let Some(lease) = ws.lease_until {
        idle_since = idle_since.max(lease);
    }
    let stop_at = idle_since + minutes(policy.idle_timeout_minutes);
    if now < stop_at {
        return Keep(KeepReason::NotIdleLongEnough { until: stop_at });
    }
    IdleDecision::Stop { idle_since }
}

/// What the 48-hour guard does with a desktop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardDecision {
    /// Not a MANUAL desktop AVAILABLE since a known time.
    NotApplicable,
    /// Below the threshold.
    Fine { age_minutes: i64 },
    /// At the threshold and idle: stop it before the service does.
    StopIdle { age_minutes: i64 },
    /// At the threshold with a live session or a lease: tell the partner (once per period).
    Warn { age_minutes: i64 },
    /// Warned already this AVAILABLE period.
    AlreadyWarned { age_minutes: i64 },
    /// At the hard limit with a live session, and the tenant's action is Stop.
    HardLimitStop { age_minutes: i64 },
}

/// The guard policy. `age` counts from when the desktop became AVAILABLE as far as Steward
/// knows (the earliest time it may have, when it was observed rather than caused).
pub fn guard_decision(ws: &WorkspaceRecord, policy: &PowerPolicy, now: Timestamp) -> GuardDecision {
    if ws.running_mode != RunningMode::Manual || ws.state != WorkspaceState::Available {
        return GuardDecision::NotApplicable;
    }
    let Some(since) = ws.available_since else {
        return GuardDecision::NotApplicable;
    };
    let age = now - since;
    let age_minutes = age.num_minutes();
    if age < minutes(policy.guard_threshold_minutes) {
        return GuardDecision::Fine { age_minutes };
    }
    let busy = has_live_session(ws, policy, now) || ws.lease_until.is_some_and(|until| until > now);
    if !busy {
        return GuardDecision::StopIdle { age_minutes };
    }
    if age >= minutes(policy.guard_hard_limit_minutes)
        && policy.guard_hard_limit_action == GuardHardLimitAction::Stop
    {
        return GuardDecision::HardLimitStop { age_minutes };
    }
    if ws.guard_warned_at.is_some_and(|w| w >= since) {
        GuardDecision::AlreadyWarned { age_minutes }
    } else {
        GuardDecision::Warn { age_minutes }
    }
}

/// What to do with a partner's start request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartDecision {
    /// STOPPED: call StartWorkspaces (and record the lease).
    Start { lease_until: Option<Timestamp> },
    /// Already AVAILABLE or on its way: only extend the lease.
    ExtendLease { lease_until: Option<Timestamp> },
    /// A newer start or stop request was already acted upon.
    Superseded,
    /// The service accepts no start in this state.
    NotStartable(WorkspaceState),
}

/// A start or stop request made no later than the newest one acted upon changes nothing:
/// a redelivery or a late arrival never repeats a WorkSpaces call. Known from the record
/// alone, so a handler checks it before any call.
pub fn superseded(ws: &WorkspaceRecord, requested_at: Timestamp) -> bool {
    ws.last_power_request_at
        .is_some_and(|last| last >= requested_at)
}

pub fn start_decision(
    ws: &WorkspaceRecord,
    requested_at: Timestamp,
    lease_minutes: Option<u32>,
) -> StartDecision {
    if superseded(ws, requested_at) {
        return StartDecision::Superseded;
    }
    let lease = lease_minutes.map(|m| requested_at + minutes(m));
    let lease_until = match (ws.lease_until, lease) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => b.or(a),
    };
    match ws.state {
        WorkspaceState::Stopped => StartDecision::Start { lease_until },
        WorkspaceState::Available | WorkspaceState::Starting | WorkspaceState::Pending => {
            StartDecision::ExtendLease { lease_until }
        }
        other => StartDecision::NotStartable(other),
    }
}

/// What to do with a partner's stop request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopDecision {
    Stop,
    AlreadyStopped,
    Superseded,
    NotStoppable(WorkspaceState),
}

pub fn stop_decision(ws: &WorkspaceRecord, requested_at: Timestamp) -> StopDecision {
    if superseded(ws, requested_at) {
        return StopDecision::Superseded;
    }
    match ws.state {
        // The states StopWorkspaces accepts (reference §4.6).
        WorkspaceState::Available
        | WorkspaceState::Impaired
        | WorkspaceState::Unhealthy
        | WorkspaceState::Error => StopDecision::Stop,
        WorkspaceState::Stopped | WorkspaceState::Stopping => StopDecision::AlreadyStopped,
        other => StopDecision::NotStoppable(other),
    }
}

/// The record of a desktop Steward is about to stop: STOPPING from `now`, its AVAILABLE
/// period closed at the call (the ledger gets it once the call is accepted), its warning and
/// lease cleared. Written before StopWorkspaces, conditional on the version read, so a
/// session or request that changed the record meanwhile makes the stopper decide again.
/// `event_id`: the partner event that asked for the stop (none for a sweep's own).
pub fn mark_stopping(ws: &mut WorkspaceRecord, now: Timestamp, event_id: Option<String>) {
    ws.state = WorkspaceState::Stopping;
    ws.state_observed_at = now;
    ws.last_call = Some(StewardCall::new(StewardAction::Stop, now, event_id));
    ws.available_since = None;
    ws.available_since_source = None;
    ws.available_since_uncertainty_seconds = 0;
    ws.guard_warned_at = None;
    ws.lease_until = None;
    ws.lease_source = None;
}

/// The record to write back when StopWorkspaces refused a desktop [`mark_stopping`] marked:
/// `before` again, at the version `written` holds, keeping the request time `written` carries
/// (the request was acted upon, even if the service refused it).
pub fn unmark_stopping(written: &WorkspaceRecord, before: &WorkspaceRecord) -> WorkspaceRecord {
    let mut back = before.clone();
    back.version = written.version;
    back.last_power_request_at = written.last_power_request_at;
    back
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FirstSeen;
    use chrono::DateTime;

    fn t(minutes_after: i64) -> Timestamp {
        DateTime::parse_from_rfc3339("2026-11-21T00:00:00Z")
            .unwrap()
            .to_utc()
            + Duration::minutes(minutes_after)
    }

    fn desktop() -> WorkspaceRecord {
        WorkspaceRecord {
            available_since: Some(t(0)),
            version: 1,
            ..WorkspaceRecord::new(FirstSeen::sample(WorkspaceState::Available, t(0)))
        }
    }

    fn sid(s: &str) -> OpaqueId {
        OpaqueId::parse(s).unwrap()
    }

    fn policy() -> PowerPolicy {
        PowerPolicy::default() // idle 60, grace 15, heartbeat 10, guard 46 h / 47.5 h, Stop
    }

    #[test]
    fn sessions_open_beat_and_close() {
        let mut w = desktop();
        assert!(apply_session(
            &mut w,
            SessionChange::Started,
            &sid("s1"),
            t(10)
        ));
        assert!(apply_session(
            &mut w,
            SessionChange::Heartbeat,
            &sid("s1"),
            t(15)
        ));
        assert_eq!(w.sessions[0].last_heartbeat_at, t(15));
        assert!(has_live_session(&w, &policy(), t(24)));
        assert!(
            !has_live_session(&w, &policy(), t(26)),
            "no heartbeat for > 10 min"
        );
        assert!(apply_session(
            &mut w,
            SessionChange::Ended,
            &sid("s1"),
            t(20)
        ));
        assert!(w.sessions.is_empty());
        assert_eq!(w.last_activity_at, Some(t(20)));
        // A late heartbeat of an ended session does not revive it.
        apply_session(&mut w, SessionChange::Heartbeat, &sid("s1"), t(18));
        assert!(w.sessions.is_empty());
        // A replayed event changes nothing.
        assert!(!apply_session(
            &mut w,
            SessionChange::Ended,
            &sid("s1"),
            t(20)
        ));
    }

    #[test]
    fn any_order_and_any_repetition_gives_the_same_record() {
        let events = [
            (SessionChange::Started, "s1", 10),
            (SessionChange::Heartbeat, "s1", 14),
            (SessionChange::Started, "s2", 12),
            (SessionChange::Heartbeat, "s2", 20),
            (SessionChange::Ended, "s1", 25),
            (SessionChange::Heartbeat, "s2", 30),
            (SessionChange::Heartbeat, "s3", 31), // its start was lost
        ];
        let reference = {
            let mut w = desktop();
            for (c, s, m) in events {
                apply_session(&mut w, c, &sid(s), t(m));
            }
            w
        };
        assert_eq!(
            reference
                .sessions
                .iter()
                .map(|s| s.session_id.as_str())
                .collect::<Vec<_>>(),
            ["s2", "s3"]
        );
        // Every rotation and its reverse, each event delivered three times.
        for shift in 0..events.len() {
            for reverse in [false, true] {
                let mut order: Vec<_> = events
                    .iter()
                    .cycle()
                    .skip(shift)
                    .take(events.len())
                    .collect();
                if reverse {
                    order.reverse();
                }
                let mut w = desktop();
                for _ in 0..3 {
                    for (c, s, m) in &order {
                        apply_session(&mut w, *c, &sid(s), t(*m));
                    }
                }
                assert_eq!(w, reference, "shift {shift}, reverse {reverse}");
            }
        }
    }

    #[test]
    fn ended_sessions_are_bounded() {
        let mut w = desktop();
        for i in 0..(ENDED_SESSIONS_KEPT as i64 + 10) {
            apply_session(&mut w, SessionChange::Ended, &sid(&format!("s{i}")), t(i));
        }
        assert_eq!(w.ended_sessions.len(), ENDED_SESSIONS_KEPT);
        assert_eq!(
            w.ended_sessions[0].ended_at,
            t(ENDED_SESSIONS_KEPT as i64 + 9)
        );
    }

    #[test]
    fn idle_stop_conditions() {
        let p = policy();
        let w = desktop();
        assert_eq!(
            idle_decision(&w, &p, t(10)),
            IdleDecision::Keep(KeepReason::StartGrace { until: t(15) })
        );
        assert_eq!(
            idle_decision(&w, &p, t(59)),
            IdleDecision::Keep(KeepReason::NotIdleLongEnough { until: t(60) })
        );
        assert_eq!(
            idle_decision(&w, &p, t(60)),
            IdleDecision::Stop { idle_since: t(0) }
        );

        let mut busy = desktop();
        apply_session(&mut busy, SessionChange::Started, &sid("s1"), t(50));
        assert_eq!(
            idle_decision(&busy, &p, t(55)),
            IdleDecision::Keep(KeepReason::LiveSession)
        );
        // Heartbeats stopped at 50: the session is over at 60, idle counts from 50.
        assert_eq!(
            idle_decision(&busy, &p, t(100)),
            IdleDecision::Keep(KeepReason::NotIdleLongEnough { until: t(110) })
        );
        assert_eq!(
            idle_decision(&busy, &p, t(110)),
            IdleDecision::Stop { idle_since: t(50) }
        );

        let mut leased = desktop();
        leased.lease_until = Some(t(120));
        assert_eq!(
            idle_decision(&leased, &p, t(100)),
            IdleDecision::Keep(KeepReason::Leased { until: t(120) })
        );
        assert_eq!(
            idle_decision(&leased, &p, t(150)),
            IdleDecision::Keep(KeepReason::NotIdleLongEnough { until: t(180) })
        );

        let mut other = desktop();
        other.running_mode = RunningMode::AlwaysOn;
        assert_eq!(
            idle_decision(&other, &p, t(500)),
            IdleDecision::Keep(KeepReason::NotManual)
        );
        let mut stopped = desktop();
        stopped.state = WorkspaceState::Stopped;
        assert_eq!(
            idle_decision(&stopped, &p, t(500)),
            IdleDecision::Keep(KeepReason::NotAvailable(WorkspaceState::Stopped))
        );
        let mut unknown = desktop();
        unknown.available_since = None;
        assert_eq!(
            idle_decision(&unknown, &p, t(500)),
            IdleDecision::Keep(KeepReason::AvailableSinceUnknown)
        );
    }

    #[test]
    fn guard_thresholds() {
        let p = policy();
        let h = |hours: i64| t(hours * 60);
        let idle = desktop();
        assert_eq!(
            guard_decision(&idle, &p, h(45)),
            GuardDecision::Fine {
                age_minutes: 45 * 60
            }
        );
        assert_eq!(
            guard_decision(&idle, &p, h(46)),
            GuardDecision::StopIdle {
                age_minutes: 46 * 60
            }
        );

        let mut busy = desktop();
        apply_session(&mut busy, SessionChange::Heartbeat, &sid("s1"), h(46));
        assert_eq!(
            guard_decision(&busy, &p, h(46)),
            GuardDecision::Warn {
                age_minutes: 46 * 60
            }
        );
        busy.guard_warned_at = Some(h(46));
        apply_session(&mut busy, SessionChange::Heartbeat, &sid("s1"), h(47));
        assert_eq!(
            guard_decision(&busy, &p, h(47)),
            GuardDecision::AlreadyWarned {
                age_minutes: 47 * 60
            }
        );
        let hard = t(47 * 60 + 30);
        apply_session(&mut busy, SessionChange::Heartbeat, &sid("s1"), hard);
        assert_eq!(
            guard_decision(&busy, &p, hard),
            GuardDecision::HardLimitStop {
                age_minutes: 47 * 60 + 30
            }
        );
        let warn_only = PowerPolicy {
            guard_hard_limit_action: GuardHardLimitAction::WarnOnly,
            ..p.clone()
        };
        assert_eq!(
            guard_decision(&busy, &warn_only, hard),
            GuardDecision::AlreadyWarned {
                age_minutes: 47 * 60 + 30
            }
        );
        // A warning from an earlier AVAILABLE period does not count for this one.
        let mut again = busy.clone();
        again.available_since = Some(h(1));
        again.guard_warned_at = Some(t(0));
        apply_session(&mut again, SessionChange::Heartbeat, &sid("s1"), h(47));
        assert_eq!(
            guard_decision(&again, &p, h(47)),
            GuardDecision::Warn {
                age_minutes: 46 * 60
            }
        );

        let mut leased = desktop();
        leased.lease_until = Some(h(50));
        assert_eq!(
            guard_decision(&leased, &p, h(46)),
            GuardDecision::Warn {
                age_minutes: 46 * 60
            }
        );
        let mut stopped = desktop();
        stopped.state = WorkspaceState::Stopped;
        assert_eq!(
            guard_decision(&stopped, &p, h(47)),
            GuardDecision::NotApplicable
        );
    }

    #[test]
    fn start_and_stop_requests() {
        let mut w = desktop();
        w.state = WorkspaceState::Stopped;
        assert_eq!(
            start_decision(&w, t(10), Some(60)),
            StartDecision::Start {
                lease_until: Some(t(70))
            }
        );
        w.state = WorkspaceState::Available;
        w.lease_until = Some(t(100));
        assert_eq!(
            start_decision(&w, t(10), Some(60)),
            StartDecision::ExtendLease {
                lease_until: Some(t(100))
            },
            "a lease only grows"
        );
        w.last_power_request_at = Some(t(20));
        assert_eq!(start_decision(&w, t(10), None), StartDecision::Superseded);
        assert_eq!(stop_decision(&w, t(15)), StopDecision::Superseded);
        assert_eq!(stop_decision(&w, t(25)), StopDecision::Stop);
        w.state = WorkspaceState::Rebooting;
        assert_eq!(
            start_decision(&w, t(30), None),
            StartDecision::NotStartable(WorkspaceState::Rebooting)
        );
        assert_eq!(
            stop_decision(&w, t(30)),
            StopDecision::NotStoppable(WorkspaceState::Rebooting)
        );
        w.state = WorkspaceState::Stopping;
        assert_eq!(stop_decision(&w, t(30)), StopDecision::AlreadyStopped);
    }

    #[test]
    fn a_stop_mark_closes_the_period_and_its_undo_puts_the_record_back() {
        let mut before = desktop();
        before.guard_warned_at = Some(t(50));
        before.lease_until = Some(t(90));
        before.available_since_uncertainty_seconds = 120;
        let mut marked = before.clone();
        marked.last_power_request_at = Some(t(59));
        mark_stopping(&mut marked, t(60), Some("evt-1".into()));
        assert_eq!(marked.state, WorkspaceState::Stopping);
        assert_eq!(marked.state_observed_at, t(60));
        let call = marked.last_call.clone().unwrap();
        assert_eq!(call.action, StewardAction::Stop);
        assert_eq!(call.at, t(60));
        assert_eq!(call.event_id.as_deref(), Some("evt-1"));
        assert_eq!(marked.available_since, None);
        assert_eq!(marked.available_since_source, None);
        assert_eq!(marked.available_since_uncertainty_seconds, 0);
        assert_eq!(marked.guard_warned_at, None);
        assert_eq!(marked.lease_until, None);

        // The store bumps the version on the write; the undo writes over that version.
        marked.version = before.version + 1;
        let back = unmark_stopping(&marked, &before);
        assert_eq!(back.version, marked.version);
        assert_eq!(back.last_power_request_at, Some(t(59)));
        let mut expected = before.clone();
        expected.version = marked.version;
        expected.last_power_request_at = Some(t(59));
        assert_eq!(back, expected);
    }
}
