//! Retry back-off on the virtual clock, Catch routing, timeouts, the
//! transition cap.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use stepfunctions_runner::{
    Execution, ExecutionClock, ExecutionResult, FnInvoker, HistoryEventType, Runner, RunnerConfig,
    StateMachine, TaskFailure,
};

fn t0() -> DateTime<Utc> {
    "2026-01-01T00:00:00Z".parse().expect("timestamp")
}

/// Fails with `error` the first `failures` calls, then succeeds.
fn flaky(error: &'static str, failures: usize) -> FnInvoker {
    let n = Arc::new(AtomicUsize::new(0));
    FnInvoker::new().handler("flaky", move |_| {
        let n = n.clone();
        async move {
            if n.fetch_add(1, Ordering::SeqCst) < failures {
                Err(TaskFailure::new(error, "try again"))
            } else {
                Ok(json!({"done": true}))
            }
        }
    })
}

fn start(def: Value, invoker: FnInvoker, config: RunnerConfig) -> (Execution, Arc<ExecutionClock>) {
    let machine = StateMachine::from_definition(&def).expect("definition loads");
    let clock = Arc::new(ExecutionClock::new(t0()));
    let runner = Runner::new(machine, clock.clone(), Arc::new(invoker)).with_config(config);
    (runner.start("e", json!({"in": 1})), clock)
}

/// Seconds from t0 of every attempt of `state`.
fn attempt_times(exec: &Execution, state: &str) -> Vec<f64> {
    exec.history()
        .iter()
        .filter(|e| {
            e.event_type == HistoryEventType::TaskScheduled && e.state.as_deref() == Some(state)
        })
        .map(|e| (e.timestamp - t0()).num_milliseconds() as f64 / 1000.0)
        .collect()
}

fn task_with_retry(retry: Value) -> Value {
    json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "flaky", "Retry": retry, "End": true}}})
}

#[tokio::test]
async fn retry_backs_off_exponentially_on_the_virtual_clock() {
    let def = task_with_retry(
        json!([{"ErrorEquals": ["Steward.Throttled"], "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2.0}]),
    );
    let (exec, _) = start(def, flaky("Steward.Throttled", 3), RunnerConfig::default());
    assert_eq!(
        exec.result().await,
        ExecutionResult::Succeeded {
            output: json!({"done": true})
        }
    );
    assert_eq!(attempt_times(&exec, "T"), vec![0.0, 1.0, 3.0, 7.0]);
}

#[tokio::test]
async fn retry_defaults_are_1s_3_attempts_rate_2() {
    let def = task_with_retry(json!([{"ErrorEquals": ["States.ALL"]}]));
    let (exec, _) = start(def, flaky("Steward.Transient", 10), RunnerConfig::default());
    assert!(
        matches!(exec.result().await, ExecutionResult::Failed { ref error, .. } if error == "Steward.Transient")
    );
    assert_eq!(attempt_times(&exec, "T"), vec![0.0, 1.0, 3.0, 7.0]);
}

#[tokio::test]
async fn max_delay_seconds_caps_the_interval() {
    let def = task_with_retry(
        json!([{"ErrorEquals": ["Steward.Throttled"], "IntervalSeconds": 1, "BackoffRate": 3.0, "MaxAttempts": 4, "MaxDelaySeconds": 5}]),
    );
    let (exec, _) = start(def, flaky("Steward.Throttled", 4), RunnerConfig::default());
    assert!(matches!(
        exec.result().await,
        ExecutionResult::Succeeded { .. }
    ));
    // delays 1, 3, 5 (9 capped), 5 (27 capped)
    assert_eq!(attempt_times(&exec, "T"), vec![0.0, 1.0, 4.0, 9.0, 14.0]);
}

#[tokio::test]
async fn full_jitter_is_bounded_and_deterministic_for_a_seed() {
    let def = task_with_retry(
        json!([{"ErrorEquals": ["Steward.Throttled"], "IntervalSeconds": 4, "MaxAttempts": 3, "JitterStrategy": "FULL"}]),
    );
    let cfg = RunnerConfig {
        jitter_seed: 42,
        ..RunnerConfig::default()
    };
    let (a, _) = start(def.clone(), flaky("Steward.Throttled", 3), cfg.clone());
    let (b, _) = start(def, flaky("Steward.Throttled", 3), cfg);
    assert!(matches!(
        a.result().await,
        ExecutionResult::Succeeded { .. }
    ));
    assert!(matches!(
        b.result().await,
        ExecutionResult::Succeeded { .. }
    ));
    let (ta, tb) = (attempt_times(&a, "T"), attempt_times(&b, "T"));
    assert_eq!(ta, tb);
    let gaps: Vec<f64> = ta.windows(2).map(|w| w[1] - w[0]).collect();
    for (gap, nominal) in gaps.iter().zip([4.0, 8.0, 16.0]) {
        assert!(
            *gap >= 0.0 && *gap <= nominal,
            "gap {gap} exceeds {nominal}"
        );
    }
    assert_ne!(gaps, vec![4.0, 8.0, 16.0], "FULL jitter changed nothing");
}

#[tokio::test]
async fn max_attempts_zero_never_retries_and_falls_to_catch() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "flaky", "Next": "Done",
              "Retry": [{"ErrorEquals": ["Steward.Fatal"], "MaxAttempts": 0}, {"ErrorEquals": ["States.ALL"], "MaxAttempts": 5}],
              "Catch": [{"ErrorEquals": ["Steward.Fatal"], "Next": "Recover", "ResultPath": "$.error"}]},
        "Recover": {"Type": "Pass", "End": true},
        "Done": {"Type": "Succeed"}}});
    let (exec, _) = start(def, flaky("Steward.Fatal", 1), RunnerConfig::default());
    assert_eq!(
        exec.result().await,
        ExecutionResult::Succeeded {
            output: json!({"in": 1, "error": {"Error": "Steward.Fatal", "Cause": "try again"}})
        }
    );
    assert_eq!(
        attempt_times(&exec, "T").len(),
        1,
        "the first matching retrier decides: no retry"
    );
    assert_eq!(exec.states_entered(), vec!["T", "Recover"]);
}

