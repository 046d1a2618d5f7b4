//! Queue attributes: which ones a caller may set, their ranges, their defaults. Kept as strings
//! (as SQS returns them) after validation, so `CreateQueue`'s idempotence check and
//! `GetQueueAttributes` read the same map.

use std::collections::BTreeMap;

use super::SqsError;

pub const VISIBILITY_TIMEOUT: &str = "VisibilityTimeout";
pub const RETENTION: &str = "MessageRetentionPeriod";
pub const WAIT_TIME: &str = "ReceiveMessageWaitTimeSeconds";
pub const DELAY: &str = "DelaySeconds";
pub const MAX_SIZE: &str = "MaximumMessageSize";
pub const REDRIVE_POLICY: &str = "RedrivePolicy";

/// Settable numeric attributes: name, minimum, maximum, default.
const NUMERIC: [(&str, u32, u32, u32); 5] = [
    (VISIBILITY_TIMEOUT, 0, 43_200, 30),
    (RETENTION, 60, 1_209_600, 345_600),
    (WAIT_TIME, 0, 20, 0),
    (DELAY, 0, 900, 0),
    (MAX_SIZE, 1_024, 262_144, 262_144),
];

/// Settable attributes stored as given (policies, encryption settings).
const OPAQUE: [&str; 5] = [
    "Policy",
    REDRIVE_POLICY,
    "RedriveAllowPolicy",
    "KmsMasterKeyId",
    "SqsManagedSseEnabled",
];

/// Attributes computed by the queue (readable, never settable).
pub const COMPUTED: [&str; 6] = [
    "QueueArn",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
];

pub fn defaults() -> BTreeMap<String, String> {
    NUMERIC
        .iter()
        .map(|(name, _, _, default)| ((*name).to_owned(), default.to_string()))
        .collect()
}

/// Validates attributes a caller sets (CreateQueue, SetQueueAttributes).
pub fn validate(given: &BTreeMap<String, String>) -> Result<(), SqsError> {
    for (name, value) in given {
        if let Some((_, min, max, _)) = NUMERIC.iter().find(|(n, ..)| n == name) {
            let parsed: u32 =
                value
                    .trim()
                    .parse()
                    .map_err(|_| SqsError::InvalidAttributeValue {
                        name: name.clone(),
                        problem: "must be a whole number",
                    })?;
            if parsed < *min || parsed > *max {
                return Err(SqsError::InvalidAttributeValue {
                    name: name.clone(),
                    problem: "is out of range",
                });
            }
        } else if name == REDRIVE_POLICY {
            redrive(value).ok_or_else(|| SqsError::InvalidAttributeValue {
                name: name.clone(),
                problem: "must be JSON with deadLetterTargetArn and maxReceiveCount (1 to 1000)",
            })?;
        } else if name == "FifoQueue" || name == "ContentBasedDeduplication" {
            return Err(SqsError::Unsupported {
                what: "FIFO queues are not served locally",
            });
        } else if !OPAQUE.contains(&name.as_str()) {
            return Err(SqsError::InvalidAttributeName { name: name.clone() });
        }
    }
    Ok(())
}

/// The dead-letter queue ARN and maximum receive count of a redrive policy.
pub fn redrive(policy: &str) -> Option<(String, u32)> {
    let value: serde_json::Value = serde_json::from_str(policy).ok()?;
    let arn = value.get("deadLetterTargetArn")?.as_str()?.to_owned();
    let count = match value.get("maxReceiveCount")? {
        serde_json::Value::Number(n) => n.as_u64()?,
        serde_json::Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    let count = u32::try_from(count)
        .ok()
        .filter(|c| (1..=1000).contains(c))?;
    Some((arn, count))
}

pub fn number(attributes: &BTreeMap<String, String>, name: &str) -> u32 {
    attributes
        .get(name)
        .and_then(|v| v.trim().parse().ok())
        .or_else(|| NUMERIC.iter().find(|(n, ..)| *n == name).map(|(.., d)| *d))
        .unwrap_or(0)
}

/// Whether `name` is one GetQueueAttributes knows (settable or computed, or `All`).
pub fn readable(name: &str) -> bool {
    name == "All"
        || NUMERIC.iter().any(|(n, ..)| *n == name)
        || OPAQUE.contains(&name)
        || COMPUTED.contains(&name)
}
