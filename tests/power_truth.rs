//! Power truth on the emulator and dynoxide: every MANUAL desktop is reconciled against the
//! service, STOPPED ones included, and requests act on the service, not on the table.
//!
//! - a STOPPED desktop started directly through the WorkSpaces API (as the console would)
//!   is found by the next idle sweep, recorded as drift, counted in the ledger and stopped
//!   when idle — and its stop's completion is reported;
//! - a stop request for such a desktop stops it; a start request for a desktop stopped
//!   outside Steward starts it, and its completion (`Desktop Available`) follows;
//! - a desktop in MAINTENANCE is left alone and its AVAILABLE period closed;
//! - Steward's own start is never drift, however late the sweep sees it.

mod power_common;

use steward_functions::power::partner_events::EventOutcome;

use chrono::Duration;
use power_common::{Spec, World, world_with};
use serde_json::json;
use steward_functions::power::SweepKind;
use steward_functions::power::fanout::{TenantOutcome, sweep_one};
use steward_functions::power::partner_events::process;
use steward_functions::power::sweep::{SweepOptions, TenantSweep};
use steward_shared::model::{AuditRecord, AvailableSinceSource, Month, WorkspaceState};
use steward_shared::store::UsageStore;

fn options() -> SweepOptions {
    SweepOptions {
        interval: Duration::minutes(5),
        ..SweepOptions::default()
    }
}

async fn idle_sweep(w: &World) -> TenantSweep {
    let mut o = options();
    o.pace.rate_per_second = 0.0;
    match sweep_one(&w.deps, &w.tenant(0).await, SweepKind::Idle, &o).await {
        TenantOutcome::Swept(s) => s,
        TenantOutcome::Failed { error, message, .. } => panic!("sweep failed: {error}: {message}"),
    }
}

/// The audit records about `ws`, oldest first.
async fn audit_of(w: &World, ws: &str) -> Vec<AuditRecord> {
    let mut a: Vec<AuditRecord> = w
        .audit(&w.tenants[0].tenant_id)
        .await
        .into_iter()
        .filter(|r| r.workspace_id.as_ref().is_some_and(|id| id.as_str() == ws))
        .collect();
    a.sort_by_key(|r| r.at);
    a
}

fn actions(a: &[AuditRecord]) -> Vec<&str> {
    a.iter().map(|r| r.action.as_str()).collect()
}

async fn usage_of(w: &World, ws: &str) -> (u64, u64) {
    let month = Month::of(w.now());
    w.deps
        .store
        .list_usage(&w.tenants[0].tenant_id, &month)
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.workspace_id.as_str() == ws)
        .fold((0, 0), |(s, u), r| {
            (s + r.available_seconds, u + r.uncertainty_seconds)
        })
}

