//! Delivery of matched events to targets. SQS targets are written at once; Lambda targets are
//! invoked asynchronously on spawned tasks (PutEvents never waits for a function), retried when
//! the function throttles. What a target cannot take goes to the target's dead-letter queue
//! with EventBridge's attributes (RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE,
//! EXHAUSTED_RETRY_CONDITION, RETRY_ATTEMPTS); without one it is logged and kept in
//! `failures`, never dropped silently.
//!
//! Retries run on real time with a short backoff and at most [`LOCAL_RETRY_CAP`] attempts,
//! whatever the policy says: a sandbox must not sit on a failing event for EventBridge's 24 h.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;
use serde_json::Value;
use tokio::sync::Notify;

use super::model::{DeliveryFailure, Disposition, TargetError, TargetErrorCode, TargetSpec};
use crate::queues::{MessageAttribute, Queues, SendRequest, SqsError};

/// Retries of a throttled Lambda target, at most, locally.
pub const LOCAL_RETRY_CAP: u32 = 2;

/// Where events for Lambda targets go (the sandbox implements it: an asynchronous invoke).
#[async_trait]
pub trait LambdaTargets: Send + Sync {
    /// Hands `event` to the function `function_arn` as an asynchronous (Event) invocation. Err
    /// when the function does not exist or cannot take it: the target's dead-letter queue then
    /// gets the event.
    async fn invoke_async(&self, function_arn: &str, event: Value) -> Result<(), TargetError>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TargetKind {
    Sqs,
    Lambda,
}

impl TargetKind {
    pub(super) fn of(arn: &str) -> Option<Self> {
        let parts: Vec<&str> = arn.split(':').collect();
        match parts.as_slice() {
            ["arn", _, "sqs", _, _, name] if !name.is_empty() => Some(Self::Sqs),
            ["arn", _, "lambda", _, _, "function", name, ..] if !name.is_empty() => {
                Some(Self::Lambda)
            }
            _ => None,
        }
    }
}

/// The part of `event` an InputPath names (`$` or `$.a.b`); `None` for a path of another form.
/// A path naming nothing in the event selects `null`.
pub(super) fn select(event: &Value, path: &str) -> Option<Value> {
    if path == "$" {
        return Some(event.clone());
    }
    let rest = path.strip_prefix("$.")?;
    if rest.split('.').any(str::is_empty) {
        return None;
    }
    Some(
        rest.split('.')
            .try_fold(event, |node, key| node.get(key))
            .cloned()
            .unwrap_or(Value::Null),
    )
}

/// One target to reach with one event.
pub(super) struct Delivery {
    rule_arn: String,
    target: TargetSpec,
}

impl Delivery {
    pub(super) fn new(rule_arn: &str, target: &TargetSpec) -> Self {
        Self {
            rule_arn: rule_arn.to_owned(),
            target: target.clone(),
        }
    }

    fn payload(&self, event: &Value) -> Value {
        if let Some(input) = &self.target.input {
            return serde_json::from_str(input).unwrap_or(Value::Null);
        }
        match &self.target.input_path {
            Some(path) => select(event, path).unwrap_or(Value::Null),
            None => event.clone(),
        }
    }
}

#[derive(Clone)]
pub(super) struct Deliveries {
    queues: Queues,
    lambda: Arc<dyn LambdaTargets>,
    failures: Arc<Mutex<Vec<DeliveryFailure>>>,
    pending: Arc<(AtomicUsize, Notify)>,
}

/// A failure before it is dead-lettered.
struct Failed {
    error: TargetError,
    retry_attempts: u32,
}

impl Deliveries {
    pub(super) fn new(queues: Queues, lambda: Arc<dyn LambdaTargets>) -> Self {
        Self {
            queues,
            lambda,
            failures: Arc::new(Mutex::new(Vec::new())),
            pending: Arc::new((AtomicUsize::new(0), Notify::new())),
        }
    }

    pub(super) fn failures(&self) -> Vec<DeliveryFailure> {
        self.failures.lock().clone()
    }

