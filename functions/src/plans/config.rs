//! `Power Plan Updated`, `Holiday Calendar Loaded` and `Pool Override`: each one dated write
//! of its record, conditional on the version read; an event older than the one that last
//! changed the record is superseded ("unchanged").

use serde_json::json;
use steward_shared::events::{CalendarDetail, PlanDetail, PoolOverrideDetail, Rejection};
use steward_shared::ids::PoolId;
use steward_shared::model::{
    BufferOverride, CalendarRecord, Month, PlanRecord, Presence, scope_name,
};
use steward_shared::store::{PlanStore, PoolStore, StoreError};

use super::{Ctx, MAX_ATTEMPTS};
use crate::power::partner_events::{EventOutcome, Handled, Processed, conflict};
use crate::record::{ActionName, outbound_types as ot};

/// The group's plan record as stored, or a new one; a pool must exist and be in use.
async fn group_record(ctx: &Ctx<'_>, pool: Option<&PoolId>) -> Result<PlanRecord, Handled> {
    let tenant = &ctx.tenant.tenant_id;
    if let Some(pool) = pool {
        let known = ctx.deps.store.get_pool(tenant, pool).await?;
        if !known.is_some_and(|p| p.presence == Presence::Active) {
            return Err(Handled::Rejected(Rejection::UnknownPool(pool.to_string())));
        }
    }
    Ok(ctx
        .deps
        .store
        .get_plan(tenant, pool)
        .await?
        .unwrap_or_else(|| {
            // A new group reports from its first whole month: the month it is made in counts
            // as reported (its always-on baseline would count hours before the plan).
            let mut new = PlanRecord::new(tenant.clone(), pool.cloned(), ctx.now());
            new.reported_month = Some(Month::of(ctx.now()));
            new
        }))
}

/// Whether a write lost a race (decide again on the fresh record).
pub(super) fn lost(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::VersionConflict { .. } | StoreError::AlreadyExists { .. }
    )
}

/// A deleted pool's plan and override are removed with it, so the sweep stops telling
/// about it and a pool made again under the same id starts without them. Best effort: a
/// failure is logged (the sweep finds no desktop of the pool to act on anyway).
pub(crate) async fn retire_pool_plan(
    deps: &crate::deps::Deps,
    tenant: &steward_shared::ids::TenantId,
    pool: &PoolId,
    at: steward_shared::model::Timestamp,
) {
    for _ in 0..MAX_ATTEMPTS {
        let record = match deps.store.get_plan(tenant, Some(pool)).await {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(tenant = %tenant, pool = %pool, error = %e, "a deleted pool's plan was not read");
                return;
            }
        };
        if record.plan.is_none() && record.override_.is_none() {
            return;
        }
        let mut next = record.clone();
        next.plan = None;
        next.override_ = None;
        next.changed_at = Some(record.changed_at.map_or(at, |c| c.max(at)));
        match deps.store.put_plan(&next).await {
            Ok(_) => return,
            Err(e) if lost(&e) => continue,
            Err(e) => {
                tracing::warn!(tenant = %tenant, pool = %pool, error = %e, "a deleted pool's plan was not removed");
                return;
            }
        }
    }
}

pub(super) async fn plan(ctx: &Ctx<'_>, d: &PlanDetail) -> Result<Processed, Handled> {
    for _ in 0..MAX_ATTEMPTS {
        let mut record = group_record(ctx, d.pool_id.as_ref()).await?;
        if record.changed_at.is_some_and(|c| c >= d.occurred_at) {
            return Ok(ctx.unchanged());
        }
        record.plan = d.plan.clone();
        record.changed_at = Some(d.occurred_at);
        record.updated_at = ctx.now();
        match ctx.deps.store.put_plan(&record).await {
            Ok(_) => {}
            Err(e) if lost(&e) => continue,
            Err(e) => return Err(e.into()),
        }
        let scope = scope_name(d.pool_id.as_ref());
        let (change, reason) = match &d.plan {
            Some(p) => (
                "SET",
                format!(
                    "power plan of {scope} set: {} window(s) in {}",
                    p.windows.len(),
                    p.zone
                ),
            ),
            None => ("REMOVED", format!("power plan of {scope} removed")),
        };
        let missing = missing_calendars(ctx, d).await?;
        let reason = if missing.is_empty() {
            reason
        } else {
            format!(
                "{reason}; not loaded yet (no holidays until they are): {}",
                missing.join(", ")
            )
        };
        let details = json!({
            "scope": scope,
            "change": change,
            "windows": d.plan.as_ref().map_or(0, |p| p.windows.len()),
            "days": d.plan.as_ref().map_or(0, |p| p.closures.len()),
        });
        return ctx
            .finish(
                EventOutcome::PlanChanged,
                ActionName::PlanUpdated,
                reason,
                ot::POWER_PLAN_CHANGED,
                details,
            )
            .await;
    }
    Err(conflict(ctx.event).into())
}

