use std::sync::Arc;

use serde_json::{Value, json};

use crate::events::LambdaTargets;
use crate::{Messaging, TargetError, WireResponse};

struct NoLambda;

#[async_trait::async_trait]
impl LambdaTargets for NoLambda {
    async fn invoke_async(&self, _: &str, _: Value) -> Result<(), TargetError> {
        Err(TargetError::not_found("Function not found"))
    }
}

fn messaging() -> Messaging {
    let settings = crate::queues::tests::settings();
    Messaging::new((*settings).clone(), Arc::new(NoLambda))
}

async fn call(m: &Messaging, target: &str, body: Value) -> (u16, Value, WireResponse) {
    let response = m.handle(target, body.to_string().as_bytes()).await;
    let parsed = serde_json::from_str(&response.body).unwrap();
    (response.status, parsed, response)
}

async fn ok(m: &Messaging, target: &str, body: Value) -> Value {
    let (status, parsed, _) = call(m, target, body).await;
    assert_eq!(status, 200, "{target}: {parsed}");
    parsed
}

const URL: &str = "http://127.0.0.1:4566/123456789012/sub";

#[tokio::test]
async fn eventbridge_operations_answer_their_shapes() {
    let m = messaging();
    let e = |op: &str| format!("AWSEvents.{op}");
    assert_eq!(
        ok(&m, &e("CreateEventBus"), json!({"Name": "steward"})).await,
        json!({"EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/steward"})
    );
    let described = ok(&m, &e("DescribeEventBus"), json!({"Name": "steward"})).await;
    assert_eq!(
        described["Arn"],
        "arn:aws:events:us-east-1:123456789012:event-bus/steward"
    );
    assert_eq!(described["CreationTime"], json!(1_795_852_800.0));
    let buses = ok(&m, &e("ListEventBuses"), json!({"Limit": 1})).await;
    assert_eq!(
        (
            buses["EventBuses"][0]["Name"].clone(),
            buses["NextToken"].clone()
        ),
        (json!("default"), json!("1"))
    );
    let pattern = r#"{"source":["steward.partner"]}"#;
    assert_eq!(
        ok(&m, &e("PutRule"), json!({"Name": "r", "EventBusName": "steward", "EventPattern": pattern, "Description": "d"})).await,
        json!({"RuleArn": "arn:aws:events:us-east-1:123456789012:rule/steward/r"})
    );
    assert_eq!(
        ok(
            &m,
            &e("DescribeRule"),
            json!({"Name": "r", "EventBusName": "steward"})
        )
        .await,
        json!({"Name": "r", "Arn": "arn:aws:events:us-east-1:123456789012:rule/steward/r", "EventPattern": pattern,
               "State": "ENABLED", "EventBusName": "steward", "Description": "d", "CreatedBy": "123456789012"})
    );
    assert_eq!(
        ok(
            &m,
            &e("ListRules"),
            json!({"EventBusName": "steward", "NamePrefix": "x"})
        )
        .await,
        json!({"Rules": []})
    );
    ok(&m, "AmazonSQS.CreateQueue", json!({"QueueName": "sub"})).await;
    let target = json!({"Id": "q", "Arn": "arn:aws:sqs:us-east-1:123456789012:sub", "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:123456789012:sub"}, "RetryPolicy": {"MaximumRetryAttempts": 3}});
    assert_eq!(
        ok(
            &m,
            &e("PutTargets"),
            json!({"Rule": "r", "EventBusName": "steward", "Targets": [target]})
        )
        .await,
        json!({"FailedEntryCount": 0, "FailedEntries": []})
    );
    assert_eq!(
        ok(
            &m,
            &e("ListTargetsByRule"),
            json!({"Rule": "r", "EventBusName": "steward"})
        )
        .await,
        json!({"Targets": [target]})
    );
    let (status, body, _) = call(
        &m,
        &e("DeleteRule"),
        json!({"Name": "r", "EventBusName": "steward"}),
    )
    .await;
    assert_eq!(
        (status, body["__type"].clone()),
        (400, json!("ValidationException"))
    );
    let put = ok(&m, &e("PutEvents"), json!({"Entries": [
        {"Source": "steward.partner", "DetailType": "Desktop Available", "Detail": "{}", "EventBusName": "steward", "Time": 1_767_225_600},
        {"Source": "steward.partner", "DetailType": "Desktop Available", "Detail": "nope", "EventBusName": "steward"}]})).await;
    assert_eq!(put["FailedEntryCount"], 1);
    assert_eq!(
        put["Entries"][1],
        json!({"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."})
    );
    let received = ok(&m, "AmazonSQS.ReceiveMessage", json!({"QueueUrl": URL})).await;
    let event: Value =
        serde_json::from_str(received["Messages"][0]["Body"].as_str().unwrap()).unwrap();
    assert_eq!(
        (event["id"].clone(), event["time"].clone()),
        (
            put["Entries"][0]["EventId"].clone(),
            json!("2026-01-01T00:00:00Z")
        )
    );
    assert_eq!(
        ok(
            &m,
            &e("RemoveTargets"),
            json!({"Rule": "r", "EventBusName": "steward", "Ids": ["q"]})
        )
        .await["FailedEntryCount"],
        0
    );
    assert_eq!(
        ok(
            &m,
            &e("DeleteRule"),
            json!({"Name": "r", "EventBusName": "steward"})
        )
        .await,
        json!({})
    );
    assert_eq!(
        ok(&m, &e("DeleteEventBus"), json!({"Name": "steward"})).await,
        json!({})
    );
}

