//! ListStateMachines and DescribeStateMachine: the machines the host registered, by name.

use serde_json::{Map, Value, json};

use super::executions::included_data;
use super::store::{MachineEntry, lock};
use super::wire::{self, ARN, Body, PAGE_TOKEN, epoch, page_token};
use super::{ApiError, StepFunctionsApi};

fn list_item(m: &MachineEntry) -> Value {
    json!({
        "stateMachineArn": m.arn,
        "name": m.name,
        "type": m.type_wire(),
        "creationDate": epoch(m.created),
    })
}

impl StepFunctionsApi {
    /// In ARN order (the name's, within one region and account); `nextToken` is an offset.
    pub(super) fn op_list_state_machines(&self, b: &Body) -> Result<Value, ApiError> {
        let page = b.page_size(100)?;
        let from = b.next_token(PAGE_TOKEN)?.unwrap_or(0);
        let machines = lock(&self.inner.machines);
        let from = usize::try_from(from).unwrap_or(usize::MAX);
        let listed: Vec<Value> = machines
            .values()
            .skip(from)
            .take(page)
            .map(|m| list_item(m))
            .collect();
        let mut out = Map::new();
        let next = from.saturating_add(listed.len());
        if next < machines.len() {
            out.insert("nextToken".into(), page_token(next as u64));
        }
        out.insert("stateMachines".into(), Value::Array(listed));
        Ok(Value::Object(out))
    }

    pub(super) fn op_describe_state_machine(&self, b: &Body) -> Result<Value, ApiError> {
        let arn = b.required("stateMachineArn", ARN)?;
        included_data(b)?;
        wire::check_machine_arn(arn, "stateMachineArn")?;
        let m = self.machine(arn)?;
        Ok(json!({
            "stateMachineArn": m.arn,
            "name": m.name,
            "status": "ACTIVE",
            "definition": m.machine.definition().to_string(),
            "roleArn": self.role_arn(),
            "type": m.type_wire(),
            "creationDate": epoch(m.created),
        }))
    }
}
