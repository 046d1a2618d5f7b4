//! STS AssumeRole / GetCallerIdentity and EC2 DescribeImages through the real SDKs.

mod emulator_support;

use aws_credential_types::Credentials;
use aws_sdk_ec2::types::Filter;
use aws_sdk_sts::error::ProvideErrorMetadata;
use emulator_support::*;
use steward_local::emulator::seed::{EXTERNAL_ID, ROLE_ARN, ids};

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
        .reset(steward_local::emulator::SeedKind::Default);
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
    let emu = start().await;
    let url = emu.endpoint_url();
    let ec2 = aws_sdk_ec2::Client::new(&customer(&url).await);
    let f = |n: &str, v: &str| Filter::builder().name(n).values(v).build();

    let all = ec2.describe_images().owners("self").send().await.unwrap();
    assert_eq!(all.images().len(), 6, "six customer-owned AMIs");

    let eligible = ec2
        .describe_images()
        .owners("self")
        .filters(f("virtualization-type", "hvm"))
        .filters(f("state", "available"))
        .filters(f("block-device-mapping.encrypted", "false"))
        .filters(f("platform", "windows"))
        .filters(f("is-public", "false"))
        .filters(f("owner-id", CUSTOMER))
        .send()
        .await
        .unwrap();
    let mut got: Vec<&str> = eligible
        .images()
        .iter()
        .filter_map(|i| i.image_id())
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ids::AMI_WIN11_ELIGIBLE,
            ids::AMI_WIN10_ELIGIBLE,
            ids::AMI_LARGE_ROOT
        ]
    );

    let one = ec2
        .describe_images()
        .image_ids(ids::AMI_WIN11_ELIGIBLE)
        .send()
        .await
        .unwrap();
    let img = &one.images()[0];
    assert_eq!(img.virtualization_type().map(|v| v.as_str()), Some("hvm"));
    assert_eq!(
        img.platform().map(|p| p.as_str()),
        Some("windows"),
        "lower-case on the wire"
    );
    assert_eq!(img.platform_details(), Some("Windows BYOL"));
    assert_eq!(img.usage_operation(), Some("RunInstances:0800"));
    assert_eq!(img.ena_support(), Some(true));
    assert_eq!(img.hypervisor().map(|h| h.as_str()), Some("xen"));
    assert_eq!(img.state().map(|s| s.as_str()), Some("available"));
    assert_eq!(img.owner_id(), Some(CUSTOMER));
    assert_eq!(img.image_type().map(|t| t.as_str()), Some("machine"));
    assert_eq!(img.name(), Some("steward-win11-byol"));
    assert_eq!(img.root_device_type().map(|t| t.as_str()), Some("ebs"));
    assert!(img.creation_date().is_some() && img.description().is_some());
    let ebs = img.block_device_mappings()[0].ebs().unwrap();
    assert_eq!(ebs.volume_type().map(|v| v.as_str()), Some("gp3"));
    assert_eq!(ebs.volume_size(), Some(80));
    assert_eq!(ebs.encrypted(), Some(false));

    let wild = ec2
        .describe_images()
        .owners("self")
        .filters(f("name", "steward-win1?-*"))
        .send()
        .await
        .unwrap();
    assert_eq!(wild.images().len(), 6);
    let para = ec2
        .describe_images()
        .owners("self")
        .filters(f("virtualization-type", "paravirtual"))
        .send()
        .await
        .unwrap();
    assert_eq!(para.images()[0].image_id(), Some(ids::AMI_PARAVIRTUAL));
    let amazon = ec2.describe_images().owners("amazon").send().await.unwrap();
    assert_eq!(amazon.images()[0].image_id(), Some(ids::AMI_AMAZON_PUBLIC));

    // Pagination.
    let mut token = None;
    let mut seen = 0;
    loop {
        let page = ec2
            .describe_images()
            .owners("self")
            .max_results(5)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        seen += page.images().len();
        token = page.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, 6);

    let e = ec2
        .describe_images()
        .image_ids("ami-0000000000000dead")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        e.as_service_error().and_then(|s| s.code()),
        Some("InvalidAMIID.NotFound")
    );
    let e = ec2
        .describe_images()
        .image_ids("ami-xyz")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        e.as_service_error().and_then(|s| s.code()),
        Some("InvalidAMIID.Malformed")
    );
    let e = ec2
        .describe_images()
        .filters(f("no-such-filter", "x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        e.as_service_error().and_then(|s| s.code()),
        Some("InvalidParameterValue")
    );
    let e = ec2
        .describe_images()
        .owners("self")
        .next_token("forged")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        e.as_service_error().and_then(|s| s.code()),
        Some("InvalidParameterValue")
    );
    assert!(emu.control().calls(CUSTOMER, "EC2.DescribeImages") >= 10);
    emu.shutdown().await;
}
