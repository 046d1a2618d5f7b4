//! Encryption at rest on CreateWorkspaces: the key's form is checked per request, the flags
//! are kept, the AWS managed key stands in when none is given, and DescribeWorkspaces shows
//! all three members.

mod emulator_support;

use aws_sdk_workspaces::types::Workspace;
use emulator_support::*;

/// (key, root, user) as a WorkSpace shows them.
fn shown(w: &Workspace) -> (Option<String>, Option<bool>, Option<bool>) {
    (
        w.volume_encryption_key().map(String::from),
        w.root_volume_encryption_enabled(),
        w.user_volume_encryption_enabled(),
    )
}

#[tokio::test]
async fn keys_are_checked_and_flags_kept() {
    let emu = start().await;
    let ws = customer_ws(&emu.endpoint_url()).await;
    let t = onboard(&emu, &ws).await;
    let request = |user: &str, key: Option<&str>, root: Option<bool>, user_vol: Option<bool>| {
        let base = manual_request(&t, user);
        aws_sdk_workspaces::types::WorkspaceRequest::builder()
            .directory_id(base.directory_id())
            .user_name(base.user_name())
            .bundle_id(base.bundle_id())
            .set_workspace_properties(base.workspace_properties().cloned())
            .set_tags(Some(base.tags().to_vec()))
            .set_volume_encryption_key(key.map(String::from))
            .set_root_volume_encryption_enabled(root)
            .set_user_volume_encryption_enabled(user_vol)
            .build()
            .unwrap()
    };
    let key_arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let out = ws
        .create_workspaces()
        .workspaces(request("alice", Some(key_arn), Some(true), Some(true)))
        .workspaces(request("bob", None, Some(true), None))
        .workspaces(request("carol", None, None, None))
        .workspaces(request("dave", Some("my-key"), Some(true), Some(true)))
        .workspaces(request(
            "erin",
            Some("alias/steward-desktops"),
            None,
            Some(true),
        ))
        .send()
        .await
        .unwrap();
    let failed = out.failed_requests();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0].error_code(),
        Some("InvalidParameterValuesException")
    );
    assert_eq!(
        failed[0].error_message(),
        Some(
            "VolumeEncryptionKey must be a KMS key id, a key ARN, an alias name (alias/<name>) or an alias ARN."
        )
    );
    assert_eq!(
        failed[0].workspace_request().map(|r| r.user_name()),
        Some("dave")
    );
    let expected = vec![
        ("alice", (Some(key_arn.to_string()), Some(true), Some(true))),
        (
            "bob",
            (
                Some("alias/aws/workspaces".to_string()),
                Some(true),
                Some(false),
            ),
        ),
        ("carol", (None, Some(false), Some(false))),
        (
            "erin",
            (
                Some("alias/steward-desktops".to_string()),
                Some(false),
                Some(true),
            ),
        ),
    ];
    let pending: Vec<(&str, _)> = out
        .pending_requests()
        .iter()
        .map(|w| (w.user_name().unwrap(), shown(w)))
        .collect();
    assert_eq!(pending, expected);
    advance(&emu, 1.0);
    let described = ws
        .describe_workspaces()
        .directory_id(&t.directory_id)
        .send()
        .await
        .unwrap();
    let mut seen: Vec<(&str, _)> = described
        .workspaces()
        .iter()
        .map(|w| (w.user_name().unwrap(), shown(w)))
        .collect();
    seen.sort_by_key(|(u, _)| *u);
    assert_eq!(seen, expected);
    // The managed key is an option.
    emu.control()
        .update_options(|o| o.default_volume_encryption_key = "alias/aws/other".into());
    let out = ws
        .create_workspaces()
        .workspaces(request("frank", None, None, Some(true)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        shown(&out.pending_requests()[0]),
        (Some("alias/aws/other".to_string()), Some(false), Some(true))
    );
    emu.shutdown().await;
}
