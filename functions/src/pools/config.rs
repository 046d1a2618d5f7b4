//! `Pool Created`, `Pool Updated`, `Pool Deleted`.
//!
//! A pool is created on a bundle and a directory of the tenant (both must carry the partner
//! tag: the customer role lets CreateWorkspaces use only those), in one of the tenant's
//! Regions, with a protocol plan that matches the bundle ([`protocol`]). It grows to
//! `minSize` at once. An update changes sizes, growth, cool-down, assignment policy or
//! release plan — never what the pool is built on. Each event is dated: one older than the
//! last change applied is superseded (a Created that arrives after an Updated changes
//! nothing), and a deleted pool stays as a tombstone so that a late event cannot bring it
//! back.
//!
//! A pool with a desktop assigned or being released is not deleted (refused by name, kept
//! for the dead-letter queue); otherwise its desktops are terminated and it is gone.

use serde_json::json;
use steward_shared::events::{DEFAULT_COOLDOWN_MINUTES, DEFAULT_GROW_BY, PoolDetail, PoolRef};
use steward_shared::events::{Rejection, check_pool_shape};
use steward_shared::gateway::workspaces::WorkspacesGateway;
use steward_shared::model::{AuditOutcome, PoolRecord, Presence};
use steward_shared::pools::PoolSize;
use steward_shared::pools::protocol::{self, ProtocolCheck};
use steward_shared::store::{PoolStore, StoreError};

use super::{Ctx, MAX_ATTEMPTS, Recorded, answer, clients_for, finish};
use crate::power::partner_events::{EventOutcome, Handled, Processed, conflict};
use crate::record::{ActionName, outbound_types as ot};

/// Whether a pool's configuration was created or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum Change {
    Created,
    Updated,
    Deleted,
}

/// A setting's name as the events spell it (`FLOATING`, `REBUILD`).
pub(super) fn wire_name(v: impl serde::Serialize) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

pub(super) async fn configure(
    ctx: &Ctx<'_>,
    d: &PoolDetail,
    creating: bool,
) -> Result<Processed, Handled> {
    for _ in 0..MAX_ATTEMPTS {
        let stored = ctx
            .deps
            .store
            .get_pool(&ctx.tenant.tenant_id, &d.pool_id)
            .await?;
        if stored
            .as_ref()
            .is_some_and(|p| d.occurred_at <= p.changed_at)
        {
            return Ok(answer(ctx.event, EventOutcome::Unchanged, 0, &[]));
        }
        let (next, change) = match &stored {
            Some(p) if p.presence == Presence::Active => {
                (updated(ctx, p, d).await?, Change::Updated)
            }
            tomb if creating => (created(ctx, d, tomb.as_ref()).await?, Change::Created),
            _ => {
                return Err(Handled::Rejected(Rejection::UnknownPool(
                    d.pool_id.to_string(),
                )));
            }
        };
        let written = match stored {
            Some(_) => ctx.deps.store.update_pool(&next).await,
            None => ctx.deps.store.create_pool(&next).await,
        };
        let pool = match written {
            Ok(p) => p,
            Err(StoreError::VersionConflict { .. } | StoreError::AlreadyExists { .. }) => continue,
            Err(e) => return Err(e.into()),
        };
        return settle(ctx, pool, change).await;
    }
    Err(Handled::Failed(conflict(ctx.event)))
}

/// Records the change, then grows the pool to its minimum.
async fn settle(ctx: &Ctx<'_>, pool: PoolRecord, change: Change) -> Result<Processed, Handled> {
    let action = ctx.action(Recorded {
        workspace: None,
        action: ActionName::PoolConfigured,
        reason: format!(
            "pool {} {} ({}, {}..{} desktops, release {} after {} min)",
            pool.pool_id,
            if change == Change::Created {
                "created"
            } else {
                "updated"
            },
            wire_name(pool.assignment),
            pool.size.min_size,
            pool.size.max_size,
            wire_name(pool.release.action),
            pool.release.delay_minutes,
        ),
        outcome: AuditOutcome::Succeeded,
        detail_type: ot::POOL_CHANGED,
        details: json!({
            "poolId": pool.pool_id,
            "change": change,
            "minSize": pool.size.min_size,
            "maxSize": pool.size.max_size,
            "desktops": pool.desktops,
        }),
    });
    let mut processed = finish(ctx, EventOutcome::PoolChanged, 1, &[action]).await?;
    let resizer = ctx.resizer();
    let mut pool = pool;
    for _ in 0..MAX_ATTEMPTS {
        let missing = pool.size.min_size.saturating_sub(pool.desktops);
        if missing == 0 || !pool.may_grow() {
            break;
        }
        match resizer
            .grow(&pool, missing.min(pool.size.max_size - pool.desktops))
            .await?
        {
            Some((_, growth)) => {
                processed.writes += 1;
                processed.actions.extend(growth.report);
                break;
            }
            None => {
                pool = match ctx
                    .deps
                    .store
                    .get_pool(&pool.tenant_id, &pool.pool_id)
                    .await?
                {
                    Some(p) => p,
                    None => break,
                };
            }
        }
    }
    Ok(processed)
}

