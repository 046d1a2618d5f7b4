//! Audit records: one per action Steward took (or, in dry run, would have taken), who or
//! what caused it, and how it ended.

use serde::{Deserialize, Serialize};

use super::{ErrorRecord, Timestamp};
use crate::ids::{OpaqueId, TenantId, WorkspaceId};

/// Who or what caused an audited action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Actor {
    IdleSweep,
    GuardSweep,
    PartnerEvent { event_id: OpaqueId },
    Onboarding { execution: String },
    Operator { name: String },
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
