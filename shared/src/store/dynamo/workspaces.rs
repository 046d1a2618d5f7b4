//! Desktop records: one item per desktop, in the sparse sweep index while a sweep must look
//! at it ([`WorkspaceRecord::needs_sweep`]). A sweep writes the desktops it reconciled
//! together, so this room also holds the transactional many-record update and its retries.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};

use super::DynamoStore;
use super::batch::{Cancelled, TRANSACT_MAX, next_round, transact_build_err};
use super::keys::{WS_PREFIX, sweep_partition, tenant_pk, to_item, workspace_key, workspace_keys};
use crate::ids::{TenantId, WorkspaceId};
use crate::model::WorkspaceRecord;
use crate::store::{Page, PageRequest, RecordKind, Result, StoreError, WorkspaceStore};

#[cfg(doc)]
use super::batch::BATCH_ATTEMPTS;

#[async_trait]
impl WorkspaceStore for DynamoStore {
    async fn create_workspace(&self, ws: &WorkspaceRecord) -> Result<WorkspaceRecord> {
        self.put_new(RecordKind::Workspace, &workspace_keys(ws), ws)
            .await
    }

    async fn get_workspace(
        &self,
        tenant: &TenantId,
        id: &WorkspaceId,
    ) -> Result<Option<WorkspaceRecord>> {
        self.get(RecordKind::Workspace, &workspace_key(tenant, id))
            .await
    }

    async fn update_workspace(&self, ws: &WorkspaceRecord) -> Result<WorkspaceRecord> {
        self.put_versioned(RecordKind::Workspace, &workspace_keys(ws), ws)
            .await
    }

    /// TransactWriteItems of up to 100 conditional puts (each at twice a put's write cost).
    /// A cancelled transaction applied nothing: the actions whose own condition failed are
    /// answered, and the others are sent again (with back-off when throttled), up to
    /// `BATCH_ATTEMPTS` rounds.
    async fn update_workspaces(
        &self,
        records: &[WorkspaceRecord],
    ) -> Result<Vec<Result<WorkspaceRecord>>> {
        let mut out: Vec<Option<Result<WorkspaceRecord>>> = std::iter::repeat_with(|| None)
            .take(records.len())
            .collect();
        for (chunk_no, chunk) in records.chunks(TRANSACT_MAX).enumerate() {
            let base = chunk_no * TRANSACT_MAX;
            let mut stored = Vec::with_capacity(chunk.len());
            let mut puts = Vec::with_capacity(chunk.len());
            for r in chunk {
                let keys = workspace_keys(r);
                let mut next = r.clone();
                next.version = r.version + 1;
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(to_item(RecordKind::Workspace, &keys, &next)?))
                    .condition_expression("#v = :expected")
                    .expression_attribute_names("#v", "version")
                    .expression_attribute_values(
                        ":expected",
                        AttributeValue::N(r.version.to_string()),
                    )
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .build()
                    .map_err(|e| transact_build_err("workspace put", e))?;
                puts.push(TransactWriteItem::builder().put(put).build());
                stored.push((keys.describe(), next));
            }
            let mut pending: Vec<usize> = (0..chunk.len()).collect();
            let mut round = 0;
            while !pending.is_empty() {
                next_round(round, pending.len(), "desktop writes still cancelled").await?;
                let items = pending.iter().map(|&i| puts[i].clone()).collect();
                let Some(reasons) = self.transact(items).await? else {
                    for &i in &pending {
                        out[base + i] = Some(Ok(stored[i].1.clone()));
                    }
                    break;
                };
                let mut again = Vec::new();
                for (&i, reason) in pending.iter().zip(reasons) {
                    let key = stored[i].0.clone();
                    match reason {
                        Cancelled::Retry => again.push(i),
                        Cancelled::ConditionFailed { existed: true } => {
                            out[base + i] = Some(Err(StoreError::VersionConflict {
                                kind: RecordKind::Workspace,
                                key,
                                expected: chunk[i].version,
                            }));
                        }
                        Cancelled::ConditionFailed { existed: false } => {
                            out[base + i] = Some(Err(StoreError::NotFound {
                                kind: RecordKind::Workspace,
                                key,
                            }));
                        }
                        Cancelled::Refused => {
                            out[base + i] = Some(Err(StoreError::Request {
                                message: format!("the table refused the write of {key}"),
                                source: format!("transaction cancelled for {key}").into(),
                            }));
                        }
                    }
                }
                pending = again;
                round += 1;
            }
        }
        out.into_iter()
            .map(|o| {
                o.ok_or_else(|| StoreError::Request {
                    message: "a desktop write has no outcome".into(),
                    source: "update_workspaces".into(),
                })
            })
            .collect()
    }

    async fn delete_workspace(
        &self,
        tenant: &TenantId,
        id: &WorkspaceId,
        expected_version: u64,
    ) -> Result<()> {
        self.delete_versioned(
            RecordKind::Workspace,
            &workspace_key(tenant, id),
            expected_version,
        )
        .await
    }

    async fn list_workspaces(
        &self,
        tenant: &TenantId,
        page: PageRequest,
    ) -> Result<Page<WorkspaceRecord>> {
        if let Some(after) = &page.after {
            WorkspaceId::parse(after.as_str()).map_err(|_| StoreError::BadCursor)?;
        }
        self.page_by_prefix(RecordKind::Workspace, tenant_pk(tenant), WS_PREFIX, page)
            .await
    }

    async fn list_sweep_workspaces(
        &self,
        tenant: &TenantId,
        page: PageRequest,
    ) -> Result<Page<WorkspaceRecord>> {
        let pk = tenant_pk(tenant);
        self.page_by_index(
            RecordKind::Workspace,
            sweep_partition(tenant),
            page,
            |after| {
                let id = WorkspaceId::parse(after).map_err(|_| StoreError::BadCursor)?;
                Ok((pk.clone(), format!("{WS_PREFIX}{id}")))
            },
        )
        .await
    }
}
