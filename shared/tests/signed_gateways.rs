//! The SDK-less gateways (EC2, Directory Service, IAM, Service Quotas, Secrets Manager) over
//! the signed client: the exact requests they send (endpoint, protocol headers, body, the
//! SigV4 scope they sign for), how they page, retry and classify failures, and the views
//! they return. A replay connector records every request and plays canned answers.

use std::time::Duration;

use aws_config::{Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_runtime_api::client::http::SharedHttpConnector;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use serde_json::{Value, json};
use steward_shared::aws::AwsErrorKind;
use steward_shared::aws::signed::SignedGateway;
use steward_shared::config::AccessSettings;
use steward_shared::gateway::directory_service::{
    DirectoryKind, DirectoryServiceClient, DirectorySize, DirectoryStage, ServiceDirectory,
};
use steward_shared::gateway::ec2::{Ec2Client, Subnet};
use steward_shared::gateway::iam::IamClient;
use steward_shared::gateway::secrets::{SecretError, SecretsClient};
use steward_shared::gateway::service_quotas::{QuotaReading, QuotaUnknown, ServiceQuotasClient};
use steward_shared::ids::SecretArn;

const LOCAL: &str = "http://localhost:4566";

fn settings() -> AccessSettings {
    AccessSettings {
        initial_backoff: Duration::from_millis(1),
        max_attempts: 3,
        ..AccessSettings::default()
    }
}

async fn config(region: &str, endpoint: Option<&str>) -> SdkConfig {
    let mut loader = steward_shared::aws::sdk_defaults()
        .credentials_provider(Credentials::new("AKIDTENANT", "secret", None, None, "test"))
        .region(Region::new(region.to_owned()));
    if let Some(e) = endpoint {
        loader = loader.endpoint_url(e);
    }
    loader.load().await
}

fn answer(status: u16, content_type: &str, body: &str) -> ReplayEvent {
    let req = http::Request::builder()
        .uri(LOCAL)
        .body(SdkBody::empty())
        .unwrap();
    let resp = http::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(SdkBody::from(body.to_owned()))
        .unwrap();
    ReplayEvent::new(req, resp)
}

fn xml(status: u16, body: &str) -> ReplayEvent {
    answer(status, "text/xml", body)
}

fn json_answer(status: u16, body: Value) -> ReplayEvent {
    answer(status, "application/x-amz-json-1.1", &body.to_string())
}

fn connector(http: &StaticReplayClient) -> SharedHttpConnector {
    SharedHttpConnector::new(http.clone())
}

fn body(req: &HttpRequest) -> String {
    String::from_utf8(req.body().bytes().unwrap_or_default().to_vec()).unwrap()
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name)
}

/// The `<region>/<service>` of the request's SigV4 credential scope.
fn scope(req: &HttpRequest) -> String {
    let auth = header(req, "authorization").unwrap_or_default();
    let credential = auth
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split(',').next())
        .unwrap_or_default();
    let parts: Vec<&str> = credential.split('/').collect();
    assert_eq!(parts.len(), 5, "{auth}");
    assert_eq!(parts[0], "AKIDTENANT");
    assert_eq!(parts[4], "aws4_request");
    format!("{}/{}", parts[2], parts[3])
}

fn requests(http: &StaticReplayClient) -> Vec<&HttpRequest> {
    http.actual_requests().collect()
}

// ---------- EC2 ----------

const IMAGES_1: &str = r#"<DescribeImagesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><imagesSet><item><imageId>ami-00000001</imageId><imageState>available</imageState></item></imagesSet><nextToken>page-2</nextToken></DescribeImagesResponse>"#;
const IMAGES_2: &str = r#"<DescribeImagesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><imagesSet><item><imageId>ami-00000002</imageId><imageState>available</imageState></item></imagesSet></DescribeImagesResponse>"#;

