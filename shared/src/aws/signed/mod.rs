//! Signed AWS requests without an SDK crate, for the few calls Steward makes to services it
//! does not otherwise need (EC2, Directory Service, IAM, Service Quotas, Secrets Manager).
//!
//! Each `aws-sdk-*` crate adds megabytes to the Lambda bootstrap, which sits a few hundred
//! kilobytes under Lambda's 10 MB limit for a zipped artifact, and minutes to the build — for
//! one or two reads each. So this module speaks the two wire protocols those calls use over
//! the pieces the SDKs themselves use: the same HTTP connector (`aws-smithy-http-client`,
//! rustls on ring), the caller's credentials provider (a tenant's role or key pair, or the
//! partner's own), `aws-sigv4` for signing. It does what the SDK's orchestrator would:
//!
//! - **protocols**: awsQuery / ec2Query (a form body with `Action` and `Version`, an XML
//!   answer) and awsJson1_1 (a JSON body, the operation in `X-Amz-Target`);
//! - **endpoint**: the configuration's `endpoint_url` override (how the sandbox and tests
//!   reach local servers), else the service's regional endpoint — or its one global endpoint
//!   and signing Region (IAM);
//! - **credentials**: cached until shortly before they expire ([`CachedCredentials`]), and
//!   shared by every client of one tenant, as the SDK's identity cache would;
//! - **retries**: throttled and transient failures back off exponentially up to the
//!   configured attempts;
//! - **errors**: classified with the same [`AwsErrorKind`] table as every SDK error.
//!
//! Bodies are never logged: a Secrets Manager answer carries a key pair.

mod answers;

pub use answers::{ServiceAnswer, json_error, service_error, xml_error};

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::http::{HttpConnector, SharedHttpConnector};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;

use super::errors::credentials_failure;
use super::{AwsError, AwsErrorKind, chain};
use crate::config::AccessSettings;
use answers::ErrorText;

/// How long one attempt may take, connection included.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(20);
const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";
const JSON_1_1: &str = "application/x-amz-json-1.1";

/// One AWS service as a signed client reaches it (its botocore `metadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Service {
    /// The name errors carry (`EC2`, `IAM`…).
    pub name: &'static str,
    /// The endpoint prefix, which is also the SigV4 signing name for these services.
    pub endpoint_prefix: &'static str,
    /// awsJson1_1's `X-Amz-Target` prefix (`DirectoryService_20150416`); `None` for a query
    /// service.
    pub json_target: Option<&'static str>,
    /// A global service's single endpoint.
    pub global: Option<GlobalEndpoint>,
}

/// The one endpoint of a global service and the Region its requests are signed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlobalEndpoint {
    /// `https://iam.amazonaws.com`.
    pub url: &'static str,
    pub signing_region: &'static str,
}

impl Service {
    /// The service's public endpoint for `region` (China Regions are under
    /// `amazonaws.com.cn`), or its global one.
    pub fn default_endpoint(&self, region: &str) -> String {
        if let Some(g) = self.global {
            return g.url.to_owned();
        }
        let suffix = if region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        format!("https://{}.{region}.{suffix}", self.endpoint_prefix)
    }
}

/// An awsQuery / ec2Query form: `Action`, `Version`, then the call's parameters. (Pairs,
/// encoded by [`QueryForm::finish`]: the encoder itself is neither `Send` nor `Sync`.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryForm {
    action: &'static str,
    pairs: Vec<(String, String)>,
}

impl QueryForm {
    pub fn new(action: &'static str, version: &str) -> Self {
        Self {
            action,
            pairs: vec![
                ("Action".to_owned(), action.to_owned()),
                ("Version".to_owned(), version.to_owned()),
            ],
        }
    }

    pub fn action(&self) -> &'static str {
        self.action
    }

    pub fn pair(&mut self, name: &str, value: &str) -> &mut Self {
        self.pairs.push((name.to_owned(), value.to_owned()));
        self
    }

    /// A flattened list, `<prefix>.1`, `<prefix>.2`… (the query protocols count from 1).
    pub fn list<S: AsRef<str>>(&mut self, prefix: &str, values: &[S]) -> &mut Self {
        for (i, v) in values.iter().enumerate() {
            self.pairs
                .push((format!("{prefix}.{}", i + 1), v.as_ref().to_owned()));
        }
        self
    }

    /// The encoded body.
    pub fn finish(self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&self.pairs)
            .finish()
    }
}

