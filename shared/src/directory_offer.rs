//! The directory offer: the customer's AWS Directory Service directories together with
//! their WorkSpaces registration, each marked usable or not with the reasons, judged
//! without I/O.
//!
//! DescribeWorkspaceDirectories lists only directories already registered with WorkSpaces,
//! so a first-time customer was offered none. The guide's onboarding reads both services:
//! Directory Service for what exists (type, size, stage, DNS, VPC, subnets) and WorkSpaces
//! for what is registered (state, tenancy). A directory WorkSpaces cannot use is still
//! offered — the customer sees it and why — but marked unusable, so a partner UI can grey
//! it out instead of letting the registration fail later.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::gateway::directory_service::{DirectoryKind, DirectoryStage, ServiceDirectory};
use crate::gateway::workspaces::{Directory, DirectoryState, Tenancy};

/// What the offer needs besides the directories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferContext<'a> {
    /// The tenancy this onboarding registers with (DEDICATED for BYOL).
    pub tenancy: &'a Tenancy,
    /// Subnet id → Availability Zone id, for the directories' subnets EC2 knows.
    pub subnet_zones: &'a BTreeMap<String, String>,
    /// The zone ids WorkSpaces supports in the Region; `None`: not configured.
    pub supported_zone_ids: Option<&'a [String]>,
}

/// One offered directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryOption {
    pub directory_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// Directory Service's stage; unset for a directory only WorkSpaces knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_addresses: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnet_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub availability_zones: Vec<String>,
    /// Its WorkSpaces registration: `REGISTERED`, `REGISTERING`, … or `NOT_REGISTERED`.
    pub registration: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenancy: Option<String>,
    pub usable: bool,
    /// Why not, in words a customer admin understands; empty when usable.
    pub reasons: Vec<String>,
}

/// The registration value of a directory WorkSpaces does not know.
pub const NOT_REGISTERED: &str = "NOT_REGISTERED";

/// Every Directory Service directory, then every registered directory Directory Service did
/// not list (e.g. a WorkSpaces-created `wsd-…` one), each judged.
pub fn offer(
    ds: &[ServiceDirectory],
    registered: &[Directory],
    cx: &OfferContext<'_>,
) -> Vec<DirectoryOption> {
    let by_id: BTreeMap<&str, &Directory> = registered
        .iter()
        .map(|d| (d.directory_id.as_str(), d))
        .collect();
    let mut out: Vec<DirectoryOption> = ds
        .iter()
        .map(|d| judge(d, by_id.get(d.directory_id.as_str()).copied(), cx))
        .collect();
    for r in registered {
        if !ds.iter().any(|d| d.directory_id == r.directory_id.as_str()) {
            out.push(judge_registered_only(r, cx));
        }
    }
    out
}

fn judge(d: &ServiceDirectory, reg: Option<&Directory>, cx: &OfferContext<'_>) -> DirectoryOption {
    let mut reasons = Vec::new();
    match &d.stage {
        Some(DirectoryStage::Active) => {}
        Some(other) => reasons.push(format!(
            "the directory is {} in Directory Service; WorkSpaces registers only Active directories",
            other.as_str()
        )),
        None => reasons.push("Directory Service did not say the directory's stage".into()),
    }
    match &d.kind {
        Some(DirectoryKind::SimpleAd | DirectoryKind::AdConnector | DirectoryKind::MicrosoftAd) => {
        }
        Some(DirectoryKind::SharedMicrosoftAd) => reasons.push(
            "a directory shared from another account: register it in the account that owns it \
             (WorkSpaces support for shared directories is unconfirmed)"
                .into(),
        ),
        Some(DirectoryKind::Other(t)) => reasons.push(format!(
            "WorkSpaces does not register {t} directories (Simple AD, AD Connector and AWS \
             Managed Microsoft AD)"
        )),
        None => reasons.push("Directory Service did not say the directory's type".into()),
    }
    reasons.extend(zone_reasons(&d.subnet_ids, cx));
    if let Some(r) = reg {
        reasons.extend(registration_reasons(r, cx));
    }
    DirectoryOption {
        directory_id: d.directory_id.clone(),
        name: d.name.clone(),
        directory_type: d.kind.as_ref().map(|t| t.as_str().to_owned()),
        size: d.size.as_ref().map(|s| s.as_str().to_owned()),
        stage: d.stage.as_ref().map(|s| s.as_str().to_owned()),
        dns_addresses: d.dns_addresses.clone(),
        vpc_id: d.vpc_id.clone(),
        subnet_ids: d.subnet_ids.clone(),
        availability_zones: d.availability_zones.clone(),
        registration: registration(reg),
        tenancy: reg
            .and_then(|r| r.tenancy.as_ref())
            .map(|t| t.as_str().to_owned()),
        usable: reasons.is_empty(),
        reasons,
    }
}

