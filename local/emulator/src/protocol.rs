//! Codec helpers: awsJson1_1 input access and validation, JSON output
//! building, XML escaping, query-string parsing and opaque page tokens.

use super::error::{ApiError, ApiResult};
use regex::Regex;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::LazyLock;

/// Read access to an awsJson1_1 input object, with the model's constraints.
pub struct Input<'a> {
    obj: &'a Map<String, Value>,
    path: String,
    code: &'a str,
}

static EMPTY: LazyLock<Map<String, Value>> = LazyLock::new(Map::new);

impl<'a> Input<'a> {
    pub fn new(v: &'a Value, code: &'a str) -> ApiResult<Self> {
        match v {
            Value::Object(obj) => Ok(Self {
                obj,
                path: String::new(),
                code,
            }),
            Value::Null => Ok(Self {
                obj: &EMPTY,
                path: String::new(),
                code,
            }),
            _ => Err(ApiError::new(
                "SerializationException",
                "Start of structure or map found where not expected.",
            )),
        }
    }

    fn name(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub fn err(&self, key: &str, what: &str) -> ApiError {
        ApiError::new(
            self.code,
            format!(
                "1 validation error detected: Value at '{}' failed to satisfy constraint: {what}",
                self.name(key)
            ),
        )
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.obj.get(key).filter(|v| !v.is_null())
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn opt_str(&self, key: &str) -> ApiResult<Option<&'a str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(self.err(key, "Member must be a string")),
        }
    }

    pub fn req_str(&self, key: &str) -> ApiResult<&'a str> {
        self.opt_str(key)?
            .ok_or_else(|| self.err(key, "Member must not be null"))
    }

    pub fn opt_bool(&self, key: &str) -> ApiResult<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(self.err(key, "Member must be a boolean")),
        }
    }

    pub fn opt_int(&self, key: &str) -> ApiResult<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.err(key, "Member must be an integer")),
            Some(_) => Err(self.err(key, "Member must be an integer")),
        }
    }

    pub fn opt_int_range(&self, key: &str, min: i64, max: i64) -> ApiResult<Option<i64>> {
        let v = self.opt_int(key)?;
        if let Some(n) = v
            && !(min..=max).contains(&n)
        {
            return Err(self.err(
                key,
                &format!("Member must have value between {min} and {max}"),
            ));
        }
        Ok(v)
    }

    pub fn opt_obj(&self, key: &str) -> ApiResult<Option<Input<'a>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(obj)) => Ok(Some(Input {
                obj,
                path: self.name(key),
                code: self.code,
            })),
            Some(_) => Err(self.err(key, "Member must be a structure")),
        }
    }

    pub fn req_obj(&self, key: &str) -> ApiResult<Input<'a>> {
        self.opt_obj(key)?
            .ok_or_else(|| self.err(key, "Member must not be null"))
    }

    pub fn opt_list(&self, key: &str, min: usize, max: usize) -> ApiResult<Option<&'a Vec<Value>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(a)) => {
                if a.len() < min || a.len() > max {
                    Err(self.err(
                        key,
                        &format!("Member must have length less than or equal to {max} and greater than or equal to {min}"),
                    ))
                } else {
                    Ok(Some(a))
                }
            }
            Some(_) => Err(self.err(key, "Member must be a list")),
        }
    }

    pub fn req_list(&self, key: &str, min: usize, max: usize) -> ApiResult<&'a Vec<Value>> {
        self.opt_list(key, min, max)?
            .ok_or_else(|| self.err(key, "Member must not be null"))
    }

    /// A list of strings, each checked by `check`.
    pub fn opt_str_list(
        &self,
        key: &str,
        min: usize,
        max: usize,
        check: impl Fn(&str) -> bool,
        what: &str,
    ) -> ApiResult<Option<Vec<&'a str>>> {
        let Some(list) = self.opt_list(key, min, max)? else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(list.len());
        for (i, v) in list.iter().enumerate() {
            match v.as_str() {
                Some(s) if check(s) => out.push(s),
                _ => return Err(self.err(&format!("{key}.{}.member", i + 1), what)),
            }
        }
        Ok(Some(out))
    }

    /// Members of a list of structures.
    pub fn items(&self, key: &str, list: &'a [Value]) -> ApiResult<Vec<Input<'a>>> {
        list.iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::Object(obj) => Ok(Input {
                    obj,
                    path: format!("{}.{}.member", self.name(key), i + 1),
                    code: self.code,
                }),
                _ => Err(self.err(
                    &format!("{key}.{}.member", i + 1),
                    "Member must be a structure",
                )),
            })
            .collect()
    }

    /// A string member checked against a validator.
    pub fn checked(
        &self,
        key: &str,
        required: bool,
        check: impl Fn(&str) -> bool,
        what: &str,
    ) -> ApiResult<Option<&'a str>> {
        let v = if required {
            Some(self.req_str(key)?)
        } else {
            self.opt_str(key)?
        };
        if let Some(s) = v
            && !check(s)
        {
            return Err(self.err(key, what));
        }
        Ok(v)
    }

    pub fn enum_val(
        &self,
        key: &str,
        required: bool,
        allowed: &[&str],
    ) -> ApiResult<Option<&'a str>> {
        self.checked(
            key,
            required,
            |s| allowed.contains(&s),
            &format!(
                "Member must satisfy enum value set: [{}]",
                allowed.join(", ")
            ),
        )
    }

    pub fn raw(&self) -> &'a Map<String, Value> {
        self.obj
    }
}

