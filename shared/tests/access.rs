//! The client factory assumes each tenant's role with its ExternalId and a session name
//! naming the tenant, and reuses the credentials until shortly before they expire.
//! A replay HTTP client records every request, so the test sees exactly what reached STS.

use std::time::Duration;

use aws_config::Region;
use aws_credential_types::Credentials;
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use chrono::Utc;
use steward_shared::aws::{AwsError, AwsErrorKind, ClientFactory, TenantAccess};
use steward_shared::config::AccessSettings;
use steward_shared::ids::{ExternalId, RegionName, RoleArn, TenantId};
use steward_shared::model::Connection;

const ROLE: &str = "arn:aws:iam::123456789012:role/StewardPartnerAccess";

fn assume_role_ok(expires_in: chrono::Duration, key: &str) -> http::Response<SdkBody> {
    let expiration = (Utc::now() + expires_in).format("%Y-%m-%dT%H:%M:%SZ");
    let body = format!(
        r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>{key}</AccessKeyId>
      <SecretAccessKey>tenant-secret</SecretAccessKey>
      <SessionToken>token-{key}</SessionToken>
      <Expiration>{expiration}</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <AssumedRoleId>AROAEXAMPLE:steward-acme</AssumedRoleId>
      <Arn>arn:aws:sts::123456789012:assumed-role/StewardPartnerAccess/steward-acme</Arn>
    </AssumedRoleUser>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000001</RequestId></ResponseMetadata>
</AssumeRoleResponse>"#
    );
    http::Response::builder()
        .status(200)
        .header("content-type", "text/xml")
        .body(SdkBody::from(body))
        .unwrap()
}

fn assume_role_denied() -> http::Response<SdkBody> {
    let body = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform sts:AssumeRole</Message></Error>
  <RequestId>00000000-0000-0000-0000-000000000002</RequestId>
</ErrorResponse>"#;
    http::Response::builder()
        .status(403)
        .header("content-type", "text/xml")
        .body(SdkBody::from(body))
        .unwrap()
}

