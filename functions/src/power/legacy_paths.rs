//! **Transitional (issue 17), to be deleted**: the paths lifecycle and the sandbox imported
//! from power before the restructuring. `lifecycle/commands.rs`, `golden.rs` and
//! `offboarding.rs` (split by another helper) and `local/src/day.rs` (restructured by
//! another) still name them; the lead re-points them to [`crate::record`],
//! [`super::usage`] and [`super::partner_events`] after the merge and removes this file.
//! Nothing new may use it.

/// What `crate::power::events` offered others.
pub mod events {
    pub use crate::power::partner_events::process;
    pub(crate) use crate::power::usage::add_usage_until;
    pub(crate) use crate::record::{dedupe_ttl as ttl, reject};
}

/// What `crate::power::record` offered lifecycle: an action named by a string, recorded
/// through [`crate::record`] once the name is read as an [`ActionName`].
pub(crate) mod record {
    use serde_json::Value;
    use steward_shared::Error;
    use steward_shared::error::names;
    use steward_shared::ids::{TenantId, WorkspaceId};
    use steward_shared::model::{Actor, AuditOutcome, Timestamp};

    use crate::Deps;
    use crate::record::ActionName;
    pub(crate) use crate::record::failed;

    pub(crate) struct Action<'a> {
        pub tenant: &'a TenantId,
        pub workspace: Option<&'a WorkspaceId>,
        pub actor: Actor,
        pub action: &'a str,
        pub reason: String,
        pub outcome: AuditOutcome,
        pub detail_type: &'a str,
        pub at: Timestamp,
        pub details: Option<Value>,
    }

    /// [`crate::record::record_all`] of `actions`, their names read as [`ActionName`]s.
    pub(crate) async fn record_all(deps: &Deps, actions: &[Action<'_>]) -> Result<usize, Error> {
        let named = actions
            .iter()
            .map(|a| {
                let action: ActionName =
                    serde_json::from_value(Value::from(a.action)).map_err(|_| {
                        Error::refused(
                            names::INVALID_REQUEST,
                            format!("no audit action is named `{}`", a.action),
                        )
                    })?;
                Ok(crate::record::Action {
                    tenant: a.tenant,
                    workspace: a.workspace,
                    actor: a.actor.clone(),
                    action,
                    reason: a.reason.clone(),
                    outcome: a.outcome.clone(),
                    detail_type: a.detail_type,
                    at: a.at,
                    details: a.details.clone(),
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        crate::record::record_all(deps, &named).await
    }
}
