//! SQS standard queues in memory: at-least-once delivery with visibility timeouts on real time
//! (`Instant`: a partner's subscriber waits in real seconds), long polling woken by sends
//! (`tokio::sync::Notify`), delays, redrive to a dead-letter queue after `maxReceiveCount`
//! receives, and the digests SQS answers with. Timestamps (`SentTimestamp`, `CreatedTimestamp`)
//! come from the virtual clock, so they agree with the events' `time`.

pub mod attributes;
mod message;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::Settings;
use crate::digest::{md5_hex, md5_of_attributes};
pub use message::{AttributeValue, MessageAttribute, ReceivedMessage, SendRequest, SentMessage};
use message::{Stored, validate_send};

/// SQS's failures, each becoming its named wire error (`wire/errors.rs`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqsError {
    #[error("The specified queue does not exist.")]
    QueueDoesNotExist,
    #[error(
        "A queue already exists with the same name and a different value for attribute {attribute}."
    )]
    QueueNameExists { attribute: String },
    #[error("Value for parameter {field} is invalid. Reason: {problem}.")]
    InvalidParameterValue {
        field: String,
        problem: &'static str,
    },
    #[error("The request must contain the parameter {field}.")]
    MissingParameter { field: String },
    #[error("Unknown Attribute {name}.")]
    InvalidAttributeName { name: String },
    #[error("Invalid value for the parameter {name}: it {problem}.")]
    InvalidAttributeValue { name: String, problem: &'static str },
    #[error("The message contains characters outside the allowed set.")]
    InvalidMessageContents,
    #[error("The input receipt handle is invalid.")]
    ReceiptHandleIsInvalid,
    #[error("The message referred to is not in flight.")]
    MessageNotInflight,
    #[error("Maximum number of entries per request are 10.")]
    TooManyEntriesInBatchRequest,
    #[error("There should be at least one entry in the request.")]
    EmptyBatchRequest,
    #[error("Two or more batch entries in the request have the same Id.")]
    BatchEntryIdsNotDistinct,
    #[error(
        "A batch entry id can only contain alphanumeric characters, hyphens and underscores, at most 80."
    )]
    InvalidBatchEntryId,
    #[error("{what}.")]
    Unsupported { what: &'static str },
}

/// What ReceiveMessage asks for.
#[derive(Debug, Clone, Default)]
pub struct ReceiveRequest {
    /// 1–10 (default 1).
    pub max_messages: Option<u32>,
    /// Long polling, 0–20 s; `None` takes the queue's `ReceiveMessageWaitTimeSeconds`.
    pub wait_seconds: Option<u32>,
    /// Overrides the queue's visibility timeout for these messages.
    pub visibility_timeout: Option<u32>,
}

struct Queue {
    name: String,
    url: String,
    arn: String,
    attributes: BTreeMap<String, String>,
    created: i64,
    modified: i64,
    messages: VecDeque<Stored>,
    notify: Arc<Notify>,
}

/// The queues of one account and Region. Cheap to clone.
#[derive(Clone)]
pub struct Queues {
    settings: Arc<Settings>,
    state: Arc<Mutex<BTreeMap<String, Queue>>>,
}

/// The queue name a URL, an ARN or a bare name refers to.
fn queue_name(reference: &str) -> &str {
    if reference.starts_with("arn:") {
        reference.rsplit(':').next().unwrap_or(reference)
    } else if reference.contains("://") {
        reference
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(reference)
    } else {
        reference
    }
}

