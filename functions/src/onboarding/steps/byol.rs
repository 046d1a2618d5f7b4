//! Steps 2–4, BYOL: check the account's dedicated tenancy, offer the free management
//! ranges, and enable BYOL with the customer's range once confirmed (it cannot be undone).

use serde_json::{Value, json};
use steward_shared::Error;
use steward_shared::error::names;
use steward_shared::gateway::workspaces::{Account, ModificationState};
use steward_shared::model::{OnboardingStep as S, StepStatus};
use steward_shared::store::StepStore;

use super::Ctx;
use super::step_record::{StepUpdate, put_step};
use crate::deps::Deps;
use crate::onboarding::request::{ByolProgress, ByolRoute, Offer};
use crate::record::ActionName;

/// Management ranges offered at once (a selection outside them is checked with the service).
const MAX_CIDR_OPTIONS: usize = 20;

/// Where the state machine goes after the BYOL check: see [`ByolRoute`]. Without BYOL the
/// BYOL and image steps are recorded as skipped.
pub async fn check_byol(event: Value, deps: &Deps) -> Result<Value, Error> {
    let ctx = Ctx::load(event, deps).await?;
    if !ctx.input.request.byol {
        for s in [
            S::CheckByol,
            S::OfferCidrRanges,
            S::ConfigureByol,
            S::OfferImages,
            S::ImportImage,
        ] {
            ctx.done(
                s,
                StepStatus::Skipped,
                &json!({"reason": "BYOL not requested"}),
            )
            .await?;
        }
        return Ok(json!({"route": ByolRoute::Skip}));
    }
    ctx.start(S::CheckByol).await?;
    ctx.run(S::CheckByol, route_byol(&ctx)).await
}

async fn route_byol(ctx: &Ctx<'_>) -> Result<Value, Error> {
    let account = ctx.ws().account().await?;
    let pending = account
        .latest_modification()
        .is_some_and(|m| m.state == Some(ModificationState::Pending));
    let route = if account.byol_enabled() {
        for s in [S::OfferCidrRanges, S::ConfigureByol] {
            // An earlier execution that did them keeps its record.
            let done = ctx.deps.store.get_step(&ctx.tenant.tenant_id, s).await?;
            if done.is_none_or(|d| d.status != StepStatus::Completed) {
                ctx.done(
                    s,
                    StepStatus::Skipped,
                    &json!({"reason": "BYOL already enabled"}),
                )
                .await?;
            }
        }
        ByolRoute::Configured
    } else if pending {
        ByolRoute::Pending
    } else {
        ByolRoute::Offer
    };
    let out = json!({
        "route": route,
        "enabled": account.byol_enabled(),
        "managementCidr": account.management_cidr,
    });
    ctx.done(S::CheckByol, StepStatus::Completed, &out).await
}

/// Offers the first free management /16 ranges within the request's constraint.
pub async fn offer_cidr_ranges(event: Value, deps: &Deps) -> Result<Value, Error> {
    let ctx = Ctx::load(event, deps).await?;
    ctx.start(S::OfferCidrRanges).await?;
    ctx.run(S::OfferCidrRanges, offer_ranges(&ctx)).await
}

async fn offer_ranges(ctx: &Ctx<'_>) -> Result<Value, Error> {
    let (ranges, truncated) = ctx
        .ws()
        .management_cidr_ranges(
            &ctx.input.request.management_cidr_constraint,
            MAX_CIDR_OPTIONS,
        )
        .await?;
    let offer = Offer {
        options: ranges.into_iter().map(Value::String).collect(),
        selected: ctx.input.request.selections.management_cidr.clone(),
        truncated,
    };
    if offer.options.is_empty() {
        return Err(Error::refused(
            names::INVALID_STATE,
            format!(
                "no free management /16 range within {}",
                ctx.input.request.management_cidr_constraint
            ),
        ));
    }
    ctx.done(S::OfferCidrRanges, StepStatus::Completed, &offer)
        .await
}

/// Enables BYOL with the selected management range once the customer confirmed it (the
/// change cannot be undone), then (with `poll`) follows the modification to its end.
/// Returns `{"status": "DONE" | "PENDING"}` ([`ByolProgress`]).
pub async fn configure_byol(event: Value, deps: &Deps) -> Result<Value, Error> {
    let ctx = Ctx::load(event, deps).await?;
    if !ctx.input.poll {
        ctx.start(S::ConfigureByol).await?;
    }
    ctx.run(S::ConfigureByol, enable_or_follow(&ctx)).await
}

