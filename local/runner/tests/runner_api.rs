//! The Step Functions service API in front of the runner: every operation's answer through
//! `handle` (JSON in, JSON out, exact shapes), callbacks answered over the wire, the
//! model's error names, garbage that never panics, and the Rust SDK reading the answers.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::sync::Arc;
use stepfunctions_runner::api::{
    ClockFactory, ExecutionStatus, MachineSpec, MachineType, StepFunctionsApi,
};
use stepfunctions_runner::{ExecutionClock, FnInvoker, RunnerConfig, StateMachine};
use tokio::sync::mpsc;

const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";
/// 2026-01-01T00:00:00Z, where every execution's clock starts.
const T0: f64 = 1_767_225_600.0;
const ONBOARD: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:Onboard";
const SWEEP: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:Sweep";
const VALIDATE: &str = "arn:aws:lambda:us-east-1:123456789012:function:validate";

fn t0() -> DateTime<Utc> {
    "2026-01-01T00:00:00Z".parse().expect("timestamp")
}

fn onboard_def() -> Value {
    json!({"StartAt": "Prepare", "States": {
        "Prepare": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": "$.prepared", "Next": "Validate"},
        "Validate": {"Type": "Task", "Resource": VALIDATE, "ResultPath": "$.validated", "Next": "AskCustomer"},
        "AskCustomer": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token", "tenant.$": "$.tenant"}},
            "HeartbeatSeconds": 3600, "ResultPath": "$.answer", "Next": "Pause"},
        "Pause": {"Type": "Wait", "Seconds": 10, "Next": "Done"},
        "Done": {"Type": "Succeed"}}})
}

fn sweep_def() -> Value {
    json!({"StartAt": "Wait", "States": {
        "Wait": {"Type": "Wait", "Seconds": 10, "Next": "Done"},
        "Done": {"Type": "Pass", "End": true}}})
}

/// The API with two machines: `Onboard` (a Lambda task, then a `.waitForTaskToken` pause
/// whose tokens arrive on the receiver, then a 10-second Wait) and `Sweep` (a 10-second
/// Wait). Every execution's clock starts at [`t0`].
fn fixture() -> (StepFunctionsApi, mpsc::UnboundedReceiver<String>) {
    let clocks: ClockFactory = Arc::new(|| Arc::new(ExecutionClock::new(t0())));
    let api = StepFunctionsApi::new(REGION, ACCOUNT, clocks);
    let (tx, rx) = mpsc::unbounded_channel();
    let invoker = FnInvoker::new()
        .handler("validate", |_| async { Ok(json!({"valid": true})) })
        .handler("notify", move |req| {
            let tx = tx.clone();
            async move {
                if let Some(t) = req.task_token {
                    let _ = tx.send(t);
                }
                Ok(json!({"sent": true}))
            }
        });
    let machine = |def: Value| StateMachine::from_definition(&def).expect("definition loads");
    let onboard = api.add_state_machine(MachineSpec {
        name: "Onboard".into(),
        machine: machine(onboard_def()),
        invoker: Arc::new(invoker),
        machine_type: MachineType::Standard,
        config: RunnerConfig::default(),
    });
    let sweep = api.add_state_machine(MachineSpec {
        name: "Sweep".into(),
        machine: machine(sweep_def()),
        invoker: Arc::new(FnInvoker::new()),
        machine_type: MachineType::Standard,
        config: RunnerConfig::default(),
    });
    assert_eq!((onboard.as_str(), sweep.as_str()), (ONBOARD, SWEEP));
    (api, rx)
}

/// One request through `handle`: the status and the JSON answer.
async fn call(api: &StepFunctionsApi, op: &str, body: Value) -> (u16, Value) {
    call_raw(api, op, body.to_string().as_bytes()).await
}

async fn call_raw(api: &StepFunctionsApi, op: &str, body: &[u8]) -> (u16, Value) {
    let r = api.handle(op, body).await;
    assert_eq!(r.content_type, "application/x-amz-json-1.0");
    let v = serde_json::from_str(&r.body).expect("every answer is JSON");
    (r.status, v)
}

/// Asserts an error answer: status 400 and the `__type`; returns the message.
async fn error(api: &StepFunctionsApi, op: &str, body: Value, name: &str) -> String {
    let (status, v) = call(api, op, body).await;
    assert_eq!(
        (status, v["__type"].as_str()),
        (400, Some(name)),
        "{op}: {v}"
    );
    v["message"].as_str().expect("a message").to_string()
}