fn valid_queue_name(name: &str) -> bool {
    (1..=80).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl Queues {
    pub(crate) fn new(settings: Arc<Settings>) -> Self {
        Self {
            settings,
            state: Arc::new(Mutex::new(BTreeMap::new())),
        }
    }

    fn now_millis(&self) -> i64 {
        (self.settings.clock)().timestamp_millis()
    }

    /// Creates a queue (or returns the existing one's URL when the given attributes agree).
    pub fn create_queue(
        &self,
        name: &str,
        given: &BTreeMap<String, String>,
    ) -> Result<String, SqsError> {
        if name.ends_with(".fifo") {
            return Err(SqsError::Unsupported {
                what: "FIFO queues are not served locally",
            });
        }
        if !valid_queue_name(name) {
            return Err(SqsError::InvalidParameterValue {
                field: "QueueName".into(),
                problem: "up to 80 alphanumeric characters, hyphens and underscores",
            });
        }
        attributes::validate(given)?;
        let mut state = self.state.lock();
        if let Some(existing) = state.get(name) {
            let differing = given
                .iter()
                .find(|(k, v)| existing.attributes.get(*k).map(|e| e.trim()) != Some(v.trim()));
            return match differing {
                Some((attribute, _)) => Err(SqsError::QueueNameExists {
                    attribute: attribute.clone(),
                }),
                None => Ok(existing.url.clone()),
            };
        }
        let s = &self.settings;
        let mut stored = attributes::defaults();
        stored.extend(given.iter().map(|(k, v)| (k.clone(), v.trim().to_owned())));
        let now = self.now_millis() / 1000;
        let url = format!(
            "{}/{}/{name}",
            s.queue_url_base.trim_end_matches('/'),
            s.account
        );
        state.insert(
            name.to_owned(),
            Queue {
                name: name.to_owned(),
                url: url.clone(),
                arn: format!("arn:aws:sqs:{}:{}:{name}", s.region, s.account),
                attributes: stored,
                created: now,
                modified: now,
                messages: VecDeque::new(),
                notify: Arc::new(Notify::new()),
            },
        );
        Ok(url)
    }

    fn with_queue<T>(
        &self,
        reference: &str,
        f: impl FnOnce(&mut Queue) -> Result<T, SqsError>,
    ) -> Result<T, SqsError> {
        let mut state = self.state.lock();
        let queue = state
            .get_mut(queue_name(reference))
            .ok_or(SqsError::QueueDoesNotExist)?;
        f(queue)
    }

    /// The URL of a queue by name (or URL, or ARN).
    pub fn queue_url(&self, reference: &str) -> Result<String, SqsError> {
        self.with_queue(reference, |q| Ok(q.url.clone()))
    }

    pub fn queue_arn(&self, reference: &str) -> Result<String, SqsError> {
        self.with_queue(reference, |q| Ok(q.arn.clone()))
    }

    /// Queue URLs whose name starts with `prefix`, in name order.
    pub fn list(&self, prefix: Option<&str>) -> Vec<String> {
        self.state
            .lock()
            .values()
            .filter(|q| prefix.is_none_or(|p| q.name.starts_with(p)))
            .map(|q| q.url.clone())
            .collect()
    }

    pub fn delete_queue(&self, reference: &str) -> Result<(), SqsError> {
        let removed = self.state.lock().remove(queue_name(reference));
        let queue = removed.ok_or(SqsError::QueueDoesNotExist)?;
        queue.notify.notify_waiters();
        Ok(())
    }

    pub fn purge(&self, reference: &str) -> Result<(), SqsError> {
        self.with_queue(reference, |q| {
            q.messages.clear();
            Ok(())
        })
    }

    /// Every attribute (stored and computed), as GetQueueAttributes `All` returns them.
    pub fn attributes(&self, reference: &str) -> Result<BTreeMap<String, String>, SqsError> {
        let now = Instant::now();
        self.with_queue(reference, |q| {
            let mut out = q.attributes.clone();
            let delayed = q.messages.iter().filter(|m| m.delayed_at(now)).count();
            let inflight = q.messages.iter().filter(|m| m.inflight_at(now)).count();
            let visible = q.messages.len() - delayed - inflight;
            out.insert("QueueArn".into(), q.arn.clone());
            out.insert("ApproximateNumberOfMessages".into(), visible.to_string());
            out.insert(
                "ApproximateNumberOfMessagesNotVisible".into(),
                inflight.to_string(),
            );
            out.insert(
                "ApproximateNumberOfMessagesDelayed".into(),
                delayed.to_string(),
            );
            out.insert("CreatedTimestamp".into(), q.created.to_string());
            out.insert("LastModifiedTimestamp".into(), q.modified.to_string());
            Ok(out)
        })
    }

    pub fn set_attributes(
        &self,
        reference: &str,
        given: &BTreeMap<String, String>,
    ) -> Result<(), SqsError> {
        attributes::validate(given)?;
        let now = self.now_millis() / 1000;
        self.with_queue(reference, |q| {
            q.attributes
                .extend(given.iter().map(|(k, v)| (k.clone(), v.trim().to_owned())));
            q.modified = now;
            Ok(())
        })
    }

    /// (visible, in flight) message counts.
    pub fn message_counts(&self, reference: &str) -> Result<(usize, usize), SqsError> {
        let now = Instant::now();
        self.with_queue(reference, |q| {
            let inflight = q.messages.iter().filter(|m| m.inflight_at(now)).count();
            let delayed = q.messages.iter().filter(|m| m.delayed_at(now)).count();
            Ok((q.messages.len() - inflight - delayed, inflight))
        })
    }

    /// Sends one message to a queue named by URL, ARN or name.
    pub fn send_message(
        &self,
        reference: &str,
        request: SendRequest,
    ) -> Result<SentMessage, SqsError> {
        let sent_ms = self.now_millis();
        self.with_queue(reference, |q| {
            validate_send(
                &request,
                attributes::number(&q.attributes, attributes::MAX_SIZE),
            )?;
            let delay = request
                .delay_seconds
                .unwrap_or_else(|| attributes::number(&q.attributes, attributes::DELAY));
            let sent = SentMessage {
                message_id: uuid::Uuid::new_v4().to_string(),
                md5_of_body: md5_hex(request.body.as_bytes()),
                md5_of_message_attributes: md5_of_attributes(&request.attributes),
            };
            q.messages
                .push_back(Stored::new(&sent, request, sent_ms, delay));
            q.notify.notify_waiters();
            Ok(sent)
        })
    }

    /// Receives up to `max_messages`, waiting up to the wait time (real time) for one to come.
    pub async fn receive(
        &self,
        reference: &str,
        request: ReceiveRequest,
    ) -> Result<Vec<ReceivedMessage>, SqsError> {
        let max = request.max_messages.unwrap_or(1);
        if !(1..=10).contains(&max) {
            return Err(SqsError::InvalidParameterValue {
                field: "MaxNumberOfMessages".into(),
                problem: "must be between 1 and 10",
            });
        }
        let wait = match request.wait_seconds {
            Some(w) => w,
            None => self.with_queue(reference, |q| {
                Ok(attributes::number(&q.attributes, attributes::WAIT_TIME))
            })?,
        };
        if wait > 20 {
            return Err(SqsError::InvalidParameterValue {
                field: "WaitTimeSeconds".into(),
                problem: "must be between 0 and 20",
            });
        }
        if request.visibility_timeout.is_some_and(|v| v > 43_200) {
            return Err(SqsError::InvalidParameterValue {
                field: "VisibilityTimeout".into(),
                problem: "must be between 0 and 43200",
            });
        }
        let deadline = Instant::now() + Duration::from_secs(u64::from(wait));
        loop {
            let notify = self.with_queue(reference, |q| Ok(q.notify.clone()))?;
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let (received, next_visible) =
                self.take_visible(reference, max, request.visibility_timeout)?;
            let now = Instant::now();
            if !received.is_empty() || now >= deadline {
                return Ok(received);
            }
            let until = next_visible.map_or(deadline, |n| n.min(deadline));
            let _ = tokio::time::timeout(until.saturating_duration_since(now), notified).await;
        }
    }

    /// Takes the visible messages (moving over-received ones to the redrive queue) and says when
    /// the next hidden one becomes visible.
    fn take_visible(
        &self,
        reference: &str,
        max: u32,
        visibility: Option<u32>,
    ) -> Result<(Vec<ReceivedMessage>, Option<Instant>), SqsError> {
        let now = Instant::now();
        let now_ms = self.now_millis();
        let mut state = self.state.lock();
        let queue = state
            .get_mut(queue_name(reference))
            .ok_or(SqsError::QueueDoesNotExist)?;
        let redrive = queue
            .attributes
            .get(attributes::REDRIVE_POLICY)
            .and_then(|p| attributes::redrive(p));
        let hidden_for = Duration::from_secs(u64::from(visibility.unwrap_or_else(|| {
            attributes::number(&queue.attributes, attributes::VISIBILITY_TIMEOUT)
        })));
        let mut received = Vec::new();
        let mut dead = Vec::new();
        let mut index = 0;
        while index < queue.messages.len() && received.len() < max as usize {
            let message = &mut queue.messages[index];
            if message.visible_at > now {
                index += 1;
                continue;
            }
            if let Some((_, max_receives)) = &redrive
                && message.receive_count >= *max_receives
            {
                if let Some(m) = queue.messages.remove(index) {
                    dead.push(m);
                }
                continue;
            }
            received.push(message.receive(now + hidden_for, now_ms));
            index += 1;
        }
        let next_visible = queue
            .messages
            .iter()
            .map(|m| m.visible_at)
            .filter(|v| *v > now)
            .min();
        if let Some((dlq_arn, _)) = redrive
            && !dead.is_empty()
        {
            match state.get_mut(queue_name(&dlq_arn)) {
                Some(dlq) => {
                    dlq.messages.extend(dead.into_iter().map(Stored::redriven));
                    dlq.notify.notify_waiters();
                }
                None => tracing::warn!(
                    count = dead.len(),
                    "redrive queue missing: over-received messages dropped"
                ),
            }
        }
        Ok((received, next_visible))
    }

    /// Deletes the message a receipt handle names (already deleted: no error, as SQS).
    pub fn delete_message(&self, reference: &str, receipt: &str) -> Result<(), SqsError> {
        let id = message::receipt_message_id(receipt)?;
        self.with_queue(reference, |q| {
            q.messages.retain(|m| m.id != id);
            Ok(())
        })
    }

    /// Changes the visibility of an in-flight message (0 makes it visible now).
    pub fn change_visibility(
        &self,
        reference: &str,
        receipt: &str,
        timeout: u32,
    ) -> Result<(), SqsError> {
        message::receipt_message_id(receipt)?;
        if timeout > 43_200 {
            return Err(SqsError::InvalidParameterValue {
                field: "VisibilityTimeout".into(),
                problem: "must be between 0 and 43200",
            });
        }
        let now = Instant::now();
        self.with_queue(reference, |q| {
            let message = q
                .messages
                .iter_mut()
                .find(|m| m.receipt.as_deref() == Some(receipt) && m.inflight_at(now))
                .ok_or(SqsError::MessageNotInflight)?;
            message.visible_at = now + Duration::from_secs(u64::from(timeout));
            q.notify.notify_waiters();
            Ok(())
        })
    }
}

#[cfg(test)]
pub(crate) mod tests;
