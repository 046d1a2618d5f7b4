//! What the power tests share: the emulator (rate limits on unless a test turns them off),
//! the store on dynoxide, an EventBridge sink, and tenants whose desktops are registered.
#![allow(dead_code)]

use std::sync::Arc;

use serde_json::{Value, json};
use steward_functions::Deps;
use steward_local::event_sink::EventSink;
use steward_local::wiring::{bulk_desktop, bulk_tenant, local_deps};
use steward_shared::aws::TenantAccess;
use steward_shared::clock::SharedClock;
use steward_shared::gateway::ItemOutcome;
use steward_shared::gateway::workspaces::WorkspacesGateway;
use steward_shared::ids::{TenantId, WorkspaceId};
use steward_shared::model::{AuditRecord, Tenant, Timestamp, WorkspaceRecord, WorkspaceState};
use steward_shared::store::{
    AuditStore, DynamoStore, PageRequest, TenantStore, WorkspaceStore, collect_all,
};
use steward_tests::TestStore;
use workspaces_core_emulator::seed::{BulkAccount, BulkSeed};
use workspaces_core_emulator::{Emulator, EmulatorConfig, EmulatorHandle, SeedKind};

pub struct World {
    pub emu: EmulatorHandle,
    pub accounts: Vec<BulkAccount>,
    pub tenants: Vec<Tenant>,
    pub deps: Deps,
    pub sink: EventSink,
    _store: TestStore,
}

pub const FIRST_ACCOUNT: u64 = 410_000_000_001;

/// `accounts` tenants, each with `per` MANUAL AVAILABLE desktops of which the first
/// `registered` are in Steward's registry (the others exist only in the customer account).
pub async fn world(accounts: usize, per: usize, registered: usize) -> World {
    world_with(Spec {
        accounts,
        per,
        registered,
        ..Spec::default()
    })
    .await
}

/// What [`world_with`] builds.
#[derive(Debug, Clone, Default)]
pub struct Spec {
    pub accounts: usize,
    pub per: usize,
    pub registered: usize,
    /// The last `stopped` desktops of each account are STOPPED (and so registered).
    pub stopped: usize,
    /// The virtual clock's start (default: now).
    pub start: Option<Timestamp>,
}

