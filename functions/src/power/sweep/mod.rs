//! One tenant's sweep, idle or guard. Level-triggered: it looks at what the service reports
//! now and never relies on what it did last time.
//!
//! 1. read the tenant's desktops from the sparse sweep index: every MANUAL desktop but the
//!    TERMINATED, STOPPED ones included (one started from the console is found here);
//!    then, per Region (`region.rs`):
//! 2. DescribeWorkspaces by id, 25 per call, paced by the tenant's token bucket;
//! 3. reconcile each record (drift, the service's own 48 h stop, when it became AVAILABLE,
//!    AVAILABLE periods closed into the usage ledger, Steward's own calls that ended: their
//!    completion events, [`super::observations`]) and decide with the pure policy
//!    ([`idle_decision`](steward_shared::power::idle_decision) /
//!    [`guard_decision`](steward_shared::power::guard_decision)), all before any write
//!    (`plan.rs`);
//! 4. write each desktop that needs it once — what reconciliation learnt together with the
//!    decision's mark (a warning, a stop's intent) — conditional on the version read, in
//!    batches ([`WorkspaceStore::update_workspaces`]); a quiet sweep writes nothing, and a
//!    desktop whose record changed since it was read (a session started) is left for the
//!    next sweep;
//! 5. stop in batches of 25 (`calls.rs`); per-item FailedRequests restore the record; the
//!    ledger's additions go in one batch
//!    ([`UsageStore::add_usages`](steward_shared::store::UsageStore::add_usages));
//! 6. an audit record and an outbound event per action; dry-run records "would stop" and
//!    calls nothing;
//! 7. (idle sweep) the upkeep of the tenant's pools ([`crate::pools::upkeep`]).
//!
//! In the idle sweep, the tenant's power plans ([`crate::plans::govern`]) are evaluated
//! once; steps 1–2 run for every Region first, so that a plan decides over all of a
//! group's desktops on their fresh states, and its verdicts take the idle rule's place for
//! the desktops they name: warm capacity held, pre-warm and buffer starts (25 per
//! StartWorkspaces call, paced like the stops), drain stops and warnings. Afterwards the
//! plans' once-only news is told (a skipped window, an override that ended, the month's
//! report: [`crate::plans::report`]) and the start times measured are kept.
//!
//! Only desktops in Steward's registry are ever named in a call. A whole-call AccessDenied
//! on a stop (the customer role's tag condition: a desktop lost the partner tag) is retried
//! one desktop at a time, so the untagged desktop is refused alone and reported.

mod calls;
mod plan;
mod region;

use std::collections::HashMap;

use chrono::Duration;
use serde::Serialize;
use steward_shared::Error;
use steward_shared::ids::RegionName;
use steward_shared::model::{SWEEP_INDEX_VERSION, StartTimes, Tenant, WorkspaceRecord};
use steward_shared::store::{PageRequest, PlanStore, TenantStore, WorkspaceStore, collect_all};

use super::SweepKind;
use super::pace::PaceConfig;
use crate::deps::Deps;
use crate::plans::govern::PlanBook;
use crate::record::PowerAction;

/// How a sweep runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepOptions {
    /// The sweep's schedule interval: the most an observed transition can be off by.
    pub interval: Duration,
    pub pace: PaceConfig,
}

impl Default for SweepOptions {
    fn default() -> Self {
        Self {
            interval: Duration::minutes(5),
            pace: PaceConfig::default(),
        }
    }
}

/// What one tenant's sweep did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TenantSweep {
    pub tenant_id: String,
    /// Desktops read from the sweep index.
    pub looked_at: usize,
    /// Desktops the service reported AVAILABLE.
    pub available: usize,
    pub stopped: usize,
    pub would_stop: usize,
    pub stop_failed: usize,
    /// Desktops a power plan started (pre-warm, buffer, override).
    pub started: usize,
    pub start_failed: usize,
    pub warned: usize,
    pub drift: usize,
    /// Steward's own calls seen to end (completion events published).
    pub completed: usize,
    /// Records that changed under the sweep (left for the next one).
    pub conflicts: usize,
    /// WorkSpaces calls made.
    pub api_calls: usize,
    pub events_unpublished: usize,
    pub actions: Vec<PowerAction>,
    /// Seconds Steward's starts took, as this sweep saw them end (kept for the pre-warm
    /// lead).
    #[serde(skip)]
    pub start_samples: Vec<u32>,
    /// The idle sweep's upkeep of the tenant's pools (when it has any).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool_upkeep: Option<crate::pools::upkeep::Upkeep>,
}

/// Records per page of the sweep index (the store's largest page).
const SWEEP_PAGE: u32 = 1000;