fn exec_arn(machine: &str, name: &str) -> String {
    format!("arn:aws:states:{REGION}:{ACCOUNT}:execution:{machine}:{name}")
}

/// Starts an Onboard execution for tenant `t1` and returns its token.
async fn start_paused(
    api: &StepFunctionsApi,
    tokens: &mut mpsc::UnboundedReceiver<String>,
    name: &str,
) -> String {
    let body = json!({"stateMachineArn": ONBOARD, "name": name, "input": "{\"tenant\": \"t1\"}"});
    let (status, v) = call(api, "AWSStepFunctions.StartExecution", body).await;
    assert_eq!(
        (status, v),
        (
            200,
            json!({"executionArn": exec_arn("Onboard", name), "startDate": T0})
        )
    );
    tokens.recv().await.expect("the pause hands out a token")
}

#[tokio::test]
async fn state_machines_are_listed_and_described() {
    let (api, _tokens) = fixture();
    let (status, v) = call(&api, "ListStateMachines", json!({})).await;
    assert_eq!(status, 200);
    let created = v["stateMachines"][0]["creationDate"].clone();
    assert!(created.is_f64(), "epoch seconds with a fraction: {created}");
    assert_eq!(
        v,
        json!({"stateMachines": [
            {"stateMachineArn": ONBOARD, "name": "Onboard", "type": "STANDARD", "creationDate": created},
            {"stateMachineArn": SWEEP, "name": "Sweep", "type": "STANDARD", "creationDate": v["stateMachines"][1]["creationDate"]},
        ]})
    );
    let (_, page) = call(&api, "ListStateMachines", json!({"maxResults": 1})).await;
    assert_eq!(page["stateMachines"].as_array().map(Vec::len), Some(1));
    let token = page["nextToken"].clone();
    let (_, rest) = call(&api, "ListStateMachines", json!({"nextToken": token})).await;
    assert_eq!(rest["stateMachines"][0]["name"], json!("Sweep"));
    assert_eq!(rest.get("nextToken"), None);

    let (status, v) = call(
        &api,
        "DescribeStateMachine",
        json!({"stateMachineArn": SWEEP}),
    )
    .await;
    assert_eq!(status, 200);
    let definition: Value =
        serde_json::from_str(v["definition"].as_str().expect("a string")).expect("JSON");
    assert_eq!(definition, sweep_def());
    assert_eq!(
        v,
        json!({"stateMachineArn": SWEEP, "name": "Sweep", "status": "ACTIVE",
               "definition": v["definition"], "roleArn": "arn:aws:iam::123456789012:role/local-runner",
               "type": "STANDARD", "creationDate": v["creationDate"]})
    );
}

#[tokio::test]
async fn executions_are_described_and_listed_newest_first() {
    let (api, _tokens) = fixture();
    for name in ["first", "second"] {
        let (status, _) = call(
            &api,
            "StartExecution",
            json!({"stateMachineArn": SWEEP, "name": name, "input": "{\"b\": 2, \"a\": 1}"}),
        )
        .await;
        assert_eq!(status, 200);
    }
    let (_, v) = call(&api, "StartExecution", json!({"stateMachineArn": SWEEP})).await;
    let arn = v["executionArn"].as_str().expect("an ARN").to_string();
    let generated = arn.rsplit(':').next().unwrap_or_default().to_string();
    assert_eq!(generated.len(), 36, "a UUID names it");
    for a in [
        exec_arn("Sweep", "first"),
        exec_arn("Sweep", "second"),
        arn.clone(),
    ] {
        assert_eq!(api.wait(&a).await, Ok(ExecutionStatus::Succeeded));
    }
    let first = exec_arn("Sweep", "first");
    let (status, v) = call(&api, "DescribeExecution", json!({"executionArn": first})).await;
    assert_eq!(status, 200);
    assert_eq!(
        documents_parsed(v),
        documents_parsed(
            json!({"executionArn": first, "stateMachineArn": SWEEP, "name": "first",
               "status": "SUCCEEDED", "startDate": T0, "stopDate": T0 + 10.0,
               "input": "{\"a\":1,\"b\":2}", "inputDetails": {"included": true},
               "output": "{\"a\":1,\"b\":2}", "outputDetails": {"included": true}})
        )
    );
    let (_, v) = call(
        &api,
        "DescribeExecution",
        json!({"executionArn": first, "includedData": "METADATA_ONLY"}),
    )
    .await;
    assert_eq!((v.get("input"), v.get("output")), (None, None));

    let item = |name: &str| {
        json!({"executionArn": exec_arn("Sweep", name), "stateMachineArn": SWEEP, "name": name,
               "status": "SUCCEEDED", "startDate": T0, "stopDate": T0 + 10.0})
    };
    let (status, v) = call(&api, "ListExecutions", json!({"stateMachineArn": SWEEP})).await;
    assert_eq!(status, 200);
    assert_eq!(
        v,
        json!({"executions": [item(&generated), item("second"), item("first")]})
    );
    let (_, page) = call(
        &api,
        "ListExecutions",
        json!({"stateMachineArn": SWEEP, "maxResults": 2}),
    )
    .await;
    assert_eq!(
        page["executions"],
        json!([item(&generated), item("second")])
    );
    let (_, rest) = call(
        &api,
        "ListExecutions",
        json!({"stateMachineArn": SWEEP, "maxResults": 2, "nextToken": page["nextToken"]}),
    )
    .await;
    assert_eq!(rest, json!({"executions": [item("first")]}));
    let (_, running) = call(
        &api,
        "ListExecutions",
        json!({"stateMachineArn": SWEEP, "statusFilter": "RUNNING"}),
    )
    .await;
    assert_eq!(running, json!({"executions": []}));
    let (_, onboard) = call(&api, "ListExecutions", json!({"stateMachineArn": ONBOARD})).await;
    assert_eq!(onboard, json!({"executions": []}));
}

