//! The step handlers, one file per family of the guide's "Infrastructure setup" chapter.
//!
//! The Onboarding state machine (`statemachines/onboarding.asl.yaml`) runs the twelve steps
//! in the guide's order; the four customer pauses come between them:
//!
//! | #  | step                          | file                        | then                        |
//! |----|-------------------------------|-----------------------------|-----------------------------|
//! | 1  | `ValidateAccess`              | [`access`], [`preflight`]   | refuses an unready account  |
//! | 2  | `CheckByol`                   | [`byol`]                    | routes on [`ByolRoute`]     |
//! | 3  | `OfferCidrRanges`             | [`byol`]                    | **pause 1**: the management range; **pause 2**: the BYOL confirmation |
//! | 4  | `ConfigureByol`               | [`byol`]                    | polled until DONE           |
//! | 5  | `OfferImages`                 | [`image`]                   | **pause 3**: the AMI        |
//! | 6  | `ImportImage`                 | [`image`]                   | polled until AVAILABLE      |
//! | 7  | `OfferDirectories`            | [`directory`]               | **pause 4**: the directory  |
//! | 8  | `RegisterDirectory`           | [`directory`]               | polled until REGISTERED     |
//! | 9  | `ConfigureCreationProperties` | [`directory`]               |                             |
//! | 10 | `CreateBundle`                | [`bundle`]                  |                             |
//! | 11 | `CreateWorkspaces`            | [`desktops`]                | polled until AVAILABLE      |
//! | 12 | `Complete`                    | [`complete`](mod@complete)  |                             |
//!
//! Without BYOL, steps 2–6 are recorded as skipped and the execution goes from step 2 to
//! step 7. Each pause is a `.waitForTaskToken` state served by [`pause`](fn@pause), passed
//! by when the execution input already carries its answer (`selections`, `confirmByol`).
//! A failure anywhere is caught and recorded by [`complete::record_failure`].
//!
//! Why this split: a file holds the steps that read and write the same service resource
//! and the same part of the request — the account's BYOL setting, the image, the directory,
//! the bundle, the desktops — so a change to how Steward handles one resource stays in one
//! file. The two ends of an execution (success and failure) share
//! [`complete`](mod@complete); the pause handler serves four steps and has its own file.
//! This file holds only what every step shares: the [`Ctx`] a step runs in (its tenant,
//! clients and input, and how it records its progress) and the size of an offer;
//! [`step_record`] holds the step record's write, which the pause and the failure recorder
//! share with the steps. Audit records and partner events go through [`crate::record`].
//!
//! [`ByolRoute`]: crate::onboarding::request::ByolRoute

mod access;
mod bundle;
mod byol;
mod complete;
mod desktops;
mod directory;
mod image;
mod pause;
mod preflight;
mod step_record;

pub use access::validate_access;
pub use bundle::create_bundle;
pub use byol::{check_byol, configure_byol, offer_cidr_ranges};
pub use complete::{complete, record_failure};
pub use desktops::create_workspaces;
pub use directory::{configure_creation_properties, offer_directories, register_directory};
pub use image::{import_image, offer_images};
pub use pause::pause;

use std::future::Future;

use serde::Serialize;
use serde_json::{Value, json};
use steward_shared::Error;
use steward_shared::aws::{TenantAccess, TenantClients};
use steward_shared::error::names;
use steward_shared::gateway::workspaces::WorkspacesGateway;
use steward_shared::model::{Actor, AuditOutcome, ErrorRecord, OnboardingStep};
use steward_shared::model::{StepStatus, Tenant};
use steward_shared::store::{StepStore, TenantStore};

use super::request::StepInput;
use super::{detail_types, step_name};
use crate::deps::Deps;
use crate::input::parse_input;
use crate::record::{self, ActionName, Audit, publish_or_fail};
use step_record::{StepUpdate, put_step, summary};

/// Options kept per offer (on the step record; DynamoDB items stay far below 400 KB).
const MAX_OPTIONS: usize = 200;

/// What a step needs: the tenant, its clients, the execution's input.
struct Ctx<'a> {
    deps: &'a Deps,
    tenant: Tenant,
    clients: TenantClients,
    input: StepInput,
}

impl<'a> Ctx<'a> {
    /// Reads the step's input and the tenant the first step registered.
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
        Ok(Self::for_tenant(deps, tenant, input).await)
    }

    /// A step of `tenant`'s execution, acting as its role in the request's region.
    async fn for_tenant(deps: &'a Deps, tenant: Tenant, input: StepInput) -> Ctx<'a> {
        let clients = deps
            .clients
            .for_tenant(TenantAccess::new(&tenant, &input.request.region))
            .await;
        Ctx {
            deps,
            tenant,
            clients,
            input,
        }
    }

    /// The WorkSpaces calls, as the tenant's role.
    fn ws(&self) -> WorkspacesGateway<'_> {
        WorkspacesGateway::new(self.clients.workspaces())
    }

    /// Runs `work` as `step` of the execution: its failure is recorded on the step.
    async fn run(
        &self,
        step: OnboardingStep,
        work: impl Future<Output = Result<Value, Error>>,
    ) -> Result<Value, Error> {
        match work.await {
            Ok(v) => Ok(v),
            Err(e) => self.failed(step, e).await,
        }
    }

    async fn start(&self, step: OnboardingStep) -> Result<(), Error> {
        put_step(
            self.deps,
            &self.tenant.tenant_id,
            StepUpdate::new(step, StepStatus::InProgress),
        )
        .await?;
        Ok(())
    }

    /// Records a step as completed (or skipped) and says so on the partner bus.
    async fn done(
        &self,
        step: OnboardingStep,
        status: StepStatus,
        output: &impl Serialize,
    ) -> Result<Value, Error> {
        let output = serde_json::to_value(output).unwrap_or(Value::Null);
        put_step(
            self.deps,
            &self.tenant.tenant_id,
            StepUpdate::new(step, status).with_output(output.clone()),
        )
        .await?;
        publish_or_fail(
            self.deps,
            detail_types::STEP_COMPLETED,
            json!({
                "tenantId": self.tenant.tenant_id,
                "execution": self.input.execution,
                "step": step_name(step),
                "stepNumber": step.number(),
                "status": status,
                "output": summary(&output),
                "at": self.deps.now(),
            }),
        )
        .await?;
        Ok(output)
    }

    /// A step that is still waiting on the service: recorded as in progress, no event.
    async fn pending(&self, step: OnboardingStep, output: &impl Serialize) -> Result<Value, Error> {
        let output = serde_json::to_value(output).unwrap_or(Value::Null);
        put_step(
            self.deps,
            &self.tenant.tenant_id,
            StepUpdate::new(step, StepStatus::InProgress).with_output(output.clone()),
        )
        .await?;
        Ok(output)
    }

    /// One audit record for a create or modify call the step made (the step's own event
    /// tells the partner).
    async fn audit(&self, action: ActionName, reason: String) -> Result<(), Error> {
        let actor = Actor::Onboarding {
            execution: self.input.execution.clone(),
        };
        record::audit(
            self.deps,
            &Audit {
                tenant: &self.tenant.tenant_id,
                workspace: None,
                actor: &actor,
                action,
                reason: &reason,
                outcome: &AuditOutcome::Succeeded,
                at: self.deps.now(),
            },
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
            StepUpdate::new(step, status).with_error(record),
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
            StepUpdate::new(step, StepStatus::Completed).with_output(output),
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
