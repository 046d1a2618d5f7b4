//! The two ends of an execution: step 12, Complete (the tenant becomes ACTIVE), and the
//! failure recorder every Catch of the state machine leads to.

use serde_json::{Value, json};
use steward_shared::Error;
use steward_shared::error::names;
use steward_shared::ids::TenantId;
use steward_shared::model::{ErrorRecord, OnboardingStep, StepRecord, StepStatus, TenantStatus};
use steward_shared::pools::protocol::StreamingProtocol;
use steward_shared::store::{StepStore, TenantStore};

use super::Ctx;
use super::step_record::{StepUpdate, put_step};
use crate::deps::Deps;
use crate::input::parse_input;
use crate::onboarding::request::FailureInput;
use crate::onboarding::{detail_types, step_name};
use crate::record::publish_or_fail;

/// Makes the tenant ACTIVE (clearing an earlier failure), remembers the protocol of the
/// bundle it created from the image it imported (what pools' protocol plans are checked
/// against: the service does not say), and publishes "Onboarding Succeeded" with what was
/// set up.
pub async fn complete(event: Value, deps: &Deps) -> Result<Value, Error> {
    let ctx = Ctx::load(event, deps).await?;
    let mut tenant = ctx.tenant.clone();
    let results = &ctx.input.results;
    let made = match (&results.create_bundle, &results.import_image) {
        (Some(b), Some(_)) if b.created => Some((
            b.bundle_id.clone(),
            StreamingProtocol::of_ingestion(&ctx.input.request.ingestion_process),
        )),
        _ => None,
    };
    let knows = made
        .as_ref()
        .is_none_or(|(b, p)| tenant.bundle_protocols.get(b) == Some(p));
    if tenant.status != TenantStatus::Active || tenant.last_error.is_some() || !knows {
        tenant.status = TenantStatus::Active;
        tenant.last_error = None;
        if let Some((bundle, protocol)) = made {
            tenant.bundle_protocols.insert(bundle, protocol);
        }
        tenant.updated_at = deps.now();
        deps.store.update_tenant(&tenant).await?;
    }
    let desktops = results
        .create_workspaces
        .as_ref()
        .map_or(0, |w| w.workspace_ids.len());
    let summary = json!({
        "tenantId": tenant.tenant_id,
        "execution": ctx.input.execution,
        "status": TenantStatus::Active,
        "directoryId": results.register_directory.as_ref().map(|d| d.directory_id.clone()),
        "bundleId": results.create_bundle.as_ref().map(|b| b.bundle_id.clone()),
        "imageId": results.import_image.as_ref().map(|i| i.image_id.clone()),
        "workspaces": desktops,
        "at": deps.now(),
    });
    ctx.done(OnboardingStep::Complete, StepStatus::Completed, &summary)
        .await?;
    publish_or_fail(deps, detail_types::SUCCEEDED, summary.clone()).await?;
    Ok(summary)
}

/// Records a failed execution on the tenant (FAILED, with the error) and on the step that
/// was under way, and publishes "Onboarding Failed". Returns `{Error, Cause}` for the
/// state machine's Fail state.
pub async fn record_failure(event: Value, deps: &Deps) -> Result<Value, Error> {
    let input: FailureInput = parse_input(event)?;
    let tenant_id = input.tenant_id();
    let steps = match &tenant_id {
        Some(t) => deps.store.list_steps(t).await?,
        None => Vec::new(),
    };
    let open = open_step(&steps);
    let error = failure_error(&input, open);
    if let Some(tenant_id) = &tenant_id {
        record_on_tenant(deps, tenant_id, open, &error).await?;
    }
    publish_or_fail(
        deps,
        detail_types::FAILED,
        json!({
            "tenantId": tenant_id,
            "execution": input.execution,
            "step": open.map(|s| step_name(s.step)),
            "error": {"name": error.name, "message": error.message},
            "at": deps.now(),
        }),
    )
    .await?;
    Ok(json!({"Error": error.name, "Cause": error.message}))
}

/// The step the failure happened in: the last one waiting or under way, else the last
/// one that failed.
fn open_step(steps: &[StepRecord]) -> Option<&StepRecord> {
    steps
        .iter()
        .rev()
        .find(|s| {
            matches!(
                s.status,
                StepStatus::AwaitingCustomer | StepStatus::InProgress
            )
        })
        .or_else(|| steps.iter().rev().find(|s| s.status == StepStatus::Failed))
}

/// The error as the tenant and the partner see it: a timeout while the customer was asked
/// is named for what it is; any other error keeps its name and its Cause's message.
fn failure_error(input: &FailureInput, open: Option<&StepRecord>) -> ErrorRecord {
    if input.error.is_timeout() && open.is_some_and(|s| s.status == StepStatus::AwaitingCustomer) {
        ErrorRecord {
            name: names::CUSTOMER_INPUT_TIMEOUT.to_owned(),
            message: format!(
                "the customer did not answer within {} seconds",
                input.customer_input_timeout_seconds()
            ),
        }
    } else {
        ErrorRecord {
            name: input.error.error.clone(),
            message: input.error.cause_message(),
        }
    }
}

/// Marks the open step FAILED (unless it already is) and the tenant FAILED with the error.
async fn record_on_tenant(
    deps: &Deps,
    tenant_id: &TenantId,
    open: Option<&StepRecord>,
    error: &ErrorRecord,
) -> Result<(), Error> {
    if let Some(step) = open
        && step.status != StepStatus::Failed
    {
        put_step(
            deps,
            tenant_id,
            StepUpdate::new(step.step, StepStatus::Failed).with_error(error.clone()),
        )
        .await?;
    }
    if let Some(mut tenant) = deps.store.get_tenant(tenant_id).await? {
        // A failed re-run does not take an active tenant's desktops away: it stays
        // ACTIVE and keeps the error.
        if tenant.status != TenantStatus::Active {
            tenant.status = TenantStatus::Failed;
        }
        tenant.last_error = Some(error.clone());
        tenant.updated_at = deps.now();
        deps.store.update_tenant(&tenant).await?;
    }
    Ok(())
}
