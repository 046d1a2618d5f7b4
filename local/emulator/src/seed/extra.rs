//! Seed switches that make an account look like a real one: more of each resource than one
//! page of a Describe call holds ([`ExtraResources`]), and Directory Service directories of
//! any type and stage ([`DsDirectorySeed`]), so that a partner's tests see what a first-time
//! customer's account may hold. Every id is derived from the item's number, so seeding an
//! account twice gives the same resources.

use super::{DsSpec, ami, ds_directory, ids, subnet};
use crate::model::*;
use crate::service_clock::Millis;
use serde::{Deserialize, Serialize};

/// At most this many of each extra resource (their subnets' /24s must fit in 10.0.0.0/16).
pub const MAX_EXTRA: usize = 100;

/// How many more of each resource to seed, beyond the standard ones.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ExtraResources {
    /// Active Simple AD directories, each in two subnets of its own (zones a and b):
    /// `d-9067a1b3NN` (NN = 00, 01, … in hex), `extraNN.example.com`, subnets
    /// `subnet-0a1b2c3d4e5f7MMMM` (MMMM = 2·NN and 2·NN+1, four hex digits).
    pub ds_directories: usize,
    /// Also register the extra directories with WorkSpaces (REGISTERED, SHARED tenancy,
    /// untagged: the customer's own).
    pub register_ds_directories: bool,
    /// WorkSpaces images, AVAILABLE, tenancy DEFAULT, owned by the account, untagged:
    /// `wsi-x0000000N` (N from 1), `steward-extra-image-NN`.
    pub images: usize,
    /// Custom bundles owned by the account, untagged, of the first extra image (or of the
    /// AMAZON image when there is none): `wsb-x0000000N`, `steward-extra-bundle-NN`.
    pub bundles: usize,
    /// AMIs owned by the account, eligible for import: `ami-0a1b2c3d4e5f7NNNN` (NNNN from
    /// 0001 in hex), `steward-extra-ami-NN`.
    pub amis: usize,
}

/// A Directory Service directory to seed as given (e.g. one not Active, or of a type
/// WorkSpaces cannot use).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DsDirectorySeed {
    /// `d-` and ten hex digits.
    pub id: String,
    /// The DNS name (`ops.example.com`).
    pub name: String,
    #[serde(rename = "type")]
    pub directory_type: DsType,
    pub stage: DsStage,
    /// Default: "The directory is <stage>." for a stage other than Active.
    pub stage_reason: Option<String>,
    pub size: DsSize,
    /// Default: the seeded subnets A and B.
    pub subnet_ids: Vec<String>,
}

impl Default for DsDirectorySeed {
    fn default() -> Self {
        Self {
            id: String::new(),
            name: String::new(),
            directory_type: DsType::SimpleAd,
            stage: DsStage::Active,
            stage_reason: None,
            size: DsSize::Small,
            subnet_ids: vec![ids::SUBNET_A.into(), ids::SUBNET_B.into()],
        }
    }
}

impl DsDirectorySeed {
    /// Why the seed cannot be used, if it cannot.
    pub fn problem(&self) -> Option<&'static str> {
        let hex = self.id.strip_prefix("d-").unwrap_or("");
        if hex.len() != 10 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Some("ds_directories[].id must be d- and ten lower-case hex digits");
        }
        let labels: Vec<&str> = self.name.split('.').collect();
        if labels.len() < 2
            || labels
                .iter()
                .any(|l| l.is_empty() || !l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        {
            return Some("ds_directories[].name must be a DNS name such as ops.example.com");
        }
        None
    }
}

pub(crate) fn seed_ds_directory(rs: &mut RegionState, s: &DsDirectorySeed, now: Millis) {
    let mut d = ds_directory(
        DsSpec {
            id: &s.id,
            name: &s.name,
            directory_type: s.directory_type,
            stage: s.stage,
            subnet_ids: s.subnet_ids.clone(),
            octets: [1, 2],
        },
        now,
    );
    d.size = s.size;
    if s.stage_reason.is_some() {
        d.stage_reason = s.stage_reason.clone();
    }
    rs.ds_directories.insert(d.id.clone(), d);
}

/// Seeds `e` into an account's Region.
pub(crate) fn seed_extra(rs: &mut RegionState, e: &ExtraResources, who: Who, now: Millis) {
    for n in 0..e.ds_directories.min(MAX_EXTRA) {
        extra_directory(rs, n, e.register_ds_directories, &who, now);
    }
    let images: Vec<String> = (1..=e.images.min(MAX_EXTRA))
        .map(|n| extra_image(rs, n, who.account, now))
        .collect();
    let image_id = images
        .first()
        .cloned()
        .unwrap_or_else(|| "wsi-amazon0001".into());
    for n in 1..=e.bundles.min(MAX_EXTRA) {
        let b = WsBundle {
            id: format!("wsb-x{n:08}"),
            name: format!("steward-extra-bundle-{n:02}"),
            description: format!("Extra bundle {n} of the emulator seed"),
            owner: who.account.into(),
            image_id: image_id.clone(),
            root_capacity: Some("80".into()),
            user_capacity: "50".into(),
            compute: "STANDARD".into(),
            created_ms: now,
            updated_ms: now,
            tags: vec![],
        };
        rs.bundles.insert(b.id.clone(), b);
    }
    for n in 1..=e.amis.min(MAX_EXTRA) {
        let a = ami(
            &format!("ami-0a1b2c3d4e5f7{n:04x}"),
            &format!("steward-extra-ami-{n:02}"),
            who.account,
            now,
        );
        rs.amis.insert(a.id.clone(), a);
    }
}

