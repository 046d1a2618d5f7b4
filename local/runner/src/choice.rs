//! Choice rules: parsed (and refused) at load time, evaluated per the spec.

use super::LoadError;
use super::error::StateError;
use super::path::Path;
use chrono::{DateTime, FixedOffset};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    String,
    Numeric,
    Boolean,
    Timestamp,
    Type,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Equals,
    LessThan,
    GreaterThan,
    LessThanEquals,
    GreaterThanEquals,
    Matches,
    IsPresent,
    IsNull,
    IsString,
    IsNumeric,
    IsBoolean,
    IsTimestamp,
}

/// Every comparison operator name the runner implements (the spec's full set).
fn operator(name: &str) -> Option<(Kind, Cmp, bool)> {
    let (base, is_path) = match name.strip_suffix("Path") {
        Some(b) => (b, true),
        None => (name, false),
    };
    let typed = |prefix: &str, kind: Kind| -> Option<(Kind, Cmp)> {
        let rest = base.strip_prefix(prefix)?;
        let cmp = match rest {
            "Equals" => Cmp::Equals,
            "LessThan" => Cmp::LessThan,
            "GreaterThan" => Cmp::GreaterThan,
            "LessThanEquals" => Cmp::LessThanEquals,
            "GreaterThanEquals" => Cmp::GreaterThanEquals,
            "Matches" if kind == Kind::String && !is_path => Cmp::Matches,
            _ => return None,
        };
        if kind == Kind::Boolean && cmp != Cmp::Equals {
            return None;
        }
        Some((kind, cmp))
    };
    let found = typed("String", Kind::String)
        .or_else(|| typed("Numeric", Kind::Numeric))
        .or_else(|| typed("Boolean", Kind::Boolean))
        .or_else(|| typed("Timestamp", Kind::Timestamp))
        .or_else(|| {
            if is_path {
                return None;
            }
            let cmp = match base {
                "IsPresent" => Cmp::IsPresent,
                "IsNull" => Cmp::IsNull,
                "IsString" => Cmp::IsString,
                "IsNumeric" => Cmp::IsNumeric,
                "IsBoolean" => Cmp::IsBoolean,
                "IsTimestamp" => Cmp::IsTimestamp,
                _ => return None,
            };
            Some((Kind::Type, cmp))
        })?;
    Some((found.0, found.1, is_path))
}

#[derive(Debug, Clone)]
pub(crate) enum Operand {
    Literal(Value),
    Path(Path),
}

#[derive(Debug, Clone)]
pub(crate) enum Rule {
    And(Vec<Rule>),
    Or(Vec<Rule>),
    Not(Box<Rule>),
    Compare {
        variable: Path,
        operator: String,
        kind: Kind,
        cmp: Cmp,
        operand: Operand,
    },
}

/// A top-level Choice rule with its `Next`.
#[derive(Debug, Clone)]
pub(crate) struct ChoiceRule {
    pub rule: Rule,
    pub next: String,
}

fn parse_ts(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s).ok()
}

