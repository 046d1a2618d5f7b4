//! The Step Functions service API (awsJson1_0, `X-Amz-Target: AWSStepFunctions.<Op>`) in
//! front of the runner, so the AWS SDKs and CLI drive local state machines unchanged.
//!
//! [`StepFunctionsApi`] keeps the registered state machines and every execution (running
//! or finished: Describe, List and History answer for the process's life). Each execution
//! gets its own [`Runner`] and so its own [`ExecutionClock`] from the caller's
//! [`ClockFactory`]: a host that couples clocks to its emulators keeps each execution's time
//! in step without one execution's Wait moving another's. Task tokens are found across
//! executions, as SendTaskSuccess addresses a token and not an execution.
//!
//! HTTP is not here: [`StepFunctionsApi::handle`] takes the operation name and the body
//! and returns a [`WireResponse`], and the host's front door does the rest.
//!
//! Within: [`wire`] (bodies, timestamps, ARNs, page tokens), [`error`] (the model's
//! error names), [`store`] (machines and executions), [`executions`] (Start, Describe, List,
//! Stop), [`history`] (GetExecutionHistory's events), [`tasks`] (SendTask*),
//! [`machines`] (ListStateMachines, DescribeStateMachine).

mod error;
mod executions;
mod history;
mod machines;
mod store;
mod tasks;
mod wire;

use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::clock::ExecutionClock;
use crate::definition::StateMachine;
use crate::engine::{Runner, RunnerConfig, TaskInvoker};
pub use error::ApiError;
pub use store::ExecutionStatus;
use store::{ExecRecord, Executions, MachineEntry, lock};
use wire::Body;
pub use wire::{CONTENT_TYPE, WireResponse};

/// Makes the clock of one new execution.
pub type ClockFactory = Arc<dyn Fn() -> Arc<ExecutionClock> + Send + Sync>;

/// A state machine's type: Standard executions are idempotent by name; Express ones are
/// not (each start is a new execution with an `express:` ARN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MachineType {
    Standard,
    Express,
}

/// A state machine to serve.
pub struct MachineSpec {
    pub name: String,
    pub machine: StateMachine,
    pub invoker: Arc<dyn TaskInvoker>,
    pub machine_type: MachineType,
    /// Its runner settings; the region, account and state machine name are the API's.
    pub config: RunnerConfig,
}

/// What StartExecution answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub execution_arn: String,
    pub start_date: DateTime<Utc>,
}

/// The operations served, by their `X-Amz-Target` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    StartExecution,
    DescribeExecution,
    ListExecutions,
    GetExecutionHistory,
    StopExecution,
    SendTaskSuccess,
    SendTaskFailure,
    SendTaskHeartbeat,
    ListStateMachines,
    DescribeStateMachine,
}

impl Operation {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "StartExecution" => Self::StartExecution,
            "DescribeExecution" => Self::DescribeExecution,
            "ListExecutions" => Self::ListExecutions,
            "GetExecutionHistory" => Self::GetExecutionHistory,
            "StopExecution" => Self::StopExecution,
            "SendTaskSuccess" => Self::SendTaskSuccess,
            "SendTaskFailure" => Self::SendTaskFailure,
            "SendTaskHeartbeat" => Self::SendTaskHeartbeat,
            "ListStateMachines" => Self::ListStateMachines,
            "DescribeStateMachine" => Self::DescribeStateMachine,
            _ => return None,
        })
    }
}

struct Inner {
    region: String,
    account: String,
    clocks: ClockFactory,
    machines: Mutex<BTreeMap<String, Arc<MachineEntry>>>,
    executions: Mutex<Executions>,
}

/// The Step Functions API of local state machines. Cloning shares it.
#[derive(Clone)]
pub struct StepFunctionsApi {
    inner: Arc<Inner>,
}

impl StepFunctionsApi {
    /// `clocks` makes each execution's clock; it must not call back into the API.
    pub fn new(region: &str, account: &str, clocks: ClockFactory) -> Self {
        Self {
            inner: Arc::new(Inner {
                region: region.to_string(),
                account: account.to_string(),
                clocks,
                machines: Mutex::new(BTreeMap::new()),
                executions: Mutex::new(Executions::default()),
            }),
        }
    }

    /// Serves a state machine (replacing one of the same name; its executions stay) and
    /// returns its ARN. Its creation date is the wall clock's now.
    pub fn add_state_machine(&self, spec: MachineSpec) -> String {
        let i = &self.inner;
        let arn = format!(
            "arn:aws:states:{}:{}:stateMachine:{}",
            i.region, i.account, spec.name
        );
        let entry = MachineEntry::new(spec, arn.clone(), Utc::now());
        lock(&i.machines).insert(arn.clone(), Arc::new(entry));
        arn
    }

    /// StartExecution from Rust (a schedule's sweep): `name` defaults to a UUID. Must be
    /// called within a tokio runtime (the execution runs on it).
    pub fn start_execution(
        &self,
        machine_arn: &str,
        name: Option<&str>,
        input: Value,
    ) -> Result<Started, ApiError> {
        wire::check_machine_arn(machine_arn, "stateMachineArn")?;
        if let Some(n) = name {
            wire::check_name(n)?;
        }
        self.start(machine_arn, name, input)
    }

