//! Seed data: the documented default seed, customer accounts on demand and
//! the bulk seed used by benchmarks.

use super::model::*;
use super::protocol::random_hex;
use super::service_clock::Millis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

pub const CUSTOMER_ACCOUNT: &str = "123456789012";
pub const CUSTOMER_REGION: &str = "us-east-1";
pub const ROLE_NAME: &str = "StewardPartnerAccess";
pub const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/StewardPartnerAccess";
pub const EXTERNAL_ID: &str = "steward-demo-external-id";
pub const PARTNER_TAG: (&str, &str) = ("PartnerManaged", "true");

/// Ids of the default seed's resources (all in 123456789012 / us-east-1).
pub mod ids {
    pub const AMI_WIN11_ELIGIBLE: &str = "ami-0a1b2c3d4e5f60001";
    pub const AMI_WIN10_ELIGIBLE: &str = "ami-0a1b2c3d4e5f60002";
    pub const AMI_ENCRYPTED: &str = "ami-0a1b2c3d4e5f60003";
    pub const AMI_PARAVIRTUAL: &str = "ami-0a1b2c3d4e5f60004";
    pub const AMI_LARGE_ROOT: &str = "ami-0a1b2c3d4e5f60005";
    pub const AMI_PENDING: &str = "ami-0a1b2c3d4e5f60006";
    /// A public Amazon-owned AMI (owner alias `amazon`), visible to every account.
    pub const AMI_AMAZON_PUBLIC: &str = "ami-0f0e0d0c0b0a09081";
    pub const DIRECTORY_CORP: &str = "d-9067a1b2c1";
    pub const DIRECTORY_LAB: &str = "d-9067a1b2c2";
    pub const SUBNET_A: &str = "subnet-0a1b2c3d4e5f60001";
    pub const SUBNET_B: &str = "subnet-0a1b2c3d4e5f60002";
    pub const SECURITY_GROUP_PARTNER: &str = "sg-0a1b2c3d4e5f60001";
}

/// A customer account to create (every field has the default seed's value).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccountSeed {
    pub account_id: String,
    pub region: String,
    pub role_name: String,
    pub trusted_accounts: Vec<String>,
    pub external_id: Option<String>,
    pub max_session_seconds: u32,
    /// `None` = the role has no tag policy.
    pub partner_tag: Option<(String, String)>,
    pub byop_enabled: bool,
    pub byol_eligible: bool,
    pub byol_enabled: bool,
    pub has_default_role: bool,
    pub workspace_quota: usize,
    /// Seed the standard AMIs, two unregistered directories, subnets and the partner security group.
    pub standard_resources: bool,
}

impl Default for AccountSeed {
    fn default() -> Self {
        Self {
            account_id: CUSTOMER_ACCOUNT.into(),
            region: CUSTOMER_REGION.into(),
            role_name: ROLE_NAME.into(),
            trusted_accounts: vec![PARTNER_ACCOUNT.into()],
            external_id: Some(EXTERNAL_ID.into()),
            max_session_seconds: 3600,
            partner_tag: Some((PARTNER_TAG.0.into(), PARTNER_TAG.1.into())),
            byop_enabled: true,
            byol_eligible: true,
            byol_enabled: false,
            has_default_role: true,
            workspace_quota: 1000,
            standard_resources: true,
        }
    }
}

fn ami(id: &str, name: &str, owner: &str, now: Millis) -> Ami {
    Ami {
        id: id.into(),
        name: name.into(),
        description: format!("{name} (Steward emulator seed)"),
        owner: owner.into(),
        owner_alias: None,
        public: false,
        state: "available".into(),
        virtualization_type: "hvm".into(),
        hypervisor: "xen".into(),
        architecture: "x86_64".into(),
        platform_windows: true,
        platform_details: "Windows BYOL".into(),
        usage_operation: "RunInstances:0800".into(),
        ena_support: true,
        root_device_name: "/dev/sda1".into(),
        volume_type: "gp3".into(),
        volume_size: 80,
        encrypted: false,
        snapshot_id: format!("snap-{}", &id[4..]),
        creation_ms: now - 7 * 86_400_000,
        boot_mode: "uefi".into(),
        tags: vec![],
    }
}

