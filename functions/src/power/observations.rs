//! What reconciliation saw, as the partner hears it: drift (a change Steward did not cause)
//! and completions (a call Steward made reached its end).
//!
//! ## Completions
//!
//! Reconciliation ([`steward_shared::reconcile`]) settles a pending call when it sees the
//! call's end state (or another resting state, or nothing in time). Whoever reconciled —
//! the idle or guard sweep, or a start or stop request that described the desktop first —
//! records the settlement here, once: the record's write that settles the call is
//! conditional on its version, so a concurrent observer that loses the race records nothing.
//!
//! | call | ended as asked | came to rest elsewhere / no end in time |
//! |---|---|---|
//! | start | `Desktop Available` (how long the start took) | `Desktop Power Action Failed` |
//! | stop | `Desktop Stopped` | `Desktop Power Action Failed` |
//! | lifecycle operation | `Lifecycle Operation Completed` | `Lifecycle Operation Failed` |
//!
//! The old desktop of a migration settles silently: the new one reports the migration.

use serde_json::json;
use steward_shared::error::names;
use steward_shared::model::{AuditOutcome, PowerPolicy, StewardAction, WorkspaceRecord};
use steward_shared::reconcile::Drift;
use steward_shared::reconcile::{CallOutcome, Settled};

use crate::record::{ActionName, failed, outbound_types as ot};

/// What to record for one settled call: the parts of an [`Action`](crate::record::Action)
/// that depend on the call.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub action: ActionName,
    pub reason: String,
    pub outcome: AuditOutcome,
    pub detail_type: &'static str,
    pub details: serde_json::Value,
}

/// The completion record of `settled`, or `None` when it is reported elsewhere.
pub fn completion(settled: &Settled) -> Option<Completion> {
    let call = &settled.call;
    let action = call.action;
    if action == StewardAction::MigrateSource {
        return None;
    }
    let (state, ok, why) = match settled.outcome {
        CallOutcome::Completed { state } => (state, true, String::new()),
        CallOutcome::Failed { state } => (
            state,
            false,
            format!("it came to rest in {} instead", state.as_str()),
        ),
        CallOutcome::TimedOut { state } => (
            state,
            false,
            format!(
                "no end state within {} min (it is {})",
                steward_shared::model::StewardCall::PATIENCE_MINUTES,
                state.as_str()
            ),
        ),
    };
    let took = settled.took_at_most_seconds();
    let uncertainty = settled.uncertainty_seconds();
    let details = json!({
        "operation": action.as_str(),
        "requestedAt": call.at,
        "requestEventId": call.event_id,
        "observedAt": settled.observed_at,
        "state": state.as_str(),
        "tookAtMostSeconds": took,
        "uncertaintySeconds": uncertainty,
    });
    let by = match &call.event_id {
        Some(id) => format!("requested by event {id}"),
        None => "decided by Steward".to_owned(),
    };
    let timing = format!(
        "seen {took} s after the call; it got there up to {uncertainty} s before it was seen"
    );
    let done = |action: ActionName, detail_type: &'static str, what: &str| Completion {
        action,
        reason: format!(
            "{what}: Steward's {} call at {} ({by}); {timing}",
            call.action.as_str(),
            call.at.to_rfc3339()
        ),
        outcome: AuditOutcome::Succeeded,
        detail_type,
        details: details.clone(),
    };
    let fail = |action: ActionName, detail_type: &'static str| Completion {
        action,
        reason: format!(
            "Steward's {} call at {} ({by}) did not complete: {why}",
            call.action.as_str(),
            call.at.to_rfc3339()
        ),
        outcome: failed(names::OPERATION_FAILED, why.clone()),
        detail_type,
        details: details.clone(),
    };
    Some(match (action, ok) {
        (StewardAction::Start, true) => {
            done(ActionName::Available, ot::DESKTOP_AVAILABLE, "AVAILABLE")
        }
        (StewardAction::Stop, true) => done(ActionName::Stopped, ot::DESKTOP_STOPPED, "STOPPED"),
        (StewardAction::Start, false) => fail(ActionName::Start, ot::DESKTOP_POWER_FAILED),
        (StewardAction::Stop, false) => fail(ActionName::Stop, ot::DESKTOP_POWER_FAILED),
        (_, true) => done(
            ActionName::OperationCompleted,
            ot::LIFECYCLE_OPERATION_COMPLETED,
            &format!("{} completed ({})", action.as_str(), state.as_str()),
        ),
        (_, false) => fail(ActionName::OperationFailed, ot::LIFECYCLE_OPERATION_FAILED),
    })
}

