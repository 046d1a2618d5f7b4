//! Step 10, bundle: use the bundle the request names, or create the tenant's bundle on the
//! imported image.

use serde_json::Value;
use steward_shared::Error;
use steward_shared::error::names;
use steward_shared::gateway::workspaces::BundleSpec;
use steward_shared::ids::BundleId;
use steward_shared::model::{OnboardingStep as S, StepStatus};
use steward_shared::onboarding as domain;

use super::Ctx;
use crate::deps::Deps;
use crate::onboarding::request::BundleResult;
use crate::record::ActionName;

/// Uses the named bundle (recorded as skipped), the tenant's bundle of an earlier execution,
/// or creates it (idempotent by name). Returns a [`BundleResult`].
pub async fn create_bundle(event: Value, deps: &Deps) -> Result<Value, Error> {
    let ctx = Ctx::load(event, deps).await?;
    ctx.start(S::CreateBundle).await?;
    ctx.run(S::CreateBundle, name_or_create(&ctx)).await
}

async fn name_or_create(ctx: &Ctx<'_>) -> Result<Value, Error> {
    if let Some(id) = &ctx.input.request.bundle.bundle_id {
        return use_named(ctx, id).await;
    }
    let image = ctx.input.results.import_image.as_ref().ok_or_else(|| {
        Error::refused(
            names::INVALID_STATE,
            "no imported image to build the bundle on",
        )
    })?;
    let name = domain::bundle_name(&ctx.tenant.tenant_id);
    if let Some(existing) = ctx.ws().bundle_named(&name).await? {
        if existing.image_id.as_ref() != Some(&image.image_id) {
            tracing::warn!(bundle = %existing.bundle_id, "the tenant's bundle uses another image; kept as is");
        }
        return ctx
            .done(
                S::CreateBundle,
                StepStatus::Completed,
                &BundleResult {
                    bundle_id: existing.bundle_id,
                    created: false,
                },
            )
            .await;
    }
    let spec = &ctx.input.request.bundle;
    let description = format!("Steward bundle for tenant {}", ctx.tenant.tenant_id);
    let bundle_id = ctx
        .ws()
        .create_bundle(BundleSpec {
            name: &name,
            description: &description,
            image_id: &image.image_id,
            compute_type: &spec.compute_type,
            root_gib: spec.root_volume_gib,
            user_gib: spec.user_volume_gib,
            tag: &ctx.tenant.partner_tag,
        })
        .await?;
    ctx.audit(
        ActionName::CreateWorkspaceBundle,
        format!("create {bundle_id} ({name}) on {}", image.image_id),
    )
    .await?;
    ctx.done(
        S::CreateBundle,
        StepStatus::Completed,
        &BundleResult {
            bundle_id,
            created: true,
        },
    )
    .await
}

/// The bundle the request names (the non-BYOL path): it must exist.
async fn use_named(ctx: &Ctx<'_>, id: &BundleId) -> Result<Value, Error> {
    let bundle = ctx.ws().bundle(id).await?.ok_or_else(|| {
        Error::refused(
            names::INVALID_SELECTION,
            format!("bundle {id} does not exist"),
        )
    })?;
    ctx.done(
        S::CreateBundle,
        StepStatus::Skipped,
        &BundleResult {
            bundle_id: bundle.bundle_id,
            created: false,
        },
    )
    .await
}
