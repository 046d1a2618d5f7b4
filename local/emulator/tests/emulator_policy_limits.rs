//! The customer role's tag-based policy, throttling (recovered by the SDK's
//! retries), fault injection, counters and the HTTP control API.

mod emulator_support;

use aws_sdk_workspaces::types::{StartRequest, StopRequest, Tag, WorkspaceRequest};
use bytes::Bytes;
use emulator_support::raw::control;
use emulator_support::*;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use workspaces_core_emulator::limits::{FaultEffect, FaultRule};

fn fault(op: &str, code: &str, status: u16, count: Option<u64>) -> FaultRule {
    FaultRule {
        id: String::new(),
        operation: op.into(),
        account: Some(CUSTOMER.into()),
        effect: FaultEffect::Error,
        error_code: code.into(),
        message: "injected".into(),
        http_status: status,
        probability: None,
        count,
        latency_ms: None,
        fired: 0,
    }
}

#[tokio::test]
async fn tag_policy_denies_untagged_creation_untagged_targets_and_partner_tag_edits() {
    let emu = start().await;
    let ws = customer_ws(&emu.endpoint_url()).await;
    let t = onboard(&emu, &ws).await;

    let untagged = WorkspaceRequest::builder()
        .directory_id(&t.directory_id)
        .user_name("eve")
        .bundle_id(&t.bundle_id)
        .build()
        .unwrap();
    let e = ws
        .create_workspaces()
        .workspaces(untagged.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    let extra = WorkspaceRequest::builder()
        .directory_id(&t.directory_id)
        .user_name("eve")
        .bundle_id(&t.bundle_id)
        .tags(partner_tag())
        .tags(Tag::builder().key("Team").value("x").build().unwrap())
        .build()
        .unwrap();
    assert_eq!(
        code(
            &ws.create_workspaces()
                .workspaces(extra)
                .send()
                .await
                .unwrap_err()
        ),
        "AccessDeniedException",
        "aws:TagKeys allows only the partner key"
    );
    let e = ws
        .import_workspace_image()
        .ec2_image_id(workspaces_core_emulator::seed::ids::AMI_WIN10_ELIGIBLE)
        .ingestion_process(
            aws_sdk_workspaces::types::WorkspaceImageIngestionProcess::ByolRegularByop,
        )
        .image_name("untagged")
        .image_description("d")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    let e = ws
        .register_workspace_directory()
        .directory_id(workspaces_core_emulator::seed::ids::DIRECTORY_LAB)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");

    // A desktop someone else created without the tag (policy off for that call).
    emu.control().update_options(|o| o.tag_policy = false);
    let out = ws
        .create_workspaces()
        .workspaces(untagged)
        .send()
        .await
        .unwrap();
    let foreign = out.pending_requests()[0]
        .workspace_id()
        .unwrap()
        .to_string();
    emu.control().update_options(|o| o.tag_policy = true);
    let mine = create_available(&emu, &ws, &t, &["frank"]).await;

    let e = ws
        .stop_workspaces()
        .stop_workspace_requests(StopRequest::builder().workspace_id(&mine[0]).build())
        .stop_workspace_requests(StopRequest::builder().workspace_id(&foreign).build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&e),
        "AccessDeniedException",
        "one untagged target denies the call"
    );
    assert_eq!(
        state_of(&ws, &mine[0]).await.as_deref(),
        Some("AVAILABLE"),
        "nothing was applied"
    );
    let e = ws
        .modify_workspace_properties()
        .workspace_id(&foreign)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    let e = ws
        .terminate_workspaces()
        .terminate_workspace_requests(
            aws_sdk_workspaces::types::TerminateRequest::builder()
                .workspace_id(&foreign)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    // Describe calls have no resource type and are not limited.
    assert_eq!(state_of(&ws, &foreign).await.as_deref(), Some("AVAILABLE"));

    // Tags: denied outright by the default role (AllowTagManagement false)...
    let e = ws
        .create_tags()
        .resource_id(&mine[0])
        .tags(Tag::builder().key("Owner").value("frank").build().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    let e = ws
        .delete_tags()
        .resource_id(&mine[0])
        .tag_keys("Owner")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    // ...and, once the role allows tag management, never the partner key and other keys
    // only on tagged resources.
    assert!(emu.control().update_account(
        CUSTOMER,
        &workspaces_core_emulator::switches::AccountSwitches {
            allow_tag_management: Some(true),
            ..Default::default()
        }
    ));
    let e = ws
        .create_tags()
        .resource_id(&mine[0])
        .tags(
            Tag::builder()
                .key("PartnerManaged")
                .value("false")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    let e = ws
        .delete_tags()
        .resource_id(&mine[0])
        .tag_keys("PartnerManaged")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    let e = ws
        .create_tags()
        .resource_id(&foreign)
        .tags(
            Tag::builder()
                .key("PartnerManaged")
                .value("true")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&e),
        "AccessDeniedException",
        "cannot adopt an untagged desktop"
    );
    ws.create_tags()
        .resource_id(&mine[0])
        .tags(Tag::builder().key("Owner").value("frank").build().unwrap())
        .send()
        .await
        .unwrap();
    let tags = ws
        .describe_tags()
        .resource_id(&mine[0])
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tag_list().len(), 2);
    ws.delete_tags()
        .resource_id(&mine[0])
        .tag_keys("Owner")
        .send()
        .await
        .unwrap();
    assert_eq!(
        ws.describe_tags()
            .resource_id(&mine[0])
            .send()
            .await
            .unwrap()
            .tag_list()
            .len(),
        1
    );
    let e = ws
        .describe_tags()
        .resource_id("ws-000000000")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    let too_many: Vec<Tag> = (0..50)
        .map(|i| {
            Tag::builder()
                .key(format!("k{i}"))
                .value("v")
                .build()
                .unwrap()
        })
        .collect();
    let e = ws
        .create_tags()
        .resource_id(&mine[0])
        .set_tags(Some(too_many))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceLimitExceededException");

    // The partner's own credentials act in the partner account: no customer resources there.
    let partner_ws = aws_sdk_workspaces::Client::new(&partner(&emu.endpoint_url()).await);
    assert!(
        partner_ws
            .describe_workspaces()
            .send()
            .await
            .unwrap()
            .workspaces()
            .is_empty()
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn throttling_is_recovered_by_sdk_retries_and_visible_without_them() {
    let mut options = test_options();
    options.rate_limit.enabled = true;
    let emu = start_with(options).await;
    let url = emu.endpoint_url();
    let creds = assume(&url).await;
    // Standard retry mode, 10 attempts: every call eventually succeeds.
    let patient = aws_sdk_workspaces::Client::new(&config(&url, creds.clone(), 10).await);
    let mut calls = Vec::new();
    for _ in 0..12 {
        let c = patient.clone();
        calls.push(tokio::spawn(async move {
            c.describe_account().send().await.is_ok()
        }));
    }
    for c in calls {
        assert!(
            c.await.unwrap(),
            "SDK retries recover from ThrottlingException"
        );
    }
    let counters = emu.control().counters();
    let c = counters[CUSTOMER]["WorkSpaces.DescribeAccount"];
    assert!(c.throttled > 0, "{c:?}");
    assert_eq!(c.calls - c.errors, 12);

    // Without retries the code is visible.
    let impatient = aws_sdk_workspaces::Client::new(&config(&url, creds, 1).await);
    let mut codes = Vec::new();
    for _ in 0..10 {
        if let Err(e) = impatient.describe_account().send().await {
            codes.push(code(&e));
        }
    }
    assert!(
        codes.iter().any(|c| c == "ThrottlingException"),
        "{codes:?}"
    );
    emu.control().set_rate_limit(false);
    for _ in 0..20 {
        impatient.describe_account().send().await.unwrap();
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn faults_by_operation_count_and_resource_error() {
    let emu = start().await;
    let url = emu.endpoint_url();
    let ws = customer_ws(&url).await;
    let t = onboard(&emu, &ws).await;
    let ids = create_available(&emu, &ws, &t, &["gina"]).await;
    let g = ids[0].as_str();

    // One 500 is absorbed by the SDK's retry.
    emu.control().inject_fault(fault(
        "WorkSpaces.StopWorkspaces",
        "InternalServerException",
        500,
        Some(1),
    ));
    ws.stop_workspaces()
        .stop_workspace_requests(StopRequest::builder().workspace_id(g).build())
        .send()
        .await
        .unwrap();
    assert!(
        emu.control().faults().is_empty(),
        "the counted fault retired"
    );
    advance(&emu, 0.1);

    // A modeled code, without retries, reaches the caller typed.
    let once = aws_sdk_workspaces::Client::new(&config(&url, assume(&url).await, 1).await);
    let id = emu.control().inject_fault(fault(
        "WorkSpaces.DescribeWorkspaces",
        "ResourceUnavailableException",
        400,
        None,
    ));
    let e = once.describe_workspaces().send().await.unwrap_err();
    assert!(
        e.as_service_error()
            .is_some_and(|s| s.is_resource_unavailable_exception())
    );
    assert!(emu.control().clear_fault(&id));
    once.describe_workspaces().send().await.unwrap();

    // A resource_error fault: the start ends in ERROR.
    emu.control().inject_fault(FaultRule {
        effect: FaultEffect::ResourceError,
        error_code: "StartFailed".into(),
        ..fault("WorkSpaces.StartWorkspaces", "", 400, Some(1))
    });
    ws.start_workspaces()
        .start_workspace_requests(StartRequest::builder().workspace_id(g).build())
        .send()
        .await
        .unwrap();
    advance(&emu, 0.1);
    let d = ws
        .describe_workspaces()
        .workspace_ids(g)
        .send()
        .await
        .unwrap();
    let w = &d.workspaces()[0];
    assert_eq!(w.state().map(|s| s.as_str()), Some("ERROR"));
    assert_eq!(w.error_code(), Some("StartFailed"));
    // ERROR → stop is allowed.
    ws.stop_workspaces()
        .stop_workspace_requests(StopRequest::builder().workspace_id(g).build())
        .send()
        .await
        .unwrap();

    // Other accounts are not affected by an account-scoped fault.
    emu.control()
        .inject_fault(fault("*", "InternalServerException", 500, None));
    let partner_ws = aws_sdk_workspaces::Client::new(&partner(&url).await);
    partner_ws.describe_account().send().await.unwrap();
    emu.control().clear_faults();
    assert!(emu.control().calls(CUSTOMER, "WorkSpaces.StopWorkspaces") >= 3);
    emu.control().reset_counters();
    assert!(emu.control().counters().is_empty());
    emu.shutdown().await;
}

#[tokio::test]
async fn control_api_over_http() {
    let emu = start().await;
    let base = emu.endpoint_url();
    let (s, v) = control(format!("{base}/_emulator/health"), "GET", None).await;
    assert_eq!((s, v["ok"].as_bool()), (200, Some(true)));
    let (_, before) = control(format!("{base}/_emulator/clock"), "GET", None).await;
    let (s, after) = control(
        format!("{base}/_emulator/clock/advance"),
        "POST",
        Some(json!({"hours": 2})),
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        after["epoch_seconds"].as_f64().unwrap() - before["epoch_seconds"].as_f64().unwrap()
            >= 7200.0
    );
    let (s, _) = control(
        format!("{base}/_emulator/clock/set"),
        "POST",
        Some(json!({"time": "2000-01-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(s, 400, "the clock never goes back");

    let (s, o) = control(
        format!("{base}/_emulator/options"),
        "PUT",
        Some(json!({"manual_autostop_hours": 24, "durations": {"create": 60}})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(o["manual_autostop_hours"], json!(24.0));
    assert_eq!(o["durations"]["create"], json!(60.0));
    assert_eq!(o["durations"]["stop"], json!(90.0), "merge keeps the rest");
    let (s, _) = control(
        format!("{base}/_emulator/options"),
        "PUT",
        Some(json!({"no_such_option": 1})),
    )
    .await;
    assert_eq!(s, 400);
    let (s, r) = control(
        format!("{base}/_emulator/rate-limit"),
        "PUT",
        Some(json!({"enabled": true, "capacity": 10})),
    )
    .await;
    assert_eq!((s, r["capacity"].as_f64()), (200, Some(10.0)));

    let (s, f) = control(format!("{base}/_emulator/faults"), "POST", Some(json!({"operation": "STS.AssumeRole", "error_code": "AccessDenied", "http_status": 403, "count": 1}))).await;
    assert_eq!(s, 201);
    let fid = f["id"].as_str().unwrap().to_string();
    let (_, list) = control(format!("{base}/_emulator/faults"), "GET", None).await;
    assert_eq!(list["faults"][0]["id"], json!(fid));
    let sts = aws_sdk_sts::Client::new(&partner(&base).await);
    let e = sts
        .assume_role()
        .role_arn(workspaces_core_emulator::seed::ROLE_ARN)
        .role_session_name("x1")
        .external_id(workspaces_core_emulator::seed::EXTERNAL_ID)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        e.as_service_error()
            .and_then(aws_sdk_sts::error::ProvideErrorMetadata::code),
        Some("AccessDenied")
    );
    let (s, _) = control(format!("{base}/_emulator/faults/{fid}"), "DELETE", None).await;
    assert_eq!(s, 404, "a count-1 fault retires after firing");

    let (_, counters) = control(format!("{base}/_emulator/counters"), "GET", None).await;
    assert_eq!(
        counters["accounts"]["111122223333"]["STS.AssumeRole"]["calls"],
        json!(1)
    );
    let (s, _) = control(format!("{base}/_emulator/counters"), "DELETE", None).await;
    assert_eq!(s, 204);

    let (s, seeded) = control(
        format!("{base}/_emulator/seed"),
        "POST",
        Some(json!({"accounts": [{"account_id": "210987654321", "external_id": "other-tenant"}]})),
    )
    .await;
    assert_eq!(
        (s, seeded["seeded"][0].as_str()),
        (200, Some("210987654321"))
    );
    let other = sts
        .assume_role()
        .role_arn("arn:aws:iam::210987654321:role/StewardPartnerAccess")
        .role_session_name("t2")
        .external_id("other-tenant")
        .send()
        .await
        .unwrap();
    assert!(other.credentials().is_some());
    let (s, bulk) = control(
        format!("{base}/_emulator/seed/bulk"),
        "POST",
        Some(json!({"accounts": 2, "workspaces_per_account": 30})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(bulk["accounts"].as_array().unwrap().len(), 2);
    let (_, st) = control(format!("{base}/_emulator/state"), "GET", None).await;
    assert_eq!(
        st["accounts"]["200000000001"]["regions"]["us-east-1"]["workspaces"],
        json!(30)
    );
    assert_eq!(
        st["accounts"][CUSTOMER]["regions"]["us-east-1"]["unregistered_directories"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let (s, _) = control(
        format!("{base}/_emulator/reset"),
        "POST",
        Some(json!({"seed": "none"})),
    )
    .await;
    assert_eq!(s, 200);
    let (_, st) = control(format!("{base}/_emulator/state"), "GET", None).await;
    assert!(st["accounts"].as_object().unwrap().is_empty());
    emu.shutdown().await;
}

#[tokio::test]
async fn malformed_requests_get_protocol_errors_not_panics() {
    let emu = start().await;
    let base = emu.endpoint_url();
    let c: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let send = |target: &'static str, ct: &'static str, body: &'static str| {
        let req = hyper::Request::post(base.clone())
            .header("x-amz-target", target)
            .header("content-type", ct)
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .unwrap();
        c.request(req)
    };
    let resp = send(
        "WorkspacesService.DescribeWorkspaces",
        "application/x-amz-json-1.1",
        "{not json",
    )
    .await
    .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let v: Value =
        serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(v["__type"], json!("SerializationException"));
    let resp = send(
        "WorkspacesService.DescribeWorkspaces",
        "application/x-amz-json-1.1",
        r#"{"Limit": "ten"}"#,
    )
    .await
    .unwrap();
    let v: Value =
        serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(v["__type"], json!("InvalidParameterValuesException"));
    let resp = send(
        "WorkspacesService.CreateWorkspacePool",
        "application/x-amz-json-1.1",
        "{}",
    )
    .await
    .unwrap();
    let v: Value =
        serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(v["__type"], json!("UnknownOperationException"));
    let resp = send(
        "WorkspacesService.DescribeAccount",
        "application/x-amz-json-1.1",
        "",
    )
    .await
    .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "an empty body is tolerated");
    let req = hyper::Request::post(base.clone())
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(Full::new(Bytes::from_static(
            b"Action=RunInstances&Version=2016-11-15",
        )))
        .unwrap();
    let resp = c.request(req).await.unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("<Code>InvalidAction</Code>"));
    emu.shutdown().await;
}
