//! One Region of one tenant's sweep, in named steps: describe the desktops, plan each one
//! without I/O, write the plans, account for what was written (drift, completions, warnings,
//! dry-run stops), make the stops, then record every action and the ledger's additions.
//! Image operations that ended in the Region are reported last.

use std::collections::{HashMap, HashSet};

use futures::StreamExt;
use steward_shared::Error;
use steward_shared::aws::{AwsErrorKind, TenantAccess};
use steward_shared::gateway::ItemOutcome;
use steward_shared::gateway::workspaces::{BATCH, Described, Observed, WorkspacesGateway};
use steward_shared::ids::{RegionName, TenantId, WorkspaceId};
use steward_shared::model::{
    Actor, AuditOutcome, Tenant, Timestamp, WorkspaceRecord, WorkspaceState,
};
use steward_shared::reconcile::{Observation, period_usage, reconcile, usage_until};
use steward_shared::store::{StoreError, UsageDelta, UsageStore, WorkspaceStore};

use super::calls::Calls;
use super::plan::{Effect, Plan, Stop, decide, effect};
use super::{SweepOptions, TenantSweep};
use crate::deps::Deps;
use crate::power::SweepKind;
use crate::power::observations::{Completion, completion, drift_reason};
use crate::power::pace::Pacer;
use crate::power::stopping::undo_stop;
use crate::record::{Action, ActionName, failed, outbound_types as ot, record_all};

/// Refused stops put back at once within one tenant's sweep.
const UNDO_CONCURRENCY: usize = 8;

/// What every step of a Region's sweep reads.
pub(super) struct RegionSweep<'a> {
    pub(super) deps: &'a Deps,
    pub(super) tenant: &'a Tenant,
    pub(super) region: &'a RegionName,
    pub(super) kind: SweepKind,
    pub(super) options: &'a SweepOptions,
}

/// What the Region's sweep will record, in the records' order: its actions and the usage
/// ledger's additions.
struct Booked<'a> {
    tenant: &'a TenantId,
    actor: Actor,
    now: Timestamp,
    actions: Vec<Action<'a>>,
    usage: Vec<UsageDelta>,
}

impl<'a> Booked<'a> {
    /// One action on `workspace`, with no details beyond the common ones.
    fn push(
        &mut self,
        workspace: &'a WorkspaceId,
        action: ActionName,
        reason: String,
        outcome: AuditOutcome,
        detail_type: &'static str,
    ) {
        self.actions.push(Action {
            tenant: self.tenant,
            workspace: Some(workspace),
            actor: self.actor.clone(),
            action,
            reason,
            outcome,
            detail_type,
            at: self.now,
            details: None,
        });
    }

    /// The completion of a call Steward made on `workspace`, with its timings.
    fn push_completion(&mut self, workspace: &'a WorkspaceId, c: Completion) {
        self.push(workspace, c.action, c.reason, c.outcome, c.detail_type);
        if let Some(a) = self.actions.last_mut() {
            a.details = Some(c.details);
        }
    }
}

