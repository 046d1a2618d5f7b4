//! `bench sweep --plans`: every tenant of the sweep benchmark on a power plan, swept at a
//! pre-warm moment, so that the sweep evaluates a plan for every desktop group and the
//! morning pre-warm starts every STOPPED desktop.
//!
//! The plan (the tenant's, for its desktops outside pools, which all the benchmark's
//! desktops are): one window every day in `Europe/Berlin`, opening at the first whole
//! minute at least ten minutes after the seeded `now` (the local time read with the plans'
//! own [`local_time`]) for eight hours, `bufferPercent` 100 and a fixed 30-minute
//! `startLeadMinutes`, so that `now` is inside the pre-warm lead whatever start times were
//! measured. Rather than moving the clock to a pre-warm moment (which would age the seeded
//! sessions' heartbeats and change what the idle rule sees), the window is put where `now`
//! is a pre-warm moment. In the tenant group a desktop is free when it has no live session,
//! so the buffer of 100 % is every such desktop: the STOPPED ones are started (`prewarm`),
//! the idle AVAILABLE ones are held (the idle rule stops none), those with a live session
//! are left to the idle rule.
//!
//! The report's `api_calls_lower_bound` then counts, per tenant, ⌈MANUAL desktops/25⌉
//! describes and ⌈STOPPED/25⌉ starts (no stops: every idle desktop is warm capacity).
//!
//! Figures added to the report (`plans`):
//! - `starts` and `start_calls` (StartWorkspaces calls the emulator received, throttled
//!   attempts included) against `start_calls_bound` = Σ over tenants of ⌈STOPPED/25⌉, and
//!   `prewarm_bound_seconds`: the slowest tenant's start calls at the paced 2 req/s
//!   (⌈s/25⌉ / 2); the sweep's `wall_seconds` (describes and starts) is beside it;
//! - `evaluation`: the CPU of the plan evaluation — [`PlanBook::load`] (its three reads of
//!   the plan, calendars and start times, the SDK's work included) and
//!   [`PlanBook::verdicts`] over the tenant's desktops as the sweep index gives them — per
//!   desktop, measured before the sweep on the records it will read, for up to
//!   [`MEASURED_TENANTS`] tenants after one evaluation not counted (warm-up), on one thread running its own runtime, with that
//!   thread's CPU clock (`/proc/thread-self/schedstat`): the services (the emulator and
//!   dynoxide) run on other threads or in another process and are not counted.

use std::sync::Arc;
use std::time::Instant;

use chrono::{Duration, DurationRound};
use futures::StreamExt;
use serde::Serialize;
use serde_json::Value;
use steward_functions::plans::govern::{PlanBook, Verdict};
use steward_functions::power::fanout::TenantOutcome;
use steward_functions::power::pace::PaceConfig;
use steward_shared::clock::SharedClock;
use steward_shared::model::{PlanRecord, Tenant, Timestamp, WorkspaceRecord};
use steward_shared::plans::{LocalTime, PowerPlan, Weekday, Window, ZoneName, local_time};
use steward_shared::store::{DynamoStore, PageRequest, PlanStore, WorkspaceStore, collect_all};

use super::{SweepBenchConfig, ceil25, stopped_per_tenant};
use crate::dynamo::local_client;
use crate::wiring::{SetupError, local_deps, setup};

/// The plan's zone.
const ZONE: &str = "Europe/Berlin";
/// The window opens at least this long after `now` (minutes).
const OPENS_IN_MINUTES: i64 = 10;
/// The plan's fixed pre-warm lead (minutes), longer than [`OPENS_IN_MINUTES`] + 1.
const LEAD_MINUTES: u32 = 30;
/// The window's length (hours).
const WINDOW_HOURS: i64 = 8;
/// The most tenants whose plan evaluation is measured.
pub const MEASURED_TENANTS: usize = 100;

/// Where the services are, for the measuring thread's own clients.
pub(super) struct Endpoints {
    pub dynamo_url: String,
    pub table: String,
    pub emulator_url: String,
    pub events_url: String,
}

/// The plan evaluation's CPU.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// Tenants measured (the first ones, at most [`MEASURED_TENANTS`]).
    pub tenants: usize,
    /// Their desktops, as the sweep index gives them.
    pub desktops: usize,
    /// Starts the verdicts decided for them (their STOPPED desktops).
    pub starts_decided: usize,
    /// `PlanBook::load`, per tenant (microseconds).
    pub load_us_per_tenant: f64,
    /// `PlanBook::verdicts`, per desktop (microseconds).
    pub verdicts_us_per_desktop: f64,
    /// Both, per desktop (microseconds): the plan evaluation's CPU per desktop.
    pub cpu_us_per_desktop: f64,
    /// `thread CPU`, or `wall` where the thread's CPU clock cannot be read.
    pub clock: &'static str,
}

