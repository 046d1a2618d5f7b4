//! One tenant's sweep, idle or guard. Level-triggered: it looks at what the service reports
//! now and never relies on what it did last time.
//!
//! 1. read the tenant's desktops from the sparse sweep index: every MANUAL desktop but the
//!    TERMINATED, STOPPED ones included (one started from the console is found here);
//! 2. DescribeWorkspaces by id, 25 per call, paced by the tenant's token bucket;
//! 3. reconcile each record (drift, the service's own 48 h stop, when it became AVAILABLE,
//!    AVAILABLE periods closed into the usage ledger, Steward's own calls that ended: their
//!    completion events, [`super::observations`]) and decide with the pure policy
//!    ([`idle_decision`] / [`guard_decision`]), all before any write;
//! 4. write each desktop that needs it once — what reconciliation learnt together with the
//!    decision's mark (a warning, a stop's intent) — conditional on the version read, in
//!    batches ([`WorkspaceStore::update_workspaces`]); a quiet sweep writes nothing, and a
//!    desktop whose record changed since it was read (a session started) is left for the
//!    next sweep;
//! 5. stop in batches of 25; per-item FailedRequests restore the record; the ledger's
//!    additions go in one batch ([`UsageStore::add_usages`]);
//! 6. an audit record and an outbound event per action; dry-run records "would stop" and
//!    calls nothing.
//!
//! Only desktops in Steward's registry are ever named in a call. A whole-call AccessDenied
//! on a stop (the customer role's tag condition: a desktop lost the partner tag) is retried
//! one desktop at a time, so the untagged desktop is refused alone and reported.

use std::collections::HashMap;

use chrono::Duration;
use futures::StreamExt;
use serde::Serialize;
use steward_shared::Error;
use steward_shared::aws::{AwsErrorKind, TenantAccess};
use steward_shared::error::names;
use steward_shared::gateway::ItemOutcome;
use steward_shared::gateway::workspaces::{BATCH, Described, WorkspacesGateway};
use steward_shared::ids::{RegionName, WorkspaceId};
use steward_shared::model::{
    Actor, AuditOutcome, PowerPolicy, SWEEP_INDEX_VERSION, Tenant, Timestamp, WorkspaceRecord,
    WorkspaceState,
};
use steward_shared::power::{GuardDecision, IdleDecision, guard_decision, idle_decision};
use steward_shared::reconcile::{
    AvailablePeriod, Drift, Observation, Reconciled, Settled, reconcile,
};
use steward_shared::store::{
    PageRequest, StoreError, TenantStore, UsageDelta, UsageStore, WorkspaceStore, collect_all,
};

use super::SweepKind;
use super::events::{mark_stopping, period_usage, undo_stop, usage_until};
use super::observations::{completion, drift_reason};
use super::pace::{PaceConfig, Pacer};
use super::record::{Action, PowerAction, failed, outbound_types as ot, record_all};
use crate::Deps;

/// How a sweep runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepOptions {
    /// The sweep's schedule interval: the most an observed transition can be off by.
    pub interval: Duration,
    pub pace: PaceConfig,
}

impl Default for SweepOptions {
    fn default() -> Self {
        Self {
            interval: Duration::minutes(5),
            pace: PaceConfig::default(),
        }
    }
}

/// What one tenant's sweep did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TenantSweep {
    pub tenant_id: String,
    /// Desktops read from the sweep index.
    pub looked_at: usize,
    /// Desktops the service reported AVAILABLE.
    pub available: usize,
    pub stopped: usize,
    pub would_stop: usize,
    pub stop_failed: usize,
    pub warned: usize,
    pub drift: usize,
    /// Steward's own calls seen to end (completion events published).
    pub completed: usize,
    /// Records that changed under the sweep (left for the next one).
    pub conflicts: usize,
    /// WorkSpaces calls made.
    pub api_calls: usize,
    pub events_unpublished: usize,
    pub actions: Vec<PowerAction>,
}

/// Records per page of the sweep index (the store's largest page).
const SWEEP_PAGE: u32 = 1000;

/// Refused stops put back at once within one tenant's sweep.
const UNDO_CONCURRENCY: usize = 8;

struct Stop {
    before: WorkspaceRecord,
    written: WorkspaceRecord,
    reason: String,
    hard_limit: bool,
}

