//! Pre-flight: what can be known about a customer account before onboarding changes
//! anything in it, judged without I/O.
//!
//! A first-time customer otherwise learns hours later, at the image import or at
//! CreateWorkspaces, that the `workspaces_DefaultRole` is missing or the WorkSpaces quota
//! is too low. The onboarding's first step reads the facts (IAM GetRole, Service Quotas
//! GetServiceQuota, DescribeWorkspaces, EC2 DescribeSubnets) and [`evaluate`] turns them
//! into one [`CheckResult`] per check. A check Steward cannot make — the role may not read
//! Service Quotas, no API reports BYOP allow-listing, a Region whose WorkSpaces zones are
//! not configured — is [`CheckStatus::Unknown`] with the reason, never a pass and never a
//! failure: a quota that could not be read is not a quota of zero.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The checks, in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Check {
    /// IAM role `workspaces_DefaultRole`, which WorkSpaces needs to register a directory.
    DefaultRole,
    /// The account's WorkSpaces quota against its desktops plus the ones requested.
    WorkspacesQuota,
    /// The requested subnets are in Availability Zones WorkSpaces supports, and differ.
    AvailabilityZones,
    /// The account is allow-listed for bring-your-own-protocol images.
    Byop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CheckStatus {
    Passed,
    Failed,
    /// Could not be checked; the reason says why and what would tell.
    Unknown,
    /// Does not apply to this request.
    NotApplicable,
}

/// Why a check failed: a stable code a partner UI can map to its own help text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FailureCode {
    DefaultRoleMissing,
    QuotaTooLow,
    UnsupportedAvailabilityZone,
    SubnetsInOneZone,
    SubnetNotFound,
}

impl FailureCode {
    /// The code as it is serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureCode::DefaultRoleMissing => "DEFAULT_ROLE_MISSING",
            FailureCode::QuotaTooLow => "QUOTA_TOO_LOW",
            FailureCode::UnsupportedAvailabilityZone => "UNSUPPORTED_AVAILABILITY_ZONE",
            FailureCode::SubnetsInOneZone => "SUBNETS_IN_ONE_ZONE",
            FailureCode::SubnetNotFound => "SUBNET_NOT_FOUND",
        }
    }
}

/// One check's outcome, as the step record and the onboarding events carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckResult {
    pub check: Check,
    pub status: CheckStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<FailureCode>,
    /// What was found and, for a failure, what the customer can do about it.
    pub reason: String,
}

/// What IAM GetRole said about `workspaces_DefaultRole`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleLookup {
    Found,
    Missing,
    /// Not readable (the reason: denied, …).
    Unknown(String),
}

/// What Service Quotas said about the WorkSpaces quota.
#[derive(Debug, Clone, PartialEq)]
pub enum QuotaLookup {
    Known(f64),
    Unknown(String),
}

/// A requested subnet and the zone EC2 placed it in (`None`: EC2 does not know it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetZone {
    pub subnet_id: String,
    pub zone_id: Option<String>,
}

/// Everything [`evaluate`] judges.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub default_role: RoleLookup,
    pub quota: QuotaLookup,
    /// Desktops the account has now in the Region (not TERMINATED).
    pub existing_desktops: usize,
    /// Desktops this onboarding would create.
    pub requested_desktops: usize,
    /// The subnets the request names for the directory registration (empty: the
    /// directory's own, judged when the directory is offered).
    pub subnets: Vec<SubnetZone>,
    /// The zone ids WorkSpaces supports in the Region; `None`: not configured for it.
    pub supported_zone_ids: Option<Vec<String>>,
    /// The request imports a `…_BYOP` image.
    pub byop_requested: bool,
}

/// Judges every check.
pub fn evaluate(f: &Facts) -> Vec<CheckResult> {
    vec![
        default_role(&f.default_role),
        quota(f),
        zones(&f.subnets, f.supported_zone_ids.as_deref()),
        byop(f.byop_requested),
    ]
}

/// The failed checks, or `None` when none failed.
pub fn failures(results: &[CheckResult]) -> Option<Vec<&CheckResult>> {
    let failed: Vec<&CheckResult> = results
        .iter()
        .filter(|r| r.status == CheckStatus::Failed)
        .collect();
    (!failed.is_empty()).then_some(failed)
}

fn result(check: Check, status: CheckStatus, reason: impl Into<String>) -> CheckResult {
    CheckResult {
        check,
        status,
        code: None,
        reason: reason.into(),
    }
}

