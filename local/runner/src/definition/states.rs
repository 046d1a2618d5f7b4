//! Each state type's fields: Task (its resource and integration, callback tokens, time
//! limits), Wait, Fail, Choice, Map and Parallel, and the fields every state shares.

use serde_json::Value;
use std::sync::Arc;

use super::block::parse_block;
use super::fields::{Fields, allowed, check_keys};
use super::retry_catch::{parse_catch, parse_retry};
use super::{
    FailField, Integration, Kind, MapSpec, Seconds, State, TaskSpec, Transition, WaitSpec,
};
use crate::LoadError;
use crate::choice::{ChoiceRule, Rule};
use crate::path::PayloadTemplate;

/// A time limit: fixed (`fixed`, positive) or selected (`path`), not both.
fn seconds(c: &Fields<'_>, fixed: &str, path: &str) -> Result<Option<Seconds>, LoadError> {
    match (c.uint(fixed)?, c.path(path)?) {
        (Some(_), Some(_)) => Err(c.invalid(
            fixed,
            format!("`{fixed}` and `{path}` are mutually exclusive"),
        )),
        (Some(0), None) => Err(c.invalid(fixed, "must be a positive integer")),
        (Some(n), None) => Ok(Some(Seconds::Fixed(n))),
        (None, Some(p)) => Ok(Some(Seconds::Path(p))),
        (None, None) => Ok(None),
    }
}

/// Task: a Lambda function (its ARN, an in-process handler name, or `lambda:invoke` with
/// FunctionName and Payload), optionally `.waitForTaskToken`, and its time limits.
fn parse_task(c: &Fields<'_>, parameters: &Option<PayloadTemplate>) -> Result<TaskSpec, LoadError> {
    let resource = c
        .string("Resource")?
        .ok_or_else(|| LoadError::MissingField {
            scope: format!("state `{}`", c.state),
            field: "Resource".into(),
        })?;
    let unsupported = || LoadError::UnsupportedResource {
        state: c.state.into(),
        resource: resource.into(),
    };
    let (integration, wait_for_token) = if let Some(rest) =
        resource.strip_prefix("arn:aws:states:::")
    {
        match rest {
            "lambda:invoke" => (Integration::LambdaInvoke, false),
            "lambda:invoke.waitForTaskToken" => (Integration::LambdaInvoke, true),
            _ => return Err(unsupported()),
        }
    } else if resource.starts_with("arn:") {
        let is_function =
            resource.starts_with("arn:aws:lambda:") && resource.contains(":function:");
        if !is_function || resource.ends_with(".waitForTaskToken") || resource.ends_with(".sync") {
            return Err(unsupported());
        }
        (Integration::Function, false)
    } else if resource.is_empty()
        || resource.contains(".waitForTaskToken")
        || resource.contains(".sync")
        || resource.contains("${")
    {
        return Err(unsupported());
    } else {
        // An in-process handler name (a resolved DefinitionSubstitution).
        (Integration::Function, false)
    };
    if integration == Integration::LambdaInvoke {
        let has_fn = matches!(parameters, Some(PayloadTemplate::Object(f)) if f.iter().any(|(k, _)| k == "FunctionName"));
        if !has_fn {
            return Err(c.invalid(
                "Parameters",
                "lambda:invoke needs `FunctionName` (or `FunctionName.$`) in Parameters",
            ));
        }
        if let Some(PayloadTemplate::Object(f)) = parameters
            && let Some((k, _)) = f
                .iter()
                .find(|(k, _)| !matches!(k.as_str(), "FunctionName" | "Payload"))
        {
            return Err(c.invalid(
                "Parameters",
                format!("lambda:invoke parameter `{k}` is not supported"),
            ));
        }
    }
    if wait_for_token
        && !parameters
            .as_ref()
            .is_some_and(PayloadTemplate::references_task_token)
    {
        return Err(c.invalid(
            "Parameters",
            "a .waitForTaskToken task must pass `$$.Task.Token` in its Parameters",
        ));
    }
    let timeout = seconds(c, "TimeoutSeconds", "TimeoutSecondsPath")?;
    let heartbeat = seconds(c, "HeartbeatSeconds", "HeartbeatSecondsPath")?;
    if let (Some(Seconds::Fixed(t)), Some(Seconds::Fixed(h))) = (&timeout, &heartbeat)
        && h >= t
    {
        return Err(c.invalid("HeartbeatSeconds", "must be smaller than TimeoutSeconds"));
    }
    Ok(TaskSpec {
        resource: resource.to_string(),
        integration,
        wait_for_token,
        timeout,
        heartbeat,
    })
}

