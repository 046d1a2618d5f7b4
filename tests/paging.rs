//! Real accounts hold more than one page: onboarding and offboarding end to end on the
//! sandbox with the emulator answering two items per page (`default_page_size`) and the
//! customer account holding more AMIs, Directory Service directories (registered with
//! WorkSpaces too), images and bundles than a page holds. Every Describe call Steward makes
//! must follow `NextToken` to the end: the partner's own bundle, image and directory may
//! sit on any page, and only those are removed.

use serde_json::json;
use steward_local::sandbox::{Sandbox, default_onboarding_input};
use steward_shared::aws::TenantAccess;
use steward_shared::model::{TenantStatus, WorkspaceState};
use steward_shared::store::{PageRequest, WorkspaceStore, collect_all};
use steward_tests::flows::{demo_tenant, demo_tenant_record, run_to_success, sandbox_with};
use workspaces_core_emulator::Options;
use workspaces_core_emulator::seed::{AccountSeed, CUSTOMER_ACCOUNT, ExtraResources, ids};

/// More of each than two pages of two hold.
const EXTRA: usize = 5;

async fn sandbox() -> Sandbox {
    let mut emulator = Options::default();
    emulator.rate_limit.enabled = false;
    emulator.maintenance.enabled = false;
    emulator.default_page_size = 2;
    let sb = sandbox_with(emulator).await;
    sb.control().seed_account(&AccountSeed {
        extra: ExtraResources {
            ds_directories: EXTRA,
            register_ds_directories: true,
            images: EXTRA,
            bundles: EXTRA,
            amis: EXTRA,
        },
        ..AccountSeed::default()
    });
    sb
}

fn calls(sb: &Sandbox, op: &str) -> u64 {
    sb.control()
        .calls(CUSTOMER_ACCOUNT, &format!("WorkSpaces.{op}"))
}

/// What the customer account holds: (image ids, custom bundle ids, REGISTERED directory
/// ids), each sorted, every page read.
async fn holdings(c: &aws_sdk_workspaces::Client) -> (Vec<String>, Vec<String>, Vec<String>) {
    let mut images = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .describe_workspace_images()
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        images.extend(
            page.images()
                .iter()
                .filter_map(|i| i.image_id().map(str::to_owned)),
        );
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    let mut bundles = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .describe_workspace_bundles()
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        bundles.extend(
            page.bundles()
                .iter()
                .filter_map(|b| b.bundle_id().map(str::to_owned)),
        );
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    let mut directories = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .describe_workspace_directories()
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        directories.extend(
            page.directories()
                .iter()
                .filter(|d| d.state().map(|s| s.as_str()) == Some("REGISTERED"))
                .filter_map(|d| d.directory_id().map(str::to_owned)),
        );
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    images.sort();
    bundles.sort();
    directories.sort();
    (images, bundles, directories)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onboarding_and_offboarding_read_every_page() {
    let sb = sandbox().await;
    let mut input = default_onboarding_input(3);
    input["confirmByol"] = json!(true);
    input["selections"] = json!({
        "managementCidr": "10.200.0.0/16",
        "ec2ImageId": ids::AMI_WIN11_ELIGIBLE,
        "directoryId": ids::DIRECTORY_CORP,
    });
    let out = run_to_success(&sb, "OnboardingStateMachine", "paged", input).await;
    assert_eq!(
        (out["status"].as_str(), out["workspaces"].as_u64()),
        (Some("ACTIVE"), Some(3)),
        "{out}"
    );
    let t = demo_tenant_record(&sb).await;
    assert_eq!(t.status, TenantStatus::Active);
    let id = demo_tenant();
    let records = collect_all(|p: PageRequest| sb.deps.store.list_workspaces(&id, p))
        .await
        .unwrap();
    assert_eq!(
        records
            .iter()
            .map(|r| (r.state, r.directory_id.as_str()))
            .collect::<Vec<_>>(),
        [(WorkspaceState::Available, ids::DIRECTORY_CORP); 3]
    );
    let image = out["imageId"].as_str().unwrap().to_owned();
    let bundle = out["bundleId"].as_str().unwrap().to_owned();

    // The account before offboarding: the extras beside the partner's own.
    let c = sb
        .deps
        .clients
        .for_tenant(TenantAccess::new(&t, &t.regions[0]))
        .await
        .workspaces()
        .clone();
    let (images, bundles, directories) = holdings(&c).await;
    assert_eq!(images.len(), EXTRA + 1, "{images:?}");
    assert!(images.contains(&image));
    assert_eq!(bundles.len(), EXTRA + 1, "{bundles:?}");
    assert!(bundles.contains(&bundle));
    assert_eq!(directories.len(), EXTRA + 1, "{directories:?}");
    assert!(directories.iter().any(|d| d == ids::DIRECTORY_CORP));
    // Listing them took several pages of two.
    assert!(calls(&sb, "DescribeWorkspaceDirectories") > 3);

    // Offboarding finds the partner's bundle, image and directory wherever they are listed,
    // removes exactly those, and waits until the directory is gone.
    let out = run_to_success(
        &sb,
        "OffboardingStateMachine",
        "paged-offboard",
        json!({"tenantId": demo_tenant(), "confirm": "OFFBOARD"}),
    )
    .await;
    assert_eq!(
        out["deleted"],
        json!({"bundlesDeleted": [bundle], "imagesDeleted": [image]})
    );
    assert_eq!(out["directories"]["remaining"], 0);
    assert_eq!(
        demo_tenant_record(&sb).await.status,
        TenantStatus::Offboarded
    );
    assert_eq!(
        (
            calls(&sb, "TerminateWorkspaces"),
            calls(&sb, "DeleteWorkspaceBundle"),
            calls(&sb, "DeleteWorkspaceImage"),
            calls(&sb, "DeregisterWorkspaceDirectory"),
        ),
        (1, 1, 1, 1)
    );
    let (left_images, left_bundles, left_directories) = holdings(&c).await;
    let without = |all: Vec<String>, gone: &str| -> Vec<String> {
        all.into_iter().filter(|x| x != gone).collect()
    };
    assert_eq!(left_images, without(images, &image));
    assert_eq!(left_bundles, without(bundles, &bundle));
    assert_eq!(left_directories, without(directories, ids::DIRECTORY_CORP));
    assert_eq!(left_directories.len(), EXTRA);
    sb.shutdown().await;
}
