//! Onboarding a first-time customer as a real account would have it, end to end on the
//! emulator (the Onboarding state machine of `template.yaml`, the real handlers): the
//! directory offer built from Directory Service, desktops encrypted at rest, and each
//! pre-flight failure refused by name before anything is changed in the account.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use stepfunctions_runner::{ExecutionResult, PendingTask};
use steward_local::sandbox::{Sandbox, default_onboarding_input, drive};
use steward_shared::aws::TenantAccess;
use steward_shared::gateway::workspaces::{DesktopEncryption, WorkspacesGateway};
use steward_shared::ids::{RegionName, WorkspaceId};
use steward_shared::model::{OnboardingStep, TenantStatus};
use steward_shared::store::{PageRequest, StepStore, TenantStore, WorkspaceStore, collect_all};
use steward_tests::flows::{changes_in, demo_tenant, sandbox};
use workspaces_core_emulator::AccountSeed;
use workspaces_core_emulator::directory_service::DsStage;
use workspaces_core_emulator::seed::ids;
use workspaces_core_emulator::seed::{CUSTOMER_ACCOUNT, DsDirectorySeed};
use workspaces_core_emulator::switches::AccountSwitches;

const MACHINE: &str = "OnboardingStateMachine";
const KEY: &str = "alias/demo-customer-desktops";

/// The default input, BYOL confirmed and the AMI chosen up front, the directory not.
fn input(desktops: u32) -> Value {
    let mut input = default_onboarding_input(desktops);
    input["confirmByol"] = json!(true);
    input["selections"] = json!({
        "managementCidr": "10.200.0.0/16",
        "ec2ImageId": ids::AMI_WIN11_ELIGIBLE,
    });
    input
}

/// Runs an execution; the directory pause is answered by `pick` from the offer it shows.
async fn run(
    sb: &Sandbox,
    name: &str,
    input: Value,
    pick: impl Fn(&[Value]) -> Option<Value> + Send + Sync,
) -> ExecutionResult {
    let wf = sb.runner(MACHINE).expect("the definition loads");
    let exec = wf.runner.start(name, input);
    drive(&exec, |task: &PendingTask| {
        match task.input["input"].as_str() {
            Some("directory") => {
                let options = task.input["offer"]["options"].as_array()?;
                Some(json!({"directoryId": pick(options)?}))
            }
            _ => None,
        }
    })
    .await
}

fn first_usable(options: &[Value]) -> Option<Value> {
    options
        .iter()
        .find(|o| o["usable"] == true)
        .map(|o| o["directoryId"].clone())
}

fn failed(r: &ExecutionResult) -> (&str, &str) {
    match r {
        ExecutionResult::Failed { error, cause } => (error.as_str(), cause.as_str()),
        other => panic!("the execution did not fail: {other:?}"),
    }
}

/// The tenant's desktops as DescribeWorkspaces reports them now: their encryption.
async fn encryption_of_desktops(sb: &Sandbox) -> Vec<Option<DesktopEncryption>> {
    let tenant = sb
        .deps
        .store
        .get_tenant(&demo_tenant())
        .await
        .unwrap()
        .unwrap();
    let ids: Vec<WorkspaceId> =
        collect_all(|p: PageRequest| sb.deps.store.list_workspaces(&tenant.tenant_id, p))
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.workspace_id)
            .collect();
    let region = RegionName::parse(workspaces_core_emulator::seed::CUSTOMER_REGION).unwrap();
    let clients = sb
        .deps
        .clients
        .for_tenant(TenantAccess::new(&tenant, &region))
        .await;
    let described = WorkspacesGateway::new(clients.workspaces())
        .describe(&ids)
        .await
        .unwrap();
    described
        .found
        .iter()
        .map(|o| o.encryption.clone())
        .collect()
}

