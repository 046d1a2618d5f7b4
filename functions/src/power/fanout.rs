//! Fan-out of the sweeps over tenants.
//!
//! Deployed, the sweep state machine (`template.yaml`) runs: `power.list_tenants` (one page
//! of ACTIVE tenants) → Map (MaxConcurrency) of `power.sweep_tenant` → next page … →
//! `power.sweep_report`, which logs an EMF metric of the sweep's duration against its
//! interval (the overrun alarm watches it). A tenant's failure is recorded by
//! `power.sweep_tenant` (audit record + outbound event) and answered as a result, so the Map
//! never fails because of one tenant.
//!
//! In process (the sandbox, the benchmark), [`sweep_tenants`] does the same with bounded
//! concurrency.

use chrono::Duration;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use steward_shared::Error;
use steward_shared::error::names;
use steward_shared::ids::TenantId;
use steward_shared::model::{Tenant, TenantStatus, Timestamp};
use steward_shared::store::{PageRequest, TenantStore};

use super::SweepKind;
use super::pace::PaceConfig;
use super::sweep::{SweepOptions, TenantSweep, sweep_tenant};
use crate::deps::Deps;
use crate::input::parse_input;
use crate::record::metrics::{self, Metric};
use crate::record::{Action, ActionName, failed, outbound_types as ot, record_all};

/// The namespace of the power metrics the overrun and sweep-failure alarms watch.
pub const POWER_NAMESPACE: &str = "Steward/Power";

/// Tenants per page handed to one Map state.
pub const DEFAULT_PAGE: u32 = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListInput {
    pub kind: SweepKind,
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
    /// When the whole sweep started (set by the first page, carried along).
    #[serde(default)]
    pub started_at: Option<Timestamp>,
}

#[derive(Debug, Serialize)]
pub struct ListOutput {
    pub kind: SweepKind,
    pub tenants: Vec<TenantId>,
    pub cursor: Option<String>,
    pub has_more: bool,
    pub started_at: Timestamp,
}

/// `power.list_tenants`: one page of the tenants to sweep (ACTIVE only).
pub async fn list_tenants(event: Value, deps: &Deps) -> Result<Value, Error> {
    let input: ListInput = parse_input(event)?;
    let limit = input.limit.unwrap_or(DEFAULT_PAGE).clamp(1, 1000);
    let page = deps
        .store
        .list_tenants(PageRequest {
            limit: Some(limit),
            after: input.cursor,
        })
        .await?;
    let out = ListOutput {
        kind: input.kind,
        tenants: page
            .items
            .into_iter()
            .filter(|t| t.status == TenantStatus::Active)
            .map(|t| t.tenant_id)
            .collect(),
        has_more: page.next.is_some(),
        cursor: page.next,
        started_at: input.started_at.unwrap_or_else(|| deps.now()),
    };
    to_value(&out)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepTenantInput {
    pub tenant_id: TenantId,
    pub kind: SweepKind,
}

/// The result of one tenant in a sweep: swept, or failed with a named error.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TenantOutcome {
    Swept(TenantSweep),
    Failed {
        tenant_id: String,
        error: String,
        message: String,
    },
}

/// `power.sweep_tenant`: sweeps one tenant; its failure is recorded and answered, not raised.
pub async fn sweep_tenant_handler(event: Value, deps: &Deps) -> Result<Value, Error> {
    let input: SweepTenantInput = parse_input(event)?;
    let options = options_from_env()?;
    let Some(tenant) = deps.store.get_tenant(&input.tenant_id).await? else {
        return Err(Error::refused(
            names::NOT_FOUND,
            format!("tenant {} is not registered", input.tenant_id),
        ));
    };
    let outcome = sweep_one(deps, &tenant, input.kind, &options).await;
    if let TenantOutcome::Failed { error, .. } = &outcome {
        // EMF: the failed tenant, counted per sweep kind, with the error's name.
        let line = metrics::document(
            deps.now(),
            POWER_NAMESPACE,
            &[("Sweep", sweep_name(input.kind))],
            false,
            &[Metric {
                name: "TenantSweepFailed",
                unit: "Count",
                value: 1.0,
            }],
            &[("Error", error.as_str())],
        );
        metrics::emit(&line);
    }
    to_value(&outcome)
}

/// Sweep options from the environment: `STEWARD_SWEEP_INTERVAL_MINUTES` (default 5) and
/// the pacing variables of [`PaceConfig`].
pub fn options_from_env() -> Result<SweepOptions, Error> {
    let config = |why: String| {
        Error::from(steward_shared::config::ConfigError::Invalid {
            name: "STEWARD_SWEEP_INTERVAL_MINUTES",
            why,
        })
    };
    let interval = match std::env::var("STEWARD_SWEEP_INTERVAL_MINUTES") {
        Ok(raw) if !raw.trim().is_empty() => match raw.trim().parse::<i64>() {
            Ok(m) if (1..=60).contains(&m) => Duration::minutes(m),
            _ => return Err(config("must be whole minutes from 1 to 60".into())),
        },
        _ => Duration::minutes(5),
    };
    let pace = PaceConfig::from_env().map_err(config)?;
    Ok(SweepOptions { interval, pace })
}

