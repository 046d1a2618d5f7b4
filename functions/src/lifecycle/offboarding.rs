//! Offboarding: the `OffboardingStateMachine`'s tasks (`statemachines/offboarding.asl.yaml`).
//!
//! Input `{"tenantId": "...", "confirm": "OFFBOARD"}`. Every step looks at actual state and
//! acts only on what is left, so an interrupted execution is resumed by starting another
//! one with the same input, and a run on an OFFBOARDED tenant makes no call at all:
//!
//! 1. `lifecycle.offboard_start`: the confirmation, the tenant (ACTIVE, FAILED or already
//!    OFFBOARDING) marked OFFBOARDING so the power sweeps and commands leave it alone;
//!    `done = true` for a tenant already OFFBOARDED.
//! 2. `lifecycle.offboard_terminate`: the registered desktops, a batch (≤ 25) per call:
//!    terminated, their AVAILABLE time added to the usage ledger, their records removed
//!    once the service no longer returns them. `remaining` drives the wait loop.
//! 3. `lifecycle.offboard_delete`: the account's partner-tagged bundles, then its
//!    partner-tagged images (sharing removed first).
//! 4. `lifecycle.offboard_directories`: its partner-tagged REGISTERED directories
//!    deregistered.
//! 5. `lifecycle.offboard_complete`: the tenant OFFBOARDED; audit records and the usage
//!    ledger are kept.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use steward_shared::Error;
use steward_shared::aws::{AwsErrorKind, TenantAccess, TenantClients};
use steward_shared::error::names;
use steward_shared::gateway::ItemOutcome;
use steward_shared::gateway::workspaces::{BundleOwner, DirectoryState, WorkspacesGateway};
use steward_shared::ids::{RegionName, TenantId, WorkspaceId};
use steward_shared::model::{
    Actor, AuditOutcome, StewardAction, StewardCall, Tenant, TenantStatus, Timestamp,
    WorkspaceRecord, WorkspaceState,
};
use steward_shared::store::{PageRequest, StoreError, TenantStore, WorkspaceStore, collect_all};

use crate::deps::Deps;
use crate::input::parse_input;
use crate::power::usage::add_usage_until;
use crate::record::{Action, ActionName, record_all};

/// The value of the input's `confirm`: offboarding destroys the tenant's desktops.
pub const CONFIRM_OFFBOARD: &str = "OFFBOARD";
/// Outbound detail types.
pub const TENANT_OFFBOARDING: &str = "Tenant Offboarding Started";
pub const TENANT_OFFBOARDED: &str = "Tenant Offboarded";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OffboardInput {
    pub tenant_id: TenantId,
    #[serde(default)]
    pub confirm: Option<String>,
    /// Desktops terminated per call (1–25, default 25).
    #[serde(default)]
    pub batch_size: Option<usize>,
}

/// Who the audit trail says acted.
fn actor() -> Actor {
    Actor::Operator {
        name: "offboarding".into(),
    }
}

async fn tenant(deps: &Deps, input: &OffboardInput) -> Result<Tenant, Error> {
    if input.confirm.as_deref() != Some(CONFIRM_OFFBOARD) {
        return Err(Error::refused(
            names::CONFIRMATION_REQUIRED,
            format!("offboarding needs \"confirm\": \"{CONFIRM_OFFBOARD}\""),
        ));
    }
    deps.store
        .get_tenant(&input.tenant_id)
        .await?
        .ok_or_else(|| {
            Error::refused(
                names::NOT_FOUND,
                format!("tenant {} is not registered", input.tenant_id),
            )
        })
}

/// The steps after `start` run only on an OFFBOARDING tenant.
async fn offboarding_tenant(deps: &Deps, event: Value) -> Result<(OffboardInput, Tenant), Error> {
    let input: OffboardInput = parse_input(event)?;
    let t = tenant(deps, &input).await?;
    if t.status != TenantStatus::Offboarding {
        return Err(Error::refused(
            names::TENANT_STATE,
            format!("tenant {} is {:?}, not OFFBOARDING", t.tenant_id, t.status),
        ));
    }
    Ok((input, t))
}

async fn record(
    deps: &Deps,
    t: &Tenant,
    action: ActionName,
    reason: String,
    detail_type: &str,
) -> Result<(), Error> {
    let a = Action {
        tenant: &t.tenant_id,
        workspace: None,
        actor: actor(),
        action,
        reason,
        outcome: AuditOutcome::Succeeded,
        detail_type,
        at: deps.now(),
        details: None,
    };
    record_all(deps, std::slice::from_ref(&a)).await?;
    Ok(())
}