/// One customer account as `s` describes it: its role, BYOP/BYOL settings and, with
/// `standard_resources`, the AMIs, directories, subnets and security group of the default seed.
// Long: about 125 lines, on purpose: the seed's data written out in one place, in the order the
// crate README's tables list it.
pub fn seed_account(w: &mut World, s: &AccountSeed, now: Millis) {
    let account = w
        .accounts
        .entry(s.account_id.clone())
        .or_insert_with(|| Account::new(&s.account_id));
    account.byop_enabled = s.byop_enabled;
    account.byol_eligible = s.byol_eligible;
    account.has_default_role = s.has_default_role;
    account.workspace_quota = s.workspace_quota;
    let suffix = &s.account_id[s.account_id.len().saturating_sub(6)..];
    account.roles.insert(
        s.role_name.clone(),
        Role {
            name: s.role_name.clone(),
            role_id: format!("AROAEMU{}{}", suffix, s.role_name.len()),
            trusted_accounts: s.trusted_accounts.clone(),
            external_id: s.external_id.clone(),
            max_session_seconds: s.max_session_seconds,
            allowed_request_tag_keys: s.partner_tag.iter().map(|(k, _)| k.clone()).collect(),
            partner_tag: s.partner_tag.clone(),
        },
    );
    let rs = account.region_mut(&s.region);
    if s.byol_enabled {
        rs.byol_enabled_at = Some(now);
        rs.byol_cidr = Some("10.200.0.0/16".into());
    }
    if !s.standard_resources {
        return;
    }
    let owner = s.account_id.as_str();
    let mut amis = vec![
        ami(ids::AMI_WIN11_ELIGIBLE, "steward-win11-byol", owner, now),
        ami(ids::AMI_WIN10_ELIGIBLE, "steward-win10-byol", owner, now),
        Ami {
            encrypted: true,
            ..ami(ids::AMI_ENCRYPTED, "steward-win11-encrypted", owner, now)
        },
        Ami {
            virtualization_type: "paravirtual".into(),
            ena_support: false,
            boot_mode: "legacy-bios".into(),
            ..ami(
                ids::AMI_PARAVIRTUAL,
                "steward-win10-paravirtual",
                owner,
                now,
            )
        },
        Ami {
            volume_size: 250,
            ..ami(ids::AMI_LARGE_ROOT, "steward-win11-large-root", owner, now)
        },
        Ami {
            state: "pending".into(),
            ..ami(ids::AMI_PENDING, "steward-win11-not-available", owner, now)
        },
        Ami {
            owner_alias: Some("amazon".into()),
            public: true,
            platform_details: "Windows".into(),
            usage_operation: "RunInstances:0002".into(),
            description: "Microsoft Windows Server 2022 Full Locale English AMI provided by Amazon"
                .into(),
            ..ami(
                ids::AMI_AMAZON_PUBLIC,
                "Windows_Server-2022-English-Full-Base-2026.11.12",
                "801119661308",
                now,
            )
        },
    ];
    for a in amis.drain(..) {
        rs.amis.insert(a.id.clone(), a);
    }
    for (id, az, cidr) in [
        (ids::SUBNET_A, "us-east-1a", "10.0.1.0/24"),
        (ids::SUBNET_B, "us-east-1b", "10.0.2.0/24"),
    ] {
        rs.subnets.insert(
            id.into(),
            Subnet {
                id: id.into(),
                az: az.replace("us-east-1", &s.region),
                cidr: cidr.into(),
            },
        );
    }
    rs.security_groups.insert(
        ids::SECURITY_GROUP_PARTNER.into(),
        SecurityGroup {
            id: ids::SECURITY_GROUP_PARTNER.into(),
            name: "steward-partner-protocol".into(),
            description:
                "Partner streaming protocol (TCP/UDP 4172, 8443) from the partner gateways".into(),
        },
    );
    for (id, name, alias, kind) in [
        (
            ids::DIRECTORY_CORP,
            "corp.example.com",
            "corp-example",
            "AD_CONNECTOR",
        ),
        (
            ids::DIRECTORY_LAB,
            "lab.example.com",
            "lab-example",
            "SIMPLE_AD",
        ),
    ] {
        rs.ds_directories.insert(
            id.into(),
            DsDirectory {
                id: id.into(),
                name: name.into(),
                alias: alias.into(),
                directory_type: kind.into(),
                dns_ips: vec!["10.0.1.10".into(), "10.0.2.10".into()],
                subnet_ids: vec![ids::SUBNET_A.into(), ids::SUBNET_B.into()],
                active: true,
                customer_user_name: "Administrator".into(),
            },
        );
    }
}