macro_rules! pattern {
    ($name:ident, $re:literal) => {
        pub fn $name(s: &str) -> bool {
            static RE: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new($re).ok());
            RE.as_ref().is_some_and(|r| r.is_match(s))
        }
    };
}

pub mod pat {
    use super::*;
    pattern!(workspace_id, r"^ws-[0-9a-z]{8,63}$");
    pattern!(
        directory_id_raw,
        r"^(d-[0-9a-f]{8,63}$)|(wsd-[0-9a-z]{8,63}$)"
    );
    pattern!(bundle_id, r"^wsb-[0-9a-z]{8,63}$");
    pattern!(image_id, r"wsi-[0-9a-z]{9,63}$");
    pattern!(ec2_image_id, r"^ami\-([a-f0-9]{8}|[a-f0-9]{17})$");
    pattern!(aws_account, r"^\d{12}$");
    pattern!(region, r"^[-0-9a-z]{1,31}$");
    pattern!(subnet_id, r"^(subnet-([0-9a-f]{8}|[0-9a-f]{17}))$");
    pattern!(security_group_id, r"^(sg-([0-9a-f]{8}|[0-9a-f]{17}))$");
    pattern!(workspace_name, r"^[a-zA-Z0-9_()][a-zA-Z0-9_.()-]{1,63}$");
    pattern!(image_or_bundle_name, r"^[a-zA-Z0-9_./()\\-]{1,64}$");
    pattern!(description, r"^[a-zA-Z0-9_./() -]+$");
    pattern!(
        arn,
        r"^arn:aws[a-z-]{0,7}:[A-Za-z0-9][A-za-z0-9_/.-]{0,62}:[A-za-z0-9_/.-]{0,63}:[A-za-z0-9_/.-]{0,63}:[A-Za-z0-9][A-Za-z0-9:_/+=,@.\\-]{0,1023}$"
    );
    pattern!(
        dedicated_cidr,
        r"^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.0\.0/16$"
    );
    pattern!(
        cidr,
        r"^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])/(3[0-2]|[1-2][0-9]|[0-9])$"
    );
    pattern!(role_session_name, r"^[\w+=,.@-]{2,64}$");
    pattern!(external_id_chars, r"^[\w+=,.@:/-]+$");
    pattern!(
        default_ou,
        r"^[Oo][Uu]=[^,]+(,[Oo][Uu]=[^,]+)*(,[Dd][Cc]=[^,]+){2,}$"
    );

    pub fn directory_id(s: &str) -> bool {
        (10..=65).contains(&s.len()) && directory_id_raw(s)
    }
    pub fn external_id(s: &str) -> bool {
        len(s, 2, 1224) && external_id_chars(s)
    }
    pub fn len(s: &str, min: usize, max: usize) -> bool {
        let n = s.chars().count();
        n >= min && n <= max
    }
}

/// Builds a JSON object, leaving out unset members.
#[derive(Default)]
pub struct Obj(Map<String, Value>);

impl Obj {
    pub fn new() -> Self {
        Self(Map::new())
    }
    pub fn s(mut self, k: &str, v: Option<impl Into<String>>) -> Self {
        if let Some(v) = v {
            self.0.insert(k.to_string(), Value::String(v.into()));
        }
        self
    }
    pub fn v(mut self, k: &str, v: Option<Value>) -> Self {
        if let Some(v) = v {
            self.0.insert(k.to_string(), v);
        }
        self
    }
    pub fn b(self, k: &str, v: Option<bool>) -> Self {
        self.v(k, v.map(Value::Bool))
    }
    pub fn i(self, k: &str, v: Option<i64>) -> Self {
        self.v(k, v.map(Value::from))
    }
    /// A timestamp as epoch seconds.
    pub fn ts(self, k: &str, ms: Option<i64>) -> Self {
        self.v(
            k,
            ms.map(|m| Value::from(super::service_clock::epoch_seconds(m))),
        )
    }
    pub fn build(self) -> Value {
        Value::Object(self.0)
    }
}

pub fn tag_list(tags: &[(String, String)]) -> Value {
    Value::Array(
        tags.iter()
            .map(|(k, v)| serde_json::json!({"Key": k, "Value": v}))
            .collect(),
    )
}

/// An awsQuery (STS, IAM) success: the operation's result inside its `<{Op}Response>`, in
/// the service's namespace `ns`.
pub fn query_success(ns: &str, action: &str, result: &str, request_id: &str) -> String {
    format!(
        "<{action}Response xmlns=\"{ns}\">{result}<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
    )
}