/// A new pool from a `Pool Created` (whose required fields the parse checked), after the
/// checks on its bundle, directory, Region and protocol.
async fn created(
    ctx: &Ctx<'_>,
    d: &PoolDetail,
    tombstone: Option<&PoolRecord>,
) -> Result<PoolRecord, Handled> {
    let missing = |field: &'static str| {
        Handled::Rejected(Rejection::InvalidField(
            steward_shared::validate::ValidationError::new(
                field,
                steward_shared::validate::Problem::Missing,
            ),
        ))
    };
    let now = ctx.now();
    let region = match &d.region {
        Some(r) if ctx.tenant.regions.contains(r) => r.clone(),
        Some(r) => {
            return Err(Handled::Rejected(Rejection::ResourceNotOwned(format!(
                "Region {r}"
            ))));
        }
        None => ctx
            .tenant
            .regions
            .first()
            .cloned()
            .ok_or_else(|| missing("detail.region"))?,
    };
    let release = d
        .release_plan
        .ok_or_else(|| missing("detail.releasePlan"))?;
    let assignment = d.assignment.ok_or_else(|| missing("detail.assignment"))?;
    let size = PoolSize {
        min_size: d.min_size.ok_or_else(|| missing("detail.minSize"))?,
        max_size: d.max_size.ok_or_else(|| missing("detail.maxSize"))?,
        cooldown_minutes: d.cooldown_minutes.unwrap_or(DEFAULT_COOLDOWN_MINUTES),
    };
    check_pool_shape(size.min_size, size.max_size, assignment, release)
        .map_err(|e| Handled::Rejected(e.into()))?;
    let bundle = d
        .bundle_id
        .clone()
        .ok_or_else(|| missing("detail.bundleId"))?;
    let directory = d
        .directory_id
        .clone()
        .ok_or_else(|| missing("detail.directoryId"))?;
    let wanted = d.protocol.ok_or_else(|| missing("detail.protocol"))?;
    let protocol_check = protocol::check(
        wanted,
        ctx.tenant.bundle_protocols.get(&bundle).copied(),
        d.allow_unverified_protocol.unwrap_or(false),
    )
    .map_err(|m| Handled::Rejected(Rejection::ProtocolMismatch(m.to_string())))?;
    let mut pool = PoolRecord {
        tenant_id: ctx.tenant.tenant_id.clone(),
        pool_id: d.pool_id.clone(),
        region,
        directory_id: directory,
        bundle_id: bundle,
        protocol: wanted,
        protocol_check,
        size,
        grow_by: d.grow_by.unwrap_or(DEFAULT_GROW_BY),
        assignment,
        release,
        presence: Presence::Active,
        desktops: 0,
        next_name: 1,
        changed_at: d.occurred_at,
        created_at: now,
        updated_at: now,
        version: 0,
    };
    owned_resources(ctx, &pool).await?;
    // A tombstone of the same name: the new pool replaces it at its version, and its
    // desktops' names go on from where the old pool's stopped.
    if let Some(old) = tombstone {
        pool.version = old.version;
        pool.next_name = old.next_name;
    }
    Ok(pool)
}

/// The bundle and the directory exist in the pool's Region and carry the partner tag.
async fn owned_resources(ctx: &Ctx<'_>, pool: &PoolRecord) -> Result<(), Handled> {
    let clients = clients_for(ctx.deps, ctx.tenant, pool).await;
    let gateway = WorkspacesGateway::new(clients.workspaces());
    let tag = &ctx.tenant.partner_tag;
    let bundle_ok = gateway.bundle(&pool.bundle_id).await?.is_some()
        && gateway
            .carries_partner_tag(pool.bundle_id.as_str(), tag)
            .await?;
    if !bundle_ok {
        return Err(Handled::Rejected(Rejection::ResourceNotOwned(format!(
            "bundle {}",
            pool.bundle_id
        ))));
    }
    let directory_ok = gateway.directory(&pool.directory_id).await?.is_some()
        && gateway
            .carries_partner_tag(pool.directory_id.as_str(), tag)
            .await?;
    if !directory_ok {
        return Err(Handled::Rejected(Rejection::ResourceNotOwned(format!(
            "directory {}",
            pool.directory_id
        ))));
    }
    Ok(())
}

