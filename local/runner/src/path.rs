//! Paths (JSONPath via `serde_json_path`), reference paths for ResultPath,
//! and payload templates (Parameters, ResultSelector, ItemSelector).

use super::error::{STATES_RESULT_PATH_MATCH_FAILURE, StateError};
use super::intrinsic::Intrinsic;
use serde_json::{Map, Value};
use serde_json_path::JsonPath;

/// A compiled Path: `$...` against the state's data or `$$...` against the
/// context object. A definite path (no wildcard, filter, slice, union or
/// descendant segment) selects one value; an indefinite one selects an array.
#[derive(Debug, Clone)]
pub struct Path {
    raw: String,
    context: bool,
    compiled: JsonPath,
    definite: bool,
}

/// Outside quoted names, the characters that make a path indefinite.
fn is_definite(p: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut prev = '\0';
    for c in p.chars() {
        match quote {
            Some(q) => {
                if c == q && prev != '\\' {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' => quote = Some(c),
                '*' | '?' | ',' | ':' => return false,
                '.' if prev == '.' => return false,
                _ => {}
            },
        }
        prev = c;
    }
    true
}

impl Path {
    /// Parses a Path; the error says why it is refused.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (context, body) = match raw.strip_prefix("$$") {
            Some(rest) => (true, format!("${rest}")),
            None => (false, raw.to_string()),
        };
        if !body.starts_with('$') {
            return Err("a path must start with `$` or `$$`".into());
        }
        let compiled = JsonPath::parse(&body).map_err(|e| e.to_string())?;
        Ok(Self {
            raw: raw.to_string(),
            context,
            compiled,
            definite: is_definite(&body),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn is_context(&self) -> bool {
        self.context
    }

    pub fn is_definite(&self) -> bool {
        self.definite
    }

    /// Selects from `data` (or `context` for `$$` paths); None when a
    /// definite path matches nothing.
    pub fn select(&self, data: &Value, context: &Value) -> Option<Value> {
        let target = if self.context { context } else { data };
        let nodes = self.compiled.query(target);
        if self.definite {
            nodes.exactly_one().ok().cloned()
        } else {
            Some(Value::Array(nodes.all().into_iter().cloned().collect()))
        }
    }

    /// `select`, or the States.Runtime error Step Functions raises for the field.
    pub fn select_required(
        &self,
        data: &Value,
        context: &Value,
        field: &str,
    ) -> Result<Value, StateError> {
        self.select(data, context).ok_or_else(|| {
            StateError::runtime(format!(
                "Invalid path '{}' for the field '{}': it matches nothing in the input '{}'",
                self.raw, field, data
            ))
        })
    }
}

/// InputPath / OutputPath: absent = `$`, `null` = `{}`.
#[derive(Debug, Clone)]
pub enum IoPath {
    Root,
    Null,
    Path(Path),
}

impl IoPath {
    pub fn apply(&self, data: &Value, context: &Value, field: &str) -> Result<Value, StateError> {
        match self {
            IoPath::Root => Ok(data.clone()),
            IoPath::Null => Ok(Value::Object(Map::new())),
            IoPath::Path(p) => p.select_required(data, context, field),
        }
    }
}

/// A Reference Path (ResultPath): `$` or a chain of field names. Indices,
/// wildcards and filters are refused at load time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefPath {
    pub segments: Vec<String>,
}

impl RefPath {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let Some(mut rest) = raw.strip_prefix('$') else {
            return Err("a reference path must start with `$`".into());
        };
        if rest.starts_with('$') {
            return Err("a reference path cannot address the context object".into());
        }
        let mut segments = Vec::new();
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('.') {
                let end = r.find(['.', '[']).unwrap_or(r.len());
                let name = &r[..end];
                if name.is_empty() || name.contains(['*', '?', '@', ']', '(', ')', ' ']) {
                    return Err(format!("invalid field name `{name}`"));
                }
                segments.push(name.to_string());
                rest = &r[end..];
            } else if let Some(r) = rest.strip_prefix("['") {
                let end = r
                    .find("']")
                    .ok_or_else(|| "unterminated `['` segment".to_string())?;
                segments.push(r[..end].to_string());
                rest = &r[end + 2..];
            } else {
                return Err(
                    "only field names (`.name` or `['name']`) are supported in a reference path"
                        .into(),
                );
            }
        }
        Ok(Self { segments })
    }

    /// Places `result` into `input` at this path (ResultPath semantics):
    /// `$` replaces; otherwise missing objects are created, and a non-object
    /// on the way is States.ResultPathMatchFailure.
    pub fn merge(&self, input: &Value, result: Value) -> Result<Value, StateError> {
        let Some((last, parents)) = self.segments.split_last() else {
            return Ok(result);
        };
        let mut out = input.clone();
        let fail = || {
            StateError::new(
                STATES_RESULT_PATH_MATCH_FAILURE,
                format!(
                    "Unable to apply ResultPath '$.{}' to input '{}'",
                    self.segments.join("."),
                    input
                ),
            )
        };
        let mut cur = &mut out;
        for seg in parents {
            let obj = cur.as_object_mut().ok_or_else(fail)?;
            cur = obj
                .entry(seg.clone())
                .or_insert_with(|| Value::Object(Map::new()));
        }
        cur.as_object_mut()
            .ok_or_else(fail)?
            .insert(last.clone(), result);
        Ok(out)
    }
}

