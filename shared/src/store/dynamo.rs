//! The store on DynamoDB: one table, composite keys per tenant, one sparse index.
//! See [`super::schema`] for the key layout.

use std::collections::HashMap;
use std::error::Error as StdError;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, Put, PutRequest, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update, WriteRequest,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::SecondsFormat;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::schema::{GSI1, GSI1_PK, GSI1_SK, PK, SK, TTL_ATTRIBUTE};
use super::{
    AuditStore, Claim, DedupeStore, Page, PageRequest, RecordKind, Result, StepStore, StoreError,
    TenantStore, UsageDelta, UsageStore, WorkspaceStore,
};
use crate::aws::AwsErrorKind;
use crate::ids::{OpaqueId, TenantId, WorkspaceId};
use crate::model::{
    AuditRecord, Month, OnboardingStep, StepRecord, Tenant, Timestamp, UsageRecord, WorkspaceRecord,
};

type Item = HashMap<String, AttributeValue>;

const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 1000;

/// Classifies a DynamoDB SDK error: throttling and unreachable service are kept apart
/// from requests the table refused, because only the first two are worth retrying.
pub(crate) fn classify<E>(err: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(ctx) => {
            let code = ctx.err().code().unwrap_or_default();
            match AwsErrorKind::from_code(code) {
                AwsErrorKind::Throttled => StoreError::Throttled {
                    source: Box::new(err),
                },
                AwsErrorKind::Transient => StoreError::Unavailable {
                    source: Box::new(err),
                },
                _ if code == "InternalServerError" => StoreError::Unavailable {
                    source: Box::new(err),
                },
                _ => StoreError::Request {
                    message: format!("{code}: {}", ctx.err().message().unwrap_or("no message")),
                    source: Box::new(err),
                },
            }
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            StoreError::Unavailable {
                source: Box::new(err),
            }
        }
        _ => StoreError::Request {
            message: err.to_string(),
            source: Box::new(err),
        },
    }
}

/// Records whose writes are guarded by a version.
trait Versioned {
    fn version(&self) -> u64;
    fn set_version(&mut self, v: u64);
}

macro_rules! versioned {
    ($($t:ty),*) => {$(
        impl Versioned for $t {
            fn version(&self) -> u64 { self.version }
            fn set_version(&mut self, v: u64) { self.version = v; }
        }
    )*};
}
versioned!(Tenant, WorkspaceRecord, StepRecord);

/// Key attributes of one item.
struct Keys {
    pk: String,
    sk: String,
    gsi1: Option<(String, String)>,
}

impl Keys {
    fn key(&self) -> Item {
        HashMap::from([
            (PK.to_owned(), AttributeValue::S(self.pk.clone())),
            (SK.to_owned(), AttributeValue::S(self.sk.clone())),
        ])
    }

    fn describe(&self) -> String {
        format!("{}/{}", self.pk, self.sk)
    }
}

fn tenant_pk(t: &TenantId) -> String {
    format!("TENANT#{t}")
}

const TENANT_SK: &str = "TENANT";
const TENANTS_PARTITION: &str = "TENANTS";
const WS_PREFIX: &str = "WS#";
const STEP_PREFIX: &str = "STEP#";
const AUDIT_PREFIX: &str = "AUDIT#";
const USAGE_PREFIX: &str = "USAGE#";
const EVENT_PREFIX: &str = "EVENT#";

fn tenant_keys(t: &TenantId) -> Keys {
    Keys {
        pk: tenant_pk(t),
        sk: TENANT_SK.into(),
        gsi1: Some((TENANTS_PARTITION.into(), t.to_string())),
    }
}

fn sweep_partition(t: &TenantId) -> String {
    format!("SWEEP#{t}")
}

fn workspace_keys(ws: &WorkspaceRecord) -> Keys {
    Keys {
        pk: tenant_pk(&ws.tenant_id),
        sk: format!("{WS_PREFIX}{}", ws.workspace_id),
        gsi1: ws
            .needs_sweep()
            .then(|| (sweep_partition(&ws.tenant_id), ws.workspace_id.to_string())),
    }
}

fn step_sk(step: OnboardingStep) -> String {
    let name = serde_json::to_value(step)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    format!("{STEP_PREFIX}{:02}#{name}", step.number())
}