fn failed(check: Check, code: FailureCode, reason: impl Into<String>) -> CheckResult {
    CheckResult {
        code: Some(code),
        ..result(check, CheckStatus::Failed, reason)
    }
}

fn default_role(lookup: &RoleLookup) -> CheckResult {
    match lookup {
        RoleLookup::Found => result(
            Check::DefaultRole,
            CheckStatus::Passed,
            "workspaces_DefaultRole exists",
        ),
        RoleLookup::Missing => failed(
            Check::DefaultRole,
            FailureCode::DefaultRoleMissing,
            "the IAM role workspaces_DefaultRole does not exist in the account: WorkSpaces needs it \
             to register a directory. Create it (the WorkSpaces console creates it on first use, or \
             see the WorkSpaces Administration Guide) and run the onboarding again",
        ),
        RoleLookup::Unknown(why) => result(
            Check::DefaultRole,
            CheckStatus::Unknown,
            format!("could not read the role workspaces_DefaultRole ({why})"),
        ),
    }
}

fn quota(f: &Facts) -> CheckResult {
    let needed = f.existing_desktops + f.requested_desktops;
    match &f.quota {
        QuotaLookup::Unknown(why) => result(
            Check::WorkspacesQuota,
            CheckStatus::Unknown,
            format!(
                "the WorkSpaces quota could not be read ({why}); {needed} desktops will be needed"
            ),
        ),
        QuotaLookup::Known(limit) if (needed as f64) <= *limit => result(
            Check::WorkspacesQuota,
            CheckStatus::Passed,
            format!(
                "quota {limit}, {} existing + {} requested",
                f.existing_desktops, f.requested_desktops
            ),
        ),
        QuotaLookup::Known(limit) => failed(
            Check::WorkspacesQuota,
            FailureCode::QuotaTooLow,
            format!(
                "the account's WorkSpaces quota is {limit}, but it has {} desktops and this \
                 onboarding requests {} more: ask for a quota increase in Service Quotas (or \
                 request fewer desktops) and run the onboarding again",
                f.existing_desktops, f.requested_desktops
            ),
        ),
    }
}

fn zones(subnets: &[SubnetZone], supported: Option<&[String]>) -> CheckResult {
    if subnets.is_empty() {
        return result(
            Check::AvailabilityZones,
            CheckStatus::NotApplicable,
            "no subnets requested: the directory's own are judged when it is offered",
        );
    }
    if let Some(s) = subnets.iter().find(|s| s.zone_id.is_none()) {
        return failed(
            Check::AvailabilityZones,
            FailureCode::SubnetNotFound,
            format!(
                "subnet {} was not found in the account and Region: name subnets of the \
                 directory's VPC",
                s.subnet_id
            ),
        );
    }
    let mut by_zone: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in subnets {
        by_zone
            .entry(s.zone_id.as_deref().unwrap_or_default())
            .or_default()
            .push(&s.subnet_id);
    }
    if let Some((zone, ids)) = by_zone.iter().find(|(_, ids)| ids.len() > 1) {
        return failed(
            Check::AvailabilityZones,
            FailureCode::SubnetsInOneZone,
            format!(
                "subnets {} are both in zone {zone}: WorkSpaces needs two subnets in different \
                 Availability Zones",
                ids.join(" and ")
            ),
        );
    }
    let Some(supported) = supported else {
        return result(
            Check::AvailabilityZones,
            CheckStatus::Unknown,
            format!(
                "zones {} — the zones WorkSpaces supports in this Region are not configured \
                 (STEWARD_WORKSPACES_SUPPORTED_AZ_IDS)",
                by_zone.keys().copied().collect::<Vec<_>>().join(", ")
            ),
        );
    };
    let outside: Vec<String> = subnets
        .iter()
        .filter_map(|s| {
            let zone = s.zone_id.as_deref()?;
            (!supported.iter().any(|z| z == zone)).then(|| format!("{} ({zone})", s.subnet_id))
        })
        .collect();
    if outside.is_empty() {
        return result(
            Check::AvailabilityZones,
            CheckStatus::Passed,
            format!(
                "zones {} are supported",
                by_zone.keys().copied().collect::<Vec<_>>().join(", ")
            ),
        );
    }
    failed(
        Check::AvailabilityZones,
        FailureCode::UnsupportedAvailabilityZone,
        format!(
            "subnet {} is in an Availability Zone WorkSpaces does not support (supported here: \
             {}): choose subnets in supported zones",
            outside.join(", "),
            supported.join(", ")
        ),
    )
}

