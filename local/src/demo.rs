//! The demo: the main job of the sandbox. For now it registers the default customer as a
//! tenant and takes it through the store on the embedded DynamoDB engine, printing a
//! timeline (or one JSON object with `--json`). Onboarding and power governance extend it.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use serde::Serialize;
use steward_shared::ids::{OpaqueId, TenantId};
use steward_shared::model::{NewTenant, StepStatus, Tenant, TenantStatus};
use steward_shared::store::schema::create_table;
use steward_shared::store::{
    Claim, DedupeStore, DynamoStore, PageRequest, StepStore, StoreError, TenantStore,
    WorkspaceStore, collect_all,
};

use crate::dynamo::{EmbeddedDynamo, local_client};
use crate::seed;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Engine(#[from] crate::dynamo::EmbeddedDynamoError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("the default seed is invalid: {0}")]
    Seed(#[from] steward_shared::validate::ValidationError),
    #[error("the demo expected {0}")]
    Unexpected(String),
}

/// One line of the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub at: chrono::DateTime<Utc>,
    pub what: String,
}

#[derive(Debug, Serialize)]
pub struct TenantSummary {
    pub id: String,
    pub onboarding: TenantStatus,
    pub steps: Vec<StepSummary>,
    /// Desktops Steward tracks, counted by their last observed state.
    pub workspaces: BTreeMap<String, usize>,
}

#[derive(Debug, Serialize)]
pub struct StepSummary {
    pub step: String,
    pub status: StepStatus,
}

#[derive(Debug, Serialize)]
pub struct PowerAction {
    pub workspace: String,
    pub action: String,
    pub reason: String,
    pub time: chrono::DateTime<Utc>,
}

/// What `demo --json` prints.
#[derive(Debug, Serialize)]
pub struct Report {
    pub tenants: Vec<TenantSummary>,
    pub power_actions: Vec<PowerAction>,
    pub timeline: Vec<Event>,
}

pub struct DemoOptions {
    /// Keep the embedded engine's tables in this SQLite file instead of memory.
    pub state_file: Option<String>,
    pub table: String,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            state_file: None,
            table: "steward".into(),
        }
    }
}

struct Timeline(Vec<Event>);

impl Timeline {
    fn note(&mut self, what: impl Into<String>) {
        self.0.push(Event {
            at: Utc::now(),
            what: what.into(),
        });
    }
}

pub async fn run(opts: DemoOptions) -> Result<Report, DemoError> {
    let engine = match &opts.state_file {
        Some(path) => EmbeddedDynamo::start_with_file(path).await?,
        None => EmbeddedDynamo::start_in_memory().await?,
    };
    let mut tl = Timeline(Vec::new());
    tl.note(format!(
        "embedded DynamoDB (dynoxide) listening on {}",
        engine.endpoint_url()
    ));
    let client = local_client(&engine.endpoint_url()).await;
    let store = DynamoStore::new(client.clone(), &opts.table);
    let tables = client
        .list_tables()
        .send()
        .await
        .map_err(|e| DemoError::Unexpected(format!("ListTables to work: {e}")))?;
    if tables.table_names().iter().any(|t| t == &opts.table) {
        tl.note(format!("table {} already exists (kept state)", opts.table));
    } else {
        create_table(&client, &opts.table).await?;
        tl.note(format!(
            "created table {} with its sparse sweep index and TTL",
            opts.table
        ));
    }

    let new: NewTenant = seed::default_tenant()?;
    let tenant_id = new.tenant_id.clone();
    let tenant = Tenant::register(new, Utc::now())?;
    let tenant = match store.create_tenant(&tenant).await {
        Ok(t) => {
            tl.note(format!(
                "registered tenant {} (account {}, role {}, {} regions) at version {}",
                t.tenant_id,
                t.account_id,
                t.role_arn,
                t.regions.len(),
                t.version
            ));
            t
        }
        Err(StoreError::AlreadyExists { .. }) => {
            tl.note(format!(
                "tenant {tenant_id} already registered: creation refused, kept as is"
            ));
            store
                .get_tenant(&tenant_id)
                .await?
                .ok_or_else(|| DemoError::Unexpected("the tenant to exist".into()))?
        }
        Err(e) => return Err(e.into()),
    };

    // Two writers start from the same copy; the version lets exactly one through.
    let mut tighter = tenant.clone();
    tighter.policy.idle_timeout_minutes = 30;
    let mut looser = tenant.clone();
    looser.policy.idle_timeout_minutes = 120;
    let updated = store.update_tenant(&tighter).await?;
    tl.note(format!(
        "policy updated: idle timeout {} min (version {} -> {})",
        updated.policy.idle_timeout_minutes, tenant.version, updated.version
    ));
    match store.update_tenant(&looser).await {
        Err(e @ StoreError::VersionConflict { .. }) => {
            tl.note(format!("a concurrent stale update was refused: {e}"))
        }
        other => {
            return Err(DemoError::Unexpected(format!(
                "a version conflict, got {other:?}"
            )));
        }
    }

    // Partner events are processed once, however often EventBridge delivers them.
    let event_id = OpaqueId::parse(format!("demo-{}", uuid::Uuid::new_v4()))?;
    let now = Utc::now();
    for delivery in 1..=3 {
        let claim = store
            .claim_event(&tenant_id, &event_id, now, now + Duration::hours(72))
            .await?;
        tl.note(format!(
            "event {event_id} delivery {delivery}: {}",
            match claim {
                Claim::Claimed => "processed",
                Claim::Duplicate => "duplicate, skipped",
            }
        ));
    }

    let report = Report {
        tenants: summarise(&store).await?,
        power_actions: Vec::new(),
        timeline: tl.0,
    };
    engine.shutdown().await;
    Ok(report)
}

