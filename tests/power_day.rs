//! The demo's simulated day (`steward_local::day::simulate_day`) on the emulator (rate
//! limits on) and dynoxide: every kind of power action the demo promises happens, through
//! the real handlers, and the live session is never stopped.

mod power_common;

use power_common::world;
use steward_local::day::simulate_day;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_day_shows_every_power_action() {
    let w = world(1, 4, 4).await;
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
    assert!(actions.iter().any(|a| a.action == "policy_update"));
    assert!(actions.windows(2).all(|p| p[0].time <= p[1].time));
    assert_eq!(w.state(0, &ids[0]), "AVAILABLE");
    // Serialises as the demo's `power_actions` entries.
    let v = serde_json::to_value(&actions[0]).unwrap();
    let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["action", "reason", "time", "workspace"]);
}
