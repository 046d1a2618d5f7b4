//! Steward's handlers wired to local servers, for the sweep benchmark and the integration
//! tests that build their own [`Deps`]: the partner's SDK configuration for a loopback
//! endpoint, [`Deps`] over the emulator, a table and an event sink, and the registry record of
//! a tenant for an account the emulator bulk-seeded. ([`crate::sandbox::Sandbox`] wires its
//! own, with the emulator's default customer.)

use std::time::Duration;

use aws_config::{Region, SdkConfig};
use chrono::Utc;
use steward_functions::Deps;
use steward_shared::aws::{ClientFactory, retry_config};
use steward_shared::clock::SharedClock;
use steward_shared::config::{AccessSettings, Config};
use steward_shared::ids::{
    AccountId, BundleId, DirectoryId, ExternalId, RegionName, RoleArn, TenantId, WorkspaceId,
};
use steward_shared::model::{
    Connection, FirstSeen, PartnerTag, PowerPolicy, RunningMode, Tenant, TenantStatus,
    WorkspaceRecord, WorkspaceState,
};
use steward_shared::pools::protocol::StreamingProtocol;
use steward_shared::store::DynamoStore;
use workspaces_core_emulator::seed::BulkAccount;

/// What could not be set up, and why (the wiring here, and the benchmarks' servers and
/// seeds).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(pub String);

/// Maps an error to a [`SetupError`] that names what was being set up.
pub fn setup<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> SetupError {
    move |e| SetupError(format!("{what}: {e}"))
}

/// SDK configuration for the partner account against one local endpoint.
pub async fn local_sdk_config(endpoint: &str, settings: &AccessSettings) -> SdkConfig {
    steward_shared::aws::sdk_defaults()
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "AKIDPARTNER",
            "partner",
            None,
            None,
            "steward-local",
        ))
        .endpoint_url(endpoint)
        .retry_config(retry_config(settings))
        .load()
        .await
}

/// Deps wired to local servers: the table on `store`, AWS calls to the emulator at
/// `emulator_url`, outbound events to `events_url`, time from `clock`.
pub async fn local_deps(
    store: DynamoStore,
    emulator_url: &str,
    events_url: &str,
    clock: SharedClock,
) -> Result<Deps, SetupError> {
    let config = Config::from_lookup(|k| match k {
        "STEWARD_TABLE_NAME" => Some(store.table().to_owned()),
        "STEWARD_EVENT_BUS_NAME" => Some("steward-partner".into()),
        _ => None,
    })
    .map_err(setup("configuration"))?;
    let settings = AccessSettings {
        initial_backoff: Duration::from_millis(100),
        ..config.access.clone()
    };
    let base = local_sdk_config(emulator_url, &settings).await;
    let events_cfg = local_sdk_config(events_url, &settings).await;
    Ok(Deps {
        clients: ClientFactory::new(base, settings),
        events: aws_sdk_eventbridge::Client::new(&events_cfg),
        store,
        config,
        clock,
    })
}

/// A registered, ACTIVE tenant for a bulk-seeded emulator account.
pub fn bulk_tenant(a: &BulkAccount, now: chrono::DateTime<Utc>) -> Result<Tenant, SetupError> {
    let v = setup("bulk account");
    Ok(Tenant {
        tenant_id: TenantId::parse(format!("t-{}", a.account_id)).map_err(&v)?,
        account_id: AccountId::parse(a.account_id.as_str()).map_err(&v)?,
        regions: vec![RegionName::parse(a.region.as_str()).map_err(&v)?],
        connection: Connection::AssumeRole {
            role_arn: RoleArn::parse(a.role_arn.as_str()).map_err(&v)?,
            external_id: ExternalId::parse(a.external_id.as_str()).map_err(&v)?,
        },
        partner_tag: PartnerTag::default(),
        policy: PowerPolicy::default(),
        encryption: Default::default(),
        tag_management: false,
        // The bulk seed's bundle is a BYOP one Steward might have made.
        bundle_protocols: std::collections::BTreeMap::from([(
            BundleId::parse(a.bundle_id.as_str()).map_err(&v)?,
            StreamingProtocol::Byop,
        )]),
        policy_stamps: Default::default(),
        status: TenantStatus::Active,
        last_error: None,
        sweep_index: steward_shared::model::SWEEP_INDEX_VERSION,
        pending_images: Vec::new(),
        created_at: now,
        updated_at: now,
        version: 0,
    })
}

/// The registry record of one desktop of a bulk-seeded account, first seen `at` in `state`
/// (MANUAL, in the account's directory and the tenant's first Region).
pub fn bulk_desktop(
    tenant: &Tenant,
    a: &BulkAccount,
    workspace_id: &str,
    state: WorkspaceState,
    at: chrono::DateTime<Utc>,
) -> Result<WorkspaceRecord, SetupError> {
    Ok(WorkspaceRecord::new(FirstSeen {
        tenant_id: tenant.tenant_id.clone(),
        workspace_id: WorkspaceId::parse(workspace_id).map_err(setup("workspace id"))?,
        region: tenant.regions[0].clone(),
        directory_id: DirectoryId::parse(a.directory_id.as_str()).map_err(setup("directory"))?,
        running_mode: RunningMode::Manual,
        state,
        at,
    }))
}
