//! `lifecycle.commands` on the emulator and dynoxide: every command's happy path changes the
//! customer account as asked (emulator state and call counters), follows in the registry,
//! writes one audit record and one outbound event, and is acted upon once per event id;
//! every refused path is named, recorded, and makes no mutating call. The published
//! schemas and samples agree with the parser.

mod power_common;

use std::path::PathBuf;

use power_common::{World, registered_ids, world};
use serde_json::{Value, json};
use steward_functions::dispatch;
use steward_functions::record::REJECTIONS_TENANT;
use steward_shared::aws::TenantAccess;
use steward_shared::gateway::workspaces::{BundleSpec, WorkspacesGateway};
use steward_shared::ids::{ImageId, TenantId};
use steward_shared::lifecycle::{LifecycleEvent, detail_types};
use steward_shared::model::{AuditOutcome, RunningMode, TenantStatus, WorkspaceState};
use steward_shared::store::TenantStore;

const ROUTE: &str = "lifecycle.commands";

async fn cmd(w: &World, id: &str, dt: &str, mut detail: Value) -> Result<Value, String> {
    if detail.get("occurredAt").is_none() {
        detail["occurredAt"] = json!(w.now());
    }
    let e = w.event(id, dt, 0, detail);
    dispatch(ROUTE, e, &w.deps)
        .await
        .map_err(|e| format!("{}: {e}", e.name()))
}

async fn client(w: &World) -> aws_sdk_workspaces::Client {
    let t = w.tenant(0).await;
    w.deps
        .clients
        .for_tenant(TenantAccess::new(&t, &t.regions[0]))
        .await
        .workspaces()
        .clone()
}

async fn tags(c: &aws_sdk_workspaces::Client, id: &str) -> Vec<(String, String)> {
    WorkspacesGateway::new(c)
        .tags(id)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect()
}

/// The customer's role grants tag edits (its `AllowTagManagement` parameter, which the
/// emulator's policy follows) and onboarding recorded it on the tenant; the bulk tenant's
/// role does not.
async fn grant_tag_management(w: &World) {
    let switches = workspaces_core_emulator::switches::AccountSwitches {
        allow_tag_management: Some(true),
        ..Default::default()
    };
    assert!(
        w.emu
            .control()
            .update_account(&w.accounts[0].account_id, &switches)
    );
    let mut t = w.tenant(0).await;
    t.tag_management = true;
    w.deps.store.update_tenant(&t).await.unwrap();
}

/// Each desktop's root and user volume encryption flags and key, as DescribeWorkspaces
/// reports them.
async fn encryption(
    c: &aws_sdk_workspaces::Client,
    ids: &[Value],
) -> Vec<(Option<bool>, Option<bool>, Option<String>)> {
    let ids: Vec<String> = ids
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let out = c
        .describe_workspaces()
        .set_workspace_ids(Some(ids.clone()))
        .send()
        .await
        .unwrap();
    ids.iter()
        .map(|id| {
            let w = out
                .workspaces()
                .iter()
                .find(|w| w.workspace_id() == Some(id.as_str()))
                .unwrap();
            (
                w.root_volume_encryption_enabled(),
                w.user_volume_encryption_enabled(),
                w.volume_encryption_key().map(str::to_owned),
            )
        })
        .collect()
}

fn tid(w: &World) -> TenantId {
    w.tenants[0].tenant_id.clone()
}

/// The rejection reason of a refused command, and that it was recorded under the tenant.
/// Rejections that name no readable tenant (a detail that does not parse) are kept under
/// the reserved tenant, the others under the tenant.
async fn all_audit(w: &World) -> Vec<steward_shared::model::AuditRecord> {
    let mut all = w.audit(&tid(w)).await;
    all.extend(w.audit(&TenantId::parse(REJECTIONS_TENANT).unwrap()).await);
    all
}

