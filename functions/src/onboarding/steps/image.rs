//! Steps 5–6, image: offer the account's AMIs (judged eligible or not) and import the
//! customer's choice as a WorkSpaces image.

use serde_json::Value;
use steward_shared::Error;
use steward_shared::error::names;
use steward_shared::gateway::workspaces::{Image, ImageState, ImportSpec};
use steward_shared::ids::Ec2ImageId;
use steward_shared::model::{OnboardingStep as S, StepStatus};
use steward_shared::onboarding as domain;

use super::{Ctx, MAX_OPTIONS};
use crate::deps::Deps;
use crate::onboarding::request::{ImportResult, Offer};
use crate::record::ActionName;

/// Offers the account's own AMIs, eligible ones first, with the reasons the others are not.
pub async fn offer_images(event: Value, deps: &Deps) -> Result<Value, Error> {
    let ctx = Ctx::load(event, deps).await?;
    ctx.start(S::OfferImages).await?;
    ctx.run(S::OfferImages, offer_amis(&ctx)).await
}

async fn offer_amis(ctx: &Ctx<'_>) -> Result<Value, Error> {
    let ec2 = ctx.clients.ec2();
    let (amis, truncated) = ec2.owned_amis(MAX_OPTIONS).await?;
    let mut options: Vec<_> = amis
        .into_iter()
        .map(|a| {
            domain::judge_ami(
                a,
                ctx.tenant.account_id.as_str(),
                ctx.input.request.max_root_volume_gib,
            )
        })
        .collect();
    options.sort_by(|a, b| (!a.eligible, &a.facts.name).cmp(&(!b.eligible, &b.facts.name)));
    let selected = match &ctx.input.request.selections.ec2_image_id {
        Some(s) => Some(s.to_string()),
        None => ctx.previous_selection(S::ImportImage, "ec2ImageId").await?,
    };
    let offer = Offer {
        options: options
            .iter()
            .map(|o| serde_json::to_value(o).unwrap_or(Value::Null))
            .collect(),
        selected,
        truncated,
    };
    ctx.done(S::OfferImages, StepStatus::Completed, &offer)
        .await
}

/// Imports the selected AMI (idempotent by name), then (with `poll`) follows the image to
/// AVAILABLE or ERROR. An image that ends in ERROR is deleted, so nothing half-made stays,
/// and the step fails with the service's reasons. Returns an [`ImportResult`].
pub async fn import_image(event: Value, deps: &Deps) -> Result<Value, Error> {
    let ctx = Ctx::load(event, deps).await?;
    if !ctx.input.poll {
        ctx.start(S::ImportImage).await?;
    }
    ctx.run(S::ImportImage, import_or_follow(&ctx)).await
}

async fn import_or_follow(ctx: &Ctx<'_>) -> Result<Value, Error> {
    let ami = selected_ami(ctx)?;
    if !ctx.input.poll {
        ctx.settle_offer(S::OfferImages, ami.as_str()).await?;
    }
    let name = domain::image_name(&ctx.tenant.tenant_id, ami.as_str());
    let found = match (&ctx.input.results.import_image, ctx.input.poll) {
        (Some(r), true) => ctx.ws().image(&r.image_id).await?,
        _ => ctx.ws().image_named(&name).await?,
    };
    match found {
        Some(image) => follow_image(ctx, ami, image).await,
        None if ctx.input.poll => Err(Error::refused(
            names::OPERATION_FAILED,
            format!("the imported image {name} disappeared"),
        )),
        None => start_import(ctx, ami, &name).await,
    }
}

/// Imports `ami` as the image called `name`, once the customer's choice is found eligible.
async fn start_import(ctx: &Ctx<'_>, ami: Ec2ImageId, name: &str) -> Result<Value, Error> {
    check_eligible(ctx, &ami)?;
    let description = format!(
        "Imported by Steward from {ami} for tenant {}",
        ctx.tenant.tenant_id
    );
    let image_id = ctx
        .ws()
        .import_image(ImportSpec {
            ec2_image_id: ami.as_str(),
            ingestion_process: &ctx.input.request.ingestion_process,
            name,
            description: &description,
            tag: &ctx.tenant.partner_tag,
        })
        .await?;
    ctx.audit(
        ActionName::ImportWorkspaceImage,
        format!(
            "import {ami} as {image_id} ({})",
            ctx.input.request.ingestion_process
        ),
    )
    .await?;
    let out = ImportResult {
        image_id,
        ec2_image_id: ami,
        status: ImageState::Pending,
    };
    ctx.pending(S::ImportImage, &out).await
}

/// An image under import: completed once AVAILABLE, deleted and failed in ERROR, followed
/// otherwise.
async fn follow_image(ctx: &Ctx<'_>, ami: Ec2ImageId, image: Image) -> Result<Value, Error> {
    let out = ImportResult {
        image_id: image.image_id.clone(),
        ec2_image_id: ami,
        // A state the service left out is followed like PENDING, as an unknown one is.
        status: image
            .state
            .clone()
            .unwrap_or(ImageState::Other(String::new())),
    };
    match out.status {
        ImageState::Available => ctx.done(S::ImportImage, StepStatus::Completed, &out).await,
        ImageState::Error => {
            ctx.ws().delete_image(&image.image_id).await?;
            ctx.audit(
                ActionName::DeleteWorkspaceImage,
                format!("remove {} after its import failed", image.image_id),
            )
            .await?;
            Err(Error::refused(
                names::OPERATION_FAILED,
                format!(
                    "importing {} failed: {}",
                    out.ec2_image_id,
                    if image.errors.is_empty() {
                        "no reason given".to_owned()
                    } else {
                        image.errors.join("; ")
                    }
                ),
            ))
        }
        ImageState::Pending | ImageState::Other(_) => ctx.pending(S::ImportImage, &out).await,
    }
}

/// The AMI to import: chosen up front, answered by the customer, being imported already, or
/// selected by an earlier execution (in that order).
fn selected_ami(ctx: &Ctx<'_>) -> Result<Ec2ImageId, Error> {
    if let Some(a) = &ctx.input.request.selections.ec2_image_id {
        return Ok(a.clone());
    }
    if let Some(a) = ctx.input.answers.ec2_image_id()? {
        return Ok(a);
    }
    if let Some(r) = &ctx.input.results.import_image {
        return Ok(r.ec2_image_id.clone());
    }
    let previous = ctx
        .input
        .results
        .offer_images
        .as_ref()
        .and_then(|o| o.selected.clone());
    match previous {
        Some(p) => Ec2ImageId::parse(p).map_err(Error::from),
        None => Err(Error::refused(
            names::INVALID_SELECTION,
            "no AMI was selected",
        )),
    }
}

/// The selection must be one of the offered AMIs, and an eligible one.
fn check_eligible(ctx: &Ctx<'_>, ami: &Ec2ImageId) -> Result<(), Error> {
    let options = ctx
        .input
        .results
        .offer_images
        .as_ref()
        .map(|o| o.options.as_slice())
        .unwrap_or_default();
    let option = options
        .iter()
        .find(|o| o.get("imageId").and_then(Value::as_str) == Some(ami.as_str()))
        .ok_or_else(|| {
            Error::refused(
                names::INVALID_SELECTION,
                format!("{ami} is not among the AMIs offered to the customer"),
            )
        })?;
    if option.get("eligible").and_then(Value::as_bool) != Some(true) {
        let reasons: Vec<&str> = option
            .get("reasons")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        return Err(Error::refused(
            names::INELIGIBLE_IMAGE,
            format!("{ami} cannot be imported: {}", reasons.join("; ")),
        ));
    }
    Ok(())
}
