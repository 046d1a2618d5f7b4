//! `steward-local serve`: everything `template.yaml` declares, on one loopback endpoint,
//! behind the AWS APIs a partner backend integrates through — EventBridge, Step Functions,
//! Lambda and SQS — beside the WorkSpaces Core emulator and the embedded DynamoDB. It is
//! run from the template itself ([`stack`]): its bus, its queues, its functions with their
//! environments and invoke settings, its rules and their patterns, its state machines and
//! their schedules.
//!
//! - [`stack`]: the template read into what is served;
//! - [`functions`]: the functions (Lambda's sync and async invocation, the runner's tasks,
//!   EventBridge's targets); [`lambda_api`]: Lambda's wire API;
//! - [`clocks`], [`schedules`]: one virtual time, and the schedules on it;
//! - [`front`]: the endpoint, routing each request by its protocol.
//!
//! The state machines run on `stepfunctions-runner`; EventBridge and SQS are
//! `eventbridge-sqs-local`. The account is the emulator's partner account (`111122223333`),
//! the Region `us-east-1`, the stack name `steward`.

pub mod clocks;
pub mod front;
pub mod functions;
pub mod lambda_api;
pub mod schedules;
pub mod stack;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use aws_config::Region;
use chrono::{DateTime, Utc};
use eventbridge_sqs_local::{Messaging, RuleSpec, RuleState, Settings, TargetSpec};
use stepfunctions_runner::api::{MachineSpec, MachineType as ApiMachineType, StepFunctionsApi};
use stepfunctions_runner::{RunnerConfig, StateMachine};
use steward_functions::Deps;
use steward_shared::config::Config;
use steward_shared::store::DynamoStore;
use steward_shared::store::schema::create_table;
use workspaces_core_emulator::model::PARTNER_ACCOUNT;
use workspaces_core_emulator::{
    Control, Emulator, EmulatorConfig, EmulatorHandle, Options, SeedKind,
};

use crate::dynamo::{EmbeddedDynamo, EmbeddedDynamoError, local_client};
use crate::sandbox::handler_clock;
use clocks::Clocks;
use functions::{Functions, Served};
use schedules::Schedules;
use stack::{MachineType, Stack, StackContext};

pub const REGION: &str = "us-east-1";
pub const STACK_NAME: &str = "steward";

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Dynamo(#[from] EmbeddedDynamoError),
    #[error("emulator: {0}")]
    Emulator(#[from] workspaces_core_emulator::EmulatorError),
    #[error("table: {0}")]
    Table(String),
    #[error(transparent)]
    Stack(#[from] stack::StackError),
    #[error("function {function}: configuration: {source}")]
    Config {
        function: String,
        #[source]
        source: steward_shared::config::ConfigError,
    },
    #[error("state machine {name}: {source}")]
    Machine {
        name: String,
        #[source]
        source: stepfunctions_runner::LoadError,
    },
    #[error("template wiring: {0}")]
    Wiring(String),
}

pub struct ServeOptions {
    pub listen: SocketAddr,
    /// Keep the table in this SQLite file (default: memory).
    pub state_file: Option<String>,
    pub table: String,
    pub seed: SeedKind,
    pub emulator: Options,
    pub start_time: Option<DateTime<Utc>>,
    pub template: PathBuf,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            state_file: None,
            table: "steward".into(),
            seed: SeedKind::Default,
            emulator: Options::default(),
            start_time: None,
            template: crate::sandbox::template_path(),
        }
    }
}

/// What the front door's handlers share.
#[derive(Clone)]
pub struct ServeState {
    pub functions: Functions,
    pub messaging: Messaging,
    pub sfn: StepFunctionsApi,
    pub schedules: Schedules,
    pub control: Control,
    pub emulator_url: String,
    pub dynamo_url: String,
    pub proxy: front::ProxyClient,
}

/// A running `serve`.
pub struct ServeHandle {
    addr: SocketAddr,
    state: ServeState,
    emulator: EmulatorHandle,
    dynamo: EmbeddedDynamo,
    stop: tokio::sync::watch::Sender<bool>,
    stop_server: tokio::sync::watch::Sender<bool>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    ticker: tokio::task::JoinHandle<()>,
    summary: String,
}

/// How often real time is checked against the schedules and the execution clocks.
const TICK: std::time::Duration = std::time::Duration::from_millis(200);

impl ServeHandle {
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
    pub fn control(&self) -> &Control {
        &self.state.control
    }
    pub fn state(&self) -> &ServeState {
        &self.state
    }

    /// One line of what the template gave: functions, rules, machines, schedules, queues.
    pub fn summary(&self) -> &str {
        &self.summary
    }

