//! Session events (`Session Started`, `Session Heartbeat`, `Session Ended`): the record's
//! sessions, through the order-tolerant reducer. Nothing is called and nothing is recorded
//! beyond the record: sessions are what the idle rule and the guard read — except that a
//! `Session Ended` leaving a floating pool's assigned desktop without a session releases it
//! ([`crate::pools`]).

use steward_shared::events::{PartnerEvent, SessionDetail};
use steward_shared::model::Tenant;
use steward_shared::power::{SessionChange, apply_session};

use super::{
    EventOutcome, Handled, MAX_ATTEMPTS, Processed, actor, conflict, desktop, processed, write,
};
use crate::deps::Deps;

pub(super) async fn session(
    deps: &Deps,
    tenant: &Tenant,
    event: &PartnerEvent,
    d: &SessionDetail,
    change: SessionChange,
) -> Result<Processed, Handled> {
    for _ in 0..MAX_ATTEMPTS {
        let mut ws = desktop(deps, tenant, &d.workspace_id).await?;
        if !apply_session(&mut ws, change, &d.session_id, d.occurred_at) {
            return Ok(processed(event, EventOutcome::Unchanged, 0));
        }
        if let Some(written) = write(deps, &ws).await? {
            let mut p = processed(event, EventOutcome::Applied, 1);
            if change == SessionChange::Ended {
                // A floating pool's desktop left without a session is released.
                p.actions =
                    crate::pools::release_after_session(deps, tenant, &written, &actor(event))
                        .await?;
            }
            return Ok(p);
        }
    }
    Err(conflict(event).into())
}
