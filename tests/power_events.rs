//! `power.partner_events` on the emulator and dynoxide: idempotent and order-tolerant
//! processing, a start on STOPPED and a lease on AVAILABLE, and a corpus of malformed or
//! hostile events each rejected by name and kept.

mod power_common;

use power_common::{World, world};
use serde_json::{Value, json};
use steward_functions::dispatch;
use steward_functions::power::SweepKind;
use steward_functions::power::fanout::sweep_one;
use steward_functions::power::partner_events::process;
use steward_functions::power::sweep::SweepOptions;
use steward_functions::record::REJECTIONS_TENANT;
use steward_shared::ids::TenantId;
use steward_shared::model::{AuditOutcome, TenantStatus, WorkspaceState};
use steward_shared::store::TenantStore;
use steward_tests::shuffle;

/// Stops desktop `ws` through a stop request and lets the guard sweep see it STOPPED.
async fn stop_first(w: &World, ws: &str) {
    let e = w.event(
        "setup-stop",
        "Desktop Stop Requested",
        0,
        json!({"workspaceId": ws, "occurredAt": w.now()}),
    );
    process(&e, &w.deps).await.unwrap();
    w.advance_minutes(3.0);
    let t = w.tenant(0).await;
    sweep_one(&w.deps, &t, SweepKind::Guard, &SweepOptions::default()).await;
    assert_eq!(w.record(0, ws).await.state, WorkspaceState::Stopped);
}

/// The events of a morning on four desktops, with their times fixed relative to `w`'s clock.
fn morning(w: &World, ids: &[String], t0: chrono::DateTime<chrono::Utc>) -> Vec<Value> {
    // Times from `t0` on; the caller moves the clock an hour on before delivering them.
    let at = |m: i64| t0 + chrono::Duration::minutes(m);
    let mut v = Vec::new();
    let mut n = 0;
    let mut push = |dt: &str, detail: Value| {
        n += 1;
        v.push(w.event(&format!("ev-{n}"), dt, 0, detail));
    };
    for (k, ws) in ids.iter().take(3).enumerate() {
        let s = format!("sess-{k}");
        push(
            "Session Started",
            json!({"workspaceId": ws, "sessionId": s, "occurredAt": at(1)}),
        );
        for m in [5, 10, 15, 20] {
            push(
                "Session Heartbeat",
                json!({"workspaceId": ws, "sessionId": s, "occurredAt": at(m)}),
            );
        }
        if k != 0 {
            push(
                "Session Ended",
                json!({"workspaceId": ws, "sessionId": s, "occurredAt": at(25)}),
            );
        }
    }
    // Desktop 3 is STOPPED: started with a lease. Desktop 2 is AVAILABLE: a lease only.
    push(
        "Desktop Start Requested",
        json!({"workspaceId": ids[3], "occurredAt": at(30), "leaseMinutes": 90}),
    );
    push(
        "Desktop Start Requested",
        json!({"workspaceId": ids[2], "occurredAt": at(31), "leaseMinutes": 45}),
    );
    push(
        "Desktop Stop Requested",
        json!({"workspaceId": ids[1], "occurredAt": at(40), "reason": "user logged off"}),
    );
    push(
        "Tenant Policy Updated",
        json!({"occurredAt": at(41), "policy": {"idleTimeoutMinutes": 30, "dryRun": false}}),
    );
    v
}

