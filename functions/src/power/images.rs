//! Image operations Steward started (CreateWorkspaceImage, CopyWorkspaceImage) and their
//! completion events.
//!
//! The service finishes an image in tens of minutes. The lifecycle command remembers the
//! image on the tenant record ([`remember`]); the sweeps describe a tenant's pending images
//! in each Region (25 per DescribeWorkspaceImages call, and no call at all when none is
//! pending, so the sweep's calls stay at their bound), and report each end once
//! (`Lifecycle Operation Completed` / `Failed`): the tenant write that removes the image
//! from the pending list is conditional on the tenant's version, and only the writer that
//! removed it records the event.

use std::collections::HashMap;

use serde_json::json;
use steward_shared::Error;
use steward_shared::error::names;
use steward_shared::gateway::workspaces::{Image, WorkspacesGateway};
use steward_shared::ids::{ImageId, RegionName, TenantId};
use steward_shared::model::{Actor, AuditOutcome, PendingImage, Tenant, Timestamp};
use steward_shared::reconcile::{ImageEnd, image_end};
use steward_shared::store::{StoreError, TenantStore};

use crate::deps::Deps;
use crate::record::{Action, ActionName, PowerAction, failed, outbound_types as ot, record_all};

/// How often a tenant write is tried again after losing a race.
const ATTEMPTS: usize = 5;

/// Remembers an accepted image operation on the tenant, so the sweeps report its end.
/// Best effort: the operation itself already happened; when the tenant cannot be written
/// the loss is logged with the image id, and the partner can still query the image.
pub async fn remember(deps: &Deps, tenant: &TenantId, pending: PendingImage) {
    for _ in 0..ATTEMPTS {
        let Ok(Some(mut t)) = deps.store.get_tenant(tenant).await else {
            break;
        };
        t.pending_images.retain(|p| p.image_id != pending.image_id);
        t.pending_images.push(pending.clone());
        let excess = t.pending_images.len().saturating_sub(PendingImage::KEPT);
        for dropped in t.pending_images.drain(..excess) {
            tracing::warn!(tenant = %tenant, image = %dropped.image_id, "too many pending images: the oldest's completion will not be reported");
        }
        match deps.store.update_tenant(&t).await {
            Ok(_) => return,
            Err(StoreError::VersionConflict { .. }) => continue,
            Err(e) => {
                tracing::warn!(tenant = %tenant, image = %pending.image_id, error = %e, "pending image not remembered; its completion will not be reported");
                return;
            }
        }
    }
    tracing::warn!(tenant = %tenant, image = %pending.image_id, "pending image not remembered; its completion will not be reported");
}

/// One image's end, before it is recorded.
struct Ended {
    pending: PendingImage,
    end: ImageEnd,
    state: String,
    errors: Vec<String>,
}

/// Describes the tenant's pending images in `region` and reports those that ended. Returns
/// the WorkSpaces calls made and the actions recorded.
pub async fn settle(
    deps: &Deps,
    tenant: &Tenant,
    region: &RegionName,
    client: &aws_sdk_workspaces::Client,
    actor: &Actor,
    interval: chrono::Duration,
) -> Result<(usize, Vec<PowerAction>), Error> {
    let pending: Vec<&PendingImage> = tenant
        .pending_images
        .iter()
        .filter(|p| &p.region == region)
        .collect();
    if pending.is_empty() {
        return Ok((0, Vec::new()));
    }
    let ids: Vec<ImageId> = pending.iter().map(|p| p.image_id.clone()).collect();
    let calls = ids.len().div_ceil(25);
    let found: HashMap<String, Image> = WorkspacesGateway::new(client)
        .images_by_id(&ids)
        .await
        .map_err(Error::from)?
        .into_iter()
        .map(|v| (v.image_id.to_string(), v))
        .collect();
    let now = deps.now();
    let ended: Vec<Ended> = pending
        .into_iter()
        .filter_map(|p| {
            let view = found.get(p.image_id.as_str());
            // The wire state ("" when the service gives none); `None`: not found.
            let state = view.map(|v| v.state.as_ref().map_or("", |s| s.as_str()));
            image_end(p, state, now).map(|end| Ended {
                pending: p.clone(),
                end,
                state: state.unwrap_or("not found").to_owned(),
                errors: view.map(|v| v.errors.clone()).unwrap_or_default(),
            })
        })
        .collect();
    if ended.is_empty() {
        return Ok((calls, Vec::new()));
    }
    let Some(removed) = forget(deps, &tenant.tenant_id, &ended).await? else {
        return Ok((calls, Vec::new()));
    };
    let actions: Vec<Action<'_>> = ended
        .iter()
        .filter(|e| removed.contains(&e.pending.image_id))
        .map(|e| action(tenant, e, actor, now, interval))
        .collect();
    record_all(deps, &actions).await?;
    Ok((calls, actions.iter().map(Action::report).collect()))
}

