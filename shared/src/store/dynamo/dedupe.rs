//! Event de-duplication: one item per partner event id, written only if absent (or
//! expired), so an event EventBridge delivers twice is acted upon once. The items expire
//! through the table's TTL.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;

use super::DynamoStore;
use super::errors::classify;
use super::keys::{event_keys, to_item};
use crate::ids::{OpaqueId, TenantId};
use crate::model::Timestamp;
use crate::store::schema::{PK, TTL_ATTRIBUTE};
use crate::store::{Claim, DedupeStore, RecordKind, Result};

#[derive(Serialize)]
struct EventClaim<'a> {
    tenant_id: &'a TenantId,
    event_id: &'a OpaqueId,
    seen_at: Timestamp,
    expires_at: i64,
}

#[async_trait]
impl DedupeStore for DynamoStore {
    async fn claim_event(
        &self,
        tenant: &TenantId,
        event_id: &OpaqueId,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<Claim> {
        let keys = event_keys(tenant, event_id);
        let claim = EventClaim {
            tenant_id: tenant,
            event_id,
            seen_at: now,
            expires_at: expires_at.timestamp(),
        };
        // TTL deletion is lazy (up to days late): an expired record counts as absent.
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(RecordKind::Event, &keys, &claim)?))
            .condition_expression("attribute_not_exists(#pk) OR #ttl < :now")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_values(":now", AttributeValue::N(now.timestamp().to_string()))
            .send()
            .await;
        match res {
            Ok(_) => Ok(Claim::Claimed),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(Claim::Duplicate)
            }
            Err(e) => Err(classify(e)),
        }
    }

    async fn forget_event(&self, tenant: &TenantId, event_id: &OpaqueId) -> Result<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(event_keys(tenant, event_id).key()))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}