fn byop(requested: bool) -> CheckResult {
    if !requested {
        return result(
            Check::Byop,
            CheckStatus::NotApplicable,
            "no bring-your-own-protocol image is imported",
        );
    }
    result(
        Check::Byop,
        CheckStatus::Unknown,
        "no WorkSpaces API reports whether the account is allow-listed for BYOP; the image \
         import is the first call that would refuse it — confirm with the AWS account team",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> Facts {
        Facts {
            default_role: RoleLookup::Found,
            quota: QuotaLookup::Known(10.0),
            existing_desktops: 4,
            requested_desktops: 6,
            subnets: vec![
                SubnetZone {
                    subnet_id: "subnet-a".into(),
                    zone_id: Some("use1-az2".into()),
                },
                SubnetZone {
                    subnet_id: "subnet-b".into(),
                    zone_id: Some("use1-az4".into()),
                },
            ],
            supported_zone_ids: Some(vec!["use1-az2".into(), "use1-az4".into()]),
            byop_requested: true,
        }
    }

    fn statuses(r: &[CheckResult]) -> Vec<(Check, CheckStatus, Option<FailureCode>)> {
        r.iter().map(|c| (c.check, c.status, c.code)).collect()
    }

    #[test]
    fn a_ready_account_passes_and_byop_stays_unknown() {
        let r = evaluate(&good());
        assert_eq!(
            statuses(&r),
            vec![
                (Check::DefaultRole, CheckStatus::Passed, None),
                (Check::WorkspacesQuota, CheckStatus::Passed, None),
                (Check::AvailabilityZones, CheckStatus::Passed, None),
                (Check::Byop, CheckStatus::Unknown, None),
            ]
        );
        assert_eq!(failures(&r), None);
        assert_eq!(r[1].reason, "quota 10, 4 existing + 6 requested");
        for code in [
            FailureCode::DefaultRoleMissing,
            FailureCode::QuotaTooLow,
            FailureCode::UnsupportedAvailabilityZone,
            FailureCode::SubnetsInOneZone,
            FailureCode::SubnetNotFound,
        ] {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }

    #[test]
    fn each_failure_is_named() {
        let mut f = good();
        f.default_role = RoleLookup::Missing;
        f.quota = QuotaLookup::Known(9.0);
        f.subnets[1].zone_id = Some("use1-az3".into());
        let r = evaluate(&f);
        let failed: Vec<_> = failures(&r).unwrap().iter().map(|c| c.code).collect();
        assert_eq!(
            failed,
            vec![
                Some(FailureCode::DefaultRoleMissing),
                Some(FailureCode::QuotaTooLow),
                Some(FailureCode::UnsupportedAvailabilityZone),
            ]
        );
        assert!(
            r[2].reason.contains("subnet-b (use1-az3)"),
            "{}",
            r[2].reason
        );

        f.subnets[1].zone_id = Some("use1-az2".into());
        assert_eq!(evaluate(&f)[2].code, Some(FailureCode::SubnetsInOneZone));
        f.subnets[1].zone_id = None;
        assert_eq!(evaluate(&f)[2].code, Some(FailureCode::SubnetNotFound));
    }

    #[test]
    fn what_cannot_be_read_is_unknown_never_zero() {
        let mut f = good();
        f.quota = QuotaLookup::Unknown("AccessDenied".into());
        f.default_role = RoleLookup::Unknown("AccessDenied".into());
        f.supported_zone_ids = None;
        f.byop_requested = false;
        f.requested_desktops = 1_000;
        let r = evaluate(&f);
        assert_eq!(
            statuses(&r),
            vec![
                (Check::DefaultRole, CheckStatus::Unknown, None),
                (Check::WorkspacesQuota, CheckStatus::Unknown, None),
                (Check::AvailabilityZones, CheckStatus::Unknown, None),
                (Check::Byop, CheckStatus::NotApplicable, None),
            ]
        );
        assert_eq!(failures(&r), None);
        f.subnets.clear();
        assert_eq!(evaluate(&f)[2].status, CheckStatus::NotApplicable);
    }

    #[test]
    fn the_quota_boundary_and_the_wire_form() {
        let mut f = good();
        f.requested_desktops = 7;
        assert_eq!(evaluate(&f)[1].code, Some(FailureCode::QuotaTooLow));
        let r = &evaluate(&good())[0];
        assert_eq!(
            serde_json::to_value(r).unwrap(),
            serde_json::json!({"check": "DEFAULT_ROLE", "status": "PASSED",
                               "reason": "workspaces_DefaultRole exists"})
        );
    }
}