#[tokio::test]
async fn a_pause_is_answered_with_send_task_success() {
    let (api, mut tokens) = fixture();
    let token = start_paused(&api, &mut tokens, "onboard-t1").await;
    let arn = exec_arn("Onboard", "onboard-t1");
    let (_, v) = call(&api, "DescribeExecution", json!({"executionArn": arn})).await;
    assert_eq!(
        v,
        json!({"executionArn": arn, "stateMachineArn": ONBOARD, "name": "onboard-t1",
               "status": "RUNNING", "startDate": T0,
               "input": "{\"tenant\":\"t1\"}", "inputDetails": {"included": true}})
    );
    assert_eq!(api.running(), vec![arn.clone()]);
    let heartbeat = call(&api, "SendTaskHeartbeat", json!({"taskToken": token})).await;
    assert_eq!(heartbeat, (200, json!({})));
    let answer = json!({"taskToken": token, "output": "{\"cidr\": \"10.0.0.0/16\"}"});
    assert_eq!(
        call(&api, "SendTaskSuccess", answer.clone()).await,
        (200, json!({}))
    );
    assert_eq!(api.wait(&arn).await, Ok(ExecutionStatus::Succeeded));
    let (_, v) = call(&api, "DescribeExecution", json!({"executionArn": arn})).await;
    let output: Value = serde_json::from_str(v["output"].as_str().expect("output")).expect("JSON");
    assert_eq!(
        output,
        json!({"tenant": "t1", "prepared": {"ok": true}, "validated": {"valid": true},
               "answer": {"cidr": "10.0.0.0/16"}})
    );
    assert_eq!(
        (&v["status"], &v["stopDate"]),
        (&json!("SUCCEEDED"), &json!(T0 + 10.0))
    );
    assert!(api.running().is_empty());
    error(&api, "SendTaskSuccess", answer, "TaskTimedOut").await;
    error(
        &api,
        "SendTaskHeartbeat",
        json!({"taskToken": token}),
        "TaskTimedOut",
    )
    .await;
}

#[tokio::test]
async fn send_task_failure_fails_the_execution() {
    let (api, mut tokens) = fixture();
    let token = start_paused(&api, &mut tokens, "refused").await;
    let failure =
        json!({"taskToken": token, "error": "Customer.Refused", "cause": "no CIDR offered"});
    assert_eq!(
        call(&api, "SendTaskFailure", failure).await,
        (200, json!({}))
    );
    let arn = exec_arn("Onboard", "refused");
    assert_eq!(api.wait(&arn).await, Ok(ExecutionStatus::Failed));
    let (_, v) = call(&api, "DescribeExecution", json!({"executionArn": arn})).await;
    assert_eq!(
        v,
        json!({"executionArn": arn, "stateMachineArn": ONBOARD, "name": "refused",
               "status": "FAILED", "startDate": T0, "stopDate": T0,
               "input": "{\"tenant\":\"t1\"}", "inputDetails": {"included": true},
               "error": "Customer.Refused", "cause": "no CIDR offered"})
    );
}

