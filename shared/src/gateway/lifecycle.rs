//! The WorkSpaces calls of lifecycle commands and queries: reboot, rebuild (one per call),
//! restore, migrate, modify properties and state, terminate, images, bundles, directories
//! and tags. Every call maps its failure to an [`AwsError`]; batch calls return one
//! [`ItemOutcome`] per id, in order.

use aws_sdk_workspaces::Client;
use aws_sdk_workspaces::types as ws;

use super::ItemOutcome;
use crate::aws::{AwsError, AwsErrorKind};
use crate::ids::{BundleId, DirectoryId, ImageId, WorkspaceId};
use crate::model::{PartnerTag, RunningMode};

/// Items per Reboot/Terminate call.
pub const BATCH: usize = 25;

fn err<E, R>(op: &'static str) -> impl FnOnce(aws_sdk_workspaces::error::SdkError<E, R>) -> AwsError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata
        + std::error::Error
        + Send
        + Sync
        + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    move |e| AwsError::from_sdk("WorkSpaces", op, e)
}

fn build_err(op: &'static str, e: impl std::error::Error + Send + Sync + 'static) -> AwsError {
    AwsError::local(
        "WorkSpaces",
        op,
        AwsErrorKind::InvalidRequest,
        e.to_string(),
        e,
    )
}

/// An answer the service gave in a shape Steward cannot use (an id that does not parse).
fn odd_answer(op: &'static str, e: impl std::error::Error + Send + Sync + 'static) -> AwsError {
    AwsError::local("WorkSpaces", op, AwsErrorKind::Other, e.to_string(), e)
}

fn outcomes(
    chunk: &[WorkspaceId],
    failed: &[ws::FailedWorkspaceChangeRequest],
) -> Vec<(WorkspaceId, ItemOutcome)> {
    chunk
        .iter()
        .map(|id| {
            let outcome = failed
                .iter()
                .find(|f| f.workspace_id() == Some(id.as_str()))
                .map_or(ItemOutcome::Accepted, |f| ItemOutcome::Failed {
                    code: f.error_code().unwrap_or("Unknown").to_owned(),
                    message: f.error_message().unwrap_or_default().to_owned(),
                });
            (id.clone(), outcome)
        })
        .collect()
}

/// RebootWorkspaces, 25 per call.
pub async fn reboot(
    client: &Client,
    ids: &[WorkspaceId],
) -> Result<Vec<(WorkspaceId, ItemOutcome)>, AwsError> {
    const OP: &str = "RebootWorkspaces";
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(BATCH) {
        let mut reqs = Vec::with_capacity(chunk.len());
        for id in chunk {
            reqs.push(
                ws::RebootRequest::builder()
                    .workspace_id(id.as_str())
                    .build()
                    .map_err(|e| build_err(OP, e))?,
            );
        }
        let resp = client
            .reboot_workspaces()
            .set_reboot_workspace_requests(Some(reqs))
            .send()
            .await
            .map_err(err(OP))?;
        out.extend(outcomes(chunk, resp.failed_requests()));
    }
    Ok(out)
}

/// RebuildWorkspaces for exactly one desktop (the service takes one per call).
pub async fn rebuild(client: &Client, id: &WorkspaceId) -> Result<ItemOutcome, AwsError> {
    const OP: &str = "RebuildWorkspaces";
    let req = ws::RebuildRequest::builder()
        .workspace_id(id.as_str())
        .build()
        .map_err(|e| build_err(OP, e))?;
    let resp = client
        .rebuild_workspaces()
        .rebuild_workspace_requests(req)
        .send()
        .await
        .map_err(err(OP))?;
    let one = std::slice::from_ref(id);
    Ok(outcomes(one, resp.failed_requests())
        .into_iter()
        .next()
        .map_or(ItemOutcome::Accepted, |(_, o)| o))
}

/// TerminateWorkspaces, 25 per call. Permanent.
pub async fn terminate(
    client: &Client,
    ids: &[WorkspaceId],
) -> Result<Vec<(WorkspaceId, ItemOutcome)>, AwsError> {
    const OP: &str = "TerminateWorkspaces";
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(BATCH) {
        let mut reqs = Vec::with_capacity(chunk.len());
        for id in chunk {
            reqs.push(
                ws::TerminateRequest::builder()
                    .workspace_id(id.as_str())
                    .build()
                    .map_err(|e| build_err(OP, e))?,
            );
        }
        let resp = client
            .terminate_workspaces()
            .set_terminate_workspace_requests(Some(reqs))
            .send()
            .await
            .map_err(err(OP))?;
        out.extend(outcomes(chunk, resp.failed_requests()));
    }
    Ok(out)
}

