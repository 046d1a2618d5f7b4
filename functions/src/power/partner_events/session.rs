//! Session events (`Session Started`, `Session Heartbeat`, `Session Ended`): the record's
//! sessions, through the order-tolerant reducer. Nothing is called and nothing is recorded
//! beyond the record: sessions are what the idle rule and the guard read.

use steward_shared::events::{PartnerEvent, SessionDetail};
use steward_shared::model::Tenant;
use steward_shared::power::{SessionChange, apply_session};

use super::{EventOutcome, Handled, MAX_ATTEMPTS, Processed, conflict, desktop, processed, write};
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
        if write(deps, &ws).await?.is_some() {
            return Ok(processed(event, EventOutcome::Applied, 1));
        }
    }
    Err(conflict(event).into())
}
