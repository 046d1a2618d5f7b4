//! Releasing a pool desktop: `Desktop Release Requested`, or a `Session Ended` that leaves
//! an assigned desktop of a floating pool without a session.
//!
//! The release is two steps, each one conditional write of the desktop's record:
//!
//! 1. the user lets go: the desktop is unassigned and waits out the plan's delay
//!    (`Releasing::Delayed`), within which the same user gets it back (`Desktop Released`);
//! 2. when the delay is over ([`advance_one`], from the idle sweep's upkeep, or at once
//!    with no delay): `RETURN` frees it (`Desktop Returned`); `RESTORE` / `REBUILD` call
//!    RestoreWorkspace / RebuildWorkspaces and wait (`Releasing::Acting`) until the service
//!    shows the desktop up again, and only then free it — a desktop is never handed to a new
//!    user before its plan has finished. The call is written as the desktop's pending call,
//!    so reconciliation reports its end (`Lifecycle Operation Completed`) as for any other.
//!
//! The call of step 2 is made before its write: a write that then loses a race leaves the
//! call recorded nowhere but in the service, where reconciliation sees it as drift. It is
//! rare (the record changes only by this desktop's own events) and never unsafe: the
//! desktop stays out of the free set until a later pass writes it.

use serde_json::json;
use steward_shared::Error;
use steward_shared::events::{Rejection, ReleaseRequestDetail};
use steward_shared::gateway::ItemOutcome;
use steward_shared::gateway::workspaces::WorkspacesGateway;
use steward_shared::ids::UserId;
use steward_shared::model::{
    Actor, AuditOutcome, PoolRecord, StewardAction, StewardCall, Tenant, Timestamp,
    WorkspaceRecord, WorkspaceState,
};
use steward_shared::pools::release::{ReleaseStep, advance, on_release};
use steward_shared::pools::{AssignmentPolicy, Releasing};
use steward_shared::store::{PoolStore, StoreError, WorkspaceStore};

use super::config::wire_name;
use super::{Ctx, MAX_ATTEMPTS, answer, clients_for};
use crate::deps::Deps;
use crate::power::partner_events::{EventOutcome, Handled, Processed};
use crate::record::{Action, ActionName, PowerAction, failed, outbound_types as ot, record_all};

/// Where a release is, as `Desktop Released` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(super) enum Phase {
    /// The user let go; the plan acts at `dueAt` unless the user comes back.
    Delayed,
    /// The plan's call was made (or refused, and is tried again).
    Acting,
}

/// What releasing a desktop did.
#[derive(Debug, Default)]
pub(super) struct Released {
    pub writes: usize,
    pub actions: Vec<PowerAction>,
    /// The desktop's record as it now stands (written, or unchanged), when known; `None`
    /// after a lost race.
    pub current: Option<WorkspaceRecord>,
}

/// A release to carry out.
pub(super) struct Release<'a> {
    pub deps: &'a Deps,
    pub tenant: &'a Tenant,
    pub pool: &'a PoolRecord,
    /// The desktop's record as the caller read (or wrote) it: the first attempt decides on
    /// it, a lost race reads it again.
    pub record: WorkspaceRecord,
    pub user: &'a UserId,
    pub actor: &'a Actor,
    pub now: Timestamp,
    /// Skip the delay (the user was removed: nobody will reconnect).
    pub immediate: bool,
}

pub(super) async fn requested(
    ctx: &Ctx<'_>,
    d: &ReleaseRequestDetail,
) -> Result<Processed, Handled> {
    let Some(record) = ctx
        .deps
        .store
        .get_workspace(&ctx.tenant.tenant_id, &d.workspace_id)
        .await?
    else {
        return Err(Handled::Rejected(Rejection::NotOwned {
            tenant: ctx.tenant.tenant_id.to_string(),
            workspace: d.workspace_id.to_string(),
        }));
    };
    let held = record
        .pool
        .as_ref()
        .filter(|s| s.assigned_to.as_ref() == Some(&d.user_id));
    let Some(seat) = held else {
        // Released already (a redelivery, or after a `Session Ended`), or never the user's.
        let released_by_user = record.pool.as_ref().is_some_and(
            |s| matches!(&s.releasing, Some(Releasing::Delayed { user, .. }) if user == &d.user_id),
        );
        if released_by_user {
            return Ok(answer(ctx.event, EventOutcome::Unchanged, 0, &[]));
        }
        return Err(Handled::Rejected(Rejection::InvalidState {
            operation: "Desktop Release Requested".into(),
            resource: format!("desktop {}", d.workspace_id),
            state: "NOT_ASSIGNED_TO_THE_USER".into(),
        }));
    };
    let Some(pool) = ctx
        .deps
        .store
        .get_pool(&ctx.tenant.tenant_id, &seat.pool_id)
        .await?
    else {
        return Err(Handled::Rejected(Rejection::UnknownPool(
            seat.pool_id.to_string(),
        )));
    };
    let released = release_desktop(Release {
        deps: ctx.deps,
        tenant: ctx.tenant,
        pool: &pool,
        record: record.clone(),
        user: &d.user_id,
        actor: &ctx.actor,
        now: ctx.now(),
        immediate: false,
    })
    .await?;
    let result = if released.writes == 0 {
        EventOutcome::Unchanged
    } else {
        EventOutcome::Released
    };
    let mut p = answer(ctx.event, result, released.writes, &[]);
    p.actions = released.actions;
    Ok(p)
}

