//! Growing and shrinking a pool.
//!
//! **Growth** is reserved on the pool record first: its `desktops` count goes up by n in a
//! write conditional on the version read, so two requests growing the pool at once cannot
//! take it past `maxSize` — the loser decides again and finds the desktops the winner is
//! creating. Then CreateWorkspaces makes the n desktops (user-decoupled: `[UNDEFINED]` with
//! the name `<pool>-<n>`, MANUAL, partner-tagged, encrypted as the tenant's setting says),
//! 25 per call, so a growth of n costs ⌈n/25⌉ calls. Each desktop the service accepted is
//! registered with its seat in the pool; the count is given back for each one it refused.
//!
//! **Shrinking** terminates free desktops (TerminateWorkspaces, 25 per call), removes
//! their records and lowers the count.

use serde_json::json;
use steward_shared::Error;
use steward_shared::gateway::ItemOutcome;
use steward_shared::gateway::workspaces::{
    BATCH, CreateWorkspacesSpec, Created, NewWorkspace, WorkspacesGateway,
};
use steward_shared::ids::WorkspaceId;
use steward_shared::model::{
    Actor, AuditOutcome, FirstSeen, PoolRecord, PoolSeat, RunningMode, StewardAction, StewardCall,
    Tenant, Timestamp, WorkspaceRecord,
};
use steward_shared::store::{PoolStore, StoreError, WorkspaceStore};

use super::{clients_for, reread_pool};
use crate::deps::Deps;
use crate::onboarding::request::UNDEFINED_USER;
use crate::record::{Action, ActionName, PowerAction, failed, outbound_types as ot, record_all};

/// Who is resizing, and when.
pub(super) struct Resizer<'a> {
    pub deps: &'a Deps,
    pub tenant: &'a Tenant,
    pub actor: &'a Actor,
    pub now: Timestamp,
}

/// What a shrink did: the pool as written, how many desktops went, the recorded action.
pub(super) struct Shrunk {
    pub pool: PoolRecord,
    pub gone: usize,
    pub report: Option<PowerAction>,
}

/// What a growth did.
#[derive(Debug, Default)]
pub(super) struct Growth {
    pub created: Vec<WorkspaceId>,
    pub refused: Vec<String>,
    pub calls: u32,
    /// The recorded `pool_grow` action, as the answer and the timeline show it.
    pub report: Option<PowerAction>,
}

