//! `Desktop Start Requested`: start the desktop (StartWorkspaces) unless the service reports
//! it running or on its way, in which case only its lease grows; either way the request's
//! lease keeps the idle stop away until it ends.
//!
//! `Desktop Keep Running {until}` is the same request with an override's lease: the lease
//! becomes exactly `until` (so a partner can also end an override early), it is marked
//! KEEP_RUNNING so the sweep records its end, and an `Override Set` is recorded with it.
//!
//! A start the service accepted in an attempt whose write then lost a race is remembered
//! across attempts: the next attempt reconciles with it, so its STARTING is not taken for
//! someone else's (drift) and the answer is still "started".

use serde_json::json;
use steward_shared::Error;
use steward_shared::aws::TenantAccess;
use steward_shared::error::names;
use steward_shared::events::{KeepRunningDetail, PartnerEvent, StartRequestDetail};
use steward_shared::gateway::ItemOutcome;
use steward_shared::gateway::workspaces::WorkspacesGateway;
use steward_shared::ids::{TenantId, WorkspaceId};
use steward_shared::model::{
    Actor, AuditOutcome, LeaseSource, StewardAction, StewardCall, Tenant, Timestamp,
    WorkspaceRecord, WorkspaceState,
};
use steward_shared::power::{StartDecision, start_decision, superseded};

use super::{
    EventOutcome, Handled, MAX_ATTEMPTS, Processed, actor, conflict, desktop, finish, fresh,
    processed, write,
};
use crate::deps::Deps;
use crate::record::{Action, ActionName, failed, outbound_types as ot};

/// What a start request came to, before it is written and recorded.
struct Verdict {
    result: EventOutcome,
    action: ActionName,
    reason: String,
    outcome: AuditOutcome,
    detail_type: &'static str,
}

impl Verdict {
    fn succeeded(
        result: EventOutcome,
        action: ActionName,
        reason: String,
        detail_type: &'static str,
    ) -> Self {
        Self {
            result,
            action,
            reason,
            outcome: AuditOutcome::Succeeded,
            detail_type,
        }
    }

    /// The call was refused, or the desktop is in no state to start.
    fn failed(result: EventOutcome, reason: String, outcome: AuditOutcome) -> Self {
        Self {
            result,
            action: ActionName::Start,
            reason,
            outcome,
            detail_type: ot::DESKTOP_POWER_FAILED,
        }
    }

    fn action<'a>(
        self,
        tenant: &'a TenantId,
        workspace: &'a WorkspaceId,
        actor: &Actor,
        at: Timestamp,
    ) -> Action<'a> {
        Action {
            tenant,
            workspace: Some(workspace),
            actor: actor.clone(),
            action: self.action,
            reason: self.reason,
            outcome: self.outcome,
            detail_type: self.detail_type,
            at,
            details: None,
        }
    }
}

/// What a start asks for: a start request, or a keep-running override.
pub(super) struct StartAsk<'a> {
    pub(super) workspace_id: &'a WorkspaceId,
    pub(super) occurred_at: Timestamp,
    pub(super) lease: Lease,
}

/// The keep-alive a start asks for.
#[derive(Clone, Copy)]
pub(super) enum Lease {
    /// At least this many minutes from the request (a longer lease is kept).
    Minutes(Option<u32>),
    /// Exactly until then (`Desktop Keep Running`).
    Until(Timestamp),
}

impl<'a> From<&'a StartRequestDetail> for StartAsk<'a> {
    fn from(d: &'a StartRequestDetail) -> Self {
        Self {
            workspace_id: &d.workspace_id,
            occurred_at: d.occurred_at,
            lease: Lease::Minutes(d.lease_minutes),
        }
    }
}

impl<'a> From<&'a KeepRunningDetail> for StartAsk<'a> {
    fn from(d: &'a KeepRunningDetail) -> Self {
        Self {
            workspace_id: &d.workspace_id,
            occurred_at: d.occurred_at,
            lease: Lease::Until(d.until),
        }
    }
}

pub(super) async fn start(
    deps: &Deps,
    tenant: &Tenant,
    event: &PartnerEvent,
    d: &StartAsk<'_>,
) -> Result<Processed, Handled> {
    let actor = actor(event);
    let mut accepted: Option<StewardCall> = None;
    for _ in 0..MAX_ATTEMPTS {
        let mut stored = desktop(deps, tenant, d.workspace_id).await?;
        if superseded(&stored, d.occurred_at) {
            return Ok(processed(event, EventOutcome::Unchanged, 0));
        }
        if accepted.is_some() {
            stored.last_call.clone_from(&accepted);
        }
        let now = deps.now();
        let clients = deps
            .clients
            .for_tenant(TenantAccess::new(tenant, &stored.region))
            .await;
        let gateway = WorkspacesGateway::new(clients.workspaces());
        let fresh = fresh::describe(&gateway, tenant, stored, now).await?;
        let mut ws = fresh.record.clone();
        ws.last_power_request_at = Some(d.occurred_at);
        let attempt = Attempt {
            gateway: &gateway,
            event,
            request: d,
            now,
        };
        let Some(verdict) = attempt
            .decide(&fresh.record, &mut ws, &mut accepted)
            .await?
        else {
            return Ok(processed(event, EventOutcome::Unchanged, 0));
        };
        // A StartWorkspaces already made is repeated harmlessly on the next attempt: the
        // service refuses a start of a desktop that is not STOPPED (FailedRequests).
        if write(deps, &ws).await?.is_none() {
            continue;
        }
        let result = verdict.result;
        let mut actions = fresh.actions(tenant, &actor, now);
        let succeeded = verdict.outcome == AuditOutcome::Succeeded;
        actions.push(verdict.action(&tenant.tenant_id, &fresh.record.workspace_id, &actor, now));
        if let (Lease::Until(until), true) = (d.lease, succeeded) {
            actions.push(keep_running_set(
                &tenant.tenant_id,
                &fresh.record.workspace_id,
                &actor,
                now,
                until,
            ));
        }
        return finish(deps, event, result, &fresh, Vec::new(), &actions).await;
    }
    Err(conflict(event).into())
}

