//! An access-key tenant is reached with the key pair its Secrets Manager secret holds: the
//! secret is read as the partner (Steward's own identity), once per cache period, and a
//! secret that cannot be used fails the tenant's calls with a reason that names the problem
//! and never the secret. A replay HTTP client records every request.

use std::time::Duration;

use aws_config::Region;
use aws_credential_types::Credentials;
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_runtime_api::client::http::SharedHttpConnector;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use serde_json::{Value, json};
use steward_shared::aws::{AwsError, AwsErrorKind, ClientFactory, TenantAccess};
use steward_shared::config::AccessSettings;
use steward_shared::ids::{RegionName, SecretArn, TenantId};
use steward_shared::model::Connection;

const SECRET_ARN: &str =
    "arn:aws:secretsmanager:us-east-1:999988887777:secret:steward/acme-keys-AbCdEf";
const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn answer(status: u16, body: Value) -> ReplayEvent {
    let req = http::Request::builder()
        .uri("http://localhost:4566/")
        .body(SdkBody::empty())
        .unwrap();
    let resp = http::Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.1")
        .body(SdkBody::from(body.to_string()))
        .unwrap();
    ReplayEvent::new(req, resp)
}

fn secret_value(secret_string: Value) -> ReplayEvent {
    answer(
        200,
        json!({"ARN": SECRET_ARN, "Name": "steward/acme-keys", "VersionId": "v1",
               "SecretString": secret_string.to_string()}),
    )
}

fn good_secret() -> ReplayEvent {
    secret_value(json!({"accessKeyId": KEY_ID, "secretAccessKey": SECRET}))
}

fn describe_account_ok() -> ReplayEvent {
    answer(200, json!({"DedicatedTenancySupport": "DISABLED"}))
}

async fn factory(http: &StaticReplayClient, settings: AccessSettings) -> ClientFactory {
    let base = steward_shared::aws::sdk_defaults()
        .http_client(http.clone())
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
    ClientFactory::new(base, settings).with_connector(SharedHttpConnector::new(http.clone()))
}

fn settings() -> AccessSettings {
    AccessSettings {
        max_attempts: 1,
        initial_backoff: Duration::from_millis(1),
        ..AccessSettings::default()
    }
}

fn access_key_tenant() -> (TenantId, Connection, RegionName) {
    (
        TenantId::parse("acme").unwrap(),
        Connection::AccessKey {
            credentials_secret_arn: SecretArn::parse(SECRET_ARN).unwrap(),
        },
        RegionName::parse("us-east-1").unwrap(),
    )
}

/// The access key id a request was signed with.
fn signer(req: &HttpRequest) -> String {
    let auth = req.headers().get("authorization").unwrap_or_default();
    auth.split("Credential=")
        .nth(1)
        .and_then(|c| c.split('/').next())
        .unwrap_or_default()
        .to_owned()
}

fn target(req: &HttpRequest) -> &str {
    req.headers().get("x-amz-target").unwrap_or_default()
}

async fn describe_account(f: &ClientFactory) -> Result<(), AwsError> {
    let (id, connection, region) = access_key_tenant();
    let clients = f
        .for_tenant(TenantAccess {
            tenant_id: &id,
            connection: &connection,
            region: &region,
        })
        .await;
    clients
        .workspaces()
        .describe_account()
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("WorkSpaces", "DescribeAccount", e))
}

#[tokio::test]
async fn the_secret_is_read_as_the_partner_once_and_its_pair_signs_the_tenants_calls() {
    let http = StaticReplayClient::new(vec![
        good_secret(),
        describe_account_ok(),
        describe_account_ok(),
    ]);
    let f = factory(&http, settings()).await;
    describe_account(&f).await.unwrap();
    describe_account(&f).await.unwrap();
    let reqs: Vec<&HttpRequest> = http.actual_requests().collect();
    let seen: Vec<(&str, String)> = reqs.iter().map(|r| (target(r), signer(r))).collect();
    assert_eq!(
        seen,
        vec![
            ("secretsmanager.GetSecretValue", "AKIDPARTNER".to_owned()),
            ("WorkspacesService.DescribeAccount", KEY_ID.to_owned()),
            ("WorkspacesService.DescribeAccount", KEY_ID.to_owned()),
        ]
    );
    // Long-term keys: no session token.
    assert_eq!(reqs[1].headers().get("x-amz-security-token"), None);
    let asked: Value = serde_json::from_slice(reqs[0].body().bytes().unwrap()).unwrap();
    assert_eq!(asked, json!({"SecretId": SECRET_ARN}));
}

