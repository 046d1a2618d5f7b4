//! The power-plan queries (`powerPlans`, `planReport`) on dynoxide, at a fixed time: plans,
//! holiday calendars, overrides, measured start times and plan usage are written straight
//! into the table, and each answer is compared whole and checked against the published
//! schemas (`events/schemas/query/`). No AWS call is made by either.
//!
//! The time is Thursday 2026-12-03 05:50 UTC (06:50 in Berlin, 00:50 in New York), the day
//! after a Berlin holiday: the Berlin pool is within its pre-warm lead (p90 of 480 s + 5
//! minutes = 13 minutes) before 07:00, and its last close is Tuesday's, since Wednesday's
//! window never opened.

mod power_common;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate};
use power_common::{World, world};
use serde_json::{Value, json};
use steward_functions::dispatch;
use steward_shared::clock::SharedClock;
use steward_shared::ids::{BundleId, DirectoryId, PoolId, WorkspaceId};
use steward_shared::model::{
    BufferOverride, CalendarRecord, FirstSeen, Month, PlanRecord, PlanUsageRecord, PoolRecord,
    PoolSeat, Presence, RunningMode, StartTimes, Timestamp, WorkspaceRecord, WorkspaceState,
};
use steward_shared::plans::{Buffer, CalendarName, DateSpan, PowerPlan};
use steward_shared::pools::protocol::{ProtocolCheck, StreamingProtocol};
use steward_shared::pools::{AssignmentPolicy, PoolSize, ReleaseAction, ReleasePlan};
use steward_shared::store::{PlanStore, PoolStore, WorkspaceStore};
use steward_tests::query_schemas::branch;

const NOW: &str = "2026-12-03T05:50:00Z";

