//! Every Describe/List call of the WorkSpaces gateway follows `NextToken` to the last page —
//! real accounts have more than one — and the calls that fill an offer stop at its size and
//! say there was more. Each case answers two pages and checks the second request carries the
//! first page's token and the result holds both pages.

use aws_config::Region;
use aws_credential_types::Credentials;
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use serde_json::{Value, json};
use steward_shared::gateway::workspaces::WorkspacesGateway;
use steward_shared::ids::{BundleId, DirectoryId, ImageId, WorkspaceId};

fn page(body: Value) -> ReplayEvent {
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

async fn client(http: &StaticReplayClient) -> aws_sdk_workspaces::Client {
    let config = steward_shared::aws::sdk_defaults()
        .http_client(http.clone())
        .credentials_provider(Credentials::new("AKID", "secret", None, None, "test"))
        .region(Region::new("us-east-1"))
        .endpoint_url("http://localhost:4566")
        .load()
        .await;
    aws_sdk_workspaces::Client::new(&config)
}

/// The request bodies the service received, as JSON.
fn asked(http: &StaticReplayClient) -> Vec<Value> {
    http.actual_requests()
        .map(|r| serde_json::from_slice(r.body().bytes().unwrap_or(b"{}")).unwrap())
        .collect()
}

/// Two pages of `member`, one item each, the first with token `t2`.
fn two_pages(member: &str, first: Value, second: Value) -> StaticReplayClient {
    StaticReplayClient::new(vec![
        page(json!({ member: [first], "NextToken": "t2" })),
        page(json!({ member: [second] })),
    ])
}

/// The second request is the first plus `NextToken: t2`.
fn assert_paged(http: &StaticReplayClient) {
    let bodies = asked(http);
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert_eq!(bodies[0].get("NextToken"), None);
    let mut expected = bodies[0].clone();
    expected
        .as_object_mut()
        .unwrap()
        .insert("NextToken".into(), json!("t2"));
    assert_eq!(bodies[1], expected);
}

fn desktop(id: &str) -> Value {
    json!({"WorkspaceId": id, "State": "AVAILABLE", "DirectoryId": "d-1234567890"})
}

fn image(id: &str, name: &str) -> Value {
    json!({"ImageId": id, "Name": name, "State": "AVAILABLE", "OwnerAccountId": "123456789012"})
}

fn bundle(id: &str) -> Value {
    json!({"BundleId": id, "Name": id, "Owner": "123456789012"})
}

fn directory(id: &str) -> Value {
    json!({"DirectoryId": id, "State": "REGISTERED", "DirectoryType": "SIMPLE_AD"})
}

#[tokio::test]
async fn desktops_by_id_by_directory_and_their_connection_status() {
    let ids = [
        WorkspaceId::parse("ws-00000001").unwrap(),
        WorkspaceId::parse("ws-00000002").unwrap(),
    ];
    let http = two_pages("Workspaces", desktop("ws-00000001"), desktop("ws-00000002"));
    let c = client(&http).await;
    let d = WorkspacesGateway::new(&c).describe(&ids).await.unwrap();
    assert_eq!((d.found.len(), d.absent.len()), (2, 0));
    assert_paged(&http);

    let http = two_pages("Workspaces", desktop("ws-00000001"), desktop("ws-00000002"));
    let c = client(&http).await;
    let dir = DirectoryId::parse("d-1234567890").unwrap();
    let listed = WorkspacesGateway::new(&c)
        .desktops_in_directory(&dir)
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);
    assert_paged(&http);

    let http = two_pages(
        "WorkspacesConnectionStatus",
        json!({"WorkspaceId": "ws-00000001", "ConnectionState": "CONNECTED"}),
        json!({"WorkspaceId": "ws-00000002", "ConnectionState": "DISCONNECTED"}),
    );
    let c = client(&http).await;
    let s = WorkspacesGateway::new(&c)
        .connection_status(&ids)
        .await
        .unwrap();
    assert_eq!(s.len(), 2);
    assert_paged(&http);
}

#[tokio::test]
async fn images_listed_by_id_by_name_and_their_permissions() {
    let http = two_pages(
        "Images",
        image("wsi-000000001", "a"),
        image("wsi-000000002", "b"),
    );
    let c = client(&http).await;
    assert_eq!(WorkspacesGateway::new(&c).images().await.unwrap().len(), 2);
    assert_paged(&http);

    let ids = [
        ImageId::parse("wsi-000000001").unwrap(),
        ImageId::parse("wsi-000000002").unwrap(),
    ];
    let http = two_pages(
        "Images",
        image("wsi-000000001", "a"),
        image("wsi-000000002", "b"),
    );
    let c = client(&http).await;
    assert_eq!(
        WorkspacesGateway::new(&c)
            .images_by_id(&ids)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_paged(&http);

    let http = two_pages(
        "Images",
        image("wsi-000000001", "a"),
        image("wsi-000000002", "b"),
    );
    let c = client(&http).await;
    let found = WorkspacesGateway::new(&c)
        .image_named("b")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.image_id.as_str(), "wsi-000000002");
    assert_paged(&http);

    let http = two_pages(
        "ImagePermissions",
        json!({"SharedAccountId": "111111111111"}),
        json!({"SharedAccountId": "222222222222"}),
    );
    let c = client(&http).await;
    let shared = WorkspacesGateway::new(&c)
        .image_permissions(&ids[0])
        .await
        .unwrap();
    assert_eq!(shared, ["111111111111", "222222222222"]);
    assert_paged(&http);
}

