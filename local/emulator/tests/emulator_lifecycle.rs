//! WorkSpace lifecycle over the virtual clock: create, power, reboot,
//! rebuild, restore, modify, migrate, image, terminate, the forced stop of
//! MANUAL desktops and pagination.

mod emulator_support;

use aws_sdk_workspaces::types::{
    ModificationResourceEnum, RebootRequest, RebuildRequest, RunningMode, StartRequest,
    StopRequest, TargetWorkspaceState, TerminateRequest, WorkspaceProperties, WorkspaceRequest,
};
use emulator_support::*;

fn stop_req(id: &str) -> StopRequest {
    StopRequest::builder().workspace_id(id).build()
}
fn start_req(id: &str) -> StartRequest {
    StartRequest::builder().workspace_id(id).build()
}

#[tokio::test]
async fn create_validates_and_reports_per_item_failures_in_order() {
    let emu = start().await;
    let ws = customer_ws(&emu.endpoint_url()).await;
    let t = onboard(&emu, &ws).await;
    let e = ws.create_workspaces().send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValuesException", "empty batch");
    let mut too_many = ws.create_workspaces();
    for i in 0..26 {
        too_many = too_many.workspaces(manual_request(&t, &format!("user{i}")));
    }
    assert_eq!(
        code(&too_many.send().await.unwrap_err()),
        "InvalidParameterValuesException"
    );

    let bad_dir = WorkspaceRequest::builder()
        .directory_id("d-00000000ff")
        .user_name("bob")
        .bundle_id(&t.bundle_id)
        .tags(partner_tag())
        .build()
        .unwrap();
    let bad_bundle = WorkspaceRequest::builder()
        .directory_id(&t.directory_id)
        .user_name("carol")
        .bundle_id("wsb-000000000")
        .tags(partner_tag())
        .build()
        .unwrap();
    let manual_timeout = WorkspaceRequest::builder()
        .directory_id(&t.directory_id)
        .user_name("dave")
        .bundle_id(&t.bundle_id)
        .workspace_properties(
            WorkspaceProperties::builder()
                .running_mode(RunningMode::Manual)
                .running_mode_auto_stop_timeout_in_minutes(60)
                .build(),
        )
        .tags(partner_tag())
        .build()
        .unwrap();
    let decoupled = WorkspaceRequest::builder()
        .directory_id(&t.directory_id)
        .user_name("[UNDEFINED]")
        .workspace_name("desk-01")
        .bundle_id(&t.bundle_id)
        .workspace_properties(
            WorkspaceProperties::builder()
                .running_mode(RunningMode::Manual)
                .build(),
        )
        .tags(partner_tag())
        .build()
        .unwrap();
    let out = ws
        .create_workspaces()
        .workspaces(manual_request(&t, "alice"))
        .workspaces(bad_dir)
        .workspaces(manual_request(&t, "alice"))
        .workspaces(bad_bundle)
        .workspaces(manual_timeout)
        .workspaces(decoupled)
        .send()
        .await
        .unwrap();
    let codes: Vec<&str> = out
        .failed_requests()
        .iter()
        .filter_map(|f| f.error_code())
        .collect();
    assert_eq!(
        codes,
        vec![
            "ResourceNotFound.Directory",
            "ResourceExists.User",
            "ResourceNotFound.Bundle",
            "AutoStopTimeoutIsNotDefaultForManualWorkspace"
        ]
    );
    assert_eq!(
        out.failed_requests()[0]
            .workspace_request()
            .unwrap()
            .user_name(),
        "bob",
        "the request is echoed"
    );
    assert_eq!(out.pending_requests().len(), 2);
    let p = &out.pending_requests()[0];
    assert_eq!(p.state().map(|s| s.as_str()), Some("PENDING"));
    assert_eq!(
        p.workspace_properties().unwrap().running_mode(),
        Some(&RunningMode::Manual)
    );
    let by_name = ws
        .describe_workspaces()
        .workspace_name("desk-01")
        .send()
        .await
        .unwrap();
    assert_eq!(by_name.workspaces()[0].user_name(), Some("[UNDEFINED]"));
    let by_user = ws
        .describe_workspaces()
        .directory_id(&t.directory_id)
        .user_name("ALICE")
        .send()
        .await
        .unwrap();
    assert_eq!(
        by_user.workspaces().len(),
        1,
        "user names match case-insensitively"
    );
    let e = ws
        .describe_workspaces()
        .user_name("alice")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&e),
        "InvalidParameterValuesException",
        "UserName needs DirectoryId"
    );
    let e = ws
        .describe_workspaces()
        .bundle_id(&t.bundle_id)
        .directory_id(&t.directory_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&e),
        "InvalidParameterValuesException",
        "one selector only"
    );
    let e = ws
        .describe_workspaces()
        .workspace_ids("ws-BAD")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValuesException");
    let e = ws.describe_workspaces().limit(26).send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValuesException");

    advance(&emu, 0.5);
    let id = p.workspace_id().unwrap();
    assert_eq!(state_of(&ws, id).await.as_deref(), Some("AVAILABLE"));
    let w = ws
        .describe_workspaces()
        .workspace_ids(id)
        .send()
        .await
        .unwrap();
    let w = &w.workspaces()[0];
    assert!(w.ip_address().is_some() && w.computer_name().is_some() && w.subnet_id().is_some());
    assert_eq!(w.bundle_id(), Some(t.bundle_id.as_str()));
    emu.shutdown().await;
}