/// ResultPath: absent = `$` (result replaces input), `null` = discard result.
#[derive(Debug, Clone)]
pub enum ResultPath {
    Discard,
    At(RefPath),
}

impl ResultPath {
    pub fn root() -> Self {
        ResultPath::At(RefPath {
            segments: Vec::new(),
        })
    }

    pub fn apply(&self, raw_input: &Value, result: Value) -> Result<Value, StateError> {
        match self {
            ResultPath::Discard => Ok(raw_input.clone()),
            ResultPath::At(p) => p.merge(raw_input, result),
        }
    }
}

/// A compiled payload template (`Parameters`, `ItemSelector`, `ResultSelector`): the JSON
/// to build, with `.$` fields compiled to paths and intrinsic calls.
#[derive(Debug, Clone)]
pub enum PayloadTemplate {
    Literal(Value),
    Object(Vec<(String, PayloadTemplate)>),
    Array(Vec<PayloadTemplate>),
    Path { field: String, path: Path },
    Intrinsic { field: String, call: Intrinsic },
}

/// Where in the definition a template sits, for load errors.
pub struct PayloadTemplateSite<'a> {
    pub state: &'a str,
    pub field: &'a str,
}

impl PayloadTemplate {
    pub fn compile(
        value: &Value,
        site: &PayloadTemplateSite<'_>,
    ) -> Result<Self, super::LoadError> {
        use super::LoadError;
        Ok(match value {
            Value::Object(map) => {
                let mut fields = Vec::with_capacity(map.len());
                for (k, v) in map {
                    if let Some(name) = k.strip_suffix(".$") {
                        let Value::String(expr) = v else {
                            return Err(LoadError::InvalidField {
                                state: site.state.into(),
                                field: format!("{}.{k}", site.field),
                                message: "a field ending in `.$` must hold a string path or intrinsic function".into(),
                            });
                        };
                        let t = if expr.starts_with("States.") {
                            PayloadTemplate::Intrinsic {
                                field: k.clone(),
                                call: Intrinsic::parse(expr).map_err(|e| {
                                    e.into_load_error(site.state, &format!("{}.{k}", site.field))
                                })?,
                            }
                        } else {
                            PayloadTemplate::Path {
                                field: k.clone(),
                                path: Path::parse(expr).map_err(|reason| {
                                    LoadError::InvalidPath {
                                        state: site.state.into(),
                                        field: format!("{}.{k}", site.field),
                                        path: expr.clone(),
                                        reason,
                                    }
                                })?,
                            }
                        };
                        fields.push((name.to_string(), t));
                    } else {
                        fields.push((k.clone(), PayloadTemplate::compile(v, site)?));
                    }
                }
                PayloadTemplate::Object(fields)
            }
            Value::Array(items) => PayloadTemplate::Array(
                items
                    .iter()
                    .map(|v| PayloadTemplate::compile(v, site))
                    .collect::<Result<_, _>>()?,
            ),
            other => PayloadTemplate::Literal(other.clone()),
        })
    }

