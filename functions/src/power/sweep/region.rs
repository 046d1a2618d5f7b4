//! One Region of one tenant's sweep, in two halves, so that a power plan can decide over all
//! of a group's desktops (in every Region) on their fresh states between them:
//!
//! - [`RegionSweep::observe`]: describe the desktops and reconcile each record;
//! - [`RegionSweep::act`]: decide on each one without I/O (the plan's verdict or the policy),
//!   write the decisions, account for what was written (drift, completions, warnings,
//!   dry-run stops, keep-alives that ended), make the stops and the plan's starts, then
//!   record every action and the ledgers' additions. Image operations that ended in the
//!   Region are reported last.

use std::collections::{HashMap, HashSet};

use serde_json::json;

use futures::StreamExt;
use steward_shared::Error;
use steward_shared::aws::{AwsErrorKind, TenantAccess, TenantClients};
use steward_shared::gateway::ItemOutcome;
use steward_shared::gateway::workspaces::{BATCH, Described, Observed, WorkspacesGateway};
use steward_shared::ids::{RegionName, TenantId, WorkspaceId};
use steward_shared::model::{
    Actor, AuditOutcome, PlanUsageRecord, StewardAction, Tenant, Timestamp, WorkspaceRecord,
    WorkspaceState,
};
use steward_shared::reconcile::{
    CallOutcome, Observation, Reconciled, period_usage, reconcile, usage_until,
};
use steward_shared::store::{PlanStore, StoreError, UsageDelta, UsageStore, WorkspaceStore};

use super::calls::{Calls, Power};
use super::plan::{Call, Effect, Plan, decide, effect};
use super::{SweepOptions, TenantSweep};
use crate::deps::Deps;
use crate::plans::govern::{PlanBook, Verdict};
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
/// ledgers' additions.
struct Booked<'a> {
    tenant: &'a TenantId,
    actor: Actor,
    now: Timestamp,
    actions: Vec<Action<'a>>,
    usage: Vec<UsageDelta>,
    plan_usage: Vec<PlanUsageRecord>,
    book: Option<&'a PlanBook>,
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

    /// An action with details of its own.
    fn push_with(
        &mut self,
        workspace: &'a WorkspaceId,
        action: ActionName,
        reason: String,
        detail_type: &'static str,
        details: Option<serde_json::Value>,
    ) {
        self.push(
            workspace,
            action,
            reason,
            AuditOutcome::Succeeded,
            detail_type,
        );
        if let Some(a) = self.actions.last_mut() {
            a.details = details;
        }
    }

    /// The AVAILABLE period of `record` from `from` to `to`, in the plan usage (when the
    /// tenant has plans).
    fn plan_usage(&mut self, record: &WorkspaceRecord, from: Option<Timestamp>, to: Timestamp) {
        if let (Some(book), Some(from)) = (self.book, from) {
            self.plan_usage.extend(book.usage(record, from, to));
        }
    }

    /// The completion of a call Steward made on `workspace`, with its timings.
    fn push_completion(&mut self, workspace: &'a WorkspaceId, c: Completion) {
        self.push(workspace, c.action, c.reason, c.outcome, c.detail_type);
        if let Some(a) = self.actions.last_mut() {
            a.details = Some(c.details);
        }
    }
}

/// A Region's desktops as the service reports them, reconciled, with the Region's clients
/// and pacer for the calls still to come.
pub(super) struct Seen<'r> {
    clients: TenantClients,
    pacer: Pacer,
    pub(super) reconciled: Vec<(&'r WorkspaceRecord, Reconciled)>,
}