#[tokio::test]
async fn test_event_pattern_answers_the_match() {
    let m = messaging();
    let pattern = r#"{"source":["steward.partner"]}"#;
    let event = |source: &str| {
        json!({"id": "1", "account": "1", "source": source, "time": "t", "region": "r",
               "detail-type": "x", "detail": {}})
        .to_string()
    };
    for (source, matched) in [("steward.partner", true), ("steward", false)] {
        let test = json!({"EventPattern": pattern, "Event": event(source)});
        assert_eq!(
            ok(&m, "AWSEvents.TestEventPattern", test).await,
            json!({"Result": matched})
        );
    }
}

#[tokio::test]
async fn eventbridge_errors_are_named() {
    let m = messaging();
    let e = |op: &str| format!("AWSEvents.{op}");
    let cases = [
        (
            e("PutRule"),
            json!({"Name": "r", "EventPattern": "{\"source\":\"x\"}"}),
            "InvalidEventPatternException",
        ),
        (
            e("PutRule"),
            json!({"Name": "r", "ScheduleExpression": "rate(1 hour)"}),
            "ValidationException",
        ),
        (
            e("PutRule"),
            json!({"Name": "r", "EventPattern": "{}", "State": "SOMETIMES"}),
            "ValidationException",
        ),
        (
            e("DescribeRule"),
            json!({"Name": "nope"}),
            "ResourceNotFoundException",
        ),
        (
            e("PutEvents"),
            json!({"Entries": []}),
            "ValidationException",
        ),
        (
            e("CreateEventBus"),
            json!({"Name": "default"}),
            "ValidationException",
        ),
        (e("PutPermission"), json!({}), "UnknownOperationException"),
        (
            "Other.Thing".to_owned(),
            json!({}),
            "UnknownOperationException",
        ),
    ];
    for (target, body, expected) in cases {
        let (status, parsed, response) = call(&m, &target, body).await;
        assert_eq!(
            (status, parsed["__type"].as_str()),
            (400, Some(expected)),
            "{target}"
        );
        assert_eq!(response.content_type, "application/x-amz-json-1.1");
    }
    let garbage = m.handle("AWSEvents.PutEvents", b"{not json").await;
    assert!(garbage.body.contains("SerializationException"));
}

