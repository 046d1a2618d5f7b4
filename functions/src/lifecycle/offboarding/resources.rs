//! `lifecycle.offboard_delete`: in each of the tenant's Regions, its partner-tagged bundles
//! deleted, then its partner-tagged images (their sharing removed first: a shared image
//! cannot be deleted). Bundles first, as an image a bundle uses cannot be deleted either.

use serde_json::{Value, json};
use steward_shared::Error;
use steward_shared::gateway::workspaces::{BundleOwner, WorkspacesGateway};
use steward_shared::model::Tenant;

use super::{TENANT_OFFBOARDING, each_region, gone, offboarding_tenant, record};
use crate::deps::Deps;
use crate::record::ActionName;

/// What one call deleted, across the Regions.
#[derive(Default)]
struct Deleted {
    bundles: Vec<String>,
    images: Vec<String>,
}

pub async fn delete_resources(event: Value, deps: &Deps) -> Result<Value, Error> {
    let (_, t) = offboarding_tenant(deps, event).await?;
    let mut deleted = Deleted::default();
    for (_, c) in each_region(deps, &t).await {
        let w = WorkspacesGateway::new(c.workspaces());
        bundles(&w, &t, &mut deleted).await?;
        images(&w, &t, &mut deleted).await?;
    }
    let Deleted { bundles, images } = deleted;
    if !bundles.is_empty() || !images.is_empty() {
        record(
            deps,
            &t,
            ActionName::OffboardDelete,
            format!("deleted bundles {bundles:?} and images {images:?}"),
            TENANT_OFFBOARDING,
        )
        .await?;
    }
    Ok(json!({"bundlesDeleted": bundles, "imagesDeleted": images}))
}

/// The Region's partner-tagged bundles (Amazon's never).
async fn bundles(
    w: &WorkspacesGateway<'_>,
    t: &Tenant,
    deleted: &mut Deleted,
) -> Result<(), Error> {
    for b in w.bundles().await? {
        if b.owner == Some(BundleOwner::Amazon) {
            continue;
        }
        let id = b.bundle_id;
        if !w.carries_partner_tag(id.as_str(), &t.partner_tag).await? {
            continue;
        }
        match w.delete_bundle(&id).await {
            Ok(()) => deleted.bundles.push(id.to_string()),
            Err(e) if gone(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// The Region's partner-tagged images the customer account owns, unshared then deleted.
async fn images(w: &WorkspacesGateway<'_>, t: &Tenant, deleted: &mut Deleted) -> Result<(), Error> {
    for i in w.images().await? {
        if i.owner_account_id.as_deref() != Some(t.account_id.as_str()) {
            continue;
        }
        let id = i.image_id;
        if !w.carries_partner_tag(id.as_str(), &t.partner_tag).await? {
            continue;
        }
        for account in w.image_permissions(&id).await? {
            w.update_image_permission(&id, &account, false).await?;
        }
        match w.delete_image(&id).await {
            Ok(()) => deleted.images.push(id.to_string()),
            Err(e) if gone(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
