//! STS (awsQuery): AssumeRole and GetCallerIdentity.

use super::error::{ApiError, ApiResult};
use super::identity::{Caller, ISSUED_PREFIX, Principal};
use super::model::{Session, World};
use super::protocol::{pat, random_hex, random_upper, xml_escape};
use super::service_clock::{Millis, iso8601};
use std::collections::HashMap;

pub const NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

fn validation(msg: impl Into<String>) -> ApiError {
    ApiError::new("ValidationError", msg)
}

fn denied(caller: &Caller, role_arn: &str) -> ApiError {
    ApiError::new(
        "AccessDenied",
        format!(
            "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
            caller.arn()
        ),
    )
    .with_status(403)
}

/// Splits `arn:aws:iam::<account>:role/<path/>name`.
fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, res) = rest.split_once(':')?;
    let path = res.strip_prefix("role/")?;
    let name = path.rsplit('/').next()?;
    (pat::aws_account(account) && !name.is_empty()).then_some((account, name))
}

pub fn assume_role(
    caller: &Caller,
    w: &mut World,
    p: &HashMap<String, String>,
    now: Millis,
) -> ApiResult<String> {
    let role_arn = p.get("RoleArn").ok_or_else(|| validation("1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null"))?;
    if !pat::len(role_arn, 20, 2048) {
        return Err(validation(
            "1 validation error detected: Value at 'roleArn' failed to satisfy constraint: Member must have length between 20 and 2048",
        ));
    }
    let session_name = p.get("RoleSessionName").ok_or_else(|| validation("1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null"))?;
    if !pat::role_session_name(session_name) {
        return Err(validation(format!(
            "1 validation error detected: Value '{session_name}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and length 2-64"
        )));
    }
    let duration: i64 = match p.get("DurationSeconds") {
        None => 3600,
        Some(d) => d.parse().map_err(|_| {
            validation(format!(
                "Value '{d}' for DurationSeconds is not a valid integer"
            ))
        })?,
    };
    if !(900..=43200).contains(&duration) {
        return Err(validation(format!(
            "1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200"
        )));
    }
    let external_id = p.get("ExternalId");
    if let Some(e) = external_id
        && !pat::external_id(e)
    {
        return Err(validation(
            "1 validation error detected: Value at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]* and length 2-1224",
        ));
    }
    let (account, role_name) =
        parse_role_arn(role_arn).ok_or_else(|| validation(format!("{role_arn} is invalid")))?;
    let role = w
        .accounts
        .get(account)
        .and_then(|a| a.roles.get(role_name))
        .ok_or_else(|| denied(caller, role_arn))?
        .clone();
    if !role.trusted_accounts.contains(&caller.account) {
        return Err(denied(caller, role_arn));
    }
    if role.external_id.is_some() && role.external_id.as_ref() != external_id {
        return Err(denied(caller, role_arn));
    }
    let chained = matches!(caller.principal, Principal::AssumedRole { .. });
    if chained && duration > 3600 {
        return Err(validation(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        ));
    }
    if duration > role.max_session_seconds as i64 {
        return Err(validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }
    let access_key_id = format!("{ISSUED_PREFIX}{}", random_upper(13));
    let secret = random_hex(40);
    let token = format!("FwoGZXIvYXdzE{}", random_hex(96));
    let expires = now + duration * 1000;
    w.sessions.insert(
        access_key_id.clone(),
        Session {
            access_key_id: access_key_id.clone(),
            account: account.to_string(),
            role_name: role.name.clone(),
            role_id: role.role_id.clone(),
            session_name: session_name.clone(),
            expires_ms: expires,
        },
    );
    let assumed_arn = format!(
        "arn:aws:sts::{account}:assumed-role/{}/{session_name}",
        role.name
    );
    Ok(format!(
        "<AssumeRoleResult><Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey><SessionToken>{}</SessionToken><Expiration>{}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>{}:{}</AssumedRoleId><Arn>{}</Arn></AssumedRoleUser><PackedPolicySize>0</PackedPolicySize></AssumeRoleResult>",
        access_key_id,
        secret,
        token,
        iso8601(expires),
        xml_escape(&role.role_id),
        xml_escape(session_name),
        xml_escape(&assumed_arn)
    ))
}

pub fn get_caller_identity(caller: &Caller) -> String {
    format!(
        "<GetCallerIdentityResult><Arn>{}</Arn><UserId>{}</UserId><Account>{}</Account></GetCallerIdentityResult>",
        xml_escape(&caller.arn()),
        xml_escape(&caller.user_id()),
        caller.account
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns() {
        assert_eq!(
            parse_role_arn("arn:aws:iam::123456789012:role/StewardPartnerAccess"),
            Some(("123456789012", "StewardPartnerAccess"))
        );
        assert_eq!(
            parse_role_arn("arn:aws:iam::123456789012:role/path/x/R"),
            Some(("123456789012", "R"))
        );
        assert_eq!(parse_role_arn("arn:aws:iam::1234:role/R"), None);
        assert_eq!(parse_role_arn("arn:aws:iam::123456789012:user/R"), None);
    }
}
