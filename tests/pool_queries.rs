//! The pool queries (`pools`, `userDesktops`, `desktopUser`) on dynoxide: pools, users and
//! pool desktops are written straight into the table, and each query's answer is compared
//! whole — every status count and every field — and checked against the published schemas
//! (`events/schemas/query/`). No AWS call is made by any of them.

mod power_common;

use chrono::DateTime;
use power_common::{World, world};
use serde_json::{Value, json};
use steward_functions::dispatch;
use steward_shared::ids::{BundleId, DirectoryId, PoolId, UserId, WorkspaceId};
use steward_shared::model::{
    FirstSeen, PoolRecord, PoolSeat, Presence, RunningMode, Timestamp, UserRecord, WorkspaceRecord,
    WorkspaceState, stamp_of,
};
use steward_shared::pools::protocol::{ProtocolCheck, StreamingProtocol};
use steward_shared::pools::{AssignmentPolicy, PoolSize, ReleaseAction, ReleasePlan, Releasing};
use steward_shared::store::{PoolStore, UserStore, UserWrite, WorkspaceStore};
use steward_tests::query_schemas::branch;

/// Runs a query for the world's tenant; a valid request must fit the request schema and
/// its answer the response schema. An error comes back as its name.
async fn query(w: &World, mut req: Value) -> Result<Value, String> {
    req["tenantId"] = json!(w.tenants[0].tenant_id);
    let q = req["query"].as_str().unwrap_or_default().to_owned();
    let fits = branch("request.json", &q).is_valid(&req);
    let out = dispatch("query", req.clone(), &w.deps)
        .await
        .map_err(|e| e.name().to_owned());
    match &out {
        Ok(answer) => {
            assert!(fits, "{q}: the request fits its schema: {req}");
            assert!(
                branch("response.json", &q).is_valid(answer),
                "{q}: the answer fits its schema: {answer}"
            );
        }
        Err(name) if name == "Steward.ValidationError" => {
            assert!(
                !fits,
                "{q}: the schema refuses what the parser refuses: {req}"
            )
        }
        Err(_) => assert!(fits, "{q}: the request fits its schema: {req}"),
    }
    out
}

fn t(minutes: i64) -> Timestamp {
    DateTime::parse_from_rfc3339("2026-11-30T08:00:00Z")
        .unwrap()
        .to_utc()
        + chrono::Duration::minutes(minutes)
}

fn ws(n: u32) -> String {
    format!("ws-{n:08}")
}

fn user(u: &str) -> UserId {
    UserId::parse(u).unwrap()
}

fn pool_id(p: &str) -> PoolId {
    PoolId::parse(p).unwrap()
}

/// What a test pool is: its name, policy, plan, presence and the record's desktop count.
struct PoolSpec {
    id: &'static str,
    assignment: AssignmentPolicy,
    release: ReleasePlan,
    presence: Presence,
    desktops: u32,
}

async fn put_pool(w: &World, s: PoolSpec) {
    let a = &w.accounts[0];
    let p = PoolRecord {
        tenant_id: w.tenants[0].tenant_id.clone(),
        pool_id: pool_id(s.id),
        region: w.tenants[0].regions[0].clone(),
        directory_id: DirectoryId::parse(a.directory_id.as_str()).unwrap(),
        bundle_id: BundleId::parse(a.bundle_id.as_str()).unwrap(),
        protocol: StreamingProtocol::Byop,
        protocol_check: ProtocolCheck::Verified,
        size: PoolSize {
            min_size: 2,
            max_size: 10,
            cooldown_minutes: 30,
        },
        grow_by: 5,
        assignment: s.assignment,
        release: s.release,
        presence: s.presence,
        desktops: s.desktops,
        next_name: u64::from(s.desktops),
        changed_at: t(0),
        created_at: t(0),
        updated_at: t(0),
        version: 0,
    };
    w.deps.store.create_pool(&p).await.unwrap();
}