/// What `--plans` adds to the report.
#[derive(Debug, Clone, Serialize)]
pub struct PlansFigures {
    /// The plan every tenant got, in words.
    pub plan: String,
    /// The window the pre-warm is for: its opening in UTC and in the plan's zone.
    pub opens_at_utc: String,
    pub opens_at_local: String,
    /// Desktops the sweep started (all tenants), and starts that failed.
    pub starts: usize,
    pub start_failed: usize,
    /// StartWorkspaces calls the emulator received, throttled attempts included.
    pub start_calls: u64,
    pub start_calls_throttled: u64,
    /// Σ over tenants of ⌈STOPPED desktops / 25⌉.
    pub start_calls_bound: u64,
    /// The slowest tenant's start calls at the paced rate: ⌈STOPPED/25⌉ / 2 req/s.
    pub prewarm_bound_seconds: f64,
    pub evaluation: Evaluation,
}

/// The plans written and their evaluation measured, before the sweep.
pub(super) struct Prepared {
    plan: String,
    opens_at: Timestamp,
    evaluation: Evaluation,
}

/// The plan that makes `now` a pre-warm moment, and the opening it warms for.
fn plan_at(now: Timestamp) -> Result<(PowerPlan, Timestamp), SetupError> {
    let zone = ZoneName::parse(ZONE).map_err(setup("zone"))?;
    let opens_at = (now + Duration::minutes(OPENS_IN_MINUTES + 1))
        .duration_trunc(Duration::minutes(1))
        .map_err(setup("opening minute"))?;
    let closes_at = opens_at + Duration::hours(WINDOW_HOURS);
    // `2026-11-28T18:50:00+01:00` → `18:50`.
    let hhmm = |t: Timestamp| {
        let local = local_time(&zone, t);
        LocalTime::parse(local.get(11..16).unwrap_or_default()).map_err(setup("local time"))
    };
    let plan = PowerPlan {
        zone: zone.clone(),
        windows: vec![Window {
            days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
                Weekday::Sat,
                Weekday::Sun,
            ],
            open: hhmm(opens_at)?,
            close: hhmm(closes_at)?,
        }],
        calendars: Vec::new(),
        closures: Vec::new(),
        buffer_count: None,
        buffer_percent: Some(100),
        drain: Default::default(),
        start_lead_minutes: Some(LEAD_MINUTES),
        assign_outside_windows: false,
    };
    plan.check().map_err(setup("plan"))?;
    Ok((plan, opens_at))
}

/// Writes every tenant's plan (as `Power Plan Updated` leaves it) and measures the plan
/// evaluation on the records the sweep will read.
pub(super) async fn prepare(
    store: &DynamoStore,
    tenants: &[Tenant],
    now: Timestamp,
    endpoints: Endpoints,
) -> Result<Prepared, SetupError> {
    let (plan, opens_at) = plan_at(now)?;
    let failures: Vec<String> = futures::stream::iter(tenants.iter())
        .map(|t| {
            let mut record = PlanRecord::new(t.tenant_id.clone(), None, now);
            record.plan = Some(plan.clone());
            record.changed_at = Some(now);
            async move { store.put_plan(&record).await }
        })
        .buffer_unordered(64)
        .filter_map(|r| async move { r.err().map(|e| e.to_string()) })
        .collect()
        .await;
    if let Some(e) = failures.first() {
        return Err(SetupError(format!("writing plans: {e}")));
    }
    let measured: Vec<Tenant> = tenants.iter().take(MEASURED_TENANTS).cloned().collect();
    let thread = std::thread::Builder::new()
        .name("steward-plan-evaluation".into())
        .spawn(move || evaluate_on_this_thread(endpoints, measured, now))
        .map_err(setup("the evaluation's thread"))?;
    let evaluation = tokio::task::spawn_blocking(move || thread.join())
        .await
        .map_err(setup("the evaluation's thread"))?
        .map_err(|_| SetupError("the evaluation's thread panicked".into()))??;
    let w = &plan.windows[..];
    let plan = format!(
        "{ZONE}, every day {}–{}, bufferPercent 100, startLeadMinutes {LEAD_MINUTES}",
        w.first().map(|w| String::from(w.open)).unwrap_or_default(),
        w.first().map(|w| String::from(w.close)).unwrap_or_default(),
    );
    Ok(Prepared {
        plan,
        opens_at,
        evaluation,
    })
}

/// This thread's CPU time (nanoseconds), from the kernel's scheduler statistics. The
/// kernel brings a running thread's figure up to date only when it is scheduled, so the
/// thread yields first: without it, a computation that never blocks (the verdicts) reads
/// as taking no time at all.
fn thread_cpu_ns() -> Option<u64> {
    std::thread::yield_now();
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// CPU nanoseconds (or wall, without the thread clock) since `from`.
fn spent(from: (Option<u64>, Instant)) -> u64 {
    match (from.0, thread_cpu_ns()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => from.1.elapsed().as_nanos() as u64,
    }
}

fn evaluate_on_this_thread(
    ep: Endpoints,
    tenants: Vec<Tenant>,
    now: Timestamp,
) -> Result<Evaluation, SetupError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(setup("the evaluation's runtime"))?;
    rt.block_on(evaluate(ep, tenants, now))
}

