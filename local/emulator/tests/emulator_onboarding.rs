//! Account, image, directory and bundle operations (the onboarding path) and
//! their documented error paths, through the real Rust SDK.

mod emulator_support;

use aws_sdk_workspaces::types::{
    Compute, ComputeType, DedicatedTenancySupportEnum as Dts, DescribeWorkspaceDirectoriesFilter,
    DescribeWorkspaceDirectoriesFilterName, ImageType, Tenancy, UserStorage,
    WorkspaceCreationProperties, WorkspaceImageIngestionProcess as Ingest, WorkspaceImageState,
};
use emulator_support::*;
use workspaces_core_emulator::seed::ids;

#[tokio::test]
async fn byol_account_setup() {
    let emu = start().await;
    let ws = customer_ws(&emu.endpoint_url()).await;
    let acct = ws.describe_account().send().await.unwrap();
    assert_eq!(
        acct.dedicated_tenancy_support().map(|s| s.as_str()),
        Some("DISABLED")
    );

    let page = ws
        .list_available_management_cidr_ranges()
        .management_cidr_range_constraint("10.0.0.0/8")
        .max_results(5)
        .send()
        .await
        .unwrap();
    assert_eq!(page.management_cidr_ranges().len(), 5);
    assert!(
        !page
            .management_cidr_ranges()
            .contains(&"10.0.0.0/16".to_string()),
        "the VPC's /16 is in use"
    );
    let next = ws
        .list_available_management_cidr_ranges()
        .management_cidr_range_constraint("10.0.0.0/8")
        .max_results(5)
        .next_token(page.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_ne!(
        next.management_cidr_ranges()[0],
        page.management_cidr_ranges()[0]
    );
    let e = ws
        .list_available_management_cidr_ranges()
        .management_cidr_range_constraint("10.0.0.0/8")
        .max_results(6)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValuesException");
    let e = ws
        .list_available_management_cidr_ranges()
        .management_cidr_range_constraint("10.0.0.0/8")
        .next_token("bogus")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValuesException");
    let e = ws
        .list_available_management_cidr_ranges()
        .management_cidr_range_constraint("not-a-cidr")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValuesException");

    let e = ws
        .modify_account()
        .dedicated_tenancy_support(Dts::Enabled)
        .dedicated_tenancy_management_cidr_range("8.8.0.0/16")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValuesException");
    let e = ws
        .modify_account()
        .dedicated_tenancy_support(Dts::Enabled)
        .dedicated_tenancy_management_cidr_range("10.200.1.0/16")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&e),
        "InvalidParameterValuesException",
        "not an a.b.0.0/16"
    );
    ws.modify_account()
        .dedicated_tenancy_support(Dts::Enabled)
        .dedicated_tenancy_management_cidr_range("10.200.0.0/16")
        .send()
        .await
        .unwrap();
    let e = ws
        .modify_account()
        .dedicated_tenancy_support(Dts::Enabled)
        .dedicated_tenancy_management_cidr_range("10.201.0.0/16")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&e),
        "InvalidResourceStateException",
        "a modification is pending"
    );
    let mods = ws.describe_account_modifications().send().await.unwrap();
    assert_eq!(
        mods.account_modifications()[0]
            .modification_state()
            .map(|s| s.as_str()),
        Some("PENDING")
    );
    advance(&emu, 3.0);
    let mods = ws.describe_account_modifications().send().await.unwrap();
    assert_eq!(
        mods.account_modifications()[0]
            .modification_state()
            .map(|s| s.as_str()),
        Some("COMPLETED")
    );
    let acct = ws.describe_account().send().await.unwrap();
    assert_eq!(
        acct.dedicated_tenancy_support().map(|s| s.as_str()),
        Some("ENABLED")
    );
    assert_eq!(
        acct.dedicated_tenancy_management_cidr_range(),
        Some("10.200.0.0/16")
    );

    // The partner account is not BYOL allow-listed.
    let partner_ws = aws_sdk_workspaces::Client::new(&partner(&emu.endpoint_url()).await);
    let e = partner_ws
        .list_available_management_cidr_ranges()
        .management_cidr_range_constraint("10.0.0.0/8")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    emu.shutdown().await;
}

