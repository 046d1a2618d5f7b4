//! The local sandbox assembled: the WorkSpaces Core emulator (which also serves STS, EC2 and
//! the partner bus), the embedded DynamoDB engine with Steward's table, the Lambda handlers
//! with their dependencies, and the state-machine runner executing the definitions named in
//! `template.yaml` against those handlers. The demo and the end-to-end tests use it.
//!
//! Time: the emulator's service clock is the one clock; the sandbox adapts the two other
//! kinds to it. Three crates see time, each through the one abstraction it needs:
//! - the handlers read "now" through `steward_shared::clock::Clock` (the system clock in
//!   Lambda): here [`handler_clock`] reads the emulator's service clock;
//! - the emulator keeps its own service clock (`workspaces_core_emulator::service_clock`),
//!   because it is driven through its control API and must stand alone for other users;
//! - the runner's executions sleep on an `ExecutionClock`, which jumps over Wait states and
//!   Retry back-off: [`execution_clock`] starts it at the emulator's time and moves the
//!   emulator's clock by the same amount on every jump.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_config::Region;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use serde_yaml::Value as Yaml;
use steward_functions::{Deps, dispatch, routes};
use steward_shared::config::Config;
use steward_shared::store::DynamoStore;
use steward_shared::store::schema::create_table;

use stepfunctions_runner::{
    Execution, ExecutionClock, ExecutionResult, FnInvoker, LoadError, PendingTask, Runner,
    StateMachine, TaskFailure, TaskInvoker, definition_from_sam_template_file,
};
use steward_shared::clock::SharedClock;
use workspaces_core_emulator::{
    Control, Emulator, EmulatorConfig, EmulatorHandle, Options, SeedKind,
};

use crate::dynamo::{EmbeddedDynamo, EmbeddedDynamoError, local_client};

/// The repository's SAM template (the demo and the tests run from the repository; this
/// crate sits at `local/sandbox/`).
pub fn template_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml")
}

/// The handlers' clock: the emulator's service clock, as `Deps` reads it.
pub fn handler_clock(control: &Control) -> SharedClock {
    let control = control.clone();
    Arc::new(move || control.now())
}