/// What must be the same after any delivery order.
async fn final_state(w: &World, ids: &[String]) -> Vec<Value> {
    let mut out = Vec::new();
    for id in ids {
        let r = w.record(0, id).await;
        out.push(json!({
            "state": r.state, "sessions": r.sessions, "ended": r.ended_sessions,
            "activity": r.last_activity_at, "lease": r.lease_until,
            "request": r.last_power_request_at, "call": r.last_call.as_ref().map(|c| c.action),
            "emulator": w.state(0, id),
        }));
    }
    out.push(json!(w.tenant(0).await.policy));
    for op in ["WorkSpaces.StartWorkspaces", "WorkSpaces.StopWorkspaces"] {
        out.push(json!({ op: w.calls(0, op) }));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_three_times_in_shuffled_order_the_same_state_and_no_extra_call() {
    let once = world(1, 4, 4).await;
    let thrice = world(1, 4, 4).await;
    // Each emulator names its desktops itself: the same position in each registry.
    let ids = power_common::registered_ids(&once.emu, &once.accounts[0]);
    let ids3 = power_common::registered_ids(&thrice.emu, &thrice.accounts[0]);
    stop_first(&once, &ids[3]).await;
    stop_first(&thrice, &ids3[3]).await;
    // One time base for both worlds (their clocks started a moment apart).
    let t0 = once.now().max(thrice.now());
    let events = morning(&once, &ids, t0);
    once.advance_minutes(60.0);
    for e in &events {
        let out = process(e, &once.deps).await.unwrap();
        // At most one conditional write of the record the event is about (issue 5).
        assert!(out.writes <= 1, "{out:?}");
    }
    let mut replay: Vec<Value> = morning(&thrice, &ids3, t0)
        .into_iter()
        .flat_map(|e| [e.clone(), e.clone(), e])
        .collect();
    thrice.advance_minutes(60.0);
    shuffle(&mut replay, 0x5eed_1234_abcd);
    let mut writes = 0;
    for e in &replay {
        let out = process(e, &thrice.deps).await.unwrap();
        assert!(out.writes <= 1, "{out:?}");
        writes += out.writes;
    }
    // Redeliveries write nothing: three deliveries of each event write no more than one
    // delivery of each could.
    assert!(
        writes <= events.len(),
        "{writes} writes for {} events",
        events.len()
    );
    let a = final_state(&once, &ids).await;
    let b = final_state(&thrice, &ids3).await;
    let ids = ids3;
    assert_eq!(a, b);
    // The requests did what they say: a start on STOPPED, a lease on AVAILABLE, a stop.
    assert_eq!(thrice.state(0, &ids[3]), "STARTING");
    assert_eq!(
        thrice.record(0, &ids[2]).await.state,
        WorkspaceState::Available
    );
    assert!(thrice.record(0, &ids[2]).await.lease_until.is_some());
    assert_eq!(thrice.state(0, &ids[1]), "STOPPING");
    // One StartWorkspaces (desktop 3) and two StopWorkspaces (setup + desktop 1) in each.
    assert_eq!(thrice.calls(0, "WorkSpaces.StartWorkspaces"), 1);
    assert_eq!(thrice.calls(0, "WorkSpaces.StopWorkspaces"), 2);
    // Session 0 is live, sessions 1 and 2 ended, whatever the order.
    let r0 = thrice.record(0, &ids[0]).await;
    assert_eq!(r0.sessions.len(), 1);
    assert_eq!(thrice.record(0, &ids[2]).await.ended_sessions.len(), 1);
    // One audit record per action, not per delivery.
    let audit = thrice.audit(&thrice.tenants[0].tenant_id).await;
    let starts = audit.iter().filter(|r| r.action == "start").count();
    assert_eq!(starts, 1, "{audit:#?}");
    let policies = audit.iter().filter(|r| r.action == "policy_update").count();
    assert_eq!(policies, 1);
    assert!(
        thrice
            .sink
            .received
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 4
    );
}

/// A corpus of malformed or hostile events: (event, expected reason).
fn corpus(w: &World, foreign_ws: &str, inactive: &str) -> Vec<(Value, &'static str)> {
    let ws = power_common::registered_ids(&w.emu, &w.accounts[0])[0].clone();
    let now = w.now();
    let ok_session = json!({"workspaceId": ws, "sessionId": "s1", "occurredAt": now});
    let mut c: Vec<(Value, &'static str)> = Vec::new();
    let mut n = 0;
    let mut id = || {
        n += 1;
        format!("bad-{n}")
    };
    // Envelopes that are not EventBridge events.
    for v in [
        json!(null),
        json!(1),
        json!("x"),
        json!([]),
        json!({}),
        json!({"id": "x"}),
        json!({"id": 7, "detail-type": "Session Started", "source": "steward.partner", "detail": {}}),
        json!({"detail-type": "Session Started", "source": "steward.partner", "detail": {}}),
        json!({"id": "a1", "source": "steward.partner", "detail": {}}),
        json!({"id": "a2", "detail-type": "Session Started", "detail": {}}),
        json!({"id": "a3", "detail-type": 3, "source": "steward.partner", "detail": {}}),
        json!({"id": "a4", "detail-type": "Session Started", "source": ["steward.partner"], "detail": {}}),
    ] {
        c.push((v, "MalformedEnvelope"));
    }
    // Ids that are not ids.
    for bad in [
        "",
        "white space",
        "<script>",
        &"x".repeat(200),
        "ünïcode",
        "a\nb",
    ] {
        c.push((
            json!({"id": bad, "detail-type": "Session Started", "source": "steward.partner", "detail": ok_session}),
            "InvalidField",
        ));
    }
    // Other sources.
    for src in [
        "aws.workspaces",
        "steward",
        "",
        "steward.partner.evil",
        "STEWARD.PARTNER",
    ] {
        c.push((
            json!({"id": id(), "detail-type": "Session Started", "source": src, "detail": ok_session}),
            "UnknownSource",
        ));
    }
    // Unknown detail types.
    for dt in [
        "Session Paused",
        "session started",
        "",
        "Desktop Terminate Requested",
        "Tenant Deleted",
        "Session Started ",
        "DROP TABLE",
        &"D".repeat(300),
    ] {
        let mut e = w.event(&id(), dt, 0, ok_session.clone());
        e["detail-type"] = json!(dt);
        c.push((e, "UnknownDetailType"));
    }
    // Details that are not objects or miss fields or carry unknown ones.
    let types = [
        "Session Started",
        "Session Heartbeat",
        "Session Ended",
        "Desktop Start Requested",
        "Desktop Stop Requested",
        "Tenant Policy Updated",
    ];
    for dt in types {
        for d in [json!(null), json!([]), json!("s"), json!(5)] {
            let mut e = w.event(&id(), dt, 0, json!({}));
            e["detail"] = d;
            c.push((e, "MalformedDetail"));
        }
        c.push((
            w.event(&id(), dt, 0, json!({"occurredAt": now, "extra": 1})),
            "MalformedDetail",
        ));
        c.push((
            w.event(&id(), dt, 0, json!({"workspaceId": ws})),
            "MalformedDetail",
        ));
    }
    // Fields that fail validation.
    for bad_ws in [
        "ws-",
        "WS-ABCDEF12",
        "ws-abc",
        "i-0123456789abcdef0",
        "ws-abcdef12; rm -rf /",
        "../ws-abcdef12",
    ] {
        c.push((
            w.event(
                &id(),
                "Session Started",
                0,
                json!({"workspaceId": bad_ws, "sessionId": "s", "occurredAt": now}),
            ),
            "MalformedDetail",
        ));
    }
    for bad_tenant in ["A", "UPPER", "-lead", "x".repeat(70).as_str(), "sp ace"] {
        c.push((w.event(&id(), "Session Started", 0,
            json!({"tenantId": bad_tenant, "workspaceId": ws, "sessionId": "s", "occurredAt": now})), "MalformedDetail"));
    }
    for bad_time in [
        json!("yesterday"),
        json!(12345),
        json!("2026-13-01T00:00:00Z"),
        json!(null),
    ] {
        c.push((
            w.event(
                &id(),
                "Session Heartbeat",
                0,
                json!({"workspaceId": ws, "sessionId": "s", "occurredAt": bad_time}),
            ),
            "MalformedDetail",
        ));
    }
    for bad_sid in ["", "has space", "é"] {
        c.push((
            w.event(
                &id(),
                "Session Ended",
                0,
                json!({"workspaceId": ws, "sessionId": bad_sid, "occurredAt": now}),
            ),
            "MalformedDetail",
        ));
    }
    for lease in [0, 48 * 60 + 1, 1_000_000] {
        c.push((
            w.event(
                &id(),
                "Desktop Start Requested",
                0,
                json!({"workspaceId": ws, "occurredAt": now, "leaseMinutes": lease}),
            ),
            "InvalidField",
        ));
    }
    c.push((
        w.event(
            &id(),
            "Desktop Start Requested",
            0,
            json!({"workspaceId": ws, "occurredAt": now, "leaseMinutes": -5}),
        ),
        "MalformedDetail",
    ));
    c.push((
        w.event(
            &id(),
            "Desktop Stop Requested",
            0,
            json!({"workspaceId": ws, "occurredAt": now, "reason": ""}),
        ),
        "InvalidField",
    ));
    c.push((
        w.event(
            &id(),
            "Desktop Stop Requested",
            0,
            json!({"workspaceId": ws, "occurredAt": now, "reason": "r".repeat(300)}),
        ),
        "InvalidField",
    ));
    for policy in [
        json!({}),
        json!({"idleTimeoutMinutes": 1}),
        json!({"idleTimeoutMinutes": 100000}),
        json!({"heartbeatTimeoutMinutes": 0}),
        json!({"serviceForcedStopMinutes": 5}),
        json!({"startGraceMinutes": 9999}),
    ] {
        c.push((
            w.event(
                &id(),
                "Tenant Policy Updated",
                0,
                json!({"occurredAt": now, "policy": policy}),
            ),
            "InvalidField",
        ));
    }
    for policy in [
        json!({"guardHardLimitAction": "EXPLODE"}),
        json!({"dryRun": "yes"}),
        json!({"nope": 1}),
    ] {
        c.push((
            w.event(
                &id(),
                "Tenant Policy Updated",
                0,
                json!({"occurredAt": now, "policy": policy}),
            ),
            "MalformedDetail",
        ));
    }
    // Valid but inconsistent with the tenant's current policy (threshold above hard limit).
    c.push((
        w.event(
            &id(),
            "Tenant Policy Updated",
            0,
            json!({"occurredAt": now, "policy": {"guardThresholdMinutes": 47 * 60 + 45}}),
        ),
        "InvalidField",
    ));
    // From the future.
    for m in [10, 600, 100_000] {
        c.push((w.event(&id(), "Session Heartbeat", 0,
            json!({"workspaceId": ws, "sessionId": "s", "occurredAt": now + chrono::Duration::minutes(m)})), "FromTheFuture"));
    }
    // Unknown tenants, an inactive tenant, desktops the tenant does not own.
    for t in ["nobody", "tenant-404", "t-999999999999"] {
        c.push((
            w.event(
                &id(),
                "Session Started",
                0,
                json!({"tenantId": t, "workspaceId": ws, "sessionId": "s", "occurredAt": now}),
            ),
            "UnknownTenant",
        ));
    }
    c.push((
        w.event(
            &id(),
            "Session Started",
            0,
            json!({"tenantId": inactive, "workspaceId": ws, "sessionId": "s", "occurredAt": now}),
        ),
        "TenantNotActive",
    ));
    for (k, dt) in types.iter().take(5).enumerate() {
        let detail = match k {
            0..=2 => json!({"workspaceId": foreign_ws, "sessionId": "s", "occurredAt": now}),
            _ => json!({"workspaceId": foreign_ws, "occurredAt": now}),
        };
        c.push((w.event(&id(), dt, 0, detail), "NotOwned"));
        // Another tenant's desktop.
        let other = power_common::registered_ids(&w.emu, &w.accounts[1])[0].clone();
        let detail = match k {
            0..=2 => json!({"workspaceId": other, "sessionId": "s", "occurredAt": now}),
            _ => json!({"workspaceId": other, "occurredAt": now}),
        };
        c.push((w.event(&id(), dt, 0, detail), "NotOwned"));
    }
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_corpus_is_rejected_by_name_and_kept() {
    let w = world(2, 6, 5).await;
    // Desktop 6 of tenant 0 exists in the customer account but not in the registry.
    let foreign = power_common::registered_ids(&w.emu, &w.accounts[0])[5].clone();
    let mut inactive = w.tenant(1).await;
    inactive.tenant_id = TenantId::parse("paused-tenant").unwrap();
    inactive.status = TenantStatus::Onboarding;
    inactive.version = 0;
    w.deps.store.create_tenant(&inactive).await.unwrap();

    let corpus = corpus(&w, &foreign, "paused-tenant");
    assert!(corpus.len() >= 100, "only {} events", corpus.len());
    let before_calls = w.emu.control().counters();
    for (event, reason) in &corpus {
        // Through the route, as Lambda calls it.
        let err = dispatch("power.partner_events", event.clone(), &w.deps)
            .await
            .expect_err(&format!("accepted: {event}"));
        assert_eq!(err.name(), "Steward.EventRejected", "{event}");
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("{reason}:")),
            "expected {reason}, got {msg} for {event}"
        );
    }
    // Kept: one rejection record per event, under the tenant or the rejections tenant.
    let mut kept = 0;
    for t in [
        w.tenants[0].tenant_id.clone(),
        TenantId::parse("paused-tenant").unwrap(),
        TenantId::parse(REJECTIONS_TENANT).unwrap(),
    ] {
        let audit = w.audit(&t).await;
        for r in audit.iter().filter(|r| r.action == "reject") {
            assert!(
                matches!(&r.outcome, AuditOutcome::Failed { error } if error.name == "Steward.EventRejected")
            );
            kept += 1;
        }
    }
    assert_eq!(kept, corpus.len());
    // Redelivered (EventBridge retries, Lambda's two async retries): still rejected, not
    // recorded twice.
    for (event, _) in corpus.iter().skip(20).take(10) {
        let again = process(event, &w.deps).await;
        assert!(again.is_err());
    }
    let mut kept_again = 0;
    for t in [
        w.tenants[0].tenant_id.clone(),
        TenantId::parse("paused-tenant").unwrap(),
        TenantId::parse(REJECTIONS_TENANT).unwrap(),
    ] {
        kept_again += w
            .audit(&t)
            .await
            .iter()
            .filter(|r| r.action == "reject")
            .count();
    }
    // Events without a usable id cannot be de-duplicated and are recorded per delivery.
    let unidentified = corpus
        .iter()
        .skip(20)
        .take(10)
        .filter(|(e, _)| {
            e.get("id")
                .and_then(Value::as_str)
                .and_then(|i| steward_shared::ids::OpaqueId::parse(format!("rejected:{i}")).ok())
                .is_none()
        })
        .count();
    assert_eq!(kept_again, corpus.len() + unidentified);
    // Nothing reached WorkSpaces, nothing in the registry changed.
    let after_calls = w.emu.control().counters();
    let power_calls = |c: &std::collections::BTreeMap<
        String,
        std::collections::BTreeMap<String, workspaces_core_emulator::limits::Count>,
    >| {
        c.values()
            .flat_map(|ops| ops.iter())
            .filter(|(op, _)| op.contains("StartWorkspaces") || op.contains("StopWorkspaces"))
            .map(|(_, n)| n.calls)
            .sum::<u64>()
    };
    assert_eq!(power_calls(&before_calls), power_calls(&after_calls));
    for r in w.records(0).await {
        assert!(r.sessions.is_empty() && r.last_power_request_at.is_none());
    }
    assert_eq!(
        w.tenant(0).await.policy,
        steward_shared::model::PowerPolicy::default()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sample_events_are_the_handlers_input() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../events/power");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        match name.split('.').next().unwrap_or_default() {
            "partner-event" => {
                steward_shared::events::PartnerEvent::parse(
                    &v,
                    "steward.partner",
                    chrono::Utc::now(),
                )
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            }
            "list-tenants" => {
                serde_json::from_value::<steward_functions::power::fanout::ListInput>(v).unwrap();
            }
            "sweep-tenant" => {
                serde_json::from_value::<steward_functions::power::fanout::SweepTenantInput>(v)
                    .unwrap();
            }
            "sweep-report" => {
                serde_json::from_value::<steward_functions::power::fanout::ReportInput>(v).unwrap();
            }
            "usage" => {
                serde_json::from_value::<steward_functions::power::usage::UsageInput>(v).unwrap();
            }
            other => panic!("{name}: no handler input named {other}"),
        }
        seen += 1;
    }
    assert!(seen >= 4);
}