    /// Stops the schedules, lets running asynchronous invocations finish (at most 10 s;
    /// their calls go through this endpoint, so it still answers meanwhile), stops taking
    /// requests, then stops the emulator and closes the table (its file, with `--state`,
    /// stays consistent: every write was its own SQLite transaction).
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        let _ = (&mut self.ticker).await;
        if !self
            .state
            .functions
            .settle(std::time::Duration::from_secs(10))
            .await
        {
            tracing::warn!(
                in_flight = self.state.functions.in_flight(),
                "asynchronous invocations still running at shutdown"
            );
        }
        let _ = self.stop_server.send(true);
        if tokio::time::timeout(workspaces_core_emulator::SHUTDOWN_GRACE, &mut self.server)
            .await
            .is_err()
        {
            self.server.abort();
        }
        self.emulator.shutdown().await;
        self.dynamo.shutdown().await;
    }
}

pub async fn start(mut opts: ServeOptions) -> Result<ServeHandle, ServeError> {
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: opts.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Listen {
        addr: opts.listen,
        source,
    })?;
    let endpoint = format!("http://{addr}");
    // Execution clocks jump hours (Wait states) while the SDKs judge credential expiry
    // on real time: sessions stay valid across jumps (as in the sandbox).
    opts.emulator.enforce_credential_expiry = false;
    let dynamo = match &opts.state_file {
        Some(path) => EmbeddedDynamo::start_with_file(path).await?,
        None => EmbeddedDynamo::start_in_memory().await?,
    };
    let emulator = Emulator::start(EmulatorConfig {
        seed: opts.seed,
        start_time: opts.start_time,
        options: opts.emulator.clone(),
        ..EmulatorConfig::default()
    })
    .await?;
    let control = emulator.control().clone();
    let table_client = local_client(&dynamo.endpoint_url()).await;
    ensure_table(&table_client, &opts.table).await?;
    let ctx = StackContext {
        stack_name: STACK_NAME.into(),
        region: REGION.into(),
        account: PARTNER_ACCOUNT.into(),
        table: opts.table.clone(),
    };
    let stack = Stack::load(&opts.template, &ctx)?;
    let summary = summary(&stack);
    let clock: functions::Clock = {
        let control = control.clone();
        Arc::new(move || control.now())
    };
    let functions = Functions::new(
        served_functions(&stack, &endpoint, &table_client, &opts.table, &control).await?,
        clock.clone(),
    );
    let messaging = Messaging::new(
        Settings {
            region: REGION.into(),
            account: PARTNER_ACCOUNT.into(),
            queue_url_base: endpoint.clone(),
            clock,
        },
        Arc::new(functions.clone()),
    );
    functions.set_queues(messaging.queues().clone());
    wire_events(&stack, &messaging)?;
    let clocks = Clocks::new(control.clone());
    let (sfn, scheduled) = state_machines(&stack, &functions, &clocks)?;
    let schedules = Schedules::new(scheduled, sfn.clone(), control.clone(), clocks);
    let state = ServeState {
        functions,
        messaging,
        sfn,
        schedules,
        control,
        emulator_url: emulator.endpoint_url(),
        dynamo_url: dynamo.endpoint_url(),
        proxy: front::proxy_client(),
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let (stop_server, server_stopped) = tokio::sync::watch::channel(false);
    let server = {
        let app = front::router(state.clone());
        let mut stopped = server_stopped;
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })
                .await
        })
    };
    let ticker = {
        let schedules = state.schedules.clone();
        let mut stopped = stopped;
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    changed = stopped.changed() => {
                        if changed.is_err() || *stopped.borrow() {
                            return;
                        }
                    }
                    _ = tokio::time::sleep(TICK) => schedules.catch_up().await,
                }
            }
        })
    };
    Ok(ServeHandle {
        addr,
        state,
        emulator,
        dynamo,
        stop,
        stop_server,
        server,
        ticker,
        summary,
    })
}

fn summary(stack: &Stack) -> String {
    let names = |v: Vec<&str>| v.join(", ");
    let rules: usize = stack.functions.iter().map(|f| f.rules.len()).sum();
    let schedules: Vec<String> = stack
        .machines
        .iter()
        .flat_map(|m| {
            m.schedules
                .iter()
                .map(move |s| format!("{} every {} min", m.name, s.every.num_minutes()))
        })
        .collect();
    format!(
        "serving {} functions, {} rules on {}, {} state machines ({}), schedules: {}; queues: {}",
        stack.functions.len(),
        rules,
        names(stack.buses.iter().map(|b| b.name.as_str()).collect()),
        stack.machines.len(),
        names(stack.machines.iter().map(|m| m.name.as_str()).collect()),
        schedules.join(", "),
        names(stack.queues.iter().map(|q| q.name.as_str()).collect()),
    )
}

