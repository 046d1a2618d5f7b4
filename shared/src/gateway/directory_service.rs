//! AWS Directory Service, for the one read onboarding makes there: DescribeDirectories, the
//! customer's directories, so the directory offer can list them (with their network, stage
//! and type) rather than only those already registered with WorkSpaces.
//!
//! Spoken as awsJson1_1 (`X-Amz-Target: DirectoryService_20150416.DescribeDirectories`)
//! through [`SignedClient`]: `aws-sdk-directory` would cost the Lambda bootstrap room it does
//! not have, for one read.

use serde::Deserialize;
use serde_json::json;

use super::service_status;
use crate::aws::AwsError;
use crate::aws::signed::{Service, SignedClient, SignedGateway};

/// Directory Service as [`SignedClient`] reaches it.
pub const SERVICE: Service = Service {
    name: "DirectoryService",
    endpoint_prefix: "ds",
    json_target: Some("DirectoryService_20150416"),
    global: None,
};
const OPERATION: &str = "DescribeDirectories";

service_status!(
    /// What kind of directory it is.
    DirectoryKind {
        SimpleAd = "SimpleAD",
        AdConnector = "ADConnector",
        MicrosoftAd = "MicrosoftAD",
        SharedMicrosoftAd = "SharedMicrosoftAD",
    }
);

service_status!(
    /// Where the directory is in its life.
    DirectoryStage {
        Requested = "Requested",
        Creating = "Creating",
        Created = "Created",
        Active = "Active",
        Inoperable = "Inoperable",
        Impaired = "Impaired",
        Restoring = "Restoring",
        RestoreFailed = "RestoreFailed",
        Deleting = "Deleting",
        Deleted = "Deleted",
        Failed = "Failed",
        Updating = "Updating",
    }
);

service_status!(
    /// A Simple AD's or AD Connector's size.
    DirectorySize {
        Small = "Small",
        Large = "Large",
    }
);

/// A directory as DescribeDirectories reports it. The network is the directory's own VPC
/// settings, or an AD Connector's connect settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceDirectory {
    pub directory_id: String,
    /// The fully qualified domain name (`corp.example.com`).
    pub name: String,
    pub short_name: Option<String>,
    pub alias: Option<String>,
    pub kind: Option<DirectoryKind>,
    pub size: Option<DirectorySize>,
    pub stage: Option<DirectoryStage>,
    pub stage_reason: Option<String>,
    pub dns_addresses: Vec<String>,
    pub vpc_id: Option<String>,
    pub subnet_ids: Vec<String>,
    pub availability_zones: Vec<String>,
    pub security_group_id: Option<String>,
}

