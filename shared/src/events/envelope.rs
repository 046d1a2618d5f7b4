//! The EventBridge envelope every partner event and lifecycle command arrives in, and the
//! checks both catalogs make on it alike: a readable envelope, a well-formed event id, the
//! partner event source, a detail that is an object of the detail type's shape, and an
//! `occurredAt` not too far ahead.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{MAX_CLOCK_SKEW, Rejection};
use crate::ids::OpaqueId;
use crate::model::Timestamp;

/// The EventBridge envelope, as a Lambda target receives it. Its `time` (when EventBridge
/// received the event) is not used: ordering follows the detail's `occurredAt`.
#[derive(Debug, Clone, Deserialize)]
struct Envelope {
    id: String,
    #[serde(rename = "detail-type")]
    detail_type: String,
    source: String,
    detail: Value,
}

/// An envelope whose id and source passed their checks.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    /// EventBridge's event id: the de-duplication key.
    pub(crate) event_id: OpaqueId,
    pub(crate) detail_type: String,
    pub(crate) detail: Value,
}

impl Received {
    /// Reads the envelope and checks its id and that it comes from `partner_source`.
    pub(crate) fn parse(event: &Value, partner_source: &str) -> Result<Self, Rejection> {
        let env: Envelope = serde_json::from_value(event.clone()).map_err(|e| {
            Rejection::MalformedEnvelope(crate::redact::serde_message(&e.to_string()))
        })?;
        let event_id = OpaqueId::parse_at("id", env.id)?;
        if env.source != partner_source {
            return Err(Rejection::UnknownSource(crate::redact::described(
                &env.source,
            )));
        }
        Ok(Self {
            event_id,
            detail_type: env.detail_type,
            detail: env.detail,
        })
    }

    /// The refusal of a detail type neither catalog knows (described, never quoted).
    pub(crate) fn unknown_detail_type(&self) -> Rejection {
        Rejection::UnknownDetailType(crate::redact::described(&self.detail_type))
    }
}

/// Deserialises a detail; a field that fails its check keeps its name (`detail.<field>`).
pub(crate) fn detail<T: DeserializeOwned>(value: &Value) -> Result<T, Rejection> {
    if !value.is_object() {
        return Err(Rejection::MalformedDetail(
            "detail must be a JSON object".into(),
        ));
    }
    serde_json::from_value(value.clone())
        .map_err(|e| Rejection::MalformedDetail(crate::redact::serde_message(&e.to_string())))
}

/// Refuses an event that claims to have happened more than [`MAX_CLOCK_SKEW`] after `now`.
pub(crate) fn not_ahead(occurred_at: Timestamp, now: Timestamp) -> Result<(), Rejection> {
    let ahead = occurred_at - now;
    if ahead > MAX_CLOCK_SKEW {
        return Err(Rejection::FromTheFuture(ahead.num_minutes()));
    }
    Ok(())
}
