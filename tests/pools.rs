//! Pools, users and release plans on the emulator and dynoxide, through
//! `power.partner_events` and the idle sweep, as a partner backend drives them: a floating
//! pool under a rush of users, concurrent requests for the last desktop, a dedicated user, a
//! REBUILD release plan with a reconnect, and the whole event log replayed.

mod power_common;

use std::collections::{BTreeMap, BTreeSet};

use power_common::{World, assert_follows_schema, world};
use serde_json::{Value, json};
use steward_functions::power::SweepKind;
use steward_functions::power::fanout::sweep_one;
use steward_functions::power::partner_events::{EventOutcome, Processed, process};
use steward_functions::power::sweep::SweepOptions;
use steward_shared::ids::{PoolId, UserId};
use steward_shared::model::{PoolRecord, WorkspaceRecord};
use steward_shared::store::{PoolStore, UserStore};
use steward_tests::shuffle;

const POOL: &str = "call-centre";

/// A world of one tenant with the bulk seed's directory and BYOP bundle and no desktops,
/// the emulator's rate limit off (the rush is about Steward, not the throttle).
async fn pool_world() -> World {
    let w = world(1, 0, 0).await;
    w.emu
        .control()
        .update_options(|o| o.rate_limit.enabled = false);
    w
}

/// Delivers one partner event; a rejection fails the test.
async fn send(w: &World, id: &str, detail_type: &str, detail: Value) -> Processed {
    let e = w.event(id, detail_type, 0, detail);
    process(&e, &w.deps)
        .await
        .unwrap_or_else(|err| panic!("{detail_type} {id}: {err}"))
}

fn pool_created(w: &World, min: u32, max: u32, assignment: &str, release: Value) -> Value {
    json!({
        "poolId": POOL,
        "occurredAt": w.now(),
        "directoryId": w.accounts[0].directory_id,
        "bundleId": w.accounts[0].bundle_id,
        "protocol": "BYOP",
        "minSize": min,
        "maxSize": max,
        "growBy": 10,
        "cooldownMinutes": 30,
        "assignment": assignment,
        "releasePlan": release,
    })
}

fn users(w: &World, n: usize) -> Value {
    let list: Vec<Value> = (0..n)
        .map(|i| json!({"userId": format!("user-{i:03}"), "displayName": format!("User {i}"), "pools": [POOL]}))
        .collect();
    json!({"occurredAt": w.now(), "users": list})
}

fn request(w: &World, user: &str) -> Value {
    json!({"poolId": POOL, "userId": user, "occurredAt": w.now()})
}

async fn idle_sweep(w: &World) {
    let t = w.tenant(0).await;
    sweep_one(&w.deps, &t, SweepKind::Idle, &SweepOptions::default()).await;
}

async fn pool(w: &World) -> PoolRecord {
    w.deps
        .store
        .get_pool(&w.tenants[0].tenant_id, &PoolId::parse(POOL).unwrap())
        .await
        .unwrap()
        .expect("the pool exists")
}

async fn pool_desktops(w: &World) -> Vec<WorkspaceRecord> {
    w.records(0)
        .await
        .into_iter()
        .filter(|r| r.pool.is_some())
        .collect()
}

/// Who holds which desktop.
async fn holders(w: &World) -> BTreeMap<String, String> {
    pool_desktops(w)
        .await
        .into_iter()
        .filter_map(|r| {
            let user = r.pool.as_ref()?.assigned_to.as_ref()?.to_string();
            Some((user, r.workspace_id.to_string()))
        })
        .collect()
}

/// The captured outbound events of `detail_type`, as their details.
fn outbound(w: &World, detail_type: &str) -> Vec<Value> {
    w.sink
        .captured()
        .into_iter()
        .filter(|e| e["DetailType"] == detail_type)
        .map(|e| e["Detail"].clone())
        .collect()
}

/// Every event Steward published follows its schema.
fn every_event_follows_its_schema(w: &World) {
    let captured = w.sink.captured();
    assert!(!captured.is_empty());
    for e in &captured {
        assert_follows_schema(e);
    }
}

