//! Paging everywhere: with `default_page_size` 2 and more of each resource seeded than one
//! page holds, every Describe/List answers pages of at most two, and following NextToken
//! gives every item, in order, exactly once.

mod emulator_support;

use std::future::Future;

use aws_sdk_workspaces::types::{DedicatedTenancySupportEnum, WorkspaceRequest};
use emulator_support::raw::{json_call, query_call};
use emulator_support::*;
use serde_json::json;
use workspaces_core_emulator::limits::{FaultEffect, FaultRule};
use workspaces_core_emulator::seed::ExtraResources;
use workspaces_core_emulator::{AccountSeed, EmulatorHandle};

/// An account without a tag policy, with three of each extra resource.
const ACCOUNT: &str = "210000000010";

/// Every page of a listing: `call(token)` answers one page's items and the next token.
async fn pages<F, Fut>(mut call: F) -> Vec<Vec<String>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = (Vec<String>, Option<String>)>,
{
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let (items, next) = call(token).await;
        out.push(items);
        match next {
            Some(t) => token = Some(t),
            None => return out,
        }
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// `all` cut into pages of two.
fn in_twos(all: &[String]) -> Vec<Vec<String>> {
    all.chunks(2).map(|c| c.to_vec()).collect()
}

async fn setup() -> (EmulatorHandle, aws_sdk_workspaces::Client, String) {
    let emu = start().await;
    emu.control().seed_account(&AccountSeed {
        account_id: ACCOUNT.into(),
        partner_tag: None,
        extra: ExtraResources {
            ds_directories: 3,
            register_ds_directories: true,
            images: 3,
            bundles: 3,
            amis: 3,
        },
        ..AccountSeed::default()
    });
    emu.control().update_options(|o| o.default_page_size = 2);
    let url = emu.endpoint_url();
    let creds = assume_in(&url, ACCOUNT).await;
    let key = creds.access_key_id().to_string();
    let ws = aws_sdk_workspaces::Client::new(&config(&url, creds, 1).await);
    (emu, ws, key)
}

#[tokio::test]
async fn workspaces_listings_page_by_two() {
    let (emu, ws, _) = setup().await;
    let dirs = pages(|t| {
        let call = ws.describe_workspace_directories().set_next_token(t);
        async move {
            let o = call.send().await.unwrap();
            let ids = o
                .directories()
                .iter()
                .map(|d| d.directory_id().unwrap().to_string());
            (ids.collect(), o.next_token().map(String::from))
        }
    })
    .await;
    let all_dirs = strings(&["d-9067a1b300", "d-9067a1b301", "d-9067a1b302"]);
    assert_eq!(dirs, in_twos(&all_dirs));

    let images = pages(|t| {
        let call = ws.describe_workspace_images().set_next_token(t);
        async move {
            let o = call.send().await.unwrap();
            let ids = o.images().iter().map(|i| i.image_id().unwrap().to_string());
            (ids.collect(), o.next_token().map(String::from))
        }
    })
    .await;
    let all_images = strings(&["wsi-x00000001", "wsi-x00000002", "wsi-x00000003"]);
    assert_eq!(images, in_twos(&all_images));

    let bundles = |owner: Option<&'static str>| {
        let ws = ws.clone();
        pages(move |t| {
            let call = ws
                .describe_workspace_bundles()
                .set_owner(owner.map(String::from))
                .set_next_token(t);
            async move {
                let o = call.send().await.unwrap();
                let ids = o
                    .bundles()
                    .iter()
                    .map(|b| b.bundle_id().unwrap().to_string());
                (ids.collect(), o.next_token().map(String::from))
            }
        })
    };
    let all_bundles = strings(&["wsb-x00000001", "wsb-x00000002", "wsb-x00000003"]);
    assert_eq!(bundles(None).await, in_twos(&all_bundles));
    assert_eq!(
        bundles(Some("AMAZON")).await,
        vec![strings(&["wsb-8vbljg4r6", "wsb-bh8rsxt14"])]
    );

    // Five desktops in an extra directory, of an extra bundle.
    let mut create = ws.create_workspaces();
    for i in 0..5 {
        create = create.workspaces(
            WorkspaceRequest::builder()
                .directory_id("d-9067a1b300")
                .user_name(format!("user{i}"))
                .bundle_id("wsb-x00000001")
                .build()
                .unwrap(),
        );
    }
    let created = create.send().await.unwrap();
    assert!(
        created.failed_requests().is_empty(),
        "{:?}",
        created.failed_requests()
    );
    let mut all_ws: Vec<String> = created
        .pending_requests()
        .iter()
        .map(|w| w.workspace_id().unwrap().to_string())
        .collect();
    all_ws.sort();
    let desktops = pages(|t| {
        let call = ws.describe_workspaces().set_next_token(t);
        async move {
            let o = call.send().await.unwrap();
            let ids = o
                .workspaces()
                .iter()
                .map(|w| w.workspace_id().unwrap().to_string());
            (ids.collect(), o.next_token().map(String::from))
        }
    })
    .await;
    assert_eq!(desktops, in_twos(&all_ws));

    let status = |named: Option<Vec<String>>| {
        let ws = ws.clone();
        pages(move |t| {
            let call = ws
                .describe_workspaces_connection_status()
                .set_workspace_ids(named.clone())
                .set_next_token(t);
            async move {
                let o = call.send().await.unwrap();
                let ids = o
                    .workspaces_connection_status()
                    .iter()
                    .map(|s| s.workspace_id().unwrap().to_string());
                (ids.collect(), o.next_token().map(String::from))
            }
        })
    };
    assert_eq!(status(None).await, in_twos(&all_ws));
    let mut reversed = all_ws.clone();
    reversed.reverse();
    assert_eq!(status(Some(reversed.clone())).await, in_twos(&reversed));

    // Image permissions: shared with three accounts.
    let shared = strings(&["300000000001", "300000000002", "300000000003"]);
    for a in &shared {
        ws.update_workspace_image_permission()
            .image_id("wsi-x00000002")
            .allow_copy_image(true)
            .shared_account_id(a)
            .send()
            .await
            .unwrap();
    }
    let perms = pages(|t| {
        let call = ws
            .describe_workspace_image_permissions()
            .image_id("wsi-x00000002")
            .set_next_token(t);
        async move {
            let o = call.send().await.unwrap();
            let ids = o
                .image_permissions()
                .iter()
                .map(|p| p.shared_account_id().unwrap().to_string());
            (ids.collect(), o.next_token().map(String::from))
        }
    })
    .await;
    assert_eq!(perms, in_twos(&shared));
    // An explicit limit still wins.
    let o = ws.describe_workspaces().limit(5).send().await.unwrap();
    assert_eq!((o.workspaces().len(), o.next_token()), (5, None));
    emu.shutdown().await;
}