#[tokio::test]
async fn a_new_session_reads_the_secret_again() {
    let http = StaticReplayClient::new(vec![
        good_secret(),
        describe_account_ok(),
        good_secret(),
        describe_account_ok(),
    ]);
    let f = factory(
        &http,
        AccessSettings {
            secret_cache: Duration::ZERO,
            ..settings()
        },
    )
    .await;
    describe_account(&f).await.unwrap();
    // A session dropped (after AccessDenied, say) reads the secret again: a rotated key
    // takes effect at once.
    f.forget(&TenantId::parse("acme").unwrap());
    describe_account(&f).await.unwrap();
    let targets: Vec<&str> = http.actual_requests().map(target).collect();
    assert_eq!(
        targets,
        [
            "secretsmanager.GetSecretValue",
            "WorkspacesService.DescribeAccount",
            "secretsmanager.GetSecretValue",
            "WorkspacesService.DescribeAccount",
        ]
    );
}

/// The tenant call's failure when its secret answers `secret_answer`.
async fn failure_with(secret_answer: ReplayEvent) -> (AwsError, usize) {
    let http = StaticReplayClient::new(vec![secret_answer]);
    let f = factory(&http, settings()).await;
    let e = describe_account(&f).await.unwrap_err();
    (e, http.actual_requests().count())
}

fn full_text(e: &AwsError) -> String {
    let mut out = format!("{e} {e:?}");
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = cur {
        out.push_str(&format!(" | {s}"));
        cur = s.source();
    }
    out
}

#[tokio::test]
async fn an_unusable_secret_fails_the_tenant_with_a_named_reason() {
    let cases = [
        (
            answer(
                400,
                json!({"__type": "AccessDeniedException", "Message": "not authorized to secretsmanager:GetSecretValue"}),
            ),
            "may not read the tenant's secret (denied)",
        ),
        (
            answer(
                400,
                json!({"__type": "ResourceNotFoundException", "Message": "Secrets Manager can't find the specified secret."}),
            ),
            "the tenant's secret was not found",
        ),
        (
            secret_value(json!({"accessKeyId": KEY_ID, "secret": SECRET})),
            "the tenant's secret is malformed: the tenant's secret has no secretAccessKey",
        ),
        (
            secret_value(json!({"accessKeyId": KEY_ID, "secretAccessKey": 42})),
            "the tenant's secret is malformed: the tenant's secret's secretAccessKey is not a non-empty string",
        ),
    ];
    for (secret_answer, reason) in cases {
        let (e, calls) = failure_with(secret_answer).await;
        // Nothing reached WorkSpaces: only the secret was read.
        assert_eq!(calls, 1, "{reason}");
        assert_eq!(e.kind, AwsErrorKind::AccessDenied, "{reason}");
        let text = full_text(&e);
        assert!(text.contains(reason), "{reason}: {text}");
        assert!(!text.contains(SECRET), "{text}");
    }
}

#[tokio::test]
async fn a_secret_read_that_fails_for_now_is_transient_not_a_refusal() {
    let (e, calls) = failure_with(answer(
        400,
        json!({"__type": "ThrottlingException", "Message": "Rate exceeded"}),
    ))
    .await;
    assert_eq!(calls, 1);
    assert_eq!(e.kind, AwsErrorKind::Transient);
    let text = full_text(&e);
    assert!(
        text.contains("the tenant's secret could not be read now"),
        "{text}"
    );
}
