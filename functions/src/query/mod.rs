//! `query`: the synchronous queries partner backends make (Lambda Invoke, RequestResponse).
//!
//! Request: `{"query": "<name>", "tenantId": "...", ...}` (schemas in
//! `events/schemas/query/`). The tenant must be registered; the answer is JSON. Queries:
//!
//! | query | answers | calls |
//! |---|---|---|
//! | `desktops` | each registered desktop: Steward's view and the service's | DescribeWorkspaces, DescribeWorkspacesConnectionStatus |
//! | `bundles` | the account's bundles, with `partnerTagged` | DescribeWorkspaceBundles, DescribeTags |
//! | `images` | the account's images, with `partnerTagged` | DescribeWorkspaceImages, DescribeTags |
//! | `imagePermissions` | accounts one partner image is shared with (`imageId`) | DescribeWorkspaceImagePermissions |
//! | `snapshots` | rebuild and restore snapshots of one registered desktop (`workspaceId`) | DescribeWorkspaceSnapshots |
//! | `directories` | the account's directories | DescribeWorkspaceDirectories |
//! | `tags` | one resource's tags (`resourceId`) | DescribeTags |
//! | `account` | BYOL status and its modifications | DescribeAccount, DescribeAccountModifications |
//! | `usage` | usage hours for a month (`month`, `YYYY-MM`) | — (the table) |
//! | `audit` | the audit trail (`from`, `to`, RFC 3339; at most `limit` records, default 100) | — (the table) |
//! | `pools` | each pool in use (or the one `poolId` names, a deleted one too): configuration and status | — (the table) |
//! | `userDesktops` | one user (`userId`), the desktops the user holds and those released within their delay | — (the table) |
//! | `desktopUser` | one registered desktop's pool and user (`workspaceId`) | — (the table) |
//! | `powerPlans` | each group's power plan where it stands now (phase, pre-warm lead, next window in UTC and local time, override in force), and the holiday calendars | — (the table) |
//! | `planReport` | per group, hours AVAILABLE inside and outside its windows in a month (`month`, `YYYY-MM`) and saved against always-on | — (the table) |
//!
//! The answers are built from the WorkSpaces gateway's typed views by the camelCase view
//! types of `answers.rs`: what a partner sees of a bundle or an image is decided in one place,
//! and the gateway stays free of JSON. The pool queries (`pools.rs`) answer from the
//! records alone: who holds a pool desktop is Steward's model, not the service's. So do the
//! plan queries (`plans.rs`), evaluating each plan as the idle sweep does.
//!
//! A bad request fails with `Steward.ValidationError`, an unknown tenant with
//! `Steward.NotFound`, a desktop or image that is not the tenant's with `Steward.NotOwned`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};
use steward_shared::Error;
use steward_shared::aws::{TenantAccess, TenantClients};
use steward_shared::error::names;
use steward_shared::gateway::workspaces::WorkspacesGateway;
use steward_shared::ids::{ImageId, PoolId, RegionName, TenantId, UserId, WorkspaceId};
use steward_shared::lifecycle::region_of;
use steward_shared::model::{Tenant, Timestamp};
use steward_shared::store::{AuditStore, PageRequest, TenantStore, WorkspaceStore, collect_all};

use crate::deps::Deps;
use crate::input::parse_input;

mod answers;
use answers::{
    AccountAnswer, AuditAnswer, BundleAnswer, DesktopAnswer, DesktopConnection, DirectoryAnswer,
    ImageAnswer, ServiceDesktop, SnapshotsAnswer, StewardDesktop, Tagged,
};
mod plans;
mod pools;

/// The queries, as the request's `query` names them.
pub const QUERIES: [&str; 15] = [
    "desktops",
    "bundles",
    "images",
    "imagePermissions",
    "snapshots",
    "directories",
    "tags",
    "account",
    "usage",
    "audit",
    "pools",
    "userDesktops",
    "desktopUser",
    "powerPlans",
    "planReport",
];