#[tokio::test]
async fn ec2_images_follow_every_page_as_signed_form_posts() {
    let http = StaticReplayClient::new(vec![xml(200, IMAGES_1), xml(200, IMAGES_2)]);
    let ec2 = Ec2Client::new(
        &config("eu-west-1", Some(LOCAL)).await,
        connector(&http),
        &settings(),
    );
    let (amis, truncated) = ec2.owned_amis(10).await.unwrap();
    let ids: Vec<&str> = amis.iter().map(|a| a.image_id.as_str()).collect();
    assert_eq!(
        (ids, truncated),
        (vec!["ami-00000001", "ami-00000002"], false)
    );
    let reqs = requests(&http);
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].uri(), "http://localhost:4566/");
    assert_eq!(reqs[0].method(), "POST");
    assert_eq!(
        header(reqs[0], "content-type"),
        Some("application/x-www-form-urlencoded; charset=utf-8")
    );
    assert_eq!(header(reqs[0], "x-amz-target"), None);
    assert_eq!(scope(reqs[0]), "eu-west-1/ec2");
    assert_eq!(
        body(reqs[0]),
        "Action=DescribeImages&Version=2016-11-15&Owner.1=self&Filter.1.Name=image-type&Filter.1.Value.1=machine"
    );
    assert_eq!(
        body(reqs[1]),
        "Action=DescribeImages&Version=2016-11-15&Owner.1=self&Filter.1.Name=image-type&Filter.1.Value.1=machine&NextToken=page-2"
    );
}

#[tokio::test]
async fn ec2_stops_paging_at_the_offer_size_and_says_truncated() {
    let http = StaticReplayClient::new(vec![xml(200, IMAGES_1), xml(200, IMAGES_2)]);
    let ec2 = Ec2Client::new(
        &config("us-east-1", None).await,
        connector(&http),
        &settings(),
    );
    let (amis, truncated) = ec2.owned_amis(1).await.unwrap();
    assert_eq!((amis.len(), truncated), (1, true));
    let reqs = requests(&http);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].uri(), "https://ec2.us-east-1.amazonaws.com/");
}

#[tokio::test]
async fn throttling_is_retried_and_a_refusal_is_not() {
    let throttled = r#"<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r</RequestID></Response>"#;
    let denied = r#"<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized</Message></Error></Errors><RequestID>r</RequestID></Response>"#;
    let http = StaticReplayClient::new(vec![
        xml(503, throttled),
        xml(200, IMAGES_2),
        xml(403, denied),
    ]);
    let ec2 = Ec2Client::new(
        &config("us-east-1", Some(LOCAL)).await,
        connector(&http),
        &settings(),
    );
    let (amis, _) = ec2.owned_amis(10).await.unwrap();
    assert_eq!(amis.len(), 1);
    assert_eq!(requests(&http).len(), 2);
    let e = ec2.owned_amis(10).await.unwrap_err();
    assert_eq!(e.kind, AwsErrorKind::AccessDenied);
    assert_eq!(
        (
            e.service,
            e.operation,
            e.code.as_deref(),
            e.message.as_deref()
        ),
        (
            "EC2",
            "DescribeImages",
            Some("UnauthorizedOperation"),
            Some("You are not authorized")
        )
    );
    assert_eq!(requests(&http).len(), 3);
}

#[tokio::test]
async fn transient_failures_stop_at_the_configured_attempts() {
    let http = StaticReplayClient::new(vec![
        xml(500, "<html/>"),
        xml(502, "<html/>"),
        xml(503, "<html/>"),
    ]);
    let ec2 = Ec2Client::new(
        &config("us-east-1", Some(LOCAL)).await,
        connector(&http),
        &settings(),
    );
    let e = ec2.owned_amis(10).await.unwrap_err();
    assert_eq!(e.kind, AwsErrorKind::Transient);
    assert_eq!(e.message.as_deref(), Some("HTTP 503"));
    assert_eq!(requests(&http).len(), 3);
}

