//! `demo --scenario lifecycle`: every operation of the partner guide's lifecycle list
//! succeeds at least once on the emulator (the demo's `api_calls` less its `api_errors`), and
//! the customer ends offboarded.

use steward_local::demo::{DemoOptions, Scenario, run};
use steward_shared::model::TenantStatus;

/// The guide's "Lifecycle management of instances" list, every operation of it.
pub const GUIDE_LIFECYCLE_OPERATIONS: [&str; 33] = [
    "CreateTags",
    "DescribeAccount",
    "DescribeAccountModifications",
    "ImportWorkspaceImage",
    "ModifyAccount",
    "ListAvailableManagementCidrRanges",
    "RegisterWorkspaceDirectory",
    "CopyWorkspaceImage",
    "CreateWorkspaceImage",
    "DescribeTags",
    "DescribeWorkspaceBundles",
    "DescribeWorkspaceDirectories",
    "DescribeWorkspaceImagePermissions",
    "DescribeWorkspaceImages",
    "DescribeWorkspaces",
    "DescribeWorkspaceSnapshots",
    "MigrateWorkspace",
    "ModifyWorkspaceCreationProperties",
    "ModifyWorkspaceProperties",
    "ModifyWorkspaceState",
    "RebootWorkspaces",
    "RebuildWorkspaces",
    "RestoreWorkspace",
    "StartWorkspaces",
    "StopWorkspaces",
    "UpdateWorkspaceBundle",
    "UpdateWorkspaceImagePermission",
    "DeleteTags",
    "DeleteWorkspaceBundle",
    "DeleteWorkspaceImage",
    "DeregisterWorkspaceDirectory",
    "TerminateWorkspaces",
    "CreateWorkspaces",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lifecycle_demo_calls_every_operation_of_the_guide() {
    let report = run(DemoOptions {
        scenario: Scenario::Lifecycle,
        desktops: 5,
        ..DemoOptions::default()
    })
    .await
    .unwrap();
    // Succeeded at least once: called more often than answered with an error (refusals and
    // throttling are counted as calls too).
    let missing: Vec<&str> = GUIDE_LIFECYCLE_OPERATIONS
        .iter()
        .copied()
        .filter(|op| {
            let key = format!("WorkSpaces.{op}");
            let calls = report.api_calls.get(&key).copied().unwrap_or(0);
            let errors = report.api_errors.get(&key).copied().unwrap_or(0);
            calls <= errors
        })
        .collect();
    let lines: Vec<&str> = report.timeline.iter().map(|e| e.what.as_str()).collect();
    assert!(
        missing.is_empty(),
        "never succeeded: {missing:?}\n{lines:#?}"
    );
    assert!(
        !lines.iter().any(|l| l.contains("refused")
            && !l.contains("AUTO_STOP")
            && !l.contains("RunningModeNotAllowed")),
        "{lines:#?}"
    );
    assert_eq!(report.tenants[0].onboarding, TenantStatus::Offboarded);
}