#[tokio::test]
async fn account_listings_page_by_two() {
    let (emu, ws, _) = setup().await;
    emu.control().inject_fault(FaultRule {
        id: String::new(),
        operation: "WorkSpaces.ModifyAccount".into(),
        account: Some(ACCOUNT.into()),
        effect: FaultEffect::ResourceError,
        error_code: "InternalFailure".into(),
        message: "injected".into(),
        http_status: 500,
        probability: None,
        count: Some(2),
        latency_ms: None,
        fired: 0,
    });
    for _ in 0..3 {
        ws.modify_account()
            .dedicated_tenancy_support(DedicatedTenancySupportEnum::Enabled)
            .dedicated_tenancy_management_cidr_range("10.200.0.0/16")
            .send()
            .await
            .unwrap();
        advance(&emu, 3.0);
    }
    let mods = pages(|t| {
        let call = ws.describe_account_modifications().set_next_token(t);
        async move {
            let o = call.send().await.unwrap();
            let states = o
                .account_modifications()
                .iter()
                .map(|m| m.modification_state().unwrap().as_str().to_string());
            (states.collect(), o.next_token().map(String::from))
        }
    })
    .await;
    assert_eq!(
        mods,
        vec![strings(&["COMPLETED", "FAILED"]), strings(&["FAILED"])],
        "newest first"
    );

    let ranges = |max: Option<i32>| {
        let ws = ws.clone();
        pages(move |t| {
            let call = ws
                .list_available_management_cidr_ranges()
                .management_cidr_range_constraint("172.16.0.0/12")
                .set_max_results(max)
                .set_next_token(t);
            async move {
                let o = call.send().await.unwrap();
                (
                    o.management_cidr_ranges().to_vec(),
                    o.next_token().map(String::from),
                )
            }
        })
    };
    let by_five: Vec<String> = ranges(Some(5)).await.concat();
    let all: Vec<String> = (16..32).map(|b| format!("172.{b}.0.0/16")).collect();
    assert_eq!(by_five, all);
    assert_eq!(ranges(None).await, in_twos(&all));
    emu.shutdown().await;
}

