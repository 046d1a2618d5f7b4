//! What the idle sweep does with a tenant's power plans.
//!
//! [`PlanBook::load`] reads the tenant's plan records (one Query; a tenant without any
//! costs nothing more), and, when one has a plan, its holiday calendars and measured start
//! times, and evaluates each group's plan at the sweep's time with the pure functions of
//! `steward_shared::plans` (the phase, the next and last window, a skipped window).
//!
//! Once every Region's desktops are reconciled, [`PlanBook::verdicts`] decides per group
//! ([`decide_group`]) and answers, per desktop, what the sweep does instead of the idle
//! rule: hold it (warm capacity), start it (pre-warm, buffer, override), stop it (drain),
//! or warn its session (drain). A desktop without a verdict follows the idle rule.
//!
//! [`PlanBook::usage`] splits an AVAILABLE period the sweep books into hours inside and
//! outside the group's windows.

use std::collections::HashMap;

use chrono::Duration;
use steward_shared::Error;
use steward_shared::ids::{PoolId, TenantId, WorkspaceId};
use steward_shared::model::{
    PlanRecord, PlanUsageRecord, PowerPolicy, RunningMode, Timestamp, WorkspaceRecord, scope_name,
};
use steward_shared::plans::{
    GroupDesktop, GroupInput, HolidayCalendar, Phase, PlanStatus, StartReason, decide_group,
    split_available, start_lead, status,
};
use steward_shared::power::has_live_session;
use steward_shared::store::PlanStore;

use crate::deps::Deps;

/// What the sweep does with one desktop instead of the idle rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Warm capacity: the idle rule leaves it running.
    Hold,
    Start {
        reason: StartReason,
        scope: String,
        /// The window it is warmed for (pre-warm and buffer).
        opens_at: Option<Timestamp>,
    },
    /// Up when the window closed, with no live session (or past the grace).
    DrainStop { scope: String, closed_at: Timestamp },
    /// A live session when the window closed: warned once.
    DrainWarn {
        scope: String,
        closed_at: Timestamp,
        stops_at: Option<Timestamp>,
    },
}

/// One group's plan record, evaluated.
pub struct Group {
    pub record: PlanRecord,
    /// The plan's state at the sweep's time (none: the group has only an override).
    pub status: Option<PlanStatus>,
}

/// A tenant's plans, evaluated at one sweep's time.
pub struct PlanBook {
    pub groups: Vec<Group>,
    pub calendars: Vec<HolidayCalendar>,
    /// The pre-warm lead's measured part: the p90 of the tenant's start times (seconds).
    pub p90_start_seconds: Option<u32>,
    pub now: Timestamp,
}

impl PlanBook {
    /// The tenant's plans at `now`; `interval` is the sweep's (part of the pre-warm lead).
    pub async fn load(
        deps: &Deps,
        tenant: &TenantId,
        now: Timestamp,
        interval: Duration,
    ) -> Result<Self, Error> {
        let records = deps.store.list_plans(tenant).await?;
        let any_plan = records.iter().any(|r| r.plan.is_some());
        let (calendars, p90_start_seconds) = if any_plan {
            let calendars = deps.store.list_calendars(tenant).await?;
            let times = deps.store.get_start_times(tenant).await?;
            (
                calendars.into_iter().map(HolidayCalendar::from).collect(),
                times.and_then(|t| t.p90()),
            )
        } else {
            (Vec::new(), None)
        };
        let groups = records
            .into_iter()
            .map(|record| {
                let status = record.plan.as_ref().map(|plan| {
                    let lead = start_lead(plan, p90_start_seconds, interval);
                    status(plan, &calendars, now, lead)
                });
                Group { record, status }
            })
            .collect();
        Ok(Self {
            groups,
            calendars,
            p90_start_seconds,
            now,
        })
    }

    /// No plan and no override: the sweep runs as it always did.
    pub fn is_idle(&self) -> bool {
        self.groups
            .iter()
            .all(|g| g.status.is_none() && g.record.active_override(self.now).is_none())
    }

    /// The group `record` belongs to: its pool's, or (a MANUAL desktop outside pools) the
    /// tenant's.
    fn group_of(&self, record: &WorkspaceRecord) -> Option<&Group> {
        let pool: Option<&PoolId> = record.pool.as_ref().map(|s| &s.pool_id);
        if pool.is_none() && record.running_mode != RunningMode::Manual {
            return None;
        }
        self.groups
            .iter()
            .find(|g| g.record.pool_id.as_ref() == pool)
    }

    /// How many of `desktops` each group has (by scope), for its report.
    pub fn members(&self, desktops: &[&WorkspaceRecord]) -> HashMap<String, u32> {
        let mut out = HashMap::new();
        for r in desktops {
            if r.state == steward_shared::model::WorkspaceState::Terminated {
                continue;
            }
            if let Some(g) = self.group_of(r) {
                *out.entry(g.record.scope()).or_insert(0) += 1;
            }
        }
        out
    }

