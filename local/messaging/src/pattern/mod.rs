//! EventBridge event patterns: parsed once (`parse.rs`, which names what is wrong in a malformed
//! pattern) into the tree below, then matched against full event envelopes.
//!
//! Semantics follow EventBridge's documentation rather than any one emulator: a pattern field
//! holds a list of filters (any-of); an event array matches when any of its elements does;
//! arrays of objects are walked element by element; a field absent from the event matches only
//! `{"exists": false}`; an object is never a leaf (`exists` and value filters look at leaves).

mod parse;
mod wildcard;

use serde_json::Value;

pub use parse::PatternError;

/// A parsed event pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPattern {
    root: ObjectPattern,
}

/// One level of a pattern: fields to match, and `$or` groups (each a list of alternatives).
#[derive(Debug, Clone, PartialEq, Default)]
struct ObjectPattern {
    fields: Vec<(String, FieldPattern)>,
    ors: Vec<Vec<ObjectPattern>>,
}

#[derive(Debug, Clone, PartialEq)]
enum FieldPattern {
    Nested(ObjectPattern),
    Filters(Vec<Filter>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    Sensitive,
    Insensitive,
}

#[derive(Debug, Clone, PartialEq)]
enum Filter {
    /// A string, number, boolean or null, matched by type and value.
    Exact(Value),
    Prefix(String, Case),
    Suffix(String, Case),
    EqualsIgnoreCase(String),
    AnythingBut(AnythingBut),
    Exists(bool),
    Numeric(Vec<(Comparison, f64)>),
    Wildcard(wildcard::Glob),
}

#[derive(Debug, Clone, PartialEq)]
enum AnythingBut {
    Values(Vec<Value>),
    Prefix(String),
    Suffix(String),
    EqualsIgnoreCase(Vec<String>),
    Wildcard(Vec<wildcard::Glob>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
}

impl EventPattern {
    /// Parses a pattern document (a JSON object).
    pub fn parse(pattern: &Value) -> Result<Self, PatternError> {
        parse::parse(pattern).map(|root| Self { root })
    }

    /// Parses a pattern from its JSON text.
    pub fn parse_str(text: &str) -> Result<Self, PatternError> {
        let value: Value = serde_json::from_str(text).map_err(|_| PatternError::NotJson)?;
        Self::parse(&value)
    }

    /// Whether the event (a full envelope) matches.
    pub fn matches(&self, event: &Value) -> bool {
        object_matches(&self.root, Some(event))
    }
}

/// `node` is the event's value at this level: `None` when absent.
fn object_matches(pattern: &ObjectPattern, node: Option<&Value>) -> bool {
    if let Some(Value::Array(items)) = node {
        // An array of objects: one element must satisfy the whole level.
        return items.iter().any(|item| object_matches(pattern, Some(item)));
    }
    let object = match node {
        Some(Value::Object(map)) => Some(map),
        _ => None,
    };
    let fields_match = pattern.fields.iter().all(|(key, field)| {
        let child = object.and_then(|map| map.get(key));
        match field {
            FieldPattern::Nested(nested) => object_matches(nested, child),
            FieldPattern::Filters(filters) => field_matches(filters, child),
        }
    });
    fields_match
        && pattern
            .ors
            .iter()
            .all(|alternatives| alternatives.iter().any(|alt| object_matches(alt, node)))
}

/// The leaf values at a field: scalars, and the scalars of arrays (recursively).
fn leaves<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| leaves(item, out)),
        Value::Object(_) => {}
        scalar => out.push(scalar),
    }
}

fn field_matches(filters: &[Filter], value: Option<&Value>) -> bool {
    let mut values = Vec::new();
    if let Some(value) = value {
        leaves(value, &mut values);
    }
    filters.iter().any(|filter| match filter {
        Filter::Exists(wanted) => values.is_empty() != *wanted,
        other => values.iter().any(|value| value_matches(other, value)),
    })
}

fn value_matches(filter: &Filter, value: &Value) -> bool {
    let text = value.as_str();
    match filter {
        Filter::Exact(expected) => scalars_equal(expected, value),
        Filter::Prefix(prefix, case) => text.is_some_and(|t| affix(t, prefix, *case, true)),
        Filter::Suffix(suffix, case) => text.is_some_and(|t| affix(t, suffix, *case, false)),
        Filter::EqualsIgnoreCase(expected) => {
            text.is_some_and(|t| t.to_lowercase() == expected.to_lowercase())
        }
        Filter::AnythingBut(but) => anything_but_matches(but, value),
        Filter::Exists(_) => false,
        Filter::Numeric(bounds) => number(value).is_some_and(|n| {
            bounds.iter().all(|(op, bound)| match op {
                Comparison::Lt => n < *bound,
                Comparison::Le => n <= *bound,
                Comparison::Eq => n == *bound,
                Comparison::Ge => n >= *bound,
                Comparison::Gt => n > *bound,
            })
        }),
        Filter::Wildcard(glob) => text.is_some_and(|t| glob.matches(t)),
    }
}

fn anything_but_matches(but: &AnythingBut, value: &Value) -> bool {
    let text = value.as_str();
    match but {
        AnythingBut::Values(excluded) => !excluded.iter().any(|e| scalars_equal(e, value)),
        AnythingBut::Prefix(prefix) => {
            text.is_some_and(|t| !affix(t, prefix, Case::Sensitive, true))
        }
        AnythingBut::Suffix(suffix) => {
            text.is_some_and(|t| !affix(t, suffix, Case::Sensitive, false))
        }
        AnythingBut::EqualsIgnoreCase(excluded) => text.is_some_and(|t| {
            let lower = t.to_lowercase();
            !excluded.iter().any(|e| e.to_lowercase() == lower)
        }),
        AnythingBut::Wildcard(globs) => text.is_some_and(|t| !globs.iter().any(|g| g.matches(t))),
    }
}

fn affix(text: &str, part: &str, case: Case, at_start: bool) -> bool {
    let (text, part) = match case {
        Case::Sensitive => (text.to_owned(), part.to_owned()),
        Case::Insensitive => (text.to_lowercase(), part.to_lowercase()),
    };
    if at_start {
        text.starts_with(&part)
    } else {
        text.ends_with(&part)
    }
}

/// A JSON number (booleans are not numbers).
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

fn scalars_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests;
