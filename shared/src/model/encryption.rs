//! Encryption at rest of a tenant's desktops: the partner guide says it **must** be on, so
//! it is on unless the partner turns it off explicitly, twice (`enabled: false` and
//! `allowUnencrypted: true`) — a single mistyped flag never creates unencrypted desktops.
//!
//! With no key, WorkSpaces uses the AWS managed key (`aws/workspaces`); with one, the
//! customer's KMS key (the customer role grants WorkSpaces' use of it, see
//! `customer-role.yaml`).

use serde::{Deserialize, Serialize};

use crate::ids::KmsKeyRef;
use crate::validate::{Problem, ValidationError};

/// How desktops are encrypted, as the onboarding input, the Provision command and a pool
/// give it (camelCase on the wire and in the store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VolumeEncryption {
    /// Root and user volumes encrypted (the default).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The customer's KMS key; unset: the AWS managed key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_encryption_key: Option<KmsKeyRef>,
    /// The explicit consent `enabled: false` needs.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_unencrypted: bool,
}

fn yes() -> bool {
    true
}

impl Default for VolumeEncryption {
    fn default() -> Self {
        Self {
            enabled: true,
            volume_encryption_key: None,
            allow_unencrypted: false,
        }
    }
}

/// What CreateWorkspaces is asked for, per desktop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeEncryptionRequest {
    /// `RootVolumeEncryptionEnabled` and `UserVolumeEncryptionEnabled`, with this key or
    /// the AWS managed one.
    Encrypted {
        key: Option<KmsKeyRef>,
    },
    Unencrypted,
}

impl VolumeEncryption {
    /// Checks the consent rule; `field` is where the setting sits in the caller's input.
    pub fn validate(&self, field: &'static str) -> Result<(), ValidationError> {
        if !self.enabled && !self.allow_unencrypted {
            return Err(ValidationError::new(
                field,
                Problem::Inconsistent(
                    "unencrypted desktops need allowUnencrypted: true beside enabled: false (the partner guide requires encryption at rest)"
                        .into(),
                ),
            ));
        }
        if !self.enabled && self.volume_encryption_key.is_some() {
            return Err(ValidationError::new(
                field,
                Problem::Inconsistent("a volumeEncryptionKey with enabled: false".into()),
            ));
        }
        Ok(())
    }

    /// The CreateWorkspaces members this setting asks for.
    pub fn request(&self) -> VolumeEncryptionRequest {
        if self.enabled {
            VolumeEncryptionRequest::Encrypted {
                key: self.volume_encryption_key.clone(),
            }
        } else {
            VolumeEncryptionRequest::Unencrypted
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> VolumeEncryption {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn on_by_default_with_the_aws_managed_key() {
        let e = parse(json!({}));
        assert_eq!(e, VolumeEncryption::default());
        assert!(e.validate("encryption").is_ok());
        assert_eq!(
            e.request(),
            VolumeEncryptionRequest::Encrypted { key: None }
        );
        let k = parse(json!({"volumeEncryptionKey": "alias/acme-desktops"}));
        assert_eq!(
            k.request(),
            VolumeEncryptionRequest::Encrypted {
                key: Some(KmsKeyRef::parse("alias/acme-desktops").unwrap())
            }
        );
        assert_eq!(
            serde_json::to_value(&k).unwrap(),
            json!({"enabled": true, "volumeEncryptionKey": "alias/acme-desktops"})
        );
    }

    #[test]
    fn off_needs_both_flags() {
        let e = parse(json!({"enabled": false}))
            .validate("encryption")
            .unwrap_err();
        assert_eq!(
            (e.field.as_ref(), e.problem.code()),
            ("encryption", "Inconsistent")
        );
        let off = parse(json!({"enabled": false, "allowUnencrypted": true}));
        assert!(off.validate("encryption").is_ok());
        assert_eq!(off.request(), VolumeEncryptionRequest::Unencrypted);
        let e = parse(json!({"enabled": false, "allowUnencrypted": true,
                             "volumeEncryptionKey": "alias/x"}))
        .validate("encryption")
        .unwrap_err();
        assert_eq!(e.problem.code(), "Inconsistent");
        // Consent alone does not turn encryption off.
        let consent = parse(json!({"allowUnencrypted": true}));
        assert_eq!(
            consent.request(),
            VolumeEncryptionRequest::Encrypted { key: None }
        );
    }

    #[test]
    fn a_bad_key_is_named_without_quoting_it() {
        let e =
            serde_json::from_value::<VolumeEncryption>(json!({"volumeEncryptionKey": "not a key"}))
                .unwrap_err()
                .to_string();
        assert!(e.contains("volume_encryption_key"), "{e}");
        assert!(!e.contains("not a key"), "{e}");
    }
}