/// After a `Session Ended` was written: a floating pool's desktop its user held, with no
/// session left, is released.
pub(crate) async fn release_after_session(
    deps: &Deps,
    tenant: &Tenant,
    written: &WorkspaceRecord,
    actor: &Actor,
) -> Result<Vec<PowerAction>, Error> {
    let Some(seat) = &written.pool else {
        return Ok(Vec::new());
    };
    let Some(user) = &seat.assigned_to else {
        return Ok(Vec::new());
    };
    if !written.sessions.is_empty() {
        return Ok(Vec::new());
    }
    let Some(pool) = deps
        .store
        .get_pool(&tenant.tenant_id, &seat.pool_id)
        .await?
    else {
        return Ok(Vec::new());
    };
    if pool.assignment != AssignmentPolicy::Floating {
        return Ok(Vec::new());
    }
    let released = release_desktop(Release {
        deps,
        tenant,
        pool: &pool,
        record: written.clone(),
        user,
        actor,
        now: deps.now(),
        immediate: false,
    })
    .await?;
    Ok(released.actions)
}

/// Step 1 (and step 2 at once when there is no delay): the user lets go of the desktop.
pub(super) async fn release_desktop(r: Release<'_>) -> Result<Released, Error> {
    let mut out = Released::default();
    let workspace = r.record.workspace_id.clone();
    let mut read = Some(r.record.clone());
    for _ in 0..MAX_ATTEMPTS {
        let current = match read.take() {
            Some(given) => Some(given),
            None => {
                r.deps
                    .store
                    .get_workspace(&r.tenant.tenant_id, &workspace)
                    .await?
            }
        };
        let Some(mut record) = current else {
            return Ok(out);
        };
        let Some(seat) = record.pool.as_mut() else {
            return Ok(out);
        };
        if seat.assigned_to.as_ref() != Some(r.user) {
            return Ok(out);
        }
        let plan = if r.immediate {
            steward_shared::pools::ReleasePlan {
                delay_minutes: 0,
                ..r.pool.release
            }
        } else {
            r.pool.release
        };
        let ReleaseStep::Delay { user, due_at } = on_release(&plan, r.user, r.now) else {
            return Ok(out);
        };
        seat.assigned_to = None;
        seat.assigned_at = None;
        seat.assignment_event = None;
        seat.releasing = Some(Releasing::Delayed {
            user: user.clone(),
            due_at,
        });
        record.lease_until = None;
        record.lease_source = None;
        let written = match r.deps.store.update_workspace(&record).await {
            Ok(w) => w,
            Err(StoreError::VersionConflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        };
        out.writes += 1;
        let action = Action {
            tenant: &r.tenant.tenant_id,
            workspace: Some(&workspace),
            actor: r.actor.clone(),
            action: ActionName::Release,
            reason: format!(
                "released by {user}; {} at {} unless the user comes back",
                wire_name(r.pool.release.action),
                due_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            outcome: AuditOutcome::Succeeded,
            detail_type: ot::DESKTOP_RELEASED,
            at: r.now,
            details: Some(json!({
                "poolId": r.pool.pool_id,
                "userId": user,
                "releaseAction": r.pool.release.action,
                "phase": Phase::Delayed,
                "dueAt": due_at,
            })),
        };
        record_all(r.deps, std::slice::from_ref(&action)).await?;
        out.actions.push(action.report());
        if due_at <= r.now {
            let more = advance_one(
                Advance {
                    deps: r.deps,
                    tenant: r.tenant,
                    pool: r.pool,
                    actor: r.actor,
                    now: r.now,
                },
                written,
            )
            .await?;
            out.writes += more.writes;
            out.actions.extend(more.actions);
        }
        return Ok(out);
    }
    Err(Error::refused(
        steward_shared::error::names::CONFLICT,
        format!("the release of {workspace} lost the race for its record {MAX_ATTEMPTS} times"),
    ))
}

/// Who advances releases, and when.
pub(super) struct Advance<'a> {
    pub deps: &'a Deps,
    pub tenant: &'a Tenant,
    pub pool: &'a PoolRecord,
    pub actor: &'a Actor,
    pub now: Timestamp,
}

/// Step 2: the release plan's next step for one desktop, if its time has come.
pub(super) async fn advance_one(
    a: Advance<'_>,
    mut record: WorkspaceRecord,
) -> Result<Released, Error> {
    let mut out = Released::default();
    let Some(view) = record.pool_desktop() else {
        out.current = Some(record);
        return Ok(out);
    };
    let step = advance(&a.pool.release, &view, a.now);
    let (action, detail_type, reason, outcome, phase) = match step {
        ReleaseStep::Nothing | ReleaseStep::Delay { .. } => {
            out.current = Some(record);
            return Ok(out);
        }
        ReleaseStep::Free => {
            if let Some(seat) = record.pool.as_mut() {
                seat.releasing = None;
                seat.free_since = Some(a.now);
            }
            (
                ActionName::Returned,
                ot::DESKTOP_RETURNED,
                format!(
                    "{} finished: free in pool {}",
                    wire_name(a.pool.release.action),
                    a.pool.pool_id
                ),
                AuditOutcome::Succeeded,
                None,
            )
        }
        ReleaseStep::Restore | ReleaseStep::Rebuild => {
            call_plan(&a, &mut record, step == ReleaseStep::Rebuild).await
        }
    };
    let changed = matches!(outcome, AuditOutcome::Succeeded);
    if changed {
        match a.deps.store.update_workspace(&record).await {
            Ok(written) => {
                out.writes += 1;
                out.current = Some(written);
            }
            Err(StoreError::VersionConflict { .. }) => return Ok(out),
            Err(e) => return Err(e.into()),
        }
    }
    let details = match phase {
        Some(phase) => json!({
            "poolId": a.pool.pool_id,
            "userId": null,
            "releaseAction": a.pool.release.action,
            "phase": phase,
            "dueAt": a.now,
        }),
        None => json!({
            "poolId": a.pool.pool_id,
            "releaseAction": a.pool.release.action,
        }),
    };
    let recorded = Action {
        tenant: &a.tenant.tenant_id,
        workspace: Some(&record.workspace_id),
        actor: a.actor.clone(),
        action,
        reason,
        outcome,
        detail_type,
        at: a.now,
        details: Some(details),
    };
    record_all(a.deps, std::slice::from_ref(&recorded)).await?;
    out.actions.push(recorded.report());
    if !changed {
        out.current = Some(record);
    }
    Ok(out)
}

/// The release plan's RebuildWorkspaces / RestoreWorkspace for `record`; on acceptance the
/// record shows the operation under way (its state, its pending call, `Acting`).
async fn call_plan(
    a: &Advance<'_>,
    record: &mut WorkspaceRecord,
    rebuild: bool,
) -> (
    ActionName,
    &'static str,
    String,
    AuditOutcome,
    Option<Phase>,
) {
    let clients = clients_for(a.deps, a.tenant, a.pool).await;
    let gateway = WorkspacesGateway::new(clients.workspaces());
    let called = if rebuild {
        gateway
            .rebuild(&record.workspace_id)
            .await
            .map(|o| match o {
                ItemOutcome::Accepted => Ok(()),
                ItemOutcome::Failed { code, message } => Err(format!("{code}: {message}")),
            })
    } else {
        gateway.restore(&record.workspace_id).await.map(Ok)
    };
    let (name, call, state) = if rebuild {
        (
            ActionName::Rebuild,
            StewardAction::Rebuild,
            WorkspaceState::Rebuilding,
        )
    } else {
        (
            ActionName::Restore,
            StewardAction::Restore,
            WorkspaceState::Restoring,
        )
    };
    match called {
        Ok(Ok(())) => {
            record.state = state;
            record.state_observed_at = a.now;
            record.last_call = Some(StewardCall::new(call, a.now, None));
            if let Some(seat) = record.pool.as_mut() {
                seat.releasing = Some(Releasing::Acting { started_at: a.now });
            }
            (
                name,
                ot::DESKTOP_RELEASED,
                format!(
                    "{} started before the desktop returns to pool {}",
                    call.as_str(),
                    a.pool.pool_id
                ),
                AuditOutcome::Succeeded,
                Some(Phase::Acting),
            )
        }
        // Refused: the desktop stays out of the pool; the next upkeep tries again.
        Ok(Err(why)) => (
            name,
            ot::DESKTOP_RELEASED,
            format!("{} refused; tried again at the next sweep", call.as_str()),
            failed(steward_shared::error::names::OPERATION_FAILED, why),
            Some(Phase::Acting),
        ),
        Err(e) => (
            name,
            ot::DESKTOP_RELEASED,
            format!("{} failed; tried again at the next sweep", call.as_str()),
            failed(e.kind.name(), e.to_string()),
            Some(Phase::Acting),
        ),
    }
}