async fn refused(w: &World, id: &str, dt: &str, detail: Value) -> String {
    let before = all_audit(w).await.len();
    let err = cmd(w, id, dt, detail).await.unwrap_err();
    assert!(err.starts_with("Steward.EventRejected: "), "{err}");
    let audit = all_audit(w).await;
    assert_eq!(audit.len(), before + 1, "{id}: one rejection record");
    let rec = audit
        .iter()
        .find(|a| a.action == "reject" && a.reason == err["Steward.EventRejected: ".len()..]);
    assert!(rec.is_some(), "{id}: rejection recorded: {err}");
    err["Steward.EventRejected: ".len()..]
        .split(':')
        .next()
        .unwrap_or_default()
        .to_owned()
}

const MUTATING: [&str; 19] = [
    "RebootWorkspaces",
    "RebuildWorkspaces",
    "RestoreWorkspace",
    "MigrateWorkspace",
    "ModifyWorkspaceProperties",
    "ModifyWorkspaceState",
    "TerminateWorkspaces",
    "CreateWorkspaces",
    "CreateWorkspaceImage",
    "CopyWorkspaceImage",
    "DeleteWorkspaceImage",
    "UpdateWorkspaceImagePermission",
    "UpdateWorkspaceBundle",
    "DeleteWorkspaceBundle",
    "DeregisterWorkspaceDirectory",
    "ModifyWorkspaceCreationProperties",
    "CreateTags",
    "DeleteTags",
    "CreateWorkspaceBundle",
];

