//! The services side of the sweep benchmark: starts the emulator (rate limit on) and
//! dynoxide and seeds the scenario. Run in this process (`--services-in-process`) or as the
//! whole of the `bench sweep-services` child process.

use std::time::Instant;

use chrono::Utc;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use steward_shared::ids::OpaqueId;
use steward_shared::model::{AvailableSinceSource, Session, Tenant, WorkspaceState};
use steward_shared::store::schema::create_table;
use steward_shared::store::{DynamoStore, TenantStore, WorkspaceStore};
use workspaces_core_emulator::seed::BulkSeed;
use workspaces_core_emulator::{Emulator, EmulatorConfig, EmulatorHandle, SeedKind};

use super::{SweepBenchConfig, stopped_per_tenant};
use crate::dynamo::{EmbeddedDynamo, local_client};
use crate::wiring::{SetupError, bulk_desktop, bulk_tenant, setup};

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
pub(super) async fn seed(
    cfg: &SweepBenchConfig,
) -> Result<(Seeded, EmulatorHandle, EmbeddedDynamo), SetupError> {
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
            let state = if stopped {
                WorkspaceState::Stopped
            } else {
                WorkspaceState::Available
            };
            let mut r = bulk_desktop(&tenant, a, id, state, now - chrono::Duration::minutes(3))?;
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
        return Err(SetupError(format!("seeding records: {e}")));
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
pub async fn serve(cfg: SweepBenchConfig) -> Result<(), SetupError> {
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