/// Credentials from a provider, kept until `buffer` before they expire and shared by every
/// clone (the clients of one tenant), so a role is assumed or a secret read once per
/// session rather than once per call.
#[derive(Clone)]
pub struct CachedCredentials {
    provider: SharedCredentialsProvider,
    buffer: Duration,
    held: Arc<Mutex<Option<Credentials>>>,
}

impl std::fmt::Debug for CachedCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedCredentials")
            .field("buffer", &self.buffer)
            .finish_non_exhaustive()
    }
}

impl CachedCredentials {
    pub fn new(provider: SharedCredentialsProvider, buffer: Duration) -> Self {
        Self {
            provider,
            buffer,
            held: Arc::default(),
        }
    }

    /// The held credentials while they are fresh, else new ones from the provider.
    pub async fn get(
        &self,
    ) -> Result<Credentials, aws_credential_types::provider::error::CredentialsError> {
        let now = SystemTime::now();
        let fresh = |c: &Credentials| c.expiry().is_none_or(|e| e > now + self.buffer);
        if let Some(c) = self
            .held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .filter(|c| fresh(c))
        {
            return Ok(c.clone());
        }
        let c = self.provider.provide_credentials().await?;
        *self.held.lock().unwrap_or_else(|p| p.into_inner()) = Some(c.clone());
        Ok(c)
    }

    /// Forgets the held credentials (after the service refused them).
    ///
    /// (Also a provider itself, so that an SDK configuration's identity cache shares it.)
    pub fn clear(&self) {
        *self.held.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

impl ProvideCredentials for CachedCredentials {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::new(self.get())
    }
}

/// A gateway of one service spoken through a [`SignedClient`]: how it is made, once for
/// every such gateway (EC2, Directory Service, IAM, Service Quotas).
pub trait SignedGateway: Sized {
    /// The service it speaks.
    const SERVICE: Service;

    /// A gateway over a signed client of [`Self::SERVICE`] (a tenant's, sharing its
    /// credentials: [`crate::aws::TenantClients`]).
    fn from_signed(signed: SignedClient) -> Self;

    /// A gateway on `config`'s Region, credentials and endpoint override (`endpoint_url`, as
    /// the sandbox sets it); otherwise the service's public endpoint.
    fn new(config: &SdkConfig, connector: SharedHttpConnector, settings: &AccessSettings) -> Self {
        Self::from_signed(SignedClient::new(
            Self::SERVICE,
            config,
            connector,
            settings,
        ))
    }
}

/// A client of one service, for one set of credentials and one Region.
#[derive(Clone, Debug)]
pub struct SignedClient {
    service: Service,
    connector: SharedHttpConnector,
    credentials: Option<CachedCredentials>,
    signing_region: String,
    endpoint: String,
    max_attempts: u32,
    initial_backoff: Duration,
}

/// One request body and how it is sent.
struct Payload<'a> {
    operation: &'static str,
    content_type: &'static str,
    target: Option<String>,
    body: &'a str,
}

impl SignedClient {
    /// A client on `config`'s Region, credentials and endpoint override (`endpoint_url`),
    /// otherwise the service's public endpoint.
    pub fn new(
        service: Service,
        config: &SdkConfig,
        connector: SharedHttpConnector,
        settings: &AccessSettings,
    ) -> Self {
        let region = config
            .region()
            .map_or_else(|| "us-east-1".to_owned(), |r| r.to_string());
        let endpoint = config.endpoint_url().map_or_else(
            || service.default_endpoint(&region),
            |u| u.trim_end_matches('/').to_owned(),
        );
        let signing_region = service
            .global
            .map_or(region, |g| g.signing_region.to_owned());
        Self {
            service,
            connector,
            credentials: config
                .credentials_provider()
                .map(|p| CachedCredentials::new(p, settings.refresh_buffer)),
            signing_region,
            endpoint,
            max_attempts: settings.max_attempts.max(1),
            initial_backoff: settings.initial_backoff,
        }
    }

