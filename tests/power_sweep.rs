//! The idle and guard sweeps on the emulator (rate limits on) and dynoxide: live sessions are
//! never stopped, idle desktops are stopped within one sweep interval, the guard warns once
//! and stops before the service does, faults and a denying tenant do not stop the others,
//! and nothing outside the registry is touched.

mod power_common;

use std::collections::{BTreeMap, BTreeSet};

use power_common::{World, world};
use serde_json::json;
use steward_functions::power::SweepKind;
use steward_functions::power::fanout::{TenantOutcome, sweep_one, sweep_tenants};
use steward_functions::power::partner_events::process;
use steward_functions::power::sweep::SweepOptions;
use steward_shared::ids::ExternalId;
use steward_shared::model::{Actor, AuditOutcome, Connection, Month, Tenant, WorkspaceState};
use steward_shared::store::{TenantStore, UsageStore};
use workspaces_core_emulator::limits::{FaultEffect, FaultRule};

const INTERVAL_MIN: f64 = 5.0;

fn options() -> SweepOptions {
    SweepOptions {
        interval: chrono::Duration::minutes(INTERVAL_MIN as i64),
        ..SweepOptions::default()
    }
}

async fn sweep(w: &World, i: usize, kind: SweepKind) -> TenantOutcome {
    let t = w.tenant(i).await;
    let mut o = options();
    if !w.emu.control().options().rate_limit.enabled {
        o.pace.rate_per_second = 0.0;
    }
    sweep_one(&w.deps, &t, kind, &o).await
}

/// Long virtual stretches make hundreds of sweeps: the service's rate (real time) is
/// switched off for them, and Steward's pacing with it. The fault test keeps both on.
fn unlimited(w: &World) {
    w.emu.control().set_rate_limit(false);
}

