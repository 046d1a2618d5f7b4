//! What every lifecycle command checks and does around its call: the tenant's clients in a
//! Region, the partner tag on the resources it names, its desktops registered and in a
//! state the operation accepts, and the registry following what the service accepted.

use steward_shared::aws::{AwsErrorKind, TenantAccess, TenantClients};
use steward_shared::events::Rejection;
use steward_shared::gateway::workspaces::WorkspacesGateway;
use steward_shared::ids::{RegionName, WorkspaceId};
use steward_shared::lifecycle::{DesktopOp, LifecycleEvent, check_state, region_of};
use steward_shared::model::{StewardAction, StewardCall, Tenant, WorkspaceRecord, WorkspaceState};
use steward_shared::store::WorkspaceStore;
use steward_shared::validate::{Problem, ValidationError};

use super::outcome::NotDone;
use crate::deps::Deps;
use crate::power::usage::add_usage_until;

/// One command being acted upon: the tenant it is for and the event that asked for it.
pub(super) struct Context<'a> {
    pub(super) deps: &'a Deps,
    pub(super) tenant: &'a Tenant,
    pub(super) event: &'a LifecycleEvent,
}

/// A desktop in Steward's registry and its current state as the service reports it.
pub(super) struct Desktop {
    pub(super) record: WorkspaceRecord,
    pub(super) state: WorkspaceState,
}

/// Whether a desktop's AVAILABLE period goes on through a command, or ends with it (it
/// leaves service: terminated, rebuilt, restored, migrated away).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum AvailablePeriod {
    Continues,
    Ends,
}

impl Context<'_> {
    /// The call this command makes, as the desktop's record remembers it.
    pub(super) fn call(&self, action: StewardAction) -> StewardCall {
        StewardCall::new(
            action,
            self.deps.now(),
            Some(self.event.event_id.to_string()),
        )
    }

    /// The Region the detail names, or the tenant's one; it must be one of the tenant's.
    pub(super) fn region(&self, named: Option<&RegionName>) -> Result<RegionName, NotDone> {
        Ok(region_of(named, &self.tenant.regions)?)
    }

    pub(super) async fn clients(&self, region: &RegionName) -> TenantClients {
        self.deps
            .clients
            .for_tenant(TenantAccess::new(self.tenant, region))
            .await
    }

    /// The resource carries the partner tag (DescribeTags); a missing one is not owned
    /// either.
    pub(super) async fn owned(&self, c: &TenantClients, resource: &str) -> Result<(), NotDone> {
        let gateway = WorkspacesGateway::new(c.workspaces());
        match gateway
            .carries_partner_tag(resource, &self.tenant.partner_tag)
            .await
        {
            Ok(true) => Ok(()),
            Ok(false) => Err(Rejection::ResourceNotOwned(resource.to_owned()).into()),
            Err(e) if e.kind == AwsErrorKind::NotFound => {
                Err(Rejection::ResourceNotOwned(format!("{resource} (not found)")).into())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The desktops, each in the registry and in a state `op` accepts (DescribeWorkspaces
    /// in their Region). A tenant may have desktops in several Regions, but one call acts
    /// in one: desktops of more than one Region in the same command are refused by name
    /// (`InvalidField` at `detail.workspaceIds`), one command per Region.
    pub(super) async fn desktops(
        &self,
        ids: &[WorkspaceId],
        op: DesktopOp,
    ) -> Result<Vec<Desktop>, NotDone> {
        let tenant = &self.tenant.tenant_id;
        let mut records = Vec::with_capacity(ids.len());
        for id in ids {
            let r = self
                .deps
                .store
                .get_workspace(tenant, id)
                .await?
                .ok_or_else(|| Rejection::NotOwned {
                    tenant: tenant.to_string(),
                    workspace: id.to_string(),
                })?;
            records.push(r);
        }
        let Some(first) = records.first() else {
            return Ok(Vec::new());
        };
        if records.iter().any(|r| r.region != first.region) {
            return Err(Rejection::InvalidField(ValidationError::new(
                "detail.workspaceIds",
                Problem::Inconsistent(
                    "desktops in more than one Region: send one command per Region".into(),
                ),
            ))
            .into());
        }
        let c = self.clients(&first.region).await;
        let described = WorkspacesGateway::new(c.workspaces()).describe(ids).await?;
        let now = self.deps.now();
        let mut out = Vec::with_capacity(records.len());
        for record in records {
            let state = described
                .found
                .iter()
                .find(|o| o.workspace_id == record.workspace_id)
                .map_or(WorkspaceState::Terminated, |o| o.state);
            let minutes = if record.state == state {
                (now - record.state_observed_at).num_minutes()
            } else {
                0
            };
            check_state(op, &record.workspace_id, state, minutes)?;
            out.push(Desktop { record, state });
        }
        Ok(out)
    }

    /// One desktop, as [`Context::desktops`] checks it.
    pub(super) async fn desktop(
        &self,
        id: &WorkspaceId,
        op: DesktopOp,
    ) -> Result<Desktop, NotDone> {
        let mut one = self.desktops(std::slice::from_ref(id), op).await?;
        // One id in, one desktop out: an unregistered one was refused above.
        Ok(one.swap_remove(0))
    }

    /// Registry follows a call the service accepted: new state, the call pending (so the
    /// sweeps attribute what follows to it and report its end), and the AVAILABLE period
    /// closed (usage ledger) when the desktop leaves service. Best effort: the sweeps
    /// reconcile whatever this could not write.
    pub(super) async fn follow(
        &self,
        d: &Desktop,
        state: WorkspaceState,
        period: AvailablePeriod,
        action: StewardAction,
    ) {
        let call = self.call(action);
        let now = self.deps.now();
        let mut r = d.record.clone();
        r.state = state;
        r.state_observed_at = now;
        r.last_call = Some(call);
        if period == AvailablePeriod::Ends && d.state == WorkspaceState::Available {
            if let Err(e) = add_usage_until(self.deps, &d.record, now).await {
                tracing::warn!(workspace = %r.workspace_id, error = %e, "usage not recorded");
            }
            r.available_since = None;
            r.available_since_source = None;
            r.available_since_uncertainty_seconds = 0;
            r.lease_until = None;
            r.lease_source = None;
            r.guard_warned_at = None;
        }
        if let Err(e) = self.deps.store.update_workspace(&r).await {
            tracing::warn!(workspace = %r.workspace_id, error = %e, "registry not updated; the guard sweep reconciles it");
        }
    }
}