/// An awsQuery (STS, IAM) error: `<ErrorResponse>` with the fault's side (Sender, or
/// Receiver for a 5xx), code and message, in the service's namespace `ns`.
pub fn query_error(ns: &str, e: &ApiError, request_id: &str) -> String {
    let kind = if e.status >= 500 {
        "Receiver"
    } else {
        "Sender"
    };
    format!(
        "<ErrorResponse xmlns=\"{ns}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
        xml_escape(&e.code),
        xml_escape(&e.message)
    )
}

/// Escapes text for XML element content and attribute values.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {
                out.push_str(&format!("&#x{:X};", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// A query-protocol form body as an ordered key → value map.
pub fn parse_form(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// Opaque, emulator-signed page tokens: `<hex payload>.<hex mac>`.
/// The payload names the operation and the query it belongs to, so a token
/// from another query or not issued by this emulator is rejected.
pub struct PageTokens {
    secret: u64,
}

impl PageTokens {
    pub fn new() -> Self {
        Self {
            secret: uuid::Uuid::new_v4().as_u64_pair().0,
        }
    }

    /// The query a token belongs to, hashed so tokens stay short.
    fn scope_hash(&self, scope: &str) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        scope.hash(&mut h);
        h.finish()
    }

    fn mac(&self, payload: &str) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.secret.hash(&mut h);
        payload.hash(&mut h);
        h.finish()
    }

    pub fn issue(&self, scope: &str, position: &str) -> String {
        let payload = format!("{:016x}\u{1f}{position}", self.scope_hash(scope));
        format!(
            "{}.{:016x}",
            hex::encode(payload.as_bytes()),
            self.mac(&payload)
        )
    }

    /// The position encoded in `token`, if it was issued for `scope`.
    pub fn open(&self, scope: &str, token: &str) -> Option<String> {
        let (p, mac) = token.split_once('.')?;
        let bytes = hex::decode(p).ok()?;
        let payload = String::from_utf8(bytes).ok()?;
        if format!("{:016x}", self.mac(&payload)) != mac {
            return None;
        }
        let (s, pos) = payload.split_once('\u{1f}')?;
        (s == format!("{:016x}", self.scope_hash(scope))).then(|| pos.to_string())
    }
}

impl Default for PageTokens {
    fn default() -> Self {
        Self::new()
    }
}

/// Lower-case hex from fresh randomness, `n` characters.
pub fn random_hex(n: usize) -> String {
    let mut s = String::with_capacity(n + 32);
    while s.len() < n {
        s.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    s.truncate(n);
    s
}

/// Upper-case alphanumerics, `n` characters.
pub fn random_upper(n: usize) -> String {
    random_hex(n).to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_foreign_ones() {
        let t = PageTokens::new();
        let tok = t.issue("DescribeWorkspaces|d-1", "ws-123");
        assert_eq!(
            t.open("DescribeWorkspaces|d-1", &tok).as_deref(),
            Some("ws-123")
        );
        assert_eq!(t.open("DescribeWorkspaces|d-2", &tok), None);
        assert_eq!(t.open("DescribeWorkspaces|d-1", "garbage"), None);
        assert_eq!(PageTokens::new().open("DescribeWorkspaces|d-1", &tok), None);
    }

    #[test]
    fn patterns() {
        assert!(pat::workspace_id("ws-abc12345"));
        assert!(!pat::workspace_id("ws-ABC12345"));
        assert!(pat::directory_id("d-90670a1b2c"));
        assert!(!pat::directory_id("d-1"));
        assert!(pat::ec2_image_id("ami-0123456789abcdef0"));
        assert!(pat::dedicated_cidr("10.200.0.0/16"));
        assert!(!pat::dedicated_cidr("10.200.1.0/16"));
        assert!(pat::cidr("10.0.0.0/8"));
        assert!(pat::default_ou("OU=Desktops,DC=corp,DC=example"));
        assert!(!pat::default_ou("OU=Desktops,DC=corp"));
        assert!(pat::arn("arn:aws:iam::123456789012:role/x"));
        assert!(pat::subnet_id("subnet-0a1b2c3d4e5f60001"));
        assert!(pat::security_group_id("sg-0a1b2c3d4e5f60001"));
        assert!(pat::role_session_name("steward-session"));
        assert!(pat::external_id("steward-demo-external-id"));
        assert!(pat::image_or_bundle_name("steward-win11"));
        assert!(pat::description("A description (x)"));
        assert!(pat::workspace_name("desk-01"));
        assert!(pat::image_id("wsi-abcdef123"));
        assert!(pat::bundle_id("wsb-abcdef123"));
        assert!(pat::region("us-east-1"));
        assert!(pat::aws_account("123456789012"));
    }

    #[test]
    fn escapes_xml() {
        assert_eq!(xml_escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
    }

    #[test]
    fn input_validation_names_the_member() {
        let v: Value = serde_json::json!({"Limit": 30, "WorkspaceIds": ["bad"]});
        let i = Input::new(&v, "InvalidParameterValuesException").unwrap();
        assert!(i.opt_int_range("Limit", 1, 25).is_err());
        let e = i
            .opt_str_list("WorkspaceIds", 1, 25, pat::workspace_id, "pattern")
            .unwrap_err();
        assert!(e.message.contains("WorkspaceIds.1.member"));
    }
}
