use async_trait::async_trait;
use chrono::TimeZone;

use super::*;
use crate::queues::{Queues, ReceiveRequest};

/// A fake Lambda: records invocations; functions named `missing` do not exist, `busy` throttles.
#[derive(Default)]
pub(crate) struct FakeLambda {
    pub calls: Mutex<Vec<(String, Value)>>,
}

#[async_trait]
impl LambdaTargets for FakeLambda {
    async fn invoke_async(&self, function_arn: &str, event: Value) -> Result<(), TargetError> {
        self.calls.lock().push((function_arn.to_owned(), event));
        if function_arn.ends_with(":missing") {
            return Err(TargetError::not_found("Function not found"));
        }
        if function_arn.ends_with(":busy") {
            return Err(TargetError {
                code: TargetErrorCode::Throttling,
                message: "Rate exceeded".into(),
            });
        }
        Ok(())
    }
}

fn setup() -> (EventBridge, Queues, Arc<FakeLambda>) {
    let settings = crate::queues::tests::settings();
    let queues = Queues::new(settings.clone());
    let lambda = Arc::new(FakeLambda::default());
    (
        EventBridge::new(settings, queues.clone(), lambda.clone()),
        queues,
        lambda,
    )
}

fn entry(detail_type: &str, detail: &str) -> Entry {
    Entry {
        source: Some("steward.partner".into()),
        detail_type: Some(detail_type.into()),
        detail: Some(detail.into()),
        bus: Some("steward".into()),
        ..Entry::default()
    }
}

fn rule(name: &str, pattern: Value) -> RuleSpec {
    RuleSpec {
        name: name.into(),
        bus: "steward".into(),
        pattern,
        state: RuleState::Enabled,
        description: None,
    }
}

fn target(id: &str, arn: &str) -> TargetSpec {
    TargetSpec {
        id: id.into(),
        arn: arn.into(),
        ..TargetSpec::default()
    }
}

const QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:subscriber";
const DLQ_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:dlq";

