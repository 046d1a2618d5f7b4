//! The JSON wire protocols: EventBridge's awsJson1_1 (`X-Amz-Target: AWSEvents.<Op>`) and SQS's
//! awsJson1_0 (`X-Amz-Target: AmazonSQS.<Op>`). Requests are typed serde structs; a body that is
//! not JSON is a `SerializationException`, a field of the wrong type a validation error naming
//! the field. Nothing here panics on input.

pub(crate) mod errors;
mod eventbridge;
mod sqs;

use serde::de::DeserializeOwned;

use crate::Messaging;

pub const EVENTS_JSON: &str = "application/x-amz-json-1.1";
pub const SQS_JSON: &str = "application/x-amz-json-1.0";

/// One answer: status, content type, JSON body, extra headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireResponse {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
}

impl WireResponse {
    pub(crate) fn ok(content_type: &'static str, body: serde_json::Value) -> Self {
        Self {
            status: 200,
            content_type,
            body: body.to_string(),
            headers: Vec::new(),
        }
    }
}

/// Why a request body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BodyError {
    NotJson,
    /// The field (a path such as `Entries[0].Time`) has the wrong type or value.
    Field(String),
}

impl BodyError {
    pub(crate) fn message(&self) -> String {
        match self {
            Self::NotJson => "The request body is not a JSON object.".to_owned(),
            Self::Field(path) => format!("Parameter {path} is not valid: wrong type or value."),
        }
    }
}

pub(crate) fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, BodyError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| BodyError::NotJson)?;
    if !value.is_object() {
        return Err(BodyError::NotJson);
    }
    serde_path_to_error::deserialize(value).map_err(|e| BodyError::Field(e.path().to_string()))
}

/// Offset pagination shared by the List operations: the token is the next offset.
pub(crate) fn page<T>(
    items: Vec<T>,
    token: Option<&str>,
    limit: Option<usize>,
) -> Option<(Vec<T>, Option<String>)> {
    let start = match token {
        Some(t) => t.parse::<usize>().ok().filter(|s| *s <= items.len())?,
        None => 0,
    };
    let limit = limit.unwrap_or(usize::MAX).max(1);
    let end = start.saturating_add(limit).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    Some((
        items.into_iter().skip(start).take(end - start).collect(),
        next,
    ))
}

pub(crate) async fn handle(messaging: &Messaging, target: &str, body: &[u8]) -> WireResponse {
    if let Some(op) = target.strip_prefix("AWSEvents.") {
        eventbridge::handle(messaging.events(), op, body)
    } else if let Some(op) = target.strip_prefix("AmazonSQS.") {
        sqs::handle(messaging.queues(), op, body).await
    } else {
        errors::events_fault(
            "UnknownOperationException",
            "The operation is not served by this endpoint.",
        )
    }
}

#[cfg(test)]
mod tests;
