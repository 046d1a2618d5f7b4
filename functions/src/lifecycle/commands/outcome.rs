//! What a lifecycle command came to: what a family answers ([`Done`], or [`NotDone`] with
//! a rejection or a failure), what the handler answers ([`CommandResult`], its outcomes as
//! enums serialised in snake_case), and the one audit record and one outbound event that
//! tell it (`Lifecycle Command Succeeded` or `Failed`).

use serde::Serialize;
use serde_json::json;
use steward_shared::Error;
use steward_shared::aws::AwsError;
use steward_shared::error::names;
use steward_shared::events::Rejection;
use steward_shared::gateway::ItemOutcome;
use steward_shared::gateway::eventbridge::Outbound;
use steward_shared::ids::WorkspaceId;
use steward_shared::model::{Actor, AuditOutcome, ErrorRecord, Tenant, Timestamp};
use steward_shared::store::StoreError;

use super::context::Context;
use super::outbound_types_lifecycle as lot;
use crate::record::{self, ActionName, Audit};

/// Whether the service accepted a resource of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Accepted,
    Failed,
}

/// What a command came to as a whole (the handler's `result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandOutcome {
    Succeeded,
    /// Some items failed.
    Partial,
    Failed,
    /// A redelivery of a command already acted upon: nothing was called.
    Duplicate,
}

/// One resource's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemResult {
    pub resource: String,
    pub outcome: ItemStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ItemResult {
    pub(super) fn of(resource: &str, outcome: &ItemOutcome) -> Self {
        let (outcome, error) = match outcome {
            ItemOutcome::Accepted => (ItemStatus::Accepted, None),
            ItemOutcome::Failed { code, .. } => (ItemStatus::Failed, Some(code.clone())),
        };
        Self {
            resource: resource.to_owned(),
            outcome,
            error,
        }
    }
}

/// What the handler answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandResult {
    pub event_id: String,
    pub command: &'static str,
    pub result: CommandOutcome,
    pub items: Vec<ItemResult>,
    /// Resources the command created (image ids, desktop ids).
    pub created: Vec<String>,
}

/// Why a command did nothing: a precondition refused it, or something failed.
pub(super) enum NotDone {
    Rejected(Rejection),
    Failed(Error),
}

impl From<Error> for NotDone {
    fn from(e: Error) -> Self {
        NotDone::Failed(e)
    }
}

impl From<StoreError> for NotDone {
    fn from(e: StoreError) -> Self {
        NotDone::Failed(e.into())
    }
}

impl From<Rejection> for NotDone {
    fn from(r: Rejection) -> Self {
        NotDone::Rejected(r)
    }
}

impl From<AwsError> for NotDone {
    fn from(e: AwsError) -> Self {
        NotDone::Failed(e.into())
    }
}

/// What a command did, before it is recorded.
#[derive(Default)]
pub(super) struct Done {
    pub(super) items: Vec<(String, ItemOutcome)>,
    pub(super) created: Vec<String>,
    pub(super) summary: String,
}

impl Done {
    /// One resource, accepted.
    pub(super) fn one(resource: impl Into<String>, summary: impl Into<String>) -> Self {
        Self {
            items: vec![(resource.into(), ItemOutcome::Accepted)],
            created: Vec::new(),
            summary: summary.into(),
        }
    }

    /// One outcome per desktop of a batch call.
    pub(super) fn per_desktop(out: Vec<(WorkspaceId, ItemOutcome)>, summary: String) -> Self {
        Self {
            items: out.into_iter().map(|(w, o)| (w.to_string(), o)).collect(),
            created: Vec::new(),
            summary,
        }
    }

    /// The same, with a resource the command created.
    pub(super) fn creating(mut self, created: impl ToString) -> Self {
        self.created.push(created.to_string());
        self
    }

    /// A call the service failed, as the tenant's one item.
    pub(super) fn failed(tenant: &Tenant, command: &str, e: &Error) -> Self {
        Self {
            items: vec![(
                tenant.tenant_id.to_string(),
                ItemOutcome::Failed {
                    code: e.name().to_owned(),
                    message: e.to_string(),
                },
            )],
            created: Vec::new(),
            summary: format!("{command} failed: {e}"),
        }
    }

    /// What the command came to as a whole.
    pub(super) fn outcome(&self) -> CommandOutcome {
        let failed = self
            .items
            .iter()
            .filter(|(_, o)| matches!(o, ItemOutcome::Failed { .. }))
            .count();
        match failed {
            0 => CommandOutcome::Succeeded,
            n if n == self.items.len() => CommandOutcome::Failed,
            _ => CommandOutcome::Partial,
        }
    }
}

/// One resource's outcome as the outbound event tells it: the handler's answer gives the
/// error's code, the event adds the service's message.
#[derive(Serialize)]
struct OutboundItem<'a> {
    resource: &'a str,
    outcome: ItemStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

impl<'a> OutboundItem<'a> {
    fn of(resource: &'a str, outcome: &'a ItemOutcome) -> Self {
        match outcome {
            ItemOutcome::Accepted => Self {
                resource,
                outcome: ItemStatus::Accepted,
                error: None,
                message: None,
            },
            ItemOutcome::Failed { code, message } => Self {
                resource,
                outcome: ItemStatus::Failed,
                error: Some(code),
                message: Some(message),
            },
        }
    }
}

/// One audit record and one outbound event for a command acted upon.
pub(super) async fn record(cx: &Context<'_>, done: &Done, now: Timestamp) -> Result<(), Error> {
    let (deps, tenant, e) = (cx.deps, &cx.tenant.tenant_id, cx.event);
    let failures: Vec<String> = done
        .items
        .iter()
        .filter_map(|(r, o)| match o {
            ItemOutcome::Failed { code, message } => Some(format!("{r}: {code} {message}")),
            ItemOutcome::Accepted => None,
        })
        .collect();
    let outcome = if failures.is_empty() {
        AuditOutcome::Succeeded
    } else {
        AuditOutcome::Failed {
            error: ErrorRecord {
                name: names::OPERATION_FAILED.to_owned(),
                message: failures.join("; "),
            },
        }
    };
    let workspace = match done.items.as_slice() {
        [(r, _)] => WorkspaceId::parse(r.as_str()).ok(),
        _ => None,
    };
    let actor = Actor::PartnerEvent {
        event_id: e.event_id.clone(),
    };
    record::audit(
        deps,
        &Audit {
            tenant,
            workspace: workspace.as_ref(),
            actor: &actor,
            action: ActionName::of_command(&e.command),
            reason: &done.summary,
            outcome: &outcome,
            at: now,
        },
    )
    .await?;
    let detail_type = if failures.is_empty() {
        lot::SUCCEEDED
    } else {
        lot::FAILED
    };
    let items: Vec<OutboundItem<'_>> = done
        .items
        .iter()
        .map(|(r, o)| OutboundItem::of(r, o))
        .collect();
    let mut out = Outbound::new(
        detail_type,
        &json!({
            "tenantId": tenant,
            "command": e.command.name(),
            "eventId": e.event_id,
            "summary": done.summary,
            "items": items,
            "created": done.created,
            "at": now,
            "actor": actor,
            "outcome": outcome,
        }),
    );
    out.resources = done.items.iter().map(|(r, _)| r.clone()).collect();
    // A failed publish is logged and counted there; the command was done all the same.
    record::publish(deps, std::slice::from_ref(&out)).await;
    Ok(())
}