fn timestamp_key(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn to_item<T: Serialize>(kind: RecordKind, keys: &Keys, record: &T) -> Result<Item> {
    let mut item: Item = serde_dynamo::to_item(record).map_err(|source| StoreError::Corrupt {
        kind,
        key: keys.describe(),
        source,
    })?;
    item.insert(PK.into(), AttributeValue::S(keys.pk.clone()));
    item.insert(SK.into(), AttributeValue::S(keys.sk.clone()));
    if let Some((gpk, gsk)) = &keys.gsi1 {
        item.insert(GSI1_PK.into(), AttributeValue::S(gpk.clone()));
        item.insert(GSI1_SK.into(), AttributeValue::S(gsk.clone()));
    }
    Ok(item)
}

fn from_item<T: DeserializeOwned>(kind: RecordKind, item: Item) -> Result<T> {
    let key = match (item.get(PK), item.get(SK)) {
        (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) => format!("{pk}/{sk}"),
        _ => "<no key>".into(),
    };
    serde_dynamo::from_item(item).map_err(|source| StoreError::Corrupt { kind, key, source })
}

fn string_attr(item: &Item, name: &str) -> Option<String> {
    match item.get(name) {
        Some(AttributeValue::S(s)) => Some(s.clone()),
        _ => None,
    }
}

/// Items per BatchWriteItem (the service's limit).
const BATCH_WRITE: usize = 25;
/// Rounds of a batch write before its unprocessed items are reported as throttled.
const BATCH_ATTEMPTS: u32 = 6;
const BATCH_BACKOFF: std::time::Duration = std::time::Duration::from_millis(50);
/// Actions per TransactWriteItems (the service's limit).
const TRANSACT_MAX: usize = 100;

/// What one action of a cancelled transaction needs next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cancelled {
    /// Its own condition failed; `existed` says whether the item was there at all.
    ConditionFailed { existed: bool },
    /// Not at fault (another action cancelled the transaction), or it met a transient
    /// condition (throttling, another transaction on the same item): send it again.
    Retry,
    /// The table refused it for good (validation, item collection size, …).
    Refused,
}

/// Reads one cancellation reason (codes as the DynamoDB API reference lists them).
fn cancelled(reason: &CancellationReason) -> Cancelled {
    match reason.code() {
        None | Some("None") => Cancelled::Retry,
        Some("ConditionalCheckFailed") => Cancelled::ConditionFailed {
            existed: reason.item().is_some_and(|i| !i.is_empty()),
        },
        Some(
            "TransactionConflict"
            | "ThrottlingError"
            | "ProvisionedThroughputExceeded"
            | "RequestLimitExceeded",
        ) => Cancelled::Retry,
        Some(_) => Cancelled::Refused,
    }
}

/// Before round `round` of a batch: waits (exponential back-off from the second round
/// on), or gives up as `Throttled` once [`BATCH_ATTEMPTS`] rounds have not been enough.
async fn next_round(round: u32, left: usize, what: &str) -> Result<()> {
    if round == BATCH_ATTEMPTS {
        return Err(StoreError::Throttled {
            source: format!("{left} {what} after {BATCH_ATTEMPTS} rounds").into(),
        });
    }
    if round > 0 {
        tokio::time::sleep(BATCH_BACKOFF * 2u32.pow(round - 1)).await;
    }
    Ok(())
}

fn transact_build_err(what: &str, e: aws_smithy_types::error::operation::BuildError) -> StoreError {
    StoreError::Request {
        message: format!("{what}: {e}"),
        source: Box::new(e),
    }
}

fn audit_keys(record: &AuditRecord) -> Keys {
    Keys {
        pk: tenant_pk(&record.tenant_id),
        sk: format!(
            "{AUDIT_PREFIX}{}#{}",
            timestamp_key(record.at),
            record.audit_id
        ),
        gsi1: None,
    }
}

fn page_limit(page: &PageRequest) -> i32 {
    page.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE) as i32
}

