//! A start or stop request's view of its desktop: the record brought in line with one
//! DescribeWorkspaces call, so the request acts on the service, not on the cache.
//!
//! The table's state can be hours old: the customer may have started a STOPPED desktop from
//! the console since the last sweep. Deciding on it would answer "already stopped" for a
//! running desktop. So a request describes the desktop first (one call more than acting on
//! the cache) and reconciles it exactly as a sweep would: drift is recorded with the
//! request as the observer, an AVAILABLE period the description closes goes to the ledger,
//! and a Steward call it shows ended gets its completion event. All of that is recorded only
//! once the request's own write (conditional on the version read) has gone through.

use steward_shared::Error;
use steward_shared::error::names;
use steward_shared::gateway::workspaces::WorkspacesGateway;
use steward_shared::ids::TenantId;
use steward_shared::model::{Actor, AuditOutcome, Tenant, Timestamp, WorkspaceRecord};
use steward_shared::reconcile::{
    AvailablePeriod, Drift, Observation, Reconciled, Settled, period_usage, reconcile,
};
use steward_shared::store::UsageDelta;

use super::observations::{completion, drift_reason};
use crate::record::{Action, ActionName, outbound_types as ot};

/// The desktop as the service reports it now.
#[derive(Debug, Clone)]
pub struct Fresh {
    /// The record as read from the table (its version is the write's condition).
    pub stored: WorkspaceRecord,
    /// The record brought in line with the service: what the request decides on.
    pub record: WorkspaceRecord,
    drift: Vec<Drift>,
    closed: Option<AvailablePeriod>,
    settled: Option<Settled>,
}

/// Describes `stored`'s desktop and reconciles the record with what the service says.
/// A desktop the service does not return is gone (TERMINATED); one it returns in a shape
/// Steward cannot read fails the request with a named error (EventBridge retries it).
pub async fn describe(
    gateway: &WorkspacesGateway<'_>,
    tenant: &Tenant,
    stored: WorkspaceRecord,
    now: Timestamp,
) -> Result<Fresh, Error> {
    let id = stored.workspace_id.clone();
    let described = gateway
        .describe(std::slice::from_ref(&id))
        .await
        .map_err(Error::from)?;
    let seen = if let Some(o) = described.found.iter().find(|o| o.workspace_id == id) {
        Observation::Seen {
            state: o.state,
            running_mode: o.running_mode.unwrap_or(stored.running_mode),
        }
    } else if described.absent.contains(&id) {
        Observation::Absent
    } else {
        let why = described
            .unreadable
            .first()
            .map_or_else(|| "no answer for it".to_owned(), |u| u.reason.clone());
        return Err(Error::refused(
            names::AWS,
            format!("DescribeWorkspaces: desktop {id} is unreadable: {why}"),
        ));
    };
    let window = super::fanout::options_from_env()
        .map(|o| o.interval)
        .unwrap_or_else(|_| super::sweep::SweepOptions::default().interval);
    let Reconciled {
        record,
        drift,
        closed,
        settled,
        ..
    } = reconcile(&stored, seen, &tenant.policy, now, window);
    Ok(Fresh {
        stored,
        record,
        drift,
        closed,
        settled,
    })
}

impl Fresh {
    /// The ledger's additions for an AVAILABLE period the description closed.
    pub fn usage(&self) -> Vec<UsageDelta> {
        self.closed
            .as_ref()
            .map(|p| period_usage(&self.stored, p))
            .unwrap_or_default()
    }

    /// The drift and completion actions the description showed, observed by `actor`.
    pub fn actions<'a>(
        &'a self,
        tenant: &'a Tenant,
        actor: &Actor,
        now: Timestamp,
    ) -> Vec<Action<'a>> {
        let tenant_id: &'a TenantId = &tenant.tenant_id;
        let workspace = Some(&self.stored.workspace_id);
        let mut out: Vec<Action<'a>> = self
            .drift
            .iter()
            .map(|d| Action {
                tenant: tenant_id,
                workspace,
                actor: actor.clone(),
                action: ActionName::Drift,
                reason: drift_reason(*d, &self.stored, &self.record, &tenant.policy),
                outcome: AuditOutcome::Succeeded,
                detail_type: ot::DESKTOP_DRIFT,
                at: now,
                details: None,
            })
            .collect();
        if let Some(c) = self.settled.as_ref().and_then(completion) {
            out.push(Action {
                tenant: tenant_id,
                workspace,
                actor: actor.clone(),
                action: c.action,
                reason: c.reason,
                outcome: c.outcome,
                detail_type: c.detail_type,
                at: now,
                details: Some(c.details),
            });
        }
        out
    }
}
