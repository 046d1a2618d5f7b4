//! Power control plans: the partner events that set them, and what the idle sweep does
//! with them.
//!
//! The events arrive through `power.partner_events` (the same rule and function as the
//! power and pools events), which checks the envelope and the tenant and hands them here:
//!
//! - `Power Plan Updated`: a pool's plan, or the plan of the tenant's desktops outside
//!   pools (`config.rs`);
//! - `Holiday Calendar Loaded`: a named calendar of the tenant (`config.rs`);
//! - `Pool Override`: a group's warm capacity until a time (`config.rs`);
//! - (`Desktop Keep Running` is a start request with an exact lease:
//!   `power/partner_events/start.rs`.)
//!
//! Every one is dated: a record keeps the time of the event that last changed it, and an
//! older event is superseded, so they converge whatever order EventBridge delivers them in.
//! Each change is one write conditional on the version read.
//!
//! The sweep's side ([`govern`]) evaluates each group's plan with the pure functions of
//! `steward_shared::plans` and turns the decisions into starts (pre-warm, buffer), holds
//! (the idle rule leaves warm capacity alone), drain stops and warnings; [`report`] books
//! the hours inside and outside windows and publishes each month's report.

mod config;

pub(crate) use config::retire_pool_plan;
pub mod govern;
pub mod report;

use serde_json::Value;
use steward_shared::events::{PartnerEvent, PartnerEventKind};
use steward_shared::model::{Actor, AuditOutcome, Tenant, Timestamp};

use crate::deps::Deps;
use crate::power::partner_events::{EventOutcome, Handled, Processed, actor, processed};
use crate::record::{Action, ActionName, record_all};

/// How often a change is decided again after losing a race for its record.
const MAX_ATTEMPTS: usize = 5;

/// Handles one event of the plans catalog (any other kind is not this module's).
pub(crate) async fn handle(
    deps: &Deps,
    tenant: &Tenant,
    event: &PartnerEvent,
) -> Result<Processed, Handled> {
    let ctx = Ctx {
        deps,
        tenant,
        event,
        actor: actor(event),
    };
    match &event.kind {
        PartnerEventKind::PlanUpdated(d) => config::plan(&ctx, d).await,
        PartnerEventKind::CalendarLoaded(d) => config::calendar(&ctx, d).await,
        PartnerEventKind::PoolOverride(d) => config::pool_override(&ctx, d).await,
        _ => Ok(processed(event, EventOutcome::Unchanged, 0)),
    }
}

/// What every handler of the catalog works with.
struct Ctx<'a> {
    deps: &'a Deps,
    tenant: &'a Tenant,
    event: &'a PartnerEvent,
    actor: Actor,
}

impl Ctx<'_> {
    fn now(&self) -> Timestamp {
        self.deps.now()
    }

    /// The one action an event of this catalog records (about no desktop), recorded, and
    /// the answer.
    async fn finish(
        &self,
        result: EventOutcome,
        action: ActionName,
        reason: String,
        detail_type: &'static str,
        details: Value,
    ) -> Result<Processed, Handled> {
        let recorded = Action {
            tenant: &self.tenant.tenant_id,
            workspace: None,
            actor: self.actor.clone(),
            action,
            reason,
            outcome: AuditOutcome::Succeeded,
            detail_type,
            at: self.now(),
            details: Some(details),
        };
        record_all(self.deps, std::slice::from_ref(&recorded)).await?;
        let mut p = processed(self.event, result, 1);
        p.actions.push(recorded.report());
        Ok(p)
    }

    fn unchanged(&self) -> Processed {
        processed(self.event, EventOutcome::Unchanged, 0)
    }
}
