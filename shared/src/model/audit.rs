//! Audit records: one per action Steward took (or, in dry run, would have taken), who or
//! what caused it, and how it ended.

use serde::{Deserialize, Serialize};

use super::{ErrorRecord, Timestamp};
use crate::ids::{OpaqueId, TenantId, WorkspaceId};

/// Who or what caused an audited action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
// Fields in camelCase like every JSON a partner reads (the actor travels in outbound events
// and query answers as it is stored); records written before read through the alias.
#[serde(
    tag = "kind",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
pub enum Actor {
    IdleSweep,
    GuardSweep,
    PartnerEvent {
        #[serde(alias = "event_id")]
        event_id: OpaqueId,
    },
    Onboarding {
        execution: String,
    },
    Operator {
        name: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuditOutcome {
    Succeeded,
    /// Dry run: the action was decided and recorded, nothing was called.
    DryRun,
    Failed {
        error: ErrorRecord,
    },
}

/// One action Steward took (or, in dry run, would have taken).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub tenant_id: TenantId,
    pub audit_id: uuid::Uuid,
    pub at: Timestamp,
    pub actor: Actor,
    /// What was done: `StartWorkspaces`, `StopWorkspaces`, `GuardWarning`, …
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<WorkspaceId>,
    pub reason: String,
    pub outcome: AuditOutcome,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_actor_is_written_in_camel_case_and_read_in_either() {
        let actor = Actor::PartnerEvent {
            event_id: OpaqueId::parse("evt-1").unwrap(),
        };
        let written = serde_json::to_value(&actor).unwrap();
        assert_eq!(
            written,
            json!({"kind": "PARTNER_EVENT", "eventId": "evt-1"})
        );
        // A record stored before the change still reads.
        let stored: Actor =
            serde_json::from_value(json!({"kind": "PARTNER_EVENT", "event_id": "evt-1"})).unwrap();
        assert_eq!(stored, actor);
        assert_eq!(serde_json::from_value::<Actor>(written).unwrap(), actor);
        assert_eq!(
            serde_json::to_value(Actor::Operator {
                name: "golden-image".into()
            })
            .unwrap(),
            json!({"kind": "OPERATOR", "name": "golden-image"})
        );
    }
}
