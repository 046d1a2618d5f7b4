//! Power control plans on the emulator and dynoxide, through `power.partner_events` and the
//! idle sweep every five virtual minutes, as a partner backend drives them: a Berlin call
//! centre with a holiday on a Wednesday, a New York plan across the March daylight-saving
//! change, and overrides that end on time.

mod power_common;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, DurationRound};
use power_common::{Spec, World, assert_follows_schema, world_with};
use serde_json::{Value, json};
use steward_functions::power::SweepKind;
use steward_functions::power::fanout::{TenantOutcome, sweep_one};
use steward_functions::power::partner_events::{EventOutcome, Processed, process};
use steward_functions::power::sweep::SweepOptions;
use steward_shared::model::{Timestamp, WorkspaceRecord};
use steward_shared::store::PlanStore;

const POOL: &str = "call-centre";

fn at(s: &str) -> Timestamp {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

/// One tenant with `registered` desktops outside pools (AVAILABLE), the clock at `start`,
/// the emulator's rate limit off.
async fn plan_world(start: &str, registered: usize) -> World {
    let w = world_with(Spec {
        accounts: 1,
        per: registered,
        registered,
        start: Some(at(start)),
        ..Spec::default()
    })
    .await;
    w.emu
        .control()
        .update_options(|o| o.rate_limit.enabled = false);
    w
}

async fn send(w: &World, id: &str, detail_type: &str, detail: Value) -> Processed {
    let e = w.event(id, detail_type, 0, detail);
    process(&e, &w.deps)
        .await
        .unwrap_or_else(|err| panic!("{detail_type} {id}: {err}"))
}

/// The actions one idle sweep reported, as (action, workspace).
async fn sweep(w: &World) -> Vec<(String, String)> {
    let t = w.tenant(0).await;
    match sweep_one(&w.deps, &t, SweepKind::Idle, &SweepOptions::default()).await {
        TenantOutcome::Swept(s) => s
            .actions
            .iter()
            .map(|a| (a.action.clone(), a.workspace.clone()))
            .collect(),
        other => panic!("the sweep failed: {other:?}"),
    }
}

/// The emulator's clock to `t` (it also runs on in real time, by milliseconds per call).
fn advance_to(w: &World, t: Timestamp) {
    let seconds = (t - w.now()).num_milliseconds() as f64 / 1000.0;
    if seconds > 0.0 {
        w.emu.control().advance_seconds(seconds).unwrap();
    }
}

/// The next five-minute mark after the clock.
fn next_tick(w: &World) -> Timestamp {
    let now = w.now();
    now.duration_trunc(Duration::minutes(5)).unwrap_or(now) + Duration::minutes(5)
}

/// Sweeps at every five-minute mark up to `until` (the clock moves first); the actions
/// with the mark of the sweep that made them.
async fn sweep_until(w: &World, until: &str) -> Vec<(Timestamp, String, String)> {
    let mut out = Vec::new();
    while next_tick(w) <= at(until) {
        let tick = next_tick(w);
        advance_to(w, tick);
        for (action, ws) in sweep(w).await {
            out.push((tick, action, ws));
        }
    }
    out
}

/// A pool of `size` FLOATING desktops, up (created, then seen AVAILABLE by a sweep).
async fn pool_up(w: &World, size: u32) {
    let p = send(
        w,
        "pool-1",
        "Pool Created",
        json!({
            "poolId": POOL,
            "occurredAt": w.now(),
            "directoryId": w.accounts[0].directory_id,
            "bundleId": w.accounts[0].bundle_id,
            "protocol": "BYOP",
            "allowUnverifiedProtocol": true,
            "minSize": size,
            "maxSize": size,
            "assignment": "FLOATING",
            "releasePlan": {"action": "RETURN"},
        }),
    )
    .await;
    assert_eq!(p.result, EventOutcome::PoolChanged);
}

async fn pool_desktops(w: &World) -> Vec<WorkspaceRecord> {
    let mut v: Vec<_> = w
        .records(0)
        .await
        .into_iter()
        .filter(|r| r.pool.is_some())
        .collect();
    v.sort_by(|a, b| a.workspace_id.cmp(&b.workspace_id));
    v
}

/// How many of the pool's desktops the service reports in each state.
async fn service_states(w: &World) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in pool_desktops(w).await {
        *out.entry(w.state(0, r.workspace_id.as_str())).or_insert(0) += 1;
    }
    out
}

