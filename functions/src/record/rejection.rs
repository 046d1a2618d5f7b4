//! The record of a refused partner event (a power event or a lifecycle command).
//!
//! **Rejections are kept, never dropped**: a malformed, unknown, stale or foreign event gets
//! a rejection record in the table (an audit record, action [`ActionName::Reject`], and a
//! `Partner Event Rejected` event) under its tenant, or under [`REJECTIONS_TENANT`] when no
//! known tenant can be read from it, once per event id; and the invocation fails with
//! `Steward.EventRejected` and the reason, so that the function's asynchronous on-failure
//! destination (an SQS dead-letter queue in `template.yaml`) keeps the original event with
//! the error.

use serde_json::Value;
use steward_shared::Error;
use steward_shared::error::names;
use steward_shared::events::Rejection;
use steward_shared::ids::{OpaqueId, TenantId};
use steward_shared::model::{Actor, Timestamp};
use steward_shared::store::{Claim, DedupeStore};

use super::{Action, ActionName, failed, outbound_types as ot, record_all};
use crate::deps::Deps;

/// Where rejections that name no known tenant are recorded (a reserved tenant id).
pub const REJECTIONS_TENANT: &str = "steward-rejections";

/// How long an event id is remembered (the dedupe TTL as a chrono duration).
pub fn dedupe_ttl(deps: &Deps) -> chrono::Duration {
    chrono::Duration::from_std(deps.config.dedupe_ttl).unwrap_or(chrono::Duration::hours(72))
}

/// Records a rejection (once per event id, under the tenant or the rejections tenant) and
/// returns the error that fails the invocation, so the dead-letter queue keeps the event.
pub async fn reject(
    deps: &Deps,
    event: &Value,
    tenant: Option<&TenantId>,
    rejection: &Rejection,
    now: Timestamp,
) -> Error {
    let reason = rejection.reason();
    let error = Error::refused(names::EVENT_REJECTED, format!("{reason}: {rejection}"));
    let fallback = TenantId::parse(REJECTIONS_TENANT);
    let tenant = match (tenant, &fallback) {
        (Some(t), _) => t.clone(),
        (None, Ok(t)) => t.clone(),
        (None, Err(_)) => return error,
    };
    let event_id = event
        .get("id")
        .and_then(Value::as_str)
        .and_then(|id| OpaqueId::parse(format!("rejected:{id}")).ok());
    if let Some(id) = &event_id {
        let expires = now + dedupe_ttl(deps);
        match deps.store.claim_event(&tenant, id, now, expires).await {
            Ok(Claim::Duplicate) => return error,
            Ok(Claim::Claimed) => {}
            Err(e) => {
                tracing::error!(error = %e, reason, "could not record a rejected event; it is kept by the dead-letter queue");
                return error;
            }
        }
    }
    let actor_id = event
        .get("id")
        .and_then(Value::as_str)
        .and_then(|id| OpaqueId::parse(id).ok())
        .or_else(|| OpaqueId::parse("unidentified").ok());
    let Some(actor_id) = actor_id else {
        return error;
    };
    let a = Action {
        tenant: &tenant,
        workspace: None,
        actor: Actor::PartnerEvent { event_id: actor_id },
        action: ActionName::Reject,
        reason: format!("{reason}: {rejection}"),
        outcome: failed(names::EVENT_REJECTED, reason),
        detail_type: ot::PARTNER_EVENT_REJECTED,
        at: now,
        details: None,
    };
    if let Err(e) = record_all(deps, std::slice::from_ref(&a)).await {
        tracing::error!(error = %e, reason, "could not record a rejected event; it is kept by the dead-letter queue");
    }
    error
}
