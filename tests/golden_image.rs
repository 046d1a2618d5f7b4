//! The golden image state machine on the sandbox: image from a reference desktop, the bundle
//! updated to it, a rollout in waves that skips a desktop with a live session until it is
//! free, and a rollout that halts once failures pass its threshold.

use serde_json::{Value, json};
use stepfunctions_runner::ExecutionResult;
use steward_local::sandbox::{Sandbox, SandboxOptions, drive};
use steward_local::wiring::{bulk_desktop, bulk_tenant};
use steward_shared::aws::TenantAccess;
use steward_shared::ids::{BundleId, WorkspaceId};
use steward_shared::model::{Session, Tenant, WorkspaceState};
use steward_shared::store::{TenantStore, WorkspaceStore};
use workspaces_core_emulator::limits::FaultRule;
use workspaces_core_emulator::seed::{BulkAccount, BulkSeed};

const MACHINE: &str = "GoldenImageStateMachine";

async fn setup(first: u64) -> (Sandbox, BulkAccount, Tenant, Vec<String>) {
    let mut opts = SandboxOptions::default();
    opts.emulator.maintenance.enabled = false;
    opts.emulator.rate_limit.enabled = false;
    let sb = Sandbox::start(opts).await.unwrap();
    let a = sb
        .control()
        .bulk_seed(&BulkSeed {
            accounts: 1,
            workspaces_per_account: 5,
            region: "us-east-1".into(),
            first_account_id: first,
            stopped_per_account: 0,
        })
        .remove(0);
    let now = sb.control().now();
    let mut t = bulk_tenant(&a, now).unwrap();
    // Sessions count as live for an hour without heartbeats.
    t.policy.heartbeat_timeout_minutes = 60;
    let t = sb.deps.store.create_tenant(&t).await.unwrap();
    let mut ids = sb.control().workspace_ids(&a.account_id, &a.region);
    ids.sort();
    for id in &ids {
        let mut r = bulk_desktop(&t, &a, id, WorkspaceState::Available, now).unwrap();
        r.bundle_id = Some(BundleId::parse(a.bundle_id.as_str()).unwrap());
        sb.deps.store.create_workspace(&r).await.unwrap();
    }
    (sb, a, t, ids)
}

fn input(t: &Tenant, a: &BulkAccount, reference: &str, wave: usize, threshold: usize) -> Value {
    json!({
        "tenantId": t.tenant_id,
        "workspaceId": reference,
        "imageName": "golden-2026-11",
        "imageDescription": "November golden image",
        "bundleId": a.bundle_id,
        "rollout": "rebuild",
        "waveSize": wave,
        "failureThreshold": threshold,
    })
}

async fn run(sb: &Sandbox, name: &str, input: Value) -> ExecutionResult {
    let wf = sb.runner(MACHINE).expect("the definition loads");
    drive(&wf.runner.start(name, input), |_| None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rollout_rebuilds_in_waves_and_waits_for_a_busy_desktop() {
    let (sb, a, t, ids) = setup(440_000_000_001).await;
    // Desktop 1 has a live session (no heartbeat after it: live for the policy's hour).
    let now = sb.control().now();
    let mut busy = sb
        .deps
        .store
        .get_workspace(&t.tenant_id, &WorkspaceId::parse(ids[1].as_str()).unwrap())
        .await
        .unwrap()
        .unwrap();
    busy.sessions.push(Session {
        session_id: steward_shared::ids::OpaqueId::parse("sess-1").unwrap(),
        started_at: now,
        last_heartbeat_at: now,
    });
    sb.deps.store.update_workspace(&busy).await.unwrap();

    let r = run(&sb, "golden", input(&t, &a, &ids[0], 2, 0)).await;
    let ExecutionResult::Succeeded { output } = r else {
        panic!("{r:?}");
    };
    let image = output["image"]["imageId"].as_str().unwrap().to_owned();
    let c = sb
        .deps
        .clients
        .for_tenant(TenantAccess::new(&t, &t.regions[0]))
        .await
        .workspaces()
        .clone();
    let b = c
        .describe_workspace_bundles()
        .bundle_ids(a.bundle_id.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(
        b.bundles()[0].image_id(),
        Some(image.as_str()),
        "the bundle is on the new image"
    );
    let calls = |op: &str| sb.control().calls(&a.account_id, op);
    assert_eq!(calls("WorkSpaces.CreateWorkspaceImage"), 1);
    assert_eq!(calls("WorkSpaces.UpdateWorkspaceBundle"), 1);
    assert_eq!(
        calls("WorkSpaces.RebuildWorkspaces"),
        4,
        "every desktop but the reference, once"
    );
    let done: Vec<String> = serde_json::from_value(output["rollout"]["done"].clone()).unwrap();
    assert_eq!(done.len(), 4, "{output}");
    assert!(
        !done.contains(&ids[0]),
        "the reference desktop is left alone"
    );
    assert!(
        !done[..2].contains(&ids[1]),
        "the busy desktop is not in the first wave: {done:?}"
    );
    assert!(done.contains(&ids[1]), "it is rebuilt once free: {done:?}");
    for id in &ids[1..] {
        assert_eq!(
            sb.control()
                .workspace_state(&a.account_id, &a.region, id)
                .as_deref()
                .map(|s| s == "REBUILDING" || s == "AVAILABLE"),
            Some(true),
            "{id}"
        );
    }
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rollout_halts_when_failures_pass_the_threshold() {
    let (sb, a, t, ids) = setup(450_000_000_001).await;
    let fault: FaultRule = serde_json::from_value(json!({
        "operation": "WorkSpaces.RebuildWorkspaces",
        "account": a.account_id,
        "error_code": "OperationNotSupportedException",
        "message": "injected",
        "http_status": 400
    }))
    .unwrap();
    sb.control().inject_fault(fault);
    let r = run(&sb, "halted", input(&t, &a, &ids[0], 2, 1)).await;
    assert!(
        matches!(&r, ExecutionResult::Failed { error, .. } if error == "Steward.RolloutHalted"),
        "{r:?}"
    );
    assert_eq!(
        sb.control()
            .calls(&a.account_id, "WorkSpaces.RebuildWorkspaces"),
        2,
        "one wave of two, then halted"
    );
    sb.shutdown().await;
}
