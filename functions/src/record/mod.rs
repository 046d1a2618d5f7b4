//! The one place Steward records what it did: the audit record (the durable trail, in the
//! table), the outbound event (what the partner hears on its bus), and the metric lines
//! ([`metrics`]). Every handler family records through here, so the trail, the events and
//! their failure rules are the same wherever an action happens.
//!
//! - An [`Action`] is one thing Steward did, named by an [`ActionName`]: [`record_all`] writes
//!   the audit records first, then publishes one event each with the common detail keys
//!   ([`Action::outbound_detail`]) under the action's detail type ([`outbound_types`]).
//!   A refused or failed publication is logged and counted, never fatal: the action already
//!   happened, and failing the invocation would only make EventBridge redeliver an event
//!   whose effect is already recorded (and therefore skipped).
//! - An [`Audit`] is an audit record whose partner event is shaped elsewhere: onboarding's
//!   calls (the step's own event tells the partner) and lifecycle commands (their event
//!   carries the command's items; they write [`audit`], then [`publish`] their own event).
//! - [`publish_or_fail`] is for an event that must not be lost (onboarding's step events): a
//!   refused entry fails the caller with a retryable error.
//! - [`reject`] records a refused partner event (`rejection.rs`).
//!
//! Detail types of onboarding's events are in `onboarding::detail_types`, lifecycle
//! commands' in `lifecycle::commands`; the events about power, lifecycle operations and the
//! tenant are in [`outbound_types`].

mod action_name;
pub mod metrics;
mod rejection;

pub use action_name::ActionName;
pub use rejection::{REJECTIONS_TENANT, dedupe_ttl, reject};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use steward_shared::Error;
use steward_shared::error::names;
use steward_shared::gateway::ItemOutcome;
use steward_shared::gateway::eventbridge::Outbound;
use steward_shared::ids::{TenantId, WorkspaceId};
use steward_shared::model::{Actor, AuditOutcome, AuditRecord, ErrorRecord, Timestamp};
use steward_shared::store::AuditStore;

use crate::deps::Deps;

/// Detail types of the events Steward publishes about power, lifecycle operations and the
/// tenant (source `STEWARD_EVENT_SOURCE`).
pub mod outbound_types {
    /// StartWorkspaces accepted the desktop: it is on its way up.
    pub const DESKTOP_STARTING: &str = "Desktop Starting";
    /// A desktop Steward started is AVAILABLE: the partner can connect its user.
    pub const DESKTOP_AVAILABLE: &str = "Desktop Available";
    pub const DESKTOP_LEASE_EXTENDED: &str = "Desktop Lease Extended";
    /// StopWorkspaces accepted the desktop: it is on its way down.
    pub const DESKTOP_STOPPING: &str = "Desktop Stopping";
    /// A desktop Steward stopped is STOPPED.
    pub const DESKTOP_STOPPED: &str = "Desktop Stopped";
    pub const DESKTOP_WOULD_STOP: &str = "Desktop Would Stop";
    pub const DESKTOP_POWER_FAILED: &str = "Desktop Power Action Failed";
    pub const DESKTOP_GUARD_WARNING: &str = "Desktop Guard Warning";
    pub const DESKTOP_DRIFT: &str = "Desktop Drift Detected";
    pub const TENANT_POLICY_CHANGED: &str = "Tenant Policy Changed";
    pub const TENANT_SWEEP_FAILED: &str = "Tenant Sweep Failed";
    pub const PARTNER_EVENT_REJECTED: &str = "Partner Event Rejected";
    /// An asynchronous lifecycle operation (rebuild, restore, migrate, …) reached its end.
    pub const LIFECYCLE_OPERATION_COMPLETED: &str = "Lifecycle Operation Completed";
    /// It came to rest somewhere else, or reached no end in time.
    pub const LIFECYCLE_OPERATION_FAILED: &str = "Lifecycle Operation Failed";
    /// The tenant's maintenance opt-out was applied to its directories.
    pub const TENANT_MAINTENANCE_MODE_APPLIED: &str = "Tenant Maintenance Mode Applied";
    /// A pool was created, changed or deleted.
    pub const POOL_CHANGED: &str = "Pool Changed";
    /// A pool grew or shrank (or could not grow).
    pub const POOL_RESIZED: &str = "Pool Resized";
    /// Users were loaded or removed.
    pub const USERS_CHANGED: &str = "Users Changed";
    /// The answer to an assignment request: the user's desktop.
    pub const DESKTOP_ASSIGNED: &str = "Desktop Assigned";
    /// The answer to an assignment request that could not be met, with the reason.
    pub const DESKTOP_ASSIGNMENT_FAILED: &str = "Desktop Assignment Failed";
    /// A user released a desktop: its release plan began.
    pub const DESKTOP_RELEASED: &str = "Desktop Released";
    /// A released desktop's plan finished: it is free in its pool again.
    pub const DESKTOP_RETURNED: &str = "Desktop Returned";
    /// A group's power plan was set or removed, or a holiday calendar loaded.
    pub const POWER_PLAN_CHANGED: &str = "Power Plan Changed";
    /// An override was set (a desktop kept running, a group's warm capacity).
    pub const OVERRIDE_SET: &str = "Override Set";
    /// An override (or a start request's lease) ran out.
    pub const OVERRIDE_ENDED: &str = "Override Ended";
    /// A window ended with a live session on the desktop: it stops after the grace.
    pub const DESKTOP_DRAIN_WARNING: &str = "Desktop Drain Warning";
    /// A window a holiday or a closure kept shut.
    pub const POWER_PLAN_WINDOW_SKIPPED: &str = "Power Plan Window Skipped";
    /// A group's month: hours inside and outside its windows, and saved against always-on.
    pub const POWER_PLAN_REPORT: &str = "Power Plan Report";

