//! EC2 (ec2Query): DescribeImages.

use super::error::{ApiError, ApiResult};
use super::identity::Caller;
use super::model::{Ami, World};
use super::protocol::{PageTokens, pat, xml_escape};
use super::service_clock::iso8601_millis;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

pub const NS: &str = "http://ec2.amazonaws.com/doc/2016-11-15/";

fn invalid(code: &str, msg: impl Into<String>) -> ApiError {
    ApiError::new(code, msg)
}

/// `Prefix.N` values in N order.
fn list(p: &HashMap<String, String>, prefix: &str) -> Vec<String> {
    let mut v: BTreeMap<u32, String> = BTreeMap::new();
    for (k, val) in p {
        if let Some(n) = k
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('.'))
            .and_then(|n| n.parse().ok())
        {
            v.insert(n, val.clone());
        }
    }
    v.into_values().collect()
}

fn filters(p: &HashMap<String, String>) -> Vec<(String, Vec<String>)> {
    let mut names: BTreeMap<u32, String> = BTreeMap::new();
    for (k, val) in p {
        if let Some(rest) = k.strip_prefix("Filter.")
            && let Some((n, "Name")) = rest.split_once('.')
            && let Ok(n) = n.parse()
        {
            names.insert(n, val.clone());
        }
    }
    names
        .into_iter()
        .map(|(n, name)| (name, list(p, &format!("Filter.{n}.Value"))))
        .collect()
}

/// `*` and `?` wildcards, as EC2 filters accept.
pub fn wildcard(pattern: &str, s: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = s.chars().collect();
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < t.len() {
        if i < p.len() && (p[i] == '?' || p[i] == t[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    while i < p.len() && p[i] == '*' {
        i += 1;
    }
    i == p.len()
}

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

// Long: about 130 lines, on purpose: DescribeImages' parameters are judged in the service's
// order (ids, owners, filters, paging, then the visible images), which reads best top to
// bottom.
pub fn describe_images(
    caller: &Caller,
    w: &World,
    p: &HashMap<String, String>,
    tokens: &PageTokens,
) -> ApiResult<String> {
    let ids = list(p, "ImageId");
    let owners = list(p, "Owner");
    let fs = filters(p);
    for (name, values) in &fs {
        if !FILTERS.contains(&name.as_str()) && !name.starts_with("tag:") {
            return Err(invalid(
                "InvalidParameterValue",
                format!("The filter '{name}' is invalid"),
            ));
        }
        if values.is_empty() {
            return Err(invalid(
                "InvalidParameterValue",
                format!("The filter '{name}' needs at least one value"),
            ));
        }
    }
    for id in &ids {
        if !pat::ec2_image_id(id) {
            return Err(invalid(
                "InvalidAMIID.Malformed",
                format!("Invalid id: \"{id}\" (expecting \"ami-...\")"),
            ));
        }
    }
    let max = match p.get("MaxResults") {
        None => None,
        Some(m) => {
            let n: usize = m.parse().map_err(|_| {
                invalid(
                    "InvalidParameterValue",
                    format!("Invalid value '{m}' for MaxResults"),
                )
            })?;
            if !ids.is_empty() {
                return Err(invalid(
                    "InvalidParameterCombination",
                    "The parameter imageIdsSet cannot be used with the parameter maxResults",
                ));
            }
            if !(5..=1000).contains(&n) {
                return Err(invalid(
                    "InvalidParameterValue",
                    format!(
                        "Value ( {n} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000."
                    ),
                ));
            }
            Some(n)
        }
    };
    let scope = format!("DescribeImages|{ids:?}|{owners:?}|{fs:?}|{max:?}");
    let pos =
        match p.get("NextToken") {
            None => None,
            Some(t) => Some(tokens.open(&scope, t).ok_or_else(|| {
                invalid("InvalidParameterValue", "The token is invalid or expired.")
            })?),
        };
    if p.get("DryRun").is_some_and(|d| d == "true") {
        return Err(invalid(
            "DryRunOperation",
            "Request would have succeeded, but DryRun flag is set.",
        ));
    }
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
    let images: Vec<&Ami> = visible
        .values()
        .copied()
        .filter(|a| ids.is_empty() || ids.contains(&a.id))
        .filter(|a| owner_ok(a))
        .filter(|a| {
            fs.iter().all(|(name, values)| {
                field(a, name)
                    .iter()
                    .any(|f| values.iter().any(|v| wildcard(v, f)))
            })
        })
        .filter(|a| pos.as_deref().is_none_or(|p| a.id.as_str() > p))
        .collect();
    let take = max.unwrap_or(images.len());
    let mut xml = String::from("<imagesSet>");
    for a in images.iter().take(take) {
        item(&mut xml, a);
    }
    xml.push_str("</imagesSet>");
    if images.len() > take
        && let Some(last) = images.get(take.saturating_sub(1))
    {
        let _ = write!(
            xml,
            "<nextToken>{}</nextToken>",
            tokens.issue(&scope, &last.id)
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

pub fn wrap_success(body: &str, request_id: &str) -> String {
    format!(
        "<DescribeImagesResponse xmlns=\"{NS}\"><requestId>{request_id}</requestId>{body}</DescribeImagesResponse>"
    )
}

pub fn error_xml(e: &ApiError, request_id: &str) -> String {
    format!(
        "<Response><Errors><Error><Code>{}</Code><Message>{}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>",
        xml_escape(&e.code),
        xml_escape(&e.message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard("win*", "windows"));
        assert!(wildcard("h?m", "hvm"));
        assert!(!wildcard("h?m", "hvvm"));
        assert!(wildcard("*", ""));
        assert!(!wildcard("para*", "hvm"));
    }

    #[test]
    fn lists_and_filters_keep_their_order() {
        let p: HashMap<String, String> = [
            ("Owner.2", "b"),
            ("Owner.1", "a"),
            ("Filter.1.Name", "state"),
            ("Filter.1.Value.1", "available"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(list(&p, "Owner"), vec!["a", "b"]);
        assert_eq!(
            filters(&p),
            vec![("state".to_string(), vec!["available".to_string()])]
        );
    }
}