#[tokio::test]
async fn matching_events_reach_a_queue_as_full_envelopes() {
    let (bridge, queues, _) = setup();
    assert_eq!(
        bridge.create_bus("steward", None).unwrap(),
        "arn:aws:events:us-east-1:123456789012:event-bus/steward"
    );
    queues.create_queue("subscriber", &BTreeMap::new()).unwrap();
    let arn = bridge
        .put_rule(rule(
            "partner",
            json!({"detail-type": [{"anything-but": {"prefix": "Lifecycle "}}]}),
        ))
        .unwrap();
    assert_eq!(
        arn,
        "arn:aws:events:us-east-1:123456789012:rule/steward/partner"
    );
    bridge
        .put_targets("steward", "partner", vec![target("q", QUEUE_ARN)])
        .unwrap();
    let results = bridge.put_events(vec![
        entry("Desktop Available", r#"{"workspaceId":"ws-1"}"#),
        entry("Lifecycle Onboarding Requested", "{}"),
        entry("Desktop Available", "[1]"),
        Entry {
            source: None,
            ..entry("X", "{}")
        },
        Entry {
            bus: Some("nope".into()),
            ..entry("X", "{}")
        },
    ]);
    let EntryResult::Accepted { event_id } = &results[0] else {
        panic!("{results:?}")
    };
    assert!(matches!(results[1], EntryResult::Accepted { .. }));
    assert_eq!(
        results[2],
        EntryResult::Failed {
            code: EntryErrorCode::MalformedDetail,
            message: "Detail is malformed.".into()
        }
    );
    assert!(
        matches!(&results[3], EntryResult::Failed { code: EntryErrorCode::InvalidArgument, message } if message.contains("Source"))
    );
    assert!(
        matches!(&results[4], EntryResult::Failed { code: EntryErrorCode::InvalidArgument, message } if message.contains("EventBusName"))
    );
    let got = queues
        .receive(
            QUEUE_ARN,
            ReceiveRequest {
                max_messages: Some(10),
                ..ReceiveRequest::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(
        body,
        json!({"version": "0", "id": event_id, "detail-type": "Desktop Available", "source": "steward.partner",
               "account": "123456789012", "time": "2026-11-28T08:00:00Z", "region": "us-east-1",
               "resources": [], "detail": {"workspaceId": "ws-1"}})
    );
    assert_eq!(bridge.put_events_count(), 1);
    assert!(bridge.delivery_failures().is_empty());
}

#[tokio::test]
async fn lambda_targets_are_invoked_with_input_path_and_disabled_rules_are_skipped() {
    let (bridge, _, lambda) = setup();
    bridge.create_bus("steward", None).unwrap();
    bridge
        .put_rule(rule("all", json!({"source": ["steward.partner"]})))
        .unwrap();
    let f = "arn:aws:lambda:us-east-1:123456789012:function:power";
    bridge
        .put_targets(
            "steward",
            "all",
            vec![TargetSpec {
                input_path: Some("$.detail".into()),
                ..target("f", f)
            }],
        )
        .unwrap();
    bridge
        .put_rule(RuleSpec {
            state: RuleState::Disabled,
            ..rule("off", json!({"source": ["steward.partner"]}))
        })
        .unwrap();
    bridge
        .put_targets("steward", "off", vec![target("f", f)])
        .unwrap();
    let time = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
    bridge.put_events(vec![Entry {
        time: Some(time),
        ..entry("Desktop Start Requested", r#"{"a":1}"#)
    }]);
    bridge.settle().await;
    assert_eq!(*lambda.calls.lock(), vec![(f.to_owned(), json!({"a": 1}))]);
}

#[tokio::test]
async fn failed_deliveries_go_to_the_dead_letter_queue_with_their_reason() {
    let (bridge, queues, lambda) = setup();
    bridge.create_bus("steward", None).unwrap();
    queues.create_queue("dlq", &BTreeMap::new()).unwrap();
    bridge
        .put_rule(rule("r", json!({"source": ["steward.partner"]})))
        .unwrap();
    let missing = "arn:aws:lambda:us-east-1:123456789012:function:missing";
    let busy = "arn:aws:lambda:us-east-1:123456789012:function:busy";
    let gone = "arn:aws:sqs:us-east-1:123456789012:gone";
    bridge
        .put_targets(
            "steward",
            "r",
            vec![
                TargetSpec {
                    dead_letter_arn: Some(DLQ_ARN.into()),
                    ..target("missing", missing)
                },
                TargetSpec {
                    dead_letter_arn: Some(DLQ_ARN.into()),
                    max_retries: Some(1),
                    ..target("busy", busy)
                },
                target("gone", gone),
            ],
        )
        .unwrap();
    bridge.put_events(vec![entry("Desktop Start Requested", "{}")]);
    bridge.settle().await;
    // The throttled function was tried twice (one retry); the missing one once.
    assert_eq!(lambda.calls.lock().len(), 3);
    let failures = bridge.delivery_failures();
    let summary: Vec<(&str, TargetErrorCode, u32, Disposition)> = failures
        .iter()
        .map(|f| {
            (
                f.target_arn.as_str(),
                f.error.code,
                f.retry_attempts,
                f.disposition.clone(),
            )
        })
        .collect();
    let dead = Disposition::DeadLettered {
        queue_arn: DLQ_ARN.into(),
    };
    assert!(summary.contains(&(
        gone,
        TargetErrorCode::ResourceNotFound,
        0,
        Disposition::Dropped
    )));
    assert!(summary.contains(&(missing, TargetErrorCode::ResourceNotFound, 0, dead.clone())));
    assert!(summary.contains(&(busy, TargetErrorCode::Throttling, 1, dead)));
    assert_eq!(failures.len(), 3);
    let got = queues
        .receive(
            DLQ_ARN,
            ReceiveRequest {
                max_messages: Some(10),
                ..ReceiveRequest::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(got.len(), 2);
    let of_missing = got
        .iter()
        .find(|m| m.attributes["TARGET_ARN"] == MessageAttributeProbe::s(missing))
        .unwrap();
    assert_eq!(
        of_missing.attributes["RULE_ARN"],
        MessageAttributeProbe::s("arn:aws:events:us-east-1:123456789012:rule/steward/r")
    );
    assert_eq!(
        of_missing.attributes["ERROR_CODE"],
        MessageAttributeProbe::s("RESOURCE_NOT_FOUND")
    );
    assert_eq!(
        of_missing.attributes["ERROR_MESSAGE"],
        MessageAttributeProbe::s("Function not found")
    );
    let body: Value = serde_json::from_str(&of_missing.body).unwrap();
    assert_eq!(body["detail-type"], "Desktop Start Requested");
}

struct MessageAttributeProbe;

impl MessageAttributeProbe {
    fn s(value: &str) -> crate::queues::MessageAttribute {
        crate::queues::MessageAttribute::string(value)
    }
}

#[test]
fn rules_targets_and_buses_are_managed_as_eventbridge_does() {
    let (bridge, _, _) = setup();
    assert_eq!(
        bridge.create_bus("steward", None),
        Ok("arn:aws:events:us-east-1:123456789012:event-bus/steward".into())
    );
    assert_eq!(
        bridge.create_bus("steward", None),
        Err(EventsError::ResourceAlreadyExists { what: "Event bus" })
    );
    let arn = bridge
        .put_rule(RuleSpec {
            bus: "default".into(),
            ..rule("d", json!({"source": ["a"]}))
        })
        .unwrap();
    assert_eq!(arn, "arn:aws:events:us-east-1:123456789012:rule/d");
    assert!(matches!(
        bridge.put_rule(rule("bad", json!({"source": "a"}))),
        Err(EventsError::InvalidEventPattern(_))
    ));
    assert_eq!(bridge.put_rule(rule("x", json!({}))).map(|_| ()), Ok(()));
    bridge
        .put_targets("steward", "x", vec![target("q", QUEUE_ARN)])
        .unwrap();
    assert_eq!(
        bridge.put_targets(
            "steward",
            "x",
            vec![target("s", "arn:aws:sns:us-east-1:1:t")]
        ),
        Err(EventsError::invalid(
            "Targets.Arn",
            "only SQS queue and Lambda function targets are served locally"
        ))
    );
    assert_eq!(
        bridge.delete_rule("steward", "x", false),
        Err(EventsError::RuleHasTargets)
    );
    assert_eq!(
        bridge.remove_targets("steward", "x", &["q".into(), "z".into()]),
        Ok(vec!["z".to_owned()])
    );
    assert_eq!(bridge.delete_rule("steward", "x", false), Ok(()));
    assert_eq!(
        bridge.describe_rule("steward", "x"),
        Err(EventsError::ResourceNotFound { what: "Rule" })
    );
    let names: Vec<String> = bridge
        .list_buses(None)
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(names, vec!["default", "steward"]);
    assert_eq!(
        bridge.delete_bus("default"),
        Err(EventsError::invalid(
            "Name",
            "the default event bus cannot be deleted"
        ))
    );
}