/// A clock for a workflow's executions: starts at the emulator's time and, on every jump
/// (a Wait state, a Retry back-off), moves the emulator's service clock by the same amount.
pub fn execution_clock(control: &Control) -> Arc<ExecutionClock> {
    let clock = Arc::new(ExecutionClock::new(control.now()));
    let control = control.clone();
    clock.on_advance(move |from, to| {
        let seconds = (to - from).num_milliseconds() as f64 / 1000.0;
        if seconds > 0.0
            && let Err(e) = control.advance_seconds(seconds)
        {
            tracing::error!(error = %e, "could not move the emulator's clock");
        }
    });
    clock
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(transparent)]
    Dynamo(#[from] EmbeddedDynamoError),
    #[error("emulator: {0}")]
    Emulator(#[from] workspaces_core_emulator::EmulatorError),
    #[error("store: {0}")]
    Store(#[from] steward_shared::store::StoreError),
    #[error("configuration: {0}")]
    Config(#[from] steward_shared::config::ConfigError),
    #[error("state machine {name}: {source}")]
    Definition {
        name: String,
        #[source]
        source: LoadError,
    },
    #[error("template: {0}")]
    Template(String),
}

pub struct SandboxOptions {
    pub table: String,
    /// Keep the tables in this SQLite file instead of memory.
    pub state_file: Option<String>,
    pub emulator: Options,
    /// The emulator's clock start (default: real now; SDK credential caching runs on real
    /// time, so a start far from now makes every call re-assume the role).
    pub start_time: Option<DateTime<Utc>>,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        Self {
            table: "steward".into(),
            state_file: None,
            emulator: Options::default(),
            start_time: None,
        }
    }
}

pub struct Sandbox {
    pub emulator: EmulatorHandle,
    pub dynamo: EmbeddedDynamo,
    pub deps: Arc<Deps>,
    pub table: String,
}

pub const BUS: &str = "steward-partner";

/// A state machine ready to run, and the virtual clock its Wait states and timeouts use.
pub struct Workflow {
    pub runner: Runner,
    pub clock: Arc<ExecutionClock>,
}

/// Runs `exec` to its end, answering each customer pause the way a partner UI would
/// (SendTaskSuccess with the token from the pause): `answer` gets the pending task and
/// returns the answer document, or `None` to leave the pause unanswered.
pub async fn drive(
    exec: &Execution,
    mut answer: impl FnMut(&PendingTask) -> Option<Value>,
) -> ExecutionResult {
    let mut seen = std::collections::HashSet::new();
    loop {
        if let Some(result) = exec.try_result() {
            return result;
        }
        for task in exec.pending_tasks() {
            if seen.insert(task.token.clone())
                && let Some(output) = answer(&task)
                && let Err(e) = exec.send_task_success(&task.token, output)
            {
                tracing::warn!(error = %e, "answer not delivered");
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
}

impl Sandbox {
    pub async fn start(mut opts: SandboxOptions) -> Result<Self, SandboxError> {
        // The runner jumps the clock by hours (Wait states), while the SDKs judge credential
        // expiry on real time and would never refresh: sessions stay valid across jumps.
        opts.emulator.enforce_credential_expiry = false;
        let dynamo = match &opts.state_file {
            Some(path) => EmbeddedDynamo::start_with_file(path).await?,
            None => EmbeddedDynamo::start_in_memory().await?,
        };
        let emulator = Emulator::start(EmulatorConfig {
            seed: SeedKind::Default,
            start_time: opts.start_time,
            options: opts.emulator,
            ..EmulatorConfig::default()
        })
        .await?;
        let table_client = local_client(&dynamo.endpoint_url()).await;
        let existing = table_client
            .list_tables()
            .send()
            .await
            .map_err(|e| SandboxError::Template(format!("ListTables failed: {e}")))?;
        if !existing.table_names().iter().any(|t| t == &opts.table) {
            create_table(&table_client, &opts.table).await?;
        }
        let config = Config::from_lookup(|k| match k {
            "STEWARD_TABLE_NAME" => Some(opts.table.clone()),
            "STEWARD_EVENT_BUS_NAME" => Some(BUS.into()),
            _ => None,
        })?;
        // The partner account's own credentials; the emulator treats any key it did not
        // issue as the partner account.
        let base = steward_shared::aws::sdk_defaults()
            .region(Region::new("us-east-1"))
            .endpoint_url(emulator.endpoint_url())
            .credentials_provider(aws_credential_types::Credentials::new(
                "AKIDSTEWARDPARTNER",
                "sandbox-secret",
                None,
                None,
                "sandbox",
            ))
            .retry_config(steward_shared::aws::retry_config(&config.access))
            .load()
            .await;
        let mut deps = Deps::with_sdk_config(config, base);
        deps.store = DynamoStore::new(table_client, &opts.table);
        let deps = deps.with_clock(handler_clock(emulator.control()));
        Ok(Self {
            emulator,
            dynamo,
            deps: Arc::new(deps),
            table: opts.table,
        })
    }

    pub fn control(&self) -> &Control {
        self.emulator.control()
    }

    /// A runner for the state machine `logical_id` of `template.yaml`, its Lambda tasks bound
    /// to the in-process handlers their functions' `Handler` names, its clock coupled to the
    /// emulator's.
    pub fn runner(&self, logical_id: &str) -> Result<Workflow, SandboxError> {
        self.runner_with(logical_id, Arc::new(self.invoker()))
    }

    /// [`Sandbox::runner`] with another task invoker (tests wrap [`Sandbox::invoker`]).
    pub fn runner_with(
        &self,
        logical_id: &str,
        invoker: Arc<dyn TaskInvoker>,
    ) -> Result<Workflow, SandboxError> {
        let path = template_path();
        let bindings = handler_bindings(&path, logical_id)?;
        let definition =
            definition_from_sam_template_file(&path, logical_id, &bindings).map_err(|source| {
                SandboxError::Definition {
                    name: logical_id.into(),
                    source,
                }
            })?;
        let machine = StateMachine::from_definition(&definition).map_err(|source| {
            SandboxError::Definition {
                name: logical_id.into(),
                source,
            }
        })?;
        let clock = execution_clock(self.control());
        Ok(Workflow {
            runner: Runner::new(machine, clock.clone(), invoker),
            clock,
        })
    }

    /// Every route of the Lambda binary, callable by the runner under its handler name.
    pub fn invoker(&self) -> FnInvoker {
        let mut invoker = FnInvoker::new();
        for route in routes() {
            let deps = self.deps.clone();
            let name = route.name;
            invoker = invoker.handler(name, move |request| {
                let deps = deps.clone();
                async move {
                    dispatch(name, request.input, &deps).await.map_err(|e| {
                        // As Lambda reports a function error: the type, and a JSON cause.
                        TaskFailure::new(
                            e.name(),
                            json!({"errorType": e.name(), "errorMessage": e.to_string()})
                                .to_string(),
                        )
                    })
                }
            });
        }
        invoker
    }

    pub async fn shutdown(self) {
        self.emulator.shutdown().await;
        self.dynamo.shutdown().await;
    }
}

/// `DefinitionSubstitutions` of the state machine, each `!GetAtt Fn.Arn` replaced by the
/// `Handler` of that function: the runner invokes the very handlers the template deploys.
pub fn handler_bindings(
    template: &Path,
    logical_id: &str,
) -> Result<HashMap<String, String>, SandboxError> {
    let text = std::fs::read_to_string(template)
        .map_err(|e| SandboxError::Template(format!("{}: {e}", template.display())))?;
    let doc: Yaml = serde_yaml::from_str(&text)
        .map_err(|e| SandboxError::Template(format!("{}: {e}", template.display())))?;
    let resources = &doc["Resources"];
    let subs = resources[logical_id]["Properties"]["DefinitionSubstitutions"]
        .as_mapping()
        .ok_or_else(|| {
            SandboxError::Template(format!("{logical_id} has no DefinitionSubstitutions"))
        })?;
    let mut out = HashMap::new();
    for (k, v) in subs {
        let key = k.as_str().unwrap_or_default().to_owned();
        let target = match v {
            Yaml::Tagged(t) if t.tag == "!GetAtt" || t.tag == "GetAtt" => t.value.as_str(),
            _ => None,
        }
        .and_then(|s| s.strip_suffix(".Arn"))
        .ok_or_else(|| {
            SandboxError::Template(format!(
                "substitution {key} is not a `!GetAtt <Function>.Arn`"
            ))
        })?;
        let handler = resources[target]["Properties"]["Handler"]
            .as_str()
            .ok_or_else(|| SandboxError::Template(format!("{target} has no Handler")))?;
        out.insert(key, handler.to_owned());
    }
    Ok(out)
}

/// The execution input that onboards the emulator's default customer.
pub fn default_onboarding_input(desktops: u32) -> Value {
    use workspaces_core_emulator::seed;
    json!({
        "tenantId": "demo-customer",
        "accountId": seed::CUSTOMER_ACCOUNT,
        "region": seed::CUSTOMER_REGION,
        "roleArn": seed::ROLE_ARN,
        "externalId": seed::EXTERNAL_ID,
        "byol": true,
        "directory": {"subnetIds": [seed::ids::SUBNET_A, seed::ids::SUBNET_B]},
        "creationProperties": {"customSecurityGroupId": seed::ids::SECURITY_GROUP_PARTNER},
        "workspaces": {"count": desktops, "namePrefix": "demo-desk"}
    })
}