/// Returns on Ctrl-C (SIGINT) or SIGTERM.
pub async fn until_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The template's state machines behind the Step Functions API, each execution on its own
/// clock coupled to the emulator's; returns the API and every schedule with its machine's
/// ARN.
fn state_machines(
    stack: &Stack,
    functions: &Functions,
    clocks: &Clocks,
) -> Result<(StepFunctionsApi, Vec<(String, stack::Schedule)>), ServeError> {
    let sfn = {
        let clocks = clocks.clone();
        StepFunctionsApi::new(
            REGION,
            PARTNER_ACCOUNT,
            Arc::new(move || clocks.new_clock()),
        )
    };
    let mut scheduled = Vec::new();
    for m in &stack.machines {
        let machine =
            StateMachine::from_definition(&m.definition).map_err(|source| ServeError::Machine {
                name: m.logical_id.clone(),
                source,
            })?;
        let arn = sfn.add_state_machine(MachineSpec {
            name: m.name.clone(),
            machine,
            invoker: Arc::new(functions.clone()),
            machine_type: match m.machine_type {
                MachineType::Standard => ApiMachineType::Standard,
                MachineType::Express => ApiMachineType::Express,
            },
            config: RunnerConfig {
                region: REGION.into(),
                account: PARTNER_ACCOUNT.into(),
                ..RunnerConfig::default()
            },
        });
        scheduled.extend(m.schedules.iter().map(|s| (arn.clone(), s.clone())));
    }
    Ok((sfn, scheduled))
}

async fn ensure_table(client: &aws_sdk_dynamodb::Client, table: &str) -> Result<(), ServeError> {
    let existing = client
        .list_tables()
        .send()
        .await
        .map_err(|e| ServeError::Table(format!("ListTables failed: {e}")))?;
    if !existing.table_names().iter().any(|t| t == table) {
        create_table(client, table)
            .await
            .map_err(|e| ServeError::Table(e.to_string()))?;
    }
    Ok(())
}

/// Each function with the [`Deps`] its own environment gives: its AWS calls go to this
/// endpoint (the emulator, and this EventBridge for what it publishes), its table is the
/// embedded one, its clock the emulator's.
async fn served_functions(
    stack: &Stack,
    endpoint: &str,
    table_client: &aws_sdk_dynamodb::Client,
    table: &str,
    control: &Control,
) -> Result<Vec<Served>, ServeError> {
    let mut served = Vec::with_capacity(stack.functions.len());
    for f in &stack.functions {
        let config = Config::from_lookup(|k| f.environment.get(k).cloned()).map_err(|source| {
            ServeError::Config {
                function: f.name.clone(),
                source,
            }
        })?;
        let base = steward_shared::aws::sdk_defaults()
            .region(Region::new(REGION))
            .endpoint_url(endpoint)
            .credentials_provider(aws_credential_types::Credentials::new(
                "AKIDSTEWARDPARTNER",
                "serve-secret",
                None,
                None,
                "serve",
            ))
            .retry_config(steward_shared::aws::retry_config(&config.access))
            .load()
            .await;
        let mut deps = Deps::with_sdk_config(config, base);
        deps.store = DynamoStore::new(table_client.clone(), table);
        let deps = deps.with_clock(handler_clock(control));
        served.push(Served {
            function: f.clone(),
            deps: Arc::new(deps),
        });
    }
    Ok(served)
}

/// The template's buses and queues, and each function's rules with the function as target.
fn wire_events(stack: &Stack, messaging: &Messaging) -> Result<(), ServeError> {
    let wiring = |e: String| ServeError::Wiring(e);
    for q in &stack.queues {
        messaging
            .queues()
            .create_queue(&q.name, &Default::default())
            .map_err(|e| wiring(format!("queue {}: {e}", q.logical_id)))?;
    }
    for b in &stack.buses {
        messaging
            .events()
            .create_bus(&b.name, None)
            .map_err(|e| wiring(format!("bus {}: {e}", b.logical_id)))?;
    }
    for f in &stack.functions {
        for rule in &f.rules {
            messaging
                .events()
                .put_rule(RuleSpec {
                    name: rule.name.clone(),
                    bus: rule.bus.clone(),
                    pattern: rule.pattern.clone(),
                    state: RuleState::Enabled,
                    description: None,
                })
                .map_err(|e| wiring(format!("rule {}: {e}", rule.name)))?;
            let dead_letter_arn = match rule.dead_letter_queue.as_deref() {
                Some(q) => Some(
                    messaging
                        .queues()
                        .queue_arn(q)
                        .map_err(|e| wiring(format!("rule {} DLQ: {e}", rule.name)))?,
                ),
                None => None,
            };
            messaging
                .events()
                .put_targets(
                    &rule.bus,
                    &rule.name,
                    vec![TargetSpec {
                        id: format!("{}LambdaTarget", rule.name),
                        arn: f.arn.clone(),
                        dead_letter_arn,
                        max_retries: Some(rule.max_retries),
                        ..TargetSpec::default()
                    }],
                )
                .map_err(|e| wiring(format!("rule {} target: {e}", rule.name)))?;
        }
    }
    Ok(())
}
