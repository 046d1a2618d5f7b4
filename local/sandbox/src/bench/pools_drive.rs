//! The handler side of `bench pools`: everything Steward's handlers do, on one thread of its
//! own (a current-thread runtime), so that the thread's CPU clock measures the handlers —
//! parsing, deciding, the SDK clients' signing and (de)serialising — and not the emulator,
//! dynoxide and the event sink, which serve from the other runtime's threads.
//!
//! The thread's CPU time is read from `/proc/thread-self/schedstat` (nanoseconds on the CPU,
//! the kernel's own accounting, no dependency needed); where it cannot be read the wall
//! time is reported instead, and the report says which it is.

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::{Value, json};
use steward_functions::Deps;
use steward_functions::power::SweepKind;
use steward_functions::power::fanout::{TenantOutcome, sweep_one};
use steward_functions::power::partner_events::{Processed, process};
use steward_functions::power::sweep::SweepOptions;
use steward_shared::ids::PoolId;
use steward_shared::model::Tenant;
use steward_shared::store::{DynamoStore, PoolStore};
use workspaces_core_emulator::Control;
use workspaces_core_emulator::seed::BulkAccount;

use super::pools::{Growth, PoolsBenchConfig, Resize, Sample};
use crate::dynamo::local_client;
use crate::sandbox::handler_clock;
use crate::wiring::{SetupError, local_deps, setup};

/// Where the handlers reach the services.
pub(super) struct Endpoints {
    pub emulator_url: String,
    pub dynamo_url: String,
    pub table: String,
    pub events_url: String,
    pub control: Control,
    /// The tenant of the measured pool, and the tenant whose pools measure growths.
    pub tenants: [Tenant; 2],
    pub accounts: [BulkAccount; 2],
}

/// What the handler side measured.
pub(super) struct Measured {
    pub samples: Vec<Sample>,
    /// CPU seconds of the whole process (every thread: the services too) over the requests.
    pub process_cpu_seconds: f64,
    pub thread_clock: bool,
    pub resizes: Vec<Resize>,
}

/// Nanoseconds this thread has spent on the CPU, if the kernel says.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

const MAIN_POOL: &str = "bench-main";
/// The largest `growBy` a pool may have (`detail.growBy` is 1–100): the largest growth one
/// assignment request can make.
const LARGEST_GROW_BY: u32 = 100;

struct Driver {
    deps: Deps,
    control: Control,
    n: usize,
}

impl Driver {
    fn event(&mut self, tenant: &Tenant, detail_type: &str, mut detail: Value) -> Value {
        self.n += 1;
        let now = self.control.now();
        detail["tenantId"] = json!(tenant.tenant_id);
        detail["occurredAt"] = json!(now);
        json!({
            "version": "0", "id": format!("bench-{}", self.n), "detail-type": detail_type,
            "source": self.deps.config.partner_event_source, "account": "111122223333",
            "time": now, "region": "us-east-1", "resources": [], "detail": detail,
        })
    }

    async fn send(
        &mut self,
        tenant: &Tenant,
        detail_type: &str,
        detail: Value,
    ) -> Result<Processed, SetupError> {
        let e = self.event(tenant, detail_type, detail);
        process(&e, &self.deps)
            .await
            .map_err(|e| SetupError(format!("{detail_type}: {e}")))
    }

    fn advance_minutes(&self, m: f64) -> Result<(), SetupError> {
        self.control
            .advance_seconds(m * 60.0)
            .map(|_| ())
            .map_err(setup("the emulator's clock"))
    }

    async fn idle_sweep(&self, tenant: &Tenant) -> Result<(), SetupError> {
        match sweep_one(
            &self.deps,
            tenant,
            SweepKind::Idle,
            &SweepOptions::default(),
        )
        .await
        {
            TenantOutcome::Swept(_) => Ok(()),
            TenantOutcome::Failed { error, message, .. } => {
                Err(SetupError(format!("idle sweep: {error}: {message}")))
            }
        }
    }

    fn calls(&self, account: &BulkAccount) -> u64 {
        self.control
            .calls(&account.account_id, "WorkSpaces.CreateWorkspaces")
    }
}

fn pool_detail(a: &BulkAccount, pool: &str, min: u32, max: u32, grow_by: u32) -> Value {
    json!({
        "poolId": pool, "directoryId": a.directory_id, "bundleId": a.bundle_id,
        "protocol": "BYOP", "minSize": min, "maxSize": max, "growBy": grow_by,
        "assignment": "FLOATING", "releasePlan": {"action": "RETURN"},
    })
}

fn user_id(i: usize) -> String {
    format!("user-{i:05}")
}

/// Runs the handler side on this thread (see the module docs).
pub(super) fn run_on_this_thread(
    cfg: PoolsBenchConfig,
    ep: Endpoints,
) -> Result<Measured, SetupError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(setup("the handlers' runtime"))?;
    rt.block_on(drive(cfg, ep))
}

