//! Audit records: append-only, keyed by time and a fresh id (so none can collide and a
//! tenant's records list oldest first), written in batches by the sweeps.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};

use super::DynamoStore;
use super::batch::{BATCH_WRITE, next_round};
use super::errors::classify;
use super::keys::{
    AUDIT_PREFIX, audit_keys, from_item, string_attr, tenant_pk, timestamp_key, to_item,
};
use super::query::{QuerySpec, page_limit};
use crate::ids::TenantId;
use crate::model::{AuditRecord, Timestamp};
use crate::store::schema::{PK, SK};
use crate::store::{AuditStore, Page, PageRequest, RecordKind, Result, StoreError};

#[cfg(doc)]
use super::batch::BATCH_ATTEMPTS;

#[async_trait]
impl AuditStore for DynamoStore {
    async fn append_audit(&self, record: &AuditRecord) -> Result<()> {
        self.put_if_absent(RecordKind::Audit, &audit_keys(record), record)
            .await
    }

    /// BatchWriteItem, 25 records per call; items the table leaves unprocessed (throttling)
    /// are sent again with exponential back-off, up to `BATCH_ATTEMPTS` rounds.
    async fn append_audits(&self, records: &[AuditRecord]) -> Result<()> {
        for chunk in records.chunks(BATCH_WRITE) {
            let mut requests = chunk
                .iter()
                .map(|r| {
                    let item = to_item(RecordKind::Audit, &audit_keys(r), r)?;
                    let put = PutRequest::builder()
                        .set_item(Some(item))
                        .build()
                        .map_err(|e| StoreError::Request {
                            message: format!("audit put request: {e}"),
                            source: Box::new(e),
                        })?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect::<Result<Vec<_>>>()?;
            let mut round = 0;
            while !requests.is_empty() {
                next_round(round, requests.len(), "audit records still unprocessed").await?;
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(classify)?;
                requests = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                    .unwrap_or_default();
                round += 1;
            }
        }
        Ok(())
    }

    async fn list_audit(
        &self,
        tenant: &TenantId,
        from: Timestamp,
        to: Timestamp,
        page: PageRequest,
    ) -> Result<Page<AuditRecord>> {
        let pk = tenant_pk(tenant);
        let start = match &page.after {
            None => None,
            Some(after) => {
                if !after.starts_with(|c: char| c.is_ascii_digit()) || after.contains(['\0']) {
                    return Err(StoreError::BadCursor);
                }
                Some(HashMap::from([
                    (PK.to_owned(), AttributeValue::S(pk.clone())),
                    (
                        SK.to_owned(),
                        AttributeValue::S(format!("{AUDIT_PREFIX}{after}")),
                    ),
                ]))
            }
        };
        // `AUDIT#<t>#<uuid>` sorts after `AUDIT#<t>`: BETWEEN from and to is [from, to).
        let (items, last) = self
            .query(QuerySpec {
                filter: None,
                index: None,
                condition: "#pk = :pk AND #sk BETWEEN :from AND :to",
                values: vec![
                    (":pk", pk),
                    (":from", format!("{AUDIT_PREFIX}{}", timestamp_key(from))),
                    (":to", format!("{AUDIT_PREFIX}{}", timestamp_key(to))),
                ],
                names: vec![("#pk", PK), ("#sk", SK)],
                limit: Some(page_limit(&page)),
                start,
            })
            .await?;
        let next = last
            .and_then(|k| string_attr(&k, SK))
            .and_then(|sk| sk.strip_prefix(AUDIT_PREFIX).map(str::to_owned));
        let items = items
            .into_iter()
            .map(|i| from_item(RecordKind::Audit, i))
            .collect::<Result<_>>()?;
        Ok(Page { items, next })
    }
}
