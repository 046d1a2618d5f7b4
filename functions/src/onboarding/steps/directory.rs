//! Steps 7–9, directory: offer the customer's directories, register the customer's choice
//! with WorkSpaces, and set its creation properties.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use steward_shared::Error;
use steward_shared::directory_offer::{self, DirectoryOption, OfferContext};
use steward_shared::error::names;
use steward_shared::gateway::workspaces::{Directory, DirectoryState, RegisterSpec, Tenancy};
use steward_shared::ids::DirectoryId;
use steward_shared::model::{OnboardingStep as S, StepStatus};
use steward_shared::onboarding::CreationProperties;

use super::{Ctx, MAX_OPTIONS};
use crate::deps::Deps;
use crate::onboarding::request::{DirectoryResult, DirectoryStatus, Offer};
use crate::record::ActionName;

/// Offers the customer's Directory Service directories with their WorkSpaces registration
/// (and any registered directory Directory Service did not list), each judged usable or not
/// ([`steward_shared::directory_offer`]).
pub async fn offer_directories(event: Value, deps: &Deps) -> Result<Value, Error> {
    let ctx = Ctx::load(event, deps).await?;
    ctx.start(S::OfferDirectories).await?;
    ctx.run(S::OfferDirectories, offer(&ctx)).await
}

async fn offer(ctx: &Ctx<'_>) -> Result<Value, Error> {
    let ds = ctx.clients.directory_service().directories().await?;
    let registered = ctx.ws().directories().await?;
    let subnets: BTreeSet<String> = ds
        .iter()
        .flat_map(|d| d.subnet_ids.iter().cloned())
        .chain(registered.iter().flat_map(|d| d.subnet_ids.iter().cloned()))
        .collect();
    let subnet_zones = super::preflight::zones_of(ctx, subnets).await?;
    let supported = ctx
        .deps
        .config
        .preflight
        .supported_az_ids
        .region(ctx.input.request.region.as_str());
    let options = directory_offer::offer(
        &ds,
        &registered,
        &OfferContext {
            tenancy: &tenancy(ctx),
            subnet_zones: &subnet_zones,
            supported_zone_ids: supported,
        },
    );
    let truncated = options.len() > MAX_OPTIONS;
    let selected = match &ctx.input.request.selections.directory_id {
        Some(d) => Some(d.to_string()),
        None => {
            ctx.previous_selection(S::RegisterDirectory, "directoryId")
                .await?
        }
    };
    let offer = Offer {
        options: options
            .iter()
            .take(MAX_OPTIONS)
            .map(|o| serde_json::to_value(o).unwrap_or(Value::Null))
            .collect(),
        selected,
        truncated,
    };
    ctx.done(S::OfferDirectories, StepStatus::Completed, &offer)
        .await
}

/// DEDICATED for BYOL desktops, SHARED otherwise.
fn tenancy(ctx: &Ctx<'_>) -> Tenancy {
    if ctx.input.request.byol {
        Tenancy::Dedicated
    } else {
        Tenancy::Shared
    }
}

/// A selection the offer marked unusable is refused with the offer's reasons; one the
/// (complete) offer does not list does not exist in the account and Region.
fn check_offered(ctx: &Ctx<'_>, dir: &DirectoryId) -> Result<(), Error> {
    let Some(offer) = &ctx.input.results.offer_directories else {
        return Ok(());
    };
    let option = offer
        .options
        .iter()
        .filter_map(|o| serde_json::from_value::<DirectoryOption>(o.clone()).ok())
        .find(|o| o.directory_id == dir.as_str());
    match option {
        Some(o) if o.usable => Ok(()),
        Some(o) => Err(Error::refused(
            names::INVALID_SELECTION,
            format!("directory {dir} cannot be used: {}", o.reasons.join("; ")),
        )),
        None if offer.truncated => Ok(()),
        None => Err(Error::refused(
            names::INVALID_SELECTION,
            format!("directory {dir} is not among the directories of the account and Region"),
        )),
    }
}

/// The directory of this execution: chosen up front, answered by the customer, registered
/// already, or selected by an earlier execution (in that order). The desktops step uses it
/// too.
pub(super) fn selected_directory(ctx: &Ctx<'_>) -> Result<DirectoryId, Error> {
    if let Some(d) = &ctx.input.request.selections.directory_id {
        return Ok(d.clone());
    }
    if let Some(d) = ctx.input.answers.directory_id()? {
        return Ok(d);
    }
    if let Some(r) = &ctx.input.results.register_directory {
        return Ok(r.directory_id.clone());
    }
    match ctx
        .input
        .results
        .offer_directories
        .as_ref()
        .and_then(|o| o.selected.clone())
    {
        Some(p) => DirectoryId::parse(p).map_err(Error::from),
        None => Err(Error::refused(
            names::INVALID_SELECTION,
            "no directory was selected",
        )),
    }
}

/// Registers the selected Directory Service directory with WorkSpaces (DEDICATED tenancy
/// for BYOL, SHARED otherwise), then (with `poll`) follows it to REGISTERED. A directory that
/// is already registered is used if its tenancy fits and it carries the partner tag.
pub async fn register_directory(event: Value, deps: &Deps) -> Result<Value, Error> {
    let ctx = Ctx::load(event, deps).await?;
    if !ctx.input.poll {
        ctx.start(S::RegisterDirectory).await?;
    }
    ctx.run(S::RegisterDirectory, register_or_follow(&ctx))
        .await
}

