//! Shared helpers for the emulator suites: start an emulator, build SDK
//! clients pointed at it, assume the customer role, onboard a tenant.
#![allow(dead_code)]

pub mod raw;

use aws_config::retry::RetryConfig;
use aws_credential_types::Credentials;
use aws_sdk_workspaces::types::{
    ComputeType, RootStorage, RunningMode, Tag, UserStorage, WorkspaceProperties, WorkspaceRequest,
};
use workspaces_core_emulator::seed::{EXTERNAL_ID, ROLE_ARN, ids};
use workspaces_core_emulator::{Emulator, EmulatorConfig, EmulatorHandle, Options, SeedKind};

pub const CUSTOMER: &str = "123456789012";
pub const REGION: &str = "us-east-1";

/// Options for most tests: rate limits off, and credentials that survive
/// virtual-clock jumps (the expiry test turns enforcement back on).
pub fn test_options() -> Options {
    let mut options = Options::default();
    options.rate_limit.enabled = false;
    options.enforce_credential_expiry = false;
    // The monthly window depends on the calendar; its own test pins the clock.
    options.maintenance.enabled = false;
    options
}

/// An emulator with the default seed and [`test_options`].
pub async fn start() -> EmulatorHandle {
    start_with(test_options()).await
}

pub async fn start_with(options: Options) -> EmulatorHandle {
    Emulator::start(EmulatorConfig {
        seed: SeedKind::Default,
        options,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts")
}

pub async fn config(url: &str, creds: Credentials, attempts: u32) -> aws_config::SdkConfig {
    steward_shared::aws::sdk_defaults()
        .region(aws_config::Region::new(REGION))
        .endpoint_url(url)
        .credentials_provider(creds)
        .retry_config(RetryConfig::standard().with_max_attempts(attempts))
        .load()
        .await
}

/// Long-term partner credentials (any key the emulator did not issue).
pub async fn partner(url: &str) -> aws_config::SdkConfig {
    config(
        url,
        Credentials::new("AKIDPARTNEREXAMPLE", "secret", None, None, "test"),
        3,
    )
    .await
}

pub async fn assume(url: &str) -> Credentials {
    assume_role(url, ROLE_ARN).await
}

/// Credentials of the seeded customer role of another account (same role name and ExternalId).
pub async fn assume_in(url: &str, account: &str) -> Credentials {
    assume_role(
        url,
        &format!("arn:aws:iam::{account}:role/StewardPartnerAccess"),
    )
    .await
}

/// Credentials of `role_arn`, assumed by the partner with the seeded ExternalId.
async fn assume_role(url: &str, role_arn: &str) -> Credentials {
    let sts = aws_sdk_sts::Client::new(&partner(url).await);
    let out = sts
        .assume_role()
        .role_arn(role_arn)
        .role_session_name("steward-test")
        .external_id(EXTERNAL_ID)
        .send()
        .await
        .expect("assume role");
    let c = out.credentials().expect("credentials");
    Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        "assumed",
    )
}

/// Customer-role SDK config (standard retries, 3 attempts).
pub async fn customer(url: &str) -> aws_config::SdkConfig {
    config(url, assume(url).await, 3).await
}

pub async fn customer_ws(url: &str) -> aws_sdk_workspaces::Client {
    aws_sdk_workspaces::Client::new(&customer(url).await)
}

pub fn partner_tag() -> Tag {
    Tag::builder()
        .key("PartnerManaged")
        .value("true")
        .build()
        .expect("tag")
}

pub fn advance(emu: &EmulatorHandle, hours: f64) {
    emu.control()
        .advance_seconds(hours * 3600.0)
        .expect("advance");
}

/// Error code of an SDK error (typed or not).
pub fn code<E, R>(e: &aws_sdk_workspaces::error::SdkError<E, R>) -> String
where
    E: aws_sdk_workspaces::error::ProvideErrorMetadata,
{
    e.as_service_error()
        .and_then(|s| s.code())
        .unwrap_or("<no service error>")
        .to_string()
}

pub struct Tenant {
    pub directory_id: String,
    pub image_id: String,
    pub bundle_id: String,
}

/// The onboarding path: BYOL, import, register, bundle — all with the customer role.
pub async fn onboard(emu: &EmulatorHandle, ws: &aws_sdk_workspaces::Client) -> Tenant {
    ws.modify_account()
        .dedicated_tenancy_support(aws_sdk_workspaces::types::DedicatedTenancySupportEnum::Enabled)
        .dedicated_tenancy_management_cidr_range("10.200.0.0/16")
        .send()
        .await
        .expect("modify account");
    advance(emu, 3.0);
    let image_id = ws
        .import_workspace_image()
        .ec2_image_id(ids::AMI_WIN11_ELIGIBLE)
        .ingestion_process(
            aws_sdk_workspaces::types::WorkspaceImageIngestionProcess::ByolRegularByop,
        )
        .image_name("steward-win11")
        .image_description("Steward test image")
        .tags(partner_tag())
        .send()
        .await
        .expect("import")
        .image_id()
        .expect("image id")
        .to_string();
    ws.register_workspace_directory()
        .directory_id(ids::DIRECTORY_CORP)
        .tenancy(aws_sdk_workspaces::types::Tenancy::Dedicated)
        .tags(partner_tag())
        .send()
        .await
        .expect("register");
    advance(emu, 2.0);
    let bundle = ws
        .create_workspace_bundle()
        .bundle_name("steward-bundle")
        .bundle_description("Steward test bundle")
        .image_id(&image_id)
        .compute_type(
            ComputeType::builder()
                .name(aws_sdk_workspaces::types::Compute::Standard)
                .build(),
        )
        .user_storage(
            UserStorage::builder()
                .capacity("50")
                .build()
                .expect("storage"),
        )
        .root_storage(
            RootStorage::builder()
                .capacity("80")
                .build()
                .expect("storage"),
        )
        .tags(partner_tag())
        .send()
        .await
        .expect("bundle");
    Tenant {
        directory_id: ids::DIRECTORY_CORP.to_string(),
        image_id,
        bundle_id: bundle
            .workspace_bundle()
            .and_then(|b| b.bundle_id())
            .expect("bundle id")
            .to_string(),
    }
}

pub fn manual_request(t: &Tenant, user: &str) -> WorkspaceRequest {
    WorkspaceRequest::builder()
        .directory_id(&t.directory_id)
        .user_name(user)
        .bundle_id(&t.bundle_id)
        .workspace_properties(
            WorkspaceProperties::builder()
                .running_mode(RunningMode::Manual)
                .build(),
        )
        .tags(partner_tag())
        .build()
        .expect("request")
}

/// Creates MANUAL workspaces and moves the clock until they are AVAILABLE.
pub async fn create_available(
    emu: &EmulatorHandle,
    ws: &aws_sdk_workspaces::Client,
    t: &Tenant,
    users: &[&str],
) -> Vec<String> {
    let mut req = ws.create_workspaces();
    for u in users {
        req = req.workspaces(manual_request(t, u));
    }
    let out = req.send().await.expect("create workspaces");
    assert!(
        out.failed_requests().is_empty(),
        "{:?}",
        out.failed_requests()
    );
    advance(emu, 1.0);
    out.pending_requests()
        .iter()
        .map(|w| w.workspace_id().expect("id").to_string())
        .collect()
}

pub async fn state_of(ws: &aws_sdk_workspaces::Client, id: &str) -> Option<String> {
    let out = ws
        .describe_workspaces()
        .workspace_ids(id)
        .send()
        .await
        .expect("describe");
    out.workspaces()
        .first()
        .and_then(|w| w.state())
        .map(|s| s.as_str().to_string())
}
