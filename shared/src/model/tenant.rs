//! The tenant: a customer account Steward manages, how a partner registers one, and what
//! the tenant record carries besides its policy (its status, the partner tag, the image
//! operations the sweeps still have to see end).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{ErrorRecord, PolicyStamp, PowerPolicy, Timestamp};
use crate::ids::{AccountId, ExternalId, ImageId, RegionName, RoleArn, TenantId, WorkspaceId};
use crate::validate::{self, Problem, ValidationError};

/// The tag every resource Steward creates carries, and the only resources it will touch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerTag {
    pub key: String,
    pub value: String,
}

impl PartnerTag {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Result<Self, ValidationError> {
        let tag = Self {
            key: key.into(),
            value: value.into(),
        };
        tag.validate()?;
        Ok(tag)
    }

    pub fn validate(&self) -> Result<(), ValidationError> {
        validate::tag("partner_tag", &self.key, &self.value)
    }
}

impl Default for PartnerTag {
    fn default() -> Self {
        Self {
            key: "PartnerManaged".into(),
            value: "true".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TenantStatus {
    Onboarding,
    Active,
    Failed,
    Offboarding,
    Offboarded,
}

/// What a partner supplies to register a customer account.
#[derive(Debug, Clone, Deserialize)]
pub struct NewTenant {
    pub tenant_id: TenantId,
    pub account_id: AccountId,
    pub regions: Vec<RegionName>,
    pub role_arn: RoleArn,
    pub external_id: ExternalId,
    #[serde(default)]
    pub partner_tag: PartnerTag,
    #[serde(default)]
    pub policy: PowerPolicy,
}

/// A customer account Steward manages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub tenant_id: TenantId,
    pub account_id: AccountId,
    pub regions: Vec<RegionName>,
    pub role_arn: RoleArn,
    pub external_id: ExternalId,
    pub partner_tag: PartnerTag,
    pub policy: PowerPolicy,
    /// Per policy field (camelCase name), the policy event that last set it: a change older
    /// than this is superseded, so policy events converge whatever their arrival order.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub policy_stamps: BTreeMap<String, PolicyStamp>,
    pub status: TenantStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<ErrorRecord>,
    /// The shape of the sweep index this tenant's desktop records were last written in
    /// ([`SWEEP_INDEX_VERSION`]). A tenant recorded by an earlier Steward may have desktop
    /// records outside today's index (STOPPED ones were left out): its next sweep re-indexes
    /// them once.
    #[serde(default)]
    pub sweep_index: u32,
    /// Image operations Steward started whose end the sweeps have not seen yet (at most
    /// [`PendingImage::KEPT`], oldest dropped first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_images: Vec<PendingImage>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Optimistic-concurrency version: 1 on creation, +1 on every write.
    #[serde(default)]
    pub version: u64,
}

/// The sweep index's present shape: every MANUAL desktop but the TERMINATED
/// ([`crate::model::WorkspaceRecord::needs_sweep`]). 0 (records without the field) was
/// "MANUAL and not STOPPED, TERMINATING or TERMINATED".
pub const SWEEP_INDEX_VERSION: u32 = 1;

/// An image operation (CreateWorkspaceImage, CopyWorkspaceImage) the service accepted and
/// finishes later: the sweeps describe the image until it is AVAILABLE or ERROR and report
/// the end (`Lifecycle Operation Completed` / `Failed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingImage {
    pub image_id: ImageId,
    pub region: RegionName,
    pub operation: ImageOperation,
    /// The lifecycle command's event id.
    pub event_id: String,
    pub requested_at: Timestamp,
    /// The desktop an image was created from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<WorkspaceId>,
}

impl PendingImage {
    /// How many a tenant keeps: a partner creating images faster than the service finishes
    /// them loses the oldest completions, never the tenant record's size limit.
    pub const KEPT: usize = 100;
    /// How long an image may stay pending before it is reported failed: the service's
    /// slowest image operation (an import) takes a few hours.
    pub const PATIENCE_MINUTES: i64 = 24 * 60;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ImageOperation {
    Create,
    Copy,
}

impl ImageOperation {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageOperation::Create => "image_create",
            ImageOperation::Copy => "image_copy",
        }
    }
}

