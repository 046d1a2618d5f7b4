//! What a sweep asks of each desktop, decided before any I/O: the pure policy's answer
//! ([`decide`]), the one write it needs ([`Plan`]), and what that write amounts to once the
//! store has answered ([`effect`]).

use chrono::Duration;
use steward_shared::model::{PowerPolicy, Timestamp, WorkspaceRecord};
use steward_shared::power::{
    GuardDecision, IdleDecision, guard_decision, idle_decision, mark_stopping,
};
use steward_shared::reconcile::{AvailablePeriod, Drift, Reconciled, Settled};

use crate::power::SweepKind;

/// What the policy asks of one desktop.
pub(super) enum Decision {
    Keep,
    Warn { age_minutes: i64 },
    Stop { reason: String, hard_limit: bool },
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
    /// `current` plus the decision's mark (warned, stopping), when there is anything to write.
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
            record: current,
            drift,
            closed,
            settled,
            ..
        } = reconciled;
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
            Decision::Keep | Decision::Stop { .. } => changed.then(|| current.clone()),
        };
        Self {
            before,
            current,
            changed,
            drift,
            closed,
            settled,
            decision,
            write,
        }
    }
}

/// A stop to make: the desktop as reconciled, as written with its stop mark, and why.
pub(super) struct Stop {
    pub(super) before: WorkspaceRecord,
    pub(super) written: WorkspaceRecord,
    pub(super) reason: String,
    pub(super) hard_limit: bool,
}

/// What a desktop's write (or its absence) amounts to.
pub(super) enum Effect {
    None,
    Warned { reason: String },
    WouldStop { reason: String },
    Stop(Box<Stop>),
}

/// The policy's answer for one desktop, with the reason its action will carry.
pub(super) fn decide(
    current: &WorkspaceRecord,
    kind: SweepKind,
    policy: &PowerPolicy,
    now: Timestamp,
) -> Decision {
    match kind {
        SweepKind::Idle => match idle_decision(current, policy, now) {
            IdleDecision::Stop { idle_since } => Decision::Stop {
                reason: format!(
                    "idle since {} (timeout {} min)",
                    idle_since.to_rfc3339(),
                    policy.idle_timeout_minutes
                ),
                hard_limit: false,
            },
            IdleDecision::Keep(_) => Decision::Keep,
        },
        SweepKind::Guard => match guard_decision(current, policy, now) {
            GuardDecision::StopIdle { age_minutes } => Decision::Stop {
                reason: format!(
                    "guard: AVAILABLE {age_minutes} min (threshold {}) with no live session",
                    policy.guard_threshold_minutes
                ),
                hard_limit: false,
            },
            GuardDecision::HardLimitStop { age_minutes } => Decision::Stop {
                reason: format!(
                    "guard hard limit: AVAILABLE {age_minutes} min (limit {}) with a live session; stopped before the service's forced stop",
                    policy.guard_hard_limit_minutes
                ),
                hard_limit: true,
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
        (Decision::Stop { reason, hard_limit }, Some(w)) => Effect::Stop(Box::new(Stop {
            before: current,
            written: w,
            reason,
            hard_limit,
        })),
        (Decision::Warn { .. } | Decision::Stop { .. }, None) => Effect::None,
    }
}
