use std::sync::Arc;

use chrono::{TimeZone, Utc};

use super::*;

pub(crate) fn settings() -> Arc<Settings> {
    Arc::new(Settings {
        region: "us-east-1".into(),
        account: "123456789012".into(),
        queue_url_base: "http://127.0.0.1:4566".into(),
        clock: Arc::new(|| Utc.with_ymd_and_hms(2026, 11, 28, 8, 0, 0).unwrap()),
    })
}

fn queues() -> Queues {
    Queues::new(settings())
}

fn no_attributes() -> BTreeMap<String, String> {
    BTreeMap::new()
}

#[test]
fn create_is_idempotent_with_equal_attributes_and_names_the_difference() {
    let q = queues();
    let mut attrs = BTreeMap::new();
    attrs.insert("VisibilityTimeout".to_owned(), "10".to_owned());
    let url = q.create_queue("subscriber", &attrs).unwrap();
    assert_eq!(url, "http://127.0.0.1:4566/123456789012/subscriber");
    assert_eq!(q.create_queue("subscriber", &attrs).unwrap(), url);
    attrs.insert("VisibilityTimeout".to_owned(), "11".to_owned());
    assert_eq!(
        q.create_queue("subscriber", &attrs),
        Err(SqsError::QueueNameExists {
            attribute: "VisibilityTimeout".into()
        })
    );
    assert_eq!(
        q.queue_arn(&url).unwrap(),
        "arn:aws:sqs:us-east-1:123456789012:subscriber"
    );
    assert_eq!(
        q.queue_url("arn:aws:sqs:us-east-1:123456789012:subscriber")
            .unwrap(),
        url
    );
    assert!(matches!(
        q.create_queue("bad name", &no_attributes()),
        Err(SqsError::InvalidParameterValue { .. })
    ));
    assert!(matches!(
        q.create_queue("q.fifo", &no_attributes()),
        Err(SqsError::Unsupported { .. })
    ));
    attrs.clear();
    attrs.insert("Bogus".to_owned(), "1".to_owned());
    assert_eq!(
        q.create_queue("other", &attrs),
        Err(SqsError::InvalidAttributeName {
            name: "Bogus".into()
        })
    );
    assert_eq!(q.list(None), vec![url]);
    assert_eq!(q.delete_queue("subscriber"), Ok(()));
    assert_eq!(q.queue_url("subscriber"), Err(SqsError::QueueDoesNotExist));
}

#[tokio::test]
async fn long_polling_receive_is_woken_by_a_send() {
    let q = queues();
    let url = q.create_queue("poll", &no_attributes()).unwrap();
    let receiver = {
        let (q, url) = (q.clone(), url.clone());
        tokio::spawn(async move {
            let started = Instant::now();
            let got = q
                .receive(
                    &url,
                    ReceiveRequest {
                        wait_seconds: Some(10),
                        ..ReceiveRequest::default()
                    },
                )
                .await
                .unwrap();
            (got, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sent = q.send_message(&url, SendRequest::body("hello")).unwrap();
    let (got, waited) = receiver.await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].message_id, sent.message_id);
    assert_eq!(got[0].body, "hello");
    assert_eq!(got[0].md5_of_body, "5d41402abc4b2a76b9719d911017c592");
    assert!(
        waited >= Duration::from_millis(150) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
}

#[tokio::test]
async fn an_empty_receive_without_wait_answers_at_once() {
    let q = queues();
    let url = q.create_queue("empty", &no_attributes()).unwrap();
    let got = q.receive(&url, ReceiveRequest::default()).await.unwrap();
    assert!(got.is_empty());
    assert!(matches!(
        q.receive(
            &url,
            ReceiveRequest {
                max_messages: Some(11),
                ..ReceiveRequest::default()
            }
        )
        .await,
        Err(SqsError::InvalidParameterValue { .. })
    ));
}

#[tokio::test]
async fn a_received_message_is_hidden_until_its_visibility_timeout() {
    let q = queues();
    let url = q.create_queue("vis", &no_attributes()).unwrap();
    q.send_message(&url, SendRequest::body("m")).unwrap();
    let request = ReceiveRequest {
        visibility_timeout: Some(1),
        ..ReceiveRequest::default()
    };
    let first = q.receive(&url, request.clone()).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].receive_count, 1);
    assert_eq!(q.message_counts(&url).unwrap(), (0, 1));
    assert!(q.receive(&url, request.clone()).await.unwrap().is_empty());
    // Long polling also wakes when a hidden message comes back.
    let again = q
        .receive(
            &url,
            ReceiveRequest {
                wait_seconds: Some(5),
                ..request
            },
        )
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].receive_count, 2);
    assert_eq!(again[0].sent_timestamp, 1_795_852_800_000);
    assert_ne!(again[0].receipt_handle, first[0].receipt_handle);
    q.delete_message(&url, &again[0].receipt_handle).unwrap();
    assert_eq!(q.message_counts(&url).unwrap(), (0, 0));
    assert_eq!(
        q.delete_message(&url, "garbage"),
        Err(SqsError::ReceiptHandleIsInvalid)
    );
}

