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
use serde::Serialize;
use steward_shared::Error;
use steward_shared::aws::{AwsErrorKind, TenantAccess};
use steward_shared::error::names;
use steward_shared::gateway::ItemOutcome;
use steward_shared::gateway::workspaces::{BATCH, Described, WorkspacesGateway};
use steward_shared::ids::{RegionName, WorkspaceId};
use steward_shared::model::{Actor, AuditOutcome, Tenant, WorkspaceRecord, WorkspaceState};
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
    let mut actions: Vec<Action<'_>> = Vec::new();
    let mut stops: Vec<Stop> = Vec::new();
    let actor = match kind {
        SweepKind::Idle => Actor::IdleSweep,
        SweepKind::Guard => Actor::GuardSweep,
    };
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
        let Reconciled {
            record: mut current,
            drift,
            closed,
            ..
        } = reconcile(record, seen, policy, now, options.interval);
        if current.state == WorkspaceState::Available {
            out.available += 1;
        }
        // What reconciliation learnt, written only if more than the observation time moved.
        let mut unchanged = current.clone();
        unchanged.state_observed_at = record.state_observed_at;
        if unchanged != *record {
            match deps.store.update_workspace(&current).await {
                Ok(w) => current = w,
                Err(StoreError::VersionConflict { .. }) => {
                    out.conflicts += 1;
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
            if let Some(period) = closed {
                for (month, secs, unc) in ledger_entries(&period) {
                    deps.store
                        .add_usage(&tenant.tenant_id, &record.workspace_id, &month, secs, unc)
                        .await?;
                }
            }
            for d in &drift {
                out.drift += 1;
                actions.push(Action {
                    tenant: &tenant.tenant_id,
                    workspace: Some(&record.workspace_id),
                    actor: actor.clone(),
                    action: "drift",
                    reason: drift_reason(*d, record.state, current.state),
                    outcome: AuditOutcome::Succeeded,
                    detail_type: ot::DESKTOP_DRIFT,
                    at: now,
                });
            }
        }
        // The decision, on the reconciled record.
        let decision = match kind {
            SweepKind::Idle => match idle_decision(&current, policy, now) {
                IdleDecision::Stop { idle_since } => Some((
                    format!(
                        "idle since {} (timeout {} min)",
                        idle_since.to_rfc3339(),
                        policy.idle_timeout_minutes
                    ),
                    false,
                )),
                IdleDecision::Keep(_) => None,
            },
            SweepKind::Guard => match guard_decision(&current, policy, now) {
                GuardDecision::StopIdle { age_minutes } => Some((
                    format!(
                        "guard: AVAILABLE {age_minutes} min (threshold {}) with no live session",
                        policy.guard_threshold_minutes
                    ),
                    false,
                )),
                GuardDecision::HardLimitStop { age_minutes } => Some((
                    format!(
                        "guard hard limit: AVAILABLE {age_minutes} min (limit {}) with a live session; stopped before the service's forced stop",
                        policy.guard_hard_limit_minutes
                    ),
                    true,
                )),
                GuardDecision::Warn { age_minutes } => {
                    let mut warned = current.clone();
                    warned.guard_warned_at = Some(now);
                    match deps.store.update_workspace(&warned).await {
                        Ok(_) => {
                            out.warned += 1;
                            let forced_at = current.available_since.map(|s| {
                                s + Duration::minutes(i64::from(policy.service_forced_stop_minutes))
                            });
                            actions.push(Action {
                                tenant: &tenant.tenant_id,
                                workspace: Some(&record.workspace_id),
                                actor: actor.clone(),
                                action: "guard_warning",
                                reason: format!(
                                    "AVAILABLE {age_minutes} min with a live session; the service stops it at {}",
                                    forced_at.map_or_else(|| "an unknown time".to_owned(), |t| t.to_rfc3339())
                                ),
                                outcome: AuditOutcome::Succeeded,
                                detail_type: ot::DESKTOP_GUARD_WARNING,
                                at: now,
                            });
                        }
                        Err(StoreError::VersionConflict { .. }) => out.conflicts += 1,
                        Err(e) => return Err(e.into()),
                    }
                    None
                }
                GuardDecision::NotApplicable
                | GuardDecision::Fine { .. }
                | GuardDecision::AlreadyWarned { .. } => None,
            },
        };
        let Some((reason, hard_limit)) = decision else {
            continue;
        };
        if policy.dry_run {
            out.would_stop += 1;
            actions.push(Action {
                tenant: &tenant.tenant_id,
                workspace: Some(&record.workspace_id),
                actor: actor.clone(),
                action: "would_stop",
                reason,
                outcome: AuditOutcome::DryRun,
                detail_type: ot::DESKTOP_WOULD_STOP,
                at: now,
            });
            continue;
        }
        let mut written = current.clone();
        mark_stopping(&mut written, now);
        match deps.store.update_workspace(&written).await {
            Ok(w) => stops.push(Stop {
                before: current,
                written: w,
                reason,
                hard_limit,
            }),
            Err(StoreError::VersionConflict { .. }) => out.conflicts += 1,
            Err(e) => return Err(e.into()),
        }
    }

    // Stops, 25 per call.
    for chunk in stops.chunks(BATCH) {
        let ids: Vec<WorkspaceId> = chunk
            .iter()
            .map(|s| s.before.workspace_id.clone())
            .collect();
        let outcomes = stop_batch(&gateway, &pacer, &ids, out).await;
        for (stop, outcome) in chunk.iter().zip(outcomes) {
            let ws = &stop.before.workspace_id;
            match outcome {
                ItemOutcome::Accepted => {
                    out.stopped += 1;
                    add_usage_until(deps, &stop.before, now).await?;
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
                    undo_stop(deps, &stop.written, &stop.before).await;
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
