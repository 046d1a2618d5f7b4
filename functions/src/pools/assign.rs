//! `Desktop Assignment Requested`: which desktop of the pool the user gets.
//!
//! Every request is answered: `Desktop Assigned {workspaceId, state}` or `Desktop
//! Assignment Failed {failure}` (the user or the pool unknown, the user not entitled to the
//! pool, the pool exhausted, the desktops not created).
//!
//! The request is claimed by its event id first (one conditional write): a redelivery,
//! even after the desktop was released, does nothing. Then [`pick`] decides on the pool's
//! desktops and one conditional write of the chosen desktop's record claims it, so of two
//! requests for the last free desktop exactly one wins; the loser decides again on fresh
//! records. A STOPPED desktop is started (StartWorkspaces) before its claim is written —
//! the claim then records the start as its pending call, and reconciliation reports
//! `Desktop Available` when it is up; a desktop still being created is assigned at once and
//! reported by its creation's completion. With nothing to claim, the pool grows (a write of
//! the pool record at its version, so never past `maxSize`) and the request claims one of
//! the new desktops; a request that finds the pool at its maximum while a concurrent growth
//! is still registering its desktops waits for them (at most 3 s) before it answers
//! "exhausted". A held desktop that is STOPPED is started again. The claimed desktop gets a
//! lease, so the idle sweep does not stop it before the user connects.
//!
//! The claim by event id is made by [`super::handle`], which gives it back when handling
//! fails, so the retry is answered.

use serde_json::json;
use steward_shared::events::AssignmentRequestDetail;
use steward_shared::gateway::ItemOutcome;
use steward_shared::gateway::workspaces::WorkspacesGateway;
use steward_shared::ids::WorkspaceId;
use steward_shared::model::{
    AuditOutcome, PoolRecord, Presence, StewardAction, StewardCall, WorkspaceRecord, WorkspaceState,
};
use steward_shared::pools::assign::{Pick, pick};
use steward_shared::store::{PoolStore, StoreError, UserStore, WorkspaceStore};

use super::{Ctx, MAX_ATTEMPTS, Recorded, clients_for, finish, reread_pool};
use crate::power::partner_events::{EventOutcome, Handled, Processed, conflict};
use crate::record::{ActionName, PowerAction, failed, outbound_types as ot};

/// How often, and how long each time, a request waits for desktops a concurrent growth is
/// creating (reserved on the pool, not registered yet) before it answers "exhausted".
const MAX_WAITS: usize = 10;
const GROWTH_WAIT: std::time::Duration = std::time::Duration::from_millis(300);

/// How long an assigned desktop is kept running for its user to connect.
pub const ASSIGNMENT_LEASE_MINUTES: i64 = 30;

/// Why an assignment request could not be met (`failure` of `Desktop Assignment Failed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Failure {
    PoolExhausted,
    PoolUnknown,
    UserUnknown,
    UserNotEntitled,
    DesktopsNotCreated,
    /// The pool's power plan is outside its windows (a held desktop is still given back).
    PoolClosed,
}

impl Failure {
    /// The wire name (`POOL_EXHAUSTED`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Failure::PoolExhausted => "POOL_EXHAUSTED",
            Failure::PoolUnknown => "POOL_UNKNOWN",
            Failure::UserUnknown => "USER_UNKNOWN",
            Failure::UserNotEntitled => "USER_NOT_ENTITLED",
            Failure::DesktopsNotCreated => "DESKTOPS_NOT_CREATED",
            Failure::PoolClosed => "POOL_CLOSED",
        }
    }

    fn says(self) -> &'static str {
        match self {
            Failure::PoolExhausted => "the pool is at its maximum and no desktop is free",
            Failure::PoolUnknown => "the pool does not exist",
            Failure::UserUnknown => "the user was never loaded or was removed",
            Failure::UserNotEntitled => "the user's policy does not include the pool",
            Failure::DesktopsNotCreated => "the pool had to grow and the service created none",
            Failure::PoolClosed => "the pool's power plan is outside its windows",
        }
    }
}