/// RestoreWorkspace (a single desktop; failures are errors, not FailedRequests).
pub async fn restore(client: &Client, id: &WorkspaceId) -> Result<(), AwsError> {
    client
        .restore_workspace()
        .workspace_id(id.as_str())
        .send()
        .await
        .map_err(err("RestoreWorkspace"))?;
    Ok(())
}

/// MigrateWorkspace to `bundle`; the new desktop's id.
pub async fn migrate(
    client: &Client,
    id: &WorkspaceId,
    bundle: &BundleId,
) -> Result<WorkspaceId, AwsError> {
    const OP: &str = "MigrateWorkspace";
    let resp = client
        .migrate_workspace()
        .source_workspace_id(id.as_str())
        .bundle_id(bundle.as_str())
        .send()
        .await
        .map_err(err(OP))?;
    WorkspaceId::parse(resp.target_workspace_id().unwrap_or_default())
        .map_err(|e| odd_answer(OP, e))
}

/// The properties ModifyWorkspaceProperties may change (each optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PropertyChanges {
    pub compute_type: Option<String>,
    pub root_volume_gib: Option<i32>,
    pub user_volume_gib: Option<i32>,
    pub running_mode: Option<RunningMode>,
}

pub async fn modify_properties(
    client: &Client,
    id: &WorkspaceId,
    changes: &PropertyChanges,
) -> Result<(), AwsError> {
    let mut p = ws::WorkspaceProperties::builder()
        .set_root_volume_size_gib(changes.root_volume_gib)
        .set_user_volume_size_gib(changes.user_volume_gib)
        .set_compute_type_name(changes.compute_type.as_deref().map(ws::Compute::from));
    if let Some(mode) = changes.running_mode {
        p = p.running_mode(match mode {
            RunningMode::Manual => ws::RunningMode::Manual,
            RunningMode::AlwaysOn => ws::RunningMode::AlwaysOn,
            RunningMode::AutoStop => ws::RunningMode::AutoStop,
        });
    }
    client
        .modify_workspace_properties()
        .workspace_id(id.as_str())
        .workspace_properties(p.build())
        .send()
        .await
        .map_err(err("ModifyWorkspaceProperties"))?;
    Ok(())
}

/// ModifyWorkspaceState to AVAILABLE (`admin_maintenance = false`) or ADMIN_MAINTENANCE.
pub async fn modify_state(
    client: &Client,
    id: &WorkspaceId,
    admin_maintenance: bool,
) -> Result<(), AwsError> {
    let target = if admin_maintenance {
        ws::TargetWorkspaceState::AdminMaintenance
    } else {
        ws::TargetWorkspaceState::Available
    };
    client
        .modify_workspace_state()
        .workspace_id(id.as_str())
        .workspace_state(target)
        .send()
        .await
        .map_err(err("ModifyWorkspaceState"))?;
    Ok(())
}

fn tag(t: &PartnerTag, op: &'static str) -> Result<ws::Tag, AwsError> {
    ws::Tag::builder()
        .key(&t.key)
        .value(&t.value)
        .build()
        .map_err(|e| build_err(op, e))
}

/// CreateWorkspaceImage from a desktop, with the partner tag; the new image's id.
pub async fn create_image(
    client: &Client,
    workspace: &WorkspaceId,
    name: &str,
    description: &str,
    partner: &PartnerTag,
) -> Result<ImageId, AwsError> {
    const OP: &str = "CreateWorkspaceImage";
    let resp = client
        .create_workspace_image()
        .workspace_id(workspace.as_str())
        .name(name)
        .description(description)
        .tags(tag(partner, OP)?)
        .send()
        .await
        .map_err(err(OP))?;
    ImageId::parse(resp.image_id().unwrap_or_default()).map_err(|e| odd_answer(OP, e))
}