#[derive(Debug, Deserialize)]
#[serde(tag = "query", rename_all = "camelCase", deny_unknown_fields)]
pub enum Query {
    #[serde(rename_all = "camelCase")]
    Desktops { tenant_id: TenantId },
    #[serde(rename_all = "camelCase")]
    Bundles {
        tenant_id: TenantId,
        #[serde(default)]
        region: Option<RegionName>,
    },
    #[serde(rename_all = "camelCase")]
    Images {
        tenant_id: TenantId,
        #[serde(default)]
        region: Option<RegionName>,
    },
    #[serde(rename_all = "camelCase")]
    ImagePermissions {
        tenant_id: TenantId,
        image_id: ImageId,
        #[serde(default)]
        region: Option<RegionName>,
    },
    #[serde(rename_all = "camelCase")]
    Snapshots {
        tenant_id: TenantId,
        workspace_id: WorkspaceId,
    },
    #[serde(rename_all = "camelCase")]
    Directories {
        tenant_id: TenantId,
        #[serde(default)]
        region: Option<RegionName>,
    },
    #[serde(rename_all = "camelCase")]
    Tags {
        tenant_id: TenantId,
        resource_id: String,
        #[serde(default)]
        region: Option<RegionName>,
    },
    #[serde(rename_all = "camelCase")]
    Account {
        tenant_id: TenantId,
        #[serde(default)]
        region: Option<RegionName>,
    },
    #[serde(rename_all = "camelCase")]
    Usage {
        tenant_id: TenantId,
        month: steward_shared::model::Month,
    },
    #[serde(rename_all = "camelCase")]
    Audit {
        tenant_id: TenantId,
        from: Timestamp,
        to: Timestamp,
        #[serde(default)]
        limit: Option<u32>,
    },
    #[serde(rename_all = "camelCase")]
    Pools {
        tenant_id: TenantId,
        #[serde(default)]
        pool_id: Option<PoolId>,
    },
    #[serde(rename_all = "camelCase")]
    UserDesktops {
        tenant_id: TenantId,
        user_id: UserId,
    },
    #[serde(rename_all = "camelCase")]
    DesktopUser {
        tenant_id: TenantId,
        workspace_id: WorkspaceId,
    },
    #[serde(rename_all = "camelCase")]
    PowerPlans { tenant_id: TenantId },
    #[serde(rename_all = "camelCase")]
    PlanReport {
        tenant_id: TenantId,
        month: steward_shared::model::Month,
    },
}

impl Query {
    fn tenant_id(&self) -> &TenantId {
        match self {
            Query::Desktops { tenant_id }
            | Query::Bundles { tenant_id, .. }
            | Query::Images { tenant_id, .. }
            | Query::ImagePermissions { tenant_id, .. }
            | Query::Snapshots { tenant_id, .. }
            | Query::Directories { tenant_id, .. }
            | Query::Tags { tenant_id, .. }
            | Query::Account { tenant_id, .. }
            | Query::Usage { tenant_id, .. }
            | Query::Audit { tenant_id, .. }
            | Query::Pools { tenant_id, .. }
            | Query::UserDesktops { tenant_id, .. }
            | Query::DesktopUser { tenant_id, .. }
            | Query::PowerPlans { tenant_id }
            | Query::PlanReport { tenant_id, .. } => tenant_id,
        }
    }
}

fn not_owned(what: impl std::fmt::Display) -> Error {
    Error::refused(
        names::NOT_OWNED,
        format!("{what} is not one of the tenant's"),
    )
}

fn region(named: Option<&RegionName>, tenant: &Tenant) -> Result<RegionName, Error> {
    region_of(named, &tenant.regions).map_err(|r| not_owned(r.to_string()))
}

async fn clients(deps: &Deps, tenant: &Tenant, region: &RegionName) -> TenantClients {
    deps.clients
        .for_tenant(TenantAccess::new(tenant, region))
        .await
}

/// Each listed resource beside whether it carries the partner tag (DescribeTags per
/// resource).
async fn partner_tagged<T>(
    gateway: &WorkspacesGateway<'_>,
    tenant: &Tenant,
    items: Vec<(String, T)>,
) -> Result<Vec<Tagged<T>>, Error> {
    let mut out = Vec::new();
    for (id, item) in items {
        let partner_tagged = gateway
            .carries_partner_tag(&id, &tenant.partner_tag)
            .await?;
        out.push(Tagged {
            item,
            partner_tagged,
        });
    }
    Ok(out)
}

