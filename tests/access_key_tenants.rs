//! A self-managed (access-key) tenant end to end: its IAM user's key pair sits in a Secrets
//! Manager secret (moto's server), the onboarding request names only the secret's ARN, and
//! Steward — reading the secret as the partner — onboards the tenant on the WorkSpaces Core
//! emulator (which knows the key as that customer account's IAM user) and then sweeps it.
//! No role is ever assumed for it.

use std::sync::Arc;
use std::time::Duration;

use aws_config::{Region, SdkConfig};
use serde_json::{Value, json};
use stepfunctions_runner::{ExecutionResult, FnInvoker, PendingTask, TaskFailure};
use steward_functions::power::SweepKind;
use steward_functions::power::fanout::{TenantOutcome, sweep_one};
use steward_functions::power::sweep::SweepOptions;
use steward_functions::{Deps, dispatch, routes};
use steward_local::sandbox::{Sandbox, SandboxOptions, default_onboarding_input, drive};
use steward_shared::aws::signed::SignedClient;
use steward_shared::aws::{ClientFactory, https_connector};
use steward_shared::gateway::secrets;
use steward_shared::ids::{SecretArn, TenantId};
use steward_shared::model::{Connection, TenantStatus};
use steward_shared::store::{TenantStore, WorkspaceStore, collect_all};
use workspaces_core_emulator::Options;
use workspaces_core_emulator::seed::{CUSTOMER_ACCOUNT, ids};

const MACHINE: &str = "OnboardingStateMachine";
const TENANT: &str = "self-managed-customer";
const DESKTOPS: u32 = 2;
/// The account the emulator treats the sandbox's own credentials as.
const PARTNER_ACCOUNT: &str = "111122223333";

/// The partner's configuration for moto's server (where the tenant's secret lives).
async fn moto_config() -> SdkConfig {
    steward_shared::aws::sdk_defaults()
        .region(Region::new("us-east-1"))
        .endpoint_url(steward_tests::moto_endpoint())
        .credentials_provider(aws_credential_types::Credentials::new(
            "AKIDSTEWARDPARTNER",
            "sandbox-secret",
            None,
            None,
            "test",
        ))
        .load()
        .await
}

/// Stores the key pair in a new secret, as the partner's tooling would; its ARN.
async fn store_key_pair(moto: &SdkConfig, key_id: &str, secret: &str) -> SecretArn {
    let client = SignedClient::new(
        secrets::SERVICE,
        moto,
        https_connector(),
        &Default::default(),
    );
    let value = json!({ secrets::ACCESS_KEY_ID: key_id, secrets::SECRET_ACCESS_KEY: secret });
    let created: Value = client
        .json(
            "CreateSecret",
            &json!({
                "Name": format!("steward/{TENANT}-{}", uuid::Uuid::new_v4().simple()),
                "SecretString": value.to_string(),
            }),
        )
        .await
        .expect("moto creates the secret");
    SecretArn::parse(created["ARN"].as_str().unwrap_or_default()).expect("moto's ARN parses")
}

/// The sandbox's dependencies, but reading tenants' secrets from moto.
fn deps_with_secrets(sb: &Sandbox, moto: SdkConfig) -> Arc<Deps> {
    let d = &sb.deps;
    Arc::new(Deps {
        config: d.config.clone(),
        store: d.store.clone(),
        clients: ClientFactory::new(d.clients.base().clone(), d.config.access.clone())
            .with_secrets_config(moto),
        events: d.events.clone(),
        clock: d.clock.clone(),
    })
}

/// Every route of the Lambda binary on `deps` (as [`Sandbox::invoker`] does on its own).
fn invoker(deps: &Arc<Deps>) -> FnInvoker {
    let mut invoker = FnInvoker::new();
    for route in routes() {
        let deps = deps.clone();
        let name = route.name;
        invoker = invoker.handler(name, move |request| {
            let deps = deps.clone();
            async move {
                dispatch(name, request.input, &deps)
                    .await
                    .map_err(|e| TaskFailure::new(e.name(), e.to_string()))
            }
        });
    }
    invoker
}

/// Answers as the customer would, through the partner UI.
fn customer(task: &PendingTask) -> Option<Value> {
    let first = |key: &str| -> Option<Value> {
        task.input["offer"]["options"]
            .as_array()?
            .iter()
            .filter(|o| o.get("eligible").is_none_or(|e| e == true))
            .map(|o| o.get(key).cloned().unwrap_or_else(|| o.clone()))
            .next()
    };
    match task.input["input"].as_str() {
        Some("managementCidr") => Some(json!({"managementCidr": first("x")?})),
        Some("byolConfirmation") => Some(json!({"confirm": true})),
        Some("image") => Some(json!({"ec2ImageId": first("imageId")?})),
        Some("directory") => Some(json!({"directoryId": ids::DIRECTORY_CORP})),
        _ => None,
    }
}