impl Tenant {
    /// Checks a registration as a whole and makes the tenant record (status ONBOARDING).
    pub fn register(new: NewTenant, now: Timestamp) -> Result<Self, ValidationError> {
        if new.role_arn.account() != &new.account_id {
            return Err(ValidationError::new(
                "role_arn",
                Problem::Inconsistent("the role must live in the tenant's account".into()),
            ));
        }
        if new.regions.is_empty() {
            return Err(ValidationError::new("regions", Problem::Missing));
        }
        validate::max_items("regions", new.regions.len(), 10)?;
        let mut seen = std::collections::HashSet::new();
        if !new.regions.iter().all(|r| seen.insert(r)) {
            return Err(ValidationError::new(
                "regions",
                Problem::Inconsistent("a region is listed twice".into()),
            ));
        }
        new.partner_tag.validate()?;
        new.policy.validate()?;
        Ok(Self {
            tenant_id: new.tenant_id,
            account_id: new.account_id,
            regions: new.regions,
            role_arn: new.role_arn,
            external_id: new.external_id,
            partner_tag: new.partner_tag,
            policy: new.policy,
            policy_stamps: BTreeMap::new(),
            status: TenantStatus::Onboarding,
            last_error: None,
            sweep_index: SWEEP_INDEX_VERSION,
            pending_images: Vec::new(),
            created_at: now,
            updated_at: now,
            version: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn new_tenant() -> NewTenant {
        serde_json::from_value(serde_json::json!({
            "tenant_id": "acme",
            "account_id": "123456789012",
            "regions": ["us-east-1"],
            "role_arn": "arn:aws:iam::123456789012:role/StewardPartnerAccess",
            "external_id": "steward-demo-external-id",
        }))
        .unwrap()
    }

    #[test]
    fn registration_defaults_and_checks() {
        let t = Tenant::register(new_tenant(), Utc::now()).unwrap();
        assert_eq!(t.status, TenantStatus::Onboarding);
        assert_eq!(t.partner_tag, PartnerTag::default());
        assert_eq!(t.policy, PowerPolicy::default());

        let mut n = new_tenant();
        n.account_id = AccountId::parse("210987654321").unwrap();
        let e = Tenant::register(n, Utc::now()).unwrap_err();
        assert_eq!(
            (e.field.as_ref(), e.problem.code()),
            ("role_arn", "Inconsistent")
        );

        let mut n = new_tenant();
        n.regions.clear();
        let e = Tenant::register(n, Utc::now()).unwrap_err();
        assert_eq!((e.field.as_ref(), e.problem.code()), ("regions", "Missing"));

        let mut n = new_tenant();
        n.regions.push(n.regions[0].clone());
        let e = Tenant::register(n, Utc::now()).unwrap_err();
        assert_eq!(
            (e.field.as_ref(), e.problem.code()),
            ("regions", "Inconsistent")
        );

        let mut n = new_tenant();
        n.partner_tag.key = "aws:managed".into();
        let e = Tenant::register(n, Utc::now()).unwrap_err();
        assert_eq!(
            (e.field.as_ref(), e.problem.code()),
            ("partner_tag", "Reserved")
        );
    }

    #[test]
    fn bad_registration_fields_are_named_on_deserialise() {
        let mut v = serde_json::to_value(serde_json::json!({
            "tenant_id": "acme",
            "account_id": "123456789012",
            "regions": ["us-east-1"],
            "role_arn": "arn:aws:iam::123456789012:role/StewardPartnerAccess",
            "external_id": "x",
        }))
        .unwrap();
        let e = serde_json::from_value::<NewTenant>(v.clone()).unwrap_err();
        assert!(e.to_string().contains("invalid external_id"), "{e}");
        v["external_id"] = "steward-demo-external-id".into();
        v["regions"] = serde_json::json!(["US-EAST-1"]);
        let e = serde_json::from_value::<NewTenant>(v).unwrap_err();
        assert!(e.to_string().contains("invalid region"), "{e}");
    }
}
