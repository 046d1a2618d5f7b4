//! Warm capacity and drain: which of a group's desktops the sweep starts, keeps up and
//! stops, given where the group is in its plan.
//!
//! The buffer is counted in *free* desktops (in a pool: neither assigned nor releasing; in
//! the tenant group: without a live session), because those are what a user arriving at
//! the opening minute can get. During an opening, and in the pre-warm lead before it, the
//! plan's buffer is kept started; outside them it is zero and the idle rule stops free
//! desktops. An active override's buffer replaces the plan's whatever the phase, since an
//! override exists to say "now, regardless of the schedule".
//!
//! At a window's end the desktops that were up in it are drained: idle ones are stopped at
//! once, those with a live session are warned once and stopped after the grace (never, with
//! `keepSessions`). A desktop that came up after the close, or whose lease is kept, is left
//! to the idle rule and the lease: the drain is about the window that ended, not about every
//! running desktop. Ties are broken by workspace id so that successive sweeps pick the same
//! desktops.

use serde::{Deserialize, Serialize};

use super::{Buffer, Drain, Phase, PlanStatus};
use crate::ids::WorkspaceId;
use crate::model::{Timestamp, WorkspaceState};

/// How many of `free` desktops a buffer keeps started: a count (at most the free ones), a
/// percentage rounded up, or none.
pub fn buffer_target(buffer: &Buffer, free: u32) -> u32 {
    if let Some(count) = buffer.count {
        return count.min(free);
    }
    match buffer.percent {
        Some(p) => {
            let wanted = (u64::from(p.min(100)) * u64::from(free)).div_ceil(100);
            u32::try_from(wanted).unwrap_or(free).min(free)
        }
        None => 0,
    }
}

/// One desktop of a group, as the decision needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDesktop {
    pub workspace_id: WorkspaceId,
    pub state: WorkspaceState,
    /// Free to be given to a user (see the module docs).
    pub free: bool,
    pub live_session: bool,
    /// The desktop's lease (a start request's or a keep-running override's) ends then.
    pub kept_until: Option<Timestamp>,
    /// When it became AVAILABLE (none: not known to be).
    pub available_since: Option<Timestamp>,
    /// When its session was last warned of a drain.
    pub drain_warned_at: Option<Timestamp>,
}

/// What the decision for one group looks at.
#[derive(Debug, Clone, Copy)]
pub struct GroupInput<'a> {
    /// The plan's status now; none: the group has no plan (only perhaps an override).
    pub status: Option<&'a PlanStatus>,
    /// The plan's buffer.
    pub buffer: Buffer,
    pub drain: Drain,
    /// The buffer of the override active now.
    pub override_buffer: Option<Buffer>,
    pub desktops: &'a [GroupDesktop],
    pub now: Timestamp,
}

/// Why the sweep starts a desktop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StartReason {
    /// Before an opening, so that it is up at the opening minute.
    Prewarm,
    /// During an opening, to refill the buffer.
    Buffer,
    /// An override's buffer.
    Override,
}

/// What the sweep does for one group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupDecision {
    /// The buffer wanted now.
    pub target: u32,
    /// Free desktops up or coming up (AVAILABLE, STARTING, PENDING).
    pub warm: u32,
    /// Free STOPPED desktops to start, and why.
    pub start: Vec<(WorkspaceId, StartReason)>,
    /// Free AVAILABLE desktops the idle rule must not stop (they are the buffer).
    pub hold: Vec<WorkspaceId>,
    /// Desktops up since before the window closed, to stop now.
    pub drain_stop: Vec<WorkspaceId>,
    /// Desktops whose live session is to be warned, with when they will be stopped (none
    /// with `keepSessions`).
    pub drain_warn: Vec<(WorkspaceId, Option<Timestamp>)>,
}

/// The buffer wanted now and why it is started, or none.
fn wanted(input: &GroupInput) -> Option<(Buffer, StartReason)> {
    if let Some(b) = input.override_buffer {
        return Some((b, StartReason::Override));
    }
    match input.status?.phase {
        Phase::Open { .. } => Some((input.buffer, StartReason::Buffer)),
        Phase::Prewarm { .. } => Some((input.buffer, StartReason::Prewarm)),
        Phase::Closed => None,
    }
}