#[tokio::test]
async fn subnets_are_described_by_id_across_pages() {
    let page = |items: &str, token: &str| {
        format!(
            r#"<DescribeSubnetsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><subnetSet>{items}</subnetSet>{token}</DescribeSubnetsResponse>"#
        )
    };
    let a = "<item><subnetId>subnet-a</subnetId><vpcId>vpc-1</vpcId><availabilityZone>us-east-1a</availabilityZone><availabilityZoneId>use1-az6</availabilityZoneId></item>";
    let b = "<item><subnetId>subnet-b</subnetId><vpcId>vpc-1</vpcId><availabilityZone>us-east-1e</availabilityZone><availabilityZoneId>use1-az3</availabilityZoneId></item>";
    let missing = r#"<Response><Errors><Error><Code>InvalidSubnetID.NotFound</Code><Message>The subnet ID 'subnet-x' does not exist</Message></Error></Errors></Response>"#;
    let http = StaticReplayClient::new(vec![
        xml(200, &page(a, "<nextToken>t2</nextToken>")),
        xml(200, &page(b, "")),
        xml(400, missing),
    ]);
    let ec2 = Ec2Client::new(
        &config("us-east-1", Some(LOCAL)).await,
        connector(&http),
        &settings(),
    );
    let ids = ["subnet-a".to_owned(), "subnet-b".to_owned()];
    let subnets = ec2.subnets(&ids).await.unwrap();
    let zone = |id: &str, name: &str, zone_id: &str| Subnet {
        subnet_id: id.into(),
        vpc_id: "vpc-1".into(),
        availability_zone: name.into(),
        availability_zone_id: zone_id.into(),
    };
    assert_eq!(
        subnets,
        vec![
            zone("subnet-a", "us-east-1a", "use1-az6"),
            zone("subnet-b", "us-east-1e", "use1-az3")
        ]
    );
    let reqs = requests(&http);
    assert_eq!(
        body(reqs[0]),
        "Action=DescribeSubnets&Version=2016-11-15&SubnetId.1=subnet-a&SubnetId.2=subnet-b"
    );
    assert_eq!(
        body(reqs[1]),
        "Action=DescribeSubnets&Version=2016-11-15&SubnetId.1=subnet-a&SubnetId.2=subnet-b&NextToken=t2"
    );
    let e = ec2.subnets(&["subnet-x".to_owned()]).await.unwrap_err();
    assert_eq!(e.kind, AwsErrorKind::NotFound);
    assert_eq!(requests(&http).len(), 3);
    // No ids, no call.
    assert_eq!(ec2.subnets(&[]).await.unwrap(), Vec::new());
    assert_eq!(requests(&http).len(), 3);
}

// ---------- Directory Service ----------

#[tokio::test]
async fn directories_are_read_page_by_page_as_json_calls() {
    let http = StaticReplayClient::new(vec![
        json_answer(
            200,
            json!({"DirectoryDescriptions": [{
                "DirectoryId": "d-9067e2d4a1", "Name": "corp.example.com", "ShortName": "CORP",
                "Alias": "corp-alias", "Type": "MicrosoftAD", "Edition": "Standard",
                "Stage": "Active", "DnsIpAddrs": ["10.0.1.10", "10.0.2.10"],
                "LaunchTime": 1.7e9,
                "VpcSettings": {"VpcId": "vpc-1", "SubnetIds": ["subnet-a", "subnet-b"],
                    "SecurityGroupId": "sg-1", "AvailabilityZones": ["us-east-1a", "us-east-1b"]}
            }], "NextToken": "t2"}),
        ),
        json_answer(
            200,
            json!({"DirectoryDescriptions": [{
                "DirectoryId": "d-9067e2d4a2", "Name": "lab.example.com", "Type": "SimpleAD",
                "Size": "Small", "Stage": "Impaired", "StageReason": "DNS unreachable"
            }]}),
        ),
    ]);
    let ds = DirectoryServiceClient::new(
        &config("us-west-2", Some(LOCAL)).await,
        connector(&http),
        &settings(),
    );
    let dirs = ds.directories().await.unwrap();
    assert_eq!(
        dirs,
        vec![
            ServiceDirectory {
                directory_id: "d-9067e2d4a1".into(),
                name: "corp.example.com".into(),
                short_name: Some("CORP".into()),
                alias: Some("corp-alias".into()),
                kind: Some(DirectoryKind::MicrosoftAd),
                size: None,
                stage: Some(DirectoryStage::Active),
                stage_reason: None,
                dns_addresses: vec!["10.0.1.10".into(), "10.0.2.10".into()],
                vpc_id: Some("vpc-1".into()),
                subnet_ids: vec!["subnet-a".into(), "subnet-b".into()],
                availability_zones: vec!["us-east-1a".into(), "us-east-1b".into()],
                security_group_id: Some("sg-1".into()),
            },
            ServiceDirectory {
                directory_id: "d-9067e2d4a2".into(),
                name: "lab.example.com".into(),
                short_name: None,
                alias: None,
                kind: Some(DirectoryKind::SimpleAd),
                size: Some(DirectorySize::Small),
                stage: Some(DirectoryStage::Impaired),
                stage_reason: Some("DNS unreachable".into()),
                dns_addresses: vec![],
                vpc_id: None,
                subnet_ids: vec![],
                availability_zones: vec![],
                security_group_id: None,
            },
        ]
    );
    let reqs = requests(&http);
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        assert_eq!(r.uri(), "http://localhost:4566/");
        assert_eq!(
            header(r, "x-amz-target"),
            Some("DirectoryService_20150416.DescribeDirectories")
        );
        assert_eq!(
            header(r, "content-type"),
            Some("application/x-amz-json-1.1")
        );
        assert_eq!(scope(r), "us-west-2/ds");
    }
    assert_eq!(
        serde_json::from_str::<Value>(&body(reqs[0])).unwrap(),
        json!({})
    );
    assert_eq!(
        serde_json::from_str::<Value>(&body(reqs[1])).unwrap(),
        json!({"NextToken": "t2"})
    );
}