#[tokio::test]
async fn stop_execution_aborts_and_closes_the_pause() {
    let (api, mut tokens) = fixture();
    let token = start_paused(&api, &mut tokens, "stopped").await;
    let arn = exec_arn("Onboard", "stopped");
    let stop = json!({"executionArn": arn, "error": "Partner.Cancelled", "cause": "tenant left"});
    assert_eq!(
        call(&api, "StopExecution", stop.clone()).await,
        (200, json!({"stopDate": T0}))
    );
    let (_, v) = call(&api, "DescribeExecution", json!({"executionArn": arn})).await;
    assert_eq!(
        (&v["status"], &v["error"], &v["cause"], &v["stopDate"]),
        (
            &json!("ABORTED"),
            &json!("Partner.Cancelled"),
            &json!("tenant left"),
            &json!(T0)
        )
    );
    let (_, h) = call(
        &api,
        "GetExecutionHistory",
        json!({"executionArn": arn, "reverseOrder": true, "maxResults": 1}),
    )
    .await;
    assert_eq!(
        h["events"][0]["executionAbortedEventDetails"],
        json!({"error": "Partner.Cancelled", "cause": "tenant left"})
    );
    assert_eq!(h["events"][0]["type"], json!("ExecutionAborted"));
    // Stopping again keeps the end; the pause is closed.
    assert_eq!(
        call(&api, "StopExecution", stop).await,
        (200, json!({"stopDate": T0}))
    );
    error(
        &api,
        "SendTaskSuccess",
        json!({"taskToken": token, "output": "{}"}),
        "TaskTimedOut",
    )
    .await;
}

#[tokio::test]
async fn start_execution_is_idempotent_while_running() {
    let (api, mut tokens) = fixture();
    start_paused(&api, &mut tokens, "once").await;
    // The same name and input as the running execution: the same answer.
    let same = json!({"stateMachineArn": ONBOARD, "name": "once", "input": "{\"tenant\":\"t1\"}"});
    assert_eq!(
        call(&api, "StartExecution", same.clone()).await,
        (
            200,
            json!({"executionArn": exec_arn("Onboard", "once"), "startDate": T0})
        )
    );
    let other = json!({"stateMachineArn": ONBOARD, "name": "once", "input": "{\"tenant\":\"t2\"}"});
    error(&api, "StartExecution", other, "ExecutionAlreadyExists").await;
    assert_eq!(api.running().len(), 1, "no second execution");
    call(
        &api,
        "StopExecution",
        json!({"executionArn": exec_arn("Onboard", "once")}),
    )
    .await;
    error(&api, "StartExecution", same, "ExecutionAlreadyExists").await;
}

/// (id, previousEventId, type, seconds after T0) of every event of a finished Onboard run.
const ONBOARD_EVENTS: [(u64, u64, &str, f64); 17] = [
    (1, 0, "ExecutionStarted", 0.0),
    (2, 1, "PassStateEntered", 0.0),
    (3, 2, "PassStateExited", 0.0),
    (4, 3, "TaskStateEntered", 0.0),
    (5, 4, "LambdaFunctionScheduled", 0.0),
    (6, 5, "LambdaFunctionSucceeded", 0.0),
    (7, 6, "TaskStateExited", 0.0),
    (8, 7, "TaskStateEntered", 0.0),
    (9, 8, "TaskScheduled", 0.0),
    (10, 9, "TaskStarted", 0.0),
    (11, 10, "TaskSucceeded", 0.0),
    (12, 11, "TaskStateExited", 0.0),
    (13, 12, "WaitStateEntered", 0.0),
    (14, 13, "WaitStateExited", 10.0),
    (15, 14, "SucceedStateEntered", 10.0),
    (16, 15, "SucceedStateExited", 10.0),
    (17, 16, "ExecutionSucceeded", 10.0),
];

