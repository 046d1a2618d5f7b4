//! Per-account switches over the control API (`/_emulator/accounts/{id}`), the seed's
//! `allow_tag_management`, and access-key (self-managed) tenants.

mod emulator_support;

use aws_sdk_workspaces::types::{Tag, Tenancy};
use emulator_support::raw::control;
use emulator_support::*;
use serde_json::json;
use workspaces_core_emulator::seed::ids;

#[tokio::test]
async fn account_switches_over_http() {
    let emu = start().await;
    let base = emu.endpoint_url();
    let path = format!("{base}/_emulator/accounts/{CUSTOMER}");
    let (status, v) = control(path.clone(), "GET", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        v,
        json!({"has_default_role": true, "byop_enabled": true, "byol_eligible": true,
            "workspace_quota": 1000, "service_quota_value": 10000.0, "quota_read_denied": false,
            "allow_tag_management": false})
    );
    let (status, v) = control(
        path.clone(),
        "PATCH",
        Some(json!({"has_default_role": false, "quota_read_denied": true,
            "service_quota_value": 3.0, "allow_tag_management": true, "byop_enabled": false})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        v,
        json!({"has_default_role": false, "byop_enabled": false, "byol_eligible": true,
            "workspace_quota": 1000, "service_quota_value": 3.0, "quota_read_denied": true,
            "allow_tag_management": true})
    );
    let (status, _) = control(
        format!("{base}/_emulator/accounts/999999999999"),
        "PATCH",
        Some(json!({"byop_enabled": true})),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = control(path, "PATCH", Some(json!({"nope": 1}))).await;
    assert_eq!(status, 422);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_role_seeded_with_tag_management_edits_tags_but_never_the_partner_key() {
    let emu = start().await;
    let base = emu.endpoint_url();
    let account = "210000000020";
    let (status, v) = control(
        format!("{base}/_emulator/seed"),
        "POST",
        Some(json!({"accounts": [{"account_id": account, "allow_tag_management": true}]})),
    )
    .await;
    assert_eq!((status, v), (200, json!({"seeded": [account]})));
    let creds = assume_in(&base, account).await;
    let ws = aws_sdk_workspaces::Client::new(&config(&base, creds, 1).await);
    // A creation call carrying the partner tag works either way.
    ws.register_workspace_directory()
        .directory_id(ids::DIRECTORY_LAB)
        .tenancy(Tenancy::Shared)
        .tags(partner_tag())
        .send()
        .await
        .unwrap();
    ws.create_tags()
        .resource_id(ids::DIRECTORY_LAB)
        .tags(Tag::builder().key("Owner").value("ops").build().unwrap())
        .send()
        .await
        .unwrap();
    let tags = ws
        .describe_tags()
        .resource_id(ids::DIRECTORY_LAB)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tag_list().len(), 2);
    let e = ws
        .delete_tags()
        .resource_id(ids::DIRECTORY_LAB)
        .tag_keys("PartnerManaged")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    // The default customer role may not edit tags at all.
    let default_ws = customer_ws(&base).await;
    default_ws
        .register_workspace_directory()
        .directory_id(ids::DIRECTORY_LAB)
        .tenancy(Tenancy::Shared)
        .tags(partner_tag())
        .send()
        .await
        .unwrap();
    let e = default_ws
        .create_tags()
        .resource_id(ids::DIRECTORY_LAB)
        .tags(Tag::builder().key("Owner").value("ops").build().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    emu.shutdown().await;
}

#[tokio::test]
async fn an_access_key_acts_as_its_iam_user_under_the_tag_policy() {
    let emu = start().await;
    let base = emu.endpoint_url();
    let (status, key) = control(
        format!("{base}/_emulator/access-keys"),
        "POST",
        Some(json!({"account_id": CUSTOMER})),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        key,
        json!({"access_key_id": "AKIAEMULATORCUST0001",
            "secret_access_key": "emulator-secret-akiaemulatorcust0001",
            "account_id": CUSTOMER, "user_name": "steward-self-managed",
            "user_id": "AIDAEMUCUST0001", "policy_role": "StewardPartnerAccess",
            "arn": "arn:aws:iam::123456789012:user/steward-self-managed"})
    );
    let (status, _) = control(
        format!("{base}/_emulator/access-keys"),
        "POST",
        Some(json!({"account_id": "999999999999"})),
    )
    .await;
    assert_eq!(status, 404);
    let creds = aws_credential_types::Credentials::new(
        "AKIAEMULATORCUST0001",
        "emulator-secret-akiaemulatorcust0001",
        None,
        None,
        "self-managed",
    );
    let sdk = config(&base, creds, 1).await;
    let me = aws_sdk_sts::Client::new(&sdk)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        (me.account(), me.arn(), me.user_id()),
        (
            Some(CUSTOMER),
            Some("arn:aws:iam::123456789012:user/steward-self-managed"),
            Some("AIDAEMUCUST0001")
        )
    );
    let ws = aws_sdk_workspaces::Client::new(&sdk);
    let e = ws
        .register_workspace_directory()
        .directory_id(ids::DIRECTORY_LAB)
        .tenancy(Tenancy::Shared)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    assert_eq!(
        e.as_service_error().and_then(|s| s.meta().message()),
        Some(
            "User: arn:aws:iam::123456789012:user/steward-self-managed is not authorized to perform: workspaces:RegisterWorkspaceDirectory on resource: arn:aws:workspaces:us-east-1:123456789012:directory/* because the request does not carry the tag PartnerManaged=true"
        )
    );
    ws.register_workspace_directory()
        .directory_id(ids::DIRECTORY_LAB)
        .tenancy(Tenancy::Shared)
        .tags(partner_tag())
        .send()
        .await
        .unwrap();
    let e = ws
        .create_tags()
        .resource_id(ids::DIRECTORY_LAB)
        .tags(Tag::builder().key("Owner").value("ops").build().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException", "no tag management");
    // The same account's resources, seen with the customer role.
    let role_ws = customer_ws(&base).await;
    let dirs = role_ws
        .describe_workspace_directories()
        .send()
        .await
        .unwrap();
    assert_eq!(dirs.directories().len(), 1);
    assert_eq!(
        emu.control()
            .calls(CUSTOMER, "WorkSpaces.RegisterWorkspaceDirectory"),
        2
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn seeded_and_unknown_access_keys() {
    let emu = start().await;
    let base = emu.endpoint_url();
    let account = "210000000030";
    emu.control().seed_account(
        &serde_json::from_value(json!({
            "account_id": account,
            "access_keys": [{"access_key_id": "AKIAEMULATORCUST0100", "user_name": "tenant-b"}]
        }))
        .unwrap(),
    );
    let seeded = aws_credential_types::Credentials::new(
        "AKIAEMULATORCUST0100",
        "anything",
        None,
        None,
        "seeded",
    );
    let me = aws_sdk_sts::Client::new(&config(&base, seeded, 1).await)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(me.arn(), Some("arn:aws:iam::210000000030:user/tenant-b"));
    let unknown =
        aws_credential_types::Credentials::new("AKIAEMULATORCUST0999", "x", None, None, "gone");
    let sdk = config(&base, unknown, 1).await;
    let e = aws_sdk_workspaces::Client::new(&sdk)
        .describe_workspaces()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "UnrecognizedClientException");
    let e = aws_sdk_sts::Client::new(&sdk)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        e.as_service_error()
            .and_then(|s| aws_sdk_sts::error::ProvideErrorMetadata::code(s)),
        Some("InvalidClientTokenId")
    );
    let (status, v) = control(
        format!("{base}/_emulator/seed"),
        "POST",
        Some(json!({"accounts": [{"account_id": account, "access_keys": [{"access_key_id": "AKIDNOTOURS"}]}]})),
    )
    .await;
    assert_eq!(
        (status, v),
        (
            400,
            json!({"error": "access_keys[].access_key_id must be AKIAEMULATOR and 8 upper-case letters or digits"})
        )
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn byop_ingestion_needs_the_account_allow_listed() {
    use aws_sdk_workspaces::types::WorkspaceImageIngestionProcess as Ingestion;
    let emu = start().await;
    let base = emu.endpoint_url();
    let account = "210000000040";
    emu.control().seed_account(
        &serde_json::from_value(json!({"account_id": account, "byop_enabled": false})).unwrap(),
    );
    let creds = assume_in(&base, account).await;
    let ws = aws_sdk_workspaces::Client::new(&config(&base, creds, 1).await);
    let import = |process: Ingestion, name: &'static str| {
        ws.import_workspace_image()
            .ec2_image_id(ids::AMI_WIN11_ELIGIBLE)
            .ingestion_process(process)
            .image_name(name)
            .image_description("BYOP check")
            .tags(partner_tag())
            .send()
    };
    let e = import(Ingestion::ByolRegularByop, "byop-1")
        .await
        .unwrap_err();
    assert_eq!(code(&e), "OperationNotSupportedException");
    assert_eq!(
        e.as_service_error().and_then(|s| s.meta().message()),
        Some("The account is not enabled for bring-your-own-protocol (BYOP) ingestion.")
    );
    assert!(
        ws.describe_workspace_images()
            .send()
            .await
            .unwrap()
            .images()
            .is_empty(),
        "nothing imported"
    );
    // A non-BYOP process is not affected.
    import(Ingestion::ByolRegular, "pcoip-1").await.unwrap();
    // How AWS refuses is an option.
    emu.control()
        .update_options(|o| o.byop_not_enabled_error_code = "AccessDeniedException".into());
    let e = import(Ingestion::ByolGraphicsG4DnByop, "byop-2")
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    // Once allow-listed, BYOP imports go through.
    emu.control().update_account(
        account,
        &workspaces_core_emulator::switches::AccountSwitches {
            byop_enabled: Some(true),
            ..Default::default()
        },
    );
    import(Ingestion::ByolRegularByop, "byop-3").await.unwrap();
    assert_eq!(
        ws.describe_workspace_images()
            .send()
            .await
            .unwrap()
            .images()
            .len(),
        2
    );
    emu.shutdown().await;
}