#[tokio::test]
async fn json_errors_are_classified_from_their_type() {
    let http = StaticReplayClient::new(vec![json_answer(
        400,
        json!({"__type": "AccessDeniedException", "Message": "not authorized to ds:DescribeDirectories"}),
    )]);
    let ds = DirectoryServiceClient::new(
        &config("us-east-1", None).await,
        connector(&http),
        &settings(),
    );
    let e = ds.directories().await.unwrap_err();
    assert_eq!(
        (e.kind, e.service, e.operation, e.code.as_deref()),
        (
            AwsErrorKind::AccessDenied,
            "DirectoryService",
            "DescribeDirectories",
            Some("AccessDeniedException")
        )
    );
    assert_eq!(
        e.message.as_deref(),
        Some("not authorized to ds:DescribeDirectories")
    );
    let reqs = requests(&http);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].uri(), "https://ds.us-east-1.amazonaws.com/");
}

// ---------- IAM ----------

const ROLE: &str = r#"<GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetRoleResult><Role><Path>/</Path><AssumeRolePolicyDocument>%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22workspaces.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D</AssumeRolePolicyDocument><RoleId>AROAEXAMPLE</RoleId><RoleName>workspaces_DefaultRole</RoleName><Arn>arn:aws:iam::123456789012:role/workspaces_DefaultRole</Arn></Role></GetRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetRoleResponse>"#;

#[tokio::test]
async fn iam_is_global_and_a_missing_role_is_none() {
    let missing = r#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The role with name workspaces_DefaultRole cannot be found.</Message></Error><RequestId>r</RequestId></ErrorResponse>"#;
    let denied = r#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform: iam:GetRole</Message></Error><RequestId>r</RequestId></ErrorResponse>"#;
    let http = StaticReplayClient::new(vec![xml(200, ROLE), xml(404, missing), xml(403, denied)]);
    let iam = IamClient::new(
        &config("eu-west-1", None).await,
        connector(&http),
        &settings(),
    );
    let role = iam.role("workspaces_DefaultRole").await.unwrap().unwrap();
    assert_eq!(
        role.arn,
        "arn:aws:iam::123456789012:role/workspaces_DefaultRole"
    );
    assert_eq!(role.trusted_services, ["workspaces.amazonaws.com"]);
    assert_eq!(iam.role("workspaces_DefaultRole").await.unwrap(), None);
    let e = iam.role("workspaces_DefaultRole").await.unwrap_err();
    assert_eq!((e.kind, e.service), (AwsErrorKind::AccessDenied, "IAM"));
    let reqs = requests(&http);
    assert_eq!(reqs.len(), 3);
    for r in &reqs {
        assert_eq!(r.uri(), "https://iam.amazonaws.com/");
        assert_eq!(scope(r), "us-east-1/iam");
        assert_eq!(
            body(r),
            "Action=GetRole&Version=2010-05-08&RoleName=workspaces_DefaultRole"
        );
    }
}

// ---------- Service Quotas ----------