#[tokio::test]
async fn sqs_operations_answer_their_shapes() {
    let m = messaging();
    let s = |op: &str| format!("AmazonSQS.{op}");
    assert_eq!(
        ok(&m, &s("CreateQueue"), json!({"QueueName": "sub"})).await,
        json!({"QueueUrl": URL})
    );
    assert_eq!(
        ok(&m, &s("GetQueueUrl"), json!({"QueueName": "sub"})).await,
        json!({"QueueUrl": URL})
    );
    assert_eq!(
        ok(&m, &s("ListQueues"), json!({})).await,
        json!({"QueueUrls": [URL]})
    );
    assert_eq!(
        ok(
            &m,
            &s("SetQueueAttributes"),
            json!({"QueueUrl": URL, "Attributes": {"Policy": "{}"}})
        )
        .await,
        json!({})
    );
    let attrs = ok(
        &m,
        &s("GetQueueAttributes"),
        json!({"QueueUrl": URL, "AttributeNames": ["QueueArn", "Policy"]}),
    )
    .await;
    assert_eq!(
        attrs,
        json!({"Attributes": {"QueueArn": "arn:aws:sqs:us-east-1:123456789012:sub", "Policy": "{}"}})
    );
    let sent = ok(&m, &s("SendMessage"), json!({"QueueUrl": URL, "MessageBody": "hello", "MessageAttributes": {
        "A": {"DataType": "String", "StringValue": "v"}, "B": {"DataType": "Binary", "BinaryValue": "AQI="}}})).await;
    assert_eq!(sent["MD5OfMessageBody"], "5d41402abc4b2a76b9719d911017c592");
    assert_eq!(
        sent["MD5OfMessageAttributes"],
        "caccf54801d29cde233136d4abad82f1"
    );
    let batch = ok(&m, &s("SendMessageBatch"), json!({"QueueUrl": URL, "Entries": [{"Id": "a", "MessageBody": "x"}, {"Id": "b", "MessageBody": ""}]})).await;
    assert_eq!(batch["Successful"][0]["Id"], "a");
    assert_eq!(
        batch["Failed"],
        json!([{"Id": "b", "SenderFault": true, "Code": "MissingParameter", "Message": "The request must contain the parameter MessageBody."}])
    );
    let got = ok(&m, &s("ReceiveMessage"), json!({"QueueUrl": URL, "MaxNumberOfMessages": 10, "MessageAttributeNames": ["All"],
        "MessageSystemAttributeNames": ["ApproximateReceiveCount", "SentTimestamp"], "VisibilityTimeout": 30})).await;
    let messages = got["Messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    let first = &messages[0];
    assert_eq!(
        first["Attributes"],
        json!({"ApproximateReceiveCount": "1", "SentTimestamp": "1795852800000"})
    );
    assert_eq!(
        first["MD5OfMessageAttributes"],
        "caccf54801d29cde233136d4abad82f1"
    );
    assert_eq!(
        first["MessageAttributes"]["B"],
        json!({"DataType": "Binary", "BinaryValue": "AQI="})
    );
    let receipt = first["ReceiptHandle"].clone();
    assert_eq!(
        ok(
            &m,
            &s("ChangeMessageVisibility"),
            json!({"QueueUrl": URL, "ReceiptHandle": receipt, "VisibilityTimeout": 60})
        )
        .await,
        json!({})
    );
    assert_eq!(
        ok(
            &m,
            &s("DeleteMessage"),
            json!({"QueueUrl": URL, "ReceiptHandle": receipt})
        )
        .await,
        json!({})
    );
    let deleted = ok(&m, &s("DeleteMessageBatch"), json!({"QueueUrl": URL, "Entries": [{"Id": "x", "ReceiptHandle": messages[1]["ReceiptHandle"]}, {"Id": "y", "ReceiptHandle": "bad"}]})).await;
    assert_eq!(deleted["Successful"], json!([{"Id": "x"}]));
    assert_eq!(deleted["Failed"][0]["Code"], "ReceiptHandleIsInvalid");
    assert_eq!(
        ok(&m, &s("ReceiveMessage"), json!({"QueueUrl": URL})).await,
        json!({})
    );
    assert_eq!(
        ok(&m, &s("PurgeQueue"), json!({"QueueUrl": URL})).await,
        json!({})
    );
    assert_eq!(
        ok(&m, &s("DeleteQueue"), json!({"QueueUrl": URL})).await,
        json!({})
    );
    assert_eq!(ok(&m, &s("ListQueues"), json!({})).await, json!({}));
}

#[tokio::test]
async fn sqs_errors_carry_the_query_code() {
    let m = messaging();
    let s = |op: &str| format!("AmazonSQS.{op}");
    let (status, body, response) = call(&m, &s("GetQueueUrl"), json!({"QueueName": "nope"})).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "The specified queue does not exist."})
    );
    assert_eq!(
        response.headers,
        vec![(
            "x-amzn-query-error",
            "AWS.SimpleQueueService.NonExistentQueue;Sender".to_owned()
        )]
    );
    assert_eq!(response.content_type, "application/x-amz-json-1.0");
    ok(&m, &s("CreateQueue"), json!({"QueueName": "sub"})).await;
    let cases = [
        (
            s("CreateQueue"),
            json!({}),
            "com.amazonaws.sqs#MissingParameter",
        ),
        (
            s("CreateQueue"),
            json!({"QueueName": "sub", "Attributes": {"DelaySeconds": "5"}}),
            "com.amazonaws.sqs#QueueNameExists",
        ),
        (
            s("ReceiveMessage"),
            json!({"QueueUrl": URL, "MaxNumberOfMessages": 11}),
            "com.amazonaws.sqs#InvalidParameterValue",
        ),
        (
            s("ReceiveMessage"),
            json!({"QueueUrl": URL, "WaitTimeSeconds": -1}),
            "com.amazonaws.sqs#InvalidParameterValue",
        ),
        (
            s("SendMessageBatch"),
            json!({"QueueUrl": URL, "Entries": []}),
            "com.amazonaws.sqs#EmptyBatchRequest",
        ),
        (
            s("GetQueueAttributes"),
            json!({"QueueUrl": URL, "AttributeNames": ["Nope"]}),
            "com.amazonaws.sqs#InvalidAttributeName",
        ),
        (
            s("ChangeMessageVisibilityBatch"),
            json!({}),
            "com.amazonaws.sqs#UnknownOperationException",
        ),
    ];
    for (target, request, expected) in cases {
        let (status, body, _) = call(&m, &target, request).await;
        assert_eq!(
            (status, body["__type"].as_str()),
            (400, Some(expected)),
            "{target}"
        );
    }
}

#[tokio::test]
async fn a_wire_receive_long_polls_until_a_send() {
    let m = messaging();
    ok(&m, "AmazonSQS.CreateQueue", json!({"QueueName": "sub"})).await;
    let waiting = {
        let m = m.clone();
        tokio::spawn(async move {
            ok(
                &m,
                "AmazonSQS.ReceiveMessage",
                json!({"QueueUrl": URL, "WaitTimeSeconds": 10}),
            )
            .await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    ok(
        &m,
        "AmazonSQS.SendMessage",
        json!({"QueueUrl": URL, "MessageBody": "late"}),
    )
    .await;
    let got = tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got["Messages"][0]["Body"], "late");
}
