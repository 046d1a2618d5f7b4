//! `Users Loaded` and `User Removed`.
//!
//! A load writes each user (id, display name, the pools the user may use) unless a newer
//! event already changed that user; writes run 16 at a time, so a 500-user event is a few
//! seconds of table time at most. A load is idempotent: delivered again, every write is
//! superseded and nothing changes.
//!
//! A removal leaves a tombstone (no name, no pools: nothing about the user is kept but the
//! id) that a late, older load cannot overwrite, and lets go of the user's desktops at
//! once: a floating pool's desktop goes through the pool's release plan without its delay;
//! a dedicated desktop is terminated, because its user volume holds the removed user's
//! files and no release plan empties it (the pool grows back to `minSize` in its upkeep).

use serde_json::json;
use steward_shared::events::{UserRef, UsersLoadedDetail};
use steward_shared::model::{AuditOutcome, Presence, UserRecord, stamp_of};
use steward_shared::pools::AssignmentPolicy;
use steward_shared::store::{
    PageRequest, PoolStore, UserStore, UserWrite, WorkspaceStore, collect_all,
};

use super::release::{Release, release_desktop};
use super::{Ctx, Recorded, answer, finish};
use crate::power::partner_events::{EventOutcome, Handled, Processed};
use crate::record::{ActionName, outbound_types as ot};

/// Users written at once.
const CONCURRENT_WRITES: usize = 16;

/// Whether users were loaded or removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum Change {
    Loaded,
    Removed,
}

pub(super) async fn load(ctx: &Ctx<'_>, d: &UsersLoadedDetail) -> Result<Processed, Handled> {
    let records: Vec<UserRecord> = d
        .users
        .iter()
        .map(|u| UserRecord {
            tenant_id: ctx.tenant.tenant_id.clone(),
            user_id: u.user_id.clone(),
            display_name: u.display_name.clone(),
            pools: u.pools.clone(),
            presence: Presence::Active,
            changed_at: d.occurred_at,
            stamp: stamp_of(d.occurred_at),
        })
        .collect();
    let mut written: Vec<bool> = Vec::with_capacity(records.len());
    for chunk in records.chunks(CONCURRENT_WRITES) {
        let puts = chunk
            .iter()
            .map(|r| ctx.deps.store.put_user(r, UserWrite::Newer));
        for outcome in futures::future::join_all(puts).await {
            written.push(outcome?);
        }
    }
    let users = written.iter().filter(|w| **w).count();
    if users == 0 {
        return Ok(answer(ctx.event, EventOutcome::Unchanged, 0, &[]));
    }
    let superseded = written.len() - users;
    let action = ctx.action(Recorded {
        workspace: None,
        action: ActionName::UsersLoaded,
        reason: format!("{users} users loaded ({superseded} already changed by a newer event)"),
        outcome: AuditOutcome::Succeeded,
        detail_type: ot::USERS_CHANGED,
        details: json!({"change": Change::Loaded, "users": users, "superseded": superseded}),
    });
    finish(ctx, EventOutcome::UsersChanged, users, &[action]).await
}

pub(super) async fn remove(ctx: &Ctx<'_>, d: &UserRef) -> Result<Processed, Handled> {
    let tomb = UserRecord {
        tenant_id: ctx.tenant.tenant_id.clone(),
        user_id: d.user_id.clone(),
        display_name: None,
        pools: Vec::new(),
        presence: Presence::Gone,
        changed_at: d.occurred_at,
        stamp: stamp_of(d.occurred_at),
    };
    if !ctx
        .deps
        .store
        .put_user(&tomb, UserWrite::NewerOrSame)
        .await?
    {
        return Ok(answer(ctx.event, EventOutcome::Unchanged, 0, &[]));
    }
    let held = collect_all(|page: PageRequest| {
        ctx.deps.store.list_workspaces(&ctx.tenant.tenant_id, page)
    })
    .await?
    .into_iter()
    .filter(|w| {
        w.pool
            .as_ref()
            .is_some_and(|s| s.assigned_to.as_ref() == Some(&d.user_id))
    });
    let resizer = ctx.resizer();
    let mut reports = Vec::new();
    let mut writes = 1;
    for desktop in held {
        let Some(seat) = &desktop.pool else { continue };
        let Some(pool) = ctx
            .deps
            .store
            .get_pool(&ctx.tenant.tenant_id, &seat.pool_id)
            .await?
        else {
            continue;
        };
        if pool.assignment == AssignmentPolicy::Dedicated {
            let shrunk = resizer
                .shrink(pool, std::slice::from_ref(&desktop), "its user was removed")
                .await?;
            writes += shrunk.gone;
            reports.extend(shrunk.report);
            continue;
        }
        let released = release_desktop(Release {
            deps: ctx.deps,
            tenant: ctx.tenant,
            pool: &pool,
            record: desktop.clone(),
            user: &d.user_id,
            actor: &ctx.actor,
            now: ctx.now(),
            immediate: true,
        })
        .await?;
        writes += released.writes;
        reports.extend(released.actions);
    }
    let action = ctx.action(Recorded {
        workspace: None,
        action: ActionName::UserRemoved,
        reason: format!("user {} removed", d.user_id),
        outcome: AuditOutcome::Succeeded,
        detail_type: ot::USERS_CHANGED,
        details: json!({"change": Change::Removed, "users": 1, "superseded": 0}),
    });
    let mut processed = finish(ctx, EventOutcome::UsersChanged, writes, &[action]).await?;
    processed.actions.extend(reports);
    Ok(processed)
}