/// The audit reason of a drift: what happened, between which states, and for a desktop found
/// running, from when its usage counts and how the idle rule now governs it.
pub fn drift_reason(
    d: Drift,
    before: &WorkspaceRecord,
    current: &WorkspaceRecord,
    policy: &PowerPolicy,
) -> String {
    let what = match d {
        Drift::ForcedStopSuspected => {
            "stopped by the service after its forced-stop time (48 h [U])"
        }
        Drift::StoppedOutsideSteward => "stopped outside Steward",
        Drift::StartedOutsideSteward => "started outside Steward",
        Drift::MaintenanceStarted => "entered the maintenance window",
        Drift::RunningModeChanged => "its running mode changed outside Steward",
        Drift::Terminated => "terminated outside Steward",
    };
    let mut reason = format!(
        "{what} ({} → {})",
        before.state.as_str(),
        current.state.as_str()
    );
    if d == Drift::StartedOutsideSteward
        && let Some(since) = current.available_since
    {
        reason.push_str(&format!(
            "; usage counted from {} (up to {} s later), idle stop after a {} min start grace and {} min idle",
            since.to_rfc3339(),
            current.available_since_uncertainty_seconds,
            policy.start_grace_minutes,
            policy.idle_timeout_minutes
        ));
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Duration};
    use steward_shared::model::{StewardCall, WorkspaceState};

    fn t(m: i64) -> chrono::DateTime<chrono::Utc> {
        DateTime::parse_from_rfc3339("2026-11-21T00:00:00Z")
            .unwrap()
            .to_utc()
            + Duration::minutes(m)
    }

    fn settled(action: StewardAction, outcome: CallOutcome) -> Settled {
        Settled {
            call: StewardCall::new(action, t(0), Some("evt-9".into())),
            outcome,
            earliest: t(5),
            observed_at: t(10),
        }
    }

    #[test]
    fn each_call_gets_its_own_completion() {
        let ok = CallOutcome::Completed {
            state: WorkspaceState::Available,
        };
        let c = completion(&settled(StewardAction::Start, ok)).unwrap();
        assert_eq!(c.detail_type, ot::DESKTOP_AVAILABLE);
        assert_eq!(c.action, ActionName::Available);
        assert_eq!(c.details["tookAtMostSeconds"], 600);
        assert_eq!(c.details["uncertaintySeconds"], 300);
        assert_eq!(c.details["requestEventId"], "evt-9");
        assert!(
            c.reason.contains("requested by event evt-9"),
            "{}",
            c.reason
        );

        let stopped = CallOutcome::Completed {
            state: WorkspaceState::Stopped,
        };
        let c = completion(&settled(StewardAction::Stop, stopped)).unwrap();
        assert_eq!(c.detail_type, ot::DESKTOP_STOPPED);

        let c = completion(&settled(StewardAction::Rebuild, ok)).unwrap();
        assert_eq!(c.detail_type, ot::LIFECYCLE_OPERATION_COMPLETED);
        assert_eq!(c.details["operation"], "rebuild");

        let err = CallOutcome::Failed {
            state: WorkspaceState::Error,
        };
        let c = completion(&settled(StewardAction::Restore, err)).unwrap();
        assert_eq!(c.detail_type, ot::LIFECYCLE_OPERATION_FAILED);
        assert!(matches!(c.outcome, AuditOutcome::Failed { .. }));
        assert!(c.reason.contains("came to rest in ERROR"), "{}", c.reason);

        let c = completion(&settled(StewardAction::Start, err)).unwrap();
        assert_eq!(c.detail_type, ot::DESKTOP_POWER_FAILED);

        assert!(completion(&settled(StewardAction::MigrateSource, ok)).is_none());
    }
}
