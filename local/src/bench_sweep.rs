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

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_config::{Region, SdkConfig};
use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use chrono::Utc;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward_functions::Deps;
use steward_functions::power::SweepKind;
use steward_functions::power::fanout::{TenantOutcome, sweep_tenants};
use steward_functions::power::pace::PaceConfig;
use steward_functions::power::sweep::SweepOptions;
use steward_shared::aws::{ClientFactory, retry_config};
use steward_shared::clock::SharedClock;
use steward_shared::config::{AccessSettings, Config};
use steward_shared::ids::{
    AccountId, DirectoryId, ExternalId, OpaqueId, RegionName, RoleArn, TenantId, WorkspaceId,
};
use steward_shared::model::{
    AvailableSinceSource, PartnerTag, PowerPolicy, RunningMode, Session, Tenant, TenantStatus,
    WorkspaceRecord, WorkspaceState,
};
use steward_shared::store::schema::create_table;
use steward_shared::store::{DynamoStore, TenantStore, WorkspaceStore};

use crate::dynamo::{EmbeddedDynamo, local_client};
use crate::emulator::seed::{BulkAccount, BulkSeed};
use crate::emulator::{Emulator, EmulatorConfig, EmulatorHandle, SeedKind};

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
}

#[derive(Debug, thiserror::Error)]
pub enum SweepBenchError {
    #[error("{0}")]
    Setup(String),
}

fn setup<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> SweepBenchError {
    move |e| SweepBenchError::Setup(format!("{what}: {e}"))
}

