//! Credentials of an access-key tenant: the IAM user key pair kept in a Secrets Manager
//! secret in the partner's account (the self-managed way of connecting the partner guide
//! allows beside AssumeRole with an ExternalId).
//!
//! The secret is read with the partner's own configuration (Steward's Lambda role: the
//! secret is the partner's), kept for [`AccessSettings::secret_cache`], and handed out as
//! credentials that "expire" `refresh_buffer` after the cache ends — identity caches
//! (the SDK's lazy cache, [`super::signed::CachedCredentials`]) refresh `refresh_buffer`
//! before expiry, so they come back at the cache's end and a rotated key is picked up
//! within the cache time. Failures are [`CredentialsError`]s whose message names the
//! problem (denied, not found, malformed and which field) and never the secret's value.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, error::CredentialsError, future};

use super::AwsErrorKind;
use crate::config::AccessSettings;
use crate::gateway::secrets::{AccessKeyPair, SecretError, SecretsClient};
use crate::ids::SecretArn;

/// The credentials' provider name (shown by the SDK's tracing).
const PROVIDER: &str = "StewardTenantSecret";

/// Reads the tenant's key pair from its secret, and keeps it for the cache time.
#[derive(Debug)]
pub struct SecretKeyPair {
    client: SecretsClient,
    secret: SecretArn,
    cache: Duration,
    refresh_buffer: Duration,
    held: Mutex<Option<Held>>,
}

#[derive(Debug)]
struct Held {
    pair: AccessKeyPair,
    read_at: SystemTime,
}

impl SecretKeyPair {
    /// `client` carries the partner's configuration.
    pub fn new(client: SecretsClient, secret: SecretArn, settings: &AccessSettings) -> Self {
        Self {
            client,
            secret,
            cache: settings.secret_cache,
            refresh_buffer: settings.refresh_buffer,
            held: Mutex::new(None),
        }
    }

    /// The held pair while the cache lasts, else the secret read again.
    pub async fn credentials(&self) -> Result<Credentials, CredentialsError> {
        let now = SystemTime::now();
        let held = {
            let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            held.as_ref()
                .filter(|h| now < h.read_at + self.cache)
                .map(|h| (h.pair.clone(), h.read_at))
        };
        let (pair, read_at) = match held {
            Some(hit) => hit,
            None => {
                let pair = self.client.key_pair(&self.secret).await.map_err(failure)?;
                *self.held.lock().unwrap_or_else(|p| p.into_inner()) = Some(Held {
                    pair: pair.clone(),
                    read_at: now,
                });
                (pair, now)
            }
        };
        Ok(Credentials::new(
            pair.access_key_id.clone(),
            pair.secret_access_key(),
            None,
            Some(read_at + self.cache + self.refresh_buffer),
            PROVIDER,
        ))
    }
}

/// A failed read as the SDK's credentials error: `provider_error` for a refusal or a
/// malformed secret (the tenant cannot be reached until someone fixes it), `not_loaded` for
/// a transient failure.
fn failure(e: SecretError) -> CredentialsError {
    let problem = match &e {
        SecretError::Call(call) => match call.kind {
            AwsErrorKind::AccessDenied => "Steward may not read the tenant's secret (denied)",
            AwsErrorKind::NotFound => "the tenant's secret was not found",
            AwsErrorKind::Throttled | AwsErrorKind::Transient => {
                return CredentialsError::not_loaded(format!(
                    "the tenant's secret could not be read now: {e}"
                ));
            }
            _ => "reading the tenant's secret failed",
        },
        _ => "the tenant's secret is malformed",
    };
    CredentialsError::provider_error(Named(format!("{problem}: {e}")))
}

/// A message as an error source.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Named(String);

impl ProvideCredentials for SecretKeyPair {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.credentials())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_config::Region;
    use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
    use aws_smithy_runtime_api::client::http::SharedHttpConnector;
    use aws_smithy_types::body::SdkBody;

    const ARN: &str = "arn:aws:secretsmanager:us-east-1:999988887777:secret:steward/acme-AbCdEf";

    fn secret(key_id: &str) -> ReplayEvent {
        let value = serde_json::json!({"accessKeyId": key_id, "secretAccessKey": "s3cr3t"});
        let body = serde_json::json!({"ARN": ARN, "SecretString": value.to_string()});
        ReplayEvent::new(
            http::Request::builder()
                .uri("http://localhost:4566/")
                .body(SdkBody::empty())
                .unwrap(),
            http::Response::builder()
                .status(200)
                .body(SdkBody::from(body.to_string()))
                .unwrap(),
        )
    }

    async fn provider(http: &StaticReplayClient, cache: Duration) -> SecretKeyPair {
        let base =
            aws_config::SdkConfig::builder()
                .region(Region::new("us-east-1"))
                .endpoint_url("http://localhost:4566")
                .credentials_provider(
                    aws_credential_types::provider::SharedCredentialsProvider::new(
                        Credentials::new("AKIDPARTNER", "partner", None, None, "test"),
                    ),
                )
                .build();
        let settings = AccessSettings {
            secret_cache: cache,
            refresh_buffer: Duration::from_secs(120),
            max_attempts: 1,
            ..AccessSettings::default()
        };
        let client = SecretsClient::new(&base, SharedHttpConnector::new(http.clone()), &settings);
        SecretKeyPair::new(client, SecretArn::parse(ARN).unwrap(), &settings)
    }

    #[tokio::test]
    async fn the_pair_is_kept_for_the_cache_time_and_expires_a_buffer_after_it() {
        let http = StaticReplayClient::new(vec![secret("AKIAFIRST"), secret("AKIASECOND")]);
        let p = provider(&http, Duration::from_secs(300)).await;
        let before = SystemTime::now();
        let a = p.credentials().await.unwrap();
        let b = p.credentials().await.unwrap();
        assert_eq!(http.actual_requests().count(), 1);
        assert_eq!(
            (a.access_key_id(), b.access_key_id()),
            ("AKIAFIRST", "AKIAFIRST")
        );
        assert_eq!(a.secret_access_key(), "s3cr3t");
        assert_eq!(a.session_token(), None);
        assert_eq!(a.expiry(), b.expiry());
        let expiry = a.expiry().unwrap();
        // Identity caches refresh `refresh_buffer` (120 s) before expiry: at the cache's end.
        let lives = expiry.duration_since(before).unwrap();
        assert!(
            lives >= Duration::from_secs(420) && lives < Duration::from_secs(421),
            "{lives:?}"
        );
    }

    #[tokio::test]
    async fn with_no_cache_time_each_ask_reads_the_secret() {
        let http = StaticReplayClient::new(vec![secret("AKIAFIRST"), secret("AKIASECOND")]);
        let p = provider(&http, Duration::ZERO).await;
        let a = p.credentials().await.unwrap();
        let b = p.credentials().await.unwrap();
        assert_eq!(http.actual_requests().count(), 2);
        assert_eq!(
            (a.access_key_id(), b.access_key_id()),
            ("AKIAFIRST", "AKIASECOND")
        );
    }

    #[test]
    fn the_debug_output_holds_no_pair() {
        let held = Held {
            pair: AccessKeyPair::new("AKIAFIRST", "s3cr3t"),
            read_at: SystemTime::UNIX_EPOCH,
        };
        assert!(!format!("{held:?}").contains("s3cr3t"));
    }
}
