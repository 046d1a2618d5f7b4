//! The AWS access layer: the base SDK configuration, per-tenant role sessions, and the
//! classification of AWS errors into Steward's stable names.
//!
//! A tenant is reached only through its own role, assumed with its ExternalId for a short
//! session. [`ClientFactory`] keeps one SDK configuration per tenant and Region whose
//! identity cache holds the assumed credentials until shortly before they expire, so a
//! warm Lambda makes one AssumeRole per tenant per session, not one per call.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Mutex;

use aws_config::identity::IdentityCache;
use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::shared::IntoShared;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::config::AccessSettings;
use crate::gateway::ec2::Ec2Client;
use crate::ids::{ExternalId, RegionName, RoleArn, TenantId};
use crate::model::Tenant;
use crate::validate;

/// The partner account's own SDK configuration: region, credentials and endpoints from the
/// environment (including `AWS_ENDPOINT_URL[_<SERVICE>]`), adaptive retries for
/// WorkSpaces' low API rate (2 requests/s, bursts of 5).
pub async fn load_base_config(settings: &AccessSettings) -> SdkConfig {
    sdk_defaults()
        .retry_config(retry_config(settings))
        .load()
        .await
}

/// The HTTP client of every SDK client: hyper with rustls on ring, trusting the system's
/// roots (the SDK crates are built without `default-https-client`, which links aws-lc).
///
/// Every SDK client made from one configuration shares it (the tenants' configurations
/// derive from the base one): its connectors, one per timeout setting, are built when a
/// request first needs them and then cached, so the system's root certificates are read
/// once. The SDK's own client would also build a throw-away connector — reading and
/// parsing every root certificate again — each time an SDK client is created (its
/// `validate_base_client_config`), which a sweep does for every tenant it visits.
/// (Not a process-wide static: pooled connections belong to the Tokio runtime that
/// opened them.)
pub fn https_client() -> SharedHttpClient {
    SharedHttpClient::new(OnFirstUse(
        aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https(),
    ))
}

/// An HTTP client whose connectors are built when a request first needs them.
#[derive(Debug)]
struct OnFirstUse(SharedHttpClient);

impl HttpClient for OnFirstUse {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// The same stack as a bare connector, for the one protocol Steward speaks without an SDK
/// (EC2 DescribeImages: see [`crate::gateway::ec2`]).
pub fn https_connector() -> SharedHttpConnector {
    aws_smithy_http_client::Connector::builder()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build()
        .into_shared()
}

/// `aws_config::defaults` with Steward's HTTP client: every SDK configuration starts here.
pub fn sdk_defaults() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).http_client(https_client())
}

/// Adaptive retry: throttled calls back off exponentially and the client rate-limits itself.
pub fn retry_config(settings: &AccessSettings) -> RetryConfig {
    RetryConfig::adaptive()
        .with_max_attempts(settings.max_attempts)
        .with_initial_backoff(settings.initial_backoff)
}

/// The session name Steward uses in a tenant's account: `steward-<tenant>`, so CloudTrail
/// in the customer account says which tenant record a call was made for.
pub fn session_name(tenant: &TenantId) -> String {
    let mut name = format!("steward-{tenant}");
    name.truncate(64);
    debug_assert!(validate::role_session_name("session_name", &name).is_ok());
    name
}

/// What is needed to reach one tenant in one Region.
#[derive(Clone, Copy)]
pub struct TenantAccess<'a> {
    pub tenant_id: &'a TenantId,
    pub role_arn: &'a RoleArn,
    pub external_id: &'a ExternalId,
    pub region: &'a RegionName,
}

impl<'a> TenantAccess<'a> {
    pub fn new(tenant: &'a Tenant, region: &'a RegionName) -> Self {
        Self {
            tenant_id: &tenant.tenant_id,
            role_arn: &tenant.role_arn,
            external_id: &tenant.external_id,
            region,
        }
    }
}

impl fmt::Debug for TenantAccess<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantAccess")
            .field("tenant_id", self.tenant_id)
            .field("role_arn", self.role_arn)
            .field("region", self.region)
            .finish_non_exhaustive()
    }
}

/// A tenant's clients, sharing one cached role session.
#[derive(Clone, Debug)]
pub struct TenantClients {
    config: SdkConfig,
    workspaces: aws_sdk_workspaces::Client,
    connector: LazyConnector,
    settings: AccessSettings,
}

/// The EC2 client's connector, built (reading the root certificates) only when a handler
/// first needs EC2 — onboarding's image offer — not at every cold start.
type LazyConnector = std::sync::Arc<std::sync::OnceLock<SharedHttpConnector>>;

impl TenantClients {
    /// The tenant's SDK configuration, for clients of other services (EC2, STS).
    pub fn config(&self) -> &SdkConfig {
        &self.config
    }

