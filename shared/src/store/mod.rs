//! What Steward keeps, and the one implementation of it: a single DynamoDB table.
//!
//! The traits say what the functions need; [`DynamoStore`] is the implementation. There is
//! deliberately no in-memory imitation: tests run the real store against DynamoDB-compatible
//! engines (dynoxide in process, moto's server over HTTP).

mod dynamo;
pub mod schema;

use async_trait::async_trait;

pub use dynamo::DynamoStore;

use crate::error::names;
use crate::ids::{OpaqueId, PoolId, TenantId, UserId, WorkspaceId};
use crate::model::{
    AuditRecord, CalendarRecord, Month, OnboardingStep, PlanRecord, PlanUsageRecord, PoolRecord,
    StartTimes, StepRecord, Tenant, Timestamp, UsageRecord, UserRecord, WorkspaceRecord,
};
use crate::plans::CalendarName;

/// Which kind of record an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    Tenant,
    Workspace,
    Step,
    Audit,
    Usage,
    Event,
    Pool,
    User,
    Plan,
    Calendar,
    StartTimes,
    PlanUsage,
}

impl std::fmt::Display for RecordKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{kind} {key} already exists")]
    AlreadyExists { kind: RecordKind, key: String },
    #[error("{kind} {key} does not exist")]
    NotFound { kind: RecordKind, key: String },
    /// Someone else wrote the record since it was read: re-read and decide again.
    #[error("{kind} {key} changed concurrently (expected version {expected})")]
    VersionConflict {
        kind: RecordKind,
        key: String,
        expected: u64,
    },
    #[error("the table is throttling requests")]
    Throttled {
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("the table could not be reached")]
    Unavailable {
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("{kind} {key} could not be read or written as stored")]
    Corrupt {
        kind: RecordKind,
        key: String,
        #[source]
        source: serde_dynamo::Error,
    },
    #[error("the table refused the request: {message}")]
    Request {
        message: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("invalid page cursor")]
    BadCursor,
}