pub(super) async fn assign(
    ctx: &Ctx<'_>,
    d: &AssignmentRequestDetail,
) -> Result<Processed, Handled> {
    let mut pool = match entitled_pool(ctx, d).await? {
        Ok(pool) => pool,
        Err(failure) => return refuse(ctx, d, failure).await,
    };
    let closed =
        crate::plans::govern::assignments_closed(ctx.deps, &ctx.tenant.tenant_id, &pool.pool_id)
            .await?;
    let mut started: Option<WorkspaceId> = None;
    let mut waits = 0;
    // The growths this request made, shown before its answer.
    let mut grew: Vec<PowerAction> = Vec::new();
    for _ in 0..MAX_ATTEMPTS + MAX_WAITS {
        let records = ctx
            .deps
            .store
            .pool_desktops(&ctx.tenant.tenant_id, &pool.pool_id)
            .await?;
        let views: Vec<_> = records
            .iter()
            .filter_map(WorkspaceRecord::pool_desktop)
            .collect();
        let choice = pick(&d.user_id, pool.assignment, &views, pool.may_grow());
        let (chosen, again) = match choice {
            Pick::Held(ws) => {
                let record = find(&records, &ws)?;
                let again = record
                    .pool
                    .as_ref()
                    .and_then(|s| s.assignment_event.as_ref())
                    != Some(&ctx.event.event_id);
                // A held desktop that was stopped (a dedicated one overnight) is started.
                if record.state != WorkspaceState::Stopped {
                    return assigned(ctx, d, record, again, 1).await;
                }
                (ws, again)
            }
            // A closed pool gives back the user's own desktop (held, or within its release
            // delay), nothing new.
            Pick::Claim(_) | Pick::Grow if closed => {
                return refuse(ctx, d, Failure::PoolClosed).await;
            }
            Pick::Reclaim(ws) | Pick::Claim(ws) => (ws, false),
            Pick::Grow => {
                let resizer = ctx.resizer();
                match resizer.grow(&pool, pool.growth()).await? {
                    Some((_, growth)) if growth.created.is_empty() => {
                        let mut p = refuse(ctx, d, Failure::DesktopsNotCreated).await?;
                        p.actions.splice(0..0, growth.report);
                        return Ok(p);
                    }
                    Some((grown, growth)) => {
                        pool = grown;
                        grew.extend(growth.report);
                    }
                    None => pool = reread_pool(ctx.deps, &pool).await?,
                }
                continue;
            }
            // Desktops a concurrent growth reserved are not registered yet: wait for them
            // rather than answer "exhausted" while they are on their way.
            Pick::Exhausted if pool.desktops as usize > records.len() && waits < MAX_WAITS => {
                waits += 1;
                tokio::time::sleep(GROWTH_WAIT).await;
                pool = reread_pool(ctx.deps, &pool).await?;
                continue;
            }
            Pick::Exhausted => {
                let mut p = refuse(ctx, d, Failure::PoolExhausted).await?;
                p.actions.splice(0..0, grew);
                return Ok(p);
            }
        };
        let mut record = find(&records, &chosen)?.clone();
        let now = ctx.now();
        if record.state == WorkspaceState::Stopped {
            if started.as_ref() != Some(&chosen) {
                start(ctx, &pool, &chosen).await?;
                started = Some(chosen.clone());
            }
            record.state = WorkspaceState::Starting;
            record.state_observed_at = now;
            record.last_call = Some(StewardCall::new(
                StewardAction::Start,
                now,
                Some(ctx.event.event_id.to_string()),
            ));
        }
        if let Some(seat) = record.pool.as_mut() {
            seat.assigned_to = Some(d.user_id.clone());
            seat.assigned_at = Some(now);
            seat.assignment_event = Some(ctx.event.event_id.clone());
            seat.releasing = None;
            seat.free_since = None;
        }
        // The assignment's lease; a longer keep-alive (a Keep Running) stays as it is.
        let lease = now + chrono::Duration::minutes(ASSIGNMENT_LEASE_MINUTES);
        if record.lease_until.is_none_or(|u| u < lease) {
            record.lease_until = Some(lease);
            record.lease_source = None;
        }
        match ctx.deps.store.update_workspace(&record).await {
            Ok(written) => {
                let mut p = assigned(ctx, d, &written, again, 2).await?;
                p.actions.splice(0..0, grew);
                return Ok(p);
            }
            Err(StoreError::VersionConflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Handled::Failed(conflict(ctx.event)))
}

fn find<'a>(
    records: &'a [WorkspaceRecord],
    ws: &WorkspaceId,
) -> Result<&'a WorkspaceRecord, Handled> {
    records
        .iter()
        .find(|r| &r.workspace_id == ws)
        .ok_or_else(|| {
            Handled::Failed(steward_shared::Error::refused(
                steward_shared::error::names::INVALID_STATE,
                format!("the chosen desktop {ws} is not among the pool's records"),
            ))
        })
}

