//! The tenant: a customer account Steward manages, how a partner registers one, and what
//! the tenant record carries besides its policy (its status, the partner tag, the image
//! operations the sweeps still have to see end).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{ErrorRecord, PolicyStamp, PowerPolicy, Timestamp, VolumeEncryption};
use crate::ids::{
    AccountId, BundleId, ExternalId, ImageId, RegionName, RoleArn, SecretArn, TenantId, WorkspaceId,
};
use crate::pools::protocol::StreamingProtocol;
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

/// How Steward reaches a tenant's account — the two ways the partner guide names.
///
/// Stored flat on the tenant record (`role_arn` + `external_id`, or
/// `credentials_secret_arn`), so records written before access-key tenants existed read
/// as [`Connection::AssumeRole`] unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ConnectionFields", into = "ConnectionFields")]
pub enum Connection {
    /// The guide's preferred way: Steward assumes the customer's role with a per-tenant
    /// ExternalId.
    AssumeRole {
        role_arn: RoleArn,
        external_id: ExternalId,
    },
    /// "Secret and access keys for self-managed solutions": an IAM user's key pair, kept
    /// in Secrets Manager in the partner's account. The record holds only the secret's
    /// ARN; the keys are read (and cached briefly) when a session is built, never stored
    /// or logged.
    AccessKey { credentials_secret_arn: SecretArn },
}

/// A connection's stored (and registration) form: the fields of one of the two ways.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ConnectionFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<RoleArn>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<ExternalId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret_arn: Option<SecretArn>,
}

impl TryFrom<ConnectionFields> for Connection {
    type Error = ValidationError;
    fn try_from(f: ConnectionFields) -> Result<Self, Self::Error> {
        match (f.role_arn, f.external_id, f.credentials_secret_arn) {
            (Some(role_arn), Some(external_id), None) => Ok(Connection::AssumeRole {
                role_arn,
                external_id,
            }),
            (None, None, Some(credentials_secret_arn)) => Ok(Connection::AccessKey {
                credentials_secret_arn,
            }),
            (None, None, None) => Err(ValidationError::new(
                "role_arn",
                Problem::Inconsistent(
                    "a tenant needs roleArn and externalId, or credentialsSecretArn".into(),
                ),
            )),
            (Some(_), None, None) => Err(ValidationError::new("external_id", Problem::Missing)),
            (None, Some(_), None) => Err(ValidationError::new("role_arn", Problem::Missing)),
            (_, _, Some(_)) => Err(ValidationError::new(
                "credentials_secret_arn",
                Problem::Inconsistent(
                    "give either a role (roleArn, externalId) or credentialsSecretArn, not both"
                        .into(),
                ),
            )),
        }
    }
}

impl From<Connection> for ConnectionFields {
    fn from(c: Connection) -> Self {
        match c {
            Connection::AssumeRole {
                role_arn,
                external_id,
            } => Self {
                role_arn: Some(role_arn),
                external_id: Some(external_id),
                credentials_secret_arn: None,
            },
            Connection::AccessKey {
                credentials_secret_arn,
            } => Self {
                credentials_secret_arn: Some(credentials_secret_arn),
                ..Self::default()
            },
        }
    }
}

impl Connection {
    /// `"ROLE"` or `"ACCESS_KEY"`: how a tenant is reached, for records and events.
    pub fn kind(&self) -> &'static str {
        match self {
            Connection::AssumeRole { .. } => "ROLE",
            Connection::AccessKey { .. } => "ACCESS_KEY",
        }
    }
}

/// What a partner supplies to register a customer account.
#[derive(Debug, Clone, Deserialize)]
pub struct NewTenant {
    pub tenant_id: TenantId,
    pub account_id: AccountId,
    pub regions: Vec<RegionName>,
    #[serde(flatten)]
    pub connection: Connection,
    #[serde(default)]
    pub partner_tag: PartnerTag,
    #[serde(default)]
    pub policy: PowerPolicy,
    #[serde(default)]
    pub encryption: VolumeEncryption,
    #[serde(default)]
    pub tag_management: bool,
}

/// A customer account Steward manages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub tenant_id: TenantId,
    pub account_id: AccountId,
    pub regions: Vec<RegionName>,
    #[serde(flatten)]
    pub connection: Connection,
    pub partner_tag: PartnerTag,
    pub policy: PowerPolicy,
    /// How the tenant's desktops are encrypted at rest (records from before this field:
    /// encrypted with the AWS managed key).
    #[serde(default)]
    pub encryption: VolumeEncryption,
    /// Whether the customer's role grants CreateTags/DeleteTags (its `AllowTagManagement`
    /// parameter, which the customer chose and the onboarding request states): without it
    /// the lifecycle tag command is refused by name instead of failing at the service.
    #[serde(default)]
    pub tag_management: bool,
    /// The streaming protocol of each bundle Steward created (from the ingestion process
    /// of the image it imported): what a pool's protocol plan is checked against
    /// ([`crate::pools::protocol`]). The service itself does not say.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub bundle_protocols: BTreeMap<BundleId, StreamingProtocol>,
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
        if let Connection::AssumeRole { role_arn, .. } = &new.connection
            && role_arn.account() != &new.account_id
        {
            return Err(ValidationError::new(
                "role_arn",
                Problem::Inconsistent("the role must live in the tenant's account".into()),
            ));
        }
        new.encryption.validate("encryption")?;
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
            connection: new.connection,
            partner_tag: new.partner_tag,
            policy: new.policy,
            encryption: new.encryption,
            tag_management: new.tag_management,
            bundle_protocols: BTreeMap::new(),
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

        assert!(!t.tag_management);
        assert_eq!(t.encryption, VolumeEncryption::default());
        assert_eq!(t.connection.kind(), "ROLE");

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
    fn access_key_tenants_and_the_stored_form() {
        let secret = "arn:aws:secretsmanager:us-east-1:999988887777:secret:steward/acme-AbCdEf";
        let n: NewTenant = serde_json::from_value(serde_json::json!({
            "tenant_id": "acme",
            "account_id": "123456789012",
            "regions": ["us-east-1"],
            "credentials_secret_arn": secret,
        }))
        .unwrap();
        let t = Tenant::register(n, Utc::now()).unwrap();
        assert_eq!(t.connection.kind(), "ACCESS_KEY");
        let stored = serde_json::to_value(&t).unwrap();
        assert_eq!(stored["credentials_secret_arn"], secret);
        assert!(stored.get("role_arn").is_none() && stored.get("connection").is_none());
        assert_eq!(serde_json::from_value::<Tenant>(stored).unwrap(), t);

        // A record of a role tenant keeps its flat, pre-existing form.
        let role = Tenant::register(new_tenant(), Utc::now()).unwrap();
        let stored = serde_json::to_value(&role).unwrap();
        assert_eq!(
            stored["role_arn"],
            "arn:aws:iam::123456789012:role/StewardPartnerAccess"
        );
        assert_eq!(stored["external_id"], "steward-demo-external-id");
        assert_eq!(serde_json::from_value::<Tenant>(stored).unwrap(), role);

        let both = serde_json::from_value::<NewTenant>(serde_json::json!({
            "tenant_id": "acme",
            "account_id": "123456789012",
            "regions": ["us-east-1"],
            "role_arn": "arn:aws:iam::123456789012:role/StewardPartnerAccess",
            "external_id": "steward-demo-external-id",
            "credentials_secret_arn": secret,
        }))
        .unwrap_err()
        .to_string();
        assert!(both.contains("credentials_secret_arn"), "{both}");
        assert!(!both.contains("secret:steward"), "{both}");
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