async fn enable_or_follow(ctx: &Ctx<'_>) -> Result<Value, Error> {
    let account = ctx.ws().account().await?;
    if account.byol_enabled() {
        return ctx
            .done(
                S::ConfigureByol,
                StepStatus::Completed,
                &json!({"status": ByolProgress::Done, "managementCidr": account.management_cidr}),
            )
            .await;
    }
    if let Some(answer) = follow_modification(ctx, &account).await? {
        return Ok(answer);
    }
    let cidr = selected_cidr(ctx)?;
    let offered = ctx
        .input
        .results
        .offer_cidr_ranges
        .as_ref()
        .map(|o| o.options.clone())
        .unwrap_or_default();
    check_free(ctx, &cidr, &offered).await?;
    check_confirmed(ctx)?;
    put_step(
        ctx.deps,
        &ctx.tenant.tenant_id,
        StepUpdate::new(S::OfferCidrRanges, StepStatus::Completed)
            .with_output(json!({"options": offered, "selected": cidr})),
    )
    .await?;
    ctx.ws().enable_byol(&cidr).await?;
    ctx.audit(
        ActionName::ModifyAccount,
        format!("enable BYOL with management range {cidr}"),
    )
    .await?;
    ctx.pending(
        S::ConfigureByol,
        &json!({"status": ByolProgress::Pending, "managementCidr": cidr}),
    )
    .await
}

/// A modification under way is followed, not repeated: the step's answer while it is
/// pending or (when polling) once it failed; `None` when BYOL is still to be enabled.
async fn follow_modification(ctx: &Ctx<'_>, account: &Account) -> Result<Option<Value>, Error> {
    let latest = account.latest_modification();
    match latest.and_then(|m| m.state.as_ref()) {
        Some(ModificationState::Pending) => {
            let answer = ctx
                .pending(S::ConfigureByol, &json!({"status": ByolProgress::Pending}))
                .await?;
            Ok(Some(answer))
        }
        Some(ModificationState::Failed) if ctx.input.poll => Err(Error::refused(
            names::OPERATION_FAILED,
            format!(
                "enabling BYOL failed: {}: {}",
                latest
                    .and_then(|m| m.error_code.as_deref())
                    .unwrap_or("no code"),
                latest
                    .and_then(|m| m.error_message.as_deref())
                    .unwrap_or("no message")
            ),
        )),
        _ if ctx.input.poll => Err(Error::refused(
            names::OPERATION_FAILED,
            "the BYOL modification is neither pending nor completed",
        )),
        _ => Ok(None),
    }
}

/// The management range chosen up front or by the customer, if it can be a dedicated one.
fn selected_cidr(ctx: &Ctx<'_>) -> Result<String, Error> {
    let cidr = match (
        &ctx.input.request.selections.management_cidr,
        ctx.input.answers.management_cidr()?,
    ) {
        (Some(c), _) => c.clone(),
        (None, Some(c)) => c,
        (None, None) => {
            return Err(Error::refused(
                names::INVALID_SELECTION,
                "no management CIDR range was selected",
            ));
        }
    };
    steward_shared::validate::dedicated_management_cidr("managementCidr", &cidr)?;
    Ok(cidr)
}

/// The range must be free: the offer shows the first free ranges; any other free one is
/// as good, which the service is asked about.
async fn check_free(ctx: &Ctx<'_>, cidr: &str, offered: &[Value]) -> Result<(), Error> {
    if !offered.iter().any(|o| o.as_str() == Some(cidr)) {
        let (free, _) = ctx.ws().management_cidr_ranges(cidr, 1).await?;
        if free.first().map(String::as_str) != Some(cidr) {
            return Err(Error::refused(
                names::INVALID_SELECTION,
                format!("{cidr} is not a free management range of this account"),
            ));
        }
    }
    Ok(())
}

/// Enabling BYOL cannot be undone: it needs `confirmByol` or the customer's confirmation.
fn check_confirmed(ctx: &Ctx<'_>) -> Result<(), Error> {
    match (
        ctx.input.request.confirm_byol,
        ctx.input.answers.byol_confirmed()?,
    ) {
        (true, _) | (false, Some(true)) => Ok(()),
        (false, Some(false)) => Err(Error::refused(
            names::CONFIRMATION_REQUIRED,
            "the customer declined to enable BYOL",
        )),
        (false, None) => Err(Error::refused(
            names::CONFIRMATION_REQUIRED,
            "enabling BYOL cannot be undone: it needs `confirmByol` or the customer's confirmation",
        )),
    }
}
