//! Tenant records: one item per tenant, listed through the index partition every tenant
//! shares (`TENANTS`), which is how the sweeps find them without scanning the table.

use async_trait::async_trait;

use super::DynamoStore;
use super::keys::{TENANT_SK, TENANTS_PARTITION, tenant_keys, tenant_pk};
use crate::ids::TenantId;
use crate::model::Tenant;
use crate::store::{Page, PageRequest, RecordKind, Result, StoreError, TenantStore};

#[async_trait]
impl TenantStore for DynamoStore {
    async fn create_tenant(&self, tenant: &Tenant) -> Result<Tenant> {
        self.put_new(RecordKind::Tenant, &tenant_keys(&tenant.tenant_id), tenant)
            .await
    }

    async fn get_tenant(&self, id: &TenantId) -> Result<Option<Tenant>> {
        self.get(RecordKind::Tenant, &tenant_keys(id)).await
    }

    async fn update_tenant(&self, tenant: &Tenant) -> Result<Tenant> {
        self.put_versioned(RecordKind::Tenant, &tenant_keys(&tenant.tenant_id), tenant)
            .await
    }

    async fn list_tenants(&self, page: PageRequest) -> Result<Page<Tenant>> {
        self.page_by_index(
            RecordKind::Tenant,
            TENANTS_PARTITION.into(),
            page,
            |after| {
                let id = TenantId::parse(after).map_err(|_| StoreError::BadCursor)?;
                Ok((tenant_pk(&id), TENANT_SK.into()))
            },
        )
        .await
    }
}
