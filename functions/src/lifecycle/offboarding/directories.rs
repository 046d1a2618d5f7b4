//! `lifecycle.offboard_directories`: in each of the tenant's Regions, its partner-tagged
//! REGISTERED directories deregistered, and every partner-tagged directory WorkSpaces still
//! lists reported as `waiting`.
//!
//! Deregistration is not immediate: the service shows the directory DEREGISTERING for a
//! while before it drops it from DescribeWorkspaceDirectories. The tenant must not be
//! OFFBOARDED while WorkSpaces still holds one of its directories (the customer would see a
//! directory Steward says it removed, and a REGISTERING one would come back REGISTERED),
//! so the state machine calls this task again after a Wait while `remaining` is above
//! zero, and gives up by name (`Steward.PollTimeout`) after a bounded number of polls.
//! Each call acts only on what it finds: a directory still REGISTERING when first seen is
//! deregistered by a later call, once REGISTERED. A DEREGISTERED one (which the service may
//! list briefly) is gone; one in ERROR is left for the customer and logged.

use serde::Serialize;
use serde_json::{Value, json};
use steward_shared::Error;
use steward_shared::gateway::workspaces::{DirectoryState, WorkspacesGateway};
use steward_shared::ids::{DirectoryId, RegionName};
use steward_shared::model::Tenant;

use super::{TENANT_OFFBOARDING, each_region, gone, offboarding_tenant, record};
use crate::deps::Deps;
use crate::record::ActionName;

/// One of the tenant's directories, where it is and how the service lists it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Listed {
    region: RegionName,
    directory_id: DirectoryId,
    state: DirectoryState,
}

/// The task's answer.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    /// Directories DeregisterWorkspaceDirectory accepted in this call.
    deregistered: Vec<Listed>,
    /// The tenant's directories the service still lists (DEREGISTERING, or REGISTERING
    /// and deregistered by a later call), as this call leaves them.
    waiting: Vec<Listed>,
    /// How many are waiting: the state machine polls again while it is above zero.
    remaining: usize,
}

pub async fn deregister_directories(event: Value, deps: &Deps) -> Result<Value, Error> {
    let (_, t) = offboarding_tenant(deps, event).await?;
    let mut answer = Answer::default();
    for (region, c) in each_region(deps, &t).await {
        let w = WorkspacesGateway::new(c.workspaces());
        region_pass(&w, &t, &region, &mut answer).await?;
    }
    answer.remaining = answer.waiting.len();
    if !answer.deregistered.is_empty() {
        let ids: Vec<String> = answer
            .deregistered
            .iter()
            .map(|d| format!("{} ({})", d.directory_id, d.region))
            .collect();
        record(
            deps,
            &t,
            ActionName::OffboardDeregister,
            format!("deregistered directories {ids:?}"),
            TENANT_OFFBOARDING,
        )
        .await?;
    }
    Ok(json!(answer))
}

/// One Region: its partner-tagged directories deregistered (REGISTERED) or waited for.
async fn region_pass(
    w: &WorkspacesGateway<'_>,
    t: &Tenant,
    region: &RegionName,
    answer: &mut Answer,
) -> Result<(), Error> {
    for d in w.directories().await? {
        let Some(state) = d.state else { continue };
        if matches!(state, DirectoryState::Deregistered) {
            continue;
        }
        let id = d.directory_id;
        match w.carries_partner_tag(id.as_str(), &t.partner_tag).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) if gone(&e) => continue,
            Err(e) => return Err(e.into()),
        }
        let listed = |state| Listed {
            region: region.clone(),
            directory_id: id.clone(),
            state,
        };
        match state {
            DirectoryState::Registered => match w.deregister_directory(&id).await {
                Ok(()) => {
                    answer.deregistered.push(listed(DirectoryState::Registered));
                    answer.waiting.push(listed(DirectoryState::Deregistering));
                }
                Err(e) if gone(&e) => {}
                Err(e) => return Err(e.into()),
            },
            DirectoryState::Registering | DirectoryState::Deregistering => {
                answer.waiting.push(listed(state));
            }
            other => {
                tracing::warn!(directory = %id, %region, state = other.as_str(), "directory left as the service shows it");
            }
        }
    }
    Ok(())
}