/// The one DynamoDB-backed store.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    async fn get<T: DeserializeOwned>(&self, kind: RecordKind, keys: &Keys) -> Result<Option<T>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(keys.key()))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        out.item.map(|item| from_item(kind, item)).transpose()
    }

    /// Writes a new record at version 1; fails if the key is taken.
    async fn put_new<T>(&self, kind: RecordKind, keys: &Keys, record: &T) -> Result<T>
    where
        T: Serialize + Versioned + Clone,
    {
        let mut stored = record.clone();
        stored.set_version(1);
        self.put_if_absent(kind, keys, &stored).await?;
        Ok(stored)
    }

    /// Writes an item whose key must not exist yet; `AlreadyExists` otherwise.
    async fn put_if_absent<T: Serialize>(
        &self,
        kind: RecordKind,
        keys: &Keys,
        record: &T,
    ) -> Result<()> {
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(kind, keys, record)?))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::AlreadyExists {
                    kind,
                    key: keys.describe(),
                })
            }
            Err(e) => Err(classify(e)),
        }
    }

    /// Replaces a record if it is still at `record.version()`; returns it at +1.
    async fn put_versioned<T>(&self, kind: RecordKind, keys: &Keys, record: &T) -> Result<T>
    where
        T: Serialize + Versioned + Clone,
    {
        let expected = record.version();
        let mut stored = record.clone();
        stored.set_version(expected + 1);
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(kind, keys, &stored)?))
            .condition_expression("#v = :expected")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match res {
            Ok(_) => Ok(stored),
            Err(e) => match e.as_service_error() {
                Some(s) if s.is_conditional_check_failed_exception() => {
                    let existed = match s {
                        aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c) => {
                            c.item().is_some_and(|i| !i.is_empty())
                        }
                        _ => false,
                    };
                    let key = keys.describe();
                    Err(if existed {
                        StoreError::VersionConflict {
                            kind,
                            key,
                            expected,
                        }
                    } else {
                        StoreError::NotFound { kind, key }
                    })
                }
                _ => Err(classify(e)),
            },
        }
    }

    /// Sends one TransactWriteItems. `Ok(None)`: every action applied. `Ok(Some(reasons))`:
    /// the transaction was cancelled and nothing applied; one reason per action, in order.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<Option<Vec<Cancelled>>> {
        let n = items.len();
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(None),
            Err(e) => match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                    let reasons: Vec<Cancelled> =
                        c.cancellation_reasons().iter().map(cancelled).collect();
                    if reasons.len() == n {
                        Ok(Some(reasons))
                    } else {
                        Err(StoreError::Request {
                            message: format!(
                                "transaction cancelled with {} reasons for {n} actions",
                                reasons.len()
                            ),
                            source: Box::new(e),
                        })
                    }
                }
                _ => Err(classify(e)),
            },
        }
    }

    /// One page of a query. `start` is the exclusive start key of the page.
    async fn query(
        &self,
        index: Option<&str>,
        condition: &str,
        values: Vec<(&str, String)>,
        names: Vec<(&str, &str)>,
        limit: Option<i32>,
        start: Option<Item>,
    ) -> Result<(Vec<Item>, Option<Item>)> {
        let mut q = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(index.map(str::to_owned))
            .key_condition_expression(condition)
            .set_limit(limit)
            .set_exclusive_start_key(start)
            .consistent_read(index.is_none());
        for (k, v) in values {
            q = q.expression_attribute_values(k, AttributeValue::S(v));
        }
        for (k, v) in names {
            q = q.expression_attribute_names(k, v);
        }
        let out = q.send().await.map_err(classify)?;
        Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
    }

    /// A page of the items in partition `pk` whose sort key starts with `prefix`.
    /// The cursor is the last item's sort key after the prefix.
    async fn page_by_prefix<T: DeserializeOwned>(
        &self,
        kind: RecordKind,
        pk: String,
        prefix: &str,
        page: PageRequest,
    ) -> Result<Page<T>> {
        let start = page.after.as_ref().map(|after| {
            HashMap::from([
                (PK.to_owned(), AttributeValue::S(pk.clone())),
                (SK.to_owned(), AttributeValue::S(format!("{prefix}{after}"))),
            ])
        });
        let (items, last) = self
            .query(
                None,
                "#pk = :pk AND begins_with(#sk, :prefix)",
                vec![(":pk", pk.clone()), (":prefix", prefix.to_owned())],
                vec![("#pk", PK), ("#sk", SK)],
                Some(page_limit(&page)),
                start,
            )
            .await?;
        let next = last
            .and_then(|k| string_attr(&k, SK))
            .and_then(|sk| sk.strip_prefix(prefix).map(str::to_owned));
        let items = items
            .into_iter()
            .map(|i| from_item(kind, i))
            .collect::<Result<_>>()?;
        Ok(Page { items, next })
    }

    /// A page of the sparse index partition `gsi_pk`. The cursor is the last `gsi1sk`;
    /// `base_key` rebuilds the item's table key from it.
    async fn page_by_index<T: DeserializeOwned>(
        &self,
        kind: RecordKind,
        gsi_pk: String,
        page: PageRequest,
        base_key: impl Fn(&str) -> Result<(String, String)>,
    ) -> Result<Page<T>> {
        let start = match page.after.as_deref() {
            None => None,
            Some(after) => {
                let (pk, sk) = base_key(after)?;
                Some(HashMap::from([
                    (GSI1_PK.to_owned(), AttributeValue::S(gsi_pk.clone())),
                    (GSI1_SK.to_owned(), AttributeValue::S(after.to_owned())),
                    (PK.to_owned(), AttributeValue::S(pk)),
                    (SK.to_owned(), AttributeValue::S(sk)),
                ]))
            }
        };
        let (items, last) = self
            .query(
                Some(GSI1),
                "#gpk = :gpk",
                vec![(":gpk", gsi_pk)],
                vec![("#gpk", GSI1_PK)],
                Some(page_limit(&page)),
                start,
            )
            .await?;
        let next = last.and_then(|k| string_attr(&k, GSI1_SK));
        let items = items
            .into_iter()
            .map(|i| from_item(kind, i))
            .collect::<Result<_>>()?;
        Ok(Page { items, next })
    }
}

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
        let keys = Keys {
            pk: tenant_pk(tenant),
            sk: format!("{WS_PREFIX}{id}"),
            gsi1: None,
        };
        self.get(RecordKind::Workspace, &keys).await
    }

    async fn update_workspace(&self, ws: &WorkspaceRecord) -> Result<WorkspaceRecord> {
        self.put_versioned(RecordKind::Workspace, &workspace_keys(ws), ws)
            .await
    }

    /// TransactWriteItems of up to 100 conditional puts (each at twice a put's write cost).
    /// A cancelled transaction applied nothing: the actions whose own condition failed are
    /// answered, and the others are sent again (with back-off when throttled), up to
    /// [`BATCH_ATTEMPTS`] rounds.
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
        let keys = Keys {
            pk: tenant_pk(tenant),
            sk: format!("{WS_PREFIX}{id}"),
            gsi1: None,
        };
        let res = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keys.key()))
            .condition_expression("#v = :expected")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(
                ":expected",
                AttributeValue::N(expected_version.to_string()),
            )
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(
                    aws_sdk_dynamodb::operation::delete_item::DeleteItemError::ConditionalCheckFailedException(c),
                ) => Err(if c.item().is_some_and(|i| !i.is_empty()) {
                    StoreError::VersionConflict {
                        kind: RecordKind::Workspace,
                        key: keys.describe(),
                        expected: expected_version,
                    }
                } else {
                    StoreError::NotFound {
                        kind: RecordKind::Workspace,
                        key: keys.describe(),
                    }
                }),
                _ => Err(classify(e)),
            },
        }
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