#[tokio::test]
async fn power_reboot_rebuild_restore_and_state_changes() {
    let emu = start().await;
    let ws = customer_ws(&emu.endpoint_url()).await;
    let t = onboard(&emu, &ws).await;
    let ids = create_available(&emu, &ws, &t, &["alice", "bob"]).await;
    let (a, b) = (ids[0].as_str(), ids[1].as_str());

    // Under the tag policy a missing WorkSpace carries no tag: the whole call is denied.
    let e = ws
        .start_workspaces()
        .start_workspace_requests(start_req(a))
        .start_workspace_requests(start_req("ws-000000000"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    // Without it, per-item failures come back in request order.
    emu.control().update_options(|o| o.tag_policy = false);
    let out = ws
        .start_workspaces()
        .start_workspace_requests(start_req(a))
        .start_workspace_requests(start_req("ws-000000000"))
        .send()
        .await
        .unwrap();
    let f: Vec<(&str, &str)> = out
        .failed_requests()
        .iter()
        .map(|f| (f.workspace_id().unwrap(), f.error_code().unwrap()))
        .collect();
    assert_eq!(
        f,
        vec![
            (a, "InvalidResourceState"),
            ("ws-000000000", "ResourceNotFound")
        ]
    );
    emu.control().update_options(|o| o.tag_policy = true);

    let out = ws
        .stop_workspaces()
        .stop_workspace_requests(stop_req(a))
        .send()
        .await
        .unwrap();
    assert!(out.failed_requests().is_empty());
    assert_eq!(state_of(&ws, a).await.as_deref(), Some("STOPPING"));
    advance(&emu, 0.1);
    assert_eq!(state_of(&ws, a).await.as_deref(), Some("STOPPED"));
    let conn = ws
        .describe_workspaces_connection_status()
        .workspace_ids(a)
        .workspace_ids(b)
        .send()
        .await
        .unwrap();
    let states: Vec<&str> = conn
        .workspaces_connection_status()
        .iter()
        .filter_map(|c| c.connection_state())
        .map(|s| s.as_str())
        .collect();
    assert_eq!(states, vec!["UNKNOWN", "DISCONNECTED"]);
    ws.start_workspaces()
        .start_workspace_requests(start_req(a))
        .send()
        .await
        .unwrap();
    assert_eq!(state_of(&ws, a).await.as_deref(), Some("STARTING"));
    advance(&emu, 0.1);
    assert_eq!(state_of(&ws, a).await.as_deref(), Some("AVAILABLE"));

    let out = ws
        .reboot_workspaces()
        .reboot_workspace_requests(RebootRequest::builder().workspace_id(a).build().unwrap())
        .send()
        .await
        .unwrap();
    assert!(out.failed_requests().is_empty());
    assert_eq!(state_of(&ws, a).await.as_deref(), Some("REBOOTING"));
    let again = ws
        .reboot_workspaces()
        .reboot_workspace_requests(RebootRequest::builder().workspace_id(a).build().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.failed_requests()[0].error_code(),
        Some("InvalidResourceState"),
        "REBOOTING only when stuck > 20 min"
    );
    advance(&emu, 0.1);

    let rb = |id: &str| RebuildRequest::builder().workspace_id(id).build().unwrap();
    let e = ws
        .rebuild_workspaces()
        .rebuild_workspace_requests(rb(a))
        .rebuild_workspace_requests(rb(b))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&e),
        "InvalidParameterValuesException",
        "RebuildWorkspaces takes exactly one"
    );
    ws.rebuild_workspaces()
        .rebuild_workspace_requests(rb(a))
        .send()
        .await
        .unwrap();
    assert_eq!(state_of(&ws, a).await.as_deref(), Some("REBUILDING"));
    let e = ws
        .restore_workspace()
        .workspace_id(a)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&e),
        "OperationNotSupportedException",
        "not while REBUILDING"
    );
    advance(&emu, 1.0);
    ws.restore_workspace().workspace_id(a).send().await.unwrap();
    assert_eq!(state_of(&ws, a).await.as_deref(), Some("RESTORING"));
    advance(&emu, 1.0);
    let snaps = ws
        .describe_workspace_snapshots()
        .workspace_id(a)
        .send()
        .await
        .unwrap();
    assert_eq!(snaps.restore_snapshots().len(), 1);
    assert_eq!(snaps.rebuild_snapshots().len(), 1);

    ws.modify_workspace_state()
        .workspace_id(a)
        .workspace_state(TargetWorkspaceState::AdminMaintenance)
        .send()
        .await
        .unwrap();
    assert_eq!(state_of(&ws, a).await.as_deref(), Some("ADMIN_MAINTENANCE"));
    let out = ws
        .stop_workspaces()
        .stop_workspace_requests(stop_req(a))
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.failed_requests()[0].error_code(),
        Some("InvalidResourceState"),
        "ADMIN_MAINTENANCE ignores stop"
    );
    ws.modify_workspace_state()
        .workspace_id(a)
        .workspace_state(TargetWorkspaceState::Available)
        .send()
        .await
        .unwrap();
    ws.stop_workspaces()
        .stop_workspace_requests(stop_req(b))
        .send()
        .await
        .unwrap();
    let e = ws
        .modify_workspace_state()
        .workspace_id(b)
        .workspace_state(TargetWorkspaceState::AdminMaintenance)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidResourceStateException");
    let e = ws
        .modify_workspace_state()
        .workspace_id("ws-000000000")
        .workspace_state(TargetWorkspaceState::Available)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&e),
        "AccessDeniedException",
        "a missing WorkSpace carries no partner tag"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn modify_properties_migrate_image_and_terminate() {
    let emu = start().await;
    let ws = customer_ws(&emu.endpoint_url()).await;
    let t = onboard(&emu, &ws).await;
    let ids = create_available(&emu, &ws, &t, &["alice", "bob", "carol"]).await;
    let (a, b, c) = (ids[0].as_str(), ids[1].as_str(), ids[2].as_str());

    let e = ws
        .modify_workspace_properties()
        .workspace_id(a)
        .workspace_properties(
            WorkspaceProperties::builder()
                .root_volume_size_gib(100)
                .compute_type_name(aws_sdk_workspaces::types::Compute::Power)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&e),
        "InvalidParameterValuesException",
        "volumes and compute in one request"
    );
    let e = ws
        .modify_workspace_properties()
        .workspace_id(a)
        .workspace_properties(
            WorkspaceProperties::builder()
                .user_volume_size_gib(10)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&e),
        "InvalidParameterValuesException",
        "volumes only grow"
    );
    ws.modify_workspace_properties()
        .workspace_id(a)
        .workspace_properties(
            WorkspaceProperties::builder()
                .root_volume_size_gib(175)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let d = ws
        .describe_workspaces()
        .workspace_ids(a)
        .send()
        .await
        .unwrap();
    let w = &d.workspaces()[0];
    assert_eq!(w.state().map(|s| s.as_str()), Some("UPDATING"));
    assert_eq!(
        w.modification_states()[0].resource(),
        Some(&ModificationResourceEnum::RootVolume)
    );
    assert_eq!(
        w.workspace_properties().unwrap().root_volume_size_gib(),
        Some(175)
    );
    let e = ws
        .modify_workspace_properties()
        .workspace_id(a)
        .workspace_properties(
            WorkspaceProperties::builder()
                .compute_type_name(aws_sdk_workspaces::types::Compute::Power)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "OperationInProgressException");
    advance(&emu, 0.5);
    assert_eq!(state_of(&ws, a).await.as_deref(), Some("AVAILABLE"));
    ws.modify_workspace_properties()
        .workspace_id(a)
        .workspace_properties(
            WorkspaceProperties::builder()
                .running_mode(RunningMode::AutoStop)
                .running_mode_auto_stop_timeout_in_minutes(120)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let e = ws
        .modify_workspace_properties()
        .workspace_id(a)
        .workspace_properties(
            WorkspaceProperties::builder()
                .running_mode_auto_stop_timeout_in_minutes(45)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&e),
        "InvalidParameterValuesException",
        "60-minute intervals"
    );

    // Image from a WorkSpace: SUSPENDED while the image is built.
    let img = ws
        .create_workspace_image()
        .name("from-bob")
        .description("snapshot of bob")
        .workspace_id(b)
        .tags(partner_tag())
        .send()
        .await
        .unwrap();
    assert_eq!(img.state().map(|s| s.as_str()), Some("PENDING"));
    assert_eq!(state_of(&ws, b).await.as_deref(), Some("SUSPENDED"));
    let out = ws
        .terminate_workspaces()
        .terminate_workspace_requests(TerminateRequest::builder().workspace_id(b).build().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.failed_requests()[0].error_code(),
        Some("InvalidResourceState"),
        "SUSPENDED cannot be terminated"
    );
    let e = ws
        .create_workspace_image()
        .name("again")
        .description("d")
        .workspace_id(b)
        .tags(partner_tag())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidResourceStateException");
    advance(&emu, 1.0);
    assert_eq!(state_of(&ws, b).await.as_deref(), Some("AVAILABLE"));

    // Migrate c to another bundle.
    let other = ws
        .create_workspace_bundle()
        .bundle_name("perf")
        .bundle_description("d")
        .image_id(&t.image_id)
        .compute_type(
            aws_sdk_workspaces::types::ComputeType::builder()
                .name(aws_sdk_workspaces::types::Compute::Performance)
                .build(),
        )
        .user_storage(
            aws_sdk_workspaces::types::UserStorage::builder()
                .capacity("50")
                .build()
                .unwrap(),
        )
        .tags(partner_tag())
        .send()
        .await
        .unwrap();
    let other_id = other
        .workspace_bundle()
        .unwrap()
        .bundle_id()
        .unwrap()
        .to_string();
    let e = ws
        .migrate_workspace()
        .source_workspace_id(c)
        .bundle_id(&t.bundle_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValuesException", "same bundle");
    let m = ws
        .migrate_workspace()
        .source_workspace_id(c)
        .bundle_id(&other_id)
        .send()
        .await
        .unwrap();
    let target = m.target_workspace_id().unwrap().to_string();
    assert_eq!(state_of(&ws, &target).await.as_deref(), Some("PENDING"));
    let e = ws
        .migrate_workspace()
        .source_workspace_id(c)
        .bundle_id(&other_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "OperationInProgressException");
    advance(&emu, 1.01);
    assert_eq!(state_of(&ws, &target).await.as_deref(), Some("AVAILABLE"));
    assert_eq!(state_of(&ws, c).await.as_deref(), Some("TERMINATING"));
    let tags = ws
        .describe_tags()
        .resource_id(&target)
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tag_list()[0].key(),
        "PartnerManaged",
        "tags carry over"
    );

    // Terminate: TERMINATING → TERMINATED (briefly) → gone.
    ws.terminate_workspaces()
        .terminate_workspace_requests(TerminateRequest::builder().workspace_id(a).build().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(state_of(&ws, a).await.as_deref(), Some("TERMINATING"));
    emu.control().advance_seconds(310.0).unwrap();
    assert_eq!(state_of(&ws, a).await.as_deref(), Some("TERMINATED"));
    emu.control().advance_seconds(120.0).unwrap();
    assert_eq!(state_of(&ws, a).await, None);
    assert_eq!(state_of(&ws, c).await, None);
    let e = ws
        .describe_workspace_snapshots()
        .workspace_id(a)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    emu.shutdown().await;
}

#[tokio::test]
async fn manual_workspace_is_stopped_after_48_hours_available() {
    let emu = start().await;
    let ws = customer_ws(&emu.endpoint_url()).await;
    let t = onboard(&emu, &ws).await;
    let ids = create_available(&emu, &ws, &t, &["alice"]).await;
    let a = ids[0].as_str();
    // AVAILABLE 1200 s after creation; create_available advanced 3600 s, so
    // the WorkSpace has been AVAILABLE for 2400 s.
    let until_48h = 48.0 * 3600.0 - 2400.0;
    emu.control().advance_seconds(until_48h - 60.0).unwrap();
    assert_eq!(state_of(&ws, a).await.as_deref(), Some("AVAILABLE"));
    emu.control().advance_seconds(90.0).unwrap();
    assert_eq!(
        state_of(&ws, a).await.as_deref(),
        Some("STOPPING"),
        "48 h after becoming AVAILABLE"
    );
    emu.control().advance_seconds(90.0).unwrap();
    assert_eq!(state_of(&ws, a).await.as_deref(), Some("STOPPED"));
    // Starting again restarts the 48-hour clock.
    ws.start_workspaces()
        .start_workspace_requests(start_req(a))
        .send()
        .await
        .unwrap();
    advance(&emu, 47.0);
    assert_eq!(state_of(&ws, a).await.as_deref(), Some("AVAILABLE"));

    // Configurable: off.
    emu.control()
        .update_options(|o| o.manual_autostop_hours = None);
    advance(&emu, 10.0);
    assert_eq!(state_of(&ws, a).await.as_deref(), Some("AVAILABLE"));
    emu.shutdown().await;
}

#[tokio::test]
async fn describe_workspaces_paginates_a_bulk_seed_and_rejects_foreign_tokens() {
    let emu = start().await;
    let seeded = emu
        .control()
        .bulk_seed(&workspaces_core_emulator::BulkSeed {
            accounts: 2,
            workspaces_per_account: 60,
            ..Default::default()
        });
    let a = &seeded[0];
    let sts = aws_sdk_sts::Client::new(&partner(&emu.endpoint_url()).await);
    let c = sts
        .assume_role()
        .role_arn(&a.role_arn)
        .role_session_name("bulk")
        .external_id(&a.external_id)
        .send()
        .await
        .unwrap();
    let c = c.credentials().unwrap();
    let creds = aws_credential_types::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().into()),
        None,
        "t",
    );
    let ws = aws_sdk_workspaces::Client::new(&config(&emu.endpoint_url(), creds, 1).await);

    let mut seen = std::collections::BTreeSet::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let p = ws
            .describe_workspaces()
            .directory_id(&a.directory_id)
            .limit(25)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        for w in p.workspaces() {
            assert_eq!(w.state().map(|s| s.as_str()), Some("AVAILABLE"));
            seen.insert(w.workspace_id().unwrap().to_string());
        }
        token = p.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    assert_eq!((seen.len(), pages), (60, 3));
    // The SDK paginator works too (default page size 25).
    let all: Vec<_> = ws
        .describe_workspaces()
        .into_paginator()
        .items()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(all.len(), 60);
    let p1 = ws
        .describe_workspaces()
        .directory_id(&a.directory_id)
        .limit(10)
        .send()
        .await
        .unwrap();
    let tok = p1.next_token().unwrap();
    let e = ws
        .describe_workspaces()
        .bundle_id(&a.bundle_id)
        .limit(10)
        .next_token(tok)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&e),
        "InvalidParameterValuesException",
        "a token from another query"
    );
    let e = ws
        .describe_workspaces()
        .next_token("made-up")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValuesException");
    let mut conn = 0;
    let mut token: Option<String> = None;
    loop {
        let p = ws
            .describe_workspaces_connection_status()
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        conn += p.workspaces_connection_status().len();
        token = p.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(conn, 60, "connection status pages over every WorkSpace");
    let by_bundle = ws
        .describe_workspaces()
        .bundle_id(&a.bundle_id)
        .send()
        .await
        .unwrap();
    assert_eq!(by_bundle.workspaces().len(), 25);
    assert!(by_bundle.next_token().is_some());
    emu.shutdown().await;
}

