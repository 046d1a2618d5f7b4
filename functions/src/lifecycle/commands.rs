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

use serde::Serialize;
use serde_json::{Value, json};
use steward_shared::Error;
use steward_shared::aws::{AwsErrorKind, TenantAccess, TenantClients};
use steward_shared::error::names;
use steward_shared::events::Rejection;
use steward_shared::gateway::ItemOutcome;
use steward_shared::gateway::eventbridge::Outbound;
use steward_shared::gateway::workspaces::{
    CopyImageSpec, CreateImageSpec, CreateWorkspacesSpec, Created, NewWorkspace, PropertyChanges,
    Tag, WorkspacesGateway,
};
use steward_shared::ids::{OpaqueId, RegionName, TenantId, WorkspaceId};
use steward_shared::lifecycle::{
    Command, DesktopOp, LifecycleEvent, TargetState, byop_running_mode, check_state,
    check_tag_changes, region_of,
};
use steward_shared::model::{
    Actor, AuditOutcome, AuditRecord, ErrorRecord, ImageOperation, PendingImage, RunningMode,
    StewardAction, StewardCall, Tenant, TenantStatus, Timestamp, WorkspaceRecord, WorkspaceState,
};
use steward_shared::onboarding::CreationProperties;
use steward_shared::store::{
    AuditStore, Claim, DedupeStore, PageRequest, StoreError, TenantStore, WorkspaceStore,
    collect_all,
};

use crate::Deps;
use crate::power::events::{add_usage_until, reject, ttl};

/// Detail types of the events Steward publishes about lifecycle commands.
pub mod outbound_types_lifecycle {
    pub const SUCCEEDED: &str = "Lifecycle Command Succeeded";
    pub const FAILED: &str = "Lifecycle Command Failed";

    /// Both detail types (each has a schema in `events/schemas/outbound/` and a sample in
    /// `events/outbound/`).
    pub const ALL: &[&str] = &[SUCCEEDED, FAILED];
}
use outbound_types_lifecycle as lot;

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

enum Handled {
    Rejected(Rejection),
    Failed(Error),
}

impl From<Error> for Handled {
    fn from(e: Error) -> Self {
        Handled::Failed(e)
    }
}

impl From<StoreError> for Handled {
    fn from(e: StoreError) -> Self {
        Handled::Failed(e.into())
    }
}

impl From<Rejection> for Handled {
    fn from(r: Rejection) -> Self {
        Handled::Rejected(r)
    }
}

impl From<steward_shared::aws::AwsError> for Handled {
    fn from(e: steward_shared::aws::AwsError) -> Self {
        Handled::Failed(e.into())
    }
}

/// What a command did, before it is recorded.
#[derive(Default)]
struct Done {
    items: Vec<(String, ItemOutcome)>,
    created: Vec<String>,
    summary: String,
}

impl Done {
    fn one(resource: impl Into<String>, summary: impl Into<String>) -> Self {
        Self {
            items: vec![(resource.into(), ItemOutcome::Accepted)],
            created: Vec::new(),
            summary: summary.into(),
        }
    }
}

