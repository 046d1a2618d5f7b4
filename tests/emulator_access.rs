//! Steward's access layer and WorkSpaces gateway against the emulator: the tenant role is
//! really assumed (trust policy, ExternalId), the session is reused, batch calls are split at
//! 25 with per-item failures, and the service's own 48-hour stop is seen as drift.

use std::time::Duration;

use aws_config::{Region, SdkConfig};
use aws_credential_types::Credentials;
use steward_shared::aws::{AwsError, AwsErrorKind, ClientFactory, TenantAccess, retry_config};
use steward_shared::config::AccessSettings;
use steward_shared::gateway::ItemOutcome;
use steward_shared::gateway::workspaces::WorkspacesGateway;
use steward_shared::ids::{ExternalId, RegionName, RoleArn, TenantId, WorkspaceId};
use steward_shared::model::{
    Connection, FirstSeen, PowerPolicy, RunningMode, WorkspaceRecord, WorkspaceState,
};
use steward_shared::reconcile::{Drift, Observation, reconcile};
use workspaces_core_emulator::seed::{BulkAccount, BulkSeed};
use workspaces_core_emulator::{Emulator, EmulatorConfig, EmulatorHandle, SeedKind};

async fn emulator() -> (EmulatorHandle, Vec<BulkAccount>) {
    let emu = Emulator::start(EmulatorConfig {
        seed: SeedKind::None,
        // The virtual clock starts at real now: the credentials it issues expire relative to
        // it, and the SDK's identity cache judges expiry on real time.
        start_time: None,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    // Sessions are assumed once per test; the virtual clock jumps 48 h, which a real session
    // (at most 1 h) would not survive — the identity cache refreshes on real time.
    emu.control().update_options(|o| {
        o.enforce_credential_expiry = false;
        // Whatever day the tests run, no maintenance window interferes.
        o.maintenance.enabled = false;
    });
    let accounts = emu.control().bulk_seed(&BulkSeed {
        accounts: 2,
        workspaces_per_account: 60,
        region: "us-east-1".into(),
        first_account_id: 210_000_000_001,
        stopped_per_account: 0,
    });
    (emu, accounts)
}

async fn partner_config(endpoint: &str) -> SdkConfig {
    steward_shared::aws::sdk_defaults()
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIDPARTNER",
            "partner",
            None,
            None,
            "test",
        ))
        .endpoint_url(endpoint)
        .retry_config(retry_config(&settings()))
        .load()
        .await
}

fn settings() -> AccessSettings {
    AccessSettings {
        initial_backoff: Duration::from_millis(50),
        ..AccessSettings::default()
    }
}

struct Tenant {
    id: TenantId,
    connection: Connection,
    region: RegionName,
}

fn tenant(a: &BulkAccount, external_id: &str) -> Tenant {
    Tenant {
        id: TenantId::parse(format!("tenant-{}", a.account_id)).unwrap(),
        connection: Connection::AssumeRole {
            role_arn: RoleArn::parse(a.role_arn.as_str()).unwrap(),
            external_id: ExternalId::parse(external_id).unwrap(),
        },
        region: RegionName::parse(a.region.as_str()).unwrap(),
    }
}

fn access(t: &Tenant) -> TenantAccess<'_> {
    TenantAccess {
        tenant_id: &t.id,
        connection: &t.connection,
        region: &t.region,
    }
}

