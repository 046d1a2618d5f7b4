//! Intrinsic functions: parsed at load time (an unknown function is refused),
//! evaluated against the state's data and the context object.

use super::LoadError;
use super::path::Path;
use serde_json::{Number, Value};

/// The functions the runner implements. Any other `States.*` name is refused.
pub const SUPPORTED: &[&str] = &[
    "States.Format",
    "States.StringToJson",
    "States.JsonToString",
    "States.Array",
    "States.ArrayLength",
    "States.ArrayGetItem",
    "States.ArrayContains",
    "States.ArrayRange",
    "States.ArrayUnique",
    "States.ArrayPartition",
    "States.MathAdd",
    "States.StringSplit",
    "States.UUID",
];

#[derive(Debug, Clone)]
pub enum Arg {
    /// A string literal: `raw` keeps `\{`/`\}` escapes for States.Format.
    Str {
        raw: String,
        value: String,
    },
    Literal(Value),
    Path(Path),
    Call(Intrinsic),
}

#[derive(Debug, Clone)]
pub struct Intrinsic {
    pub name: String,
    pub args: Vec<Arg>,
}

#[derive(Debug)]
pub enum IntrinsicParseError {
    Unsupported(String),
    Syntax(String),
    Path { path: String, reason: String },
}

impl IntrinsicParseError {
    pub fn into_load_error(self, state: &str, field: &str) -> LoadError {
        match self {
            IntrinsicParseError::Unsupported(function) => LoadError::UnsupportedIntrinsic {
                state: state.into(),
                field: field.into(),
                function,
            },
            IntrinsicParseError::Syntax(message) => LoadError::InvalidField {
                state: state.into(),
                field: field.into(),
                message: format!("invalid intrinsic function call: {message}"),
            },
            IntrinsicParseError::Path { path, reason } => LoadError::InvalidPath {
                state: state.into(),
                field: field.into(),
                path,
                reason,
            },
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    src: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn err<T>(&self, msg: &str) -> Result<T, IntrinsicParseError> {
        Err(IntrinsicParseError::Syntax(format!(
            "{msg} at offset {} in `{}`",
            self.pos, self.src
        )))
    }

    fn call(&mut self) -> Result<Intrinsic, IntrinsicParseError> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'_')
        {
            self.pos += 1;
        }
        let name = self.src[start..self.pos].to_string();
        if !SUPPORTED.contains(&name.as_str()) {
            return Err(IntrinsicParseError::Unsupported(name));
        }
        self.ws();
        if self.peek() != Some(b'(') {
            return self.err("expected `(`");
        }
        self.pos += 1;
        let mut args = Vec::new();
        self.ws();
        if self.peek() == Some(b')') {
            self.pos += 1;
            return Ok(Intrinsic { name, args });
        }
        loop {
            self.ws();
            args.push(self.arg()?);
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b')') => {
                    self.pos += 1;
                    return Ok(Intrinsic { name, args });
                }
                _ => return self.err("expected `,` or `)`"),
            }
        }
    }

    fn arg(&mut self) -> Result<Arg, IntrinsicParseError> {
        match self.peek() {
            Some(b'\'') => self.string(),
            Some(b'$') => self.path(),
            Some(b'S') => Ok(Arg::Call(self.call()?)),
            Some(_) => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| c != b',' && c != b')' && !c.is_ascii_whitespace())
                {
                    self.pos += 1;
                }
                let tok = &self.src[start..self.pos];
                match serde_json::from_str::<Value>(tok) {
                    Ok(v @ (Value::Number(_) | Value::Bool(_) | Value::Null)) => {
                        Ok(Arg::Literal(v))
                    }
                    _ => self.err(&format!("invalid argument `{tok}`")),
                }
            }
            None => self.err("unexpected end"),
        }
    }

    fn string(&mut self) -> Result<Arg, IntrinsicParseError> {
        self.pos += 1;
        let mut raw = String::new();
        let mut value = String::new();
        let mut chars = self.src[self.pos..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, e @ ('{' | '}'))) => {
                        raw.push('\\');
                        raw.push(e);
                        value.push(e);
                    }
                    Some((_, e)) => {
                        raw.push(e);
                        value.push(e);
                    }
                    None => break,
                },
                '\'' => {
                    self.pos += i + 1;
                    return Ok(Arg::Str { raw, value });
                }
                c => {
                    raw.push(c);
                    value.push(c);
                }
            }
        }
        self.err("unterminated string")
    }

    fn path(&mut self) -> Result<Arg, IntrinsicParseError> {
        let start = self.pos;
        let mut depth = 0usize;
        let mut quote: Option<u8> = None;
        while let Some(c) = self.peek() {
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None => match c {
                    b'\'' | b'"' => quote = Some(c),
                    b'[' | b'(' => depth += 1,
                    b']' => depth = depth.saturating_sub(1),
                    b')' if depth == 0 => break,
                    b')' => depth -= 1,
                    b',' if depth == 0 => break,
                    _ => {}
                },
            }
            self.pos += 1;
        }
        let raw = self.src[start..self.pos].trim();
        Path::parse(raw)
            .map(Arg::Path)
            .map_err(|reason| IntrinsicParseError::Path {
                path: raw.to_string(),
                reason,
            })
    }
}