impl StoreError {
    pub fn name(&self) -> &'static str {
        match self {
            StoreError::AlreadyExists { .. } => names::ALREADY_EXISTS,
            StoreError::NotFound { .. } => names::NOT_FOUND,
            StoreError::VersionConflict { .. } => names::CONFLICT,
            StoreError::Throttled { .. } => names::THROTTLED,
            StoreError::Unavailable { .. } => names::TRANSIENT,
            StoreError::BadCursor => names::VALIDATION,
            StoreError::Corrupt { .. } | StoreError::Request { .. } => names::STORE,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which page of a listing to read. `after` is the cursor of the previous page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: Option<u32>,
    pub after: Option<String>,
}

impl PageRequest {
    pub fn first(limit: u32) -> Self {
        Self {
            limit: Some(limit),
            after: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Cursor for the next page; `None` on the last page.
    pub next: Option<String>,
}

/// Walks every page of a listing.
pub async fn collect_all<T, F, Fut>(mut list: F) -> Result<Vec<T>>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>>>,
{
    let mut out = Vec::new();
    let mut req = PageRequest::default();
    loop {
        let page = list(req.clone()).await?;
        out.extend(page.items);
        match page.next {
            Some(next) => req.after = Some(next),
            None => return Ok(out),
        }
    }
}

/// Whether an event id was seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// First time: process the event.
    Claimed,
    /// Seen (and not yet expired): skip it.
    Duplicate,
}

#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Stores a new tenant at version 1; `AlreadyExists` if the id is taken.
    async fn create_tenant(&self, tenant: &Tenant) -> Result<Tenant>;
    async fn get_tenant(&self, id: &TenantId) -> Result<Option<Tenant>>;
    /// Writes `tenant` if the stored version is still `tenant.version`; returns it at +1.
    async fn update_tenant(&self, tenant: &Tenant) -> Result<Tenant>;
    async fn list_tenants(&self, page: PageRequest) -> Result<Page<Tenant>>;
}

#[async_trait]
pub trait WorkspaceStore: Send + Sync {
    async fn create_workspace(&self, ws: &WorkspaceRecord) -> Result<WorkspaceRecord>;
    async fn get_workspace(
        &self,
        tenant: &TenantId,
        id: &WorkspaceId,
    ) -> Result<Option<WorkspaceRecord>>;
    async fn update_workspace(&self, ws: &WorkspaceRecord) -> Result<WorkspaceRecord>;
    /// Writes many records, each only if it is still at its version, as
    /// [`update_workspace`](Self::update_workspace) does; a store may batch them. The inner
    /// results come back in the order of `records`: each written at +1, or why it was not
    /// (`VersionConflict` when it changed since it was read, `NotFound`). The outer error
    /// means the table could not be reached or kept throttling: records written before it
    /// stay written. A record may appear only once.
    async fn update_workspaces(
        &self,
        records: &[WorkspaceRecord],
    ) -> Result<Vec<Result<WorkspaceRecord>>> {
        let mut out = Vec::with_capacity(records.len());
        for r in records {
            match self.update_workspace(r).await {
                Err(
                    e @ (StoreError::Throttled { .. }
                    | StoreError::Unavailable { .. }
                    | StoreError::Request { .. }),
                ) => return Err(e),
                other => out.push(other),
            }
        }
        Ok(out)
    }
    /// Removes a record (a terminated desktop) if it is still at `expected_version`.
    async fn delete_workspace(
        &self,
        tenant: &TenantId,
        id: &WorkspaceId,
        expected_version: u64,
    ) -> Result<()>;
    async fn list_workspaces(
        &self,
        tenant: &TenantId,
        page: PageRequest,
    ) -> Result<Page<WorkspaceRecord>>;
    /// Only the tenant's desktops a power sweep must look at (sparse index).
    async fn list_sweep_workspaces(
        &self,
        tenant: &TenantId,
        page: PageRequest,
    ) -> Result<Page<WorkspaceRecord>>;
}

#[async_trait]
pub trait StepStore: Send + Sync {
    /// Creates (version 0 → 1) or updates (version n → n+1) a step record.
    async fn put_step(&self, step: &StepRecord) -> Result<StepRecord>;
    async fn get_step(&self, tenant: &TenantId, step: OnboardingStep)
    -> Result<Option<StepRecord>>;
    /// The tenant's step records in the guide's order.
    async fn list_steps(&self, tenant: &TenantId) -> Result<Vec<StepRecord>>;
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn append_audit(&self, record: &AuditRecord) -> Result<()>;
    /// Appends many audit records (their keys carry a fresh id, so none can collide); a
    /// store may batch them. All are written, or an error says the batch was not.
    async fn append_audits(&self, records: &[AuditRecord]) -> Result<()> {
        for r in records {
            self.append_audit(r).await?;
        }
        Ok(())
    }
    /// Audit records at or after `from` and before `to`, oldest first.
    async fn list_audit(
        &self,
        tenant: &TenantId,
        from: Timestamp,
        to: Timestamp,
        page: PageRequest,
    ) -> Result<Page<AuditRecord>>;
}

#[async_trait]
pub trait UsageStore: Send + Sync {
    /// Adds usage deltas, atomically per desktop and month; a store may batch them. All are
    /// added, or the error says the failed batch was not (and a retried call does not count
    /// twice).
    async fn add_usages(&self, deltas: &[UsageDelta]) -> Result<()>;
    /// Adds AVAILABLE time to one desktop's month ([`add_usages`](Self::add_usages) of one).
    async fn add_usage(
        &self,
        tenant: &TenantId,
        workspace: &WorkspaceId,
        month: &Month,
        available_seconds: u64,
        uncertainty_seconds: u64,
    ) -> Result<()> {
        self.add_usages(&[UsageDelta {
            tenant_id: tenant.clone(),
            workspace_id: workspace.clone(),
            month: month.clone(),
            available_seconds,
            uncertainty_seconds,
        }])
        .await
    }
    async fn list_usage(&self, tenant: &TenantId, month: &Month) -> Result<Vec<UsageRecord>>;
}

/// AVAILABLE time to add to one desktop's month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageDelta {
    pub tenant_id: TenantId,
    pub workspace_id: WorkspaceId,
    pub month: Month,
    pub available_seconds: u64,
    pub uncertainty_seconds: u64,
}