    pub fn evaluate(&self, data: &Value, context: &Value) -> Result<Value, StateError> {
        Ok(match self {
            PayloadTemplate::Literal(v) => v.clone(),
            PayloadTemplate::Object(fields) => {
                let mut map = Map::new();
                for (k, t) in fields {
                    map.insert(k.clone(), t.evaluate(data, context)?);
                }
                Value::Object(map)
            }
            PayloadTemplate::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|t| t.evaluate(data, context))
                    .collect::<Result<_, _>>()?,
            ),
            PayloadTemplate::Path { field, path } => path.select(data, context).ok_or_else(|| {
                StateError::runtime(format!(
                    "The JSONPath '{}' specified for the field '{}' could not be found in the input '{}'",
                    path.as_str(),
                    field,
                    if path.is_context() { context } else { data }
                ))
            })?,
            PayloadTemplate::Intrinsic { field, call } => call
                .evaluate(data, context)
                .map_err(|e| StateError::runtime(format!("The function for the field '{field}' failed: {e}")))?,
        })
    }

    /// Whether any path in the template reads `$$.Task.Token`.
    pub fn references_task_token(&self) -> bool {
        match self {
            PayloadTemplate::Literal(_) => false,
            PayloadTemplate::Object(f) => f.iter().any(|(_, t)| t.references_task_token()),
            PayloadTemplate::Array(a) => a.iter().any(PayloadTemplate::references_task_token),
            PayloadTemplate::Path { path, .. } => path.as_str().starts_with("$$.Task.Token"),
            PayloadTemplate::Intrinsic { call, .. } => call.references_task_token(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn definite_and_indefinite_selection() {
        let data = json!({"a": {"b": [1, 2, 3]}, "items": [{"x": 1}, {"x": 2}]});
        let ctx = json!({});
        assert_eq!(
            Path::parse("$.a.b[1]")
                .ok()
                .and_then(|p| p.select(&data, &ctx)),
            Some(json!(2))
        );
        assert_eq!(
            Path::parse("$.items[*].x")
                .ok()
                .and_then(|p| p.select(&data, &ctx)),
            Some(json!([1, 2]))
        );
        assert_eq!(
            Path::parse("$.missing")
                .ok()
                .and_then(|p| p.select(&data, &ctx)),
            None
        );
        assert!(Path::parse("a.b").is_err());
    }

    #[test]
    fn context_paths_read_the_context_object() {
        let ctx = json!({"Execution": {"Id": "arn:x"}});
        let p = Path::parse("$$.Execution.Id").ok();
        assert_eq!(
            p.and_then(|p| p.select(&json!({}), &ctx)),
            Some(json!("arn:x"))
        );
    }

    #[test]
    fn result_path_merges_and_creates_objects() {
        let rp = RefPath::parse("$.a.b").ok();
        let out = rp.map(|p| p.merge(&json!({"a": {"c": 1}, "d": 2}), json!(5)));
        assert_eq!(out, Some(Ok(json!({"a": {"c": 1, "b": 5}, "d": 2}))));
        let rp = RefPath::parse("$.a.b").ok();
        let err = rp.map(|p| p.merge(&json!({"a": "str"}), json!(5)));
        assert!(matches!(err, Some(Err(e)) if e.error == STATES_RESULT_PATH_MATCH_FAILURE));
        assert!(RefPath::parse("$.a[0]").is_err());
        assert!(RefPath::parse("$.a[*]").is_err());
        assert_eq!(
            RefPath::parse("$['x y']").map(|p| p.segments),
            Ok(vec!["x y".to_string()])
        );
    }
}