/// Processes one command; a refusal is recorded and returned as `Steward.EventRejected`.
pub async fn process(event: &Value, deps: &Deps) -> Result<CommandResult, Error> {
    let now = deps.now();
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
    let name = parsed.command.name();
    let expires = now + ttl(deps);
    if deps
        .store
        .claim_event(&tenant.tenant_id, &parsed.event_id, now, expires)
        .await?
        == Claim::Duplicate
    {
        // A redelivery of a command refused before is refused again (so that the
        // dead-letter queue keeps it), without a second rejection record.
        if let Ok(marker) = OpaqueId::parse(format!("rejected:{}", parsed.event_id))
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
        return Ok(CommandResult {
            event_id: parsed.event_id.to_string(),
            command: name,
            result: CommandOutcome::Duplicate,
            items: Vec::new(),
            created: Vec::new(),
        });
    }
    let done = match run(deps, &tenant, &parsed).await {
        Ok(d) => d,
        Err(Handled::Rejected(r)) => {
            return Err(reject(deps, event, Some(&tenant.tenant_id), &r, now).await);
        }
        Err(Handled::Failed(e @ Error::Aws(_))) => Done {
            items: vec![(
                tenant.tenant_id.to_string(),
                ItemOutcome::Failed {
                    code: e.name().to_owned(),
                    message: e.to_string(),
                },
            )],
            created: Vec::new(),
            summary: format!("{name} failed: {e}"),
        },
        Err(Handled::Failed(e)) => return Err(e),
    };
    record(deps, &tenant.tenant_id, &parsed, &done, now).await?;
    let failed_n = done
        .items
        .iter()
        .filter(|(_, o)| matches!(o, ItemOutcome::Failed { .. }))
        .count();
    let result = match failed_n {
        0 => CommandOutcome::Succeeded,
        n if n == done.items.len() => CommandOutcome::Failed,
        _ => CommandOutcome::Partial,
    };
    Ok(CommandResult {
        event_id: parsed.event_id.to_string(),
        command: name,
        result,
        items: done
            .items
            .iter()
            .map(|(r, o)| match o {
                ItemOutcome::Accepted => ItemResult {
                    resource: r.clone(),
                    outcome: ItemStatus::Accepted,
                    error: None,
                },
                ItemOutcome::Failed { code, .. } => ItemResult {
                    resource: r.clone(),
                    outcome: ItemStatus::Failed,
                    error: Some(code.clone()),
                },
            })
            .collect(),
        created: done.created,
    })
}

async fn clients(deps: &Deps, tenant: &Tenant, region: &RegionName) -> TenantClients {
    deps.clients
        .for_tenant(TenantAccess::new(tenant, region))
        .await
}

/// A desktop in Steward's registry and its current state as the service reports it.
struct Desktop {
    record: WorkspaceRecord,
    state: WorkspaceState,
}

async fn desktops(
    deps: &Deps,
    tenant: &Tenant,
    ids: &[WorkspaceId],
    op: DesktopOp,
) -> Result<Vec<Desktop>, Handled> {
    let mut records = Vec::with_capacity(ids.len());
    for id in ids {
        let r = deps
            .store
            .get_workspace(&tenant.tenant_id, id)
            .await?
            .ok_or_else(|| Rejection::NotOwned {
                tenant: tenant.tenant_id.to_string(),
                workspace: id.to_string(),
            })?;
        records.push(r);
    }
    let Some(first) = records.first() else {
        return Ok(Vec::new());
    };
    let c = clients(deps, tenant, &first.region).await;
    let described = WorkspacesGateway::new(c.workspaces()).describe(ids).await?;
    let now = deps.now();
    let mut out = Vec::with_capacity(records.len());
    for record in records {
        let state = described
            .found
            .iter()
            .find(|o| o.workspace_id == record.workspace_id)
            .map_or(WorkspaceState::Terminated, |o| o.state);
        let minutes = if record.state == state {
            (now - record.state_observed_at).num_minutes()
        } else {
            0
        };
        check_state(op, &record.workspace_id, state, minutes)?;
        out.push(Desktop { record, state });
    }
    Ok(out)
}

/// The resource carries the partner tag (DescribeTags); a missing one is not owned either.
async fn owned(c: &TenantClients, tenant: &Tenant, resource: &str) -> Result<(), Handled> {
    let gateway = WorkspacesGateway::new(c.workspaces());
    match gateway
        .carries_partner_tag(resource, &tenant.partner_tag)
        .await
    {
        Ok(true) => Ok(()),
        Ok(false) => Err(Rejection::ResourceNotOwned(resource.to_owned()).into()),
        Err(e) if e.kind == AwsErrorKind::NotFound => {
            Err(Rejection::ResourceNotOwned(format!("{resource} (not found)")).into())
        }
        Err(e) => Err(e.into()),
    }
}

