//! `lifecycle.commands`: one lifecycle command from the partner bus (EventBridge → Lambda).
//!
//! 1. The event is parsed against the lifecycle catalog; the tenant must exist and be ACTIVE.
//! 2. The event id is claimed (DedupeStore): a redelivery finds the claim and makes no call.
//!    A command is acted upon at most once per event id; one whose call failed is reported
//!    by a `Lifecycle Command Failed` event, and the partner resends it with a new id.
//! 3. Preconditions: every desktop is in Steward's registry, every image, bundle and
//!    directory carries the partner tag, the desktop's current state (DescribeWorkspaces) is
//!    one the operation accepts, irreversible commands carry their confirmation, tag changes
//!    leave the partner tag alone. A failed precondition is a named [`Rejection`], recorded
//!    under the tenant and returned as `Steward.EventRejected` (the dead-letter queue keeps
//!    the event).
//! 4. The call, then Steward's registry follows (new state, a migrated or provisioned
//!    desktop registered, a closed AVAILABLE period added to the usage ledger), then one
//!    audit record and one outbound event with the result.
//!
//! The commands live one family per file, as the WorkSpaces gateway they call is organised
//! (`shared/src/gateway/workspaces/`): `desktops` (reboot, rebuild, restore, migrate,
//! modify properties and state, terminate, provision), `images` (create, copy, delete,
//! share), `bundles` (update, delete), `directories` (deregister, creation properties)
//! and `tags`. Each command is one function from a `Context` and its detail to what it
//! did or why not. What every command shares sits beside them, so that a family file reads
//! as the calls it makes: this file claims the event id and hands each command to its
//! family; `context` checks desktops and partner-tagged resources and has the registry
//! follow a call; `outcome` holds the answer's types and writes the one audit record and
//! outbound event per command.

mod bundles;
mod context;
mod desktops;
mod directories;
mod images;
mod outcome;
mod tags;

pub use outcome::{CommandOutcome, CommandResult, ItemResult, ItemStatus};

use serde_json::Value;
use steward_shared::Error;
use steward_shared::error::names;
use steward_shared::events::Rejection;
use steward_shared::ids::OpaqueId;
use steward_shared::lifecycle::{Command, LifecycleEvent};
use steward_shared::model::{Tenant, TenantStatus, Timestamp};
use steward_shared::store::{Claim, DedupeStore, TenantStore};

use crate::deps::Deps;
use crate::record::{dedupe_ttl, reject};
use context::Context;
use outcome::{Done, NotDone, record};

/// Detail types of the events Steward publishes about lifecycle commands.
pub mod outbound_types_lifecycle {
    pub const SUCCEEDED: &str = "Lifecycle Command Succeeded";
    pub const FAILED: &str = "Lifecycle Command Failed";

    /// Both detail types (each has a schema in `events/schemas/outbound/` and a sample in
    /// `events/outbound/`).
    pub const ALL: &[&str] = &[SUCCEEDED, FAILED];
}

/// The route's input check: the event parses as a lifecycle command from the default
/// partner source, as of now (preconditions are checked against the service when handled).
pub fn parses(event: Value) -> Result<(), Error> {
    let source = steward_shared::config::DEFAULT_PARTNER_EVENT_SOURCE;
    LifecycleEvent::parse(&event, source, chrono::Utc::now())
        .map(|_| ())
        .map_err(|r| Error::refused(names::EVENT_REJECTED, format!("{}: {r}", r.reason())))
}

pub async fn handler(event: Value, deps: &Deps) -> Result<Value, Error> {
    let r = process(&event, deps).await?;
    serde_json::to_value(&r).map_err(|e| {
        Error::refused(
            names::INVALID_REQUEST,
            format!("unserialisable result: {e}"),
        )
    })
}

