//! Plan records (`PLAN#<pool>` / `PLAN#TENANT`), holiday calendars (`CAL#<name>`), the
//! tenant's measured start times (`STARTS`) and plan usage (`PLANUSE#<month>#<scope>`), in
//! the tenant's partition. The first three are written at their version (a new one only
//! if absent), so concurrent writers never lose an update silently; plan usage is added
//! atomically (`ADD`), like the usage ledger.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use serde::Serialize;

use super::DynamoStore;
use super::batch::{Cancelled, TRANSACT_MAX, next_round, transact_build_err};
use super::keys::{
    CALENDAR_PREFIX, Keys, PLAN_PREFIX, PLAN_USAGE_PREFIX, Versioned, calendar_keys, plan_keys,
    plan_usage_keys, start_times_keys, tenant_pk,
};
use crate::ids::{PoolId, TenantId};
use crate::model::{CalendarRecord, Month, PlanRecord, PlanUsageRecord, StartTimes};
use crate::plans::CalendarName;
use crate::store::{PlanStore, RecordKind, Result, StoreError, collect_all};

impl DynamoStore {
    /// A new record (version 0) if its key is free, an existing one at its version.
    async fn put_at_version<T>(&self, kind: RecordKind, keys: &Keys, record: &T) -> Result<T>
    where
        T: Serialize + Versioned + Clone,
    {
        if record.version() == 0 {
            self.put_new(kind, keys, record).await
        } else {
            self.put_versioned(kind, keys, record).await
        }
    }

    fn plan_usage_addition(&self, u: &PlanUsageRecord) -> Result<TransactWriteItem> {
        let keys = plan_usage_keys(&u.tenant_id, &u.scope, &u.month);
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(keys.key()))
            .update_expression("ADD #in :i, #out :o SET #tenant = :t, #scope = :s, #month = :m")
            .expression_attribute_names("#in", "inside_seconds")
            .expression_attribute_names("#out", "outside_seconds")
            .expression_attribute_names("#tenant", "tenant_id")
            .expression_attribute_names("#scope", "scope")
            .expression_attribute_names("#month", "month")
            .expression_attribute_values(":i", AttributeValue::N(u.inside_seconds.to_string()))
            .expression_attribute_values(":o", AttributeValue::N(u.outside_seconds.to_string()))
            .expression_attribute_values(":t", AttributeValue::S(u.tenant_id.to_string()))
            .expression_attribute_values(":s", AttributeValue::S(u.scope.clone()))
            .expression_attribute_values(":m", AttributeValue::S(u.month.as_str().to_owned()))
            .build()
            .map_err(|e| transact_build_err("plan usage update", e))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

/// The additions with those for the same group and month added up (a transaction may touch
/// an item once).
fn merged(usage: &[PlanUsageRecord]) -> Vec<PlanUsageRecord> {
    let mut out: Vec<PlanUsageRecord> = Vec::with_capacity(usage.len());
    for u in usage {
        match out
            .iter_mut()
            .find(|o| o.tenant_id == u.tenant_id && o.scope == u.scope && o.month == u.month)
        {
            Some(o) => {
                o.inside_seconds += u.inside_seconds;
                o.outside_seconds += u.outside_seconds;
            }
            None => out.push(u.clone()),
        }
    }
    out
}

#[async_trait]
impl PlanStore for DynamoStore {
    async fn get_plan(
        &self,
        tenant: &TenantId,
        pool: Option<&PoolId>,
    ) -> Result<Option<PlanRecord>> {
        self.get(RecordKind::Plan, &plan_keys(tenant, pool)).await
    }

    async fn put_plan(&self, plan: &PlanRecord) -> Result<PlanRecord> {
        let keys = plan_keys(&plan.tenant_id, plan.pool_id.as_ref());
        self.put_at_version(RecordKind::Plan, &keys, plan).await
    }

    async fn list_plans(&self, tenant: &TenantId) -> Result<Vec<PlanRecord>> {
        collect_all(|page| {
            self.page_by_prefix(RecordKind::Plan, tenant_pk(tenant), PLAN_PREFIX, page)
        })
        .await
    }

    async fn get_calendar(
        &self,
        tenant: &TenantId,
        name: &CalendarName,
    ) -> Result<Option<CalendarRecord>> {
        self.get(RecordKind::Calendar, &calendar_keys(tenant, name))
            .await
    }

    async fn put_calendar(&self, calendar: &CalendarRecord) -> Result<CalendarRecord> {
        let keys = calendar_keys(&calendar.tenant_id, &calendar.name);
        self.put_at_version(RecordKind::Calendar, &keys, calendar)
            .await
    }

    async fn list_calendars(&self, tenant: &TenantId) -> Result<Vec<CalendarRecord>> {
        collect_all(|page| {
            self.page_by_prefix(
                RecordKind::Calendar,
                tenant_pk(tenant),
                CALENDAR_PREFIX,
                page,
            )
        })
        .await
    }

    async fn get_start_times(&self, tenant: &TenantId) -> Result<Option<StartTimes>> {
        self.get(RecordKind::StartTimes, &start_times_keys(tenant))
            .await
    }

    async fn put_start_times(&self, times: &StartTimes) -> Result<StartTimes> {
        let keys = start_times_keys(&times.tenant_id);
        self.put_at_version(RecordKind::StartTimes, &keys, times)
            .await
    }

    /// TransactWriteItems of up to 100 additions, retried like the usage ledger's.
    async fn add_plan_usages(&self, usage: &[PlanUsageRecord]) -> Result<()> {
        let merged = merged(usage);
        for chunk in merged.chunks(TRANSACT_MAX) {
            let items = chunk
                .iter()
                .map(|u| self.plan_usage_addition(u))
                .collect::<Result<Vec<_>>>()?;
            let mut round = 0;
            loop {
                next_round(round, chunk.len(), "plan usage additions still cancelled").await?;
                match self.transact(items.clone()).await? {
                    None => break,
                    Some(reasons) if reasons.iter().all(|r| *r == Cancelled::Retry) => {}
                    Some(_) => {
                        return Err(StoreError::Request {
                            message: "the table refused a plan usage addition".into(),
                            source: "plan usage transaction cancelled".into(),
                        });
                    }
                }
                round += 1;
            }
        }
        Ok(())
    }

    async fn list_plan_usage(
        &self,
        tenant: &TenantId,
        month: &Month,
    ) -> Result<Vec<PlanUsageRecord>> {
        let prefix = format!("{PLAN_USAGE_PREFIX}{}#", month.as_str());
        collect_all(|page| {
            self.page_by_prefix(RecordKind::PlanUsage, tenant_pk(tenant), &prefix, page)
        })
        .await
    }
}