/// Sweeps one tenant and records a failure (audit record + outbound event).
pub async fn sweep_one(
    deps: &Deps,
    tenant: &Tenant,
    kind: SweepKind,
    options: &SweepOptions,
) -> TenantOutcome {
    match sweep_tenant(deps, tenant, kind, options).await {
        Ok(s) => TenantOutcome::Swept(s),
        Err(e) => {
            tracing::error!(tenant = %tenant.tenant_id, error_type = e.name(), error = %e, "tenant sweep failed");
            let a = Action {
                tenant: &tenant.tenant_id,
                workspace: None,
                actor: kind.actor(),
                action: ActionName::Sweep,
                reason: format!("the {kind:?} sweep could not complete for this tenant"),
                outcome: failed(e.name(), e.to_string()),
                detail_type: ot::TENANT_SWEEP_FAILED,
                at: deps.now(),
                details: None,
            };
            if let Err(re) = record_all(deps, std::slice::from_ref(&a)).await {
                tracing::error!(tenant = %tenant.tenant_id, error = %re, "could not record a failed tenant sweep");
            }
            TenantOutcome::Failed {
                tenant_id: tenant.tenant_id.to_string(),
                error: e.name().to_owned(),
                message: e.to_string(),
            }
        }
    }
}

/// Sweeps `tenants` with at most `concurrency` at a time; every tenant gets an outcome.
pub async fn sweep_tenants(
    deps: &Deps,
    tenants: &[Tenant],
    kind: SweepKind,
    options: &SweepOptions,
    concurrency: usize,
) -> Vec<TenantOutcome> {
    futures::stream::iter(tenants)
        .map(|t| sweep_one(deps, t, kind, options))
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

/// Every ACTIVE tenant, all pages.
pub async fn active_tenants(deps: &Deps) -> Result<Vec<Tenant>, Error> {
    let all = steward_shared::store::collect_all(|p| deps.store.list_tenants(p)).await?;
    Ok(all
        .into_iter()
        .filter(|t| t.status == TenantStatus::Active)
        .collect())
}

#[derive(Debug, Deserialize)]
pub struct ReportInput {
    pub kind: SweepKind,
    pub started_at: Timestamp,
    #[serde(default)]
    pub interval_minutes: Option<i64>,
}

/// `power.sweep_report`: the sweep's duration against its interval, as an EMF metric
/// (`Steward/Power` `SweepDurationSeconds`, `SweepOverrun`, dimension `Sweep`) written to
/// the function's log, which CloudWatch turns into the metrics the overrun alarms watch.
/// Failed tenants are counted where they fail (`power.sweep_tenant`, `TenantSweepFailed`).
pub async fn sweep_report(event: Value, deps: &Deps) -> Result<Value, Error> {
    let input: ReportInput = parse_input(event)?;
    let now = deps.now();
    // Started by hand without an interval: the template's default for that schedule.
    let interval = input
        .interval_minutes
        .unwrap_or(match input.kind {
            SweepKind::Idle => 5,
            SweepKind::Guard => 15,
        })
        .max(1);
    let seconds = (now - input.started_at).num_milliseconds() as f64 / 1000.0;
    let overrun = seconds > (interval * 60) as f64;
    // EMF: one JSON line on stdout.
    metrics::emit(&emf(input.kind, seconds, overrun, now));
    Ok(json!({
        "kind": input.kind,
        "duration_seconds": seconds,
        "interval_minutes": interval,
        "overrun": overrun,
    }))
}

/// The Embedded Metric Format document for one finished sweep.
pub fn emf(kind: SweepKind, seconds: f64, overrun: bool, now: Timestamp) -> Value {
    metrics::document(
        now,
        POWER_NAMESPACE,
        &[("Sweep", sweep_name(kind))],
        false,
        &[
            Metric {
                name: "SweepDurationSeconds",
                unit: "Seconds",
                value: seconds,
            },
            Metric {
                name: "SweepOverrun",
                unit: "Count",
                value: if overrun { 1.0 } else { 0.0 },
            },
        ],
        &[],
    )
}

fn sweep_name(kind: SweepKind) -> &'static str {
    match kind {
        SweepKind::Idle => "IDLE",
        SweepKind::Guard => "GUARD",
    }
}

fn to_value(v: &impl Serialize) -> Result<Value, Error> {
    serde_json::to_value(v).map_err(|e| {
        Error::refused(
            names::INVALID_REQUEST,
            format!("unserialisable result: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_emf_document_names_its_metrics() {
        let now = chrono::Utc::now();
        let e = emf(SweepKind::Guard, 400.0, true, now);
        assert_eq!(e["SweepOverrun"].as_f64(), Some(1.0));
        assert_eq!(e["Sweep"], "GUARD");
        let m = &e["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(m["Namespace"], "Steward/Power");
        for metric in m["Metrics"].as_array().into_iter().flatten() {
            let name = metric["Name"].as_str().unwrap_or_default();
            assert!(e.get(name).is_some(), "{name} has no value");
        }
    }
}
