//! A WorkSpaces Core emulator: a wire-compatible server for the WorkSpaces (awsJson1_1),
//! STS (awsQuery), EC2 DescribeImages / DescribeSubnets (ec2Query), Directory Service
//! DescribeDirectories, IAM GetRole, Service Quotas GetServiceQuota and EventBridge PutEvents
//! calls a WorkSpaces Core partner's control plane makes, with a virtual service clock,
//! tag-policy enforcement, rate limits, fault injection and a JSON control API under
//! `/_emulator/`. It depends on no Steward crate, so any partner's tests can start it in
//! process ([`Emulator::start`]) or run its binary, as moto is run for other services
//! (see the crate's README).
//!
//! ```no_run
//! # async fn demo() -> Result<(), workspaces_core_emulator::EmulatorError> {
//! use workspaces_core_emulator::{Emulator, EmulatorConfig};
//! let emu = Emulator::start(EmulatorConfig::default()).await?;
//! let url = emu.endpoint_url(); // point the SDK's endpoint_url here
//! emu.control().advance_seconds(48.0 * 3600.0)?;
//! emu.shutdown().await;
//! # Ok(()) }
//! ```

pub mod access_keys;
pub mod cli;
mod control;
pub mod directory_service;
pub mod ec2;
pub mod error;
pub mod eventbridge;
pub mod iam;
pub mod identity;
pub mod limits;
pub mod model;
pub mod options;
pub mod paging;
pub mod policy;
pub mod protocol;
pub mod seed;
mod server;
pub mod service_clock;
pub mod service_quotas;
pub mod sts;
pub mod switches;
pub mod ws;
pub mod zones;

use chrono::{DateTime, Utc};
use limits::{Count, Counters, FaultRule, Faults, RateLimiter};
use model::World;
pub use options::Options;
use parking_lot::{Mutex, RwLock};
use protocol::PageTokens;
pub use seed::{AccountSeed, BulkAccount, BulkSeed};
use service_clock::ServiceClock;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// Which data the emulator starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeedKind {
    /// The documented default seed (see the crate's README, "Default seed").
    #[default]
    Default,
    None,
}

#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Address to bind; port 0 picks a free port.
    pub listen: SocketAddr,
    pub seed: SeedKind,
    /// The service clock's start (default: real now).
    pub start_time: Option<DateTime<Utc>>,
    pub options: Options,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: SeedKind::Default,
            start_time: None,
            options: Options::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("clock: {0}")]
    Clock(#[from] service_clock::ClockError),
    #[error("server: {0}")]
    Serve(std::io::Error),
}

/// State shared by the server and the [`Control`] handle.
pub(crate) struct Shared {
    pub world: RwLock<World>,
    pub clock: ServiceClock,
    pub options: RwLock<Arc<Options>>,
    pub limiter: Mutex<RateLimiter>,
    pub faults: Mutex<Faults>,
    pub counters: Mutex<Counters>,
    pub tokens: PageTokens,
    pub events: Mutex<Vec<eventbridge::CapturedEvent>>,
}

pub struct Emulator;

impl Emulator {
    /// Binds, seeds and starts serving; returns once the socket accepts connections.
    pub async fn start(config: EmulatorConfig) -> Result<EmulatorHandle, EmulatorError> {
        let shared = Arc::new(Shared {
            world: RwLock::new(World::default()),
            clock: ServiceClock::new(config.start_time),
            options: RwLock::new(Arc::new(config.options)),
            limiter: Mutex::new(RateLimiter::default()),
            faults: Mutex::new(Faults::default()),
            counters: Mutex::new(Counters::default()),
            tokens: PageTokens::new(),
            events: Mutex::new(Vec::new()),
        });
        let control = Control {
            shared: shared.clone(),
        };
        if config.seed == SeedKind::Default {
            control.seed_default();
        }
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| EmulatorError::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(EmulatorError::Serve)?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = server::router(shared);
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
        });
        Ok(EmulatorHandle {
            addr,
            control,
            shutdown: Some(tx),
            task,
        })
    }
}

/// How long [`EmulatorHandle::shutdown`] lets open connections finish.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

pub struct EmulatorHandle {
    addr: SocketAddr,
    control: Control,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl EmulatorHandle {
    /// `http://127.0.0.1:PORT`, for the SDKs' `endpoint_url`.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
    pub fn control(&self) -> &Control {
        &self.control
    }
    /// Stops accepting requests and waits for the server to finish, at most
    /// [`SHUTDOWN_GRACE`]: clients that keep idle keep-alive connections open (every SDK
    /// client's pool does) would otherwise hold the shutdown until they let go.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
            let _ = (&mut self.task).await;
        }
    }
    /// Serves until the process ends (for the CLI).
    pub async fn wait(mut self) -> Result<(), EmulatorError> {
        match (&mut self.task).await {
            Ok(r) => r.map_err(EmulatorError::Serve),
            Err(e) => Err(EmulatorError::Serve(std::io::Error::other(e))),
        }
    }
}

/// In-process control of a running emulator (the same operations as the
/// HTTP control API).
#[derive(Clone)]
pub struct Control {
    shared: Arc<Shared>,
}

