//! Onboarding: one handler per step of the guide's "Infrastructure setup" chapter, chained
//! by the Onboarding state machine in `template.yaml`.
//!
//! Every step is idempotent: before it creates or modifies anything it looks for what an
//! earlier (possibly interrupted) execution left behind, by the names Steward gives what it
//! creates and by what the service reports. Each records its outcome on its step record and
//! publishes an event on the partner bus; customer selections are `.waitForTaskToken` pauses
//! ([`pause`]) unless the execution input already carries them.

pub mod request;
mod steps;

use serde::Serialize;
use serde_json::{Value, json};
use steward_shared::Error;
use steward_shared::error::names;
use steward_shared::gateway::eventbridge::Outbound;
use steward_shared::ids::TenantId;
use steward_shared::model::{
    Actor, AuditOutcome, AuditRecord, ErrorRecord, OnboardingStep, StepRecord, StepStatus,
    Timestamp,
};
use steward_shared::store::{AuditStore, StepStore, StoreError};

use crate::{Deps, Route};
use request::{FailureInput, PauseInput, StepInput};

pub use steps::{
    check_byol, complete, configure_byol, configure_creation_properties, create_bundle,
    create_workspaces, import_image, offer_cidr_ranges, offer_directories, offer_images, pause,
    record_failure, register_directory, validate_access,
};

/// Detail types of the events onboarding publishes (schemas in `events/schemas/outbound/`).
pub mod detail_types {
    pub const STEP_COMPLETED: &str = "Onboarding Step Completed";
    pub const AWAITING_CUSTOMER: &str = "Onboarding Awaiting Customer Input";
    pub const SUCCEEDED: &str = "Onboarding Succeeded";
    pub const FAILED: &str = "Onboarding Failed";
}

macro_rules! route {
    ($name:literal, $f:path, $input:ty, $samples:expr) => {
        Route {
            name: $name,
            run: |event, deps| Box::pin($f(event, deps)),
            input: crate::parses::<$input>,
            samples: $samples,
        }
    };
    // A step: its input is the execution's StepInput (first run, or a polling round).
    ($name:literal, $f:path) => {
        route!($name, $f, StepInput, STEP_SAMPLES)
    };
}

const STEP_SAMPLES: &[&str] = &["events/onboarding/step.json", "events/onboarding/poll.json"];

/// The onboarding handlers, named as the functions' `Handler` in `template.yaml`.
pub fn routes() -> Vec<Route> {
    vec![
        route!(
            "onboarding.validate_access",
            validate_access,
            StepInput,
            &["events/onboarding/validate-access.json"]
        ),
        route!("onboarding.check_byol", check_byol),
        route!("onboarding.offer_cidr_ranges", offer_cidr_ranges),
        route!("onboarding.configure_byol", configure_byol),
        route!("onboarding.offer_images", offer_images),
        route!("onboarding.import_image", import_image),
        route!("onboarding.offer_directories", offer_directories),
        route!("onboarding.register_directory", register_directory),
        route!(
            "onboarding.configure_creation_properties",
            configure_creation_properties
        ),
        route!("onboarding.create_bundle", create_bundle),
        route!("onboarding.create_workspaces", create_workspaces),
        route!("onboarding.complete", complete),
        route!(
            "onboarding.pause",
            pause,
            PauseInput,
            &["events/onboarding/pause.json"]
        ),
        route!(
            "onboarding.record_failure",
            record_failure,
            FailureInput,
            &["events/onboarding/record-failure.json"]
        ),
    ]
}

/// The wire name of a step (`CREATE_WORKSPACES`), as events and records carry it.
pub fn step_name(step: OnboardingStep) -> String {
    serde_json::to_value(step)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Writes a step's status, output, error and task token, re-reading on a concurrent write.
pub(crate) async fn put_step(
    deps: &Deps,
    tenant: &TenantId,
    step: OnboardingStep,
    status: StepStatus,
    output: Option<Value>,
    error: Option<ErrorRecord>,
    task_token: Option<String>,
) -> Result<StepRecord, Error> {
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

/// Records a step as completed (or skipped) and says so on the partner bus.
pub(crate) async fn finish_step(
    deps: &Deps,
    tenant: &TenantId,
    execution: &str,
    step: OnboardingStep,
    status: StepStatus,
    output: &impl Serialize,
) -> Result<Value, Error> {
    let output = serde_json::to_value(output).unwrap_or(Value::Null);
    put_step(deps, tenant, step, status, Some(output.clone()), None, None).await?;
    publish(
        deps,
        detail_types::STEP_COMPLETED,
        json!({
            "tenantId": tenant,
            "execution": execution,
            "step": step_name(step),
            "stepNumber": step.number(),
            "status": status,
            "output": summary(&output),
            "at": deps.now(),
        }),
    )
    .await?;
    Ok(output)
}

/// Keeps an event small: offered options stay on the step record, the event counts them.
fn summary(output: &Value) -> Value {
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

/// Publishes one event; an entry EventBridge refuses fails the step (and is retried by the
/// state machine), so no outbound event is lost silently.
pub(crate) async fn publish(deps: &Deps, detail_type: &str, detail: Value) -> Result<(), Error> {
    let outcomes = deps
        .publish(&[Outbound {
            detail_type: detail_type.to_owned(),
            detail,
            resources: Vec::new(),
        }])
        .await?;
    match outcomes.first() {
        Some(steward_shared::gateway::ItemOutcome::Failed { code, message }) => {
            Err(Error::refused(
                names::TRANSIENT,
                format!("EventBridge refused the {detail_type} event: {code}: {message}"),
            ))
        }
        _ => Ok(()),
    }
}

/// One audit record for a create or modify call onboarding made.
pub(crate) async fn audit(
    deps: &Deps,
    tenant: &TenantId,
    execution: &str,
    action: &str,
    reason: String,
    at: Timestamp,
) -> Result<(), Error> {
    deps.store
        .append_audit(&AuditRecord {
            tenant_id: tenant.clone(),
            audit_id: uuid::Uuid::new_v4(),
            at,
            actor: Actor::Onboarding {
                execution: execution.to_owned(),
            },
            action: action.to_owned(),
            workspace_id: None,
            reason,
            outcome: AuditOutcome::Succeeded,
        })
        .await?;
    Ok(())
}
