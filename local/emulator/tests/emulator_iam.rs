//! IAM GetRole: the `workspaces_DefaultRole` every seeded customer account has (unless its
//! seed removes it, which RegisterWorkspaceDirectory then refuses), the customer role, and
//! IAM's XML error shape.

mod emulator_support;

use aws_credential_types::Credentials;
use aws_sdk_workspaces::types::Tenancy;
use emulator_support::raw::query_call;
use emulator_support::*;
use serde_json::{Value, json};
use workspaces_core_emulator::AccountSeed;
use workspaces_core_emulator::seed::ids;

const NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

fn between<'a>(xml: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let a = xml.find(&open).map(|i| i + open.len()).unwrap_or(0);
    let b = xml[a..].find(&format!("</{tag}>")).map_or(a, |i| a + i);
    &xml[a..b]
}

async fn get_role(url: &str, key: &str, region: &str, name: &str) -> (u16, String) {
    query_call(
        url,
        key,
        region,
        "iam",
        &[
            ("Action", "GetRole"),
            ("Version", "2010-05-08"),
            ("RoleName", name),
        ],
    )
    .await
}

/// The policy document of an answer, decoded, and the answer with it blanked.
fn split_document(xml: &str) -> (Value, String) {
    let encoded = between(xml, "AssumeRolePolicyDocument").to_string();
    let decoded: String = form_urlencoded::parse(format!("d={encoded}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    (
        serde_json::from_str(&decoded).expect("a JSON policy"),
        xml.replace(&encoded, "-"),
    )
}

fn expected_role(account: &str, name: &str, role_id: &str, created: &str) -> String {
    format!(
        "<GetRoleResponse xmlns=\"{NS}\"><GetRoleResult><Role><Path>/</Path><AssumeRolePolicyDocument>-</AssumeRolePolicyDocument><MaxSessionDuration>3600</MaxSessionDuration><RoleId>{role_id}</RoleId><RoleLastUsed/><RoleName>{name}</RoleName><Arn>arn:aws:iam::{account}:role/{name}</Arn><CreateDate>{created}</CreateDate></Role></GetRoleResult><ResponseMetadata><RequestId>-</RequestId></ResponseMetadata></GetRoleResponse>"
    )
}

#[tokio::test]
async fn the_default_role_and_the_customer_role_are_found_in_any_region() {
    let emu = start().await;
    let url = emu.endpoint_url();
    let key = assume(&url).await.access_key_id().to_string();
    let created = (emu.control().now() - chrono::Duration::days(60))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    for region in ["us-east-1", "eu-west-1"] {
        let (status, xml) = get_role(&url, &key, region, "workspaces_DefaultRole").await;
        assert_eq!(status, 200, "{xml}");
        let (doc, rest) = split_document(&xml);
        let created_here = between(&rest, "CreateDate").to_string();
        assert!(created_here <= created, "{created_here} vs {created}");
        assert_eq!(
            rest,
            expected_role(
                CUSTOMER,
                "workspaces_DefaultRole",
                "AROAEMUDEFAULT789012",
                &created_here
            )
        );
        assert_eq!(
            doc,
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"Service": "workspaces.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
        );
    }
    let (status, xml) = get_role(&url, &key, REGION, "StewardPartnerAccess").await;
    assert_eq!(status, 200);
    let (doc, rest) = split_document(&xml);
    let created_here = between(&rest, "CreateDate").to_string();
    assert_eq!(
        rest,
        expected_role(
            CUSTOMER,
            "StewardPartnerAccess",
            "AROAEMU78901220",
            &created_here
        )
    );
    assert_eq!(
        doc,
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "steward-demo-external-id"}}}]})
    );
    assert_eq!(emu.control().calls(CUSTOMER, "IAM.GetRole"), 3);
    emu.shutdown().await;
}

#[tokio::test]
async fn unknown_roles_and_bad_names_answer_iams_errors() {
    let emu = start().await;
    let url = emu.endpoint_url();
    let key = assume(&url).await.access_key_id().to_string();
    let (status, xml) = get_role(&url, &key, REGION, "NoSuchRole").await;
    assert_eq!(status, 404);
    assert_eq!(
        xml,
        format!(
            "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The role with the requested name cannot be found.</Message></Error><RequestId>-</RequestId></ErrorResponse>"
        )
    );
    let (status, xml) = get_role(&url, &key, REGION, "bad name").await;
    assert_eq!((status, between(&xml, "Code")), (400, "ValidationError"));
    let (status, xml) = query_call(
        &url,
        &key,
        REGION,
        "iam",
        &[("Action", "GetRole"), ("Version", "2010-05-08")],
    )
    .await;
    assert_eq!((status, between(&xml, "Code")), (400, "ValidationError"));
    let (status, xml) = query_call(&url, &key, REGION, "iam", &[("Action", "ListRoles")]).await;
    assert_eq!((status, between(&xml, "Code")), (400, "InvalidAction"));
    assert!(
        xml.starts_with(&format!("<ErrorResponse xmlns=\"{NS}\">")),
        "{xml}"
    );
    // The partner account has no WorkSpaces default role of its own.
    let (status, _) = get_role(&url, "AKIDPARTNEREXAMPLE", REGION, "workspaces_DefaultRole").await;
    assert_eq!(status, 404);
    emu.shutdown().await;
}

#[tokio::test]
async fn without_the_default_role_registration_fails_and_registers_nothing() {
    let emu = start().await;
    let url = emu.endpoint_url();
    let account = "210000000001";
    emu.control().seed_account(&AccountSeed {
        account_id: account.into(),
        has_default_role: false,
        ..AccountSeed::default()
    });
    let sts = aws_sdk_sts::Client::new(&partner(&url).await);
    let out = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/StewardPartnerAccess"))
        .role_session_name("preflight")
        .external_id("steward-demo-external-id")
        .send()
        .await
        .unwrap();
    let c = out.credentials().unwrap();
    let creds = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().into()),
        None,
        "t",
    );
    let (status, _) = get_role(&url, c.access_key_id(), REGION, "workspaces_DefaultRole").await;
    assert_eq!(status, 404);
    let ws = aws_sdk_workspaces::Client::new(&config(&url, creds, 1).await);
    let e = ws
        .register_workspace_directory()
        .directory_id(ids::DIRECTORY_LAB)
        .tenancy(Tenancy::Shared)
        .tags(partner_tag())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "WorkspacesDefaultRoleNotFoundException");
    let dirs = ws.describe_workspace_directories().send().await.unwrap();
    assert_eq!(dirs.directories().len(), 0);
    emu.shutdown().await;
}
