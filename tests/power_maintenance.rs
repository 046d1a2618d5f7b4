//! The tenant's maintenance opt-out (`Tenant Policy Updated`, `maintenanceOptOut`) applied to
//! its partner-tagged directories on the emulator: ModifyWorkspaceCreationProperties only
//! where `EnableMaintenanceMode` differs, one `maintenance_mode` action per directory, an
//! untagged directory left alone, a refused call or an unreadable Region recorded without
//! failing the event, and an account without directories told so.

mod power_common;

use steward_functions::power::partner_events::EventOutcome;

use power_common::{World, world};
use serde_json::json;
use steward_functions::power::maintenance::ACTION;
use steward_functions::power::partner_events::{Processed, process};
use steward_shared::aws::{TenantAccess, TenantClients};
use steward_shared::gateway::workspaces::{
    DirectoryState, RegisterSpec, Tenancy, WorkspacesGateway,
};
use steward_shared::ids::DirectoryId;
use steward_shared::model::{AuditOutcome, AuditRecord};
use workspaces_core_emulator::limits::{FaultEffect, FaultRule};
use workspaces_core_emulator::seed::ids;

const MODIFY: &str = "WorkSpaces.ModifyWorkspaceCreationProperties";

/// One tenant, its bulk-seeded directory (tagged, `EnableMaintenanceMode` false) and no
/// desktops; the rate limit off so call counts are exact.
async fn one_tenant() -> World {
    let w = world(1, 0, 0).await;
    w.emu.control().set_rate_limit(false);
    w
}

async fn clients(w: &World) -> TenantClients {
    let t = &w.tenants[0];
    w.deps
        .clients
        .for_tenant(TenantAccess::new(t, &t.regions[0]))
        .await
}

fn corp(w: &World) -> String {
    w.accounts[0].directory_id.clone()
}

/// `EnableMaintenanceMode` as DescribeWorkspaceDirectories reports it.
async fn maintenance_mode(w: &World, dir: &str) -> Option<bool> {
    let c = clients(w).await;
    WorkspacesGateway::new(c.workspaces())
        .directory(&DirectoryId::parse(dir).unwrap())
        .await
        .unwrap()
        .expect("the directory is registered")
        .creation
        .enable_maintenance_mode
}

/// Sends a policy event setting the opt-out, then moves the clock a minute on (so the next
/// event is newer).
async fn opt_out(w: &World, id: &str, value: bool) -> Processed {
    let e = w.event(
        id,
        "Tenant Policy Updated",
        0,
        json!({"occurredAt": w.now(), "policy": {"maintenanceOptOut": value}}),
    );
    let p = process(&e, &w.deps).await.unwrap();
    w.advance_minutes(1.0);
    p
}

/// The tenant's `maintenance_mode` audit records, oldest first.
async fn maintenance_audits(w: &World) -> Vec<AuditRecord> {
    let mut v: Vec<AuditRecord> = w
        .audit(&w.tenants[0].tenant_id)
        .await
        .into_iter()
        .filter(|r| r.action == ACTION)
        .collect();
    v.sort_by_key(|r| r.at);
    v
}

fn maintenance_actions(p: &Processed) -> Vec<&str> {
    p.actions
        .iter()
        .filter(|a| a.action == ACTION)
        .map(|a| a.reason.as_str())
        .collect()
}

