//! A tenant in two Regions, end to end on the sandbox (emulator, embedded DynamoDB, the
//! runner executing the template's state machines): onboarded in us-east-1, then a second
//! onboarding of the same tenant in us-west-2 (its own BYOL setting, image, directory,
//! bundle and desktops: the emulator keys everything by account and Region), then one idle
//! sweep stops the idle desktops of both Regions, a lifecycle command acts in the second
//! Region, the desktops query lists both, and offboarding removes both.

use serde_json::{Value, json};
use steward_functions::dispatch;
use steward_functions::power::SweepKind;
use steward_functions::power::fanout::{TenantOutcome, sweep_one};
use steward_functions::power::sweep::SweepOptions;
use steward_local::sandbox::{Sandbox, default_onboarding_input};
use steward_shared::aws::TenantAccess;
use steward_shared::ids::RegionName;
use steward_shared::model::{TenantStatus, WorkspaceRecord};
use steward_shared::store::{PageRequest, WorkspaceStore, collect_all};
use steward_tests::flows::{demo_tenant, demo_tenant_record, run_to_success, sandbox_with};
use workspaces_core_emulator::Options;
use workspaces_core_emulator::seed::{AccountSeed, CUSTOMER_ACCOUNT, CUSTOMER_REGION, ids};

const EAST: &str = CUSTOMER_REGION;
const WEST: &str = "us-west-2";

async fn sandbox() -> Sandbox {
    let mut emulator = Options::default();
    emulator.rate_limit.enabled = false;
    emulator.maintenance.enabled = false;
    // Only Steward stops desktops here (the emulator's own MANUAL auto-stop is off).
    emulator.manual_autostop_hours = None;
    let sb = sandbox_with(emulator).await;
    // The default seed is in us-east-1; the same customer account gets the same standard
    // resources (AMIs, Directory Service directories, subnets) in us-west-2.
    sb.control().seed_account(&AccountSeed {
        region: WEST.into(),
        ..AccountSeed::default()
    });
    sb
}

/// The default input in `region`, every selection made up front.
fn input(region: &str, prefix: &str) -> Value {
    let mut input = default_onboarding_input(2);
    input["region"] = json!(region);
    input["workspaces"]["namePrefix"] = json!(prefix);
    input["confirmByol"] = json!(true);
    input["selections"] = json!({
        "managementCidr": "10.200.0.0/16",
        "ec2ImageId": ids::AMI_WIN11_ELIGIBLE,
        "directoryId": ids::DIRECTORY_CORP,
    });
    input
}

async fn records(sb: &Sandbox) -> Vec<WorkspaceRecord> {
    let t = demo_tenant();
    let mut all = collect_all(|p: PageRequest| sb.deps.store.list_workspaces(&t, p))
        .await
        .unwrap();
    all.sort_by(|a, b| {
        (a.region.as_str(), a.workspace_id.as_str())
            .cmp(&(b.region.as_str(), b.workspace_id.as_str()))
    });
    all
}

/// The registered desktops of `region`, by id.
async fn in_region(sb: &Sandbox, region: &str) -> Vec<String> {
    records(sb)
        .await
        .into_iter()
        .filter(|r| r.region.as_str() == region)
        .map(|r| r.workspace_id.to_string())
        .collect()
}

fn state(sb: &Sandbox, region: &str, id: &str) -> Option<String> {
    sb.control().workspace_state(CUSTOMER_ACCOUNT, region, id)
}