async fn summarise(store: &DynamoStore) -> Result<Vec<TenantSummary>, DemoError> {
    let tenants = collect_all(|p| store.list_tenants(p)).await?;
    let mut out = Vec::new();
    for t in tenants {
        let steps = store
            .list_steps(&t.tenant_id)
            .await?
            .into_iter()
            .map(|s| StepSummary {
                step: serde_json::to_value(s.step)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                status: s.status,
            })
            .collect();
        out.push(TenantSummary {
            id: t.tenant_id.to_string(),
            onboarding: t.status,
            steps,
            workspaces: count_workspaces(store, &t.tenant_id).await?,
        });
    }
    Ok(out)
}

async fn count_workspaces(
    store: &DynamoStore,
    tenant: &TenantId,
) -> Result<BTreeMap<String, usize>, DemoError> {
    let mut counts = BTreeMap::new();
    let all = collect_all(|p| {
        store.list_workspaces(
            tenant,
            PageRequest {
                limit: Some(100),
                ..p
            },
        )
    })
    .await?;
    for w in all {
        *counts.entry(w.state.as_str().to_owned()).or_insert(0) += 1;
    }
    Ok(counts)
}

/// The human-readable form of a report.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    out.push_str("Steward sandbox demo\n\n");
    for e in &report.timeline {
        out.push_str(&format!("  {}  {}\n", e.at.format("%H:%M:%S%.3f"), e.what));
    }
    out.push('\n');
    for t in &report.tenants {
        out.push_str(&format!(
            "tenant {}: {:?}, {} onboarding steps recorded, {} desktops tracked\n",
            t.id,
            t.onboarding,
            t.steps.len(),
            t.workspaces.values().sum::<usize>()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_demo_round_trips_the_default_tenant() {
        let report = run(DemoOptions::default()).await.unwrap();
        assert_eq!(report.tenants.len(), 1);
        let t = &report.tenants[0];
        assert_eq!(t.id, seed::DEFAULT_TENANT_ID);
        assert_eq!(t.onboarding, TenantStatus::Onboarding);
        let lines: Vec<&str> = report.timeline.iter().map(|e| e.what.as_str()).collect();
        assert!(
            lines
                .iter()
                .any(|l| l.contains("concurrent stale update was refused"))
        );
        assert_eq!(
            lines.iter().filter(|l| l.ends_with(": processed")).count(),
            1
        );
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.ends_with("duplicate, skipped"))
                .count(),
            2
        );
        let json = serde_json::to_value(&report).unwrap();
        assert!(json["tenants"][0]["workspaces"].is_object());
        assert!(json["power_actions"].is_array());
        assert!(render(&report).contains("tenant demo-customer: Onboarding"));
    }

    #[tokio::test]
    async fn a_state_file_keeps_the_tenant_across_runs() {
        let dir = std::env::temp_dir().join(format!("steward-demo-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.sqlite").to_string_lossy().into_owned();
        let opts = || DemoOptions {
            state_file: Some(path.clone()),
            table: "steward".into(),
        };
        run(opts()).await.unwrap();
        let second = run(opts()).await.unwrap();
        let lines: Vec<&str> = second.timeline.iter().map(|e| e.what.as_str()).collect();
        assert!(
            lines
                .iter()
                .any(|l| l.contains("already exists (kept state)")),
            "{lines:?}"
        );
        assert!(
            lines.iter().any(|l| l.contains("already registered")),
            "{lines:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