fn judge_registered_only(r: &Directory, cx: &OfferContext<'_>) -> DirectoryOption {
    let mut reasons = registration_reasons(r, cx);
    reasons.extend(zone_reasons(&r.subnet_ids, cx));
    DirectoryOption {
        directory_id: r.directory_id.to_string(),
        name: r.name.clone().unwrap_or_default(),
        directory_type: r.directory_type.as_ref().map(|t| t.as_str().to_owned()),
        size: None,
        stage: None,
        dns_addresses: Vec::new(),
        vpc_id: None,
        subnet_ids: r.subnet_ids.clone(),
        availability_zones: Vec::new(),
        registration: registration(Some(r)),
        tenancy: r.tenancy.as_ref().map(|t| t.as_str().to_owned()),
        usable: reasons.is_empty(),
        reasons,
    }
}

fn registration(reg: Option<&Directory>) -> String {
    reg.map_or(NOT_REGISTERED, |r| {
        r.state.as_ref().map_or("", DirectoryState::as_str)
    })
    .to_owned()
}

/// A registered directory is usable when REGISTERED (or on its way) with the tenancy this
/// onboarding needs.
fn registration_reasons(r: &Directory, cx: &OfferContext<'_>) -> Vec<String> {
    let mut reasons = Vec::new();
    match &r.state {
        Some(DirectoryState::Registered | DirectoryState::Registering) => {}
        Some(s) => reasons.push(format!("its WorkSpaces registration is {s}")),
        None => reasons.push("WorkSpaces did not say its registration state".into()),
    }
    if let Some(t) = &r.tenancy
        && t != cx.tenancy
    {
        reasons.push(format!(
            "registered with {t} tenancy; this onboarding needs {}",
            cx.tenancy
        ));
    }
    reasons
}

