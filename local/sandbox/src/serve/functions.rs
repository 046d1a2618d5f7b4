//! The template's functions, each bound to its `Handler` route with its own [`Deps`] built
//! from the environment the template gives it, invoked three ways as Lambda invokes them:
//! - synchronously ([`Functions::invoke`]): Lambda `Invoke` with `RequestResponse`, and
//!   the state machines' `lambda:invoke` tasks ([`TaskInvoker`]);
//! - asynchronously ([`Functions::invoke_async`]): `Invoke` with `Event`, and EventBridge's
//!   rule targets ([`LambdaTargets`]). A failed invocation is retried as many times as the
//!   function's `EventInvokeConfig` says (at once here; Lambda waits about one and two
//!   minutes), then its invocation record goes to the `OnFailure` queue, in the record
//!   format Lambda writes there: the event and the function's error, so nothing a function
//!   refused is lost without its reason.
//!
//! A handler runs in its own task, so even a panic in one is a function error
//! (`Runtime.ExitError`, as Lambda reports a crashed runtime), never a crash of `serve`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use eventbridge_sqs_local::queues::SendRequest;
use eventbridge_sqs_local::{LambdaTargets, Queues, TargetError};
use serde_json::{Value, json};
use stepfunctions_runner::{TaskFailure, TaskInvoker, TaskRequest};
use steward_functions::{Deps, dispatch};
use tokio::sync::Notify;

use super::stack::Function;

/// A function's error as Lambda reports it: `errorType` and `errorMessage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError {
    pub error_type: String,
    pub error_message: String,
}

impl FunctionError {
    pub fn payload(&self) -> Value {
        json!({"errorType": self.error_type, "errorMessage": self.error_message})
    }
}

/// One served function.
pub struct Served {
    pub function: Function,
    pub deps: Arc<Deps>,
}

pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Every function of the stack.
#[derive(Clone)]
pub struct Functions {
    inner: Arc<Inner>,
}

struct Inner {
    by_name: HashMap<String, Arc<Served>>,
    /// Where `OnFailure` records go (set once the queues exist).
    queues: parking_lot::RwLock<Option<Queues>>,
    clock: Clock,
    in_flight: AtomicUsize,
    settled: Notify,
    /// Every asynchronous invocation asked for (before retries), in order: the function and
    /// the event's `detail-type`, if it has one. What reached which function, for tests.
    asked: parking_lot::Mutex<Vec<AsyncInvocation>>,
}

/// One asynchronous invocation as it was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsyncInvocation {
    pub function: String,
    pub detail_type: Option<String>,
}

impl Functions {
    pub fn new(served: Vec<Served>, clock: Clock) -> Self {
        let by_name = served
            .into_iter()
            .map(|s| (s.function.name.clone(), Arc::new(s)))
            .collect();
        Self {
            inner: Arc::new(Inner {
                by_name,
                queues: parking_lot::RwLock::new(None),
                clock,
                in_flight: AtomicUsize::new(0),
                settled: Notify::new(),
                asked: parking_lot::Mutex::new(Vec::new()),
            }),
        }
    }

    pub fn set_queues(&self, queues: Queues) {
        *self.inner.queues.write() = Some(queues);
    }

    /// The function a name, an ARN or a partial ARN (`function:Name`, `Name:$LATEST`)
    /// designates, as Lambda accepts all three.
    pub fn find(&self, name_or_arn: &str) -> Option<Arc<Served>> {
        let name = name_or_arn
            .rsplit_once(":function:")
            .map(|(_, rest)| rest)
            .unwrap_or(name_or_arn);
        let name = name.strip_prefix("function:").unwrap_or(name);
        let name = name.strip_suffix(":$LATEST").unwrap_or(name);
        self.inner.by_name.get(name).cloned()
    }

    pub fn all(&self) -> Vec<Arc<Served>> {
        let mut all: Vec<_> = self.inner.by_name.values().cloned().collect();
        all.sort_by(|a, b| a.function.name.cmp(&b.function.name));
        all
    }

    /// Runs the function once and answers its result or its error.
    pub async fn invoke(&self, served: &Arc<Served>, event: Value) -> Result<Value, FunctionError> {
        let served = served.clone();
        let task = tokio::spawn(async move {
            dispatch(&served.function.handler, event, &served.deps)
                .await
                .map_err(|e| FunctionError {
                    error_type: e.name().to_owned(),
                    error_message: e.to_string(),
                })
        });
        match task.await {
            Ok(result) => result,
            Err(_) => Err(FunctionError {
                error_type: "Runtime.ExitError".into(),
                error_message: "the handler ended abnormally".into(),
            }),
        }
    }

