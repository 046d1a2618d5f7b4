//! Pattern validation and parsing. Every refusal names the field path and what is wrong with
//! it, as EventBridge's `InvalidEventPatternException` does, without echoing the caller's values.

use serde_json::{Map, Value};

use super::wildcard::{Glob, GlobError};
use super::{AnythingBut, Case, Comparison, FieldPattern, Filter, ObjectPattern};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("Event pattern is not valid. Reason: the pattern is not valid JSON")]
    NotJson,
    #[error("Event pattern is not valid. Reason: the pattern must be a JSON object")]
    NotAnObject,
    #[error("Event pattern is not valid. Reason: \"{path}\" must be an object or an array")]
    NotObjectOrArray { path: String },
    #[error("Event pattern is not valid. Reason: \"{path}\" holds an empty array")]
    EmptyArray { path: String },
    #[error("Event pattern is not valid. Reason: \"{path}\" holds an array inside an array")]
    NestedArray { path: String },
    #[error(
        "Event pattern is not valid. Reason: \"{path}\" holds a filter object that is not exactly one operator"
    )]
    FilterShape { path: String },
    #[error("Event pattern is not valid. Reason: \"{path}\" uses an unrecognized match type")]
    UnknownOperator { path: String },
    #[error(
        "Event pattern is not valid. Reason: \"{path}\" uses cidr matching, which is not served locally"
    )]
    Unsupported { path: String },
    #[error("Event pattern is not valid. Reason: \"{path}\": {operator} {problem}")]
    Operand {
        path: String,
        operator: &'static str,
        problem: &'static str,
    },
    #[error(
        "Event pattern is not valid. Reason: \"{path}\": $or must be an array of at least two objects"
    )]
    OrShape { path: String },
}

pub(super) fn parse(pattern: &Value) -> Result<ObjectPattern, PatternError> {
    match pattern {
        Value::Object(map) => object(map, ""),
        _ => Err(PatternError::NotAnObject),
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

fn object(map: &Map<String, Value>, prefix: &str) -> Result<ObjectPattern, PatternError> {
    let mut out = ObjectPattern::default();
    for (key, value) in map {
        let path = join(prefix, key);
        if key == "$or" {
            out.ors.push(or_group(value, prefix, &path)?);
            continue;
        }
        let field = match value {
            Value::Object(nested) => FieldPattern::Nested(object(nested, &path)?),
            Value::Array(items) if items.is_empty() => {
                return Err(PatternError::EmptyArray { path });
            }
            Value::Array(items) => FieldPattern::Filters(
                items
                    .iter()
                    .map(|item| filter(item, &path))
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Err(PatternError::NotObjectOrArray { path }),
        };
        out.fields.push((key.clone(), field));
    }
    Ok(out)
}

fn or_group(value: &Value, prefix: &str, path: &str) -> Result<Vec<ObjectPattern>, PatternError> {
    let shape = || PatternError::OrShape {
        path: path.to_owned(),
    };
    let items = value
        .as_array()
        .filter(|a| a.len() >= 2)
        .ok_or_else(shape)?;
    items
        .iter()
        .map(|item| match item {
            Value::Object(map) => object(map, prefix),
            _ => Err(shape()),
        })
        .collect()
}

fn filter(item: &Value, path: &str) -> Result<Filter, PatternError> {
    match item {
        Value::Array(_) => Err(PatternError::NestedArray { path: path.into() }),
        Value::Object(map) => {
            let mut entries = map.iter();
            match (entries.next(), entries.next()) {
                (Some((operator, operand)), None) => named(operator, operand, path),
                _ => Err(PatternError::FilterShape { path: path.into() }),
            }
        }
        scalar => Ok(Filter::Exact(scalar.clone())),
    }
}

fn operand(path: &str, operator: &'static str, problem: &'static str) -> PatternError {
    PatternError::Operand {
        path: path.into(),
        operator,
        problem,
    }
}

fn named(operator: &str, value: &Value, path: &str) -> Result<Filter, PatternError> {
    match operator {
        "prefix" => affix(value, path, "prefix").map(|(s, c)| Filter::Prefix(s, c)),
        "suffix" => affix(value, path, "suffix").map(|(s, c)| Filter::Suffix(s, c)),
        "equals-ignore-case" => value
            .as_str()
            .map(|s| Filter::EqualsIgnoreCase(s.to_owned()))
            .ok_or_else(|| operand(path, "equals-ignore-case", "must be a string")),
        "exists" => value
            .as_bool()
            .map(Filter::Exists)
            .ok_or_else(|| operand(path, "exists", "must be true or false")),
        "numeric" => numeric(value, path).map(Filter::Numeric),
        "wildcard" => value
            .as_str()
            .ok_or_else(|| operand(path, "wildcard", "must be a string"))
            .and_then(|s| glob(s, path, "wildcard"))
            .map(Filter::Wildcard),
        "anything-but" => anything_but(value, path).map(Filter::AnythingBut),
        "cidr" => Err(PatternError::Unsupported { path: path.into() }),
        _ => Err(PatternError::UnknownOperator { path: path.into() }),
    }
}

fn glob(text: &str, path: &str, operator: &'static str) -> Result<Glob, PatternError> {
    Glob::compile(text).map_err(|e| match e {
        GlobError::ConsecutiveStars => {
            operand(path, operator, "has consecutive wildcard characters")
        }
        GlobError::BadEscape => operand(path, operator, "escapes a character other than * or \\"),
    })
}

fn affix(
    value: &Value,
    path: &str,
    operator: &'static str,
) -> Result<(String, Case), PatternError> {
    match value {
        Value::String(s) => Ok((s.clone(), Case::Sensitive)),
        Value::Object(map) if map.len() == 1 => match map.get("equals-ignore-case") {
            Some(Value::String(s)) => Ok((s.clone(), Case::Insensitive)),
            _ => Err(operand(
                path,
                operator,
                "takes a string or {\"equals-ignore-case\": string}",
            )),
        },
        _ => Err(operand(
            path,
            operator,
            "takes a string or {\"equals-ignore-case\": string}",
        )),
    }
}

fn strings(value: &Value, path: &str, operator: &'static str) -> Result<Vec<String>, PatternError> {
    let problem = || {
        operand(
            path,
            operator,
            "takes a string or a non-empty array of strings",
        )
    };
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned).ok_or_else(problem))
            .collect(),
        _ => Err(problem()),
    }
}

