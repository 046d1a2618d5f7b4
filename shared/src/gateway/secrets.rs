//! Secrets Manager, for the one read Steward makes there: GetSecretValue of an access-key
//! tenant's secret, a JSON string `{"accessKeyId": "…", "secretAccessKey": "…"}` (the
//! self-managed way of connecting the partner guide allows beside AssumeRole).
//!
//! The secret lives in the partner's account, so it is read with the partner's own
//! configuration, in the secret's Region (from its ARN). Its value is a credential: it never
//! appears in an error, a `Debug` output or a log — errors name the field and the problem
//! only, and the key pair's `Debug` shows the access key id alone. Spoken as awsJson1_1
//! (`secretsmanager.GetSecretValue`) through [`SignedClient`].

use std::fmt;

use aws_config::{Region, SdkConfig};
use aws_smithy_runtime_api::client::http::SharedHttpConnector;
use serde_json::{Value, json};

use crate::aws::signed::{Service, SignedClient};
use crate::aws::{AwsError, AwsErrorKind};
use crate::config::AccessSettings;
use crate::ids::SecretArn;

/// Secrets Manager as [`SignedClient`] reaches it.
pub const SERVICE: Service = Service {
    name: "SecretsManager",
    endpoint_prefix: "secretsmanager",
    json_target: Some("secretsmanager"),
    global: None,
};
const OPERATION: &str = "GetSecretValue";
/// The secret's JSON member holding the access key id.
pub const ACCESS_KEY_ID: &str = "accessKeyId";
/// The secret's JSON member holding the secret access key.
pub const SECRET_ACCESS_KEY: &str = "secretAccessKey";

/// An IAM user's long-term key pair, as its secret holds it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKeyPair {
    pub access_key_id: String,
    secret_access_key: String,
}

impl AccessKeyPair {
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
        }
    }

    /// The secret half, for signing only.
    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }
}

impl fmt::Debug for AccessKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKeyPair")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

/// Why a tenant's key pair could not be read. Never carries the secret's value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// GetSecretValue failed (denied, not found, throttled…: see the error's kind).
    #[error("reading the tenant's secret failed: {0}")]
    Call(#[from] AwsError),
    #[error("the tenant's secret has no SecretString (a binary secret is not a key pair)")]
    NoString,
    #[error("the tenant's secret is not a JSON object")]
    NotAnObject,
    #[error("the tenant's secret has no {field}")]
    MissingField { field: &'static str },
    #[error("the tenant's secret's {field} is not a non-empty string")]
    IllTyped { field: &'static str },
}

impl SecretError {
    /// The AWS failure's kind, for a failed call.
    pub fn kind(&self) -> Option<AwsErrorKind> {
        match self {
            Self::Call(e) => Some(e.kind),
            _ => None,
        }
    }
}

/// A Secrets Manager client with the partner's own configuration.
#[derive(Clone, Debug)]
pub struct SecretsClient {
    config: SdkConfig,
    connector: SharedHttpConnector,
    settings: AccessSettings,
}

impl SecretsClient {
    /// `config` is the partner's base configuration (its credentials and endpoint override);
    /// each read goes to the Region in the secret's ARN.
    pub fn new(
        config: &SdkConfig,
        connector: SharedHttpConnector,
        settings: &AccessSettings,
    ) -> Self {
        Self {
            config: config.clone(),
            connector,
            settings: settings.clone(),
        }
    }

    /// The signed client for `secret`'s Region.
    pub fn signed_for(&self, secret: &SecretArn) -> SignedClient {
        let config = match arn_region(secret.as_str()) {
            Some(region) => self
                .config
                .to_builder()
                .region(Region::new(region.to_owned()))
                .build(),
            None => self.config.clone(),
        };
        SignedClient::new(SERVICE, &config, self.connector.clone(), &self.settings)
    }

    /// GetSecretValue of `secret` (its current version), read as a key pair.
    pub async fn key_pair(&self, secret: &SecretArn) -> Result<AccessKeyPair, SecretError> {
        let input = json!({ "SecretId": secret.as_str() });
        // Read as a bare JSON value: a typed read's error could quote a member's value.
        let answer: Value = self.signed_for(secret).json(OPERATION, &input).await?;
        key_pair_of(&answer)
    }
}

/// The Region of an ARN (`arn:partition:service:region:account:…`).
fn arn_region(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

/// Reads a GetSecretValue answer's `SecretString` as a key pair.
pub fn key_pair_of(answer: &Value) -> Result<AccessKeyPair, SecretError> {
    let Some(Value::String(text)) = answer.get("SecretString") else {
        return Err(SecretError::NoString);
    };
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(text) else {
        return Err(SecretError::NotAnObject);
    };
    let field = |name: &'static str| match fields.get(name) {
        None => Err(SecretError::MissingField { field: name }),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        Some(_) => Err(SecretError::IllTyped { field: name }),
    };
    Ok(AccessKeyPair {
        access_key_id: field(ACCESS_KEY_ID)?,
        secret_access_key: field(SECRET_ACCESS_KEY)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn answer(secret_string: &str) -> Value {
        json!({"ARN": "arn:aws:secretsmanager:us-east-1:111122223333:secret:steward/acme-AbCdEf",
               "Name": "steward/acme", "SecretString": secret_string})
    }

    #[test]
    fn a_pair_reads_and_never_prints_its_secret() {
        let pair = key_pair_of(&answer(&format!(
            r#"{{"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "{SECRET}"}}"#
        )))
        .unwrap();
        assert_eq!(pair.access_key_id, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(pair.secret_access_key(), SECRET);
        let shown = format!("{pair:?}");
        assert_eq!(
            shown,
            r#"AccessKeyPair { access_key_id: "AKIAIOSFODNN7EXAMPLE", secret_access_key: "<redacted>" }"#
        );
    }

    #[test]
    fn each_malformed_secret_is_named_without_its_value() {
        let cases = [
            (json!({"SecretBinary": "AAAA"}), "no SecretString"),
            (answer(SECRET), "not a JSON object"),
            (answer(&format!(r#"["{SECRET}"]"#)), "not a JSON object"),
            (
                answer(&format!(r#"{{"secretAccessKey": "{SECRET}"}}"#)),
                "has no accessKeyId",
            ),
            (
                answer(r#"{"accessKeyId": "AKIAIOSFODNN7EXAMPLE"}"#),
                "has no secretAccessKey",
            ),
            (
                answer(&format!(
                    r#"{{"accessKeyId": 7, "secretAccessKey": "{SECRET}"}}"#
                )),
                "accessKeyId is not a non-empty string",
            ),
            (
                answer(r#"{"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": " "}"#),
                "secretAccessKey is not a non-empty string",
            ),
        ];
        for (answer, expected) in cases {
            let e = key_pair_of(&answer).unwrap_err();
            let text = format!("{e} {e:?}");
            assert!(text.contains(expected), "{text}");
            assert!(!text.contains(SECRET), "{text}");
            assert_eq!(e.kind(), None);
        }
    }

    #[test]
    fn the_region_comes_from_the_arn() {
        assert_eq!(
            arn_region("arn:aws:secretsmanager:eu-west-1:111122223333:secret:x-AbCdEf"),
            Some("eu-west-1")
        );
        assert_eq!(arn_region("arn:aws:secretsmanager::1:secret:x"), None);
    }
}
