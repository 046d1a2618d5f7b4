//! The schedule scenario's report: what it adds to the demo's JSON (each plan's next
//! window in UTC and local time, the pool at each opening minute) and why it could stop.

use std::collections::BTreeMap;

use serde::Serialize;
use steward_functions::plans::govern::PlanBook;
use steward_functions::power::PowerAction;
use steward_functions::power::sweep::SweepOptions;
use steward_shared::ids::TenantId;
use steward_shared::model::Timestamp;
use steward_shared::plans::{ZoneName, local_time};

use crate::demo_pools::Assignment;
use crate::narrator::Event;
use crate::sandbox::Sandbox;

/// Why the scenario could not go on.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("tenant {0} is not registered")]
    UnknownTenant(String),
    #[error("tenant {0} has no registered desktop with a bundle to build the pool on")]
    NoBundle(String),
    #[error("the {step} event was refused: {error}")]
    Refused { step: String, error: String },
    #[error("the emulator's clock: {0}")]
    Clock(String),
    #[error("store: {0}")]
    Store(#[from] steward_shared::store::StoreError),
    #[error("a scenario name is not a valid id: {0}")]
    Name(String),
    #[error("the plans could not be read: {0}")]
    Plans(String),
}

/// An instant in UTC and in a plan's zone (`2026-12-03T06:00:00Z`,
/// `2026-12-03T07:00:00+01:00`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZonedTime {
    pub utc: String,
    pub local: String,
}

impl ZonedTime {
    pub(super) fn of(zone: &ZoneName, t: Timestamp) -> Self {
        Self {
            utc: t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            local: local_time(zone, t),
        }
    }
}

/// A plan at the end of the scenario: its next window (the one open now, if any).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanSummary {
    /// The pool, or `TENANT` for the tenant's desktops outside pools.
    pub pool: String,
    pub zone: String,
    pub next_open: Option<ZonedTime>,
    pub next_close: Option<ZonedTime>,
}

/// The pool's desktops in the service at the window's opening minute (07:00 local) of one
/// simulated day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpeningMinute {
    pub pool: String,
    pub at: ZonedTime,
    /// Each desktop's state as the service reported it, by workspace id.
    pub states: BTreeMap<String, String>,
}

/// What the scenario adds to the demo's JSON report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScheduleReport {
    pub plans: Vec<PlanSummary>,
    pub opening_minute: Vec<OpeningMinute>,
}

/// What the scenario gives the demo.
#[derive(Debug, Default)]
pub struct ScheduleRun {
    pub timeline: Vec<Event>,
    pub power_actions: Vec<PowerAction>,
    pub assignments: Vec<Assignment>,
    pub report: ScheduleReport,
}

/// Each of the tenant's plans with its next window now, as the sweep evaluates it (the
/// group's current window when it is open).
pub(super) async fn plans(
    sb: &Sandbox,
    tenant: &TenantId,
) -> Result<Vec<PlanSummary>, ScheduleError> {
    let book = PlanBook::load(
        &sb.deps,
        tenant,
        sb.control().now(),
        SweepOptions::default().interval,
    )
    .await
    .map_err(|e| ScheduleError::Plans(e.to_string()))?;
    let mut out = Vec::new();
    for group in &book.groups {
        let (Some(plan), Some(status)) = (&group.record.plan, &group.status) else {
            continue;
        };
        let next = status.next;
        out.push(PlanSummary {
            pool: group.record.scope(),
            zone: plan.zone.to_string(),
            next_open: next.map(|o| ZonedTime::of(&plan.zone, o.opens_at)),
            next_close: next.map(|o| ZonedTime::of(&plan.zone, o.closes_at)),
        });
    }
    Ok(out)
}
