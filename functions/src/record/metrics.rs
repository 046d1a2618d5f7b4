//! Metrics in CloudWatch's Embedded Metric Format: one JSON line on stdout per data point,
//! which CloudWatch Logs turns into metrics without an API call from the function.
//!
//! Every invocation of the binary writes one line in namespace [`NAMESPACE`] (dimension
//! `Handler`, and none for the stack-wide total): `Invocations`, `HandlerFailed` (the
//! handler could not do its work: AWS, the table, configuration) and `HandlerRefused` (the
//! input was refused by name: its record and dead-letter copy are elsewhere). The errors
//! alarm in `template.yaml` watches the dimensionless `HandlerFailed`. The sweeps write theirs
//! in `Steward/Power` (`power::fanout`). Every line goes out through [`emit`].

use serde_json::{Map, Value, json};
use steward_shared::Error;
use steward_shared::model::Timestamp;

/// The namespace of the metrics every handler writes.
pub const NAMESPACE: &str = "Steward";

/// One metric value.
#[derive(Debug, Clone, Copy)]
pub struct Metric<'a> {
    pub name: &'a str,
    pub unit: &'a str,
    pub value: f64,
}

/// An EMF document: `metrics` under `namespace`, reported per the full set of `dimensions`
/// and, when `with_total` is set, with no dimension as well. `properties` are kept in the
/// log line for searching, not as dimensions.
pub fn document(
    at: Timestamp,
    namespace: &str,
    dimensions: &[(&str, &str)],
    with_total: bool,
    metrics: &[Metric<'_>],
    properties: &[(&str, &str)],
) -> Value {
    let names: Vec<&str> = dimensions.iter().map(|(k, _)| *k).collect();
    let mut sets = vec![json!(names)];
    if with_total {
        sets.push(json!([]));
    }
    let mut root = Map::new();
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": sets,
                "Metrics": metrics
                    .iter()
                    .map(|m| json!({"Name": m.name, "Unit": m.unit}))
                    .collect::<Vec<_>>(),
            }]
        }),
    );
    for (k, v) in properties.iter().chain(dimensions) {
        root.insert((*k).to_owned(), json!(v));
    }
    for m in metrics {
        root.insert(m.name.to_owned(), json!(m.value));
    }
    Value::Object(root)
}

/// Writes one metric document as one line on stdout, where CloudWatch Logs reads it.
pub fn emit(document: &Value) {
    println!("{document}");
}

/// The line for one invocation of `handler` that ended in `result`.
pub fn invocation(at: Timestamp, handler: &str, result: Result<(), &Error>) -> Value {
    let (failed, refused, error) = match result {
        Ok(()) => (0.0, 0.0, ""),
        Err(e @ Error::Refused { .. }) | Err(e @ Error::Validation(_)) => (0.0, 1.0, e.name()),
        Err(e) => (1.0, 0.0, e.name()),
    };
    let count = |name, value| Metric {
        name,
        unit: "Count",
        value,
    };
    document(
        at,
        NAMESPACE,
        &[("Handler", handler)],
        true,
        &[
            count("Invocations", 1.0),
            count("HandlerFailed", failed),
            count("HandlerRefused", refused),
        ],
        &[("ErrorName", error)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_shared::aws::{AwsError, AwsErrorKind};

    fn values(v: &Value) -> (f64, f64, f64) {
        let f = |k: &str| v[k].as_f64().unwrap_or(-1.0);
        (f("Invocations"), f("HandlerFailed"), f("HandlerRefused"))
    }

    #[test]
    fn every_declared_metric_has_a_value_and_dimension_a_key() {
        let v = invocation(chrono::Utc::now(), "power.partner_events", Ok(()));
        let decl = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(decl["Namespace"], NAMESPACE);
        assert_eq!(decl["Dimensions"], json!([["Handler"], []]));
        for m in decl["Metrics"].as_array().into_iter().flatten() {
            let name = m["Name"].as_str().unwrap_or_default();
            assert!(v[name].is_number(), "{name} has no value");
        }
        assert_eq!(v["Handler"], "power.partner_events");
        assert_eq!(values(&v), (1.0, 0.0, 0.0));
    }

    #[test]
    fn refusals_and_failures_are_counted_apart() {
        let refused = Error::refused("Steward.EventRejected", "unknown tenant");
        let v = invocation(chrono::Utc::now(), "h", Err(&refused));
        assert_eq!(values(&v), (1.0, 0.0, 1.0));
        assert_eq!(v["ErrorName"], "Steward.EventRejected");
        let failed: Error = AwsError::local(
            "WorkSpaces",
            "StopWorkspaces",
            AwsErrorKind::Throttled,
            "slow down".into(),
            std::io::Error::other("x"),
        )
        .into();
        let v = invocation(chrono::Utc::now(), "h", Err(&failed));
        assert_eq!(values(&v), (1.0, 1.0, 0.0));
        assert_eq!(v["ErrorName"], "Steward.Throttled");
    }
}