/// A loopback EventBridge stand-in that accepts PutEvents and counts the entries, so that
/// outbound events cost what a real call costs without leaving the machine. Tests can ask
/// it to keep the entries too ([`EventSink::start_capturing`]); the benchmark does not, so
/// its memory figures hold no events.
pub struct EventSink {
    pub url: String,
    pub received: Arc<AtomicUsize>,
    captured: Option<Arc<parking_lot::Mutex<Vec<Value>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl EventSink {
    pub async fn start() -> std::io::Result<Self> {
        Self::serve(None).await
    }

    /// A sink that also keeps every entry (`Source`, `DetailType`, `Detail`, …) it receives.
    pub async fn start_capturing() -> std::io::Result<Self> {
        Self::serve(Some(Arc::default())).await
    }

    /// The entries received so far, with `Detail` parsed, when capturing.
    pub fn captured(&self) -> Vec<Value> {
        self.captured
            .as_ref()
            .map(|c| c.lock().clone())
            .unwrap_or_default()
    }

    async fn serve(captured: Option<Arc<parking_lot::Mutex<Vec<Value>>>>) -> std::io::Result<Self> {
        let received = Arc::new(AtomicUsize::new(0));
        let counter = received.clone();
        let keep = captured.clone();
        let app = Router::new().route(
            "/",
            post(move |body: Bytes| {
                let counter = counter.clone();
                let keep = keep.clone();
                async move {
                    let request = serde_json::from_slice::<serde_json::Value>(&body).ok();
                    let entries = request
                        .as_ref()
                        .and_then(|v| v["Entries"].as_array())
                        .cloned()
                        .unwrap_or_default();
                    let n = entries.len();
                    counter.fetch_add(n, Ordering::Relaxed);
                    if let Some(keep) = keep {
                        let mut kept = keep.lock();
                        for mut e in entries {
                            if let Some(d) = e["Detail"]
                                .as_str()
                                .and_then(|d| serde_json::from_str::<Value>(d).ok())
                            {
                                e["Detail"] = d;
                            }
                            kept.push(e);
                        }
                    }
                    let entries: Vec<_> = (0..n)
                        .map(|_| serde_json::json!({"EventId": uuid::Uuid::new_v4().to_string()}))
                        .collect();
                    (
                        [("content-type", "application/x-amz-json-1.1")],
                        serde_json::json!({"FailedEntryCount": 0, "Entries": entries}).to_string(),
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            url,
            received,
            captured,
            task,
        })
    }
}

impl Drop for EventSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// SDK configuration for the partner account against one local endpoint.
pub async fn local_sdk_config(endpoint: &str, settings: &AccessSettings) -> SdkConfig {
    steward_shared::aws::sdk_defaults()
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "AKIDPARTNER",
            "partner",
            None,
            None,
            "steward-local",
        ))
        .endpoint_url(endpoint)
        .retry_config(retry_config(settings))
        .load()
        .await
}

/// Deps wired to local servers: the table on `store`, AWS calls to the emulator at
/// `emulator_url`, outbound events to `events_url`, time from `clock`.
pub async fn local_deps(
    store: DynamoStore,
    emulator_url: &str,
    events_url: &str,
    clock: SharedClock,
) -> Result<Deps, SweepBenchError> {
    let config = Config::from_lookup(|k| match k {
        "STEWARD_TABLE_NAME" => Some(store.table().to_owned()),
        "STEWARD_EVENT_BUS_NAME" => Some("steward-partner".into()),
        _ => None,
    })
    .map_err(setup("configuration"))?;
    let settings = AccessSettings {
        initial_backoff: Duration::from_millis(100),
        ..config.access.clone()
    };
    let base = local_sdk_config(emulator_url, &settings).await;
    let events_cfg = local_sdk_config(events_url, &settings).await;
    Ok(Deps {
        clients: ClientFactory::new(base, settings),
        events: aws_sdk_eventbridge::Client::new(&events_cfg),
        store,
        config,
        clock,
    })
}

/// A registered, ACTIVE tenant for a bulk-seeded emulator account.
pub fn bulk_tenant(a: &BulkAccount, now: chrono::DateTime<Utc>) -> Result<Tenant, SweepBenchError> {
    let v = setup("bulk account");
    Ok(Tenant {
        tenant_id: TenantId::parse(format!("t-{}", a.account_id)).map_err(&v)?,
        account_id: AccountId::parse(a.account_id.as_str()).map_err(&v)?,
        regions: vec![RegionName::parse(a.region.as_str()).map_err(&v)?],
        role_arn: RoleArn::parse(a.role_arn.as_str()).map_err(&v)?,
        external_id: ExternalId::parse(a.external_id.as_str()).map_err(&v)?,
        partner_tag: PartnerTag::default(),
        policy: PowerPolicy::default(),
        policy_stamps: Default::default(),
        status: TenantStatus::Active,
        last_error: None,
        sweep_index: steward_shared::model::SWEEP_INDEX_VERSION,
        pending_images: Vec::new(),
        created_at: now,
        updated_at: now,
        version: 0,
    })
}

fn peak_rss_bytes() -> u64 {
    rss_of("/proc/self/status")
}

/// VmHWM of the process whose `status` file this is.
fn rss_of(status: &str) -> u64 {
    std::fs::read_to_string(status)
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// CPU seconds (user + system, every thread, live or ended) of the process whose `stat`
/// file this is; 0 when it cannot be read.
fn cpu_seconds_of(stat: &str) -> f64 {
    let ticks_per_second = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0);
    std::fs::read_to_string(stat)
        .ok()
        .and_then(|s| {
            // Fields after the command name, which is in parentheses and may hold spaces.
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
            Some(f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?)
        })
        .map_or(0.0, |t| t / ticks_per_second)
}

/// How many of each tenant's desktops are STOPPED before the sweep.
fn stopped_per_tenant(cfg: &SweepBenchConfig) -> usize {
    (cfg.stopped_fraction.clamp(0.0, 1.0) * cfg.workspaces_per_tenant as f64).round() as usize
}

fn ceil25(n: usize) -> u64 {
    n.div_ceil(25) as u64
}

/// What the services side seeded, as the sweeping side needs it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Seeded {
    pub emulator_url: String,
    pub dynamo_url: String,
    pub table: String,
    pub tenants: Vec<Tenant>,
    /// Per tenant: (MANUAL desktops, desktops idle past their timeout).
    pub expected: Vec<(usize, usize)>,
    /// Desktops STOPPED before the sweep, all tenants.
    pub stopped_before: usize,
    /// The emulator's clock when seeding ended.
    pub now: chrono::DateTime<Utc>,
    pub seed_seconds: f64,
}

const TABLE: &str = "steward-bench";

/// Starts the emulator (rate limit on) and dynoxide, and seeds the scenario: the emulator's
/// accounts and desktops, the table's tenants and desktop records.
async fn seed(
    cfg: &SweepBenchConfig,
) -> Result<(Seeded, EmulatorHandle, EmbeddedDynamo), SweepBenchError> {
    let seed_started = Instant::now();
    let emu: EmulatorHandle = Emulator::start(EmulatorConfig {
        seed: SeedKind::None,
        start_time: None,
        ..EmulatorConfig::default()
    })
    .await
    .map_err(setup("emulator"))?;
    emu.control().update_options(|o| {
        o.enforce_credential_expiry = false;
        o.maintenance.enabled = false;
    });
    let accounts = emu.control().bulk_seed(&BulkSeed {
        accounts: cfg.tenants,
        workspaces_per_account: cfg.workspaces_per_tenant,
        region: "us-east-1".into(),
        first_account_id: 300_000_000_000,
        stopped_per_account: stopped_per_tenant(cfg),
    });
    let engine = EmbeddedDynamo::start_in_memory()
        .await
        .map_err(setup("dynoxide"))?;
    let client = local_client(&engine.endpoint_url()).await;
    create_table(&client, TABLE).await.map_err(setup("table"))?;
    let store = DynamoStore::new(client, TABLE);

    // The registry: tenants and their desktops, as onboarding and partner events left them.
    let now = emu.control().now();
    let idle_every = match cfg.idle_percent {
        0 => usize::MAX,
        p => (100 / usize::from(p.min(100))).max(1),
    };
    let mut tenants = Vec::with_capacity(accounts.len());
    let mut expected = Vec::with_capacity(accounts.len());
    let mut records = Vec::new();
    let mut stopped_before = 0;
    for a in &accounts {
        let tenant = store
            .create_tenant(&bulk_tenant(a, now)?)
            .await
            .map_err(setup("tenant"))?;
        let mut ids = emu.control().workspace_ids(&a.account_id, &a.region);
        ids.sort();
        let mut stops = 0;
        // The emulator stopped the last ones by id.
        let first_stopped = ids.len().saturating_sub(stopped_per_tenant(cfg));
        for (i, id) in ids.iter().enumerate() {
            let stopped = i >= first_stopped;
            let mut r = WorkspaceRecord::new(
                tenant.tenant_id.clone(),
                WorkspaceId::parse(id.as_str()).map_err(setup("workspace id"))?,
                tenant.regions[0].clone(),
                DirectoryId::parse(a.directory_id.as_str()).map_err(setup("directory"))?,
                RunningMode::Manual,
                if stopped {
                    WorkspaceState::Stopped
                } else {
                    WorkspaceState::Available
                },
                now - chrono::Duration::minutes(3),
            );
            if stopped {
                // Stopped by Steward's idle sweep a while ago, as the registry shows it.
                r.last_activity_at = Some(now - chrono::Duration::hours(2));
                records.push(r);
                stopped_before += 1;
                continue;
            }
            r.available_since = Some(now - chrono::Duration::hours(3));
            r.available_since_source = Some(AvailableSinceSource::Observed);
            if i % idle_every == 0 {
                stops += 1;
                r.last_activity_at = Some(now - chrono::Duration::hours(2));
            } else {
                let sid = OpaqueId::parse(format!("s-{id}")).map_err(setup("session id"))?;
                r.sessions.push(Session {
                    session_id: sid,
                    started_at: now - chrono::Duration::hours(1),
                    last_heartbeat_at: now - chrono::Duration::minutes(1),
                });
                r.last_activity_at = Some(now - chrono::Duration::minutes(1));
            }
            records.push(r);
        }
        expected.push((ids.len(), stops));
        tenants.push(tenant);
    }
    let failures: Vec<String> = futures::stream::iter(records.iter())
        .map(|r| store.create_workspace(r))
        .buffer_unordered(64)
        .filter_map(|r| async move { r.err().map(|e| e.to_string()) })
        .collect()
        .await;
    if let Some(e) = failures.first() {
        return Err(SweepBenchError::Setup(format!("seeding records: {e}")));
    }
    let seeded = Seeded {
        emulator_url: emu.endpoint_url(),
        dynamo_url: engine.endpoint_url(),
        table: TABLE.into(),
        tenants,
        expected,
        stopped_before,
        now: emu.control().now(),
        seed_seconds: seed_started.elapsed().as_secs_f64(),
    };
    Ok((seeded, emu, engine))
}

/// `bench sweep-services`: the services side of a benchmark run in its own process. Seeds,
/// prints [`Seeded`] as one JSON line on stdout, serves until stdin closes.
pub async fn serve(cfg: SweepBenchConfig) -> Result<(), SweepBenchError> {
    let (seeded, emu, engine) = seed(&cfg).await?;
    println!(
        "{}",
        serde_json::to_string(&seeded).map_err(setup("seeded"))?
    );
    // Until the benchmark closes our stdin (or dies).
    tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
    })
    .await
    .map_err(setup("stdin"))?;
    emu.shutdown().await;
    engine.shutdown().await;
    Ok(())
}

