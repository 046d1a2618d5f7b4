//! The step handlers. Each reads a [`StepInput`], acts as the tenant's role, records its
//! outcome and returns what the state machine keeps at `$.results.<step>`.

use serde_json::{Value, json};
use steward_shared::Error;
use steward_shared::aws::{TenantAccess, TenantClients};
use steward_shared::error::names;
use steward_shared::gateway::workspaces::{
    BundleSpec, CreateWorkspacesSpec, Created, DirectoryState, ImageState, ImportSpec,
    ListedDesktop, ModificationState, NewWorkspace, RegisterSpec, Tenancy, WorkspacesGateway,
};
use steward_shared::ids::{DirectoryId, Ec2ImageId, WorkspaceId};
use steward_shared::model::{
    ErrorRecord, NewTenant, OnboardingStep, RunningMode, StepStatus, Tenant, TenantStatus,
    WorkspaceRecord, WorkspaceState,
};
use steward_shared::onboarding::{self as domain, CreationProperties};
use steward_shared::reconcile::{Observation, reconcile};
use steward_shared::store::{StepStore, StoreError, TenantStore, WorkspaceStore};

use super::request::{
    BundleResult, Desired, DirectoryResult, FailureInput, ImportResult, Offer, PauseInput,
    PauseKind, StepInput, UNDEFINED_USER, WorkspacesResult,
};
use super::{audit, detail_types, finish_step, publish, put_step, step_name};
use crate::{Deps, parse_input};

use OnboardingStep as S;

/// Options kept per offer (on the step record; DynamoDB items stay far below 400 KB).
const MAX_OPTIONS: usize = 200;
/// Management ranges offered at once (a selection outside them is checked with the service).
const MAX_CIDR_OPTIONS: usize = 20;
/// Events carry the options only while they stay this small; else they point to the record.
const MAX_EVENT_OPTIONS_BYTES: usize = 200 * 1024;

/// What a step needs: the tenant, its clients, the execution's input.
struct Ctx<'a> {
    deps: &'a Deps,
    tenant: Tenant,
    clients: TenantClients,
    input: StepInput,
}

impl<'a> Ctx<'a> {
    async fn load(event: Value, deps: &'a Deps) -> Result<Ctx<'a>, Error> {
        let input: StepInput = parse_input(event)?;
        let tenant = deps
            .store
            .get_tenant(&input.request.tenant_id)
            .await?
            .ok_or_else(|| {
                Error::refused(
                    names::TENANT_STATE,
                    format!(
                        "tenant {} is not registered: the execution must start with ValidateAccess",
                        input.request.tenant_id
                    ),
                )
            })?;
        let clients = deps
            .clients
            .for_tenant(TenantAccess::new(&tenant, &input.request.region))
            .await;
        Ok(Ctx {
            deps,
            tenant,
            clients,
            input,
        })
    }

    /// The WorkSpaces calls, as the tenant's role.
    fn ws(&self) -> WorkspacesGateway<'_> {
        WorkspacesGateway::new(self.clients.workspaces())
    }

    async fn start(&self, step: OnboardingStep) -> Result<(), Error> {
        put_step(
            self.deps,
            &self.tenant.tenant_id,
            step,
            StepStatus::InProgress,
            None,
            None,
            None,
        )
        .await?;
        Ok(())
    }

    async fn done(
        &self,
        step: OnboardingStep,
        status: StepStatus,
        output: &impl serde::Serialize,
    ) -> Result<Value, Error> {
        finish_step(
            self.deps,
            &self.tenant.tenant_id,
            &self.input.execution,
            step,
            status,
            output,
        )
        .await
    }

    /// A step that is still waiting on the service: recorded as in progress, no event.
    async fn pending(
        &self,
        step: OnboardingStep,
        output: &impl serde::Serialize,
    ) -> Result<Value, Error> {
        let output = serde_json::to_value(output).unwrap_or(Value::Null);
        put_step(
            self.deps,
            &self.tenant.tenant_id,
            step,
            StepStatus::InProgress,
            Some(output.clone()),
            None,
            None,
        )
        .await?;
        Ok(output)
    }

    async fn audit(&self, action: &str, reason: String) -> Result<(), Error> {
        audit(
            self.deps,
            &self.tenant.tenant_id,
            &self.input.execution,
            action,
            reason,
            self.deps.now(),
        )
        .await
    }