/// The group's warm capacity and drain at `input.now` (see the module docs).
pub fn decide_group(input: &GroupInput) -> GroupDecision {
    let mut free: Vec<&GroupDesktop> = input
        .desktops
        .iter()
        .filter(|d| d.free && d.state.is_power_relevant())
        .collect();
    free.sort_by(|a, b| a.workspace_id.cmp(&b.workspace_id));
    let free_count = u32::try_from(free.len()).unwrap_or(u32::MAX);
    let (target, reason) = match wanted(input) {
        Some((buffer, reason)) => (buffer_target(&buffer, free_count), Some(reason)),
        None => (0, None),
    };
    let warm = free
        .iter()
        .filter(|d| {
            matches!(
                d.state,
                WorkspaceState::Available | WorkspaceState::Starting | WorkspaceState::Pending
            )
        })
        .count();
    let warm = u32::try_from(warm).unwrap_or(u32::MAX);
    let missing = target.saturating_sub(warm) as usize;
    let start = match reason {
        Some(reason) => free
            .iter()
            .filter(|d| d.state == WorkspaceState::Stopped)
            .take(missing)
            .map(|d| (d.workspace_id.clone(), reason))
            .collect(),
        None => Vec::new(),
    };
    let hold = free
        .iter()
        .filter(|d| d.state == WorkspaceState::Available)
        .take(target as usize)
        .map(|d| d.workspace_id.clone())
        .collect();
    let mut decision = GroupDecision {
        target,
        warm,
        start,
        hold,
        ..GroupDecision::default()
    };
    drain(input, &mut decision);
    decision
}