async fn drive(cfg: PoolsBenchConfig, ep: Endpoints) -> Result<Measured, SetupError> {
    let store = DynamoStore::new(local_client(&ep.dynamo_url).await, &ep.table);
    let deps = local_deps(
        store,
        &ep.emulator_url,
        &ep.events_url,
        handler_clock(&ep.control),
    )
    .await?;
    let mut d = Driver {
        deps,
        control: ep.control.clone(),
        n: 0,
    };
    let [main, growths] = &ep.tenants;
    let [main_account, growth_account] = &ep.accounts;
    // The measured pool: N desktops created at once, brought AVAILABLE.
    let n = cfg.desktops;
    d.send(
        main,
        "Pool Created",
        pool_detail(main_account, MAIN_POOL, n, n, 10),
    )
    .await?;
    d.advance_minutes(21.0)?;
    d.idle_sweep(main).await?;
    load_users(&mut d, main, cfg.users).await?;
    let (samples, process_cpu_seconds, thread_clock) = requests(&mut d, main, &cfg).await?;
    let resizes = resizes(&mut d, growths, growth_account, &cfg.growths).await?;
    Ok(Measured {
        samples,
        process_cpu_seconds,
        thread_clock,
        resizes,
    })
}

async fn load_users(d: &mut Driver, tenant: &Tenant, users: usize) -> Result<(), SetupError> {
    let max = steward_shared::events::MAX_USERS_PER_EVENT;
    for start in (0..users).step_by(max) {
        let batch: Vec<Value> = (start..(start + max).min(users))
            .map(|i| json!({"userId": user_id(i), "pools": [MAIN_POOL]}))
            .collect();
        d.send(tenant, "Users Loaded", json!({"users": batch}))
            .await?;
    }
    Ok(())
}

/// The K timed requests (after one untimed request that warms the connections).
async fn requests(
    d: &mut Driver,
    tenant: &Tenant,
    cfg: &PoolsBenchConfig,
) -> Result<(Vec<Sample>, f64, bool), SetupError> {
    let warm = json!({"poolId": MAIN_POOL, "userId": "nobody-loaded-this-user"});
    d.send(tenant, "Desktop Assignment Requested", warm).await?;
    let events: Vec<Value> = (0..cfg.requests)
        .map(|i| {
            let detail = json!({"poolId": MAIN_POOL, "userId": user_id(i % cfg.users.max(1))});
            d.event(tenant, "Desktop Assignment Requested", detail)
        })
        .collect();
    let thread_clock = thread_cpu_ns().is_some();
    let process_before = super::cpu_seconds_of("/proc/self/stat");
    let mut samples = Vec::with_capacity(events.len());
    for e in &events {
        let (cpu0, wall0) = (thread_cpu_ns(), Instant::now());
        let p = process(e, &d.deps)
            .await
            .map_err(|err| SetupError(format!("Desktop Assignment Requested: {err}")))?;
        let wall_ns = wall0.elapsed().as_nanos() as u64;
        let cpu_ns = match (cpu0, thread_cpu_ns()) {
            (Some(a), Some(b)) => b.saturating_sub(a),
            _ => wall_ns,
        };
        samples.push(Sample {
            outcome: p.result,
            cpu_ns,
            wall_ns,
            writes: p.writes,
        });
    }
    let process_cpu_seconds = super::cpu_seconds_of("/proc/self/stat") - process_before;
    Ok((samples, process_cpu_seconds, thread_clock))
}

/// Each growth of n desktops, through `Pool Created` (a pool of minimum n) and, for n up
/// to the largest `growBy`, through an assignment request on an empty pool that must grow
/// by n: the CreateWorkspaces calls the emulator counted.
async fn resizes(
    d: &mut Driver,
    tenant: &Tenant,
    account: &BulkAccount,
    sizes: &[u32],
) -> Result<Vec<Resize>, SetupError> {
    let mut out = Vec::new();
    for &n in sizes {
        let pool = format!("grow-{n}");
        let before = d.calls(account);
        d.send(tenant, "Pool Created", pool_detail(account, &pool, n, n, 1))
            .await?;
        let calls = d.calls(account) - before;
        let created = created(d, tenant, &pool).await?;
        out.push(Resize::new(n, Growth::PoolCreated, calls, created));
    }
    let by_request: Vec<u32> = sizes
        .iter()
        .copied()
        .filter(|n| *n <= LARGEST_GROW_BY)
        .collect();
    let pools: Vec<String> = by_request
        .iter()
        .map(|n| format!("on-request-{n}"))
        .collect();
    for (n, pool) in by_request.iter().zip(&pools) {
        d.send(
            tenant,
            "Pool Created",
            pool_detail(account, pool, 0, *n, *n),
        )
        .await?;
    }
    if !pools.is_empty() {
        let user = json!({"users": [{"userId": "grower", "pools": pools}]});
        d.send(tenant, "Users Loaded", user).await?;
    }
    for (n, pool) in by_request.iter().zip(&pools) {
        let before = d.calls(account);
        let request = json!({"poolId": pool, "userId": "grower"});
        d.send(tenant, "Desktop Assignment Requested", request)
            .await?;
        let calls = d.calls(account) - before;
        let created = created(d, tenant, pool).await?;
        out.push(Resize::new(*n, Growth::AssignmentRequest, calls, created));
    }
    Ok(out)
}

/// The desktops the pool counts after its growth.
async fn created(d: &Driver, tenant: &Tenant, pool: &str) -> Result<u32, SetupError> {
    let id = PoolId::parse(pool).map_err(setup("pool id"))?;
    Ok(d.deps
        .store
        .get_pool(&tenant.tenant_id, &id)
        .await
        .map_err(setup("the pool's record"))?
        .map_or(0, |p| p.desktops))
}

/// Counts of each `writes` value, for the report.
pub(super) fn histogram(values: impl Iterator<Item = usize>) -> BTreeMap<usize, usize> {
    let mut h = BTreeMap::new();
    for v in values {
        *h.entry(v).or_insert(0) += 1;
    }
    h
}