#[tokio::test]
async fn change_visibility_and_redrive() {
    let q = queues();
    let dlq = q.create_queue("dlq", &no_attributes()).unwrap();
    let mut attrs = BTreeMap::new();
    attrs.insert(
        "RedrivePolicy".to_owned(),
        r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:dlq","maxReceiveCount":"1"}"#
            .to_owned(),
    );
    let url = q.create_queue("main", &attrs).unwrap();
    q.send_message(&url, SendRequest::body("poison")).unwrap();
    let got = q.receive(&url, ReceiveRequest::default()).await.unwrap();
    assert_eq!(q.change_visibility(&url, &got[0].receipt_handle, 0), Ok(()));
    assert_eq!(
        q.change_visibility(&url, &got[0].receipt_handle, 0),
        Err(SqsError::MessageNotInflight)
    );
    // Received once already: the next receive moves it to the dead-letter queue.
    assert!(
        q.receive(&url, ReceiveRequest::default())
            .await
            .unwrap()
            .is_empty()
    );
    let dead = q.receive(&dlq, ReceiveRequest::default()).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body, "poison");
}

#[test]
fn attributes_report_counts_and_settings() {
    let q = queues();
    let url = q.create_queue("attrs", &no_attributes()).unwrap();
    q.send_message(&url, SendRequest::body("a")).unwrap();
    q.send_message(
        &url,
        SendRequest {
            delay_seconds: Some(60),
            ..SendRequest::body("b")
        },
    )
    .unwrap();
    let mut policy = BTreeMap::new();
    policy.insert("Policy".to_owned(), "{}".to_owned());
    q.set_attributes(&url, &policy).unwrap();
    let a = q.attributes(&url).unwrap();
    let expected: BTreeMap<String, String> = [
        ("ApproximateNumberOfMessages", "1"),
        ("ApproximateNumberOfMessagesDelayed", "1"),
        ("ApproximateNumberOfMessagesNotVisible", "0"),
        ("CreatedTimestamp", "1795852800"),
        ("DelaySeconds", "0"),
        ("LastModifiedTimestamp", "1795852800"),
        ("MaximumMessageSize", "262144"),
        ("MessageRetentionPeriod", "345600"),
        ("Policy", "{}"),
        ("QueueArn", "arn:aws:sqs:us-east-1:123456789012:attrs"),
        ("ReceiveMessageWaitTimeSeconds", "0"),
        ("VisibilityTimeout", "30"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(a, expected);
    q.purge(&url).unwrap();
    assert_eq!(q.message_counts(&url).unwrap(), (0, 0));
    assert_eq!(
        q.send_message(&url, SendRequest::body("")),
        Err(SqsError::MissingParameter {
            field: "MessageBody".into()
        })
    );
    assert_eq!(
        q.send_message(&url, SendRequest::body("\u{0}")),
        Err(SqsError::InvalidMessageContents)
    );
}
