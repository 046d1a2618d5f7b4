//! `demo --scenario pools`: the report a partner reads after the scenario — the pools'
//! status, every assignment request with its answer, and the release plan's actions among
//! the power actions — exactly, desktops named by the order in which they were first
//! assigned (the emulator's ids are random).

use std::collections::BTreeMap;

use serde_json::{Value, json};
use steward_local::demo::{DemoOptions, Scenario, run};
use steward_shared::model::TenantStatus;

/// Replaces each desktop id by `D<n>`, n counting from the first assignment.
struct Labels(BTreeMap<String, String>);

impl Labels {
    fn of(assignments: &[Value]) -> Self {
        let mut map = BTreeMap::new();
        for a in assignments {
            if let Some(ws) = a["workspaceId"].as_str()
                && !map.contains_key(ws)
            {
                let label = format!("D{}", map.len() + 1);
                map.insert(ws.to_owned(), label);
            }
        }
        Labels(map)
    }

    fn label(&self, ws: &str) -> String {
        self.0
            .get(ws)
            .cloned()
            .unwrap_or_else(|| format!("unassigned {ws}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pools_demo_reports_its_pools_assignments_and_release_actions() {
    let report = run(DemoOptions {
        scenario: Scenario::Pools,
        desktops: 2,
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

    assert_eq!(
        json["pools"],
        json!([
            {"name": "call-centre", "size": 6, "free": 0, "assigned": 6},
            {"name": "engineering", "size": 2, "free": 1, "assigned": 1},
        ]),
        "{lines:#?}"
    );

    let assignments = json["assignments"].as_array().unwrap().clone();
    let labels = Labels::of(&assignments);
    let answered: Vec<Value> = assignments
        .iter()
        .map(|a| {
            json!({
                "user": a["user"],
                "pool": a["pool"],
                "desktop": a["workspaceId"].as_str().map(|w| labels.label(w)),
                "outcome": a["outcome"],
            })
        })
        .collect();
    let exhausted = "failed: POOL_EXHAUSTED";
    let expected = [
        // Four agents get the four AVAILABLE desktops, the fifth makes the pool grow by
        // two to its maximum, the sixth gets the other new one, the seventh is refused.
        ("agent-1", "call-centre", Some("D1"), "assigned"),
        ("agent-2", "call-centre", Some("D2"), "assigned"),
        ("agent-3", "call-centre", Some("D3"), "assigned"),
        ("agent-4", "call-centre", Some("D4"), "assigned"),
        ("agent-5", "call-centre", Some("D5"), "assigned"),
        ("agent-6", "call-centre", Some("D6"), "assigned"),
        ("agent-7", "call-centre", None, exhausted),
        // The dedicated desktop, and the same one after a session.
        ("dev-1", "engineering", Some("D7"), "assigned"),
        ("dev-1", "engineering", Some("D7"), "assigned again"),
        // Within the release delay: not another user's; the same user's again.
        ("agent-7", "call-centre", None, exhausted),
        ("agent-1", "call-centre", Some("D1"), "assigned"),
        // Being rebuilt: still nobody's; rebuilt and returned: the seventh agent's.
        ("agent-7", "call-centre", None, exhausted),
        ("agent-7", "call-centre", Some("D2"), "assigned"),
    ]
    .map(|(user, pool, desktop, outcome)| {
        json!({"user": user, "pool": pool, "desktop": desktop, "outcome": outcome})
    });
    assert_eq!(answered, expected, "{lines:#?}");

    // The release plan's actions, in order: both agents' releases, the rebuild of the one
    // not reclaimed, its return.
    let release_actions: Vec<(String, String)> = report
        .power_actions
        .iter()
        .filter(|a| ["release", "rebuild", "restore", "returned"].contains(&a.action.as_str()))
        .map(|a| (a.action.clone(), labels.label(&a.workspace)))
        .collect();
    let expected_releases = [
        ("release", "D1"),
        ("release", "D2"),
        ("rebuild", "D2"),
        ("returned", "D2"),
    ]
    .map(|(a, d)| (a.to_owned(), d.to_owned()));
    assert_eq!(release_actions, expected_releases, "{lines:#?}");
    // Each answer is among the power actions too.
    let count = |name: &str| {
        report
            .power_actions
            .iter()
            .filter(|a| a.action == name)
            .count()
    };
    assert_eq!(
        (count("assign"), count("assignment_failed")),
        (10, 3),
        "{lines:#?}"
    );
    // One rebuild reached the service and succeeded.
    let succeeded = |op: &str| {
        report.api_calls.get(op).copied().unwrap_or(0)
            - report.api_errors.get(op).copied().unwrap_or(0)
    };
    assert_eq!(succeeded("WorkSpaces.RebuildWorkspaces"), 1);
    // The timeline says how the protocol plan was established.
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("allowUnverifiedProtocol: true")
                || l.contains("the pools' protocol plan is verified"))
            .count(),
        1,
        "{lines:#?}"
    );
}
