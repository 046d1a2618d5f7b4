//! EventBridge `PutEvents` (awsJson1_1, `X-Amz-Target: AWSEvents.PutEvents`): the bus a
//! partner's control plane publishes its events on. Entries are validated as EventBridge
//! does (1–10 per call; `Source`, `DetailType` and a JSON-object `Detail` per entry; 256 KB
//! per entry) and kept, so the caller's tests (and Steward's demo) can see every event
//! published ([`crate::Control::events`]).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::error::ApiError;

pub const TARGET: &str = "AWSEvents.PutEvents";
const MAX_ENTRIES: usize = 10;
const MAX_ENTRY_BYTES: usize = 256 * 1024;

/// One event a caller put on a bus.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CapturedEvent {
    pub event_id: String,
    pub bus: String,
    pub source: String,
    pub detail_type: String,
    pub detail: Value,
    pub resources: Vec<String>,
    pub time: DateTime<Utc>,
}

fn entry(e: &Value, now: DateTime<Utc>) -> Result<CapturedEvent, (String, String)> {
    let field = |name: &str| {
        e.get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let invalid = |m: &str| ("InvalidArgument".to_owned(), m.to_owned());
    let source = field("Source").ok_or_else(|| invalid("Parameter Source is not valid."))?;
    let detail_type =
        field("DetailType").ok_or_else(|| invalid("Parameter DetailType is not valid."))?;
    let detail_text = field("Detail").ok_or_else(|| invalid("Parameter Detail is not valid."))?;
    let detail: Value = serde_json::from_str(detail_text)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| {
            (
                "MalformedDetail".to_owned(),
                "Detail is malformed.".to_owned(),
            )
        })?;
    if source.len() + detail_type.len() + detail_text.len() > MAX_ENTRY_BYTES {
        return Err(invalid("Total size of the entry is over 256KB."));
    }
    Ok(CapturedEvent {
        event_id: uuid::Uuid::new_v4().to_string(),
        bus: field("EventBusName").unwrap_or("default").to_owned(),
        source: source.to_owned(),
        detail_type: detail_type.to_owned(),
        detail,
        resources: e
            .get("Resources")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        time: now,
    })
}

/// Answers one PutEvents call: the response body, and the events accepted.
pub fn put_events(
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(String, Vec<CapturedEvent>), ApiError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            "SerializationException",
            format!("Could not parse the request body: {e}"),
        )
    })?;
    let entries = v
        .get("Entries")
        .and_then(Value::as_array)
        .filter(|e| (1..=MAX_ENTRIES).contains(&e.len()))
        .ok_or_else(|| {
            ApiError::new(
                "ValidationException",
                "1 validation error detected: Value at 'entries' failed to satisfy constraint: \
                 Member must have length between 1 and 10",
            )
        })?;
    let mut accepted = Vec::new();
    let mut results = Vec::new();
    let mut failed = 0;
    for e in entries {
        match entry(e, now) {
            Ok(c) => {
                results.push(json!({"EventId": c.event_id}));
                accepted.push(c);
            }
            Err((code, message)) => {
                failed += 1;
                results.push(json!({"ErrorCode": code, "ErrorMessage": message}));
            }
        }
    }
    let body = json!({"FailedEntryCount": failed, "Entries": results}).to_string();
    Ok((body, accepted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_validated_one_by_one() {
        let body = json!({"Entries": [
            {"Source": "steward", "DetailType": "X", "Detail": "{\"a\":1}", "EventBusName": "bus"},
            {"Source": "steward", "DetailType": "X", "Detail": "[1]"},
            {"DetailType": "X", "Detail": "{}"}
        ]});
        let (resp, got) = put_events(body.to_string().as_bytes(), Utc::now()).unwrap();
        let resp: Value = serde_json::from_str(&resp).unwrap();
        assert_eq!(resp["FailedEntryCount"], 2);
        assert_eq!(resp["Entries"][1]["ErrorCode"], "MalformedDetail");
        assert_eq!(resp["Entries"][2]["ErrorCode"], "InvalidArgument");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].bus, "bus");
        assert_eq!(got[0].detail["a"], 1);
        let eleven = json!({"Entries": vec![json!({}); 11]});
        assert!(put_events(eleven.to_string().as_bytes(), Utc::now()).is_err());
        assert!(put_events(b"not json", Utc::now()).is_err());
    }
}
