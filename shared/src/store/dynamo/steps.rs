//! Onboarding step records: one item per tenant and step, whose sort key carries the step's
//! number so that a tenant's steps list in the guide's order.

use async_trait::async_trait;

use super::DynamoStore;
use super::keys::{STEP_PREFIX, step_keys, tenant_pk};
use crate::ids::TenantId;
use crate::model::{OnboardingStep, StepRecord};
use crate::store::{RecordKind, Result, StepStore, collect_all};

#[async_trait]
impl StepStore for DynamoStore {
    async fn put_step(&self, step: &StepRecord) -> Result<StepRecord> {
        let keys = step_keys(&step.tenant_id, step.step);
        if step.version == 0 {
            self.put_new(RecordKind::Step, &keys, step).await
        } else {
            self.put_versioned(RecordKind::Step, &keys, step).await
        }
    }

    async fn get_step(
        &self,
        tenant: &TenantId,
        step: OnboardingStep,
    ) -> Result<Option<StepRecord>> {
        self.get(RecordKind::Step, &step_keys(tenant, step)).await
    }

    async fn list_steps(&self, tenant: &TenantId) -> Result<Vec<StepRecord>> {
        collect_all(|page| {
            self.page_by_prefix(RecordKind::Step, tenant_pk(tenant), STEP_PREFIX, page)
        })
        .await
    }
}
