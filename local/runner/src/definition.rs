//! Loading and validating a definition into the typed form the engine runs.
//! Anything the runner does not implement is refused here, naming the state
//! and field.

use super::LoadError;
use super::choice::{ChoiceRule, Rule};
use super::path::{IoPath, Path, PayloadTemplate, PayloadTemplateSite, RefPath, ResultPath};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Arc;

/// A loaded, validated state machine.
#[derive(Debug, Clone)]
pub struct StateMachine {
    pub comment: Option<String>,
    pub timeout_seconds: Option<u64>,
    pub(crate) root: Arc<Block>,
}

/// One scope of states: the top level, a Map's ItemProcessor or a Parallel branch.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub start_at: String,
    pub states: BTreeMap<String, State>,
}

#[derive(Debug, Clone)]
pub(crate) enum Transition {
    Next(String),
    End,
}

#[derive(Debug, Clone)]
pub(crate) struct State {
    pub name: String,
    pub kind: Kind,
    pub input_path: IoPath,
    pub output_path: IoPath,
    pub parameters: Option<PayloadTemplate>,
    pub result_selector: Option<PayloadTemplate>,
    pub result_path: ResultPath,
    pub transition: Option<Transition>,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Jitter {
    None,
    Full,
}

#[derive(Debug, Clone)]
pub(crate) struct Retrier {
    pub error_equals: Vec<String>,
    pub interval_seconds: f64,
    pub max_attempts: u64,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<f64>,
    pub jitter: Jitter,
}

#[derive(Debug, Clone)]
pub(crate) struct Catcher {
    pub error_equals: Vec<String>,
    pub next: String,
    pub result_path: ResultPath,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Integration {
    /// A function ARN or an in-process handler name: output = function output.
    Function,
    /// `arn:aws:states:::lambda:invoke`: Parameters carry FunctionName + Payload.
    LambdaInvoke,
}

#[derive(Debug, Clone)]
pub(crate) enum Seconds {
    Fixed(u64),
    Path(Path),
}

#[derive(Debug, Clone)]
pub(crate) struct TaskSpec {
    pub resource: String,
    pub integration: Integration,
    pub wait_for_token: bool,
    pub timeout: Option<Seconds>,
    pub heartbeat: Option<Seconds>,
}

#[derive(Debug, Clone)]
pub(crate) enum WaitSpec {
    Seconds(u64),
    SecondsPath(Path),
    Timestamp(chrono::DateTime<chrono::Utc>),
    TimestampPath(Path),
}

#[derive(Debug, Clone)]
pub(crate) struct MapSpec {
    pub items_path: Option<Path>,
    pub item_selector: Option<PayloadTemplate>,
    pub max_concurrency: usize,
    pub processor: Arc<Block>,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Pass {
        result: Option<Value>,
    },
    Task(TaskSpec),
    Choice {
        choices: Vec<ChoiceRule>,
        default: Option<String>,
    },
    Wait(WaitSpec),
    Succeed,
    Fail {
        error: Option<FailField>,
        cause: Option<FailField>,
    },
    Map(MapSpec),
    Parallel {
        branches: Vec<Arc<Block>>,
    },
}

#[derive(Debug, Clone)]
pub(crate) enum FailField {
    Literal(String),
    Path(Path),
}

const COMMON: &[&str] = &["Type", "Comment"];
const IO: &[&str] = &["InputPath", "OutputPath"];
const FLOW: &[&str] = &["Next", "End"];

fn allowed(state_type: &str) -> Option<Vec<&'static str>> {
    let extra: &[&str] = match state_type {
        "Pass" => &["Result", "ResultPath", "Parameters"],
        "Task" => &[
            "Resource",
            "Parameters",
            "ResultSelector",
            "ResultPath",
            "Retry",
            "Catch",
            "TimeoutSeconds",
            "TimeoutSecondsPath",
            "HeartbeatSeconds",
            "HeartbeatSecondsPath",
        ],
        "Choice" => &["Choices", "Default"],
        "Wait" => &["Seconds", "SecondsPath", "Timestamp", "TimestampPath"],
        "Succeed" => &[],
        "Fail" => &["Error", "ErrorPath", "Cause", "CausePath"],
        "Map" => &[
            "ItemProcessor",
            "Iterator",
            "Label",
            "ItemsPath",
            "ItemSelector",
            "Parameters",
            "MaxConcurrency",
            "ResultSelector",
            "ResultPath",
            "Retry",
            "Catch",
        ],
        "Parallel" => &[
            "Branches",
            "Parameters",
            "ResultSelector",
            "ResultPath",
            "Retry",
            "Catch",
        ],
        _ => return None,
    };
    let mut v: Vec<&str> = COMMON.to_vec();
    if state_type != "Fail" {
        v.extend_from_slice(IO);
    }
    if matches!(state_type, "Pass" | "Task" | "Wait" | "Map" | "Parallel") {
        v.extend_from_slice(FLOW);
    }
    v.extend_from_slice(extra);
    Some(v)
}

struct Ctx<'a> {
    state: &'a str,
    obj: &'a Map<String, Value>,
}

