//! WorkSpaces: describe by id, start and stop, in the service's batches of 25.

use std::collections::HashMap;

use aws_sdk_workspaces::Client;
use aws_sdk_workspaces::types::{StartRequest, StopRequest, Workspace};

use super::ItemOutcome;
use crate::aws::AwsError;
use crate::ids::{BundleId, DirectoryId, WorkspaceId};
use crate::model::{RunningMode, WorkspaceState};

/// Items per WorkSpaces batch call (DescribeWorkspaces ids, Start, Stop, Reboot, Terminate).
pub const BATCH: usize = 25;

/// A desktop as the service reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub workspace_id: WorkspaceId,
    pub state: WorkspaceState,
    pub running_mode: Option<RunningMode>,
    pub directory_id: Option<DirectoryId>,
    pub bundle_id: Option<BundleId>,
    pub workspace_name: Option<String>,
    pub user_name: Option<String>,
}

/// The result of describing a set of desktops.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Described {
    pub found: Vec<Observed>,
    /// Asked for and not returned: terminated (TERMINATED shows only briefly).
    pub absent: Vec<WorkspaceId>,
    /// Returned in a shape Steward cannot read (e.g. a state this version does not know):
    /// left alone this time, with the reason.
    pub unreadable: Vec<(String, String)>,
}

fn enum_from_wire<T: serde::de::DeserializeOwned>(wire: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(wire.to_owned())).ok()
}

/// Reads an SDK workspace into the domain, or says why it cannot.
pub fn observe(w: &Workspace) -> Result<Observed, (String, String)> {
    let raw_id = w.workspace_id().unwrap_or_default().to_owned();
    let workspace_id =
        WorkspaceId::parse(raw_id.clone()).map_err(|e| (raw_id.clone(), e.to_string()))?;
    let state_wire = w.state().map(|s| s.as_str()).unwrap_or_default();
    let state = enum_from_wire::<WorkspaceState>(state_wire)
        .ok_or_else(|| (raw_id.clone(), format!("unknown state {state_wire:?}")))?;
    let running_mode = w
        .workspace_properties()
        .and_then(|p| p.running_mode())
        .and_then(|m| enum_from_wire::<RunningMode>(m.as_str()));
    Ok(Observed {
        workspace_id,
        state,
        running_mode,
        directory_id: w.directory_id().and_then(|d| DirectoryId::parse(d).ok()),
        bundle_id: w.bundle_id().and_then(|b| BundleId::parse(b).ok()),
        workspace_name: w.workspace_name().map(str::to_owned),
        user_name: w.user_name().map(str::to_owned),
    })
}

pub struct WorkspacesGateway<'a> {
    client: &'a Client,
}

impl<'a> WorkspacesGateway<'a> {
    pub fn new(client: &'a Client) -> Self {
        Self { client }
    }