#[async_trait]
pub trait DedupeStore: Send + Sync {
    /// Records that an event was seen; `Duplicate` if it was seen before and the record
    /// has not expired. The record expires (TTL) at `expires_at`.
    async fn claim_event(
        &self,
        tenant: &TenantId,
        event_id: &OpaqueId,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<Claim>;
    /// Forgets a claim (the event could not be handled after it was claimed, so its
    /// redelivery must be handled, not skipped).
    async fn forget_event(&self, tenant: &TenantId, event_id: &OpaqueId) -> Result<()>;
}

#[async_trait]
pub trait PoolStore: Send + Sync {
    /// Stores a new pool at version 1; `AlreadyExists` if the name is taken (a tombstone
    /// included).
    async fn create_pool(&self, pool: &PoolRecord) -> Result<PoolRecord>;
    async fn get_pool(&self, tenant: &TenantId, pool: &PoolId) -> Result<Option<PoolRecord>>;
    /// Writes `pool` if the stored version is still `pool.version`; returns it at +1.
    async fn update_pool(&self, pool: &PoolRecord) -> Result<PoolRecord>;
    /// Every pool of the tenant (tombstones included).
    async fn list_pools(&self, tenant: &TenantId) -> Result<Vec<PoolRecord>>;
    /// The desktop records of one pool (those whose seat names it), every page. The table
    /// filters them from the tenant's desktops, so only the pool's are returned and decoded.
    async fn pool_desktops(&self, tenant: &TenantId, pool: &PoolId)
    -> Result<Vec<WorkspaceRecord>>;
}

/// Which stored user a user write may replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserWrite {
    /// Only one changed by an older event (a load).
    Newer,
    /// One changed by an older event, or by an equally old one that was not a removal (a
    /// removal wins a tie with a load; the same removal delivered again changes nothing).
    NewerOrSame,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Writes `user` unless a newer event changed it (see [`UserWrite`]); `false` when it
    /// was superseded and nothing was written.
    async fn put_user(&self, user: &UserRecord, write: UserWrite) -> Result<bool>;
    async fn get_user(&self, tenant: &TenantId, user: &UserId) -> Result<Option<UserRecord>>;
    async fn list_users(&self, tenant: &TenantId, page: PageRequest) -> Result<Page<UserRecord>>;
}

/// Power control plans, holiday calendars, measured start times and plan usage.
#[async_trait]
pub trait PlanStore: Send + Sync {
    /// The plan of a pool (`Some`) or of the tenant's desktops outside pools (`None`).
    async fn get_plan(
        &self,
        tenant: &TenantId,
        pool: Option<&PoolId>,
    ) -> Result<Option<PlanRecord>>;
    /// Writes `plan`: a new one (version 0) only if none exists (`AlreadyExists`), an
    /// existing one only at its version (`VersionConflict`); returns it at +1.
    async fn put_plan(&self, plan: &PlanRecord) -> Result<PlanRecord>;
    /// Every plan record of the tenant.
    async fn list_plans(&self, tenant: &TenantId) -> Result<Vec<PlanRecord>>;
    async fn get_calendar(
        &self,
        tenant: &TenantId,
        name: &CalendarName,
    ) -> Result<Option<CalendarRecord>>;
    /// Like [`PlanStore::put_plan`].
    async fn put_calendar(&self, calendar: &CalendarRecord) -> Result<CalendarRecord>;
    async fn list_calendars(&self, tenant: &TenantId) -> Result<Vec<CalendarRecord>>;
    async fn get_start_times(&self, tenant: &TenantId) -> Result<Option<StartTimes>>;
    /// Like [`PlanStore::put_plan`].
    async fn put_start_times(&self, times: &StartTimes) -> Result<StartTimes>;
    /// Adds seconds inside and outside windows to each group's month (an atomic `ADD`).
    async fn add_plan_usages(&self, usage: &[PlanUsageRecord]) -> Result<()>;
    async fn list_plan_usage(
        &self,
        tenant: &TenantId,
        month: &Month,
    ) -> Result<Vec<PlanUsageRecord>>;
}

/// Everything Steward stores.
pub trait Store:
    TenantStore
    + WorkspaceStore
    + StepStore
    + AuditStore
    + UsageStore
    + DedupeStore
    + PoolStore
    + UserStore
    + PlanStore
{
}

impl<T> Store for T where
    T: TenantStore
        + WorkspaceStore
        + StepStore
        + AuditStore
        + UsageStore
        + DedupeStore
        + PoolStore
        + UserStore
        + PlanStore
{
}
