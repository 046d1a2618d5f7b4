//! What a sweep asks of each desktop, decided before any I/O: the pure policy's answer, or
//! the power plan's verdict in its place ([`decide`]), the one write it needs ([`Plan`]),
//! and what that write amounts to once the store has answered ([`effect`]).

use chrono::Duration;
use serde_json::{Value, json};
use steward_shared::model::{
    LeaseSource, PowerPolicy, StewardAction, StewardCall, Timestamp, WorkspaceRecord,
    WorkspaceState,
};
use steward_shared::plans::StartReason;
use steward_shared::power::{
    GuardDecision, IdleDecision, guard_decision, idle_decision, mark_stopping,
};
use steward_shared::reconcile::{AvailablePeriod, Drift, Reconciled, Settled};

use crate::plans::govern::Verdict;
use crate::power::SweepKind;
use crate::record::ActionName;

/// What the policy (or the plan) asks of one desktop.
pub(super) enum Decision {
    Keep,
    Warn {
        age_minutes: i64,
    },
    Stop {
        reason: String,
        /// `stop`, `hard_limit_stop` or `drain`.
        action: ActionName,
        details: Option<Value>,
    },
    /// A plan's start (pre-warm, buffer, override).
    Start {
        reason: String,
        action: ActionName,
        details: Value,
    },
    /// A window closed on a live session: warn it once.
    DrainWarn {
        reason: String,
        details: Value,
    },
}

/// One desktop's reconciliation and decision, and the one write they need (if any), all
/// decided before any I/O.
pub(super) struct Plan<'r> {
    pub(super) before: &'r WorkspaceRecord,
    /// The record as reconciliation left it.
    pub(super) current: WorkspaceRecord,
    /// Whether reconciliation learnt more than the observation time.
    pub(super) changed: bool,
    pub(super) drift: Vec<Drift>,
    pub(super) closed: Option<AvailablePeriod>,
    pub(super) settled: Option<Settled>,
    pub(super) decision: Decision,
    /// A keep-alive whose end this sweep records (who asked for it, when it ended).
    pub(super) lease_ended: Option<(LeaseSource, Timestamp)>,
    /// `current` plus the decision's mark (warned, stopping, starting), when there is
    /// anything to write.
    pub(super) write: Option<WorkspaceRecord>,
}

impl<'r> Plan<'r> {
    pub(super) fn new(
        before: &'r WorkspaceRecord,
        reconciled: Reconciled,
        decision: Decision,
        dry_run: bool,
        now: Timestamp,
    ) -> Self {
        let Reconciled {
            record: mut current,
            drift,
            closed,
            settled,
            ..
        } = reconciled;
        let lease_ended = match (current.lease_source, current.lease_until) {
            (Some(source), Some(until)) if until <= now => {
                current.lease_source = None;
                Some((source, until))
            }
            _ => None,
        };
        let mut unchanged = current.clone();
        unchanged.state_observed_at = before.state_observed_at;
        let changed = unchanged != *before;
        let write = match &decision {
            Decision::Warn { .. } => {
                let mut warned = current.clone();
                warned.guard_warned_at = Some(now);
                Some(warned)
            }
            Decision::Stop { .. } if !dry_run => {
                let mut stopping = current.clone();
                mark_stopping(&mut stopping, now, None);
                Some(stopping)
            }
            Decision::Start { .. } if !dry_run => {
                let mut starting = current.clone();
                starting.state = WorkspaceState::Starting;
                starting.state_observed_at = now;
                starting.last_call = Some(StewardCall::new(StewardAction::Start, now, None));
                starting.guard_warned_at = None;
                starting.drain_warned_at = None;
                Some(starting)
            }
            Decision::DrainWarn { .. } => {
                let mut warned = current.clone();
                warned.drain_warned_at = Some(now);
                Some(warned)
            }
            Decision::Keep | Decision::Stop { .. } | Decision::Start { .. } => {
                changed.then(|| current.clone())
            }
        };
        Self {
            before,
            current,
            changed,
            drift,
            closed,
            settled,
            decision,
            lease_ended,
            write,
        }
    }
}

/// A stop or start to make: the desktop as reconciled, as written with its mark, and why.
pub(super) struct Call {
    pub(super) before: WorkspaceRecord,
    pub(super) written: WorkspaceRecord,
    pub(super) reason: String,
    pub(super) action: ActionName,
    pub(super) details: Option<Value>,
}

/// What a desktop's write (or its absence) amounts to.
pub(super) enum Effect {
    None,
    Warned { reason: String },
    DrainWarned { reason: String, details: Value },
    WouldStop { reason: String },
    Stop(Box<Call>),
    Start(Box<Call>),
}