async fn preflight_of(sb: &Sandbox) -> Value {
    let step = sb
        .deps
        .store
        .get_step(&demo_tenant(), OnboardingStep::ValidateAccess)
        .await
        .unwrap()
        .expect("the first step is recorded");
    step.output.expect("it has an output")["preflight"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_time_customer_picks_from_its_directories_and_gets_encrypted_desktops() {
    let sb = sandbox(false).await;
    let mut input = input(3);
    input["encryption"] = json!({"volumeEncryptionKey": KEY});
    let offered = std::sync::Mutex::new(Vec::new());
    let r = run(&sb, "first-time", input, |options| {
        offered.lock().unwrap().extend(options.iter().cloned());
        first_usable(options)
    })
    .await;
    assert!(
        matches!(r, ExecutionResult::Succeeded { .. }),
        "onboarding failed: {r:?}"
    );

    // Both Directory Service directories, with their type and registration, nothing typed in.
    let offered = offered.into_inner().unwrap();
    let summary: Vec<(&str, &str, &str, bool)> = offered
        .iter()
        .map(|o| {
            (
                o["directoryId"].as_str().unwrap(),
                o["directoryType"].as_str().unwrap(),
                o["registration"].as_str().unwrap(),
                o["usable"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (ids::DIRECTORY_CORP, "ADConnector", "NOT_REGISTERED", true),
            (ids::DIRECTORY_LAB, "SimpleAD", "NOT_REGISTERED", true),
        ]
    );
    assert_eq!(offered[0]["stage"], "Active");
    assert_eq!(
        offered[0]["subnetIds"],
        json!([ids::SUBNET_A, ids::SUBNET_B])
    );

    // Every desktop encrypted, root and user volume, with the customer's key.
    let enc = encryption_of_desktops(&sb).await;
    assert_eq!(enc.len(), 3);
    for e in enc {
        assert_eq!(
            e,
            Some(DesktopEncryption {
                root: true,
                user: true,
                key: Some(KEY.into())
            })
        );
    }

    // The pre-flight passed and said what it read; the reads are in the account's calls.
    let checks = preflight_of(&sb).await;
    let statuses: Vec<(&str, &str)> = checks
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["check"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("DEFAULT_ROLE", "PASSED"),
            ("WORKSPACES_QUOTA", "PASSED"),
            ("AVAILABILITY_ZONES", "PASSED"),
            ("BYOP", "UNKNOWN"),
        ]
    );
    let calls = sb.control().counters()[CUSTOMER_ACCOUNT].clone();
    for op in [
        "DirectoryService.DescribeDirectories",
        "IAM.GetRole",
        "ServiceQuotas.GetServiceQuota",
        "EC2.DescribeSubnets",
    ] {
        assert!(
            calls.get(op).is_some_and(|c| c.calls >= 1),
            "{op}: {calls:?}"
        );
    }
    let tenant = sb
        .deps
        .store
        .get_tenant(&demo_tenant())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tenant.status, TenantStatus::Active);
    assert_eq!(
        tenant
            .encryption
            .volume_encryption_key
            .as_ref()
            .map(|k| k.as_str()),
        Some(KEY)
    );
    sb.shutdown().await;
}

/// One pre-flight failure: the execution fails with `Steward.PreflightFailed` naming the
/// code, the first step keeps every check, and nothing was changed in the account.
async fn refused_before_any_change(
    name: &str,
    switches: AccountSwitches,
    input: Value,
    code: &str,
) {
    let sb = sandbox(false).await;
    assert!(sb.control().update_account(CUSTOMER_ACCOUNT, &switches));
    sb.control().reset_counters();
    let r = run(&sb, name, input, first_usable).await;
    let (error, cause) = failed(&r);
    assert_eq!(error, "Steward.PreflightFailed", "{name}: {cause}");
    assert!(cause.contains(code), "{name}: {cause}");
    assert!(cause.contains("nothing was changed"), "{name}: {cause}");
    assert_eq!(changes_in(&sb, CUSTOMER_ACCOUNT), BTreeMap::new(), "{name}");
    let checks = preflight_of(&sb).await;
    let failed: Vec<&str> = checks
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "FAILED")
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(failed, vec![code], "{name}");
    let tenant = sb
        .deps
        .store
        .get_tenant(&demo_tenant())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tenant.status, TenantStatus::Failed, "{name}");
    assert_eq!(
        tenant.last_error.map(|e| e.name),
        Some("Steward.PreflightFailed".to_owned())
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_preflight_failure_is_named_and_nothing_is_changed() {
    refused_before_any_change(
        "no-default-role",
        AccountSwitches {
            has_default_role: Some(false),
            ..AccountSwitches::default()
        },
        input(3),
        "DEFAULT_ROLE_MISSING",
    )
    .await;
    refused_before_any_change(
        "low-quota",
        AccountSwitches {
            service_quota_value: Some(2.0),
            ..AccountSwitches::default()
        },
        input(3),
        "QUOTA_TOO_LOW",
    )
    .await;
    let mut zones = input(3);
    zones["directory"]["subnetIds"] = json!([ids::SUBNET_A, ids::SUBNET_UNSUPPORTED_AZ]);
    refused_before_any_change(
        "unsupported-zone",
        AccountSwitches::default(),
        zones,
        "UNSUPPORTED_AVAILABILITY_ZONE",
    )
    .await;
    let mut one_zone = input(3);
    one_zone["directory"]["subnetIds"] = json!([ids::SUBNET_A, ids::SUBNET_A]);
    refused_before_any_change(
        "one-zone",
        AccountSwitches::default(),
        one_zone,
        "SUBNETS_IN_ONE_ZONE",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quota_the_role_cannot_read_is_unknown_and_onboarding_goes_on() {
    let sb = sandbox(false).await;
    assert!(sb.control().update_account(
        CUSTOMER_ACCOUNT,
        &AccountSwitches {
            quota_read_denied: Some(true),
            ..AccountSwitches::default()
        }
    ));
    let r = run(&sb, "quota-unknown", input(2), first_usable).await;
    assert!(matches!(r, ExecutionResult::Succeeded { .. }), "{r:?}");
    let checks = preflight_of(&sb).await;
    assert_eq!(checks[1]["check"], "WORKSPACES_QUOTA");
    assert_eq!(checks[1]["status"], "UNKNOWN");
    assert!(
        checks[1]["reason"]
            .as_str()
            .unwrap()
            .contains("servicequotas:GetServiceQuota"),
        "{checks}"
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unencrypted_desktops_need_the_explicit_consent() {
    let sb = sandbox(false).await;
    let mut off = input(2);
    off["encryption"] = json!({"enabled": false});
    let r = run(&sb, "off-without-consent", off, first_usable).await;
    let (error, cause) = failed(&r);
    assert_eq!(error, "Steward.ValidationError", "{cause}");
    assert!(cause.contains("encryption"), "{cause}");
    assert!(cause.contains("allowUnencrypted"), "{cause}");
    assert_eq!(changes_in(&sb, CUSTOMER_ACCOUNT), BTreeMap::new());

    let mut consented = input(2);
    consented["encryption"] = json!({"enabled": false, "allowUnencrypted": true});
    let r = run(&sb, "off-with-consent", consented, first_usable).await;
    assert!(matches!(r, ExecutionResult::Succeeded { .. }), "{r:?}");
    assert_eq!(encryption_of_desktops(&sb).await, vec![None, None]);
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusable_or_unknown_directory_is_refused_with_the_reason() {
    let sb = sandbox(false).await;
    sb.control().seed_account(&AccountSeed {
        ds_directories: vec![DsDirectorySeed {
            id: "d-9067a1b2d1".into(),
            name: "new.example.com".into(),
            stage: DsStage::Creating,
            ..DsDirectorySeed::default()
        }],
        ..AccountSeed::default()
    });
    let r = run(&sb, "creating-directory", input(2), |options| {
        let o = options
            .iter()
            .find(|o| o["directoryId"] == "d-9067a1b2d1")?;
        assert_eq!(o["usable"], false);
        assert_eq!(o["stage"], "Creating");
        Some(o["directoryId"].clone())
    })
    .await;
    let (error, cause) = failed(&r);
    assert_eq!(error, "Steward.InvalidSelection");
    assert!(
        cause.contains("registers only Active directories"),
        "{cause}"
    );

    let r = run(&sb, "unknown-directory", input(2), |_| {
        Some(json!("d-9067a1b2ff"))
    })
    .await;
    let (error, cause) = failed(&r);
    assert_eq!(error, "Steward.InvalidSelection");
    assert!(cause.contains("not among the directories"), "{cause}");
    assert_eq!(
        sb.control()
            .calls(CUSTOMER_ACCOUNT, "WorkSpaces.RegisterWorkspaceDirectory"),
        0
    );
    sb.shutdown().await;
}
