//! EC2 DescribeImages: the caller's own AMIs in the Region and public ones, by id, owner
//! and filters, paged by `MaxResults` or else the `default_page_size` option.

use super::{dry_run, invalid, list, matches_all, max_results, position};
use crate::error::ApiResult;
use crate::identity::Caller;
use crate::model::{Ami, World};
use crate::options::Options;
use crate::paging;
use crate::protocol::{PageTokens, pat, xml_escape};
use crate::service_clock::iso8601_millis;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

const FILTERS: &[&str] = &[
    "architecture",
    "block-device-mapping.volume-size",
    "block-device-mapping.volume-type",
    "block-device-mapping.encrypted",
    "block-device-mapping.device-name",
    "block-device-mapping.snapshot-id",
    "block-device-mapping.delete-on-termination",
    "creation-date",
    "description",
    "ena-support",
    "hypervisor",
    "image-id",
    "image-type",
    "is-public",
    "name",
    "owner-alias",
    "owner-id",
    "platform",
    "root-device-name",
    "root-device-type",
    "state",
    "virtualization-type",
    "tag-key",
];

fn field(a: &Ami, name: &str) -> Vec<String> {
    let s = |x: &str| vec![x.to_string()];
    match name {
        "architecture" => s(&a.architecture),
        "block-device-mapping.volume-size" => vec![a.volume_size.to_string()],
        "block-device-mapping.volume-type" => s(&a.volume_type),
        "block-device-mapping.encrypted" => vec![a.encrypted.to_string()],
        "block-device-mapping.device-name" | "root-device-name" => s(&a.root_device_name),
        "block-device-mapping.snapshot-id" => s(&a.snapshot_id),
        "block-device-mapping.delete-on-termination" => s("true"),
        "creation-date" => vec![iso8601_millis(a.creation_ms)],
        "description" => s(&a.description),
        "ena-support" => vec![a.ena_support.to_string()],
        "hypervisor" => s(&a.hypervisor),
        "image-id" => s(&a.id),
        "image-type" => s("machine"),
        "is-public" => vec![a.public.to_string()],
        "name" => s(&a.name),
        "owner-alias" => a.owner_alias.clone().into_iter().collect(),
        "owner-id" => s(&a.owner),
        "platform" => {
            if a.platform_windows {
                s("windows")
            } else {
                vec![]
            }
        }
        "root-device-type" => s("ebs"),
        "state" => s(&a.state),
        "virtualization-type" => s(&a.virtualization_type),
        "tag-key" => a.tags.iter().map(|(k, _)| k.clone()).collect(),
        _ => match name.strip_prefix("tag:") {
            Some(k) => a
                .tags
                .iter()
                .filter(|(tk, _)| tk == k)
                .map(|(_, v)| v.clone())
                .collect(),
            None => vec![],
        },
    }
}

