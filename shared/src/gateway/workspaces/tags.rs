//! Tags: read, add and remove a resource's tags, and whether it carries the partner tag (the
//! mark of every resource Steward may touch).

use aws_sdk_workspaces::types as ws;

use super::{WorkspacesGateway, call_failed, unbuildable};
use crate::aws::AwsError;
use crate::model::PartnerTag;

/// One tag of a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// The partner tag as the WorkSpaces API takes it, on a request of `op`.
pub(super) fn partner_tag(tag: &PartnerTag, op: &'static str) -> Result<ws::Tag, AwsError> {
    ws::Tag::builder()
        .key(&tag.key)
        .value(&tag.value)
        .build()
        .map_err(|e| unbuildable(op, e))
}

impl WorkspacesGateway<'_> {
    /// DescribeTags: the resource's tags.
    pub async fn tags(&self, resource: &str) -> Result<Vec<Tag>, AwsError> {
        let resp = self
            .client
            .describe_tags()
            .resource_id(resource)
            .send()
            .await
            .map_err(call_failed("DescribeTags"))?;
        Ok(resp
            .tag_list()
            .iter()
            .map(|t| Tag {
                key: t.key().to_owned(),
                value: t.value().unwrap_or_default().to_owned(),
            })
            .collect())
    }

    /// Whether the resource carries the partner tag with its value (DescribeTags).
    pub async fn carries_partner_tag(
        &self,
        resource: &str,
        partner: &PartnerTag,
    ) -> Result<bool, AwsError> {
        let tags = self.tags(resource).await?;
        Ok(tags
            .iter()
            .any(|t| t.key == partner.key && t.value == partner.value))
    }

    /// CreateTags (adds or overwrites). Callers never pass the partner tag's key.
    pub async fn create_tags(&self, resource: &str, set: &[Tag]) -> Result<(), AwsError> {
        const OP: &str = "CreateTags";
        let mut tags = Vec::with_capacity(set.len());
        for t in set {
            tags.push(
                ws::Tag::builder()
                    .key(&t.key)
                    .value(&t.value)
                    .build()
                    .map_err(|e| unbuildable(OP, e))?,
            );
        }
        self.client
            .create_tags()
            .resource_id(resource)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(call_failed(OP))?;
        Ok(())
    }

    /// DeleteTags. Callers never pass the partner tag's key.
    pub async fn delete_tags(&self, resource: &str, keys: &[String]) -> Result<(), AwsError> {
        self.client
            .delete_tags()
            .resource_id(resource)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(call_failed("DeleteTags"))?;
        Ok(())
    }
}