#[tokio::test]
async fn quotas_read_known_or_unknown_never_zero() {
    let http = StaticReplayClient::new(vec![
        json_answer(
            200,
            json!({"Quota": {"ServiceCode": "workspaces", "QuotaCode": "L-34278094",
                             "QuotaName": "WorkSpaces", "Value": 50.0, "Unit": "None"}}),
        ),
        json_answer(
            400,
            json!({"__type": "AccessDeniedException", "message": "no"}),
        ),
        json_answer(
            400,
            json!({"__type": "NoSuchResourceException", "message": "no quota"}),
        ),
        json_answer(400, json!({"__type": "TooManyRequestsException"})),
        json_answer(400, json!({"__type": "TooManyRequestsException"})),
        json_answer(400, json!({"__type": "TooManyRequestsException"})),
    ]);
    let sq = ServiceQuotasClient::new(
        &config("us-east-1", Some(LOCAL)).await,
        connector(&http),
        &settings(),
    );
    assert_eq!(
        sq.quota("workspaces", "L-34278094").await.unwrap(),
        QuotaReading::Known {
            value: 50.0,
            name: Some("WorkSpaces".into())
        }
    );
    assert_eq!(
        sq.quota("workspaces", "L-34278094").await.unwrap(),
        QuotaReading::Unknown {
            reason: QuotaUnknown::AccessDenied
        }
    );
    assert_eq!(
        sq.quota("workspaces", "L-34278094").await.unwrap(),
        QuotaReading::Unknown {
            reason: QuotaUnknown::NotFound
        }
    );
    let e = sq.quota("workspaces", "L-34278094").await.unwrap_err();
    assert_eq!(e.kind, AwsErrorKind::Throttled);
    let reqs = requests(&http);
    assert_eq!(reqs.len(), 6);
    assert_eq!(
        header(reqs[0], "x-amz-target"),
        Some("ServiceQuotasV20190624.GetServiceQuota")
    );
    assert_eq!(scope(reqs[0]), "us-east-1/servicequotas");
    assert_eq!(
        serde_json::from_str::<Value>(&body(reqs[0])).unwrap(),
        json!({"ServiceCode": "workspaces", "QuotaCode": "L-34278094"})
    );
}

// ---------- Secrets Manager ----------

const SECRET_ARN: &str = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:steward/acme-AbCdEf";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

#[tokio::test]
async fn a_secret_is_read_in_its_own_region_as_a_key_pair() {
    let value = json!({"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": SECRET});
    let http = StaticReplayClient::new(vec![
        json_answer(
            200,
            json!({"ARN": SECRET_ARN, "Name": "steward/acme", "VersionId": "v1",
                   "SecretString": value.to_string(), "VersionStages": ["AWSCURRENT"]}),
        ),
        json_answer(
            400,
            json!({"__type": "ResourceNotFoundException", "Message": "Secrets Manager can't find the specified secret."}),
        ),
        json_answer(
            200,
            json!({"ARN": SECRET_ARN, "SecretString": json!({"accessKeyId": "AKIA", "secret": SECRET}).to_string()}),
        ),
    ]);
    let secrets = SecretsClient::new(
        &config("us-east-1", Some(LOCAL)).await,
        connector(&http),
        &settings(),
    );
    let arn = SecretArn::parse(SECRET_ARN).unwrap();
    let pair = secrets.key_pair(&arn).await.unwrap();
    assert_eq!(pair.access_key_id, "AKIAIOSFODNN7EXAMPLE");
    assert_eq!(pair.secret_access_key(), SECRET);
    let missing = secrets.key_pair(&arn).await.unwrap_err();
    assert_eq!(missing.kind(), Some(AwsErrorKind::NotFound));
    let malformed = secrets.key_pair(&arn).await.unwrap_err();
    assert!(matches!(
        malformed,
        SecretError::MissingField {
            field: "secretAccessKey"
        }
    ));
    for e in [missing, malformed] {
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(SECRET), "{shown}");
    }
    let reqs = requests(&http);
    assert_eq!(reqs.len(), 3);
    assert_eq!(
        header(reqs[0], "x-amz-target"),
        Some("secretsmanager.GetSecretValue")
    );
    assert_eq!(scope(reqs[0]), "eu-west-1/secretsmanager");
    assert_eq!(
        serde_json::from_str::<Value>(&body(reqs[0])).unwrap(),
        json!({"SecretId": SECRET_ARN})
    );
}

#[tokio::test]
async fn a_directory_offer_stops_at_its_size_and_says_there_is_more() {
    let dir = |id: &str| json!({"DirectoryId": id, "Name": "corp.example.com", "Type": "SimpleAD", "Stage": "Active"});
    let http = StaticReplayClient::new(vec![
        json_answer(
            200,
            json!({"DirectoryDescriptions": [dir("d-0000000001")], "NextToken": "t2"}),
        ),
        json_answer(200, json!({"DirectoryDescriptions": [dir("d-0000000002")]})),
    ]);
    let ds = DirectoryServiceClient::new(
        &config("us-east-1", Some(LOCAL)).await,
        connector(&http),
        &settings(),
    );
    let (dirs, more) = ds.directories_up_to(1).await.unwrap();
    let ids: Vec<&str> = dirs.iter().map(|d| d.directory_id.as_str()).collect();
    assert_eq!((ids, more), (vec!["d-0000000001"], true));
    assert_eq!(requests(&http).len(), 1);
    let (dirs, more) = ds.directories_up_to(2).await.unwrap();
    assert_eq!((dirs.len(), more), (1, false));
}
