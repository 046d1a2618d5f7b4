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

    // Resumed: the same input again, converging without repeating the terminations. The
    // directory is deregistered once and shows DEREGISTERING for the emulator's 120 s:
    // the task runs at 0, 60 and 120 s (two Waits) and the tenant is OFFBOARDED once
    // DescribeWorkspaceDirectories no longer lists it.
    sb.control().clear_faults();
    let described = sb
        .control()
        .calls(&a.account_id, "WorkSpaces.DescribeWorkspaceDirectories");
    let r = run(&sb, "resumed", input.clone()).await;
    let ExecutionResult::Succeeded { output } = &r else {
        panic!("{r:?}")
    };
    assert_eq!(output["polls"]["directories"], json!({"n": 2}));
    assert_eq!(
        output["directories"],
        json!({"deregistered": [], "waiting": [], "remaining": 0})
    );
    assert_eq!(
        sb.control()
            .calls(&a.account_id, "WorkSpaces.DescribeWorkspaceDirectories")
            - described,
        3
    );
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
    assert!(dirs.directories().is_empty(), "the directory is gone");
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
    let deregistered: Vec<&str> = audit
        .iter()
        .filter(|a| a.action == "offboard_deregister")
        .map(|a| a.reason.as_str())
        .collect();
    assert_eq!(
        deregistered,
        [format!(
            "deregistered directories [\"{} (us-east-1)\"]",
            a.directory_id
        )]
    );

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

/// A directory that never leaves DEREGISTERING: the execution fails by name after its 60
/// polls (61 calls, an hour of Waits), the tenant stays OFFBOARDING; once the service drops
/// the directory, another execution with the same input completes without a second
/// deregistration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offboarding_waits_for_the_directory_and_gives_up_by_name() {
    let (sb, a, t) = setup().await;
    sb.control()
        .update_options(|o| o.durations.directory_deregister = 10.0 * 3600.0);
    let input = json!({"tenantId": t.tenant_id, "confirm": "OFFBOARD"});
    let r = run(&sb, "never-gone", input.clone()).await;
    assert!(
        matches!(&r, ExecutionResult::Failed { error, cause }
            if error == "Steward.PollTimeout" && cause.contains("still listed")),
        "{r:?}"
    );
    assert_eq!(status(&sb, &t).await, TenantStatus::Offboarding);
    let calls = |op: &str| sb.control().calls(&a.account_id, op);
    assert_eq!(calls("WorkSpaces.DescribeWorkspaceDirectories"), 61);
    assert_eq!(calls("WorkSpaces.DeregisterWorkspaceDirectory"), 1);
    let c = sb
        .deps
        .clients
        .for_tenant(TenantAccess::new(&t, &t.regions[0]))
        .await
        .workspaces()
        .clone();
    let directory = a.directory_id.clone();
    let listed = |c: aws_sdk_workspaces::Client| {
        let directory = directory.clone();
        async move {
            c.describe_workspace_directories()
                .directory_ids(directory.as_str())
                .send()
                .await
                .unwrap()
                .directories()
                .iter()
                .map(|d| d.state().map(|s| s.as_str().to_owned()))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(listed(c.clone()).await, [Some("DEREGISTERING".to_owned())]);

    // Ten hours on, the service has dropped it: a new execution completes at once.
    sb.control().advance_seconds(10.0 * 3600.0).unwrap();
    let r = run(&sb, "resumed", input).await;
    let ExecutionResult::Succeeded { output } = &r else {
        panic!("{r:?}")
    };
    assert_eq!(output["polls"]["directories"], json!({"n": 0}));
    assert_eq!(status(&sb, &t).await, TenantStatus::Offboarded);
    assert_eq!(calls("WorkSpaces.DeregisterWorkspaceDirectory"), 1);
    assert!(listed(c).await.is_empty());
    sb.shutdown().await;
}
