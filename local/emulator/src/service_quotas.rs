//! Service Quotas (awsJson1_1, `X-Amz-Target: ServiceQuotasV20190624.<Op>`):
//! `GetServiceQuota` for the one quota a partner checks before creating desktops, the
//! WorkSpaces per account and Region. Its quota code is the `workspaces_quota_code` option
//! ([U]: AWS's real code is unconfirmed). The value answered is the account's
//! `service_quota_value` seed field — what Service Quotas says, which CreateWorkspaces does
//! not enforce (it keeps the account's own `workspace_quota`) — and an account seeded with
//! `quota_read_denied` answers `AccessDeniedException`, as when the customer's role was not
//! granted `servicequotas:GetServiceQuota`. Any other service or quota code answers
//! `NoSuchResourceException`; inputs are checked against the model (`IllegalArgumentException`).

use crate::error::{ApiError, ApiResult};
use crate::identity::Caller;
use crate::model::World;
use crate::options::Options;
use crate::protocol::{Input, Obj};
use serde_json::Value;

pub const TARGET_PREFIX: &str = "ServiceQuotasV20190624.";
pub const OPERATIONS: &[&str] = &["GetServiceQuota"];

/// The service code of WorkSpaces in Service Quotas.
pub const WORKSPACES_SERVICE_CODE: &str = "workspaces";

/// `[a-zA-Z][a-zA-Z0-9-]*`, within `min..=max` characters.
fn code_ok(s: &str, max: usize) -> bool {
    let mut b = s.bytes();
    (2..=max).contains(&s.len())
        && b.next().is_some_and(|c| c.is_ascii_alphabetic())
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'-')
}

pub fn get_service_quota(
    caller: &Caller,
    w: &World,
    opts: &Options,
    body: &Value,
) -> ApiResult<Value> {
    let input = Input::new(body, "IllegalArgumentException")?;
    let service = input
        .checked(
            "ServiceCode",
            true,
            |s| code_ok(s, 63),
            "Member must satisfy regular expression pattern: [a-zA-Z][a-zA-Z0-9-]{1,63}",
        )?
        .unwrap_or_default();
    let quota = input
        .checked(
            "QuotaCode",
            true,
            |s| code_ok(s, 128),
            "Member must satisfy regular expression pattern: [a-zA-Z][a-zA-Z0-9-]{1,128}",
        )?
        .unwrap_or_default();
    input.opt_str("ContextId")?;
    let account = w.accounts.get(&caller.account);
    if account.is_some_and(|a| a.quota_read_denied) {
        return Err(ApiError::access_denied(format!(
            "User: {} is not authorized to perform: servicequotas:GetServiceQuota",
            caller.arn()
        )));
    }
    if service != WORKSPACES_SERVICE_CODE || quota != opts.workspaces_quota_code {
        return Err(ApiError::new(
            "NoSuchResourceException",
            "The request failed because the specified service quota does not exist.",
        ));
    }
    let value = account.map_or(crate::model::DEFAULT_SERVICE_QUOTA, |a| {
        a.service_quota_value
    });
    Ok(Obj::new()
        .v(
            "Quota",
            Some(
                Obj::new()
                    .s("ServiceCode", Some(WORKSPACES_SERVICE_CODE))
                    .s("ServiceName", Some("Amazon WorkSpaces"))
                    .s(
                        "QuotaArn",
                        Some(format!(
                            "arn:aws:servicequotas:{}:{}:{WORKSPACES_SERVICE_CODE}/{quota}",
                            caller.region, caller.account
                        )),
                    )
                    .s("QuotaCode", Some(quota))
                    .s("QuotaName", Some("WorkSpaces"))
                    .v("Value", Some(Value::from(value)))
                    .s("Unit", Some("None"))
                    .b("Adjustable", Some(true))
                    .b("GlobalQuota", Some(false))
                    .build(),
            ),
        )
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_model() {
        assert!(code_ok("workspaces", 63));
        assert!(code_ok("L-34278094", 128));
        assert!(!code_ok("1abc", 63));
        assert!(!code_ok("a", 63));
        assert!(!code_ok("ab_c", 63));
    }
}
