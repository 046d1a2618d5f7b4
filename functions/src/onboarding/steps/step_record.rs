//! The step record every onboarding handler writes besides its answer: its status, output,
//! error and task token. Its audit records ([`super::Ctx::audit`]) and its events on the
//! partner bus go through [`crate::record`], like every other family's.

use serde_json::{Value, json};
use steward_shared::Error;
use steward_shared::ids::TenantId;
use steward_shared::model::{ErrorRecord, OnboardingStep, StepRecord, StepStatus};
use steward_shared::store::{StepStore, StoreError};

use crate::deps::Deps;

/// What to write on one step record: its new status and, where set, its output, error and
/// task token.
pub(super) struct StepUpdate {
    step: OnboardingStep,
    status: StepStatus,
    /// Replaces the recorded output; unset keeps the one recorded.
    output: Option<Value>,
    /// Set on a failed (or failing, retried) step; unset clears an earlier one.
    error: Option<ErrorRecord>,
    /// Set while the step waits for the customer; unset clears it.
    task_token: Option<String>,
}

impl StepUpdate {
    pub(super) fn new(step: OnboardingStep, status: StepStatus) -> Self {
        Self {
            step,
            status,
            output: None,
            error: None,
            task_token: None,
        }
    }

    pub(super) fn with_output(mut self, output: Value) -> Self {
        self.output = Some(output);
        self
    }

    pub(super) fn with_error(mut self, error: ErrorRecord) -> Self {
        self.error = Some(error);
        self
    }

    pub(super) fn with_task_token(mut self, task_token: String) -> Self {
        self.task_token = Some(task_token);
        self
    }
}

/// Writes a step's status, output, error and task token, re-reading on a concurrent write.
/// A step entering IN_PROGRESS counts one more attempt.
pub(super) async fn put_step(
    deps: &Deps,
    tenant: &TenantId,
    update: StepUpdate,
) -> Result<StepRecord, Error> {
    let StepUpdate {
        step,
        status,
        output,
        error,
        task_token,
    } = update;
    let mut tries = 0;
    loop {
        tries += 1;
        let current = deps.store.get_step(tenant, step).await?;
        let starting = status == StepStatus::InProgress
            && current
                .as_ref()
                .is_none_or(|c| c.status != StepStatus::InProgress);
        let record = StepRecord {
            tenant_id: tenant.clone(),
            step,
            status,
            attempts: current.as_ref().map_or(0, |c| c.attempts) + u32::from(starting),
            output: output
                .clone()
                .or_else(|| current.as_ref().and_then(|c| c.output.clone())),
            error: error.clone(),
            task_token: task_token.clone(),
            updated_at: deps.now(),
            version: current.as_ref().map_or(0, |c| c.version),
        };
        match deps.store.put_step(&record).await {
            Ok(r) => return Ok(r),
            Err(StoreError::VersionConflict { .. } | StoreError::AlreadyExists { .. })
                if tries < 5 => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Keeps an event small: offered options stay on the step record, the event counts them.
pub(super) fn summary(output: &Value) -> Value {
    match output {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| match (k.as_str(), v) {
                    ("options", Value::Array(a)) => ("optionCount".to_owned(), json!(a.len())),
                    _ => (k.clone(), v.clone()),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}