impl Control {
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.clock.now()
    }
    pub fn advance_seconds(&self, seconds: f64) -> Result<DateTime<Utc>, EmulatorError> {
        Ok(self.shared.clock.advance(seconds)?)
    }
    pub fn set_time(&self, to: DateTime<Utc>) -> Result<DateTime<Utc>, EmulatorError> {
        Ok(self.shared.clock.set(to)?)
    }
    pub fn options(&self) -> Options {
        (**self.shared.options.read()).clone()
    }
    /// Every event put on a bus (EventBridge PutEvents), oldest first.
    pub fn events(&self) -> Vec<eventbridge::CapturedEvent> {
        self.shared.events.lock().clone()
    }
    /// The events of one detail type, oldest first.
    pub fn events_of(&self, detail_type: &str) -> Vec<eventbridge::CapturedEvent> {
        self.shared
            .events
            .lock()
            .iter()
            .filter(|e| e.detail_type == detail_type)
            .cloned()
            .collect()
    }
    pub fn clear_events(&self) {
        self.shared.events.lock().clear();
    }
    pub fn set_options(&self, options: Options) {
        *self.shared.options.write() = Arc::new(options);
    }
    pub fn update_options(&self, f: impl FnOnce(&mut Options)) {
        let mut o = self.options();
        f(&mut o);
        self.set_options(o);
    }
    pub fn set_rate_limit(&self, enabled: bool) {
        self.update_options(|o| o.rate_limit.enabled = enabled);
        self.shared.limiter.lock().reset();
    }
    /// Adds a fault rule; returns its id.
    pub fn inject_fault(&self, rule: FaultRule) -> String {
        self.shared.faults.lock().add(rule)
    }
    pub fn faults(&self) -> Vec<FaultRule> {
        self.shared.faults.lock().rules.clone()
    }
    pub fn clear_fault(&self, id: &str) -> bool {
        let mut f = self.shared.faults.lock();
        let before = f.rules.len();
        f.rules.retain(|r| r.id != id);
        f.rules.len() != before
    }
    pub fn clear_faults(&self) {
        self.shared.faults.lock().rules.clear();
    }
    /// Counters per account, then per `Service.Operation`.
    pub fn counters(&self) -> BTreeMap<String, BTreeMap<String, Count>> {
        self.shared.counters.lock().by_account.clone()
    }
    /// Calls of `Service.Operation` made in `account`.
    pub fn calls(&self, account: &str, op: &str) -> u64 {
        self.shared
            .counters
            .lock()
            .by_account
            .get(account)
            .and_then(|m| m.get(op))
            .map_or(0, |c| c.calls)
    }
    pub fn reset_counters(&self) {
        self.shared.counters.lock().by_account.clear();
    }
    pub fn seed_default(&self) {
        let now = self.shared.clock.now_ms();
        seed::seed_default(&mut self.shared.world.write(), now);
    }
    pub fn seed_account(&self, spec: &AccountSeed) {
        let now = self.shared.clock.now_ms();
        seed::seed_account(&mut self.shared.world.write(), spec, now);
    }
    /// Flips per-account switches of a seeded account (see [`switches::AccountSwitches`]);
    /// false when there is no such account.
    pub fn update_account(&self, account_id: &str, s: &switches::AccountSwitches) -> bool {
        s.apply(&mut self.shared.world.write(), account_id)
    }
    /// A new long-term access key of an IAM user of `account_id` (ids `AKIAEMULATORCUST0001`,
    /// `…0002`, …); `None` when there is no such account.
    pub fn create_access_key(
        &self,
        account_id: &str,
        user_name: Option<&str>,
    ) -> Option<access_keys::AccessKey> {
        access_keys::create(&mut self.shared.world.write(), account_id, user_name)
    }
    /// The switches of an account as they are now.
    pub fn account_switches(&self, account_id: &str) -> Option<switches::AccountSwitches> {
        switches::AccountSwitches::of(&self.shared.world.read(), account_id)
    }
    pub fn bulk_seed(&self, spec: &BulkSeed) -> Vec<BulkAccount> {
        let now = self.shared.clock.now_ms();
        seed::bulk_seed(&mut self.shared.world.write(), spec, now)
    }
    /// Drops all state, sessions, faults and counters; optionally re-seeds.
    pub fn reset(&self, seed: SeedKind) {
        *self.shared.world.write() = World::default();
        self.clear_faults();
        self.reset_counters();
        self.clear_events();
        self.shared.limiter.lock().reset();
        if seed == SeedKind::Default {
            self.seed_default();
        }
    }
    /// The state a workspace shows right now (`None` = gone or unknown).
    pub fn workspace_state(&self, account: &str, region: &str, id: &str) -> Option<String> {
        let o = self.shared.options.read().clone();
        let t = model::Timing::from_options(&o);
        let w = self.shared.world.read();
        let rs = w.accounts.get(account)?.regions.get(region)?;
        let ws = rs.workspaces.get(id)?;
        ws.project(
            self.shared.clock.now_ms(),
            &t,
            rs.maintenance_on(&ws.directory_id),
        )
        .map(|p| p.state.as_str().to_string())
    }
    /// Ids of the workspaces stored in an account and region, in id order.
    pub fn workspace_ids(&self, account: &str, region: &str) -> Vec<String> {
        let w = self.shared.world.read();
        w.accounts
            .get(account)
            .and_then(|a| a.regions.get(region))
            .map_or_else(Vec::new, |rs| rs.workspaces.keys().cloned().collect())
    }
    /// Number of workspaces stored in an account and region (including ones
    /// whose removal is due but not yet folded in).
    pub fn workspace_count(&self, account: &str, region: &str) -> usize {
        let w = self.shared.world.read();
        w.accounts
            .get(account)
            .and_then(|a| a.regions.get(region))
            .map_or(0, |rs| rs.workspaces.len())
    }
}