#[tokio::test]
async fn history_events_are_the_models_in_order() {
    let (api, mut tokens) = fixture();
    let token = start_paused(&api, &mut tokens, "history").await;
    call(&api, "SendTaskHeartbeat", json!({"taskToken": token})).await;
    let answer = json!({"taskToken": token, "output": "{\"cidr\":\"10.0.0.0/16\"}"});
    call(&api, "SendTaskSuccess", answer).await;
    let arn = exec_arn("Onboard", "history");
    api.wait(&arn).await.expect("it ends");
    let (status, h) = call(&api, "GetExecutionHistory", json!({"executionArn": arn})).await;
    assert_eq!((status, h.get("nextToken")), (200, None));
    let events = h["events"].as_array().expect("events");
    let seen: Vec<(u64, u64, &str, f64)> = events
        .iter()
        .map(|e| {
            (
                e["id"].as_u64().unwrap_or_default(),
                e["previousEventId"].as_u64().unwrap_or_default(),
                e["type"].as_str().unwrap_or_default(),
                e["timestamp"].as_f64().unwrap_or_default() - T0,
            )
        })
        .collect();
    assert_eq!(
        seen,
        ONBOARD_EVENTS.to_vec(),
        "the heartbeat is not an event"
    );
    let details = |i: usize, member: &str| events[i][member].clone();
    assert_eq!(
        details(0, "executionStartedEventDetails"),
        json!({"input": "{\"tenant\":\"t1\"}", "inputDetails": {"truncated": false},
               "roleArn": "arn:aws:iam::123456789012:role/local-runner"})
    );
    assert_eq!(
        details(1, "stateEnteredEventDetails"),
        json!({"name": "Prepare", "input": "{\"tenant\":\"t1\"}", "inputDetails": {"truncated": false}})
    );
    assert_eq!(
        documents_parsed(details(4, "lambdaFunctionScheduledEventDetails")),
        documents_parsed(
            json!({"resource": VALIDATE, "input": "{\"prepared\":{\"ok\":true},\"tenant\":\"t1\"}",
               "inputDetails": {"truncated": false}})
        )
    );
    assert_eq!(
        details(5, "lambdaFunctionSucceededEventDetails"),
        json!({"output": "{\"valid\":true}", "outputDetails": {"truncated": false}})
    );
    let parameters = json!({"FunctionName": "notify", "Payload": {"tenant": "t1", "token": token}});
    assert_eq!(
        documents_parsed(details(8, "taskScheduledEventDetails")),
        json!({"resourceType": "lambda", "resource": "invoke.waitForTaskToken", "region": REGION,
               "parameters": parameters})
    );
    assert_eq!(
        details(9, "taskStartedEventDetails"),
        json!({"resourceType": "lambda", "resource": "invoke.waitForTaskToken"})
    );
    assert_eq!(
        details(10, "taskSucceededEventDetails"),
        json!({"resourceType": "lambda", "resource": "invoke.waitForTaskToken",
               "output": "{\"cidr\":\"10.0.0.0/16\"}", "outputDetails": {"truncated": false}})
    );
    assert_eq!(
        details(15, "stateExitedEventDetails")["name"],
        json!("Done")
    );
    assert_eq!(
        details(16, "executionSucceededEventDetails")["outputDetails"],
        json!({"truncated": false})
    );
    for e in events {
        let members = e.as_object().map(|o| o.len());
        assert_eq!(
            members,
            Some(5),
            "timestamp, type, id, previousEventId, details: {e}"
        );
    }

    // Newest first, three at a time, without execution data.
    let mut ids = Vec::new();
    let mut next = Value::Null;
    loop {
        let body = json!({"executionArn": arn, "reverseOrder": true, "maxResults": 3,
                          "includeExecutionData": false, "nextToken": next});
        let (_, page) = call(&api, "GetExecutionHistory", body).await;
        for e in page["events"].as_array().expect("events") {
            ids.push(e["id"].as_u64().unwrap_or_default());
            let details = e
                .as_object()
                .and_then(|o| o.iter().find(|(k, _)| k.ends_with("EventDetails")))
                .and_then(|(_, d)| d.as_object())
                .expect("details");
            for k in ["input", "inputDetails", "output", "outputDetails"] {
                assert!(!details.contains_key(k), "{e}");
            }
        }
        next = page["nextToken"].clone();
        if next.is_null() {
            break;
        }
    }
    assert_eq!(ids, (1..=17).rev().collect::<Vec<u64>>());
}

