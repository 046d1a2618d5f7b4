//! What every handler is given: [`Deps`], built once per cold start (configuration, the
//! store, per-tenant AWS clients, the EventBridge client, the clock). It sits on the ground
//! floor of the crate: handlers import it from here, and nothing here imports a handler.

use aws_config::SdkConfig;
use steward_shared::Error;
use steward_shared::aws::{ClientFactory, load_base_config};
use steward_shared::clock::{self, SharedClock};
use steward_shared::config::Config;
use steward_shared::gateway::ItemOutcome;
use steward_shared::gateway::eventbridge::{Outbound, Publisher};
use steward_shared::model::Timestamp;
use steward_shared::store::DynamoStore;

/// Everything a handler needs, built once per cold start.
pub struct Deps {
    pub config: Config,
    pub store: DynamoStore,
    pub clients: ClientFactory,
    pub events: aws_sdk_eventbridge::Client,
    pub clock: SharedClock,
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
            clock: clock::system(),
        }
    }

    /// The same dependencies reading time from `clock` (the sandbox's virtual clock).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Publishes Steward's outbound events on the partner bus. An entry EventBridge refuses
    /// is logged with its reason and returned; the caller decides whether that fails it.
    pub async fn publish(&self, events: &[Outbound]) -> Result<Vec<ItemOutcome>, Error> {
        let publisher = Publisher::new(
            &self.events,
            &self.config.event_bus_name,
            &self.config.event_source,
        );
        let outcomes = publisher.publish(events).await?;
        for (event, outcome) in events.iter().zip(&outcomes) {
            if let ItemOutcome::Failed { code, message } = outcome {
                tracing::error!(detail_type = %event.detail_type, %code, %message, "outbound event refused");
            }
        }
        Ok(outcomes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