pub async fn handler(event: Value, deps: &Deps) -> Result<Value, Error> {
    let known = event
        .get("query")
        .and_then(Value::as_str)
        .is_some_and(|q| QUERIES.contains(&q));
    if !known {
        return Err(Error::refused(
            names::VALIDATION,
            format!("invalid input at `query`: one of {QUERIES:?} is required"),
        ));
    }
    let q: Query = parse_input(event)?;
    let tenant = deps.store.get_tenant(q.tenant_id()).await?.ok_or_else(|| {
        Error::refused(
            names::NOT_FOUND,
            format!("tenant {} is not registered", q.tenant_id()),
        )
    })?;
    let tid = &tenant.tenant_id;
    match &q {
        Query::Desktops { .. } => desktops(deps, &tenant).await,
        Query::Bundles { region, .. } => bundles(deps, &tenant, region.as_ref()).await,
        Query::Images { region, .. } => images(deps, &tenant, region.as_ref()).await,
        Query::ImagePermissions {
            image_id, region, ..
        } => image_permissions(deps, &tenant, image_id, region.as_ref()).await,
        Query::Snapshots { workspace_id, .. } => snapshots(deps, &tenant, workspace_id).await,
        Query::Directories { region, .. } => directories(deps, &tenant, region.as_ref()).await,
        Query::Tags {
            resource_id,
            region,
            ..
        } => tags(deps, &tenant, resource_id, region.as_ref()).await,
        Query::Account { region, .. } => account(deps, &tenant, region.as_ref()).await,
        Query::Usage { month, .. } => {
            Ok(json!(crate::power::usage::ledger(deps, tid, month).await?))
        }
        Query::Audit {
            from, to, limit, ..
        } => audit(deps, tid, *from, *to, *limit).await,
        Query::Pools { pool_id, .. } => pools::pools(deps, tid, pool_id.as_ref()).await,
        Query::UserDesktops { user_id, .. } => pools::user_desktops(deps, tid, user_id).await,
        Query::DesktopUser { workspace_id, .. } => {
            pools::desktop_user(deps, tid, workspace_id).await
        }
        Query::PowerPlans { .. } => plans::power_plans(deps, tid).await,
        Query::PlanReport { month, .. } => plans::plan_report(deps, tid, month).await,
    }
}

/// The tenant's clients in the Region the query names, or in its one Region.
async fn clients_in(
    deps: &Deps,
    tenant: &Tenant,
    named: Option<&RegionName>,
) -> Result<TenantClients, Error> {
    Ok(clients(deps, tenant, &region(named, tenant)?).await)
}

/// The account's bundles, each with whether it carries the partner tag.
async fn bundles(deps: &Deps, tenant: &Tenant, named: Option<&RegionName>) -> Result<Value, Error> {
    let c = clients_in(deps, tenant, named).await?;
    let gateway = WorkspacesGateway::new(c.workspaces());
    let list = gateway.bundles().await?;
    let items: Vec<_> = list
        .iter()
        .map(|b| (b.bundle_id.to_string(), BundleAnswer::from(b)))
        .collect();
    let bundles = partner_tagged(&gateway, tenant, items).await?;
    Ok(json!({"tenantId": tenant.tenant_id, "bundles": bundles}))
}

/// The account's images, each with whether it carries the partner tag.
async fn images(deps: &Deps, tenant: &Tenant, named: Option<&RegionName>) -> Result<Value, Error> {
    let c = clients_in(deps, tenant, named).await?;
    let gateway = WorkspacesGateway::new(c.workspaces());
    let list = gateway.images().await?;
    let items: Vec<_> = list
        .iter()
        .map(|i| (i.image_id.to_string(), ImageAnswer::from(i)))
        .collect();
    let images = partner_tagged(&gateway, tenant, items).await?;
    Ok(json!({"tenantId": tenant.tenant_id, "images": images}))
}

/// The accounts a partner-tagged image is shared with.
async fn image_permissions(
    deps: &Deps,
    tenant: &Tenant,
    image_id: &ImageId,
    named: Option<&RegionName>,
) -> Result<Value, Error> {
    let c = clients_in(deps, tenant, named).await?;
    let gateway = WorkspacesGateway::new(c.workspaces());
    if !gateway
        .carries_partner_tag(image_id.as_str(), &tenant.partner_tag)
        .await?
    {
        return Err(not_owned(image_id));
    }
    let shared = gateway.image_permissions(image_id).await?;
    Ok(json!({"tenantId": tenant.tenant_id, "imageId": image_id, "sharedAccountIds": shared}))
}

/// A registered desktop's rebuild and restore snapshots.
async fn snapshots(
    deps: &Deps,
    tenant: &Tenant,
    workspace_id: &WorkspaceId,
) -> Result<Value, Error> {
    let rec = deps
        .store
        .get_workspace(&tenant.tenant_id, workspace_id)
        .await?
        .ok_or_else(|| not_owned(workspace_id))?;
    let c = clients(deps, tenant, &rec.region).await;
    let s = WorkspacesGateway::new(c.workspaces())
        .snapshots(workspace_id)
        .await?;
    Ok(json!({"tenantId": tenant.tenant_id, "snapshots": SnapshotsAnswer::of(workspace_id, &s)}))
}