    /// A failed step: the error is kept on its record before it goes back to the state
    /// machine (which retries the retryable ones and records the others on the tenant).
    async fn failed<T>(&self, step: OnboardingStep, err: Error) -> Result<T, Error> {
        let status = if err.is_retryable() {
            StepStatus::InProgress
        } else {
            StepStatus::Failed
        };
        let record = ErrorRecord {
            name: err.name().to_owned(),
            message: err.to_string(),
        };
        // The original error matters more than a failure to record it.
        if let Err(e) = put_step(
            self.deps,
            &self.tenant.tenant_id,
            step,
            status,
            None,
            Some(record),
            None,
        )
        .await
        {
            tracing::error!(error = %e, step = %step_name(step), "could not record a step failure");
        }
        Err(err)
    }

    /// An offer step the customer answered: completed, with the selection on its record.
    async fn settle_offer(&self, step: OnboardingStep, selected: &str) -> Result<(), Error> {
        let Some(record) = self
            .deps
            .store
            .get_step(&self.tenant.tenant_id, step)
            .await?
        else {
            return Ok(());
        };
        if record.status == StepStatus::Completed
            && record.output.as_ref().and_then(|o| o.get("selected")) == Some(&json!(selected))
        {
            return Ok(());
        }
        let mut output = record.output.unwrap_or_else(|| json!({}));
        output["selected"] = json!(selected);
        put_step(
            self.deps,
            &self.tenant.tenant_id,
            step,
            StepStatus::Completed,
            Some(output),
            None,
            None,
        )
        .await?;
        Ok(())
    }

    /// The previous selection recorded by a completed consumer step of an earlier execution.
    async fn previous_selection(
        &self,
        step: OnboardingStep,
        field: &str,
    ) -> Result<Option<String>, Error> {
        Ok(self
            .deps
            .store
            .get_step(&self.tenant.tenant_id, step)
            .await?
            .filter(|r| r.status == StepStatus::Completed)
            .and_then(|r| r.output)
            .and_then(|o| o.get(field).and_then(Value::as_str).map(str::to_owned)))
    }
}

/// Runs `body` as `step` of the execution: its failure is recorded on the step.
macro_rules! step {
    ($ctx:ident, $step:expr, $body:expr) => {{
        let result: Result<Value, Error> = async { $body }.await;
        match result {
            Ok(v) => Ok(v),
            Err(e) => $ctx.failed($step, e).await,
        }
    }};
}

// ---------------------------------------------------------------------------------------
// 1. Validate access

