//! Per-tenant sessions: a tenant is reached only through its own role, assumed with its
//! ExternalId — or, for a self-managed (access-key) tenant, through the key pair its secret
//! holds — and [`ClientFactory`] keeps one SDK configuration per tenant and Region whose
//! identity cache holds the credentials until shortly before they expire.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use aws_config::identity::IdentityCache;
use aws_config::sts::AssumeRoleProvider;
use aws_config::{Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::client::http::SharedHttpConnector;

use super::https_connector;
use super::secret_credentials::SecretKeyPair;
use super::signed::{CachedCredentials, Service, SignedClient, SignedGateway};
use crate::config::AccessSettings;
use crate::gateway::directory_service::DirectoryServiceClient;
use crate::gateway::ec2::Ec2Client;
use crate::gateway::iam::IamClient;
use crate::gateway::secrets::SecretsClient;
use crate::gateway::service_quotas::ServiceQuotasClient;
use crate::ids::{RegionName, TenantId};
use crate::model::{Connection, Tenant};
use crate::validate;

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
    pub connection: &'a Connection,
    pub region: &'a RegionName,
}

impl<'a> TenantAccess<'a> {
    pub fn new(tenant: &'a Tenant, region: &'a RegionName) -> Self {
        Self {
            tenant_id: &tenant.tenant_id,
            connection: &tenant.connection,
            region,
        }
    }
}

impl fmt::Debug for TenantAccess<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantAccess")
            .field("tenant_id", self.tenant_id)
            .field("connection", &self.connection.kind())
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
    /// The credentials of the signed (SDK-less) clients, shared by all of them.
    credentials: Option<CachedCredentials>,
}

/// The signed clients' connector, built (reading the root certificates) only when a handler
/// first needs one — onboarding's offers, pre-flight — not at every cold start.
type LazyConnector = std::sync::Arc<std::sync::OnceLock<SharedHttpConnector>>;

fn connector(lazy: &LazyConnector) -> SharedHttpConnector {
    lazy.get_or_init(https_connector).clone()
}

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

    /// A signed client of `service` as the tenant, sharing the tenant's credentials.
    pub fn signed(&self, service: Service) -> SignedClient {
        let client = SignedClient::new(
            service,
            &self.config,
            connector(&self.connector),
            &self.settings,
        );
        match &self.credentials {
            Some(c) => client.with_credentials(c.clone()),
            None => client,
        }
    }

    /// A gateway of a service spoken through [`SignedClient`], as the tenant.
    fn gateway<G: SignedGateway>(&self) -> G {
        G::from_signed(self.signed(G::SERVICE))
    }

    /// EC2: DescribeImages (the customer's AMIs offered for import) and DescribeSubnets.
    pub fn ec2(&self) -> Ec2Client {
        self.gateway()
    }

    /// Directory Service: DescribeDirectories (the directories offered at onboarding).
    pub fn directory_service(&self) -> DirectoryServiceClient {
        self.gateway()
    }

    /// IAM (global): GetRole (pre-flight's `workspaces_DefaultRole`).
    pub fn iam(&self) -> IamClient {
        self.gateway()
    }

    /// Service Quotas: GetServiceQuota (pre-flight's WorkSpaces quota).
    pub fn service_quotas(&self) -> ServiceQuotasClient {
        self.gateway()
    }
}

struct CacheEntry {
    connection: Connection,
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
    /// The configuration access-key tenants' secrets are read with: the base one, unless a
    /// sandbox serves Secrets Manager elsewhere ([`ClientFactory::with_secrets_config`]).
    secrets_config: SdkConfig,
    settings: AccessSettings,
    connector: LazyConnector,
    cache: Mutex<HashMap<(TenantId, RegionName), CacheEntry>>,
}

impl ClientFactory {
    pub fn new(base: SdkConfig, settings: AccessSettings) -> Self {
        Self {
            secrets_config: base.clone(),
            base,
            settings,
            connector: LazyConnector::default(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The same factory with the signed clients (EC2, Directory Service, IAM, Service
    /// Quotas, Secrets Manager) on `connector` instead of the HTTPS one (a recording or
    /// replaying connector in tests).
    pub fn with_connector(self, connector: SharedHttpConnector) -> Self {
        let lazy = LazyConnector::default();
        let _ = lazy.set(connector);
        Self {
            connector: lazy,
            ..self
        }
    }

    /// The same factory reading access-key tenants' secrets with `config` (still the
    /// partner's identity) — for a sandbox whose Secrets Manager is not at the base
    /// configuration's endpoint.
    pub fn with_secrets_config(mut self, config: SdkConfig) -> Self {
        self.secrets_config = config;
        self
    }

    /// The partner account's own configuration (for the table, the event bus).
    pub fn base(&self) -> &SdkConfig {
        &self.base
    }

    /// Secrets Manager as the partner (where access-key tenants' secrets live).
    pub fn secrets(&self) -> SecretsClient {
        SecretsClient::new(
            &self.secrets_config,
            connector(&self.connector),
            &self.settings,
        )
    }

    /// Clients acting as the tenant's role in `access.region`. Nothing is called here:
    /// the role is assumed on the first request and re-assumed shortly before expiry.
    pub async fn for_tenant(&self, access: TenantAccess<'_>) -> TenantClients {
        let key = (access.tenant_id.clone(), access.region.clone());
        if let Some(hit) = self.cached(&key, access) {
            return hit;
        }
        let provider = match access.connection {
            Connection::AssumeRole {
                role_arn,
                external_id,
            } => SharedCredentialsProvider::new(
                AssumeRoleProvider::builder(role_arn.as_str())
                    .external_id(external_id.expose())
                    .session_name(session_name(access.tenant_id))
                    .session_length(self.settings.session_duration)
                    .region(Region::new(access.region.to_string()))
                    .configure(&self.base)
                    .build()
                    .await,
            ),
            Connection::AccessKey {
                credentials_secret_arn,
            } => SharedCredentialsProvider::new(SecretKeyPair::new(
                self.secrets(),
                credentials_secret_arn.clone(),
                &self.settings,
            )),
        };
        let cached = CachedCredentials::new(provider, self.settings.refresh_buffer);
        let config = self
            .base
            .to_builder()
            .region(Region::new(access.region.to_string()))
            // The SDK clients and the signed ones share one cache: one AssumeRole (or secret
            // read) per session, whichever client asks first.
            .credentials_provider(SharedCredentialsProvider::new(cached.clone()))
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
            credentials: Some(cached),
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
                connection: access.connection.clone(),
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
            // A tenant whose role, ExternalId or secret changed gets a new session.
            .filter(|e| &e.connection == access.connection)
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

#[cfg(test)]
mod tests {
    use super::*;

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
