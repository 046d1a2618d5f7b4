//! Pools, users and release plans: the partner events of the pools catalog, and the pools'
//! upkeep in the idle sweep.
//!
//! The events arrive through `power.partner_events` (the same rule and function as the
//! power events), which checks the envelope, the tenant, and hands them here:
//!
//! - `config.rs`: `Pool Created`, `Pool Updated`, `Pool Deleted`;
//! - `users.rs`: `Users Loaded`, `User Removed`;
//! - `assign.rs`: `Desktop Assignment Requested`;
//! - `release.rs`: `Desktop Release Requested`, and a `Session Ended` that leaves an
//!   assigned desktop without a session;
//! - `grow.rs`: creating desktops (CreateWorkspaces, 25 per call) and terminating them;
//! - [`upkeep`]: what the idle sweep does for each pool after reconciling the desktops:
//!   releases whose delay ran out are carried out, finished ones return the desktop, free
//!   desktops above `minSize` past their cool-down are terminated, and a pool below
//!   `minSize` grows.
//!
//! The decisions are the pure functions of `steward_shared::pools`. Every change is a write
//! conditional on the version read (a desktop's claim, a pool's growth) or on the event's
//! time (a user), so concurrent requests for the last free desktop have exactly one
//! winner, a pool never grows past `maxSize`, and events converge whatever their order.
//! Requests and releases are claimed by event id first, so a redelivery does nothing; a
//! request whose handling then fails gives its claim back, so EventBridge's retry is handled
//! and answered.
//! Every action is recorded through [`crate::record`] (audit record, outbound event).

mod assign;
mod config;
mod grow;
mod release;
pub mod upkeep;
mod users;

use serde_json::Value;
use steward_shared::Error;
use steward_shared::aws::{TenantAccess, TenantClients};
use steward_shared::events::{PartnerEvent, PartnerEventKind};
use steward_shared::model::{Actor, AuditOutcome, PoolRecord, Tenant, Timestamp};
use steward_shared::store::{Claim, DedupeStore, PoolStore, RecordKind, StoreError};

use crate::deps::Deps;
use crate::power::partner_events::{EventOutcome, Handled, Processed, actor, processed};
use crate::record::{Action, ActionName, dedupe_ttl, record_all};

pub use assign::Failure as AssignmentFailure;
pub(crate) use release::release_after_session;

/// How often an assignment is decided again after losing a race for a desktop or the pool.
const MAX_ATTEMPTS: usize = 10;

/// Handles one event of the pools catalog (any other kind is not this module's).
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
        PartnerEventKind::PoolCreated(d) => config::configure(&ctx, d, true).await,
        PartnerEventKind::PoolUpdated(d) => config::configure(&ctx, d, false).await,
        // Boxed: a deletion's future (the shrink, the tombstone, the plan's removal) is large.
        PartnerEventKind::PoolDeleted(d) => Box::pin(config::delete(&ctx, d)).await,
        PartnerEventKind::UsersLoaded(d) => users::load(&ctx, d).await,
        PartnerEventKind::UserRemoved(d) => users::remove(&ctx, d).await,
        PartnerEventKind::AssignmentRequested(d) => {
            ctx.once(Box::pin(assign::assign(&ctx, d))).await
        }
        PartnerEventKind::ReleaseRequested(d) => {
            ctx.once(Box::pin(release::requested(&ctx, d))).await
        }
        _ => Ok(answer(event, EventOutcome::Unchanged, 0, &[])),
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

    /// Who grows and shrinks pools for this event.
    fn resizer(&self) -> grow::Resizer<'_> {
        grow::Resizer {
            deps: self.deps,
            tenant: self.tenant,
            actor: &self.actor,
            now: self.now(),
        }
    }

    /// Handles a request once: the event's id is claimed first (a redelivery is answered
    /// "unchanged"), and a failed handling gives the claim back, so that EventBridge's retry
    /// is handled and answered instead of skipped; a refusal keeps the claim. (The callers
    /// box the handling: an assignment's future is large, and held here by value it would
    /// be moved across the stack frames of this one.)
    async fn once(
        &self,
        handling: impl Future<Output = Result<Processed, Handled>>,
    ) -> Result<Processed, Handled> {
        let now = self.now();
        let claim = self
            .deps
            .store
            .claim_event(
                &self.tenant.tenant_id,
                &self.event.event_id,
                now,
                now + dedupe_ttl(self.deps),
            )
            .await?;
        if claim == Claim::Duplicate {
            return Ok(answer(self.event, EventOutcome::Unchanged, 0, &[]));
        }
        let result = handling.await;
        if let Err(Handled::Failed(e)) = &result
            && let Err(forget) = self
                .deps
                .store
                .forget_event(&self.tenant.tenant_id, &self.event.event_id)
                .await
        {
            tracing::error!(error = %forget, failure = %e, "a failed request's claim was not forgotten: its redelivery will be skipped");
        }
        result
    }

    /// An action of this event, to record.
    fn action<'a>(&'a self, what: Recorded<'a>) -> Action<'a> {
        Action {
            tenant: &self.tenant.tenant_id,
            workspace: what.workspace,
            actor: self.actor.clone(),
            action: what.action,
            reason: what.reason,
            outcome: what.outcome,
            detail_type: what.detail_type,
            at: self.now(),
            details: Some(what.details),
        }
    }
}

/// The parts of an [`Action`] a pool handler chooses.
struct Recorded<'a> {
    workspace: Option<&'a steward_shared::ids::WorkspaceId>,
    action: ActionName,
    reason: String,
    outcome: AuditOutcome,
    detail_type: &'static str,
    details: Value,
}

/// Records `actions` and answers with them.
async fn finish(
    ctx: &Ctx<'_>,
    result: EventOutcome,
    writes: usize,
    actions: &[Action<'_>],
) -> Result<Processed, Handled> {
    record_all(ctx.deps, actions).await?;
    Ok(answer(ctx.event, result, writes, actions))
}

fn answer(
    event: &PartnerEvent,
    result: EventOutcome,
    writes: usize,
    actions: &[Action<'_>],
) -> Processed {
    let mut p = processed(event, result, writes);
    p.actions.extend(actions.iter().map(Action::report));
    p
}

/// `pool` as the table holds it now (after a write of it lost a race).
async fn reread_pool(deps: &Deps, pool: &PoolRecord) -> Result<PoolRecord, Error> {
    deps.store
        .get_pool(&pool.tenant_id, &pool.pool_id)
        .await?
        .ok_or_else(|| {
            StoreError::NotFound {
                kind: RecordKind::Pool,
                key: pool.pool_id.to_string(),
            }
            .into()
        })
}

/// The tenant's clients in the pool's Region.
async fn clients_for(deps: &Deps, tenant: &Tenant, pool: &PoolRecord) -> TenantClients {
    deps.clients
        .for_tenant(TenantAccess::new(tenant, &pool.region))
        .await
}