/// Sweeps one tenant. An error means the tenant could not be swept (AccessDenied,
/// throttling past the retries, the table); the caller records it and goes on.
pub async fn sweep_tenant(
    deps: &Deps,
    tenant: &Tenant,
    kind: SweepKind,
    options: &SweepOptions,
) -> Result<TenantSweep, Error> {
    let mut out = TenantSweep {
        tenant_id: tenant.tenant_id.to_string(),
        ..TenantSweep::default()
    };
    if tenant.sweep_index < SWEEP_INDEX_VERSION {
        reindex(deps, tenant).await?;
    }
    let records = collect_all(|page: PageRequest| {
        let page = PageRequest {
            limit: Some(SWEEP_PAGE),
            ..page
        };
        deps.store.list_sweep_workspaces(&tenant.tenant_id, page)
    })
    .await?;
    out.looked_at = records.len();
    let mut by_region: HashMap<RegionName, Vec<WorkspaceRecord>> = HashMap::new();
    for r in records {
        by_region.entry(r.region.clone()).or_default().push(r);
    }
    let mut regions: Vec<_> = by_region.into_iter().collect();
    regions.sort_by(|a, b| a.0.cmp(&b.0));
    let book = match kind {
        SweepKind::Idle => {
            Some(PlanBook::load(deps, &tenant.tenant_id, deps.now(), options.interval).await?)
        }
        SweepKind::Guard => None,
    };
    let sweep = |region| region::RegionSweep {
        deps,
        tenant,
        region,
        kind,
        options,
    };
    let mut observed = Vec::with_capacity(regions.len());
    for (region, records) in &regions {
        observed.push(sweep(region).observe(records, &mut out).await?);
    }
    let all: Vec<&WorkspaceRecord> = observed
        .iter()
        .flat_map(|o| o.reconciled.iter().map(|(_, r)| &r.record))
        .collect();
    let verdicts = book
        .as_ref()
        .map(|b| b.verdicts(&all, &tenant.policy))
        .unwrap_or_default();
    let members = book.as_ref().map(|b| b.members(&all)).unwrap_or_default();
    for ((region, _), o) in regions.iter().zip(observed) {
        sweep(region)
            .act(o, &verdicts, book.as_ref(), &mut out)
            .await?;
    }
    if let Some(book) = &book {
        keep_start_times(deps, tenant, &out.start_samples).await;
        let told = crate::plans::report::tell(deps, tenant, book, &members).await?;
        out.actions.extend(told);
    }
    if kind == SweepKind::Idle {
        // The pools' upkeep, on the states just reconciled.
        let upkeep = crate::pools::upkeep::upkeep(deps, tenant, deps.now()).await?;
        if upkeep.pools > 0 {
            out.actions.extend(upkeep.actions.iter().cloned());
            out.pool_upkeep = Some(upkeep);
        }
    }
    Ok(out)
}

/// Adds the start times this sweep measured to the tenant's. Best effort: a lost race
/// loses these samples, and later sweeps measure more.
async fn keep_start_times(deps: &Deps, tenant: &Tenant, samples: &[u32]) {
    if samples.is_empty() {
        return;
    }
    let kept = async {
        let mut times = deps
            .store
            .get_start_times(&tenant.tenant_id)
            .await?
            .unwrap_or_else(|| StartTimes {
                tenant_id: tenant.tenant_id.clone(),
                samples: Vec::new(),
                updated_at: deps.now(),
                version: 0,
            });
        times.add(samples.iter().copied());
        times.updated_at = deps.now();
        deps.store.put_start_times(&times).await
    };
    if let Err(e) = kept.await {
        tracing::info!(tenant = %tenant.tenant_id, error = %e, "start times not kept; later sweeps measure more");
    }
}

/// Puts a tenant recorded by an earlier Steward in today's sweep index, once: every desktop
/// record that belongs there is written again (conditional on its version; the store
/// writes the index keys), then the tenant is marked. A record that changed meanwhile was
/// written by this version, index keys included; a lost race on the tenant only means the
/// next sweep does it again, harmlessly.
async fn reindex(deps: &Deps, tenant: &Tenant) -> Result<(), Error> {
    let all = collect_all(|page: PageRequest| {
        let page = PageRequest {
            limit: Some(SWEEP_PAGE),
            ..page
        };
        deps.store.list_workspaces(&tenant.tenant_id, page)
    })
    .await?;
    let due: Vec<WorkspaceRecord> = all.into_iter().filter(|r| r.needs_sweep()).collect();
    let written = deps.store.update_workspaces(&due).await?;
    let conflicts = written.iter().filter(|w| w.is_err()).count();
    if let Some(mut fresh) = deps.store.get_tenant(&tenant.tenant_id).await? {
        fresh.sweep_index = SWEEP_INDEX_VERSION;
        if let Err(e) = deps.store.update_tenant(&fresh).await {
            tracing::info!(tenant = %tenant.tenant_id, error = %e, "sweep index version not recorded; the next sweep re-indexes again");
        }
    }
    tracing::info!(tenant = %tenant.tenant_id, desktops = due.len(), conflicts, "re-indexed the tenant's desktops for the sweep");
    Ok(())
}