/// CopyWorkspaceImage into the client's Region from `source_region`, with the partner tag.
pub async fn copy_image(
    client: &Client,
    source: &ImageId,
    source_region: &str,
    name: &str,
    description: Option<&str>,
    partner: &PartnerTag,
) -> Result<ImageId, AwsError> {
    const OP: &str = "CopyWorkspaceImage";
    let resp = client
        .copy_workspace_image()
        .source_image_id(source.as_str())
        .source_region(source_region)
        .name(name)
        .set_description(description.map(str::to_owned))
        .tags(tag(partner, OP)?)
        .send()
        .await
        .map_err(err(OP))?;
    ImageId::parse(resp.image_id().unwrap_or_default()).map_err(|e| odd_answer(OP, e))
}

pub async fn delete_image(client: &Client, id: &ImageId) -> Result<(), AwsError> {
    client
        .delete_workspace_image()
        .image_id(id.as_str())
        .send()
        .await
        .map_err(err("DeleteWorkspaceImage"))?;
    Ok(())
}

/// UpdateWorkspaceImagePermission: share (`allow`) or unshare with one account.
pub async fn update_image_permission(
    client: &Client,
    id: &ImageId,
    account: &str,
    allow: bool,
) -> Result<(), AwsError> {
    client
        .update_workspace_image_permission()
        .image_id(id.as_str())
        .shared_account_id(account)
        .allow_copy_image(allow)
        .send()
        .await
        .map_err(err("UpdateWorkspaceImagePermission"))?;
    Ok(())
}

pub async fn update_bundle(
    client: &Client,
    bundle: &BundleId,
    image: &ImageId,
) -> Result<(), AwsError> {
    client
        .update_workspace_bundle()
        .bundle_id(bundle.as_str())
        .image_id(image.as_str())
        .send()
        .await
        .map_err(err("UpdateWorkspaceBundle"))?;
    Ok(())
}

pub async fn delete_bundle(client: &Client, bundle: &BundleId) -> Result<(), AwsError> {
    client
        .delete_workspace_bundle()
        .bundle_id(bundle.as_str())
        .send()
        .await
        .map_err(err("DeleteWorkspaceBundle"))?;
    Ok(())
}

pub async fn deregister_directory(client: &Client, dir: &DirectoryId) -> Result<(), AwsError> {
    client
        .deregister_workspace_directory()
        .directory_id(dir.as_str())
        .send()
        .await
        .map_err(err("DeregisterWorkspaceDirectory"))?;
    Ok(())
}

/// ModifyWorkspaceCreationProperties: maintenance mode and the custom security group.
pub async fn modify_creation_properties(
    client: &Client,
    dir: &DirectoryId,
    enable_maintenance_mode: Option<bool>,
    custom_security_group_id: Option<&str>,
) -> Result<(), AwsError> {
    let props = ws::WorkspaceCreationProperties::builder()
        .set_enable_maintenance_mode(enable_maintenance_mode)
        .set_custom_security_group_id(custom_security_group_id.map(str::to_owned))
        .build();
    client
        .modify_workspace_creation_properties()
        .resource_id(dir.as_str())
        .workspace_creation_properties(props)
        .send()
        .await
        .map_err(err("ModifyWorkspaceCreationProperties"))?;
    Ok(())
}

/// DescribeTags: the resource's tags as (key, value).
pub async fn tags(client: &Client, resource: &str) -> Result<Vec<(String, String)>, AwsError> {
    let resp = client
        .describe_tags()
        .resource_id(resource)
        .send()
        .await
        .map_err(err("DescribeTags"))?;
    Ok(resp
        .tag_list()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().unwrap_or_default().to_owned()))
        .collect())
}

/// Whether `tags` holds the partner tag with its value.
pub fn has_partner_tag(tags: &[(String, String)], partner: &PartnerTag) -> bool {
    tags.iter()
        .any(|(k, v)| k == &partner.key && v == &partner.value)
}

/// CreateTags (adds or overwrites). Callers never pass the partner tag's key.
pub async fn create_tags(
    client: &Client,
    resource: &str,
    set: &[(String, String)],
) -> Result<(), AwsError> {
    const OP: &str = "CreateTags";
    let mut tags = Vec::with_capacity(set.len());
    for (k, v) in set {
        tags.push(
            ws::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| build_err(OP, e))?,
        );
    }
    client
        .create_tags()
        .resource_id(resource)
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(err(OP))?;
    Ok(())
}

