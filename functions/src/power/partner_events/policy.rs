//! `Tenant Policy Updated`: the tenant's power policy, changed field by field, each field
//! dated by the event that last set it (an older event never undoes a newer one). The event
//! id is claimed before the write, so a redelivery is a duplicate; a change of the
//! maintenance opt-out is also applied to the tenant's directories ([`maintenance`]).
//!
//! [`maintenance`]: crate::power::maintenance

use steward_shared::events::{PartnerEvent, PartnerEventKind, Rejection};
use steward_shared::model::{AuditOutcome, PolicyStamp, Tenant};
use steward_shared::store::{Claim, DedupeStore, StoreError, TenantStore};

use super::{EventOutcome, Handled, MAX_ATTEMPTS, Processed, actor, conflict, processed};
use crate::deps::Deps;
use crate::power::maintenance;
use crate::record::{Action, ActionName, dedupe_ttl, outbound_types as ot, record_all};

pub(super) async fn policy(
    deps: &Deps,
    tenant: Tenant,
    event: &PartnerEvent,
) -> Result<Processed, Handled> {
    let PartnerEventKind::PolicyUpdated(d) = &event.kind else {
        return Ok(processed(event, EventOutcome::Unchanged, 0));
    };
    let now = deps.now();
    let expires = now + dedupe_ttl(deps);
    let mut tenant = tenant;
    let mut claimed = false;
    for _ in 0..MAX_ATTEMPTS {
        let mut stamps = tenant.policy_stamps.clone();
        let stamp = PolicyStamp {
            at: d.occurred_at,
            event_id: event.event_id.to_string(),
        };
        let new_policy = d
            .policy
            .apply_stamped(&tenant.policy, &mut stamps, &stamp)
            .map_err(|v| Handled::Rejected(Rejection::InvalidField(v)))?;
        if new_policy == tenant.policy && stamps == tenant.policy_stamps {
            return Ok(processed(event, EventOutcome::Unchanged, 0));
        }
        // Claimed before the write: a redelivery finds the claim and skips; the change is
        // the same whichever delivery writes it.
        if !claimed {
            let claim = deps
                .store
                .claim_event(&tenant.tenant_id, &event.event_id, now, expires)
                .await?;
            if claim == Claim::Duplicate {
                return Ok(processed(event, EventOutcome::Duplicate, 0));
            }
            claimed = true;
        }
        let mut updated = tenant.clone();
        updated.policy = new_policy;
        updated.policy_stamps = stamps;
        updated.updated_at = now;
        match deps.store.update_tenant(&updated).await {
            Ok(_) => {}
            Err(StoreError::VersionConflict { .. }) => {
                tenant = deps
                    .store
                    .get_tenant(&tenant.tenant_id)
                    .await?
                    .ok_or_else(|| {
                        Handled::Rejected(Rejection::UnknownTenant(tenant.tenant_id.to_string()))
                    })?;
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        let a = Action {
            tenant: &tenant.tenant_id,
            workspace: None,
            actor: actor(event),
            action: ActionName::PolicyUpdate,
            reason: format!(
                "policy changed: {}",
                serde_json::to_string(&d.policy).unwrap_or_default()
            ),
            outcome: AuditOutcome::Succeeded,
            detail_type: ot::TENANT_POLICY_CHANGED,
            at: now,
            details: None,
        };
        let recorded = record_all(deps, std::slice::from_ref(&a)).await;
        let mut p = processed(event, EventOutcome::PolicyUpdated, 1);
        p.actions.push(a.report());
        // The opt-out is a setting of the tenant's directories too: applied once the tenant
        // record holds it (a redelivery is a duplicate and would not come back to it), even
        // if the audit write above failed. Every directory's outcome, and any failure to
        // reach them, is an action of its own; only a failed audit write fails the event.
        let opt_out = updated.policy.maintenance_opt_out;
        if opt_out != tenant.policy.maintenance_opt_out {
            let applied = maintenance::apply(deps, &updated, opt_out, &a.actor, now).await?;
            p.actions.extend(applied);
        }
        recorded?;
        return Ok(p);
    }
    Err(conflict(event).into())
}