impl Resizer<'_> {
    /// Grows `pool` (as read) by `n`. `None`: the pool changed since it was read (decide
    /// again); otherwise the pool as written and what was created.
    pub async fn grow(
        &self,
        pool: &PoolRecord,
        n: u32,
    ) -> Result<Option<(PoolRecord, Growth)>, Error> {
        let mut reserved = pool.clone();
        reserved.desktops += n;
        let first = reserved.next_name;
        reserved.next_name += u64::from(n);
        reserved.updated_at = self.now;
        let mut pool = match self.deps.store.update_pool(&reserved).await {
            Ok(p) => p,
            Err(StoreError::VersionConflict { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let names: Vec<NewWorkspace> = (first..first + u64::from(n))
            .map(|i| NewWorkspace {
                user_name: UNDEFINED_USER.into(),
                workspace_name: Some(format!("{}-{i}", pool.pool_id)),
            })
            .collect();
        let mut growth = Growth::default();
        let failure = self.create(&pool, &names, &mut growth).await.err();
        let refused = n - growth.created.len() as u32;
        if refused > 0 {
            pool = self.give_back(pool, refused).await?;
        }
        if let Some(e) = failure {
            growth.refused.push(e.to_string());
            self.record(&pool, &growth, 0, "").await?;
            return Err(e);
        }
        growth.report = Some(self.record(&pool, &growth, 0, "").await?);
        Ok(Some((pool, growth)))
    }

    /// CreateWorkspaces for `names`, 25 per call; each desktop accepted is registered (and
    /// stays in `growth` when a later call fails).
    async fn create(
        &self,
        pool: &PoolRecord,
        names: &[NewWorkspace],
        growth: &mut Growth,
    ) -> Result<(), Error> {
        let clients = clients_for(self.deps, self.tenant, pool).await;
        let gateway = WorkspacesGateway::new(clients.workspaces());
        for chunk in names.chunks(BATCH) {
            let outcomes = gateway
                .create_workspaces(CreateWorkspacesSpec {
                    directory: &pool.directory_id,
                    bundle: &pool.bundle_id,
                    tag: &self.tenant.partner_tag,
                    desktops: chunk,
                    encryption: self.tenant.encryption.request(),
                })
                .await?;
            growth.calls += 1;
            for outcome in outcomes {
                match outcome {
                    Created::Pending(w) => match w.reading() {
                        Ok(seen) => {
                            let id = self.register(pool, seen).await?;
                            growth.created.push(id);
                        }
                        Err(u) => growth.refused.push(format!(
                            "{}: the service described it in a way Steward cannot read: {}",
                            u.workspace_id, u.reason
                        )),
                    },
                    Created::Failed { code, message } => {
                        growth.refused.push(format!("{code}: {message}"));
                    }
                }
            }
        }
        Ok(())
    }

    /// Registers a desktop the pool created: MANUAL, its seat free once it is up, the
    /// creation pending (reconciliation reports its end).
    async fn register(
        &self,
        pool: &PoolRecord,
        seen: &steward_shared::gateway::workspaces::Observed,
    ) -> Result<WorkspaceId, Error> {
        let mut record = WorkspaceRecord::new(FirstSeen {
            tenant_id: self.tenant.tenant_id.clone(),
            workspace_id: seen.workspace_id.clone(),
            region: pool.region.clone(),
            directory_id: pool.directory_id.clone(),
            running_mode: seen.running_mode.unwrap_or(RunningMode::Manual),
            state: seen.state,
            at: self.now,
        });
        record.bundle_id = Some(pool.bundle_id.clone());
        record.workspace_name.clone_from(&seen.workspace_name);
        record.last_call = Some(StewardCall::new(StewardAction::Create, self.now, None));
        record.pool = Some(PoolSeat::new(pool.pool_id.clone(), self.now));
        match self.deps.store.create_workspace(&record).await {
            Ok(_) | Err(StoreError::AlreadyExists { .. }) => Ok(seen.workspace_id.clone()),
            Err(e) => Err(e.into()),
        }
    }

    /// Lowers the pool's count by `n` (desktops reserved but not created, or terminated),
    /// re-reading it as often as it changed underneath.
    async fn give_back(&self, mut pool: PoolRecord, n: u32) -> Result<PoolRecord, Error> {
        loop {
            let mut next = pool.clone();
            next.desktops = next.desktops.saturating_sub(n);
            next.updated_at = self.now;
            match self.deps.store.update_pool(&next).await {
                Ok(p) => return Ok(p),
                Err(StoreError::VersionConflict { .. }) => {
                    pool = reread_pool(self.deps, &pool).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Terminates `desktops` (free ones of `pool`), removes their records and lowers the
    /// count.
    pub async fn shrink(
        &self,
        pool: PoolRecord,
        desktops: &[WorkspaceRecord],
        why: &str,
    ) -> Result<Shrunk, Error> {
        if desktops.is_empty() {
            return Ok(Shrunk {
                pool,
                gone: 0,
                report: None,
            });
        }
        let clients = clients_for(self.deps, self.tenant, &pool).await;
        let gateway = WorkspacesGateway::new(clients.workspaces());
        let ids: Vec<WorkspaceId> = desktops.iter().map(|d| d.workspace_id.clone()).collect();
        let outcomes = gateway.terminate(&ids).await?;
        let mut gone = 0;
        for (record, (_, outcome)) in desktops.iter().zip(outcomes) {
            if outcome != ItemOutcome::Accepted {
                continue;
            }
            match self
                .deps
                .store
                .delete_workspace(&record.tenant_id, &record.workspace_id, record.version)
                .await
            {
                Ok(()) | Err(StoreError::NotFound { .. }) => gone += 1,
                // Claimed since it was read: it was terminated all the same, so it goes.
                Err(StoreError::VersionConflict { .. }) => {
                    if let Some(now) = self
                        .deps
                        .store
                        .get_workspace(&record.tenant_id, &record.workspace_id)
                        .await?
                    {
                        self.deps
                            .store
                            .delete_workspace(&now.tenant_id, &now.workspace_id, now.version)
                            .await?;
                    }
                    gone += 1;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let pool = self.give_back(pool, gone as u32).await?;
        let calls = ids.len().div_ceil(BATCH) as u32;
        let growth = Growth {
            calls,
            ..Growth::default()
        };
        let report = self.record(&pool, &growth, gone, why).await?;
        Ok(Shrunk {
            pool,
            gone,
            report: Some(report),
        })
    }

    /// Records a resize (`Pool Resized`).
    async fn record(
        &self,
        pool: &PoolRecord,
        growth: &Growth,
        terminated: usize,
        why: &str,
    ) -> Result<PowerAction, Error> {
        let created = growth.created.len();
        let (action, reason) = if terminated > 0 {
            (
                ActionName::PoolShrink,
                format!("terminated {terminated} desktops: {why}"),
            )
        } else {
            (
                ActionName::PoolGrow,
                format!("created {created} desktops in {} calls", growth.calls),
            )
        };
        let outcome = if growth.refused.is_empty() {
            AuditOutcome::Succeeded
        } else {
            failed(
                steward_shared::error::names::OPERATION_FAILED,
                format!(
                    "{} desktops were not created: {}",
                    growth.refused.len(),
                    growth.refused.join("; ")
                ),
            )
        };
        let action = Action {
            tenant: &self.tenant.tenant_id,
            workspace: None,
            actor: self.actor.clone(),
            action,
            reason,
            outcome,
            detail_type: ot::POOL_RESIZED,
            at: self.now,
            details: Some(json!({
                "poolId": pool.pool_id,
                "created": created,
                "terminated": terminated,
                "calls": growth.calls,
                "desktops": pool.desktops,
            })),
        };
        record_all(self.deps, std::slice::from_ref(&action)).await?;
        Ok(action.report())
    }
}
