//! The execution input: what an onboarding execution is asked to do, and its checks.
//!
//! The execution input is an [`OnboardingRequest`]. The first step checks it, registers the
//! tenant and replaces it with its normalised form (defaults filled in, the role and the
//! ExternalId dropped: later steps read them from the tenant record), so every later step
//! and every Choice sees the same, complete request.

use serde::{Deserialize, Serialize};
use steward_shared::ids::{
    AccountId, BundleId, DirectoryId, Ec2ImageId, ExternalId, RegionName, RoleArn, SecretArn,
    TenantId,
};
use steward_shared::model::{PartnerTag, PowerPolicy, VolumeEncryption};
use steward_shared::validate::{self, Problem, ValidationError};

/// The guide's default BYOP ingestion process for a regular (non-GPU) bundle.
pub const DEFAULT_INGESTION: &str = "BYOL_REGULAR_BYOP";
/// How long a customer pause waits for its answer unless the input says otherwise (7 days).
pub const DEFAULT_CUSTOMER_INPUT_TIMEOUT_SECONDS: u64 = 7 * 24 * 3600;
/// Desktops one execution may create (the service's default quota is far lower; this bounds
/// the work of one execution).
pub const MAX_WORKSPACES: u32 = 1000;

/// The execution input.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OnboardingRequest {
    pub tenant_id: TenantId,
    pub account_id: AccountId,
    pub region: RegionName,
    /// Needed when the tenant is new; an existing tenant's stored role is used otherwise.
    #[serde(default, skip_serializing)]
    pub role_arn: Option<RoleArn>,
    #[serde(default, skip_serializing)]
    pub external_id: Option<ExternalId>,
    /// An access-key tenant (self-managed): the Secrets Manager secret holding its IAM
    /// user's key pair, instead of `roleArn` and `externalId`.
    #[serde(default, skip_serializing)]
    pub credentials_secret_arn: Option<SecretArn>,
    #[serde(default)]
    pub partner_tag: Option<PartnerTag>,
    /// Encryption at rest of the desktops (on by default; see [`VolumeEncryption`]).
    /// Unset on a re-run: the tenant's stored setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<VolumeEncryption>,
    /// The `AllowTagManagement` parameter the customer chose for the role stack (default
    /// false). Unset on a re-run: the tenant's stored setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_tag_management: Option<bool>,
    #[serde(default)]
    pub policy: Option<PowerPolicy>,
    /// BYOL (Windows client OS, DEDICATED tenancy, imported image) or not (SHARED tenancy,
    /// an existing bundle).
    #[serde(default = "yes")]
    pub byol: bool,
    /// The explicit confirmation ModifyAccount needs (it cannot be undone). Without it the
    /// execution pauses for the customer's confirmation.
    #[serde(default)]
    pub confirm_byol: bool,
    /// Where ListAvailableManagementCidrRanges looks for free /16 ranges.
    #[serde(default = "default_cidr_constraint")]
    pub management_cidr_constraint: String,
    #[serde(default = "default_ingestion")]
    pub ingestion_process: String,
    /// The largest root volume an AMI may have to be offered as eligible. Unset: not
    /// checked (the service's limit is unconfirmed; the import then reports it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_root_volume_gib: Option<u32>,
    /// Selections made up front; each one skips its customer pause.
    #[serde(default)]
    pub selections: Selections,
    #[serde(default)]
    pub directory: DirectorySpec,
    #[serde(default)]
    pub creation_properties: CreationPropertiesSpec,
    #[serde(default)]
    pub bundle: BundleSpec,
    pub workspaces: WorkspacesSpec,
    #[serde(default = "default_timeout")]
    pub customer_input_timeout_seconds: u64,
}

