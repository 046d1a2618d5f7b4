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
//! The answers are built here, from the WorkSpaces gateway's typed views, by the camelCase
//! view types at the end of this file: what a partner sees of a bundle or an image is decided
//! in one place, and the gateway stays free of JSON.
//!
//! A bad request fails with `Steward.ValidationError`, an unknown tenant with
//! `Steward.NotFound`, a desktop or image that is not the tenant's with `Steward.NotOwned`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Value, json};
use steward_shared::Error;
use steward_shared::aws::{TenantAccess, TenantClients};
use steward_shared::error::names;
use steward_shared::gateway::workspaces::{
    Account, AccountModification, Bundle, BundleOwner, BundleState, ConnectionState,
    ConnectionStatus, Directory, DirectoryState, Image, ImageState, ImageTenancy,
    ModificationState, Observed, Snapshots, Tenancy, TenancySupport, WorkspacesGateway,
};
use steward_shared::ids::{BundleId, DirectoryId, ImageId, RegionName, TenantId, WorkspaceId};
use steward_shared::lifecycle::region_of;
use steward_shared::model::{RunningMode, Tenant, Timestamp, WorkspaceRecord, WorkspaceState};
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
    let tid = tenant.tenant_id.clone();
    let answer = match &q {
        Query::Desktops { .. } => {
            let records = collect_all(|p: PageRequest| deps.store.list_workspaces(&tid, p)).await?;
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
                let c = clients(deps, &tenant, &region).await;
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
            json!({"tenantId": tid, "desktops": desktops})
        }
        Query::Bundles { region: r, .. } => {
            let c = clients(deps, &tenant, &region(r.as_ref(), &tenant)?).await;
            let gateway = WorkspacesGateway::new(c.workspaces());
            let list = gateway.bundles().await?;
            let items: Vec<_> = list
                .iter()
                .map(|b| (b.bundle_id.to_string(), BundleAnswer::from(b)))
                .collect();
            json!({"tenantId": tid, "bundles": partner_tagged(&gateway, &tenant, items).await?})
        }
        Query::Images { region: r, .. } => {
            let c = clients(deps, &tenant, &region(r.as_ref(), &tenant)?).await;
            let gateway = WorkspacesGateway::new(c.workspaces());
            let list = gateway.images().await?;
            let items: Vec<_> = list
                .iter()
                .map(|i| (i.image_id.to_string(), ImageAnswer::from(i)))
                .collect();
            json!({"tenantId": tid, "images": partner_tagged(&gateway, &tenant, items).await?})
        }
        Query::ImagePermissions {
            image_id,
            region: r,
            ..
        } => {
            let c = clients(deps, &tenant, &region(r.as_ref(), &tenant)?).await;
            let gateway = WorkspacesGateway::new(c.workspaces());
            if !gateway
                .carries_partner_tag(image_id.as_str(), &tenant.partner_tag)
                .await?
            {
                return Err(not_owned(image_id));
            }
            let shared = gateway.image_permissions(image_id).await?;
            json!({"tenantId": tid, "imageId": image_id, "sharedAccountIds": shared})
        }
        Query::Snapshots { workspace_id, .. } => {
            let rec = deps
                .store
                .get_workspace(&tid, workspace_id)
                .await?
                .ok_or_else(|| not_owned(workspace_id))?;
            let c = clients(deps, &tenant, &rec.region).await;
            let s = WorkspacesGateway::new(c.workspaces())
                .snapshots(workspace_id)
                .await?;
            json!({"tenantId": tid, "snapshots": SnapshotsAnswer::of(workspace_id, &s)})
        }
        Query::Directories { region: r, .. } => {
            let c = clients(deps, &tenant, &region(r.as_ref(), &tenant)?).await;
            let gateway = WorkspacesGateway::new(c.workspaces());
            let list = gateway.directories().await?;
            let items: Vec<_> = list
                .iter()
                .map(|d| (d.directory_id.to_string(), DirectoryAnswer::from(d)))
                .collect();
            json!({"tenantId": tid, "directories": partner_tagged(&gateway, &tenant, items).await?})
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
            let tags = WorkspacesGateway::new(c.workspaces())
                .tags(resource_id)
                .await?;
            let map: BTreeMap<String, String> =
                tags.into_iter().map(|t| (t.key, t.value)).collect();
            json!({"tenantId": tid, "resourceId": resource_id, "tags": map})
        }
        Query::Account { region: r, .. } => {
            let c = clients(deps, &tenant, &region(r.as_ref(), &tenant)?).await;
            let account = WorkspacesGateway::new(c.workspaces()).account().await?;
            json!({"tenantId": tid, "account": AccountAnswer::from(&account)})
        }
        Query::Usage { month, .. } => json!(crate::power::usage::ledger(deps, &tid, month).await?),
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

// ---- The answers' shapes: the gateway's typed views as partners see them (camelCase). ----

/// A time the service reported, written as the WorkSpaces API writes it (RFC 3339 in UTC,
/// microseconds with trailing zeros trimmed); null when absent or outside years 1–9999.
#[derive(Debug, Clone, Copy)]
struct ServiceTime(Option<Timestamp>);

impl Serialize for ServiceTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use chrono::Datelike;
        let Some(t) = self.0.filter(|t| (1..=9999).contains(&t.year())) else {
            return s.serialize_none();
        };
        let mut out = t.format("%Y-%m-%dT%H:%M:%S").to_string();
        let micros = t.timestamp_subsec_micros();
        if micros > 0 {
            out.push_str(format!(".{micros:06}").trim_end_matches('0'));
        }
        out.push('Z');
        s.serialize_str(&out)
    }
}

