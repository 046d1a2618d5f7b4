//! The offboarding state machine on the sandbox (emulator, dynoxide, the runner executing
//! `statemachines/offboarding.asl.yaml` from `template.yaml`): guarded by its confirmation,
//! interrupted by a failure and resumed by a second execution, and a run on an OFFBOARDED
//! tenant makes no call at all.

use serde_json::{Value, json};
use stepfunctions_runner::ExecutionResult;
use steward_local::sandbox::{Sandbox, SandboxOptions, drive};
use steward_local::wiring::{bulk_desktop, bulk_tenant};
use steward_shared::aws::TenantAccess;
use steward_shared::model::{Tenant, TenantStatus, WorkspaceState};
use steward_shared::store::{AuditStore, PageRequest, TenantStore, WorkspaceStore, collect_all};
use workspaces_core_emulator::limits::FaultRule;
use workspaces_core_emulator::seed::{BulkAccount, BulkSeed};

const MACHINE: &str = "OffboardingStateMachine";

async fn setup() -> (Sandbox, BulkAccount, Tenant) {
    let mut opts = SandboxOptions::default();
    opts.emulator.maintenance.enabled = false;
    opts.emulator.rate_limit.enabled = false;
    let sb = Sandbox::start(opts).await.unwrap();
    let a = sb
        .control()
        .bulk_seed(&BulkSeed {
            accounts: 1,
            workspaces_per_account: 4,
            region: "us-east-1".into(),
            first_account_id: 430_000_000_001,
            stopped_per_account: 0,
        })
        .remove(0);
    let now = sb.control().now();
    let t = sb
        .deps
        .store
        .create_tenant(&bulk_tenant(&a, now).unwrap())
        .await
        .unwrap();
    for id in sb.control().workspace_ids(&a.account_id, &a.region) {
        let r = bulk_desktop(&t, &a, &id, WorkspaceState::Available, now).unwrap();
        sb.deps.store.create_workspace(&r).await.unwrap();
    }
    (sb, a, t)
}

async fn run(sb: &Sandbox, name: &str, input: Value) -> ExecutionResult {
    let wf = sb.runner(MACHINE).expect("the definition loads");
    drive(&wf.runner.start(name, input), |_| None).await
}

fn calls(sb: &Sandbox, account: &str) -> u64 {
    sb.control()
        .counters()
        .get(account)
        .map(|ops| ops.values().map(|c| c.calls).sum())
        .unwrap_or(0)
}

async fn status(sb: &Sandbox, t: &Tenant) -> TenantStatus {
    sb.deps
        .store
        .get_tenant(&t.tenant_id)
        .await
        .unwrap()
        .unwrap()
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_offboarding_resumes_and_a_second_run_calls_nothing() {
    let (sb, a, t) = setup().await;
    let input = json!({"tenantId": t.tenant_id, "confirm": "OFFBOARD"});

    // Without the confirmation: refused by name, nothing called, the tenant untouched.
    let before = calls(&sb, &a.account_id);
    let r = run(&sb, "unconfirmed", json!({"tenantId": t.tenant_id})).await;
    assert!(
        matches!(&r, ExecutionResult::Failed { error, .. } if error == "Steward.ConfirmationRequired"),
        "{r:?}"
    );
    assert_eq!(calls(&sb, &a.account_id), before);
    assert_eq!(status(&sb, &t).await, TenantStatus::Active);

    // Interrupted: DeleteWorkspaceBundle is refused, after the desktops are gone.
    let fault: FaultRule = serde_json::from_value(json!({
        "operation": "WorkSpaces.DeleteWorkspaceBundle",
        "account": a.account_id,
        "error_code": "AccessDeniedException",
        "message": "injected",
        "http_status": 400
    }))
    .unwrap();
    sb.control().inject_fault(fault);
    let r = run(&sb, "interrupted", input.clone()).await;
    assert!(
        matches!(&r, ExecutionResult::Failed { error, .. } if error == "Steward.AccessDenied"),
        "{r:?}"
    );
    assert_eq!(status(&sb, &t).await, TenantStatus::Offboarding);
    let c = sb
        .deps
        .clients
        .for_tenant(TenantAccess::new(&t, &t.regions[0]))
        .await
        .workspaces()
        .clone();
    let desks = c
        .describe_workspaces()
        .directory_id(a.directory_id.as_str())
        .send()
        .await
        .unwrap();
    assert!(desks.workspaces().is_empty(), "the desktops are gone");
    let tid = t.tenant_id.clone();
    let left = collect_all(|p: PageRequest| sb.deps.store.list_workspaces(&tid, p))
        .await
        .unwrap();
    assert!(left.is_empty(), "their records removed: {left:?}");
    let terminates = sb
        .control()
        .calls(&a.account_id, "WorkSpaces.TerminateWorkspaces");
    assert_eq!(terminates, 1, "4 desktops, one batch");

    // Resumed: the same input again, converging without repeating the terminations.
    sb.control().clear_faults();
    let r = run(&sb, "resumed", input.clone()).await;
    assert!(matches!(r, ExecutionResult::Succeeded { .. }), "{r:?}");
    assert_eq!(status(&sb, &t).await, TenantStatus::Offboarded);
    assert_eq!(
        sb.control()
            .calls(&a.account_id, "WorkSpaces.TerminateWorkspaces"),
        terminates
    );
    let bundles = c
        .describe_workspace_bundles()
        .bundle_ids(a.bundle_id.as_str())
        .send()
        .await
        .unwrap();
    assert!(bundles.bundles().is_empty(), "the bundle is deleted");
    let images = c
        .describe_workspace_images()
        .image_ids(a.image_id.as_str())
        .send()
        .await
        .unwrap();
    assert!(images.images().is_empty(), "the image is deleted");
    let dirs = c
        .describe_workspace_directories()
        .directory_ids(a.directory_id.as_str())
        .send()
        .await
        .unwrap();
    assert!(
        dirs.directories()
            .iter()
            .all(|d| d.state().map(|s| s.as_str()) != Some("REGISTERED")),
        "the directory is deregistered"
    );
    assert_eq!(
        sb.control()
            .calls(&a.account_id, "WorkSpaces.DeregisterWorkspaceDirectory"),
        1
    );
    // The audit trail is kept.
    let from = sb.control().now() - chrono::Duration::days(2);
    let to = sb.control().now() + chrono::Duration::days(1);
    let audit = collect_all(|p: PageRequest| sb.deps.store.list_audit(&tid, from, to, p))
        .await
        .unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    for want in [
        "offboard_start",
        "offboard_terminate",
        "offboard_delete",
        "offboarded",
    ] {
        assert!(actions.contains(&want), "{want} in {actions:?}");
    }

    // A second run on the OFFBOARDED tenant: success, and not one call.
    let before = calls(&sb, &a.account_id);
    let r = run(&sb, "again", input).await;
    assert!(matches!(r, ExecutionResult::Succeeded { .. }), "{r:?}");
    assert_eq!(
        calls(&sb, &a.account_id),
        before,
        "a second run makes no call"
    );
    sb.shutdown().await;
}