/// `p` with an update's changes applied and checked.
async fn updated(ctx: &Ctx<'_>, p: &PoolRecord, d: &PoolDetail) -> Result<PoolRecord, Handled> {
    let fixed = |f: &'static str| Err(Handled::Rejected(Rejection::PoolSettingFixed(f)));
    if d.region.as_ref().is_some_and(|r| r != &p.region) {
        return fixed("region");
    }
    if d.bundle_id.as_ref().is_some_and(|b| b != &p.bundle_id) {
        return fixed("bundleId");
    }
    if d.directory_id
        .as_ref()
        .is_some_and(|x| x != &p.directory_id)
    {
        return fixed("directoryId");
    }
    let mut next = p.clone();
    if let Some(wanted) = d.protocol {
        next.protocol_check = protocol::check(
            wanted,
            ctx.tenant.bundle_protocols.get(&p.bundle_id).copied(),
            d.allow_unverified_protocol
                .unwrap_or(p.protocol_check == ProtocolCheck::Unverified),
        )
        .map_err(|m| Handled::Rejected(Rejection::ProtocolMismatch(m.to_string())))?;
        next.protocol = wanted;
    }
    if let Some(v) = d.min_size {
        next.size.min_size = v;
    }
    if let Some(v) = d.max_size {
        next.size.max_size = v;
    }
    if let Some(v) = d.cooldown_minutes {
        next.size.cooldown_minutes = v;
    }
    if let Some(v) = d.grow_by {
        next.grow_by = v;
    }
    if let Some(v) = d.assignment {
        next.assignment = v;
    }
    if let Some(v) = d.release_plan {
        next.release = v;
    }
    check_pool_shape(
        next.size.min_size,
        next.size.max_size,
        next.assignment,
        next.release,
    )
    .map_err(|e| Handled::Rejected(e.into()))?;
    next.changed_at = d.occurred_at;
    next.updated_at = ctx.now();
    Ok(next)
}

pub(super) async fn delete(ctx: &Ctx<'_>, d: &PoolRef) -> Result<Processed, Handled> {
    for _ in 0..MAX_ATTEMPTS {
        let Some(pool) = ctx
            .deps
            .store
            .get_pool(&ctx.tenant.tenant_id, &d.pool_id)
            .await?
        else {
            return Err(Handled::Rejected(Rejection::UnknownPool(
                d.pool_id.to_string(),
            )));
        };
        if pool.presence == Presence::Gone || d.occurred_at <= pool.changed_at {
            return Ok(answer(ctx.event, EventOutcome::Unchanged, 0, &[]));
        }
        let desktops = ctx
            .deps
            .store
            .pool_desktops(&ctx.tenant.tenant_id, &pool.pool_id)
            .await?;
        let busy = desktops
            .iter()
            .filter(|w| {
                w.pool
                    .as_ref()
                    .is_some_and(|s| s.assigned_to.is_some() || s.releasing.is_some())
            })
            .count();
        if busy > 0 {
            return Err(Handled::Rejected(Rejection::InvalidState {
                operation: "Pool Deleted".into(),
                resource: format!("pool {}", pool.pool_id),
                state: format!("IN_USE ({busy} desktops assigned or being released)"),
            }));
        }
        let resizer = ctx.resizer();
        let shrunk = resizer
            .shrink(pool, &desktops, "the pool was deleted")
            .await?;
        let (pool, gone) = (shrunk.pool, shrunk.gone);
        let mut tomb = pool.clone();
        tomb.presence = Presence::Gone;
        tomb.changed_at = d.occurred_at;
        tomb.updated_at = ctx.now();
        let tomb = match ctx.deps.store.update_pool(&tomb).await {
            Ok(t) => t,
            Err(StoreError::VersionConflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        };
        crate::plans::retire_pool_plan(
            ctx.deps,
            &ctx.tenant.tenant_id,
            &tomb.pool_id,
            d.occurred_at,
        )
        .await;
        let action = ctx.action(Recorded {
            workspace: None,
            action: ActionName::PoolDeleted,
            reason: format!("pool {} deleted; {gone} desktops terminated", tomb.pool_id),
            outcome: AuditOutcome::Succeeded,
            detail_type: ot::POOL_CHANGED,
            details: json!({
                "poolId": tomb.pool_id,
                "change": Change::Deleted,
                "minSize": tomb.size.min_size,
                "maxSize": tomb.size.max_size,
                "desktops": tomb.desktops,
            }),
        });
        return finish(ctx, EventOutcome::PoolChanged, 1, &[action]).await;
    }
    Err(Handled::Failed(conflict(ctx.event)))
}