/// Calendars the plan names that the tenant has not loaded (treated as empty until they
/// are: the answer says so, so the partner can load them).
async fn missing_calendars(ctx: &Ctx<'_>, d: &PlanDetail) -> Result<Vec<String>, Handled> {
    let Some(plan) = &d.plan else {
        return Ok(Vec::new());
    };
    let mut missing = Vec::new();
    for name in &plan.calendars {
        let found = ctx
            .deps
            .store
            .get_calendar(&ctx.tenant.tenant_id, name)
            .await?;
        if found.is_none() {
            missing.push(name.to_string());
        }
    }
    Ok(missing)
}

pub(super) async fn calendar(ctx: &Ctx<'_>, d: &CalendarDetail) -> Result<Processed, Handled> {
    // Checked when the event was parsed; a failure here would be a parser bug, refused.
    let days = d.dates().map_err(|e| Handled::Rejected(e.into()))?;
    let tenant = &ctx.tenant.tenant_id;
    for _ in 0..MAX_ATTEMPTS {
        let stored = ctx.deps.store.get_calendar(tenant, &d.name).await?;
        if stored
            .as_ref()
            .is_some_and(|c| c.changed_at >= d.occurred_at)
        {
            return Ok(ctx.unchanged());
        }
        let record = CalendarRecord {
            tenant_id: tenant.clone(),
            name: d.name.clone(),
            days: days.clone(),
            changed_at: d.occurred_at,
            version: stored.map_or(0, |c| c.version),
        };
        match ctx.deps.store.put_calendar(&record).await {
            Ok(_) => {}
            Err(e) if lost(&e) => continue,
            Err(e) => return Err(e.into()),
        }
        let dates: i64 = days.iter().map(|s| (s.to - s.from).num_days() + 1).sum();
        let spans = days.len();
        return ctx
            .finish(
                EventOutcome::PlanChanged,
                ActionName::CalendarLoaded,
                format!(
                    "holiday calendar {} loaded: {} span(s), {dates} date(s)",
                    d.name, spans
                ),
                ot::POWER_PLAN_CHANGED,
                json!({"calendar": d.name, "change": "LOADED", "windows": 0, "days": spans}),
            )
            .await;
    }
    Err(conflict(ctx.event).into())
}

pub(super) async fn pool_override(
    ctx: &Ctx<'_>,
    d: &PoolOverrideDetail,
) -> Result<Processed, Handled> {
    for _ in 0..MAX_ATTEMPTS {
        let mut record = group_record(ctx, d.pool_id.as_ref()).await?;
        if record
            .override_
            .as_ref()
            .is_some_and(|o| o.set_at >= d.occurred_at)
        {
            return Ok(ctx.unchanged());
        }
        record.override_ = Some(BufferOverride {
            buffer: d.buffer,
            until: d.until,
            set_at: d.occurred_at,
            reason: d.reason.clone(),
            ended: false,
        });
        record.updated_at = ctx.now();
        match ctx.deps.store.put_plan(&record).await {
            Ok(_) => {}
            Err(e) if lost(&e) => continue,
            Err(e) => return Err(e.into()),
        }
        let scope = scope_name(d.pool_id.as_ref());
        let details = json!({
            "scope": if d.pool_id.is_some() { "POOL" } else { "TENANT" },
            "poolId": d.pool_id,
            "until": d.until,
            "bufferCount": d.buffer.count,
            "bufferPercent": d.buffer.percent,
        });
        return ctx
            .finish(
                EventOutcome::OverrideSet,
                ActionName::PoolOverride,
                format!(
                    "warm capacity of {scope} overridden until {}",
                    d.until.to_rfc3339()
                ),
                ot::OVERRIDE_SET,
                details,
            )
            .await;
    }
    Err(conflict(ctx.event).into())
}