/// Wait: exactly one of Seconds, SecondsPath, Timestamp, TimestampPath.
fn parse_wait(c: &Fields<'_>) -> Result<WaitSpec, LoadError> {
    let present: Vec<&str> = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"]
        .into_iter()
        .filter(|f| c.obj.contains_key(*f))
        .collect();
    if present.len() != 1 {
        return Err(c.invalid(
            "Seconds",
            "a Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath",
        ));
    }
    Ok(match present[0] {
        "Seconds" => WaitSpec::Seconds(c.uint("Seconds")?.unwrap_or(0)),
        "SecondsPath" => WaitSpec::SecondsPath(
            c.path("SecondsPath")?
                .ok_or_else(|| c.invalid("SecondsPath", "missing"))?,
        ),
        "Timestamp" => {
            let s = c.string("Timestamp")?.unwrap_or_default();
            WaitSpec::Timestamp(
                chrono::DateTime::parse_from_rfc3339(s)
                    .map_err(|e| c.invalid("Timestamp", format!("not an RFC 3339 timestamp: {e}")))?
                    .with_timezone(&chrono::Utc),
            )
        }
        _ => WaitSpec::TimestampPath(
            c.path("TimestampPath")?
                .ok_or_else(|| c.invalid("TimestampPath", "missing"))?,
        ),
    })
}

/// Fail's Error or Cause: literal or selected, not both.
fn parse_fail_field(c: &Fields<'_>, lit: &str, path: &str) -> Result<Option<FailField>, LoadError> {
    match (c.string(lit)?, c.path(path)?) {
        (Some(_), Some(_)) => {
            Err(c.invalid(lit, format!("`{lit}` and `{path}` are mutually exclusive")))
        }
        (Some(s), None) => Ok(Some(FailField::Literal(s.into()))),
        (None, Some(p)) => Ok(Some(FailField::Path(p))),
        (None, None) => Ok(None),
    }
}

/// One state: its type's fields (nothing else), its transition, what it does, and the
/// fields every state shares (paths, Parameters, ResultSelector, Retry, Catch).
pub(super) fn parse_state(name: &str, v: &Value, scope: &str) -> Result<State, LoadError> {
    let full = if scope.is_empty() {
        name.to_string()
    } else {
        format!("{scope}/{name}")
    };
    let obj = v.as_object().ok_or_else(|| LoadError::NotAnObject {
        scope: format!("state `{full}`"),
    })?;
    let state_type =
        obj.get("Type")
            .and_then(Value::as_str)
            .ok_or_else(|| LoadError::MissingField {
                scope: format!("state `{full}`"),
                field: "Type".into(),
            })?;
    let allowed = allowed(state_type).ok_or_else(|| LoadError::UnsupportedStateType {
        state: full.clone(),
        state_type: state_type.into(),
    })?;
    check_keys(obj, &allowed, &full, state_type)?;
    let c = Fields { state: &full, obj };

    let transition = parse_transition(&c, state_type)?;
    let parameters = if state_type == "Map" {
        None
    } else {
        c.payload_template("Parameters")?
    };
    let kind = match state_type {
        "Pass" => Kind::Pass {
            result: obj.get("Result").cloned(),
        },
        "Task" => Kind::Task(parse_task(&c, &parameters)?),
        "Choice" => parse_choice(&c)?,
        "Wait" => Kind::Wait(parse_wait(&c)?),
        "Succeed" => Kind::Succeed,
        "Fail" => Kind::Fail {
            error: parse_fail_field(&c, "Error", "ErrorPath")?,
            cause: parse_fail_field(&c, "Cause", "CausePath")?,
        },
        "Map" => parse_map(&c)?,
        "Parallel" => parse_parallel(&c)?,
        other => {
            return Err(LoadError::UnsupportedStateType {
                state: full.clone(),
                state_type: other.into(),
            });
        }
    };
    Ok(State {
        name: name.to_string(),
        kind,
        input_path: c.io_path("InputPath")?,
        output_path: c.io_path("OutputPath")?,
        parameters,
        result_selector: c.payload_template("ResultSelector")?,
        result_path: c.result_path("ResultPath")?,
        transition,
        retry: parse_retry(&c)?,
        catch: parse_catch(&c)?,
    })
}

/// `Next` or `End: true` (one of them for the states that continue; Choice, Succeed and
/// Fail have neither).
fn parse_transition(c: &Fields<'_>, state_type: &str) -> Result<Option<Transition>, LoadError> {
    let (full, obj) = (c.state, c.obj);
    Ok(match (obj.get("Next"), obj.get("End")) {
        (Some(_), Some(_)) => {
            return Err(LoadError::InvalidTransition {
                state: full.into(),
                message: "has both Next and End".into(),
            });
        }
        (Some(n), None) => Some(Transition::Next(
            n.as_str()
                .ok_or_else(|| c.invalid("Next", "must be a string"))?
                .to_string(),
        )),
        (None, Some(Value::Bool(true))) => Some(Transition::End),
        (None, Some(_)) => return Err(c.invalid("End", "must be true when present")),
        (None, None) => {
            if matches!(state_type, "Pass" | "Task" | "Wait" | "Map" | "Parallel") {
                return Err(LoadError::InvalidTransition {
                    state: full.into(),
                    message: "needs either Next or End: true".into(),
                });
            }
            None
        }
    })
}