    pub(super) async fn settle(&self) {
        loop {
            let notified = self.pending.1.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.pending.0.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }

    pub(super) fn deliver(&self, delivery: Delivery, event: &Value) {
        let payload = delivery.payload(event);
        match TargetKind::of(&delivery.target.arn) {
            Some(TargetKind::Sqs) => {
                let body = payload.to_string();
                if let Err(e) = self
                    .queues
                    .send_message(&delivery.target.arn, SendRequest::body(body))
                {
                    let code = match e {
                        SqsError::QueueDoesNotExist => TargetErrorCode::ResourceNotFound,
                        _ => TargetErrorCode::InvalidParameter,
                    };
                    self.fail_without_retry(&delivery, event, code, e.to_string());
                }
            }
            Some(TargetKind::Lambda) => self.spawn_invoke(delivery, event.clone(), payload),
            None => {
                self.fail_without_retry(
                    &delivery,
                    event,
                    TargetErrorCode::InvalidParameter,
                    "the target type is not served locally".into(),
                );
            }
        }
    }

    fn spawn_invoke(&self, delivery: Delivery, event: Value, payload: Value) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            let error = TargetError {
                code: TargetErrorCode::InvalidParameter,
                message: "no async runtime to invoke the function on".into(),
            };
            self.fail(
                &delivery,
                &event,
                Failed {
                    error,
                    retry_attempts: 0,
                },
            );
            return;
        };
        self.pending.0.fetch_add(1, Ordering::SeqCst);
        let this = self.clone();
        runtime.spawn(async move {
            if let Err(failed) = this.invoke_with_retries(&delivery, payload).await {
                this.fail(&delivery, &event, failed);
            }
            this.pending.0.fetch_sub(1, Ordering::SeqCst);
            this.pending.1.notify_waiters();
        });
    }

    async fn invoke_with_retries(&self, delivery: &Delivery, payload: Value) -> Result<(), Failed> {
        let cap = delivery
            .target
            .max_retries
            .unwrap_or(185)
            .min(LOCAL_RETRY_CAP);
        let mut attempt = 0;
        loop {
            match self
                .lambda
                .invoke_async(&delivery.target.arn, payload.clone())
                .await
            {
                Ok(()) => return Ok(()),
                Err(error) if error.code.retryable() && attempt < cap => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
                }
                Err(error) => {
                    return Err(Failed {
                        error,
                        retry_attempts: attempt,
                    });
                }
            }
        }
    }

    /// A failure no retry can mend (the target is missing or not served).
    fn fail_without_retry(
        &self,
        delivery: &Delivery,
        event: &Value,
        code: TargetErrorCode,
        message: String,
    ) {
        let error = TargetError { code, message };
        self.fail(
            delivery,
            event,
            Failed {
                error,
                retry_attempts: 0,
            },
        );
    }

    fn fail(&self, delivery: &Delivery, event: &Value, failed: Failed) {
        let disposition = match &delivery.target.dead_letter_arn {
            Some(dlq) => self.dead_letter(delivery, dlq, event, &failed),
            None => Disposition::Dropped,
        };
        tracing::warn!(
            rule = %delivery.rule_arn,
            target = %delivery.target.arn,
            code = failed.error.code.as_str(),
            dead_lettered = matches!(disposition, Disposition::DeadLettered { .. }),
            "event not delivered: {}",
            failed.error.message
        );
        self.failures.lock().push(DeliveryFailure {
            rule_arn: delivery.rule_arn.clone(),
            target_arn: delivery.target.arn.clone(),
            event: event.clone(),
            error: failed.error,
            retry_attempts: failed.retry_attempts,
            disposition,
        });
    }

    fn dead_letter(
        &self,
        delivery: &Delivery,
        dlq: &str,
        event: &Value,
        failed: &Failed,
    ) -> Disposition {
        let mut attributes = BTreeMap::new();
        attributes.insert(
            "RULE_ARN".to_owned(),
            MessageAttribute::string(&delivery.rule_arn),
        );
        attributes.insert(
            "TARGET_ARN".to_owned(),
            MessageAttribute::string(&delivery.target.arn),
        );
        attributes.insert(
            "ERROR_CODE".to_owned(),
            MessageAttribute::string(failed.error.code.as_str()),
        );
        attributes.insert(
            "ERROR_MESSAGE".to_owned(),
            MessageAttribute::string(failed.error.message.clone()),
        );
        if failed.error.code.retryable() {
            attributes.insert(
                "EXHAUSTED_RETRY_CONDITION".to_owned(),
                MessageAttribute::string("MaximumRetryAttempts"),
            );
        }
        attributes.insert(
            "RETRY_ATTEMPTS".to_owned(),
            MessageAttribute {
                data_type: "Number".into(),
                value: crate::queues::AttributeValue::String(failed.retry_attempts.to_string()),
            },
        );
        let request = SendRequest {
            body: event.to_string(),
            attributes,
            delay_seconds: None,
        };
        match self.queues.send_message(dlq, request) {
            Ok(_) => Disposition::DeadLettered {
                queue_arn: dlq.to_owned(),
            },
            Err(e) => {
                tracing::warn!(queue = dlq, "dead-letter queue refused the event: {e}");
                Disposition::Dropped
            }
        }
    }
}
