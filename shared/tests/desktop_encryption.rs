//! CreateWorkspaces asks for encrypted root and user volumes (with the customer's key when
//! one is given) or sends none of the members, and DescribeWorkspaces' encryption members
//! come back as a typed view. A replay HTTP client records exactly what reached WorkSpaces.

use aws_config::Region;
use aws_credential_types::Credentials;
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use serde_json::{Value, json};
use steward_shared::gateway::workspaces::{
    CreateWorkspacesSpec, Created, DesktopEncryption, NewWorkspace, WorkspacesGateway,
};
use steward_shared::ids::{BundleId, DirectoryId, KmsKeyRef, WorkspaceId};
use steward_shared::model::{PartnerTag, VolumeEncryptionRequest};

fn answer(body: Value) -> ReplayEvent {
    let req = http::Request::builder()
        .uri("http://localhost:4566/")
        .body(SdkBody::empty())
        .unwrap();
    let resp = http::Response::builder()
        .status(200)
        .header("content-type", "application/x-amz-json-1.1")
        .body(SdkBody::from(body.to_string()))
        .unwrap();
    ReplayEvent::new(req, resp)
}

async fn client(http: StaticReplayClient) -> aws_sdk_workspaces::Client {
    let config = steward_shared::aws::sdk_defaults()
        .http_client(http)
        .credentials_provider(Credentials::new("AKID", "secret", None, None, "test"))
        .region(Region::new("us-east-1"))
        .endpoint_url("http://localhost:4566")
        .load()
        .await;
    aws_sdk_workspaces::Client::new(&config)
}

fn pending() -> Value {
    json!({"FailedRequests": [], "PendingRequests": [{
        "WorkspaceId": "ws-00000001", "DirectoryId": "d-1234567890", "UserName": "alice",
        "BundleId": "wsb-12345678", "State": "PENDING"}]})
}

/// Creates one desktop for alice with `encryption`; the request body WorkSpaces received.
async fn create_with(encryption: VolumeEncryptionRequest) -> Value {
    let http = StaticReplayClient::new(vec![answer(pending())]);
    let c = client(http.clone()).await;
    let dir = DirectoryId::parse("d-1234567890").unwrap();
    let bundle = BundleId::parse("wsb-12345678").unwrap();
    let tag = PartnerTag::new("steward:partner", "acme").unwrap();
    let desktops = [NewWorkspace {
        user_name: "alice".into(),
        workspace_name: None,
    }];
    let out = WorkspacesGateway::new(&c)
        .create_workspaces(CreateWorkspacesSpec {
            directory: &dir,
            bundle: &bundle,
            tag: &tag,
            desktops: &desktops,
            encryption,
        })
        .await
        .unwrap();
    assert_eq!(out.len(), 1);
    assert!(matches!(&out[0], Created::Pending(w) if w.workspace_id() == "ws-00000001"));
    let requests = http.actual_requests().collect::<Vec<_>>();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].headers().get("x-amz-target"),
        Some("WorkspacesService.CreateWorkspaces")
    );
    serde_json::from_slice(requests[0].body().bytes().unwrap()).unwrap()
}

#[tokio::test]
async fn encrypted_with_a_key_sends_both_flags_and_the_key() {
    let body = create_with(VolumeEncryptionRequest::Encrypted {
        key: Some(KmsKeyRef::parse("alias/acme-desktops").unwrap()),
    })
    .await;
    let w = &body["Workspaces"][0];
    assert_eq!(w["RootVolumeEncryptionEnabled"], json!(true));
    assert_eq!(w["UserVolumeEncryptionEnabled"], json!(true));
    assert_eq!(w["VolumeEncryptionKey"], json!("alias/acme-desktops"));
    assert_eq!(w["DirectoryId"], json!("d-1234567890"));
    assert_eq!(w["WorkspaceProperties"], json!({"RunningMode": "MANUAL"}));
}

#[tokio::test]
async fn encrypted_without_a_key_leaves_the_aws_managed_key() {
    let body = create_with(VolumeEncryptionRequest::Encrypted { key: None }).await;
    let w = body["Workspaces"][0].as_object().unwrap();
    assert_eq!(w["RootVolumeEncryptionEnabled"], json!(true));
    assert_eq!(w["UserVolumeEncryptionEnabled"], json!(true));
    assert!(!w.contains_key("VolumeEncryptionKey"));
}

#[tokio::test]
async fn unencrypted_sends_none_of_the_members() {
    let body = create_with(VolumeEncryptionRequest::Unencrypted).await;
    let w = body["Workspaces"][0].as_object().unwrap();
    for member in [
        "RootVolumeEncryptionEnabled",
        "UserVolumeEncryptionEnabled",
        "VolumeEncryptionKey",
    ] {
        assert!(!w.contains_key(member), "{member} sent: {w:?}");
    }
}

#[tokio::test]
async fn described_desktops_carry_their_encryption() {
    let http = StaticReplayClient::new(vec![answer(json!({"Workspaces": [
        {"WorkspaceId": "ws-00000001", "State": "AVAILABLE",
         "RootVolumeEncryptionEnabled": true, "UserVolumeEncryptionEnabled": true,
         "VolumeEncryptionKey": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
        {"WorkspaceId": "ws-00000002", "State": "AVAILABLE",
         "RootVolumeEncryptionEnabled": false, "UserVolumeEncryptionEnabled": true},
        {"WorkspaceId": "ws-00000003", "State": "STOPPED"}
    ]}))]);
    let c = client(http).await;
    let ids = ["ws-00000001", "ws-00000002", "ws-00000003"].map(|i| WorkspaceId::parse(i).unwrap());
    let got = WorkspacesGateway::new(&c).describe(&ids).await.unwrap();
    let enc: Vec<_> = got.found.iter().map(|o| o.encryption.clone()).collect();
    assert_eq!(
        enc,
        vec![
            Some(DesktopEncryption {
                root: true,
                user: true,
                key: Some(
                    "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                        .into()
                ),
            }),
            Some(DesktopEncryption {
                root: false,
                user: true,
                key: None,
            }),
            None,
        ]
    );
}