/// Choice: each rule (with its Next) in order, and the Default.
fn parse_choice(c: &Fields<'_>) -> Result<Kind, LoadError> {
    let (full, obj) = (c.state, c.obj);
    let arr = obj
        .get("Choices")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| c.invalid("Choices", "must be a non-empty array"))?;
    let mut choices = Vec::new();
    for (i, r) in arr.iter().enumerate() {
        let (rule, next) = Rule::parse(r, full, &format!("Choices[{i}]"), true)?;
        choices.push(ChoiceRule {
            rule,
            next: next.unwrap_or_default(),
        });
    }
    Ok(Kind::Choice {
        choices,
        default: c.string("Default")?.map(str::to_string),
    })
}

/// Map: its ItemProcessor (or the older Iterator), ProcessorConfig (INLINE, or DISTRIBUTED
/// over the state's input), ItemsPath, ItemSelector (or Parameters) and MaxConcurrency.
fn parse_map(c: &Fields<'_>) -> Result<Kind, LoadError> {
    let (full, obj) = (c.state, c.obj);
    let (proc_field, proc) = match (obj.get("ItemProcessor"), obj.get("Iterator")) {
        (Some(_), Some(_)) => {
            return Err(c.invalid(
                "ItemProcessor",
                "ItemProcessor and Iterator are mutually exclusive",
            ));
        }
        (Some(p), None) => ("ItemProcessor", p),
        (None, Some(p)) => ("Iterator", p),
        (None, None) => {
            return Err(LoadError::MissingField {
                scope: format!("state `{full}`"),
                field: "ItemProcessor".into(),
            });
        }
    };
    let proc_obj = proc
        .as_object()
        .ok_or_else(|| c.invalid(proc_field, "must be an object"))?;
    if let Some(cfg) = proc_obj.get("ProcessorConfig") {
        let cfg = cfg
            .as_object()
            .ok_or_else(|| c.invalid("ItemProcessor.ProcessorConfig", "must be an object"))?;
        // A Distributed Map over an array of the state input runs here like an
        // inline one: each iteration's states, with the same input and result.
        let distributed = cfg.get("Mode").is_some_and(|m| m == "DISTRIBUTED");
        for (k, v) in cfg {
            let ok = match k.as_str() {
                "Mode" => v == "INLINE" || v == "DISTRIBUTED",
                "ExecutionType" => distributed && (v == "EXPRESS" || v == "STANDARD"),
                _ => false,
            };
            if !ok {
                return Err(c.invalid(
                    "ItemProcessor.ProcessorConfig",
                    format!(
                        "supported: Mode INLINE, or Mode DISTRIBUTED with ExecutionType EXPRESS or STANDARD; got `{k}`: {v}"
                    ),
                ));
            }
        }
        if distributed && !cfg.contains_key("ExecutionType") {
            return Err(c.invalid(
                "ItemProcessor.ProcessorConfig",
                "Mode DISTRIBUTED needs an ExecutionType",
            ));
        }
    }
    let selector = match (
        c.payload_template("ItemSelector")?,
        c.payload_template("Parameters")?,
    ) {
        (Some(_), Some(_)) => {
            return Err(c.invalid(
                "ItemSelector",
                "ItemSelector and Parameters are mutually exclusive",
            ));
        }
        (a, b) => a.or(b),
    };
    let max = c.uint("MaxConcurrency")?.unwrap_or(0);
    Ok(Kind::Map(MapSpec {
        items_path: c.path("ItemsPath")?,
        item_selector: selector,
        max_concurrency: usize::try_from(max).unwrap_or(usize::MAX),
        processor: Arc::new(parse_block(
            proc,
            &format!("{full}/{proc_field}"),
            &["StartAt", "States", "Comment", "ProcessorConfig"],
        )?),
    }))
}

/// Parallel: each branch, a block of its own.
fn parse_parallel(c: &Fields<'_>) -> Result<Kind, LoadError> {
    let (full, obj) = (c.state, c.obj);
    let arr = obj
        .get("Branches")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| c.invalid("Branches", "must be a non-empty array"))?;
    let branches = arr
        .iter()
        .enumerate()
        .map(|(i, b)| {
            parse_block(
                b,
                &format!("{full}/Branches[{i}]"),
                &["StartAt", "States", "Comment"],
            )
            .map(Arc::new)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Kind::Parallel { branches })
}
