//! The demo's simulated day (`steward_local::day::simulate_day`) on the emulator (rate
//! limits on) and dynoxide: every kind of power action the demo promises happens, through
//! the real handlers, and the live session is never stopped.

mod power_common;

use power_common::world;
use steward_local::day::simulate_day;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_day_shows_every_power_action() {
    let w = world(1, 5, 5).await;
    let ids = power_common::registered_ids(&w.emu, &w.accounts[0]);
    let start = w.now();
    let actions = simulate_day(&w.deps, w.emu.control(), &w.tenants[0].tenant_id)
        .await
        .unwrap();
    let did = |ws: &str, action: &str| {
        actions
            .iter()
            .filter(|a| a.workspace == ws && a.action == action)
            .count()
    };
    // A: live session all day: one guard warning, never stopped.
    assert_eq!(did(&ids[0], "guard_warning"), 1, "{actions:#?}");
    assert_eq!(did(&ids[0], "stop") + did(&ids[0], "hard_limit_stop"), 0);
    // B: idle after its session ended: stopped by the idle sweep.
    assert_eq!(did(&ids[1], "stop"), 1, "{actions:#?}");
    // C: never used: stopped idle, then started with a lease.
    assert_eq!(did(&ids[2], "stop"), 1);
    assert_eq!(did(&ids[2], "start"), 1);
    // D: idle under the long timeout: stopped by the guard, long before 48 h.
    let d_stop = actions
        .iter()
        .find(|a| a.workspace == ids[3] && a.action == "stop")
        .expect("D stopped");
    assert!(d_stop.reason.starts_with("guard:"), "{d_stop:?}");
    assert!(d_stop.time - start < chrono::Duration::hours(10));
    // C's start is Steward's own: never drift, and its completion is reported.
    let c_available = actions
        .iter()
        .find(|a| a.workspace == ids[2] && a.action == "available")
        .expect("Desktop Available for C");
    assert!(
        c_available
            .reason
            .starts_with("AVAILABLE: Steward's start call"),
        "{c_available:?}"
    );
    // E: stopped on request (completion seen by the next sweep), started from the console
    // (drift, the only one of the day), then stopped by the idle rule.
    let e: Vec<(&str, &str)> = actions
        .iter()
        .filter(|a| a.workspace == ids[4])
        .map(|a| (a.action.as_str(), a.reason.as_str()))
        .collect();
    let e_did: Vec<&str> = e.iter().map(|(a, _)| *a).collect();
    assert_eq!(
        e_did,
        ["stop", "stopped", "drift", "stop", "stopped"],
        "{e:#?}"
    );
    assert!(e[2].1.starts_with("started outside Steward ("), "{e:#?}");
    assert!(e[2].1.contains("usage counted from"), "{e:#?}");
    assert!(e[3].1.starts_with("idle since"), "{e:#?}");
    let drift: Vec<&str> = actions
        .iter()
        .filter(|a| a.action == "drift")
        .map(|a| a.workspace.as_str())
        .collect();
    assert_eq!(
        drift,
        [ids[4].as_str()],
        "no drift for Steward's own starts and stops"
    );
    assert!(actions.iter().any(|a| a.action == "policy_update"));
    assert!(actions.windows(2).all(|p| p[0].time <= p[1].time));
    assert_eq!(w.state(0, &ids[0]), "AVAILABLE");
    // Serialises as the demo's `power_actions` entries.
    let v = serde_json::to_value(&actions[0]).unwrap();
    let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["action", "reason", "time", "workspace"]);

    // Every event the day published follows its published schema, completions included.
    let published = w.sink.captured();
    let mut kinds = std::collections::BTreeSet::new();
    for e in &published {
        kinds.insert(e["DetailType"].as_str().unwrap_or_default().to_owned());
        power_common::assert_follows_schema(e);
    }
    for dt in [
        "Desktop Available",
        "Desktop Stopped",
        "Desktop Stopping",
        "Desktop Starting",
        "Desktop Drift Detected",
        "Desktop Guard Warning",
    ] {
        assert!(kinds.contains(dt), "{dt} not published: {kinds:?}");
    }
}
