//! Offboarding: the `OffboardingStateMachine`'s tasks (`statemachines/offboarding.asl.yaml`).
//!
//! Input `{"tenantId": "...", "confirm": "OFFBOARD"}`. Every step looks at actual state and
//! acts only on what is left, so an interrupted execution is resumed by starting another
//! one with the same input, and a run on an OFFBOARDED tenant makes no call at all. Every
//! step acts in **each** of the tenant's Regions (a second Region onboarded later has its
//! own directory, images, bundles and desktops):
//!
//! 1. `lifecycle.offboard_start`: the confirmation, the tenant (ACTIVE, FAILED or already
//!    OFFBOARDING) marked OFFBOARDING so the power sweeps and commands leave it alone;
//!    `done = true` for a tenant already OFFBOARDED.
//! 2. `lifecycle.offboard_terminate` ([`terminate`]): the registered desktops, a batch
//!    (≤ 25) per Region and call: terminated, their AVAILABLE time added to the usage
//!    ledger, their records removed once the service no longer returns them. `remaining`
//!    drives the wait loop.
//! 3. `lifecycle.offboard_delete` ([`resources`]): the account's partner-tagged bundles,
//!    then its partner-tagged images (sharing removed first).
//! 4. `lifecycle.offboard_directories` ([`directories`]): its partner-tagged REGISTERED
//!    directories deregistered, and the ones still listed (DEREGISTERING) counted: the
//!    state machine calls it again after a Wait until none is left, so the tenant is never
//!    OFFBOARDED while WorkSpaces still holds one of its directories, and fails with
//!    `Steward.PollTimeout` when one never goes (the tenant stays OFFBOARDING; a new
//!    execution resumes the wait).
//! 5. `lifecycle.offboard_complete`: the tenant OFFBOARDED; audit records and the usage
//!    ledger are kept.

mod directories;
mod resources;
mod terminate;

pub use directories::deregister_directories;
pub use resources::delete_resources;
pub use terminate::terminate;

use serde::Deserialize;
use serde_json::{Value, json};
use steward_shared::Error;
use steward_shared::aws::{AwsError, AwsErrorKind, TenantAccess, TenantClients};
use steward_shared::error::names;
use steward_shared::ids::{RegionName, TenantId};
use steward_shared::model::{Actor, AuditOutcome, Tenant, TenantStatus};
use steward_shared::store::{StoreError, TenantStore};

use crate::deps::Deps;
use crate::input::parse_input;
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
pub(super) async fn offboarding_tenant(
    deps: &Deps,
    event: Value,
) -> Result<(OffboardInput, Tenant), Error> {
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

pub(super) async fn record(
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

/// The tenant's clients in each of its Regions, in the order onboarding added them.
pub(super) async fn each_region(deps: &Deps, t: &Tenant) -> Vec<(RegionName, TenantClients)> {
    let mut out = Vec::with_capacity(t.regions.len());
    for region in &t.regions {
        let c = deps.clients.for_tenant(TenantAccess::new(t, region)).await;
        out.push((region.clone(), c));
    }
    out
}

/// The service no longer has the resource (deleted meanwhile): nothing left to do.
pub(super) fn gone(e: &AwsError) -> bool {
    e.kind == AwsErrorKind::NotFound
}