pub fn seed_default(w: &mut World, now: Millis) {
    w.accounts
        .entry(PARTNER_ACCOUNT.into())
        .or_insert_with(|| Account::new(PARTNER_ACCOUNT));
    seed_account(w, &AccountSeed::default(), now);
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BulkSeed {
    pub accounts: usize,
    pub workspaces_per_account: usize,
    pub region: String,
    /// First account id; the others follow.
    pub first_account_id: u64,
    /// How many of each account's workspaces (the last ones by id) are STOPPED; the
    /// others are AVAILABLE.
    pub stopped_per_account: usize,
}

impl Default for BulkSeed {
    fn default() -> Self {
        Self {
            accounts: 1,
            workspaces_per_account: 100,
            region: CUSTOMER_REGION.into(),
            first_account_id: 200_000_000_000,
            stopped_per_account: 0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BulkAccount {
    pub account_id: String,
    pub region: String,
    pub role_arn: String,
    pub external_id: String,
    pub directory_id: String,
    pub bundle_id: String,
    pub image_id: String,
    pub workspaces: usize,
}

// Long: about 140 lines, on purpose: each account's directory, image, bundle and desktops are
// built in one pass so that 100,000 desktops seed in well under a second.
/// N customer accounts × M MANUAL workspaces, AVAILABLE now (the last
/// `stopped_per_account` of each STOPPED), tagged with the partner tag, in a REGISTERED
/// directory with a BYOP bundle.
pub fn bulk_seed(w: &mut World, spec: &BulkSeed, now: Millis) -> Vec<BulkAccount> {
    let mut out = Vec::with_capacity(spec.accounts);
    let tag = vec![(PARTNER_TAG.0.to_string(), PARTNER_TAG.1.to_string())];
    for i in 0..spec.accounts {
        let account_id = format!("{:012}", spec.first_account_id + i as u64);
        let external_id = format!("steward-bulk-{account_id}");
        seed_account(
            w,
            &AccountSeed {
                account_id: account_id.clone(),
                region: spec.region.clone(),
                external_id: Some(external_id.clone()),
                byol_enabled: true,
                workspace_quota: spec.workspaces_per_account.max(1000),
                ..AccountSeed::default()
            },
            now,
        );
        let Some(rs) = w
            .accounts
            .get_mut(&account_id)
            .map(|a| a.region_mut(&spec.region))
        else {
            continue;
        };
        let ds = rs.ds_directories.get(ids::DIRECTORY_CORP).cloned();
        let Some(ds) = ds else { continue };
        let directory_id = ds.id.clone();
        rs.directories.insert(
            directory_id.clone(),
            WsDirectory {
                id: directory_id.clone(),
                subnet_ids: ds.subnet_ids.clone(),
                tenancy: "DEDICATED".into(),
                self_service: false,
                registration_code: format!("SLiad+{}", random_hex(6).to_uppercase()),
                iam_role_id: format!("arn:aws:iam::{account_id}:role/workspaces_DefaultRole"),
                workspace_security_group_id: format!("sg-{}", random_hex(17)),
                registered_at: now,
                deregistering: None,
                creation: CreationProperties {
                    enable_maintenance_mode: Some(false),
                    custom_security_group_id: Some(ids::SECURITY_GROUP_PARTNER.into()),
                    ..Default::default()
                },
                tags: tag.clone(),
                name: None,
                description: None,
                user_identity_type: "AWS_DIRECTORY_SERVICE".into(),
                workspace_type: "PERSONAL".into(),
                ds,
            },
        );
        let image_id = format!("wsi-{}", random_hex(9));
        rs.images.insert(
            image_id.clone(),
            WsImage {
                id: image_id.clone(),
                name: "steward-bulk-byop".into(),
                description: Some("Bulk seed BYOP image".into()),
                os_type: "WINDOWS".into(),
                required_tenancy: "DEDICATED".into(),
                owner: account_id.clone(),
                created_ms: now,
                ready_at: now,
                failure: None,
                tags: tag.clone(),
                shared_with: BTreeSet::new(),
                source_ami: Some(ids::AMI_WIN11_ELIGIBLE.into()),
                ingestion: Some("BYOL_REGULAR_BYOP".into()),
            },
        );
        let bundle_id = format!("wsb-{}", random_hex(9));
        rs.bundles.insert(
            bundle_id.clone(),
            WsBundle {
                id: bundle_id.clone(),
                name: "steward-bulk-bundle".into(),
                description: "Bulk seed bundle".into(),
                owner: account_id.clone(),
                image_id: image_id.clone(),
                root_capacity: Some("80".into()),
                user_capacity: "50".into(),
                compute: "STANDARD".into(),
                created_ms: now,
                updated_ms: now,
                tags: tag.clone(),
            },
        );
        let prefix = random_hex(3);
        let first_stopped = spec
            .workspaces_per_account
            .saturating_sub(spec.stopped_per_account);
        for j in 0..spec.workspaces_per_account {
            let id = format!("ws-{prefix}{i:03x}{j:07x}");
            rs.insert_workspace(Workspace {
                id,
                directory_id: directory_id.clone(),
                user_name: format!("user{j:06}"),
                workspace_name: None,
                bundle_id: bundle_id.clone(),
                subnet_id: ds_subnet(j),
                ip: format!("10.0.{}.{}", 1 + (j / 250) % 2, 4 + j % 250),
                computer_name: format!("WSAMZN-{:08X}", j),
                state: if j >= first_stopped {
                    WsState::Stopped
                } else {
                    WsState::Available
                },
                since: now,
                steps: vec![],
                error: None,
                props: WsProps {
                    running_mode: "MANUAL".into(),
                    auto_stop_timeout: None,
                    root_gib: 80,
                    user_gib: 50,
                    compute: "STANDARD".into(),
                    protocols: vec![],
                    os: None,
                },
                tags: tag.clone(),
                volume_encryption_key: None,
                user_volume_encryption: None,
                root_volume_encryption: None,
                created_ms: now,
                modifications: vec![],
                last_connected_ms: None,
            });
        }
        out.push(BulkAccount {
            role_arn: format!("arn:aws:iam::{account_id}:role/{ROLE_NAME}"),
            account_id,
            region: spec.region.clone(),
            external_id,
            directory_id,
            bundle_id,
            image_id,
            workspaces: spec.workspaces_per_account,
        });
    }
    out
}

fn ds_subnet(j: usize) -> String {
    if j.is_multiple_of(2) {
        ids::SUBNET_A.into()
    } else {
        ids::SUBNET_B.into()
    }
}