impl Rule {
    /// Parses one rule; `top` says whether `Next` is required (top level) or
    /// forbidden (nested in And/Or/Not).
    // Long: about 150 lines, on purpose: one match over the rule's shapes (And/Or/Not, the
    // comparison operators and their `…Path` forms, the type tests), each refused by name.
    pub fn parse(
        v: &Value,
        state: &str,
        field: &str,
        top: bool,
    ) -> Result<(Rule, Option<String>), LoadError> {
        let invalid = |message: String| LoadError::InvalidField {
            state: state.into(),
            field: field.into(),
            message,
        };
        let obj = v
            .as_object()
            .ok_or_else(|| invalid("a choice rule must be an object".into()))?;
        let mut next = None;
        let mut variable = None;
        let mut combinator: Option<(&str, &Value)> = None;
        let mut comparison: Option<(&str, &Value)> = None;
        for (k, val) in obj {
            match k.as_str() {
                "Next" => {
                    if !top {
                        return Err(invalid(
                            "`Next` is only allowed on a top-level choice rule".into(),
                        ));
                    }
                    next = Some(
                        val.as_str()
                            .ok_or_else(|| invalid("`Next` must be a string".into()))?
                            .to_string(),
                    );
                }
                "Comment" => {}
                "Variable" => {
                    let s = val
                        .as_str()
                        .ok_or_else(|| invalid("`Variable` must be a string path".into()))?;
                    variable = Some(Path::parse(s).map_err(|reason| LoadError::InvalidPath {
                        state: state.into(),
                        field: format!("{field}.Variable"),
                        path: s.into(),
                        reason,
                    })?);
                }
                "And" | "Or" | "Not" => {
                    if combinator.replace((k.as_str(), val)).is_some() || comparison.is_some() {
                        return Err(invalid(
                            "a choice rule holds exactly one comparison or combinator".into(),
                        ));
                    }
                }
                op => {
                    if operator(op).is_none() {
                        return Err(LoadError::UnsupportedOperator {
                            state: state.into(),
                            field: field.into(),
                            operator: op.into(),
                        });
                    }
                    if comparison.replace((op, val)).is_some() || combinator.is_some() {
                        return Err(invalid(
                            "a choice rule holds exactly one comparison or combinator".into(),
                        ));
                    }
                }
            }
        }
        if top && next.is_none() {
            return Err(LoadError::MissingField {
                scope: format!("state `{state}`, {field}"),
                field: "Next".into(),
            });
        }
        let rule = match (combinator, comparison) {
            (Some((name, val)), None) => {
                if variable.is_some() {
                    return Err(invalid(format!(
                        "`Variable` is not allowed beside `{name}`"
                    )));
                }
                let sub = |v: &Value, i: usize| {
                    Rule::parse(v, state, &format!("{field}.{name}[{i}]"), false).map(|(r, _)| r)
                };
                match name {
                    "Not" => Rule::Not(Box::new(sub(val, 0)?)),
                    _ => {
                        let items = val.as_array().filter(|a| !a.is_empty()).ok_or_else(|| {
                            invalid(format!("`{name}` must be a non-empty array"))
                        })?;
                        let rules = items
                            .iter()
                            .enumerate()
                            .map(|(i, v)| sub(v, i))
                            .collect::<Result<Vec<_>, _>>()?;
                        if name == "And" {
                            Rule::And(rules)
                        } else {
                            Rule::Or(rules)
                        }
                    }
                }
            }
            (None, Some((op, val))) => {
                let variable = variable.ok_or_else(|| LoadError::MissingField {
                    scope: format!("state `{state}`, {field}"),
                    field: "Variable".into(),
                })?;
                let Some((kind, cmp, is_path)) = operator(op) else {
                    return Err(LoadError::UnsupportedOperator {
                        state: state.into(),
                        field: field.into(),
                        operator: op.into(),
                    });
                };
                let operand = if is_path {
                    let s = val
                        .as_str()
                        .ok_or_else(|| invalid(format!("`{op}` must hold a path string")))?;
                    Operand::Path(Path::parse(s).map_err(|reason| LoadError::InvalidPath {
                        state: state.into(),
                        field: format!("{field}.{op}"),
                        path: s.into(),
                        reason,
                    })?)
                } else {
                    let ok = match kind {
                        Kind::String => val.is_string(),
                        Kind::Numeric => val.is_number(),
                        Kind::Boolean | Kind::Type => val.is_boolean(),
                        Kind::Timestamp => val.as_str().and_then(parse_ts).is_some(),
                    };
                    if !ok {
                        return Err(invalid(format!(
                            "`{op}` has a value of the wrong type: {val}"
                        )));
                    }
                    Operand::Literal(val.clone())
                };
                Rule::Compare {
                    variable,
                    operator: op.to_string(),
                    kind,
                    cmp,
                    operand,
                }
            }
            _ => {
                return Err(invalid(
                    "a choice rule needs one comparison operator or And/Or/Not".into(),
                ));
            }
        };
        Ok((rule, next))
    }