fn at(s: &str) -> Timestamp {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn pool_id(p: &str) -> PoolId {
    PoolId::parse(p).unwrap()
}

fn month(m: &str) -> Month {
    Month::parse(m).unwrap()
}

/// Runs a query for tenant `tenant` of the world; a valid request must fit the request
/// schema and its answer the response schema. An error comes back as its name.
async fn query(w: &World, tenant: usize, mut req: Value) -> Result<Value, String> {
    if req.get("tenantId").is_none() {
        req["tenantId"] = json!(w.tenants[tenant].tenant_id);
    }
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

async fn put_pool(w: &World, id: &str) {
    let a = &w.accounts[0];
    let p = PoolRecord {
        tenant_id: w.tenants[0].tenant_id.clone(),
        pool_id: pool_id(id),
        region: w.tenants[0].regions[0].clone(),
        directory_id: DirectoryId::parse(a.directory_id.as_str()).unwrap(),
        bundle_id: BundleId::parse(a.bundle_id.as_str()).unwrap(),
        protocol: StreamingProtocol::Byop,
        protocol_check: ProtocolCheck::Verified,
        size: PoolSize {
            min_size: 1,
            max_size: 10,
            cooldown_minutes: 30,
        },
        grow_by: 5,
        assignment: AssignmentPolicy::Floating,
        release: ReleasePlan {
            action: ReleaseAction::Keep,
            delay_minutes: 0,
        },
        presence: Presence::Active,
        desktops: 0,
        next_name: 0,
        changed_at: at("2026-11-01T00:00:00Z"),
        created_at: at("2026-11-01T00:00:00Z"),
        updated_at: at("2026-11-01T00:00:00Z"),
        version: 0,
    };
    w.deps.store.create_pool(&p).await.unwrap();
}

/// A desktop record: in pool `pool` (free) or outside pools.
async fn put_desktop(
    w: &World,
    n: u32,
    mode: RunningMode,
    state: WorkspaceState,
    pool: Option<&str>,
) {
    let mut r = WorkspaceRecord::new(FirstSeen {
        tenant_id: w.tenants[0].tenant_id.clone(),
        workspace_id: WorkspaceId::parse(format!("ws-{n:08}")).unwrap(),
        region: w.tenants[0].regions[0].clone(),
        directory_id: DirectoryId::parse(w.accounts[0].directory_id.as_str()).unwrap(),
        running_mode: mode,
        state,
        at: at("2026-11-01T00:00:00Z"),
    });
    r.pool = pool.map(|p| PoolSeat::new(pool_id(p), at("2026-11-01T00:00:00Z")));
    w.deps.store.create_workspace(&r).await.unwrap();
}

async fn put_plan(
    w: &World,
    pool: Option<&str>,
    plan: Option<Value>,
    override_: Option<BufferOverride>,
) {
    let mut r = PlanRecord::new(
        w.tenants[0].tenant_id.clone(),
        pool.map(pool_id),
        at("2026-11-20T00:00:00Z"),
    );
    r.plan = plan.map(|p| serde_json::from_value::<PowerPlan>(p).unwrap());
    r.changed_at = Some(at("2026-11-20T00:00:00Z"));
    r.override_ = override_;
    w.deps.store.put_plan(&r).await.unwrap();
}

fn span(from: &str, to: &str, name: &str) -> DateSpan {
    DateSpan {
        from: date(from),
        to: date(to),
        name: Some(name.to_owned()),
    }
}

async fn put_calendar(w: &World, name: &str, days: Vec<DateSpan>) {
    let c = CalendarRecord {
        tenant_id: w.tenants[0].tenant_id.clone(),
        name: CalendarName::parse(name).unwrap(),
        days,
        changed_at: at("2026-11-01T00:00:00Z"),
        version: 0,
    };
    w.deps.store.put_calendar(&c).await.unwrap();
}

async fn add_usage(w: &World, scope: &str, m: &str, inside: u64, outside: u64) {
    let u = PlanUsageRecord {
        tenant_id: w.tenants[0].tenant_id.clone(),
        scope: scope.to_owned(),
        month: month(m),
        inside_seconds: inside,
        outside_seconds: outside,
    };
    w.deps.store.add_plan_usages(&[u]).await.unwrap();
}

fn berlin_plan() -> Value {
    json!({
        "zone": "Europe/Berlin",
        "windows": [{"days": ["MON", "TUE", "WED", "THU", "FRI"], "open": "07:00", "close": "19:00"}],
        "calendars": ["de-be", "works-council"],
        "bufferCount": 2,
    })
}

fn new_york_plan() -> Value {
    json!({
        "zone": "America/New_York",
        "windows": [{"days": ["MON", "TUE", "WED", "THU", "FRI"], "open": "08:00", "close": "17:00"}],
        "bufferPercent": 10,
        "drain": {"graceMinutes": 15, "keepSessions": true},
        "startLeadMinutes": 30,
    })
}

/// Two tenants on a clock stopped at [`NOW`]; the first has:
/// - pool `call-centre` (Berlin plan, Mon–Fri 07:00–19:00, bufferCount 2, calendars `de-be`
///   and `works-council`, the latter never loaded; an override of 5 until 09:00 UTC) with
///   desktops 1–3 live and 4 terminated;
/// - pool `night-desk` whose plan was removed, with an override of 25 % in force, and
///   desktop 20;
/// - its desktops outside pools on a New York plan (Mon–Fri 08:00–17:00, a fixed lead of
///   30 minutes; its override ran out at 05:00 UTC): MANUAL desktops 10 and 11 (12 is
///   ALWAYS_ON, 13 terminated: neither counts);
/// - calendars `de-be` (Wednesday 2026-12-02, and Christmas given twice, overlapping) and
///   `fr-fr`; start times measured with a p90 of 480 s;
/// - plan usage in October, November (the pool's booked in two additions) and December.
async fn seeded() -> World {
    let mut w = world(2, 0, 0).await;
    let now = at(NOW);
    let clock: SharedClock = Arc::new(move || now);
    w.deps.clock = clock;
    use RunningMode::{AlwaysOn, Manual};
    use WorkspaceState::*;
    put_pool(&w, "call-centre").await;
    put_pool(&w, "night-desk").await;
    let cc = Some("call-centre");
    put_desktop(&w, 1, Manual, Available, cc).await;
    put_desktop(&w, 2, Manual, Stopped, cc).await;
    put_desktop(&w, 3, Manual, Starting, cc).await;
    put_desktop(&w, 4, Manual, Terminated, cc).await;
    put_desktop(&w, 10, Manual, Available, None).await;
    put_desktop(&w, 11, Manual, Stopped, None).await;
    put_desktop(&w, 12, AlwaysOn, Available, None).await;
    put_desktop(&w, 13, Manual, Terminated, None).await;
    put_desktop(&w, 20, Manual, Stopped, Some("night-desk")).await;

    let launch = BufferOverride {
        buffer: Buffer {
            count: Some(5),
            percent: None,
        },
        until: at("2026-12-03T09:00:00Z"),
        set_at: at("2026-12-02T12:00:00Z"),
        reason: Some("product launch".into()),
        ended: false,
    };
    put_plan(&w, cc, Some(berlin_plan()), Some(launch)).await;
    let quarter = BufferOverride {
        buffer: Buffer {
            count: None,
            percent: Some(25),
        },
        until: at("2026-12-03T08:00:00Z"),
        set_at: at("2026-12-02T12:00:00Z"),
        reason: None,
        ended: false,
    };
    put_plan(&w, Some("night-desk"), None, Some(quarter)).await;
    let ended = BufferOverride {
        buffer: Buffer {
            count: Some(1),
            percent: None,
        },
        until: at("2026-12-03T05:00:00Z"),
        set_at: at("2026-12-02T12:00:00Z"),
        reason: Some("audit".into()),
        ended: true,
    };
    put_plan(&w, None, Some(new_york_plan()), Some(ended)).await;

    put_calendar(
        &w,
        "de-be",
        vec![
            span("2026-12-02", "2026-12-02", "Test holiday"),
            span("2026-12-24", "2026-12-26", "Christmas"),
            span("2026-12-25", "2026-12-25", "Christmas Day"),
        ],
    )
    .await;
    put_calendar(
        &w,
        "fr-fr",
        vec![span("2026-07-14", "2026-07-14", "Fête nationale")],
    )
    .await;
    w.deps
        .store
        .put_start_times(&StartTimes {
            tenant_id: w.tenants[0].tenant_id.clone(),
            samples: vec![300, 420, 480, 240, 360],
            updated_at: at("2026-12-02T07:00:00Z"),
            version: 0,
        })
        .await
        .unwrap();

    add_usage(&w, "call-centre", "2026-10", 3_600, 0).await;
    add_usage(&w, "call-centre", "2026-11", 180_000, 9_000).await;
    add_usage(&w, "call-centre", "2026-11", 180_000, 0).await;
    add_usage(&w, "TENANT", "2026-11", 72_000, 0).await;
    add_usage(&w, "call-centre", "2026-12", 0, 1_800).await;
    w
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn power_plans_answer_each_group_where_it_stands_now_and_the_calendars() {
    let w = seeded().await;
    let tid = json!(w.tenants[0].tenant_id);
    let answer = query(&w, 0, json!({"query": "powerPlans"})).await.unwrap();
    assert_eq!(
        answer,
        json!({
            "tenantId": tid,
            "plans": [
                {
                    "scope": "call-centre",
                    "poolId": "call-centre",
                    "plan": {
                        "zone": "Europe/Berlin",
                        "windows": [{"days": ["MON", "TUE", "WED", "THU", "FRI"],
                                     "open": "07:00", "close": "19:00"}],
                        "calendars": ["de-be", "works-council"],
                        "bufferCount": 2,
                        "drain": {"graceMinutes": 30, "keepSessions": false},
                        "assignOutsideWindows": false,
                    },
                    "zone": "Europe/Berlin",
                    "phase": "PREWARM",
                    "startLeadMinutes": 13,
                    "startLeadSource": "MEASURED",
                    "measuredP90StartSeconds": 480,
                    "nextWindow": {
                        "opensAt": "2026-12-03T06:00:00Z",
                        "closesAt": "2026-12-03T18:00:00Z",
                        "opensAtLocal": "2026-12-03T07:00:00+01:00",
                        "closesAtLocal": "2026-12-03T19:00:00+01:00",
                    },
                    // Tuesday's: the holiday kept Wednesday's window shut.
                    "lastClose": "2026-12-01T18:00:00Z",
                    "override": {"bufferCount": 5, "until": "2026-12-03T09:00:00Z",
                                 "reason": "product launch"},
                    "missingCalendars": ["works-council"],
                },
                {
                    "scope": "night-desk",
                    "poolId": "night-desk",
                    "plan": null,
                    "zone": null,
                    "phase": null,
                    "startLeadMinutes": null,
                    "startLeadSource": null,
                    "measuredP90StartSeconds": null,
                    "nextWindow": null,
                    "lastClose": null,
                    "override": {"bufferPercent": 25, "until": "2026-12-03T08:00:00Z"},
                    "missingCalendars": [],
                },
                {
                    "scope": "TENANT",
                    "poolId": null,
                    "plan": {
                        "zone": "America/New_York",
                        "windows": [{"days": ["MON", "TUE", "WED", "THU", "FRI"],
                                     "open": "08:00", "close": "17:00"}],
                        "bufferPercent": 10,
                        "drain": {"graceMinutes": 15, "keepSessions": true},
                        "startLeadMinutes": 30,
                        "assignOutsideWindows": false,
                    },
                    "zone": "America/New_York",
                    "phase": "CLOSED",
                    "startLeadMinutes": 30,
                    "startLeadSource": "PLAN",
                    "measuredP90StartSeconds": 480,
                    "nextWindow": {
                        "opensAt": "2026-12-03T13:00:00Z",
                        "closesAt": "2026-12-03T22:00:00Z",
                        "opensAtLocal": "2026-12-03T08:00:00-05:00",
                        "closesAtLocal": "2026-12-03T17:00:00-05:00",
                    },
                    "lastClose": "2026-12-02T22:00:00Z",
                    // It ran out at 05:00.
                    "override": null,
                    "missingCalendars": [],
                },
            ],
            "calendars": [
                {"name": "de-be", "spans": 3, "dates": 4},
                {"name": "fr-fr", "spans": 1, "dates": 1},
            ],
        })
    );

    // A tenant without plans or calendars answers empty lists.
    let other = query(&w, 1, json!({"query": "powerPlans"})).await.unwrap();
    assert_eq!(
        other,
        json!({"tenantId": w.tenants[1].tenant_id, "plans": [], "calendars": []})
    );
    assert_eq!(
        query(&w, 0, json!({"query": "powerPlans", "tenantId": "nobody"})).await,
        Err("Steward.NotFound".to_owned())
    );
    assert_eq!(
        query(
            &w,
            0,
            json!({"query": "powerPlans", "poolId": "call-centre"})
        )
        .await,
        Err("Steward.ValidationError".to_owned())
    );
    assert_eq!(w.calls(0, "WorkSpaces.DescribeWorkspaces"), 0);
}

const METHOD_TAIL: &str = ", months in UTC; savedHours = alwaysOnHours − insideHours − outsideHours, \
    at least 0; insideHours and outsideHours are the hours the idle sweep booked AVAILABLE, \
    split by the group's windows; totals are the groups' sums";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_report_gives_each_groups_month_and_the_hours_saved_against_always_on() {
    let w = seeded().await;
    let tid = json!(w.tenants[0].tenant_id);

    // November ended: 720 hours. The pool's two additions are summed; October's hour is not
    // November's; the groups' desktops are counted now (3, 1 and 2: terminated desktops
    // and ALWAYS_ON ones outside pools are not the groups').
    let november = query(&w, 0, json!({"query": "planReport", "month": "2026-11"}))
        .await
        .unwrap();
    assert_eq!(
        november,
        json!({
            "tenantId": tid,
            "month": "2026-11",
            "groups": [
                {"scope": "call-centre", "month": "2026-11", "insideHours": 100.0,
                 "outsideHours": 2.5, "desktops": 3, "alwaysOnHours": 2160.0,
                 "savedHours": 2057.5},
                {"scope": "night-desk", "month": "2026-11", "insideHours": 0.0,
                 "outsideHours": 0.0, "desktops": 1, "alwaysOnHours": 720.0,
                 "savedHours": 720.0},
                {"scope": "TENANT", "month": "2026-11", "insideHours": 20.0,
                 "outsideHours": 0.0, "desktops": 2, "alwaysOnHours": 1440.0,
                 "savedHours": 1420.0},
            ],
            "totals": {"insideHours": 120.0, "outsideHours": 2.5, "alwaysOnHours": 4320.0,
                       "savedHours": 4197.5},
            "method": format!(
                "alwaysOnHours = the group's desktops now × the 720 hours of 2026-11{METHOD_TAIL}"
            ),
        })
    );

    // December is under way: 53 h 50 min have elapsed.
    let december = query(&w, 0, json!({"query": "planReport", "month": "2026-12"}))
        .await
        .unwrap();
    assert_eq!(
        december,
        json!({
            "tenantId": tid,
            "month": "2026-12",
            "groups": [
                {"scope": "call-centre", "month": "2026-12", "insideHours": 0.0,
                 "outsideHours": 0.5, "desktops": 3, "alwaysOnHours": 161.5,
                 "savedHours": 161.0},
                {"scope": "night-desk", "month": "2026-12", "insideHours": 0.0,
                 "outsideHours": 0.0, "desktops": 1, "alwaysOnHours": 53.83,
                 "savedHours": 53.83},
                {"scope": "TENANT", "month": "2026-12", "insideHours": 0.0,
                 "outsideHours": 0.0, "desktops": 2, "alwaysOnHours": 107.67,
                 "savedHours": 107.67},
            ],
            "totals": {"insideHours": 0.0, "outsideHours": 0.5, "alwaysOnHours": 323.0,
                       "savedHours": 322.5},
            "method": format!(
                "alwaysOnHours = the group's desktops now × the 53.83 hours of 2026-12 elapsed \
                 by 2026-12-03T05:50:00Z{METHOD_TAIL}"
            ),
        })
    );

    // A month not begun saves nothing yet; a tenant without plans has no groups.
    let january = query(&w, 0, json!({"query": "planReport", "month": "2027-01"}))
        .await
        .unwrap();
    assert_eq!(
        january["groups"][0],
        json!({"scope": "call-centre", "month": "2027-01", "insideHours": 0.0,
               "outsideHours": 0.0, "desktops": 3, "alwaysOnHours": 0.0, "savedHours": 0.0})
    );
    assert_eq!(
        january["totals"],
        json!({"insideHours": 0.0, "outsideHours": 0.0, "alwaysOnHours": 0.0,
               "savedHours": 0.0})
    );
    let other = query(&w, 1, json!({"query": "planReport", "month": "2026-11"}))
        .await
        .unwrap();
    assert_eq!(other["groups"], json!([]));
    assert_eq!(
        other["totals"],
        json!({"insideHours": 0.0, "outsideHours": 0.0, "alwaysOnHours": 0.0,
               "savedHours": 0.0})
    );

    assert_eq!(
        query(&w, 0, json!({"query": "planReport", "month": "2026-13"})).await,
        Err("Steward.ValidationError".to_owned())
    );
    assert_eq!(
        query(&w, 0, json!({"query": "planReport"})).await,
        Err("Steward.ValidationError".to_owned())
    );
}