/// What the policy asks of one desktop.
enum Decision {
    Keep,
    Warn { age_minutes: i64 },
    Stop { reason: String, hard_limit: bool },
}

/// One desktop's reconciliation and decision, and the one write they need (if any), all
/// decided before any I/O.
struct Plan<'r> {
    before: &'r WorkspaceRecord,
    /// The record as reconciliation left it.
    current: WorkspaceRecord,
    /// Whether reconciliation learnt more than the observation time.
    changed: bool,
    drift: Vec<Drift>,
    closed: Option<AvailablePeriod>,
    settled: Option<Settled>,
    decision: Decision,
    /// `current` plus the decision's mark (warned, stopping), when there is anything to write.
    write: Option<WorkspaceRecord>,
}

impl<'r> Plan<'r> {
    fn new(
        before: &'r WorkspaceRecord,
        reconciled: Reconciled,
        decision: Decision,
        dry_run: bool,
        now: Timestamp,
    ) -> Self {
        let Reconciled {
            record: current,
            drift,
            closed,
            settled,
            ..
        } = reconciled;
        let mut unchanged = current.clone();
        unchanged.state_observed_at = before.state_observed_at;
        let changed = unchanged != *before;
        let write = match &decision {
            Decision::Warn { .. } => {
                let mut warned = current.clone();
                warned.guard_warned_at = Some(now);
                Some(warned)
            }
            Decision::Stop { .. } if !dry_run => {
                let mut stopping = current.clone();
                mark_stopping(&mut stopping, now, None);
                Some(stopping)
            }
            Decision::Keep | Decision::Stop { .. } => changed.then(|| current.clone()),
        };
        Self {
            before,
            current,
            changed,
            drift,
            closed,
            settled,
            decision,
            write,
        }
    }
}

/// What a desktop's write (or its absence) amounts to.
enum Effect {
    None,
    Warned { reason: String },
    WouldStop { reason: String },
    Stop(Box<Stop>),
}

fn decide(
    current: &WorkspaceRecord,
    kind: SweepKind,
    policy: &PowerPolicy,
    now: Timestamp,
) -> Decision {
    match kind {
        SweepKind::Idle => match idle_decision(current, policy, now) {
            IdleDecision::Stop { idle_since } => Decision::Stop {
                reason: format!(
                    "idle since {} (timeout {} min)",
                    idle_since.to_rfc3339(),
                    policy.idle_timeout_minutes
                ),
                hard_limit: false,
            },
            IdleDecision::Keep(_) => Decision::Keep,
        },
        SweepKind::Guard => match guard_decision(current, policy, now) {
            GuardDecision::StopIdle { age_minutes } => Decision::Stop {
                reason: format!(
                    "guard: AVAILABLE {age_minutes} min (threshold {}) with no live session",
                    policy.guard_threshold_minutes
                ),
                hard_limit: false,
            },
            GuardDecision::HardLimitStop { age_minutes } => Decision::Stop {
                reason: format!(
                    "guard hard limit: AVAILABLE {age_minutes} min (limit {}) with a live session; stopped before the service's forced stop",
                    policy.guard_hard_limit_minutes
                ),
                hard_limit: true,
            },
            GuardDecision::Warn { age_minutes } => Decision::Warn { age_minutes },
            GuardDecision::NotApplicable
            | GuardDecision::Fine { .. }
            | GuardDecision::AlreadyWarned { .. } => Decision::Keep,
        },
    }
}

/// Sweeps one tenant. An error means the tenant could not be swept (AccessDenied,
/// throttling past the retries, the table); the caller records it and goes on.
pub async fn sweep_tenant(
    deps: &Deps,
    tenant: &Tenant,
    kind: SweepKind,
    options: &SweepOptions,
) -> Result<TenantSweep, Error> {
    let mut out = TenantSweep {
        tenant_id: tenant.tenant_id.to_string(),
        ..TenantSweep::default()
    };
    if tenant.sweep_index < SWEEP_INDEX_VERSION {
        reindex(deps, tenant).await?;
    }
    let records = collect_all(|page: PageRequest| {
        let page = PageRequest {
            limit: Some(SWEEP_PAGE),
            ..page
        };
        deps.store.list_sweep_workspaces(&tenant.tenant_id, page)
    })
    .await?;
    out.looked_at = records.len();
    let mut by_region: HashMap<RegionName, Vec<WorkspaceRecord>> = HashMap::new();
    for r in records {
        by_region.entry(r.region.clone()).or_default().push(r);
    }
    let mut regions: Vec<_> = by_region.into_iter().collect();
    regions.sort_by(|a, b| a.0.cmp(&b.0));
    for (region, records) in regions {
        sweep_region(deps, tenant, &region, records, kind, options, &mut out).await?;
    }
    Ok(out)
}

