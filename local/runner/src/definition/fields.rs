//! Reading the fields of a definition's objects: which fields each state type may have,
//! typed accessors that name the state and field in their errors, and the field forms
//! several states share (ResultPath, ErrorEquals).

use serde_json::{Map, Value};

use crate::LoadError;
use crate::path::{IoPath, Path, PayloadTemplate, PayloadTemplateSite, RefPath, ResultPath};

const COMMON: &[&str] = &["Type", "Comment"];
const IO: &[&str] = &["InputPath", "OutputPath"];
const FLOW: &[&str] = &["Next", "End"];

/// The fields a state of this type may have (`None`: a type the runner does not run).
pub(super) fn allowed(state_type: &str) -> Option<Vec<&'static str>> {
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

/// The fields of one object being loaded (a state, a retrier, the definition), and the
/// name errors give for it.
pub(super) struct Fields<'a> {
    pub(super) state: &'a str,
    pub(super) obj: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    pub(super) fn invalid(&self, field: &str, message: impl Into<String>) -> LoadError {
        LoadError::InvalidField {
            state: self.state.into(),
            field: field.into(),
            message: message.into(),
        }
    }

    pub(super) fn get(&self, field: &str) -> Option<&'a Value> {
        self.obj.get(field)
    }

    pub(super) fn string(&self, field: &str) -> Result<Option<&'a str>, LoadError> {
        match self.obj.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.invalid(field, "must be a string")),
        }
    }

    pub(super) fn path(&self, field: &str) -> Result<Option<Path>, LoadError> {
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

    pub(super) fn io_path(&self, field: &str) -> Result<IoPath, LoadError> {
        match self.obj.get(field) {
            None => Ok(IoPath::Root),
            Some(Value::Null) => Ok(IoPath::Null),
            Some(_) => Ok(self.path(field)?.map(IoPath::Path).unwrap_or(IoPath::Root)),
        }
    }

    pub(super) fn result_path(&self, field: &str) -> Result<ResultPath, LoadError> {
        result_path(self.obj.get(field), self.state, field)
    }

    pub(super) fn payload_template(
        &self,
        field: &str,
    ) -> Result<Option<PayloadTemplate>, LoadError> {
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

    pub(super) fn uint(&self, field: &str) -> Result<Option<u64>, LoadError> {
        match self.obj.get(field) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.invalid(field, "must be a non-negative integer")),
        }
    }
}

/// `ResultPath` (or a catcher's): absent is `$`, null discards, else a reference path.
pub(super) fn result_path(
    v: Option<&Value>,
    state: &str,
    field: &str,
) -> Result<ResultPath, LoadError> {
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

/// `ErrorEquals`: error names; `States.ALL` only alone and in the last retrier/catcher.
pub(super) fn error_equals(
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
    if names.iter().any(|n| n == crate::error::STATES_ALL) && (names.len() != 1 || !is_last) {
        return Err(invalid(
            "`States.ALL` must appear alone and in the last retrier/catcher",
        ));
    }
    Ok(names)
}

/// Refuses any field outside `allowed`, naming it.
pub(super) fn check_keys(
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