fn num(v: &Value, what: &str) -> Result<f64, String> {
    v.as_f64()
        .ok_or_else(|| format!("{what} must be a number, got {v}"))
}

fn int(v: &Value, what: &str) -> Result<i64, String> {
    match v.as_i64() {
        Some(i) => Ok(i),
        None => match v.as_f64() {
            Some(f) if f.fract() == 0.0 => Ok(f as i64),
            _ => Err(format!("{what} must be an integer, got {v}")),
        },
    }
}

fn array<'v>(v: &'v Value, what: &str) -> Result<&'v Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| format!("{what} must be an array, got {v}"))
}

fn string<'v>(v: &'v Value, what: &str) -> Result<&'v str, String> {
    v.as_str()
        .ok_or_else(|| format!("{what} must be a string, got {v}"))
}

fn number_value(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Value::Number(Number::from(f as i64))
    } else {
        Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

impl Intrinsic {
    pub fn parse(src: &str) -> Result<Self, IntrinsicParseError> {
        let mut p = Parser {
            s: src.as_bytes(),
            src,
            pos: 0,
        };
        let call = p.call()?;
        p.ws();
        if p.pos != src.len() {
            return p.err("trailing characters");
        }
        call.check_arity()?;
        Ok(call)
    }

    fn check_arity(&self) -> Result<(), IntrinsicParseError> {
        let n = self.args.len();
        let ok = match self.name.as_str() {
            "States.Format" => n >= 1,
            "States.StringToJson"
            | "States.JsonToString"
            | "States.ArrayLength"
            | "States.ArrayUnique" => n == 1,
            "States.ArrayGetItem"
            | "States.ArrayContains"
            | "States.ArrayPartition"
            | "States.MathAdd"
            | "States.StringSplit" => n == 2,
            "States.ArrayRange" => n == 3,
            "States.UUID" => n == 0,
            _ => true,
        };
        if !ok {
            return Err(IntrinsicParseError::Syntax(format!(
                "{} does not take {n} argument(s)",
                self.name
            )));
        }
        for a in &self.args {
            if let Arg::Call(c) = a {
                c.check_arity()?;
            }
        }
        Ok(())
    }

    pub fn references_task_token(&self) -> bool {
        self.args.iter().any(|a| match a {
            Arg::Path(p) => p.as_str().starts_with("$$.Task.Token"),
            Arg::Call(c) => c.references_task_token(),
            _ => false,
        })
    }

    fn arg_value(a: &Arg, data: &Value, ctx: &Value) -> Result<Value, String> {
        match a {
            Arg::Str { value, .. } => Ok(Value::String(value.clone())),
            Arg::Literal(v) => Ok(v.clone()),
            Arg::Path(p) => p
                .select(data, ctx)
                .ok_or_else(|| format!("the path '{}' matches nothing", p.as_str())),
            Arg::Call(c) => c.evaluate(data, ctx),
        }
    }

    /// Evaluates the call; the error text becomes a States.Runtime cause.
    pub fn evaluate(&self, data: &Value, ctx: &Value) -> Result<Value, String> {
        let name = self.name.as_str();
        if name == "States.Format" {
            return self.format(data, ctx);
        }
        let args: Vec<Value> = self
            .args
            .iter()
            .map(|a| Self::arg_value(a, data, ctx))
            .collect::<Result<_, _>>()?;
        let first = args.first().cloned().unwrap_or(Value::Null);
        let second = args.get(1).cloned().unwrap_or(Value::Null);
        match name {
            "States.StringToJson" => serde_json::from_str(string(&first, "the argument")?)
                .map_err(|e| format!("States.StringToJson: {e}")),
            "States.JsonToString" => serde_json::to_string(&first)
                .map(Value::String)
                .map_err(|e| e.to_string()),
            "States.Array" => Ok(Value::Array(args)),
            "States.ArrayLength" => Ok(Value::from(array(&first, "the argument")?.len())),
            "States.ArrayGetItem" => {
                let a = array(&first, "the first argument")?;
                let i = int(&second, "the index")?;
                usize::try_from(i)
                    .ok()
                    .and_then(|i| a.get(i))
                    .cloned()
                    .ok_or_else(|| {
                        format!("index {i} is out of bounds for an array of {}", a.len())
                    })
            }
            "States.ArrayContains" => Ok(Value::Bool(
                array(&first, "the first argument")?.contains(&second),
            )),
            "States.ArrayUnique" => {
                let mut out: Vec<Value> = Vec::new();
                for v in array(&first, "the argument")? {
                    if !out.contains(v) {
                        out.push(v.clone());
                    }
                }
                Ok(Value::Array(out))
            }
            "States.ArrayPartition" => {
                let a = array(&first, "the first argument")?;
                let size = int(&second, "the chunk size")?;
                let size = usize::try_from(size)
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| "the chunk size must be positive".to_string())?;
                Ok(Value::Array(
                    a.chunks(size).map(|c| Value::Array(c.to_vec())).collect(),
                ))
            }
            "States.ArrayRange" => {
                let start = int(&first, "the start")?;
                let end = int(&second, "the end")?;
                let step = int(args.get(2).unwrap_or(&Value::Null), "the step")?;
                if step == 0 {
                    return Err("the step must not be 0".into());
                }
                let mut out = Vec::new();
                let mut i = start;
                while (step > 0 && i <= end) || (step < 0 && i >= end) {
                    out.push(Value::from(i));
                    if out.len() > 1000 {
                        return Err("States.ArrayRange produces at most 1000 items".into());
                    }
                    i += step;
                }
                Ok(Value::Array(out))
            }
            "States.MathAdd" => Ok(number_value(
                num(&first, "the first argument")? + num(&second, "the second argument")?,
            )),
            "States.StringSplit" => {
                let s = string(&first, "the first argument")?;
                let seps = string(&second, "the separator")?;
                Ok(Value::Array(
                    s.split(|c| seps.contains(c))
                        .filter(|p| !p.is_empty())
                        .map(|p| Value::String(p.to_string()))
                        .collect(),
                ))
            }
            "States.UUID" => Ok(Value::String(uuid::Uuid::new_v4().to_string())),
            other => Err(format!("{other} is not supported")),
        }
    }

    fn format(&self, data: &Value, ctx: &Value) -> Result<Value, String> {
        let Some(Arg::Str { raw, .. }) = self.args.first() else {
            return Err("States.Format needs a string literal template".into());
        };
        let mut values = Vec::new();
        for a in &self.args[1..] {
            let v = Self::arg_value(a, data, ctx)?;
            values.push(match v {
                Value::String(s) => s,
                Value::Object(_) | Value::Array(_) => {
                    return Err(
                        "States.Format arguments must be strings, numbers, booleans or null".into(),
                    );
                }
                other => other.to_string(),
            });
        }
        let mut out = String::new();
        let mut next = values.into_iter();
        let mut chars = raw.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(e) = chars.next() {
                        out.push(e);
                    }
                }
                '{' if chars.peek() == Some(&'}') => {
                    chars.next();
                    out.push_str(
                        &next
                            .next()
                            .ok_or("States.Format has more {} than arguments")?,
                    );
                }
                c => out.push(c),
            }
        }
        if next.next().is_some() {
            return Err("States.Format has more arguments than {}".into());
        }
        Ok(Value::String(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(src: &str, data: Value) -> Result<Value, String> {
        Intrinsic::parse(src)
            .map_err(|e| format!("{e:?}"))?
            .evaluate(&data, &json!({"Execution": {"Name": "run-1"}}))
    }

    #[test]
    fn format_with_paths_and_escapes() {
        assert_eq!(
            eval(
                "States.Format('Hello, {} \\{x\\} {}', $.name, $$.Execution.Name)",
                json!({"name": "Ada"})
            ),
            Ok(json!("Hello, Ada {x} run-1"))
        );
        assert_eq!(
            eval("States.Format('n={}', $.n)", json!({"n": 3})),
            Ok(json!("n=3"))
        );
        assert!(eval("States.Format('{} {}', $.n)", json!({"n": 3})).is_err());
    }

    #[test]
    fn json_round_trip_and_arrays() {
        assert_eq!(
            eval("States.StringToJson($.s)", json!({"s": "{\"a\":1}"})),
            Ok(json!({"a": 1}))
        );
        assert_eq!(
            eval("States.JsonToString($.o)", json!({"o": {"a": 1}})),
            Ok(json!("{\"a\":1}"))
        );
        assert_eq!(
            eval("States.Array(1, 'two', $.x)", json!({"x": true})),
            Ok(json!([1, "two", true]))
        );
        assert_eq!(
            eval("States.ArrayLength($.a)", json!({"a": [1, 2, 3]})),
            Ok(json!(3))
        );
        assert_eq!(
            eval("States.ArrayGetItem($.a, 1)", json!({"a": [1, 2, 3]})),
            Ok(json!(2))
        );
        assert_eq!(
            eval("States.ArrayContains($.a, 3)", json!({"a": [1, 2, 3]})),
            Ok(json!(true))
        );
        assert_eq!(
            eval("States.ArrayRange(1, 9, 4)", json!({})),
            Ok(json!([1, 5, 9]))
        );
        assert_eq!(
            eval("States.ArrayPartition($.a, 2)", json!({"a": [1, 2, 3]})),
            Ok(json!([[1, 2], [3]]))
        );
        assert_eq!(
            eval("States.ArrayUnique($.a)", json!({"a": [1, 1, 2]})),
            Ok(json!([1, 2]))
        );
        assert_eq!(
            eval("States.MathAdd($.n, -1)", json!({"n": 5})),
            Ok(json!(4))
        );
        assert_eq!(
            eval("States.StringSplit('a,b,,c', ',')", json!({})),
            Ok(json!(["a", "b", "c"]))
        );
        assert_eq!(
            eval("States.ArrayLength(States.Array($.a, 2))", json!({"a": 1})),
            Ok(json!(2))
        );
        assert!(
            eval("States.UUID()", json!({}))
                .is_ok_and(|v| v.as_str().is_some_and(|s| s.len() == 36))
        );
    }

    #[test]
    fn unknown_functions_and_bad_arity_are_refused() {
        assert!(
            matches!(Intrinsic::parse("States.Hash($.a, 'SHA-1')"), Err(IntrinsicParseError::Unsupported(n)) if n == "States.Hash")
        );
        assert!(matches!(
            Intrinsic::parse("States.MathRandom(1, 2)"),
            Err(IntrinsicParseError::Unsupported(_))
        ));
        assert!(matches!(
            Intrinsic::parse("States.ArrayLength($.a, 1)"),
            Err(IntrinsicParseError::Syntax(_))
        ));
        assert!(matches!(
            Intrinsic::parse("States.ArrayLength($.a"),
            Err(IntrinsicParseError::Syntax(_))
        ));
    }
}
