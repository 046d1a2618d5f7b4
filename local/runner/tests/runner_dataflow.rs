//! Data flow through states: the worked examples of the Step Functions
//! documentation for InputPath, Parameters, ResultSelector, ResultPath and
//! OutputPath, the context object, Pass/Succeed/Fail and lambda:invoke.

use serde_json::{Value, json};
use std::sync::Arc;
use stepfunctions_runner::{
    ExecutionClock, ExecutionResult, FnInvoker, HistoryEventType, Runner, StateMachine, TaskFailure,
};

fn t0() -> chrono::DateTime<chrono::Utc> {
    "2026-01-01T00:00:00Z".parse().expect("timestamp")
}

async fn run(
    def: Value,
    invoker: FnInvoker,
    input: Value,
) -> (ExecutionResult, Vec<stepfunctions_runner::HistoryEvent>) {
    let machine = StateMachine::from_definition(&def).expect("definition loads");
    let runner = Runner::new(
        machine,
        Arc::new(ExecutionClock::new(t0())),
        Arc::new(invoker),
    );
    let exec = runner.start("run-1", input);
    let result = exec.result().await;
    (result, exec.history())
}

fn output(r: ExecutionResult) -> Value {
    match r {
        ExecutionResult::Succeeded { output } => output,
        other => panic!("expected success, got {other:?}"),
    }
}

fn echo() -> FnInvoker {
    FnInvoker::new().handler("echo", |r| async move { Ok(r.input) })
}

#[tokio::test]
async fn parameters_select_from_input_as_in_the_docs() {
    let def = json!({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "echo", "End": true,
        "InputPath": "$.product",
        "Parameters": {"comment": "Selecting what I care about.", "MyDetails": {
            "size.$": "$.details.size", "exists.$": "$.availability", "StaticValue": "foo"}}
    }}});
    let input = json!({"comment": "Example for Parameters.", "product": {
        "details": {"color": "blue", "size": "small", "material": "cotton"},
        "availability": "in stock", "sku": "2317", "cost": "$23"}});
    let (r, _) = run(def, echo(), input).await;
    assert_eq!(
        output(r),
        json!({"comment": "Selecting what I care about.", "MyDetails": {"size": "small", "exists": "in stock", "StaticValue": "foo"}})
    );
}

#[tokio::test]
async fn result_path_places_the_result_into_the_input() {
    let hello = FnInvoker::new().handler("hello", |r| async move {
        Ok(json!(format!(
            "Hello, {}!",
            r.input["who"].as_str().unwrap_or_default()
        )))
    });
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "hello", "ResultPath": "$.taskresult", "End": true}}});
    let input = json!({"comment": "This is a test of the input and output of a Task state.", "details": "Default example", "who": "AWS Step Functions"});
    let (r, _) = run(def, hello, input.clone()).await;
    let mut want = input.clone();
    want["taskresult"] = json!("Hello, AWS Step Functions!");
    assert_eq!(output(r), want);
}

#[tokio::test]
async fn result_path_null_discards_and_dollar_replaces() {
    let f = || FnInvoker::new().handler("f", |_| async { Ok(json!({"r": 1})) });
    let discard = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "f", "ResultPath": null, "End": true}}});
    assert_eq!(
        output(run(discard, f(), json!({"keep": true})).await.0),
        json!({"keep": true})
    );
    let replace = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "f", "ResultPath": "$", "End": true}}});
    assert_eq!(
        output(run(replace, f(), json!({"keep": true})).await.0),
        json!({"r": 1})
    );
}

#[tokio::test]
async fn result_selector_then_result_path_as_in_the_docs() {
    let emr = FnInvoker::new().handler("emr", |_| async {
        Ok(json!({"resourceType": "elasticmapreduce", "resource": "createCluster.sync",
                  "output": {"SdkHttpMetadata": {"HttpStatusCode": 200}, "ClusterId": "AKIAIOSFODNN7EXAMPLE"}}))
    });
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "emr",
        "ResultSelector": {"ClusterId.$": "$.output.ClusterId", "ResourceType.$": "$.resourceType"},
        "ResultPath": "$.EMROutput", "End": true}}});
    let (r, _) = run(def, emr, json!({"cluster": "c1"})).await;
    assert_eq!(
        output(r),
        json!({"cluster": "c1", "EMROutput": {"ClusterId": "AKIAIOSFODNN7EXAMPLE", "ResourceType": "elasticmapreduce"}})
    );
}

#[tokio::test]
async fn output_path_selects_part_of_the_combined_output() {
    let f = FnInvoker::new().handler("f", |_| async { Ok(json!("done")) });
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "f",
        "ResultPath": "$.taskresult", "OutputPath": "$.taskresult", "End": true}}});
    assert_eq!(output(run(def, f, json!({"a": 1})).await.0), json!("done"));
}

#[tokio::test]
async fn input_path_and_output_path_null_give_empty_objects() {
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "InputPath": null, "ResultPath": "$.seen", "Next": "Q"},
        "Q": {"Type": "Pass", "OutputPath": null, "End": true}}});
    let (r, h) = run(def, FnInvoker::new(), json!({"a": 1})).await;
    assert_eq!(output(r), json!({}));
    let exited_p = h
        .iter()
        .find(|e| e.event_type == HistoryEventType::StateExited && e.state.as_deref() == Some("P"));
    assert_eq!(
        exited_p.map(|e| e.detail["output"].clone()),
        Some(json!({"a": 1, "seen": {}}))
    );
}

