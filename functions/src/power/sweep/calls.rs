//! The WorkSpaces calls of one Region's sweep: 25 desktops per call, each call paced by the
//! tenant's token bucket ([`Pacer`]) and counted in [`TenantSweep::api_calls`].

use steward_shared::aws::{AwsError, AwsErrorKind};
use steward_shared::error::names;
use steward_shared::gateway::ItemOutcome;
use steward_shared::gateway::workspaces::{BATCH, Described, WorkspacesGateway};
use steward_shared::ids::WorkspaceId;

use super::TenantSweep;
use crate::power::pace::Pacer;

/// The Region's gateway (as the tenant's role) and its pacer.
pub(super) struct Calls<'a> {
    pub(super) gateway: WorkspacesGateway<'a>,
    pub(super) pacer: Pacer,
}

impl Calls<'_> {
    /// DescribeWorkspaces for `ids`, 25 per call.
    pub(super) async fn describe(
        &self,
        ids: &[WorkspaceId],
        out: &mut TenantSweep,
    ) -> Result<Described, AwsError> {
        let mut described = Described::default();
        for chunk in ids.chunks(BATCH) {
            let _call = self.pacer.acquire().await;
            out.api_calls += 1;
            let d = self.gateway.describe(chunk).await?;
            described.found.extend(d.found);
            described.absent.extend(d.absent);
            described.unreadable.extend(d.unreadable);
        }
        Ok(described)
    }

    /// One StopWorkspaces or StartWorkspaces call for up to 25 desktops; a whole-call
    /// failure becomes a failure of each item (AccessDenied is retried one desktop at a time:
    /// see the module docs).
    pub(super) async fn batch(
        &self,
        op: Power,
        ids: &[WorkspaceId],
        out: &mut TenantSweep,
    ) -> Vec<ItemOutcome> {
        let call = self.pacer.acquire().await;
        out.api_calls += 1;
        let whole = self.call(op, ids).await;
        drop(call);
        match whole {
            Ok(v) => v.into_iter().map(|(_, o)| o).collect(),
            Err(e) if e.kind == AwsErrorKind::AccessDenied && ids.len() > 1 => {
                let mut each = Vec::with_capacity(ids.len());
                for id in ids {
                    let _call = self.pacer.acquire().await;
                    out.api_calls += 1;
                    each.push(match self.call(op, std::slice::from_ref(id)).await {
                        Ok(v) => v
                            .into_iter()
                            .next()
                            .map_or_else(|| whole_call(names::AWS, "no outcome"), |(_, o)| o),
                        Err(e) => whole_call(e.kind.name(), &e.to_string()),
                    });
                }
                each
            }
            Err(e) => ids
                .iter()
                .map(|_| whole_call(e.kind.name(), &e.to_string()))
                .collect(),
        }
    }
}

impl Calls<'_> {
    async fn call(
        &self,
        op: Power,
        ids: &[WorkspaceId],
    ) -> Result<Vec<(WorkspaceId, ItemOutcome)>, AwsError> {
        match op {
            Power::Stop => self.gateway.stop(ids).await,
            Power::Start => self.gateway.start(ids).await,
        }
    }
}

/// The power call a batch makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Power {
    Stop,
    Start,
}

fn whole_call(code: &str, message: &str) -> ItemOutcome {
    ItemOutcome::Failed {
        code: code.to_owned(),
        message: message.to_owned(),
    }
}