/// The account's directories, each with whether it carries the partner tag.
async fn directories(
    deps: &Deps,
    tenant: &Tenant,
    named: Option<&RegionName>,
) -> Result<Value, Error> {
    let c = clients_in(deps, tenant, named).await?;
    let gateway = WorkspacesGateway::new(c.workspaces());
    let list = gateway.directories().await?;
    let items: Vec<_> = list
        .iter()
        .map(|d| (d.directory_id.to_string(), DirectoryAnswer::from(d)))
        .collect();
    let directories = partner_tagged(&gateway, tenant, items).await?;
    Ok(json!({"tenantId": tenant.tenant_id, "directories": directories}))
}

/// One resource's tags. A desktop is looked up in the registry (it must be the tenant's,
/// and its Region is the registry's); any other resource in the Region the query names.
async fn tags(
    deps: &Deps,
    tenant: &Tenant,
    resource_id: &str,
    named: Option<&RegionName>,
) -> Result<Value, Error> {
    let region = match WorkspaceId::parse(resource_id) {
        Ok(ws) => {
            deps.store
                .get_workspace(&tenant.tenant_id, &ws)
                .await?
                .ok_or_else(|| not_owned(&ws))?
                .region
        }
        Err(_) => region(named, tenant)?,
    };
    let c = clients(deps, tenant, &region).await;
    let tags = WorkspacesGateway::new(c.workspaces())
        .tags(resource_id)
        .await?;
    let map: BTreeMap<String, String> = tags.into_iter().map(|t| (t.key, t.value)).collect();
    Ok(json!({"tenantId": tenant.tenant_id, "resourceId": resource_id, "tags": map}))
}

/// The account's BYOL status and its modifications.
async fn account(deps: &Deps, tenant: &Tenant, named: Option<&RegionName>) -> Result<Value, Error> {
    let c = clients_in(deps, tenant, named).await?;
    let account = WorkspacesGateway::new(c.workspaces()).account().await?;
    Ok(json!({"tenantId": tenant.tenant_id, "account": AccountAnswer::from(&account)}))
}

/// Every registered desktop: Steward's record beside the service's view of it
/// (DescribeWorkspaces and DescribeWorkspacesConnectionStatus, per Region).
async fn desktops(deps: &Deps, tenant: &Tenant) -> Result<Value, Error> {
    let tid = &tenant.tenant_id;
    let records = collect_all(|p: PageRequest| deps.store.list_workspaces(tid, p)).await?;
    let mut by_region: BTreeMap<String, Vec<WorkspaceId>> = Default::default();
    for r in &records {
        by_region
            .entry(r.region.to_string())
            .or_default()
            .push(r.workspace_id.clone());
    }
    let mut service = Vec::new();
    let mut connection = Vec::new();
    for (region, ids) in &by_region {
        let region = RegionName::parse(region.as_str())?;
        let c = clients(deps, tenant, &region).await;
        let gateway = WorkspacesGateway::new(c.workspaces());
        service.extend(gateway.describe(ids).await?.found);
        connection.extend(gateway.connection_status(ids).await?);
    }
    let desktops: Vec<DesktopAnswer<'_>> = records
        .iter()
        .map(|r| DesktopAnswer {
            workspace_id: &r.workspace_id,
            steward: StewardDesktop::from(r),
            service: service
                .iter()
                .find(|o| o.workspace_id == r.workspace_id)
                .map(ServiceDesktop::from),
            connection: connection
                .iter()
                .find(|s| s.workspace_id == r.workspace_id)
                .map(DesktopConnection::from),
        })
        .collect();
    Ok(json!({"tenantId": tid, "desktops": desktops}))
}

/// The audit trail between `from` and `to`: at most `limit` records (default 100, at most
/// 1000), read in pages of 100.
async fn audit(
    deps: &Deps,
    tid: &TenantId,
    from: Timestamp,
    to: Timestamp,
    limit: Option<u32>,
) -> Result<Value, Error> {
    let limit = limit.unwrap_or(100).clamp(1, 1000);
    let mut records = Vec::new();
    let mut page = PageRequest::first(limit.min(100));
    loop {
        let got = deps.store.list_audit(tid, from, to, page).await?;
        records.extend(got.items);
        match got.next {
            Some(after) if records.len() < limit as usize => {
                page = PageRequest {
                    limit: Some(limit.min(100)),
                    after: Some(after),
                };
            }
            _ => break,
        }
    }
    records.truncate(limit as usize);
    let answers: Vec<AuditAnswer<'_>> = records.iter().map(AuditAnswer::from).collect();
    Ok(json!({"tenantId": tid, "audit": answers}))
}
