//! EventBridge and SQS in memory, for `steward-local serve` (issue 18): event buses, rules with
//! EventBridge's event patterns, targets (SQS queues, and Lambda functions through the
//! [`LambdaTargets`] trait the caller implements), and standard SQS queues with long polling.
//! Both are served on the JSON protocols the AWS SDKs speak ([`Messaging::handle`]); the HTTP
//! server around them is the caller's (it routes by `X-Amz-Target`).
//!
//! No Steward crate is a dependency: the sandbox binds Lambda targets to its functions, and this
//! crate stays a plain emulator that any test can run.

pub mod digest;
pub mod events;
pub mod pattern;
pub mod queues;
pub mod wire;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use events::{
    DeliveryFailure, Disposition, Entry, EntryErrorCode, EntryResult, EventBridge, EventsError,
    LambdaTargets, RuleSpec, RuleState, TargetError, TargetErrorCode, TargetSpec,
};
pub use pattern::{EventPattern, PatternError};
pub use queues::{Queues, SqsError};
pub use wire::WireResponse;

/// The virtual clock: event `time` and message timestamps come from it.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Where the services live and what time it is.
#[derive(Clone)]
pub struct Settings {
    pub region: String,
    pub account: String,
    /// The endpoint queue URLs start with, e.g. `http://127.0.0.1:4566`.
    pub queue_url_base: String,
    pub clock: Clock,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("region", &self.region)
            .field("account", &self.account)
            .field("queue_url_base", &self.queue_url_base)
            .finish_non_exhaustive()
    }
}

/// EventBridge and SQS together (rules deliver to the queues). Cheap to clone.
#[derive(Clone)]
pub struct Messaging {
    queues: Queues,
    events: EventBridge,
}

impl Messaging {
    pub fn new(settings: Settings, lambda: Arc<dyn LambdaTargets>) -> Self {
        let settings = Arc::new(settings);
        let queues = Queues::new(settings.clone());
        let events = EventBridge::new(settings, queues.clone(), lambda);
        Self { queues, events }
    }

    pub fn queues(&self) -> &Queues {
        &self.queues
    }

    pub fn events(&self) -> &EventBridge {
        &self.events
    }

    /// One wire request: `target` is the `X-Amz-Target` header (`AWSEvents.<Op>` or
    /// `AmazonSQS.<Op>`), `body` the JSON request. ReceiveMessage may wait (long polling).
    pub async fn handle(&self, target: &str, body: &[u8]) -> WireResponse {
        wire::handle(self, target, body).await
    }
}