    /// Waits until the execution ends and returns its final status.
    pub async fn wait(&self, execution_arn: &str) -> Result<ExecutionStatus, ApiError> {
        let rec = self.execution(execution_arn)?;
        let result = rec.execution.result().await;
        Ok(ExecutionStatus::of(Some(&result)))
    }

    /// The ARNs of the executions still running, oldest first.
    pub fn running(&self) -> Vec<String> {
        lock(&self.inner.executions)
            .order
            .iter()
            .filter(|r| r.execution.try_result().is_none())
            .map(|r| r.arn.clone())
            .collect()
    }

    /// Answers one request: `target_operation` is the `X-Amz-Target` header (with or
    /// without its `AWSStepFunctions.` prefix), `body` the request's JSON.
    pub async fn handle(&self, target_operation: &str, body: &[u8]) -> WireResponse {
        let name = target_operation
            .strip_prefix("AWSStepFunctions.")
            .unwrap_or(target_operation);
        let answer = match Operation::parse(name) {
            None => Err(ApiError::UnknownOperation),
            Some(op) => match Body::parse(body) {
                Ok(b) => self.dispatch(op, &b).await,
                Err(e) => Err(e),
            },
        };
        match answer {
            Ok(v) => WireResponse::ok(v),
            Err(e) => e.to_wire(),
        }
    }

    async fn dispatch(&self, op: Operation, b: &Body) -> Result<Value, ApiError> {
        match op {
            Operation::StartExecution => self.op_start_execution(b),
            Operation::DescribeExecution => self.op_describe_execution(b),
            Operation::ListExecutions => self.op_list_executions(b),
            Operation::GetExecutionHistory => self.op_get_execution_history(b),
            Operation::StopExecution => self.op_stop_execution(b).await,
            Operation::SendTaskSuccess => self.op_send_task_success(b),
            Operation::SendTaskFailure => self.op_send_task_failure(b),
            Operation::SendTaskHeartbeat => self.op_send_task_heartbeat(b),
            Operation::ListStateMachines => self.op_list_state_machines(b),
            Operation::DescribeStateMachine => self.op_describe_state_machine(b),
        }
    }

    /// The role ARN executions report (there is no IAM here; the runner's context object
    /// names the same).
    fn role_arn(&self) -> String {
        format!("arn:aws:iam::{}:role/local-runner", self.inner.account)
    }

    fn machine(&self, arn: &str) -> Result<Arc<MachineEntry>, ApiError> {
        lock(&self.inner.machines)
            .get(arn)
            .cloned()
            .ok_or(ApiError::StateMachineDoesNotExist)
    }

    fn execution(&self, arn: &str) -> Result<Arc<ExecRecord>, ApiError> {
        wire::check_execution_arn(arn)?;
        lock(&self.inner.executions)
            .by_arn
            .get(arn)
            .cloned()
            .ok_or(ApiError::ExecutionDoesNotExist)
    }

    /// Starts an execution (ARN and name already checked). A Standard machine's name is
    /// unique: the same name and input as a running execution answer that execution
    /// (StartExecution is idempotent); otherwise `ExecutionAlreadyExists`.
    fn start(
        &self,
        machine_arn: &str,
        name: Option<&str>,
        input: Value,
    ) -> Result<Started, ApiError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(ApiError::NoRuntime);
        }
        let i = &self.inner;
        let machine = self.machine(machine_arn)?;
        let name = name.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string);
        let mut executions = lock(&i.executions);
        let arn = match machine.machine_type {
            MachineType::Standard => format!(
                "arn:aws:states:{}:{}:execution:{}:{}",
                i.region, i.account, machine.name, name
            ),
            MachineType::Express => format!(
                "arn:aws:states:{}:{}:express:{}:{}:{}",
                i.region,
                i.account,
                machine.name,
                name,
                uuid::Uuid::new_v4()
            ),
        };
        if let Some(existing) = executions.by_arn.get(&arn) {
            return if existing.input == input && existing.execution.try_result().is_none() {
                Ok(Started {
                    execution_arn: existing.arn.clone(),
                    start_date: existing.start_date,
                })
            } else {
                Err(ApiError::ExecutionAlreadyExists)
            };
        }
        let clock = (i.clocks)();
        let config = RunnerConfig {
            state_machine_name: machine.name.clone(),
            region: i.region.clone(),
            account: i.account.clone(),
            ..machine.config.clone()
        };
        let runner = Runner::new(
            machine.machine.clone(),
            clock.clone(),
            machine.invoker.clone(),
        )
        .with_config(config);
        let start_date = clock.now();
        let execution = runner.start(&name, input.clone());
        let rec = Arc::new(ExecRecord {
            arn: arn.clone(),
            name,
            machine,
            input,
            start_date,
            execution,
            seq: executions.order.len() as u64,
            stop: Mutex::new(None),
        });
        executions.by_arn.insert(arn.clone(), rec.clone());
        executions.order.push(rec);
        Ok(Started {
            execution_arn: arn,
            start_date,
        })
    }
}
