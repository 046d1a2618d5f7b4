//! Tags on a desktop, image, bundle or directory: set and removed, the partner tag left
//! alone (it is what makes a resource the tenant's).
//!
//! Only for a tenant whose customer role grants tag edits (`tag_management`, the role's
//! `AllowTagManagement` parameter recorded at onboarding): the partner guide says a partner
//! should not modify or delete tags, so the default role denies CreateTags/DeleteTags, and
//! the command is refused by name (`TagManagementNotGranted`) before any call rather than
//! left to fail at the service with an access error.

use steward_shared::events::Rejection;
use steward_shared::gateway::workspaces::{Tag, WorkspacesGateway};
use steward_shared::ids::{RegionName, WorkspaceId};
use steward_shared::lifecycle::{TagsDetail, check_tag_changes};
use steward_shared::store::WorkspaceStore;

use super::context::Context;
use super::outcome::{Done, NotDone};

pub(super) async fn update(cx: &Context<'_>, d: &TagsDetail) -> Result<Done, NotDone> {
    if !cx.tenant.tag_management {
        return Err(Rejection::TagManagementNotGranted(cx.tenant.tenant_id.to_string()).into());
    }
    check_tag_changes(&cx.tenant.partner_tag, &d.set, &d.remove)?;
    let region = region(cx, d).await?;
    let c = cx.clients(&region).await;
    cx.owned(&c, &d.resource_id).await?;
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

/// A desktop's Region is the registry's (and the desktop must be in it); any other
/// resource is in the Region the detail names, or the tenant's one.
async fn region(cx: &Context<'_>, d: &TagsDetail) -> Result<RegionName, NotDone> {
    match WorkspaceId::parse(d.resource_id.as_str()) {
        Ok(ws) => Ok(cx
            .deps
            .store
            .get_workspace(&cx.tenant.tenant_id, &ws)
            .await?
            .ok_or_else(|| Rejection::NotOwned {
                tenant: cx.tenant.tenant_id.to_string(),
                workspace: ws.to_string(),
            })?
            .region),
        Err(_) => cx.region(d.region.as_ref()),
    }
}
