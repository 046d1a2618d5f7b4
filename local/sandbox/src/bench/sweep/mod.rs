//! `steward-local bench sweep`: the idle sweep over T tenants × W desktops, on the emulator
//! with the service's rate limit on (5 burst, 2/s per account), the store on dynoxide.
//!
//! Scenario: every desktop is MANUAL; a share of each tenant's (`--stopped-fraction`,
//! default 0) is STOPPED, the others AVAILABLE for three hours, of which a share
//! (`--idle-percent`, default 30) has been idle for two hours (past the 60-minute default
//! timeout) and must be stopped, the others have a live session. The sweep describes every
//! MANUAL desktop, STOPPED ones included (one may have been started outside Steward). It
//! runs with the deployed fan-out's bounded concurrency and Steward's per-tenant pacing.
//!
//! Printed figures:
//! - `api_calls`: WorkSpaces calls the emulator received (throttled retries included);
//! - `api_calls_lower_bound`: Σ over tenants of ⌈MANUAL desktops/25⌉ + ⌈stops/25⌉;
//! - `throttle_bound_seconds`: the slowest tenant's calls at the rate limit, the least time
//!   the token bucket allows: max(0, calls − burst) / rate;
//! - `wall_seconds`: the sweep alone (seeding excluded);
//! - `peak_rss_bytes`: VmHWM of this process: the sweep (Steward's code, its SDK clients and
//!   the event sink). By default the emulator and dynoxide, which stand in for AWS and hold
//!   every desktop and record, run in a child process (`bench sweep-services`) whose peak is
//!   `services_peak_rss_bytes`; `--services-in-process` puts them in this process (and in
//!   `peak_rss_bytes`).
//!
//! `--plans` puts every tenant on a power plan at a pre-warm moment ([`plans`] says how and
//! what it adds to the report).
//!
//! Rooms: [`scenario`] seeds the services (the emulator's accounts and desktops, the table's
//! tenants and records) and is the whole of the `sweep-services` child; [`services`] reaches
//! them, in this process or in the child; this module runs the sweep and computes the report.

mod plans;
mod scenario;
mod services;

use std::time::Instant;

use serde::Serialize;
use std::sync::Arc;
use steward_functions::power::SweepKind;
use steward_functions::power::fanout::{TenantOutcome, sweep_tenants};
use steward_functions::power::pace::PaceConfig;
use steward_functions::power::sweep::SweepOptions;
use steward_shared::clock::SharedClock;
use steward_shared::store::DynamoStore;

use super::{cpu_seconds_of, peak_rss_bytes};
use crate::dynamo::local_client;
use crate::event_sink::EventSink;
use crate::wiring::{SetupError, local_deps, setup};
pub use plans::{Evaluation, PlansFigures};
use scenario::seed;
pub use scenario::{Seeded, serve};
use services::{Services, spawn_services};

#[derive(Debug, Clone)]
pub struct SweepBenchConfig {
    pub tenants: usize,
    pub workspaces_per_tenant: usize,
    pub idle_percent: u8,
    /// Share of each tenant's desktops STOPPED before the sweep (0 to 1).
    pub stopped_fraction: f64,
    pub concurrency: usize,
    /// Run the emulator and dynoxide in this process instead of a child process.
    pub services_in_process: bool,
    /// Every tenant on a power plan, swept at a pre-warm moment (`plans`).
    pub plans: bool,
}

#[derive(Debug, Serialize)]
pub struct SweepBenchReport {
    pub tenants: usize,
    pub workspaces: usize,
    /// Desktops STOPPED before the sweep (described, left alone).
    pub stopped_before: usize,
    pub active: usize,
    pub stops: usize,
    pub api_calls: u64,
    pub api_calls_lower_bound: u64,
    pub wall_seconds: f64,
    pub throttle_bound_seconds: f64,
    /// VmHWM of the sweeping process: Steward's own footprint when the services run
    /// apart (the default), Steward plus the emulator and dynoxide when they run in it.
    pub peak_rss_bytes: u64,
    /// `separate-process` or `in-process`.
    pub services: &'static str,
    /// VmHWM of the services process (emulator + dynoxide), 0 when in process.
    pub services_peak_rss_bytes: u64,
    /// CPU time (user + system) the sweeping process spent during the sweep: Steward's
    /// code, its SDK clients and the event sink.
    pub sweep_cpu_seconds: f64,
    /// CPU time the services process (the emulator and dynoxide standing in for AWS) spent
    /// during the sweep; 0 when in process (then it is in `sweep_cpu_seconds`).
    pub services_cpu_seconds: f64,
    pub tenants_failed: usize,
    pub throttled_calls: u64,
    pub seed_seconds: f64,
    pub concurrency: usize,
    /// With `--plans`: the pre-warm's starts and calls, the plan evaluation's CPU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plans: Option<PlansFigures>,
}