/// Removes the ended images from the tenant's pending list; answers the ids this call
/// removed (another sweep may have removed some first), or `None` after losing every race.
async fn forget(
    deps: &Deps,
    tenant: &TenantId,
    ended: &[Ended],
) -> Result<Option<Vec<ImageId>>, Error> {
    for _ in 0..ATTEMPTS {
        let Some(mut t) = deps.store.get_tenant(tenant).await? else {
            return Ok(None);
        };
        let mut removed = Vec::new();
        t.pending_images.retain(|p| {
            let done = ended.iter().any(|e| e.pending.image_id == p.image_id);
            if done {
                removed.push(p.image_id.clone());
            }
            !done
        });
        if removed.is_empty() {
            return Ok(Some(removed));
        }
        match deps.store.update_tenant(&t).await {
            Ok(_) => return Ok(Some(removed)),
            Err(StoreError::VersionConflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(None)
}

/// `interval`: the sweep's; the image got there at most that long before it was seen.
fn action<'a>(
    tenant: &'a Tenant,
    e: &'a Ended,
    actor: &Actor,
    now: Timestamp,
    interval: chrono::Duration,
) -> Action<'a> {
    let p = &e.pending;
    let took = (now - p.requested_at).num_seconds().max(0);
    let details = json!({
        "operation": p.operation.as_str(),
        "imageId": p.image_id,
        "region": p.region,
        "requestedAt": p.requested_at,
        "requestEventId": p.event_id,
        "observedAt": now,
        "state": e.state,
        "tookAtMostSeconds": took,
        "uncertaintySeconds": took.min(interval.num_seconds()),
    });
    let what = format!(
        "{} of image {} in {} (requested by event {} at {})",
        p.operation.as_str(),
        p.image_id,
        p.region,
        p.event_id,
        p.requested_at.to_rfc3339()
    );
    let (action, reason, outcome, detail_type) = match e.end {
        ImageEnd::Available => (
            ActionName::OperationCompleted,
            format!("{what} completed: the image is AVAILABLE"),
            AuditOutcome::Succeeded,
            ot::LIFECYCLE_OPERATION_COMPLETED,
        ),
        ImageEnd::Error | ImageEnd::Gone | ImageEnd::TimedOut => {
            let why = match e.end {
                ImageEnd::Error if e.errors.is_empty() => "the image is in ERROR".to_owned(),
                ImageEnd::Error => format!("the image is in ERROR: {}", e.errors.join("; ")),
                ImageEnd::Gone => "the service no longer returns the image".to_owned(),
                _ => format!(
                    "the image is still {} after {} min",
                    e.state,
                    PendingImage::PATIENCE_MINUTES
                ),
            };
            (
                ActionName::OperationFailed,
                format!("{what} did not complete: {why}"),
                failed(names::OPERATION_FAILED, why),
                ot::LIFECYCLE_OPERATION_FAILED,
            )
        }
    };
    Action {
        tenant: &tenant.tenant_id,
        workspace: p.workspace_id.as_ref(),
        actor: actor.clone(),
        action,
        reason,
        outcome,
        detail_type,
        at: now,
        details: Some(details),
    }
}