/// A listed resource and whether it carries the partner tag.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Tagged<T> {
    #[serde(flatten)]
    item: T,
    partner_tagged: bool,
}

/// One registered desktop: Steward's view beside the service's (null when the service did
/// not describe it).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DesktopAnswer<'a> {
    workspace_id: &'a WorkspaceId,
    steward: StewardDesktop<'a>,
    service: Option<ServiceDesktop<'a>>,
    connection: Option<DesktopConnection<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct StewardDesktop<'a> {
    state: WorkspaceState,
    state_observed_at: Timestamp,
    running_mode: RunningMode,
    region: &'a RegionName,
    directory_id: &'a DirectoryId,
    bundle_id: Option<&'a BundleId>,
    user_name: Option<&'a str>,
    available_since: Option<Timestamp>,
    live_sessions: usize,
    last_activity_at: Option<Timestamp>,
    lease_until: Option<Timestamp>,
}

impl<'a> From<&'a WorkspaceRecord> for StewardDesktop<'a> {
    fn from(r: &'a WorkspaceRecord) -> Self {
        Self {
            state: r.state,
            state_observed_at: r.state_observed_at,
            running_mode: r.running_mode,
            region: &r.region,
            directory_id: &r.directory_id,
            bundle_id: r.bundle_id.as_ref(),
            user_name: r.user_name.as_deref(),
            available_since: r.available_since,
            live_sessions: r.sessions.len(),
            last_activity_at: r.last_activity_at,
            lease_until: r.lease_until,
        }
    }
}

/// DescribeWorkspaces' view of a desktop.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ServiceDesktop<'a> {
    workspace_id: &'a WorkspaceId,
    state: WorkspaceState,
    bundle_id: Option<&'a BundleId>,
    directory_id: Option<&'a DirectoryId>,
    user_name: Option<&'a str>,
    computer_name: Option<&'a str>,
    ip_address: Option<&'a str>,
    running_mode: Option<RunningMode>,
    compute_type_name: Option<&'a str>,
    root_volume_size_gib: Option<i32>,
    user_volume_size_gib: Option<i32>,
    error_code: Option<&'a str>,
}