async fn evaluate(
    ep: Endpoints,
    tenants: Vec<Tenant>,
    now: Timestamp,
) -> Result<Evaluation, SetupError> {
    let store = DynamoStore::new(local_client(&ep.dynamo_url).await, &ep.table);
    let clock: SharedClock = Arc::new(move || now);
    let deps = local_deps(store, &ep.emulator_url, &ep.events_url, clock).await?;
    let interval = Duration::minutes(5);
    let thread_clock = thread_cpu_ns().is_some();
    // One evaluation first, not counted: the connection's setup and the allocator's first
    // pages (a cold first verdicts call over 1,000 desktops took 10 ms, warm ones 0.2 ms)
    // are paid once per process, not per sweep.
    if let Some(t) = tenants.first() {
        let records = sweep_records(&deps, t).await?;
        let book = PlanBook::load(&deps, &t.tenant_id, now, interval)
            .await
            .map_err(setup("plan book"))?;
        book.verdicts(&records.iter().collect::<Vec<_>>(), &t.policy);
    }
    let (mut load_ns, mut verdicts_ns, mut desktops, mut starts) = (0u64, 0u64, 0usize, 0usize);
    for t in &tenants {
        let records = sweep_records(&deps, t).await?;
        let from = (thread_cpu_ns(), Instant::now());
        let book = PlanBook::load(&deps, &t.tenant_id, now, interval)
            .await
            .map_err(setup("plan book"))?;
        load_ns += spent(from);
        let refs: Vec<&WorkspaceRecord> = records.iter().collect();
        let from = (thread_cpu_ns(), Instant::now());
        let verdicts = book.verdicts(&refs, &t.policy);
        verdicts_ns += spent(from);
        desktops += records.len();
        starts += verdicts
            .values()
            .filter(|v| matches!(v, Verdict::Start { .. }))
            .count();
    }
    let per = |ns: u64, n: usize| ns as f64 / 1000.0 / n.max(1) as f64;
    Ok(Evaluation {
        tenants: tenants.len(),
        desktops,
        starts_decided: starts,
        load_us_per_tenant: per(load_ns, tenants.len()),
        verdicts_us_per_desktop: per(verdicts_ns, desktops),
        cpu_us_per_desktop: per(load_ns + verdicts_ns, desktops),
        clock: if thread_clock { "thread CPU" } else { "wall" },
    })
}

/// The tenant's desktops as the sweep reads them.
async fn sweep_records(
    deps: &steward_functions::Deps,
    t: &Tenant,
) -> Result<Vec<WorkspaceRecord>, SetupError> {
    collect_all(|page: PageRequest| {
        let page = PageRequest {
            limit: Some(1000),
            ..page
        };
        deps.store.list_sweep_workspaces(&t.tenant_id, page)
    })
    .await
    .map_err(setup("sweep index"))
}

/// The calls the sweep must make per tenant beyond describing, with plans: starts (every
/// STOPPED desktop) instead of stops (the idle desktops are held as warm capacity).
pub(super) fn expected_calls(
    cfg: &SweepBenchConfig,
    expected: Vec<(usize, usize)>,
) -> Vec<(usize, usize)> {
    if !cfg.plans {
        return expected;
    }
    let stopped = stopped_per_tenant(cfg);
    expected
        .into_iter()
        .map(|(manual, _)| (manual, stopped))
        .collect()
}

impl Prepared {
    /// The figures, from the sweep's outcomes and the emulator's counters
    /// (`{account: {"Service.Op": {"calls", "throttled"}}}`).
    pub(super) fn figures(
        self,
        cfg: &SweepBenchConfig,
        outcomes: &[TenantOutcome],
        counters: &Value,
    ) -> PlansFigures {
        let (mut starts, mut start_failed) = (0, 0);
        for o in outcomes {
            if let TenantOutcome::Swept(s) = o {
                starts += s.started;
                start_failed += s.start_failed;
            }
        }
        let (mut calls, mut throttled) = (0, 0);
        for ops in counters.as_object().into_iter().flat_map(|m| m.values()) {
            let c = &ops["WorkSpaces.StartWorkspaces"];
            calls += c["calls"].as_u64().unwrap_or(0);
            throttled += c["throttled"].as_u64().unwrap_or(0);
        }
        let per_tenant = ceil25(stopped_per_tenant(cfg));
        let zone = ZoneName::parse(ZONE).ok();
        PlansFigures {
            plan: self.plan,
            opens_at_utc: self
                .opens_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            opens_at_local: zone
                .map(|z| local_time(&z, self.opens_at))
                .unwrap_or_default(),
            starts,
            start_failed,
            start_calls: calls,
            start_calls_throttled: throttled,
            start_calls_bound: per_tenant * cfg.tenants as u64,
            prewarm_bound_seconds: per_tenant as f64 / PaceConfig::default().rate_per_second,
            evaluation: self.evaluation,
        }
    }
}