/// Subnets in zones WorkSpaces does not support, or two in one zone.
fn zone_reasons(subnets: &[String], cx: &OfferContext<'_>) -> Vec<String> {
    let mut reasons = Vec::new();
    let zones: Vec<(&str, &str)> = subnets
        .iter()
        .filter_map(|s| Some((s.as_str(), cx.subnet_zones.get(s)?.as_str())))
        .collect();
    if let Some(supported) = cx.supported_zone_ids {
        for (subnet, zone) in &zones {
            if !supported.iter().any(|z| z == zone) {
                reasons.push(format!(
                    "subnet {subnet} is in zone {zone}, which WorkSpaces does not support here"
                ));
            }
        }
    }
    if zones.len() == 2 && zones[0].1 == zones[1].1 {
        reasons.push(format!(
            "its two subnets are in one Availability Zone ({}); WorkSpaces needs two",
            zones[0].1
        ));
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::directory_service::DirectorySize;
    use crate::ids::DirectoryId;
    use crate::onboarding::CreationProperties;

    fn ds(id: &str, t: &str, stage: &str, subnets: [&str; 2]) -> ServiceDirectory {
        ServiceDirectory {
            directory_id: id.into(),
            name: format!("{id}.example.com"),
            short_name: None,
            alias: None,
            kind: Some(DirectoryKind::from_wire(t)),
            size: Some(DirectorySize::Small),
            stage: Some(DirectoryStage::from_wire(stage)),
            stage_reason: None,
            dns_addresses: vec![],
            vpc_id: None,
            subnet_ids: subnets.iter().map(|s| s.to_string()).collect(),
            availability_zones: vec![],
            security_group_id: None,
        }
    }

    fn registered(id: &str, state: &str, tenancy: &str) -> Directory {
        Directory {
            directory_id: DirectoryId::parse(id).unwrap(),
            name: Some("corp".into()),
            alias: None,
            directory_type: None,
            state: Some(DirectoryState::from_wire(state)),
            tenancy: Some(Tenancy::from_wire(tenancy)),
            subnet_ids: vec![],
            workspace_security_group_id: None,
            creation: CreationProperties::default(),
        }
    }

    fn zones() -> BTreeMap<String, String> {
        [
            ("subnet-a", "use1-az2"),
            ("subnet-b", "use1-az4"),
            ("subnet-c", "use1-az3"),
        ]
        .into_iter()
        .map(|(s, z)| (s.to_owned(), z.to_owned()))
        .collect()
    }

    #[test]
    fn every_directory_is_offered_with_its_registration_and_reasons() {
        let zones = zones();
        let supported = vec!["use1-az2".to_owned(), "use1-az4".to_owned()];
        let cx = OfferContext {
            tenancy: &Tenancy::Dedicated,
            subnet_zones: &zones,
            supported_zone_ids: Some(&supported),
        };
        let dss = [
            ds(
                "d-0000000001",
                "ADConnector",
                "Active",
                ["subnet-a", "subnet-b"],
            ),
            ds(
                "d-0000000002",
                "SimpleAD",
                "Active",
                ["subnet-a", "subnet-b"],
            ),
            ds(
                "d-0000000003",
                "SimpleAD",
                "Creating",
                ["subnet-a", "subnet-c"],
            ),
            ds(
                "d-0000000004",
                "MicrosoftAD",
                "Active",
                ["subnet-a", "subnet-a"],
            ),
        ];
        let regs = [
            registered("d-0000000002", "REGISTERED", "SHARED"),
            registered("wsd-abcdefgh1", "REGISTERED", "DEDICATED"),
        ];
        let o = offer(&dss, &regs, &cx);
        let summary: Vec<(&str, &str, bool, usize)> = o
            .iter()
            .map(|d| {
                (
                    d.directory_id.as_str(),
                    d.registration.as_str(),
                    d.usable,
                    d.reasons.len(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("d-0000000001", "NOT_REGISTERED", true, 0),
                ("d-0000000002", "REGISTERED", false, 1),
                ("d-0000000003", "NOT_REGISTERED", false, 2),
                ("d-0000000004", "NOT_REGISTERED", false, 1),
                ("wsd-abcdefgh1", "REGISTERED", true, 0),
            ]
        );
        assert_eq!(
            o[1].reasons,
            vec!["registered with SHARED tenancy; this onboarding needs DEDICATED"]
        );
        assert_eq!(
            o[2].reasons,
            vec![
                "the directory is Creating in Directory Service; WorkSpaces registers only Active directories",
                "subnet subnet-c is in zone use1-az3, which WorkSpaces does not support here",
            ]
        );
        assert!(o[3].reasons[0].contains("one Availability Zone (use1-az2)"));
        assert_eq!(
            serde_json::to_value(&o[0]).unwrap(),
            serde_json::json!({
                "directoryId": "d-0000000001", "name": "d-0000000001.example.com",
                "directoryType": "ADConnector", "size": "Small", "stage": "Active",
                "subnetIds": ["subnet-a", "subnet-b"], "registration": "NOT_REGISTERED",
                "usable": true, "reasons": []
            })
        );
    }

    #[test]
    fn unknown_types_and_unconfigured_zones() {
        let zones = zones();
        let cx = OfferContext {
            tenancy: &Tenancy::Shared,
            subnet_zones: &zones,
            supported_zone_ids: None,
        };
        let o = offer(
            &[
                ds(
                    "d-0000000005",
                    "SharedMicrosoftAD",
                    "Active",
                    ["subnet-a", "subnet-c"],
                ),
                ds(
                    "d-0000000006",
                    "FutureAD",
                    "Active",
                    ["subnet-a", "subnet-c"],
                ),
            ],
            &[],
            &cx,
        );
        assert!(!o[0].usable && o[0].reasons[0].contains("shared from another account"));
        assert!(!o[1].usable && o[1].reasons[0].contains("does not register FutureAD"));
        assert_eq!(o[1].reasons.len(), 1, "zones are not judged without a list");
    }
}
