//! Control flow: Wait variants, a bounded Wait+Choice polling loop, Map with
//! MaxConcurrency, Parallel.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use stepfunctions_runner::{
    Execution, ExecutionClock, ExecutionResult, FnInvoker, HistoryEventType, Runner, StateMachine,
};

fn t0() -> DateTime<Utc> {
    "2026-01-01T00:00:00Z".parse().expect("timestamp")
}

fn start(def: Value, invoker: FnInvoker, input: Value) -> (Execution, Arc<ExecutionClock>) {
    let clock = Arc::new(ExecutionClock::new(t0()));
    let machine = StateMachine::from_definition(&def).expect("definition loads");
    let runner = Runner::new(machine, clock.clone(), Arc::new(invoker));
    (runner.start("e", input), clock)
}

#[tokio::test]
async fn wait_seconds_paths_and_timestamps() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Wait", "Seconds": 10, "Next": "B"},
        "B": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "C"},
        "C": {"Type": "Wait", "Timestamp": "2026-01-01T01:00:00Z", "Next": "D"},
        "D": {"Type": "Wait", "TimestampPath": "$.until", "End": true}}});
    let input = json!({"delay": 20, "until": "2026-01-02T00:00:00Z"});
    let (exec, clock) = start(def, FnInvoker::new(), input.clone());
    assert_eq!(
        exec.result().await,
        ExecutionResult::Succeeded { output: input }
    );
    assert_eq!(
        clock.now(),
        "2026-01-02T00:00:00Z".parse::<DateTime<Utc>>().expect("ts")
    );
    let waits: Vec<String> = exec
        .history()
        .iter()
        .filter(|e| e.event_type == HistoryEventType::WaitStarted)
        .map(|e| e.detail["until"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        waits,
        vec![
            "2026-01-01T00:00:10.000Z",
            "2026-01-01T00:00:30.000Z",
            "2026-01-01T01:00:00.000Z",
            "2026-01-02T00:00:00.000Z"
        ]
    );
}

#[tokio::test]
async fn wait_seconds_path_must_be_a_non_negative_integer() {
    let def = json!({"StartAt": "A", "States": {"A": {"Type": "Wait", "SecondsPath": "$.delay", "End": true}}});
    let (exec, _) = start(def, FnInvoker::new(), json!({"delay": "soon"}));
    assert!(
        matches!(exec.result().await, ExecutionResult::Failed { ref error, .. } if error == "States.Runtime")
    );
}

/// The shape of the onboarding's polling loops: start, then Wait+Choice
/// until AVAILABLE, bounded by an attempt counter.
fn polling_def() -> Value {
    json!({"StartAt": "Init", "States": {
        "Init": {"Type": "Pass", "Result": 0, "ResultPath": "$.polls", "Next": "Describe"},
        "Describe": {"Type": "Task", "Resource": "describe_image", "ResultPath": "$.image", "Next": "Count"},
        "Count": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.polls, 1)"}, "ResultPath": "$.count", "Next": "Check"},
        "Check": {"Type": "Choice", "InputPath": "$", "Choices": [
            {"Variable": "$.image.State", "StringEquals": "AVAILABLE", "Next": "Ready"},
            {"Variable": "$.image.State", "StringEquals": "ERROR", "Next": "ImportFailed"},
            {"Variable": "$.count.n", "NumericGreaterThanEquals": 12, "Next": "GaveUp"}
        ], "Default": "Sleep"},
        "Sleep": {"Type": "Pass", "InputPath": "$", "Parameters": {"tenant.$": "$.tenant", "polls.$": "$.count.n"}, "Next": "Wait"},
        "Wait": {"Type": "Wait", "Seconds": 1800, "Next": "Describe"},
        "Ready": {"Type": "Succeed", "OutputPath": "$.image"},
        "ImportFailed": {"Type": "Fail", "Error": "Steward.ImageImportFailed", "CausePath": "$.image.Reason"},
        "GaveUp": {"Type": "Fail", "Error": "Steward.PollingExhausted"}}})
}

fn describe_after(available_at: usize) -> (FnInvoker, Arc<AtomicUsize>) {
    let n = Arc::new(AtomicUsize::new(0));
    let calls = n.clone();
    let inv = FnInvoker::new().handler("describe_image", move |_| {
        let n = n.clone();
        async move {
            let call = n.fetch_add(1, Ordering::SeqCst) + 1;
            Ok(json!({"State": if call >= available_at { "AVAILABLE" } else { "PENDING" }}))
        }
    });
    (inv, calls)
}

#[tokio::test]
async fn polling_loop_ends_after_n_iterations_in_virtual_time() {
    let (inv, calls) = describe_after(4);
    let (exec, clock) = start(polling_def(), inv, json!({"tenant": "t1"}));
    assert_eq!(
        exec.result().await,
        ExecutionResult::Succeeded {
            output: json!({"State": "AVAILABLE"})
        }
    );
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    assert_eq!(clock.now(), t0() + chrono::Duration::seconds(3 * 1800));
    let entered = exec.states_entered();
    assert_eq!(entered.iter().filter(|s| *s == "Wait").count(), 3);
    assert_eq!(entered.last().map(String::as_str), Some("Ready"));
}

