//! Images: describe (all, by id, by name), import from an AMI, create from a desktop, copy
//! from another Region, delete, and share with other accounts.

use aws_sdk_workspaces::types as ws;

use super::tags::partner_tag;
use super::{BATCH, WorkspacesGateway, call_failed, odd_answer, service_status, time, unbuildable};
use crate::aws::AwsError;
use crate::ids::{ImageId, WorkspaceId};
use crate::model::{PartnerTag, Timestamp};

service_status!(
    /// A WorkSpaces image's state.
    ImageState {
        Available = "AVAILABLE",
        Pending = "PENDING",
        Error = "ERROR",
    }
);

service_status!(
    /// The tenancy an image needs: DEDICATED for a BYOL image.
    ImageTenancy {
        Default = "DEFAULT",
        Dedicated = "DEDICATED",
    }
);

/// A WorkSpaces image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub image_id: ImageId,
    pub name: Option<String>,
    pub description: Option<String>,
    pub state: Option<ImageState>,
    pub required_tenancy: Option<ImageTenancy>,
    pub owner_account_id: Option<String>,
    pub created: Option<Timestamp>,
    pub error_code: Option<String>,
    /// `code: message` of every error detail (or the image's own error), when in ERROR.
    pub errors: Vec<String>,
}

impl Image {
    fn of(i: &ws::WorkspaceImage) -> Option<Self> {
        let image_id = ImageId::parse(i.image_id()?).ok()?;
        let mut errors: Vec<String> = i
            .error_details()
            .iter()
            .map(|d| {
                format!(
                    "{}: {}",
                    d.error_code().map(|c| c.as_str()).unwrap_or("Unknown"),
                    d.error_message().unwrap_or_default()
                )
            })
            .collect();
        if errors.is_empty()
            && let Some(code) = i.error_code()
        {
            errors.push(format!("{code}: {}", i.error_message().unwrap_or_default()));
        }
        Some(Self {
            image_id,
            name: i.name().map(str::to_owned),
            description: i.description().map(str::to_owned),
            state: i.state().map(|s| ImageState::from_wire(s.as_str())),
            required_tenancy: i
                .required_tenancy()
                .map(|t| ImageTenancy::from_wire(t.as_str())),
            owner_account_id: i.owner_account_id().map(str::to_owned),
            created: time(i.created()),
            error_code: i.error_code().map(str::to_owned),
            errors,
        })
    }
}

/// What ImportWorkspaceImage imports: the customer's AMI, under the partner tag.
pub struct ImportSpec<'a> {
    pub ec2_image_id: &'a str,
    pub ingestion_process: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub tag: &'a PartnerTag,
}

/// What CreateWorkspaceImage makes: an image of `workspace`, under the partner tag.
pub struct CreateImageSpec<'a> {
    pub workspace: &'a WorkspaceId,
    pub name: &'a str,
    pub description: &'a str,
    pub tag: &'a PartnerTag,
}

/// What CopyWorkspaceImage makes: a copy of `source` from `source_region` into the client's
/// Region, under the partner tag.
pub struct CopyImageSpec<'a> {
    pub source: &'a ImageId,
    pub source_region: &'a str,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub tag: &'a PartnerTag,
}