    pub fn workspaces(&self) -> &aws_sdk_workspaces::Client {
        &self.workspaces
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.config)
    }

    /// EC2, for DescribeImages (the customer's AMIs offered for import).
    pub fn ec2(&self) -> Ec2Client {
        let connector = self.connector.get_or_init(https_connector).clone();
        Ec2Client::new(&self.config, connector, &self.settings)
    }
}

struct CacheEntry {
    role_arn: RoleArn,
    external_id: ExternalId,
    clients: TenantClients,
    used: std::time::Instant,
}

/// Tenant sessions a process keeps at most. A warm function that sweeps tenant after
/// tenant would otherwise hold a configuration (and credentials) for every tenant it ever
/// served; past this, the least recently used one is dropped (and re-assumed if needed).
pub const MAX_CACHED_TENANTS: usize = 256;

/// Builds and caches per-tenant clients. Create one per process, at start.
pub struct ClientFactory {
    base: SdkConfig,
    settings: AccessSettings,
    connector: LazyConnector,
    cache: Mutex<HashMap<(TenantId, RegionName), CacheEntry>>,
}

impl ClientFactory {
    pub fn new(base: SdkConfig, settings: AccessSettings) -> Self {
        Self {
            base,
            settings,
            connector: LazyConnector::default(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The partner account's own configuration (for the table, the event bus).
    pub fn base(&self) -> &SdkConfig {
        &self.base
    }

    /// Clients acting as the tenant's role in `access.region`. Nothing is called here:
    /// the role is assumed on the first request and re-assumed shortly before expiry.
    pub async fn for_tenant(&self, access: TenantAccess<'_>) -> TenantClients {
        let key = (access.tenant_id.clone(), access.region.clone());
        if let Some(hit) = self.cached(&key, access) {
            return hit;
        }
        let provider = AssumeRoleProvider::builder(access.role_arn.as_str())
            .external_id(access.external_id.expose())
            .session_name(session_name(access.tenant_id))
            .session_length(self.settings.session_duration)
            .region(Region::new(access.region.to_string()))
            .configure(&self.base)
            .build()
            .await;
        let config = self
            .base
            .to_builder()
            .region(Region::new(access.region.to_string()))
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .identity_cache(
                IdentityCache::lazy()
                    .buffer_time(self.settings.refresh_buffer)
                    .build(),
            )
            .build();
        let clients = TenantClients {
            workspaces: aws_sdk_workspaces::Client::new(&config),
            config,
            connector: self.connector.clone(),
            settings: self.settings.clone(),
        };
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= MAX_CACHED_TENANTS && !cache.contains_key(&key) {
            let oldest = cache
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                cache.remove(&k);
            }
        }
        cache.insert(
            key,
            CacheEntry {
                role_arn: access.role_arn.clone(),
                external_id: access.external_id.clone(),
                clients: clients.clone(),
                used: std::time::Instant::now(),
            },
        );
        clients
    }

    fn cached(
        &self,
        key: &(TenantId, RegionName),
        access: TenantAccess<'_>,
    ) -> Option<TenantClients> {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get_mut(key)
            // A tenant whose role or ExternalId changed gets a new session.
            .filter(|e| &e.role_arn == access.role_arn && &e.external_id == access.external_id)
            .map(|e| {
                e.used = std::time::Instant::now();
                e.clients.clone()
            })
    }

    /// How many tenant sessions are cached (at most [`MAX_CACHED_TENANTS`]).
    pub fn cached_tenants(&self) -> usize {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Forgets a tenant's sessions (e.g. after AccessDenied, so the next call re-assumes).
    pub fn forget(&self, tenant: &TenantId) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.retain(|(t, _), _| t != tenant);
    }
}

/// What kind of failure an AWS call met, which decides whether to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    Throttled,
    Transient,
    AccessDenied,
    NotFound,
    AlreadyExists,
    InvalidState,
    InvalidRequest,
    LimitExceeded,
    Other,
}

/// Error codes the SDK's retry classifier treats as throttling.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

impl AwsErrorKind {
    /// Classifies a service error code (the `__type`, or the XML `Code`).
    pub fn from_code(code: &str) -> Self {
        match code {
            c if THROTTLING_CODES.contains(&c) => Self::Throttled,
            "RequestTimeout"
            | "RequestTimeoutException"
            | "InternalServerException"
            | "InternalFailure"
            | "ServiceUnavailable"
            | "ServiceUnavailableException"
            | "InternalError"
            | "Unavailable" => Self::Transient,
            "AccessDenied"
            | "AccessDeniedException"
            | "UnauthorizedOperation"
            | "ExpiredToken"
            | "ExpiredTokenException"
            | "InvalidClientTokenId"
            | "UnrecognizedClientException"
            | "RegionDisabledException" => Self::AccessDenied,
            "ResourceNotFoundException" | "InvalidAMIID.NotFound" => Self::NotFound,
            "ResourceAlreadyExistsException" => Self::AlreadyExists,
            "InvalidResourceStateException"
            | "OperationInProgressException"
            | "ResourceUnavailableException"
            | "ResourceAssociatedException"
            | "OperationNotSupportedException"
            | "UnsupportedWorkspaceConfigurationException"
            | "UnsupportedNetworkConfigurationException" => Self::InvalidState,
            "InvalidParameterValuesException"
            | "InvalidParameterCombinationException"
            | "ValidationException"
            | "ValidationError"
            | "InvalidAMIID.Malformed"
            | "MalformedPolicyDocument" => Self::InvalidRequest,
            "ResourceLimitExceededException" => Self::LimitExceeded,
            _ => Self::Other,
        }
    }
}

/// An AWS call that failed, with the service's code and message and the SDK error kept.
#[derive(Debug, thiserror::Error)]
#[error("{service}.{operation} failed ({}): {}", .code.as_deref().unwrap_or("no code"), .message.as_deref().unwrap_or("no message"))]
pub struct AwsError {
    pub service: &'static str,
    pub operation: &'static str,
    pub kind: AwsErrorKind,
    pub code: Option<String>,
    pub message: Option<String>,
    #[source]
    pub source: Box<dyn StdError + Send + Sync>,
}

impl AwsError {
    /// A call Steward could not even make (a request it failed to build).
    pub fn local(
        service: &'static str,
        operation: &'static str,
        kind: AwsErrorKind,
        message: String,
        source: impl StdError + Send + Sync + 'static,
    ) -> Self {
        Self {
            service,
            operation,
            kind,
            code: None,
            message: Some(message),
            source: Box::new(source),
        }
    }