/// The account and Region being seeded.
pub(crate) struct Who<'a> {
    pub account: &'a str,
    pub region: &'a str,
}

fn extra_directory(rs: &mut RegionState, n: usize, register: bool, who: &Who, now: Millis) {
    let pair = [2 * n, 2 * n + 1];
    let subnet_ids: Vec<String> = pair
        .iter()
        .map(|m| format!("subnet-0a1b2c3d4e5f7{m:04x}"))
        .collect();
    for (i, id) in subnet_ids.iter().enumerate() {
        let letter = if i == 0 { 'a' } else { 'b' };
        let cidr = format!("10.0.{}.0/24", 10 + pair[i]);
        rs.subnets
            .insert(id.clone(), subnet(id, who.region, letter, &cidr));
    }
    let id = format!("d-9067a1b3{n:02x}");
    let name = format!("extra{n:02}.example.com");
    let ds = ds_directory(
        DsSpec {
            id: &id,
            name: &name,
            directory_type: DsType::SimpleAd,
            stage: DsStage::Active,
            subnet_ids: subnet_ids.clone(),
            octets: [10 + pair[0] as u32, 10 + pair[1] as u32],
        },
        now,
    );
    rs.ds_directories.insert(id.clone(), ds.clone());
    if !register {
        return;
    }
    rs.directories.insert(
        id.clone(),
        WsDirectory {
            id,
            subnet_ids,
            tenancy: "SHARED".into(),
            self_service: false,
            registration_code: format!("SLiad+EXTRA{n:02}"),
            iam_role_id: format!("arn:aws:iam::{}:role/workspaces_DefaultRole", who.account),
            workspace_security_group_id: format!("sg-0a1b2c3d4e5f7{n:04x}"),
            registered_at: now,
            deregistering: None,
            creation: CreationProperties::default(),
            tags: vec![],
            name: None,
            description: None,
            user_identity_type: "AWS_DIRECTORY_SERVICE".into(),
            workspace_type: "PERSONAL".into(),
            ds,
        },
    );
}

fn extra_image(rs: &mut RegionState, n: usize, account: &str, now: Millis) -> String {
    let img = WsImage {
        id: format!("wsi-x{n:08}"),
        name: format!("steward-extra-image-{n:02}"),
        description: Some(format!("Extra image {n} of the emulator seed")),
        os_type: "WINDOWS".into(),
        required_tenancy: "DEFAULT".into(),
        owner: account.into(),
        created_ms: now,
        ready_at: now,
        failure: None,
        tags: vec![],
        shared_with: Default::default(),
        source_ami: None,
        ingestion: None,
    };
    let id = img.id.clone();
    rs.images.insert(id.clone(), img);
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extras_are_numbered_and_capped() {
        let mut rs = RegionState::default();
        let e = ExtraResources {
            ds_directories: 2,
            register_ds_directories: true,
            images: 3,
            bundles: 2,
            amis: 1,
        };
        let who = Who {
            account: "123456789012",
            region: "us-east-1",
        };
        seed_extra(&mut rs, &e, who, 0);
        assert_eq!(
            rs.ds_directories.keys().collect::<Vec<_>>(),
            ["d-9067a1b300", "d-9067a1b301"]
        );
        assert_eq!(rs.directories.len(), 2);
        assert_eq!(
            rs.subnets.keys().collect::<Vec<_>>(),
            [
                "subnet-0a1b2c3d4e5f70000",
                "subnet-0a1b2c3d4e5f70001",
                "subnet-0a1b2c3d4e5f70002",
                "subnet-0a1b2c3d4e5f70003"
            ]
        );
        assert_eq!(
            rs.images.keys().collect::<Vec<_>>(),
            ["wsi-x00000001", "wsi-x00000002", "wsi-x00000003"]
        );
        assert_eq!(rs.bundles["wsb-x00000002"].image_id, "wsi-x00000001");
        assert_eq!(
            rs.amis.keys().collect::<Vec<_>>(),
            ["ami-0a1b2c3d4e5f70001"]
        );
        assert_eq!(rs.subnets["subnet-0a1b2c3d4e5f70003"].cidr, "10.0.13.0/24");
    }

    #[test]
    fn custom_directories_are_checked() {
        let ok = DsDirectorySeed {
            id: "d-9067a1b4c1".into(),
            name: "ops.example.com".into(),
            ..Default::default()
        };
        assert_eq!(ok.problem(), None);
        let bad_id = DsDirectorySeed {
            id: "d-1".into(),
            ..ok.clone()
        };
        assert!(bad_id.problem().is_some());
        let bad_name = DsDirectorySeed {
            name: "ops".into(),
            ..ok
        };
        assert!(bad_name.problem().is_some());
    }
}
