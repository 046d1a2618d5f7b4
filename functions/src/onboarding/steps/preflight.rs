//! Step 1's pre-flight: before the onboarding changes anything in the customer's account,
//! read what would otherwise fail hours later — the `workspaces_DefaultRole`, the WorkSpaces
//! quota against the desktops requested, the Availability Zones of the requested subnets,
//! BYOP — and refuse by name ([`names::PREFLIGHT_FAILED`]) when the account is not ready.
//!
//! The judging is [`steward_shared::preflight`]'s (pure); this file only reads the facts.
//! A read the role may not make is an unknown check, not a failure: the customer role
//! template grants these reads, but a customer's own role may not.

use std::collections::{BTreeMap, BTreeSet};

use steward_shared::Error;
use steward_shared::aws::AwsErrorKind;
use steward_shared::error::names;
use steward_shared::gateway::service_quotas::QuotaReading;
use steward_shared::preflight::{
    CheckResult, Facts, QuotaLookup, RoleLookup, SubnetZone, evaluate, failures,
};

use super::Ctx;
use crate::onboarding::request::Desired;

/// The IAM role WorkSpaces needs to register a directory.
const DEFAULT_ROLE: &str = "workspaces_DefaultRole";

/// An account that is not ready: every check's result, and the error that names the
/// failed ones.
pub(super) struct Refusal {
    pub checks: Vec<CheckResult>,
    pub error: Error,
}

/// Reads the facts and judges them: the checks, or the [`Refusal`] listing every failed
/// one (`Err` is a read that failed, e.g. throttled past its retries).
pub(super) async fn preflight(ctx: &Ctx<'_>) -> Result<Result<Vec<CheckResult>, Refusal>, Error> {
    let request = &ctx.input.request;
    let quota = quota(ctx).await?;
    let desired = request.workspaces.desired(&ctx.tenant.tenant_id);
    let existing_desktops = match quota {
        // Counting the account's desktops costs a page per 25: only worth it against a
        // known quota.
        QuotaLookup::Known(_) => existing_others(ctx, &desired).await?,
        QuotaLookup::Unknown(_) => 0,
    };
    let facts = Facts {
        default_role: default_role(ctx).await?,
        quota,
        existing_desktops,
        requested_desktops: desired.len(),
        subnets: subnet_zones(ctx).await?,
        supported_zone_ids: ctx
            .deps
            .config
            .preflight
            .supported_az_ids
            .region(request.region.as_str())
            .map(<[String]>::to_vec),
        byop_requested: request.byol && request.ingestion_process.ends_with("_BYOP"),
    };
    let results = evaluate(&facts);
    if let Some(failed) = failures(&results) {
        let message = failed
            .iter()
            .map(|c| {
                format!(
                    "{}: {}",
                    c.code.map_or("FAILED", |code| code.as_str()),
                    c.reason
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        let error = Error::refused(
            names::PREFLIGHT_FAILED,
            format!("the account is not ready for onboarding, nothing was changed: {message}"),
        );
        return Ok(Err(Refusal {
            checks: results,
            error,
        }));
    }
    Ok(Ok(results))
}

/// IAM GetRole of the WorkSpaces default role; a read the role may not make is unknown.
async fn default_role(ctx: &Ctx<'_>) -> Result<RoleLookup, Error> {
    match ctx.clients.iam().role(DEFAULT_ROLE).await {
        Ok(Some(_)) => Ok(RoleLookup::Found),
        Ok(None) => Ok(RoleLookup::Missing),
        Err(e) if e.kind == AwsErrorKind::AccessDenied => Ok(RoleLookup::Unknown(
            "the role may not call iam:GetRole on it".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// The WorkSpaces quota from Service Quotas (unknown when it cannot be read).
async fn quota(ctx: &Ctx<'_>) -> Result<QuotaLookup, Error> {
    let code = &ctx.deps.config.preflight.workspaces_quota_code;
    Ok(
        match ctx
            .clients
            .service_quotas()
            .quota("workspaces", code)
            .await?
        {
            QuotaReading::Known { value, .. } => QuotaLookup::Known(value),
            QuotaReading::Unknown { reason } => QuotaLookup::Unknown(reason.to_string()),
        },
    )
}

/// The account's desktops in the Region that this onboarding does not itself ask for (a
/// re-run's own desktops are already among the requested).
async fn existing_others(ctx: &Ctx<'_>, desired: &[Desired]) -> Result<usize, Error> {
    let names: BTreeSet<&str> = desired
        .iter()
        .map(|d| match d {
            Desired::Decoupled { workspace_name } => workspace_name.as_str(),
            Desired::Assigned { user_name } => user_name.as_str(),
        })
        .collect();
    Ok(ctx
        .ws()
        .all_desktops()
        .await?
        .iter()
        .filter(|d| {
            let own = d.workspace_name().or(d.user_name()).unwrap_or_default();
            !names.contains(own)
        })
        .count())
}

/// The requested subnets with their zone ids (`None` for one EC2 does not know).
async fn subnet_zones(ctx: &Ctx<'_>) -> Result<Vec<SubnetZone>, Error> {
    let requested = &ctx.input.request.directory.subnet_ids;
    let zones = zones_of(ctx, requested.iter().cloned().collect()).await?;
    Ok(requested
        .iter()
        .map(|s| SubnetZone {
            subnet_id: s.clone(),
            zone_id: zones.get(s).cloned(),
        })
        .collect())
}

/// Subnet id → Availability Zone id for the `subnets` EC2 knows. DescribeSubnets fails as a
/// whole when one id does not exist; then each is read alone, so the others still count.
pub(super) async fn zones_of(
    ctx: &Ctx<'_>,
    subnets: BTreeSet<String>,
) -> Result<BTreeMap<String, String>, Error> {
    let ids: Vec<String> = subnets.into_iter().collect();
    let ec2 = ctx.clients.ec2();
    let found = match ec2.subnets(&ids).await {
        Ok(found) => found,
        Err(e) if e.kind == AwsErrorKind::NotFound => {
            let mut found = Vec::new();
            for id in &ids {
                match ec2.subnets(std::slice::from_ref(id)).await {
                    Ok(s) => found.extend(s),
                    Err(e) if e.kind == AwsErrorKind::NotFound => {}
                    Err(e) => return Err(e.into()),
                }
            }
            found
        }
        Err(e) => return Err(e.into()),
    };
    Ok(found
        .into_iter()
        .map(|s| (s.subnet_id, s.availability_zone_id))
        .collect())
}