#[tokio::test]
async fn polling_loop_is_bounded() {
    let (inv, calls) = describe_after(usize::MAX);
    let (exec, clock) = start(polling_def(), inv, json!({"tenant": "t1"}));
    assert_eq!(
        exec.result().await,
        ExecutionResult::Failed {
            error: "Steward.PollingExhausted".into(),
            cause: String::new()
        }
    );
    assert_eq!(calls.load(Ordering::SeqCst), 12);
    assert_eq!(
        clock.now(),
        t0() + chrono::Duration::seconds(11 * 1800),
        "six hours of polling ran instantly"
    );
}

#[tokio::test]
async fn map_runs_items_with_bounded_concurrency_and_keeps_order() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (f, p) = (in_flight.clone(), peak.clone());
    let inv = FnInvoker::new().handler("create_workspace", move |r| {
        let (f, p) = (f.clone(), p.clone());
        async move {
            let now = f.fetch_add(1, Ordering::SeqCst) + 1;
            p.fetch_max(now, Ordering::SeqCst);
            for _ in 0..5 {
                tokio::task::yield_now().await;
            }
            f.fetch_sub(1, Ordering::SeqCst);
            Ok(json!({"id": format!("ws-{}", r.input["index"]), "name": r.input["name"]}))
        }
    });
    let def = json!({"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ItemsPath": "$.users", "MaxConcurrency": 2,
        "ItemSelector": {"name.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index", "tenant.$": "$.tenant"},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Create", "States": {
            "Create": {"Type": "Task", "Resource": "create_workspace", "End": true}}},
        "ResultPath": "$.workspaces", "End": true}}});
    let users = json!(["ana", "bo", "cy", "di", "ed"]);
    let (exec, _) = start(def, inv, json!({"tenant": "t1", "users": users}));
    let ExecutionResult::Succeeded { output } = exec.result().await else {
        panic!("map failed")
    };
    assert_eq!(
        output["workspaces"],
        json!([{"id": "ws-0", "name": "ana"}, {"id": "ws-1", "name": "bo"}, {"id": "ws-2", "name": "cy"},
               {"id": "ws-3", "name": "di"}, {"id": "ws-4", "name": "ed"}])
    );
    assert_eq!(
        peak.load(Ordering::SeqCst),
        2,
        "MaxConcurrency 2 is both used and respected"
    );
    let iterations = exec
        .history()
        .iter()
        .filter(|e| e.event_type == HistoryEventType::MapIterationStarted)
        .count();
    assert_eq!(iterations, 5);
}

#[tokio::test]
async fn legacy_iterator_and_a_failing_item_fail_the_map() {
    let def = json!({"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "Iterator": {"StartAt": "Check", "States": {
            "Check": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericLessThan": 3, "Next": "Ok"}], "Default": "Bad"},
            "Ok": {"Type": "Pass", "End": true},
            "Bad": {"Type": "Fail", "Error": "Steward.BadItem", "Cause": "too big"}}},
        "Catch": [{"ErrorEquals": ["Steward.BadItem"], "Next": "Handled"}],
        "End": true},
        "Handled": {"Type": "Pass", "End": true}}});
    let (exec, _) = start(def.clone(), FnInvoker::new(), json!([1, 2]));
    assert_eq!(
        exec.result().await,
        ExecutionResult::Succeeded {
            output: json!([1, 2])
        }
    );
    let (exec, _) = start(def, FnInvoker::new(), json!([1, 5]));
    assert_eq!(
        exec.result().await,
        ExecutionResult::Succeeded {
            output: json!({"Error": "Steward.BadItem", "Cause": "too big"})
        }
    );
}

#[tokio::test]
async fn parallel_branches_produce_an_array() {
    let def = json!({"StartAt": "Both", "States": {"Both": {
        "Type": "Parallel", "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "a", "End": true}}},
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "InputPath": "$.x", "End": true}}}],
        "ResultPath": "$.results", "End": true}}});
    let (exec, _) = start(def, FnInvoker::new(), json!({"x": 1}));
    assert_eq!(
        exec.result().await,
        ExecutionResult::Succeeded {
            output: json!({"x": 1, "results": ["a", 1]})
        }
    );
}

#[tokio::test]
async fn manual_clock_lets_the_caller_step_time() {
    let clock = Arc::new(ExecutionClock::manual(t0()));
    let ticks = Arc::new(AtomicUsize::new(0));
    let t = ticks.clone();
    clock.on_advance(move |_, _| {
        t.fetch_add(1, Ordering::SeqCst);
    });
    let def =
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}});
    let runner = Runner::new(
        StateMachine::from_definition(&def).expect("loads"),
        clock.clone(),
        Arc::new(FnInvoker::new()),
    );
    let exec = runner.start("e", json!({}));
    while clock.next_deadline().is_none() {
        tokio::task::yield_now().await;
    }
    assert_eq!(exec.try_result(), None);
    assert!(clock.advance_to_next_deadline());
    assert_eq!(
        exec.result().await,
        ExecutionResult::Succeeded { output: json!({}) }
    );
    assert_eq!(clock.now(), t0() + chrono::Duration::seconds(60));
    assert_eq!(
        ticks.load(Ordering::SeqCst),
        1,
        "the observer saw the advance"
    );
}
