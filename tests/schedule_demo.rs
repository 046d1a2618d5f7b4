//! `demo --scenario schedule`: the report a partner reads after two simulated days of a
//! Berlin power plan (Tuesday 2026-12-01 and the Wednesday holiday) — the plan's next
//! window, the plan's actions in time order, the pool at each day's opening minute, the
//! assignment answers — exactly. Times are compared to the minute: the emulator's clock
//! runs on in real time by the milliseconds each step takes, and the scenario's sweeps fall
//! 30 seconds after each five-minute mark, so the minute is what is determined. The
//! emulator's desktop ids are random, so desktops are compared as the sets the actions and
//! answers name.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use steward_local::demo::{DemoOptions, Scenario, run};
use steward_shared::model::TenantStatus;

/// The actions of a power plan the test follows.
const PLAN_ACTIONS: [&str; 5] = ["prewarm", "buffer", "drain_warning", "drain", "holiday"];

/// `2026-12-01T05:45:30.105Z` → `2026-12-01T05:45`.
fn minute(t: &Value) -> String {
    t.as_str().unwrap_or_default().chars().take(16).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedule_demo_prewarms_refills_drains_and_keeps_the_holiday_shut() {
    let report = run(DemoOptions {
        scenario: Scenario::Schedule,
        desktops: 1,
        ..DemoOptions::default()
    })
    .await
    .unwrap();
    let lines: Vec<&str> = report.timeline.iter().map(|e| e.what.as_str()).collect();
    assert_eq!(
        report.tenants[0].onboarding,
        TenantStatus::Active,
        "{lines:#?}"
    );
    let json = serde_json::to_value(&report).unwrap();

    // The plan's next window at the end (Wednesday 20:00 in Berlin): Thursday's.
    assert_eq!(
        json["plans"],
        json!([{
            "pool": "call-centre",
            "zone": "Europe/Berlin",
            "nextOpen": {"utc": "2026-12-03T06:00:00Z", "local": "2026-12-03T07:00:00+01:00"},
            "nextClose": {"utc": "2026-12-03T18:00:00Z", "local": "2026-12-03T19:00:00+01:00"},
        }]),
        "{lines:#?}"
    );

    // The plan's actions, in order, to the minute (UTC; Berlin is UTC+1).
    let actions: Vec<&Value> = json["power_actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| PLAN_ACTIONS.contains(&a["action"].as_str().unwrap_or_default()))
        .collect();
    let timed: Vec<(String, String)> = actions
        .iter()
        .map(|a| (a["action"].as_str().unwrap().to_owned(), minute(&a["time"])))
        .collect();
    let expected = [
        // 06:45 in Berlin: the default lead (600 s + one interval) before 07:00.
        ("prewarm", "2026-12-01T05:45"),
        ("prewarm", "2026-12-01T05:45"),
        ("prewarm", "2026-12-01T05:45"),
        // Two agents took two warm desktops at 08:00: refilled within one sweep.
        ("buffer", "2026-12-01T07:05"),
        ("buffer", "2026-12-01T07:05"),
        // A third at 10:00.
        ("buffer", "2026-12-01T09:05"),
        // The window closed at 19:00: the live session warned, the other five stopped…
        ("drain_warning", "2026-12-01T18:00"),
        ("drain", "2026-12-01T18:00"),
        ("drain", "2026-12-01T18:00"),
        ("drain", "2026-12-01T18:00"),
        ("drain", "2026-12-01T18:00"),
        ("drain", "2026-12-01T18:00"),
        // …and the warned one after the 30-minute grace.
        ("drain", "2026-12-01T18:30"),
        // Wednesday: the measured lead (p90 300 s + one interval) reaches 06:50 in Berlin.
        ("holiday", "2026-12-02T05:50"),
    ]
    .map(|(a, t)| (a.to_owned(), t.to_owned()));
    assert_eq!(timed, expected, "{lines:#?}");

    let desktops = |action: &str, at: &str| -> BTreeSet<String> {
        actions
            .iter()
            .filter(|a| a["action"] == action && minute(&a["time"]) == at)
            .map(|a| a["workspace"].as_str().unwrap().to_owned())
            .collect()
    };
    let prewarmed = desktops("prewarm", "2026-12-01T05:45");
    let refilled: BTreeSet<String> = desktops("buffer", "2026-12-01T07:05")
        .union(&desktops("buffer", "2026-12-01T09:05"))
        .cloned()
        .collect();
    assert_eq!((prewarmed.len(), refilled.len()), (3, 3));
    assert!(prewarmed.is_disjoint(&refilled));
    let pool: BTreeSet<String> = prewarmed.union(&refilled).cloned().collect();

    // 07:00 in Berlin on Tuesday: every pre-warmed desktop (the buffer of 3) AVAILABLE, the
    // rest of the pool still STOPPED; on the holiday, all six STOPPED.
    let opening = json["opening_minute"].as_array().unwrap();
    assert_eq!(opening.len(), 2);
    assert_eq!(
        opening[0]["at"],
        json!({"utc": "2026-12-01T06:00:00Z", "local": "2026-12-01T07:00:00+01:00"})
    );
    let tuesday: Vec<(String, String)> = opening[0]["states"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(ws, s)| (ws.clone(), s.as_str().unwrap().to_owned()))
        .collect();
    let expected_tuesday: Vec<(String, String)> = pool
        .iter()
        .map(|ws| {
            let state = if prewarmed.contains(ws) {
                "AVAILABLE"
            } else {
                "STOPPED"
            };
            (ws.clone(), state.to_owned())
        })
        .collect();
    assert_eq!(tuesday, expected_tuesday, "{lines:#?}");
    assert_eq!(
        opening[1]["at"],
        json!({"utc": "2026-12-02T06:00:00Z", "local": "2026-12-02T07:00:00+01:00"})
    );
    let wednesday: Vec<(String, String)> = pool
        .iter()
        .map(|ws| (ws.clone(), "STOPPED".to_owned()))
        .collect();
    let seen_wednesday: Vec<(String, String)> = opening[1]["states"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(ws, s)| (ws.clone(), s.as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(seen_wednesday, wednesday, "{lines:#?}");

    // The answers: the first two agents got pre-warmed desktops, the third a desktop the
    // buffer started, the fourth was refused on the holiday.
    let answers: Vec<(String, Option<String>, String)> = json["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["user"].as_str().unwrap().to_owned(),
                a["workspaceId"].as_str().map(str::to_owned),
                a["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let outcomes: Vec<(&str, bool, &str)> = answers
        .iter()
        .map(|(u, ws, o)| (u.as_str(), ws.is_some(), o.as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("agent-1", true, "assigned"),
            ("agent-2", true, "assigned"),
            ("agent-3", true, "assigned"),
            ("agent-4", false, "failed: POOL_CLOSED"),
        ],
        "{lines:#?}"
    );
    let held = |n: usize| answers[n].1.clone().unwrap();
    assert!(prewarmed.contains(&held(0)) && prewarmed.contains(&held(1)));
    assert_ne!(held(0), held(1));
    assert!(pool.contains(&held(2)) && held(2) != held(0) && held(2) != held(1));

    // The drain: the third agent's live session warned and stopped after the grace, the
    // other five (three free, two released before the close) stopped at once.
    let agent_3 = BTreeSet::from([held(2)]);
    assert_eq!(desktops("drain_warning", "2026-12-01T18:00"), agent_3);
    assert_eq!(desktops("drain", "2026-12-01T18:30"), agent_3);
    let others: BTreeSet<String> = pool.difference(&agent_3).cloned().collect();
    assert_eq!(desktops("drain", "2026-12-01T18:00"), others);

    // Nothing started on the holiday: no start of any kind on Wednesday, and the service
    // saw exactly Tuesday's three StartWorkspaces calls (one pre-warm, two refills).
    let wednesday_starts = report
        .power_actions
        .iter()
        .filter(|a| a.time.to_rfc3339().starts_with("2026-12-02"))
        .filter(|a| ["prewarm", "buffer", "start"].contains(&a.action.as_str()))
        .count();
    assert_eq!(wednesday_starts, 0, "{lines:#?}");
    let succeeded = |op: &str| {
        report.api_calls.get(op).copied().unwrap_or(0)
            - report.api_errors.get(op).copied().unwrap_or(0)
    };
    assert_eq!(succeeded("WorkSpaces.StartWorkspaces"), 3);
    // The plan was made on 30 November: its first report is for December, its first whole
    // month, so none is told in these two days.
    let reports = report
        .power_actions
        .iter()
        .filter(|a| a.action == "plan_report")
        .count();
    assert_eq!(reports, 0, "{lines:#?}");
}
