//! EventBridge: Steward's outbound events on the partner bus, 10 entries per PutEvents.

use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use serde::Serialize;

use super::ItemOutcome;
use crate::aws::AwsError;

/// Entries per PutEvents call (the service's limit).
pub const BATCH: usize = 10;
/// The largest entry PutEvents accepts.
pub const MAX_ENTRY_BYTES: usize = 256 * 1024;
/// PutEvents calls of one publication in flight at once: a tenant with many actions must
/// not burst the Region's PutEvents quota (shared with every other sweep).
pub const PUBLISH_CONCURRENCY: usize = 8;

/// One event Steward publishes.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbound {
    pub detail_type: String,
    pub detail: serde_json::Value,
    /// ARNs or ids the event is about (EventBridge `resources`).
    pub resources: Vec<String>,
}

impl Outbound {
    pub fn new(detail_type: impl Into<String>, detail: &impl Serialize) -> Self {
        Self {
            detail_type: detail_type.into(),
            detail: serde_json::to_value(detail).unwrap_or(serde_json::Value::Null),
            resources: Vec::new(),
        }
    }
}

pub struct Publisher<'a> {
    client: &'a Client,
    bus: &'a str,
    source: &'a str,
}

impl<'a> Publisher<'a> {
    pub fn new(client: &'a Client, bus: &'a str, source: &'a str) -> Self {
        Self {
            client,
            bus,
            source,
        }
    }

    /// Publishes `events`, 10 per call, up to [`PUBLISH_CONCURRENCY`] calls at once. Returns one outcome per
    /// event, in order: an entry EventBridge refused (or one too large to send) is
    /// reported, never dropped silently.
    pub async fn publish(&self, events: &[Outbound]) -> Result<Vec<ItemOutcome>, AwsError> {
        let mut out = Vec::with_capacity(events.len());
        for wave in events.chunks(BATCH * PUBLISH_CONCURRENCY) {
            let calls = wave.chunks(BATCH).map(|chunk| self.publish_chunk(chunk));
            for chunk in futures::future::join_all(calls).await {
                out.extend(chunk?);
            }
        }
        Ok(out)
    }

    /// One PutEvents call for at most [`BATCH`] events.
    async fn publish_chunk(&self, chunk: &[Outbound]) -> Result<Vec<ItemOutcome>, AwsError> {
        let mut entries = Vec::new();
        let mut slots = Vec::new();
        for e in chunk {
            let detail = e.detail.to_string();
            if detail.len() > MAX_ENTRY_BYTES {
                slots.push(Some(ItemOutcome::Failed {
                    code: "EntryTooLarge".into(),
                    message: format!("detail is {} bytes", detail.len()),
                }));
                continue;
            }
            slots.push(None);
            entries.push(
                PutEventsRequestEntry::builder()
                    .event_bus_name(self.bus)
                    .source(self.source)
                    .detail_type(&e.detail_type)
                    .detail(detail)
                    .set_resources((!e.resources.is_empty()).then(|| e.resources.clone()))
                    .build(),
            );
        }
        let mut results = Vec::new();
        if !entries.is_empty() {
            let resp = self
                .client
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("EventBridge", "PutEvents", e))?;
            results = resp
                .entries()
                .iter()
                .map(|r| match r.error_code() {
                    Some(code) => ItemOutcome::Failed {
                        code: code.to_owned(),
                        message: r.error_message().unwrap_or_default().to_owned(),
                    },
                    None => ItemOutcome::Accepted,
                })
                .collect();
        }
        let mut results = results.into_iter();
        Ok(slots
            .into_iter()
            .map(|slot| match slot {
                Some(refused) => refused,
                None => results.next().unwrap_or(ItemOutcome::Failed {
                    code: "NoResult".into(),
                    message: "EventBridge returned fewer results than entries".into(),
                }),
            })
            .collect())
    }
}