async fn command(sb: &Sandbox, id: &str, detail_type: &str, mut detail: Value) -> Value {
    detail["tenantId"] = json!(demo_tenant());
    detail["occurredAt"] = json!(sb.control().now());
    let event = json!({
        "version": "0", "id": id, "detail-type": detail_type, "source": "steward.partner",
        "account": "111122223333", "time": sb.control().now(), "region": EAST,
        "resources": [], "detail": detail,
    });
    match dispatch("lifecycle.commands", event, &sb.deps).await {
        Ok(v) => v,
        Err(e) => json!({"error": e.name(), "message": e.to_string()}),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_in_two_regions_is_swept_commanded_queried_and_offboarded_in_both() {
    let sb = sandbox().await;
    let machine = "OnboardingStateMachine";

    // Onboarded in us-east-1, then in us-west-2: one tenant, two Regions, two desktops each.
    let east = run_to_success(&sb, machine, "east", input(EAST, "east-desk")).await;
    assert_eq!(
        (east["status"].as_str(), east["workspaces"].as_u64()),
        (Some("ACTIVE"), Some(2))
    );
    let west = run_to_success(&sb, machine, "west", input(WEST, "west-desk")).await;
    assert_eq!(
        (west["status"].as_str(), west["workspaces"].as_u64()),
        (Some("ACTIVE"), Some(2))
    );
    let t = demo_tenant_record(&sb).await;
    assert_eq!(t.status, TenantStatus::Active);
    let regions: Vec<&str> = t.regions.iter().map(RegionName::as_str).collect();
    assert_eq!(regions, [EAST, WEST]);
    // Each Region's bundle, made from the BYOP image Steward imported, is known as BYOP: a
    // pool on it needs no `allowUnverifiedProtocol`.
    let known: Vec<(String, &str)> = t
        .bundle_protocols
        .iter()
        .map(|(b, p)| (b.to_string(), p.as_str()))
        .collect();
    assert_eq!(known.len(), 2, "{known:?}");
    assert!(known.iter().all(|(_, p)| *p == "BYOP"), "{known:?}");
    assert_eq!(
        [east["bundleId"].as_str(), west["bundleId"].as_str()]
            .iter()
            .map(|b| b.map(str::to_owned))
            .collect::<Option<std::collections::BTreeSet<String>>>(),
        Some(known.iter().map(|(b, _)| b.clone()).collect())
    );
    let (east_ids, west_ids) = (in_region(&sb, EAST).await, in_region(&sb, WEST).await);
    assert_eq!((east_ids.len(), west_ids.len()), (2, 2));
    let mut service_east = sb.control().workspace_ids(CUSTOMER_ACCOUNT, EAST);
    let mut service_west = sb.control().workspace_ids(CUSTOMER_ACCOUNT, WEST);
    service_east.sort();
    service_west.sort();
    assert_eq!(
        (service_east, service_west),
        (east_ids.clone(), west_ids.clone())
    );
    for id in east_ids
        .iter()
        .map(|i| (EAST, i))
        .chain(west_ids.iter().map(|i| (WEST, i)))
    {
        assert_eq!(
            state(&sb, id.0, id.1).as_deref(),
            Some("AVAILABLE"),
            "{id:?}"
        );
    }
    // Each Region has its own registered directory and bundle.
    let bundles: std::collections::BTreeSet<(String, String)> = records(&sb)
        .await
        .iter()
        .map(|r| {
            let bundle = r.bundle_id.as_ref().map(ToString::to_string);
            (r.region.to_string(), bundle.unwrap_or_default())
        })
        .collect();
    assert_eq!(bundles.len(), 2, "one bundle per Region: {bundles:?}");

    // A golden image from an east desktop, copied to the west Region (CopyWorkspaceImage
    // there, under the partner tag, remembered as pending); a second run reuses the copy.
    let east_bundle = records(&sb).await[0].bundle_id.clone().unwrap();
    let golden = json!({"tenantId": demo_tenant(), "workspaceId": east_ids[0], "imageName": "golden-1",
                        "imageDescription": "golden image", "bundleId": east_bundle,
                        "rollout": "none", "copyToOtherRegions": true});
    let out = run_to_success(&sb, "GoldenImageStateMachine", "golden", golden.clone()).await;
    let image = out["image"]["imageId"].as_str().unwrap().to_owned();
    let copies = out["bundle"]["copies"].as_array().unwrap().clone();
    assert_eq!(copies.len(), 1, "{out}");
    assert_eq!(
        (&copies[0]["region"], &copies[0]["reused"]),
        (&json!(WEST), &json!(false))
    );
    let copy = copies[0]["imageId"].as_str().unwrap().to_owned();
    assert_ne!(copy, image);
    assert_eq!(
        sb.control()
            .calls(CUSTOMER_ACCOUNT, "WorkSpaces.CopyWorkspaceImage"),
        1
    );
    let west_client = sb
        .deps
        .clients
        .for_tenant(TenantAccess::new(&t, &RegionName::parse(WEST).unwrap()))
        .await
        .workspaces()
        .clone();
    let described = west_client
        .describe_workspace_images()
        .image_ids(copy.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(described.images()[0].name(), Some("golden-1"));
    let tags = west_client
        .describe_tags()
        .resource_id(copy.as_str())
        .send()
        .await
        .unwrap();
    assert!(
        tags.tag_list()
            .iter()
            .any(|t| t.key() == "PartnerManaged" && t.value() == Some("true")),
        "{tags:?}"
    );
    let pending: Vec<(String, String)> = demo_tenant_record(&sb)
        .await
        .pending_images
        .iter()
        .map(|p| (p.image_id.to_string(), p.region.to_string()))
        .collect();
    assert_eq!(pending, [(copy.clone(), WEST.to_owned())]);
    let again = run_to_success(&sb, "GoldenImageStateMachine", "golden-again", golden).await;
    assert_eq!(
        again["bundle"]["copies"],
        json!([{"region": WEST, "imageId": copy, "reused": true}])
    );
    assert_eq!(
        sb.control()
            .calls(CUSTOMER_ACCOUNT, "WorkSpaces.CopyWorkspaceImage"),
        1
    );

    // An hour without a session: one idle sweep stops all four, in both Regions.
    sb.control().advance_seconds(61.0 * 60.0).unwrap();
    let mut options = SweepOptions::default();
    options.pace.rate_per_second = 0.0;
    let outcome = sweep_one(
        &sb.deps,
        &demo_tenant_record(&sb).await,
        SweepKind::Idle,
        &options,
    )
    .await;
    let TenantOutcome::Swept(swept) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        (
            swept.looked_at,
            swept.available,
            swept.stopped,
            swept.stop_failed
        ),
        (4, 4, 4, 0),
        "{:#?}",
        swept.actions
    );
    assert_eq!(
        sb.control()
            .calls(CUSTOMER_ACCOUNT, "WorkSpaces.StopWorkspaces"),
        2,
        "one call per Region"
    );
    for (region, id) in east_ids
        .iter()
        .map(|i| (EAST, i))
        .chain(west_ids.iter().map(|i| (WEST, i)))
    {
        assert_eq!(
            state(&sb, region, id).as_deref(),
            Some("STOPPING"),
            "{region} {id}"
        );
    }

    // A lifecycle command in the second Region: one more desktop there, registered there.
    let r = command(
        &sb,
        "west-provision",
        "Lifecycle Provision Requested",
        json!({"region": WEST, "directoryId": ids::DIRECTORY_CORP,
               "bundleId": records(&sb).await.iter().find(|r| r.region.as_str() == WEST).unwrap().bundle_id,
               "desktops": [{"userName": "west-extra"}]}),
    )
    .await;
    assert_eq!(r["result"], "succeeded", "{r}");
    let created = r["created"][0].as_str().unwrap().to_owned();
    assert_eq!(sb.control().workspace_count(CUSTOMER_ACCOUNT, WEST), 3);
    assert_eq!(sb.control().workspace_count(CUSTOMER_ACCOUNT, EAST), 2);
    assert_eq!(state(&sb, WEST, &created).as_deref(), Some("PENDING"));
    let west_now = in_region(&sb, WEST).await;
    assert_eq!(west_now.len(), 3);
    assert!(west_now.contains(&created));
    // One command acts in one Region: desktops of both are refused by name, before any call.
    let calls = sb
        .control()
        .calls(CUSTOMER_ACCOUNT, "WorkSpaces.DescribeWorkspaces");
    let r = command(
        &sb,
        "mixed-reboot",
        "Lifecycle Reboot Requested",
        json!({"workspaceIds": [east_ids[0], west_ids[0]]}),
    )
    .await;
    assert_eq!(r["error"], "Steward.EventRejected", "{r}");
    assert_eq!(
        r["message"],
        "InvalidField: invalid detail.workspaceIds: desktops in more than one Region: send one command per Region"
    );
    assert_eq!(
        sb.control()
            .calls(CUSTOMER_ACCOUNT, "WorkSpaces.DescribeWorkspaces"),
        calls
    );

    // The desktops query lists both Regions, Steward's view beside the service's.
    let q = dispatch(
        "query",
        json!({"query": "desktops", "tenantId": demo_tenant()}),
        &sb.deps,
    )
    .await
    .unwrap();
    let listed: Vec<(String, String, String)> = q["desktops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["steward"]["region"].as_str().unwrap().to_owned(),
                d["workspaceId"].as_str().unwrap().to_owned(),
                d["service"]["state"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect();
    let mut want: Vec<(String, String, String)> = east_ids
        .iter()
        .map(|i| (EAST.to_owned(), i.clone(), "STOPPING".to_owned()))
        .chain(
            west_ids
                .iter()
                .map(|i| (WEST.to_owned(), i.clone(), "STOPPING".to_owned())),
        )
        .chain([(WEST.to_owned(), created.clone(), "PENDING".to_owned())])
        .collect();
    let mut got = listed.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want);

    // The per-Region queries answer for the Region they name (the first by default): each
    // Region's own directory, registered and partner-tagged.
    for (named, region) in [(None, EAST), (Some(EAST), EAST), (Some(WEST), WEST)] {
        let mut req = json!({"query": "directories", "tenantId": demo_tenant()});
        if let Some(r) = named {
            req["region"] = json!(r);
        }
        let q = dispatch("query", req, &sb.deps).await.unwrap();
        let listed: Vec<(&str, &str, bool)> = q["directories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["directoryId"].as_str().unwrap(),
                    d["state"].as_str().unwrap(),
                    d["partnerTagged"].as_bool().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            listed,
            [(ids::DIRECTORY_CORP, "REGISTERED", true)],
            "{region}"
        );
    }

    // Offboarding removes both Regions: desktops, bundles, images (the imported ones, the
    // golden image and its copy, AVAILABLE by now), directories (gone).
    sb.control().advance_seconds(3600.0).unwrap();
    let out = run_to_success(
        &sb,
        "OffboardingStateMachine",
        "offboard",
        json!({"tenantId": demo_tenant(), "confirm": "OFFBOARD"}),
    )
    .await;
    assert_eq!(out["directories"]["remaining"], 0, "{out}");
    let t = demo_tenant_record(&sb).await;
    assert_eq!(t.status, TenantStatus::Offboarded);
    assert!(records(&sb).await.is_empty());
    assert_eq!(
        sb.control()
            .calls(CUSTOMER_ACCOUNT, "WorkSpaces.DeregisterWorkspaceDirectory"),
        2
    );
    assert_eq!(
        sb.control()
            .calls(CUSTOMER_ACCOUNT, "WorkSpaces.DeleteWorkspaceBundle"),
        2
    );
    assert_eq!(
        sb.control()
            .calls(CUSTOMER_ACCOUNT, "WorkSpaces.DeleteWorkspaceImage"),
        4
    );
    for region in [EAST, WEST] {
        let c = sb
            .deps
            .clients
            .for_tenant(TenantAccess::new(&t, &RegionName::parse(region).unwrap()))
            .await
            .workspaces()
            .clone();
        let dirs = c.describe_workspace_directories().send().await.unwrap();
        assert!(dirs.directories().is_empty(), "{region}: {dirs:?}");
        let desks = c.describe_workspaces().send().await.unwrap();
        assert!(desks.workspaces().is_empty(), "{region}: {desks:?}");
        let bundles = c.describe_workspace_bundles().send().await.unwrap();
        assert!(bundles.bundles().is_empty(), "{region}: {bundles:?}");
    }
    sb.shutdown().await;
}
