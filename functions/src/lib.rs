//! Steward's Lambda entry points. The functions will share one binary: the function's
//! `Handler` setting (the `_HANDLER` variable) names the handler to run, which keeps the
//! number of binaries that link the AWS SDKs at one. The binary arrives with the first
//! handler (onboarding).
//!
//! `main` builds [`Deps`] once per cold start and hands them by reference to plain
//! `async fn handler(event, &Deps)` functions that tests call directly.

use aws_config::SdkConfig;
use lambda_runtime::Diagnostic;
use steward_shared::Error;
use steward_shared::aws::{ClientFactory, load_base_config};
use steward_shared::config::Config;
use steward_shared::store::DynamoStore;

/// Everything a handler needs, built once per cold start.
pub struct Deps {
    pub config: Config,
    pub store: DynamoStore,
    pub clients: ClientFactory,
    pub events: aws_sdk_eventbridge::Client,
}

impl Deps {
    /// Reads the environment once and builds the clients.
    pub async fn from_env() -> Result<Self, Error> {
        let config = Config::from_env()?;
        let base = load_base_config(&config.access).await;
        Ok(Self::with_sdk_config(config, base))
    }

    /// Builds the dependencies on a given SDK configuration (tests, the sandbox).
    pub fn with_sdk_config(config: Config, base: SdkConfig) -> Self {
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&base), &config.table_name);
        let events = aws_sdk_eventbridge::Client::new(&base);
        let clients = ClientFactory::new(base, config.access.clone());
        Self {
            config,
            store,
            clients,
            events,
        }
    }
}

/// What Lambda reports for a failed invocation: the stable error name as the error type,
/// which the state machines' Retry and Catch match on.
pub fn diagnostic(err: &Error) -> Diagnostic {
    Diagnostic {
        error_type: err.name().to_owned(),
        error_message: err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_shared::validate::{Problem, ValidationError};

    #[test]
    fn diagnostics_carry_the_stable_name() {
        let err: Error = ValidationError::new("detail.workspaceId", Problem::Missing).into();
        let d = diagnostic(&err);
        assert_eq!(d.error_type, "Steward.ValidationError");
        assert_eq!(d.error_message, "invalid detail.workspaceId: is required");
    }

    #[tokio::test]
    async fn deps_use_the_configured_table() {
        let config = steward_shared::config::Config::from_lookup(|k| match k {
            "STEWARD_TABLE_NAME" => Some("steward-test".into()),
            "STEWARD_EVENT_BUS_NAME" => Some("steward-partner".into()),
            _ => None,
        })
        .unwrap();
        let base = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        let deps = Deps::with_sdk_config(config, base);
        assert_eq!(deps.store.table(), "steward-test");
        assert_eq!(
            deps.clients.base().region().map(|r| r.as_ref()),
            Some("us-east-1")
        );
    }
}