/// The `Override Set` a keep-running records.
fn keep_running_set<'a>(
    tenant: &'a TenantId,
    workspace: &'a WorkspaceId,
    actor: &Actor,
    at: Timestamp,
    until: Timestamp,
) -> Action<'a> {
    Action {
        tenant,
        workspace: Some(workspace),
        actor: actor.clone(),
        action: ActionName::KeepRunning,
        reason: format!("kept running until {}", until.to_rfc3339()),
        outcome: AuditOutcome::Succeeded,
        detail_type: ot::OVERRIDE_SET,
        at,
        details: Some(json!({"scope": "DESKTOP", "until": until})),
    }
}

/// One attempt at a start request, on the desktop as the service reports it.
struct Attempt<'a> {
    gateway: &'a WorkspacesGateway<'a>,
    event: &'a PartnerEvent,
    request: &'a StartAsk<'a>,
    now: Timestamp,
}

impl Attempt<'_> {
    /// Decides on `before` and carries the decision out: `ws` (the record to write) gets the
    /// lease and, for a start the service accepted, its state and call, which `accepted`
    /// also keeps for the next attempt. `None`: a newer request was acted upon.
    async fn decide(
        &self,
        before: &WorkspaceRecord,
        ws: &mut WorkspaceRecord,
        accepted: &mut Option<StewardCall>,
    ) -> Result<Option<Verdict>, Error> {
        let r = self.request;
        let minutes = match r.lease {
            Lease::Minutes(m) => m,
            Lease::Until(_) => None,
        };
        let verdict = match start_decision(before, r.occurred_at, minutes) {
            StartDecision::Superseded => return Ok(None),
            StartDecision::NotStartable(state) => Verdict::failed(
                EventOutcome::NotStartable,
                format!(
                    "start requested; the service reports the desktop {}",
                    state.as_str()
                ),
                failed(names::INVALID_STATE, format!("state {}", state.as_str())),
            ),
            StartDecision::ExtendLease { lease_until } => {
                let lease_until = self.lease(ws, lease_until);
                if accepted.is_some() {
                    // This request's own start, accepted in an attempt that lost its write.
                    Verdict::succeeded(
                        EventOutcome::Started,
                        ActionName::Start,
                        lease_reason(lease_until, WorkspaceState::Stopped),
                        ot::DESKTOP_STARTING,
                    )
                } else {
                    Verdict::succeeded(
                        EventOutcome::LeaseExtended,
                        ActionName::ExtendLease,
                        lease_reason(lease_until, before.state),
                        ot::DESKTOP_LEASE_EXTENDED,
                    )
                }
            }
            StartDecision::Start { lease_until } => {
                let lease_until = self.lease(ws, lease_until);
                self.call_start(before, ws, accepted, lease_until).await?
            }
        };
        Ok(Some(verdict))
    }

    /// Puts the request's lease on `ws` (`decided`: a start request's, as the decision
    /// computed it) and answers it.
    fn lease(&self, ws: &mut WorkspaceRecord, decided: Option<Timestamp>) -> Option<Timestamp> {
        let (until, source) = match self.request.lease {
            Lease::Until(until) => (Some(until), Some(LeaseSource::KeepRunning)),
            Lease::Minutes(Some(_)) => (decided, Some(LeaseSource::StartRequest)),
            Lease::Minutes(None) => (decided, ws.lease_source),
        };
        ws.lease_until = until;
        ws.lease_source = source;
        until
    }

    /// StartWorkspaces for the desktop; an accepted start is marked on `ws`.
    async fn call_start(
        &self,
        before: &WorkspaceRecord,
        ws: &mut WorkspaceRecord,
        accepted: &mut Option<StewardCall>,
        lease_until: Option<Timestamp>,
    ) -> Result<Verdict, Error> {
        let outcome = self
            .gateway
            .start(std::slice::from_ref(&before.workspace_id))
            .await?;
        Ok(match outcome.into_iter().next().map(|(_, o)| o) {
            Some(ItemOutcome::Accepted) => {
                let call = StewardCall::new(
                    StewardAction::Start,
                    self.now,
                    Some(self.event.event_id.to_string()),
                );
                ws.state = WorkspaceState::Starting;
                ws.state_observed_at = self.now;
                ws.last_call = Some(call.clone());
                *accepted = Some(call);
                ws.guard_warned_at = None;
                Verdict::succeeded(
                    EventOutcome::Started,
                    ActionName::Start,
                    lease_reason(lease_until, before.state),
                    ot::DESKTOP_STARTING,
                )
            }
            Some(ItemOutcome::Failed { code, message }) => Verdict::failed(
                EventOutcome::Failed,
                format!("StartWorkspaces refused the desktop: {code}"),
                failed(&code, message),
            ),
            None => Verdict::failed(
                EventOutcome::Failed,
                "StartWorkspaces answered for no desktop".to_owned(),
                failed(names::AWS, "no outcome"),
            ),
        })
    }
}

fn lease_reason(lease_until: Option<Timestamp>, state: WorkspaceState) -> String {
    match lease_until {
        Some(t) => format!(
            "start requested (desktop {}); kept running until at least {}",
            state.as_str(),
            t.to_rfc3339()
        ),
        None => format!("start requested (desktop {})", state.as_str()),
    }
}
