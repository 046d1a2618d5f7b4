//! `power.usage`: a tenant's usage ledger for one month (hours AVAILABLE per desktop).
//!
//! Periods Steward ended itself (its own StopWorkspaces) end exactly at the call; periods it
//! only observed (a stop outside Steward, the service's forced stop, a desktop first seen
//! AVAILABLE) are dated within one sweep interval. `uncertainty_seconds` is the sum of those
//! bounds: the true AVAILABLE time lies in
//! `[available_seconds - uncertainty_seconds, available_seconds]`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward_shared::Error;
use steward_shared::error::names;
use steward_shared::ids::TenantId;
use steward_shared::model::{Month, UsageRecord};
use steward_shared::store::UsageStore;

use crate::{Deps, parse_input};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageInput {
    pub tenant_id: TenantId,
    pub month: Month,
}

#[derive(Debug, Serialize)]
pub struct UsageOutput {
    pub tenant_id: TenantId,
    pub month: Month,
    pub desktops: Vec<UsageRecord>,
    pub total_available_hours: f64,
    pub total_uncertainty_hours: f64,
    pub uncertainty: &'static str,
}

pub const UNCERTAINTY: &str = "available_seconds counts each AVAILABLE period from when Steward started or first saw the desktop AVAILABLE to when it stopped it (exact) or saw it stopped (at most one sweep interval late); the true value lies within [available_seconds - uncertainty_seconds, available_seconds]";

pub async fn handler(event: Value, deps: &Deps) -> Result<Value, Error> {
    let input: UsageInput = parse_input(event)?;
    let desktops = deps
        .store
        .list_usage(&input.tenant_id, &input.month)
        .await?;
    let hours = |s: u64| s as f64 / 3600.0;
    let out = UsageOutput {
        total_available_hours: hours(desktops.iter().map(|d| d.available_seconds).sum()),
        total_uncertainty_hours: hours(desktops.iter().map(|d| d.uncertainty_seconds).sum()),
        tenant_id: input.tenant_id,
        month: input.month,
        desktops,
        uncertainty: UNCERTAINTY,
    };
    serde_json::to_value(&out).map_err(|e| {
        Error::refused(
            names::INVALID_REQUEST,
            format!("unserialisable result: {e}"),
        )
    })
}