    /// Classifies an SDK error. Failures to reach the service are transient, except a
    /// failed AssumeRole (the tenant's role refused us), which is AccessDenied.
    pub fn from_sdk<E, R>(
        service: &'static str,
        operation: &'static str,
        err: SdkError<E, R>,
    ) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
        R: fmt::Debug + Send + Sync + 'static,
    {
        let (kind, code, message) = match &err {
            SdkError::ServiceError(ctx) => {
                let e = ctx.err();
                let code = e.code().map(str::to_owned);
                let kind = code
                    .as_deref()
                    .map_or(AwsErrorKind::Other, AwsErrorKind::from_code);
                (kind, code, e.message().map(str::to_owned))
            }
            SdkError::TimeoutError(_) => (AwsErrorKind::Transient, None, Some("timed out".into())),
            SdkError::ResponseError(_) => (
                AwsErrorKind::Transient,
                None,
                Some("unreadable response".into()),
            ),
            _ => match credentials_failure(&err) {
                Some(message) => (AwsErrorKind::AccessDenied, None, Some(message)),
                None => (AwsErrorKind::Transient, None, Some(chain(&err))),
            },
        };
        Self {
            service,
            operation,
            kind,
            code,
            message,
            source: Box::new(err),
        }
    }
}

/// The message of a credentials failure in `err`'s source chain, if that is what it was.
fn credentials_failure(err: &(dyn StdError + 'static)) -> Option<String> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(c) = e.downcast_ref::<CredentialsError>() {
            return Some(chain(c));
        }
        cur = e.source();
    }
    None
}

/// `err` and its sources, joined with `: `.
pub(crate) fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        out.push_str(": ");
        out.push_str(&e.to_string());
        cur = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_classify() {
        use AwsErrorKind::*;
        assert_eq!(AwsErrorKind::from_code("ThrottlingException"), Throttled);
        assert_eq!(AwsErrorKind::from_code("RequestLimitExceeded"), Throttled);
        assert_eq!(
            AwsErrorKind::from_code("AccessDeniedException"),
            AccessDenied
        );
        assert_eq!(AwsErrorKind::from_code("AccessDenied"), AccessDenied);
        assert_eq!(
            AwsErrorKind::from_code("ResourceNotFoundException"),
            NotFound
        );
        assert_eq!(
            AwsErrorKind::from_code("InvalidResourceStateException"),
            InvalidState
        );
        assert_eq!(
            AwsErrorKind::from_code("InvalidParameterValuesException"),
            InvalidRequest
        );
        assert_eq!(
            AwsErrorKind::from_code("ResourceLimitExceededException"),
            LimitExceeded
        );
        assert_eq!(
            AwsErrorKind::from_code("InternalServerException"),
            Transient
        );
        assert_eq!(AwsErrorKind::from_code("SomethingNew"), Other);
    }

    #[test]
    fn session_names_fit_sts_limits() {
        let t = TenantId::parse("a".repeat(63)).unwrap();
        let name = session_name(&t);
        assert_eq!(name.len(), 64);
        assert!(validate::role_session_name("s", &name).is_ok());
        assert_eq!(
            session_name(&TenantId::parse("acme").unwrap()),
            "steward-acme"
        );
    }
}