/// Puts a tenant recorded by an earlier Steward in today's sweep index, once: every desktop
/// record that belongs there is written again (conditional on its version; the store
/// writes the index keys), then the tenant is marked. A record that changed meanwhile was
/// written by this version, index keys included; a lost race on the tenant only means the
/// next sweep does it again, harmlessly.
async fn reindex(deps: &Deps, tenant: &Tenant) -> Result<(), Error> {
    let all = collect_all(|page: PageRequest| {
        let page = PageRequest {
            limit: Some(SWEEP_PAGE),
            ..page
        };
        deps.store.list_workspaces(&tenant.tenant_id, page)
    })
    .await?;
    let due: Vec<WorkspaceRecord> = all.into_iter().filter(|r| r.needs_sweep()).collect();
    let written = deps.store.update_workspaces(&due).await?;
    let conflicts = written.iter().filter(|w| w.is_err()).count();
    if let Some(mut fresh) = deps.store.get_tenant(&tenant.tenant_id).await? {
        fresh.sweep_index = SWEEP_INDEX_VERSION;
        if let Err(e) = deps.store.update_tenant(&fresh).await {
            tracing::info!(tenant = %tenant.tenant_id, error = %e, "sweep index version not recorded; the next sweep re-indexes again");
        }
    }
    tracing::info!(tenant = %tenant.tenant_id, desktops = due.len(), conflicts, "re-indexed the tenant's desktops for the sweep");
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn sweep_region(
    deps: &Deps,
    tenant: &Tenant,
    region: &RegionName,
    records: Vec<WorkspaceRecord>,
    kind: SweepKind,
    options: &SweepOptions,
    out: &mut TenantSweep,
) -> Result<(), Error> {
    let clients = deps
        .clients
        .for_tenant(TenantAccess::new(tenant, region))
        .await;
    let gateway = WorkspacesGateway::new(clients.workspaces());
    let pacer = Pacer::new(options.pace);
    let ids: Vec<WorkspaceId> = records.iter().map(|r| r.workspace_id.clone()).collect();
    let mut described = Described::default();
    for chunk in ids.chunks(BATCH) {
        let _call = pacer.acquire().await;
        out.api_calls += 1;
        let d = gateway.describe(chunk).await.inspect_err(|e| {
            if e.kind == AwsErrorKind::AccessDenied {
                deps.clients.forget(&tenant.tenant_id);
            }
        })?;
        described.found.extend(d.found);
        described.absent.extend(d.absent);
        described.unreadable.extend(d.unreadable);
    }
    for u in &described.unreadable {
        tracing::warn!(tenant = %tenant.tenant_id, workspace = %u.workspace_id, why = %u.reason, "unreadable desktop in DescribeWorkspaces");
    }
    let found: HashMap<&str, &steward_shared::gateway::workspaces::Observed> = described
        .found
        .iter()
        .map(|o| (o.workspace_id.as_str(), o))
        .collect();
    let absent: std::collections::HashSet<&str> =
        described.absent.iter().map(|w| w.as_str()).collect();

    let now = deps.now();
    let policy = &tenant.policy;
    let actor = match kind {
        SweepKind::Idle => Actor::IdleSweep,
        SweepKind::Guard => Actor::GuardSweep,
    };
    // 1. What each desktop needs, decided without I/O.
    let mut plans = Vec::with_capacity(records.len());
    for record in &records {
        let seen = if let Some(o) = found.get(record.workspace_id.as_str()) {
            Observation::Seen {
                state: o.state,
                running_mode: o.running_mode.unwrap_or(record.running_mode),
            }
        } else if absent.contains(record.workspace_id.as_str()) {
            Observation::Absent
        } else {
            continue; // unreadable: left as it is
        };
        let reconciled = reconcile(record, seen, policy, now, options.interval);
        if reconciled.record.state == WorkspaceState::Available {
            out.available += 1;
        }
        let decision = decide(&reconciled.record, kind, policy, now);
        plans.push(Plan::new(record, reconciled, decision, policy.dry_run, now));
    }
    // 2. Every desktop that needs a write gets exactly one — what reconciliation learnt and
    //    the decision's mark together — each conditional on the version read, batched. A
    //    record that changed under the sweep (a session started) is left for the next one.
    let writes: Vec<WorkspaceRecord> = plans.iter().filter_map(|p| p.write.clone()).collect();
    let mut written = deps.store.update_workspaces(&writes).await?.into_iter();
    // 3. Counted and reported in the records' order.
    let mut actions: Vec<Action<'_>> = Vec::new();
    let mut stops: Vec<Stop> = Vec::new();
    let mut usage: Vec<UsageDelta> = Vec::new();
    for plan in plans {
        let stored = match plan.write {
            None => None,
            Some(_) => match written.next() {
                Some(Ok(w)) => Some(w),
                Some(Err(StoreError::VersionConflict { .. } | StoreError::NotFound { .. })) => {
                    out.conflicts += 1;
                    continue;
                }
                Some(Err(e)) => return Err(e.into()),
                None => {
                    return Err(Error::from(StoreError::Request {
                        message: "a desktop write has no outcome".into(),
                        source: "update_workspaces".into(),
                    }));
                }
            },
        };
        let workspace = &plan.before.workspace_id;
        let mut push = |action: &'static str, reason: String, outcome, detail_type, details| {
            actions.push(Action {
                tenant: &tenant.tenant_id,
                workspace: Some(workspace),
                actor: actor.clone(),
                action,
                reason,
                outcome,
                detail_type,
                at: now,
                details,
            });
        };
        if plan.changed && stored.is_some() {
            if let Some(period) = &plan.closed {
                usage.extend(period_usage(plan.before, period));
            }
            for d in plan.drift {
                out.drift += 1;
                push(
                    "drift",
                    drift_reason(d, plan.before, &plan.current, policy),
                    AuditOutcome::Succeeded,
                    ot::DESKTOP_DRIFT,
                    None,
                );
            }
            if let Some(c) = plan.settled.as_ref().and_then(completion) {
                out.completed += 1;
                push(
                    c.action,
                    c.reason,
                    c.outcome,
                    c.detail_type,
                    Some(c.details),
                );
            }
        }
        let effect = match (plan.decision, stored) {
            (Decision::Keep, _) => Effect::None,
            (Decision::Warn { age_minutes }, Some(_)) => {
                let forced_at = plan
                    .current
                    .available_since
                    .map(|s| s + Duration::minutes(i64::from(policy.service_forced_stop_minutes)));
                Effect::Warned {
                    reason: format!(
                        "AVAILABLE {age_minutes} min with a live session; the service stops it at {}",
                        forced_at.map_or_else(|| "an unknown time".to_owned(), |t| t.to_rfc3339())
                    ),
                }
            }
            (Decision::Stop { reason, .. }, _) if policy.dry_run => Effect::WouldStop { reason },
            (Decision::Stop { reason, hard_limit }, Some(w)) => Effect::Stop(Box::new(Stop {
                before: plan.current,
                written: w,
                reason,
                hard_limit,
            })),
            // A warning or a stop is always written first.
            (Decision::Warn { .. } | Decision::Stop { .. }, None) => Effect::None,
        };
        match effect {
            Effect::None => {}
            Effect::Warned { reason } => {
                out.warned += 1;
                push(
                    "guard_warning",
                    reason,
                    AuditOutcome::Succeeded,
                    ot::DESKTOP_GUARD_WARNING,
                    None,
                );
            }
            Effect::WouldStop { reason } => {
                out.would_stop += 1;
                push(
                    "would_stop",
                    reason,
                    AuditOutcome::DryRun,
                    ot::DESKTOP_WOULD_STOP,
                    None,
                );
            }
            Effect::Stop(stop) => stops.push(*stop),
        }
    }

    // Stops, 25 per call. An accepted stop closes the AVAILABLE period into the ledger; a
    // refused one puts the record back.
    for chunk in stops.chunks(BATCH) {
        let ids: Vec<WorkspaceId> = chunk
            .iter()
            .map(|s| s.before.workspace_id.clone())
            .collect();
        let outcomes = stop_batch(&gateway, &pacer, &ids, out).await;
        let mut undo = Vec::new();
        for (stop, outcome) in chunk.iter().zip(outcomes) {
            let ws = &stop.before.workspace_id;
            match outcome {
                ItemOutcome::Accepted => {
                    out.stopped += 1;
                    usage.extend(usage_until(&stop.before, now));
                    actions.push(Action {
                        tenant: &tenant.tenant_id,
                        workspace: Some(ws),
                        actor: actor.clone(),
                        action: if stop.hard_limit {
                            "hard_limit_stop"
                        } else {
                            "stop"
                        },
                        reason: stop.reason.clone(),
                        outcome: AuditOutcome::Succeeded,
                        detail_type: ot::DESKTOP_STOPPING,
                        at: now,
                        details: None,
                    });
                }
                ItemOutcome::Failed { code, message } => {
                    out.stop_failed += 1;
                    undo.push(undo_stop(deps, &stop.written, &stop.before));
                    actions.push(Action {
                        tenant: &tenant.tenant_id,
                        workspace: Some(ws),
                        actor: actor.clone(),
                        action: if stop.hard_limit {
                            "hard_limit_stop"
                        } else {
                            "stop"
                        },
                        reason: format!("{} — StopWorkspaces refused it: {code}", stop.reason),
                        outcome: failed(&code, message),
                        detail_type: ot::DESKTOP_POWER_FAILED,
                        at: now,
                        details: None,
                    });
                }
            }
        }
        futures::stream::iter(undo)
            .buffer_unordered(UNDO_CONCURRENCY)
            .collect::<Vec<()>>()
            .await;
    }
    deps.store.add_usages(&usage).await?;
    out.actions.extend(actions.iter().map(Action::report));
    out.events_unpublished += record_all(deps, &actions).await?;
    // Image operations that ended (no call when none is pending in this Region). Their
    // failure to be described leaves them pending for the next sweep.
    let images = super::images::settle(
        deps,
        tenant,
        region,
        clients.workspaces(),
        &actor,
        options.interval,
    );
    match images.await {
        Ok((calls, ended)) => {
            out.api_calls += calls;
            out.completed += ended.len();
            out.actions.extend(ended);
        }
        Err(e) => {
            tracing::warn!(tenant = %tenant.tenant_id, %region, error = %e, "pending images not described; the next sweep tries again");
        }
    }
    Ok(())
}