pub async fn world_with(spec: Spec) -> World {
    let Spec {
        accounts,
        per,
        registered,
        stopped,
        start,
    } = spec;
    let emu = Emulator::start(EmulatorConfig {
        seed: SeedKind::None,
        start_time: start,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    emu.control().update_options(|o| {
        o.enforce_credential_expiry = false;
        o.maintenance.enabled = false;
    });
    let accounts = emu.control().bulk_seed(&BulkSeed {
        accounts,
        workspaces_per_account: per,
        region: "us-east-1".into(),
        first_account_id: FIRST_ACCOUNT,
        stopped_per_account: stopped,
    });
    let store = steward_tests::dynoxide().await;
    let sink = EventSink::start_capturing().await.unwrap();
    let control = emu.control().clone();
    let clock: SharedClock = Arc::new(move || control.now());
    let ds = DynamoStore::new(store.store.client().clone(), store.store.table());
    let deps = local_deps(ds, &emu.endpoint_url(), &sink.url, clock)
        .await
        .unwrap();
    let now = emu.control().now();
    let mut tenants = Vec::new();
    for a in &accounts {
        let t = deps
            .store
            .create_tenant(&bulk_tenant(a, now).unwrap())
            .await
            .unwrap();
        for (i, id) in registered_ids(&emu, a)
            .into_iter()
            .take(registered)
            .enumerate()
        {
            let state = if i >= per.saturating_sub(stopped) {
                WorkspaceState::Stopped
            } else {
                WorkspaceState::Available
            };
            let r = bulk_desktop(&t, a, &id, state, now).unwrap();
            deps.store.create_workspace(&r).await.unwrap();
        }
        tenants.push(t);
    }
    World {
        emu,
        accounts,
        tenants,
        deps,
        sink,
        _store: store,
    }
}

/// The account's desktop ids, sorted.
pub fn registered_ids(emu: &EmulatorHandle, a: &BulkAccount) -> Vec<String> {
    let mut ids = emu.control().workspace_ids(&a.account_id, &a.region);
    ids.sort();
    ids
}

impl World {
    pub fn now(&self) -> Timestamp {
        self.emu.control().now()
    }

    pub fn advance_minutes(&self, m: f64) {
        self.emu.control().advance_seconds(m * 60.0).unwrap();
    }

    pub fn state(&self, tenant: usize, ws: &str) -> String {
        let a = &self.accounts[tenant];
        self.emu
            .control()
            .workspace_state(&a.account_id, &a.region, ws)
            .unwrap_or_default()
    }

    pub fn calls(&self, tenant: usize, op: &str) -> u64 {
        self.emu
            .control()
            .calls(&self.accounts[tenant].account_id, op)
    }

    pub async fn record(&self, tenant: usize, ws: &str) -> WorkspaceRecord {
        self.deps
            .store
            .get_workspace(
                &self.tenants[tenant].tenant_id,
                &WorkspaceId::parse(ws).unwrap(),
            )
            .await
            .unwrap()
            .unwrap()
    }

    pub async fn records(&self, tenant: usize) -> Vec<WorkspaceRecord> {
        let id = self.tenants[tenant].tenant_id.clone();
        let mut all = collect_all(|p: PageRequest| self.deps.store.list_workspaces(&id, p))
            .await
            .unwrap();
        all.sort_by(|a, b| a.workspace_id.cmp(&b.workspace_id));
        all
    }

    pub async fn tenant(&self, i: usize) -> Tenant {
        self.deps
            .store
            .get_tenant(&self.tenants[i].tenant_id)
            .await
            .unwrap()
            .unwrap()
    }

    pub async fn audit(&self, tenant: &TenantId) -> Vec<AuditRecord> {
        let from = self.now() - chrono::Duration::days(30);
        let to = self.now() + chrono::Duration::days(30);
        collect_all(|p: PageRequest| self.deps.store.list_audit(tenant, from, to, p))
            .await
            .unwrap()
    }

    /// A start or stop made directly through the WorkSpaces API with the customer's role,
    /// as the console or the CLI would: no Steward handler sees it.
    pub async fn console(&self, tenant: usize, ws: &str, start: bool) {
        let t = &self.tenants[tenant];
        let clients = self
            .deps
            .clients
            .for_tenant(TenantAccess::new(t, &t.regions[0]))
            .await;
        let gateway = WorkspacesGateway::new(clients.workspaces());
        let id = [WorkspaceId::parse(ws).unwrap()];
        let out = if start {
            gateway.start(&id).await
        } else {
            gateway.stop(&id).await
        };
        assert_eq!(
            out.unwrap().into_iter().map(|(_, o)| o).collect::<Vec<_>>(),
            [ItemOutcome::Accepted],
            "the console's call was accepted"
        );
    }

    /// A partner event as EventBridge delivers it.
    pub fn event(&self, id: &str, detail_type: &str, tenant: usize, detail: Value) -> Value {
        let mut detail = detail;
        if detail.get("tenantId").is_none() {
            detail["tenantId"] = json!(self.tenants[tenant].tenant_id);
        }
        json!({
            "version": "0",
            "id": id,
            "detail-type": detail_type,
            "source": "steward.partner",
            "account": "111122223333",
            "time": self.now(),
            "region": "us-east-1",
            "resources": [],
            "detail": detail,
        })
    }
}

/// Asserts that an entry the sink captured follows its published schema
/// (`events/schemas/outbound/<detail type as a slug>.json`) and came from Steward.
pub fn assert_follows_schema(entry: &Value) {
    let dt = entry["DetailType"].as_str().expect("a detail type");
    let slug = dt.to_lowercase().replace(' ', "-");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../events/schemas/outbound/{slug}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{dt}: no schema at {}: {e}", path.display()));
    let schema: Value = serde_json::from_str(&text).unwrap();
    let v = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let problems: Vec<String> = v
        .iter_errors(&entry["Detail"])
        .map(|p| p.to_string())
        .collect();
    assert!(
        problems.is_empty(),
        "{dt}: {problems:?} in {}",
        entry["Detail"]
    );
    assert_eq!(entry["Source"], "steward");
}