impl<'a> Ctx<'a> {
    fn invalid(&self, field: &str, message: impl Into<String>) -> LoadError {
        LoadError::InvalidField {
            state: self.state.into(),
            field: field.into(),
            message: message.into(),
        }
    }

    fn get(&self, field: &str) -> Option<&'a Value> {
        self.obj.get(field)
    }

    fn string(&self, field: &str) -> Result<Option<&'a str>, LoadError> {
        match self.obj.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.invalid(field, "must be a string")),
        }
    }

    fn path(&self, field: &str) -> Result<Option<Path>, LoadError> {
        self.string(field)?
            .map(|s| {
                Path::parse(s).map_err(|reason| LoadError::InvalidPath {
                    state: self.state.into(),
                    field: field.into(),
                    path: s.into(),
                    reason,
                })
            })
            .transpose()
    }

    fn io_path(&self, field: &str) -> Result<IoPath, LoadError> {
        match self.obj.get(field) {
            None => Ok(IoPath::Root),
            Some(Value::Null) => Ok(IoPath::Null),
            Some(_) => Ok(self.path(field)?.map(IoPath::Path).unwrap_or(IoPath::Root)),
        }
    }

    fn result_path(&self, field: &str) -> Result<ResultPath, LoadError> {
        result_path(self.obj.get(field), self.state, field)
    }

    fn payload_template(&self, field: &str) -> Result<Option<PayloadTemplate>, LoadError> {
        self.obj
            .get(field)
            .map(|v| {
                if !v.is_object() {
                    return Err(self.invalid(field, "must be a JSON object"));
                }
                PayloadTemplate::compile(
                    v,
                    &PayloadTemplateSite {
                        state: self.state,
                        field,
                    },
                )
            })
            .transpose()
    }

    fn uint(&self, field: &str) -> Result<Option<u64>, LoadError> {
        match self.obj.get(field) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.invalid(field, "must be a non-negative integer")),
        }
    }
}

fn result_path(v: Option<&Value>, state: &str, field: &str) -> Result<ResultPath, LoadError> {
    match v {
        None => Ok(ResultPath::root()),
        Some(Value::Null) => Ok(ResultPath::Discard),
        Some(Value::String(s)) => {
            RefPath::parse(s)
                .map(ResultPath::At)
                .map_err(|reason| LoadError::InvalidPath {
                    state: state.into(),
                    field: field.into(),
                    path: s.clone(),
                    reason,
                })
        }
        Some(_) => Err(LoadError::InvalidField {
            state: state.into(),
            field: field.into(),
            message: "must be a reference path string or null".into(),
        }),
    }
}