fn anything_but(value: &Value, path: &str) -> Result<AnythingBut, PatternError> {
    const OP: &str = "anything-but";
    match value {
        Value::String(_) | Value::Number(_) => Ok(AnythingBut::Values(vec![value.clone()])),
        Value::Array(items) if !items.is_empty() => {
            let all_strings = items.iter().all(Value::is_string);
            let all_numbers = items.iter().all(Value::is_number);
            if all_strings || all_numbers {
                Ok(AnythingBut::Values(items.clone()))
            } else {
                Err(operand(
                    path,
                    OP,
                    "takes an array of only strings or only numbers",
                ))
            }
        }
        Value::Object(map) if map.len() == 1 => {
            let (name, inner) = map
                .iter()
                .next()
                .ok_or_else(|| operand(path, OP, "is empty"))?;
            match (name.as_str(), inner) {
                ("prefix", Value::String(s)) => Ok(AnythingBut::Prefix(s.clone())),
                ("suffix", Value::String(s)) => Ok(AnythingBut::Suffix(s.clone())),
                ("equals-ignore-case", v) => {
                    strings(v, path, OP).map(AnythingBut::EqualsIgnoreCase)
                }
                ("wildcard", v) => strings(v, path, OP)?
                    .iter()
                    .map(|s| glob(s, path, OP))
                    .collect::<Result<_, _>>()
                    .map(AnythingBut::Wildcard),
                _ => Err(operand(
                    path,
                    OP,
                    "takes prefix or suffix (a string), equals-ignore-case or wildcard",
                )),
            }
        }
        _ => Err(operand(
            path,
            OP,
            "takes a string, a number, an array or an operator object",
        )),
    }
}

fn numeric(value: &Value, path: &str) -> Result<Vec<(Comparison, f64)>, PatternError> {
    const OP: &str = "numeric";
    let items = value
        .as_array()
        .filter(|a| !a.is_empty() && a.len().is_multiple_of(2) && a.len() <= 4)
        .ok_or_else(|| operand(path, OP, "takes one or two (operator, number) pairs"))?;
    let mut bounds = Vec::new();
    for pair in items.chunks(2) {
        let op = match pair[0].as_str() {
            Some("<") => Comparison::Lt,
            Some("<=") => Comparison::Le,
            Some("=") => Comparison::Eq,
            Some(">=") => Comparison::Ge,
            Some(">") => Comparison::Gt,
            _ => {
                return Err(operand(
                    path,
                    OP,
                    "has an operator other than <, <=, =, >=, >",
                ));
            }
        };
        let bound = match &pair[1] {
            Value::Number(n) => n
                .as_f64()
                .ok_or_else(|| operand(path, OP, "has a bound out of range"))?,
            _ => return Err(operand(path, OP, "has a bound that is not a number")),
        };
        bounds.push((op, bound));
    }
    let lower = |op: &Comparison| matches!(op, Comparison::Gt | Comparison::Ge);
    let upper = |op: &Comparison| matches!(op, Comparison::Lt | Comparison::Le);
    match bounds.as_slice() {
        [_] => Ok(bounds),
        [(a, x), (b, y)] if lower(a) && upper(b) && x < y => Ok(bounds),
        [(a, _), (b, _)] if lower(a) && upper(b) => Err(operand(
            path,
            OP,
            "has a lower bound that is not below its upper bound",
        )),
        _ => Err(operand(
            path,
            OP,
            "takes a lower bound (> or >=) then an upper bound (< or <=), or one comparison",
        )),
    }
}