impl<'a> From<&'a Observed> for ServiceDesktop<'a> {
    fn from(o: &'a Observed) -> Self {
        Self {
            workspace_id: &o.workspace_id,
            state: o.state,
            bundle_id: o.bundle_id.as_ref(),
            directory_id: o.directory_id.as_ref(),
            user_name: o.user_name.as_deref(),
            computer_name: o.computer_name.as_deref(),
            ip_address: o.ip_address.as_deref(),
            running_mode: o.running_mode,
            compute_type_name: o.compute_type.as_deref(),
            root_volume_size_gib: o.root_volume_gib,
            user_volume_size_gib: o.user_volume_gib,
            error_code: o.error_code.as_deref(),
        }
    }
}

/// DescribeWorkspacesConnectionStatus' view of a desktop.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DesktopConnection<'a> {
    workspace_id: &'a WorkspaceId,
    connection_state: Option<&'a ConnectionState>,
    connection_state_check_timestamp: ServiceTime,
    last_known_user_connection_timestamp: ServiceTime,
}

impl<'a> From<&'a ConnectionStatus> for DesktopConnection<'a> {
    fn from(s: &'a ConnectionStatus) -> Self {
        Self {
            workspace_id: &s.workspace_id,
            connection_state: s.state.as_ref(),
            connection_state_check_timestamp: ServiceTime(s.checked_at),
            last_known_user_connection_timestamp: ServiceTime(s.last_user_connection_at),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct BundleAnswer<'a> {
    bundle_id: &'a BundleId,
    name: Option<&'a str>,
    description: Option<&'a str>,
    image_id: Option<&'a ImageId>,
    owner: Option<&'a BundleOwner>,
    compute_type_name: Option<&'a str>,
    root_volume_size_gib: Option<&'a str>,
    user_volume_size_gib: Option<&'a str>,
    state: Option<&'a BundleState>,
    last_updated_time: ServiceTime,
}

impl<'a> From<&'a Bundle> for BundleAnswer<'a> {
    fn from(b: &'a Bundle) -> Self {
        Self {
            bundle_id: &b.bundle_id,
            name: b.name.as_deref(),
            description: b.description.as_deref(),
            image_id: b.image_id.as_ref(),
            owner: b.owner.as_ref(),
            compute_type_name: b.compute_type.as_deref(),
            root_volume_size_gib: b.root_volume_gib.as_deref(),
            user_volume_size_gib: b.user_volume_gib.as_deref(),
            state: b.state.as_ref(),
            last_updated_time: ServiceTime(b.last_updated),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ImageAnswer<'a> {
    image_id: &'a ImageId,
    name: Option<&'a str>,
    description: Option<&'a str>,
    state: Option<&'a ImageState>,
    required_tenancy: Option<&'a ImageTenancy>,
    owner_account_id: Option<&'a str>,
    created: ServiceTime,
    error_code: Option<&'a str>,
}

impl<'a> From<&'a Image> for ImageAnswer<'a> {
    fn from(i: &'a Image) -> Self {
        Self {
            image_id: &i.image_id,
            name: i.name.as_deref(),
            description: i.description.as_deref(),
            state: i.state.as_ref(),
            required_tenancy: i.required_tenancy.as_ref(),
            owner_account_id: i.owner_account_id.as_deref(),
            created: ServiceTime(i.created),
            error_code: i.error_code.as_deref(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DirectoryAnswer<'a> {
    directory_id: &'a DirectoryId,
    directory_name: Option<&'a str>,
    state: Option<&'a DirectoryState>,
    tenancy: Option<&'a Tenancy>,
    subnet_ids: &'a [String],
    workspace_security_group_id: Option<&'a str>,
    enable_maintenance_mode: Option<bool>,
    custom_security_group_id: Option<&'a str>,
}

impl<'a> From<&'a Directory> for DirectoryAnswer<'a> {
    fn from(d: &'a Directory) -> Self {
        Self {
            directory_id: &d.directory_id,
            directory_name: d.name.as_deref(),
            state: d.state.as_ref(),
            tenancy: d.tenancy.as_ref(),
            subnet_ids: &d.subnet_ids,
            workspace_security_group_id: d.workspace_security_group_id.as_deref(),
            enable_maintenance_mode: d.creation.enable_maintenance_mode,
            custom_security_group_id: d.creation.custom_security_group_id.as_deref(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SnapshotsAnswer<'a> {
    workspace_id: &'a WorkspaceId,
    rebuild_snapshots: Vec<ServiceTime>,
    restore_snapshots: Vec<ServiceTime>,
}

impl<'a> SnapshotsAnswer<'a> {
    fn of(workspace_id: &'a WorkspaceId, s: &Snapshots) -> Self {
        let times = |t: &[Option<Timestamp>]| t.iter().copied().map(ServiceTime).collect();
        Self {
            workspace_id,
            rebuild_snapshots: times(&s.rebuild),
            restore_snapshots: times(&s.restore),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountAnswer<'a> {
    dedicated_tenancy_support: Option<&'a TenancySupport>,
    dedicated_tenancy_management_cidr_range: Option<&'a str>,
    modifications: Vec<ModificationAnswer<'a>>,
}

impl<'a> From<&'a Account> for AccountAnswer<'a> {
    fn from(a: &'a Account) -> Self {
        Self {
            dedicated_tenancy_support: a.dedicated_tenancy_support.as_ref(),
            dedicated_tenancy_management_cidr_range: a.management_cidr.as_deref(),
            modifications: a
                .modifications
                .iter()
                .map(ModificationAnswer::from)
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ModificationAnswer<'a> {
    modification_state: Option<&'a ModificationState>,
    dedicated_tenancy_support: Option<&'a TenancySupport>,
    dedicated_tenancy_management_cidr_range: Option<&'a str>,
    start_time: ServiceTime,
    error_code: Option<&'a str>,
    error_message: Option<&'a str>,
}

impl<'a> From<&'a AccountModification> for ModificationAnswer<'a> {
    fn from(m: &'a AccountModification) -> Self {
        Self {
            modification_state: m.state.as_ref(),
            dedicated_tenancy_support: m.dedicated_tenancy_support.as_ref(),
            dedicated_tenancy_management_cidr_range: m.management_cidr.as_deref(),
            start_time: ServiceTime(m.started_at),
            error_code: m.error_code.as_deref(),
            error_message: m.error_message.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> ServiceTime {
        ServiceTime(Some(
            chrono::DateTime::parse_from_rfc3339(rfc3339)
                .unwrap()
                .to_utc(),
        ))
    }

    #[test]
    fn service_times_are_written_as_the_service_writes_them() {
        let json = |t: ServiceTime| serde_json::to_value(t).unwrap();
        assert_eq!(json(at("2026-11-28T05:56:22Z")), "2026-11-28T05:56:22Z");
        assert_eq!(
            json(at("2026-11-28T05:56:22.895999Z")),
            "2026-11-28T05:56:22.895999Z"
        );
        assert_eq!(
            json(at("2026-11-28T05:56:22.520Z")),
            "2026-11-28T05:56:22.52Z"
        );
        // Sub-microsecond digits are dropped, as the SDK drops them.
        assert_eq!(
            json(at("2026-11-28T05:56:22.000000999Z")),
            "2026-11-28T05:56:22Z"
        );
        assert_eq!(json(ServiceTime(None)), Value::Null);
    }

    #[test]
    fn unknown_statuses_pass_through_verbatim() {
        let d = Directory {
            directory_id: DirectoryId::parse("d-1234567890").unwrap(),
            name: None,
            alias: None,
            directory_type: None,
            state: Some(DirectoryState::from_wire("SOMETHING_NEW")),
            tenancy: Some(Tenancy::Dedicated),
            subnet_ids: Vec::new(),
            workspace_security_group_id: None,
            creation: Default::default(),
        };
        assert_eq!(
            serde_json::to_value(DirectoryAnswer::from(&d)).unwrap(),
            json!({
                "directoryId": "d-1234567890",
                "directoryName": null,
                "state": "SOMETHING_NEW",
                "tenancy": "DEDICATED",
                "subnetIds": [],
                "workspaceSecurityGroupId": null,
                "enableMaintenanceMode": null,
                "customSecurityGroupId": null,
            })
        );
    }
}