#[tokio::test]
async fn image_import_eligibility_copy_share_and_delete() {
    let emu = start().await;
    let url = emu.endpoint_url();
    let ws = customer_ws(&url).await;
    let import = |ami: &'static str, name: &'static str| {
        ws.import_workspace_image()
            .ec2_image_id(ami)
            .ingestion_process(Ingest::ByolRegularByop)
            .image_name(name)
            .image_description("test image")
            .tags(partner_tag())
            .send()
    };
    // Before BYOL is configured the import fails with ErrorDetails.
    let early = import(ids::AMI_WIN10_ELIGIBLE, "too-early")
        .await
        .unwrap()
        .image_id()
        .unwrap()
        .to_string();
    ws.modify_account()
        .dedicated_tenancy_support(Dts::Enabled)
        .dedicated_tenancy_management_cidr_range("10.200.0.0/16")
        .send()
        .await
        .unwrap();
    advance(&emu, 3.0);
    let good = import(ids::AMI_WIN11_ELIGIBLE, "good")
        .await
        .unwrap()
        .image_id()
        .unwrap()
        .to_string();
    let enc = import(ids::AMI_ENCRYPTED, "encrypted")
        .await
        .unwrap()
        .image_id()
        .unwrap()
        .to_string();
    let para = import(ids::AMI_PARAVIRTUAL, "paravirtual")
        .await
        .unwrap()
        .image_id()
        .unwrap()
        .to_string();
    let large = import(ids::AMI_LARGE_ROOT, "large")
        .await
        .unwrap()
        .image_id()
        .unwrap()
        .to_string();
    assert_eq!(
        code(&import(ids::AMI_PENDING, "pending").await.unwrap_err()),
        "InvalidParameterValuesException"
    );
    assert_eq!(
        code(
            &import("ami-00000000000000042", "missing")
                .await
                .unwrap_err()
        ),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(&import(ids::AMI_WIN11_ELIGIBLE, "good").await.unwrap_err()),
        "ResourceAlreadyExistsException"
    );
    assert_eq!(
        code(
            &import(ids::AMI_WIN11_ELIGIBLE, "bad name!")
                .await
                .unwrap_err()
        ),
        "InvalidParameterValuesException"
    );
    let e = ws
        .import_workspace_image()
        .ec2_image_id(ids::AMI_WIN11_ELIGIBLE)
        .ingestion_process(Ingest::ByolRegular)
        .image_name("two-apps")
        .image_description("d")
        .tags(partner_tag())
        .applications(aws_sdk_workspaces::types::Application::MicrosoftOffice2016)
        .applications(aws_sdk_workspaces::types::Application::MicrosoftOffice2019)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValuesException");

    let desc = ws
        .describe_workspace_images()
        .image_ids(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(
        desc.images()[0].state(),
        Some(&WorkspaceImageState::Pending)
    );
    advance(&emu, 2.0);
    let all = ws.describe_workspace_images().send().await.unwrap();
    let by_id = |id: &str| {
        all.images()
            .iter()
            .find(|i| i.image_id() == Some(id))
            .unwrap()
            .clone()
    };
    let g = by_id(&good);
    assert_eq!(g.state(), Some(&WorkspaceImageState::Available));
    assert_eq!(g.required_tenancy().map(|t| t.as_str()), Some("DEDICATED"));
    assert_eq!(g.owner_account_id(), Some(CUSTOMER));
    for (id, detail) in [
        (&early, "WorkspacesBYOLAccountNotFound"),
        (&enc, "UnknownError"),
        (&para, "OSNotSupported"),
        (&large, "DiskSizeExceeded"),
    ] {
        let i = by_id(id);
        assert_eq!(i.state(), Some(&WorkspaceImageState::Error), "{id}");
        let codes: Vec<&str> = i
            .error_details()
            .iter()
            .filter_map(|d| d.error_code())
            .map(|c| c.as_str())
            .collect();
        assert!(codes.contains(&detail), "{id}: {codes:?}");
    }
    // Pagination over 5 images, 2 per page.
    let mut token = None;
    let mut n = 0;
    loop {
        let p = ws
            .describe_workspace_images()
            .max_results(2)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        n += p.images().len();
        token = p.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(n, 5);
    assert_eq!(
        code(
            &ws.describe_workspace_images()
                .max_results(26)
                .send()
                .await
                .unwrap_err()
        ),
        "InvalidParameterValuesException"
    );

    // Copy within the region, share, permissions, delete.
    let copy = ws
        .copy_workspace_image()
        .name("good-copy")
        .source_image_id(&good)
        .source_region(REGION)
        .tags(partner_tag())
        .send()
        .await
        .unwrap();
    let copy_id = copy.image_id().unwrap().to_string();
    let e = ws
        .copy_workspace_image()
        .name("x")
        .source_image_id(&enc)
        .source_region(REGION)
        .tags(partner_tag())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceUnavailableException");
    let e = ws
        .copy_workspace_image()
        .name("x")
        .source_image_id("wsi-000000000")
        .source_region(REGION)
        .tags(partner_tag())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    assert_eq!(
        code(
            &ws.copy_workspace_image()
                .name("good-copy")
                .source_image_id(&good)
                .source_region(REGION)
                .tags(partner_tag())
                .send()
                .await
                .unwrap_err()
        ),
        "ResourceAlreadyExistsException"
    );

    ws.update_workspace_image_permission()
        .image_id(&good)
        .allow_copy_image(true)
        .shared_account_id("210987654321")
        .send()
        .await
        .unwrap();
    let perms = ws
        .describe_workspace_image_permissions()
        .image_id(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(
        perms.image_permissions()[0].shared_account_id(),
        Some("210987654321")
    );
    assert_eq!(
        code(
            &ws.update_workspace_image_permission()
                .image_id(&copy_id)
                .allow_copy_image(true)
                .shared_account_id("1234")
                .send()
                .await
                .unwrap_err()
        ),
        "InvalidParameterValuesException"
    );
    assert_eq!(
        code(
            &ws.update_workspace_image_permission()
                .image_id(&copy_id)
                .allow_copy_image(true)
                .shared_account_id("210987654321")
                .send()
                .await
                .unwrap_err()
        ),
        "ResourceUnavailableException",
        "copy still PENDING"
    );
    assert_eq!(
        code(
            &ws.describe_workspace_image_permissions()
                .image_id("wsi-000000000")
                .send()
                .await
                .unwrap_err()
        ),
        "AccessDeniedException",
        "a missing image carries no partner tag"
    );
    let partner_ws = aws_sdk_workspaces::Client::new(&partner(&url).await);
    assert_eq!(
        code(
            &partner_ws
                .describe_workspace_image_permissions()
                .image_id("wsi-000000000")
                .send()
                .await
                .unwrap_err()
        ),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(
            &ws.delete_workspace_image()
                .image_id(&good)
                .send()
                .await
                .unwrap_err()
        ),
        "ResourceAssociatedException",
        "still shared"
    );
    assert_eq!(
        code(
            &ws.delete_workspace_image()
                .image_id(&copy_id)
                .send()
                .await
                .unwrap_err()
        ),
        "InvalidResourceStateException",
        "still PENDING"
    );
    ws.update_workspace_image_permission()
        .image_id(&good)
        .allow_copy_image(false)
        .shared_account_id("210987654321")
        .send()
        .await
        .unwrap();
    ws.delete_workspace_image()
        .image_id(&enc)
        .send()
        .await
        .unwrap();
    let owned = ws
        .describe_workspace_images()
        .image_type(ImageType::Owned)
        .send()
        .await
        .unwrap();
    assert_eq!(owned.images().len(), 5);
    let shared = ws
        .describe_workspace_images()
        .image_type(ImageType::Shared)
        .send()
        .await
        .unwrap();
    assert!(shared.images().is_empty());
    emu.shutdown().await;
}

#[tokio::test]
async fn directories_and_bundles() {
    let emu = start().await;
    let ws = customer_ws(&emu.endpoint_url()).await;
    assert!(
        ws.describe_workspace_directories()
            .send()
            .await
            .unwrap()
            .directories()
            .is_empty(),
        "seeded directories are not registered"
    );
    let e = ws
        .register_workspace_directory()
        .directory_id("d-00000000ff")
        .tags(partner_tag())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    let e = ws
        .register_workspace_directory()
        .directory_id(ids::DIRECTORY_LAB)
        .tenancy(Tenancy::Dedicated)
        .tags(partner_tag())
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&e),
        "InvalidParameterValuesException",
        "DEDICATED needs BYOL"
    );
    let e = ws
        .register_workspace_directory()
        .directory_id(ids::DIRECTORY_LAB)
        .subnet_ids(ids::SUBNET_A)
        .subnet_ids(ids::SUBNET_A)
        .tags(partner_tag())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "OperationNotSupportedException", "same AZ");
    let e = ws
        .register_workspace_directory()
        .directory_id("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValuesException");

    let t = onboard(&emu, &ws).await;
    let e = ws
        .register_workspace_directory()
        .directory_id(ids::DIRECTORY_CORP)
        .tags(partner_tag())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceAlreadyExistsException");
    ws.register_workspace_directory()
        .directory_id(ids::DIRECTORY_LAB)
        .subnet_ids(ids::SUBNET_A)
        .subnet_ids(ids::SUBNET_B)
        .tags(partner_tag())
        .send()
        .await
        .unwrap();
    let dirs = ws.describe_workspace_directories().send().await.unwrap();
    assert_eq!(dirs.directories().len(), 2);
    let lab = dirs
        .directories()
        .iter()
        .find(|d| d.directory_id() == Some(ids::DIRECTORY_LAB))
        .unwrap();
    assert_eq!(lab.state().map(|s| s.as_str()), Some("REGISTERING"));
    let corp = dirs
        .directories()
        .iter()
        .find(|d| d.directory_id() == Some(ids::DIRECTORY_CORP))
        .unwrap();
    assert_eq!(corp.state().map(|s| s.as_str()), Some("REGISTERED"));
    assert_eq!(corp.tenancy().map(|s| s.as_str()), Some("DEDICATED"));
    let page = ws
        .describe_workspace_directories()
        .limit(1)
        .send()
        .await
        .unwrap();
    assert_eq!(page.directories().len(), 1);
    let rest = ws
        .describe_workspace_directories()
        .limit(1)
        .next_token(page.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.directories().len(), 1);
    assert!(rest.next_token().is_none());
    let filtered = ws
        .describe_workspace_directories()
        .filters(
            DescribeWorkspaceDirectoriesFilter::builder()
                .name(DescribeWorkspaceDirectoriesFilterName::WorkspaceType)
                .values("POOLS")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert!(filtered.directories().is_empty());

    // Creation properties: security group for the partner protocol, maintenance off.
    let props = |p: WorkspaceCreationProperties| {
        ws.modify_workspace_creation_properties()
            .resource_id(ids::DIRECTORY_CORP)
            .workspace_creation_properties(p)
            .send()
    };
    let e = props(
        WorkspaceCreationProperties::builder()
            .default_ou("OU=Desktops,DC=corp")
            .build(),
    )
    .await
    .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValuesException");
    let e = props(
        WorkspaceCreationProperties::builder()
            .custom_security_group_id("sg-00000000000000001")
            .build(),
    )
    .await
    .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValuesException");
    props(
        WorkspaceCreationProperties::builder()
            .custom_security_group_id(ids::SECURITY_GROUP_PARTNER)
            .enable_maintenance_mode(false)
            .default_ou("OU=Desktops,DC=corp,DC=example")
            .build(),
    )
    .await
    .unwrap();
    let e = ws
        .modify_workspace_creation_properties()
        .resource_id("d-00000000ff")
        .workspace_creation_properties(WorkspaceCreationProperties::builder().build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&e),
        "AccessDeniedException",
        "untagged (missing) resource under the tag policy"
    );
    let d = ws
        .describe_workspace_directories()
        .directory_ids(ids::DIRECTORY_CORP)
        .send()
        .await
        .unwrap();
    let cp = d.directories()[0].workspace_creation_properties().unwrap();
    assert_eq!(
        cp.custom_security_group_id(),
        Some(ids::SECURITY_GROUP_PARTNER)
    );
    assert_eq!(cp.enable_maintenance_mode(), Some(false));

    // Bundles.
    let bundles = ws.describe_workspace_bundles().send().await.unwrap();
    assert_eq!(bundles.bundles().len(), 1);
    assert_eq!(bundles.bundles()[0].owner(), Some(CUSTOMER));
    let amazon = ws
        .describe_workspace_bundles()
        .owner("AMAZON")
        .send()
        .await
        .unwrap();
    assert!(amazon.bundles().iter().all(|b| b.owner() == Some("AMAZON")));
    let e = ws
        .describe_workspace_bundles()
        .owner("AMAZON")
        .bundle_ids(&t.bundle_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValuesException");
    let mk = |name: &'static str, image: String| {
        ws.create_workspace_bundle()
            .bundle_name(name)
            .bundle_description("d")
            .image_id(image)
            .compute_type(ComputeType::builder().name(Compute::Performance).build())
            .user_storage(UserStorage::builder().capacity("100").build().unwrap())
            .tags(partner_tag())
            .send()
    };
    assert_eq!(
        code(&mk("steward-bundle", t.image_id.clone()).await.unwrap_err()),
        "ResourceAlreadyExistsException"
    );
    assert_eq!(
        code(&mk("b2", "wsi-000000000".into()).await.unwrap_err()),
        "ResourceNotFoundException"
    );
    let b2 = mk("b2", t.image_id.clone())
        .await
        .unwrap()
        .workspace_bundle()
        .unwrap()
        .bundle_id()
        .unwrap()
        .to_string();
    ws.update_workspace_bundle()
        .bundle_id(&b2)
        .image_id(&t.image_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        code(
            &ws.update_workspace_bundle()
                .bundle_id("wsb-000000000")
                .image_id(&t.image_id)
                .send()
                .await
                .unwrap_err()
        ),
        "AccessDeniedException"
    );
    assert_eq!(
        code(
            &ws.update_workspace_bundle()
                .bundle_id(&b2)
                .image_id("wsi-000000000")
                .send()
                .await
                .unwrap_err()
        ),
        "ResourceNotFoundException"
    );
    let ids_out = create_available(&emu, &ws, &t, &["alice"]).await;
    assert_eq!(
        code(
            &ws.delete_workspace_bundle()
                .bundle_id(&t.bundle_id)
                .send()
                .await
                .unwrap_err()
        ),
        "ResourceAssociatedException"
    );
    assert_eq!(
        code(
            &ws.delete_workspace_image()
                .image_id(&t.image_id)
                .send()
                .await
                .unwrap_err()
        ),
        "ResourceAssociatedException",
        "used by bundles"
    );
    ws.delete_workspace_bundle()
        .bundle_id(&b2)
        .send()
        .await
        .unwrap();

    // Deregistration: refused while WorkSpaces exist.
    let e = ws
        .deregister_workspace_directory()
        .directory_id(ids::DIRECTORY_CORP)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "OperationNotSupportedException");
    ws.terminate_workspaces()
        .terminate_workspace_requests(
            aws_sdk_workspaces::types::TerminateRequest::builder()
                .workspace_id(&ids_out[0])
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    advance(&emu, 1.0);
    ws.deregister_workspace_directory()
        .directory_id(ids::DIRECTORY_CORP)
        .send()
        .await
        .unwrap();
    let d = ws
        .describe_workspace_directories()
        .directory_ids(ids::DIRECTORY_CORP)
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.directories()[0].state().map(|s| s.as_str()),
        Some("DEREGISTERING")
    );
    advance(&emu, 1.0);
    let d = ws
        .describe_workspace_directories()
        .directory_ids(ids::DIRECTORY_CORP)
        .send()
        .await
        .unwrap();
    assert!(d.directories().is_empty(), "gone after deregistration");
    emu.shutdown().await;
}