    /// Every detail type above (each has a schema in `events/schemas/outbound/` and a sample
    /// in `events/outbound/`).
    pub const ALL: &[&str] = &[
        DESKTOP_STARTING,
        DESKTOP_AVAILABLE,
        DESKTOP_LEASE_EXTENDED,
        DESKTOP_STOPPING,
        DESKTOP_STOPPED,
        DESKTOP_WOULD_STOP,
        DESKTOP_POWER_FAILED,
        DESKTOP_GUARD_WARNING,
        DESKTOP_DRIFT,
        TENANT_POLICY_CHANGED,
        TENANT_SWEEP_FAILED,
        PARTNER_EVENT_REJECTED,
        LIFECYCLE_OPERATION_COMPLETED,
        LIFECYCLE_OPERATION_FAILED,
        TENANT_MAINTENANCE_MODE_APPLIED,
        POOL_CHANGED,
        POOL_RESIZED,
        USERS_CHANGED,
        DESKTOP_ASSIGNED,
        DESKTOP_ASSIGNMENT_FAILED,
        DESKTOP_RELEASED,
        DESKTOP_RETURNED,
        POWER_PLAN_CHANGED,
        OVERRIDE_SET,
        OVERRIDE_ENDED,
        DESKTOP_DRAIN_WARNING,
        POWER_PLAN_WINDOW_SKIPPED,
        POWER_PLAN_REPORT,
    ];
}

/// One recorded action as the sandbox's timeline and `demo --json` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowerAction {
    /// The desktop (or the tenant, for tenant-wide actions).
    pub workspace: String,
    /// The [`ActionName`] (`start`, `extend_lease`, `stop`, …); a string, as the sandbox
    /// adds names of its own (`sweep_failed`).
    pub action: String,
    pub reason: String,
    pub time: Timestamp,
}

/// The facts of one audit record.
pub struct Audit<'a> {
    pub tenant: &'a TenantId,
    pub workspace: Option<&'a WorkspaceId>,
    pub actor: &'a Actor,
    pub action: ActionName,
    pub reason: &'a str,
    pub outcome: &'a AuditOutcome,
    pub at: Timestamp,
}

impl Audit<'_> {
    /// The record, under a fresh id. The only place an [`AuditRecord`] is built.
    pub fn record(&self) -> AuditRecord {
        AuditRecord {
            tenant_id: self.tenant.clone(),
            audit_id: uuid::Uuid::new_v4(),
            at: self.at,
            actor: self.actor.clone(),
            action: self.action.as_str().to_owned(),
            workspace_id: self.workspace.cloned(),
            reason: self.reason.to_owned(),
            outcome: self.outcome.clone(),
        }
    }
}