#[tokio::test]
async fn ec2_and_directory_service_listings_page_by_two() {
    let (emu, _, key) = setup().await;
    let url = emu.endpoint_url();
    let ds = pages(|t| {
        let url = url.clone();
        let key = key.clone();
        async move {
            let body = t.map_or(json!({}), |t| json!({"NextToken": t}));
            let (_, v) = json_call(
                &url,
                "DirectoryService_20150416.DescribeDirectories",
                &key,
                REGION,
                "ds",
                body,
            )
            .await;
            let ids = v["DirectoryDescriptions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["DirectoryId"].as_str().unwrap().to_string());
            (ids.collect(), v["NextToken"].as_str().map(String::from))
        }
    })
    .await;
    let all_ds = strings(&[
        "d-9067a1b2c1",
        "d-9067a1b2c2",
        "d-9067a1b300",
        "d-9067a1b301",
        "d-9067a1b302",
    ]);
    assert_eq!(ds, in_twos(&all_ds));

    let ec2 = |action: &'static str, item: &'static str| {
        let url = url.clone();
        let key = key.clone();
        pages(move |t| {
            let url = url.clone();
            let key = key.clone();
            async move {
                let mut form = vec![("Action", action), ("Version", "2016-11-15")];
                if action == "DescribeImages" {
                    form.push(("Owner.1", "self"));
                }
                let token = t.unwrap_or_default();
                if !token.is_empty() {
                    form.push(("NextToken", &token));
                }
                let (status, xml) = query_call(&url, &key, REGION, "ec2", &form).await;
                assert_eq!(status, 200, "{xml}");
                let open = format!("<{item}>");
                let ids: Vec<String> = xml
                    .split(&open)
                    .skip(1)
                    .map(|s| s[..s.find('<').unwrap()].to_string())
                    .collect();
                let next = xml
                    .split("<nextToken>")
                    .nth(1)
                    .map(|s| s[..s.find('<').unwrap()].to_string());
                (ids, next)
            }
        })
    };
    let mut all_amis: Vec<String> = (1..=6)
        .map(|n| format!("ami-0a1b2c3d4e5f6000{n}"))
        .chain((1..=3).map(|n| format!("ami-0a1b2c3d4e5f7000{n}")))
        .collect();
    all_amis.sort();
    assert_eq!(ec2("DescribeImages", "imageId").await, in_twos(&all_amis));
    let all_subnets: Vec<String> = (1..=3)
        .map(|n| format!("subnet-0a1b2c3d4e5f6000{n}"))
        .chain((0..6).map(|n| format!("subnet-0a1b2c3d4e5f7000{n}")))
        .collect();
    assert_eq!(
        ec2("DescribeSubnets", "subnetId").await,
        in_twos(&all_subnets)
    );
    emu.shutdown().await;
}
