//! One tenant's sweep, idle or guard. Level-triggered: it looks at what the service reports
//! now and never relies on what it did last time.
//!
//! 1. read the tenant's desktops from the sparse sweep index only (MANUAL, power-relevant);
//! 2. DescribeWorkspaces by id, 25 per call, paced by the tenant's token bucket;
//! 3. reconcile each record (drift, the service's own 48 h stop, when it became AVAILABLE,
//!    AVAILABLE periods closed into the usage ledger); a record is written only when
//!    something changed, so a quiet sweep writes nothing;
//! 4. decide with the pure policy ([`idle_decision`] / [`guard_decision`]);
//! 5. stop in batches of 25: each stop's intent is written first, conditional on the record's
//!    version, so a desktop whose record changed since it was read (a session started) is
//!    left for the next sweep; per-item FailedRequests restore the record;
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
    Actor, AuditOutcome, PowerPolicy, Tenant, Timestamp, WorkspaceRecord, WorkspaceState,
};
use steward_shared::power::{GuardDecision, IdleDecision, guard_decision, idle_decision};
use steward_shared::reconcile::{Drift, Observation, Reconciled, ledger_entries, reconcile};
use steward_shared::store::{PageRequest, StoreError, UsageStore, WorkspaceStore, collect_all};

use super::SweepKind;
use super::events::{add_usage_until, mark_stopping, undo_stop};
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
    /// Records that changed under the sweep (left for the next one).
    pub conflicts: usize,
    /// WorkSpaces calls made.
    pub api_calls: usize,
    pub events_unpublished: usize,
    pub actions: Vec<PowerAction>,
}

struct Stop {
    before: WorkspaceRecord,
    written: WorkspaceRecord,
    reason: String,
    hard_limit: bool,
}

/// Writes in flight at once within one tenant's sweep.
const WRITE_CONCURRENCY: usize = 16;

/// What the policy asks of one desktop.
enum Decision {
    Keep,
    Warn { age_minutes: i64 },
    Stop { reason: String, hard_limit: bool },
}

/// One desktop's reconciliation and decision, before any write.
struct Plan<'r> {
    before: &'r WorkspaceRecord,
    reconciled: Reconciled,
    decision: Decision,
}

/// What the writes for one desktop did.
struct Applied<'r> {
    before: &'r WorkspaceRecord,
    conflicts: usize,
    /// Drift recorded: (what, state before, state now).
    drift: Vec<(Drift, WorkspaceState, WorkspaceState)>,
    result: Effect,
}

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