fn stop_request(w: &World, id: &str, ws: &str) -> serde_json::Value {
    w.event(
        id,
        "Desktop Stop Requested",
        0,
        json!({"workspaceId": ws, "occurredAt": w.now()}),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_start_is_found_counted_as_drift_and_stopped_when_idle() {
    // Four desktops: 0 and 1 AVAILABLE, 2 and 3 STOPPED.
    let w = world_with(Spec {
        accounts: 1,
        per: 4,
        registered: 4,
        stopped: 2,
        start: None,
    })
    .await;
    w.emu.control().set_rate_limit(false);
    let ids = power_common::registered_ids(&w.emu, &w.accounts[0]);
    let (console, quiet) = (&ids[2], &ids[3]);
    let first = idle_sweep(&w).await;
    assert_eq!(first.looked_at, 4, "the STOPPED desktops are swept too");
    assert_eq!(
        first.api_calls, 1,
        "one DescribeWorkspaces for four desktops"
    );

    // The customer starts desktop 2 from the console; Steward's table still says STOPPED.
    w.console(0, console, true).await;
    assert_eq!(w.record(0, console).await.state, WorkspaceState::Stopped);
    w.advance_minutes(5.0);
    let started_seen_by = w.now();
    let s = idle_sweep(&w).await;
    assert_eq!(s.drift, 1, "{:#?}", s.actions);
    let r = w.record(0, console).await;
    assert_eq!(r.state, WorkspaceState::Available);
    assert_eq!(
        r.available_since_source,
        Some(AvailableSinceSource::Observed)
    );
    let since = r.available_since.expect("its usage period is open");
    assert_eq!(
        since,
        r.state_observed_at - Duration::minutes(5),
        "dated at the start of the window it was seen in"
    );
    assert!(r.state_observed_at >= started_seen_by);
    assert_eq!(r.available_since_uncertainty_seconds, 300);
    let a = audit_of(&w, console).await;
    assert_eq!(actions(&a), ["drift"]);
    assert!(
        a[0].reason
            .starts_with("started outside Steward (STOPPED → AVAILABLE)"),
        "{}",
        a[0].reason
    );

    // Nobody uses it: the idle rule stops it 60 min after it came up (grace 15 min).
    let mut stopped_at = None;
    for _ in 0..20 {
        w.advance_minutes(5.0);
        let s = idle_sweep(&w).await;
        if s.stopped > 0 {
            stopped_at = Some(w.now());
            break;
        }
    }
    let stopped_at = stopped_at.expect("stopped by the idle rule");
    let idle_minutes = (stopped_at - since).num_minutes();
    assert!((60..65).contains(&idle_minutes), "{idle_minutes}");
    let a = audit_of(&w, console).await;
    assert_eq!(actions(&a), ["drift", "stop"]);
    assert!(a[1].reason.starts_with("idle since"), "{}", a[1].reason);
    // Its hours are in the ledger, with the stated uncertainty of the observed start.
    let (seconds, uncertainty) = usage_of(&w, console).await;
    assert_eq!(seconds, (stopped_at - since).num_seconds() as u64);
    assert_eq!(uncertainty, 300);

    // The next sweep sees it STOPPED: Steward's stop completed (no drift). Desktops 0 and
    // 1, idle since the first sweep, were stopped in the same sweep and complete with it.
    w.advance_minutes(5.0);
    let s = idle_sweep(&w).await;
    assert_eq!((s.drift, s.completed), (0, 3), "{:#?}", s.actions);
    let a = audit_of(&w, console).await;
    assert_eq!(actions(&a), ["drift", "stop", "stopped"]);
    // The desktop nobody touched: no action, never named in a start or stop.
    assert!(audit_of(&w, quiet).await.is_empty());
    assert_eq!(w.state(0, quiet), "STOPPED");
    assert_eq!(
        w.calls(0, "WorkSpaces.StartWorkspaces"),
        1,
        "the console's only"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_act_on_the_service_not_on_the_table() {
    // Desktop 0 AVAILABLE, 1 and 2 STOPPED.
    let w = world_with(Spec {
        accounts: 1,
        per: 3,
        registered: 3,
        stopped: 2,
        start: None,
    })
    .await;
    w.emu.control().set_rate_limit(false);
    let ids = power_common::registered_ids(&w.emu, &w.accounts[0]);
    idle_sweep(&w).await;

    // Started from the console an hour after the last sweep: a stop request stops it.
    w.console(0, &ids[1], true).await;
    w.advance_minutes(3.0);
    let describes = w.calls(0, "WorkSpaces.DescribeWorkspaces");
    let p = process(&stop_request(&w, "stop-1", &ids[1]), &w.deps)
        .await
        .unwrap();
    assert_eq!(p.result, EventOutcome::Stopped);
    assert_eq!(w.calls(0, "WorkSpaces.DescribeWorkspaces"), describes + 1);
    assert_eq!(w.calls(0, "WorkSpaces.StopWorkspaces"), 1);
    assert_eq!(w.state(0, &ids[1]), "STOPPING");
    let did: Vec<&str> = p.actions.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(did, ["drift", "stop"]);
    let (seconds, _) = usage_of(&w, &ids[1]).await;
    assert!(seconds > 0, "the console's period is in the ledger");

    // Really STOPPED: "already stopped", because the service says so; no stop call.
    let p = process(&stop_request(&w, "stop-2", &ids[2]), &w.deps)
        .await
        .unwrap();
    assert_eq!(p.result, EventOutcome::AlreadyStopped);
    assert_eq!(w.calls(0, "WorkSpaces.StopWorkspaces"), 1);

    // Stopped from the console while the table says AVAILABLE: a start request starts it.
    w.console(0, &ids[0], false).await;
    w.advance_minutes(3.0);
    let p = process(
        &w.event(
            "start-1",
            "Desktop Start Requested",
            0,
            json!({"workspaceId": ids[0], "occurredAt": w.now()}),
        ),
        &w.deps,
    )
    .await
    .unwrap();
    assert_eq!(p.result, EventOutcome::Started, "{:#?}", p.actions);
    let did: Vec<&str> = p.actions.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(did, ["drift", "start"]);
    assert!(p.actions[0].reason.starts_with("stopped outside Steward"));
    for e in w.sink.captured() {
        power_common::assert_follows_schema(&e);
    }
    // Steward's start, seen STARTING and then AVAILABLE, is never drift; its completion is.
    w.advance_minutes(1.0);
    let s = idle_sweep(&w).await;
    assert_eq!(s.drift, 0, "{:#?}", s.actions);
    w.advance_minutes(5.0);
    let s = idle_sweep(&w).await;
    assert_eq!((s.drift, s.completed), (0, 1), "{:#?}", s.actions);
    let available = s
        .actions
        .iter()
        .find(|a| a.action == "available")
        .expect("Desktop Available");
    assert_eq!(available.workspace, ids[0]);
    assert!(available.reason.contains("requested by event start-1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desktop_in_maintenance_is_left_alone_and_its_period_closed() {
    // Sunday 2026-12-20 23:40 UTC; the emulator's maintenance window opens at 00:00 on the
    // third Monday (2026-12-21) for five hours and shows STOPPED MANUAL desktops of
    // directories with maintenance enabled as MAINTENANCE.
    let start = chrono::DateTime::parse_from_rfc3339("2026-12-20T23:40:00Z")
        .unwrap()
        .to_utc();
    let w = world_with(Spec {
        accounts: 1,
        per: 1,
        registered: 1,
        stopped: 0,
        start: Some(start),
    })
    .await;
    w.emu.control().set_rate_limit(false);
    w.emu.control().update_options(|o| {
        o.maintenance.enabled = true;
        o.maintenance.applies_to_manual = true;
    });
    let a = &w.accounts[0];
    let t = &w.tenants[0];
    let clients = w
        .deps
        .clients
        .for_tenant(steward_shared::aws::TenantAccess::new(t, &t.regions[0]))
        .await;
    steward_shared::gateway::workspaces::WorkspacesGateway::new(clients.workspaces())
        .modify_creation_properties(
            &steward_shared::ids::DirectoryId::parse(a.directory_id.as_str()).unwrap(),
            &steward_shared::onboarding::CreationProperties {
                enable_maintenance_mode: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let ws = &power_common::registered_ids(&w.emu, a)[0];
    idle_sweep(&w).await; // 23:40: first sight, AVAILABLE
    let first = w.record(0, ws).await;
    let since = first.available_since.unwrap();
    w.advance_minutes(5.0);
    idle_sweep(&w).await; // 23:45
    w.advance_minutes(5.0);
    idle_sweep(&w).await; // 23:50
    w.advance_minutes(6.0);
    w.console(0, ws, false).await; // 23:56, from the console
    w.advance_minutes(4.0);
    assert_eq!(w.state(0, ws), "MAINTENANCE");
    let s = idle_sweep(&w).await; // 00:00
    assert_eq!(s.drift, 1, "{:#?}", s.actions);
    let r = w.record(0, ws).await;
    assert_eq!(r.state, WorkspaceState::Maintenance);
    assert_eq!(r.available_since, None, "the period is closed");
    let (seconds, uncertainty) = usage_of(&w, ws).await;
    assert_eq!(seconds, (w.now() - since).num_seconds() as u64);
    assert_eq!(
        uncertainty,
        first.available_since_uncertainty_seconds + 300,
        "first sight's and the last window's"
    );
    let audit = audit_of(&w, ws).await;
    assert_eq!(actions(&audit), ["drift"]);
    assert!(
        audit[0]
            .reason
            .starts_with("entered the maintenance window (AVAILABLE → MAINTENANCE)")
    );
    // Through the window: described every sweep, never started or stopped, nothing new.
    for _ in 0..12 {
        w.advance_minutes(5.0);
        let s = idle_sweep(&w).await;
        assert_eq!((s.drift, s.stopped, s.completed), (0, 0, 0));
    }
    assert_eq!(
        w.calls(0, "WorkSpaces.StopWorkspaces"),
        1,
        "the console's only"
    );
    assert_eq!(w.calls(0, "WorkSpaces.StartWorkspaces"), 0);
    assert_eq!(audit_of(&w, ws).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_recorded_by_an_earlier_steward_is_reindexed_once() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use steward_shared::model::SWEEP_INDEX_VERSION;
    use steward_shared::store::{PageRequest, TenantStore, WorkspaceStore, collect_all};
    // Desktop 0 AVAILABLE, 1 STOPPED and written as an earlier Steward did: outside the
    // sweep index, the tenant without an index version.
    let w = world_with(Spec {
        accounts: 1,
        per: 2,
        registered: 2,
        stopped: 1,
        start: None,
    })
    .await;
    w.emu.control().set_rate_limit(false);
    let ids = power_common::registered_ids(&w.emu, &w.accounts[0]);
    let tenant_id = w.tenants[0].tenant_id.clone();
    w.deps
        .store
        .client()
        .update_item()
        .table_name(w.deps.store.table())
        .key("pk", AttributeValue::S(format!("TENANT#{tenant_id}")))
        .key("sk", AttributeValue::S(format!("WS#{}", ids[1])))
        .update_expression("REMOVE gsi1pk, gsi1sk")
        .send()
        .await
        .unwrap();
    let mut t = w.tenant(0).await;
    t.sweep_index = 0;
    w.deps.store.update_tenant(&t).await.unwrap();
    let indexed = || async {
        collect_all(|p: PageRequest| w.deps.store.list_sweep_workspaces(&tenant_id, p))
            .await
            .unwrap()
            .len()
    };
    assert_eq!(
        indexed().await,
        1,
        "the legacy STOPPED record is outside the index"
    );

    // The customer starts it from the console: the first sweep re-indexes and finds it.
    w.console(0, &ids[1], true).await;
    w.advance_minutes(5.0);
    let s = idle_sweep(&w).await;
    assert_eq!(s.looked_at, 2);
    assert_eq!(s.drift, 1, "{:#?}", s.actions);
    assert_eq!(indexed().await, 2);
    assert_eq!(w.tenant(0).await.sweep_index, SWEEP_INDEX_VERSION);
    // Once: the next sweep reads the index only (the records' versions do not move).
    let before = w.record(0, &ids[0]).await.version;
    w.advance_minutes(5.0);
    idle_sweep(&w).await;
    assert_eq!(w.record(0, &ids[0]).await.version, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_created_on_command_is_reported_when_it_is_available() {
    let w = world_with(Spec {
        accounts: 1,
        per: 1,
        registered: 1,
        stopped: 0,
        start: None,
    })
    .await;
    w.emu.control().set_rate_limit(false);
    let ws = power_common::registered_ids(&w.emu, &w.accounts[0])[0].clone();
    idle_sweep(&w).await;
    let quiet = w.calls(0, "WorkSpaces.DescribeWorkspaceImages");
    let r = steward_functions::lifecycle::commands::process(
        &w.event(
            "image-1",
            "Lifecycle Image Create Requested",
            0,
            json!({"workspaceId": ws, "occurredAt": w.now(), "name": "golden-2026-12",
                "description": "December golden image"}),
        ),
        &w.deps,
    )
    .await
    .unwrap();
    assert_eq!(
        r.result,
        steward_functions::lifecycle::commands::CommandOutcome::Succeeded
    );
    let image = r.created[0].clone();
    let pending = w.tenant(0).await.pending_images;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].image_id.as_str(), image);
    // Described by every sweep while PENDING (the emulator takes 45 min), reported once.
    let mut reported = Vec::new();
    let mut sweeps = 0;
    while reported.is_empty() && sweeps < 12 {
        w.advance_minutes(5.0);
        let s = idle_sweep(&w).await;
        sweeps += 1;
        reported.extend(
            s.actions
                .into_iter()
                .filter(|a| a.action == "operation_completed"),
        );
    }
    assert_eq!(reported.len(), 1, "after {sweeps} sweeps");
    assert!(
        reported[0]
            .reason
            .contains(&format!("image_create of image {image}"))
            && reported[0].reason.contains("requested by event image-1"),
        "{}",
        reported[0].reason
    );
    assert_eq!(reported[0].workspace, ws);
    assert!(w.tenant(0).await.pending_images.is_empty());
    let described = w.calls(0, "WorkSpaces.DescribeWorkspaceImages") - quiet;
    assert_eq!(described, sweeps as u64, "one call per sweep while pending");
    // Nothing pending: no more image calls.
    w.advance_minutes(5.0);
    idle_sweep(&w).await;
    assert_eq!(
        w.calls(0, "WorkSpaces.DescribeWorkspaceImages") - quiet,
        sweeps as u64
    );
    // The event follows its schema.
    let published: Vec<_> = w
        .sink
        .captured()
        .into_iter()
        .filter(|e| e["DetailType"] == "Lifecycle Operation Completed")
        .collect();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0]["Detail"]["imageId"], image.as_str());
    power_common::assert_follows_schema(&published[0]);
}