    /// What the sweep does with each of `desktops` (as reconciled) instead of the idle rule.
    pub fn verdicts(
        &self,
        desktops: &[&WorkspaceRecord],
        policy: &PowerPolicy,
    ) -> HashMap<WorkspaceId, Verdict> {
        let mut out = HashMap::new();
        if self.is_idle() {
            return out;
        }
        let mut members: HashMap<String, Vec<GroupDesktop>> = HashMap::new();
        for r in desktops {
            let Some(group) = self.group_of(r) else {
                continue;
            };
            let live = has_live_session(r, policy, self.now);
            let free = match &r.pool {
                Some(seat) => seat.assigned_to.is_none() && seat.releasing.is_none(),
                None => !live,
            };
            members
                .entry(group.record.scope())
                .or_default()
                .push(GroupDesktop {
                    workspace_id: r.workspace_id.clone(),
                    state: r.state,
                    free,
                    live_session: live,
                    kept_until: r.lease_until,
                    available_since: r.available_since,
                    drain_warned_at: r.drain_warned_at,
                });
        }
        for group in &self.groups {
            let scope = group.record.scope();
            let Some(desktops) = members.get(&scope) else {
                continue;
            };
            self.decide(group, scope, desktops, &mut out);
        }
        out
    }

    fn decide(
        &self,
        group: &Group,
        scope: String,
        desktops: &[GroupDesktop],
        out: &mut HashMap<WorkspaceId, Verdict>,
    ) {
        let plan = group.record.plan.as_ref();
        let input = GroupInput {
            status: group.status.as_ref(),
            buffer: plan.map(|p| p.buffer()).unwrap_or_default(),
            drain: plan.map(|p| p.drain).unwrap_or_default(),
            override_buffer: group.record.active_override(self.now).map(|o| o.buffer),
            desktops,
            now: self.now,
        };
        let decision = decide_group(&input);
        let opens_at = group
            .status
            .as_ref()
            .and_then(|s| s.next.as_ref())
            .map(|o| o.opens_at);
        for id in decision.hold {
            out.insert(id, Verdict::Hold);
        }
        for (id, reason) in decision.start {
            out.insert(
                id,
                Verdict::Start {
                    reason,
                    scope: scope.clone(),
                    opens_at: (reason != StartReason::Override)
                        .then_some(opens_at)
                        .flatten(),
                },
            );
        }
        let closed_at = group.status.as_ref().and_then(|s| s.last_close);
        if let Some(closed_at) = closed_at {
            for id in decision.drain_stop {
                out.insert(
                    id,
                    Verdict::DrainStop {
                        scope: scope.clone(),
                        closed_at,
                    },
                );
            }
            for (id, stops_at) in decision.drain_warn {
                out.insert(
                    id,
                    Verdict::DrainWarn {
                        scope: scope.clone(),
                        closed_at,
                        stops_at,
                    },
                );
            }
        }
    }

    /// The plan usage of `record`'s AVAILABLE period `[from, to)`: seconds inside and
    /// outside its group's windows, per month (none for a desktop in no group).
    pub fn usage(
        &self,
        record: &WorkspaceRecord,
        from: Timestamp,
        to: Timestamp,
    ) -> Vec<PlanUsageRecord> {
        let Some(group) = self.group_of(record) else {
            return Vec::new();
        };
        split_available(group.record.plan.as_ref(), &self.calendars, from, to)
            .into_iter()
            .map(|m| PlanUsageRecord {
                tenant_id: record.tenant_id.clone(),
                scope: scope_name(group.record.pool_id.as_ref()),
                month: m.month,
                inside_seconds: m.inside_seconds,
                outside_seconds: m.outside_seconds,
            })
            .collect()
    }
}

/// Whether `pool`'s plan refuses new assignments now: it has a plan that does not assign
/// outside its windows, no override in force, and is neither open nor pre-warming (a pool
/// opens for assignments when it starts warming).
pub async fn assignments_closed(
    deps: &Deps,
    tenant: &TenantId,
    pool: &PoolId,
) -> Result<bool, Error> {
    let now = deps.now();
    let Some(record) = deps.store.get_plan(tenant, Some(pool)).await? else {
        return Ok(false);
    };
    let Some(plan) = record.plan.as_ref() else {
        return Ok(false);
    };
    if plan.assign_outside_windows || record.active_override(now).is_some() {
        return Ok(false);
    }
    let mut calendars = Vec::new();
    for name in &plan.calendars {
        if let Some(c) = deps.store.get_calendar(tenant, name).await? {
            calendars.push(HolidayCalendar::from(c));
        }
    }
    // The sweep's lead (measured p90 start time plus its default interval), so the pool
    // opens for assignments when its pre-warm starts.
    let measured = deps.store.get_start_times(tenant).await?;
    let lead = start_lead(
        plan,
        measured.and_then(|t| t.p90()),
        crate::power::sweep::SweepOptions::default().interval,
    );
    Ok(matches!(
        status(plan, &calendars, now, lead).phase,
        Phase::Closed
    ))
}