#[tokio::test]
async fn every_error_by_its_model_name() {
    let (api, mut tokens) = fixture();
    let secret = "s3cr3t-value";
    let cases = [
        ("StartExecution", json!({}), "ValidationException"),
        (
            "StartExecution",
            json!({"stateMachineArn": 7}),
            "ValidationException",
        ),
        (
            "StartExecution",
            json!({"stateMachineArn": format!("x{}", "a".repeat(300))}),
            "ValidationException",
        ),
        (
            "ListExecutions",
            json!({"stateMachineArn": SWEEP, "maxResults": 5000}),
            "ValidationException",
        ),
        (
            "ListExecutions",
            json!({"stateMachineArn": SWEEP, "statusFilter": secret}),
            "ValidationException",
        ),
        (
            "GetExecutionHistory",
            json!({"executionArn": exec_arn("Sweep", "x"), "reverseOrder": secret}),
            "ValidationException",
        ),
        (
            "SendTaskSuccess",
            json!({"taskToken": "0".repeat(64)}),
            "ValidationException",
        ),
        (
            "StartExecution",
            json!({"stateMachineArn": secret}),
            "InvalidArn",
        ),
        (
            "DescribeStateMachine",
            json!({"stateMachineArn": "arn:aws:states:us-east-1:123456789012:execution:Sweep:x"}),
            "InvalidArn",
        ),
        (
            "DescribeExecution",
            json!({"executionArn": SWEEP}),
            "InvalidArn",
        ),
        (
            "StartExecution",
            json!({"stateMachineArn": SWEEP, "name": "a".repeat(81)}),
            "InvalidName",
        ),
        (
            "StartExecution",
            json!({"stateMachineArn": SWEEP, "name": "has space"}),
            "InvalidName",
        ),
        (
            "StartExecution",
            json!({"stateMachineArn": SWEEP, "name": "a/b"}),
            "InvalidName",
        ),
        (
            "StartExecution",
            json!({"stateMachineArn": SWEEP, "name": ""}),
            "InvalidName",
        ),
        (
            "StartExecution",
            json!({"stateMachineArn": SWEEP, "input": format!("{{{secret}")}),
            "InvalidExecutionInput",
        ),
        (
            "SendTaskSuccess",
            json!({"taskToken": "0".repeat(64), "output": secret}),
            "InvalidOutput",
        ),
        (
            "SendTaskSuccess",
            json!({"taskToken": secret, "output": "{}"}),
            "InvalidToken",
        ),
        (
            "SendTaskHeartbeat",
            json!({"taskToken": secret}),
            "InvalidToken",
        ),
        (
            "ListExecutions",
            json!({"stateMachineArn": SWEEP, "nextToken": secret}),
            "InvalidToken",
        ),
        (
            "SendTaskFailure",
            json!({"taskToken": "0".repeat(64)}),
            "TaskDoesNotExist",
        ),
        (
            "SendTaskHeartbeat",
            json!({"taskToken": "ab".repeat(32)}),
            "TaskDoesNotExist",
        ),
        (
            "StartExecution",
            json!({"stateMachineArn": format!("{SWEEP}x")}),
            "StateMachineDoesNotExist",
        ),
        (
            "DescribeStateMachine",
            json!({"stateMachineArn": format!("{SWEEP}x")}),
            "StateMachineDoesNotExist",
        ),
        (
            "ListExecutions",
            json!({"stateMachineArn": format!("{SWEEP}x")}),
            "StateMachineDoesNotExist",
        ),
        (
            "DescribeExecution",
            json!({"executionArn": exec_arn("Sweep", secret)}),
            "ExecutionDoesNotExist",
        ),
        (
            "StopExecution",
            json!({"executionArn": exec_arn("Sweep", secret)}),
            "ExecutionDoesNotExist",
        ),
        (
            "GetExecutionHistory",
            json!({"executionArn": exec_arn("Sweep", secret)}),
            "ExecutionDoesNotExist",
        ),
        (
            "CreateStateMachine",
            json!({"name": secret}),
            "UnknownOperationException",
        ),
        (
            "AWSStepFunctions.DeleteStateMachine",
            json!({}),
            "UnknownOperationException",
        ),
    ];
    for (op, body, name) in cases {
        let message = error(&api, op, body, name).await;
        assert!(
            !message.contains(secret),
            "{op}: the message quotes the input"
        );
    }
    let missing = error(&api, "DescribeExecution", json!({}), "ValidationException").await;
    assert_eq!(
        missing,
        "1 validation error detected: member `executionArn` is required"
    );
    start_paused(&api, &mut tokens, "dup").await;
    let dup = json!({"stateMachineArn": ONBOARD, "name": "dup", "input": "{}"});
    error(&api, "StartExecution", dup, "ExecutionAlreadyExists").await;
}