/// The drain after a close: only while closed, without an override, for desktops up since
/// before the last close and not kept by a lease.
fn drain(input: &GroupInput, decision: &mut GroupDecision) {
    let Some(status) = input.status else {
        return;
    };
    let (Phase::Closed, None, Some(closed_at)) =
        (status.phase, input.override_buffer, status.last_close)
    else {
        return;
    };
    let stops_at = if input.drain.keep_sessions {
        None
    } else {
        closed_at.checked_add_signed(chrono::Duration::minutes(i64::from(
            input.drain.grace_minutes,
        )))
    };
    let mut desktops: Vec<&GroupDesktop> = input
        .desktops
        .iter()
        .filter(|d| d.state == WorkspaceState::Available)
        .filter(|d| d.available_since.is_some_and(|s| s <= closed_at))
        .filter(|d| d.kept_until.is_none_or(|k| k <= input.now))
        .collect();
    desktops.sort_by(|a, b| a.workspace_id.cmp(&b.workspace_id));
    for d in desktops {
        let id = d.workspace_id.clone();
        if !d.live_session || stops_at.is_some_and(|s| input.now >= s) {
            decision.drain_stop.push(id);
        } else if d.drain_warned_at.is_none_or(|w| w < closed_at) {
            decision.drain_warn.push((id, stops_at));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn ts(s: &str) -> Timestamp {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn id(n: &str) -> WorkspaceId {
        WorkspaceId::parse(format!("ws-{n}")).unwrap()
    }

    fn desktop(n: &str, state: WorkspaceState, free: bool) -> GroupDesktop {
        GroupDesktop {
            workspace_id: id(n),
            state,
            free,
            live_session: false,
            kept_until: None,
            available_since: None,
            drain_warned_at: None,
        }
    }

    fn status(phase: Phase, last_close: Option<&str>) -> PlanStatus {
        PlanStatus {
            phase,
            next: None,
            last_close: last_close.map(ts),
            skipped: None,
        }
    }

    fn count(n: u32) -> Buffer {
        Buffer {
            count: Some(n),
            percent: None,
        }
    }

    fn percent(p: u8) -> Buffer {
        Buffer {
            count: None,
            percent: Some(p),
        }
    }

    fn input<'a>(
        status: Option<&'a PlanStatus>,
        buffer: Buffer,
        desktops: &'a [GroupDesktop],
        now: &str,
    ) -> GroupInput<'a> {
        GroupInput {
            status,
            buffer,
            drain: Drain::default(),
            override_buffer: None,
            desktops,
            now: ts(now),
        }
    }

    use WorkspaceState::{Available, Pending, Starting, Stopped, Terminated};

    #[test]
    fn buffer_targets_round_up_and_never_exceed_the_free_desktops() {
        let cases = [
            (count(5), [0, 1, 5]),
            (count(0), [0, 0, 0]),
            (percent(10), [0, 1, 1]),
            (percent(50), [0, 1, 4]),
            (percent(100), [0, 1, 7]),
            (percent(0), [0, 0, 0]),
            (percent(200), [0, 1, 7]),
            (Buffer::default(), [0, 0, 0]),
        ];
        for (buffer, want) in cases {
            let got = [0, 1, 7].map(|free| buffer_target(&buffer, free));
            assert_eq!(got, want, "{buffer:?}");
        }
        assert_eq!(buffer_target(&percent(100), u32::MAX), u32::MAX);
        assert_eq!(buffer_target(&percent(99), u32::MAX), 4_252_017_623);
    }

    #[test]
    fn prewarm_starts_the_missing_desktops_by_id() {
        let s = status(
            Phase::Prewarm {
                opens_at: ts("2026-12-01T06:00:00Z"),
            },
            Some("2026-11-30T18:00:00Z"),
        );
        let desktops = [
            desktop("e0000005", Stopped, true),
            desktop("a0000001", Stopped, true),
            desktop("c0000003", Stopped, true),
            desktop("b0000002", Starting, true),
            desktop("d0000004", Stopped, true),
            desktop("f0000006", Stopped, false),
            desktop("g0000007", Terminated, true),
        ];
        let d = decide_group(&input(
            Some(&s),
            count(3),
            &desktops,
            "2026-12-01T05:40:00Z",
        ));
        assert_eq!(
            d,
            GroupDecision {
                target: 3,
                warm: 1,
                start: vec![
                    (id("a0000001"), StartReason::Prewarm),
                    (id("c0000003"), StartReason::Prewarm)
                ],
                hold: vec![],
                drain_stop: vec![],
                drain_warn: vec![],
            }
        );
        // The percentage counts free desktops in any state but TERMINATED: 5 of them.
        let d = decide_group(&input(
            Some(&s),
            percent(60),
            &desktops,
            "2026-12-01T05:40:00Z",
        ));
        assert_eq!((d.target, d.warm, d.start.len()), (3, 1, 2));
    }

    #[test]
    fn during_an_opening_the_buffer_is_refilled_and_held() {
        let s = status(
            Phase::Open {
                closes_at: ts("2026-12-01T18:00:00Z"),
            },
            Some("2026-11-30T18:00:00Z"),
        );
        let mut taken = desktop("a0000001", Available, false);
        taken.live_session = true;
        taken.available_since = Some(ts("2026-11-30T10:00:00Z"));
        let desktops = [
            taken,
            desktop("b0000002", Available, true),
            desktop("c0000003", Stopped, true),
            desktop("d0000004", Available, true),
            desktop("e0000005", Stopped, true),
            desktop("f0000006", Pending, true),
            desktop("g0000007", Stopped, true),
        ];
        // 6 free, 50 % → 3; warm: b, d, f.
        let d = decide_group(&input(
            Some(&s),
            percent(50),
            &desktops,
            "2026-12-01T09:00:00Z",
        ));
        assert_eq!((d.target, d.warm), (3, 3));
        assert_eq!(d.start, vec![]);
        assert_eq!(d.hold, vec![id("b0000002"), id("d0000004")]);
        // A user takes b: 5 free, 50 % → 3, warm 2 → one start, the first STOPPED by id.
        let mut desktops = desktops.to_vec();
        desktops[1].free = false;
        let d = decide_group(&input(
            Some(&s),
            percent(50),
            &desktops,
            "2026-12-01T09:05:00Z",
        ));
        assert_eq!((d.target, d.warm), (3, 2));
        assert_eq!(d.start, vec![(id("c0000003"), StartReason::Buffer)]);
        assert_eq!(d.hold, vec![id("d0000004")]);
        assert_eq!((d.drain_stop.len(), d.drain_warn.len()), (0, 0));
        // A smaller buffer holds only the first AVAILABLE ones.
        desktops[1].free = true;
        let d = decide_group(&input(
            Some(&s),
            count(1),
            &desktops,
            "2026-12-01T09:05:00Z",
        ));
        assert_eq!((d.target, d.warm, d.start.len()), (1, 3, 0));
        assert_eq!(d.hold, vec![id("b0000002")]);
    }

    #[test]
    fn an_override_applies_in_any_phase_and_suspends_the_drain() {
        let closed = status(Phase::Closed, Some("2026-12-01T18:00:00Z"));
        let mut up = desktop("a0000001", Available, true);
        up.available_since = Some(ts("2026-12-01T07:00:00Z"));
        let desktops = [
            up,
            desktop("b0000002", Stopped, true),
            desktop("c0000003", Stopped, true),
        ];
        for s in [Some(&closed), None] {
            let mut i = input(s, count(5), &desktops, "2026-12-01T20:00:00Z");
            i.override_buffer = Some(count(2));
            let d = decide_group(&i);
            assert_eq!(
                d,
                GroupDecision {
                    target: 2,
                    warm: 1,
                    start: vec![(id("b0000002"), StartReason::Override)],
                    hold: vec![id("a0000001")],
                    drain_stop: vec![],
                    drain_warn: vec![],
                }
            );
        }
        // Without a plan or an override nothing is kept, started or drained.
        let d = decide_group(&input(None, count(5), &desktops, "2026-12-01T20:00:00Z"));
        assert_eq!(
            d,
            GroupDecision {
                warm: 1,
                ..GroupDecision::default()
            }
        );
    }

    fn drain_desktops() -> Vec<GroupDesktop> {
        let before = Some(ts("2026-12-01T09:00:00Z"));
        let mk = |n: &str, session: bool| {
            let mut d = desktop(n, Available, !session);
            d.live_session = session;
            d.available_since = before;
            d
        };
        let idle = mk("a0000001", false);
        let session = mk("b0000002", true);
        let mut warned = mk("c0000003", true);
        warned.drain_warned_at = Some(ts("2026-12-01T18:00:00Z"));
        let mut late = mk("d0000004", false);
        late.available_since = Some(ts("2026-12-01T18:00:01Z"));
        let mut kept = mk("e0000005", false);
        kept.kept_until = Some(ts("2026-12-01T19:00:00Z"));
        let mut stopped = mk("f0000006", false);
        stopped.state = Stopped;
        let mut warned_yesterday = mk("g0000007", true);
        warned_yesterday.drain_warned_at = Some(ts("2026-11-30T18:00:00Z"));
        let mut unknown = mk("h0000008", false);
        unknown.available_since = None;
        vec![
            idle,
            session,
            warned,
            late,
            kept,
            stopped,
            warned_yesterday,
            unknown,
        ]
    }

    #[test]
    fn the_drain_stops_idle_desktops_and_warns_sessions_once() {
        let s = status(Phase::Closed, Some("2026-12-01T18:00:00Z"));
        let desktops = drain_desktops();
        let d = decide_group(&input(
            Some(&s),
            count(2),
            &desktops,
            "2026-12-01T18:05:00Z",
        ));
        let stops_at = Some(ts("2026-12-01T18:30:00Z"));
        assert_eq!((d.target, d.start.len(), d.hold.len()), (0, 0, 0));
        assert_eq!(d.drain_stop, vec![id("a0000001")]);
        assert_eq!(
            d.drain_warn,
            vec![(id("b0000002"), stops_at), (id("g0000007"), stops_at)]
        );
        // The lease has run out at 19:00 (kept only while lease_until > now).
        let d = decide_group(&input(
            Some(&s),
            count(2),
            &desktops,
            "2026-12-01T19:00:00Z",
        ));
        assert_eq!(
            d.drain_stop,
            vec![
                id("a0000001"),
                id("b0000002"),
                id("c0000003"),
                id("e0000005"),
                id("g0000007")
            ]
        );
        assert_eq!(d.drain_warn, vec![]);
        // Just before the grace ends, sessions are not stopped yet.
        let d = decide_group(&input(
            Some(&s),
            count(2),
            &desktops,
            "2026-12-01T18:29:59Z",
        ));
        assert_eq!(d.drain_stop, vec![id("a0000001")]);
        let d = decide_group(&input(
            Some(&s),
            count(2),
            &desktops,
            "2026-12-01T18:30:00Z",
        ));
        assert_eq!(
            d.drain_stop,
            vec![
                id("a0000001"),
                id("b0000002"),
                id("c0000003"),
                id("g0000007")
            ]
        );
        assert_eq!(d.drain_warn, vec![]);
    }

    #[test]
    fn keep_sessions_warns_without_a_stop_time_and_never_stops_a_session() {
        let s = status(Phase::Closed, Some("2026-12-01T18:00:00Z"));
        let desktops = drain_desktops();
        let mut i = input(Some(&s), count(2), &desktops, "2026-12-01T18:05:00Z");
        i.drain = Drain {
            grace_minutes: 10,
            keep_sessions: true,
        };
        let d = decide_group(&i);
        assert_eq!(d.drain_stop, vec![id("a0000001")]);
        assert_eq!(
            d.drain_warn,
            vec![(id("b0000002"), None), (id("g0000007"), None)]
        );
        i.now = ts("2026-12-02T05:00:00Z");
        let d = decide_group(&i);
        assert_eq!(d.drain_stop, vec![id("a0000001"), id("e0000005")]);
        // A shorter grace without keepSessions.
        i.drain.keep_sessions = false;
        i.now = ts("2026-12-01T18:05:00Z");
        let d = decide_group(&i);
        let stops_at = Some(ts("2026-12-01T18:10:00Z"));
        assert_eq!(
            d.drain_warn,
            vec![(id("b0000002"), stops_at), (id("g0000007"), stops_at)]
        );
    }

    #[test]
    fn no_drain_while_open_or_before_any_close() {
        let desktops = drain_desktops();
        let open = status(
            Phase::Open {
                closes_at: ts("2026-12-02T18:00:00Z"),
            },
            Some("2026-12-01T18:00:00Z"),
        );
        let never_closed = status(Phase::Closed, None);
        for s in [&open, &never_closed] {
            let d = decide_group(&input(
                Some(s),
                Buffer::default(),
                &desktops,
                "2026-12-02T07:00:00Z",
            ));
            assert_eq!((d.drain_stop.len(), d.drain_warn.len()), (0, 0), "{s:?}");
        }
    }
}
