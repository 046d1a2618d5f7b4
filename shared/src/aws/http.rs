//! The HTTP stack every SDK client uses, and the base SDK configuration the tenants'
//! configurations derive from. Connectors are built on first use and shared by every client
//! of one configuration, because reading the system's root certificates is the costly part
//! of a cold start.

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::shared::IntoShared;

use crate::config::AccessSettings;

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
