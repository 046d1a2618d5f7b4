//! `steward-local bench pools`: figures for issue 14's pools, not a test.
//!
//! On the emulator (rate limit off: the figures are Steward's calls, not the SDK's retries
//! of throttled ones) and dynoxide, both in this process:
//!
//! - **handler CPU per assignment request**: a FLOATING pool of N desktops, created by its
//!   `Pool Created` and brought AVAILABLE (the emulator's clock moved past their creation,
//!   then an idle sweep), and M users; then K `Desktop Assignment Requested` events, one
//!   after another, through `power.partner_events`' [`process`]. Each is timed on the CPU
//!   clock of the thread the handlers run on ([`pools_drive`](super::pools_drive) says why
//!   that clock: it leaves out the services that stand in for AWS), against the target of
//!   1 ms; the whole process's CPU per request (services included, 10 ms ticks) is given as
//!   an upper bound. Each request's conditional writes are counted from the answer's
//!   `writes` (2 for an assignment: the request's claim and the desktop's claim; 1 for a
//!   refusal: the claim). With K > N the last K − N are refused `POOL_EXHAUSTED` (the pool's
//!   maximum is N), so both answers are measured.
//! - **calls per pool resize**: for each growth of n desktops, the CreateWorkspaces calls the
//!   emulator counted, against the bound ⌈n/25⌉ — through `Pool Created` (a pool whose
//!   minimum is n) and, for n ≤ 100 (the largest `growBy`), through one assignment request
//!   on an empty pool that must grow by n. These run in a second account, whose quota (1,000
//!   desktops, the emulator's default) bounds their sum.
//!
//! [`process`]: steward_functions::power::partner_events::process

use std::time::Instant;

use serde::Serialize;
use steward_functions::power::partner_events::EventOutcome;
use steward_shared::model::WorkspaceState;
use steward_shared::store::schema::create_table;
use steward_shared::store::{DynamoStore, TenantStore, WorkspaceStore};
use workspaces_core_emulator::seed::BulkSeed;
use workspaces_core_emulator::switches::AccountSwitches;
use workspaces_core_emulator::{Emulator, EmulatorConfig, SeedKind};

use super::pools_drive::{Endpoints, Measured, histogram, run_on_this_thread};
use crate::dynamo::{EmbeddedDynamo, local_client};
use crate::event_sink::EventSink;
use crate::wiring::{SetupError, bulk_desktop, bulk_tenant, setup};

/// The emulator's default quota of desktops per account and Region.
const ACCOUNT_QUOTA: u32 = 1000;
/// CreateWorkspaces takes at most this many desktops per call.
const PER_CALL: u32 = 25;
/// The target: handler CPU per assignment request, in milliseconds.
pub const TARGET_CPU_MS: f64 = 1.0;

#[derive(Debug, Clone)]
pub struct PoolsBenchConfig {
    /// N: the measured pool's desktops.
    pub desktops: u32,
    /// Desktops of the same tenant outside the pool (registered, AVAILABLE): the pool's
    /// desktops are found among all of the tenant's.
    pub other_desktops: u32,
    /// M: users loaded, all entitled to the pool.
    pub users: usize,
    /// K: assignment requests timed (user i % M for the i-th).
    pub requests: usize,
    /// The growths whose CreateWorkspaces calls are counted.
    pub growths: Vec<u32>,
}

/// How a pool was made to grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Growth {
    /// Its `Pool Created` (the pool grows to its minimum at once).
    #[serde(rename = "Pool Created")]
    PoolCreated,
    /// An assignment request that found no free desktop.
    #[serde(rename = "Desktop Assignment Requested")]
    AssignmentRequest,
}

impl Growth {
    fn as_str(self) -> &'static str {
        match self {
            Growth::PoolCreated => "Pool Created",
            Growth::AssignmentRequest => "Desktop Assignment Requested",
        }
    }
}

/// One growth's calls against the bound.
#[derive(Debug, Clone, Serialize)]
pub struct Resize {
    /// n: the desktops the growth asked for.
    pub desktops: u32,
    pub via: Growth,
    /// CreateWorkspaces calls the emulator counted.
    pub calls: u64,
    /// ⌈n/25⌉.
    pub bound: u64,
    /// The pool's desktops after it (n when the service created them all).
    pub created: u32,
}