/// What is about to be recorded for one action: its audit record and its outbound event.
pub struct Action<'a> {
    pub tenant: &'a TenantId,
    pub workspace: Option<&'a WorkspaceId>,
    pub actor: Actor,
    pub action: ActionName,
    pub reason: String,
    pub outcome: AuditOutcome,
    pub detail_type: &'a str,
    pub at: Timestamp,
    /// Facts beyond the common ones (camelCase keys), added to the outbound event's detail
    /// and kept in the audit record's reason: a completion's timings, an operation's name.
    pub details: Option<Value>,
}

impl Action<'_> {
    fn audit(&self) -> Audit<'_> {
        Audit {
            tenant: self.tenant,
            workspace: self.workspace,
            actor: &self.actor,
            action: self.action,
            reason: &self.reason,
            outcome: &self.outcome,
            at: self.at,
        }
    }

    /// The outbound event's `detail`: the common keys, then [`Action::details`] merged in
    /// (a common key is never overwritten).
    pub fn outbound_detail(&self) -> Value {
        let mut detail = json!({
            "tenantId": self.tenant,
            "workspaceId": self.workspace,
            "action": self.action,
            "reason": self.reason,
            "at": self.at,
            "actor": self.actor,
            "outcome": self.outcome,
        });
        if let (Some(Value::Object(extra)), Value::Object(body)) = (&self.details, &mut detail) {
            for (k, v) in extra {
                body.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        detail
    }

    fn outbound(&self) -> Outbound {
        let mut out = Outbound::new(self.detail_type, &self.outbound_detail());
        if let Some(ws) = self.workspace {
            out.resources.push(ws.to_string());
        }
        out
    }

    pub fn report(&self) -> PowerAction {
        PowerAction {
            workspace: self
                .workspace
                .map_or_else(|| self.tenant.to_string(), |w| w.to_string()),
            action: self.action.as_str().to_owned(),
            reason: self.reason.clone(),
            time: self.at,
        }
    }
}

/// Outcome of a failed AWS item or call, as kept in the audit record.
pub fn failed(name: &str, message: impl Into<String>) -> AuditOutcome {
    AuditOutcome::Failed {
        error: ErrorRecord {
            name: name.to_owned(),
            message: message.into(),
        },
    }
}

/// Writes the audit records of `actions` (batched, 25 per call), then publishes their events
/// (10 per call). Returns how many events could not be published (logged).
pub async fn record_all(deps: &Deps, actions: &[Action<'_>]) -> Result<usize, Error> {
    if actions.is_empty() {
        return Ok(0);
    }
    let audits: Vec<AuditRecord> = actions.iter().map(|a| a.audit().record()).collect();
    deps.store.append_audits(&audits).await?;
    let events: Vec<Outbound> = actions.iter().map(Action::outbound).collect();
    Ok(publish(deps, &events).await)
}

/// Writes one audit record (a conditional put: its fresh id cannot collide).
pub async fn audit(deps: &Deps, audit: &Audit<'_>) -> Result<(), Error> {
    deps.store.append_audit(&audit.record()).await?;
    Ok(())
}

/// Publishes events whose actions are already recorded. Returns how many could not be
/// published: each refused entry is logged by [`Deps::publish`], a failed call here.
pub async fn publish(deps: &Deps, events: &[Outbound]) -> usize {
    match deps.publish(events).await {
        Ok(outcomes) => outcomes
            .iter()
            .filter(|o| matches!(o, ItemOutcome::Failed { .. }))
            .count(),
        Err(e) => {
            tracing::error!(error = %e, count = events.len(), "outbound events not published");
            events.len()
        }
    }
}

/// Publishes one event that must not be lost silently: an entry EventBridge refuses fails
/// the caller with `Steward.Transient` (onboarding's steps: the state machine retries them).
pub async fn publish_or_fail(deps: &Deps, detail_type: &str, detail: Value) -> Result<(), Error> {
    let outcomes = deps
        .publish(&[Outbound {
            detail_type: detail_type.to_owned(),
            detail,
            resources: Vec::new(),
        }])
        .await?;
    match outcomes.first() {
        Some(ItemOutcome::Failed { code, message }) => Err(Error::refused(
            names::TRANSIENT,
            format!("EventBridge refused the {detail_type} event: {code}: {message}"),
        )),
        _ => Ok(()),
    }
}