async fn register_or_follow(ctx: &Ctx<'_>) -> Result<Value, Error> {
    let dir = selected_directory(ctx)?;
    if !ctx.input.poll {
        check_offered(ctx, &dir)?;
        ctx.settle_offer(S::OfferDirectories, dir.as_str()).await?;
    }
    let tenancy = tenancy(ctx);
    match ctx.ws().directory(&dir).await? {
        None if ctx.input.poll => Err(Error::refused(
            names::OPERATION_FAILED,
            format!("directory {dir} is no longer registered"),
        )),
        None => start_registration(ctx, dir, tenancy).await,
        Some(found) => {
            if !ctx.input.poll {
                check_adoptable(ctx, &dir, &tenancy, &found).await?;
            }
            follow_registration(ctx, dir, tenancy, &found).await
        }
    }
}

async fn start_registration(
    ctx: &Ctx<'_>,
    dir: DirectoryId,
    tenancy: Tenancy,
) -> Result<Value, Error> {
    ctx.ws()
        .register_directory(RegisterSpec {
            directory_id: &dir,
            subnet_ids: &ctx.input.request.directory.subnet_ids,
            tenancy: tenancy.clone(),
            enable_self_service: ctx.input.request.directory.enable_self_service,
            tag: &ctx.tenant.partner_tag,
        })
        .await?;
    ctx.audit(
        ActionName::RegisterWorkspaceDirectory,
        format!("register {dir} with {tenancy} tenancy"),
    )
    .await?;
    let out = DirectoryResult {
        directory_id: dir,
        tenancy,
        status: DirectoryStatus::Registering,
    };
    ctx.pending(S::RegisterDirectory, &out).await
}

/// A directory registered before this execution is used only with the tenancy it needs and
/// the partner tag (Steward never takes over what it did not set up).
async fn check_adoptable(
    ctx: &Ctx<'_>,
    dir: &DirectoryId,
    tenancy: &Tenancy,
    found: &Directory,
) -> Result<(), Error> {
    if found.tenancy.as_ref() != Some(tenancy) {
        return Err(Error::refused(
            names::INVALID_SELECTION,
            format!(
                "directory {dir} is registered with {} tenancy; this deployment needs {tenancy}",
                found.tenancy.as_ref().map_or("", |t| t.as_str())
            ),
        ));
    }
    if !ctx
        .ws()
        .carries_partner_tag(dir.as_str(), &ctx.tenant.partner_tag)
        .await?
    {
        return Err(Error::refused(
            names::NOT_OWNED,
            format!(
                "directory {dir} is registered without the partner tag {}: Steward will not manage it",
                ctx.tenant.partner_tag.key
            ),
        ));
    }
    Ok(())
}

/// Completed once REGISTERED, followed while REGISTERING, failed in any other state.
async fn follow_registration(
    ctx: &Ctx<'_>,
    dir: DirectoryId,
    tenancy: Tenancy,
    found: &Directory,
) -> Result<Value, Error> {
    let result = |status| DirectoryResult {
        directory_id: dir.clone(),
        tenancy: tenancy.clone(),
        status,
    };
    match &found.state {
        Some(DirectoryState::Registered) => {
            ctx.done(
                S::RegisterDirectory,
                StepStatus::Completed,
                &result(DirectoryStatus::Registered),
            )
            .await
        }
        Some(DirectoryState::Registering) => {
            ctx.pending(S::RegisterDirectory, &result(DirectoryStatus::Registering))
                .await
        }
        _ => Err(Error::refused(
            names::OPERATION_FAILED,
            format!(
                "directory {dir} is {}",
                found.state.as_ref().map_or("", |s| s.as_str())
            ),
        )),
    }
}

/// Sets the directory's creation properties (the partner's security group, maintenance
/// mode off when the tenant opted out), modifying only what differs.
pub async fn configure_creation_properties(event: Value, deps: &Deps) -> Result<Value, Error> {
    let ctx = Ctx::load(event, deps).await?;
    ctx.start(S::ConfigureCreationProperties).await?;
    ctx.run(S::ConfigureCreationProperties, configure(&ctx))
        .await
}

async fn configure(ctx: &Ctx<'_>) -> Result<Value, Error> {
    let dir = selected_directory(ctx)?;
    let spec = &ctx.input.request.creation_properties;
    let want = CreationProperties {
        custom_security_group_id: spec.custom_security_group_id.clone(),
        enable_maintenance_mode: Some(!ctx.tenant.policy.maintenance_opt_out),
        enable_internet_access: spec.enable_internet_access,
        default_ou: spec.default_ou.clone(),
        user_enabled_as_local_administrator: spec.user_enabled_as_local_administrator,
    };
    let current = ctx.ws().directory(&dir).await?.ok_or_else(|| {
        Error::refused(
            names::INVALID_STATE,
            format!("directory {dir} is not registered"),
        )
    })?;
    let change = want.missing_from(&current.creation);
    if change.is_empty() {
        return ctx
            .done(
                S::ConfigureCreationProperties,
                StepStatus::Completed,
                &json!({"directoryId": dir, "modified": false, "properties": want}),
            )
            .await;
    }
    ctx.ws().modify_creation_properties(&dir, &change).await?;
    ctx.audit(
        ActionName::ModifyWorkspaceCreationProperties,
        format!(
            "set {} on {dir}",
            serde_json::to_string(&change).unwrap_or_default()
        ),
    )
    .await?;
    ctx.done(
        S::ConfigureCreationProperties,
        StepStatus::Completed,
        &json!({"directoryId": dir, "modified": true, "properties": want}),
    )
    .await
}
