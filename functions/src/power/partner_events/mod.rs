//! `power.partner_events`: one partner event from the bus (EventBridge → Lambda).
//!
//! Processing is idempotent and order-tolerant, with at most one conditional write of the
//! record the event is about:
//!
//! - **session events** (`session.rs`) go through the order-tolerant reducer
//!   ([`apply_session`](steward_shared::power::apply_session)); a duplicate or an event
//!   already superseded changes nothing and writes nothing;
//! - **start / stop requests** (`start.rs`, `stop.rs`) are dated: one older than the newest
//!   request acted upon is superseded, so a redelivery never repeats a WorkSpaces call. A
//!   request acts on the service, not on the table: it describes the desktop first
//!   ([`fresh`]), so "already stopped" is said only when the service says STOPPED or
//!   STOPPING, and a desktop started from the console is recorded as drift before it is
//!   stopped. The record (what the description showed, new state, lease, request time, the
//!   call made) is written once, conditional on its version;
//! - **keep-running overrides** are start requests with an exact lease (`start.rs`);
//! - **policy changes** (`policy.rs`) are claimed by event id (DedupeStore) and written to the
//!   tenant once, conditional on its version.
//!
//! A conflicting concurrent write makes the event be decided again on the fresh record (a
//! bounded number of times). Audit records and outbound events are written only by the
//! delivery that changed something.
//!
//! **Rejections are kept, never dropped**: a malformed, unknown, stale or foreign event is
//! recorded by [`reject`] and fails the invocation with `Steward.EventRejected`, so the
//! dead-letter queue keeps it (see [`crate::record::reject`]).
//!
//! This file parses and dispatches, and holds what the kinds share: the outcome, the
//! answer, the record's conditional write and the booking of what a request did.

mod policy;
mod session;
mod start;
mod stop;

use serde::Serialize;
use serde_json::Value;
use steward_shared::Error;
use steward_shared::error::names;
use steward_shared::events::{PartnerEvent, PartnerEventKind, Rejection};
use steward_shared::ids::WorkspaceId;
use steward_shared::model::{Actor, Tenant, TenantStatus, WorkspaceRecord};
use steward_shared::power::SessionChange;
use steward_shared::store::{StoreError, TenantStore, UsageDelta, UsageStore, WorkspaceStore};

use super::fresh::{self, Fresh};
use crate::deps::Deps;
use crate::record::{Action, PowerAction, record_all, reject};

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
    /// A pool was created, changed or deleted.
    PoolChanged,
    /// Users were loaded or removed.
    UsersChanged,
    /// A desktop was assigned (or answered again) to the requesting user.
    Assigned,
    /// The assignment could not be met (`Desktop Assignment Failed` says why).
    AssignmentFailed,
    /// A desktop's release plan began.
    Released,
    /// A power plan was set or removed, or a holiday calendar loaded.
    PlanChanged,
    /// An override was set.
    OverrideSet,
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
            session::session(deps, &tenant, &parsed, d, SessionChange::Started).await
        }
        PartnerEventKind::SessionHeartbeat(d) => {
            session::session(deps, &tenant, &parsed, d, SessionChange::Heartbeat).await
        }
        PartnerEventKind::SessionEnded(d) => {
            session::session(deps, &tenant, &parsed, d, SessionChange::Ended).await
        }
        PartnerEventKind::StartRequested(d) => {
            start::start(deps, &tenant, &parsed, &d.into()).await
        }
        PartnerEventKind::KeepRunning(d) => start::start(deps, &tenant, &parsed, &d.into()).await,
        PartnerEventKind::StopRequested(d) => stop::stop(deps, &tenant, &parsed, d).await,
        PartnerEventKind::PolicyUpdated(_) => policy::policy(deps, tenant.clone(), &parsed).await,
        PartnerEventKind::PlanUpdated(_)
        | PartnerEventKind::CalendarLoaded(_)
        | PartnerEventKind::PoolOverride(_) => {
            Box::pin(crate::plans::handle(deps, &tenant, &parsed)).await
        }
        _ => crate::pools::handle(deps, &tenant, &parsed).await,
    };
    match result {
        Err(Handled::Rejected(r)) => {
            Err(reject(deps, event, Some(&tenant.tenant_id), &r, now).await)
        }
        Err(Handled::Failed(e)) => Err(e),
        Ok(p) => Ok(p),
    }
}

/// Why an event was not processed: refused (recorded as a rejection) or failed.
pub(crate) enum Handled {
    Rejected(Rejection),
    Failed(Error),
}

impl From<Error> for Handled {
    fn from(e: Error) -> Self {
        Handled::Failed(e)
    }
}

impl From<steward_shared::aws::AwsError> for Handled {
    fn from(e: steward_shared::aws::AwsError) -> Self {
        Handled::Failed(e.into())
    }
}

impl From<StoreError> for Handled {
    fn from(e: StoreError) -> Self {
        Handled::Failed(e.into())
    }
}

/// The tenant's record of `workspace`; a desktop not in Steward's registry is refused.
async fn desktop(
    deps: &Deps,
    tenant: &Tenant,
    workspace: &WorkspaceId,
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

/// Writes `ws`, conditional on the version it was read at; `None` when a concurrent write
/// came first (the event is decided again on the fresh record).
async fn write(deps: &Deps, ws: &WorkspaceRecord) -> Result<Option<WorkspaceRecord>, Handled> {
    match deps.store.update_workspace(ws).await {
        Ok(w) => Ok(Some(w)),
        Err(StoreError::VersionConflict { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn processed(e: &PartnerEvent, result: EventOutcome, writes: usize) -> Processed {
    Processed {
        event_id: e.event_id.to_string(),
        result,
        writes,
        actions: Vec::new(),
    }
}

pub(crate) fn conflict(event: &PartnerEvent) -> Error {
    Error::refused(
        names::CONFLICT,
        format!(
            "event {} lost the race for its record {MAX_ATTEMPTS} times; EventBridge will redeliver it",
            event.event_id
        ),
    )
}

pub(crate) fn actor(event: &PartnerEvent) -> Actor {
    Actor::PartnerEvent {
        event_id: event.event_id.clone(),
    }
}

/// Books what a start or stop request learnt and did (usage, audit records, events) once
/// its write went through, and answers.
async fn finish(
    deps: &Deps,
    event: &PartnerEvent,
    result: EventOutcome,
    fresh: &Fresh,
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