    pub fn evaluate(&self, input: &Value, ctx: &Value) -> Result<bool, StateError> {
        match self {
            Rule::And(rules) => {
                for r in rules {
                    if !r.evaluate(input, ctx)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Rule::Or(rules) => {
                for r in rules {
                    if r.evaluate(input, ctx)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Rule::Not(r) => Ok(!r.evaluate(input, ctx)?),
            Rule::Compare {
                variable,
                operator,
                kind,
                cmp,
                operand,
            } => {
                let value = variable.select(input, ctx);
                if *cmp == Cmp::IsPresent {
                    return Ok(
                        value.is_some() == (operand_literal(operand) == Some(&Value::Bool(true)))
                    );
                }
                let value = value.ok_or_else(|| {
                    StateError::runtime(format!(
                        "Invalid path '{}': the choice state's condition path references an invalid value",
                        variable.as_str()
                    ))
                })?;
                let expected = match operand {
                    Operand::Literal(v) => v.clone(),
                    Operand::Path(p) => p.select(input, ctx).ok_or_else(|| {
                        StateError::runtime(format!(
                            "Invalid path '{}' for `{operator}`: it matches nothing",
                            p.as_str()
                        ))
                    })?,
                };
                Ok(compare(*kind, *cmp, &value, &expected))
            }
        }
    }
}

fn operand_literal(o: &Operand) -> Option<&Value> {
    match o {
        Operand::Literal(v) => Some(v),
        Operand::Path(_) => None,
    }
}

fn ordering(cmp: Cmp, o: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match cmp {
        Cmp::Equals => o == Equal,
        Cmp::LessThan => o == Less,
        Cmp::GreaterThan => o == Greater,
        Cmp::LessThanEquals => o != Greater,
        Cmp::GreaterThanEquals => o != Less,
        _ => false,
    }
}

/// Mismatched types compare false, as the spec says.
fn compare(kind: Kind, cmp: Cmp, value: &Value, expected: &Value) -> bool {
    match kind {
        Kind::Type => {
            let want = expected.as_bool().unwrap_or(false);
            let is = match cmp {
                Cmp::IsNull => value.is_null(),
                Cmp::IsString => value.is_string(),
                Cmp::IsNumeric => value.is_number(),
                Cmp::IsBoolean => value.is_boolean(),
                Cmp::IsTimestamp => value.as_str().and_then(parse_ts).is_some(),
                _ => false,
            };
            is == want
        }
        Kind::String => match (value.as_str(), expected.as_str()) {
            (Some(a), Some(b)) if cmp == Cmp::Matches => wildcard_match(b, a),
            (Some(a), Some(b)) => ordering(cmp, a.cmp(b)),
            _ => false,
        },
        Kind::Numeric => match (value.as_f64(), expected.as_f64()) {
            (Some(a), Some(b)) => a.partial_cmp(&b).is_some_and(|o| ordering(cmp, o)),
            _ => false,
        },
        Kind::Boolean => match (value.as_bool(), expected.as_bool()) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        Kind::Timestamp => match (
            value.as_str().and_then(parse_ts),
            expected.as_str().and_then(parse_ts),
        ) {
            (Some(a), Some(b)) => ordering(cmp, a.cmp(&b)),
            _ => false,
        },
    }
}

/// StringMatches: `*` matches any run of characters; `\*` and `\\` are literal.
fn wildcard_match(pattern: &str, s: &str) -> bool {
    #[derive(PartialEq)]
    enum Tok {
        Star,
        Ch(char),
    }
    let mut toks = Vec::new();
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => {
                if let Some(e) = it.next() {
                    toks.push(Tok::Ch(e));
                }
            }
            '*' => toks.push(Tok::Star),
            c => toks.push(Tok::Ch(c)),
        }
    }
    let chars: Vec<char> = s.chars().collect();
    // Iterative glob match with backtracking to the last star.
    let (mut p, mut i) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < chars.len() {
        match toks.get(p) {
            Some(Tok::Ch(c)) if *c == chars[i] => {
                p += 1;
                i += 1;
            }
            Some(Tok::Star) => {
                star = Some((p, i));
                p += 1;
            }
            _ => match star {
                Some((sp, si)) => {
                    p = sp + 1;
                    i = si + 1;
                    star = Some((sp, si + 1));
                }
                None => return false,
            },
        }
    }
    toks[p..].iter().all(|t| *t == Tok::Star)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(rule: Value, input: Value) -> Result<bool, StateError> {
        match Rule::parse(&rule, "S", "Choices[0]", false) {
            Ok((r, _)) => r.evaluate(&input, &json!({})),
            Err(e) => Err(StateError::new("load", e.to_string())),
        }
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("log-*.txt", "log-2026.txt"));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match("a*b", "ac"));
        assert!(wildcard_match("a\\*b", "a*b"));
        assert!(!wildcard_match("a\\*b", "axb"));
    }