#[tokio::test]
async fn bundles_listed_by_id_and_by_name() {
    let http = two_pages("Bundles", bundle("wsb-00000001"), bundle("wsb-00000002"));
    let c = client(&http).await;
    assert_eq!(WorkspacesGateway::new(&c).bundles().await.unwrap().len(), 2);
    assert_paged(&http);

    // A filtered listing may answer an empty first page with a token.
    let http = StaticReplayClient::new(vec![
        page(json!({"Bundles": [], "NextToken": "t2"})),
        page(json!({"Bundles": [bundle("wsb-00000002")]})),
    ]);
    let c = client(&http).await;
    let id = BundleId::parse("wsb-00000002").unwrap();
    let b = WorkspacesGateway::new(&c)
        .bundle(&id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.bundle_id, id);
    assert_paged(&http);

    let http = two_pages("Bundles", bundle("wsb-00000001"), bundle("wsb-00000002"));
    let c = client(&http).await;
    let b = WorkspacesGateway::new(&c)
        .bundle_named("wsb-00000002")
        .await
        .unwrap();
    assert_eq!(b.map(|b| b.bundle_id), Some(id));
    assert_paged(&http);
}

#[tokio::test]
async fn directories_all_by_id_and_up_to_an_offer() {
    let http = two_pages(
        "Directories",
        directory("d-0000000001"),
        directory("d-0000000002"),
    );
    let c = client(&http).await;
    assert_eq!(
        WorkspacesGateway::new(&c)
            .directories()
            .await
            .unwrap()
            .len(),
        2
    );
    assert_paged(&http);

    let http = StaticReplayClient::new(vec![
        page(json!({"Directories": [], "NextToken": "t2"})),
        page(json!({"Directories": [directory("d-0000000002")]})),
    ]);
    let c = client(&http).await;
    let id = DirectoryId::parse("d-0000000002").unwrap();
    let d = WorkspacesGateway::new(&c)
        .directory(&id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.directory_id, id);
    assert_paged(&http);

    // An offer of one stops after the first page and says there is more.
    let http = two_pages(
        "Directories",
        directory("d-0000000001"),
        directory("d-0000000002"),
    );
    let c = client(&http).await;
    let (dirs, more) = WorkspacesGateway::new(&c)
        .directories_up_to(1)
        .await
        .unwrap();
    assert_eq!((dirs.len(), more), (1, true));
    assert_eq!(asked(&http).len(), 1);
}

#[tokio::test]
async fn account_modifications_and_management_ranges() {
    let http = StaticReplayClient::new(vec![
        page(json!({"DedicatedTenancySupport": "ENABLED"})),
        page(
            json!({"AccountModifications": [{"ModificationState": "COMPLETED"}], "NextToken": "t2"}),
        ),
        page(json!({"AccountModifications": [{"ModificationState": "PENDING"}]})),
    ]);
    let c = client(&http).await;
    let a = WorkspacesGateway::new(&c).account().await.unwrap();
    assert_eq!(a.modifications.len(), 2);
    let bodies = asked(&http);
    assert_eq!(bodies.len(), 3);
    assert_eq!(bodies[1].get("NextToken"), None);
    assert_eq!(bodies[2]["NextToken"], json!("t2"));

    let ranges = |r: &[&str], token: Option<&str>| {
        let mut v = json!({"ManagementCidrRanges": r});
        if let Some(t) = token {
            v["NextToken"] = json!(t);
        }
        page(v)
    };
    let http = StaticReplayClient::new(vec![
        ranges(&["10.0.0.0/16"], Some("t2")),
        ranges(&["10.1.0.0/16"], None),
    ]);
    let c = client(&http).await;
    let (all, more) = WorkspacesGateway::new(&c)
        .management_cidr_ranges("10.0.0.0/8", 10)
        .await
        .unwrap();
    assert_eq!(
        (all, more),
        (
            vec!["10.0.0.0/16".to_owned(), "10.1.0.0/16".to_owned()],
            false
        )
    );
    assert_paged(&http);
}
