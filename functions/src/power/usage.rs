//! The usage ledger: `power.usage`, a tenant's ledger for one month (hours AVAILABLE per
//! desktop; the `usage` query answers the same [`UsageOutput`], through [`ledger`]), and
//! `add_usage_until`, which books the AVAILABLE period a call of Steward's ended. What a
//! period adds to which month is a pure rule in `shared`
//! (`steward_shared::reconcile::usage_until`).
//!
//! Periods Steward ended itself (its own StopWorkspaces) end exactly at the call; periods it
//! only observed (a stop outside Steward, the service's forced stop, a desktop first seen
//! AVAILABLE) are dated within one sweep interval. `uncertaintySeconds` is the sum of those
//! bounds: the true AVAILABLE time lies in
//! `[availableSeconds - uncertaintySeconds, availableSeconds]`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward_shared::Error;
use steward_shared::error::names;
use steward_shared::ids::{TenantId, WorkspaceId};
use steward_shared::model::{Month, Timestamp, UsageRecord, WorkspaceRecord};
use steward_shared::reconcile::usage_until;
use steward_shared::store::UsageStore;

use crate::deps::Deps;
use crate::input::parse_input;

/// The function's input (snake_case, like every `power.*` function's input).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageInput {
    pub tenant_id: TenantId,
    pub month: Month,
}

/// The answer, camelCase like every partner-facing answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageOutput {
    pub tenant_id: TenantId,
    pub month: Month,
    pub desktops: Vec<DesktopUsage>,
    pub total_available_hours: f64,
    pub total_uncertainty_hours: f64,
    pub uncertainty: &'static str,
}

/// One desktop's line of the ledger.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DesktopUsage {
    pub tenant_id: TenantId,
    pub workspace_id: WorkspaceId,
    pub month: Month,
    pub available_seconds: u64,
    pub uncertainty_seconds: u64,
}

impl From<UsageRecord> for DesktopUsage {
    fn from(r: UsageRecord) -> Self {
        Self {
            tenant_id: r.tenant_id,
            workspace_id: r.workspace_id,
            month: r.month,
            available_seconds: r.available_seconds,
            uncertainty_seconds: r.uncertainty_seconds,
        }
    }
}

pub const UNCERTAINTY: &str = "availableSeconds counts each AVAILABLE period from when Steward started or first saw the desktop AVAILABLE to when it stopped it (exact) or saw it stopped (at most one sweep interval late); the true value lies within [availableSeconds - uncertaintySeconds, availableSeconds]";

/// The ledger of `tenant` for `month`.
pub async fn ledger(deps: &Deps, tenant: &TenantId, month: &Month) -> Result<UsageOutput, Error> {
    let desktops = deps.store.list_usage(tenant, month).await?;
    let hours = |s: u64| s as f64 / 3600.0;
    Ok(UsageOutput {
        total_available_hours: hours(desktops.iter().map(|d| d.available_seconds).sum()),
        total_uncertainty_hours: hours(desktops.iter().map(|d| d.uncertainty_seconds).sum()),
        tenant_id: tenant.clone(),
        month: month.clone(),
        desktops: desktops.into_iter().map(DesktopUsage::from).collect(),
        uncertainty: UNCERTAINTY,
    })
}

/// Adds the AVAILABLE period of `before` that ends at `until` to the usage ledger.
pub(crate) async fn add_usage_until(
    deps: &Deps,
    before: &WorkspaceRecord,
    until: Timestamp,
) -> Result<(), Error> {
    deps.store.add_usages(&usage_until(before, until)).await?;
    Ok(())
}

pub async fn handler(event: Value, deps: &Deps) -> Result<Value, Error> {
    let input: UsageInput = parse_input(event)?;
    let out = ledger(deps, &input.tenant_id, &input.month).await?;
    serde_json::to_value(&out).map_err(|e| {
        Error::refused(
            names::INVALID_REQUEST,
            format!("unserialisable result: {e}"),
        )
    })
}