#[async_trait]
impl StepStore for DynamoStore {
    async fn put_step(&self, step: &StepRecord) -> Result<StepRecord> {
        let keys = Keys {
            pk: tenant_pk(&step.tenant_id),
            sk: step_sk(step.step),
            gsi1: None,
        };
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
        let keys = Keys {
            pk: tenant_pk(tenant),
            sk: step_sk(step),
            gsi1: None,
        };
        self.get(RecordKind::Step, &keys).await
    }

    async fn list_steps(&self, tenant: &TenantId) -> Result<Vec<StepRecord>> {
        super::collect_all(|page| {
            self.page_by_prefix(RecordKind::Step, tenant_pk(tenant), STEP_PREFIX, page)
        })
        .await
    }
}

#[async_trait]
impl AuditStore for DynamoStore {
    async fn append_audit(&self, record: &AuditRecord) -> Result<()> {
        self.put_if_absent(RecordKind::Audit, &audit_keys(record), record)
            .await
    }

    /// BatchWriteItem, 25 records per call; items the table leaves unprocessed (throttling)
    /// are sent again with exponential back-off, up to [`BATCH_ATTEMPTS`] rounds.
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
            .query(
                None,
                "#pk = :pk AND #sk BETWEEN :from AND :to",
                vec![
                    (":pk", pk),
                    (":from", format!("{AUDIT_PREFIX}{}", timestamp_key(from))),
                    (":to", format!("{AUDIT_PREFIX}{}", timestamp_key(to))),
                ],
                vec![("#pk", PK), ("#sk", SK)],
                Some(page_limit(&page)),
                start,
            )
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

#[async_trait]
impl UsageStore for DynamoStore {
    /// The one way usage is added (one desktop's addition too): TransactWriteItems of up
    /// to 100 additions, after adding up deltas for the same
    /// desktop and month (a transaction may touch an item once). The SDK gives each
    /// transaction a ClientRequestToken and keeps it across its retries, so a retried call
    /// whose first attempt did apply is not counted twice; a cancelled one applied nothing
    /// and is sent again, up to [`BATCH_ATTEMPTS`] rounds.
    async fn add_usages(&self, deltas: &[UsageDelta]) -> Result<()> {
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
        for chunk in merged.chunks(TRANSACT_MAX) {
            let items = chunk
                .iter()
                .map(|d| {
                    let keys = usage_keys(&d.tenant_id, &d.workspace_id, &d.month);
                    let u = Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(keys.key()))
                        .update_expression(
                            "ADD #avail :a, #unc :u SET #tenant = :t, #ws = :w, #month = :m",
                        )
                        .expression_attribute_names("#avail", "available_seconds")
                        .expression_attribute_names("#unc", "uncertainty_seconds")
                        .expression_attribute_names("#tenant", "tenant_id")
                        .expression_attribute_names("#ws", "workspace_id")
                        .expression_attribute_names("#month", "month")
                        .expression_attribute_values(
                            ":a",
                            AttributeValue::N(d.available_seconds.to_string()),
                        )
                        .expression_attribute_values(
                            ":u",
                            AttributeValue::N(d.uncertainty_seconds.to_string()),
                        )
                        .expression_attribute_values(
                            ":t",
                            AttributeValue::S(d.tenant_id.to_string()),
                        )
                        .expression_attribute_values(
                            ":w",
                            AttributeValue::S(d.workspace_id.to_string()),
                        )
                        .expression_attribute_values(
                            ":m",
                            AttributeValue::S(d.month.as_str().to_owned()),
                        )
                        .build()
                        .map_err(|e| transact_build_err("usage update", e))?;
                    Ok(TransactWriteItem::builder().update(u).build())
                })
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
        super::collect_all(|page| {
            self.page_by_prefix(RecordKind::Usage, tenant_pk(tenant), &prefix, page)
        })
        .await
    }
}

fn usage_keys(tenant: &TenantId, workspace: &WorkspaceId, month: &Month) -> Keys {
    Keys {
        pk: tenant_pk(tenant),
        sk: format!("{USAGE_PREFIX}{}#{workspace}", month.as_str()),
        gsi1: None,
    }
}

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
        let keys = Keys {
            pk: tenant_pk(tenant),
            sk: format!("{EVENT_PREFIX}{event_id}"),
            gsi1: None,
        };
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_keys_sort_in_guide_order() {
        let keys: Vec<String> = OnboardingStep::ALL.iter().map(|s| step_sk(*s)).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(
            step_sk(OnboardingStep::ValidateAccess),
            "STEP#01#VALIDATE_ACCESS"
        );
        assert_eq!(step_sk(OnboardingStep::Complete), "STEP#12#COMPLETE");
    }

    #[test]
    fn timestamp_keys_are_fixed_width_and_sort() {
        let a = chrono::DateTime::parse_from_rfc3339("2026-11-21T09:00:00Z")
            .unwrap()
            .to_utc();
        let b = a + chrono::Duration::microseconds(1);
        assert_eq!(timestamp_key(a), "2026-11-21T09:00:00.000000Z");
        assert!(timestamp_key(a) < timestamp_key(b));
        assert_eq!(timestamp_key(a).len(), timestamp_key(b).len());
    }
}
