//! IAM (awsQuery XML, API version 2010-05-08): `GetRole`, the read a partner makes before
//! onboarding to learn whether the customer's account has the `workspaces_DefaultRole`
//! WorkSpaces needs to register a directory. IAM is global: the signing Region is ignored.
//!
//! Every seeded customer account has `workspaces_DefaultRole` (trusting
//! `workspaces.amazonaws.com`) unless its seed sets `has_default_role: false`; the account's
//! customer roles are found too. Any other name answers `NoSuchEntity` (HTTP 404), in IAM's
//! error shape. The emulator models no IAM permissions: any caller may read its own account's
//! roles.

use crate::error::{ApiError, ApiResult};
use crate::identity::Caller;
use crate::model::{PARTNER_ACCOUNT, World};
use crate::protocol::xml_escape;
use crate::service_clock::iso8601;
use serde_json::json;
use std::collections::HashMap;

pub const NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
/// The role WorkSpaces assumes to manage an account's directories.
pub const DEFAULT_ROLE: &str = "workspaces_DefaultRole";

/// A role as GetRole shows it.
struct RoleView {
    name: String,
    role_id: String,
    trust: serde_json::Value,
    max_session_seconds: u32,
    created_ms: i64,
}

fn validation(what: &str) -> ApiError {
    ApiError::new(
        "ValidationError",
        format!(
            "1 validation error detected: Value at 'roleName' failed to satisfy constraint: {what}"
        ),
    )
}

fn role_name_ok(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
}

/// The trust policy of a customer role: the accounts it trusts, with the ExternalId condition.
fn customer_trust(accounts: &[String], external_id: Option<&str>) -> serde_json::Value {
    let principals: Vec<String> = accounts
        .iter()
        .map(|a| format!("arn:aws:iam::{a}:root"))
        .collect();
    let mut statement = json!({
        "Effect": "Allow",
        "Principal": {"AWS": if principals.len() == 1 { json!(principals[0]) } else { json!(principals) }},
        "Action": "sts:AssumeRole",
    });
    if let Some(id) = external_id {
        statement["Condition"] = json!({"StringEquals": {"sts:ExternalId": id}});
    }
    json!({"Version": "2012-10-17", "Statement": [statement]})
}

fn find(w: &World, account: &str, name: &str) -> Option<RoleView> {
    let a = w.accounts.get(account)?;
    if name == DEFAULT_ROLE && a.has_default_role && account != PARTNER_ACCOUNT {
        let suffix = account.get(account.len().saturating_sub(6)..).unwrap_or("");
        return Some(RoleView {
            name: DEFAULT_ROLE.into(),
            role_id: format!("AROAEMUDEFAULT{suffix}"),
            trust: json!({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "workspaces.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }]}),
            max_session_seconds: 3600,
            created_ms: a.iam_created_ms,
        });
    }
    let r = a.roles.get(name)?;
    Some(RoleView {
        name: r.name.clone(),
        role_id: r.role_id.clone(),
        trust: customer_trust(&r.trusted_accounts, r.external_id.as_deref()),
        max_session_seconds: r.max_session_seconds,
        created_ms: a.iam_created_ms,
    })
}

/// `GetRole`: the `<GetRoleResult>` of a role of the caller's account.
pub fn get_role(caller: &Caller, w: &World, p: &HashMap<String, String>) -> ApiResult<String> {
    let name = p.get("RoleName").ok_or_else(|| {
        ApiError::new(
            "ValidationError",
            "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null",
        )
    })?;
    if !role_name_ok(name) {
        return Err(validation(
            "Member must satisfy regular expression pattern: [\\w+=,.@-]+ and length 1-64",
        ));
    }
    let role = find(w, &caller.account, name).ok_or_else(|| {
        ApiError::new(
            "NoSuchEntity",
            "The role with the requested name cannot be found.",
        )
        .with_status(404)
    })?;
    let document: String =
        form_urlencoded::byte_serialize(role.trust.to_string().as_bytes()).collect();
    Ok(format!(
        "<GetRoleResult><Role><Path>/</Path><AssumeRolePolicyDocument>{}</AssumeRolePolicyDocument><MaxSessionDuration>{}</MaxSessionDuration><RoleId>{}</RoleId><RoleLastUsed/><RoleName>{}</RoleName><Arn>arn:aws:iam::{}:role/{}</Arn><CreateDate>{}</CreateDate></Role></GetRoleResult>",
        xml_escape(&document),
        role.max_session_seconds,
        xml_escape(&role.role_id),
        xml_escape(&role.name),
        caller.account,
        xml_escape(&role.name),
        iso8601(role.created_ms)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_follow_the_model() {
        assert!(role_name_ok("workspaces_DefaultRole"));
        assert!(role_name_ok("a+b=c,d.e@f-g"));
        assert!(!role_name_ok(""));
        assert!(!role_name_ok("has space"));
        assert!(!role_name_ok(&"x".repeat(65)));
    }

    #[test]
    fn trust_of_a_customer_role_names_the_partner_and_the_external_id() {
        let t = customer_trust(&["111122223333".into()], Some("ext"));
        // Compared as documents: key order depends on serde_json's features, which a
        // workspace build unifies (preserve_order).
        assert_eq!(
            t,
            serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"sts:ExternalId": "ext"}}
                }]
            })
        );
    }
}