    /// The same client signing with `credentials` (shared with the tenant's other clients).
    pub fn with_credentials(mut self, credentials: CachedCredentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    pub fn service(&self) -> Service {
        self.service
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// An awsQuery / ec2Query call: the XML answer of a 2xx response.
    pub async fn query(&self, form: QueryForm) -> Result<String, AwsError> {
        let operation = form.action();
        let body = form.finish();
        let bytes = self
            .call(Payload {
                operation,
                content_type: FORM,
                target: None,
                body: &body,
            })
            .await?;
        String::from_utf8(bytes.to_vec()).map_err(|e| {
            self.failure(
                operation,
                AwsErrorKind::Transient,
                "response is not UTF-8".into(),
                e,
            )
        })
    }

    /// An awsJson1_1 call: the 2xx answer read as `T`.
    pub async fn json<T: serde::de::DeserializeOwned>(
        &self,
        operation: &'static str,
        input: &serde_json::Value,
    ) -> Result<T, AwsError> {
        let Some(prefix) = self.service.json_target else {
            return Err(self.failure(
                operation,
                AwsErrorKind::Other,
                "not a JSON service".into(),
                ErrorText("no X-Amz-Target prefix".into()),
            ));
        };
        let body = input.to_string();
        let bytes = self
            .call(Payload {
                operation,
                content_type: JSON_1_1,
                target: Some(format!("{prefix}.{operation}")),
                body: &body,
            })
            .await?;
        // serde_json's message names the member and position, never the value.
        serde_json::from_slice(&bytes).map_err(|e| {
            self.failure(
                operation,
                AwsErrorKind::Transient,
                format!("unreadable {operation} response: {e}"),
                e,
            )
        })
    }

    /// Builds an error of this service for a response the gateway could not read.
    pub fn unreadable(
        &self,
        operation: &'static str,
        why: String,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> AwsError {
        self.failure(
            operation,
            AwsErrorKind::Transient,
            format!("unreadable {operation} response: {why}"),
            source,
        )
    }

    /// The call, retried while throttled or transiently failing.
    async fn call(&self, payload: Payload<'_>) -> Result<bytes::Bytes, AwsError> {
        let mut attempt = 1;
        loop {
            match self.attempt(&payload).await {
                Ok(body) => return Ok(body),
                Err(e)
                    if attempt < self.max_attempts
                        && matches!(e.kind, AwsErrorKind::Throttled | AwsErrorKind::Transient) =>
                {
                    let wait = backoff(self.initial_backoff, attempt);
                    tracing::debug!(
                        service = self.service.name,
                        operation = payload.operation,
                        attempt,
                        ?wait,
                        error = %e,
                        "AWS call retried"
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(e) => {
                    if e.kind == AwsErrorKind::AccessDenied
                        && let Some(c) = &self.credentials
                    {
                        c.clear();
                    }
                    return Err(e);
                }
            }
        }
    }

    async fn attempt(&self, payload: &Payload<'_>) -> Result<bytes::Bytes, AwsError> {
        let op = payload.operation;
        let request = self.signed_request(payload).await?;
        let response = tokio::time::timeout(ATTEMPT_TIMEOUT, self.connector.call(request))
            .await
            .map_err(|e| self.failure(op, AwsErrorKind::Transient, "timed out".into(), e))?
            .map_err(|e| self.failure(op, AwsErrorKind::Transient, "unreachable".into(), e))?;
        let status = response.status().as_u16();
        let error_type = response
            .headers()
            .get("x-amzn-errortype")
            .map(str::to_owned);
        let bytes = read_body(response.into_body())
            .await
            .map_err(|e| self.failure(op, AwsErrorKind::Transient, "response body".into(), e))?;
        if (200..300).contains(&status) {
            return Ok(bytes);
        }
        let (code, message) = if payload.target.is_some() {
            json_error(error_type.as_deref(), &bytes)
        } else {
            xml_error(&String::from_utf8_lossy(&bytes))
        };
        Err(service_error(
            self.service.name,
            op,
            ServiceAnswer {
                status,
                code,
                message,
            },
        ))
    }

    async fn signed_request(&self, payload: &Payload<'_>) -> Result<HttpRequest, AwsError> {
        let op = payload.operation;
        let cached = self.credentials.as_ref().ok_or_else(|| {
            self.failure(
                op,
                AwsErrorKind::AccessDenied,
                "no credentials provider configured".into(),
                ErrorText("no credentials provider".into()),
            )
        })?;
        let credentials = cached.get().await.map_err(|e| {
            let (kind, message) =
                credentials_failure(&e).unwrap_or_else(|| (AwsErrorKind::AccessDenied, chain(&e)));
            self.failure(op, kind, message, e)
        })?;
        let identity = credentials.into();
        let uri = format!("{}/", self.endpoint);
        let host = uri
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_default()
            .to_owned();
        let mut headers = vec![
            ("content-type", payload.content_type),
            ("host", host.as_str()),
        ];
        if let Some(t) = &payload.target {
            headers.push(("x-amz-target", t.as_str()));
        }
        let local = |what: &str, e: &dyn std::fmt::Display| {
            self.failure(
                op,
                AwsErrorKind::Other,
                format!("{what}: {e}"),
                ErrorText(e.to_string()),
            )
        };
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.signing_region)
            .name(self.service.endpoint_prefix)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| local("signing parameters", &e))?
            .into();
        let signable = SignableRequest::new(
            "POST",
            uri.as_str(),
            headers.iter().copied(),
            SignableBody::Bytes(payload.body.as_bytes()),
        )
        .map_err(|e| local("request to sign", &e))?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| local("signing", &e))?
            .into_parts();
        let mut builder = http::Request::builder().method("POST").uri(uri.as_str());
        for (name, value) in &headers {
            builder = builder.header(*name, *value);
        }
        let mut request = builder
            .body(SdkBody::from(payload.body.to_owned()))
            .map_err(|e| local("request", &e))?;
        instructions.apply_to_request_http1x(&mut request);
        HttpRequest::try_from(request).map_err(|e| local("request", &e))
    }

    fn failure(
        &self,
        operation: &'static str,
        kind: AwsErrorKind,
        message: String,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> AwsError {
        AwsError::local(self.service.name, operation, kind, message, source)
    }
}

/// The wait before attempt `attempt + 1`: doubling from `initial`, at most [`MAX_BACKOFF`].
pub fn backoff(initial: Duration, attempt: u32) -> Duration {
    initial
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
        .min(MAX_BACKOFF)
}

async fn read_body(body: SdkBody) -> Result<bytes::Bytes, ErrorText> {
    use http_body_util::BodyExt;
    body.collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|e| ErrorText(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const IAM: Service = Service {
        name: "IAM",
        endpoint_prefix: "iam",
        json_target: None,
        global: Some(GlobalEndpoint {
            url: "https://iam.amazonaws.com",
            signing_region: "us-east-1",
        }),
    };
    const DS: Service = Service {
        name: "DirectoryService",
        endpoint_prefix: "ds",
        json_target: Some("DirectoryService_20150416"),
        global: None,
    };

    /// Handlers' futures must be `Send`: so must the clients and their calls' futures.
    #[test]
    fn clients_and_their_calls_are_send() {
        fn send_sync<T: Send + Sync>() {}
        fn send<F: std::future::Future + Send>(_: F) {}
        send_sync::<SignedClient>();
        send_sync::<CachedCredentials>();
        // Compiled, never called: the check is the compiler's.
        let _calls = |c: &SignedClient| {
            send(c.query(QueryForm::new("X", "1")));
            send(c.json::<serde_json::Value>("X", &serde_json::Value::Null));
        };
    }

    #[test]
    fn endpoints_follow_the_partition_or_are_global() {
        assert_eq!(
            DS.default_endpoint("eu-west-1"),
            "https://ds.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            DS.default_endpoint("cn-north-1"),
            "https://ds.cn-north-1.amazonaws.com.cn"
        );
        assert_eq!(
            IAM.default_endpoint("eu-west-1"),
            "https://iam.amazonaws.com"
        );
    }

    #[test]
    fn backoff_doubles_to_a_ceiling() {
        let b = Duration::from_millis(500);
        assert_eq!(backoff(b, 1), b);
        assert_eq!(backoff(b, 3), Duration::from_secs(2));
        assert_eq!(backoff(b, 30), MAX_BACKOFF);
    }

    #[test]
    fn query_forms_flatten_lists_from_one() {
        let mut f = QueryForm::new("DescribeSubnets", "2016-11-15");
        f.list("SubnetId", &["subnet-1", "subnet-2"])
            .pair("NextToken", "a b");
        assert_eq!(f.action(), "DescribeSubnets");
        assert_eq!(
            f.finish(),
            "Action=DescribeSubnets&Version=2016-11-15&SubnetId.1=subnet-1&SubnetId.2=subnet-2&NextToken=a+b"
        );
    }
}