/// DeleteTags. Callers never pass the partner tag's key.
pub async fn delete_tags(client: &Client, resource: &str, keys: &[String]) -> Result<(), AwsError> {
    client
        .delete_tags()
        .resource_id(resource)
        .set_tag_keys(Some(keys.to_vec()))
        .send()
        .await
        .map_err(err("DeleteTags"))?;
    Ok(())
}

// ---- Queries: the service's view, as JSON for the query function's answers. ----

fn time(t: Option<&aws_smithy_types::DateTime>) -> serde_json::Value {
    t.and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
        .map_or(serde_json::Value::Null, serde_json::Value::String)
}

/// DescribeWorkspaces for `ids` (25 per call): the service's view of each desktop found.
pub async fn describe_desktops(
    client: &Client,
    ids: &[WorkspaceId],
) -> Result<Vec<serde_json::Value>, AwsError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(BATCH) {
        let mut token = None;
        loop {
            let resp = client
                .describe_workspaces()
                .set_workspace_ids(Some(chunk.iter().map(|i| i.to_string()).collect()))
                .set_next_token(token)
                .send()
                .await
                .map_err(err("DescribeWorkspaces"))?;
            for w in resp.workspaces() {
                let p = w.workspace_properties();
                out.push(serde_json::json!({
                    "workspaceId": w.workspace_id(),
                    "state": w.state().map(|s| s.as_str()),
                    "bundleId": w.bundle_id(),
                    "directoryId": w.directory_id(),
                    "userName": w.user_name(),
                    "computerName": w.computer_name(),
                    "ipAddress": w.ip_address(),
                    "runningMode": p.and_then(|p| p.running_mode()).map(|m| m.as_str()),
                    "computeTypeName": p.and_then(|p| p.compute_type_name()).map(|c| c.as_str()),
                    "rootVolumeSizeGib": p.and_then(|p| p.root_volume_size_gib()),
                    "userVolumeSizeGib": p.and_then(|p| p.user_volume_size_gib()),
                    "errorCode": w.error_code(),
                }));
            }
            token = resp.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
    }
    Ok(out)
}

/// DescribeWorkspacesConnectionStatus for `ids` (25 per call).
pub async fn connection_status(
    client: &Client,
    ids: &[WorkspaceId],
) -> Result<Vec<serde_json::Value>, AwsError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(BATCH) {
        let mut token = None;
        loop {
            let resp = client
                .describe_workspaces_connection_status()
                .set_workspace_ids(Some(chunk.iter().map(|i| i.to_string()).collect()))
                .set_next_token(token)
                .send()
                .await
                .map_err(err("DescribeWorkspacesConnectionStatus"))?;
            for s in resp.workspaces_connection_status() {
                out.push(serde_json::json!({
                    "workspaceId": s.workspace_id(),
                    "connectionState": s.connection_state().map(|c| c.as_str()),
                    "connectionStateCheckTimestamp": time(s.connection_state_check_timestamp()),
                    "lastKnownUserConnectionTimestamp": time(s.last_known_user_connection_timestamp()),
                }));
            }
            token = resp.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
    }
    Ok(out)
}

/// DescribeWorkspaceBundles owned by the account (no owner given), every page.
pub async fn bundles(client: &Client) -> Result<Vec<serde_json::Value>, AwsError> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let resp = client
            .describe_workspace_bundles()
            .set_next_token(token)
            .send()
            .await
            .map_err(err("DescribeWorkspaceBundles"))?;
        for b in resp.bundles() {
            out.push(serde_json::json!({
                "bundleId": b.bundle_id(),
                "name": b.name(),
                "description": b.description(),
                "imageId": b.image_id(),
                "owner": b.owner(),
                "computeTypeName": b.compute_type().and_then(|c| c.name()).map(|n| n.as_str()),
                "rootVolumeSizeGib": b.root_storage().map(|s| s.capacity()),
                "userVolumeSizeGib": b.user_storage().map(|s| s.capacity()),
                "state": b.state().map(|s| s.as_str()),
                "lastUpdatedTime": time(b.last_updated_time()),
            }));
        }
        token = resp.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// DescribeWorkspaceImages (the account's own and shared with it), every page.
