//! Commands on bundles: point a partner-tagged bundle at a partner-tagged image, or delete
//! it.

use steward_shared::gateway::workspaces::WorkspacesGateway;
use steward_shared::lifecycle::{BundleDetail, UpdateBundleDetail};

use super::context::Context;
use super::outcome::{Done, NotDone};

pub(super) async fn update(cx: &Context<'_>, d: &UpdateBundleDetail) -> Result<Done, NotDone> {
    let region = cx.region(d.region.as_ref())?;
    let c = cx.clients(&region).await;
    cx.owned(&c, d.bundle_id.as_str()).await?;
    cx.owned(&c, d.image_id.as_str()).await?;
    WorkspacesGateway::new(c.workspaces())
        .update_bundle(&d.bundle_id, &d.image_id)
        .await?;
    Ok(Done::one(
        d.bundle_id.as_str(),
        format!("bundle now uses image {}", d.image_id),
    ))
}

pub(super) async fn delete(cx: &Context<'_>, d: &BundleDetail) -> Result<Done, NotDone> {
    let region = cx.region(d.region.as_ref())?;
    let c = cx.clients(&region).await;
    cx.owned(&c, d.bundle_id.as_str()).await?;
    WorkspacesGateway::new(c.workspaces())
        .delete_bundle(&d.bundle_id)
        .await?;
    Ok(Done::one(d.bundle_id.as_str(), "bundle deleted"))
}
