//! Commands on images: create (from a desktop), copy (between the tenant's Regions),
//! delete, share or unshare with another account.
//!
//! Every image acted upon carries the partner tag; a created or copied image is remembered
//! as pending on the tenant, so the sweeps report when it becomes AVAILABLE (or fails).

use steward_shared::events::Rejection;
use steward_shared::gateway::workspaces::{CopyImageSpec, CreateImageSpec, WorkspacesGateway};
use steward_shared::lifecycle::{
    CopyImageDetail, CreateImageDetail, DesktopOp, ImageDetail, ImagePermissionDetail,
};
use steward_shared::model::{ImageOperation, PendingImage};
use steward_shared::validate::{Problem, ValidationError};

use super::context::Context;
use super::outcome::{Done, NotDone};

pub(super) async fn create(cx: &Context<'_>, d: &CreateImageDetail) -> Result<Done, NotDone> {
    let desk = cx.desktop(&d.workspace_id, DesktopOp::CreateImage).await?;
    let c = cx.clients(&desk.record.region).await;
    let image = WorkspacesGateway::new(c.workspaces())
        .create_image(CreateImageSpec {
            workspace: &d.workspace_id,
            name: &d.name,
            description: &d.description,
            tag: &cx.tenant.partner_tag,
        })
        .await?;
    crate::power::images::remember(
        cx.deps,
        &cx.tenant.tenant_id,
        PendingImage {
            image_id: image.clone(),
            region: desk.record.region.clone(),
            operation: ImageOperation::Create,
            event_id: cx.event.event_id.to_string(),
            requested_at: cx.deps.now(),
            workspace_id: Some(d.workspace_id.clone()),
        },
    )
    .await;
    let summary = format!("image {image} ({}) created from the desktop", d.name);
    Ok(Done::one(d.workspace_id.as_str(), summary).creating(image))
}

pub(super) async fn copy(cx: &Context<'_>, d: &CopyImageDetail) -> Result<Done, NotDone> {
    let source_region = cx.region(Some(&d.source_region))?;
    let target_region = cx.region(Some(&d.target_region))?;
    let src = cx.clients(&source_region).await;
    cx.owned(&src, d.image_id.as_str()).await?;
    let c = cx.clients(&target_region).await;
    let image = WorkspacesGateway::new(c.workspaces())
        .copy_image(CopyImageSpec {
            source: &d.image_id,
            source_region: source_region.as_str(),
            name: &d.name,
            description: d.description.as_deref(),
            tag: &cx.tenant.partner_tag,
        })
        .await?;
    crate::power::images::remember(
        cx.deps,
        &cx.tenant.tenant_id,
        PendingImage {
            image_id: image.clone(),
            region: target_region.clone(),
            operation: ImageOperation::Copy,
            event_id: cx.event.event_id.to_string(),
            requested_at: cx.deps.now(),
            workspace_id: None,
        },
    )
    .await;
    let summary = format!("copied from {source_region} to {target_region} as {image}");
    Ok(Done::one(d.image_id.as_str(), summary).creating(image))
}

pub(super) async fn delete(cx: &Context<'_>, d: &ImageDetail) -> Result<Done, NotDone> {
    let region = cx.region(d.region.as_ref())?;
    let c = cx.clients(&region).await;
    cx.owned(&c, d.image_id.as_str()).await?;
    WorkspacesGateway::new(c.workspaces())
        .delete_image(&d.image_id)
        .await?;
    Ok(Done::one(d.image_id.as_str(), "image deleted"))
}

/// Shares the image with another account (`allowCopyImage`), or stops sharing it; never
/// with the image's own account.
pub(super) async fn update_permission(
    cx: &Context<'_>,
    d: &ImagePermissionDetail,
) -> Result<Done, NotDone> {
    if d.shared_account_id == cx.tenant.account_id {
        return Err(Rejection::InvalidField(ValidationError::new(
            "detail.sharedAccountId",
            Problem::Inconsistent("the image's own account".into()),
        ))
        .into());
    }
    let region = cx.region(d.region.as_ref())?;
    let c = cx.clients(&region).await;
    cx.owned(&c, d.image_id.as_str()).await?;
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