impl WorkspacesGateway<'_> {
    /// DescribeWorkspaceImages (the account's own and those shared with it), every page.
    pub async fn images(&self) -> Result<Vec<Image>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let resp = self
                .client
                .describe_workspace_images()
                .set_next_token(token)
                .send()
                .await
                .map_err(call_failed("DescribeWorkspaceImages"))?;
            out.extend(resp.images().iter().filter_map(Image::of));
            token = resp.next_token().map(str::to_owned);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    /// DescribeWorkspaceImages for `ids`, 25 per call, every page: the images found.
    pub async fn images_by_id(&self, ids: &[ImageId]) -> Result<Vec<Image>, AwsError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH) {
            let mut token = None;
            loop {
                let page = self
                    .client
                    .describe_workspace_images()
                    .set_image_ids(Some(chunk.iter().map(|i| i.to_string()).collect()))
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(call_failed("DescribeWorkspaceImages"))?;
                out.extend(page.images().iter().filter_map(Image::of));
                token = page.next_token().map(str::to_owned);
                if token.is_none() {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// The image `id`, if it exists.
    pub async fn image(&self, id: &ImageId) -> Result<Option<Image>, AwsError> {
        let found = self.images_by_id(std::slice::from_ref(id)).await?;
        Ok(found.into_iter().next())
    }

    /// The account's own image called `name`, if any (pages of 25, stopping at the first
    /// match).
    pub async fn image_named(&self, name: &str) -> Result<Option<Image>, AwsError> {
        let mut token = None;
        loop {
            let page = self
                .client
                .describe_workspace_images()
                .image_type(ws::ImageType::Owned)
                .max_results(25)
                .set_next_token(token)
                .send()
                .await
                .map_err(call_failed("DescribeWorkspaceImages"))?;
            if let Some(found) = page
                .images()
                .iter()
                .filter(|i| i.name() == Some(name))
                .find_map(Image::of)
            {
                return Ok(Some(found));
            }
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                return Ok(None);
            }
        }
    }

    /// ImportWorkspaceImage; the new image's id.
    pub async fn import_image(&self, spec: ImportSpec<'_>) -> Result<ImageId, AwsError> {
        const OP: &str = "ImportWorkspaceImage";
        let out = self
            .client
            .import_workspace_image()
            .ec2_image_id(spec.ec2_image_id)
            .ingestion_process(ws::WorkspaceImageIngestionProcess::from(
                spec.ingestion_process,
            ))
            .image_name(spec.name)
            .image_description(spec.description)
            .tags(partner_tag(spec.tag, OP)?)
            .send()
            .await
            .map_err(call_failed(OP))?;
        // Onboarding has always named an unreadable id here `Steward.InvalidRequest`.
        ImageId::parse(out.image_id().unwrap_or_default()).map_err(|e| unbuildable(OP, e))
    }

    /// CreateWorkspaceImage from a desktop; the new image's id.
    pub async fn create_image(&self, spec: CreateImageSpec<'_>) -> Result<ImageId, AwsError> {
        const OP: &str = "CreateWorkspaceImage";
        let resp = self
            .client
            .create_workspace_image()
            .workspace_id(spec.workspace.as_str())
            .name(spec.name)
            .description(spec.description)
            .tags(partner_tag(spec.tag, OP)?)
            .send()
            .await
            .map_err(call_failed(OP))?;
        ImageId::parse(resp.image_id().unwrap_or_default()).map_err(|e| odd_answer(OP, e))
    }

    /// CopyWorkspaceImage into the client's Region; the new image's id.
    pub async fn copy_image(&self, spec: CopyImageSpec<'_>) -> Result<ImageId, AwsError> {
        const OP: &str = "CopyWorkspaceImage";
        let resp = self
            .client
            .copy_workspace_image()
            .source_image_id(spec.source.as_str())
            .source_region(spec.source_region)
            .name(spec.name)
            .set_description(spec.description.map(str::to_owned))
            .tags(partner_tag(spec.tag, OP)?)
            .send()
            .await
            .map_err(call_failed(OP))?;
        ImageId::parse(resp.image_id().unwrap_or_default()).map_err(|e| odd_answer(OP, e))
    }

    pub async fn delete_image(&self, id: &ImageId) -> Result<(), AwsError> {
        self.client
            .delete_workspace_image()
            .image_id(id.as_str())
            .send()
            .await
            .map_err(call_failed("DeleteWorkspaceImage"))?;
        Ok(())
    }

    /// DescribeWorkspaceImagePermissions: the accounts an image is shared with.
    pub async fn image_permissions(&self, id: &ImageId) -> Result<Vec<String>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let resp = self
                .client
                .describe_workspace_image_permissions()
                .image_id(id.as_str())
                .set_next_token(token)
                .send()
                .await
                .map_err(call_failed("DescribeWorkspaceImagePermissions"))?;
            out.extend(
                resp.image_permissions()
                    .iter()
                    .filter_map(|p| p.shared_account_id().map(str::to_owned)),
            );
            token = resp.next_token().map(str::to_owned);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    /// UpdateWorkspaceImagePermission: share (`allow`) or unshare with one account.
    pub async fn update_image_permission(
        &self,
        id: &ImageId,
        account: &str,
        allow: bool,
    ) -> Result<(), AwsError> {
        self.client
            .update_workspace_image_permission()
            .image_id(id.as_str())
            .shared_account_id(account)
            .allow_copy_image(allow)
            .send()
            .await
            .map_err(call_failed("UpdateWorkspaceImagePermission"))?;
        Ok(())
    }
}
