//! STS AssumeRole / GetCallerIdentity through the real SDK, and EC2 DescribeImages through
//! Steward's own ec2Query client.

mod emulator_support;

use aws_credential_types::Credentials;
use aws_sdk_sts::error::ProvideErrorMetadata;
use emulator_support::*;
use steward_shared::aws::signed::SignedGateway;
use steward_shared::aws::{AwsError, AwsErrorKind, https_connector};
use steward_shared::config::AccessSettings;
use steward_shared::gateway::ec2::{DescribeImages, Ec2Client, ImagesPage};
use workspaces_core_emulator::seed::{EXTERNAL_ID, ROLE_ARN, ids};

fn sts_code<E: ProvideErrorMetadata, R>(e: &aws_sdk_sts::error::SdkError<E, R>) -> String {
    e.as_service_error()
        .and_then(|s| s.code())
        .unwrap_or("<none>")
        .to_string()
}

#[tokio::test]
async fn assume_role_issues_credentials_that_act_as_the_role() {
    let emu = start().await;
    let url = emu.endpoint_url();
    let sts = aws_sdk_sts::Client::new(&partner(&url).await);
    let me = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(me.account(), Some("111122223333"));

    let out = sts
        .assume_role()
        .role_arn(ROLE_ARN)
        .role_session_name("tenant-a")
        .external_id(EXTERNAL_ID)
        .duration_seconds(900)
        .send()
        .await
        .unwrap();
    let user = out.assumed_role_user().unwrap();
    assert_eq!(
        user.arn(),
        "arn:aws:sts::123456789012:assumed-role/StewardPartnerAccess/tenant-a"
    );
    assert!(user.assumed_role_id().ends_with(":tenant-a"));
    let c = out.credentials().unwrap();
    let expires = c.expiration().secs();
    let now = emu.control().now().timestamp();
    assert!(
        (expires - now - 900).abs() <= 2,
        "expiration {expires} vs now {now}"
    );

    let creds = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().into()),
        None,
        "t",
    );
    let as_role = aws_sdk_sts::Client::new(&config(&url, creds, 1).await);
    let who = as_role.get_caller_identity().send().await.unwrap();
    assert_eq!(who.account(), Some(CUSTOMER));
    assert_eq!(who.arn(), Some(user.arn()));
    assert_eq!(who.user_id(), Some(user.assumed_role_id()));
    assert_eq!(emu.control().calls("111122223333", "STS.AssumeRole"), 1);
    assert_eq!(emu.control().calls(CUSTOMER, "STS.GetCallerIdentity"), 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn assume_role_error_paths() {
    let emu = start().await;
    let url = emu.endpoint_url();
    let sts = aws_sdk_sts::Client::new(&partner(&url).await);
    let attempt =
        |arn: &'static str, session: &'static str, ext: Option<&'static str>, dur: Option<i32>| {
            let mut r = sts.assume_role().role_arn(arn).role_session_name(session);
            if let Some(e) = ext {
                r = r.external_id(e);
            }
            if let Some(d) = dur {
                r = r.duration_seconds(d);
            }
            r.send()
        };
    let e = attempt(ROLE_ARN, "s", Some(EXTERNAL_ID), None)
        .await
        .unwrap_err();
    assert_eq!(
        sts_code(&e),
        "ValidationError",
        "session name shorter than 2"
    );
    let e = attempt(ROLE_ARN, "bad name!", Some(EXTERNAL_ID), None)
        .await
        .unwrap_err();
    assert_eq!(sts_code(&e), "ValidationError");
    let e = attempt(ROLE_ARN, "ok-session", Some("wrong-external-id"), None)
        .await
        .unwrap_err();
    assert_eq!(sts_code(&e), "AccessDenied");
    let e = attempt(ROLE_ARN, "ok-session", None, None)
        .await
        .unwrap_err();
    assert_eq!(sts_code(&e), "AccessDenied", "missing ExternalId");
    let e = attempt(
        "arn:aws:iam::123456789012:role/NoSuchRole",
        "ok-session",
        Some(EXTERNAL_ID),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(sts_code(&e), "AccessDenied", "unknown role");
    let e = attempt(ROLE_ARN, "ok-session", Some(EXTERNAL_ID), Some(899))
        .await
        .unwrap_err();
    assert_eq!(sts_code(&e), "ValidationError");
    let e = attempt(ROLE_ARN, "ok-session", Some(EXTERNAL_ID), Some(43_201))
        .await
        .unwrap_err();
    assert_eq!(sts_code(&e), "ValidationError");
    let e = attempt(ROLE_ARN, "ok-session", Some(EXTERNAL_ID), Some(7200))
        .await
        .unwrap_err();
    assert_eq!(
        sts_code(&e),
        "ValidationError",
        "exceeds the role's MaxSessionDuration (3600)"
    );
    assert!(
        e.into_service_error()
            .message()
            .unwrap_or_default()
            .contains("MaxSessionDuration")
    );

    // The customer account itself is not trusted by its own role.
    let role_sts = aws_sdk_sts::Client::new(&customer(&url).await);
    let e = role_sts
        .assume_role()
        .role_arn(ROLE_ARN)
        .role_session_name("chain")
        .external_id(EXTERNAL_ID)
        .send()
        .await
        .unwrap_err();
    assert_eq!(sts_code(&e), "AccessDenied");
    emu.shutdown().await;
}

#[tokio::test]
async fn expired_credentials_are_rejected_on_the_virtual_clock() {
    let mut options = test_options();
    options.enforce_credential_expiry = true;
    let emu = start_with(options).await;
    let url = emu.endpoint_url();
    let ws = aws_sdk_workspaces::Client::new(&config(&url, assume(&url).await, 1).await);
    ws.describe_account().send().await.unwrap();
    advance(&emu, 1.01);
    let e = ws.describe_account().send().await.unwrap_err();
    assert_eq!(code(&e), "ExpiredTokenException");
    // After a reset the emulator no longer knows the key.
    emu.control()
        .reset(workspaces_core_emulator::SeedKind::Default);
    let e = ws.describe_account().send().await.unwrap_err();
    assert_eq!(code(&e), "UnrecognizedClientException");
    let stale = aws_sdk_sts::Client::new(
        &config(
            &url,
            Credentials::new("ASIAEMUSTALE0000000", "x", Some("t".into()), None, "t"),
            1,
        )
        .await,
    );
    let e = stale.get_caller_identity().send().await.unwrap_err();
    assert_eq!(sts_code(&e), "InvalidClientTokenId");
    emu.shutdown().await;
}

#[tokio::test]
async fn describe_images_with_owners_filters_and_fields() {
    // Steward's own ec2Query client (the AWS CLI test checks the emulator's wire format
    // independently, through botocore).
    let emu = start().await;
    let url = emu.endpoint_url();
    let ec2 = Ec2Client::new(
        &customer(&url).await,
        https_connector(),
        &AccessSettings::default(),
    );
    let f = |n: &str, v: &str| (n.to_owned(), vec![v.to_owned()]);
    let owned = |filters: Vec<(String, Vec<String>)>| DescribeImages {
        owners: vec!["self".into()],
        filters,
        ..DescribeImages::default()
    };
    let ids_of = |p: &ImagesPage| {
        let mut v: Vec<String> = p.images.iter().map(|i| i.image_id.clone()).collect();
        v.sort();
        v
    };

    let all = ec2.describe_images(&owned(vec![])).await.unwrap();
    assert_eq!(all.images.len(), 6, "six customer-owned AMIs");

    let eligible = ec2
        .describe_images(&owned(vec![
            f("virtualization-type", "hvm"),
            f("state", "available"),
            f("block-device-mapping.encrypted", "false"),
            f("platform", "windows"),
            f("is-public", "false"),
            f("owner-id", CUSTOMER),
        ]))
        .await
        .unwrap();
    assert_eq!(
        ids_of(&eligible),
        vec![
            ids::AMI_WIN11_ELIGIBLE,
            ids::AMI_WIN10_ELIGIBLE,
            ids::AMI_LARGE_ROOT
        ]
    );

    let one = ec2
        .describe_images(&DescribeImages {
            image_ids: vec![ids::AMI_WIN11_ELIGIBLE.into()],
            ..DescribeImages::default()
        })
        .await
        .unwrap();
    let img = &one.images[0];
    assert_eq!(img.virtualization_type, "hvm");
    assert_eq!(img.platform, "windows", "lower-case on the wire");
    assert_eq!(img.platform_details, "Windows BYOL");
    assert!(img.ena_support);
    assert_eq!(img.hypervisor, "xen");
    assert_eq!(img.state, "available");
    assert_eq!(img.owner_id, CUSTOMER);
    assert_eq!(img.image_type, "machine");
    assert_eq!(img.name, "steward-win11-byol");
    assert!(!img.creation_date.is_empty() && !img.description.is_empty());
    assert_eq!(img.root_volume_type, "gp3");
    assert_eq!(img.root_volume_gib, 80);
    assert!(!img.encrypted);

    let wild = ec2
        .describe_images(&owned(vec![f("name", "steward-win1?-*")]))
        .await
        .unwrap();
    assert_eq!(wild.images.len(), 6);
    let para = ec2
        .describe_images(&owned(vec![f("virtualization-type", "paravirtual")]))
        .await
        .unwrap();
    assert_eq!(para.images[0].image_id, ids::AMI_PARAVIRTUAL);
    let amazon = ec2
        .describe_images(&DescribeImages {
            owners: vec!["amazon".into()],
            ..DescribeImages::default()
        })
        .await
        .unwrap();
    assert_eq!(amazon.images[0].image_id, ids::AMI_AMAZON_PUBLIC);

    // Pagination.
    let mut request = DescribeImages {
        max_results: Some(5),
        ..owned(vec![])
    };
    let mut seen = 0;
    let mut pages = 0;
    loop {
        let page = ec2.describe_images(&request).await.unwrap();
        seen += page.images.len();
        pages += 1;
        request.next_token = page.next_token;
        if request.next_token.is_none() {
            break;
        }
    }
    assert_eq!((seen, pages), (6, 2));

    let code = |e: AwsError| (e.code.unwrap_or_default(), e.kind);
    let by_id = |id: &str| DescribeImages {
        image_ids: vec![id.to_owned()],
        ..DescribeImages::default()
    };
    let e = ec2
        .describe_images(&by_id("ami-0000000000000dead"))
        .await
        .unwrap_err();
    assert_eq!(
        code(e),
        ("InvalidAMIID.NotFound".into(), AwsErrorKind::NotFound)
    );
    let e = ec2.describe_images(&by_id("ami-xyz")).await.unwrap_err();
    assert_eq!(
        code(e),
        (
            "InvalidAMIID.Malformed".into(),
            AwsErrorKind::InvalidRequest
        )
    );
    let e = ec2
        .describe_images(&DescribeImages {
            filters: vec![f("no-such-filter", "x")],
            ..DescribeImages::default()
        })
        .await
        .unwrap_err();
    assert_eq!(code(e).0, "InvalidParameterValue");
    let e = ec2
        .describe_images(&DescribeImages {
            next_token: Some("forged".into()),
            ..owned(vec![])
        })
        .await
        .unwrap_err();
    assert_eq!(code(e).0, "InvalidParameterValue");
    assert!(emu.control().calls(CUSTOMER, "EC2.DescribeImages") >= 10);
    emu.shutdown().await;
}