#[tokio::test]
async fn monthly_maintenance_window_unless_the_directory_opts_out() {
    use chrono::TimeZone;
    let mut options = test_options();
    options.maintenance.enabled = true;
    let start = chrono::Utc.with_ymd_and_hms(2026, 11, 13, 0, 0, 0).unwrap();
    let emu = workspaces_core_emulator::Emulator::start(workspaces_core_emulator::EmulatorConfig {
        start_time: Some(start),
        options,
        ..Default::default()
    })
    .await
    .unwrap();
    let ws = customer_ws(&emu.endpoint_url()).await;
    let t = onboard(&emu, &ws).await;
    let req = WorkspaceRequest::builder()
        .directory_id(&t.directory_id)
        .user_name("auto")
        .bundle_id(&t.bundle_id)
        .workspace_properties(
            WorkspaceProperties::builder()
                .running_mode(RunningMode::AutoStop)
                .build(),
        )
        .tags(partner_tag())
        .build()
        .unwrap();
    let out = ws.create_workspaces().workspaces(req).send().await.unwrap();
    let id = out.pending_requests()[0]
        .workspace_id()
        .unwrap()
        .to_string();
    assert_eq!(
        out.pending_requests()[0]
            .workspace_properties()
            .unwrap()
            .running_mode_auto_stop_timeout_in_minutes(),
        Some(60)
    );
    advance(&emu, 1.0);
    ws.stop_workspaces()
        .stop_workspace_requests(stop_req(&id))
        .send()
        .await
        .unwrap();
    advance(&emu, 1.0);
    assert_eq!(state_of(&ws, &id).await.as_deref(), Some("STOPPED"));
    // Third Monday of November 2026 is the 16th; the window is 00:00-05:00 UTC.
    emu.control()
        .set_time(chrono::Utc.with_ymd_and_hms(2026, 11, 16, 1, 0, 0).unwrap())
        .unwrap();
    assert_eq!(state_of(&ws, &id).await.as_deref(), Some("MAINTENANCE"));
    let out = ws
        .start_workspaces()
        .start_workspace_requests(start_req(&id))
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.failed_requests()[0].error_code(),
        Some("InvalidResourceState")
    );
    emu.control()
        .set_time(chrono::Utc.with_ymd_and_hms(2026, 11, 16, 6, 0, 0).unwrap())
        .unwrap();
    assert_eq!(state_of(&ws, &id).await.as_deref(), Some("STOPPED"));
    // Opting the directory out: no maintenance in December's window (21st).
    ws.modify_workspace_creation_properties()
        .resource_id(&t.directory_id)
        .workspace_creation_properties(
            aws_sdk_workspaces::types::WorkspaceCreationProperties::builder()
                .enable_maintenance_mode(false)
                .build(),
        )
        .send()
        .await
        .unwrap();
    emu.control()
        .set_time(chrono::Utc.with_ymd_and_hms(2026, 12, 21, 1, 0, 0).unwrap())
        .unwrap();
    assert_eq!(state_of(&ws, &id).await.as_deref(), Some("STOPPED"));
    emu.shutdown().await;
}
