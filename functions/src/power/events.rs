//! `power.partner_events`: one partner event from the bus (EventBridge → Lambda).
//!
//! Processing is idempotent and order-tolerant, with at most one conditional write of the
//! record the event is about:
//!
//! - **session events** go through the order-tolerant reducer ([`apply_session`]); a
//!   duplicate or an event already superseded changes nothing and writes nothing;
//! - **start / stop requests** are dated: one older than the newest request acted upon is
//!   superseded, so a redelivery never repeats a WorkSpaces call. A request acts on the
//!   service, not on the table: it describes the desktop first ([`fresh`]), so "already
//!   stopped" is said only when the service says STOPPED or STOPPING, and a desktop started
//!   from the console is recorded as drift before it is stopped. The record (what the
//!   description showed, new state, lease, request time, the call made) is written once,
//!   conditional on its version;
//! - **policy changes** are claimed by event id (DedupeStore) and written to the tenant once,
//!   conditional on its version.
//!
//! A conflicting concurrent write makes the event be decided again on the fresh record (a
//! bounded number of times). Audit records and outbound events are written only by the
//! delivery that changed something.
//!
//! **Rejections are kept, never dropped**: a malformed, unknown, stale or foreign event gets
//! a rejection record in the table (an audit record, `action = reject`, under the tenant, or
//! under [`REJECTIONS_TENANT`] when no known tenant can be read from it), and the invocation
//! fails with `Steward.EventRejected` and the reason, so that the function's asynchronous
//! on-failure destination (an SQS dead-letter queue in `template.yaml`) keeps the original
//! event with the error.

use serde::Serialize;
use serde_json::Value;
use steward_shared::Error;
use steward_shared::aws::TenantAccess;
use steward_shared::error::names;
use steward_shared::events::{
    PartnerEvent, PartnerEventKind, Rejection, SessionDetail, StartRequestDetail, StopRequestDetail,
};
use steward_shared::gateway::ItemOutcome;
use steward_shared::gateway::workspaces::WorkspacesGateway;
use steward_shared::ids::{OpaqueId, TenantId};
use steward_shared::model::{
    Actor, AuditOutcome, PolicyStamp, StewardAction, StewardCall, Tenant, TenantStatus, Timestamp,
    WorkspaceRecord, WorkspaceState,
};
use steward_shared::power::{
    SessionChange, StartDecision, StopDecision, apply_session, start_decision, stop_decision,
    superseded,
};
use steward_shared::reconcile::ledger_entries;
use steward_shared::store::{
    Claim, DedupeStore, StoreError, TenantStore, UsageDelta, UsageStore, WorkspaceStore,
};

use super::fresh;
use super::record::{Action, PowerAction, failed, outbound_types as ot, record_all};
use crate::Deps;

/// Where rejections that name no known tenant are recorded (a reserved tenant id).
pub const REJECTIONS_TENANT: &str = "steward-rejections";

/// How often an event is decided again after losing a race for its record.
const MAX_ATTEMPTS: usize = 5;

/// What a partner event came to (the handler's `result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventOutcome {
    /// A session event changed the record.
    Applied,
    /// A duplicate, or superseded by a newer event: nothing changed.
    Unchanged,
    /// StartWorkspaces accepted the desktop.
    Started,
    /// Already running or on its way: only the lease was extended.
    LeaseExtended,
    /// StopWorkspaces accepted the desktop.
    Stopped,
    /// The service reports it STOPPED or STOPPING.
    AlreadyStopped,
    NotStartable,
    NotStoppable,
    /// The service refused the call for the desktop.
    Failed,
    PolicyUpdated,
    /// A policy event already claimed by an earlier delivery.
    Duplicate,
}

/// What the handler answers (and the runner and tests read).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Processed {
    pub event_id: String,
    pub result: EventOutcome,
    pub writes: usize,
    pub actions: Vec<PowerAction>,
}

/// The route's input check: the event parses as a partner event from the default partner
/// source, as of now (the tenant and desktop are checked against the table when handled).
pub fn parses(event: Value) -> Result<(), Error> {
    let source = steward_shared::config::DEFAULT_PARTNER_EVENT_SOURCE;
    PartnerEvent::parse(&event, source, chrono::Utc::now())
        .map(|_| ())
        .map_err(|r| Error::refused(names::EVENT_REJECTED, format!("{}: {r}", r.reason())))
}

