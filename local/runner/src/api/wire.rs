//! The awsJson1_0 wire: the response type, reading a request body member by member,
//! timestamps (epoch seconds with a fraction, as awsJson writes them), page tokens, and
//! the ARN forms the API accepts.
//!
//! Members are read by hand rather than through serde derives so that every problem names
//! its member and none quotes the caller's value (serde's type errors echo the input).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::error::ApiError;

/// The content type of every awsJson1_0 answer.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// One HTTP answer: the front door writes it as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireResponse {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl WireResponse {
    pub(super) fn with_status(status: u16, body: Value) -> Self {
        Self {
            status,
            content_type: CONTENT_TYPE,
            body: body.to_string(),
        }
    }

    pub(super) fn ok(body: Value) -> Self {
        Self::with_status(200, body)
    }
}

/// A timestamp as awsJson sends it: epoch seconds, milliseconds as the fraction.
pub(super) fn epoch(t: DateTime<Utc>) -> Value {
    Value::from(t.timestamp_millis() as f64 / 1000.0)
}

/// Bounds of a string member, in characters (the model's `min` / `max`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Len(pub usize, pub usize);

/// An ARN of the API (`Arn`: 1 to 256 characters).
pub(super) const ARN: Len = Len(1, 256);
/// `SensitiveData`: inputs and outputs, at most 256 KiB.
pub(super) const DATA: Len = Len(0, 262_144);
/// `PageToken` of GetExecutionHistory and ListStateMachines.
pub(super) const PAGE_TOKEN: Len = Len(1, 1024);

/// A request body: a JSON object (an empty body counts as `{}`).
pub(super) struct Body(Map<String, Value>);

impl Body {
    pub(super) fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Body(Map::new()));
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(m)) => Ok(Body(m)),
            _ => Err(ApiError::MalformedBody),
        }
    }

    /// A member, `null` counting as absent.
    fn get(&self, member: &str) -> Option<&Value> {
        self.0.get(member).filter(|v| !v.is_null())
    }

    pub(super) fn string(&self, member: &'static str, len: Len) -> Result<Option<&str>, ApiError> {
        let Some(v) = self.get(member) else {
            return Ok(None);
        };
        let s = v.as_str().ok_or(ApiError::Validation {
            member,
            problem: "must be a string",
        })?;
        let n = s.chars().count();
        if n < len.0 {
            return Err(ApiError::Validation {
                member,
                problem: "is shorter than its minimum length",
            });
        }
        if n > len.1 {
            return Err(ApiError::Validation {
                member,
                problem: "is longer than its maximum length",
            });
        }
        Ok(Some(s))
    }

    pub(super) fn required(&self, member: &'static str, len: Len) -> Result<&str, ApiError> {
        self.string(member, len)?.ok_or(ApiError::Validation {
            member,
            problem: "is required",
        })
    }

    pub(super) fn boolean(&self, member: &'static str) -> Result<Option<bool>, ApiError> {
        self.get(member)
            .map(|v| {
                v.as_bool().ok_or(ApiError::Validation {
                    member,
                    problem: "must be a boolean",
                })
            })
            .transpose()
    }

    /// `maxResults` (`PageSize`, 0 to 1000): the page size, `default` for 0 or absent.
    pub(super) fn page_size(&self, default: usize) -> Result<usize, ApiError> {
        const MEMBER: &str = "maxResults";
        let Some(v) = self.get(MEMBER) else {
            return Ok(default);
        };
        match v.as_u64() {
            Some(0) => Ok(default),
            Some(n) if n <= 1000 => Ok(n as usize),
            _ => Err(ApiError::Validation {
                member: MEMBER,
                problem: "must be an integer from 0 to 1000",
            }),
        }
    }

    /// `nextToken`: a position this API handed out (see [`page_token`]).
    pub(super) fn next_token(&self, len: Len) -> Result<Option<u64>, ApiError> {
        const MEMBER: &str = "nextToken";
        self.string(MEMBER, len)?
            .map(|t| {
                t.strip_prefix("page-")
                    .and_then(|n| n.parse().ok())
                    .ok_or(ApiError::InvalidToken { member: MEMBER })
            })
            .transpose()
    }
}

/// The `nextToken` for a position (an offset or an id, by operation).
pub(super) fn page_token(position: u64) -> Value {
    Value::from(format!("page-{position}"))
}

/// Whether `arn` has the form `arn:<partition>:states:<region>:<account>:<resource>:…`
/// with `parts` colon-separated fields in all and `resource` as its resource type.
fn arn_has_form(arn: &str, resource: &str, parts: usize) -> bool {
    let p: Vec<&str> = arn.split(':').collect();
    p.len() == parts
        && p[0] == "arn"
        && p[2] == "states"
        && p[5] == resource
        && p.iter().enumerate().all(|(i, s)| i == 2 || !s.is_empty())
}

/// A state machine ARN: `arn:aws:states:{region}:{account}:stateMachine:{name}`.
pub(super) fn check_machine_arn(arn: &str, member: &'static str) -> Result<(), ApiError> {
    if arn_has_form(arn, "stateMachine", 7) {
        Ok(())
    } else {
        Err(ApiError::InvalidArn {
            member,
            kind: "state machine",
        })
    }
}

/// An execution ARN: `…:execution:{machine}:{name}`, or `…:express:{machine}:{name}:{id}`.
pub(super) fn check_execution_arn(arn: &str) -> Result<(), ApiError> {
    if arn_has_form(arn, "execution", 8) || arn_has_form(arn, "express", 9) {
        Ok(())
    } else {
        Err(ApiError::InvalidArn {
            member: "executionArn",
            kind: "execution",
        })
    }
}

/// An execution name as Step Functions accepts it: 1 to 80 characters, none of them
/// whitespace, brackets, wildcards, the special characters ``"#%\^|~`$&,;:/`` or control
/// characters.
pub(super) fn check_name(name: &str) -> Result<(), ApiError> {
    let n = name.chars().count();
    if n == 0 || n > 80 {
        return Err(ApiError::InvalidName {
            problem: "must be 1 to 80 characters long",
        });
    }
    let forbidden =
        |c: char| c.is_whitespace() || c.is_control() || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c);
    if name.chars().any(forbidden) {
        return Err(ApiError::InvalidName {
            problem: "contains a character Step Functions does not allow in names",
        });
    }
    Ok(())
}
