//! `.waitForTaskToken` pauses answered (or not) as a partner UI would.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::sync::Arc;
use stepfunctions_runner::{
    Execution, ExecutionClock, ExecutionResult, FnInvoker, HistoryEventType, Runner, StateMachine,
    TaskTokenError,
};

fn t0() -> DateTime<Utc> {
    "2026-01-01T00:00:00Z".parse().expect("timestamp")
}

fn pause_def(extra: Value) -> Value {
    let mut task = json!({
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "${AwaitCustomer}", "Payload": {
            "token.$": "$$.Task.Token", "tenant.$": "$.tenant", "options": ["10.0.0.0/16", "10.1.0.0/16"]}},
        "ResultPath": "$.selection",
        "Next": "Done",
        "Catch": [{"ErrorEquals": ["States.Timeout", "States.HeartbeatTimeout"], "Next": "NoAnswer", "ResultPath": "$.error"}]
    });
    if let (Some(t), Some(e)) = (task.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            t.insert(k.clone(), v.clone());
        }
    }
    let text = json!({"StartAt": "AskCidr", "States": {
        "AskCidr": task,
        "Done": {"Type": "Succeed"},
        "NoAnswer": {"Type": "Fail", "Error": "Steward.CustomerDidNotAnswer", "CausePath": "$.error.Error"}}})
    .to_string()
    .replace("${AwaitCustomer}", "await_customer");
    serde_json::from_str(&text).expect("json")
}

fn start(extra: Value) -> (Runner, Execution, Arc<ExecutionClock>, Arc<FnInvoker>) {
    let clock = Arc::new(ExecutionClock::new(t0()));
    let invoker = Arc::new(
        FnInvoker::new().handler("await_customer", |_| async { Ok(json!({"stored": true})) }),
    );
    let machine = StateMachine::from_definition(&pause_def(extra)).expect("loads");
    let runner = Runner::new(machine, clock.clone(), invoker.clone());
    let exec = runner.start("onboard-t1", json!({"tenant": "t1"}));
    (runner, exec, clock, invoker)
}

#[tokio::test]
async fn success_resumes_with_the_answer() {
    let (_runner, exec, _clock, invoker) = start(json!({"TimeoutSeconds": 86400}));
    let task = exec
        .wait_for_task("AskCidr")
        .await
        .expect("the execution pauses");
    assert_eq!(task.input["tenant"], json!("t1"));
    assert_eq!(
        task.input["token"],
        json!(task.token.clone()),
        "the token reaches the function as $$.Task.Token"
    );
    assert_eq!(invoker.calls_to("await_customer"), 1);
    assert_eq!(exec.try_result(), None, "still paused");
    exec.send_task_success(&task.token, json!({"cidr": "10.0.0.0/16"}))
        .expect("token is pending");
    assert_eq!(
        exec.result().await,
        ExecutionResult::Succeeded {
            output: json!({"tenant": "t1", "selection": {"cidr": "10.0.0.0/16"}})
        }
    );
    assert!(exec.pending_tasks().is_empty());
    assert_eq!(
        exec.send_task_success(&task.token, json!({})),
        Err(TaskTokenError::TaskDoesNotExist(task.token.clone())),
        "a token answers once"
    );
}

#[tokio::test]
async fn failure_fails_the_task_with_the_given_error() {
    let (runner, exec, _clock, _) = start(json!({}));
    let task = exec.wait_for_task("AskCidr").await.expect("paused");
    assert_eq!(runner.pending_tasks().len(), 1);
    runner
        .send_task_failure(&task.token, "Steward.CustomerRefused", "not now")
        .expect("pending");
    assert_eq!(
        exec.result().await,
        ExecutionResult::Failed {
            error: "Steward.CustomerRefused".into(),
            cause: "not now".into()
        }
    );
}

