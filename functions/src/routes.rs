//! The route table: every handler of the one binary by the name its function's `Handler`
//! gives in `template.yaml`, with its input check and sample events. `main` picks one route
//! per cold start; tests and the sandbox's state-machine runner call them through
//! [`dispatch`]. Each family lists its own routes (`onboarding::routes`, `power::routes`,
//! `lifecycle::routes`); this is the one place they are put together.

use futures::future::BoxFuture;
use serde_json::Value;
use steward_shared::Error;
use steward_shared::config::ConfigError;

use crate::deps::Deps;
use crate::input::parses;
use crate::{lifecycle, onboarding, power, query};

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
            "events/query/desktopUser.json",
            "events/query/desktops.json",
            "events/query/directories.json",
            "events/query/imagePermissions.json",
            "events/query/images.json",
            "events/query/planReport.json",
            "events/query/pools.json",
            "events/query/powerPlans.json",
            "events/query/snapshots.json",
            "events/query/tags.json",
            "events/query/usage.json",
            "events/query/userDesktops.json",
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
