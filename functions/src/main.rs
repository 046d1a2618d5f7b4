//! The one Lambda binary: the function's `Handler` (`_HANDLER`) picks the route.

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use steward_functions::record::metrics;
use steward_functions::{Deps, diagnostic, dispatch, route};

/// mimalloc: with glibc's allocator a sweep spent about a third of its CPU in malloc, free
/// and page faults (perf over `bench sweep`); Lambda bills that time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Silences `lambda_runtime::layers::panic` (see `main`).
const QUIET_PANIC_LAYER: &str = "lambda_runtime::layers::panic=off";

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
                // The runtime's panic layer logs every handler error a second time, as
                // `Diagnostic { .. }` in a message string, after ours below; the release
                // profile aborts on panic, so that layer has nothing else to say.
                .add_directive(QUIET_PANIC_LAYER.parse().expect("a valid directive")),
        )
        .with_current_span(false)
        .without_time()
        .init();
    // Read once, at start: an unknown handler fails the cold start, not every invocation.
    let name = std::env::var("_HANDLER").unwrap_or_default();
    let route = route(&name).inspect_err(|e| tracing::error!(error = %e, "bad handler"))?;
    let deps = Deps::from_env()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "bad configuration"))?;
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let result = dispatch(route.name, event.payload, deps).await;
        metrics::emit(&metrics::invocation(
            deps.now(),
            route.name,
            result.as_ref().map(|_| ()),
        ));
        result.map_err(|e| {
            tracing::error!(handler = route.name, error_type = e.name(), error = %e, "handler failed");
            diagnostic(&e)
        })
    }))
    .await
}
