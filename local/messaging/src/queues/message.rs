//! Messages: what a sender gives, what is stored, what a receiver gets, and the checks SQS makes
//! on a send (body characters, size, attribute names and types).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::SqsError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeValue {
    String(String),
    Binary(Vec<u8>),
}

/// A message attribute: its data type (`String`, `Number`, `Binary`, optionally `.custom`) and
/// value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageAttribute {
    pub data_type: String,
    pub value: AttributeValue,
}

impl MessageAttribute {
    pub fn string(value: impl Into<String>) -> Self {
        Self {
            data_type: "String".into(),
            value: AttributeValue::String(value.into()),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct SendRequest {
    pub body: String,
    pub attributes: BTreeMap<String, MessageAttribute>,
    /// 0–900; `None` takes the queue's `DelaySeconds`.
    pub delay_seconds: Option<u32>,
}

impl SendRequest {
    pub fn body(body: impl Into<String>) -> Self {
        Self {
            body: body.into(),
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    pub message_id: String,
    pub md5_of_body: String,
    pub md5_of_message_attributes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    pub md5_of_body: String,
    pub attributes: BTreeMap<String, MessageAttribute>,
    /// Epoch milliseconds, virtual clock.
    pub sent_timestamp: i64,
    pub receive_count: u32,
    pub first_receive_timestamp: i64,
}

pub(super) struct Stored {
    pub id: String,
    body: String,
    md5_of_body: String,
    attributes: BTreeMap<String, MessageAttribute>,
    sent_ms: i64,
    pub visible_at: Instant,
    pub receive_count: u32,
    first_receive_ms: Option<i64>,
    pub receipt: Option<String>,
}

impl Stored {
    pub fn new(sent: &super::SentMessage, request: SendRequest, sent_ms: i64, delay: u32) -> Self {
        Self {
            id: sent.message_id.clone(),
            body: request.body,
            md5_of_body: sent.md5_of_body.clone(),
            attributes: request.attributes,
            sent_ms,
            visible_at: Instant::now() + Duration::from_secs(u64::from(delay)),
            receive_count: 0,
            first_receive_ms: None,
            receipt: None,
        }
    }

    /// Moved to a dead-letter queue: visible there at once.
    pub fn redriven(mut self) -> Self {
        self.visible_at = Instant::now();
        self.receipt = None;
        self
    }

    pub fn inflight_at(&self, now: Instant) -> bool {
        self.receive_count > 0 && self.visible_at > now
    }

    pub fn delayed_at(&self, now: Instant) -> bool {
        self.receive_count == 0 && self.visible_at > now
    }

    pub fn receive(&mut self, hidden_until: Instant, now_ms: i64) -> ReceivedMessage {
        self.receive_count += 1;
        let first = *self.first_receive_ms.get_or_insert(now_ms);
        let receipt = format!("{}#{}", self.id, uuid::Uuid::new_v4().simple());
        self.receipt = Some(receipt.clone());
        self.visible_at = hidden_until;
        ReceivedMessage {
            message_id: self.id.clone(),
            receipt_handle: receipt,
            body: self.body.clone(),
            md5_of_body: self.md5_of_body.clone(),
            attributes: self.attributes.clone(),
            sent_timestamp: self.sent_ms,
            receive_count: self.receive_count,
            first_receive_timestamp: first,
        }
    }
}

/// The message id a receipt handle carries.
pub(super) fn receipt_message_id(receipt: &str) -> Result<&str, SqsError> {
    match receipt.split_once('#') {
        Some((id, nonce))
            if uuid::Uuid::parse_str(id).is_ok()
                && nonce.len() == 32
                && nonce.chars().all(|c| c.is_ascii_hexdigit()) =>
        {
            Ok(id)
        }
        _ => Err(SqsError::ReceiptHandleIsInvalid),
    }
}

/// SQS's allowed characters: #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.
fn allowed(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

fn valid_attribute_name(name: &str) -> bool {
    (1..=256).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !name.contains("..")
        && !name.to_ascii_lowercase().starts_with("aws.")
        && !name.to_ascii_lowercase().starts_with("amazon.")
}

fn attribute_problem(name: &str, attribute: &MessageAttribute) -> Option<&'static str> {
    if !valid_attribute_name(name) {
        return Some("has a name outside the allowed characters or a reserved prefix");
    }
    let base = attribute.data_type.split('.').next().unwrap_or_default();
    match (base, &attribute.value) {
        ("String", AttributeValue::String(s)) if s.chars().all(allowed) => None,
        ("Number", AttributeValue::String(s)) if s.trim().parse::<f64>().is_ok() => None,
        ("Binary", AttributeValue::Binary(_)) => None,
        ("String" | "Number" | "Binary", _) => Some("has a value that does not fit its DataType"),
        _ => Some("has a DataType other than String, Number or Binary"),
    }
}

pub(super) fn validate_send(request: &SendRequest, max_size: u32) -> Result<(), SqsError> {
    if request.body.is_empty() {
        return Err(SqsError::MissingParameter {
            field: "MessageBody".into(),
        });
    }
    if !request.body.chars().all(allowed) {
        return Err(SqsError::InvalidMessageContents);
    }
    if request.delay_seconds.is_some_and(|d| d > 900) {
        return Err(SqsError::InvalidParameterValue {
            field: "DelaySeconds".into(),
            problem: "must be between 0 and 900",
        });
    }
    if request.attributes.len() > 10 {
        return Err(SqsError::InvalidParameterValue {
            field: "MessageAttributes".into(),
            problem: "at most 10 attributes",
        });
    }
    let mut size = request.body.len();
    for (name, attribute) in &request.attributes {
        if let Some(problem) = attribute_problem(name, attribute) {
            return Err(SqsError::InvalidParameterValue {
                field: "MessageAttributes".into(),
                problem,
            });
        }
        size += name.len() + attribute.data_type.len();
        size += match &attribute.value {
            AttributeValue::String(s) => s.len(),
            AttributeValue::Binary(b) => b.len(),
        };
    }
    if size > max_size as usize {
        return Err(SqsError::InvalidParameterValue {
            field: "MessageBody".into(),
            problem: "the message is larger than the queue's MaximumMessageSize",
        });
    }
    Ok(())
}