async fn put_user(w: &World, id: &str, name: Option<&str>, pools: &[&str], presence: Presence) {
    let u = UserRecord {
        tenant_id: w.tenants[0].tenant_id.clone(),
        user_id: user(id),
        display_name: name.map(str::to_owned),
        pools: pools.iter().map(|p| pool_id(p)).collect(),
        presence,
        changed_at: t(0),
        stamp: stamp_of(t(0)),
    };
    assert!(w.deps.store.put_user(&u, UserWrite::Newer).await.unwrap());
}

async fn put_desktop(w: &World, n: u32, state: WorkspaceState, seat: Option<PoolSeat>) {
    let mut r = WorkspaceRecord::new(FirstSeen {
        tenant_id: w.tenants[0].tenant_id.clone(),
        workspace_id: WorkspaceId::parse(ws(n)).unwrap(),
        region: w.tenants[0].regions[0].clone(),
        directory_id: DirectoryId::parse(w.accounts[0].directory_id.as_str()).unwrap(),
        running_mode: RunningMode::Manual,
        state,
        at: t(0),
    });
    r.pool = seat;
    w.deps.store.create_workspace(&r).await.unwrap();
}

fn free(pool: &str) -> PoolSeat {
    PoolSeat::new(pool_id(pool), t(0))
}

fn held(pool: &str, by: &str, at: i64) -> PoolSeat {
    PoolSeat {
        assigned_to: Some(user(by)),
        assigned_at: Some(t(at)),
        free_since: None,
        ..free(pool)
    }
}

fn releasing(pool: &str, r: Releasing) -> PoolSeat {
    PoolSeat {
        releasing: Some(r),
        free_since: None,
        ..free(pool)
    }
}

/// Pool `call-centre` (floating, RESTORE after 15 minutes; the record counts 8 desktops, one
/// still being created and not yet registered) with a desktop in every condition;
/// `dedicated` (KEEP) with one held desktop; `old-pool` deleted; desktop 10 outside any
/// pool. Users: ana (in both pools), bo, cy (no desktop, no name), dee (removed).
async fn seeded() -> World {
    let w = world(1, 0, 0).await;
    use WorkspaceState::*;
    put_pool(
        &w,
        PoolSpec {
            id: "call-centre",
            assignment: AssignmentPolicy::Floating,
            release: ReleasePlan {
                action: ReleaseAction::Restore,
                delay_minutes: 15,
            },
            presence: Presence::Active,
            desktops: 8,
        },
    )
    .await;
    put_pool(
        &w,
        PoolSpec {
            id: "dedicated",
            assignment: AssignmentPolicy::Dedicated,
            release: ReleasePlan {
                action: ReleaseAction::Keep,
                delay_minutes: 0,
            },
            presence: Presence::Active,
            desktops: 1,
        },
    )
    .await;
    put_pool(
        &w,
        PoolSpec {
            id: "old-pool",
            assignment: AssignmentPolicy::Floating,
            release: ReleasePlan {
                action: ReleaseAction::Return,
                delay_minutes: 0,
            },
            presence: Presence::Gone,
            desktops: 0,
        },
    )
    .await;
    put_user(
        &w,
        "ana",
        Some("Ana"),
        &["call-centre", "dedicated"],
        Presence::Active,
    )
    .await;
    put_user(&w, "bo", Some("Bo"), &["call-centre"], Presence::Active).await;
    put_user(&w, "cy", None, &["call-centre"], Presence::Active).await;
    put_user(&w, "dee", None, &["call-centre"], Presence::Gone).await;

    let cc = "call-centre";
    put_desktop(&w, 1, Available, Some(free(cc))).await;
    put_desktop(&w, 2, Stopped, Some(free(cc))).await;
    put_desktop(&w, 3, Pending, Some(free(cc))).await;
    put_desktop(&w, 4, Starting, Some(held(cc, "ana", 5))).await;
    put_desktop(&w, 5, Available, Some(held(cc, "bo", 6))).await;
    let delayed = Releasing::Delayed {
        user: user("ana"),
        due_at: t(20),
    };
    put_desktop(&w, 6, Stopped, Some(releasing(cc, delayed))).await;
    let acting = Releasing::Acting { started_at: t(16) };
    put_desktop(&w, 7, Restoring, Some(releasing(cc, acting))).await;
    put_desktop(&w, 8, Stopped, Some(held("dedicated", "ana", 2))).await;
    put_desktop(&w, 10, Available, None).await;
    w
}