fn request(secret: &SecretArn) -> Value {
    let mut input = default_onboarding_input(DESKTOPS);
    let fields = input.as_object_mut().expect("an object");
    fields.remove("roleArn");
    fields.remove("externalId");
    fields.insert("tenantId".into(), json!(TENANT));
    fields.insert("credentialsSecretArn".into(), json!(secret.as_str()));
    input
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_key_tenant_is_onboarded_and_swept_without_a_role() {
    let mut emulator = Options::default();
    emulator.rate_limit.enabled = false;
    let sb = Sandbox::start(SandboxOptions {
        emulator,
        ..SandboxOptions::default()
    })
    .await
    .expect("the sandbox starts");
    let key = sb
        .control()
        .create_access_key(CUSTOMER_ACCOUNT, None)
        .expect("the customer account exists");
    let moto = moto_config().await;
    let secret = store_key_pair(&moto, &key.access_key_id, &key.secret_access_key).await;
    let deps = deps_with_secrets(&sb, moto);

    // Onboarding, end to end, through the state machine of template.yaml.
    let wf = sb
        .runner_with(MACHINE, Arc::new(invoker(&deps)))
        .expect("the definition loads");
    let exec = wf.runner.start("self-managed", request(&secret));
    let result = drive(&exec, customer).await;
    let out = match &result {
        ExecutionResult::Succeeded { output } => output,
        other => panic!("the onboarding did not succeed: {other:?}"),
    };
    assert_eq!(out["status"], "ACTIVE");
    assert_eq!(out["workspaces"], DESKTOPS);

    let tenant_id = TenantId::parse(TENANT).unwrap();
    let tenant = deps.store.get_tenant(&tenant_id).await.unwrap().unwrap();
    assert_eq!(tenant.status, TenantStatus::Active);
    assert_eq!(
        tenant.connection,
        Connection::AccessKey {
            credentials_secret_arn: secret.clone()
        }
    );
    // The record holds the secret's ARN, never the key pair.
    let stored = serde_json::to_string(&tenant).unwrap();
    assert!(!stored.contains(&key.secret_access_key));
    assert!(!stored.contains(&key.access_key_id));

    // Everything in the customer account was done as its IAM user: no role was assumed.
    let ctl = sb.control();
    assert_eq!(ctl.calls(PARTNER_ACCOUNT, "STS.AssumeRole"), 0);
    assert_eq!(ctl.calls(CUSTOMER_ACCOUNT, "STS.AssumeRole"), 0);
    assert!(ctl.calls(CUSTOMER_ACCOUNT, "STS.GetCallerIdentity") >= 1);
    assert_eq!(
        ctl.calls(CUSTOMER_ACCOUNT, "WorkSpaces.CreateWorkspaces"),
        1
    );
    let desktops = collect_all(|p| deps.store.list_workspaces(&tenant_id, p))
        .await
        .unwrap();
    assert_eq!(desktops.len(), DESKTOPS as usize);
    let region = tenant.regions[0].as_str();
    for d in &desktops {
        assert_eq!(
            ctl.workspace_state(CUSTOMER_ACCOUNT, region, d.workspace_id.as_str())
                .as_deref(),
            Some("AVAILABLE")
        );
    }

    // The idle sweep, with the same key: the first dates the desktops, the one after the
    // idle timeout stops them.
    let mut options = SweepOptions::default();
    options.pace.rate_per_second = 0.0;
    let mut stopped = 0;
    let mut available = Vec::new();
    for advance_minutes in [0.0, 75.0] {
        ctl.advance_seconds(advance_minutes * 60.0).unwrap();
        match sweep_one(&deps, &tenant, SweepKind::Idle, &options).await {
            TenantOutcome::Swept(s) => {
                assert_eq!(s.looked_at, DESKTOPS as usize);
                available.push(s.available);
                stopped += s.stopped;
            }
            TenantOutcome::Failed { error, message, .. } => panic!("{error}: {message}"),
        }
    }
    assert_eq!(available, [DESKTOPS as usize, DESKTOPS as usize]);
    assert_eq!(stopped, DESKTOPS as usize);
    assert_eq!(ctl.calls(CUSTOMER_ACCOUNT, "WorkSpaces.StopWorkspaces"), 1);
    assert_eq!(ctl.calls(PARTNER_ACCOUNT, "STS.AssumeRole"), 0);
    for d in &desktops {
        let state = ctl.workspace_state(CUSTOMER_ACCOUNT, region, d.workspace_id.as_str());
        assert!(
            matches!(state.as_deref(), Some("STOPPING" | "STOPPED")),
            "{state:?}"
        );
    }
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_holding_a_key_the_account_does_not_know_fails_access_validation() {
    let sb = Sandbox::start(SandboxOptions::default())
        .await
        .expect("the sandbox starts");
    let moto = moto_config().await;
    // A well-formed key id the emulator never issued.
    let secret = store_key_pair(&moto, "AKIAEMULATORNOSUCH01", "not-a-real-secret").await;
    let deps = deps_with_secrets(&sb, moto);
    let wf = sb
        .runner_with(MACHINE, Arc::new(invoker(&deps)))
        .expect("the definition loads");
    let exec = wf.runner.start("unknown-key", request(&secret));
    let result = tokio::time::timeout(Duration::from_secs(120), drive(&exec, customer))
        .await
        .expect("the onboarding ends");
    // Access validation asks STS who the key is, and the emulator does not know it.
    let ExecutionResult::Failed { error, cause } = &result else {
        panic!("the onboarding did not fail: {result:?}");
    };
    assert_eq!(error, "Steward.AccessDenied");
    assert_eq!(
        cause,
        "STS.GetCallerIdentity failed (InvalidClientTokenId): The security token included in the request is invalid."
    );
    let shown = format!("{result:?}");
    assert!(!shown.contains("not-a-real-secret"), "{shown}");
    // Nothing was created in the customer account.
    assert_eq!(
        sb.control()
            .calls(CUSTOMER_ACCOUNT, "WorkSpaces.CreateWorkspaces"),
        0
    );
    let tenant = deps
        .store
        .get_tenant(&TenantId::parse(TENANT).unwrap())
        .await
        .unwrap();
    assert!(
        tenant
            .as_ref()
            .is_none_or(|t| t.status != TenantStatus::Active),
        "{tenant:?}"
    );
    sb.shutdown().await;
}
