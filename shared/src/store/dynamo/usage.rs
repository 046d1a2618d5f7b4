//! The usage ledger: one item per desktop and month, to which AVAILABLE seconds are added
//! atomically (an `ADD` update), so concurrent sweeps and a retried call never lose or
//! double an addition.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

use super::DynamoStore;
use super::batch::{Cancelled, TRANSACT_MAX, next_round, transact_build_err};
use super::keys::{USAGE_PREFIX, tenant_pk, usage_keys};
use crate::ids::{TenantId, WorkspaceId};
use crate::model::{Month, UsageRecord};
use crate::store::{RecordKind, Result, StoreError, UsageDelta, UsageStore, collect_all};

#[cfg(doc)]
use super::batch::BATCH_ATTEMPTS;

/// The deltas with those for the same desktop and month added up (a transaction may touch
/// an item once), in the order each desktop and month first appears.
fn merged(deltas: &[UsageDelta]) -> Vec<UsageDelta> {
    let mut merged: Vec<UsageDelta> = Vec::with_capacity(deltas.len());
    let mut at: HashMap<(&TenantId, &WorkspaceId, &str), usize> = HashMap::new();
    for d in deltas {
        let key = (&d.tenant_id, &d.workspace_id, d.month.as_str());
        match at.get(&key) {
            Some(&i) => {
                merged[i].available_seconds += d.available_seconds;
                merged[i].uncertainty_seconds += d.uncertainty_seconds;
            }
            None => {
                at.insert(key, merged.len());
                merged.push(d.clone());
            }
        }
    }
    merged
}

impl DynamoStore {
    /// The transaction action that adds one delta to its desktop's month.
    fn usage_addition(&self, d: &UsageDelta) -> Result<TransactWriteItem> {
        let keys = usage_keys(&d.tenant_id, &d.workspace_id, &d.month);
        let u = Update::builder()
            .table_name(&self.table)
            .set_key(Some(keys.key()))
            .update_expression("ADD #avail :a, #unc :u SET #tenant = :t, #ws = :w, #month = :m")
            .expression_attribute_names("#avail", "available_seconds")
            .expression_attribute_names("#unc", "uncertainty_seconds")
            .expression_attribute_names("#tenant", "tenant_id")
            .expression_attribute_names("#ws", "workspace_id")
            .expression_attribute_names("#month", "month")
            .expression_attribute_values(":a", AttributeValue::N(d.available_seconds.to_string()))
            .expression_attribute_values(":u", AttributeValue::N(d.uncertainty_seconds.to_string()))
            .expression_attribute_values(":t", AttributeValue::S(d.tenant_id.to_string()))
            .expression_attribute_values(":w", AttributeValue::S(d.workspace_id.to_string()))
            .expression_attribute_values(":m", AttributeValue::S(d.month.as_str().to_owned()))
            .build()
            .map_err(|e| transact_build_err("usage update", e))?;
        Ok(TransactWriteItem::builder().update(u).build())
    }
}

#[async_trait]
impl UsageStore for DynamoStore {
    /// The one way usage is added (one desktop's addition too): TransactWriteItems of up
    /// to 100 additions, after adding up deltas for the same
    /// desktop and month (a transaction may touch an item once). The SDK gives each
    /// transaction a ClientRequestToken and keeps it across its retries, so a retried call
    /// whose first attempt did apply is not counted twice; a cancelled one applied nothing
    /// and is sent again, up to `BATCH_ATTEMPTS` rounds.
    async fn add_usages(&self, deltas: &[UsageDelta]) -> Result<()> {
        let merged = merged(deltas);
        for chunk in merged.chunks(TRANSACT_MAX) {
            let items = chunk
                .iter()
                .map(|d| self.usage_addition(d))
                .collect::<Result<Vec<_>>>()?;
            let mut round = 0;
            loop {
                next_round(round, chunk.len(), "usage additions still cancelled").await?;
                match self.transact(items.clone()).await? {
                    None => break,
                    Some(reasons) if reasons.iter().all(|r| *r == Cancelled::Retry) => {}
                    Some(_) => {
                        return Err(StoreError::Request {
                            message: "the table refused a usage addition".into(),
                            source: "usage transaction cancelled".into(),
                        });
                    }
                }
                round += 1;
            }
        }
        Ok(())
    }

    async fn list_usage(&self, tenant: &TenantId, month: &Month) -> Result<Vec<UsageRecord>> {
        let prefix = format!("{USAGE_PREFIX}{}#", month.as_str());
        collect_all(|page| self.page_by_prefix(RecordKind::Usage, tenant_pk(tenant), &prefix, page))
            .await
    }
}