fn counts(states: &[(&str, usize)]) -> BTreeMap<String, usize> {
    states.iter().map(|(s, n)| (s.to_string(), *n)).collect()
}

fn named<'a>(
    actions: &'a [(Timestamp, String, String)],
    name: &str,
) -> Vec<&'a (Timestamp, String, String)> {
    actions.iter().filter(|a| a.1 == name).collect()
}

fn berlin_plan(w: &World) -> Value {
    json!({
        "poolId": POOL,
        "occurredAt": w.now(),
        "plan": {
            "zone": "Europe/Berlin",
            "windows": [{"days": ["MON", "TUE", "WED", "THU", "FRI"], "open": "07:00", "close": "19:00"}],
            "calendars": ["de-be"],
            "bufferCount": 3,
            "drain": {"graceMinutes": 30},
        }
    })
}

fn assign(w: &World, user: &str) -> Value {
    json!({"poolId": POOL, "userId": user, "occurredAt": w.now()})
}

fn session(w: &World, ws: &str, id: &str) -> Value {
    json!({"workspaceId": ws, "sessionId": id, "occurredAt": w.now()})
}

/// Berlin, Mon–Fri 07:00–19:00 (06:00–18:00 UTC in December), three warm, a holiday on
/// Wednesday 2026-12-02: pre-warmed before 07:00 on Tuesday, refilled within a sweep when
/// users take desktops, drained after 19:00, nothing started on the holiday.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn berlin_call_centre_with_a_wednesday_holiday() {
    // Monday 2026-11-30, 21:00 in Berlin.
    let w = plan_world("2026-11-30T20:00:00Z", 0).await;
    pool_up(&w, 6).await;
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//de-be//EN\r\nBEGIN:VEVENT\r\nUID:h1\r\nDTSTART;VALUE=DATE:20261202\r\nSUMMARY:Works holiday\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let cal = send(
        &w,
        "cal-1",
        "Holiday Calendar Loaded",
        json!({"name": "de-be", "occurredAt": w.now(), "ics": ics}),
    )
    .await;
    assert_eq!(cal.result, EventOutcome::PlanChanged);
    let users: Vec<Value> = ["u-0", "u-1", "u-2"]
        .iter()
        .map(|u| json!({"userId": u, "pools": [POOL]}))
        .collect();
    send(
        &w,
        "users-1",
        "Users Loaded",
        json!({"occurredAt": w.now(), "users": users}),
    )
    .await;
    let set = send(&w, "plan-1", "Power Plan Updated", berlin_plan(&w)).await;
    assert_eq!(set.result, EventOutcome::PlanChanged);
    assert_eq!(set.actions[0].action, "plan_updated");

    // The night: the new desktops come up and, outside the window, the idle rule stops them.
    let night = sweep_until(&w, "2026-12-01T05:00:00Z").await;
    assert_eq!(named(&night, "stop").len(), 6, "{night:?}");
    assert!(named(&night, "prewarm").is_empty());
    assert_eq!(service_states(&w).await, counts(&[("STOPPED", 6)]));

    // Before the pre-warm a new assignment is refused: the pool is closed.
    let early = send(&w, "a-0", "Desktop Assignment Requested", assign(&w, "u-0")).await;
    assert_eq!(early.result, EventOutcome::AssignmentFailed);
    assert!(
        early.actions[0].reason.contains("outside its windows"),
        "{:?}",
        early.actions
    );
    let failed: Vec<Value> = w
        .sink
        .captured()
        .into_iter()
        .filter(|e| e["DetailType"] == "Desktop Assignment Failed")
        .map(|e| e["Detail"]["failure"].clone())
        .collect();
    assert_eq!(failed, [json!("POOL_CLOSED")]);

    // The lead is the default start time (600 s) plus a sweep: pre-warm from 05:45 UTC.
    let morning = sweep_until(&w, "2026-12-01T06:00:00Z").await;
    let prewarm = named(&morning, "prewarm");
    assert_eq!(prewarm.len(), 3, "{morning:?}");
    assert!(prewarm.iter().all(|a| a.0 == at("2026-12-01T05:45:00Z")));
    // 07:00 in Berlin: three desktops AVAILABLE, started before.
    assert_eq!(
        w.now().duration_trunc(Duration::minutes(1)).unwrap(),
        at("2026-12-01T06:00:00Z")
    );
    assert_eq!(
        service_states(&w).await,
        counts(&[("AVAILABLE", 3), ("STOPPED", 3)])
    );

    // Two users take desktops: the next sweep starts two more (the buffer refilled).
    let mut taken = Vec::new();
    for u in ["u-1", "u-2"] {
        let p = send(
            &w,
            &format!("a-{u}"),
            "Desktop Assignment Requested",
            assign(&w, u),
        )
        .await;
        assert_eq!(p.result, EventOutcome::Assigned);
        taken.push(p.actions.last().unwrap().workspace.clone());
    }
    let refill = sweep_until(&w, "2026-12-01T06:05:00Z").await;
    assert_eq!(named(&refill, "buffer").len(), 2, "{refill:?}");
    let _ = sweep_until(&w, "2026-12-01T06:10:00Z").await;
    assert_eq!(
        service_states(&w).await,
        counts(&[("AVAILABLE", 5), ("STOPPED", 1)])
    );

    // u-1 works through the end of the window; u-2 has left its desktop assigned and idle,
    // so the idle rule stops it (an assigned desktop is not warm capacity).
    send(&w, "s-1", "Session Started", session(&w, &taken[0], "s-1")).await;
    let mut beat = 0;
    while next_tick(&w) <= at("2026-12-01T17:55:00Z") {
        advance_to(&w, next_tick(&w));
        beat += 1;
        send(
            &w,
            &format!("hb-{beat}"),
            "Session Heartbeat",
            session(&w, &taken[0], "s-1"),
        )
        .await;
        let _ = sweep(&w).await;
    }
    // 19:00 in Berlin: everything up without a live session is drained, the session
    // warned; after the 30-minute grace its desktop is stopped too.
    let mut evening = Vec::new();
    while next_tick(&w) <= at("2026-12-01T18:30:00Z") {
        let tick = next_tick(&w);
        advance_to(&w, tick);
        beat += 1;
        send(
            &w,
            &format!("hb-{beat}"),
            "Session Heartbeat",
            session(&w, &taken[0], "s-1"),
        )
        .await;
        for (action, ws) in sweep(&w).await {
            evening.push((tick, action, ws));
        }
    }
    let warned = named(&evening, "drain_warning");
    assert_eq!(warned.len(), 1, "{evening:?}");
    assert_eq!(warned[0].0, at("2026-12-01T18:00:00Z"));
    assert_eq!(warned[0].2, taken[0]);
    let drained = named(&evening, "drain");
    assert_eq!(drained.len(), 4, "{evening:?}");
    assert_eq!(
        drained
            .iter()
            .filter(|a| a.0 == at("2026-12-01T18:00:00Z"))
            .count(),
        3
    );
    assert_eq!(drained.last().unwrap().0, at("2026-12-01T18:30:00Z"));
    assert_eq!(drained.last().unwrap().2, taken[0]);

    // Wednesday, the holiday: the window stays shut and nothing is started.
    let starts_before = w.calls(0, "StartWorkspaces");
    let holiday = sweep_until(&w, "2026-12-02T19:00:00Z").await;
    let noted = named(&holiday, "holiday");
    assert_eq!(noted.len(), 1, "{holiday:?}");
    let measured = w
        .deps
        .store
        .get_start_times(&w.tenants[0].tenant_id)
        .await
        .unwrap()
        .expect("start times were measured");
    // Tuesday's five starts were each seen AVAILABLE by the next sweep, five minutes later
    // (plus the milliseconds the emulator's clock ran on, rounded up). The lead is now that
    // p90 plus a sweep, ten minutes: the shut window is told at 05:50.
    assert_eq!(measured.samples.len(), 5);
    assert!(
        measured.samples.iter().all(|s| (300..=301).contains(s)),
        "{:?}",
        measured.samples
    );
    assert_eq!(noted[0].0, at("2026-12-02T05:50:00Z"));
    assert!(named(&holiday, "prewarm").is_empty() && named(&holiday, "buffer").is_empty());
    assert_eq!(w.calls(0, "StartWorkspaces"), starts_before);
    assert_eq!(service_states(&w).await, counts(&[("STOPPED", 6)]));

    for e in &w.sink.captured() {
        assert_follows_schema(e);
    }
}

