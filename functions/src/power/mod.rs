//! Power governance: partner events, the idle-stop sweep and the 48-hour guard.
//!
//! - [`partner_events`]: `power.partner_events`, the partner bus's events (sessions, start
//!   and stop requests, policy changes), idempotent and order-tolerant;
//! - [`sweep`]: one tenant's idle or guard sweep (reconcile, decide, stop in batches of 25);
//! - [`observations`]: drift and completion events, from what reconciliation saw;
//! - [`fresh`]: a start or stop request's view of the desktop, described first;
//! - `stopping`: a refused stop taken back (both stoppers share it);
//! - [`images`]: image operations Steward started, and their completion events;
//! - [`fanout`]: `power.list_tenants`, `power.sweep_tenant`, `power.sweep_report` (the Step
//!   Functions fan-out) and [`fanout::sweep_tenants`] (bounded concurrency in process);
//! - [`usage`]: `power.usage`, the usage ledger per tenant and month, and the booking of a
//!   period a call ended;
//! - [`maintenance`]: the tenant's maintenance opt-out, applied to its partner-tagged
//!   directories when a policy event changes it;
//! - [`pace`]: each tenant's token bucket, so a sweep stays under the service's rate limit.
//!
//! The decisions themselves are pure functions in `shared` (`steward_shared::power`,
//! `steward_shared::reconcile`); these modules gather their input and carry them out.
//! Every action writes an audit record and publishes an outbound event through
//! [`crate::record`], which also gives the [`PowerAction`] the sandbox shows in its timeline.

pub mod fanout;
pub mod fresh;
pub mod images;
pub mod maintenance;
pub mod observations;
pub mod pace;
pub mod partner_events;
mod stopping;
pub mod sweep;
pub mod usage;

use futures::FutureExt;
use serde::{Deserialize, Serialize};
use steward_shared::model::Actor;

use crate::input::parses;
use crate::routes::Route;

pub use crate::record::PowerAction;

/// The power handlers.
pub fn routes() -> Vec<Route> {
    vec![
        Route {
            name: "power.partner_events",
            run: |event, deps| partner_events::handler(event, deps).boxed(),
            input: partner_events::parses,
            samples: &[
                "events/partner-events/session-started.json",
                "events/partner-events/session-heartbeat.json",
                "events/partner-events/session-ended.json",
                "events/partner-events/desktop-start-requested.json",
                "events/partner-events/desktop-stop-requested.json",
                "events/partner-events/tenant-policy-updated.json",
                "events/partner-events/pool-created.json",
                "events/partner-events/pool-updated.json",
                "events/partner-events/pool-deleted.json",
                "events/partner-events/users-loaded.json",
                "events/partner-events/user-removed.json",
                "events/partner-events/desktop-assignment-requested.json",
                "events/partner-events/desktop-release-requested.json",
                "events/partner-events/power-plan-updated.json",
                "events/partner-events/holiday-calendar-loaded.json",
                "events/partner-events/holiday-calendar-loaded-ics.json",
                "events/partner-events/desktop-keep-running.json",
                "events/partner-events/pool-override.json",
            ],
        },
        Route {
            name: "power.list_tenants",
            run: |event, deps| fanout::list_tenants(event, deps).boxed(),
            input: parses::<fanout::ListInput>,
            samples: &["events/power/list-tenants.json"],
        },
        Route {
            name: "power.sweep_tenant",
            run: |event, deps| fanout::sweep_tenant_handler(event, deps).boxed(),
            input: parses::<fanout::SweepTenantInput>,
            samples: &["events/power/sweep-tenant.json"],
        },
        Route {
            name: "power.sweep_report",
            run: |event, deps| fanout::sweep_report(event, deps).boxed(),
            input: parses::<fanout::ReportInput>,
            samples: &["events/power/sweep-report.json"],
        },
        Route {
            name: "power.usage",
            run: |event, deps| usage::handler(event, deps).boxed(),
            input: parses::<usage::UsageInput>,
            samples: &["events/power/usage.json"],
        },
    ]
}

/// Which sweep runs: each has its own schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SweepKind {
    /// Stops idle desktops (the idle-stop policy).
    Idle,
    /// The 48-hour guard: stops idle desktops at the threshold, warns about busy ones.
    Guard,
}

impl SweepKind {
    /// Who the sweep's audit records name as having acted.
    pub fn actor(self) -> Actor {
        match self {
            SweepKind::Idle => Actor::IdleSweep,
            SweepKind::Guard => Actor::GuardSweep,
        }
    }
}