    /// Queues an asynchronous invocation and returns at once (Lambda answers 202).
    pub fn invoke_async(&self, served: Arc<Served>, event: Value) {
        self.inner.asked.lock().push(AsyncInvocation {
            function: served.function.name.clone(),
            detail_type: event
                .get("detail-type")
                .and_then(Value::as_str)
                .map(str::to_owned),
        });
        self.inner.in_flight.fetch_add(1, Ordering::SeqCst);
        let this = self.clone();
        tokio::spawn(async move {
            this.run_async(&served, event).await;
            if this.inner.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
                this.inner.settled.notify_waiters();
            }
        });
    }

    async fn run_async(&self, served: &Arc<Served>, event: Value) {
        let attempts = served.function.async_invoke.max_retries + 1;
        let mut last = None;
        for _ in 0..attempts {
            match self.invoke(served, event.clone()).await {
                Ok(_) => return,
                Err(e) => last = Some(e),
            }
        }
        let Some(error) = last else { return };
        tracing::warn!(
            function = %served.function.name,
            error_type = %error.error_type,
            "asynchronous invocation failed after its retries"
        );
        let record = self.failure_record(served, &event, &error, attempts);
        let queue = served.function.async_invoke.on_failure_queue.as_deref();
        let queues = self.inner.queues.read().clone();
        match (queue, queues) {
            (Some(queue), Some(queues)) => {
                if let Err(e) = queues.send_message(queue, SendRequest::body(record.to_string())) {
                    tracing::error!(function = %served.function.name, error = %e,
                        "the OnFailure record could not be queued");
                }
            }
            _ => tracing::error!(function = %served.function.name,
                "asynchronous invocation failed and the function has no OnFailure queue"),
        }
    }

    /// Lambda's invocation record for an `OnFailure` destination.
    fn failure_record(
        &self,
        served: &Served,
        event: &Value,
        error: &FunctionError,
        attempts: u32,
    ) -> Value {
        json!({
            "version": "1.0",
            "timestamp": (self.inner.clock)().to_rfc3339_opts(SecondsFormat::Millis, true),
            "requestContext": {
                "requestId": uuid::Uuid::new_v4().to_string(),
                "functionArn": format!("{}:$LATEST", served.function.arn),
                "condition": "RetriesExhausted",
                "approximateInvokeCount": attempts,
            },
            "requestPayload": event,
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "responsePayload": error.payload(),
        })
    }

    /// Every asynchronous invocation asked for so far.
    pub fn async_invocations(&self) -> Vec<AsyncInvocation> {
        self.inner.asked.lock().clone()
    }

    /// Asynchronous invocations still running (retries included).
    pub fn in_flight(&self) -> usize {
        self.inner.in_flight.load(Ordering::SeqCst)
    }

    /// Waits until no asynchronous invocation is running, at most `limit`.
    pub async fn settle(&self, limit: std::time::Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.inner.settled.notified();
            if self.in_flight() == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.in_flight() == 0;
            }
        }
    }
}

/// The state machines' `lambda:invoke` tasks: `FunctionName` is the function's ARN (the
/// template's `DefinitionSubstitutions`), run with that function's own environment.
#[async_trait]
impl TaskInvoker for Functions {
    async fn invoke(&self, request: TaskRequest) -> Result<Value, TaskFailure> {
        let Some(served) = self.find(&request.function_name) else {
            return Err(TaskFailure::new(
                "Lambda.ResourceNotFoundException",
                format!("function not found: {}", request.function_name),
            ));
        };
        Functions::invoke(self, &served, request.input)
            .await
            .map_err(|e| TaskFailure::new(e.error_type.clone(), e.payload().to_string()))
    }
}

/// EventBridge's rule targets: an asynchronous invocation, as EventBridge makes one.
#[async_trait]
impl LambdaTargets for Functions {
    async fn invoke_async(&self, function_arn: &str, event: Value) -> Result<(), TargetError> {
        let served = self
            .find(function_arn)
            .ok_or_else(|| TargetError::not_found(function_arn))?;
        Functions::invoke_async(self, served, event);
        Ok(())
    }
}