fn new_york_plan(w: &World) -> Value {
    json!({
        "poolId": POOL,
        "occurredAt": w.now(),
        "plan": {
            "zone": "America/New_York",
            "windows": [{"days": ["MON", "TUE", "WED", "THU", "FRI"], "open": "08:00", "close": "17:00"}],
            "bufferPercent": 50,
            "startLeadMinutes": 20,
        }
    })
}

/// New York, Mon–Fri 08:00–17:00, across the change to daylight saving time on Sunday
/// 2027-03-14: Friday opens at 13:00 UTC, Monday at 12:00 UTC, and each is pre-warmed by
/// the plan's fixed 20-minute lead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_york_across_the_march_change() {
    let w = plan_world("2027-03-12T11:00:00Z", 0).await;
    pool_up(&w, 4).await;
    send(&w, "plan-ny", "Power Plan Updated", new_york_plan(&w)).await;
    let friday = sweep_until(&w, "2027-03-12T13:00:00Z").await;
    let prewarm = named(&friday, "prewarm");
    // The desktops came up at 11:20, outside the window, and the idle rule stopped them;
    // 20 minutes before 08:00 EST half of the four free desktops are started.
    assert_eq!(prewarm.len(), 2, "{friday:?}");
    assert!(
        prewarm.iter().all(|a| a.0 == at("2027-03-12T12:40:00Z")),
        "{friday:?}"
    );
    assert_eq!(
        service_states(&w)
            .await
            .get("AVAILABLE")
            .copied()
            .unwrap_or(0),
        2,
        "half of the four free desktops warm at 08:00 EST"
    );
    // Friday 17:00 EST = 22:00 UTC: drained.
    advance_to(&w, at("2027-03-12T21:50:00Z"));
    let close = sweep_until(&w, "2027-03-12T22:05:00Z").await;
    assert_eq!(named(&close, "drain").len(), 2, "{close:?}");
    assert!(
        named(&close, "drain")
            .iter()
            .all(|a| a.0 == at("2027-03-12T22:00:00Z"))
    );
    // Monday 2027-03-15, 08:00 EDT = 12:00 UTC: pre-warmed at 11:40 UTC.
    advance_to(&w, at("2027-03-15T11:20:00Z"));
    let monday = sweep_until(&w, "2027-03-15T12:00:00Z").await;
    let prewarm = named(&monday, "prewarm");
    assert_eq!(prewarm.len(), 2, "{monday:?}");
    assert!(prewarm.iter().all(|a| a.0 == at("2027-03-15T11:40:00Z")));
    assert_eq!(
        service_states(&w).await,
        counts(&[("AVAILABLE", 2), ("STOPPED", 2)])
    );
}