fn mutations(w: &World) -> u64 {
    MUTATING
        .iter()
        .map(|op| w.calls(0, &format!("WorkSpaces.{op}")))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_commands_change_the_account_once_and_are_recorded() {
    let w = world(1, 8, 8).await;
    w.emu.control().set_rate_limit(false);
    let ids = registered_ids(&w.emu, &w.accounts[0]);
    let sent = || w.sink.received.load(std::sync::atomic::Ordering::SeqCst);

    // Reboot: REBOOTING in the service and the registry; a redelivery makes no call.
    let before = sent();
    let r = cmd(
        &w,
        "reboot-1",
        detail_types::REBOOT,
        json!({"workspaceIds": [ids[0], ids[1]]}),
    )
    .await
    .unwrap();
    assert_eq!(r["result"], "succeeded", "{r}");
    assert_eq!(r["items"].as_array().unwrap().len(), 2);
    assert_eq!(w.state(0, &ids[0]), "REBOOTING");
    assert_eq!(w.record(0, &ids[1]).await.state, WorkspaceState::Rebooting);
    assert_eq!(w.calls(0, "WorkSpaces.RebootWorkspaces"), 1);
    assert!(sent() > before, "an outbound event was published");
    let again = cmd(
        &w,
        "reboot-1",
        detail_types::REBOOT,
        json!({"workspaceIds": [ids[0], ids[1]]}),
    )
    .await
    .unwrap();
    assert_eq!(again["result"], "duplicate");
    assert_eq!(w.calls(0, "WorkSpaces.RebootWorkspaces"), 1);
    let audit = w.audit(&tid(&w)).await;
    let reboots: Vec<_> = audit.iter().filter(|a| a.action == "reboot").collect();
    assert_eq!(reboots.len(), 1);
    assert_eq!(reboots[0].outcome, AuditOutcome::Succeeded);

    // Rebuild and restore: one desktop each.
    let r = cmd(
        &w,
        "rebuild-1",
        detail_types::REBUILD,
        json!({"workspaceId": ids[2]}),
    )
    .await
    .unwrap();
    assert_eq!(r["result"], "succeeded", "{r}");
    assert_eq!(w.state(0, &ids[2]), "REBUILDING");
    assert_eq!(w.record(0, &ids[2]).await.state, WorkspaceState::Rebuilding);
    assert_eq!(w.calls(0, "WorkSpaces.RebuildWorkspaces"), 1);
    cmd(
        &w,
        "restore-1",
        detail_types::RESTORE,
        json!({"workspaceId": ids[3]}),
    )
    .await
    .unwrap();
    assert_eq!(w.state(0, &ids[3]), "RESTORING");
    assert_eq!(w.calls(0, "WorkSpaces.RestoreWorkspace"), 1);

    // Modify state: AVAILABLE → ADMIN_MAINTENANCE → AVAILABLE.
    cmd(
        &w,
        "state-1",
        detail_types::MODIFY_STATE,
        json!({"workspaceId": ids[4], "targetState": "ADMIN_MAINTENANCE"}),
    )
    .await
    .unwrap();
    assert_eq!(w.state(0, &ids[4]), "ADMIN_MAINTENANCE");
    assert_eq!(
        w.record(0, &ids[4]).await.state,
        WorkspaceState::AdminMaintenance
    );
    cmd(
        &w,
        "state-2",
        detail_types::MODIFY_STATE,
        json!({"workspaceId": ids[4], "targetState": "AVAILABLE"}),
    )
    .await
    .unwrap();
    assert_eq!(w.state(0, &ids[4]), "AVAILABLE");
    assert_eq!(w.calls(0, "WorkSpaces.ModifyWorkspaceState"), 2);

    // Modify properties: ALWAYS_ON and a larger user volume.
    cmd(
        &w,
        "props-1",
        detail_types::MODIFY_PROPERTIES,
        json!({"workspaceId": ids[5], "runningMode": "ALWAYS_ON", "userVolumeSizeGib": 100}),
    )
    .await
    .unwrap();
    assert_eq!(w.calls(0, "WorkSpaces.ModifyWorkspaceProperties"), 1);
    assert_eq!(
        w.record(0, &ids[5]).await.running_mode,
        RunningMode::AlwaysOn
    );
    let c = client(&w).await;
    let d = c
        .describe_workspaces()
        .workspace_ids(ids[5].as_str())
        .send()
        .await
        .unwrap();
    let p = d.workspaces()[0].workspace_properties().unwrap();
    assert_eq!(p.running_mode().map(|m| m.as_str()), Some("ALWAYS_ON"));
    assert_eq!(p.user_volume_size_gib(), Some(100));

    // Migrate to a second partner-tagged bundle: a new desktop registered, the source leaving.
    let t = w.tenant(0).await;
    let bundle2 = WorkspacesGateway::new(&c)
        .create_bundle(BundleSpec {
            name: "steward-second-bundle",
            description: "second",
            image_id: &ImageId::parse(w.accounts[0].image_id.as_str()).unwrap(),
            compute_type: "PERFORMANCE",
            root_gib: 80,
            user_gib: 50,
            tag: &t.partner_tag,
        })
        .await
        .unwrap();
    let r = cmd(
        &w,
        "migrate-1",
        detail_types::MIGRATE,
        json!({"workspaceId": ids[6], "bundleId": bundle2}),
    )
    .await
    .unwrap();
    assert_eq!(r["result"], "succeeded", "{r}");
    let target = r["created"][0].as_str().unwrap().to_owned();
    assert_ne!(target, ids[6]);
    assert_eq!(w.calls(0, "WorkSpaces.MigrateWorkspace"), 1);
    let new = w.record(0, &target).await;
    assert_eq!(
        new.bundle_id.as_ref().map(|b| b.to_string()),
        Some(bundle2.to_string())
    );
    assert_eq!(
        w.record(0, &ids[6]).await.state,
        WorkspaceState::Terminating
    );

    // Terminate, with its confirmation.
    cmd(
        &w,
        "terminate-1",
        detail_types::TERMINATE,
        json!({"workspaceIds": [ids[7]], "confirm": "TERMINATE"}),
    )
    .await
    .unwrap();
    assert_eq!(w.state(0, &ids[7]), "TERMINATING");
    assert_eq!(w.calls(0, "WorkSpaces.TerminateWorkspaces"), 1);
    assert_eq!(
        w.record(0, &ids[7]).await.state,
        WorkspaceState::Terminating
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_bundle_directory_tag_and_provision_commands() {
    let w = world(1, 2, 2).await;
    w.emu.control().set_rate_limit(false);
    let ids = registered_ids(&w.emu, &w.accounts[0]);
    let c = client(&w).await;
    let a = &w.accounts[0];
    let t = w.tenant(0).await;

    // Create an image from a desktop, wait until it is AVAILABLE.
    let r = cmd(
        &w,
        "image-1",
        detail_types::CREATE_IMAGE,
        json!({"workspaceId": ids[0], "name": "golden-1", "description": "golden image"}),
    )
    .await
    .unwrap();
    let image = r["created"][0].as_str().unwrap().to_owned();
    assert!(image.starts_with("wsi-"));
    assert!(
        tags(&c, &image)
            .await
            .contains(&(t.partner_tag.key.clone(), t.partner_tag.value.clone())),
        "the new image carries the partner tag"
    );
    w.advance_minutes(240.0);
    let imgs = c
        .describe_workspace_images()
        .image_ids(image.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(
        imgs.images()[0].state().map(|s| s.as_str()),
        Some("AVAILABLE")
    );

    // Share it with another account.
    cmd(
        &w,
        "perm-1",
        detail_types::IMAGE_PERMISSION,
        json!({"imageId": image, "sharedAccountId": "123456789012", "allowCopyImage": true}),
    )
    .await
    .unwrap();
    let perms = c
        .describe_workspace_image_permissions()
        .image_id(image.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(
        perms.image_permissions()[0].shared_account_id(),
        Some("123456789012")
    );

    // Copy it (same Region: the tenant has one), then delete the copy.
    let r = cmd(
        &w,
        "copy-1",
        detail_types::COPY_IMAGE,
        json!({"imageId": image, "sourceRegion": a.region, "targetRegion": a.region,
               "name": "golden-1-copy"}),
    )
    .await
    .unwrap();
    let copy = r["created"][0].as_str().unwrap().to_owned();
    assert_eq!(w.calls(0, "WorkSpaces.CopyWorkspaceImage"), 1);
    w.advance_minutes(240.0);
    cmd(
        &w,
        "delimg-1",
        detail_types::DELETE_IMAGE,
        json!({"imageId": copy}),
    )
    .await
    .unwrap();
    let left = c
        .describe_workspace_images()
        .image_ids(copy.as_str())
        .send()
        .await
        .unwrap();
    assert!(left.images().is_empty(), "the copy is gone");

    // Update the bundle to the new image.
    cmd(
        &w,
        "bundle-1",
        detail_types::UPDATE_BUNDLE,
        json!({"bundleId": a.bundle_id, "imageId": image}),
    )
    .await
    .unwrap();
    let b = c
        .describe_workspace_bundles()
        .bundle_ids(a.bundle_id.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(b.bundles()[0].image_id(), Some(image.as_str()));

    // Tags on the bundle: set and remove others, never the partner tag (the tenant's role
    // grants tag edits): one CreateTags and one DeleteTags.
    grant_tag_management(&w).await;
    let (create_tags, delete_tags) = (
        w.calls(0, "WorkSpaces.CreateTags"),
        w.calls(0, "WorkSpaces.DeleteTags"),
    );
    let r = cmd(
        &w,
        "tags-1",
        detail_types::TAGS,
        json!({"resourceId": a.bundle_id, "set": {"CostCenter": "42", "Team": "vdi"}}),
    )
    .await
    .unwrap();
    assert_eq!(r["result"], "succeeded", "{r}");
    let r = cmd(
        &w,
        "tags-2",
        detail_types::TAGS,
        json!({"resourceId": a.bundle_id, "remove": ["Team"]}),
    )
    .await
    .unwrap();
    assert_eq!(r["result"], "succeeded", "{r}");
    assert_eq!(
        (
            w.calls(0, "WorkSpaces.CreateTags") - create_tags,
            w.calls(0, "WorkSpaces.DeleteTags") - delete_tags
        ),
        (1, 1)
    );
    let bt = tags(&c, &a.bundle_id).await;
    assert!(bt.contains(&("CostCenter".into(), "42".into())));
    assert!(!bt.iter().any(|(k, _)| k == "Team"));
    assert!(bt.contains(&(t.partner_tag.key.clone(), t.partner_tag.value.clone())));

    // Creation properties: maintenance opt-out and a security group.
    let sg = workspaces_core_emulator::seed::ids::SECURITY_GROUP_PARTNER;
    let r = cmd(
        &w,
        "cp-1",
        detail_types::CREATION_PROPERTIES,
        json!({"directoryId": a.directory_id, "enableMaintenanceMode": true,
               "customSecurityGroupId": sg}),
    )
    .await
    .unwrap();
    assert_eq!(r["result"], "succeeded", "{r}");
    // A security group the account does not have: the service refuses, Steward reports it.
    let r = cmd(
        &w,
        "cp-2",
        detail_types::CREATION_PROPERTIES,
        json!({"directoryId": a.directory_id, "customSecurityGroupId": "sg-0123456789abcdef0"}),
    )
    .await
    .unwrap();
    assert_eq!(r["result"], "failed", "{r}");
    assert_eq!(r["items"][0]["error"], "Steward.InvalidRequest", "{r}");
    let audit = w.audit(&tid(&w)).await;
    let cp: Vec<_> = audit
        .iter()
        .filter(|a| a.action == "update_creation_properties")
        .collect();
    assert_eq!(cp.len(), 2);
    assert!(
        cp.iter()
            .any(|a| matches!(a.outcome, AuditOutcome::Failed { .. }))
    );
    let dirs = c
        .describe_workspace_directories()
        .directory_ids(a.directory_id.as_str())
        .send()
        .await
        .unwrap();
    let props = dirs.directories()[0]
        .workspace_creation_properties()
        .unwrap();
    assert_eq!(props.enable_maintenance_mode(), Some(true));
    assert_eq!(props.custom_security_group_id(), Some(sg));

    // Provision two more desktops: created in the service and registered.
    let before = w.emu.control().workspace_count(&a.account_id, &a.region);
    let r = cmd(
        &w,
        "prov-1",
        detail_types::PROVISION,
        json!({"directoryId": a.directory_id, "bundleId": a.bundle_id,
               "desktops": [{"userName": "newuser1"}, {"userName": "newuser2"}]}),
    )
    .await
    .unwrap();
    assert_eq!(r["result"], "succeeded", "{r}");
    assert_eq!(
        w.emu.control().workspace_count(&a.account_id, &a.region),
        before + 2
    );
    assert_eq!(w.records(0).await.len(), 4);
    let new_id = r["created"][0].as_str().unwrap();
    assert!(
        tags(&c, new_id)
            .await
            .contains(&(t.partner_tag.key.clone(), t.partner_tag.value.clone()))
    );
    // Encrypted as the tenant's onboarding recorded (the default: both volumes, the AWS
    // managed key, which DescribeWorkspaces names), as one CreateWorkspaces call.
    let managed = Some(w.emu.control().options().default_volume_encryption_key);
    assert_eq!(w.calls(0, "WorkSpaces.CreateWorkspaces"), 1);
    assert_eq!(
        encryption(&c, r["created"].as_array().unwrap()).await,
        [
            (Some(true), Some(true), managed.clone()),
            (Some(true), Some(true), managed)
        ]
    );
    assert_eq!(r["created"].as_array().unwrap().len(), 2, "{r}");
    // The command's own encryption wins: the customer's key.
    let r = cmd(
        &w,
        "prov-2",
        detail_types::PROVISION,
        json!({"directoryId": a.directory_id, "bundleId": a.bundle_id,
               "desktops": [{"userName": "newuser3"}],
               "encryption": {"volumeEncryptionKey": "alias/acme-desktops"}}),
    )
    .await
    .unwrap();
    assert_eq!(r["result"], "succeeded", "{r}");
    assert_eq!(
        encryption(&c, r["created"].as_array().unwrap()).await,
        [(
            Some(true),
            Some(true),
            Some("alias/acme-desktops".to_owned())
        )]
    );
    assert_eq!(w.records(0).await.len(), 5);
    // Off without allowUnencrypted: refused by name before any call.
    let creates = w.calls(0, "WorkSpaces.CreateWorkspaces");
    assert_eq!(
        refused(
            &w,
            "prov-3",
            detail_types::PROVISION,
            json!({"directoryId": a.directory_id, "bundleId": a.bundle_id,
                   "desktops": [{"userName": "newuser4"}], "encryption": {"enabled": false}}),
        )
        .await,
        "InvalidField"
    );
    assert_eq!(w.calls(0, "WorkSpaces.CreateWorkspaces"), creates);
    assert_eq!(w.records(0).await.len(), 5);

    // Delete an unused partner bundle.
    let spare = WorkspacesGateway::new(&c)
        .create_bundle(BundleSpec {
            name: "steward-spare",
            description: "spare",
            image_id: &ImageId::parse(image.as_str()).unwrap(),
            compute_type: "STANDARD",
            root_gib: 80,
            user_gib: 50,
            tag: &t.partner_tag,
        })
        .await
        .unwrap();
    cmd(
        &w,
        "delb-1",
        detail_types::DELETE_BUNDLE,
        json!({"bundleId": spare}),
    )
    .await
    .unwrap();
    let gone = c
        .describe_workspace_bundles()
        .bundle_ids(spare.as_str())
        .send()
        .await
        .unwrap();
    assert!(gone.bundles().is_empty());
    assert_eq!(w.calls(0, "WorkSpaces.DeleteWorkspaceBundle"), 1);

    // Deregister: refused while the registry has desktops in the directory.
    let reason = refused(
        &w,
        "dereg-1",
        detail_types::DEREGISTER_DIRECTORY,
        json!({"directoryId": a.directory_id, "confirm": "DEREGISTER"}),
    )
    .await;
    assert_eq!(reason, "InvalidState");
    assert_eq!(w.calls(0, "WorkSpaces.DeregisterWorkspaceDirectory"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_without_desktops_is_deregistered() {
    let w = world(1, 1, 0).await;
    w.emu.control().set_rate_limit(false);
    let a = &w.accounts[0];
    let ids = registered_ids(&w.emu, a);
    // The one desktop is the customer's own (not registered): terminate it directly.
    let c = client(&w).await;
    WorkspacesGateway::new(&c)
        .terminate(&[steward_shared::ids::WorkspaceId::parse(ids[0].as_str()).unwrap()])
        .await
        .unwrap();
    w.advance_minutes(120.0);
    let r = cmd(
        &w,
        "dereg-2",
        detail_types::DEREGISTER_DIRECTORY,
        json!({"directoryId": a.directory_id, "confirm": "DEREGISTER"}),
    )
    .await
    .unwrap();
    assert_eq!(r["result"], "succeeded", "{r}");
    assert_eq!(w.calls(0, "WorkSpaces.DeregisterWorkspaceDirectory"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_commands_are_named_recorded_and_call_nothing() {
    let w = world(1, 3, 2).await;
    w.emu.control().set_rate_limit(false);
    let ids = registered_ids(&w.emu, &w.accounts[0]);
    let a = &w.accounts[0];
    let t = w.tenant(0).await;
    let base = mutations(&w);

    // The tenant's customer role does not grant tag edits (the default): a tag change is
    // refused by name before any call (not even DescribeTags), recorded, and told by one
    // Partner Event Rejected event.
    let (described, published) = (
        w.calls(0, "WorkSpaces.DescribeTags"),
        w.sink.captured().len(),
    );
    assert_eq!(
        refused(
            &w,
            "r0",
            detail_types::TAGS,
            json!({"resourceId": a.bundle_id, "set": {"CostCenter": "42"}}),
        )
        .await,
        "TagManagementNotGranted"
    );
    assert_eq!(w.calls(0, "WorkSpaces.DescribeTags"), described);
    let out = w.sink.captured();
    assert_eq!(out.len(), published + 1, "one event");
    let e = &out[published];
    assert_eq!(e["DetailType"], "Partner Event Rejected");
    assert_eq!(
        e["Detail"]["reason"],
        format!(
            "TagManagementNotGranted: tenant {}'s customer role does not grant tag changes (AllowTagManagement is false)",
            t.tenant_id
        )
    );
    assert_eq!(
        e["Detail"]["outcome"],
        json!({"status": "FAILED",
               "error": {"name": "Steward.EventRejected", "message": "TagManagementNotGranted"}})
    );
    power_common::assert_follows_schema(e);
    // Granted, the same change passes this check and the partner tag's is next.
    grant_tag_management(&w).await;

    let cases: Vec<(&str, &str, Value, &str)> = vec![
        (
            "r1",
            detail_types::REBOOT,
            json!({"workspaceIds": [ids[2]]}),
            "NotOwned",
        ),
        (
            "r2",
            detail_types::TERMINATE,
            json!({"workspaceIds": [ids[0]]}),
            "ConfirmationRequired",
        ),
        (
            "r3",
            detail_types::TERMINATE,
            json!({"workspaceIds": [ids[0]], "confirm": "yes"}),
            "ConfirmationRequired",
        ),
        (
            "r4",
            detail_types::MODIFY_PROPERTIES,
            json!({"workspaceId": ids[0], "runningMode": "AUTO_STOP"}),
            "RunningModeNotAllowed",
        ),
        (
            "r5",
            detail_types::MODIFY_STATE,
            json!({"workspaceId": ids[0], "targetState": "AVAILABLE"}),
            "InvalidState",
        ),
        (
            "r6",
            detail_types::TAGS,
            json!({"resourceId": ids[0], "remove": [t.partner_tag.key]}),
            "PartnerTagProtected",
        ),
        (
            "r7",
            detail_types::TAGS,
            json!({"resourceId": a.bundle_id, "set": {(t.partner_tag.key.clone()): "false"}}),
            "PartnerTagProtected",
        ),
        (
            "r8",
            detail_types::DELETE_IMAGE,
            json!({"imageId": "wsi-000000000"}),
            "ResourceNotOwned",
        ),
        (
            "r9",
            detail_types::COPY_IMAGE,
            json!({"imageId": a.image_id, "sourceRegion": "eu-west-1", "targetRegion": a.region, "name": "x"}),
            "ResourceNotOwned",
        ),
        (
            "r10",
            detail_types::IMAGE_PERMISSION,
            json!({"imageId": a.image_id, "sharedAccountId": a.account_id, "allowCopyImage": true}),
            "InvalidField",
        ),
        (
            "r11",
            detail_types::MIGRATE,
            json!({"workspaceId": ids[0], "bundleId": "wsb-000000000"}),
            "ResourceNotOwned",
        ),
        (
            "r12",
            detail_types::REBUILD,
            json!({"workspaceIds": [ids[0]]}),
            "MalformedDetail",
        ),
        (
            "r13",
            "Lifecycle Teleport Requested",
            json!({"workspaceId": ids[0]}),
            "UnknownDetailType",
        ),
        (
            "r14",
            detail_types::CREATION_PROPERTIES,
            json!({"directoryId": a.directory_id}),
            "InvalidField",
        ),
        (
            "r14b",
            detail_types::CREATION_PROPERTIES,
            json!({"directoryId": "d-0000000000", "enableMaintenanceMode": false}),
            "ResourceNotOwned",
        ),
        (
            "r14c",
            detail_types::PROVISION,
            json!({"directoryId": a.directory_id, "bundleId": "wsb-000000000", "desktops": [{"userName": "x"}]}),
            "ResourceNotOwned",
        ),
        (
            "r14d",
            detail_types::UPDATE_BUNDLE,
            json!({"bundleId": a.bundle_id, "imageId": "wsi-000000000"}),
            "ResourceNotOwned",
        ),
        (
            "r14e",
            detail_types::DELETE_BUNDLE,
            json!({"bundleId": "wsb-000000000"}),
            "ResourceNotOwned",
        ),
        (
            "r14f",
            detail_types::CREATE_IMAGE,
            json!({"workspaceId": ids[2], "name": "x", "description": "x"}),
            "NotOwned",
        ),
        (
            "r14g",
            detail_types::REBUILD,
            json!({"workspaceId": ids[2]}),
            "NotOwned",
        ),
        (
            "r14h",
            detail_types::RESTORE,
            json!({"workspaceId": ids[2]}),
            "NotOwned",
        ),
        (
            "r14i",
            detail_types::DEREGISTER_DIRECTORY,
            json!({"directoryId": a.directory_id}),
            "ConfirmationRequired",
        ),
        (
            "r14j",
            detail_types::DEREGISTER_DIRECTORY,
            json!({"directoryId": a.directory_id, "confirm": "DEREGISTER"}),
            "InvalidState",
        ),
    ];
    for (id, dt, detail, want) in cases {
        assert_eq!(refused(&w, id, dt, detail).await, want, "{id}");
    }
    // A state the service does not accept: restore on a REBOOTING desktop.
    cmd(
        &w,
        "ok-reboot",
        detail_types::REBOOT,
        json!({"workspaceIds": [ids[1]]}),
    )
    .await
    .unwrap();
    let after_reboot = mutations(&w);
    assert_eq!(after_reboot, base + 1);
    assert_eq!(
        refused(
            &w,
            "r15",
            detail_types::RESTORE,
            json!({"workspaceId": ids[1]})
        )
        .await,
        "InvalidState"
    );
    assert_eq!(
        refused(
            &w,
            "r16",
            detail_types::REBOOT,
            json!({"workspaceIds": [ids[1]]})
        )
        .await,
        "InvalidState"
    );
    // A redelivered rejection is recorded once.
    let n = all_audit(&w).await.len();
    let again = cmd(
        &w,
        "r16",
        detail_types::REBOOT,
        json!({"workspaceIds": [ids[1]]}),
    )
    .await;
    assert!(again.unwrap_err().starts_with("Steward.EventRejected: "));
    assert_eq!(all_audit(&w).await.len(), n);
    // A tenant that is not active.
    let mut t2 = w.tenant(0).await;
    t2.status = TenantStatus::Offboarding;
    w.deps.store.update_tenant(&t2).await.unwrap();
    assert_eq!(
        refused(
            &w,
            "r17",
            detail_types::REBOOT,
            json!({"workspaceIds": [ids[0]]})
        )
        .await,
        "TenantNotActive"
    );
    assert_eq!(
        mutations(&w),
        after_reboot,
        "no refused command called anything"
    );
}

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn slug(dt: &str) -> String {
    dt.to_lowercase().replace(' ', "-")
}

fn read_json(p: PathBuf) -> Value {
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn every_command_has_a_schema_and_a_sample_that_both_accept() {
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-21T18:00:00Z")
        .unwrap()
        .to_utc();
    for dt in detail_types::ALL {
        let schema = read_json(root().join(format!("events/schemas/lifecycle/{}.json", slug(dt))));
        let v = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("{dt}: {e}"));
        let sample = read_json(root().join(format!("events/lifecycle/{}.json", slug(dt))));
        assert_eq!(sample["detail-type"], dt);
        assert!(
            v.is_valid(&sample["detail"]),
            "{dt}: the sample fits its schema"
        );
        let parsed = LifecycleEvent::parse(&sample, "steward.partner", now)
            .unwrap_or_else(|e| panic!("{dt}: {e}"));
        assert_eq!(parsed.tenant_id.as_str(), sample["detail"]["tenantId"]);
        // An unknown field is refused by both.
        let mut extra = sample["detail"].clone();
        extra["unexpected"] = json!(1);
        assert!(!v.is_valid(&extra), "{dt}: schema refuses unknown fields");
        let mut e = sample.clone();
        e["detail"] = extra;
        assert_eq!(
            LifecycleEvent::parse(&e, "steward.partner", now)
                .unwrap_err()
                .reason(),
            "MalformedDetail"
        );
    }
}
