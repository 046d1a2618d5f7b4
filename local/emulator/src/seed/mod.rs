//! Seed data: the documented default seed, customer accounts on demand ([`AccountSeed`])
//! and the bulk seed used by benchmarks ([`bulk`]).

mod bulk;
mod extra;

pub use bulk::{BulkAccount, BulkSeed, bulk_seed};
pub use extra::{DsDirectorySeed, ExtraResources, MAX_EXTRA};

use super::model::*;
use super::service_clock::Millis;
use serde::{Deserialize, Serialize};

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
    /// A subnet in zone `<region>c` (`use1-az3` in us-east-1), which the default
    /// `unsupported_az_ids` option lists: WorkSpaces refuses to register it.
    pub const SUBNET_UNSUPPORTED_AZ: &str = "subnet-0a1b2c3d4e5f60003";
    /// The VPC of the seeded subnets.
    pub const VPC: &str = "vpc-0a1b2c3d4e5f60001";
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
    /// The role template's `AllowTagManagement`: false (the default) denies CreateTags /
    /// DeleteTags to the role; true allows them for non-partner keys on tagged resources.
    pub allow_tag_management: bool,
    pub byop_enabled: bool,
    pub byol_eligible: bool,
    pub byol_enabled: bool,
    pub has_default_role: bool,
    pub workspace_quota: usize,
    /// The WorkSpaces quota Service Quotas reports for the account (not enforced).
    pub service_quota_value: f64,
    /// Service Quotas' GetServiceQuota answers AccessDeniedException in the account.
    pub quota_read_denied: bool,
    /// Seed the standard AMIs, two unregistered directories, subnets and the partner security group.
    pub standard_resources: bool,
    /// More of each resource than one page holds (see [`ExtraResources`]).
    pub extra: ExtraResources,
    /// Directory Service directories seeded as given, beside the standard ones.
    pub ds_directories: Vec<DsDirectorySeed>,
    /// Long-term IAM user access keys of the account (self-managed tenants).
    pub access_keys: Vec<crate::access_keys::AccessKeySeed>,
}

impl AccountSeed {
    /// Why the seed cannot be applied, if it cannot (the control API answers it with 400).
    pub fn problem(&self) -> Option<String> {
        if self.account_id.len() != 12 || !self.account_id.bytes().all(|c| c.is_ascii_digit()) {
            return Some("account_id must be 12 digits".into());
        }
        if crate::zones::region_code(&self.region).is_none() {
            return Some("region must be a Region name such as us-east-1".into());
        }
        self.ds_directories
            .iter()
            .find_map(|d| d.problem())
            .or_else(|| self.access_keys.iter().find_map(|k| k.problem()))
            .map(String::from)
    }
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
            allow_tag_management: false,
            byop_enabled: true,
            byol_eligible: true,
            byol_enabled: false,
            has_default_role: true,
            workspace_quota: 1000,
            service_quota_value: DEFAULT_SERVICE_QUOTA,
            quota_read_denied: false,
            standard_resources: true,
            extra: ExtraResources::default(),
            ds_directories: Vec::new(),
            access_keys: Vec::new(),
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
    w.accounts
        .entry(s.account_id.clone())
        .or_insert_with(|| Account::new(&s.account_id));
    for k in &s.access_keys {
        crate::access_keys::add(w, &s.account_id, k, &s.role_name);
    }
    let Some(account) = w.accounts.get_mut(&s.account_id) else {
        return;
    };
    account.byop_enabled = s.byop_enabled;
    account.byol_eligible = s.byol_eligible;
    account.has_default_role = s.has_default_role;
    account.iam_created_ms = now - 60 * 86_400_000;
    account.workspace_quota = s.workspace_quota;
    account.service_quota_value = s.service_quota_value;
    account.quota_read_denied = s.quota_read_denied;
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
            allow_tag_management: s.allow_tag_management,
        },
    );
    let rs = account.region_mut(&s.region);
    if s.byol_enabled {
        rs.byol_enabled_at = Some(now);
        rs.byol_cidr = Some("10.200.0.0/16".into());
    }
    let who = extra::Who {
        account: &s.account_id,
        region: &s.region,
    };
    extra::seed_extra(rs, &s.extra, who, now);
    for d in &s.ds_directories {
        extra::seed_ds_directory(rs, d, now);
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
    seed_subnets(rs, &s.region);
    rs.security_groups.insert(
        ids::SECURITY_GROUP_PARTNER.into(),
        SecurityGroup {
            id: ids::SECURITY_GROUP_PARTNER.into(),
            name: "steward-partner-protocol".into(),
            description:
                "Partner streaming protocol (TCP/UDP 4172, 8443) from the partner gateways".into(),
        },
    );
    for d in standard_ds_directories(now) {
        rs.ds_directories.insert(d.id.clone(), d);
    }
}

