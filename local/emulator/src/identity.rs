//! Who is calling: the access key id and region from the SigV4
//! `Authorization` header (the signature itself is not verified). A key the emulator issued
//! (an AssumeRole session, or a customer's IAM user key) acts in its account; any other key
//! acts as the partner.

use super::error::ApiError;
use super::model::{PARTNER_ACCOUNT, World};
use super::service_clock::Millis;

#[derive(Debug, Clone, PartialEq)]
pub struct SigV4Scope {
    pub access_key_id: String,
    pub region: String,
    pub service: String,
}

/// Parses `AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/workspaces/aws4_request, ...`.
pub fn parse_authorization(header: &str) -> Option<SigV4Scope> {
    let rest = header.trim().strip_prefix("AWS4-HMAC-SHA256")?;
    let cred = rest
        .split(',')
        .map(str::trim)
        .find_map(|part| part.strip_prefix("Credential="))?;
    let mut it = cred.split('/');
    let access_key_id = it.next()?.to_string();
    let _date = it.next()?;
    let region = it.next()?.to_string();
    let service = it.next()?.to_string();
    if access_key_id.is_empty() || region.is_empty() {
        return None;
    }
    Some(SigV4Scope {
        access_key_id,
        region,
        service,
    })
}

#[derive(Debug, Clone, PartialEq)]
pub enum Principal {
    /// Long-term (non-emulator) credentials: the partner account.
    Partner,
    /// Credentials issued by the emulator's AssumeRole.
    AssumedRole {
        role_name: String,
        role_id: String,
        session_name: String,
    },
    /// A customer account's IAM user, by a long-term access key (see `access_keys`).
    IamUser {
        user_name: String,
        user_id: String,
        /// The customer role whose tag policy the user is held to.
        policy_role: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub account: String,
    pub region: String,
    pub principal: Principal,
    pub access_key_id: String,
}

impl Caller {
    pub fn arn(&self) -> String {
        match &self.principal {
            Principal::Partner => format!("arn:aws:iam::{}:user/steward-partner", self.account),
            Principal::AssumedRole {
                role_name,
                session_name,
                ..
            } => format!(
                "arn:aws:sts::{}:assumed-role/{role_name}/{session_name}",
                self.account
            ),
            Principal::IamUser { user_name, .. } => {
                format!("arn:aws:iam::{}:user/{user_name}", self.account)
            }
        }
    }
    pub fn user_id(&self) -> String {
        match &self.principal {
            Principal::Partner => "AIDAEMULATORPARTNER1".to_string(),
            Principal::AssumedRole {
                role_id,
                session_name,
                ..
            } => format!("{role_id}:{session_name}"),
            Principal::IamUser { user_id, .. } => user_id.clone(),
        }
    }
}

/// Emulator-issued access keys start with this prefix.
pub const ISSUED_PREFIX: &str = "ASIAEMU";

pub const DEFAULT_REGION: &str = "us-east-1";

/// Resolves the caller. `enforce_expiry` checks the session against `now`.
pub fn resolve(
    world: &World,
    scope: Option<&SigV4Scope>,
    now: Millis,
    enforce_expiry: bool,
    expired_status: u16,
) -> Result<Caller, ApiError> {
    let region = scope
        .map_or(DEFAULT_REGION, |s| s.region.as_str())
        .to_string();
    let access_key_id = scope.map_or("", |s| s.access_key_id.as_str()).to_string();
    if let Some(session) = world.sessions.get(&access_key_id) {
        if enforce_expiry && now >= session.expires_ms {
            return Err(ApiError::new(
                "ExpiredTokenException",
                "The security token included in the request is expired",
            )
            .with_status(expired_status));
        }
        return Ok(Caller {
            account: session.account.clone(),
            region,
            principal: Principal::AssumedRole {
                role_name: session.role_name.clone(),
                role_id: session.role_id.clone(),
                session_name: session.session_name.clone(),
            },
            access_key_id,
        });
    }
    if let Some(key) = world.access_keys.get(&access_key_id) {
        return Ok(Caller {
            account: key.account_id.clone(),
            region,
            principal: Principal::IamUser {
                user_name: key.user_name.clone(),
                user_id: key.user_id.clone(),
                policy_role: key.policy_role.clone(),
            },
            access_key_id,
        });
    }
    if access_key_id.starts_with(ISSUED_PREFIX)
        || access_key_id.starts_with(super::access_keys::USER_KEY_PREFIX)
    {
        return Err(ApiError::new(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
        .with_status(403));
    }
    Ok(Caller {
        account: PARTNER_ACCOUNT.to_string(),
        region,
        principal: Principal::Partner,
        access_key_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_credential_scope() {
        let h = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/eu-west-1/workspaces/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
        let s = parse_authorization(h).unwrap();
        assert_eq!(s.access_key_id, "AKIDEXAMPLE");
        assert_eq!(s.region, "eu-west-1");
        assert_eq!(s.service, "workspaces");
        assert_eq!(parse_authorization("Bearer x"), None);
    }

    #[test]
    fn unknown_keys_are_the_partner_and_unknown_issued_keys_are_rejected() {
        let w = World::default();
        let c = resolve(&w, None, 0, true, 400).unwrap();
        assert_eq!(c.account, PARTNER_ACCOUNT);
        let scope = SigV4Scope {
            access_key_id: "ASIAEMU0000".into(),
            region: "us-east-1".into(),
            service: "sts".into(),
        };
        let e = resolve(&w, Some(&scope), 0, true, 400).unwrap_err();
        assert_eq!(e.code, "UnrecognizedClientException");
    }
}
