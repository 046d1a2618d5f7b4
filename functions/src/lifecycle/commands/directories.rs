//! Commands on directories: deregister a partner-tagged directory no registered desktop
//! uses any more, or change the properties its new desktops are created with.

use steward_shared::events::Rejection;
use steward_shared::gateway::workspaces::WorkspacesGateway;
use steward_shared::lifecycle::{CreationPropertiesDetail, DirectoryDetail};
use steward_shared::onboarding::CreationProperties;
use steward_shared::store::{PageRequest, WorkspaceStore, collect_all};

use super::context::Context;
use super::outcome::{Done, NotDone};

/// Refused while Steward's registry still holds a desktop in the directory.
pub(super) async fn deregister(cx: &Context<'_>, d: &DirectoryDetail) -> Result<Done, NotDone> {
    let region = cx.region(d.region.as_ref())?;
    let c = cx.clients(&region).await;
    cx.owned(&c, d.directory_id.as_str()).await?;
    let tid = cx.tenant.tenant_id.clone();
    let all = collect_all(|p: PageRequest| cx.deps.store.list_workspaces(&tid, p)).await?;
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

pub(super) async fn update_creation_properties(
    cx: &Context<'_>,
    d: &CreationPropertiesDetail,
) -> Result<Done, NotDone> {
    let region = cx.region(d.region.as_ref())?;
    let c = cx.clients(&region).await;
    cx.owned(&c, d.directory_id.as_str()).await?;
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