/// The account's VPC subnets: two in supported zones, one in the zone `unsupported_az_ids`
/// lists by default.
fn seed_subnets(rs: &mut RegionState, region: &str) {
    for (id, letter, cidr) in [
        (ids::SUBNET_A, 'a', "10.0.1.0/24"),
        (ids::SUBNET_B, 'b', "10.0.2.0/24"),
        (ids::SUBNET_UNSUPPORTED_AZ, 'c', "10.0.3.0/24"),
    ] {
        rs.subnets
            .insert(id.into(), subnet(id, region, letter, cidr));
    }
}

pub(crate) fn subnet(id: &str, region: &str, letter: char, cidr: &str) -> Subnet {
    let az = format!("{region}{letter}");
    Subnet {
        id: id.into(),
        vpc_id: ids::VPC.into(),
        az_id: crate::zones::zone_id(&az).unwrap_or_default(),
        az,
        cidr: cidr.into(),
    }
}

/// What a Directory Service directory needs besides its defaults.
pub(crate) struct DsSpec<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub directory_type: DsType,
    pub stage: DsStage,
    pub subnet_ids: Vec<String>,
    /// The third octet of each subnet's /24, for the directory's addresses.
    pub octets: [u32; 2],
}

pub(crate) fn ds_directory(spec: DsSpec, now: Millis) -> DsDirectory {
    let short = spec.name.split('.').next().unwrap_or(spec.name);
    let hex: String = spec.id.chars().skip(2).collect();
    let [o1, o2] = spec.octets;
    let connector = spec.directory_type == DsType::AdConnector;
    DsDirectory {
        id: spec.id.into(),
        name: spec.name.into(),
        short_name: short.to_uppercase(),
        alias: format!("{short}-example"),
        description: Some(format!("{short} directory of the Steward emulator seed")),
        directory_type: spec.directory_type,
        size: DsSize::Small,
        stage: spec.stage,
        stage_reason: (spec.stage != DsStage::Active)
            .then(|| format!("The directory is {}.", spec.stage.as_str())),
        dns_ips: vec![format!("10.0.{o1}.10"), format!("10.0.{o2}.10")],
        subnet_ids: spec.subnet_ids,
        vpc_id: ids::VPC.into(),
        security_group_id: format!("sg-0{hex:0<16}"),
        customer_user_name: "Administrator".into(),
        connect_ips: if connector {
            vec![format!("10.0.{o1}.20"), format!("10.0.{o2}.20")]
        } else {
            vec![]
        },
        launch_ms: now - 30 * 86_400_000,
    }
}

/// The two seeded directories, neither registered with WorkSpaces: an AD Connector and a
/// Simple AD, both Active, both in subnets A and B.
fn standard_ds_directories(now: Millis) -> Vec<DsDirectory> {
    [
        (ids::DIRECTORY_CORP, "corp.example.com", DsType::AdConnector),
        (ids::DIRECTORY_LAB, "lab.example.com", DsType::SimpleAd),
    ]
    .into_iter()
    .map(|(id, name, directory_type)| {
        ds_directory(
            DsSpec {
                id,
                name,
                directory_type,
                stage: DsStage::Active,
                subnet_ids: vec![ids::SUBNET_A.into(), ids::SUBNET_B.into()],
                octets: [1, 2],
            },
            now,
        )
    })
    .collect()
}

pub fn seed_default(w: &mut World, now: Millis) {
    w.accounts
        .entry(PARTNER_ACCOUNT.into())
        .or_insert_with(|| Account::new(PARTNER_ACCOUNT));
    seed_account(w, &AccountSeed::default(), now);
}
