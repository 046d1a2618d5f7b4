//! Validated identifiers. A value of one of these types has passed its check, so code that
//! receives one never validates again; deserialising (events, store items) validates too.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::validate::{self, ValidationError};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $field:literal, $check:path) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates `value`; a problem is reported under this type's own field name.
            pub fn parse(value: impl Into<String>) -> Result<Self, ValidationError> {
                let value = value.into();
                $check($field, &value)?;
                Ok(Self(value))
            }

            /// Validates `value`, reporting a problem under `field`.
            pub fn parse_at(
                field: &'static str,
                value: impl Into<String>,
            ) -> Result<Self, ValidationError> {
                Self::parse(value).map_err(|e| e.at(field))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }
    };
}

id_type!(
    /// Steward's name for a customer (tenant): 3–63 lower-case letters, digits, hyphens.
    TenantId, "tenant_id", validate::tenant_id
);
id_type!(
    /// A 12-digit AWS account id.
    AccountId, "account_id", validate::account_id
);
id_type!(
    /// An AWS Region name such as `us-east-1`.
    RegionName, "region", validate::region
);
id_type!(
    /// A WorkSpace id (`ws-…`).
    WorkspaceId, "workspace_id", validate::workspace_id
);
id_type!(
    /// A directory id (`d-…` or `wsd-…`).
    DirectoryId, "directory_id", validate::directory_id
);
id_type!(
    /// A bundle id (`wsb-…`).
    BundleId, "bundle_id", validate::bundle_id
);
id_type!(
    /// A WorkSpaces image id (`wsi-…`).
    ImageId, "image_id", validate::image_id
);
id_type!(
    /// An EC2 AMI id (`ami-…`).
    Ec2ImageId, "ec2_image_id", validate::ec2_image_id
);
id_type!(
    /// An id chosen by EventBridge or a partner backend (event ids, session ids).
    OpaqueId, "id", validate::opaque_id
);

id_type!(
    /// A pool's name within its tenant (`call-centre`).
    PoolId, "pool_id", validate::pool_id
);
id_type!(
    /// A user as the partner's broker names it: an opaque id, never a password or PII
    /// beyond what the partner chose as the id.
    UserId, "user_id", validate::opaque_id
);

id_type!(
    /// A KMS key for desktop volumes: key id, `alias/<name>`, or the ARN of either.
    KmsKeyRef, "volume_encryption_key", validate::kms_key
);

/// The ARN of a Secrets Manager secret holding an access-key tenant's key pair, remembered
/// with the account it lives in (the partner's: Steward reads it as itself).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SecretArn {
    arn: String,
    account: AccountId,
}

impl SecretArn {
    pub fn parse(value: impl Into<String>) -> Result<Self, ValidationError> {
        let arn = value.into();
        let account = AccountId::parse_at(
            "credentials_secret_arn",
            validate::secret_arn("credentials_secret_arn", &arn)?,
        )?;
        Ok(Self { arn, account })
    }

    pub fn as_str(&self) -> &str {
        &self.arn
    }

    pub fn account(&self) -> &AccountId {
        &self.account
    }
}

impl TryFrom<String> for SecretArn {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<SecretArn> for String {
    fn from(value: SecretArn) -> String {
        value.arn
    }
}

impl fmt::Display for SecretArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn)
    }
}

impl fmt::Debug for SecretArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.arn, f)
    }
}

/// An IAM role ARN, remembered with the account it lives in.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoleArn {
    arn: String,
    account: AccountId,
}

impl RoleArn {
    pub fn parse(value: impl Into<String>) -> Result<Self, ValidationError> {
        let arn = value.into();
        let account = AccountId::parse_at("role_arn", validate::role_arn("role_arn", &arn)?)?;
        Ok(Self { arn, account })
    }

    pub fn as_str(&self) -> &str {
        &self.arn
    }

    pub fn account(&self) -> &AccountId {
        &self.account
    }
}

impl TryFrom<String> for RoleArn {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<RoleArn> for String {
    fn from(value: RoleArn) -> String {
        value.arn
    }
}

impl fmt::Display for RoleArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn)
    }
}

impl fmt::Debug for RoleArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.arn, f)
    }
}

/// The ExternalId a customer's role demands. A secret in practice: it has no `Display`,
/// and its `Debug` is redacted, so it cannot reach a log line by accident.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ExternalId(String);

impl ExternalId {
    pub fn parse(value: impl Into<String>) -> Result<Self, ValidationError> {
        let value = value.into();
        validate::external_id("external_id", &value)?;
        Ok(Self(value))
    }

    /// The secret itself, for the one place that needs it: the AssumeRole request.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ExternalId {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<ExternalId> for String {
    fn from(value: ExternalId) -> String {
        value.0
    }
}

impl fmt::Debug for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExternalId(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_validate_on_parse_and_on_deserialise() {
        assert!(WorkspaceId::parse("ws-abcd1234").is_ok());
        let e = WorkspaceId::parse("bogus").unwrap_err();
        assert_eq!(e.field, "workspace_id");
        let e = WorkspaceId::parse_at("detail.workspaceId", "bogus").unwrap_err();
        assert_eq!(e.field, "detail.workspaceId");
        let ok: WorkspaceId = serde_json::from_str("\"ws-abcd1234\"").unwrap();
        assert_eq!(ok.as_str(), "ws-abcd1234");
        let bad = serde_json::from_str::<WorkspaceId>("\"ws-UPPER123\"").unwrap_err();
        assert!(bad.to_string().contains("invalid workspace_id"), "{bad}");
    }

    #[test]
    fn role_arn_knows_its_account() {
        let arn = RoleArn::parse("arn:aws:iam::123456789012:role/StewardPartnerAccess").unwrap();
        assert_eq!(arn.account().as_str(), "123456789012");
        assert_eq!(
            serde_json::to_string(&arn).unwrap(),
            "\"arn:aws:iam::123456789012:role/StewardPartnerAccess\""
        );
        assert_eq!(
            RoleArn::parse("arn:aws:iam::123:role/x").unwrap_err().field,
            "role_arn"
        );
    }

    #[test]
    fn secret_arns_and_kms_keys() {
        let s = SecretArn::parse(
            "arn:aws:secretsmanager:us-east-1:999988887777:secret:steward/acme-AbCdEf",
        )
        .unwrap();
        assert_eq!(s.account().as_str(), "999988887777");
        let e = SecretArn::parse("arn:aws:iam::123456789012:role/x").unwrap_err();
        assert_eq!(e.field, "credentials_secret_arn");
        for ok in [
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "alias/workspaces-acme",
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:us-east-1:123456789012:alias/workspaces-acme",
            "mrk-1234abcd12ab34cd56ef1234567890ab",
        ] {
            assert!(KmsKeyRef::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "key", "alias/", "arn:aws:kms:us-east-1:123:key/x"] {
            let e = KmsKeyRef::parse(bad).unwrap_err();
            assert_eq!(e.field, "volume_encryption_key");
            assert!(!e.to_string().contains("arn:aws:kms"), "{e}");
        }
    }

    #[test]
    fn external_id_never_prints() {
        let id = ExternalId::parse("steward-demo-external-id").unwrap();
        assert_eq!(format!("{id:?}"), "ExternalId(<redacted>)");
        assert_eq!(id.expose(), "steward-demo-external-id");
        let e = ExternalId::parse("has a space").unwrap_err();
        assert!(!e.to_string().contains("has a space"));
    }
}