/// Registers (or re-reads) the tenant, assumes its role with the ExternalId and checks with
/// GetCallerIdentity that the role answers for the tenant's account. Returns the request in
/// its normalised form, which the state machine keeps as `$.request`.
pub async fn validate_access(event: Value, deps: &Deps) -> Result<Value, Error> {
    let input: StepInput = parse_input(event)?;
    let req = input.request;
    req.validate()?;
    let now = deps.now();
    let tenant = match deps.store.get_tenant(&req.tenant_id).await? {
        Some(t) => adopt_tenant(deps, t, &req).await?,
        None => {
            let (Some(role_arn), Some(external_id)) =
                (req.role_arn.clone(), req.external_id.clone())
            else {
                return Err(steward_shared::validate::ValidationError::new(
                    "roleArn",
                    steward_shared::validate::Problem::Inconsistent(
                        "a new tenant needs roleArn and externalId".into(),
                    ),
                )
                .into());
            };
            let new = NewTenant {
                tenant_id: req.tenant_id.clone(),
                account_id: req.account_id.clone(),
                regions: vec![req.region.clone()],
                role_arn,
                external_id,
                partner_tag: req.partner_tag.clone().unwrap_or_default(),
                policy: req.policy.clone().unwrap_or_default(),
            };
            let tenant = Tenant::register(new, now)?;
            match deps.store.create_tenant(&tenant).await {
                Ok(t) => t,
                // Two executions raced to register it: use the stored one.
                Err(StoreError::AlreadyExists { .. }) => {
                    let t = deps
                        .store
                        .get_tenant(&req.tenant_id)
                        .await?
                        .ok_or_else(|| {
                            Error::refused(names::CONFLICT, "the tenant vanished while registering")
                        })?;
                    adopt_tenant(deps, t, &req).await?
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    let ctx = Ctx {
        deps,
        clients: deps
            .clients
            .for_tenant(TenantAccess::new(&tenant, &req.region))
            .await,
        tenant,
        input: StepInput {
            execution: input.execution,
            request: req,
            results: Default::default(),
            answers: Default::default(),
            poll: false,
        },
    };
    ctx.start(S::ValidateAccess).await?;
    step!(ctx, S::ValidateAccess, {
        let identity = ctx
            .clients
            .sts()
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| steward_shared::aws::AwsError::from_sdk("STS", "GetCallerIdentity", e))?;
        let account = identity.account().unwrap_or_default();
        if account != ctx.tenant.account_id.as_str() {
            return Err(Error::refused(
                names::ACCOUNT_MISMATCH,
                format!(
                    "the role answered for account {account}, not the tenant's account {}",
                    ctx.tenant.account_id
                ),
            ));
        }
        ctx.done(
            S::ValidateAccess,
            StepStatus::Completed,
            &json!({"accountId": account, "arn": identity.arn()}),
        )
        .await?;
        Ok(serde_json::to_value(&ctx.input.request).unwrap_or(Value::Null))
    })
}

/// An existing tenant, checked against the request and brought back to ONBOARDING unless
/// it is already ACTIVE (a re-run converges on what exists).
async fn adopt_tenant(
    deps: &Deps,
    mut tenant: Tenant,
    req: &super::request::OnboardingRequest,
) -> Result<Tenant, Error> {
    if tenant.account_id != req.account_id {
        return Err(Error::refused(
            names::CONFLICT,
            format!(
                "tenant {} is registered for account {}, not {}",
                tenant.tenant_id, tenant.account_id, req.account_id
            ),
        ));
    }
    if matches!(
        tenant.status,
        TenantStatus::Offboarding | TenantStatus::Offboarded
    ) {
        return Err(Error::refused(
            names::TENANT_STATE,
            format!("tenant {} is being or was offboarded", tenant.tenant_id),
        ));
    }
    let mut changed = false;
    if let Some(role) = &req.role_arn
        && *role != tenant.role_arn
    {
        tenant.role_arn = role.clone();
        changed = true;
    }
    if let Some(ext) = &req.external_id
        && *ext != tenant.external_id
    {
        tenant.external_id = ext.clone();
        deps.clients.forget(&tenant.tenant_id);
        changed = true;
    }
    if !tenant.regions.contains(&req.region) {
        tenant.regions.push(req.region.clone());
        changed = true;
    }
    if tenant.status == TenantStatus::Failed {
        tenant.status = TenantStatus::Onboarding;
        changed = true;
    }
    if changed {
        tenant.updated_at = deps.now();
        tenant = deps.store.update_tenant(&tenant).await?;
    }
    Ok(tenant)
}

// ---------------------------------------------------------------------------------------
// 2–4. BYOL

/// Where the state machine goes after the BYOL check: `SKIP` (no BYOL), `CONFIGURED`,
/// `PENDING` (a modification is under way) or `OFFER` (offer the CIDR ranges).
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
        return Ok(json!({"route": "SKIP"}));
    }
    ctx.start(S::CheckByol).await?;
    step!(ctx, S::CheckByol, {
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
            "CONFIGURED"
        } else if pending {
            "PENDING"
        } else {
            "OFFER"
        };
        let out = json!({
            "route": route,
            "enabled": account.byol_enabled(),
            "managementCidr": account.management_cidr,
        });
        ctx.done(S::CheckByol, StepStatus::Completed, &out).await
    })
}

pub async fn offer_cidr_ranges(event: Value, deps: &Deps) -> Result<Value, Error> {
    let ctx = Ctx::load(event, deps).await?;
    ctx.start(S::OfferCidrRanges).await?;
    step!(ctx, S::OfferCidrRanges, {
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
    })
}

