//! `Retry` and `Catch`: the retriers and catchers of a Task, Map or Parallel state.

use serde_json::Value;

use super::fields::{Fields, check_keys, error_equals, result_path};
use super::{Catcher, Jitter, Retrier};
use crate::LoadError;

/// `Retry`: each retrier's errors, interval, attempts, back-off, maximum delay, jitter.
pub(super) fn parse_retry(c: &Fields<'_>) -> Result<Vec<Retrier>, LoadError> {
    let Some(v) = c.get("Retry") else {
        return Ok(Vec::new());
    };
    let arr = v
        .as_array()
        .ok_or_else(|| c.invalid("Retry", "must be an array"))?;
    let mut out = Vec::new();
    for (i, r) in arr.iter().enumerate() {
        let field = format!("Retry[{i}]");
        let obj = r
            .as_object()
            .ok_or_else(|| c.invalid(&field, "must be an object"))?;
        check_keys(
            obj,
            &[
                "ErrorEquals",
                "IntervalSeconds",
                "MaxAttempts",
                "BackoffRate",
                "MaxDelaySeconds",
                "JitterStrategy",
                "Comment",
            ],
            c.state,
            "Retrier",
        )?;
        let rc = Fields {
            state: c.state,
            obj,
        };
        let num = |name: &str| -> Result<Option<f64>, LoadError> {
            obj.get(name)
                .map(|v| {
                    v.as_f64()
                        .ok_or_else(|| c.invalid(&format!("{field}.{name}"), "must be a number"))
                })
                .transpose()
        };
        let interval = rc.uint("IntervalSeconds")?.unwrap_or(1);
        if interval < 1 {
            return Err(c.invalid(
                &format!("{field}.IntervalSeconds"),
                "must be a positive integer",
            ));
        }
        let backoff = num("BackoffRate")?.unwrap_or(2.0);
        if backoff < 1.0 {
            return Err(c.invalid(&format!("{field}.BackoffRate"), "must be at least 1.0"));
        }
        let max_delay = rc.uint("MaxDelaySeconds")?;
        if max_delay == Some(0) {
            return Err(c.invalid(
                &format!("{field}.MaxDelaySeconds"),
                "must be a positive integer",
            ));
        }
        let jitter = match rc.string("JitterStrategy")? {
            None | Some("NONE") => Jitter::None,
            Some("FULL") => Jitter::Full,
            Some(other) => {
                return Err(c.invalid(
                    &format!("{field}.JitterStrategy"),
                    format!("unsupported value `{other}` (FULL or NONE)"),
                ));
            }
        };
        out.push(Retrier {
            error_equals: error_equals(
                obj.get("ErrorEquals"),
                c.state,
                &format!("{field}.ErrorEquals"),
                i + 1 == arr.len(),
            )?,
            interval_seconds: interval as f64,
            max_attempts: rc.uint("MaxAttempts")?.unwrap_or(3),
            backoff_rate: backoff,
            max_delay_seconds: max_delay.map(|d| d as f64),
            jitter,
        });
    }
    Ok(out)
}

/// `Catch`: each catcher's errors, next state and ResultPath.
pub(super) fn parse_catch(c: &Fields<'_>) -> Result<Vec<Catcher>, LoadError> {
    let Some(v) = c.get("Catch") else {
        return Ok(Vec::new());
    };
    let arr = v
        .as_array()
        .ok_or_else(|| c.invalid("Catch", "must be an array"))?;
    let mut out = Vec::new();
    for (i, r) in arr.iter().enumerate() {
        let field = format!("Catch[{i}]");
        let obj = r
            .as_object()
            .ok_or_else(|| c.invalid(&field, "must be an object"))?;
        check_keys(
            obj,
            &["ErrorEquals", "Next", "ResultPath", "Comment"],
            c.state,
            "Catcher",
        )?;
        let next =
            obj.get("Next")
                .and_then(Value::as_str)
                .ok_or_else(|| LoadError::MissingField {
                    scope: format!("state `{}`, {field}", c.state),
                    field: "Next".into(),
                })?;
        out.push(Catcher {
            error_equals: error_equals(
                obj.get("ErrorEquals"),
                c.state,
                &format!("{field}.ErrorEquals"),
                i + 1 == arr.len(),
            )?,
            next: next.to_string(),
            result_path: result_path(
                obj.get("ResultPath"),
                c.state,
                &format!("{field}.ResultPath"),
            )?,
        });
    }
    Ok(out)
}
