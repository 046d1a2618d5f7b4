//! The golden image copied to the tenant's other Regions (`copyToOtherRegions`), so that a
//! tenant onboarded in several Regions gets the same image everywhere without building it
//! again: CopyWorkspaceImage in each other Region from the home Region (the first), under
//! the partner tag, once the image is AVAILABLE.
//!
//! Once per Region: an image of the same name the customer account owns there, carrying
//! the partner tag, is reused (a retried step copies nothing twice; one without the tag is
//! not the tenant's and fails the step by name). Each copy is remembered as a pending image
//! on the tenant, so the sweeps report when it becomes AVAILABLE (or fails), as for a
//! partner's copy command, and has one `copy_image` audit record and event.

use serde::Serialize;
use steward_shared::Error;
use steward_shared::aws::TenantAccess;
use steward_shared::gateway::workspaces::{CopyImageSpec, WorkspacesGateway};
use steward_shared::ids::{ImageId, RegionName};
use steward_shared::model::{AuditOutcome, ImageOperation, PendingImage, Tenant};

use super::{GoldenInput, IMAGE_READY, Step, audit, owned};
use crate::deps::Deps;
use crate::record::ActionName;

/// The golden image in one of the tenant's other Regions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RegionCopy {
    pub(super) region: RegionName,
    pub(super) image_id: ImageId,
    /// An earlier copy of the same name, found rather than made.
    pub(super) reused: bool,
}

/// Copies `image` (AVAILABLE in `home`) to each other Region of the tenant.
pub(super) async fn to_other_regions(
    deps: &Deps,
    t: &Tenant,
    r: &GoldenInput,
    image: &ImageId,
    home: &RegionName,
) -> Result<Vec<RegionCopy>, Error> {
    let mut out = Vec::new();
    for region in t.regions.iter().filter(|region| *region != home) {
        let c = deps.clients.for_tenant(TenantAccess::new(t, region)).await;
        let gateway = WorkspacesGateway::new(c.workspaces());
        if let Some(earlier) = gateway.image_named(&r.image_name).await? {
            owned(&c, t, earlier.image_id.as_str()).await?;
            out.push(RegionCopy {
                region: region.clone(),
                image_id: earlier.image_id,
                reused: true,
            });
            continue;
        }
        let copy = gateway
            .copy_image(CopyImageSpec {
                source: image,
                source_region: home.as_str(),
                name: &r.image_name,
                description: Some(&r.image_description),
                tag: &t.partner_tag,
            })
            .await?;
        crate::power::images::remember(
            deps,
            &t.tenant_id,
            PendingImage {
                image_id: copy.clone(),
                region: region.clone(),
                operation: ImageOperation::Copy,
                event_id: format!("golden-image:{}", r.image_name),
                requested_at: deps.now(),
                workspace_id: None,
            },
        )
        .await;
        let step = Step {
            workspace: None,
            action: ActionName::CopyImage,
            reason: format!("golden image {image} copied from {home} to {region} as {copy}"),
            outcome: AuditOutcome::Succeeded,
            detail_type: IMAGE_READY,
        };
        audit(deps, t, step).await?;
        out.push(RegionCopy {
            region: region.clone(),
            image_id: copy,
            reused: false,
        });
    }
    Ok(out)
}
