//! `lifecycle.offboard_terminate`: the tenant's registered desktops terminated, a batch
//! per Region and call, in whichever of its Regions they live (the registry says where),
//! and the records of those the service no longer returns removed.

use serde::Serialize;
use serde_json::{Value, json};
use steward_shared::Error;
use steward_shared::aws::{TenantAccess, TenantClients};
use steward_shared::gateway::ItemOutcome;
use steward_shared::gateway::workspaces::WorkspacesGateway;
use steward_shared::ids::{RegionName, WorkspaceId};
use steward_shared::model::{
    StewardAction, StewardCall, Tenant, Timestamp, WorkspaceRecord, WorkspaceState,
};
use steward_shared::store::{PageRequest, StoreError, WorkspaceStore, collect_all};

use super::{TENANT_OFFBOARDING, offboarding_tenant, record};
use crate::deps::Deps;
use crate::power::usage::add_usage_until;
use crate::record::ActionName;

/// `lifecycle.offboard_terminate`'s answer: what is left, and what this call did.
#[derive(Debug, Default, Serialize)]
struct Terminated {
    /// Registered desktops not yet removed from the registry.
    remaining: usize,
    /// Desktops TerminateWorkspaces accepted in this call.
    terminated: usize,
    /// Records removed because the service no longer returns their desktop.
    removed: usize,
}

pub async fn terminate(event: Value, deps: &Deps) -> Result<Value, Error> {
    let (input, t) = offboarding_tenant(deps, event).await?;
    let tid = t.tenant_id.clone();
    let records = collect_all(|p: PageRequest| deps.store.list_workspaces(&tid, p)).await?;
    let mut pass = TerminatePass {
        deps,
        tenant: &t,
        batch: input.batch_size.unwrap_or(25).clamp(1, 25),
        done: Terminated {
            remaining: records.len(),
            ..Terminated::default()
        },
    };
    // Per Region (a tenant's desktops may live in several).
    let mut regions: Vec<_> = records.iter().map(|r| r.region.clone()).collect();
    regions.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    regions.dedup();
    for region in regions {
        let mine: Vec<_> = records.iter().filter(|r| r.region == region).collect();
        pass.region(&region, &mine).await?;
    }
    Ok(json!(pass.done))
}

/// One call of `lifecycle.offboard_terminate` over the tenant's desktops.
struct TerminatePass<'a> {
    deps: &'a Deps,
    tenant: &'a Tenant,
    /// Desktops terminated per Region and call.
    batch: usize,
    done: Terminated,
}

impl TerminatePass<'_> {
    /// The Region's desktops: records of those the service no longer returns removed, at
    /// most a batch of the others terminated (those already on their way out left alone).
    async fn region(
        &mut self,
        region: &RegionName,
        mine: &[&WorkspaceRecord],
    ) -> Result<(), Error> {
        let c = self
            .deps
            .clients
            .for_tenant(TenantAccess::new(self.tenant, region))
            .await;
        let ids: Vec<WorkspaceId> = mine.iter().map(|r| r.workspace_id.clone()).collect();
        let described = WorkspacesGateway::new(c.workspaces())
            .describe(&ids)
            .await?;
        let now = self.deps.now();
        let mut to_terminate = Vec::new();
        for r in mine {
            match described
                .found
                .iter()
                .find(|o| o.workspace_id == r.workspace_id)
            {
                None => self.forget(r).await?,
                Some(o)
                    if matches!(
                        o.state,
                        WorkspaceState::Terminating | WorkspaceState::Terminated
                    ) => {}
                Some(o) => {
                    if to_terminate.len() < self.batch {
                        to_terminate.push(((*r).clone(), o.state));
                    }
                }
            }
        }
        if to_terminate.is_empty() {
            return Ok(());
        }
        self.terminate(&c, &to_terminate, now).await
    }

    /// The record of a desktop the service no longer returns (kept on a version conflict:
    /// the next call sees it again).
    async fn forget(&mut self, r: &WorkspaceRecord) -> Result<(), Error> {
        match self
            .deps
            .store
            .delete_workspace(&self.tenant.tenant_id, &r.workspace_id, r.version)
            .await
        {
            Ok(()) | Err(StoreError::NotFound { .. }) => {
                self.done.removed += 1;
                self.done.remaining -= 1;
                Ok(())
            }
            Err(StoreError::VersionConflict { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// TerminateWorkspaces for the batch; each accepted desktop's AVAILABLE time added to
    /// the usage ledger and its record marked TERMINATING (a refused one is retried on the
    /// next call).
    async fn terminate(
        &mut self,
        c: &TenantClients,
        batch: &[(WorkspaceRecord, WorkspaceState)],
        now: Timestamp,
    ) -> Result<(), Error> {
        let deps = self.deps;
        let ids: Vec<WorkspaceId> = batch.iter().map(|(r, _)| r.workspace_id.clone()).collect();
        let out = WorkspacesGateway::new(c.workspaces())
            .terminate(&ids)
            .await?;
        for ((r, state), (_, o)) in batch.iter().zip(&out) {
            if *o != ItemOutcome::Accepted {
                tracing::warn!(workspace = %r.workspace_id, outcome = ?o, "terminate refused; retried on the next batch");
                continue;
            }
            self.done.terminated += 1;
            if *state == WorkspaceState::Available {
                add_usage_until(deps, r, now).await?;
            }
            let mut n = r.clone();
            n.state = WorkspaceState::Terminating;
            n.state_observed_at = now;
            n.last_call = Some(StewardCall::new(StewardAction::Terminate, now, None));
            n.available_since = None;
            n.available_since_source = None;
            n.available_since_uncertainty_seconds = 0;
            n.sessions.clear();
            n.lease_until = None;
            n.lease_source = None;
            if let Err(e) = deps.store.update_workspace(&n).await {
                tracing::warn!(workspace = %n.workspace_id, error = %e, "record not marked TERMINATING");
            }
        }
        let accepted = out
            .iter()
            .filter(|(_, o)| *o == ItemOutcome::Accepted)
            .count();
        record(
            deps,
            self.tenant,
            ActionName::OffboardTerminate,
            format!("terminated {accepted} desktop(s)"),
            TENANT_OFFBOARDING,
        )
        .await
    }
}