fn call_centre(status: Value) -> Value {
    json!({
        "poolId": "call-centre", "presence": "ACTIVE", "region": "us-east-1",
        "directoryId": "DIRECTORY", "bundleId": "BUNDLE", "protocol": "BYOP",
        "protocolCheck": "VERIFIED", "minSize": 2, "maxSize": 10, "growBy": 5,
        "cooldownMinutes": 30, "assignment": "FLOATING",
        "releasePlan": {"action": "RESTORE", "delayMinutes": 15},
        "desktops": 8, "status": status,
    })
}

/// The seeded pool's expected answer with the account's directory and bundle filled in.
fn with_account(w: &World, mut v: Value) -> Value {
    v["directoryId"] = json!(w.accounts[0].directory_id);
    v["bundleId"] = json!(w.accounts[0].bundle_id);
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pools_answer_their_configuration_and_status_counted_from_their_desktops() {
    let w = seeded().await;
    let tid = json!(w.tenants[0].tenant_id);
    let cc = with_account(
        &w,
        call_centre(json!({"size": 7, "free": 2, "assigned": 2, "starting": 2,
                           "stopped": 1, "releasing": 2})),
    );
    let dedicated = with_account(
        &w,
        json!({
            "poolId": "dedicated", "presence": "ACTIVE", "region": "us-east-1",
            "protocol": "BYOP", "protocolCheck": "VERIFIED", "minSize": 2, "maxSize": 10,
            "growBy": 5, "cooldownMinutes": 30, "assignment": "DEDICATED",
            "releasePlan": {"action": "KEEP", "delayMinutes": 0}, "desktops": 1,
            "status": {"size": 1, "free": 0, "assigned": 1, "starting": 0, "stopped": 0,
                       "releasing": 0},
        }),
    );

    // Every pool in use, by name; the deleted one is left out.
    let all = query(&w, json!({"query": "pools"})).await.unwrap();
    assert_eq!(
        all,
        json!({"tenantId": tid, "pools": [cc.clone(), dedicated]})
    );

    let one = query(&w, json!({"query": "pools", "poolId": "call-centre"}))
        .await
        .unwrap();
    assert_eq!(one, json!({"tenantId": tid, "pools": [cc]}));

    // A deleted pool answers only when named, as GONE.
    let gone = query(&w, json!({"query": "pools", "poolId": "old-pool"}))
        .await
        .unwrap();
    assert_eq!(gone["pools"].as_array().unwrap().len(), 1);
    assert_eq!(gone["pools"][0]["presence"], "GONE");
    assert_eq!(gone["pools"][0]["assignment"], "FLOATING");
    assert_eq!(
        gone["pools"][0]["releasePlan"],
        json!({"action": "RETURN", "delayMinutes": 0})
    );
    assert_eq!(gone["pools"][0]["desktops"], 0);
    assert_eq!(
        gone["pools"][0]["status"],
        json!({"size": 0, "free": 0, "assigned": 0, "starting": 0, "stopped": 0,
               "releasing": 0})
    );

    assert_eq!(
        query(&w, json!({"query": "pools", "poolId": "no-such-pool"})).await,
        Err("Steward.NotFound".to_owned())
    );
    assert_eq!(
        query(&w, json!({"query": "pools", "poolId": "Not A Pool"})).await,
        Err("Steward.ValidationError".to_owned())
    );
    // Nothing was asked of the service.
    assert_eq!(w.calls(0, "WorkSpaces.DescribeWorkspaces"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_desktops_are_those_held_and_those_released_within_their_delay() {
    let w = seeded().await;
    let tid = json!(w.tenants[0].tenant_id);

    let ana = query(&w, json!({"query": "userDesktops", "userId": "ana"}))
        .await
        .unwrap();
    assert_eq!(
        ana,
        json!({
            "tenantId": tid,
            "user": {"userId": "ana", "displayName": "Ana",
                     "pools": ["call-centre", "dedicated"], "presence": "ACTIVE"},
            "desktops": [
                {"workspaceId": ws(4), "poolId": "call-centre", "state": "STARTING",
                 "assignedAt": "2026-11-30T08:05:00Z"},
                {"workspaceId": ws(8), "poolId": "dedicated", "state": "STOPPED",
                 "assignedAt": "2026-11-30T08:02:00Z"},
            ],
            "releasing": [
                {"workspaceId": ws(6), "poolId": "call-centre", "dueAt": "2026-11-30T08:20:00Z"},
            ],
        })
    );

    let bo = query(&w, json!({"query": "userDesktops", "userId": "bo"}))
        .await
        .unwrap();
    assert_eq!(
        bo["desktops"],
        json!([{"workspaceId": ws(5), "poolId": "call-centre", "state": "AVAILABLE",
                "assignedAt": "2026-11-30T08:06:00Z"}])
    );
    assert_eq!(bo["releasing"], json!([]));

    let cy = query(&w, json!({"query": "userDesktops", "userId": "cy"}))
        .await
        .unwrap();
    assert_eq!(
        cy,
        json!({
            "tenantId": tid,
            "user": {"userId": "cy", "displayName": null, "pools": ["call-centre"],
                     "presence": "ACTIVE"},
            "desktops": [],
            "releasing": [],
        })
    );

    let dee = query(&w, json!({"query": "userDesktops", "userId": "dee"}))
        .await
        .unwrap();
    assert_eq!(dee["user"]["presence"], "GONE");
    assert_eq!(dee["desktops"], json!([]));

    assert_eq!(
        query(&w, json!({"query": "userDesktops", "userId": "nobody"})).await,
        Err("Steward.NotFound".to_owned())
    );
    assert_eq!(
        query(&w, json!({"query": "userDesktops"})).await,
        Err("Steward.ValidationError".to_owned())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desktops_user_is_its_seats_holder_and_a_desktop_outside_pools_has_none() {
    let w = seeded().await;
    let tid = json!(w.tenants[0].tenant_id);
    let ask = |n: u32| json!({"query": "desktopUser", "workspaceId": ws(n)});

    assert_eq!(
        query(&w, ask(4)).await.unwrap(),
        json!({"tenantId": tid, "workspaceId": ws(4), "state": "STARTING",
               "poolId": "call-centre", "userId": "ana",
               "assignedAt": "2026-11-30T08:05:00Z", "releasing": null})
    );
    assert_eq!(
        query(&w, ask(1)).await.unwrap(),
        json!({"tenantId": tid, "workspaceId": ws(1), "state": "AVAILABLE",
               "poolId": "call-centre", "userId": null, "assignedAt": null,
               "releasing": null})
    );
    assert_eq!(
        query(&w, ask(6)).await.unwrap(),
        json!({"tenantId": tid, "workspaceId": ws(6), "state": "STOPPED",
               "poolId": "call-centre", "userId": null, "assignedAt": null,
               "releasing": {"phase": "DELAYED", "userId": "ana",
                             "dueAt": "2026-11-30T08:20:00Z"}})
    );
    assert_eq!(
        query(&w, ask(7)).await.unwrap(),
        json!({"tenantId": tid, "workspaceId": ws(7), "state": "RESTORING",
               "poolId": "call-centre", "userId": null, "assignedAt": null,
               "releasing": {"phase": "ACTING", "startedAt": "2026-11-30T08:16:00Z"}})
    );
    assert_eq!(
        query(&w, ask(10)).await.unwrap(),
        json!({"tenantId": tid, "workspaceId": ws(10), "state": "AVAILABLE",
               "poolId": null, "userId": null, "assignedAt": null, "releasing": null})
    );
    assert_eq!(query(&w, ask(99)).await, Err("Steward.NotOwned".to_owned()));
    assert_eq!(
        query(&w, json!({"query": "desktopUser", "workspaceId": "bogus"})).await,
        Err("Steward.ValidationError".to_owned())
    );
}