/// DescribeImages' parameters are judged in the service's order: ids, owners, filters,
/// paging, then the visible images. Without `ImageId`s the answer is paged by `MaxResults`
/// or, when absent, the `default_page_size` option (real EC2 then answers everything at
/// once; the emulator pages so that a client which ignores `nextToken` is caught).
pub fn describe_images(
    caller: &Caller,
    w: &World,
    p: &HashMap<String, String>,
    tokens: &PageTokens,
    opts: &Options,
) -> ApiResult<String> {
    let ids = list(p, "ImageId");
    let owners = list(p, "Owner");
    let fs = super::checked_filters(p, FILTERS)?;
    for id in &ids {
        if !pat::ec2_image_id(id) {
            return Err(invalid(
                "InvalidAMIID.Malformed",
                format!("Invalid id: \"{id}\" (expecting \"ami-...\")"),
            ));
        }
    }
    let max = max_results(p)?;
    if max.is_some() && !ids.is_empty() {
        return Err(invalid(
            "InvalidParameterCombination",
            "The parameter imageIdsSet cannot be used with the parameter maxResults",
        ));
    }
    let scope = format!("DescribeImages|{ids:?}|{owners:?}|{fs:?}|{max:?}");
    let pos = position(p, tokens, &scope)?;
    dry_run(p)?;
    // Visible: the caller's own AMIs in the region and public AMIs.
    let mut visible: BTreeMap<&str, &Ami> = BTreeMap::new();
    for a in w.accounts.values() {
        if let Some(rs) = a.regions.get(&caller.region) {
            for ami in rs.amis.values() {
                if ami.owner == caller.account || ami.public {
                    visible.insert(&ami.id, ami);
                }
            }
        }
    }
    for id in &ids {
        if !visible.contains_key(id.as_str()) {
            return Err(invalid(
                "InvalidAMIID.NotFound",
                format!("The image id '[{id}]' does not exist"),
            ));
        }
    }
    let owner_ok = |a: &Ami| {
        owners.is_empty()
            || owners.iter().any(|o| match o.as_str() {
                "self" => a.owner == caller.account,
                o if pat::aws_account(o) => a.owner == o,
                alias => a.owner_alias.as_deref() == Some(alias),
            })
    };
    let chosen = visible
        .values()
        .copied()
        .filter(|a| ids.is_empty() || ids.contains(&a.id))
        .filter(|a| owner_ok(a))
        .filter(|a| matches_all(&fs, |name| field(a, name)));
    let size = if ids.is_empty() {
        paging::page_size(max.map(|m| m as i64), opts.default_page_size, 1000)
    } else {
        usize::MAX
    };
    let (page, next) = paging::after_key(chosen, |a| &a.id, pos.as_deref(), size);
    let mut xml = String::from("<imagesSet>");
    for a in page {
        item(&mut xml, a);
    }
    xml.push_str("</imagesSet>");
    if let Some(last) = next {
        let _ = write!(
            xml,
            "<nextToken>{}</nextToken>",
            tokens.issue(&scope, &last)
        );
    }
    Ok(xml)
}

fn item(xml: &mut String, a: &Ami) {
    let e = xml_escape;
    let _ = write!(
        xml,
        "<item><imageId>{}</imageId><imageLocation>{}/{}</imageLocation><imageState>{}</imageState><imageOwnerId>{}</imageOwnerId><creationDate>{}</creationDate><isPublic>{}</isPublic><architecture>{}</architecture><imageType>machine</imageType>",
        e(&a.id),
        e(&a.owner),
        e(&a.name),
        e(&a.state),
        e(&a.owner),
        iso8601_millis(a.creation_ms),
        a.public,
        e(&a.architecture)
    );
    if a.platform_windows {
        xml.push_str("<platform>windows</platform>");
    }
    let _ = write!(
        xml,
        "<platformDetails>{}</platformDetails><usageOperation>{}</usageOperation>",
        e(&a.platform_details),
        e(&a.usage_operation)
    );
    if let Some(alias) = &a.owner_alias {
        let _ = write!(xml, "<imageOwnerAlias>{}</imageOwnerAlias>", e(alias));
    }
    let _ = write!(
        xml,
        "<name>{}</name><description>{}</description><rootDeviceType>ebs</rootDeviceType><rootDeviceName>{}</rootDeviceName><blockDeviceMapping><item><deviceName>{}</deviceName><ebs><snapshotId>{}</snapshotId><volumeSize>{}</volumeSize><deleteOnTermination>true</deleteOnTermination><volumeType>{}</volumeType><encrypted>{}</encrypted></ebs></item></blockDeviceMapping><virtualizationType>{}</virtualizationType><hypervisor>{}</hypervisor><enaSupport>{}</enaSupport><bootMode>{}</bootMode>",
        e(&a.name),
        e(&a.description),
        e(&a.root_device_name),
        e(&a.root_device_name),
        e(&a.snapshot_id),
        a.volume_size,
        e(&a.volume_type),
        a.encrypted,
        e(&a.virtualization_type),
        e(&a.hypervisor),
        a.ena_support,
        e(&a.boot_mode)
    );
    if a.state != "available" {
        let _ = write!(
            xml,
            "<stateReason><code>{}</code><message>{}</message></stateReason>",
            e(&a.state),
            e(&format!("The image is {}", a.state))
        );
    }
    if !a.tags.is_empty() {
        xml.push_str("<tagSet>");
        for (k, v) in &a.tags {
            let _ = write!(
                xml,
                "<item><key>{}</key><value>{}</value></item>",
                e(k),
                e(v)
            );
        }
        xml.push_str("</tagSet>");
    }
    xml.push_str("</item>");
}