fn yes() -> bool {
    true
}
fn default_cidr_constraint() -> String {
    "10.0.0.0/8".into()
}
fn default_ingestion() -> String {
    DEFAULT_INGESTION.into()
}
fn default_timeout() -> u64 {
    DEFAULT_CUSTOMER_INPUT_TIMEOUT_SECONDS
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Selections {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management_cidr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ec2_image_id: Option<Ec2ImageId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory_id: Option<DirectoryId>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DirectorySpec {
    /// Two subnets in different Availability Zones; unset: the directory's own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnet_ids: Vec<String>,
    #[serde(default)]
    pub enable_self_service: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreationPropertiesSpec {
    /// The security group that lets the partner's gateways reach the desktops.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_security_group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_internet_access: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_ou: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_enabled_as_local_administrator: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BundleSpec {
    /// Use this bundle instead of creating one (the non-BYOL path: an AMAZON bundle or one
    /// the customer already has).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle_id: Option<BundleId>,
    #[serde(default = "default_compute")]
    pub compute_type: String,
    #[serde(default = "default_root")]
    pub root_volume_gib: u32,
    #[serde(default = "default_user")]
    pub user_volume_gib: u32,
}

fn default_compute() -> String {
    "STANDARD".into()
}
fn default_root() -> u32 {
    80
}
fn default_user() -> u32 {
    50
}

impl Default for BundleSpec {
    fn default() -> Self {
        Self {
            bundle_id: None,
            compute_type: default_compute(),
            root_volume_gib: default_root(),
            user_volume_gib: default_user(),
        }
    }
}

/// Which desktops to create: `count` user-decoupled ones named `<namePrefix>-001`…, or one
/// per user name in `users` (user-assigned).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkspacesSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
}

/// One desktop the execution wants to exist.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Desired {
    /// User-decoupled: `UserName` `[UNDEFINED]` and this `WorkspaceName`.
    Decoupled {
        workspace_name: String,
    },
    Assigned {
        user_name: String,
    },
}

pub const UNDEFINED_USER: &str = "[UNDEFINED]";

impl WorkspacesSpec {
    pub fn desired(&self, tenant: &TenantId) -> Vec<Desired> {
        if !self.users.is_empty() {
            return self
                .users
                .iter()
                .map(|u| Desired::Assigned {
                    user_name: u.clone(),
                })
                .collect();
        }
        let prefix = self
            .name_prefix
            .clone()
            .unwrap_or_else(|| tenant.as_str().to_owned());
        (1..=self.count.unwrap_or(0))
            .map(|n| Desired::Decoupled {
                workspace_name: format!("{prefix}-{n:03}"),
            })
            .collect()
    }

    fn validate(&self, tenant: &TenantId) -> Result<(), ValidationError> {
        self.check_shape()?;
        self.check_each_desktop(tenant)
    }

    /// Either a count of user-decoupled desktops (optionally named by a prefix) or a list of
    /// users, within [`MAX_WORKSPACES`].
    fn check_shape(&self) -> Result<(), ValidationError> {
        match (self.count, self.users.is_empty()) {
            (Some(_), false) => {
                return Err(ValidationError::new(
                    "workspaces",
                    Problem::Inconsistent("give either `count` or `users`, not both".into()),
                ));
            }
            (None, true) => {
                return Err(ValidationError::new(
                    "workspaces",
                    Problem::Inconsistent("give `count` or `users`".into()),
                ));
            }
            (Some(n), true) => {
                validate::range("workspaces.count", i64::from(n), 1, MAX_WORKSPACES.into())?
            }
            (None, false) => validate::max_items(
                "workspaces.users",
                self.users.len(),
                MAX_WORKSPACES as usize,
            )?,
        }
        if self.name_prefix.is_some() && !self.users.is_empty() {
            return Err(ValidationError::new(
                "workspaces.namePrefix",
                Problem::Inconsistent("names are for user-decoupled desktops only".into()),
            ));
        }
        Ok(())
    }

    /// Every desktop's name or user is valid and none is asked for twice.
    fn check_each_desktop(&self, tenant: &TenantId) -> Result<(), ValidationError> {
        let mut seen = std::collections::HashSet::new();
        for d in self.desired(tenant) {
            match &d {
                Desired::Decoupled { workspace_name } => {
                    validate::workspace_name("workspaces.namePrefix", workspace_name)?
                }
                Desired::Assigned { user_name } => {
                    validate::user_name("workspaces.users", user_name)?;
                    if user_name == UNDEFINED_USER {
                        return Err(ValidationError::new(
                            "workspaces.users",
                            Problem::Inconsistent(
                                "`[UNDEFINED]` is for user-decoupled desktops: use `count`".into(),
                            ),
                        ));
                    }
                }
            }
            if !seen.insert(d) {
                return Err(ValidationError::new(
                    "workspaces.users",
                    Problem::Inconsistent("a user is listed twice".into()),
                ));
            }
        }
        Ok(())
    }
}

impl OnboardingRequest {
    /// Checks the request as a whole (each id already checked itself when it was read), in
    /// the order of its fields, so the first problem named is the first one a reader meets.
    pub fn validate(&self) -> Result<(), ValidationError> {
        self.check_tenant()?;
        self.check_byol()?;
        self.check_bundle()?;
        self.check_directory()?;
        validate::range(
            "customerInputTimeoutSeconds",
            i64::try_from(self.customer_input_timeout_seconds).unwrap_or(i64::MAX),
            60,
            365 * 24 * 3600,
        )?;
        self.workspaces.validate(&self.tenant_id)
    }

    /// The role lives in the tenant's account; the tag and the policy are usable.
    fn check_tenant(&self) -> Result<(), ValidationError> {
        if let Some(role) = &self.role_arn
            && role.account() != &self.account_id
        {
            return Err(ValidationError::new(
                "roleArn",
                Problem::Inconsistent("the role must live in the tenant's account".into()),
            ));
        }
        if let Some(tag) = &self.partner_tag {
            tag.validate()?;
        }
        if let Some(p) = &self.policy {
            p.validate()?;
        }
        if let Some(e) = &self.encryption {
            e.validate("encryption")?;
        }
        Ok(())
    }

    /// The management range and the ingestion process BYOL would use.
    fn check_byol(&self) -> Result<(), ValidationError> {
        validate::ipv4_cidr("managementCidrConstraint", &self.management_cidr_constraint)?;
        if let Some(c) = &self.selections.management_cidr {
            validate::dedicated_management_cidr("selections.managementCidr", c)?;
        }
        if !aws_sdk_workspaces::types::WorkspaceImageIngestionProcess::values()
            .contains(&self.ingestion_process.as_str())
        {
            return Err(ValidationError::new(
                "ingestionProcess",
                Problem::Inconsistent(format!(
                    "not one of {:?}",
                    aws_sdk_workspaces::types::WorkspaceImageIngestionProcess::values()
                )),
            ));
        }
        Ok(())
    }

    /// The bundle's compute type and volumes, and whether it is named or created (BYOL
    /// creates it from the imported image; without BYOL it must be named).
    fn check_bundle(&self) -> Result<(), ValidationError> {
        if !aws_sdk_workspaces::types::Compute::values()
            .contains(&self.bundle.compute_type.as_str())
        {
            return Err(ValidationError::new(
                "bundle.computeType",
                Problem::Inconsistent(format!(
                    "not one of {:?}",
                    aws_sdk_workspaces::types::Compute::values()
                )),
            ));
        }
        validate::range(
            "bundle.rootVolumeGib",
            self.bundle.root_volume_gib.into(),
            1,
            2000,
        )?;
        validate::range(
            "bundle.userVolumeGib",
            self.bundle.user_volume_gib.into(),
            1,
            2000,
        )?;
        if !self.byol && self.bundle.bundle_id.is_none() {
            return Err(ValidationError::new(
                "bundle.bundleId",
                Problem::Inconsistent(
                    "without BYOL there is no imported image: name the bundle to deploy".into(),
                ),
            ));
        }
        if self.byol && self.bundle.bundle_id.is_some() {
            return Err(ValidationError::new(
                "bundle.bundleId",
                Problem::Inconsistent(
                    "with BYOL the bundle is created from the imported image".into(),
                ),
            ));
        }
        Ok(())
    }

    /// The subnets and the security group the desktops will use.
    fn check_directory(&self) -> Result<(), ValidationError> {
        if !self.directory.subnet_ids.is_empty() {
            validate::max_items("directory.subnetIds", self.directory.subnet_ids.len(), 2)?;
            for s in &self.directory.subnet_ids {
                validate::subnet_id("directory.subnetIds", s)?;
            }
        }
        if let Some(sg) = &self.creation_properties.custom_security_group_id {
            validate::security_group_id("creationProperties.customSecurityGroupId", sg)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn base() -> Value {
        json!({
            "tenantId": "acme",
            "accountId": "123456789012",
            "region": "us-east-1",
            "roleArn": "arn:aws:iam::123456789012:role/StewardPartnerAccess",
            "externalId": "steward-demo-external-id",
            "workspaces": {"count": 2}
        })
    }

    fn parse(v: Value) -> Result<OnboardingRequest, String> {
        let r: OnboardingRequest = serde_json::from_value(v).map_err(|e| e.to_string())?;
        r.validate().map_err(|e| e.to_string())?;
        Ok(r)
    }

    #[test]
    fn defaults_are_filled_and_secrets_are_not_passed_on() {
        let r = parse(base()).unwrap();
        assert!(r.byol);
        assert_eq!(r.ingestion_process, "BYOL_REGULAR_BYOP");
        assert_eq!(r.customer_input_timeout_seconds, 604_800);
        let out = serde_json::to_value(&r).unwrap();
        assert!(out.get("externalId").is_none());
        assert!(out.get("roleArn").is_none());
        assert_eq!(out["bundle"]["computeType"], "STANDARD");
        let again: OnboardingRequest = serde_json::from_value(out).unwrap();
        assert_eq!(
            again.workspaces.desired(&again.tenant_id),
            vec![
                Desired::Decoupled {
                    workspace_name: "acme-001".into()
                },
                Desired::Decoupled {
                    workspace_name: "acme-002".into()
                }
            ]
        );
    }

    #[test]
    fn inconsistent_requests_are_refused_by_field() {
        let cases = [
            ("roleArn", json!("arn:aws:iam::999999999999:role/X")),
            ("ingestionProcess", json!("BYOL_SOMETHING")),
            ("selections", json!({"managementCidr": "10.1.2.0/24"})),
            ("bundle", json!({"computeType": "HUGE"})),
            ("bundle", json!({"bundleId": "wsb-bh8rsxt14"})),
            ("workspaces", json!({"count": 0})),
            ("workspaces", json!({"count": 2, "users": ["a"]})),
            ("workspaces", json!({"users": ["a", "a"]})),
            ("workspaces", json!({"users": ["[UNDEFINED]"]})),
            ("customerInputTimeoutSeconds", json!(5)),
        ];
        for (field, value) in cases {
            let mut v = base();
            v[field] = value.clone();
            assert!(parse(v).is_err(), "{field} = {value} was accepted");
        }
        let mut v = base();
        v["byol"] = json!(false);
        assert!(parse(v.clone()).is_err(), "non-BYOL needs a bundle");
        v["bundle"] = json!({"bundleId": "wsb-bh8rsxt14"});
        assert!(parse(v).is_ok());
        let mut v = base();
        v["unexpected"] = json!(1);
        assert!(parse(v).is_err());
    }
}
