//! Commands on desktops: reboot, terminate, rebuild, restore, migrate, modify properties,
//! modify state, provision.
//!
//! Each checks that its desktops are registered and in a state the operation accepts
//! ([`Context::desktops`]), makes the call, and has the registry follow what the service
//! accepted: the new state and the call pending, the AVAILABLE period closed when the
//! desktop leaves service, a migrated or provisioned desktop registered as PENDING.

use steward_shared::events::Rejection;
use steward_shared::gateway::ItemOutcome;
use steward_shared::gateway::workspaces::{
    CreateWorkspacesSpec, Created, NewWorkspace, PropertyChanges, WorkspacesGateway,
};
use steward_shared::ids::{RegionName, WorkspaceId};
use steward_shared::lifecycle::{
    DesktopDetail, DesktopOp, DesktopsDetail, MigrateDetail, PropertiesDetail, ProvisionDetail,
    StateDetail, TargetState, TerminateDetail, byop_running_mode,
};
use steward_shared::model::{
    FirstSeen, RunningMode, StewardAction as A, Timestamp, VolumeEncryption,
    VolumeEncryptionRequest, WorkspaceRecord, WorkspaceState as S,
};
use steward_shared::store::WorkspaceStore;
use steward_shared::validate::{Problem, ValidationError};

use super::context::{AvailablePeriod, Context};
use super::outcome::{Done, NotDone};

pub(super) async fn reboot(cx: &Context<'_>, d: &DesktopsDetail) -> Result<Done, NotDone> {
    let ds = cx.desktops(&d.workspace_ids, DesktopOp::Reboot).await?;
    let c = cx.clients(&ds[0].record.region).await;
    let out = WorkspacesGateway::new(c.workspaces())
        .reboot(&d.workspace_ids)
        .await?;
    for (desk, (_, o)) in ds.iter().zip(&out) {
        if *o == ItemOutcome::Accepted {
            cx.follow(desk, S::Rebooting, AvailablePeriod::Continues, A::Reboot)
                .await;
        }
    }
    let summary = format!("reboot of {} desktop(s)", ds.len());
    Ok(Done::per_desktop(out, summary))
}

pub(super) async fn terminate(cx: &Context<'_>, d: &TerminateDetail) -> Result<Done, NotDone> {
    let ds = cx.desktops(&d.workspace_ids, DesktopOp::Terminate).await?;
    let c = cx.clients(&ds[0].record.region).await;
    let out = WorkspacesGateway::new(c.workspaces())
        .terminate(&d.workspace_ids)
        .await?;
    for (desk, (_, o)) in ds.iter().zip(&out) {
        if *o == ItemOutcome::Accepted {
            cx.follow(desk, S::Terminating, AvailablePeriod::Ends, A::Terminate)
                .await;
        }
    }
    let summary = format!("termination of {} desktop(s)", ds.len());
    Ok(Done::per_desktop(out, summary))
}

pub(super) async fn rebuild(cx: &Context<'_>, d: &DesktopDetail) -> Result<Done, NotDone> {
    let desk = cx.desktop(&d.workspace_id, DesktopOp::Rebuild).await?;
    let c = cx.clients(&desk.record.region).await;
    let o = WorkspacesGateway::new(c.workspaces())
        .rebuild(&d.workspace_id)
        .await?;
    if o == ItemOutcome::Accepted {
        cx.follow(&desk, S::Rebuilding, AvailablePeriod::Ends, A::Rebuild)
            .await;
    }
    Ok(Done::per_desktop(
        vec![(d.workspace_id.clone(), o)],
        "rebuild from the bundle's current image".into(),
    ))
}

pub(super) async fn restore(cx: &Context<'_>, d: &DesktopDetail) -> Result<Done, NotDone> {
    let desk = cx.desktop(&d.workspace_id, DesktopOp::Restore).await?;
    let c = cx.clients(&desk.record.region).await;
    WorkspacesGateway::new(c.workspaces())
        .restore(&d.workspace_id)
        .await?;
    cx.follow(&desk, S::Restoring, AvailablePeriod::Ends, A::Restore)
        .await;
    Ok(Done::one(
        d.workspace_id.as_str(),
        "restore from the last healthy snapshots",
    ))
}

/// The desktop moves to another bundle: the service creates a new desktop and terminates
/// the old one, so the new one is registered (PENDING) and the old one follows as
/// TERMINATING.
pub(super) async fn migrate(cx: &Context<'_>, d: &MigrateDetail) -> Result<Done, NotDone> {
    let desk = cx.desktop(&d.workspace_id, DesktopOp::Migrate).await?;
    let c = cx.clients(&desk.record.region).await;
    cx.owned(&c, d.bundle_id.as_str()).await?;
    if desk.record.bundle_id.as_ref() == Some(&d.bundle_id) {
        return Err(Rejection::InvalidField(ValidationError::new(
            "detail.bundleId",
            Problem::Inconsistent("the desktop already uses this bundle".into()),
        ))
        .into());
    }
    let target = WorkspacesGateway::new(c.workspaces())
        .migrate(&d.workspace_id, &d.bundle_id)
        .await?;
    let mut new = WorkspaceRecord::new(FirstSeen {
        tenant_id: cx.tenant.tenant_id.clone(),
        workspace_id: target.clone(),
        region: desk.record.region.clone(),
        directory_id: desk.record.directory_id.clone(),
        running_mode: desk.record.running_mode,
        state: S::Pending,
        at: cx.deps.now(),
    });
    new.bundle_id = Some(d.bundle_id.clone());
    new.user_name = desk.record.user_name.clone();
    new.workspace_name = desk.record.workspace_name.clone();
    new.last_call = Some(cx.call(A::Migrate));
    if let Err(e) = cx.deps.store.create_workspace(&new).await {
        tracing::warn!(workspace = %target, error = %e, "migrated desktop not registered");
    }
    cx.follow(
        &desk,
        S::Terminating,
        AvailablePeriod::Ends,
        A::MigrateSource,
    )
    .await;
    let summary = format!("migrated to bundle {} as {target}", d.bundle_id);
    Ok(Done::one(d.workspace_id.as_str(), summary).creating(target))
}

