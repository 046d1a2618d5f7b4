//! Bundles: describe (all, by id, by name), create on an image, point at another image,
//! delete.

use aws_sdk_workspaces::types as ws;
use serde::Serialize;

use super::tags::partner_tag;
use super::{WorkspacesGateway, call_failed, service_status, time, unbuildable};
use crate::aws::AwsError;
use crate::ids::{BundleId, ImageId};
use crate::model::{PartnerTag, Timestamp};

service_status!(
    /// A bundle's state.
    BundleState {
        Available = "AVAILABLE",
        Pending = "PENDING",
        Error = "ERROR",
    }
);

/// Who owns a bundle: Amazon (the public bundles) or an account (its id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum BundleOwner {
    #[serde(rename = "AMAZON")]
    Amazon,
    #[serde(untagged)]
    Account(String),
}

impl BundleOwner {
    fn from_wire(wire: &str) -> Self {
        match wire {
            "AMAZON" => Self::Amazon,
            account => Self::Account(account.to_owned()),
        }
    }
}

/// A WorkSpaces bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    pub bundle_id: BundleId,
    pub name: Option<String>,
    pub description: Option<String>,
    pub image_id: Option<ImageId>,
    pub owner: Option<BundleOwner>,
    pub compute_type: Option<String>,
    /// The root volume's capacity as the service writes it (GiB, a string).
    pub root_volume_gib: Option<String>,
    /// The user volume's capacity as the service writes it (GiB, a string).
    pub user_volume_gib: Option<String>,
    pub state: Option<BundleState>,
    pub last_updated: Option<Timestamp>,
}

impl Bundle {
    fn of(b: &ws::WorkspaceBundle) -> Option<Self> {
        Some(Self {
            bundle_id: BundleId::parse(b.bundle_id()?).ok()?,
            name: b.name().map(str::to_owned),
            description: b.description().map(str::to_owned),
            image_id: b.image_id().and_then(|i| ImageId::parse(i).ok()),
            owner: b.owner().map(BundleOwner::from_wire),
            compute_type: b
                .compute_type()
                .and_then(|c| c.name())
                .map(|n| n.as_str().to_owned()),
            root_volume_gib: b.root_storage().map(|s| s.capacity().to_owned()),
            user_volume_gib: b.user_storage().map(|s| s.capacity().to_owned()),
            state: b.state().map(|s| BundleState::from_wire(s.as_str())),
            last_updated: time(b.last_updated_time()),
        })
    }
}

/// What CreateWorkspaceBundle makes: a bundle on `image_id`, under the partner tag.
pub struct BundleSpec<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub image_id: &'a ImageId,
    pub compute_type: &'a str,
    pub root_gib: u32,
    pub user_gib: u32,
    pub tag: &'a PartnerTag,
}

impl WorkspacesGateway<'_> {
    /// DescribeWorkspaceBundles owned by the account (no owner given), every page.
    pub async fn bundles(&self) -> Result<Vec<Bundle>, AwsError> {
        let mut out = Vec::new();
        self.scan_bundles(|b| {
            out.push(b);
            false
        })
        .await?;
        Ok(out)
    }

    /// The account's own bundle called `name`, if any (stops at the first match).
    pub async fn bundle_named(&self, name: &str) -> Result<Option<Bundle>, AwsError> {
        let mut found = None;
        self.scan_bundles(|b| {
            let hit = b.name.as_deref() == Some(name);
            if hit {
                found = Some(b);
            }
            hit
        })
        .await?;
        Ok(found)
    }

    /// Pages through DescribeWorkspaceBundles, handing each bundle to `stop` until it
    /// answers `true`.
    async fn scan_bundles(&self, mut stop: impl FnMut(Bundle) -> bool) -> Result<(), AwsError> {
        let mut token = None;
        loop {
            let page = self
                .client
                .describe_workspace_bundles()
                .set_next_token(token)
                .send()
                .await
                .map_err(call_failed("DescribeWorkspaceBundles"))?;
            for b in page.bundles().iter().filter_map(Bundle::of) {
                if stop(b) {
                    return Ok(());
                }
            }
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                return Ok(());
            }
        }
    }

    /// The bundle `id`, if it exists (every page: a filtered listing may still page).
    pub async fn bundle(&self, id: &BundleId) -> Result<Option<Bundle>, AwsError> {
        let mut token = None;
        loop {
            let page = self
                .client
                .describe_workspace_bundles()
                .bundle_ids(id.as_str())
                .set_next_token(token)
                .send()
                .await
                .map_err(call_failed("DescribeWorkspaceBundles"))?;
            if let Some(b) = page
                .bundles()
                .iter()
                .filter(|b| b.bundle_id() == Some(id.as_str()))
                .find_map(Bundle::of)
            {
                return Ok(Some(b));
            }
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                return Ok(None);
            }
        }
    }

    /// CreateWorkspaceBundle; the new bundle's id.
    pub async fn create_bundle(&self, spec: BundleSpec<'_>) -> Result<BundleId, AwsError> {
        const OP: &str = "CreateWorkspaceBundle";
        let out = self
            .client
            .create_workspace_bundle()
            .bundle_name(spec.name)
            .bundle_description(spec.description)
            .image_id(spec.image_id.as_str())
            .compute_type(
                ws::ComputeType::builder()
                    .name(ws::Compute::from(spec.compute_type))
                    .build(),
            )
            .user_storage(
                ws::UserStorage::builder()
                    .capacity(spec.user_gib.to_string())
                    .build()
                    .map_err(|e| unbuildable(OP, e))?,
            )
            .root_storage(
                ws::RootStorage::builder()
                    .capacity(spec.root_gib.to_string())
                    .build()
                    .map_err(|e| unbuildable(OP, e))?,
            )
            .tags(partner_tag(spec.tag, OP)?)
            .send()
            .await
            .map_err(call_failed(OP))?;
        let id = out
            .workspace_bundle()
            .and_then(|b| b.bundle_id())
            .unwrap_or_default();
        // Onboarding has always named an unreadable id here `Steward.InvalidRequest`.
        BundleId::parse(id).map_err(|e| unbuildable(OP, e))
    }

    /// UpdateWorkspaceBundle: the bundle now builds desktops from `image`.
    pub async fn update_bundle(&self, bundle: &BundleId, image: &ImageId) -> Result<(), AwsError> {
        self.client
            .update_workspace_bundle()
            .bundle_id(bundle.as_str())
            .image_id(image.as_str())
            .send()
            .await
            .map_err(call_failed("UpdateWorkspaceBundle"))?;
        Ok(())
    }

    pub async fn delete_bundle(&self, bundle: &BundleId) -> Result<(), AwsError> {
        self.client
            .delete_workspace_bundle()
            .bundle_id(bundle.as_str())
            .send()
            .await
            .map_err(call_failed("DeleteWorkspaceBundle"))?;
        Ok(())
    }
}