impl RegionSweep<'_> {
    /// Describes the Region's `records` (all of them the tenant's, in this Region) and
    /// reconciles each; an unreadable one is left as it is.
    pub(super) async fn observe<'r>(
        &self,
        records: &'r [WorkspaceRecord],
        out: &mut TenantSweep,
    ) -> Result<Seen<'r>, Error> {
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
        let reconciled = self.reconcile(records, &described, self.deps.now(), out);
        let pacer = calls.pacer;
        Ok(Seen {
            clients,
            pacer,
            reconciled,
        })
    }

    /// Decides on each reconciled desktop (`verdicts`: the plans' answers, which replace
    /// the idle rule's), writes, calls and records.
    pub(super) async fn act(
        &self,
        observed: Seen<'_>,
        verdicts: &HashMap<WorkspaceId, Verdict>,
        book: Option<&PlanBook>,
        out: &mut TenantSweep,
    ) -> Result<(), Error> {
        let Seen {
            clients,
            pacer,
            reconciled,
        } = observed;
        let calls = Calls {
            gateway: WorkspacesGateway::new(clients.workspaces()),
            pacer,
        };
        let now = self.deps.now();
        // 1. What each desktop needs, decided without I/O.
        let policy = &self.tenant.policy;
        let plans: Vec<Plan<'_>> = reconciled
            .into_iter()
            .map(|(before, r)| {
                let verdict = verdicts.get(&before.workspace_id);
                let decision = decide(&r.record, self.kind, policy, verdict, now);
                Plan::new(before, r, decision, policy.dry_run, now)
            })
            .collect();
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
            plan_usage: Vec::new(),
            book,
        };
        let (stops, starts) = self.account(plans, written, &mut booked, out)?;
        self.call_all(&calls, Power::Stop, &stops, &mut booked, out)
            .await;
        self.call_all(&calls, Power::Start, &starts, &mut booked, out)
            .await;
        self.deps.store.add_usages(&booked.usage).await?;
        self.deps.store.add_plan_usages(&booked.plan_usage).await?;
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

    /// Each desktop reconciled with what the service reports; an unreadable one is left as
    /// it is.
    fn reconcile<'r>(
        &self,
        records: &'r [WorkspaceRecord],
        described: &Described,
        now: Timestamp,
        out: &mut TenantSweep,
    ) -> Vec<(&'r WorkspaceRecord, Reconciled)> {
        let found: HashMap<&str, &Observed> = described
            .found
            .iter()
            .map(|o| (o.workspace_id.as_str(), o))
            .collect();
        let absent: HashSet<&str> = described.absent.iter().map(|w| w.as_str()).collect();
        let policy = &self.tenant.policy;
        let mut reconciled = Vec::with_capacity(records.len());
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
            let r = reconcile(record, seen, policy, now, self.options.interval);
            if r.record.state == WorkspaceState::Available {
                out.available += 1;
            }
            reconciled.push((record, r));
        }
        reconciled
    }

    /// Books what each plan's write amounts to — what reconciliation learnt (closed
    /// periods, drift, completions, a keep-alive that ended) and the decision's effect — and
    /// answers the stops and starts to make. A desktop whose write lost to a concurrent one
    /// is counted and left.
    fn account<'r>(
        &self,
        plans: Vec<Plan<'r>>,
        written: Vec<Result<WorkspaceRecord, StoreError>>,
        booked: &mut Booked<'r>,
        out: &mut TenantSweep,
    ) -> Result<(Vec<Call>, Vec<Call>), Error> {
        let policy = &self.tenant.policy;
        let mut written = written.into_iter();
        let mut stops = Vec::new();
        let mut starts = Vec::new();
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
                    booked.plan_usage(plan.before, Some(period.from), period.to);
                }
                if let Some((source, until)) = plan.lease_ended {
                    booked.push_with(
                        workspace,
                        ActionName::OverrideEnded,
                        format!(
                            "the keep-alive ({source:?}) ended at {}",
                            until.to_rfc3339()
                        ),
                        ot::OVERRIDE_ENDED,
                        Some(json!({"scope": "DESKTOP", "until": until})),
                    );
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
                if let Some(s) = &plan.settled
                    && s.call.action == StewardAction::Start
                    && matches!(s.outcome, CallOutcome::Completed { .. })
                {
                    // Whole seconds, rounded up: an upper bound, like the measurement.
                    let ms = (s.observed_at - s.call.at).num_milliseconds().max(0);
                    out.start_samples
                        .push(u32::try_from((ms + 999) / 1000).unwrap_or(u32::MAX));
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
                Effect::DrainWarned { reason, details } => {
                    out.warned += 1;
                    booked.push_with(
                        workspace,
                        ActionName::DrainWarning,
                        reason,
                        ot::DESKTOP_DRAIN_WARNING,
                        Some(details),
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
                Effect::Start(start) => starts.push(*start),
            }
        }
        Ok((stops, starts))
    }

    /// Stops or starts, 25 per call. An accepted stop closes the AVAILABLE period into the
    /// ledgers; a refused call puts the record back.
    async fn call_all<'s>(
        &self,
        calls: &Calls<'_>,
        op: Power,
        made: &'s [Call],
        booked: &mut Booked<'s>,
        out: &mut TenantSweep,
    ) {
        for chunk in made.chunks(BATCH) {
            let ids: Vec<WorkspaceId> = chunk
                .iter()
                .map(|c| c.before.workspace_id.clone())
                .collect();
            let outcomes = calls.batch(op, &ids, out).await;
            let mut undo = Vec::new();
            for (call, outcome) in chunk.iter().zip(outcomes) {
                let ws = &call.before.workspace_id;
                match outcome {
                    ItemOutcome::Accepted => {
                        let detail_type = match op {
                            Power::Stop => {
                                out.stopped += 1;
                                booked.usage.extend(usage_until(&call.before, booked.now));
                                let now = booked.now;
                                booked.plan_usage(&call.before, call.before.available_since, now);
                                ot::DESKTOP_STOPPING
                            }
                            Power::Start => {
                                out.started += 1;
                                ot::DESKTOP_STARTING
                            }
                        };
                        booked.push_with(
                            ws,
                            call.action,
                            call.reason.clone(),
                            detail_type,
                            call.details.clone(),
                        );
                    }
                    ItemOutcome::Failed { code, message } => {
                        match op {
                            Power::Stop => out.stop_failed += 1,
                            Power::Start => out.start_failed += 1,
                        }
                        undo.push(undo_stop(self.deps, &call.written, &call.before));
                        let name = match op {
                            Power::Stop => "StopWorkspaces",
                            Power::Start => "StartWorkspaces",
                        };
                        booked.push(
                            ws,
                            call.action,
                            format!("{} — {name} refused it: {code}", call.reason),
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
