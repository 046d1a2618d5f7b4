//! StartExecution, DescribeExecution, ListExecutions and StopExecution on the wire.

use serde_json::{Map, Value, json};

use super::store::{ExecutionStatus, StopReason, lock};
use super::wire::{self, ARN, Body, DATA, Len, epoch, page_token};
use super::{ApiError, StepFunctionsApi};
use crate::engine::ExecutionResult;

/// `ListExecutionsPageToken`: 1 to 3096 characters.
const LIST_TOKEN: Len = Len(1, 3096);
/// `SensitiveError` and `SensitiveCause`.
pub(super) const ERROR: Len = Len(0, 256);
pub(super) const CAUSE: Len = Len(0, 32_768);

impl StepFunctionsApi {
    pub(super) fn op_start_execution(&self, b: &Body) -> Result<Value, ApiError> {
        let machine_arn = b.required("stateMachineArn", ARN)?;
        // `name`'s bounds are the model's, but breaking them is `InvalidName`.
        let name = b.string("name", Len(0, usize::MAX))?;
        let input = b.string("input", DATA)?;
        b.string("traceHeader", Len(0, 256))?;
        wire::check_machine_arn(machine_arn, "stateMachineArn")?;
        if let Some(n) = name {
            wire::check_name(n)?;
        }
        let input = match input {
            None => json!({}),
            Some(text) => {
                serde_json::from_str(text).map_err(|_| ApiError::InvalidExecutionInput)?
            }
        };
        let started = self.start(machine_arn, name, input)?;
        Ok(json!({
            "executionArn": started.execution_arn,
            "startDate": epoch(started.start_date),
        }))
    }

    pub(super) fn op_describe_execution(&self, b: &Body) -> Result<Value, ApiError> {
        let arn = b.required("executionArn", ARN)?;
        let metadata_only = included_data(b)?;
        let rec = self.execution(arn)?;
        let result = rec.execution.try_result();
        let mut out = Map::new();
        out.insert("executionArn".into(), json!(rec.arn));
        out.insert("stateMachineArn".into(), json!(rec.machine.arn));
        out.insert("name".into(), json!(rec.name));
        let status = ExecutionStatus::of(result.as_ref());
        out.insert("status".into(), status.to_wire());
        out.insert("startDate".into(), epoch(rec.start_date));
        if let Some(t) = rec.stop_date() {
            out.insert("stopDate".into(), epoch(t));
        }
        if !metadata_only {
            out.insert("input".into(), json!(rec.input.to_string()));
            out.insert("inputDetails".into(), json!({"included": true}));
        }
        match result {
            Some(ExecutionResult::Succeeded { output }) if !metadata_only => {
                out.insert("output".into(), json!(output.to_string()));
                out.insert("outputDetails".into(), json!({"included": true}));
            }
            Some(ExecutionResult::Failed { error, cause }) => {
                out.insert("error".into(), json!(error));
                out.insert("cause".into(), json!(cause));
            }
            Some(ExecutionResult::Aborted) => {
                let reason = rec.stop_reason().unwrap_or_default();
                if let Some(e) = reason.error {
                    out.insert("error".into(), json!(e));
                }
                if let Some(c) = reason.cause {
                    out.insert("cause".into(), json!(c));
                }
            }
            _ => {}
        }
        Ok(Value::Object(out))
    }

    /// Newest first; `nextToken` is the start position the next page begins below.
    pub(super) fn op_list_executions(&self, b: &Body) -> Result<Value, ApiError> {
        if b.string("mapRunArn", Len(1, 2000))?.is_some() {
            return Err(ApiError::Validation {
                member: "mapRunArn",
                problem: "is not supported (Map Runs are not run here)",
            });
        }
        let machine_arn = b.required("stateMachineArn", ARN)?;
        let filter = b
            .string("statusFilter", Len(1, 64))?
            .map(|s| {
                ExecutionStatus::parse(s).ok_or(ApiError::Validation {
                    member: "statusFilter",
                    problem: "is not an ExecutionStatus",
                })
            })
            .transpose()?;
        let page = b.page_size(100)?;
        let below = b.next_token(LIST_TOKEN)?;
        wire::check_machine_arn(machine_arn, "stateMachineArn")?;
        self.machine(machine_arn)?;
        let executions = lock(&self.inner.executions);
        let mut items = executions
            .order
            .iter()
            .rev()
            .filter(|r| r.machine.arn == machine_arn)
            .filter(|r| below.is_none_or(|s| r.seq < s))
            .filter(|r| filter.is_none_or(|f| r.status() == f));
        let listed: Vec<_> = items.by_ref().take(page).collect();
        let mut out =
            json!({"executions": listed.iter().map(|r| r.list_item()).collect::<Vec<_>>()});
        if let (Some(last), Some(_), Some(o)) = (listed.last(), items.next(), out.as_object_mut()) {
            o.insert("nextToken".into(), page_token(last.seq));
        }
        Ok(out)
    }

    /// Aborts a running execution (a finished one keeps its end) and answers its stop date.
    pub(super) async fn op_stop_execution(&self, b: &Body) -> Result<Value, ApiError> {
        let arn = b.required("executionArn", ARN)?;
        let error = b.string("error", ERROR)?;
        let cause = b.string("cause", CAUSE)?;
        let rec = self.execution(arn)?;
        if rec.execution.try_result().is_none() {
            *lock(&rec.stop) = Some(StopReason {
                error: error.map(str::to_string),
                cause: cause.map(str::to_string),
            });
            rec.execution.stop();
            rec.execution.result().await;
        }
        let stop_date = rec.stop_date().unwrap_or_else(|| {
            rec.execution
                .history()
                .last()
                .map_or(rec.start_date, |e| e.timestamp)
        });
        Ok(json!({"stopDate": epoch(stop_date)}))
    }
}

/// `includedData`: whether only metadata is asked for (`METADATA_ONLY`).
pub(super) fn included_data(b: &Body) -> Result<bool, ApiError> {
    match b.string("includedData", Len(0, 64))? {
        None | Some("ALL_DATA") => Ok(false),
        Some("METADATA_ONLY") => Ok(true),
        Some(_) => Err(ApiError::Validation {
            member: "includedData",
            problem: "must be ALL_DATA or METADATA_ONLY",
        }),
    }
}
