//! Credentials of an access-key tenant: the IAM user key pair kept in a Secrets Manager
//! secret. (Being built: the reader lands with the signed-request client.)

use aws_config::SdkConfig;
use aws_credential_types::provider::{ProvideCredentials, error::CredentialsError, future};

use crate::config::AccessSettings;
use crate::ids::SecretArn;

/// Reads the tenant's key pair from its secret.
#[derive(Debug)]
pub struct SecretKeyPair {
    secret: SecretArn,
}

impl SecretKeyPair {
    pub fn new(_base: &SdkConfig, secret: SecretArn, _settings: &AccessSettings) -> Self {
        Self { secret }
    }
}

impl ProvideCredentials for SecretKeyPair {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let _ = &self.secret;
        future::ProvideCredentials::ready(Err(CredentialsError::not_loaded(
            "access-key tenants: the Secrets Manager reader is not built yet",
        )))
    }
}