pub async fn handler(event: Value, deps: &Deps) -> Result<Value, Error> {
    let processed = process(&event, deps).await?;
    serde_json::to_value(&processed).map_err(|e| {
        Error::refused(
            names::INVALID_REQUEST,
            format!("unserialisable result: {e}"),
        )
    })
}

/// Processes one event; a rejection is recorded and returned as `Steward.EventRejected`.
pub async fn process(event: &Value, deps: &Deps) -> Result<Processed, Error> {
    let now = deps.now();
    let parsed = match PartnerEvent::parse(event, &deps.config.partner_event_source, now) {
        Ok(p) => p,
        Err(rejection) => return Err(reject(deps, event, None, &rejection, now).await),
    };
    let tenant = match deps.store.get_tenant(parsed.tenant_id()).await? {
        Some(t) => t,
        None => {
            let r = Rejection::UnknownTenant(parsed.tenant_id().to_string());
            return Err(reject(deps, event, None, &r, now).await);
        }
    };
    if tenant.status != TenantStatus::Active {
        let r = Rejection::TenantNotActive(tenant.tenant_id.to_string());
        return Err(reject(deps, event, Some(&tenant.tenant_id), &r, now).await);
    }
    let result = match &parsed.kind {
        PartnerEventKind::SessionStarted(d) => {
            session(deps, &tenant, &parsed, d, SessionChange::Started).await
        }
        PartnerEventKind::SessionHeartbeat(d) => {
            session(deps, &tenant, &parsed, d, SessionChange::Heartbeat).await
        }
        PartnerEventKind::SessionEnded(d) => {
            session(deps, &tenant, &parsed, d, SessionChange::Ended).await
        }
        PartnerEventKind::StartRequested(d) => start(deps, &tenant, &parsed, d).await,
        PartnerEventKind::StopRequested(d) => stop(deps, &tenant, &parsed, d).await,
        PartnerEventKind::PolicyUpdated(_) => policy(deps, tenant.clone(), &parsed).await,
    };
    match result {
        Err(Handled::Rejected(r)) => {
            Err(reject(deps, event, Some(&tenant.tenant_id), &r, now).await)
        }
        Err(Handled::Failed(e)) => Err(e),
        Ok(p) => Ok(p),
    }
}

enum Handled {
    Rejected(Rejection),
    Failed(Error),
}

impl From<Error> for Handled {
    fn from(e: Error) -> Self {
        Handled::Failed(e)
    }
}

impl From<StoreError> for Handled {
    fn from(e: StoreError) -> Self {
        Handled::Failed(e.into())
    }
}

async fn desktop(
    deps: &Deps,
    tenant: &Tenant,
    workspace: &steward_shared::ids::WorkspaceId,
) -> Result<WorkspaceRecord, Handled> {
    deps.store
        .get_workspace(&tenant.tenant_id, workspace)
        .await?
        .ok_or_else(|| {
            Handled::Rejected(Rejection::NotOwned {
                tenant: tenant.tenant_id.to_string(),
                workspace: workspace.to_string(),
            })
        })
}

fn processed(e: &PartnerEvent, result: EventOutcome, writes: usize) -> Processed {
    Processed {
        event_id: e.event_id.to_string(),
        result,
        writes,
        actions: Vec::new(),
    }
}

