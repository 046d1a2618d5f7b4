//! Step 1, ValidateAccess: register (or re-read) the tenant, check that its role (or its
//! access key) answers for its account, and run the pre-flight checks ([`super::preflight`]).

use serde_json::{Value, json};
use steward_shared::Error;
use steward_shared::error::names;
use steward_shared::model::{
    Connection, ConnectionFields, NewTenant, OnboardingStep, StepStatus, Tenant, TenantStatus,
};
use steward_shared::store::{StoreError, TenantStore};
use steward_shared::validate::{Problem, ValidationError};

use super::Ctx;
use super::preflight::Refusal;
use crate::deps::Deps;
use crate::input::parse_input;
use crate::onboarding::request::{OnboardingRequest, StepInput};

/// Registers (or re-reads) the tenant, assumes its role with the ExternalId and checks with
/// GetCallerIdentity that the role answers for the tenant's account. Returns the request in
/// its normalised form, which the state machine keeps as `$.request`.
pub async fn validate_access(event: Value, deps: &Deps) -> Result<Value, Error> {
    let input: StepInput = parse_input(event)?;
    let request = input.request;
    request.validate()?;
    let tenant = match deps.store.get_tenant(&request.tenant_id).await? {
        Some(t) => adopt_tenant(deps, t, &request).await?,
        None => register_tenant(deps, &request).await?,
    };
    let normalised = StepInput {
        execution: input.execution,
        request,
        results: Default::default(),
        answers: Default::default(),
        poll: false,
    };
    let ctx = Ctx::for_tenant(deps, tenant, normalised).await;
    ctx.start(OnboardingStep::ValidateAccess).await?;
    ctx.run(OnboardingStep::ValidateAccess, check_role(&ctx))
        .await
}

/// Asks STS who the role is, and refuses a role of another account.
async fn check_role(ctx: &Ctx<'_>) -> Result<Value, Error> {
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
    let mut output = json!({
        "accountId": account,
        "arn": identity.arn(),
        "connection": ctx.tenant.connection.kind(),
    });
    match super::preflight::preflight(ctx).await? {
        Ok(checks) => output["preflight"] = json!(checks),
        Err(Refusal { checks, error }) => {
            // The checks stay on the step record beside the error the failure records.
            output["preflight"] = json!(checks);
            ctx.pending(OnboardingStep::ValidateAccess, &output).await?;
            return Err(error);
        }
    }
    ctx.done(
        OnboardingStep::ValidateAccess,
        StepStatus::Completed,
        &output,
    )
    .await?;
    Ok(serde_json::to_value(&ctx.input.request).unwrap_or(Value::Null))
}

/// The connection the request names, if it names one (`None`: none of its fields given).
fn requested_connection(req: &OnboardingRequest) -> Result<Option<Connection>, ValidationError> {
    let fields = ConnectionFields {
        role_arn: req.role_arn.clone(),
        external_id: req.external_id.clone(),
        credentials_secret_arn: req.credentials_secret_arn.clone(),
    };
    if fields.role_arn.is_none()
        && fields.external_id.is_none()
        && fields.credentials_secret_arn.is_none()
    {
        return Ok(None);
    }
    Connection::try_from(fields).map(Some).map_err(|e| {
        let field = match e.field.as_ref() {
            "external_id" => "externalId",
            "credentials_secret_arn" => "credentialsSecretArn",
            _ => "roleArn",
        };
        e.at(field)
    })
}

/// A tenant seen for the first time: registered from the request, which must then name how
/// to reach it (a role and ExternalId, or an access-key secret).
async fn register_tenant(deps: &Deps, req: &OnboardingRequest) -> Result<Tenant, Error> {
    let Some(connection) = requested_connection(req)? else {
        return Err(ValidationError::new(
            "roleArn",
            Problem::Inconsistent(
                "a new tenant needs roleArn and externalId, or credentialsSecretArn".into(),
            ),
        )
        .into());
    };
    let new = NewTenant {
        tenant_id: req.tenant_id.clone(),
        account_id: req.account_id.clone(),
        regions: vec![req.region.clone()],
        connection,
        partner_tag: req.partner_tag.clone().unwrap_or_default(),
        policy: req.policy.clone().unwrap_or_default(),
        encryption: req.encryption.clone().unwrap_or_default(),
        tag_management: req.allow_tag_management.unwrap_or(false),
    };
    let tenant = Tenant::register(new, deps.now())?;
    match deps.store.create_tenant(&tenant).await {
        Ok(t) => Ok(t),
        // Two executions raced to register it: use the stored one.
        Err(StoreError::AlreadyExists { .. }) => {
            let t = deps
                .store
                .get_tenant(&req.tenant_id)
                .await?
                .ok_or_else(|| {
                    Error::refused(names::CONFLICT, "the tenant vanished while registering")
                })?;
            adopt_tenant(deps, t, req).await
        }
        Err(e) => Err(e.into()),
    }
}

/// An existing tenant, checked against the request and brought back to ONBOARDING unless
/// it is already ACTIVE (a re-run converges on what exists).
async fn adopt_tenant(
    deps: &Deps,
    mut tenant: Tenant,
    req: &OnboardingRequest,
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
    if let Some(connection) = requested_connection(req)?
        && connection != tenant.connection
    {
        tenant.connection = connection;
        deps.clients.forget(&tenant.tenant_id);
        changed = true;
    }
    if let Some(encryption) = &req.encryption
        && *encryption != tenant.encryption
    {
        tenant.encryption = encryption.clone();
        changed = true;
    }
    if let Some(allow) = req.allow_tag_management
        && allow != tenant.tag_management
    {
        tenant.tag_management = allow;
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