    /// Describes `ids`, 25 per call.
    pub async fn describe(&self, ids: &[WorkspaceId]) -> Result<Described, AwsError> {
        let mut out = Described::default();
        for chunk in ids.chunks(BATCH) {
            let mut seen = std::collections::HashSet::new();
            let mut token = None;
            loop {
                let resp = self
                    .client
                    .describe_workspaces()
                    .set_workspace_ids(Some(chunk.iter().map(|i| i.to_string()).collect()))
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("WorkSpaces", "DescribeWorkspaces", e))?;
                for w in resp.workspaces() {
                    if let Some(id) = w.workspace_id() {
                        seen.insert(id.to_owned());
                    }
                    match observe(w) {
                        Ok(o) => out.found.push(o),
                        Err(bad) => out.unreadable.push(bad),
                    }
                }
                token = resp.next_token().map(str::to_owned);
                if token.is_none() {
                    break;
                }
            }
            out.absent.extend(
                chunk
                    .iter()
                    .filter(|id| !seen.contains(id.as_str()))
                    .cloned(),
            );
        }
        Ok(out)
    }

    /// StopWorkspaces for `ids`, 25 per call; one outcome per id, in order.
    pub async fn stop(
        &self,
        ids: &[WorkspaceId],
    ) -> Result<Vec<(WorkspaceId, ItemOutcome)>, AwsError> {
        self.power(Power::Stop, ids).await
    }

    /// StartWorkspaces for `ids`, 25 per call; one outcome per id, in order.
    pub async fn start(
        &self,
        ids: &[WorkspaceId],
    ) -> Result<Vec<(WorkspaceId, ItemOutcome)>, AwsError> {
        self.power(Power::Start, ids).await
    }

    async fn power(
        &self,
        power: Power,
        ids: &[WorkspaceId],
    ) -> Result<Vec<(WorkspaceId, ItemOutcome)>, AwsError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH) {
            let ids = chunk.iter().map(|id| id.to_string());
            let failed = match power {
                Power::Start => self
                    .client
                    .start_workspaces()
                    .set_start_workspace_requests(Some(
                        ids.map(|id| StartRequest::builder().workspace_id(id).build())
                            .collect(),
                    ))
                    .send()
                    .await
                    .map(|r| r.failed_requests().to_vec())
                    .map_err(|e| AwsError::from_sdk("WorkSpaces", "StartWorkspaces", e))?,
                Power::Stop => self
                    .client
                    .stop_workspaces()
                    .set_stop_workspace_requests(Some(
                        ids.map(|id| StopRequest::builder().workspace_id(id).build())
                            .collect(),
                    ))
                    .send()
                    .await
                    .map(|r| r.failed_requests().to_vec())
                    .map_err(|e| AwsError::from_sdk("WorkSpaces", "StopWorkspaces", e))?,
            };
            out.extend(outcomes(chunk, &failed));
        }
        Ok(out)
    }
}

#[derive(Clone, Copy)]
enum Power {
    Start,
    Stop,
}

/// Matches a batch call's FailedRequests back to the ids asked for: every id not failed was
/// accepted (the service lists no successes).
fn outcomes(
    chunk: &[WorkspaceId],
    failed: &[aws_sdk_workspaces::types::FailedWorkspaceChangeRequest],
) -> Vec<(WorkspaceId, ItemOutcome)> {
    let failed: HashMap<&str, ItemOutcome> = failed
        .iter()
        .filter_map(|f| {
            Some((
                f.workspace_id()?,
                ItemOutcome::Failed {
                    code: f.error_code().unwrap_or("Unknown").to_owned(),
                    message: f.error_message().unwrap_or_default().to_owned(),
                },
            ))
        })
        .collect();
    chunk
        .iter()
        .map(|id| {
            let outcome = failed
                .get(id.as_str())
                .cloned()
                .unwrap_or(ItemOutcome::Accepted);
            (id.clone(), outcome)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_workspaces::types::{FailedWorkspaceChangeRequest, WorkspaceProperties};

    fn ids(n: usize) -> Vec<WorkspaceId> {
        (0..n)
            .map(|i| WorkspaceId::parse(format!("ws-{i:08x}")).unwrap())
            .collect()
    }

    #[test]
    fn failures_map_back_to_their_ids_in_order() {
        let chunk = ids(3);
        let failed = [FailedWorkspaceChangeRequest::builder()
            .workspace_id("ws-00000001")
            .error_code("InvalidResourceState")
            .error_message("The WorkSpace is not in a valid state")
            .build()];
        let got = outcomes(&chunk, &failed);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].1, ItemOutcome::Accepted);
        assert!(
            matches!(&got[1].1, ItemOutcome::Failed { code, .. } if code == "InvalidResourceState")
        );
        assert_eq!(got[2].1, ItemOutcome::Accepted);
    }

    #[test]
    fn observing_reads_states_and_refuses_unknown_ones() {
        let w = Workspace::builder()
            .workspace_id("ws-00000001")
            .state("ADMIN_MAINTENANCE".into())
            .directory_id("d-1234567890")
            .workspace_properties(
                WorkspaceProperties::builder()
                    .running_mode("MANUAL".into())
                    .build(),
            )
            .build();
        let o = observe(&w).unwrap();
        assert_eq!(o.state, WorkspaceState::AdminMaintenance);
        assert_eq!(o.running_mode, Some(RunningMode::Manual));
        let odd = Workspace::builder()
            .workspace_id("ws-00000002")
            .state("HIBERNATING".into())
            .build();
        let (id, why) = observe(&odd).unwrap_err();
        assert_eq!(id, "ws-00000002");
        assert!(why.contains("HIBERNATING"));
    }
}