/// The plan's verdict on a desktop as the sweep's decision; `None`: the idle rule decides.
fn from_verdict(verdict: &Verdict, current: &WorkspaceRecord) -> Option<Decision> {
    match verdict {
        Verdict::Hold => Some(Decision::Keep),
        Verdict::Start {
            reason,
            scope,
            opens_at,
        } if current.state == WorkspaceState::Stopped => {
            let (action, why) = match reason {
                StartReason::Prewarm => (ActionName::Prewarm, "pre-warmed for the window"),
                StartReason::Buffer => (ActionName::Buffer, "warm capacity of the open window"),
                StartReason::Override => (ActionName::Buffer, "warm capacity of the override"),
            };
            let when =
                opens_at.map_or_else(String::new, |t| format!(" opening {}", t.to_rfc3339()));
            Some(Decision::Start {
                reason: format!("{scope}: {why}{when}"),
                action,
                details: json!({"scope": scope, "opensAt": opens_at}),
            })
        }
        Verdict::Start { .. } => None,
        Verdict::DrainStop { scope, closed_at } => Some(Decision::Stop {
            reason: format!(
                "{scope}: drained, the window closed at {}",
                closed_at.to_rfc3339()
            ),
            action: ActionName::Drain,
            details: Some(json!({"scope": scope, "closedAt": closed_at})),
        }),
        Verdict::DrainWarn {
            scope,
            closed_at,
            stops_at,
        } => Some(Decision::DrainWarn {
            reason: match stops_at {
                Some(t) => format!(
                    "{scope}: the window closed at {} with a live session; stopped at {}",
                    closed_at.to_rfc3339(),
                    t.to_rfc3339()
                ),
                None => format!(
                    "{scope}: the window closed at {} with a live session; kept until its user leaves",
                    closed_at.to_rfc3339()
                ),
            },
            details: json!({"scope": scope, "closedAt": closed_at, "stopsAt": stops_at}),
        }),
    }
}

/// The plan's verdict (when the desktop has one the sweep can act on), else the policy's
/// answer for one desktop, with the reason its action will carry.
pub(super) fn decide(
    current: &WorkspaceRecord,
    kind: SweepKind,
    policy: &PowerPolicy,
    verdict: Option<&Verdict>,
    now: Timestamp,
) -> Decision {
    if let Some(d) = verdict.and_then(|v| from_verdict(v, current)) {
        return d;
    }
    match kind {
        SweepKind::Idle => match idle_decision(current, policy, now) {
            IdleDecision::Stop { idle_since } => Decision::Stop {
                reason: format!(
                    "idle since {} (timeout {} min)",
                    idle_since.to_rfc3339(),
                    policy.idle_timeout_minutes
                ),
                action: ActionName::Stop,
                details: None,
            },
            IdleDecision::Keep(_) => Decision::Keep,
        },
        SweepKind::Guard => match guard_decision(current, policy, now) {
            GuardDecision::StopIdle { age_minutes } => Decision::Stop {
                reason: format!(
                    "guard: AVAILABLE {age_minutes} min (threshold {}) with no live session",
                    policy.guard_threshold_minutes
                ),
                action: ActionName::Stop,
                details: None,
            },
            GuardDecision::HardLimitStop { age_minutes } => Decision::Stop {
                reason: format!(
                    "guard hard limit: AVAILABLE {age_minutes} min (limit {}) with a live session; stopped before the service's forced stop",
                    policy.guard_hard_limit_minutes
                ),
                action: ActionName::HardLimitStop,
                details: None,
            },
            GuardDecision::Warn { age_minutes } => Decision::Warn { age_minutes },
            GuardDecision::NotApplicable
            | GuardDecision::Fine { .. }
            | GuardDecision::AlreadyWarned { .. } => Decision::Keep,
        },
    }
}

/// What `decision` amounts to, now that the store answered the plan's write: `stored` is the
/// record as written (`None` when nothing was written). A warning or a stop is always
/// written first, so without a write there is nothing to do; a dry run only says it would
/// stop.
pub(super) fn effect(
    decision: Decision,
    current: WorkspaceRecord,
    stored: Option<WorkspaceRecord>,
    policy: &PowerPolicy,
) -> Effect {
    match (decision, stored) {
        (Decision::Keep, _) => Effect::None,
        (Decision::Warn { age_minutes }, Some(_)) => {
            let forced_at = current
                .available_since
                .map(|s| s + Duration::minutes(i64::from(policy.service_forced_stop_minutes)));
            Effect::Warned {
                reason: format!(
                    "AVAILABLE {age_minutes} min with a live session; the service stops it at {}",
                    forced_at.map_or_else(|| "an unknown time".to_owned(), |t| t.to_rfc3339())
                ),
            }
        }
        (Decision::Stop { reason, .. }, _) if policy.dry_run => Effect::WouldStop { reason },
        (Decision::Start { .. }, _) if policy.dry_run => Effect::None,
        (
            Decision::Stop {
                reason,
                action,
                details,
            },
            Some(w),
        ) => Effect::Stop(Box::new(Call {
            before: current,
            written: w,
            reason,
            action,
            details,
        })),
        (
            Decision::Start {
                reason,
                action,
                details,
            },
            Some(w),
        ) => Effect::Start(Box::new(Call {
            before: current,
            written: w,
            reason,
            action,
            details: Some(details),
        })),
        (Decision::DrainWarn { reason, details }, Some(_)) => {
            Effect::DrainWarned { reason, details }
        }
        (
            Decision::Warn { .. }
            | Decision::Stop { .. }
            | Decision::Start { .. }
            | Decision::DrainWarn { .. },
            None,
        ) => Effect::None,
    }
}