fn ids(emu: &EmulatorHandle, account: &str) -> Vec<WorkspaceId> {
    let mut ids: Vec<WorkspaceId> = emu
        .control()
        .workspace_ids(account, "us-east-1")
        .into_iter()
        .map(|i| WorkspaceId::parse(i).unwrap())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn power_calls_through_the_tenant_role() {
    let (emu, accounts) = emulator().await;
    let factory = ClientFactory::new(partner_config(&emu.endpoint_url()).await, settings());
    let a = &accounts[0];
    let t = tenant(a, &a.external_id);
    let ids = ids(&emu, &a.account_id);
    assert_eq!(ids.len(), 60);

    let clients = factory.for_tenant(access(&t)).await;
    let gw = WorkspacesGateway::new(clients.workspaces());
    let gone = WorkspaceId::parse("ws-zzzzzzzzzz").unwrap();
    let mut asked = ids.clone();
    asked.push(gone.clone());
    let described = gw.describe(&asked).await.unwrap();
    assert_eq!(described.found.len(), 60);
    assert_eq!(described.absent, vec![gone]);
    assert!(described.found.iter().all(
        |o| o.state == WorkspaceState::Available && o.running_mode == Some(RunningMode::Manual)
    ));

    // 30 stops: two calls (25 + 5), every one accepted.
    let stopped = gw.stop(&ids[..30]).await.unwrap();
    assert_eq!(stopped.len(), 30);
    assert!(
        stopped.iter().all(|(_, o)| *o == ItemOutcome::Accepted),
        "{stopped:?}"
    );
    let calls = |op: &str| emu.control().calls(&a.account_id, op);
    assert_eq!(calls("WorkSpaces.StopWorkspaces"), 2);
    assert_eq!(calls("WorkSpaces.DescribeWorkspaces"), 3);

    // Stopping them again: the service refuses each item, not the call.
    let again = gw.stop(&ids[..3]).await.unwrap();
    assert!(
        again
            .iter()
            .all(|(_, o)| matches!(o, ItemOutcome::Failed { .. })),
        "{again:?}"
    );

    // A second client for the same tenant reuses the session: still one AssumeRole.
    let clients2 = factory.for_tenant(access(&t)).await;
    WorkspacesGateway::new(clients2.workspaces())
        .describe(&ids[..1])
        .await
        .unwrap();
    // AssumeRole is counted under its caller, the partner account.
    assert_eq!(emu.control().calls("111122223333", "STS.AssumeRole"), 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_wrong_external_id_is_access_denied_before_any_workspaces_call() {
    let (emu, accounts) = emulator().await;
    let factory = ClientFactory::new(partner_config(&emu.endpoint_url()).await, settings());
    let a = &accounts[1];
    let t = tenant(a, "not-the-external-id");
    let ids = ids(&emu, &a.account_id);
    let clients = factory.for_tenant(access(&t)).await;
    let err = WorkspacesGateway::new(clients.workspaces())
        .describe(&ids[..5])
        .await
        .unwrap_err();
    assert_eq!(err.kind, AwsErrorKind::AccessDenied, "{err}");
    assert_eq!(err.kind.name(), "Steward.AccessDenied");
    assert_eq!(
        emu.control()
            .calls(&a.account_id, "WorkSpaces.DescribeWorkspaces"),
        0
    );
    let _: &AwsError = &err;
    emu.shutdown().await;
}

#[tokio::test]
async fn the_services_forced_stop_is_seen_as_drift() {
    let (emu, accounts) = emulator().await;
    let factory = ClientFactory::new(partner_config(&emu.endpoint_url()).await, settings());
    let a = &accounts[0];
    let t = tenant(a, &a.external_id);
    let id = ids(&emu, &a.account_id).remove(0);
    let clients = factory.for_tenant(access(&t)).await;
    let gw = WorkspacesGateway::new(clients.workspaces());

    let now = emu.control().now();
    let observed = gw
        .describe(std::slice::from_ref(&id))
        .await
        .unwrap()
        .found
        .remove(0);
    let mut record = WorkspaceRecord {
        bundle_id: observed.bundle_id.clone(),
        workspace_name: observed.workspace_name.clone(),
        user_name: observed.user_name.clone(),
        available_since: Some(now),
        version: 1,
        ..WorkspaceRecord::new(FirstSeen {
            tenant_id: t.id.clone(),
            workspace_id: id.clone(),
            region: t.region.clone(),
            directory_id: observed.directory_id.clone().unwrap(),
            running_mode: RunningMode::Manual,
            state: observed.state,
            at: now,
        })
    };

    // 48 hours and a few minutes later the service has stopped it on its own.
    emu.control()
        .advance_seconds(48.0 * 3600.0 + 600.0)
        .unwrap();
    let later = emu.control().now();
    let seen = gw
        .describe(std::slice::from_ref(&id))
        .await
        .unwrap()
        .found
        .remove(0);
    assert_eq!(seen.state, WorkspaceState::Stopped);
    record.state_observed_at = later - chrono::Duration::minutes(15);
    let r = reconcile(
        &record,
        Observation::Seen {
            state: seen.state,
            running_mode: RunningMode::Manual,
        },
        &PowerPolicy::default(),
        later,
        chrono::Duration::minutes(15),
    );
    assert_eq!(r.drift, vec![Drift::ForcedStopSuspected]);
    let period = r.closed.unwrap();
    assert_eq!(period.from, now);
    assert!(period.to - period.from >= chrono::Duration::hours(48));
    emu.shutdown().await;
}