/// One desktop's writes, in order: what reconciliation learnt (only if more than the
/// observation time moved) and its usage, then the warning or the stop's intent. A record
/// that changed under the sweep (a session started) is left for the next sweep.
async fn apply<'r>(
    deps: &Deps,
    tenant: &Tenant,
    plan: Plan<'r>,
    now: Timestamp,
) -> Result<Applied<'r>, Error> {
    let Plan {
        before,
        reconciled:
            Reconciled {
                record: mut current,
                drift,
                closed,
                ..
            },
        decision,
    } = plan;
    let mut out = Applied {
        before,
        conflicts: 0,
        drift: Vec::new(),
        result: Effect::None,
    };
    let policy = &tenant.policy;
    let mut unchanged = current.clone();
    unchanged.state_observed_at = before.state_observed_at;
    if unchanged != *before {
        match deps.store.update_workspace(&current).await {
            Ok(w) => current = w,
            Err(StoreError::VersionConflict { .. }) => {
                out.conflicts += 1;
                return Ok(out);
            }
            Err(e) => return Err(e.into()),
        }
        if let Some(period) = closed {
            for (month, secs, unc) in ledger_entries(&period) {
                deps.store
                    .add_usage(&tenant.tenant_id, &before.workspace_id, &month, secs, unc)
                    .await?;
            }
        }
        out.drift = drift
            .into_iter()
            .map(|d| (d, before.state, current.state))
            .collect();
    }
    match decision {
        Decision::Keep => {}
        Decision::Warn { age_minutes } => {
            let mut warned = current.clone();
            warned.guard_warned_at = Some(now);
            match deps.store.update_workspace(&warned).await {
                Ok(_) => {
                    let forced_at = current.available_since.map(|s| {
                        s + Duration::minutes(i64::from(policy.service_forced_stop_minutes))
                    });
                    out.result = Effect::Warned {
                        reason: format!(
                            "AVAILABLE {age_minutes} min with a live session; the service stops it at {}",
                            forced_at
                                .map_or_else(|| "an unknown time".to_owned(), |t| t.to_rfc3339())
                        ),
                    };
                }
                Err(StoreError::VersionConflict { .. }) => out.conflicts += 1,
                Err(e) => return Err(e.into()),
            }
        }
        Decision::Stop { reason, .. } if policy.dry_run => {
            out.result = Effect::WouldStop { reason };
        }
        Decision::Stop { reason, hard_limit } => {
            let mut written = current.clone();
            mark_stopping(&mut written, now);
            match deps.store.update_workspace(&written).await {
                Ok(w) => {
                    out.result = Effect::Stop(Box::new(Stop {
                        before: current,
                        written: w,
                        reason,
                        hard_limit,
                    }));
                }
                Err(StoreError::VersionConflict { .. }) => out.conflicts += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(out)
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
    let records =
        collect_all(|page: PageRequest| deps.store.list_sweep_workspaces(&tenant.tenant_id, page))
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
        pacer.acquire().await;
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
    for (id, why) in &described.unreadable {
        tracing::warn!(tenant = %tenant.tenant_id, workspace = %id, %why, "unreadable desktop in DescribeWorkspaces");
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
        plans.push(Plan {
            before: record,
            reconciled,
            decision,
        });
    }
    // 2. Each desktop's writes, in order for that desktop, several desktops at a time: a
    //    sweep's latency is its paced calls, not a queue of sequential writes.
    let writes: Vec<_> = plans
        .into_iter()
        .map(|plan| apply(deps, tenant, plan, now))
        .collect();
    let applied: Vec<Result<Applied, Error>> = futures::stream::iter(writes)
        .buffered(WRITE_CONCURRENCY)
        .collect()
        .await;
    // 3. Counted and reported in the records' order.
    let mut actions: Vec<Action<'_>> = Vec::new();
    let mut stops: Vec<Stop> = Vec::new();
    for a in applied {
        let a = a?;
        let workspace = &a.before.workspace_id;
        let mut push = |action: &'static str, reason: String, outcome, detail_type| {
            actions.push(Action {
                tenant: &tenant.tenant_id,
                workspace: Some(workspace),
                actor: actor.clone(),
                action,
                reason,
                outcome,
                detail_type,
                at: now,
            });
        };
        out.conflicts += a.conflicts;
        for (d, was, is) in a.drift {
            out.drift += 1;
            push(
                "drift",
                drift_reason(d, was, is),
                AuditOutcome::Succeeded,
                ot::DESKTOP_DRIFT,
            );
        }
        match a.result {
            Effect::None => {}
            Effect::Warned { reason } => {
                out.warned += 1;
                push(
                    "guard_warning",
                    reason,
                    AuditOutcome::Succeeded,
                    ot::DESKTOP_GUARD_WARNING,
                );
            }
            Effect::WouldStop { reason } => {
                out.would_stop += 1;
                push(
                    "would_stop",
                    reason,
                    AuditOutcome::DryRun,
                    ot::DESKTOP_WOULD_STOP,
                );
            }
            Effect::Stop(stop) => stops.push(*stop),
        }
    }

    // Stops, 25 per call.
    for chunk in stops.chunks(BATCH) {
        let ids: Vec<WorkspaceId> = chunk
            .iter()
            .map(|s| s.before.workspace_id.clone())
            .collect();
        let outcomes = stop_batch(&gateway, &pacer, &ids, out).await;
        let settles: Vec<_> = chunk
            .iter()
            .zip(&outcomes)
            .map(|(stop, outcome)| settle(deps, stop, outcome, now))
            .collect();
        let settled: Vec<Result<(), Error>> = futures::stream::iter(settles)
            .buffered(WRITE_CONCURRENCY)
            .collect()
            .await;
        for ((stop, outcome), settled) in chunk.iter().zip(outcomes).zip(settled) {
            settled?;
            let ws = &stop.before.workspace_id;
            match outcome {
                ItemOutcome::Accepted => {
                    out.stopped += 1;
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
                        detail_type: ot::DESKTOP_STOPPED,
                        at: now,
                    });
                }
                ItemOutcome::Failed { code, message } => {
                    out.stop_failed += 1;
                    actions.push(Action {
                        tenant: &tenant.tenant_id,
                        workspace: Some(ws),
                        actor: actor.clone(),
                        action: "stop",
                        reason: format!("{} — StopWorkspaces refused it: {code}", stop.reason),
                        outcome: failed(&code, message),
                        detail_type: ot::DESKTOP_POWER_FAILED,
                        at: now,
                    });
                }
            }
        }
    }
    out.actions.extend(actions.iter().map(Action::report));
    out.events_unpublished += record_all(deps, &actions).await?;
    Ok(())
}

/// After StopWorkspaces: an accepted stop closes the AVAILABLE period into the ledger; a
/// refused one puts the record back.
async fn settle(
    deps: &Deps,
    stop: &Stop,
    outcome: &ItemOutcome,
    now: Timestamp,
) -> Result<(), Error> {
    match outcome {
        ItemOutcome::Accepted => add_usage_until(deps, &stop.before, now).await,
        ItemOutcome::Failed { .. } => {
            undo_stop(deps, &stop.written, &stop.before).await;
            Ok(())
        }
    }
}

/// One StopWorkspaces call for up to 25 desktops; a whole-call failure becomes a failure of
/// each item (AccessDenied is retried one desktop at a time: see the module docs).
async fn stop_batch(
    gateway: &WorkspacesGateway<'_>,
    pacer: &Pacer,
    ids: &[WorkspaceId],
    out: &mut TenantSweep,
) -> Vec<ItemOutcome> {
    pacer.acquire().await;
    out.api_calls += 1;
    match gateway.stop(ids).await {
        Ok(v) => v.into_iter().map(|(_, o)| o).collect(),
        Err(e) if e.kind == AwsErrorKind::AccessDenied && ids.len() > 1 => {
            let mut each = Vec::with_capacity(ids.len());
            for id in ids {
                pacer.acquire().await;
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

fn drift_reason(d: Drift, was: WorkspaceState, now: WorkspaceState) -> String {
    let what = match d {
        Drift::ForcedStopSuspected => {
            "stopped by the service after its forced-stop time (48 h [U])"
        }
        Drift::StoppedOutsideSteward => "stopped outside Steward",
        Drift::StartedOutsideSteward => "started outside Steward",
        Drift::MaintenanceStarted => "entered the maintenance window",
        Drift::RunningModeChanged => "its running mode changed outside Steward",
        Drift::Terminated => "terminated outside Steward",
    };
    format!("{what} ({} → {})", was.as_str(), now.as_str())
}