/// How many of each tenant's desktops are STOPPED before the sweep.
pub(crate) fn stopped_per_tenant(cfg: &SweepBenchConfig) -> usize {
    (cfg.stopped_fraction.clamp(0.0, 1.0) * cfg.workspaces_per_tenant as f64).round() as usize
}

fn ceil25(n: usize) -> u64 {
    n.div_ceil(25) as u64
}

pub async fn run(cfg: SweepBenchConfig) -> Result<SweepBenchReport, SetupError> {
    let (seeded, services) = if cfg.services_in_process {
        let (seeded, emu, engine) = seed(&cfg).await?;
        (seeded, Services::InProcess { emu, engine })
    } else {
        spawn_services(&cfg).await?
    };
    let client = local_client(&seeded.dynamo_url).await;
    let store = DynamoStore::new(client, &seeded.table);
    let sink = EventSink::start().await.map_err(setup("event sink"))?;
    // The emulator's clock runs at real speed from `now`.
    let (base, started_at) = (seeded.now, Instant::now());
    let clock: SharedClock = Arc::new(move || {
        base + chrono::Duration::from_std(started_at.elapsed()).unwrap_or_default()
    });
    let deps = local_deps(store, &seeded.emulator_url, &sink.url, clock).await?;
    let tenants = seeded.tenants;
    let expected_stops = plans::expected_calls(&cfg, seeded.expected);
    let prepared = if cfg.plans {
        let endpoints = plans::Endpoints {
            dynamo_url: seeded.dynamo_url.clone(),
            table: seeded.table.clone(),
            emulator_url: seeded.emulator_url.clone(),
            events_url: sink.url.clone(),
        };
        Some(plans::prepare(&deps.store, &tenants, seeded.now, endpoints).await?)
    } else {
        None
    };
    let seed_seconds = seeded.seed_seconds;
    let stopped_before = seeded.stopped_before;

    // The sweep.
    services.reset_counters().await?;
    let options = SweepOptions {
        interval: chrono::Duration::minutes(5),
        pace: PaceConfig::default(),
    };
    let (own_cpu, services_cpu) = (cpu_seconds_of("/proc/self/stat"), services.cpu_seconds());
    let started = Instant::now();
    let outcomes = sweep_tenants(&deps, &tenants, SweepKind::Idle, &options, cfg.concurrency).await;
    let wall_seconds = started.elapsed().as_secs_f64();
    let sweep_cpu_seconds = cpu_seconds_of("/proc/self/stat") - own_cpu;
    let services_cpu_seconds = services.cpu_seconds() - services_cpu;

    let mut active = 0;
    let mut stops = 0;
    let mut failed = 0;
    for o in &outcomes {
        match o {
            TenantOutcome::Swept(s) => {
                active += s.available;
                stops += s.stopped;
            }
            TenantOutcome::Failed { .. } => failed += 1,
        }
    }
    let counters = services.counters().await?;
    let mut api_calls = 0;
    let mut throttled = 0;
    for ops in counters.as_object().into_iter().flat_map(|m| m.values()) {
        for (op, c) in ops.as_object().into_iter().flatten() {
            if op.starts_with("WorkSpaces.") {
                api_calls += c["calls"].as_u64().unwrap_or(0);
                throttled += c["throttled"].as_u64().unwrap_or(0);
            }
        }
    }
    let lower_bound: u64 = expected_stops
        .iter()
        .map(|(manual, stops)| ceil25(*manual) + ceil25(*stops))
        .sum();
    let slowest_needed = expected_stops
        .iter()
        .map(|(a, s)| ceil25(*a) + ceil25(*s))
        .max()
        .unwrap_or(0);
    let pace = PaceConfig::default();
    let throttle_bound_seconds =
        (slowest_needed as f64 - pace.burst).max(0.0) / pace.rate_per_second;
    let services_peak_rss_bytes = services.peak_rss_bytes();
    let report = SweepBenchReport {
        tenants: tenants.len(),
        workspaces: tenants.len() * cfg.workspaces_per_tenant,
        stopped_before,
        active,
        stops,
        api_calls,
        api_calls_lower_bound: lower_bound,
        wall_seconds,
        throttle_bound_seconds,
        peak_rss_bytes: peak_rss_bytes(),
        services: if cfg.services_in_process {
            "in-process"
        } else {
            "separate-process"
        },
        services_peak_rss_bytes,
        sweep_cpu_seconds,
        services_cpu_seconds,
        tenants_failed: failed,
        throttled_calls: throttled,
        seed_seconds,
        concurrency: cfg.concurrency,
        plans: prepared.map(|p| p.figures(&cfg, &outcomes, &counters)),
    };
    drop(sink);
    services.shutdown().await;
    Ok(report)
}