/// Enables BYOL with the selected management range once the customer confirmed it (the
/// change cannot be undone), then (with `poll`) follows the modification to its end.
/// Returns `{"status": "DONE" | "PENDING"}`.
pub async fn configure_byol(event: Value, deps: &Deps) -> Result<Value, Error> {
    let ctx = Ctx::load(event, deps).await?;
    if !ctx.input.poll {
        ctx.start(S::ConfigureByol).await?;
    }
    step!(ctx, S::ConfigureByol, {
        let account = ctx.ws().account().await?;
        if account.byol_enabled() {
            return ctx
                .done(
                    S::ConfigureByol,
                    StepStatus::Completed,
                    &json!({"status": "DONE", "managementCidr": account.management_cidr}),
                )
                .await;
        }
        match account.latest_modification() {
            Some(m) if m.state == Some(ModificationState::Pending) => {
                return ctx
                    .pending(S::ConfigureByol, &json!({"status": "PENDING"}))
                    .await;
            }
            Some(m) if m.state == Some(ModificationState::Failed) && ctx.input.poll => {
                return Err(Error::refused(
                    names::OPERATION_FAILED,
                    format!(
                        "enabling BYOL failed: {}: {}",
                        m.error_code.as_deref().unwrap_or("no code"),
                        m.error_message.as_deref().unwrap_or("no message")
                    ),
                ));
            }
            _ if ctx.input.poll => {
                return Err(Error::refused(
                    names::OPERATION_FAILED,
                    "the BYOL modification is neither pending nor completed",
                ));
            }
            _ => {}
        }
        let req = &ctx.input.request;
        let cidr = match (
            &req.selections.management_cidr,
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
        let offered = ctx
            .input
            .results
            .offer_cidr_ranges
            .as_ref()
            .map(|o| o.options.clone())
            .unwrap_or_default();
        // The offer shows the first free ranges; any other free one is as good.
        if !offered.iter().any(|o| o.as_str() == Some(cidr.as_str())) {
            let (free, _) = ctx.ws().management_cidr_ranges(&cidr, 1).await?;
            if free.first() != Some(&cidr) {
                return Err(Error::refused(
                    names::INVALID_SELECTION,
                    format!("{cidr} is not a free management range of this account"),
                ));
            }
        }
        match (req.confirm_byol, ctx.input.answers.byol_confirmed()?) {
            (true, _) | (false, Some(true)) => {}
            (false, Some(false)) => {
                return Err(Error::refused(
                    names::CONFIRMATION_REQUIRED,
                    "the customer declined to enable BYOL",
                ));
            }
            (false, None) => {
                return Err(Error::refused(
                    names::CONFIRMATION_REQUIRED,
                    "enabling BYOL cannot be undone: it needs `confirmByol` or the customer's confirmation",
                ));
            }
        }
        put_step(
            ctx.deps,
            &ctx.tenant.tenant_id,
            S::OfferCidrRanges,
            StepStatus::Completed,
            Some(json!({"options": offered, "selected": cidr})),
            None,
            None,
        )
        .await?;
        ctx.ws().enable_byol(&cidr).await?;
        ctx.audit(
            "ModifyAccount",
            format!("enable BYOL with management range {cidr}"),
        )
        .await?;
        ctx.pending(
            S::ConfigureByol,
            &json!({"status": "PENDING", "managementCidr": cidr}),
        )
        .await
    })
}

// ---------------------------------------------------------------------------------------
// 5–6. Image

pub async fn offer_images(event: Value, deps: &Deps) -> Result<Value, Error> {
    let ctx = Ctx::load(event, deps).await?;
    ctx.start(S::OfferImages).await?;
    step!(ctx, S::OfferImages, {
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
    })
}

/// Imports the selected AMI (idempotent by name), then (with `poll`) follows the image to
/// AVAILABLE or ERROR. An image that ends in ERROR is deleted, so nothing half-made stays,
/// and the step fails with the service's reasons. Returns an [`ImportResult`].
pub async fn import_image(event: Value, deps: &Deps) -> Result<Value, Error> {
    let ctx = Ctx::load(event, deps).await?;
    if !ctx.input.poll {
        ctx.start(S::ImportImage).await?;
    }
    step!(ctx, S::ImportImage, {
        let ami = selected_ami(&ctx)?;
        if !ctx.input.poll {
            ctx.settle_offer(S::OfferImages, ami.as_str()).await?;
        }
        let name = domain::image_name(&ctx.tenant.tenant_id, ami.as_str());
        let found = match (&ctx.input.results.import_image, ctx.input.poll) {
            (Some(r), true) => ctx.ws().image(&r.image_id).await?,
            _ => ctx.ws().image_named(&name).await?,
        };
        let image = match found {
            Some(image) => image,
            None if ctx.input.poll => {
                return Err(Error::refused(
                    names::OPERATION_FAILED,
                    format!("the imported image {name} disappeared"),
                ));
            }
            None => {
                check_eligible(&ctx, &ami)?;
                let description = format!(
                    "Imported by Steward from {ami} for tenant {}",
                    ctx.tenant.tenant_id
                );
                let image_id = ctx
                    .ws()
                    .import_image(ImportSpec {
                        ec2_image_id: ami.as_str(),
                        ingestion_process: &ctx.input.request.ingestion_process,
                        name: &name,
                        description: &description,
                        tag: &ctx.tenant.partner_tag,
                    })
                    .await?;
                ctx.audit(
                    "ImportWorkspaceImage",
                    format!(
                        "import {ami} as {image_id} ({})",
                        ctx.input.request.ingestion_process
                    ),
                )
                .await?;
                let out = ImportResult {
                    image_id,
                    ec2_image_id: ami,
                    status: "PENDING".into(),
                };
                return ctx.pending(S::ImportImage, &out).await;
            }
        };
        let out = ImportResult {
            image_id: image.image_id.clone(),
            ec2_image_id: ami,
            status: image
                .state
                .as_ref()
                .map_or_else(String::new, ToString::to_string),
        };
        match image.state {
            Some(ImageState::Available) => {
                ctx.done(S::ImportImage, StepStatus::Completed, &out).await
            }
            Some(ImageState::Error) => {
                ctx.ws().delete_image(&image.image_id).await?;
                ctx.audit(
                    "DeleteWorkspaceImage",
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
            _ => ctx.pending(S::ImportImage, &out).await,
        }
    })
}

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

// ---------------------------------------------------------------------------------------
// 7–9. Directory

pub async fn offer_directories(event: Value, deps: &Deps) -> Result<Value, Error> {
    let ctx = Ctx::load(event, deps).await?;
    ctx.start(S::OfferDirectories).await?;
    step!(ctx, S::OfferDirectories, {
        let (dirs, truncated) = ctx.ws().directories_up_to(MAX_OPTIONS).await?;
        let selected = match &ctx.input.request.selections.directory_id {
            Some(d) => Some(d.to_string()),
            None => {
                ctx.previous_selection(S::RegisterDirectory, "directoryId")
                    .await?
            }
        };
        let offer = Offer {
            options: dirs
                .iter()
                .map(|d| {
                    // What the service left out is offered as "".
                    json!({
                        "directoryId": d.directory_id,
                        "name": d.name.as_deref().unwrap_or_default(),
                        "alias": d.alias.as_deref().unwrap_or_default(),
                        "directoryType": d.directory_type.as_ref().map_or("", |t| t.as_str()),
                        "state": d.state.as_ref().map_or("", |s| s.as_str()),
                        "tenancy": d.tenancy.as_ref().map_or("", |t| t.as_str()),
                    })
                })
                .collect(),
            selected,
            truncated,
        };
        ctx.done(S::OfferDirectories, StepStatus::Completed, &offer)
            .await
    })
}

fn selected_directory(ctx: &Ctx<'_>) -> Result<DirectoryId, Error> {
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
    step!(ctx, S::RegisterDirectory, {
        let dir = selected_directory(&ctx)?;
        if !ctx.input.poll {
            ctx.settle_offer(S::OfferDirectories, dir.as_str()).await?;
        }
        let tenancy = if ctx.input.request.byol {
            Tenancy::Dedicated
        } else {
            Tenancy::Shared
        };
        let result = |status: &str| DirectoryResult {
            directory_id: dir.clone(),
            tenancy: tenancy.to_string(),
            status: status.into(),
        };
        match ctx.ws().directory(&dir).await? {
            None if ctx.input.poll => Err(Error::refused(
                names::OPERATION_FAILED,
                format!("directory {dir} is no longer registered"),
            )),
            None => {
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
                    "RegisterWorkspaceDirectory",
                    format!("register {dir} with {tenancy} tenancy"),
                )
                .await?;
                ctx.pending(S::RegisterDirectory, &result("REGISTERING"))
                    .await
            }
            Some(d) => {
                if !ctx.input.poll {
                    if d.tenancy.as_ref() != Some(&tenancy) {
                        return Err(Error::refused(
                            names::INVALID_SELECTION,
                            format!(
                                "directory {dir} is registered with {} tenancy; this deployment needs {tenancy}",
                                d.tenancy.as_ref().map_or("", |t| t.as_str())
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
                }
                match d.state {
                    Some(DirectoryState::Registered) => {
                        ctx.done(
                            S::RegisterDirectory,
                            StepStatus::Completed,
                            &result("REGISTERED"),
                        )
                        .await
                    }
                    Some(DirectoryState::Registering) => {
                        ctx.pending(S::RegisterDirectory, &result("REGISTERING"))
                            .await
                    }
                    other => Err(Error::refused(
                        names::OPERATION_FAILED,
                        format!(
                            "directory {dir} is {}",
                            other.as_ref().map_or("", |s| s.as_str())
                        ),
                    )),
                }
            }
        }
    })
}

/// Sets the directory's creation properties (the partner's security group, maintenance
/// mode off when the tenant opted out), modifying only what differs.
pub async fn configure_creation_properties(event: Value, deps: &Deps) -> Result<Value, Error> {
    let ctx = Ctx::load(event, deps).await?;
    ctx.start(S::ConfigureCreationProperties).await?;
    step!(ctx, S::ConfigureCreationProperties, {
        let dir = selected_directory(&ctx)?;
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
            "ModifyWorkspaceCreationProperties",
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
    })
}

// ---------------------------------------------------------------------------------------
// 10. Bundle

pub async fn create_bundle(event: Value, deps: &Deps) -> Result<Value, Error> {
    let ctx = Ctx::load(event, deps).await?;
    ctx.start(S::CreateBundle).await?;
    step!(ctx, S::CreateBundle, {
        let spec = &ctx.input.request.bundle;
        if let Some(id) = &spec.bundle_id {
            let bundle = ctx.ws().bundle(id).await?.ok_or_else(|| {
                Error::refused(
                    names::INVALID_SELECTION,
                    format!("bundle {id} does not exist"),
                )
            })?;
            return ctx
                .done(
                    S::CreateBundle,
                    StepStatus::Skipped,
                    &BundleResult {
                        bundle_id: bundle.bundle_id,
                        created: false,
                    },
                )
                .await;
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
            "CreateWorkspaceBundle",
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
    })
}

// ---------------------------------------------------------------------------------------
// 11. Desktops

/// Creates the desktops that do not exist yet (MANUAL, tagged, 25 per call), registers every
/// one of them in the table, then (with `poll`) follows them to AVAILABLE. Returns a
/// [`WorkspacesResult`] whose `status` is `AVAILABLE` once all are.
pub async fn create_workspaces(event: Value, deps: &Deps) -> Result<Value, Error> {
    let ctx = Ctx::load(event, deps).await?;
    if !ctx.input.poll {
        ctx.start(S::CreateWorkspaces).await?;
    }
    step!(ctx, S::CreateWorkspaces, {
        let dir = selected_directory(&ctx)?;
        let bundle = ctx
            .input
            .results
            .create_bundle
            .as_ref()
            .map(|b| b.bundle_id.clone())
            .ok_or_else(|| Error::refused(names::INVALID_STATE, "no bundle to deploy"))?;
        if ctx.input.poll {
            return poll_workspaces(&ctx).await;
        }
        let desired = ctx.input.request.workspaces.desired(&ctx.tenant.tenant_id);
        let existing = ctx.ws().desktops_in_directory(&dir).await?;
        let mut ids = Vec::new();
        let mut missing = Vec::new();
        for d in &desired {
            let found = existing.iter().find(|w| match d {
                Desired::Decoupled { workspace_name } => {
                    w.workspace_name() == Some(workspace_name.as_str())
                }
                Desired::Assigned { user_name } => w.user_name() == Some(user_name.as_str()),
            });
            match found {
                Some(w) => {
                    let id = adopt_workspace(&ctx, &dir, w).await?;
                    ids.push(id);
                }
                None => missing.push(match d {
                    Desired::Decoupled { workspace_name } => NewWorkspace {
                        user_name: UNDEFINED_USER.into(),
                        workspace_name: Some(workspace_name.clone()),
                    },
                    Desired::Assigned { user_name } => NewWorkspace {
                        user_name: user_name.clone(),
                        workspace_name: None,
                    },
                }),
            }
        }
        let mut failures = Vec::new();
        let mut created = 0;
        for chunk in missing.chunks(steward_shared::gateway::workspaces::BATCH) {
            let outcomes = ctx
                .ws()
                .create_workspaces(CreateWorkspacesSpec {
                    directory: &dir,
                    bundle: &bundle,
                    tag: &ctx.tenant.partner_tag,
                    desktops: chunk,
                })
                .await?;
            for (item, outcome) in chunk.iter().zip(outcomes) {
                let label = item
                    .workspace_name
                    .clone()
                    .unwrap_or_else(|| item.user_name.clone());
                match outcome {
                    Created::Pending(w) => {
                        let id = register_workspace(&ctx, &dir, &w).await?;
                        ctx.audit(
                            "CreateWorkspaces",
                            format!("create {id} ({label}) on {bundle}"),
                        )
                        .await?;
                        ids.push(id);
                        created += 1;
                    }
                    Created::Failed { code, message } => {
                        failures.push(format!("{label}: {code}: {message}"));
                    }
                }
            }
        }
        if !failures.is_empty() {
            return Err(Error::refused(
                names::OPERATION_FAILED,
                format!(
                    "{} of {} desktops could not be created ({created} created and registered): {}",
                    failures.len(),
                    desired.len(),
                    failures.join("; ")
                ),
            ));
        }
        let out = WorkspacesResult {
            status: "PENDING".into(),
            workspace_ids: ids.iter().map(|i| i.to_string()).collect(),
            created,
            states: Default::default(),
        };
        ctx.pending(S::CreateWorkspaces, &out).await
    })
}

/// A desktop found in the directory under a name this execution wants: Steward's own if it
/// is in the registry or carries the partner tag; anything else is refused, never adopted.
async fn adopt_workspace(
    ctx: &Ctx<'_>,
    dir: &DirectoryId,
    w: &ListedDesktop,
) -> Result<WorkspaceId, Error> {
    let raw = w.workspace_id();
    let id = WorkspaceId::parse(raw)?;
    if ctx
        .deps
        .store
        .get_workspace(&ctx.tenant.tenant_id, &id)
        .await?
        .is_some()
    {
        return Ok(id);
    }
    if !ctx
        .ws()
        .carries_partner_tag(raw, &ctx.tenant.partner_tag)
        .await?
    {
        return Err(Error::refused(
            names::NOT_OWNED,
            format!(
                "{id} ({}) already exists in {dir} without the partner tag: Steward will not manage it",
                w.workspace_name().or(w.user_name()).unwrap_or_default()
            ),
        ));
    }
    register_workspace(ctx, dir, w).await
}

/// Puts a desktop Steward created into the registry (if it is not there yet).
async fn register_workspace(
    ctx: &Ctx<'_>,
    dir: &DirectoryId,
    w: &ListedDesktop,
) -> Result<WorkspaceId, Error> {
    let seen = w.reading().cloned().map_err(|u| {
        Error::refused(
            names::OPERATION_FAILED,
            format!(
                "the service described {} in a way Steward cannot read: {}",
                u.workspace_id, u.reason
            ),
        )
    })?;
    let mut record = WorkspaceRecord::new(
        ctx.tenant.tenant_id.clone(),
        seen.workspace_id.clone(),
        ctx.input.request.region.clone(),
        dir.clone(),
        seen.running_mode.unwrap_or(RunningMode::Manual),
        seen.state,
        ctx.deps.now(),
    );
    record.bundle_id = seen.bundle_id;
    record.workspace_name = seen.workspace_name;
    record.user_name = seen.user_name.filter(|u| u != UNDEFINED_USER);
    match ctx.deps.store.create_workspace(&record).await {
        Ok(_) | Err(StoreError::AlreadyExists { .. }) => Ok(seen.workspace_id),
        Err(e) => Err(e.into()),
    }
}

/// Reads the desktops' states, brings their records in line, and says whether all are up.
async fn poll_workspaces(ctx: &Ctx<'_>) -> Result<Value, Error> {
    let previous = ctx
        .input
        .results
        .create_workspaces
        .as_ref()
        .ok_or_else(|| Error::refused(names::INVALID_STATE, "nothing was created to wait for"))?;
    let ids = previous
        .workspace_ids
        .iter()
        .map(|i| WorkspaceId::parse(i.as_str()))
        .collect::<Result<Vec<_>, _>>()?;
    let described = ctx.ws().describe(&ids).await?;
    let now = ctx.deps.now();
    let mut states = std::collections::BTreeMap::<String, usize>::new();
    let mut failed = Vec::new();
    for seen in &described.found {
        *states.entry(seen.state.as_str().to_owned()).or_default() += 1;
        if matches!(
            seen.state,
            WorkspaceState::Error | WorkspaceState::Unhealthy
        ) {
            failed.push(format!("{} is {}", seen.workspace_id, seen.state.as_str()));
        }
        if let Some(record) = ctx
            .deps
            .store
            .get_workspace(&ctx.tenant.tenant_id, &seen.workspace_id)
            .await?
        {
            let r = reconcile(
                &record,
                Observation::Seen {
                    state: seen.state,
                    running_mode: seen.running_mode.unwrap_or(record.running_mode),
                },
                &ctx.tenant.policy,
                now,
                chrono::Duration::minutes(5),
            );
            if r.record != record {
                match ctx.deps.store.update_workspace(&r.record).await {
                    // Someone else (a sweep) wrote it since: their view is as fresh.
                    Ok(_) | Err(StoreError::VersionConflict { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    for id in &described.absent {
        failed.push(format!("{id} is gone"));
    }
    for u in &described.unreadable {
        failed.push(format!("{}: {}", u.workspace_id, u.reason));
    }
    if !failed.is_empty() {
        return Err(Error::refused(
            names::OPERATION_FAILED,
            format!("desktops failed to come up: {}", failed.join("; ")),
        ));
    }
    let all_up = states.len() == 1 && states.contains_key("AVAILABLE");
    let out = WorkspacesResult {
        status: if all_up { "AVAILABLE" } else { "PENDING" }.into(),
        workspace_ids: previous.workspace_ids.clone(),
        created: previous.created,
        states,
    };
    if all_up {
        ctx.done(S::CreateWorkspaces, StepStatus::Completed, &out)
            .await
    } else {
        ctx.pending(S::CreateWorkspaces, &out).await
    }
}

// ---------------------------------------------------------------------------------------
// 12. Complete, failures, pauses

pub async fn complete(event: Value, deps: &Deps) -> Result<Value, Error> {
    let ctx = Ctx::load(event, deps).await?;
    let mut tenant = ctx.tenant.clone();
    if tenant.status != TenantStatus::Active || tenant.last_error.is_some() {
        tenant.status = TenantStatus::Active;
        tenant.last_error = None;
        tenant.updated_at = deps.now();
        deps.store.update_tenant(&tenant).await?;
    }
    let desktops = ctx
        .input
        .results
        .create_workspaces
        .as_ref()
        .map_or(0, |w| w.workspace_ids.len());
    let summary = json!({
        "tenantId": tenant.tenant_id,
        "execution": ctx.input.execution,
        "status": "ACTIVE",
        "directoryId": ctx.input.results.register_directory.as_ref().map(|d| d.directory_id.clone()),
        "bundleId": ctx.input.results.create_bundle.as_ref().map(|b| b.bundle_id.clone()),
        "imageId": ctx.input.results.import_image.as_ref().map(|i| i.image_id.clone()),
        "workspaces": desktops,
        "at": deps.now(),
    });
    ctx.done(S::Complete, StepStatus::Completed, &summary)
        .await?;
    publish(deps, detail_types::SUCCEEDED, summary.clone()).await?;
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
    let open = steps
        .iter()
        .rev()
        .find(|s| {
            matches!(
                s.status,
                StepStatus::AwaitingCustomer | StepStatus::InProgress
            )
        })
        .or_else(|| steps.iter().rev().find(|s| s.status == StepStatus::Failed));
    let (name, message) = match input.error.error.as_str() {
        "States.Timeout" if open.is_some_and(|s| s.status == StepStatus::AwaitingCustomer) => (
            names::CUSTOMER_INPUT_TIMEOUT.to_owned(),
            format!(
                "the customer did not answer within {} seconds",
                input.customer_input_timeout_seconds()
            ),
        ),
        _ => (input.error.error.clone(), cause_message(&input.error.cause)),
    };
    let error = ErrorRecord {
        name: name.clone(),
        message: message.clone(),
    };
    if let Some(tenant_id) = &tenant_id {
        if let Some(step) = open
            && step.status != StepStatus::Failed
        {
            put_step(
                deps,
                tenant_id,
                step.step,
                StepStatus::Failed,
                None,
                Some(error.clone()),
                None,
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
    }
    publish(
        deps,
        detail_types::FAILED,
        json!({
            "tenantId": tenant_id,
            "execution": input.execution,
            "step": open.map(|s| step_name(s.step)),
            "error": {"name": name, "message": message},
            "at": deps.now(),
        }),
    )
    .await?;
    Ok(json!({"Error": name, "Cause": message}))
}

/// A Lambda error's Cause is a JSON document (`errorMessage`, `errorType`); keep the message.
fn cause_message(cause: &str) -> String {
    serde_json::from_str::<Value>(cause)
        .ok()
        .and_then(|v| {
            v.get("errorMessage")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| cause.to_owned())
}

/// A customer pause: keeps the task token and the options on the step record, and tells the
/// partner's backend on the bus what to ask and how to answer (SendTaskSuccess with the
/// token and the answer document named in the event).
pub async fn pause(event: Value, deps: &Deps) -> Result<Value, Error> {
    let input: PauseInput = parse_input(event)?;
    let tenant_id = &input.request.tenant_id;
    let (step, answer) = match input.input {
        PauseKind::ManagementCidr => (
            S::OfferCidrRanges,
            json!({"managementCidr": "<one of the options>"}),
        ),
        PauseKind::ByolConfirmation => (S::ConfigureByol, json!({"confirm": true})),
        PauseKind::Image => (
            S::OfferImages,
            json!({"ec2ImageId": "<an eligible option's imageId>"}),
        ),
        PauseKind::Directory => (
            S::OfferDirectories,
            json!({"directoryId": "<an option's directoryId, or a Directory Service directory id to register>"}),
        ),
    };
    let record = put_step(
        deps,
        tenant_id,
        step,
        StepStatus::AwaitingCustomer,
        None,
        None,
        Some(input.task_token.clone()),
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
    publish(deps, detail_types::AWAITING_CUSTOMER, detail).await?;
    Ok(json!({"paused": step_name(step)}))
}