pub(super) async fn modify_properties(
    cx: &Context<'_>,
    d: &PropertiesDetail,
) -> Result<Done, NotDone> {
    let mode = d
        .running_mode
        .as_deref()
        .map(byop_running_mode)
        .transpose()?;
    let desk = cx
        .desktop(&d.workspace_id, DesktopOp::ModifyProperties)
        .await?;
    let c = cx.clients(&desk.record.region).await;
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
    let mut r = desk.record;
    if let Some(m) = mode {
        r.running_mode = m;
    }
    r.last_call = Some(cx.call(A::ModifyProperties));
    if let Err(e) = cx.deps.store.update_workspace(&r).await {
        tracing::warn!(workspace = %r.workspace_id, error = %e, "the change was not recorded; the sweeps reconcile it");
    }
    Ok(Done::one(
        d.workspace_id.as_str(),
        format!("properties changed: {changes:?}"),
    ))
}

pub(super) async fn modify_state(cx: &Context<'_>, d: &StateDetail) -> Result<Done, NotDone> {
    let (op, to, action) = match d.target_state {
        TargetState::AdminMaintenance => (
            DesktopOp::ToAdminMaintenance,
            S::AdminMaintenance,
            A::ToAdminMaintenance,
        ),
        TargetState::Available => (DesktopOp::ToAvailable, S::Available, A::ToAvailable),
    };
    let desk = cx.desktop(&d.workspace_id, op).await?;
    let c = cx.clients(&desk.record.region).await;
    WorkspacesGateway::new(c.workspaces())
        .modify_state(&d.workspace_id, d.target_state)
        .await?;
    cx.follow(&desk, to, AvailablePeriod::Continues, action)
        .await;
    Ok(Done::one(
        d.workspace_id.as_str(),
        format!("state set to {}", to.as_str()),
    ))
}

/// New desktops in a partner-tagged directory on a partner-tagged bundle, their volumes
/// encrypted as the command says or else as the tenant's onboarding recorded (on by
/// default); each one the service accepted is registered (PENDING, manual running mode).
pub(super) async fn provision(cx: &Context<'_>, d: &ProvisionDetail) -> Result<Done, NotDone> {
    let encryption = d.encryption.as_ref().unwrap_or(&cx.tenant.encryption);
    let region = cx.region(d.region.as_ref())?;
    let c = cx.clients(&region).await;
    cx.owned(&c, d.directory_id.as_str()).await?;
    cx.owned(&c, d.bundle_id.as_str()).await?;
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
            tag: &cx.tenant.partner_tag,
            desktops: &new,
            encryption: encryption.request(),
        })
        .await?;
    let mut done = Done {
        summary: format!(
            "{} desktop(s) requested, {}",
            new.len(),
            encrypted(encryption)
        ),
        ..Done::default()
    };
    let provisioned = Provisioned {
        detail: d,
        region: &region,
        at: cx.deps.now(),
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
                provisioned.register(cx, &id, n).await?;
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

/// Where a provision command's desktops go, and when they were asked for.
struct Provisioned<'a> {
    detail: &'a ProvisionDetail,
    region: &'a RegionName,
    at: Timestamp,
}

impl Provisioned<'_> {
    /// A desktop the service accepted, in the registry as PENDING.
    async fn register(
        &self,
        cx: &Context<'_>,
        id: &WorkspaceId,
        asked: &NewWorkspace,
    ) -> Result<(), NotDone> {
        let mut r = WorkspaceRecord::new(FirstSeen {
            tenant_id: cx.tenant.tenant_id.clone(),
            workspace_id: id.clone(),
            region: self.region.clone(),
            directory_id: self.detail.directory_id.clone(),
            running_mode: RunningMode::Manual,
            state: S::Pending,
            at: self.at,
        });
        r.bundle_id = Some(self.detail.bundle_id.clone());
        r.user_name = Some(asked.user_name.clone());
        r.workspace_name = asked.workspace_name.clone();
        r.last_call = Some(cx.call(A::Create));
        cx.deps.store.create_workspace(&r).await?;
        Ok(())
    }
}

/// How the summary tells a provision's volume encryption (the key is the customer's own
/// name for it, not a secret).
fn encrypted(e: &VolumeEncryption) -> String {
    match e.request() {
        VolumeEncryptionRequest::Encrypted { key: Some(k) } => {
            format!("volumes encrypted with {}", k.as_str())
        }
        VolumeEncryptionRequest::Encrypted { key: None } => {
            "volumes encrypted with the AWS managed key".into()
        }
        VolumeEncryptionRequest::Unencrypted => "volumes unencrypted (allowUnencrypted)".into(),
    }
}