/// Processes one command; a refusal is recorded and returned as `Steward.EventRejected`.
pub async fn process(event: &Value, deps: &Deps) -> Result<CommandResult, Error> {
    let now = deps.now();
    let (parsed, tenant) = accepted(deps, event, now).await?;
    let command = parsed.command.name();
    let answer = |result, items, created| CommandResult {
        event_id: parsed.event_id.to_string(),
        command,
        result,
        items,
        created,
    };
    if claim(deps, &tenant, &parsed, now).await? == Claim::Duplicate {
        return Ok(answer(CommandOutcome::Duplicate, Vec::new(), Vec::new()));
    }
    let cx = Context {
        deps,
        tenant: &tenant,
        event: &parsed,
    };
    let done = match run(&cx).await {
        Ok(d) => d,
        Err(NotDone::Rejected(r)) => {
            return Err(reject(deps, event, Some(&tenant.tenant_id), &r, now).await);
        }
        Err(NotDone::Failed(e @ Error::Aws(_))) => Done::failed(&tenant, command, &e),
        Err(NotDone::Failed(e)) => return Err(e),
    };
    record(&cx, &done, now).await?;
    let items = done
        .items
        .iter()
        .map(|(r, o)| ItemResult::of(r, o))
        .collect();
    Ok(answer(done.outcome(), items, done.created))
}

/// The event parsed, from a registered ACTIVE tenant; a refusal is recorded.
async fn accepted(
    deps: &Deps,
    event: &Value,
    now: Timestamp,
) -> Result<(LifecycleEvent, Tenant), Error> {
    let parsed = match LifecycleEvent::parse(event, &deps.config.partner_event_source, now) {
        Ok(p) => p,
        Err(r) => return Err(reject(deps, event, None, &r, now).await),
    };
    let Some(tenant) = deps.store.get_tenant(&parsed.tenant_id).await? else {
        let r = Rejection::UnknownTenant(parsed.tenant_id.to_string());
        return Err(reject(deps, event, None, &r, now).await);
    };
    if tenant.status != TenantStatus::Active {
        let r = Rejection::TenantNotActive(tenant.tenant_id.to_string());
        return Err(reject(deps, event, Some(&tenant.tenant_id), &r, now).await);
    }
    Ok((parsed, tenant))
}

/// Claims the event id. A redelivery of a command refused before is refused again (so
/// that the dead-letter queue keeps it), without a second rejection record.
async fn claim(
    deps: &Deps,
    tenant: &Tenant,
    parsed: &LifecycleEvent,
    now: Timestamp,
) -> Result<Claim, Error> {
    let expires = now + dedupe_ttl(deps);
    let claim = deps
        .store
        .claim_event(&tenant.tenant_id, &parsed.event_id, now, expires)
        .await?;
    if claim == Claim::Duplicate
        && let Ok(marker) = OpaqueId::parse(format!("rejected:{}", parsed.event_id))
        && deps
            .store
            .claim_event(&tenant.tenant_id, &marker, now, expires)
            .await?
            == Claim::Duplicate
    {
        return Err(Error::refused(
            names::EVENT_REJECTED,
            format!(
                "AlreadyRejected: event {} was refused before; its rejection record says why",
                parsed.event_id
            ),
        ));
    }
    Ok(claim)
}

/// Each command to its family.
async fn run(cx: &Context<'_>) -> Result<Done, NotDone> {
    match &cx.event.command {
        Command::Reboot(d) => desktops::reboot(cx, d).await,
        Command::Terminate(d) => desktops::terminate(cx, d).await,
        Command::Rebuild(d) => desktops::rebuild(cx, d).await,
        Command::Restore(d) => desktops::restore(cx, d).await,
        Command::Migrate(d) => desktops::migrate(cx, d).await,
        Command::ModifyProperties(d) => desktops::modify_properties(cx, d).await,
        Command::ModifyState(d) => desktops::modify_state(cx, d).await,
        Command::Provision(d) => desktops::provision(cx, d).await,
        Command::CreateImage(d) => images::create(cx, d).await,
        Command::CopyImage(d) => images::copy(cx, d).await,
        Command::DeleteImage(d) => images::delete(cx, d).await,
        Command::UpdateImagePermission(d) => images::update_permission(cx, d).await,
        Command::UpdateBundle(d) => bundles::update(cx, d).await,
        Command::DeleteBundle(d) => bundles::delete(cx, d).await,
        Command::DeregisterDirectory(d) => directories::deregister(cx, d).await,
        Command::UpdateCreationProperties(d) => {
            directories::update_creation_properties(cx, d).await
        }
        Command::UpdateTags(d) => tags::update(cx, d).await,
    }
}