async fn beat(w: &World, ws: &str, n: &mut u32) {
    *n += 1;
    let e = w.event(
        &format!("hb-{n}"),
        "Session Heartbeat",
        0,
        json!({"workspaceId": ws, "sessionId": format!("s-{ws}"), "occurredAt": w.now()}),
    );
    process(&e, &w.deps).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_sessions_are_kept_and_idle_desktops_stop_within_one_interval() {
    // 12 desktops, 10 registered: 0–3 live sessions, 4–5 leased, 6–9 idle; 10–11 unregistered.
    let w = world(1, 12, 10).await;
    unlimited(&w);
    let ids = power_common::registered_ids(&w.emu, &w.accounts[0]);
    let (live, rest) = ids[..10].split_at(4);
    let (leased, idle) = rest.split_at(2);
    let mut n = 0;
    // First sweep dates every desktop (first seen AVAILABLE now, within one interval).
    sweep(&w, 0, SweepKind::Idle).await;
    for ws in live {
        beat(&w, ws, &mut n).await;
    }
    for ws in leased {
        n += 1;
        let e = w.event(
            &format!("lease-{n}"),
            "Desktop Start Requested",
            0,
            json!({"workspaceId": ws, "occurredAt": w.now(), "leaseMinutes": 240}),
        );
        process(&e, &w.deps).await.unwrap();
    }
    let start = w.now();
    let timeout = chrono::Duration::minutes(60);
    let mut stopped_at: BTreeMap<String, chrono::DateTime<chrono::Utc>> = BTreeMap::new();
    for _ in 0..(180.0 / INTERVAL_MIN) as usize {
        w.advance_minutes(INTERVAL_MIN);
        for ws in live {
            beat(&w, ws, &mut n).await;
        }
        for kind in [SweepKind::Idle, SweepKind::Guard] {
            match sweep(&w, 0, kind).await {
                TenantOutcome::Swept(s) => {
                    for a in s.actions.iter().filter(|a| a.action == "stop") {
                        assert!(
                            stopped_at.insert(a.workspace.clone(), a.time).is_none(),
                            "stopped twice: {a:?}"
                        );
                    }
                }
                TenantOutcome::Failed { error, message, .. } => panic!("{error}: {message}"),
            }
        }
        for ws in live.iter().chain(leased) {
            assert_eq!(
                w.state(0, ws),
                "AVAILABLE",
                "{ws} with a live session or lease was touched"
            );
        }
    }
    // Every idle desktop stopped, at the first sweep after its timeout (dated at `start` −
    // at most one interval, so due at start + 60 min at the latest).
    let idle_set: BTreeSet<String> = idle.iter().cloned().collect();
    assert_eq!(
        stopped_at.keys().cloned().collect::<BTreeSet<_>>(),
        idle_set
    );
    for (ws, at) in &stopped_at {
        assert!(
            *at <= start + timeout + chrono::Duration::minutes(INTERVAL_MIN as i64),
            "{ws} stopped late at {at}"
        );
        assert!(
            *at >= start + timeout - chrono::Duration::minutes(INTERVAL_MIN as i64),
            "{ws} stopped early at {at}"
        );
        assert!(matches!(w.state(0, ws).as_str(), "STOPPED" | "STOPPING"));
    }
    // Unregistered desktops: never named in a call, still AVAILABLE although idle.
    for ws in &ids[10..] {
        assert_eq!(w.state(0, ws), "AVAILABLE");
    }
    // Usage: each stopped desktop has its AVAILABLE time, ended exactly at the stop.
    let usage = w
        .deps
        .store
        .list_usage(&w.tenants[0].tenant_id, &Month::of(w.now()))
        .await
        .unwrap();
    for u in usage
        .iter()
        .filter(|u| idle_set.contains(u.workspace_id.as_str()))
    {
        assert!(
            (3600..=3600 + 2 * 300).contains(&u.available_seconds),
            "{u:?}"
        );
        assert!(u.uncertainty_seconds <= 300, "{u:?}");
    }
    assert_eq!(
        usage
            .iter()
            .filter(|u| idle_set.contains(u.workspace_id.as_str()))
            .count(),
        4
    );
    // Audit: one successful stop record per idle desktop, by the idle sweep.
    let audit = w.audit(&w.tenants[0].tenant_id).await;
    let stops: Vec<_> = audit.iter().filter(|r| r.action == "stop").collect();
    assert_eq!(stops.len(), 4);
    assert!(
        stops
            .iter()
            .all(|r| r.actor == Actor::IdleSweep && r.outcome == AuditOutcome::Succeeded)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_records_would_stop_and_calls_nothing() {
    let w = world(1, 3, 3).await;
    let mut t = w.tenant(0).await;
    t.policy.dry_run = true;
    w.deps.store.update_tenant(&t).await.unwrap();
    sweep(&w, 0, SweepKind::Idle).await;
    w.advance_minutes(90.0);
    let TenantOutcome::Swept(s) = sweep(&w, 0, SweepKind::Idle).await else {
        panic!()
    };
    assert_eq!((s.would_stop, s.stopped), (3, 0));
    assert_eq!(w.calls(0, "WorkSpaces.StopWorkspaces"), 0);
    let audit = w.audit(&w.tenants[0].tenant_id).await;
    assert_eq!(
        audit
            .iter()
            .filter(|r| r.action == "would_stop" && r.outcome == AuditOutcome::DryRun)
            .count(),
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_warns_once_stops_before_the_service_and_reconciles_its_forced_stop() {
    // Tenant 0: hard-limit action STOP. Tenant 1: WARN_ONLY (the service's own stop happens).
    let w = world(2, 3, 3).await;
    unlimited(&w);
    let mut t1 = w.tenant(1).await;
    t1.policy.guard_hard_limit_action = steward_shared::model::GuardHardLimitAction::WarnOnly;
    t1.policy.idle_timeout_minutes = 24 * 60;
    w.deps.store.update_tenant(&t1).await.unwrap();
    let mut t0 = w.tenant(0).await;
    t0.policy.idle_timeout_minutes = 24 * 60;
    w.deps.store.update_tenant(&t0).await.unwrap();
    for i in 0..2 {
        sweep(&w, i, SweepKind::Guard).await;
    }
    // Desktop 0 of each tenant is busy for 48 h (a lease), desktop 1 idle: the idle sweep is
    // not run, so only the guard acts.
    for i in 0..2 {
        let ids = power_common::registered_ids(&w.emu, &w.accounts[i]);
        let e = w.event(
            &format!("lease-{i}"),
            "Desktop Start Requested",
            i,
            json!({"workspaceId": ids[0], "occurredAt": w.now(), "leaseMinutes": 48 * 60}),
        );
        process(&e, &w.deps).await.unwrap();
    }
    let mut warnings = [0, 0];
    let mut guard_stops = [Vec::new(), Vec::new()];
    let mut drift = Vec::new();
    for _ in 0..(49 * 4) {
        w.advance_minutes(15.0);
        for (i, (warned, stops)) in warnings.iter_mut().zip(guard_stops.iter_mut()).enumerate() {
            let TenantOutcome::Swept(s) = sweep(&w, i, SweepKind::Guard).await else {
                panic!()
            };
            *warned += s.warned;
            for a in s.actions {
                match a.action.as_str() {
                    "stop" | "hard_limit_stop" => stops.push((a.workspace, a.action, a.time)),
                    "drift" if i == 1 => drift.push(a.reason),
                    _ => {}
                }
            }
        }
    }
    let ids0 = power_common::registered_ids(&w.emu, &w.accounts[0]);
    let ids1 = power_common::registered_ids(&w.emu, &w.accounts[1]);
    assert_eq!(warnings, [1, 1], "one warning per AVAILABLE period");
    // Tenant 0: idle desktops stopped by the guard at 46 h; the busy one at the 47.5 h limit.
    let hard: Vec<_> = guard_stops[0]
        .iter()
        .filter(|s| s.1 == "hard_limit_stop")
        .collect();
    assert_eq!(hard.len(), 1);
    assert_eq!(hard[0].0, ids0[0]);
    assert_eq!(guard_stops[0].iter().filter(|s| s.1 == "stop").count(), 2);
    // Tenant 1: busy desktop left to the service's forced stop, seen as drift.
    assert!(guard_stops[1].iter().all(|s| s.0 != ids1[0]));
    assert!(drift.iter().any(|d| d.contains("forced-stop")), "{drift:?}");
    assert_eq!(w.record(1, &ids1[0]).await.state, WorkspaceState::Stopped);
    assert!(w.record(1, &ids1[0]).await.available_since.is_none());
    // The forced stop's AVAILABLE period is in the ledger, with its uncertainty stated.
    let usage = w
        .deps
        .store
        .list_usage(&w.tenants[1].tenant_id, &Month::of(w.now()))
        .await
        .unwrap();
    let busy = usage
        .iter()
        .find(|u| u.workspace_id.as_str() == ids1[0])
        .expect("usage of the forced-stop desktop");
    assert!(busy.available_seconds >= 48 * 3600 - 900, "{busy:?}");
    assert!(busy.uncertainty_seconds > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_throttling_and_a_denying_tenant_do_not_stop_the_others() {
    // 4 tenants × 30 desktops, every one idle. Tenant 3's record carries a wrong ExternalId:
    // its role refuses Steward (AccessDenied).
    let w = world(4, 30, 30).await;
    let mut denied = w.tenant(3).await;
    wrong_external_id(&mut denied);
    w.deps.store.update_tenant(&denied).await.unwrap();
    for i in 0..4 {
        sweep(&w, i, SweepKind::Idle).await;
    }
    w.advance_minutes(90.0);
    w.emu.control().inject_fault(FaultRule {
        operation: "WorkSpaces.*".into(),
        effect: FaultEffect::Error,
        error_code: "ThrottlingException".into(),
        message: "Rate exceeded".into(),
        http_status: 400,
        probability: Some(0.3),
        ..serde_json::from_value(json!({})).unwrap()
    });
    w.emu.control().inject_fault(FaultRule {
        operation: "WorkSpaces.StopWorkspaces".into(),
        effect: FaultEffect::Error,
        error_code: "InternalServerException".into(),
        message: "Injected".into(),
        http_status: 500,
        probability: Some(0.3),
        ..serde_json::from_value(json!({})).unwrap()
    });
    let mut tenants = Vec::new();
    for i in 0..4 {
        tenants.push(w.tenant(i).await);
    }
    let mut stopped: BTreeMap<String, usize> = BTreeMap::new();
    for _round in 0..2 {
        let outcomes = sweep_tenants(&w.deps, &tenants, SweepKind::Idle, &options(), 4).await;
        assert_eq!(outcomes.len(), 4);
        for o in outcomes {
            match o {
                TenantOutcome::Swept(s) => {
                    for a in s
                        .actions
                        .iter()
                        .filter(|a| a.action == "stop" && !a.reason.contains("refused"))
                    {
                        *stopped.entry(a.workspace.clone()).or_default() += 1;
                    }
                }
                TenantOutcome::Failed {
                    tenant_id, error, ..
                } => {
                    assert_eq!(tenant_id, tenants[3].tenant_id.to_string());
                    assert_eq!(error, "Steward.AccessDenied");
                }
            }
        }
        w.advance_minutes(INTERVAL_MIN);
    }
    w.emu.control().clear_faults();
    // Every desktop of the healthy tenants stopped exactly once; the denied tenant's none.
    for i in 0..3 {
        for ws in power_common::registered_ids(&w.emu, &w.accounts[i]) {
            assert_eq!(stopped.get(&ws), Some(&1), "{ws} of tenant {i}");
            assert!(
                matches!(w.state(i, &ws).as_str(), "STOPPED" | "STOPPING"),
                "{ws}"
            );
        }
    }
    for ws in power_common::registered_ids(&w.emu, &w.accounts[3]) {
        assert_eq!(w.state(3, &ws), "AVAILABLE");
    }
    // The denied tenant's failure is recorded.
    let audit = w.audit(&w.tenants[3].tenant_id).await;
    assert!(audit.iter().any(|r| r.action == "sweep"
        && matches!(&r.outcome, AuditOutcome::Failed { error } if error.name == "Steward.AccessDenied")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_state_machine_from_template_yaml_fans_out_and_survives_a_failing_tenant() {
    use std::sync::Arc;
    use stepfunctions_runner::{
        ExecutionClock, ExecutionResult, FnInvoker, Runner, StateMachine, TaskFailure, TaskRequest,
        definition_from_sam_template_file,
    };
    use steward_local::wiring::local_deps;
    use steward_shared::clock::SharedClock;
    use steward_shared::store::DynamoStore;

    let w = world(3, 4, 4).await;
    let mut denied = w.tenant(2).await;
    wrong_external_id(&mut denied);
    w.deps.store.update_tenant(&denied).await.unwrap();
    for i in 0..3 {
        sweep(&w, i, SweepKind::Idle).await;
    }
    w.advance_minutes(90.0);

    let control = w.emu.control().clone();
    let clock: SharedClock = Arc::new(move || control.now());
    let store = DynamoStore::new(w.deps.store.client().clone(), w.deps.store.table());
    let deps = Arc::new(
        local_deps(store, &w.emu.endpoint_url(), &w.sink.url, clock)
            .await
            .unwrap(),
    );
    let names = [
        "power.list_tenants",
        "power.sweep_tenant",
        "power.sweep_report",
    ];
    let subs = [
        ("ListTenantsFunctionArn", names[0]),
        ("SweepTenantFunctionArn", names[1]),
        ("SweepReportFunctionArn", names[2]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let template = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml"));
    let def = definition_from_sam_template_file(template, "PowerSweepStateMachine", &subs).unwrap();
    let machine = StateMachine::from_definition(&def).unwrap();
    let mut invoker = FnInvoker::new();
    for name in names {
        let d = deps.clone();
        invoker = invoker.handler(name, move |r: TaskRequest| {
            let d = d.clone();
            async move {
                steward_functions::dispatch(name, r.input, &d)
                    .await
                    .map_err(|e| TaskFailure::new(e.name(), e.to_string()))
            }
        });
    }
    let invoker = Arc::new(invoker);
    let runner = Runner::new(
        machine,
        Arc::new(ExecutionClock::new(w.now())),
        invoker.clone(),
    );
    let exec = runner.start("idle-sweep-1", json!({"kind": "IDLE"}));
    match exec.result().await {
        ExecutionResult::Succeeded { output } => {
            assert_eq!(output["overrun"], false);
            assert_eq!(output["kind"], "IDLE");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(invoker.calls_to("power.sweep_tenant"), 3);
    for i in 0..2 {
        for ws in power_common::registered_ids(&w.emu, &w.accounts[i]) {
            assert!(
                matches!(w.state(i, &ws).as_str(), "STOPPED" | "STOPPING"),
                "{ws}"
            );
        }
    }
    for ws in power_common::registered_ids(&w.emu, &w.accounts[2]) {
        assert_eq!(w.state(2, &ws), "AVAILABLE");
    }
}

/// Gives a tenant's record an ExternalId its role refuses.
fn wrong_external_id(t: &mut Tenant) {
    if let Connection::AssumeRole { external_id, .. } = &mut t.connection {
        *external_id = ExternalId::parse("not-the-right-external-id").unwrap();
    }
}