/// Registry follows a call the service accepted: new state, the call pending (so the sweeps
/// attribute what follows to it and report its end), and the AVAILABLE period closed (usage
/// ledger) when the desktop leaves service. Best effort: the sweeps reconcile whatever this
/// could not write.
async fn follow(
    deps: &Deps,
    d: &Desktop,
    state: WorkspaceState,
    closes_period: bool,
    call: StewardCall,
) {
    let now = deps.now();
    let mut r = d.record.clone();
    r.state = state;
    r.state_observed_at = now;
    r.last_call = Some(call);
    if closes_period && d.state == WorkspaceState::Available {
        if let Err(e) = add_usage_until(deps, &d.record, now).await {
            tracing::warn!(workspace = %r.workspace_id, error = %e, "usage not recorded");
        }
        r.available_since = None;
        r.available_since_source = None;
        r.available_since_uncertainty_seconds = 0;
        r.lease_until = None;
        r.guard_warned_at = None;
    }
    if let Err(e) = deps.store.update_workspace(&r).await {
        tracing::warn!(workspace = %r.workspace_id, error = %e, "registry not updated; the guard sweep reconciles it");
    }
}

async fn run(deps: &Deps, tenant: &Tenant, e: &LifecycleEvent) -> Result<Done, Handled> {
    use StewardAction as A;
    use WorkspaceState as S;
    // The call this command makes, as the desktop's record remembers it.
    let call = |action| StewardCall::new(action, deps.now(), Some(e.event_id.to_string()));
    match &e.command {
        Command::Reboot(d) => {
            let ds = desktops(deps, tenant, &d.workspace_ids, DesktopOp::Reboot).await?;
            let c = clients(deps, tenant, &ds[0].record.region).await;
            let out = WorkspacesGateway::new(c.workspaces())
                .reboot(&d.workspace_ids)
                .await?;
            for (desk, (_, o)) in ds.iter().zip(&out) {
                if *o == ItemOutcome::Accepted {
                    follow(deps, desk, S::Rebooting, false, call(A::Reboot)).await;
                }
            }
            Ok(items(out, format!("reboot of {} desktop(s)", ds.len())))
        }
        Command::Terminate(d) => {
            let ds = desktops(deps, tenant, &d.workspace_ids, DesktopOp::Terminate).await?;
            let c = clients(deps, tenant, &ds[0].record.region).await;
            let out = WorkspacesGateway::new(c.workspaces())
                .terminate(&d.workspace_ids)
                .await?;
            for (desk, (_, o)) in ds.iter().zip(&out) {
                if *o == ItemOutcome::Accepted {
                    follow(deps, desk, S::Terminating, true, call(A::Terminate)).await;
                }
            }
            Ok(items(
                out,
                format!("termination of {} desktop(s)", ds.len()),
            ))
        }
        Command::Rebuild(d) => {
            let ds = desktops(
                deps,
                tenant,
                std::slice::from_ref(&d.workspace_id),
                DesktopOp::Rebuild,
            )
            .await?;
            let c = clients(deps, tenant, &ds[0].record.region).await;
            let o = WorkspacesGateway::new(c.workspaces())
                .rebuild(&d.workspace_id)
                .await?;
            if o == ItemOutcome::Accepted {
                follow(deps, &ds[0], S::Rebuilding, true, call(A::Rebuild)).await;
            }
            Ok(items(
                vec![(d.workspace_id.clone(), o)],
                "rebuild from the bundle's current image".into(),
            ))
        }
        Command::Restore(d) => {
            let ds = desktops(
                deps,
                tenant,
                std::slice::from_ref(&d.workspace_id),
                DesktopOp::Restore,
            )
            .await?;
            let c = clients(deps, tenant, &ds[0].record.region).await;
            WorkspacesGateway::new(c.workspaces())
                .restore(&d.workspace_id)
                .await?;
            follow(deps, &ds[0], S::Restoring, true, call(A::Restore)).await;
            Ok(Done::one(
                d.workspace_id.as_str(),
                "restore from the last healthy snapshots",
            ))
        }
        Command::Migrate(d) => {
            let ds = desktops(
                deps,
                tenant,
                std::slice::from_ref(&d.workspace_id),
                DesktopOp::Migrate,
            )
            .await?;
            let desk = &ds[0];
            let c = clients(deps, tenant, &desk.record.region).await;
            owned(&c, tenant, d.bundle_id.as_str()).await?;
            if desk.record.bundle_id.as_ref() == Some(&d.bundle_id) {
                return Err(Rejection::InvalidField(
                    steward_shared::validate::ValidationError::new(
                        "detail.bundleId",
                        steward_shared::validate::Problem::Inconsistent(
                            "the desktop already uses this bundle".into(),
                        ),
                    ),
                )
                .into());
            }
            let target = WorkspacesGateway::new(c.workspaces())
                .migrate(&d.workspace_id, &d.bundle_id)
                .await?;
            let now = deps.now();
            let mut new = WorkspaceRecord::new(
                tenant.tenant_id.clone(),
                target.clone(),
                desk.record.region.clone(),
                desk.record.directory_id.clone(),
                desk.record.running_mode,
                S::Pending,
                now,
            );
            new.bundle_id = Some(d.bundle_id.clone());
            new.user_name = desk.record.user_name.clone();
            new.workspace_name = desk.record.workspace_name.clone();
            new.last_call = Some(call(A::Migrate));
            if let Err(e) = deps.store.create_workspace(&new).await {
                tracing::warn!(workspace = %target, error = %e, "migrated desktop not registered");
            }
            follow(deps, desk, S::Terminating, true, call(A::MigrateSource)).await;
            let mut done = Done::one(
                d.workspace_id.as_str(),
                format!("migrated to bundle {} as {target}", d.bundle_id),
            );
            done.created.push(target.to_string());
            Ok(done)
        }
        Command::ModifyProperties(d) => {
            let mode = d
                .running_mode
                .as_deref()
                .map(byop_running_mode)
                .transpose()?;
            let ds = desktops(
                deps,
                tenant,
                std::slice::from_ref(&d.workspace_id),
                DesktopOp::ModifyProperties,
            )
            .await?;
            let c = clients(deps, tenant, &ds[0].record.region).await;
            let gib = |v: Option<u32>| v.and_then(|g| i32::try_from(g).ok());
            let changes = PropertyChanges {
                compute_type: d.compute_type_name.clone(),
                root_volume_gib: gib(d.root_volume_size_gib),
                user_volume_gib: gib(d.user_volume_size_gib),
                running_mode: mode,
            };
            WorkspacesGateway::new(c.workspaces())
                .modify_properties(&d.workspace_id, &changes)
                .await?;
            // The service shows UPDATING while it works; the call is pending until then.
            let mut r = ds[0].record.clone();
            if let Some(m) = mode {
                r.running_mode = m;
            }
            r.last_call = Some(call(A::ModifyProperties));
            if let Err(e) = deps.store.update_workspace(&r).await {
                tracing::warn!(workspace = %r.workspace_id, error = %e, "the change was not recorded; the sweeps reconcile it");
            }
            Ok(Done::one(
                d.workspace_id.as_str(),
                format!("properties changed: {changes:?}"),
            ))
        }
        Command::ModifyState(d) => {
            let (op, to) = match d.target_state {
                TargetState::AdminMaintenance => {
                    (DesktopOp::ToAdminMaintenance, S::AdminMaintenance)
                }
                TargetState::Available => (DesktopOp::ToAvailable, S::Available),
            };
            let ds = desktops(deps, tenant, std::slice::from_ref(&d.workspace_id), op).await?;
            let c = clients(deps, tenant, &ds[0].record.region).await;
            WorkspacesGateway::new(c.workspaces())
                .modify_state(&d.workspace_id, d.target_state)
                .await?;
            let action = if to == S::AdminMaintenance {
                A::ToAdminMaintenance
            } else {
                A::ToAvailable
            };
            follow(deps, &ds[0], to, false, call(action)).await;
            Ok(Done::one(
                d.workspace_id.as_str(),
                format!("state set to {}", to.as_str()),
            ))
        }
        Command::Provision(d) => {
            let region = region_of(d.region.as_ref(), &tenant.regions)?;
            let c = clients(deps, tenant, &region).await;
            owned(&c, tenant, d.directory_id.as_str()).await?;
            owned(&c, tenant, d.bundle_id.as_str()).await?;
            let new: Vec<NewWorkspace> = d
                .desktops
                .iter()
                .map(|n| NewWorkspace {
                    user_name: n.user_name.clone(),
                    workspace_name: n.workspace_name.clone(),
                })
                .collect();
            let created = WorkspacesGateway::new(c.workspaces())
                .create_workspaces(CreateWorkspacesSpec {
                    directory: &d.directory_id,
                    bundle: &d.bundle_id,
                    tag: &tenant.partner_tag,
                    desktops: &new,
                })
                .await?;
            let now = deps.now();
            let mut done = Done {
                summary: format!("{} desktop(s) requested", new.len()),
                ..Done::default()
            };
            for (n, c) in new.iter().zip(&created) {
                match c {
                    Created::Pending(w) => {
                        let Ok(id) = WorkspaceId::parse(w.workspace_id()) else {
                            done.items.push((
                                n.user_name.clone(),
                                ItemOutcome::Failed {
                                    code: "UnreadableId".into(),
                                    message: "the service returned an unreadable id".into(),
                                },
                            ));
                            continue;
                        };
                        let mut r = WorkspaceRecord::new(
                            tenant.tenant_id.clone(),
                            id.clone(),
                            region.clone(),
                            d.directory_id.clone(),
                            RunningMode::Manual,
                            S::Pending,
                            now,
                        );
                        r.bundle_id = Some(d.bundle_id.clone());
                        r.user_name = Some(n.user_name.clone());
                        r.workspace_name = n.workspace_name.clone();
                        r.last_call = Some(call(A::Create));
                        deps.store.create_workspace(&r).await?;
                        done.items.push((id.to_string(), ItemOutcome::Accepted));
                        done.created.push(id.to_string());
                    }
                    Created::Failed { code, message } => done.items.push((
                        n.user_name.clone(),
                        ItemOutcome::Failed {
                            code: code.clone(),
                            message: message.clone(),
                        },
                    )),
                }
            }
            Ok(done)
        }
        Command::CreateImage(d) => {
            let ds = desktops(
                deps,
                tenant,
                std::slice::from_ref(&d.workspace_id),
                DesktopOp::CreateImage,
            )
            .await?;
            let c = clients(deps, tenant, &ds[0].record.region).await;
            let image = WorkspacesGateway::new(c.workspaces())
                .create_image(CreateImageSpec {
                    workspace: &d.workspace_id,
                    name: &d.name,
                    description: &d.description,
                    tag: &tenant.partner_tag,
                })
                .await?;
            crate::power::images::remember(
                deps,
                &tenant.tenant_id,
                PendingImage {
                    image_id: image.clone(),
                    region: ds[0].record.region.clone(),
                    operation: ImageOperation::Create,
                    event_id: e.event_id.to_string(),
                    requested_at: deps.now(),
                    workspace_id: Some(d.workspace_id.clone()),
                },
            )
            .await;
            let mut done = Done::one(
                d.workspace_id.as_str(),
                format!("image {image} ({}) created from the desktop", d.name),
            );
            done.created.push(image.to_string());
            Ok(done)
        }
        Command::CopyImage(d) => {
            let source_region = region_of(Some(&d.source_region), &tenant.regions)?;
            let target_region = region_of(Some(&d.target_region), &tenant.regions)?;
            let src = clients(deps, tenant, &source_region).await;
            owned(&src, tenant, d.image_id.as_str()).await?;
            let c = clients(deps, tenant, &target_region).await;
            let image = WorkspacesGateway::new(c.workspaces())
                .copy_image(CopyImageSpec {
                    source: &d.image_id,
                    source_region: source_region.as_str(),
                    name: &d.name,
                    description: d.description.as_deref(),
                    tag: &tenant.partner_tag,
                })
                .await?;
            crate::power::images::remember(
                deps,
                &tenant.tenant_id,
                PendingImage {
                    image_id: image.clone(),
                    region: target_region.clone(),
                    operation: ImageOperation::Copy,
                    event_id: e.event_id.to_string(),
                    requested_at: deps.now(),
                    workspace_id: None,
                },
            )
            .await;
            let mut done = Done::one(
                d.image_id.as_str(),
                format!("copied from {source_region} to {target_region} as {image}"),
            );
            done.created.push(image.to_string());
            Ok(done)
        }
        Command::DeleteImage(d) => {
            let region = region_of(d.region.as_ref(), &tenant.regions)?;
            let c = clients(deps, tenant, &region).await;
            owned(&c, tenant, d.image_id.as_str()).await?;
            WorkspacesGateway::new(c.workspaces())
                .delete_image(&d.image_id)
                .await?;
            Ok(Done::one(d.image_id.as_str(), "image deleted"))
        }
        Command::UpdateImagePermission(d) => {
            if d.shared_account_id == tenant.account_id {
                return Err(Rejection::InvalidField(
                    steward_shared::validate::ValidationError::new(
                        "detail.sharedAccountId",
                        steward_shared::validate::Problem::Inconsistent(
                            "the image's own account".into(),
                        ),
                    ),
                )
                .into());
            }
            let region = region_of(d.region.as_ref(), &tenant.regions)?;
            let c = clients(deps, tenant, &region).await;
            owned(&c, tenant, d.image_id.as_str()).await?;
            WorkspacesGateway::new(c.workspaces())
                .update_image_permission(
                    &d.image_id,
                    d.shared_account_id.as_str(),
                    d.allow_copy_image,
                )
                .await?;
            let verb = if d.allow_copy_image {
                "shared with"
            } else {
                "unshared from"
            };
            Ok(Done::one(
                d.image_id.as_str(),
                format!("image {verb} account {}", d.shared_account_id),
            ))
        }
        Command::UpdateBundle(d) => {
            let region = region_of(d.region.as_ref(), &tenant.regions)?;
            let c = clients(deps, tenant, &region).await;
            owned(&c, tenant, d.bundle_id.as_str()).await?;
            owned(&c, tenant, d.image_id.as_str()).await?;
            WorkspacesGateway::new(c.workspaces())
                .update_bundle(&d.bundle_id, &d.image_id)
                .await?;
            Ok(Done::one(
                d.bundle_id.as_str(),
                format!("bundle now uses image {}", d.image_id),
            ))
        }
        Command::DeleteBundle(d) => {
            let region = region_of(d.region.as_ref(), &tenant.regions)?;
            let c = clients(deps, tenant, &region).await;
            owned(&c, tenant, d.bundle_id.as_str()).await?;
            WorkspacesGateway::new(c.workspaces())
                .delete_bundle(&d.bundle_id)
                .await?;
            Ok(Done::one(d.bundle_id.as_str(), "bundle deleted"))
        }
        Command::DeregisterDirectory(d) => {
            let region = region_of(d.region.as_ref(), &tenant.regions)?;
            let c = clients(deps, tenant, &region).await;
            owned(&c, tenant, d.directory_id.as_str()).await?;
            let tid = tenant.tenant_id.clone();
            let all = collect_all(|p: PageRequest| deps.store.list_workspaces(&tid, p)).await?;
            let left = all
                .iter()
                .filter(|w| w.directory_id == d.directory_id)
                .count();
            if left > 0 {
                return Err(Rejection::InvalidState {
                    operation: "DeregisterWorkspaceDirectory".into(),
                    resource: d.directory_id.to_string(),
                    state: format!("REGISTERED with {left} desktop(s)"),
                }
                .into());
            }
            WorkspacesGateway::new(c.workspaces())
                .deregister_directory(&d.directory_id)
                .await?;
            Ok(Done::one(d.directory_id.as_str(), "directory deregistered"))
        }
        Command::UpdateCreationProperties(d) => {
            let region = region_of(d.region.as_ref(), &tenant.regions)?;
            let c = clients(deps, tenant, &region).await;
            owned(&c, tenant, d.directory_id.as_str()).await?;
            let props = CreationProperties {
                enable_maintenance_mode: d.enable_maintenance_mode,
                custom_security_group_id: d.custom_security_group_id.clone(),
                ..CreationProperties::default()
            };
            WorkspacesGateway::new(c.workspaces())
                .modify_creation_properties(&d.directory_id, &props)
                .await?;
            Ok(Done::one(
                d.directory_id.as_str(),
                format!(
                    "creation properties: maintenance {:?}, security group {:?}",
                    d.enable_maintenance_mode, d.custom_security_group_id
                ),
            ))
        }
        Command::UpdateTags(d) => {
            check_tag_changes(&tenant.partner_tag, &d.set, &d.remove)?;
            let region = match WorkspaceId::parse(d.resource_id.as_str()) {
                Ok(ws) => {
                    deps.store
                        .get_workspace(&tenant.tenant_id, &ws)
                        .await?
                        .ok_or_else(|| Rejection::NotOwned {
                            tenant: tenant.tenant_id.to_string(),
                            workspace: ws.to_string(),
                        })?
                        .region
                }
                Err(_) => region_of(d.region.as_ref(), &tenant.regions)?,
            };
            let c = clients(deps, tenant, &region).await;
            owned(&c, tenant, &d.resource_id).await?;
            let gateway = WorkspacesGateway::new(c.workspaces());
            if !d.set.is_empty() {
                let set: Vec<Tag> = d
                    .set
                    .iter()
                    .map(|(k, v)| Tag {
                        key: k.clone(),
                        value: v.clone(),
                    })
                    .collect();
                gateway.create_tags(&d.resource_id, &set).await?;
            }
            if !d.remove.is_empty() {
                gateway.delete_tags(&d.resource_id, &d.remove).await?;
            }
            Ok(Done::one(
                d.resource_id.as_str(),
                format!(
                    "tags set {:?}, removed {:?}",
                    d.set.keys().collect::<Vec<_>>(),
                    d.remove
                ),
            ))
        }
    }
}

