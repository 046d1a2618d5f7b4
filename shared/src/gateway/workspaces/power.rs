//! Power: StartWorkspaces, StopWorkspaces and RebootWorkspaces, 25 desktops per call, one
//! [`ItemOutcome`] per desktop (the service reports per-item refusals in `FailedRequests`,
//! not as a failed call).

use aws_sdk_workspaces::types::{RebootRequest, StartRequest, StopRequest};

use super::{BATCH, WorkspacesGateway, batch_outcomes, call_failed, unbuildable};
use crate::aws::AwsError;
use crate::gateway::ItemOutcome;
use crate::ids::WorkspaceId;

#[derive(Clone, Copy)]
enum Power {
    Start,
    Stop,
    Reboot,
}

impl WorkspacesGateway<'_> {
    /// StartWorkspaces for `ids`, 25 per call; one outcome per id, in order.
    pub async fn start(
        &self,
        ids: &[WorkspaceId],
    ) -> Result<Vec<(WorkspaceId, ItemOutcome)>, AwsError> {
        self.power(Power::Start, ids).await
    }

    /// StopWorkspaces for `ids`, 25 per call; one outcome per id, in order.
    pub async fn stop(
        &self,
        ids: &[WorkspaceId],
    ) -> Result<Vec<(WorkspaceId, ItemOutcome)>, AwsError> {
        self.power(Power::Stop, ids).await
    }

    /// RebootWorkspaces for `ids`, 25 per call; one outcome per id, in order.
    pub async fn reboot(
        &self,
        ids: &[WorkspaceId],
    ) -> Result<Vec<(WorkspaceId, ItemOutcome)>, AwsError> {
        self.power(Power::Reboot, ids).await
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
                    .map_err(call_failed("StartWorkspaces"))?,
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
                    .map_err(call_failed("StopWorkspaces"))?,
                Power::Reboot => {
                    const OP: &str = "RebootWorkspaces";
                    let requests = ids
                        .map(|id| {
                            RebootRequest::builder()
                                .workspace_id(id)
                                .build()
                                .map_err(|e| unbuildable(OP, e))
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    self.client
                        .reboot_workspaces()
                        .set_reboot_workspace_requests(Some(requests))
                        .send()
                        .await
                        .map(|r| r.failed_requests().to_vec())
                        .map_err(call_failed(OP))?
                }
            };
            out.extend(batch_outcomes(chunk, &failed));
        }
        Ok(out)
    }
}