fn describe_account_ok() -> http::Response<SdkBody> {
    http::Response::builder()
        .status(200)
        .header("content-type", "application/x-amz-json-1.1")
        .body(SdkBody::from(r#"{"DedicatedTenancySupport":"DISABLED"}"#))
        .unwrap()
}

fn event(resp: http::Response<SdkBody>) -> ReplayEvent {
    let req = http::Request::builder()
        .uri("http://localhost:4566/")
        .body(SdkBody::empty())
        .unwrap();
    ReplayEvent::new(req, resp)
}

async fn factory(http: StaticReplayClient, settings: AccessSettings) -> ClientFactory {
    let base = steward_shared::aws::sdk_defaults()
        .http_client(http)
        .credentials_provider(Credentials::new(
            "AKIDPARTNER",
            "partner",
            None,
            None,
            "test",
        ))
        .region(Region::new("us-east-1"))
        .endpoint_url("http://localhost:4566")
        .load()
        .await;
    ClientFactory::new(base, settings)
}

struct Ids {
    tenant: TenantId,
    connection: Connection,
    region: RegionName,
}

fn ids(tenant: &str, external_id: &str) -> Ids {
    Ids {
        tenant: TenantId::parse(tenant).unwrap(),
        connection: Connection::AssumeRole {
            role_arn: RoleArn::parse(ROLE).unwrap(),
            external_id: ExternalId::parse(external_id).unwrap(),
        },
        region: RegionName::parse("us-east-1").unwrap(),
    }
}

fn access(i: &Ids) -> TenantAccess<'_> {
    TenantAccess {
        tenant_id: &i.tenant,
        connection: &i.connection,
        region: &i.region,
    }
}

fn body(req: &aws_smithy_runtime_api::client::orchestrator::HttpRequest) -> String {
    String::from_utf8(req.body().bytes().unwrap_or_default().to_vec()).unwrap()
}

fn is_assume_role(req: &aws_smithy_runtime_api::client::orchestrator::HttpRequest) -> bool {
    body(req).contains("Action=AssumeRole")
}

#[tokio::test]
async fn assumes_with_external_id_and_reuses_the_session() {
    let http = StaticReplayClient::new(vec![
        event(assume_role_ok(chrono::Duration::minutes(15), "ASIAACME")),
        event(describe_account_ok()),
        event(describe_account_ok()),
    ]);
    let f = factory(http.clone(), AccessSettings::default()).await;
    let acme = ids("acme", "steward-demo-external-id");

    for _ in 0..2 {
        let clients = f.for_tenant(access(&acme)).await;
        clients
            .workspaces()
            .describe_account()
            .send()
            .await
            .unwrap();
    }

    let reqs: Vec<_> = http.actual_requests().collect();
    assert_eq!(
        reqs.len(),
        3,
        "one AssumeRole, then two calls with the cached session"
    );
    let sts = body(reqs[0]);
    assert!(sts.contains("Action=AssumeRole"), "{sts}");
    assert!(sts.contains("ExternalId=steward-demo-external-id"), "{sts}");
    assert!(sts.contains("RoleSessionName=steward-acme"), "{sts}");
    assert!(sts.contains("DurationSeconds=900"), "{sts}");
    assert!(
        sts.contains("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2FStewardPartnerAccess"),
        "{sts}"
    );
    for call in &reqs[1..] {
        assert!(!is_assume_role(call));
        assert_eq!(
            call.headers().get("x-amz-target"),
            Some("WorkspacesService.DescribeAccount")
        );
        assert_eq!(
            call.headers().get("x-amz-security-token"),
            Some("token-ASIAACME")
        );
        let auth = call.headers().get("authorization").unwrap_or_default();
        assert!(
            auth.contains("Credential=ASIAACME/"),
            "signed as the tenant role: {auth}"
        );
    }
}

#[tokio::test]
async fn re_assumes_shortly_before_expiry() {
    // The cache refreshes at a jittered point within the buffer before expiry; credentials
    // that expire now are past every such point, so the second call must re-assume.
    let http = StaticReplayClient::new(vec![
        event(assume_role_ok(chrono::Duration::zero(), "ASIAFIRST")),
        event(describe_account_ok()),
        event(assume_role_ok(chrono::Duration::minutes(15), "ASIASECOND")),
        event(describe_account_ok()),
    ]);
    let settings = AccessSettings {
        refresh_buffer: Duration::from_secs(120),
        ..AccessSettings::default()
    };
    let f = factory(http.clone(), settings).await;
    let acme = ids("acme", "steward-demo-external-id");
    for _ in 0..2 {
        let clients = f.for_tenant(access(&acme)).await;
        clients
            .workspaces()
            .describe_account()
            .send()
            .await
            .unwrap();
    }
    let reqs: Vec<_> = http.actual_requests().collect();
    assert_eq!(reqs.len(), 4);
    assert!(is_assume_role(reqs[0]) && is_assume_role(reqs[2]));
    assert_eq!(
        reqs[3].headers().get("x-amz-security-token"),
        Some("token-ASIASECOND")
    );
}

#[tokio::test]
async fn sessions_are_per_tenant_and_per_external_id() {
    let http = StaticReplayClient::new(vec![
        event(assume_role_ok(chrono::Duration::minutes(15), "ASIAACME")),
        event(describe_account_ok()),
        event(assume_role_ok(chrono::Duration::minutes(15), "ASIAGLOBEX")),
        event(describe_account_ok()),
        event(assume_role_ok(chrono::Duration::minutes(15), "ASIAACMENEW")),
        event(describe_account_ok()),
    ]);
    let f = factory(http.clone(), AccessSettings::default()).await;
    let acme = ids("acme", "steward-demo-external-id");
    let globex = ids("globex", "globex-external-id");
    let acme_rotated = ids("acme", "rotated-external-id");
    for i in [&acme, &globex, &acme_rotated] {
        let clients = f.for_tenant(access(i)).await;
        clients
            .workspaces()
            .describe_account()
            .send()
            .await
            .unwrap();
    }
    let sts: Vec<String> = http
        .actual_requests()
        .filter(|r| is_assume_role(r))
        .map(body)
        .collect();
    assert_eq!(sts.len(), 3);
    assert!(sts[1].contains("RoleSessionName=steward-globex"));
    assert!(sts[1].contains("ExternalId=globex-external-id"));
    assert!(sts[2].contains("ExternalId=rotated-external-id"));
}

#[tokio::test]
async fn a_refused_role_is_access_denied() {
    let http = StaticReplayClient::new(vec![event(assume_role_denied())]);
    let f = factory(http.clone(), AccessSettings::default()).await;
    let acme = ids("acme", "wrong-external-id");
    let clients = f.for_tenant(access(&acme)).await;
    let err = clients
        .workspaces()
        .describe_account()
        .send()
        .await
        .unwrap_err();
    let err = AwsError::from_sdk("WorkSpaces", "DescribeAccount", err);
    assert_eq!(err.kind, AwsErrorKind::AccessDenied, "{err}");
    assert_eq!(err.kind.name(), "Steward.AccessDenied");
    assert!(
        err.to_string()
            .contains("WorkSpaces.DescribeAccount failed"),
        "{err}"
    );
    // Only the AssumeRole went out: nothing reached WorkSpaces.
    assert_eq!(http.actual_requests().count(), 1);
}

#[tokio::test]
async fn the_session_cache_is_bounded_and_keeps_the_recently_used() {
    use steward_shared::aws::MAX_CACHED_TENANTS;
    // Nothing is called: clients are built lazily, so no traffic is replayed.
    let f = factory(StaticReplayClient::new(vec![]), AccessSettings::default()).await;
    let first = ids("tenant-0", "steward-demo-external-id");
    f.for_tenant(access(&first)).await;
    for n in 1..MAX_CACHED_TENANTS + 40 {
        // tenant-0 stays in use throughout.
        f.for_tenant(access(&first)).await;
        let other = ids(&format!("tenant-{n}"), "steward-demo-external-id");
        f.for_tenant(access(&other)).await;
        assert!(f.cached_tenants() <= MAX_CACHED_TENANTS);
    }
    assert_eq!(f.cached_tenants(), MAX_CACHED_TENANTS);
    // The oldest idle ones went, the one in use did not: forgetting it empties one slot.
    f.forget(&first.tenant);
    assert_eq!(f.cached_tenants(), MAX_CACHED_TENANTS - 1);
}

#[tokio::test]
async fn sdk_and_signed_clients_share_one_session() {
    let quota = http::Response::builder()
        .status(200)
        .header("content-type", "application/x-amz-json-1.1")
        .body(SdkBody::from(
            r#"{"Quota":{"QuotaName":"WorkSpaces","Value":50.0}}"#,
        ))
        .unwrap();
    let http = StaticReplayClient::new(vec![
        event(assume_role_ok(chrono::Duration::minutes(15), "ASIAACME")),
        event(describe_account_ok()),
        event(quota),
    ]);
    let f = factory(http.clone(), AccessSettings::default())
        .await
        .with_connector(
            aws_smithy_runtime_api::client::http::SharedHttpConnector::new(http.clone()),
        );
    let acme = ids("acme", "steward-demo-external-id");
    let clients = f.for_tenant(access(&acme)).await;
    clients
        .workspaces()
        .describe_account()
        .send()
        .await
        .unwrap();
    let reading = clients
        .service_quotas()
        .quota("workspaces", "L-34278094")
        .await
        .unwrap();
    assert_eq!(
        reading,
        steward_shared::gateway::service_quotas::QuotaReading::Known {
            value: 50.0,
            name: Some("WorkSpaces".into())
        }
    );
    let reqs: Vec<_> = http.actual_requests().collect();
    assert_eq!(reqs.len(), 3, "one AssumeRole for both clients");
    assert!(is_assume_role(reqs[0]));
    for call in &reqs[1..] {
        assert!(!is_assume_role(call));
        let auth = call.headers().get("authorization").unwrap_or_default();
        assert!(auth.contains("Credential=ASIAACME/"), "{auth}");
        assert_eq!(
            call.headers().get("x-amz-security-token"),
            Some("token-ASIAACME")
        );
    }
    assert_eq!(
        reqs[2].headers().get("x-amz-target"),
        Some("ServiceQuotasV20190624.GetServiceQuota")
    );
}