impl Resize {
    pub(super) fn new(desktops: u32, via: Growth, calls: u64, created: u32) -> Self {
        Self {
            desktops,
            via,
            calls,
            bound: u64::from(desktops.div_ceil(PER_CALL)),
            created,
        }
    }
}

/// One timed request.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sample {
    pub outcome: EventOutcome,
    pub cpu_ns: u64,
    pub wall_ns: u64,
    pub writes: usize,
}

/// Which clock `cpu_ms_*` read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HandlerClock {
    /// The CPU time of the thread the handlers run on.
    ThreadCpu,
    /// Wall time (the thread's CPU clock could not be read): an upper bound that includes
    /// the services.
    Wall,
}

/// The timed requests of one outcome.
#[derive(Debug, Serialize)]
pub struct RequestFigures {
    pub outcome: EventOutcome,
    pub requests: usize,
    pub cpu_ms_mean: f64,
    pub cpu_ms_p50: f64,
    pub cpu_ms_p99: f64,
    pub cpu_ms_max: f64,
    pub wall_ms_mean: f64,
    pub wall_ms_p50: f64,
    /// How many requests made each number of conditional writes.
    pub writes: std::collections::BTreeMap<usize, usize>,
}

#[derive(Debug, Serialize)]
pub struct PoolsBenchReport {
    pub desktops: u32,
    pub other_desktops: u32,
    pub users: usize,
    pub requests: usize,
    pub handler_clock: HandlerClock,
    pub target_cpu_ms: f64,
    pub by_outcome: Vec<RequestFigures>,
    /// CPU of the whole process per request (the emulator, dynoxide and the sink included),
    /// from 10 ms ticks: an upper bound.
    pub process_cpu_ms_per_request: f64,
    pub resizes: Vec<Resize>,
    pub setup_seconds: f64,
    pub seconds: f64,
}

/// Checks the configuration against what the emulator's accounts hold.
fn check(cfg: &PoolsBenchConfig) -> Result<(), SetupError> {
    if cfg.desktops == 0 || cfg.desktops > ACCOUNT_QUOTA {
        return Err(SetupError(format!(
            "desktops: must be between 1 and {ACCOUNT_QUOTA} (a pool's largest size)"
        )));
    }
    if cfg.users == 0 || cfg.requests == 0 {
        return Err(SetupError("users and requests: must be at least 1".into()));
    }
    if cfg.growths.iter().any(|n| *n == 0 || *n > ACCOUNT_QUOTA) {
        return Err(SetupError(format!(
            "growths: each must be between 1 and {ACCOUNT_QUOTA}"
        )));
    }
    let total: u32 = cfg
        .growths
        .iter()
        .map(|n| if *n <= 100 { 2 * n } else { *n })
        .sum();
    if total > ACCOUNT_QUOTA {
        return Err(SetupError(format!(
            "growths: they create more desktops than the account's quota of {ACCOUNT_QUOTA}"
        )));
    }
    Ok(())
}