/// Creates the pool and lets its desktops come up (the emulator creates in 20 minutes).
async fn pool_up(w: &World, min: u32, max: u32, assignment: &str, release: Value) {
    let p = send(
        w,
        "pool-1",
        "Pool Created",
        pool_created(w, min, max, assignment, release),
    )
    .await;
    assert_eq!(p.result, EventOutcome::PoolChanged);
    w.advance_minutes(21.0);
    idle_sweep(w).await;
    let states: BTreeSet<&str> = pool_desktops(w)
        .await
        .iter()
        .map(|r| r.state.as_str())
        .collect();
    assert_eq!(states, BTreeSet::from(["AVAILABLE"]));
}

#[tokio::test]
async fn two_hundred_floating_users_on_a_pool_of_fifty_growing_to_sixty() {
    let w = pool_world().await;
    pool_up(&w, 50, 60, "FLOATING", json!({"action": "RETURN"})).await;
    assert_eq!(pool_desktops(&w).await.len(), 50);
    assert_eq!(
        w.calls(0, "WorkSpaces.CreateWorkspaces"),
        2,
        "50 desktops in 2 calls of 25"
    );
    let loaded = send(&w, "users-1", "Users Loaded", users(&w, 200)).await;
    assert_eq!(
        (loaded.result, loaded.writes),
        (EventOutcome::UsersChanged, 200)
    );

    // 200 requests within 10 minutes of virtual time (one every 3 s).
    let mut results = BTreeMap::new();
    for i in 0..200 {
        let user = format!("user-{i:03}");
        let p = send(
            &w,
            &format!("req-{i}"),
            "Desktop Assignment Requested",
            request(&w, &user),
        )
        .await;
        *results.entry(format!("{:?}", p.result)).or_insert(0) += 1;
        w.advance_minutes(0.05);
    }
    assert_eq!(
        results,
        BTreeMap::from([
            ("Assigned".to_string(), 60),
            ("AssignmentFailed".to_string(), 140)
        ])
    );
    // Every request answered, each exactly once.
    let assigned = outbound(&w, "Desktop Assigned");
    let failed = outbound(&w, "Desktop Assignment Failed");
    assert_eq!((assigned.len(), failed.len()), (60, 140));
    let answered: BTreeSet<&str> = assigned
        .iter()
        .chain(&failed)
        .map(|d| d["requestId"].as_str().unwrap())
        .collect();
    assert_eq!(answered.len(), 200);
    assert!(failed.iter().all(|d| d["failure"] == "POOL_EXHAUSTED"));
    // The first 50 got AVAILABLE desktops, the next 10 desktops being created.
    let by_state = assigned.iter().fold(BTreeMap::new(), |mut m, d| {
        *m.entry(d["state"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
        m
    });
    assert_eq!(
        by_state,
        BTreeMap::from([("AVAILABLE".into(), 50), ("PENDING".into(), 10)])
    );
    // No desktop assigned twice; the pool at its maximum and not beyond, grown in one call.
    let held = holders(&w).await;
    assert_eq!(held.len(), 60);
    assert_eq!(held.values().collect::<BTreeSet<_>>().len(), 60);
    assert_eq!(pool(&w).await.desktops, 60);
    assert_eq!(pool_desktops(&w).await.len(), 60);
    assert_eq!(
        w.calls(0, "WorkSpaces.CreateWorkspaces"),
        3,
        "the growth of 10 took one call"
    );
    assert_eq!(
        w.emu
            .control()
            .workspace_ids(&w.accounts[0].account_id, "us-east-1")
            .len(),
        60
    );

    // A user who already holds a desktop asks again: the same desktop, nothing written.
    let again = send(
        &w,
        "req-again",
        "Desktop Assignment Requested",
        request(&w, "user-000"),
    )
    .await;
    assert_eq!((again.result, again.writes), (EventOutcome::Assigned, 1));
    assert_eq!(holders(&w).await, held);
    every_event_follows_its_schema(&w);
}

#[tokio::test]
async fn concurrent_requests_for_the_last_free_desktop_have_exactly_one_winner() {
    let w = pool_world().await;
    pool_up(&w, 3, 3, "FLOATING", json!({"action": "RETURN"})).await;
    send(&w, "users-1", "Users Loaded", users(&w, 12)).await;
    for i in 0..2 {
        send(
            &w,
            &format!("req-{i}"),
            "Desktop Assignment Requested",
            request(&w, &format!("user-{i:03}")),
        )
        .await;
    }
    // Ten users at once for the one desktop left, each request delivered twice.
    let events: Vec<Value> = (2..12)
        .flat_map(|i| {
            let e = w.event(
                &format!("req-{i}"),
                "Desktop Assignment Requested",
                0,
                request(&w, &format!("user-{i:03}")),
            );
            [e.clone(), e]
        })
        .collect();
    let outcomes = futures::future::join_all(events.iter().map(|e| process(e, &w.deps))).await;
    let mut results: BTreeMap<String, usize> = BTreeMap::new();
    for o in outcomes {
        *results
            .entry(format!("{:?}", o.unwrap().result))
            .or_default() += 1;
    }
    assert_eq!(
        results,
        BTreeMap::from([
            ("Assigned".into(), 1),
            ("AssignmentFailed".into(), 9),
            ("Unchanged".into(), 10),
        ])
    );
    assert_eq!(holders(&w).await.len(), 3);
    assert_eq!(outbound(&w, "Desktop Assigned").len(), 3);
}

#[tokio::test]
async fn a_dedicated_user_always_gets_the_same_desktop_back() {
    let w = pool_world().await;
    pool_up(&w, 2, 4, "DEDICATED", json!({"action": "KEEP"})).await;
    send(&w, "users-1", "Users Loaded", users(&w, 2)).await;
    send(
        &w,
        "req-1",
        "Desktop Assignment Requested",
        request(&w, "user-000"),
    )
    .await;
    let first = holders(&w).await["user-000"].clone();
    // Sessions come and go, the desktop is stopped overnight and started again.
    for day in 0..3 {
        let s =
            json!({"workspaceId": first, "sessionId": format!("s-{day}"), "occurredAt": w.now()});
        send(&w, &format!("start-{day}"), "Session Started", s.clone()).await;
        w.advance_minutes(60.0);
        let mut end = s.clone();
        end["occurredAt"] = json!(w.now());
        send(&w, &format!("end-{day}"), "Session Ended", end).await;
        let stop = json!({"workspaceId": first, "occurredAt": w.now()});
        send(&w, &format!("stop-{day}"), "Desktop Stop Requested", stop).await;
        w.advance_minutes(600.0);
        idle_sweep(&w).await;
        assert_eq!(w.state(0, &first), "STOPPED");
        let p = send(
            &w,
            &format!("req-{day}-b"),
            "Desktop Assignment Requested",
            request(&w, "user-000"),
        )
        .await;
        assert_eq!((p.result, p.writes), (EventOutcome::Assigned, 2));
        assert_eq!(holders(&w).await["user-000"], first, "day {day}");
        // Held, and started again for the day.
        let answer = outbound(&w, "Desktop Assigned").pop().unwrap();
        assert_eq!(
            (answer["state"].as_str(), answer["again"].as_bool()),
            (Some("STARTING"), Some(true))
        );
        assert_eq!(w.calls(0, "WorkSpaces.StartWorkspaces"), day + 1);
        w.advance_minutes(5.0);
        idle_sweep(&w).await;
        assert_eq!(w.state(0, &first), "AVAILABLE");
    }
    let answers = outbound(&w, "Desktop Assigned");
    assert!(answers.iter().all(|d| d["workspaceId"] == first.as_str()));
    assert_eq!(
        outbound(&w, "Desktop Released").len(),
        0,
        "KEEP releases nothing"
    );
}

#[tokio::test]
async fn a_rebuild_plan_rebuilds_before_reuse_and_a_reconnect_within_the_delay_gets_the_same_desktop()
 {
    let w = pool_world().await;
    pool_up(
        &w,
        1,
        1,
        "FLOATING",
        json!({"action": "REBUILD", "delayMinutes": 15}),
    )
    .await;
    send(&w, "users-1", "Users Loaded", users(&w, 2)).await;
    send(
        &w,
        "req-1",
        "Desktop Assignment Requested",
        request(&w, "user-000"),
    )
    .await;
    let desk = holders(&w).await["user-000"].clone();
    let session = |id: &str| json!({"workspaceId": desk, "sessionId": id, "occurredAt": w.now()});
    send(&w, "s1", "Session Started", session("s-1")).await;
    w.advance_minutes(30.0);
    send(&w, "e1", "Session Ended", session("s-1")).await;
    // Within the delay: the desktop is nobody's, another user cannot have it, the same
    // user reconnects and gets it back without a rebuild.
    w.advance_minutes(5.0);
    let other = send(
        &w,
        "req-2",
        "Desktop Assignment Requested",
        request(&w, "user-001"),
    )
    .await;
    assert_eq!(other.result, EventOutcome::AssignmentFailed);
    let back = send(
        &w,
        "req-3",
        "Desktop Assignment Requested",
        request(&w, "user-000"),
    )
    .await;
    assert_eq!(back.result, EventOutcome::Assigned);
    assert_eq!(holders(&w).await["user-000"], desk);
    assert_eq!(w.calls(0, "WorkSpaces.RebuildWorkspaces"), 0);
    // Released again and not reclaimed: after the delay the sweep rebuilds it; it is not
    // free until the rebuild finished.
    send(&w, "s2", "Session Started", session("s-2")).await;
    w.advance_minutes(1.0);
    send(&w, "e2", "Session Ended", session("s-2")).await;
    w.advance_minutes(16.0);
    idle_sweep(&w).await;
    assert_eq!(w.calls(0, "WorkSpaces.RebuildWorkspaces"), 1);
    assert_eq!(w.state(0, &desk), "REBUILDING");
    let during = send(
        &w,
        "req-4",
        "Desktop Assignment Requested",
        request(&w, "user-001"),
    )
    .await;
    assert_eq!(
        during.result,
        EventOutcome::AssignmentFailed,
        "never reused mid-rebuild"
    );
    w.advance_minutes(31.0);
    idle_sweep(&w).await;
    let after = send(
        &w,
        "req-5",
        "Desktop Assignment Requested",
        request(&w, "user-001"),
    )
    .await;
    assert_eq!(after.result, EventOutcome::Assigned);
    assert_eq!(holders(&w).await["user-001"], desk);
    let phases: Vec<String> = outbound(&w, "Desktop Released")
        .iter()
        .map(|d| {
            format!(
                "{} {}",
                d["action"].as_str().unwrap(),
                d["phase"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        phases,
        ["release DELAYED", "release DELAYED", "rebuild ACTING"]
    );
    assert_eq!(outbound(&w, "Desktop Returned").len(), 1);
    let user = w
        .deps
        .store
        .get_user(&w.tenants[0].tenant_id, &UserId::parse("user-001").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.display_name.as_deref(), Some("User 1"));
    every_event_follows_its_schema(&w);
}

/// The state a replay must not change: who holds or is releasing which desktop, the pool's
/// count and configuration, the users.
async fn snapshot(w: &World) -> String {
    let mut seats: Vec<String> = pool_desktops(w)
        .await
        .iter()
        .map(|r| format!("{} {:?} {:?}", r.workspace_id, r.pool, r.state))
        .collect();
    seats.sort();
    let mut p = pool(w).await;
    p.version = 0;
    p.updated_at = p.created_at;
    let users = steward_shared::store::collect_all(|page| {
        w.deps.store.list_users(&w.tenants[0].tenant_id, page)
    })
    .await
    .unwrap();
    format!("{seats:#?}\n{p:?}\n{users:?}")
}

#[tokio::test]
async fn replaying_every_event_three_times_in_shuffled_order_changes_nothing() {
    let w = pool_world().await;
    let mut log: Vec<Value> = Vec::new();
    let mut n = 0;
    let mut deliver = async |w: &World, detail_type: &str, detail: Value| {
        n += 1;
        let e = w.event(&format!("ev-{n}"), detail_type, 0, detail);
        process(&e, &w.deps).await.unwrap();
        log.push(e);
    };
    deliver(
        &w,
        "Pool Created",
        pool_created(
            &w,
            2,
            4,
            "FLOATING",
            json!({"action": "RETURN", "delayMinutes": 5}),
        ),
    )
    .await;
    w.advance_minutes(21.0);
    idle_sweep(&w).await;
    deliver(&w, "Users Loaded", users(&w, 5)).await;
    for u in 0..5 {
        deliver(
            &w,
            "Desktop Assignment Requested",
            request(&w, &format!("user-{u:03}")),
        )
        .await;
    }
    let held = holders(&w).await;
    let a = held["user-000"].clone();
    let b = held["user-001"].clone();
    let sess = |ws: &str, id: &str, w: &World| json!({"workspaceId": ws, "sessionId": id, "occurredAt": w.now()});
    deliver(&w, "Session Started", sess(&a, "s-a", &w)).await;
    w.advance_minutes(10.0);
    deliver(&w, "Session Ended", sess(&a, "s-a", &w)).await;
    deliver(
        &w,
        "Desktop Release Requested",
        json!({"workspaceId": b, "userId": "user-001", "occurredAt": w.now()}),
    )
    .await;
    deliver(
        &w,
        "Pool Updated",
        json!({"poolId": POOL, "occurredAt": w.now(), "maxSize": 5}),
    )
    .await;
    deliver(
        &w,
        "User Removed",
        json!({"userId": "user-004", "occurredAt": w.now()}),
    )
    .await;
    w.advance_minutes(6.0);
    idle_sweep(&w).await;
    let before = snapshot(&w).await;
    let calls_before = w.emu.control().counters();
    let published = w.sink.captured().len();

    let mut replay: Vec<Value> = log
        .iter()
        .flat_map(|e| [e.clone(), e.clone(), e.clone()])
        .collect();
    shuffle(&mut replay, 0x5eed_1234);
    for e in &replay {
        let p = process(e, &w.deps)
            .await
            .expect("a replayed event is not refused");
        assert_eq!(
            (p.result, p.writes),
            (EventOutcome::Unchanged, 0),
            "{}",
            e["detail-type"]
        );
    }
    assert_eq!(snapshot(&w).await, before);
    assert_eq!(
        w.emu.control().counters(),
        calls_before,
        "no call to the service"
    );
    assert_eq!(
        w.sink.captured().len(),
        published,
        "nothing published again"
    );
}

#[tokio::test]
async fn user_events_converge_whatever_their_order() {
    let w = pool_world().await;
    let at = |m: i64| w.now() - chrono::Duration::minutes(m);
    let load = |t, name: &str| json!({"occurredAt": t, "users": [{"userId": "ana", "displayName": name, "pools": [POOL]}]});
    let events = [
        ("Users Loaded", load(at(30), "Ana v1")),
        (
            "User Removed",
            json!({"userId": "ana", "occurredAt": at(20)}),
        ),
        ("Users Loaded", load(at(10), "Ana v2")),
    ];
    // All six orders of the three events; the newest (a load) wins every time.
    let orders = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    for (k, order) in orders.iter().enumerate() {
        let tenant = &w.tenants[0].tenant_id;
        for (j, i) in order.iter().enumerate() {
            let (dt, detail) = &events[*i];
            let mut d = detail.clone();
            if let Some(u) = d.get_mut("users").and_then(Value::as_array_mut) {
                u[0]["userId"] = json!(format!("ana-{k}"));
            } else {
                d["userId"] = json!(format!("ana-{k}"));
            }
            send(&w, &format!("o{k}-{j}"), dt, d).await;
        }
        let user = w
            .deps
            .store
            .get_user(tenant, &UserId::parse(format!("ana-{k}")).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (user.presence, user.display_name.as_deref()),
            (steward_shared::model::Presence::Active, Some("Ana v2")),
            "order {order:?}"
        );
    }
}

/// Delivers an event that must be refused, and returns the rejection's name.
async fn refused(w: &World, id: &str, detail_type: &str, detail: Value) -> String {
    let e = w.event(id, detail_type, 0, detail);
    let err = process(&e, &w.deps).await.expect_err("refused");
    assert_eq!(err.name(), "Steward.EventRejected");
    let msg = err.to_string();
    let after = msg
        .split_once("Steward.EventRejected: ")
        .map_or(msg.as_str(), |(_, m)| m);
    after.split(':').next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn pools_are_checked_changed_shrunk_and_deleted_and_removed_users_let_go() {
    let w = pool_world().await;
    // The protocol plan: the bundle is a BYOP one Steward knows; DCV does not match, and a
    // bundle Steward did not make needs the partner's word.
    let mut dcv = pool_created(&w, 1, 2, "DEDICATED", json!({"action": "KEEP"}));
    dcv["protocol"] = json!("DCV");
    assert_eq!(
        refused(&w, "p-dcv", "Pool Created", dcv).await,
        "ProtocolMismatch"
    );
    let mut floating_keep = pool_created(&w, 1, 2, "FLOATING", json!({"action": "KEEP"}));
    floating_keep["poolId"] = json!("other");
    assert_eq!(
        refused(&w, "p-keep", "Pool Created", floating_keep).await,
        "InvalidField"
    );
    let mut unknown = pool_created(&w, 1, 2, "DEDICATED", json!({"action": "KEEP"}));
    unknown["bundleId"] = json!("wsb-0000000000");
    assert_eq!(
        refused(&w, "p-unverified", "Pool Created", unknown.clone()).await,
        "ProtocolMismatch"
    );
    // With the partner's word for the protocol, the bundle is looked up: not the tenant's.
    unknown["allowUnverifiedProtocol"] = json!(true);
    assert_eq!(
        refused(&w, "p-bundle", "Pool Created", unknown).await,
        "ResourceNotOwned"
    );
    assert_eq!(
        w.calls(0, "WorkSpaces.CreateWorkspaces"),
        0,
        "nothing created when refused"
    );
    let update = json!({"poolId": POOL, "occurredAt": w.now(), "maxSize": 3});
    assert_eq!(
        refused(&w, "p-early", "Pool Updated", update).await,
        "UnknownPool"
    );

    pool_up(&w, 2, 4, "DEDICATED", json!({"action": "KEEP"})).await;
    let fixed = json!({"poolId": POOL, "occurredAt": w.now(), "bundleId": "wsb-0000000000"});
    assert_eq!(
        refused(&w, "p-fixed", "Pool Updated", fixed).await,
        "PoolSettingFixed"
    );
    send(&w, "users", "Users Loaded", users(&w, 3)).await;
    for u in 0..3 {
        send(
            &w,
            &format!("r{u}"),
            "Desktop Assignment Requested",
            request(&w, &format!("user-{u:03}")),
        )
        .await;
    }
    assert_eq!(
        (pool(&w).await.desktops, holders(&w).await.len()),
        (4, 3),
        "grown by 2 for the third"
    );
    // Deleting a pool in use is refused; removing a dedicated user terminates the desktop.
    let delete = |w: &World| json!({"poolId": POOL, "occurredAt": w.now()});
    assert_eq!(
        refused(&w, "d-1", "Pool Deleted", delete(&w)).await,
        "InvalidState"
    );
    let gone = holders(&w).await["user-002"].clone();
    let removed = send(
        &w,
        "rm",
        "User Removed",
        json!({"userId": "user-002", "occurredAt": w.now()}),
    )
    .await;
    assert_eq!(removed.result, EventOutcome::UsersChanged);
    assert_eq!(w.calls(0, "WorkSpaces.TerminateWorkspaces"), 1);
    assert!(!holders(&w).await.contains_key("user-002"));
    assert!(
        pool_desktops(&w)
            .await
            .iter()
            .all(|r| r.workspace_id.as_str() != gone)
    );
    assert_eq!(pool(&w).await.desktops, 3);
    let after = send(
        &w,
        "r-rm",
        "Desktop Assignment Requested",
        request(&w, "user-002"),
    )
    .await;
    assert_eq!(after.result, EventOutcome::AssignmentFailed);
    assert_eq!(
        outbound(&w, "Desktop Assignment Failed").last().unwrap()["failure"],
        "USER_UNKNOWN"
    );
    // Shrinking: minSize down to 1 — the free desktop goes after its 30-minute cool-down,
    // never an assigned one.
    send(
        &w,
        "u-min",
        "Pool Updated",
        json!({"poolId": POOL, "occurredAt": w.now(), "minSize": 1}),
    )
    .await;
    w.advance_minutes(10.0);
    idle_sweep(&w).await;
    assert_eq!(pool(&w).await.desktops, 3, "not before the cool-down");
    w.advance_minutes(25.0);
    idle_sweep(&w).await;
    assert_eq!(pool(&w).await.desktops, 2);
    assert_eq!(holders(&w).await.len(), 2);
    assert_eq!(w.calls(0, "WorkSpaces.TerminateWorkspaces"), 2);
    // Everyone removed, the pool is deleted: its desktops terminated, a tombstone kept.
    for u in 0..2 {
        send(
            &w,
            &format!("rm{u}"),
            "User Removed",
            json!({"userId": format!("user-{u:03}"), "occurredAt": w.now()}),
        )
        .await;
    }
    w.advance_minutes(1.0);
    let deleted = send(&w, "d-2", "Pool Deleted", delete(&w)).await;
    assert_eq!(deleted.result, EventOutcome::PoolChanged);
    assert!(pool_desktops(&w).await.is_empty());
    let tomb = pool(&w).await;
    assert_eq!(
        (tomb.presence, tomb.desktops),
        (steward_shared::model::Presence::Gone, 0)
    );
    let late = send(&w, "d-3", "Pool Deleted", delete(&w)).await;
    assert_eq!(late.result, EventOutcome::Unchanged);
    every_event_follows_its_schema(&w);
}
