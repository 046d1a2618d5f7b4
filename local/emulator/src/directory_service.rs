//! AWS Directory Service (awsJson1_1, `X-Amz-Target: DirectoryService_20150416.<Op>`):
//! `DescribeDirectories`, the read a partner makes to offer a customer the directories it
//! could register with WorkSpaces. It answers the caller's account and Region, partner or
//! customer alike: a read names no resource a tag could limit, so the tag policy does not
//! apply. Inputs are checked against the `ds` service model as the WorkSpaces operations
//! are against theirs; the model's own error names are used (`InvalidParameterException`,
//! `EntityDoesNotExistException`, `InvalidNextTokenException`).

use crate::error::{ApiError, ApiResult};
use crate::identity::Caller;
use crate::model::World;
use crate::options::Options;
use crate::paging;
use crate::protocol::{Input, Obj, PageTokens};
use crate::service_clock::Millis;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The `X-Amz-Target` prefix of the service.
pub const TARGET_PREFIX: &str = "DirectoryService_20150416.";
/// The operations served.
pub const OPERATIONS: &[&str] = &["DescribeDirectories"];

/// A directory's type, as Directory Service names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DsType {
    #[serde(rename = "SimpleAD")]
    SimpleAd,
    #[serde(rename = "ADConnector")]
    AdConnector,
    #[serde(rename = "MicrosoftAD")]
    MicrosoftAd,
    #[serde(rename = "SharedMicrosoftAD")]
    SharedMicrosoftAd,
}

impl DsType {
    pub fn as_str(self) -> &'static str {
        match self {
            DsType::SimpleAd => "SimpleAD",
            DsType::AdConnector => "ADConnector",
            DsType::MicrosoftAd => "MicrosoftAD",
            DsType::SharedMicrosoftAd => "SharedMicrosoftAD",
        }
    }
    /// The `DirectoryType` WorkSpaces shows once registered. Its enum has only SIMPLE_AD and
    /// AD_CONNECTOR for Directory Service directories; that AWS Managed Microsoft AD shows as
    /// AD_CONNECTOR is [U].
    pub fn workspaces_name(self) -> &'static str {
        match self {
            DsType::SimpleAd => "SIMPLE_AD",
            _ => "AD_CONNECTOR",
        }
    }
}

/// A directory's stage (`DirectoryStage`); only `Active` ones can be registered with WorkSpaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DsStage {
    Requested,
    Creating,
    Created,
    Active,
    Inoperable,
    Impaired,
    Restoring,
    RestoreFailed,
    Deleting,
    Deleted,
    Failed,
    Updating,
}

