//! A ready-made [`TaskInvoker`]: async closures registered by function name.

use super::engine::{TaskFailure, TaskInvoker, TaskRequest};
use async_trait::async_trait;
use futures::future::BoxFuture;
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

type Handler =
    Arc<dyn Fn(TaskRequest) -> BoxFuture<'static, Result<Value, TaskFailure>> + Send + Sync>;

/// Dispatches a task to the handler registered under its function name (a
/// substituted handler name, or the function name inside a Lambda ARN), and
/// records every request.
#[derive(Default)]
pub struct FnInvoker {
    handlers: HashMap<String, Handler>,
    calls: Mutex<Vec<TaskRequest>>,
}

impl FnInvoker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `f` under `name`.
    pub fn handler<F, Fut>(mut self, name: &str, f: F) -> Self
    where
        F: Fn(TaskRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, TaskFailure>> + Send + 'static,
    {
        self.handlers
            .insert(name.to_string(), Arc::new(move |r| Box::pin(f(r))));
        self
    }

    /// Every request so far, in order.
    pub fn calls(&self) -> Vec<TaskRequest> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// How many requests went to `name`.
    pub fn calls_to(&self, name: &str) -> usize {
        self.calls()
            .iter()
            .filter(|r| function_key(&r.function_name) == name)
            .count()
    }
}

/// `arn:aws:lambda:region:account:function:NAME[:qualifier]` → NAME; other names as they are.
fn function_key(name: &str) -> &str {
    match name.split_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
        None => name,
    }
}

#[async_trait]
impl TaskInvoker for FnInvoker {
    async fn invoke(&self, request: TaskRequest) -> Result<Value, TaskFailure> {
        self.calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(request.clone());
        let key = function_key(&request.function_name);
        let handler = self.handlers.get(key).cloned().ok_or_else(|| {
            TaskFailure::new(
                "Lambda.ResourceNotFoundException",
                format!("no handler registered for `{key}`"),
            )
        })?;
        handler(request).await
    }
}
