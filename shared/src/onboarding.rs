//! Onboarding decisions that need no AWS call: which AMIs can be imported and why not,
//! the names Steward gives what it creates (so that a re-run finds them), and whether a
//! directory's creation properties already say what the tenant wants.

use serde::Serialize;

use crate::ids::TenantId;

/// What EC2 DescribeImages says about an AMI, reduced to the fields the guide displays or
/// filters on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AmiFacts {
    pub image_id: String,
    pub name: String,
    pub description: String,
    pub owner_id: String,
    pub state: String,
    pub image_type: String,
    pub virtualization_type: String,
    pub hypervisor: String,
    pub platform: String,
    pub platform_details: String,
    pub ena_support: bool,
    pub architecture: String,
    pub root_volume_type: String,
    pub root_volume_gib: u32,
    pub encrypted: bool,
    pub creation_date: String,
}

/// An AMI as offered to the customer: the facts, and whether it can be imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AmiOption {
    #[serde(flatten)]
    pub facts: AmiFacts,
    pub eligible: bool,
    /// Why not, in words a customer admin understands; empty when eligible.
    pub reasons: Vec<String>,
}

/// Judges one AMI against what ImportWorkspaceImage accepts for a BYOL Windows client
/// image: owned by the account, available, an HVM machine image, Windows, not encrypted,
/// and (when the partner set a limit) a root volume no larger than `max_root_gib`.
pub fn judge_ami(facts: AmiFacts, account_id: &str, max_root_gib: Option<u32>) -> AmiOption {
    let mut reasons = Vec::new();
    if facts.owner_id != account_id {
        reasons.push(format!(
            "owned by {}, not by the customer account: only owned AMIs can be imported",
            facts.owner_id
        ));
    }
    if facts.state != "available" {
        reasons.push(format!("its state is {}, not available", facts.state));
    }
    if facts.image_type != "machine" {
        reasons.push(format!(
            "it is a {} image, not a machine image",
            facts.image_type
        ));
    }
    if facts.virtualization_type != "hvm" {
        reasons.push(format!(
            "virtualization type {}: WorkSpaces needs hvm",
            facts.virtualization_type
        ));
    }
    if !facts.platform.eq_ignore_ascii_case("windows") {
        reasons.push("not a Windows image: BYOL imports Windows 10/11 only".into());
    }
    if facts.encrypted {
        reasons.push("encrypted AMIs cannot be imported".into());
    }
    if let Some(max) = max_root_gib
        && facts.root_volume_gib > max
    {
        reasons.push(format!(
            "root volume of {} GiB is over the {max} GiB limit",
            facts.root_volume_gib
        ));
    }
    AmiOption {
        facts,
        eligible: reasons.is_empty(),
        reasons,
    }
}

const NAME_MAX: usize = 64;

fn bounded(name: String) -> String {
    name.chars().take(NAME_MAX).collect()
}

/// The name of the WorkSpaces image Steward imports from `ami` for `tenant`. Import is
/// idempotent by this name: a re-run finds the image instead of importing it twice.
pub fn image_name(tenant: &TenantId, ami: &str) -> String {
    bounded(format!("steward-{ami}-{tenant}"))
}

/// The name of the tenant's bundle (idempotent by name, like the image).
pub fn bundle_name(tenant: &TenantId) -> String {
    bounded(format!("steward-{tenant}"))
}

/// The creation properties Steward sets on a directory; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreationProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_security_group_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_maintenance_mode: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_internet_access: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_ou: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_enabled_as_local_administrator: Option<bool>,
}

