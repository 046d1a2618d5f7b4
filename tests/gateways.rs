//! The gateways against a real service implementation (moto's EventBridge).

use aws_config::Region;
use aws_sdk_eventbridge::config::Credentials;
use steward_shared::gateway::ItemOutcome;
use steward_shared::gateway::eventbridge::{MAX_ENTRY_BYTES, Outbound, Publisher};

async fn eventbridge() -> aws_sdk_eventbridge::Client {
    let config = steward_shared::aws::sdk_defaults()
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(steward_tests::moto_endpoint())
        .load()
        .await;
    aws_sdk_eventbridge::Client::new(&config)
}

#[tokio::test]
async fn publishes_in_batches_and_reports_every_entry() {
    let client = eventbridge().await;
    let bus = format!("steward-test-{}", std::process::id());
    client.create_event_bus().name(&bus).send().await.unwrap();
    let mut events: Vec<Outbound> = (0..23)
        .map(|i| {
            Outbound::new(
                "Desktop Stopped",
                &serde_json::json!({"tenantId": "acme", "workspaceId": format!("ws-{i:08x}")}),
            )
        })
        .collect();
    // One too large to send sits among them: it is reported, the others still go out.
    events.insert(
        5,
        Outbound::new(
            "Too Big",
            &serde_json::json!({"blob": "x".repeat(MAX_ENTRY_BYTES)}),
        ),
    );
    let publisher = Publisher::new(&client, &bus, "steward");
    let outcomes = publisher.publish(&events).await.unwrap();
    assert_eq!(outcomes.len(), 24);
    assert!(matches!(&outcomes[5], ItemOutcome::Failed { code, .. } if code == "EntryTooLarge"));
    let accepted = outcomes
        .iter()
        .filter(|o| **o == ItemOutcome::Accepted)
        .count();
    assert_eq!(accepted, 23);
}
