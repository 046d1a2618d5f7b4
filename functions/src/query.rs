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
//!
//! A bad request fails with `Steward.ValidationError`, an unknown tenant with
//! `Steward.NotFound`, a desktop or image that is not the tenant's with `Steward.NotOwned`.

use serde::Deserialize;
use serde_json::{Value, json};
use steward_shared::Error;
use steward_shared::aws::{TenantAccess, TenantClients};
use steward_shared::error::names;
use steward_shared::gateway::lifecycle as gw;
use steward_shared::ids::{ImageId, RegionName, TenantId, WorkspaceId};
use steward_shared::lifecycle::region_of;
use steward_shared::model::{Tenant, Timestamp};
use steward_shared::store::{AuditStore, PageRequest, TenantStore, WorkspaceStore, collect_all};

use crate::{Deps, parse_input};

/// The queries, as the request's `query` names them.
pub const QUERIES: [&str; 10] = [
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
            | Query::Audit { tenant_id, .. } => tenant_id,
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

/// Adds `partnerTagged` to each listed resource (DescribeTags per resource).
async fn mark_tagged(
    c: &TenantClients,
    tenant: &Tenant,
    items: Vec<Value>,
    id_field: &str,
) -> Result<Vec<Value>, Error> {
    let mut out = Vec::with_capacity(items.len());
    for mut item in items {
        let id = item[id_field].as_str().unwrap_or_default().to_owned();
        let tagged = if id.is_empty() {
            false
        } else {
            let tags = gw::tags(c.workspaces(), &id).await?;
            gw::has_partner_tag(&tags, &tenant.partner_tag)
        };
        item["partnerTagged"] = json!(tagged);
        out.push(item);
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
    let tid = tenant.tenant_id.clone();
    let answer = match &q {
        Query::Desktops { .. } => {
            let records = collect_all(|p: PageRequest| deps.store.list_workspaces(&tid, p)).await?;
            let mut by_region: std::collections::BTreeMap<String, Vec<WorkspaceId>> =
                Default::default();
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
                let c = clients(deps, &tenant, &region).await;
                service.extend(gw::describe_desktops(c.workspaces(), ids).await?);
                connection.extend(gw::connection_status(c.workspaces(), ids).await?);
            }
            let find = |list: &[Value], id: &str| {
                list.iter()
                    .find(|v| v["workspaceId"] == id)
                    .cloned()
                    .unwrap_or(Value::Null)
            };
            let desktops: Vec<Value> = records
                .iter()
                .map(|r| {
                    let id = r.workspace_id.as_str();
                    json!({
                        "workspaceId": id,
                        "steward": {
                            "state": r.state,
                            "stateObservedAt": r.state_observed_at,
                            "runningMode": r.running_mode,
                            "region": r.region,
                            "directoryId": r.directory_id,
                            "bundleId": r.bundle_id,
                            "userName": r.user_name,
                            "availableSince": r.available_since,
                            "liveSessions": r.sessions.len(),
                            "lastActivityAt": r.last_activity_at,
                            "leaseUntil": r.lease_until,
                        },
                        "service": find(&service, id),
                        "connection": find(&connection, id),
                    })
                })
                .collect();
            json!({"tenantId": tid, "desktops": desktops})
        }
        Query::Bundles { region: r, .. } => {
            let c = clients(deps, &tenant, &region(r.as_ref(), &tenant)?).await;
            let list = gw::bundles(c.workspaces()).await?;
            json!({"tenantId": tid, "bundles": mark_tagged(&c, &tenant, list, "bundleId").await?})
        }
        Query::Images { region: r, .. } => {
            let c = clients(deps, &tenant, &region(r.as_ref(), &tenant)?).await;
            let list = gw::images(c.workspaces()).await?;
            json!({"tenantId": tid, "images": mark_tagged(&c, &tenant, list, "imageId").await?})
        }
        Query::ImagePermissions {
            image_id,
            region: r,
            ..
        } => {
            let c = clients(deps, &tenant, &region(r.as_ref(), &tenant)?).await;
            let tags = gw::tags(c.workspaces(), image_id.as_str()).await?;
            if !gw::has_partner_tag(&tags, &tenant.partner_tag) {
                return Err(not_owned(image_id));
            }
            let shared = gw::image_permissions(c.workspaces(), image_id).await?;
            json!({"tenantId": tid, "imageId": image_id, "sharedAccountIds": shared})
        }
        Query::Snapshots { workspace_id, .. } => {
            let rec = deps
                .store
                .get_workspace(&tid, workspace_id)
                .await?
                .ok_or_else(|| not_owned(workspace_id))?;
            let c = clients(deps, &tenant, &rec.region).await;
            let s = gw::snapshots(c.workspaces(), workspace_id).await?;
            json!({"tenantId": tid, "snapshots": s})
        }
        Query::Directories { region: r, .. } => {
            let c = clients(deps, &tenant, &region(r.as_ref(), &tenant)?).await;
            let list = gw::directories(c.workspaces()).await?;
            json!({"tenantId": tid, "directories": mark_tagged(&c, &tenant, list, "directoryId").await?})
        }
        Query::Tags {
            resource_id,
            region: r,
            ..
        } => {
            let region = match WorkspaceId::parse(resource_id.as_str()) {
                Ok(ws) => {
                    deps.store
                        .get_workspace(&tid, &ws)
                        .await?
                        .ok_or_else(|| not_owned(&ws))?
                        .region
                }
                Err(_) => region(r.as_ref(), &tenant)?,
            };
            let c = clients(deps, &tenant, &region).await;
            let tags = gw::tags(c.workspaces(), resource_id).await?;
            let map: serde_json::Map<String, Value> =
                tags.into_iter().map(|(k, v)| (k, json!(v))).collect();
            json!({"tenantId": tid, "resourceId": resource_id, "tags": map})
        }
        Query::Account { region: r, .. } => {
            let c = clients(deps, &tenant, &region(r.as_ref(), &tenant)?).await;
            json!({"tenantId": tid, "account": gw::account(c.workspaces()).await?})
        }
        Query::Usage { month, .. } => {
            crate::power::usage::handler(json!({"tenant_id": tid, "month": month}), deps).await?
        }
        Query::Audit {
            from, to, limit, ..
        } => {
            let limit = limit.unwrap_or(100).clamp(1, 1000);
            let mut records = Vec::new();
            let mut page = PageRequest::first(limit.min(100));
            loop {
                let got = deps.store.list_audit(&tid, *from, *to, page).await?;
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
            json!({"tenantId": tid, "audit": records})
        }
    };
    Ok(answer)
}
