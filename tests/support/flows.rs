//! What the end-to-end tests on the sandbox share: a sandbox with the emulator as a test
//! wants it, the demo tenant, an execution run to its end, and the calls that changed
//! something in the customer account.

use std::collections::BTreeMap;

use serde_json::Value;
use stepfunctions_runner::ExecutionResult;
use steward_local::sandbox::{Sandbox, SandboxOptions, drive};
use steward_shared::ids::TenantId;
use steward_shared::model::Tenant;
use steward_shared::store::TenantStore;
use workspaces_core_emulator::Options;

/// A sandbox whose emulator has `emulator`'s options.
pub async fn sandbox_with(emulator: Options) -> Sandbox {
    Sandbox::start(SandboxOptions {
        emulator,
        ..SandboxOptions::default()
    })
    .await
    .expect("the sandbox starts")
}

/// A sandbox on the emulator's defaults, with or without its 2 requests/s rate limit.
pub async fn sandbox(rate_limit: bool) -> Sandbox {
    let mut emulator = Options::default();
    emulator.rate_limit.enabled = rate_limit;
    sandbox_with(emulator).await
}

/// The tenant `default_onboarding_input` onboards.
pub fn demo_tenant() -> TenantId {
    TenantId::parse("demo-customer").expect("a valid tenant id")
}

/// The demo tenant's record (it must exist).
pub async fn demo_tenant_record(sb: &Sandbox) -> Tenant {
    sb.deps
        .store
        .get_tenant(&demo_tenant())
        .await
        .expect("the table answers")
        .expect("the demo tenant is registered")
}

/// Runs `machine` with `input`, no pause answered, and returns its output; any other end
/// fails the test.
pub async fn run_to_success(sb: &Sandbox, machine: &str, name: &str, input: Value) -> Value {
    let wf = sb.runner(machine).expect("the definition loads");
    match drive(&wf.runner.start(name, input), |_| None).await {
        ExecutionResult::Succeeded { output } => output,
        other => panic!("{machine} {name}: {other:?}"),
    }
}

/// Operations (`Service.Operation`) whose name says they change something.
const CHANGING: [&str; 10] = [
    "Create",
    "Modify",
    "Import",
    "Register",
    "Delete",
    "Update",
    "Start",
    "Stop",
    "Terminate",
    "Copy",
];

/// The calls that changed something in `account`, with how many of each were made.
pub fn changes_in(sb: &Sandbox, account: &str) -> BTreeMap<String, u64> {
    let counters = sb.control().counters();
    let Some(ops) = counters.get(account) else {
        return BTreeMap::new();
    };
    ops.iter()
        .filter(|(op, c)| {
            let name = op.split_once('.').map_or(op.as_str(), |(_, o)| o);
            c.calls > 0 && CHANGING.iter().any(|p| name.starts_with(p))
        })
        .map(|(op, c)| (op.clone(), c.calls))
        .collect()
}