/// The services, in this process or in a child.
enum Services {
    InProcess {
        emu: EmulatorHandle,
        engine: EmbeddedDynamo,
    },
    Child {
        child: std::process::Child,
        emulator_url: String,
    },
}

impl Services {
    async fn reset_counters(&self) -> Result<(), SweepBenchError> {
        match self {
            Services::InProcess { emu, .. } => {
                emu.control().reset_counters();
                Ok(())
            }
            Services::Child { emulator_url, .. } => {
                control("DELETE", &format!("{emulator_url}/_emulator/counters"))
                    .await
                    .map(|_| ())
            }
        }
    }

    /// `{account: {"Service.Op": {"calls", "errors", "throttled"}}}`.
    async fn counters(&self) -> Result<Value, SweepBenchError> {
        match self {
            Services::InProcess { emu, .. } => {
                serde_json::to_value(emu.control().counters()).map_err(setup("counters"))
            }
            Services::Child { emulator_url, .. } => {
                let v = control("GET", &format!("{emulator_url}/_emulator/counters")).await?;
                Ok(v["accounts"].clone())
            }
        }
    }

    /// CPU seconds of the services process so far (0 when in process).
    fn cpu_seconds(&self) -> f64 {
        match self {
            Services::InProcess { .. } => 0.0,
            Services::Child { child, .. } => cpu_seconds_of(&format!("/proc/{}/stat", child.id())),
        }
    }