impl DsStage {
    pub fn as_str(self) -> &'static str {
        match self {
            DsStage::Requested => "Requested",
            DsStage::Creating => "Creating",
            DsStage::Created => "Created",
            DsStage::Active => "Active",
            DsStage::Inoperable => "Inoperable",
            DsStage::Impaired => "Impaired",
            DsStage::Restoring => "Restoring",
            DsStage::RestoreFailed => "RestoreFailed",
            DsStage::Deleting => "Deleting",
            DsStage::Deleted => "Deleted",
            DsStage::Failed => "Failed",
            DsStage::Updating => "Updating",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum DsSize {
    #[default]
    Small,
    Large,
}

impl DsSize {
    pub fn as_str(self) -> &'static str {
        match self {
            DsSize::Small => "Small",
            DsSize::Large => "Large",
        }
    }
}

/// A Directory Service directory of an account and Region.
#[derive(Debug, Clone)]
pub struct DsDirectory {
    pub id: String,
    /// The DNS name (`corp.example.com`).
    pub name: String,
    /// The NetBIOS name (`CORP`).
    pub short_name: String,
    pub alias: String,
    pub description: Option<String>,
    pub directory_type: DsType,
    pub size: DsSize,
    pub stage: DsStage,
    pub stage_reason: Option<String>,
    pub dns_ips: Vec<String>,
    pub subnet_ids: Vec<String>,
    pub vpc_id: String,
    /// The security group Directory Service created for the directory's controllers.
    pub security_group_id: String,
    /// The service account an AD Connector uses.
    pub customer_user_name: String,
    /// The AD Connector's own addresses in its subnets (empty for other types).
    pub connect_ips: Vec<String>,
    pub launch_ms: Millis,
}

impl DsDirectory {
    pub fn active(&self) -> bool {
        self.stage == DsStage::Active
    }
}

fn entity_missing() -> ApiError {
    ApiError::new(
        "EntityDoesNotExistException",
        "A directory named in DirectoryIds does not exist in this account and Region.",
    )
}

fn directory_id(s: &str) -> bool {
    s.len() == 12
        && s.strip_prefix("d-").is_some_and(|h| {
            h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// `DescribeDirectories`: the given directories (all must exist) or all of them, in id order,
/// paged by `Limit` (0 or absent: the `default_page_size` option).
pub fn describe_directories(
    caller: &Caller,
    w: &World,
    opts: &Options,
    tokens: &PageTokens,
    body: &Value,
) -> ApiResult<Value> {
    let input = Input::new(body, "InvalidParameterException")?;
    let ids = input.opt_str_list(
        "DirectoryIds",
        0,
        usize::MAX,
        directory_id,
        "Member must satisfy regular expression pattern: ^d-[0-9a-f]{10}$",
    )?;
    let limit = input.opt_int("Limit")?;
    if limit.is_some_and(|l| l < 0) {
        return Err(input.err("Limit", "Member must have value greater than or equal to 0"));
    }
    let size = paging::page_size(limit, opts.default_page_size, usize::MAX);
    let scope = format!(
        "DescribeDirectories|{}|{}",
        ids.as_ref().map(|v| v.join(",")).unwrap_or_default(),
        limit.unwrap_or(0)
    );
    let pos = match input.opt_str("NextToken")? {
        None => None,
        Some(t) => Some(tokens.open(&scope, t).ok_or_else(|| {
            ApiError::new(
                "InvalidNextTokenException",
                "The NextToken value is not valid.",
            )
        })?),
    };
    let rs = w
        .accounts
        .get(&caller.account)
        .and_then(|a| a.regions.get(&caller.region));
    let all: Vec<&DsDirectory> =
        rs.map_or_else(Vec::new, |rs| rs.ds_directories.values().collect());
    if let Some(ids) = &ids
        && ids.iter().any(|id| !all.iter().any(|d| d.id == *id))
    {
        return Err(entity_missing());
    }
    let chosen = all
        .into_iter()
        .filter(|d| ids.as_ref().is_none_or(|ids| ids.contains(&d.id.as_str())));
    let (page, next) = paging::after_key(chosen, |d| &d.id, pos.as_deref(), size);
    let descriptions: Vec<Value> = page
        .into_iter()
        .map(|d| description(d, rs.map(|rs| &rs.subnets)))
        .collect();
    Ok(Obj::new()
        .v("DirectoryDescriptions", Some(Value::Array(descriptions)))
        .s("NextToken", next.map(|p| tokens.issue(&scope, &p)))
        .build())
}

/// One `DirectoryDescription`: `VpcSettings` for Simple AD and Microsoft AD,
/// `ConnectSettings` for an AD Connector.
fn description(
    d: &DsDirectory,
    subnets: Option<&std::collections::BTreeMap<String, crate::model::Subnet>>,
) -> Value {
    let mut zones: Vec<&str> = d
        .subnet_ids
        .iter()
        .filter_map(|s| subnets.and_then(|m| m.get(s)).map(|s| s.az.as_str()))
        .collect();
    zones.sort_unstable();
    zones.dedup();
    let (vpc, connect) = if d.directory_type == DsType::AdConnector {
        (
            None,
            Some(json!({
                "VpcId": d.vpc_id, "SubnetIds": d.subnet_ids, "CustomerUserName": d.customer_user_name,
                "SecurityGroupId": d.security_group_id, "AvailabilityZones": zones, "ConnectIps": d.connect_ips,
            })),
        )
    } else {
        (
            Some(json!({
                "VpcId": d.vpc_id, "SubnetIds": d.subnet_ids,
                "SecurityGroupId": d.security_group_id, "AvailabilityZones": zones,
            })),
            None,
        )
    };
    Obj::new()
        .s("DirectoryId", Some(d.id.as_str()))
        .s("Name", Some(d.name.as_str()))
        .s("ShortName", Some(d.short_name.as_str()))
        .s("Size", Some(d.size.as_str()))
        .s("Alias", Some(d.alias.as_str()))
        .s("AccessUrl", Some(format!("{}.awsapps.com", d.alias)))
        .s("Description", d.description.as_deref())
        .v("DnsIpAddrs", Some(json!(d.dns_ips)))
        .s("Stage", Some(d.stage.as_str()))
        .ts("LaunchTime", Some(d.launch_ms))
        .ts("StageLastUpdatedDateTime", Some(d.launch_ms))
        .s("Type", Some(d.directory_type.as_str()))
        .v("VpcSettings", vpc)
        .v("ConnectSettings", connect)
        .s("StageReason", d.stage_reason.as_deref())
        .b("SsoEnabled", Some(false))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_model_pattern() {
        assert!(directory_id("d-9067a1b2c1"));
        assert!(!directory_id("d-9067a1b2c"));
        assert!(!directory_id("d-9067A1B2C1"));
        assert!(!directory_id("x-9067a1b2c1"));
    }

    #[test]
    fn enums_read_the_wire_names() {
        let t: DsType = serde_json::from_str("\"ADConnector\"").unwrap();
        assert_eq!(t, DsType::AdConnector);
        assert_eq!(DsType::MicrosoftAd.as_str(), "MicrosoftAD");
        let s: DsStage = serde_json::from_str("\"Inoperable\"").unwrap();
        assert_eq!(s.as_str(), "Inoperable");
    }
}