    #[test]
    fn every_operator_family() {
        let input =
            json!({"s": "abc", "n": 5, "b": true, "t": "2026-01-01T00:00:00Z", "z": null, "m": 5});
        let cases = [
            (json!({"Variable": "$.s", "StringEquals": "abc"}), true),
            (json!({"Variable": "$.s", "StringLessThan": "abd"}), true),
            (
                json!({"Variable": "$.s", "StringGreaterThanEquals": "abc"}),
                true,
            ),
            (json!({"Variable": "$.s", "StringMatches": "a*"}), true),
            (json!({"Variable": "$.s", "StringEqualsPath": "$.s"}), true),
            (json!({"Variable": "$.n", "NumericEquals": 5}), true),
            (json!({"Variable": "$.n", "NumericLessThan": 5}), false),
            (
                json!({"Variable": "$.n", "NumericLessThanEquals": 5.0}),
                true,
            ),
            (json!({"Variable": "$.n", "NumericGreaterThan": 4}), true),
            (json!({"Variable": "$.n", "NumericEqualsPath": "$.m"}), true),
            (
                json!({"Variable": "$.n", "NumericGreaterThanPath": "$.m"}),
                false,
            ),
            (json!({"Variable": "$.b", "BooleanEquals": true}), true),
            (json!({"Variable": "$.b", "BooleanEqualsPath": "$.b"}), true),
            (
                json!({"Variable": "$.t", "TimestampEquals": "2026-01-01T00:00:00Z"}),
                true,
            ),
            (
                json!({"Variable": "$.t", "TimestampLessThan": "2026-01-01T00:00:01Z"}),
                true,
            ),
            (
                json!({"Variable": "$.t", "TimestampGreaterThanEqualsPath": "$.t"}),
                true,
            ),
            (json!({"Variable": "$.missing", "IsPresent": false}), true),
            (json!({"Variable": "$.s", "IsPresent": true}), true),
            (json!({"Variable": "$.z", "IsNull": true}), true),
            (json!({"Variable": "$.s", "IsString": true}), true),
            (json!({"Variable": "$.n", "IsNumeric": true}), true),
            (json!({"Variable": "$.b", "IsBoolean": true}), true),
            (json!({"Variable": "$.t", "IsTimestamp": true}), true),
            (json!({"Variable": "$.s", "IsTimestamp": true}), false),
            (json!({"Variable": "$.n", "StringEquals": "5"}), false),
            (
                json!({"And": [{"Variable": "$.n", "NumericGreaterThan": 1}, {"Variable": "$.b", "BooleanEquals": true}]}),
                true,
            ),
            (
                json!({"Or": [{"Variable": "$.n", "NumericGreaterThan": 10}, {"Variable": "$.b", "BooleanEquals": false}]}),
                false,
            ),
            (
                json!({"Not": {"Variable": "$.s", "StringEquals": "x"}}),
                true,
            ),
        ];
        for (rule, want) in cases {
            assert_eq!(eval(rule.clone(), input.clone()), Ok(want), "{rule}");
        }
    }

    #[test]
    fn missing_variable_is_a_runtime_error() {
        let r = eval(
            json!({"Variable": "$.nope", "StringEquals": "x"}),
            json!({}),
        );
        assert!(matches!(r, Err(e) if e.error == "States.Runtime"));
    }

    #[test]
    fn unknown_operators_and_bad_literals_are_refused() {
        let bad = Rule::parse(
            &json!({"Variable": "$.a", "StringContains": "x"}),
            "S",
            "Choices[0]",
            false,
        );
        assert!(
            matches!(bad, Err(LoadError::UnsupportedOperator { operator, .. }) if operator == "StringContains")
        );
        let bad = Rule::parse(
            &json!({"Variable": "$.a", "StringMatchesPath": "$.b"}),
            "S",
            "Choices[0]",
            false,
        );
        assert!(matches!(bad, Err(LoadError::UnsupportedOperator { .. })));
        let bad = Rule::parse(
            &json!({"Variable": "$.a", "NumericEquals": "5"}),
            "S",
            "Choices[0]",
            false,
        );
        assert!(matches!(bad, Err(LoadError::InvalidField { .. })));
        let bad = Rule::parse(
            &json!({"Variable": "$.a", "TimestampEquals": "yesterday"}),
            "S",
            "Choices[0]",
            false,
        );
        assert!(matches!(bad, Err(LoadError::InvalidField { .. })));
    }
}