pub async fn images(client: &Client) -> Result<Vec<serde_json::Value>, AwsError> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let resp = client
            .describe_workspace_images()
            .set_next_token(token)
            .send()
            .await
            .map_err(err("DescribeWorkspaceImages"))?;
        for i in resp.images() {
            out.push(serde_json::json!({
                "imageId": i.image_id(),
                "name": i.name(),
                "description": i.description(),
                "state": i.state().map(|s| s.as_str()),
                "requiredTenancy": i.required_tenancy().map(|t| t.as_str()),
                "ownerAccountId": i.owner_account_id(),
                "created": time(i.created()),
                "errorCode": i.error_code(),
            }));
        }
        token = resp.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// DescribeWorkspaceImages for one image: its state (`None` when it does not exist).
pub async fn image_state(client: &Client, id: &ImageId) -> Result<Option<String>, AwsError> {
    let resp = client
        .describe_workspace_images()
        .image_ids(id.as_str())
        .send()
        .await
        .map_err(err("DescribeWorkspaceImages"))?;
    Ok(resp
        .images()
        .first()
        .and_then(|i| i.state())
        .map(|s| s.as_str().to_owned()))
}

/// DescribeWorkspaceImagePermissions: the accounts an image is shared with.
pub async fn image_permissions(client: &Client, id: &ImageId) -> Result<Vec<String>, AwsError> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let resp = client
            .describe_workspace_image_permissions()
            .image_id(id.as_str())
            .set_next_token(token)
            .send()
            .await
            .map_err(err("DescribeWorkspaceImagePermissions"))?;
        out.extend(
            resp.image_permissions()
                .iter()
                .filter_map(|p| p.shared_account_id().map(str::to_owned)),
        );
        token = resp.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// DescribeWorkspaceSnapshots of one desktop: rebuild and restore snapshot times.
pub async fn snapshots(client: &Client, id: &WorkspaceId) -> Result<serde_json::Value, AwsError> {
    let resp = client
        .describe_workspace_snapshots()
        .workspace_id(id.as_str())
        .send()
        .await
        .map_err(err("DescribeWorkspaceSnapshots"))?;
    let times = |s: &[ws::Snapshot]| -> Vec<serde_json::Value> {
        s.iter().map(|s| time(s.snapshot_time())).collect()
    };
    Ok(serde_json::json!({
        "workspaceId": id,
        "rebuildSnapshots": times(resp.rebuild_snapshots()),
        "restoreSnapshots": times(resp.restore_snapshots()),
    }))
}

/// DescribeWorkspaceDirectories, every page.
pub async fn directories(client: &Client) -> Result<Vec<serde_json::Value>, AwsError> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let resp = client
            .describe_workspace_directories()
            .set_next_token(token)
            .send()
            .await
            .map_err(err("DescribeWorkspaceDirectories"))?;
        for d in resp.directories() {
            let c = d.workspace_creation_properties();
            out.push(serde_json::json!({
                "directoryId": d.directory_id(),
                "directoryName": d.directory_name(),
                "state": d.state().map(|s| s.as_str()),
                "tenancy": d.tenancy().map(|t| t.as_str()),
                "subnetIds": d.subnet_ids(),
                "workspaceSecurityGroupId": d.workspace_security_group_id(),
                "enableMaintenanceMode": c.and_then(|c| c.enable_maintenance_mode()),
                "customSecurityGroupId": c.and_then(|c| c.custom_security_group_id()),
            }));
        }
        token = resp.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// DescribeAccount and DescribeAccountModifications (every page).
pub async fn account(client: &Client) -> Result<serde_json::Value, AwsError> {
    let a = client
        .describe_account()
        .send()
        .await
        .map_err(err("DescribeAccount"))?;
    let mut mods = Vec::new();
    let mut token = None;
    loop {
        let resp = client
            .describe_account_modifications()
            .set_next_token(token)
            .send()
            .await
            .map_err(err("DescribeAccountModifications"))?;
        for m in resp.account_modifications() {
            mods.push(serde_json::json!({
                "modificationState": m.modification_state().map(|s| s.as_str()),
                "dedicatedTenancySupport": m.dedicated_tenancy_support().map(|s| s.as_str()),
                "dedicatedTenancyManagementCidrRange": m.dedicated_tenancy_management_cidr_range(),
                "startTime": time(m.start_time()),
                "errorCode": m.error_code(),
                "errorMessage": m.error_message(),
            }));
        }
        token = resp.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    Ok(serde_json::json!({
        "dedicatedTenancySupport": a.dedicated_tenancy_support().map(|s| s.as_str()),
        "dedicatedTenancyManagementCidrRange": a.dedicated_tenancy_management_cidr_range(),
        "modifications": mods,
    }))
}