async fn session(
    deps: &Deps,
    tenant: &Tenant,
    event: &PartnerEvent,
    d: &SessionDetail,
    change: SessionChange,
) -> Result<Processed, Handled> {
    for _ in 0..MAX_ATTEMPTS {
        let mut ws = desktop(deps, tenant, &d.workspace_id).await?;
        if !apply_session(&mut ws, change, &d.session_id, d.occurred_at) {
            return Ok(processed(event, EventOutcome::Unchanged, 0));
        }
        match deps.store.update_workspace(&ws).await {
            Ok(_) => return Ok(processed(event, EventOutcome::Applied, 1)),
            Err(StoreError::VersionConflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(conflict(event).into())
}

fn conflict(event: &PartnerEvent) -> Error {
    Error::refused(
        names::CONFLICT,
        format!(
            "event {} lost the race for its record {MAX_ATTEMPTS} times; EventBridge will redeliver it",
            event.event_id
        ),
    )
}

fn actor(event: &PartnerEvent) -> Actor {
    Actor::PartnerEvent {
        event_id: event.event_id.clone(),
    }
}

async fn start(
    deps: &Deps,
    tenant: &Tenant,
    event: &PartnerEvent,
    d: &StartRequestDetail,
) -> Result<Processed, Handled> {
    let actor = actor(event);
    // A start the service accepted in an attempt whose write then lost a race: the next
    // attempt reconciles with it, so its STARTING is not taken for someone else's.
    let mut accepted: Option<StewardCall> = None;
    for _ in 0..MAX_ATTEMPTS {
        let mut stored = desktop(deps, tenant, &d.workspace_id).await?;
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
        let before = &fresh.record;
        let mut ws = before.clone();
        ws.last_power_request_at = Some(d.occurred_at);
        let (result, action, reason, outcome, detail_type) =
            match start_decision(before, d.occurred_at, d.lease_minutes) {
                StartDecision::Superseded => {
                    return Ok(processed(event, EventOutcome::Unchanged, 0));
                }
                StartDecision::NotStartable(state) => (
                    EventOutcome::NotStartable,
                    "start",
                    format!(
                        "start requested; the service reports the desktop {}",
                        state.as_str()
                    ),
                    failed(names::INVALID_STATE, format!("state {}", state.as_str())),
                    ot::DESKTOP_POWER_FAILED,
                ),
                StartDecision::ExtendLease { lease_until } => {
                    ws.lease_until = lease_until;
                    if accepted.is_some() {
                        // This request's own start, accepted in an attempt that lost its write.
                        (
                            EventOutcome::Started,
                            "start",
                            lease_reason(lease_until, WorkspaceState::Stopped),
                            AuditOutcome::Succeeded,
                            ot::DESKTOP_STARTING,
                        )
                    } else {
                        (
                            EventOutcome::LeaseExtended,
                            "extend_lease",
                            lease_reason(lease_until, before.state),
                            AuditOutcome::Succeeded,
                            ot::DESKTOP_LEASE_EXTENDED,
                        )
                    }
                }
                StartDecision::Start { lease_until } => {
                    ws.lease_until = lease_until;
                    let outcome = gateway
                        .start(std::slice::from_ref(&before.workspace_id))
                        .await
                        .map_err(Error::from)?;
                    match outcome.into_iter().next().map(|(_, o)| o) {
                        Some(ItemOutcome::Accepted) => {
                            let call = StewardCall::new(
                                StewardAction::Start,
                                now,
                                Some(event.event_id.to_string()),
                            );
                            ws.state = WorkspaceState::Starting;
                            ws.state_observed_at = now;
                            ws.last_call = Some(call.clone());
                            accepted = Some(call);
                            ws.guard_warned_at = None;
                            (
                                EventOutcome::Started,
                                "start",
                                lease_reason(lease_until, before.state),
                                AuditOutcome::Succeeded,
                                ot::DESKTOP_STARTING,
                            )
                        }
                        Some(ItemOutcome::Failed { code, message }) => (
                            EventOutcome::Failed,
                            "start",
                            format!("StartWorkspaces refused the desktop: {code}"),
                            failed(&code, message),
                            ot::DESKTOP_POWER_FAILED,
                        ),
                        None => (
                            EventOutcome::Failed,
                            "start",
                            "StartWorkspaces answered for no desktop".to_owned(),
                            failed(names::AWS, "no outcome"),
                            ot::DESKTOP_POWER_FAILED,
                        ),
                    }
                }
            };
        match deps.store.update_workspace(&ws).await {
            Ok(_) => {}
            // A StartWorkspaces already made is repeated harmlessly on the next attempt: the
            // service refuses a start of a desktop that is not STOPPED (FailedRequests).
            Err(StoreError::VersionConflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
        let mut actions = fresh.actions(tenant, &actor, now);
        actions.push(Action {
            tenant: &tenant.tenant_id,
            workspace: Some(&before.workspace_id),
            actor: actor.clone(),
            action,
            reason,
            outcome,
            detail_type,
            at: now,
            details: None,
        });
        return finish(deps, event, result, &fresh, Vec::new(), &actions).await;
    }
    Err(conflict(event).into())
}

/// Books what the request learnt and did (usage, audit records, events) once its write
/// went through, and answers.
async fn finish(
    deps: &Deps,
    event: &PartnerEvent,
    result: EventOutcome,
    fresh: &fresh::Fresh,
    mut usage: Vec<UsageDelta>,
    actions: &[Action<'_>],
) -> Result<Processed, Handled> {
    usage.extend(fresh.usage());
    deps.store.add_usages(&usage).await?;
    record_all(deps, actions).await?;
    let mut p = processed(event, result, 1);
    p.actions.extend(actions.iter().map(Action::report));
    Ok(p)
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

async fn stop(
    deps: &Deps,
    tenant: &Tenant,
    event: &PartnerEvent,
    d: &StopRequestDetail,
) -> Result<Processed, Handled> {
    let actor = actor(event);
    let why = d
        .reason
        .clone()
        .unwrap_or_else(|| "stop requested".to_owned());
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
        let before = fresh.record.clone();
        let mut ws = before.clone();
        ws.last_power_request_at = Some(d.occurred_at);
        let mut actions = fresh.actions(tenant, &actor, now);
        let mut usage = Vec::new();
        let act = |reason: String, outcome, detail_type| Action {
            tenant: &tenant.tenant_id,
            workspace: Some(&d.workspace_id),
            actor: actor.clone(),
            action: "stop",
            reason,
            outcome,
            detail_type,
            at: now,
            details: None,
        };
        let result = match stop_decision(&before, d.occurred_at) {
            StopDecision::Superseded => return Ok(processed(event, EventOutcome::Unchanged, 0)),
            // The service itself says STOPPED or STOPPING.
            StopDecision::AlreadyStopped => match deps.store.update_workspace(&ws).await {
                Ok(_) => EventOutcome::AlreadyStopped,
                Err(StoreError::VersionConflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            },
            StopDecision::NotStoppable(state) => {
                match deps.store.update_workspace(&ws).await {
                    Ok(_) => {}
                    Err(StoreError::VersionConflict { .. }) => continue,
                    Err(e) => return Err(e.into()),
                }
                actions.push(act(
                    format!("{why}; the service reports the desktop {}", state.as_str()),
                    failed(names::INVALID_STATE, format!("state {}", state.as_str())),
                    ot::DESKTOP_POWER_FAILED,
                ));
                EventOutcome::NotStoppable
            }
            StopDecision::Stop => {
                // The intent is written first, conditional on the version read: a session
                // or request that changed the record meanwhile makes this decide again.
                mark_stopping(&mut ws, now, Some(event.event_id.to_string()));
                match deps.store.update_workspace(&ws).await {
                    Ok(w) => ws = w,
                    Err(StoreError::VersionConflict { .. }) => continue,
                    Err(e) => return Err(e.into()),
                }
                let called = gateway
                    .stop(std::slice::from_ref(&before.workspace_id))
                    .await;
                let item = match called {
                    Ok(v) => v.into_iter().next().map(|(_, o)| o),
                    Err(e) => {
                        undo_stop(deps, &ws, &before).await;
                        // What the description learnt is in the record; say it too.
                        if finish(deps, event, EventOutcome::Failed, &fresh, usage, &actions)
                            .await
                            .is_err()
                        {
                            tracing::warn!(workspace = %before.workspace_id, "what the description showed was not recorded");
                        }
                        return Err(Handled::Failed(e.into()));
                    }
                };
                match item {
                    Some(ItemOutcome::Accepted) => {
                        usage = usage_until(&before, now);
                        actions.push(act(
                            why.clone(),
                            AuditOutcome::Succeeded,
                            ot::DESKTOP_STOPPING,
                        ));
                        EventOutcome::Stopped
                    }
                    other => {
                        undo_stop(deps, &ws, &before).await;
                        let (code, message) = match other {
                            Some(ItemOutcome::Failed { code, message }) => (code, message),
                            _ => (names::AWS.to_owned(), "no outcome".to_owned()),
                        };
                        actions.push(act(
                            format!("StopWorkspaces refused the desktop: {code}"),
                            failed(&code, message),
                            ot::DESKTOP_POWER_FAILED,
                        ));
                        EventOutcome::Failed
                    }
                }
            }
        };
        return finish(deps, event, result, &fresh, usage, &actions).await;
    }
    Err(conflict(event).into())
}

/// The record of a desktop Steward is about to stop: STOPPING from now, its AVAILABLE
/// period closed at the call (the ledger gets it once the call is accepted).
pub(crate) fn mark_stopping(ws: &mut WorkspaceRecord, now: Timestamp, event_id: Option<String>) {
    ws.state = WorkspaceState::Stopping;
    ws.state_observed_at = now;
    ws.last_call = Some(StewardCall::new(StewardAction::Stop, now, event_id));
    ws.available_since = None;
    ws.available_since_source = None;
    ws.available_since_uncertainty_seconds = 0;
    ws.guard_warned_at = None;
    ws.lease_until = None;
}

/// Puts back what [`mark_stopping`] changed after the call was refused. Best effort: if it
/// fails the next sweep's reconciliation sees the desktop AVAILABLE again and re-dates it.
pub(crate) async fn undo_stop(deps: &Deps, written: &WorkspaceRecord, before: &WorkspaceRecord) {
    let mut back = before.clone();
    back.version = written.version;
    back.last_power_request_at = written.last_power_request_at;
    if let Err(e) = deps.store.update_workspace(&back).await {
        tracing::warn!(workspace = %before.workspace_id, error = %e, "could not restore a desktop whose stop was refused");
    }
}

/// The usage-ledger additions for the AVAILABLE period of `before` that ends at `until`.
pub(crate) fn usage_until(before: &WorkspaceRecord, until: Timestamp) -> Vec<UsageDelta> {
    let Some(from) = before.available_since else {
        return Vec::new();
    };
    let period = steward_shared::reconcile::AvailablePeriod {
        from,
        to: until,
        uncertainty: chrono::Duration::seconds(
            i64::try_from(before.available_since_uncertainty_seconds).unwrap_or(i64::MAX),
        ),
    };
    period_usage(before, &period)
}

/// The usage-ledger additions for one AVAILABLE period of `record`'s desktop.
pub(crate) fn period_usage(
    record: &WorkspaceRecord,
    period: &steward_shared::reconcile::AvailablePeriod,
) -> Vec<UsageDelta> {
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

/// Adds the AVAILABLE period of `before` that ends at `until` to the usage ledger.
pub(crate) async fn add_usage_until(
    deps: &Deps,
    before: &WorkspaceRecord,
    until: Timestamp,
) -> Result<(), Error> {
    deps.store.add_usages(&usage_until(before, until)).await?;
    Ok(())
}

async fn policy(deps: &Deps, tenant: Tenant, event: &PartnerEvent) -> Result<Processed, Handled> {
    let PartnerEventKind::PolicyUpdated(d) = &event.kind else {
        return Ok(processed(event, EventOutcome::Unchanged, 0));
    };
    let now = deps.now();
    let expires = now + ttl(deps);
    let mut tenant = tenant;
    let mut claimed = false;
    for _ in 0..MAX_ATTEMPTS {
        let mut stamps = tenant.policy_stamps.clone();
        let stamp = PolicyStamp {
            at: d.occurred_at,
            event_id: event.event_id.to_string(),
        };
        let new_policy = d
            .policy
            .apply_stamped(&tenant.policy, &mut stamps, &stamp)
            .map_err(|v| Handled::Rejected(Rejection::InvalidField(v)))?;
        if new_policy == tenant.policy && stamps == tenant.policy_stamps {
            return Ok(processed(event, EventOutcome::Unchanged, 0));
        }
        // Claimed before the write: a redelivery finds the claim and skips; the change is
        // the same whichever delivery writes it.
        if !claimed {
            let claim = deps
                .store
                .claim_event(&tenant.tenant_id, &event.event_id, now, expires)
                .await?;
            if claim == Claim::Duplicate {
                return Ok(processed(event, EventOutcome::Duplicate, 0));
            }
            claimed = true;
        }
        let mut updated = tenant.clone();
        updated.policy = new_policy;
        updated.policy_stamps = stamps;
        updated.updated_at = now;
        match deps.store.update_tenant(&updated).await {
            Ok(_) => {}
            Err(StoreError::VersionConflict { .. }) => {
                tenant = deps
                    .store
                    .get_tenant(&tenant.tenant_id)
                    .await?
                    .ok_or_else(|| {
                        Handled::Rejected(Rejection::UnknownTenant(tenant.tenant_id.to_string()))
                    })?;
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        let a = Action {
            tenant: &tenant.tenant_id,
            workspace: None,
            actor: actor(event),
            action: "policy_update",
            reason: format!(
                "policy changed: {}",
                serde_json::to_string(&d.policy).unwrap_or_default()
            ),
            outcome: AuditOutcome::Succeeded,
            detail_type: ot::TENANT_POLICY_CHANGED,
            at: now,
            details: None,
        };
        let recorded = record_all(deps, std::slice::from_ref(&a)).await;
        let mut p = processed(event, EventOutcome::PolicyUpdated, 1);
        p.actions.push(a.report());
        // The opt-out is a setting of the tenant's directories too: applied once the tenant
        // record holds it (a redelivery is a duplicate and would not come back to it), even
        // if the audit write above failed. Every directory's outcome, and any failure to
        // reach them, is an action of its own; only a failed audit write fails the event.
        let opt_out = updated.policy.maintenance_opt_out;
        if opt_out != tenant.policy.maintenance_opt_out {
            let applied = super::maintenance::apply(deps, &updated, opt_out, &a.actor, now).await?;
            p.actions.extend(applied);
        }
        recorded?;
        return Ok(p);
    }
    Err(conflict(event).into())
}

/// How long an event id is remembered (the dedupe TTL as a chrono duration).
pub(crate) fn ttl(deps: &Deps) -> chrono::Duration {
    chrono::Duration::from_std(deps.config.dedupe_ttl).unwrap_or(chrono::Duration::hours(72))
}

/// Records a rejection (once per event id, under the tenant or the rejections tenant) and
/// returns the error that fails the invocation, so the dead-letter queue keeps the event.
pub(crate) async fn reject(
    deps: &Deps,
    event: &Value,
    tenant: Option<&TenantId>,
    rejection: &Rejection,
    now: Timestamp,
) -> Error {
    let reason = rejection.reason();
    let error = Error::refused(names::EVENT_REJECTED, format!("{reason}: {rejection}"));
    let fallback = TenantId::parse(REJECTIONS_TENANT);
    let tenant = match (tenant, &fallback) {
        (Some(t), _) => t.clone(),
        (None, Ok(t)) => t.clone(),
        (None, Err(_)) => return error,
    };
    let event_id = event
        .get("id")
        .and_then(Value::as_str)
        .and_then(|id| OpaqueId::parse(format!("rejected:{id}")).ok());
    if let Some(id) = &event_id {
        let expires = now + ttl(deps);
        match deps.store.claim_event(&tenant, id, now, expires).await {
            Ok(Claim::Duplicate) => return error,
            Ok(Claim::Claimed) => {}
            Err(e) => {
                tracing::error!(error = %e, reason, "could not record a rejected event; it is kept by the dead-letter queue");
                return error;
            }
        }
    }
    let actor_id = event
        .get("id")
        .and_then(Value::as_str)
        .and_then(|id| OpaqueId::parse(id).ok())
        .or_else(|| OpaqueId::parse("unidentified").ok());
    let Some(actor_id) = actor_id else {
        return error;
    };
    let a = Action {
        tenant: &tenant,
        workspace: None,
        actor: Actor::PartnerEvent { event_id: actor_id },
        action: "reject",
        reason: format!("{reason}: {rejection}"),
        outcome: failed(names::EVENT_REJECTED, reason),
        detail_type: ot::PARTNER_EVENT_REJECTED,
        at: now,
        details: None,
    };
    if let Err(e) = record_all(deps, std::slice::from_ref(&a)).await {
        tracing::error!(error = %e, reason, "could not record a rejected event; it is kept by the dead-letter queue");
    }
    error
}
