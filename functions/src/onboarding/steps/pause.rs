//! The four customer pauses (`.waitForTaskToken`): the management range, the BYOL
//! confirmation, the AMI and the directory. One handler serves them all: each keeps its task
//! token on the step it pauses and asks the partner's backend on the bus.

use serde_json::{Value, json};
use steward_shared::Error;
use steward_shared::model::{OnboardingStep, StepStatus};

use super::step_record::{StepUpdate, put_step};
use crate::deps::Deps;
use crate::input::parse_input;
use crate::onboarding::request::{Offer, PauseInput, PauseKind};
use crate::onboarding::{detail_types, step_name};
use crate::record::publish_or_fail;

/// Events carry the options only while they stay this small; else they point to the record.
const MAX_EVENT_OPTIONS_BYTES: usize = 200 * 1024;

/// A customer pause: keeps the task token and the options on the step record, and tells the
/// partner's backend on the bus what to ask and how to answer (SendTaskSuccess with the
/// token and the answer document named in the event).
pub async fn pause(event: Value, deps: &Deps) -> Result<Value, Error> {
    let input: PauseInput = parse_input(event)?;
    let tenant_id = &input.request.tenant_id;
    let (step, answer) = question(input.input);
    let record = put_step(
        deps,
        tenant_id,
        StepUpdate::new(step, StepStatus::AwaitingCustomer)
            .with_task_token(input.task_token.clone()),
    )
    .await?;
    let now = deps.now();
    let mut detail = json!({
        "tenantId": tenant_id,
        "execution": input.execution,
        "step": step_name(step),
        "input": input.input,
        "taskToken": input.task_token,
        "answerFormat": answer,
        "expiresAt": now + chrono::Duration::seconds(
            i64::try_from(input.request.customer_input_timeout_seconds).unwrap_or(i64::MAX / 1000)
        ),
        "at": now,
    });
    if input.input == PauseKind::ByolConfirmation {
        detail["question"] = json!("Enabling BYOL with this management range cannot be undone.");
        let cidr = match &input.request.selections.management_cidr {
            Some(c) => Some(c.clone()),
            None => input.answers.management_cidr()?,
        };
        detail["managementCidr"] = json!(cidr);
    }
    let offer = input.offer.or_else(|| {
        record
            .output
            .clone()
            .and_then(|o| serde_json::from_value::<Offer>(o).ok())
    });
    if let Some(offer) = offer {
        add_options(&mut detail, step, offer);
    }
    publish_or_fail(deps, detail_types::AWAITING_CUSTOMER, detail).await?;
    Ok(json!({"paused": step_name(step)}))
}

/// The step a pause waits on, and the answer document it expects.
fn question(kind: PauseKind) -> (OnboardingStep, Value) {
    match kind {
        PauseKind::ManagementCidr => (
            OnboardingStep::OfferCidrRanges,
            json!({"managementCidr": "<one of the options>"}),
        ),
        PauseKind::ByolConfirmation => (OnboardingStep::ConfigureByol, json!({"confirm": true})),
        PauseKind::Image => (
            OnboardingStep::OfferImages,
            json!({"ec2ImageId": "<an eligible option's imageId>"}),
        ),
        PauseKind::Directory => (
            OnboardingStep::OfferDirectories,
            json!({"directoryId": "<an option's directoryId, or a Directory Service directory id to register>"}),
        ),
    }
}

/// Puts the offered options in the event, or (when they would make it too large) where to
/// read them.
fn add_options(detail: &mut Value, step: OnboardingStep, offer: Offer) {
    let size = serde_json::to_vec(&offer.options).map_or(usize::MAX, |v| v.len());
    if size <= MAX_EVENT_OPTIONS_BYTES {
        detail["options"] = Value::Array(offer.options);
    } else {
        detail["optionsStored"] = json!({
            "step": step_name(step),
            "count": offer.options.len(),
            "reason": "too large for an event: read them from the step record",
        });
    }
}