#[tokio::test]
async fn pass_result_and_parameters_with_intrinsics() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.fixed", "Next": "B"},
        "B": {"Type": "Pass", "Parameters": {
            "greeting.$": "States.Format('Hello {} from {}', $.name, $$.Execution.Name)",
            "count.$": "States.ArrayLength($.list)",
            "second.$": "States.ArrayGetItem($.list, 1)",
            "has.$": "States.ArrayContains($.list, 'b')",
            "sum.$": "States.MathAdd($.fixed.x, 41)",
            "json.$": "States.JsonToString($.fixed)",
            "parsed.$": "States.StringToJson('{\"k\": [1]}')",
            "array.$": "States.Array($.name, 2)",
            "nested": {"n.$": "$.fixed.x"},
            "list": [{"literal.$": "$.name"}]
        }, "End": true}}});
    let (r, _) = run(
        def,
        FnInvoker::new(),
        json!({"name": "Ada", "list": ["a", "b"]}),
    )
    .await;
    assert_eq!(
        output(r),
        json!({"greeting": "Hello Ada from run-1", "count": 2, "second": "b", "has": true, "sum": 42,
               "json": "{\"x\":1}", "parsed": {"k": [1]}, "array": ["Ada", 2], "nested": {"n": 1},
               "list": [{"literal": "Ada"}]})
    );
}

#[tokio::test]
async fn context_object_fields() {
    let def = json!({"StartAt": "Here", "States": {"Here": {"Type": "Pass", "Parameters": {
        "id.$": "$$.Execution.Id", "name.$": "$$.Execution.Name", "input.$": "$$.Execution.Input",
        "state.$": "$$.State.Name", "entered.$": "$$.State.EnteredTime", "retry.$": "$$.State.RetryCount"
    }, "End": true}}});
    let (r, _) = run(def, FnInvoker::new(), json!({"tenant": "t1"})).await;
    assert_eq!(
        output(r),
        json!({"id": "arn:aws:states:local:000000000000:execution:StateMachine:run-1", "name": "run-1",
               "input": {"tenant": "t1"}, "state": "Here", "entered": "2026-01-01T00:00:00.000Z", "retry": 0})
    );
}

#[tokio::test]
async fn missing_parameter_path_is_an_uncatchable_runtime_error() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "echo", "Parameters": {"x.$": "$.nope"}, "End": true,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]},
        "Caught": {"Type": "Succeed"}}});
    let (r, _) = run(def, echo(), json!({})).await;
    assert!(
        matches!(r, ExecutionResult::Failed { ref error, .. } if error == "States.Runtime"),
        "{r:?}"
    );
}

#[tokio::test]
async fn input_path_matching_nothing_fails_with_runtime() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": "$.missing", "End": true}}});
    let (r, _) = run(def, FnInvoker::new(), json!({"a": 1})).await;
    assert!(
        matches!(r, ExecutionResult::Failed { ref error, .. } if error == "States.Runtime"),
        "{r:?}"
    );
}

#[tokio::test]
async fn result_path_into_a_non_object_is_result_path_match_failure() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "echo", "ResultPath": "$.a.b", "End": true,
              "Catch": [{"ErrorEquals": ["States.ResultPathMatchFailure"], "Next": "Caught", "ResultPath": null}]},
        "Caught": {"Type": "Pass", "Result": "caught", "End": true}}});
    let (r, _) = run(def, echo(), json!({"a": "not an object"})).await;
    assert_eq!(output(r), json!("caught"));
}

#[tokio::test]
async fn lambda_invoke_wraps_the_payload_like_the_integration() {
    let inv = FnInvoker::new().handler("validate", |r| async move {
        Ok(json!({"ok": true, "got": r.input}))
    });
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:validate", "Payload.$": "$"},
        "ResultSelector": {"body.$": "$.Payload", "status.$": "$.StatusCode"},
        "End": true}}});
    let (r, _) = run(def, inv, json!({"t": 1})).await;
    assert_eq!(
        output(r),
        json!({"body": {"ok": true, "got": {"t": 1}}, "status": 200})
    );
}

#[tokio::test]
async fn succeed_and_fail_states() {
    let def = json!({"StartAt": "S", "States": {"S": {"Type": "Succeed", "OutputPath": "$.keep"}}});
    assert_eq!(
        output(
            run(def, FnInvoker::new(), json!({"keep": 7, "drop": 1}))
                .await
                .0
        ),
        json!(7)
    );
    let fail = json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "$.e", "Cause": "because"}}});
    let (r, _) = run(fail, FnInvoker::new(), json!({"e": "Steward.Refused"})).await;
    assert_eq!(
        r,
        ExecutionResult::Failed {
            error: "Steward.Refused".into(),
            cause: "because".into()
        }
    );
}

#[tokio::test]
async fn handler_errors_carry_their_names() {
    let inv = FnInvoker::new().handler("boom", |_| async {
        Err(TaskFailure::new(
            "Steward.InvalidExternalId",
            "account mismatch",
        ))
    });
    let def =
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "boom", "End": true}}});
    let (r, h) = run(def, inv, json!({})).await;
    assert_eq!(
        r,
        ExecutionResult::Failed {
            error: "Steward.InvalidExternalId".into(),
            cause: "account mismatch".into()
        }
    );
    assert!(
        h.iter()
            .any(|e| e.event_type == HistoryEventType::TaskFailed)
    );
    assert_eq!(
        h.last().map(|e| e.event_type),
        Some(HistoryEventType::ExecutionFailed)
    );
}