fn error_equals(
    v: Option<&Value>,
    state: &str,
    field: &str,
    is_last: bool,
) -> Result<Vec<String>, LoadError> {
    let invalid = |m: &str| LoadError::InvalidField {
        state: state.into(),
        field: field.into(),
        message: m.into(),
    };
    let arr = v
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| invalid("`ErrorEquals` must be a non-empty array of error names"))?;
    let names = arr
        .iter()
        .map(|n| {
            n.as_str()
                .map(str::to_string)
                .ok_or_else(|| invalid("error names must be strings"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if names.iter().any(|n| n == super::error::STATES_ALL) && (names.len() != 1 || !is_last) {
        return Err(invalid(
            "`States.ALL` must appear alone and in the last retrier/catcher",
        ));
    }
    Ok(names)
}

fn check_keys(
    obj: &Map<String, Value>,
    allowed: &[&str],
    state: &str,
    what: &str,
) -> Result<(), LoadError> {
    for k in obj.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(LoadError::UnsupportedField {
                state: state.into(),
                state_type: what.into(),
                field: k.clone(),
            });
        }
    }
    Ok(())
}

fn parse_retry(c: &Ctx<'_>) -> Result<Vec<Retrier>, LoadError> {
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
        let rc = Ctx {
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

fn parse_catch(c: &Ctx<'_>) -> Result<Vec<Catcher>, LoadError> {
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

fn seconds(c: &Ctx<'_>, fixed: &str, path: &str) -> Result<Option<Seconds>, LoadError> {
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

fn parse_task(c: &Ctx<'_>, parameters: &Option<PayloadTemplate>) -> Result<TaskSpec, LoadError> {
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

fn parse_wait(c: &Ctx<'_>) -> Result<WaitSpec, LoadError> {
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

fn parse_fail_field(c: &Ctx<'_>, lit: &str, path: &str) -> Result<Option<FailField>, LoadError> {
    match (c.string(lit)?, c.path(path)?) {
        (Some(_), Some(_)) => {
            Err(c.invalid(lit, format!("`{lit}` and `{path}` are mutually exclusive")))
        }
        (Some(s), None) => Ok(Some(FailField::Literal(s.into()))),
        (None, Some(p)) => Ok(Some(FailField::Path(p))),
        (None, None) => Ok(None),
    }
}

fn parse_state(name: &str, v: &Value, scope: &str) -> Result<State, LoadError> {
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
    let c = Ctx { state: &full, obj };

    let transition = match (obj.get("Next"), obj.get("End")) {
        (Some(_), Some(_)) => {
            return Err(LoadError::InvalidTransition {
                state: full.clone(),
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
                    state: full.clone(),
                    message: "needs either Next or End: true".into(),
                });
            }
            None
        }
    };

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
        "Choice" => {
            let arr = obj
                .get("Choices")
                .and_then(Value::as_array)
                .filter(|a| !a.is_empty())
                .ok_or_else(|| c.invalid("Choices", "must be a non-empty array"))?;
            let mut choices = Vec::new();
            for (i, r) in arr.iter().enumerate() {
                let (rule, next) = Rule::parse(r, &full, &format!("Choices[{i}]"), true)?;
                choices.push(ChoiceRule {
                    rule,
                    next: next.unwrap_or_default(),
                });
            }
            Kind::Choice {
                choices,
                default: c.string("Default")?.map(str::to_string),
            }
        }
        "Wait" => Kind::Wait(parse_wait(&c)?),
        "Succeed" => Kind::Succeed,
        "Fail" => Kind::Fail {
            error: parse_fail_field(&c, "Error", "ErrorPath")?,
            cause: parse_fail_field(&c, "Cause", "CausePath")?,
        },
        "Map" => {
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
                let cfg = cfg.as_object().ok_or_else(|| {
                    c.invalid("ItemProcessor.ProcessorConfig", "must be an object")
                })?;
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
            Kind::Map(MapSpec {
                items_path: c.path("ItemsPath")?,
                item_selector: selector,
                max_concurrency: usize::try_from(max).unwrap_or(usize::MAX),
                processor: Arc::new(parse_block(
                    proc,
                    &format!("{full}/{proc_field}"),
                    &["StartAt", "States", "Comment", "ProcessorConfig"],
                )?),
            })
        }
        "Parallel" => {
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
            Kind::Parallel { branches }
        }
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

fn parse_block(v: &Value, scope: &str, allowed_keys: &[&str]) -> Result<Block, LoadError> {
    let label = if scope.is_empty() {
        "definition".to_string()
    } else {
        scope.to_string()
    };
    let obj = v.as_object().ok_or_else(|| LoadError::NotAnObject {
        scope: label.clone(),
    })?;
    check_keys(obj, allowed_keys, &label, "state machine")?;
    let start_at = obj
        .get("StartAt")
        .and_then(Value::as_str)
        .ok_or_else(|| LoadError::MissingField {
            scope: label.clone(),
            field: "StartAt".into(),
        })?
        .to_string();
    let states_obj = obj
        .get("States")
        .and_then(Value::as_object)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| LoadError::MissingField {
            scope: label.clone(),
            field: "States".into(),
        })?;
    let mut states = BTreeMap::new();
    for (name, sv) in states_obj {
        if name.is_empty() || name.chars().count() > 80 {
            return Err(LoadError::InvalidField {
                state: name.clone(),
                field: "name".into(),
                message: "state names are 1 to 80 characters".into(),
            });
        }
        states.insert(name.clone(), parse_state(name, sv, scope)?);
    }
    let block = Block { start_at, states };
    validate_block(&block, scope)?;
    Ok(block)
}

fn qualified(scope: &str, name: &str) -> String {
    if scope.is_empty() {
        name.to_string()
    } else {
        format!("{scope}/{name}")
    }
}

/// Every target exists in its scope, every state is reachable, and some
/// state ends the machine.
fn validate_block(block: &Block, scope: &str) -> Result<(), LoadError> {
    let targets = |s: &State| -> Vec<(String, String)> {
        let mut t = Vec::new();
        if let Some(Transition::Next(n)) = &s.transition {
            t.push(("Next".to_string(), n.clone()));
        }
        if let Kind::Choice { choices, default } = &s.kind {
            for (i, c) in choices.iter().enumerate() {
                t.push((format!("Choices[{i}].Next"), c.next.clone()));
            }
            if let Some(d) = default {
                t.push(("Default".into(), d.clone()));
            }
        }
        for (i, c) in s.catch.iter().enumerate() {
            t.push((format!("Catch[{i}].Next"), c.next.clone()));
        }
        t
    };
    if !block.states.contains_key(&block.start_at) {
        return Err(LoadError::UnknownTarget {
            state: if scope.is_empty() {
                "<definition>".into()
            } else {
                scope.into()
            },
            field: "StartAt".into(),
            target: block.start_at.clone(),
        });
    }
    for s in block.states.values() {
        for (field, target) in targets(s) {
            if !block.states.contains_key(&target) {
                return Err(LoadError::UnknownTarget {
                    state: qualified(scope, &s.name),
                    field,
                    target,
                });
            }
        }
    }
    let mut seen = HashSet::new();
    let mut queue = VecDeque::from([block.start_at.clone()]);
    while let Some(n) = queue.pop_front() {
        if !seen.insert(n.clone()) {
            continue;
        }
        if let Some(s) = block.states.get(&n) {
            queue.extend(targets(s).into_iter().map(|(_, t)| t));
        }
    }
    if let Some(unreached) = block.states.keys().find(|k| !seen.contains(*k)) {
        return Err(LoadError::Unreachable {
            state: qualified(scope, unreached),
        });
    }
    let terminal = block.states.values().any(|s| {
        matches!(s.kind, Kind::Succeed | Kind::Fail { .. })
            || matches!(s.transition, Some(Transition::End))
    });
    if !terminal {
        return Err(LoadError::InvalidTransition {
            state: if scope.is_empty() {
                "<definition>".into()
            } else {
                scope.into()
            },
            message: "no state ends the machine (no End, Succeed or Fail)".into(),
        });
    }
    Ok(())
}

impl StateMachine {
    /// Parses and validates an ASL definition. Refuses anything the runner
    /// does not implement.
    pub fn from_definition(definition: &Value) -> Result<StateMachine, LoadError> {
        let obj = definition
            .as_object()
            .ok_or_else(|| LoadError::NotAnObject {
                scope: "definition".into(),
            })?;
        check_keys(
            obj,
            &["StartAt", "States", "Comment", "TimeoutSeconds", "Version"],
            "<definition>",
            "state machine",
        )?;
        if let Some(v) = obj.get("Version")
            && v != "1.0"
        {
            return Err(LoadError::InvalidField {
                state: "<definition>".into(),
                field: "Version".into(),
                message: format!("only \"1.0\" is supported, got {v}"),
            });
        }
        let top = Ctx {
            state: "<definition>",
            obj,
        };
        let timeout_seconds = top.uint("TimeoutSeconds")?;
        if timeout_seconds == Some(0) {
            return Err(top.invalid("TimeoutSeconds", "must be a positive integer"));
        }
        let root = parse_block(
            definition,
            "",
            &["StartAt", "States", "Comment", "TimeoutSeconds", "Version"],
        )?;
        Ok(StateMachine {
            comment: top.string("Comment")?.map(str::to_string),
            timeout_seconds,
            root: Arc::new(root),
        })
    }

    /// The names of the top-level states.
    pub fn state_names(&self) -> Vec<String> {
        self.root.states.keys().cloned().collect()
    }

    pub fn start_at(&self) -> &str {
        &self.root.start_at
    }
}