/// StartWorkspaces for a STOPPED desktop about to be claimed.
async fn start(ctx: &Ctx<'_>, pool: &PoolRecord, ws: &WorkspaceId) -> Result<(), Handled> {
    let clients = clients_for(ctx.deps, ctx.tenant, pool).await;
    let gateway = WorkspacesGateway::new(clients.workspaces());
    let outcome = gateway.start(std::slice::from_ref(ws)).await?;
    match outcome.into_iter().next().map(|(_, o)| o) {
        Some(ItemOutcome::Accepted) | None => Ok(()),
        // It is starting or up already (someone else started it): the claim says STARTING
        // and reconciliation corrects it.
        Some(ItemOutcome::Failed { .. }) => Ok(()),
    }
}

/// Answers `Desktop Assigned`.
async fn assigned(
    ctx: &Ctx<'_>,
    d: &AssignmentRequestDetail,
    record: &WorkspaceRecord,
    again: bool,
    writes: usize,
) -> Result<Processed, Handled> {
    let action = ctx.action(Recorded {
        workspace: Some(&record.workspace_id),
        action: ActionName::Assign,
        reason: format!(
            "assigned to {} from pool {} ({}){}",
            d.user_id,
            d.pool_id,
            record.state.as_str(),
            if again { ", held already" } else { "" }
        ),
        outcome: AuditOutcome::Succeeded,
        detail_type: ot::DESKTOP_ASSIGNED,
        details: json!({
            "poolId": d.pool_id,
            "userId": d.user_id,
            "state": record.state,
            "requestId": ctx.event.event_id,
            "again": again,
        }),
    });
    finish(ctx, EventOutcome::Assigned, writes, &[action]).await
}

/// The pool the user asks for, when both exist and the user may use it; else why not.
async fn entitled_pool(
    ctx: &Ctx<'_>,
    d: &AssignmentRequestDetail,
) -> Result<Result<PoolRecord, Failure>, Handled> {
    let store = &ctx.deps.store;
    let user = store.get_user(&ctx.tenant.tenant_id, &d.user_id).await?;
    let pool = store.get_pool(&ctx.tenant.tenant_id, &d.pool_id).await?;
    Ok(match (user, pool) {
        (None, _) => Err(Failure::UserUnknown),
        (Some(u), _) if u.presence == Presence::Gone => Err(Failure::UserUnknown),
        (_, None) => Err(Failure::PoolUnknown),
        (_, Some(p)) if p.presence == Presence::Gone => Err(Failure::PoolUnknown),
        (Some(u), Some(_)) if !u.may_use(&d.pool_id) => Err(Failure::UserNotEntitled),
        (Some(_), Some(p)) => Ok(p),
    })
}

/// Answers `Desktop Assignment Failed`.
async fn refuse(
    ctx: &Ctx<'_>,
    d: &AssignmentRequestDetail,
    failure: Failure,
) -> Result<Processed, Handled> {
    let action = ctx.action(Recorded {
        workspace: None,
        action: ActionName::AssignmentFailed,
        reason: format!(
            "no desktop for {} from pool {}: {}",
            d.user_id,
            d.pool_id,
            failure.says()
        ),
        outcome: failed(steward_shared::error::names::INVALID_STATE, failure.says()),
        detail_type: ot::DESKTOP_ASSIGNMENT_FAILED,
        details: json!({
            "poolId": d.pool_id,
            "userId": d.user_id,
            "requestId": ctx.event.event_id,
            "failure": failure,
        }),
    });
    finish(ctx, EventOutcome::AssignmentFailed, 1, &[action]).await
}
