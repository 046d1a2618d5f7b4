//! `Desktop Stop Requested`: stop the desktop (StopWorkspaces) when the service reports it in
//! a state the call accepts. The stop's intent is written first, conditional on the version
//! read (a session or request that changed the record meanwhile makes this decide again);
//! a refused call takes it back. The AVAILABLE period closes at the call, into the ledger.

use steward_shared::Error;
use steward_shared::aws::TenantAccess;
use steward_shared::error::names;
use steward_shared::events::{PartnerEvent, StopRequestDetail};
use steward_shared::gateway::ItemOutcome;
use steward_shared::gateway::workspaces::WorkspacesGateway;
use steward_shared::ids::WorkspaceId;
use steward_shared::model::{Actor, AuditOutcome, Tenant, Timestamp, WorkspaceRecord};
use steward_shared::power::{StopDecision, mark_stopping, stop_decision, superseded};
use steward_shared::reconcile::usage_until;

use super::{
    EventOutcome, Handled, MAX_ATTEMPTS, Processed, actor, conflict, desktop, finish, fresh,
    processed, write,
};
use crate::deps::Deps;
use crate::power::stopping::undo_stop;
use crate::record::{Action, ActionName, failed, outbound_types as ot};

/// The request's side of its `stop` actions.
struct Request<'a> {
    tenant: &'a Tenant,
    workspace: &'a WorkspaceId,
    actor: Actor,
    /// The partner's reason, or "stop requested".
    why: String,
}

impl<'a> Request<'a> {
    fn action(
        &self,
        reason: String,
        outcome: AuditOutcome,
        detail_type: &'static str,
        at: Timestamp,
    ) -> Action<'a> {
        Action {
            tenant: &self.tenant.tenant_id,
            workspace: Some(self.workspace),
            actor: self.actor.clone(),
            action: ActionName::Stop,
            reason,
            outcome,
            detail_type,
            at,
            details: None,
        }
    }
}

pub(super) async fn stop(
    deps: &Deps,
    tenant: &Tenant,
    event: &PartnerEvent,
    d: &StopRequestDetail,
) -> Result<Processed, Handled> {
    let request = Request {
        tenant,
        workspace: &d.workspace_id,
        actor: actor(event),
        why: d
            .reason
            .clone()
            .unwrap_or_else(|| "stop requested".to_owned()),
    };
    for _ in 0..MAX_ATTEMPTS {
        let stored = desktop(deps, tenant, &d.workspace_id).await?;
        if superseded(&stored, d.occurred_at) {
            return Ok(processed(event, EventOutcome::Unchanged, 0));
        }
        let now = deps.now();
        let clients = deps
            .clients
            .for_tenant(TenantAccess::new(tenant, &stored.region))
            .await;
        let gateway = WorkspacesGateway::new(clients.workspaces());
        let fresh = fresh::describe(&gateway, tenant, stored, now).await?;
        let before = &fresh.record;
        let mut ws = before.clone();
        ws.last_power_request_at = Some(d.occurred_at);
        let mut actions = fresh.actions(tenant, &request.actor, now);
        let (result, usage) = match stop_decision(before, d.occurred_at) {
            StopDecision::Superseded => return Ok(processed(event, EventOutcome::Unchanged, 0)),
            // The service itself says STOPPED or STOPPING.
            StopDecision::AlreadyStopped => {
                if write(deps, &ws).await?.is_none() {
                    continue;
                }
                (EventOutcome::AlreadyStopped, Vec::new())
            }
            StopDecision::NotStoppable(state) => {
                if write(deps, &ws).await?.is_none() {
                    continue;
                }
                actions.push(request.action(
                    format!(
                        "{}; the service reports the desktop {}",
                        request.why,
                        state.as_str()
                    ),
                    failed(names::INVALID_STATE, format!("state {}", state.as_str())),
                    ot::DESKTOP_POWER_FAILED,
                    now,
                ));
                (EventOutcome::NotStoppable, Vec::new())
            }
            StopDecision::Stop => {
                mark_stopping(&mut ws, now, Some(event.event_id.to_string()));
                let Some(written) = write(deps, &ws).await? else {
                    continue;
                };
                match call_stop(deps, &gateway, &written, before).await {
                    Ok(ItemOutcome::Accepted) => {
                        actions.push(request.action(
                            request.why.clone(),
                            AuditOutcome::Succeeded,
                            ot::DESKTOP_STOPPING,
                            now,
                        ));
                        (EventOutcome::Stopped, usage_until(before, now))
                    }
                    Ok(ItemOutcome::Failed { code, message }) => {
                        actions.push(request.action(
                            format!("StopWorkspaces refused the desktop: {code}"),
                            failed(&code, message),
                            ot::DESKTOP_POWER_FAILED,
                            now,
                        ));
                        (EventOutcome::Failed, Vec::new())
                    }
                    Err(e) => {
                        // What the description learnt is in the record; say it too.
                        let booked = finish(
                            deps,
                            event,
                            EventOutcome::Failed,
                            &fresh,
                            Vec::new(),
                            &actions,
                        );
                        if booked.await.is_err() {
                            tracing::warn!(workspace = %before.workspace_id, "what the description showed was not recorded");
                        }
                        return Err(Handled::Failed(e));
                    }
                }
            }
        };
        return finish(deps, event, result, &fresh, usage, &actions).await;
    }
    Err(conflict(event).into())
}

/// StopWorkspaces for a desktop whose stop mark is `written`: the desktop's outcome (no
/// outcome at all counts as a failure), or the call's error. A refusal or an error takes the
/// mark back first.
async fn call_stop(
    deps: &Deps,
    gateway: &WorkspacesGateway<'_>,
    written: &WorkspaceRecord,
    before: &WorkspaceRecord,
) -> Result<ItemOutcome, Error> {
    let item = match gateway
        .stop(std::slice::from_ref(&before.workspace_id))
        .await
    {
        Ok(v) => v.into_iter().next().map_or_else(
            || ItemOutcome::Failed {
                code: names::AWS.to_owned(),
                message: "no outcome".to_owned(),
            },
            |(_, o)| o,
        ),
        Err(e) => {
            undo_stop(deps, written, before).await;
            return Err(e.into());
        }
    };
    if matches!(item, ItemOutcome::Failed { .. }) {
        undo_stop(deps, written, before).await;
    }
    Ok(item)
}