/// Registers the seed's second directory (`d-9067a1b2c2`, SHARED) and waits until it is
/// REGISTERED. `tagged`: with the partner tag, as Steward registers; otherwise without any
/// tag (the tag policy is lifted for that one call, as a customer admin would do it).
async fn register_lab(w: &World, tagged: bool) {
    let c = clients(w).await;
    let lab = DirectoryId::parse(ids::DIRECTORY_LAB).unwrap();
    if tagged {
        WorkspacesGateway::new(c.workspaces())
            .register_directory(RegisterSpec {
                directory_id: &lab,
                subnet_ids: &[],
                tenancy: Tenancy::Shared,
                enable_self_service: false,
                tag: &w.tenants[0].partner_tag,
            })
            .await
            .unwrap();
    } else {
        w.emu.control().update_options(|o| o.tag_policy = false);
        c.workspaces()
            .register_workspace_directory()
            .directory_id(ids::DIRECTORY_LAB)
            .tenancy(aws_sdk_workspaces::types::Tenancy::Shared)
            .enable_self_service(false)
            .send()
            .await
            .unwrap();
        w.emu.control().update_options(|o| o.tag_policy = true);
    }
    w.advance_minutes(3.0);
    let gateway = WorkspacesGateway::new(c.workspaces());
    let view = gateway.directory(&lab).await.unwrap().unwrap();
    assert_eq!(view.state, Some(DirectoryState::Registered));
    let carries = gateway
        .carries_partner_tag(ids::DIRECTORY_LAB, &w.tenants[0].partner_tag)
        .await
        .unwrap();
    assert_eq!(carries, tagged);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opting_in_and_out_sets_the_directory_once_per_change() {
    let w = one_tenant().await;
    let dir = corp(&w);
    assert_eq!(maintenance_mode(&w, &dir).await, Some(false));
    assert!(!w.tenant(0).await.policy.maintenance_opt_out);

    // Opting out: the directory already has maintenance off, so nothing is called, and the
    // partner is told so.
    let p = opt_out(&w, "mm-1", true).await;
    assert_eq!(p.result, EventOutcome::PolicyUpdated);
    assert!(w.tenant(0).await.policy.maintenance_opt_out);
    assert_eq!(w.calls(0, MODIFY), 0);
    assert_eq!(
        maintenance_actions(&p),
        [format!("directory {dir} (us-east-1): EnableMaintenanceMode already false").as_str()]
    );

    // Opting in: one ModifyWorkspaceCreationProperties, and the directory reports it.
    let opt_in = w.event(
        "mm-2",
        "Tenant Policy Updated",
        0,
        json!({"occurredAt": w.now(), "policy": {"maintenanceOptOut": false}}),
    );
    let p = process(&opt_in, &w.deps).await.unwrap();
    w.advance_minutes(1.0);
    assert_eq!(p.result, EventOutcome::PolicyUpdated);
    assert!(!w.tenant(0).await.policy.maintenance_opt_out);
    assert_eq!(w.calls(0, MODIFY), 1);
    assert_eq!(maintenance_mode(&w, &dir).await, Some(true));
    assert_eq!(
        p.actions
            .iter()
            .map(|a| a.action.as_str())
            .collect::<Vec<_>>(),
        ["policy_update", ACTION]
    );
    assert_eq!(
        maintenance_actions(&p),
        [format!("directory {dir} (us-east-1): EnableMaintenanceMode set to true").as_str()]
    );
    let audits = maintenance_audits(&w).await;
    assert_eq!(audits.len(), 2);
    assert!(
        audits
            .iter()
            .all(|r| r.outcome == AuditOutcome::Succeeded && r.workspace_id.is_none())
    );
    assert!(audits[1].reason.contains("set to true"), "{:?}", audits[1]);

    // The same value again: the newer event is recorded as the field's latest setter, but
    // the value did not change, so nothing is listed or called. The opt-in delivered again
    // changes nothing at all.
    let p = opt_out(&w, "mm-3", false).await;
    assert_eq!(p.result, EventOutcome::PolicyUpdated);
    assert!(maintenance_actions(&p).is_empty(), "{:?}", p.actions);
    let p = process(&opt_in, &w.deps).await.unwrap();
    assert_eq!(p.result, EventOutcome::Unchanged);
    assert!(p.actions.is_empty());
    assert_eq!(w.calls(0, MODIFY), 1);
    assert_eq!(maintenance_audits(&w).await.len(), 2);

    // A policy event that does not touch the opt-out lists nothing.
    let lists = w.calls(0, "WorkSpaces.DescribeWorkspaceDirectories");
    let e = w.event(
        "mm-4",
        "Tenant Policy Updated",
        0,
        json!({"occurredAt": w.now(), "policy": {"idleTimeoutMinutes": 30}}),
    );
    let p = process(&e, &w.deps).await.unwrap();
    assert_eq!(p.result, EventOutcome::PolicyUpdated);
    assert!(maintenance_actions(&p).is_empty());
    assert_eq!(w.calls(0, "WorkSpaces.DescribeWorkspaceDirectories"), lists);

    // Opting out again: back to false, one more call.
    opt_out(&w, "mm-5", true).await;
    assert_eq!(w.calls(0, MODIFY), 2);
    assert_eq!(maintenance_mode(&w, &dir).await, Some(false));
    assert_eq!(maintenance_audits(&w).await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untagged_directory_is_left_alone() {
    let w = one_tenant().await;
    register_lab(&w, false).await;
    // A directory registered without settings has maintenance on.
    assert_eq!(maintenance_mode(&w, ids::DIRECTORY_LAB).await, Some(true));

    // Opting out: the tagged directory already has it off; the untagged one differs but is
    // not the tenant's.
    let p = opt_out(&w, "mm-1", true).await;
    assert_eq!(w.calls(0, MODIFY), 0);
    assert_eq!(maintenance_mode(&w, ids::DIRECTORY_LAB).await, Some(true));
    let reasons = maintenance_actions(&p);
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(reasons[0].contains(&corp(&w)), "{reasons:?}");

    // Opting in: only the tagged directory is modified.
    let p = opt_out(&w, "mm-2", false).await;
    assert_eq!(w.calls(0, MODIFY), 1);
    assert_eq!(maintenance_mode(&w, &corp(&w)).await, Some(true));
    assert_eq!(maintenance_mode(&w, ids::DIRECTORY_LAB).await, Some(true));
    assert!(
        p.actions
            .iter()
            .all(|a| !a.reason.contains(ids::DIRECTORY_LAB)),
        "{:?}",
        p.actions
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refused_directory_does_not_stop_the_others() {
    let w = one_tenant().await;
    register_lab(&w, true).await;
    let dir = corp(&w);

    // Opting out: the new directory (maintenance on) is modified, the seeded one is not.
    let p = opt_out(&w, "mm-1", true).await;
    assert_eq!(w.calls(0, MODIFY), 1);
    assert_eq!(maintenance_mode(&w, ids::DIRECTORY_LAB).await, Some(false));
    assert_eq!(
        maintenance_actions(&p),
        [
            format!("directory {dir} (us-east-1): EnableMaintenanceMode already false").as_str(),
            "directory d-9067a1b2c2 (us-east-1): EnableMaintenanceMode set to false",
        ]
    );

    // Opting in with the first ModifyWorkspaceCreationProperties refused: the seeded
    // directory (listed first) fails, the other is still set, and the event succeeds.
    w.emu.control().inject_fault(FaultRule {
        operation: MODIFY.into(),
        account: Some(w.accounts[0].account_id.clone()),
        effect: FaultEffect::Error,
        error_code: "InvalidResourceStateException".into(),
        message: "Injected".into(),
        http_status: 400,
        count: Some(1),
        ..serde_json::from_value(json!({})).unwrap()
    });
    let p = opt_out(&w, "mm-2", false).await;
    assert_eq!(p.result, EventOutcome::PolicyUpdated);
    assert!(!w.tenant(0).await.policy.maintenance_opt_out);
    assert_eq!(w.calls(0, MODIFY), 3);
    assert_eq!(maintenance_mode(&w, &dir).await, Some(false));
    assert_eq!(maintenance_mode(&w, ids::DIRECTORY_LAB).await, Some(true));
    assert_eq!(
        maintenance_actions(&p),
        [
            format!(
                "directory {dir} (us-east-1): ModifyWorkspaceCreationProperties refused EnableMaintenanceMode true (InvalidResourceStateException)"
            )
            .as_str(),
            "directory d-9067a1b2c2 (us-east-1): EnableMaintenanceMode set to true",
        ]
    );
    let audits = maintenance_audits(&w).await;
    let last: Vec<&AuditRecord> = audits.iter().rev().take(2).collect();
    let failed: Vec<&&AuditRecord> = last
        .iter()
        .filter(|r| matches!(&r.outcome, AuditOutcome::Failed { error } if error.name == "Steward.InvalidState"))
        .collect();
    assert_eq!(failed.len(), 1, "{last:?}");
    assert!(failed[0].reason.contains(&dir));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_that_cannot_be_listed_is_recorded_and_the_policy_kept() {
    let w = one_tenant().await;
    w.emu.control().inject_fault(FaultRule {
        operation: "WorkSpaces.DescribeWorkspaceDirectories".into(),
        account: Some(w.accounts[0].account_id.clone()),
        effect: FaultEffect::Error,
        error_code: "AccessDeniedException".into(),
        message: "not authorized to perform workspaces:DescribeWorkspaceDirectories".into(),
        http_status: 400,
        ..serde_json::from_value(json!({})).unwrap()
    });
    let p = opt_out(&w, "mm-1", true).await;
    assert_eq!(p.result, EventOutcome::PolicyUpdated);
    assert!(w.tenant(0).await.policy.maintenance_opt_out);
    assert_eq!(w.calls(0, MODIFY), 0);
    let reasons = maintenance_actions(&p);
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(
        reasons[0].contains("us-east-1") && reasons[0].contains("AccessDeniedException"),
        "{reasons:?}"
    );
    let audits = maintenance_audits(&w).await;
    assert_eq!(audits.len(), 1);
    assert!(
        matches!(&audits[0].outcome, AuditOutcome::Failed { error } if error.name == "Steward.AccessDenied"),
        "{:?}",
        audits[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_directory_means_no_call_and_the_partner_is_told() {
    let w = one_tenant().await;
    let c = clients(&w).await;
    c.workspaces()
        .deregister_workspace_directory()
        .directory_id(corp(&w))
        .send()
        .await
        .unwrap();
    w.advance_minutes(3.0);
    let (dirs, more) = WorkspacesGateway::new(c.workspaces())
        .directories_up_to(10)
        .await
        .unwrap();
    assert!(dirs.is_empty() && !more, "{dirs:?}");

    let p = opt_out(&w, "mm-1", true).await;
    assert_eq!(p.result, EventOutcome::PolicyUpdated);
    assert_eq!(w.calls(0, MODIFY), 0);
    assert_eq!(
        maintenance_actions(&p),
        [
            "no partner-tagged WorkSpaces directory is registered in us-east-1: EnableMaintenanceMode false applied nowhere"
        ]
    );
    let audits = maintenance_audits(&w).await;
    assert_eq!(audits.len(), 1);
    assert_eq!(audits[0].outcome, AuditOutcome::Succeeded);
}