#[tokio::test]
async fn garbage_bodies_answer_errors_and_never_panic() {
    let (api, _tokens) = fixture();
    let bodies: [&[u8]; 10] = [
        b"",
        b"null",
        b"[]",
        b"\"text\"",
        b"{",
        b"\xff\xfe\x00",
        b"{\"executionArn\": {\"nested\": [1, 2]}, \"stateMachineArn\": [], \"taskToken\": 1}",
        b"{\"maxResults\": -1, \"nextToken\": 5, \"reverseOrder\": \"yes\"}",
        b"{\"stateMachineArn\": null, \"executionArn\": null}",
        &[b'['; 10_000],
    ];
    let ops = [
        "StartExecution",
        "DescribeExecution",
        "ListExecutions",
        "GetExecutionHistory",
        "StopExecution",
        "SendTaskSuccess",
        "SendTaskFailure",
        "SendTaskHeartbeat",
        "ListStateMachines",
        "DescribeStateMachine",
        "",
        "AWSStepFunctions.",
    ];
    for op in ops {
        for body in bodies {
            let (status, v) = call_raw(&api, op, body).await;
            if status == 200 {
                // Only ListStateMachines reads nothing it could refuse.
                assert_eq!(op, "ListStateMachines", "{v}");
            } else {
                assert_eq!(status, 400);
                assert!(v["__type"].is_string() && v["message"].is_string(), "{v}");
            }
        }
    }
}

#[tokio::test]
async fn the_rust_api_starts_waits_and_lists_running() {
    let (api, mut tokens) = fixture();
    let started = api
        .start_execution(SWEEP, Some("sweep-1"), json!({"day": 1}))
        .expect("starts");
    assert_eq!(started.execution_arn, exec_arn("Sweep", "sweep-1"));
    assert_eq!(started.start_date, t0());
    assert_eq!(
        api.wait(&started.execution_arn).await,
        Ok(ExecutionStatus::Succeeded)
    );
    let paused = api
        .start_execution(ONBOARD, None, json!({"tenant": "t9"}))
        .expect("starts");
    tokens.recv().await.expect("a token");
    assert_eq!(api.running(), vec![paused.execution_arn.clone()]);
    assert_eq!(
        api.start_execution(SWEEP, Some("bad name"), json!({}))
            .map_err(|e| e.error_type()),
        Err("InvalidName")
    );
    assert_eq!(
        api.start_execution("nope", None, json!({}))
            .map_err(|e| e.error_type()),
        Err("InvalidArn")
    );
    assert_eq!(
        api.wait(&exec_arn("Sweep", "never")).await,
        Err(stepfunctions_runner::api::ApiError::ExecutionDoesNotExist)
    );
}

#[tokio::test]
async fn express_executions_are_not_idempotent_by_name() {
    let (api, _tokens) = fixture();
    let arn = api.add_state_machine(MachineSpec {
        name: "Quick".into(),
        machine: StateMachine::from_definition(&sweep_def()).expect("loads"),
        invoker: Arc::new(FnInvoker::new()),
        machine_type: MachineType::Express,
        config: RunnerConfig::default(),
    });
    let body = json!({"stateMachineArn": arn, "name": "same", "input": "{}"});
    let (_, a) = call(&api, "StartExecution", body.clone()).await;
    let (_, b) = call(&api, "StartExecution", body).await;
    let prefix = format!("arn:aws:states:{REGION}:{ACCOUNT}:express:Quick:same:");
    for v in [&a, &b] {
        let e = v["executionArn"].as_str().unwrap_or_default();
        assert_eq!(
            (e.starts_with(&prefix), e.len()),
            (true, prefix.len() + 36),
            "{e}"
        );
        assert_eq!(api.wait(e).await, Ok(ExecutionStatus::Succeeded));
    }
    assert_ne!(a["executionArn"], b["executionArn"]);
    let (_, d) = call(
        &api,
        "DescribeStateMachine",
        json!({"stateMachineArn": arn}),
    )
    .await;
    assert_eq!(d["type"], json!("EXPRESS"));
    let (_, listed) = call(&api, "ListExecutions", json!({"stateMachineArn": arn})).await;
    assert_eq!(listed["executions"].as_array().map(Vec::len), Some(2));
}

