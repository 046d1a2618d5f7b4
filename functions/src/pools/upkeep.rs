//! The pools' upkeep, run by the idle sweep for each tenant after it reconciled the
//! tenant's desktops (so the states it decides on are fresh):
//!
//! 1. each release whose delay ran out takes its plan's next step, and each whose RESTORE or
//!    REBUILD the service has finished returns its desktop to the pool
//!    ([`super::release::advance_one`]);
//! 2. free desktops above `minSize` that stayed free for the cool-down are terminated
//!    ([`resize`], never one assigned or being released);
//! 3. a pool below `minSize` (a removed user's dedicated desktop terminated, creations the
//!    service refused, a desktop terminated outside Steward) grows back.
//!
//! Before 2., the pool's count of desktops is set to its desktop records when the two differ
//! and the pool has not changed for [`SETTLED_MINUTES`] (no growth can be registering its
//! desktops then): a desktop terminated outside Steward, whose record the sweep removed,
//! gives its place back.
//!
//! One pool's failure is reported and does not stop the others'.

use serde::Serialize;
use steward_shared::Error;
use steward_shared::model::{
    Actor, PoolRecord, Presence, Tenant, Timestamp, WorkspaceRecord, WorkspaceState,
};
use steward_shared::pools::resize::resize;
use steward_shared::store::{PoolStore, WorkspaceStore};

use super::grow::Resizer;
use super::release::{Advance, advance_one};
use crate::deps::Deps;
use crate::record::{Action, ActionName, PowerAction, failed, outbound_types as ot, record_all};

/// What one tenant's upkeep did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Upkeep {
    pub pools: usize,
    /// Release steps taken (a plan's call made, a desktop returned).
    pub advanced: usize,
    pub created: usize,
    pub terminated: usize,
    /// Pools whose upkeep failed (`<pool>: <error>`), left for the next sweep.
    pub failures: Vec<String>,
    #[serde(skip)]
    pub actions: Vec<PowerAction>,
}

/// Runs the upkeep of every pool of `tenant` at `now`.
pub async fn upkeep(deps: &Deps, tenant: &Tenant, now: Timestamp) -> Result<Upkeep, Error> {
    let mut report = Upkeep::default();
    let pools = deps.store.list_pools(&tenant.tenant_id).await?;
    for pool in pools.into_iter().filter(|p| p.presence == Presence::Active) {
        report.pools += 1;
        let id = pool.pool_id.clone();
        if let Err(e) = one_pool(deps, tenant, pool, now, &mut report).await {
            tracing::error!(tenant = %tenant.tenant_id, pool = %id, error = %e, "pool upkeep failed");
            let failure = Action {
                tenant: &tenant.tenant_id,
                workspace: None,
                actor: Actor::IdleSweep,
                action: ActionName::Sweep,
                reason: format!(
                    "the upkeep of pool {id} could not complete; the next sweep tries again"
                ),
                outcome: failed(e.name(), e.to_string()),
                detail_type: ot::TENANT_SWEEP_FAILED,
                at: now,
                details: None,
            };
            record_all(deps, std::slice::from_ref(&failure)).await?;
            report.failures.push(format!("{id}: {}", e.name()));
        }
    }
    Ok(report)
}

/// How long a pool must be unchanged before its count is set to its records.
pub const SETTLED_MINUTES: i64 = 10;

/// The pool with its count of desktops set to its live records, when they differ and the
/// pool has settled. A concurrent change wins (the next sweep looks again).
async fn recount(
    deps: &Deps,
    pool: PoolRecord,
    records: &[WorkspaceRecord],
    now: Timestamp,
) -> Result<PoolRecord, Error> {
    let live = records
        .iter()
        .filter(|r| r.state != WorkspaceState::Terminated)
        .count() as u32;
    let settled = pool.updated_at + chrono::Duration::minutes(SETTLED_MINUTES) <= now;
    if live == pool.desktops || !settled {
        return Ok(pool);
    }
    tracing::warn!(tenant = %pool.tenant_id, pool = %pool.pool_id, counted = pool.desktops, records = live, "pool count set to its desktop records");
    let mut next = pool.clone();
    next.desktops = live;
    next.updated_at = now;
    match deps.store.update_pool(&next).await {
        Ok(p) => Ok(p),
        Err(steward_shared::store::StoreError::VersionConflict { .. }) => Ok(pool),
        Err(e) => Err(e.into()),
    }
}

async fn one_pool(
    deps: &Deps,
    tenant: &Tenant,
    pool: PoolRecord,
    now: Timestamp,
    report: &mut Upkeep,
) -> Result<(), Error> {
    let actor = Actor::IdleSweep;
    let records = deps
        .store
        .pool_desktops(&tenant.tenant_id, &pool.pool_id)
        .await?;
    let mut current: Vec<WorkspaceRecord> = Vec::with_capacity(records.len());
    for record in records {
        let releasing = record.pool.as_ref().is_some_and(|s| s.releasing.is_some());
        if !releasing {
            current.push(record);
            continue;
        }
        let id = record.workspace_id.clone();
        let step = Advance {
            deps,
            tenant,
            pool: &pool,
            actor: &actor,
            now,
        };
        let done = advance_one(step, record).await?;
        if done.writes > 0 {
            report.advanced += 1;
        }
        report.actions.extend(done.actions);
        // As the step left it; after a lost race (a request changed it), as it is now.
        match done.current {
            Some(r) => current.push(r),
            None => current.extend(deps.store.get_workspace(&tenant.tenant_id, &id).await?),
        }
    }
    let pool = recount(deps, pool, &current, now).await?;
    let views: Vec<_> = current
        .iter()
        .filter_map(WorkspaceRecord::pool_desktop)
        .collect();
    let decision = resize(&pool.size, &views, 0, now);
    let resizer = Resizer {
        deps,
        tenant,
        actor: &actor,
        now,
    };
    let mut pool = pool;
    if !decision.terminate.is_empty() {
        let going: Vec<WorkspaceRecord> = current
            .iter()
            .filter(|r| decision.terminate.contains(&r.workspace_id))
            .cloned()
            .collect();
        let shrunk = resizer
            .shrink(pool, &going, "free beyond minSize for the cool-down")
            .await?;
        report.terminated += shrunk.gone;
        report.actions.extend(shrunk.report);
        pool = shrunk.pool;
    }
    let missing = pool.size.min_size.saturating_sub(pool.desktops);
    if missing > 0
        && pool.may_grow()
        && let Some((_, growth)) = resizer.grow(&pool, missing).await?
    {
        report.created += growth.created.len();
        report.actions.extend(growth.report);
    }
    Ok(())
}