impl RegionSweep<'_> {
    /// Sweeps the Region's `records` (all of them the tenant's, in this Region).
    pub(super) async fn run(
        &self,
        records: &[WorkspaceRecord],
        out: &mut TenantSweep,
    ) -> Result<(), Error> {
        let clients = self
            .deps
            .clients
            .for_tenant(TenantAccess::new(self.tenant, self.region))
            .await;
        let calls = Calls {
            gateway: WorkspacesGateway::new(clients.workspaces()),
            pacer: Pacer::new(self.options.pace),
        };
        let described = self.describe(&calls, records, out).await?;
        let now = self.deps.now();
        // 1. What each desktop needs, decided without I/O.
        let plans = self.plan(records, &described, now, out);
        // 2. Every desktop that needs a write gets exactly one — what reconciliation learnt
        //    and the decision's mark together — each conditional on the version read,
        //    batched. A record that changed under the sweep (a session started) is left
        //    for the next one.
        let writes: Vec<WorkspaceRecord> = plans.iter().filter_map(|p| p.write.clone()).collect();
        let written = self.deps.store.update_workspaces(&writes).await?;
        // 3. Counted and reported in the records' order.
        let mut booked = Booked {
            tenant: &self.tenant.tenant_id,
            actor: self.kind.actor(),
            now,
            actions: Vec::new(),
            usage: Vec::new(),
        };
        let stops = self.account(plans, written, &mut booked, out)?;
        self.stop_all(&calls, &stops, &mut booked, out).await;
        self.deps.store.add_usages(&booked.usage).await?;
        out.actions
            .extend(booked.actions.iter().map(Action::report));
        out.events_unpublished += record_all(self.deps, &booked.actions).await?;
        self.settle_images(clients.workspaces(), &booked.actor, out)
            .await;
        Ok(())
    }

    /// What the service reports about `records`. An AccessDenied forgets the tenant's role
    /// session, so the next invocation assumes the role again.
    async fn describe(
        &self,
        calls: &Calls<'_>,
        records: &[WorkspaceRecord],
        out: &mut TenantSweep,
    ) -> Result<Described, Error> {
        let ids: Vec<WorkspaceId> = records.iter().map(|r| r.workspace_id.clone()).collect();
        let described = calls.describe(&ids, out).await.inspect_err(|e| {
            if e.kind == AwsErrorKind::AccessDenied {
                self.deps.clients.forget(&self.tenant.tenant_id);
            }
        })?;
        for u in &described.unreadable {
            tracing::warn!(tenant = %self.tenant.tenant_id, workspace = %u.workspace_id, why = %u.reason, "unreadable desktop in DescribeWorkspaces");
        }
        Ok(described)
    }

    /// Each desktop reconciled with what the service reports and decided upon; an unreadable
    /// one is left as it is.
    fn plan<'r>(
        &self,
        records: &'r [WorkspaceRecord],
        described: &Described,
        now: Timestamp,
        out: &mut TenantSweep,
    ) -> Vec<Plan<'r>> {
        let found: HashMap<&str, &Observed> = described
            .found
            .iter()
            .map(|o| (o.workspace_id.as_str(), o))
            .collect();
        let absent: HashSet<&str> = described.absent.iter().map(|w| w.as_str()).collect();
        let policy = &self.tenant.policy;
        let mut plans = Vec::with_capacity(records.len());
        for record in records {
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
            let reconciled = reconcile(record, seen, policy, now, self.options.interval);
            if reconciled.record.state == WorkspaceState::Available {
                out.available += 1;
            }
            let decision = decide(&reconciled.record, self.kind, policy, now);
            plans.push(Plan::new(record, reconciled, decision, policy.dry_run, now));
        }
        plans
    }

    /// Books what each plan's write amounts to — what reconciliation learnt (closed
    /// periods, drift, completions) and the decision's effect — and answers the stops to
    /// make. A desktop whose write lost to a concurrent one is counted and left.
    fn account<'r>(
        &self,
        plans: Vec<Plan<'r>>,
        written: Vec<Result<WorkspaceRecord, StoreError>>,
        booked: &mut Booked<'r>,
        out: &mut TenantSweep,
    ) -> Result<Vec<Stop>, Error> {
        let policy = &self.tenant.policy;
        let mut written = written.into_iter();
        let mut stops = Vec::new();
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
            if plan.changed && stored.is_some() {
                if let Some(period) = &plan.closed {
                    booked.usage.extend(period_usage(plan.before, period));
                }
                for d in plan.drift {
                    out.drift += 1;
                    let reason = drift_reason(d, plan.before, &plan.current, policy);
                    booked.push(
                        workspace,
                        ActionName::Drift,
                        reason,
                        AuditOutcome::Succeeded,
                        ot::DESKTOP_DRIFT,
                    );
                }
                if let Some(c) = plan.settled.as_ref().and_then(completion) {
                    out.completed += 1;
                    booked.push_completion(workspace, c);
                }
            }
            match effect(plan.decision, plan.current, stored, policy) {
                Effect::None => {}
                Effect::Warned { reason } => {
                    out.warned += 1;
                    booked.push(
                        workspace,
                        ActionName::GuardWarning,
                        reason,
                        AuditOutcome::Succeeded,
                        ot::DESKTOP_GUARD_WARNING,
                    );
                }
                Effect::WouldStop { reason } => {
                    out.would_stop += 1;
                    booked.push(
                        workspace,
                        ActionName::WouldStop,
                        reason,
                        AuditOutcome::DryRun,
                        ot::DESKTOP_WOULD_STOP,
                    );
                }
                Effect::Stop(stop) => stops.push(*stop),
            }
        }
        Ok(stops)
    }

    /// Stops, 25 per call. An accepted stop closes the AVAILABLE period into the ledger; a
    /// refused one puts the record back.
    async fn stop_all<'s>(
        &self,
        calls: &Calls<'_>,
        stops: &'s [Stop],
        booked: &mut Booked<'s>,
        out: &mut TenantSweep,
    ) {
        for chunk in stops.chunks(BATCH) {
            let ids: Vec<WorkspaceId> = chunk
                .iter()
                .map(|s| s.before.workspace_id.clone())
                .collect();
            let outcomes = calls.stop_batch(&ids, out).await;
            let mut undo = Vec::new();
            for (stop, outcome) in chunk.iter().zip(outcomes) {
                let action = if stop.hard_limit {
                    ActionName::HardLimitStop
                } else {
                    ActionName::Stop
                };
                let ws = &stop.before.workspace_id;
                match outcome {
                    ItemOutcome::Accepted => {
                        out.stopped += 1;
                        booked.usage.extend(usage_until(&stop.before, booked.now));
                        booked.push(
                            ws,
                            action,
                            stop.reason.clone(),
                            AuditOutcome::Succeeded,
                            ot::DESKTOP_STOPPING,
                        );
                    }
                    ItemOutcome::Failed { code, message } => {
                        out.stop_failed += 1;
                        undo.push(undo_stop(self.deps, &stop.written, &stop.before));
                        booked.push(
                            ws,
                            action,
                            format!("{} — StopWorkspaces refused it: {code}", stop.reason),
                            failed(&code, message),
                            ot::DESKTOP_POWER_FAILED,
                        );
                    }
                }
            }
            futures::stream::iter(undo)
                .buffer_unordered(UNDO_CONCURRENCY)
                .collect::<Vec<()>>()
                .await;
        }
    }

    /// Image operations that ended (no call when none is pending in this Region). Their
    /// failure to be described leaves them pending for the next sweep.
    async fn settle_images(
        &self,
        client: &aws_sdk_workspaces::Client,
        actor: &Actor,
        out: &mut TenantSweep,
    ) {
        let images = crate::power::images::settle(
            self.deps,
            self.tenant,
            self.region,
            client,
            actor,
            self.options.interval,
        );
        match images.await {
            Ok((calls, ended)) => {
                out.api_calls += calls;
                out.completed += ended.len();
                out.actions.extend(ended);
            }
            Err(e) => {
                tracing::warn!(tenant = %self.tenant.tenant_id, region = %self.region, error = %e, "pending images not described; the next sweep tries again");
            }
        }
    }
}
