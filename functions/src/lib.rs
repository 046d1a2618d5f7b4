//! Steward's Lambda entry points.
//!
//! Every function shares one binary (`steward`): the function's `Handler` setting (the
//! `_HANDLER` variable) names the route to run, which keeps the number of binaries that
//! link the AWS SDKs at one. `main` builds [`Deps`] once per cold start and hands them by
//! reference to plain `async fn handler(event, &Deps)` functions that tests and the local
//! state-machine runner call directly, through [`dispatch`].

pub mod lifecycle;
pub mod onboarding;
pub mod permissions;
pub mod power;
pub mod query;
pub mod record;

use aws_config::SdkConfig;
use futures::future::BoxFuture;
use lambda_runtime::Diagnostic;
use serde_json::Value;
use steward_shared::Error;
use steward_shared::aws::{ClientFactory, load_base_config};
use steward_shared::clock::{self, SharedClock};
use steward_shared::config::{Config, ConfigError};
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

/// A handler as the binary and the runner call it.
pub type Handler = for<'a> fn(Value, &'a Deps) -> BoxFuture<'a, Result<Value, Error>>;

/// Parses an event into a handler's input type without acting on it (tests check every
/// sample in `events/` with it).
pub type InputCheck = fn(Value) -> Result<(), Error>;

/// A named handler. The name is the function's `Handler` in `template.yaml`.
#[derive(Clone, Copy)]
pub struct Route {
    pub name: &'static str,
    pub run: Handler,
    /// Parses the handler's input.
    pub input: InputCheck,
    /// Sample events of this handler, relative to the repository root.
    pub samples: &'static [&'static str],
}

/// An [`InputCheck`] for a handler whose input is `T`.
pub fn parses<T: serde::de::DeserializeOwned>(event: Value) -> Result<(), Error> {
    parse_input::<T>(event).map(|_| ())
}

/// Every handler of the binary.
pub fn routes() -> Vec<Route> {
    let mut all = onboarding::routes();
    all.extend(power::routes());
    all.extend(lifecycle::routes());
    all.push(Route {
        name: "query",
        run: |event, deps| futures::FutureExt::boxed(query::handler(event, deps)),
        input: parses::<query::Query>,
        samples: &[
            "events/query/account.json",
            "events/query/audit.json",
            "events/query/bundles.json",
            "events/query/desktops.json",
            "events/query/directories.json",
            "events/query/imagePermissions.json",
            "events/query/images.json",
            "events/query/snapshots.json",
            "events/query/tags.json",
            "events/query/usage.json",
        ],
    });
    all
}

/// The route called `name`, or a configuration error naming what is known.
pub fn route(name: &str) -> Result<Route, Error> {
    routes()
        .into_iter()
        .find(|r| r.name == name)
        .ok_or_else(|| {
            ConfigError::Invalid {
                name: "_HANDLER",
                why: format!("no handler named `{name}`"),
            }
            .into()
        })
}

/// Runs the handler called `name` on `event`.
pub async fn dispatch(name: &str, event: Value, deps: &Deps) -> Result<Value, Error> {
    let route = route(name)?;
    (route.run)(event, deps).await
}

/// What Lambda reports for a failed invocation: the stable error name as the error type,
/// which the state machines' Retry and Catch match on.
pub fn diagnostic(err: &Error) -> Diagnostic {
    Diagnostic {
        error_type: err.name().to_owned(),
        error_message: err.to_string(),
    }
}

/// Reads a handler's input, naming the first thing wrong with it and quoting nothing it was
/// sent ([`steward_shared::redact`]): a key on the way that is not a plain name is shown as
/// `?`.
pub fn parse_input<T: serde::de::DeserializeOwned>(event: Value) -> Result<T, Error> {
    use serde_path_to_error::Segment;
    serde_path_to_error::deserialize(event).map_err(|e| {
        let mut path = String::new();
        for segment in e.path().iter() {
            match segment {
                Segment::Seq { index } => path.push_str(&format!("[{index}]")),
                Segment::Map { key } | Segment::Enum { variant: key } => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(if steward_shared::redact::is_plain_name(key) {
                        key
                    } else {
                        "?"
                    });
                }
                Segment::Unknown => path.push_str(".?"),
            }
        }
        if path.is_empty() {
            path.push('.');
        }
        Error::refused(
            steward_shared::error::names::VALIDATION,
            format!(
                "invalid input at `{path}`: {}",
                steward_shared::redact::serde_message(&e.into_inner().to_string())
            ),
        )
    })
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

    #[test]
    fn route_names_are_unique_and_unknown_names_are_refused() {
        let all = routes();
        let mut names: Vec<_> = all.iter().map(|r| r.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
        let err = route("no.such_handler").err().map(|e| e.name());
        assert_eq!(err, Some("Steward.ConfigError"));
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