/// One page of DescribeDirectories.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoriesPage {
    pub directories: Vec<ServiceDirectory>,
    pub next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Wire {
    #[serde(default)]
    directory_descriptions: Vec<WireDirectory>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireDirectory {
    #[serde(default)]
    directory_id: String,
    #[serde(default)]
    name: String,
    short_name: Option<String>,
    alias: Option<String>,
    #[serde(rename = "Type")]
    kind: Option<String>,
    size: Option<String>,
    stage: Option<String>,
    stage_reason: Option<String>,
    #[serde(default)]
    dns_ip_addrs: Vec<String>,
    vpc_settings: Option<WireNetwork>,
    connect_settings: Option<WireNetwork>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireNetwork {
    vpc_id: Option<String>,
    #[serde(default)]
    subnet_ids: Vec<String>,
    #[serde(default)]
    availability_zones: Vec<String>,
    security_group_id: Option<String>,
}

impl From<WireDirectory> for ServiceDirectory {
    fn from(w: WireDirectory) -> Self {
        let net = w.vpc_settings.or(w.connect_settings);
        let (vpc_id, subnet_ids, availability_zones, security_group_id) = match net {
            Some(n) => (
                n.vpc_id,
                n.subnet_ids,
                n.availability_zones,
                n.security_group_id,
            ),
            None => (None, Vec::new(), Vec::new(), None),
        };
        Self {
            directory_id: w.directory_id,
            name: w.name,
            short_name: w.short_name,
            alias: w.alias,
            kind: w.kind.as_deref().map(DirectoryKind::from_wire),
            size: w.size.as_deref().map(DirectorySize::from_wire),
            stage: w.stage.as_deref().map(DirectoryStage::from_wire),
            stage_reason: w.stage_reason,
            dns_addresses: w.dns_ip_addrs,
            vpc_id,
            subnet_ids,
            availability_zones,
            security_group_id,
        }
    }
}

/// A Directory Service client for one tenant and Region.
#[derive(Clone, Debug)]
pub struct DirectoryServiceClient {
    signed: SignedClient,
}

impl SignedGateway for DirectoryServiceClient {
    const SERVICE: Service = SERVICE;

    fn from_signed(signed: SignedClient) -> Self {
        Self { signed }
    }
}

impl DirectoryServiceClient {
    /// Every directory in the Region (DescribeDirectories, every page).
    pub async fn directories(&self) -> Result<Vec<ServiceDirectory>, AwsError> {
        let (all, _) = self.directories_up_to(usize::MAX).await?;
        Ok(all)
    }

    /// The Region's directories, at most `max` (paging stops there, for an offer); `true` if
    /// more exist.
    pub async fn directories_up_to(
        &self,
        max: usize,
    ) -> Result<(Vec<ServiceDirectory>, bool), AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self.describe_page(token.as_deref()).await?;
            out.extend(page.directories);
            token = page.next_token;
            if out.len() > max || (out.len() == max && token.is_some()) {
                out.truncate(max);
                return Ok((out, true));
            }
            if token.is_none() {
                return Ok((out, false));
            }
        }
    }

    /// One page of DescribeDirectories.
    pub async fn describe_page(&self, token: Option<&str>) -> Result<DirectoriesPage, AwsError> {
        let input = match token {
            Some(t) => json!({ "NextToken": t }),
            None => json!({}),
        };
        let wire: Wire = self.signed.json(OPERATION, &input).await?;
        Ok(DirectoriesPage {
            directories: wire
                .directory_descriptions
                .into_iter()
                .map(ServiceDirectory::from)
                .collect(),
            next_token: wire.next_token.filter(|t| !t.is_empty()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connector_takes_its_network_from_its_connect_settings() {
        let wire: Wire = serde_json::from_value(json!({"DirectoryDescriptions": [{
            "DirectoryId": "d-9067e2d4a1", "Name": "corp.example.com", "Type": "ADConnector",
            "Size": "Small", "Stage": "Active", "DnsIpAddrs": ["10.0.0.10"],
            "ConnectSettings": {"VpcId": "vpc-1", "SubnetIds": ["subnet-a", "subnet-b"],
                "CustomerUserName": "svc", "SecurityGroupId": "sg-1",
                "AvailabilityZones": ["us-east-1a", "us-east-1b"], "ConnectIps": ["10.0.0.5"]}
        }, {
            "DirectoryId": "d-9067e2d4a2", "Name": "x.example.com", "Type": "CloudOnly",
            "Stage": "Hibernating"
        }]}))
        .unwrap();
        let dirs: Vec<ServiceDirectory> = wire
            .directory_descriptions
            .into_iter()
            .map(ServiceDirectory::from)
            .collect();
        assert_eq!(dirs[0].kind, Some(DirectoryKind::AdConnector));
        assert_eq!(dirs[0].vpc_id.as_deref(), Some("vpc-1"));
        assert_eq!(dirs[0].subnet_ids, ["subnet-a", "subnet-b"]);
        assert_eq!(dirs[0].security_group_id.as_deref(), Some("sg-1"));
        assert_eq!(dirs[1].kind, Some(DirectoryKind::Other("CloudOnly".into())));
        assert_eq!(
            dirs[1].stage,
            Some(DirectoryStage::Other("Hibernating".into()))
        );
        assert_eq!(dirs[1].vpc_id, None);
        assert!(dirs[1].subnet_ids.is_empty());
    }
}