impl CreationProperties {
    /// The fields of `self` that `current` does not already have; empty: nothing to modify.
    pub fn missing_from(&self, current: &CreationProperties) -> CreationProperties {
        fn keep<T: PartialEq + Clone>(want: &Option<T>, have: &Option<T>) -> Option<T> {
            match want {
                Some(w) if have.as_ref() != Some(w) => Some(w.clone()),
                _ => None,
            }
        }
        CreationProperties {
            custom_security_group_id: keep(
                &self.custom_security_group_id,
                &current.custom_security_group_id,
            ),
            enable_maintenance_mode: keep(
                &self.enable_maintenance_mode,
                &current.enable_maintenance_mode,
            ),
            enable_internet_access: keep(
                &self.enable_internet_access,
                &current.enable_internet_access,
            ),
            default_ou: keep(&self.default_ou, &current.default_ou),
            user_enabled_as_local_administrator: keep(
                &self.user_enabled_as_local_administrator,
                &current.user_enabled_as_local_administrator,
            ),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == CreationProperties::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> AmiFacts {
        AmiFacts {
            image_id: "ami-0a1b2c3d4e5f60001".into(),
            owner_id: "123456789012".into(),
            state: "available".into(),
            image_type: "machine".into(),
            virtualization_type: "hvm".into(),
            platform: "windows".into(),
            root_volume_gib: 80,
            ..AmiFacts::default()
        }
    }

    #[test]
    fn an_owned_available_hvm_windows_unencrypted_ami_is_eligible() {
        let o = judge_ami(good(), "123456789012", Some(100));
        assert!(o.eligible, "{:?}", o.reasons);
        assert!(o.reasons.is_empty());
    }

    #[test]
    fn every_disqualification_is_named() {
        let cases: Vec<(AmiFacts, &str)> = vec![
            (
                AmiFacts {
                    encrypted: true,
                    ..good()
                },
                "encrypted",
            ),
            (
                AmiFacts {
                    virtualization_type: "paravirtual".into(),
                    ..good()
                },
                "hvm",
            ),
            (
                AmiFacts {
                    state: "pending".into(),
                    ..good()
                },
                "pending",
            ),
            (
                AmiFacts {
                    owner_id: "801119661308".into(),
                    ..good()
                },
                "owned by 801119661308",
            ),
            (
                AmiFacts {
                    platform: String::new(),
                    ..good()
                },
                "Windows",
            ),
            (
                AmiFacts {
                    root_volume_gib: 250,
                    ..good()
                },
                "250 GiB",
            ),
        ];
        for (facts, needle) in cases {
            let o = judge_ami(facts, "123456789012", Some(100));
            assert!(!o.eligible);
            assert_eq!(o.reasons.len(), 1, "{:?}", o.reasons);
            assert!(
                o.reasons[0].contains(needle),
                "{:?} lacks {needle}",
                o.reasons
            );
        }
        // No limit configured: the size is not judged.
        let big = AmiFacts {
            root_volume_gib: 250,
            ..good()
        };
        assert!(judge_ami(big, "123456789012", None).eligible);
    }

    #[test]
    fn names_are_stable_and_bounded() {
        let t = TenantId::parse("a".repeat(63)).unwrap();
        let n = image_name(&t, "ami-0a1b2c3d4e5f60001");
        assert_eq!(n.len(), 64);
        assert!(n.starts_with("steward-ami-0a1b2c3d4e5f60001-aaa"));
        assert_eq!(n, image_name(&t, "ami-0a1b2c3d4e5f60001"));
        assert_eq!(
            bundle_name(&TenantId::parse("acme").unwrap()),
            "steward-acme"
        );
    }

    #[test]
    fn only_differing_creation_properties_are_modified() {
        let want = CreationProperties {
            custom_security_group_id: Some("sg-1".into()),
            enable_maintenance_mode: Some(false),
            ..Default::default()
        };
        let have = CreationProperties {
            custom_security_group_id: Some("sg-1".into()),
            enable_maintenance_mode: Some(true),
            enable_internet_access: Some(true),
            ..Default::default()
        };
        let diff = want.missing_from(&have);
        assert_eq!(
            diff,
            CreationProperties {
                enable_maintenance_mode: Some(false),
                ..Default::default()
            }
        );
        let now_have = CreationProperties {
            enable_maintenance_mode: Some(false),
            ..have
        };
        assert!(want.missing_from(&now_have).is_empty());
    }
}