#[tokio::test]
async fn an_unanswered_pause_times_out_at_timeout_seconds() {
    let (_runner, exec, clock, _) = start(json!({"TimeoutSeconds": 3600}));
    let task = exec.wait_for_task("AskCidr").await.expect("paused");
    clock.advance(chrono::Duration::seconds(3599));
    tokio::task::yield_now().await;
    assert_eq!(exec.try_result(), None, "not yet");
    assert!(exec.pending_tasks().iter().any(|t| t.token == task.token));
    clock.advance(chrono::Duration::seconds(1));
    assert_eq!(
        exec.result().await,
        ExecutionResult::Failed {
            error: "Steward.CustomerDidNotAnswer".into(),
            cause: "States.Timeout".into()
        }
    );
    let timed_out = exec
        .history()
        .into_iter()
        .find(|e| e.event_type == HistoryEventType::TaskTimedOut)
        .expect("recorded");
    assert_eq!(timed_out.timestamp, t0() + chrono::Duration::seconds(3600));
    assert!(
        exec.send_task_success(&task.token, json!({})).is_err(),
        "too late"
    );
}

#[tokio::test]
async fn heartbeats_keep_a_pause_alive_until_they_stop() {
    let (_runner, exec, clock, _) = start(json!({"TimeoutSeconds": 3600, "HeartbeatSeconds": 60}));
    let task = exec.wait_for_task("AskCidr").await.expect("paused");
    for _ in 0..3 {
        clock.advance(chrono::Duration::seconds(50));
        exec.send_task_heartbeat(&task.token).expect("pending");
        tokio::task::yield_now().await;
    }
    assert_eq!(exec.try_result(), None, "150 s in, heartbeats every 50 s");
    clock.advance(chrono::Duration::seconds(61));
    assert_eq!(
        exec.result().await,
        ExecutionResult::Failed {
            error: "Steward.CustomerDidNotAnswer".into(),
            cause: "States.HeartbeatTimeout".into()
        }
    );
    assert_eq!(clock.now(), t0() + chrono::Duration::seconds(211));
    let heartbeats = exec
        .history()
        .iter()
        .filter(|e| e.event_type == HistoryEventType::TaskHeartbeat)
        .count();
    assert_eq!(heartbeats, 3);
}

#[tokio::test]
async fn heartbeat_countdown_starts_when_the_function_returns() {
    let clock = Arc::new(ExecutionClock::new(t0()));
    let c = clock.clone();
    let slow = FnInvoker::new().handler("await_customer", move |_| {
        let c = c.clone();
        async move {
            c.sleep_until(c.now() + chrono::Duration::seconds(100))
                .await;
            Ok(json!({}))
        }
    });
    let def = pause_def(json!({"TimeoutSeconds": 3600, "HeartbeatSeconds": 60}));
    let runner = Runner::new(
        StateMachine::from_definition(&def).expect("loads"),
        clock.clone(),
        Arc::new(slow),
    );
    let exec = runner.start("e", json!({"tenant": "t1"}));
    let task = exec.wait_for_task("AskCidr").await.expect("paused");
    while exec
        .history()
        .iter()
        .all(|e| e.event_type != HistoryEventType::TaskScheduled)
        || clock.now() < t0() + chrono::Duration::seconds(100)
    {
        tokio::task::yield_now().await;
    }
    clock.advance(chrono::Duration::seconds(59));
    tokio::task::yield_now().await;
    assert_eq!(
        exec.try_result(),
        None,
        "100 s in the function + 59 s: no heartbeat timeout yet"
    );
    exec.send_task_success(&task.token, json!("ok"))
        .expect("pending");
    assert!(matches!(
        exec.result().await,
        ExecutionResult::Succeeded { .. }
    ));
}

#[tokio::test]
async fn stop_aborts_and_withdraws_the_token() {
    let (runner, exec, _clock, _) = start(json!({}));
    let task = exec.wait_for_task("AskCidr").await.expect("paused");
    exec.stop();
    assert_eq!(exec.result().await, ExecutionResult::Aborted);
    assert!(runner.pending_tasks().is_empty());
    assert!(runner.send_task_success(&task.token, json!({})).is_err());
    assert_eq!(
        exec.history().last().map(|e| e.event_type),
        Some(HistoryEventType::ExecutionAborted)
    );
}

#[tokio::test]
async fn wait_for_task_returns_none_when_the_execution_ends_first() {
    let clock = Arc::new(ExecutionClock::new(t0()));
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    let runner = Runner::new(
        StateMachine::from_definition(&def).expect("loads"),
        clock,
        Arc::new(FnInvoker::new()),
    );
    let exec = runner.start("e", json!({}));
    assert_eq!(exec.wait_for_task("AskCidr").await, None);
    assert_eq!(
        exec.result().await,
        ExecutionResult::Succeeded { output: json!({}) }
    );
}