    fn peak_rss_bytes(&self) -> u64 {
        match self {
            Services::InProcess { .. } => 0,
            Services::Child { child, .. } => rss_of(&format!("/proc/{}/status", child.id())),
        }
    }

    async fn shutdown(self) {
        match self {
            Services::InProcess { emu, engine } => {
                emu.shutdown().await;
                engine.shutdown().await;
            }
            Services::Child { mut child, .. } => {
                drop(child.stdin.take());
                let _ = tokio::task::spawn_blocking(move || child.wait()).await;
            }
        }
    }
}

/// One JSON call to the emulator's control API.
async fn control(method: &str, url: &str) -> Result<Value, SweepBenchError> {
    use http_body_util::{BodyExt, Full};
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let req = hyper::Request::builder()
        .method(method)
        .uri(url)
        .body(Full::new(Bytes::new()))
        .map_err(setup("control request"))?;
    let resp = client.request(req).await.map_err(setup("control API"))?;
    let status = resp.status();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(setup("control API body"))?
        .to_bytes();
    if !status.is_success() {
        return Err(SweepBenchError::Setup(format!(
            "control API {method} {url}: HTTP {status}"
        )));
    }
    if body.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&body).map_err(setup("control API JSON"))
}

/// Starts the services in a child process (this binary, `bench sweep-services`) and reads
/// what it seeded.
async fn spawn_services(cfg: &SweepBenchConfig) -> Result<(Seeded, Services), SweepBenchError> {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let exe = std::env::current_exe().map_err(setup("own executable"))?;
    let mut child = Command::new(exe)
        .args([
            "bench",
            "sweep-services",
            "--tenants",
            &cfg.tenants.to_string(),
            "--workspaces-per-tenant",
            &cfg.workspaces_per_tenant.to_string(),
            "--idle-percent",
            &cfg.idle_percent.to_string(),
            "--stopped-fraction",
            &cfg.stopped_fraction.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(setup("services process"))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| SweepBenchError::Setup("services process has no stdout".into()))?;
    // Log lines may come first; the first JSON object is the answer.
    let seeded = tokio::task::spawn_blocking(move || {
        let mut said = Vec::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.map_err(setup("services process output"))?;
            if line.starts_with('{') {
                return serde_json::from_str::<Seeded>(&line).map_err(|e| {
                    SweepBenchError::Setup(format!("services process answered {line:?}: {e}"))
                });
            }
            said.push(line);
        }
        Err(SweepBenchError::Setup(format!(
            "services process ended without an answer: {}",
            said.join(" | ")
        )))
    })
    .await
    .map_err(setup("services process"))??;
    let emulator_url = seeded.emulator_url.clone();
    Ok((
        seeded,
        Services::Child {
            child,
            emulator_url,
        },
    ))
}

pub async fn run(cfg: SweepBenchConfig) -> Result<SweepBenchReport, SweepBenchError> {
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
    let expected_stops = seeded.expected;
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
    };
    drop(sink);
    services.shutdown().await;
    Ok(report)
}