async fn set_status(deps: &Deps, mut t: Tenant, status: TenantStatus) -> Result<Tenant, Error> {
    for _ in 0..5 {
        t.status = status;
        t.updated_at = deps.now();
        match deps.store.update_tenant(&t).await {
            Ok(t) => return Ok(t),
            Err(StoreError::VersionConflict { .. }) => {
                t = deps.store.get_tenant(&t.tenant_id).await?.ok_or_else(|| {
                    Error::refused(names::NOT_FOUND, format!("tenant {} vanished", t.tenant_id))
                })?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::refused(
        names::CONFLICT,
        "the tenant record kept changing; retry",
    ))
}

pub async fn start(event: Value, deps: &Deps) -> Result<Value, Error> {
    let input: OffboardInput = parse_input(event)?;
    let t = tenant(deps, &input).await?;
    match t.status {
        TenantStatus::Offboarded => return Ok(json!({"done": true})),
        TenantStatus::Offboarding => {}
        TenantStatus::Active | TenantStatus::Failed => {
            let t = set_status(deps, t, TenantStatus::Offboarding).await?;
            record(
                deps,
                &t,
                ActionName::OffboardStart,
                "offboarding confirmed: desktops, bundles, images and directories will be removed"
                    .into(),
                TENANT_OFFBOARDING,
            )
            .await?;
        }
        TenantStatus::Onboarding => {
            return Err(Error::refused(
                names::TENANT_STATE,
                format!("tenant {} is still onboarding", t.tenant_id),
            ));
        }
    }
    Ok(json!({"done": false}))
}

/// `lifecycle.offboard_terminate`'s answer: what is left, and what this call did.
#[derive(Debug, Default, Serialize)]
struct Terminated {
    /// Registered desktops not yet removed from the registry.
    remaining: usize,
    /// Desktops TerminateWorkspaces accepted in this call.
    terminated: usize,
    /// Records removed because the service no longer returns their desktop.
    removed: usize,
}

pub async fn terminate(event: Value, deps: &Deps) -> Result<Value, Error> {
    let (input, t) = offboarding_tenant(deps, event).await?;
    let tid = t.tenant_id.clone();
    let records = collect_all(|p: PageRequest| deps.store.list_workspaces(&tid, p)).await?;
    let mut pass = TerminatePass {
        deps,
        tenant: &t,
        batch: input.batch_size.unwrap_or(25).clamp(1, 25),
        done: Terminated {
            remaining: records.len(),
            ..Terminated::default()
        },
    };
    // Per Region (a tenant's desktops may live in several).
    let mut regions: Vec<_> = records.iter().map(|r| r.region.clone()).collect();
    regions.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    regions.dedup();
    for region in regions {
        let mine: Vec<_> = records.iter().filter(|r| r.region == region).collect();
        pass.region(&region, &mine).await?;
    }
    Ok(json!(pass.done))
}

/// One call of `lifecycle.offboard_terminate` over the tenant's desktops.
struct TerminatePass<'a> {
    deps: &'a Deps,
    tenant: &'a Tenant,
    /// Desktops terminated per Region and call.
    batch: usize,
    done: Terminated,
}

impl TerminatePass<'_> {
    /// The Region's desktops: records of those the service no longer returns removed, at
    /// most a batch of the others terminated (those already on their way out left alone).
    async fn region(
        &mut self,
        region: &RegionName,
        mine: &[&WorkspaceRecord],
    ) -> Result<(), Error> {
        let c = self
            .deps
            .clients
            .for_tenant(TenantAccess::new(self.tenant, region))
            .await;
        let ids: Vec<WorkspaceId> = mine.iter().map(|r| r.workspace_id.clone()).collect();
        let described = WorkspacesGateway::new(c.workspaces())
            .describe(&ids)
            .await?;
        let now = self.deps.now();
        let mut to_terminate = Vec::new();
        for r in mine {
            match described
                .found
                .iter()
                .find(|o| o.workspace_id == r.workspace_id)
            {
                None => self.forget(r).await?,
                Some(o)
                    if matches!(
                        o.state,
                        WorkspaceState::Terminating | WorkspaceState::Terminated
                    ) => {}
                Some(o) => {
                    if to_terminate.len() < self.batch {
                        to_terminate.push(((*r).clone(), o.state));
                    }
                }
            }
        }
        if to_terminate.is_empty() {
            return Ok(());
        }
        self.terminate(&c, &to_terminate, now).await
    }

    /// The record of a desktop the service no longer returns (kept on a version conflict:
    /// the next call sees it again).
    async fn forget(&mut self, r: &WorkspaceRecord) -> Result<(), Error> {
        match self
            .deps
            .store
            .delete_workspace(&self.tenant.tenant_id, &r.workspace_id, r.version)
            .await
        {
            Ok(()) | Err(StoreError::NotFound { .. }) => {
                self.done.removed += 1;
                self.done.remaining -= 1;
                Ok(())
            }
            Err(StoreError::VersionConflict { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// TerminateWorkspaces for the batch; each accepted desktop's AVAILABLE time added to
    /// the usage ledger and its record marked TERMINATING (a refused one is retried on the
    /// next call).
    async fn terminate(
        &mut self,
        c: &TenantClients,
        batch: &[(WorkspaceRecord, WorkspaceState)],
        now: Timestamp,
    ) -> Result<(), Error> {
        let deps = self.deps;
        let ids: Vec<WorkspaceId> = batch.iter().map(|(r, _)| r.workspace_id.clone()).collect();
        let out = WorkspacesGateway::new(c.workspaces())
            .terminate(&ids)
            .await?;
        for ((r, state), (_, o)) in batch.iter().zip(&out) {
            if *o != ItemOutcome::Accepted {
                tracing::warn!(workspace = %r.workspace_id, outcome = ?o, "terminate refused; retried on the next batch");
                continue;
            }
            self.done.terminated += 1;
            if *state == WorkspaceState::Available {
                add_usage_until(deps, r, now).await?;
            }
            let mut n = r.clone();
            n.state = WorkspaceState::Terminating;
            n.state_observed_at = now;
            n.last_call = Some(StewardCall::new(StewardAction::Terminate, now, None));
            n.available_since = None;
            n.available_since_source = None;
            n.available_since_uncertainty_seconds = 0;
            n.sessions.clear();
            n.lease_until = None;
            if let Err(e) = deps.store.update_workspace(&n).await {
                tracing::warn!(workspace = %n.workspace_id, error = %e, "record not marked TERMINATING");
            }
        }
        let accepted = out
            .iter()
            .filter(|(_, o)| *o == ItemOutcome::Accepted)
            .count();
        record(
            deps,
            self.tenant,
            ActionName::OffboardTerminate,
            format!("terminated {accepted} desktop(s)"),
            TENANT_OFFBOARDING,
        )
        .await
    }
}

fn gone(e: &steward_shared::aws::AwsError) -> bool {
    e.kind == AwsErrorKind::NotFound
}

pub async fn delete_resources(event: Value, deps: &Deps) -> Result<Value, Error> {
    let (_, t) = offboarding_tenant(deps, event).await?;
    let c = super::home_clients(deps, &t).await?;
    let w = WorkspacesGateway::new(c.workspaces());
    let mut bundles_deleted = Vec::new();
    for b in w.bundles().await? {
        if b.owner == Some(BundleOwner::Amazon) {
            continue;
        }
        let id = b.bundle_id;
        if !w.carries_partner_tag(id.as_str(), &t.partner_tag).await? {
            continue;
        }
        match w.delete_bundle(&id).await {
            Ok(()) => bundles_deleted.push(id.to_string()),
            Err(e) if gone(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let mut images_deleted = Vec::new();
    for i in w.images().await? {
        if i.owner_account_id.as_deref() != Some(t.account_id.as_str()) {
            continue;
        }
        let id = i.image_id;
        if !w.carries_partner_tag(id.as_str(), &t.partner_tag).await? {
            continue;
        }
        for account in w.image_permissions(&id).await? {
            w.update_image_permission(&id, &account, false).await?;
        }
        match w.delete_image(&id).await {
            Ok(()) => images_deleted.push(id.to_string()),
            Err(e) if gone(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if !bundles_deleted.is_empty() || !images_deleted.is_empty() {
        record(
            deps,
            &t,
            ActionName::OffboardDelete,
            format!("deleted bundles {bundles_deleted:?} and images {images_deleted:?}"),
            TENANT_OFFBOARDING,
        )
        .await?;
    }
    Ok(json!({"bundlesDeleted": bundles_deleted, "imagesDeleted": images_deleted}))
}

pub async fn deregister_directories(event: Value, deps: &Deps) -> Result<Value, Error> {
    let (_, t) = offboarding_tenant(deps, event).await?;
    let c = super::home_clients(deps, &t).await?;
    let w = WorkspacesGateway::new(c.workspaces());
    let mut deregistered = Vec::new();
    for d in w.directories().await? {
        if d.state != Some(DirectoryState::Registered) {
            continue;
        }
        let id = d.directory_id;
        if !w.carries_partner_tag(id.as_str(), &t.partner_tag).await? {
            continue;
        }
        match w.deregister_directory(&id).await {
            Ok(()) => deregistered.push(id.to_string()),
            Err(e) if gone(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if !deregistered.is_empty() {
        record(
            deps,
            &t,
            ActionName::OffboardDeregister,
            format!("deregistered directories {deregistered:?}"),
            TENANT_OFFBOARDING,
        )
        .await?;
    }
    Ok(json!({"directoriesDeregistered": deregistered}))
}

pub async fn complete(event: Value, deps: &Deps) -> Result<Value, Error> {
    let (_, t) = offboarding_tenant(deps, event).await?;
    let t = set_status(deps, t, TenantStatus::Offboarded).await?;
    record(
        deps,
        &t,
        ActionName::Offboarded,
        "tenant offboarded; its audit trail and usage ledger are kept".into(),
        TENANT_OFFBOARDED,
    )
    .await?;
    Ok(json!({"done": true}))
}