pub async fn run(cfg: PoolsBenchConfig) -> Result<PoolsBenchReport, SetupError> {
    check(&cfg)?;
    let started = Instant::now();
    let emu = Emulator::start(EmulatorConfig {
        seed: SeedKind::None,
        ..EmulatorConfig::default()
    })
    .await
    .map_err(setup("emulator"))?;
    emu.control().update_options(|o| {
        o.enforce_credential_expiry = false;
        o.maintenance.enabled = false;
        o.rate_limit.enabled = false;
    });
    // The measured pool's account (with the tenant's other desktops), and the growths'.
    let mut accounts = Vec::new();
    for (first_account_id, workspaces_per_account) in [
        (420_000_000_001, cfg.other_desktops as usize),
        (420_000_000_002, 0),
    ] {
        accounts.extend(emu.control().bulk_seed(&BulkSeed {
            accounts: 1,
            workspaces_per_account,
            region: "us-east-1".into(),
            first_account_id,
            stopped_per_account: 0,
        }));
    }
    // Room for the pool beside the other desktops.
    if let Some(main) = accounts.first() {
        emu.control().update_account(
            &main.account_id,
            &AccountSwitches {
                workspace_quota: Some(
                    (cfg.desktops + cfg.other_desktops).max(ACCOUNT_QUOTA) as usize
                ),
                ..AccountSwitches::default()
            },
        );
    }
    let engine = EmbeddedDynamo::start_in_memory()
        .await
        .map_err(setup("dynoxide"))?;
    let table = "steward-bench-pools";
    let client = local_client(&engine.endpoint_url()).await;
    create_table(&client, table).await.map_err(setup("table"))?;
    let store = DynamoStore::new(client, table);
    let now = emu.control().now();
    let mut tenants = Vec::new();
    for a in &accounts {
        let t = store
            .create_tenant(&bulk_tenant(a, now)?)
            .await
            .map_err(setup("tenant"))?;
        for id in emu.control().workspace_ids(&a.account_id, &a.region) {
            let r = bulk_desktop(&t, a, &id, WorkspaceState::Available, now)?;
            store
                .create_workspace(&r)
                .await
                .map_err(setup("the other desktops' records"))?;
        }
        tenants.push(t);
    }
    let sink = EventSink::start().await.map_err(setup("event sink"))?;
    let (Ok(tenants), Ok(accounts)) = (<[_; 2]>::try_from(tenants), <[_; 2]>::try_from(accounts))
    else {
        return Err(SetupError(
            "the emulator seeded other than two accounts".into(),
        ));
    };
    let endpoints = Endpoints {
        emulator_url: emu.endpoint_url(),
        dynamo_url: engine.endpoint_url(),
        table: table.into(),
        events_url: sink.url.clone(),
        control: emu.control().clone(),
        tenants,
        accounts,
    };
    let setup_seconds = started.elapsed().as_secs_f64();
    let handlers_cfg = cfg.clone();
    let thread = std::thread::Builder::new()
        .name("steward-handlers".into())
        .spawn(move || run_on_this_thread(handlers_cfg, endpoints))
        .map_err(setup("the handlers' thread"))?;
    let measured = tokio::task::spawn_blocking(move || thread.join())
        .await
        .map_err(setup("the handlers' thread"))?
        .map_err(|_| SetupError("the handlers' thread panicked".into()))??;
    drop(sink);
    emu.shutdown().await;
    engine.shutdown().await;
    Ok(report(&cfg, measured, setup_seconds, started))
}

fn report(
    cfg: &PoolsBenchConfig,
    m: Measured,
    setup_seconds: f64,
    started: Instant,
) -> PoolsBenchReport {
    let mut outcomes: Vec<EventOutcome> = Vec::new();
    for s in &m.samples {
        if !outcomes.contains(&s.outcome) {
            outcomes.push(s.outcome);
        }
    }
    let by_outcome = outcomes
        .into_iter()
        .map(|o| {
            let of: Vec<Sample> = m
                .samples
                .iter()
                .filter(|s| s.outcome == o)
                .copied()
                .collect();
            figures(o, &of)
        })
        .collect();
    PoolsBenchReport {
        desktops: cfg.desktops,
        other_desktops: cfg.other_desktops,
        users: cfg.users,
        requests: cfg.requests,
        handler_clock: if m.thread_clock {
            HandlerClock::ThreadCpu
        } else {
            HandlerClock::Wall
        },
        target_cpu_ms: TARGET_CPU_MS,
        by_outcome,
        process_cpu_ms_per_request: m.process_cpu_seconds * 1000.0 / m.samples.len().max(1) as f64,
        resizes: m.resizes,
        setup_seconds,
        seconds: started.elapsed().as_secs_f64(),
    }
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// The value at `pct` percent of `sorted` (nearest rank).
fn percentile(sorted: &[u64], pct: usize) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (sorted.len() * pct.min(100)).div_ceil(100).max(1);
    sorted[rank - 1]
}

