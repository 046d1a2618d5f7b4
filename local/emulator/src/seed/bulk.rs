//! The bulk seed benchmarks and sweep tests use: N customer accounts of M desktops each,
//! built in one pass so that 100,000 desktops seed in well under a second.

use super::{AccountSeed, CUSTOMER_REGION, PARTNER_TAG, ROLE_NAME, ids, seed_account};
use crate::model::*;
use crate::protocol::random_hex;
use crate::service_clock::Millis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

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