/// Serves `handle` over HTTP as the host's front door would, on a free loopback port.
async fn serve(api: StepFunctionsApi) -> String {
    use axum::http::{HeaderMap, StatusCode, header};
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: axum::body::Bytes| {
        let api = api.clone();
        async move {
            let target = headers
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let r = api.handle(&target, &body).await;
            (
                StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                [(header::CONTENT_TYPE, r.content_type)],
                r.body,
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn sdk_client(endpoint: &str) -> aws_sdk_sfn::Client {
    let config = aws_sdk_sfn::Config::builder()
        .behavior_version(aws_sdk_sfn::config::BehaviorVersion::latest())
        .region(aws_sdk_sfn::config::Region::new(REGION))
        .credentials_provider(aws_sdk_sfn::config::Credentials::new(
            "AKIDLOCAL",
            "local",
            None,
            None,
            "test",
        ))
        .endpoint_url(endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_sfn::Client::from_conf(config)
}

#[tokio::test]
async fn the_rust_sdk_reads_every_answer() {
    use aws_sdk_sfn::types::{ExecutionStatus as Status, HistoryEventType, StateMachineType};
    let (api, mut tokens) = fixture();
    let sfn = sdk_client(&serve(api).await);
    let machines = sfn.list_state_machines().send().await.expect("lists");
    let m = &machines.state_machines()[0];
    assert_eq!(
        (m.name(), m.r#type()),
        ("Onboard", &StateMachineType::Standard)
    );
    let d = sfn
        .describe_state_machine()
        .state_machine_arn(ONBOARD)
        .send()
        .await
        .expect("describes");
    let definition: Value = serde_json::from_str(d.definition()).expect("JSON");
    assert_eq!(definition, onboard_def());
    let started = sfn
        .start_execution()
        .state_machine_arn(ONBOARD)
        .name("sdk")
        .input("{\"tenant\":\"t1\"}")
        .send()
        .await
        .expect("starts");
    assert_eq!(started.execution_arn(), exec_arn("Onboard", "sdk"));
    assert_eq!(started.start_date().secs(), T0 as i64);
    let token = tokens.recv().await.expect("a token");
    sfn.send_task_heartbeat()
        .task_token(&token)
        .send()
        .await
        .expect("beats");
    sfn.send_task_success()
        .task_token(&token)
        .output("{\"cidr\":\"10.0.0.0/16\"}")
        .send()
        .await
        .expect("answers");
    let arn = started.execution_arn();
    let status = loop {
        let d = sfn
            .describe_execution()
            .execution_arn(arn)
            .send()
            .await
            .expect("describes");
        if d.status() != &Status::Running {
            break d;
        }
        tokio::task::yield_now().await;
    };
    assert_eq!(status.status(), &Status::Succeeded);
    assert_eq!(status.stop_date().map(|t| t.secs()), Some(T0 as i64 + 10));
    let history = sfn
        .get_execution_history()
        .execution_arn(arn)
        .send()
        .await
        .expect("a history");
    let types: Vec<&HistoryEventType> = history.events().iter().map(|e| e.r#type()).collect();
    assert_eq!(types.len(), ONBOARD_EVENTS.len());
    assert_eq!(types[4], &HistoryEventType::LambdaFunctionScheduled);
    let scheduled = history.events()[8]
        .task_scheduled_event_details()
        .expect("details");
    assert_eq!(scheduled.resource(), "invoke.waitForTaskToken");
    let listed = sfn
        .list_executions()
        .state_machine_arn(ONBOARD)
        .status_filter(Status::Succeeded)
        .send()
        .await
        .expect("lists");
    assert_eq!(listed.executions().len(), 1);
    let stopped = sfn
        .stop_execution()
        .execution_arn(arn)
        .send()
        .await
        .expect("stops");
    assert_eq!(stopped.stop_date().secs(), T0 as i64 + 10);
    let missing = sfn
        .describe_execution()
        .execution_arn(exec_arn("Onboard", "missing"))
        .send()
        .await
        .expect_err("no such execution");
    assert!(
        missing
            .as_service_error()
            .is_some_and(|e| e.is_execution_does_not_exist())
    );
    let refused = sfn
        .send_task_success()
        .task_token(&token)
        .output("{}")
        .send()
        .await
        .expect_err("answered already");
    assert!(
        refused
            .as_service_error()
            .is_some_and(|e| e.is_task_timed_out())
    );
}

/// `v` with its `input` / `output` / `parameters` members (JSON documents as strings, as the API sends
/// them) parsed: the members' key order is serde_json's (sorted, or insertion order when
/// another crate of the build turns `preserve_order` on), so documents compare as values.
fn documents_parsed(mut v: Value) -> Value {
    if let Some(object) = v.as_object_mut() {
        for key in ["input", "output", "parameters"] {
            if let Some(Value::String(text)) = object.get(key)
                && let Ok(parsed) = serde_json::from_str::<Value>(text)
            {
                object.insert(key.to_owned(), parsed);
            }
        }
    }
    v
}