fn figures(outcome: EventOutcome, samples: &[Sample]) -> RequestFigures {
    let mut cpu: Vec<u64> = samples.iter().map(|s| s.cpu_ns).collect();
    let mut wall: Vec<u64> = samples.iter().map(|s| s.wall_ns).collect();
    cpu.sort_unstable();
    wall.sort_unstable();
    let n = samples.len().max(1) as f64;
    RequestFigures {
        outcome,
        requests: samples.len(),
        cpu_ms_mean: ms(cpu.iter().sum::<u64>()) / n,
        cpu_ms_p50: ms(percentile(&cpu, 50)),
        cpu_ms_p99: ms(percentile(&cpu, 99)),
        cpu_ms_max: ms(cpu.last().copied().unwrap_or(0)),
        wall_ms_mean: ms(wall.iter().sum::<u64>()) / n,
        wall_ms_p50: ms(percentile(&wall, 50)),
        writes: histogram(samples.iter().map(|s| s.writes)),
    }
}

/// The report as a small table.
pub fn render(r: &PoolsBenchReport) -> String {
    let clock = match r.handler_clock {
        HandlerClock::ThreadCpu => "the handlers' thread CPU clock",
        HandlerClock::Wall => "WALL time (thread CPU clock unreadable), services included",
    };
    let mut out = format!(
        "bench pools: a FLOATING pool of {} AVAILABLE desktops (the tenant has {} more), {} users, {} assignment requests\n\
         handler CPU per request ({clock}); target <= {} ms\n\n",
        r.desktops, r.other_desktops, r.users, r.requests, r.target_cpu_ms
    );
    out.push_str(&format!(
        "{:<20} {:>8} {:>9} {:>9} {:>9} {:>9} {:>10}  {}\n",
        "outcome", "requests", "mean ms", "p50 ms", "p99 ms", "max ms", "wall p50", "writes"
    ));
    for f in &r.by_outcome {
        let outcome = serde_json::to_value(f.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let writes: Vec<String> = f.writes.iter().map(|(w, n)| format!("{w} x{n}")).collect();
        out.push_str(&format!(
            "{:<20} {:>8} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>10.3}  {}\n",
            outcome,
            f.requests,
            f.cpu_ms_mean,
            f.cpu_ms_p50,
            f.cpu_ms_p99,
            f.cpu_ms_max,
            f.wall_ms_p50,
            writes.join(", ")
        ));
    }
    out.push_str(&format!(
        "whole process (emulator, dynoxide, sink included): {:.3} ms CPU per request\n\n",
        r.process_cpu_ms_per_request
    ));
    out.push_str(&format!(
        "{:>6}  {:<30} {:>5} {:>12} {:>8}\n",
        "growth", "via", "calls", "bound n/25", "created"
    ));
    for g in &r.resizes {
        out.push_str(&format!(
            "{:>6}  {:<30} {:>5} {:>12} {:>8}{}\n",
            g.desktops,
            g.via.as_str(),
            g.calls,
            g.bound,
            g.created,
            if g.calls > g.bound { "  OVER" } else { "" }
        ));
    }
    out.push_str(&format!(
        "\nsetup {:.2} s, whole run {:.2} s\n",
        r.setup_seconds, r.seconds
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_is_one_call_per_25_desktops_rounded_up() {
        let bounds: Vec<u64> = [1, 10, 25, 26, 60, 200]
            .into_iter()
            .map(|n| Resize::new(n, Growth::PoolCreated, 0, n).bound)
            .collect();
        assert_eq!(bounds, [1, 1, 1, 2, 3, 8]);
    }

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(
            (percentile(&v, 50), percentile(&v, 99), percentile(&[], 50)),
            (50, 99, 0)
        );
    }

    #[test]
    fn growths_past_the_quota_are_refused_by_name() {
        let cfg = |growths: Vec<u32>| PoolsBenchConfig {
            desktops: 200,
            other_desktops: 0,
            users: 10,
            requests: 10,
            growths,
        };
        assert!(check(&cfg(vec![1, 10, 25, 26, 60, 200])).is_ok());
        let e = check(&cfg(vec![600, 500])).unwrap_err();
        assert!(e.0.starts_with("growths: "), "{e}");
        assert!(check(&cfg(vec![0])).is_err());
    }
}
