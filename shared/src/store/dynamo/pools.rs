//! Pool and user records: one item per pool (`POOL#<id>`) and per user (`USER#<id>`) in the
//! tenant's partition. A pool is written at its version (growth is serialised there); a
//! user is written only by an event at least as new as the one that last changed it (its
//! `stamp`), so `Users Loaded` and `User Removed` converge in any delivery order without a
//! read first.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::DynamoStore;
use super::errors::classify;
use super::keys::{
    POOL_PREFIX, USER_PREFIX, WS_PREFIX, from_item, pool_keys, tenant_pk, to_item, user_keys,
};
use super::query::QuerySpec;
use crate::ids::{PoolId, TenantId, UserId};
use crate::model::{PoolRecord, UserRecord, WorkspaceRecord};
use crate::store::schema::{PK, SK};
use crate::store::{
    Page, PageRequest, PoolStore, RecordKind, Result, StoreError, UserStore, UserWrite, collect_all,
};

#[async_trait]
impl PoolStore for DynamoStore {
    async fn create_pool(&self, pool: &PoolRecord) -> Result<PoolRecord> {
        self.put_new(
            RecordKind::Pool,
            &pool_keys(&pool.tenant_id, &pool.pool_id),
            pool,
        )
        .await
    }

    async fn get_pool(&self, tenant: &TenantId, pool: &PoolId) -> Result<Option<PoolRecord>> {
        self.get(RecordKind::Pool, &pool_keys(tenant, pool)).await
    }

    async fn update_pool(&self, pool: &PoolRecord) -> Result<PoolRecord> {
        self.put_versioned(
            RecordKind::Pool,
            &pool_keys(&pool.tenant_id, &pool.pool_id),
            pool,
        )
        .await
    }

    async fn list_pools(&self, tenant: &TenantId) -> Result<Vec<PoolRecord>> {
        collect_all(|page| {
            self.page_by_prefix(RecordKind::Pool, tenant_pk(tenant), POOL_PREFIX, page)
        })
        .await
    }

    /// The tenant's desktop records filtered on `pool.pool_id` by the table: a filtered
    /// Query still reads (and bills) the tenant's desktops, but Steward receives and decodes
    /// only the pool's, so an assignment costs in proportion to the pool, not the tenant.
    async fn pool_desktops(
        &self,
        tenant: &TenantId,
        pool: &PoolId,
    ) -> Result<Vec<WorkspaceRecord>> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let (items, last) = self
                .query(QuerySpec {
                    index: None,
                    condition: "#pk = :pk AND begins_with(#sk, :prefix)",
                    values: vec![
                        (":pk", tenant_pk(tenant)),
                        (":prefix", WS_PREFIX.to_owned()),
                        (":pool", pool.to_string()),
                    ],
                    names: vec![
                        ("#pk", PK),
                        ("#sk", SK),
                        ("#seat", "pool"),
                        ("#pid", "pool_id"),
                    ],
                    filter: Some("#seat.#pid = :pool"),
                    limit: Some(PAGE),
                    start,
                })
                .await?;
            for item in items {
                out.push(from_item(RecordKind::Workspace, item)?);
            }
            match last {
                Some(key) => start = Some(key),
                None => return Ok(out),
            }
        }
    }
}

/// Items a pool's desktop Query evaluates per page (the table's most).
const PAGE: i32 = 1000;

#[async_trait]
impl UserStore for DynamoStore {
    async fn put_user(&self, user: &UserRecord, write: UserWrite) -> Result<bool> {
        let keys = user_keys(&user.tenant_id, &user.user_id);
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(RecordKind::User, &keys, user)?))
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#stamp", "stamp")
            .expression_attribute_values(":stamp", AttributeValue::N(user.stamp.to_string()));
        put = match write {
            UserWrite::Newer => put.condition_expression("attribute_not_exists(#pk) OR #stamp < :stamp"),
            // A removal wins a tie with a load, but a second removal of the same time
            // changes nothing (a redelivery).
            UserWrite::NewerOrSame => put
                .condition_expression(
                    "attribute_not_exists(#pk) OR #stamp < :stamp OR (#stamp = :stamp AND #presence <> :gone)",
                )
                .expression_attribute_names("#presence", "presence")
                .expression_attribute_values(":gone", AttributeValue::S("GONE".into())),
        };
        let res = put.send().await;
        match res {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(classify(e)),
        }
    }

    async fn get_user(&self, tenant: &TenantId, user: &UserId) -> Result<Option<UserRecord>> {
        self.get(RecordKind::User, &user_keys(tenant, user)).await
    }

    async fn list_users(&self, tenant: &TenantId, page: PageRequest) -> Result<Page<UserRecord>> {
        if let Some(after) = &page.after {
            UserId::parse(after.as_str()).map_err(|_| StoreError::BadCursor)?;
        }
        self.page_by_prefix(RecordKind::User, tenant_pk(tenant), USER_PREFIX, page)
            .await
    }
}