/// One StopWorkspaces call for up to 25 desktops; a whole-call failure becomes a failure of
/// each item (AccessDenied is retried one desktop at a time: see the module docs).
async fn stop_batch(
    gateway: &WorkspacesGateway<'_>,
    pacer: &Pacer,
    ids: &[WorkspaceId],
    out: &mut TenantSweep,
) -> Vec<ItemOutcome> {
    let call = pacer.acquire().await;
    out.api_calls += 1;
    let whole = gateway.stop(ids).await;
    drop(call);
    match whole {
        Ok(v) => v.into_iter().map(|(_, o)| o).collect(),
        Err(e) if e.kind == AwsErrorKind::AccessDenied && ids.len() > 1 => {
            let mut each = Vec::with_capacity(ids.len());
            for id in ids {
                let _call = pacer.acquire().await;
                out.api_calls += 1;
                each.push(match gateway.stop(std::slice::from_ref(id)).await {
                    Ok(v) => v
                        .into_iter()
                        .next()
                        .map_or_else(|| whole_call(names::AWS, "no outcome"), |(_, o)| o),
                    Err(e) => whole_call(e.kind.name(), &e.to_string()),
                });
            }
            each
        }
        Err(e) => ids
            .iter()
            .map(|_| whole_call(e.kind.name(), &e.to_string()))
            .collect(),
    }
}

fn whole_call(code: &str, message: &str) -> ItemOutcome {
    ItemOutcome::Failed {
        code: code.to_owned(),
        message: message.to_owned(),
    }
}