#[tokio::test]
async fn retriers_count_separately_and_catch_after_exhaustion() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "flaky", "End": true,
              "Retry": [{"ErrorEquals": ["Steward.Throttled"], "MaxAttempts": 2}],
              "Catch": [{"ErrorEquals": ["Steward.Transient"], "Next": "No"}, {"ErrorEquals": ["States.ALL"], "Next": "Failed"}]},
        "No": {"Type": "Succeed"},
        "Failed": {"Type": "Pass", "End": true}}});
    let (exec, _) = start(def, flaky("Steward.Throttled", 9), RunnerConfig::default());
    assert_eq!(
        exec.result().await,
        ExecutionResult::Succeeded {
            output: json!({"Error": "Steward.Throttled", "Cause": "try again"})
        }
    );
    assert_eq!(attempt_times(&exec, "T"), vec![0.0, 1.0, 3.0]);
    let kinds: Vec<HistoryEventType> = exec.history().iter().map(|e| e.event_type).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == HistoryEventType::RetryScheduled)
            .count(),
        2
    );
    assert!(kinds.contains(&HistoryEventType::CaughtError));
    assert_eq!(exec.states_entered(), vec!["T", "Failed"]);
}

#[tokio::test]
async fn task_timeout_on_the_clock_is_states_timeout() {
    let clock = Arc::new(ExecutionClock::new(t0()));
    let c = clock.clone();
    let slow = FnInvoker::new().handler("slow", move |_| {
        let c = c.clone();
        async move {
            c.sleep_until(c.now() + chrono::Duration::seconds(100))
                .await;
            Ok(json!("late"))
        }
    });
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "slow", "TimeoutSeconds": 10, "End": true,
              "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Wrong"}, {"ErrorEquals": ["States.Timeout"], "Next": "TimedOut"}]},
        "Wrong": {"Type": "Succeed"},
        "TimedOut": {"Type": "Pass", "Result": "timed out", "End": true}}});
    let runner = Runner::new(
        StateMachine::from_definition(&def).expect("loads"),
        clock.clone(),
        Arc::new(slow),
    );
    let exec = runner.start("e", json!({}));
    assert_eq!(
        exec.result().await,
        ExecutionResult::Succeeded {
            output: json!("timed out")
        }
    );
    assert!(
        exec.history()
            .iter()
            .any(|e| e.event_type == HistoryEventType::TaskTimedOut)
    );
}

#[tokio::test]
async fn execution_timeout_ends_timed_out_without_running_the_clock_past_it() {
    let def = json!({"TimeoutSeconds": 600, "StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 3600, "Next": "After"},
        "After": {"Type": "Succeed"}}});
    let (exec, clock) = start(def, FnInvoker::new(), RunnerConfig::default());
    assert_eq!(exec.result().await, ExecutionResult::TimedOut);
    assert_eq!(clock.now(), t0() + chrono::Duration::seconds(600));
    assert_eq!(exec.states_entered(), vec!["W"]);
    assert_eq!(
        exec.history().last().map(|e| e.event_type),
        Some(HistoryEventType::ExecutionTimedOut)
    );
}

#[tokio::test]
async fn no_choice_matched_without_default() {
    let def = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "One"}]},
        "One": {"Type": "Succeed"}}});
    let (exec, _) = start(def, FnInvoker::new(), RunnerConfig::default());
    assert!(
        matches!(exec.result().await, ExecutionResult::Failed { ref error, .. } if error == "States.Runtime"),
        "$.n is missing from the input: a runtime error"
    );
    let def = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.in", "NumericEquals": 2, "Next": "One"}]},
        "One": {"Type": "Succeed"}}});
    let (exec, _) = start(def, FnInvoker::new(), RunnerConfig::default());
    assert!(
        matches!(exec.result().await, ExecutionResult::Failed { ref error, .. } if error == "States.NoChoiceMatched")
    );
}

#[tokio::test]
async fn runaway_loops_hit_the_transition_cap() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Choice", "Choices": [{"Variable": "$.stop", "IsPresent": true, "Next": "Done"}], "Default": "A"},
        "Done": {"Type": "Succeed"}}});
    let cfg = RunnerConfig {
        max_transitions: 50,
        ..RunnerConfig::default()
    };
    let (exec, _) = start(def, FnInvoker::new(), cfg);
    assert!(
        matches!(exec.result().await, ExecutionResult::Failed { ref error, .. } if error == "Runner.TransitionLimitExceeded")
    );
    assert_eq!(exec.states_entered().len(), 50);
}