/// `Desktop Keep Running` and `Pool Override` end on their own, on time, and say so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overrides_end_on_time() {
    // Saturday 2026-12-05, 10:00 UTC: outside every window of the tenant's plan.
    let w = plan_world("2026-12-05T10:00:00Z", 2).await;
    let ids: Vec<String> = w
        .records(0)
        .await
        .iter()
        .map(|r| r.workspace_id.to_string())
        .collect();
    let tenant_plan = json!({
        "occurredAt": w.now(),
        "plan": {
            "zone": "Europe/London",
            "windows": [{"days": ["MON", "TUE", "WED", "THU", "FRI"], "open": "09:00", "close": "17:00"}],
        }
    });
    send(&w, "plan-t", "Power Plan Updated", tenant_plan).await;
    // The first desktop is kept running until 11:00; the second is left to the idle rule.
    let keep = send(
        &w,
        "keep-1",
        "Desktop Keep Running",
        json!({"workspaceId": ids[0], "until": "2026-12-05T11:00:00Z", "occurredAt": w.now(), "reason": "month-end batch"}),
    )
    .await;
    assert_eq!(
        keep.actions
            .iter()
            .map(|a| a.action.as_str())
            .collect::<Vec<_>>(),
        ["extend_lease", "keep_running"]
    );
    let morning = sweep_until(&w, "2026-12-05T11:10:00Z").await;
    let ended = named(&morning, "override_ended");
    assert_eq!(ended.len(), 1, "{morning:?}");
    assert_eq!(ended[0].0, at("2026-12-05T11:00:00Z"));
    assert_eq!(ended[0].2, ids[0]);
    assert!(
        !morning.iter().any(|a| a.2 == ids[0] && a.1 == "stop"),
        "kept: {morning:?}"
    );
    // The second desktop, idle an hour, was stopped by the idle rule.
    assert_eq!(
        morning
            .iter()
            .filter(|a| a.2 == ids[1] && a.1 == "stop")
            .count(),
        1
    );

    // A pool override on the tenant's group: two warm until 12:00, so the stopped desktop
    // is started and the kept one held; at 12:00 it ends, and the kept one (idle since its
    // keep-alive ended at 11:00) is stopped by the idle rule in the same sweep.
    let o = send(
        &w,
        "override-1",
        "Pool Override",
        json!({"buffer": {"bufferCount": 2}, "until": "2026-12-05T12:00:00Z", "occurredAt": w.now()}),
    )
    .await;
    assert_eq!(o.result, EventOutcome::OverrideSet);
    let noon = sweep_until(&w, "2026-12-05T12:10:00Z").await;
    let started: Vec<_> = named(&noon, "buffer");
    assert_eq!(started.len(), 1, "{noon:?}");
    assert_eq!(
        (started[0].0, started[0].2.as_str()),
        (at("2026-12-05T11:15:00Z"), ids[1].as_str())
    );
    let ended = named(&noon, "override_ended");
    assert_eq!(ended.len(), 1, "{noon:?}");
    assert_eq!(ended[0].0, at("2026-12-05T12:00:00Z"));
    let kept_stop: Vec<_> = noon
        .iter()
        .filter(|a| a.2 == ids[0] && a.1 == "stop")
        .collect();
    assert_eq!(kept_stop.len(), 1, "{noon:?}");
    assert_eq!(kept_stop[0].0, at("2026-12-05T12:00:00Z"));
    // Replayed, the override changes nothing.
    let again = send(
        &w,
        "override-1",
        "Pool Override",
        json!({"buffer": {"bufferCount": 2}, "until": "2026-12-05T12:00:00Z", "occurredAt": "2026-12-05T11:10:00Z"}),
    )
    .await;
    assert_eq!(again.result, EventOutcome::Unchanged);

    // The plan was made in December, so its first report is January's (its first whole
    // month), told once by the first sweep of February: nothing ran, two desktops always on
    // would have run 744 hours each.
    advance_to(&w, at("2027-01-01T00:05:00Z"));
    assert!(sweep(&w).await.iter().all(|a| a.0 != "plan_report"));
    advance_to(&w, at("2027-02-01T00:05:00Z"));
    let february: Vec<String> = sweep(&w).await.into_iter().map(|a| a.0).collect();
    assert_eq!(february.iter().filter(|a| *a == "plan_report").count(), 1);
    assert!(sweep(&w).await.iter().all(|a| a.0 != "plan_report"));
    let reports: Vec<Value> = w
        .sink
        .captured()
        .into_iter()
        .filter(|e| e["DetailType"] == "Power Plan Report")
        .map(|e| e["Detail"].clone())
        .collect();
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    assert_eq!(
        (r["scope"].clone(), r["month"].clone()),
        (json!("TENANT"), json!("2027-01"))
    );
    assert_eq!(
        (r["desktops"].clone(), r["alwaysOnHours"].clone()),
        (json!(2), json!(1488.0))
    );
    assert_eq!(
        (r["insideHours"].clone(), r["outsideHours"].clone()),
        (json!(0.0), json!(0.0))
    );
    assert_eq!(r["savedHours"], json!(1488.0));
    for e in &w.sink.captured() {
        assert_follows_schema(e);
    }
}
