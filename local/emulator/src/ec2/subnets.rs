//! EC2 DescribeSubnets: the caller's subnets in the Region (the seeded VPC's), by id and
//! filters, with each subnet's Availability Zone id — the one WorkSpaces' supported zones
//! are published by — paged by `MaxResults` or else the `default_page_size` option.

use super::{dry_run, invalid, list, matches_all, max_results, position};
use crate::error::ApiResult;
use crate::identity::Caller;
use crate::model::{Subnet, World};
use crate::options::Options;
use crate::paging;
use crate::protocol::{PageTokens, pat, xml_escape};
use std::collections::HashMap;
use std::fmt::Write;

const FILTERS: &[&str] = &[
    "availability-zone",
    "availability-zone-id",
    "availabilityZone",
    "cidr",
    "cidr-block",
    "cidrBlock",
    "default-for-az",
    "defaultForAz",
    "owner-id",
    "state",
    "subnet-arn",
    "subnet-id",
    "vpc-id",
    "tag-key",
];

fn field(s: &Subnet, owner: &str, arn: &str, name: &str) -> Vec<String> {
    let one = |x: &str| vec![x.to_string()];
    match name {
        "availability-zone" | "availabilityZone" => one(&s.az),
        "availability-zone-id" => one(&s.az_id),
        "cidr" | "cidr-block" | "cidrBlock" => one(&s.cidr),
        "default-for-az" | "defaultForAz" => one("false"),
        "owner-id" => one(owner),
        "state" => one("available"),
        "subnet-arn" => one(arn),
        "subnet-id" => one(&s.id),
        "vpc-id" => one(&s.vpc_id),
        // Seeded subnets carry no tags.
        _ => vec![],
    }
}

fn arn(caller: &Caller, id: &str) -> String {
    format!(
        "arn:aws:ec2:{}:{}:subnet/{id}",
        caller.region, caller.account
    )
}

pub fn describe_subnets(
    caller: &Caller,
    w: &World,
    p: &HashMap<String, String>,
    tokens: &PageTokens,
    opts: &Options,
) -> ApiResult<String> {
    let ids = list(p, "SubnetId");
    let fs = super::checked_filters(p, FILTERS)?;
    if ids.iter().any(|id| !pat::subnet_id(id)) {
        return Err(invalid(
            "InvalidSubnetID.Malformed",
            "A subnet ID in the request is malformed (expecting \"subnet-...\").",
        ));
    }
    let max = max_results(p)?;
    let scope = format!("DescribeSubnets|{ids:?}|{fs:?}|{max:?}");
    let pos = position(p, tokens, &scope)?;
    dry_run(p)?;
    let subnets = w
        .accounts
        .get(&caller.account)
        .and_then(|a| a.regions.get(&caller.region))
        .map(|rs| &rs.subnets);
    if ids
        .iter()
        .any(|id| subnets.is_none_or(|s| !s.contains_key(id)))
    {
        return Err(invalid(
            "InvalidSubnetID.NotFound",
            "One or more of the subnet IDs in the request do not exist.",
        ));
    }
    let chosen = subnets
        .into_iter()
        .flat_map(|s| s.values())
        .filter(|s| ids.is_empty() || ids.contains(&s.id))
        .filter(|s| {
            let a = arn(caller, &s.id);
            matches_all(&fs, |name| field(s, &caller.account, &a, name))
        });
    let size = match (max, ids.is_empty()) {
        (Some(m), _) => m,
        (None, true) => paging::page_size(None, opts.default_page_size, 1000),
        (None, false) => usize::MAX,
    };
    let (page, next) = paging::after_key(chosen, |s| &s.id, pos.as_deref(), size);
    let mut xml = String::from("<subnetSet>");
    for s in page {
        item(&mut xml, caller, s);
    }
    xml.push_str("</subnetSet>");
    if let Some(last) = next {
        let _ = write!(
            xml,
            "<nextToken>{}</nextToken>",
            tokens.issue(&scope, &last)
        );
    }
    Ok(xml)
}

fn item(xml: &mut String, caller: &Caller, s: &Subnet) {
    let e = xml_escape;
    let _ = write!(
        xml,
        "<item><subnetId>{}</subnetId><subnetArn>{}</subnetArn><state>available</state><ownerId>{}</ownerId><vpcId>{}</vpcId><cidrBlock>{}</cidrBlock><ipv6CidrBlockAssociationSet/><availableIpAddressCount>251</availableIpAddressCount><availabilityZone>{}</availabilityZone><availabilityZoneId>{}</availabilityZoneId><defaultForAz>false</defaultForAz><mapPublicIpOnLaunch>false</mapPublicIpOnLaunch><assignIpv6AddressOnCreation>false</assignIpv6AddressOnCreation></item>",
        e(&s.id),
        e(&arn(caller, &s.id)),
        e(&caller.account),
        e(&s.vpc_id),
        e(&s.cidr),
        e(&s.az),
        e(&s.az_id),
    );
}