fn items(out: Vec<(WorkspaceId, ItemOutcome)>, summary: String) -> Done {
    Done {
        items: out.into_iter().map(|(w, o)| (w.to_string(), o)).collect(),
        created: Vec::new(),
        summary,
    }
}

/// One audit record and one outbound event for a command acted upon.
async fn record(
    deps: &Deps,
    tenant: &TenantId,
    e: &LifecycleEvent,
    done: &Done,
    now: Timestamp,
) -> Result<(), Error> {
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
    deps.store
        .append_audit(&AuditRecord {
            tenant_id: tenant.clone(),
            audit_id: uuid::Uuid::new_v4(),
            at: now,
            actor: actor.clone(),
            action: e.command.name().to_owned(),
            workspace_id: workspace,
            reason: done.summary.clone(),
            outcome: outcome.clone(),
        })
        .await?;
    let detail_type = if failures.is_empty() {
        lot::SUCCEEDED
    } else {
        lot::FAILED
    };
    let items: Vec<Value> = done
        .items
        .iter()
        .map(|(r, o)| match o {
            ItemOutcome::Accepted => json!({"resource": r, "outcome": "accepted"}),
            ItemOutcome::Failed { code, message } => {
                json!({"resource": r, "outcome": "failed", "error": code, "message": message})
            }
        })
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
    if let Err(err) = deps.publish(std::slice::from_ref(&out)).await {
        tracing::error!(error = %err, "lifecycle outbound event not published");
    }
    Ok(())
}
