//! The table's key schema, in one place. `template.yaml` declares the same table; a test
//! compares the two, and tests and the sandbox create their tables from here.
//!
//! | item            | pk              | sk                        | gsi1pk          | gsi1sk   |
//! |-----------------|-----------------|---------------------------|-----------------|----------|
//! | tenant          | `TENANT#<id>`   | `TENANT`                  | `TENANTS`       | `<id>`   |
//! | workspace       | `TENANT#<id>`   | `WS#<ws>`                 | `SWEEP#<id>` ¹  | `<ws>`   |
//! | onboarding step | `TENANT#<id>`   | `STEP#<nn>#<STEP>`        |                 |          |
//! | audit record    | `TENANT#<id>`   | `AUDIT#<rfc3339>#<uuid>`  |                 |          |
//! | usage (month)   | `TENANT#<id>`   | `USAGE#<yyyy-mm>#<ws>`    |                 |          |
//! | event dedupe    | `TENANT#<id>`   | `EVENT#<event id>`        |                 |          |
//! | pool            | `TENANT#<id>`   | `POOL#<pool>`             |                 |          |
//! | user            | `TENANT#<id>`   | `USER#<user>`             |                 |          |
//! | power plan      | `TENANT#<id>`   | `PLAN#<pool or TENANT>`   |                 |          |
//! | holiday calendar| `TENANT#<id>`   | `CAL#<name>`              |                 |          |
//! | start times     | `TENANT#<id>`   | `STARTS`                  |                 |          |
//! | plan usage      | `TENANT#<id>`   | `PLANUSE#<yyyy-mm>#<scope>`|                |          |
//!
//! ¹ only while the desktop is MANUAL and not TERMINATED (STOPPED ones included: they can be
//! started outside Steward): the index is sparse, so a sweep reads exactly the desktops it
//! must look at. Dedupe records carry `expires_at`
//! (epoch seconds), the table's TTL attribute.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};

use super::{Result, StoreError};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1: &str = "gsi1";
pub const GSI1_PK: &str = "gsi1pk";
pub const GSI1_SK: &str = "gsi1sk";
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// The key schema as data: `(attribute, role)` pairs, each role as the SDK types it
/// (`HASH` or `RANGE` on the wire, as `template.yaml` writes it).
pub const TABLE_KEYS: [(&str, KeyType); 2] = [(PK, KeyType::Hash), (SK, KeyType::Range)];
pub const GSI1_KEYS: [(&str, KeyType); 2] = [(GSI1_PK, KeyType::Hash), (GSI1_SK, KeyType::Range)];
/// Every key attribute is a string.
pub const KEY_ATTRIBUTES: [&str; 4] = [PK, SK, GSI1_PK, GSI1_SK];

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(request_error)
}

fn request_error(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Request {
        message: e.to_string(),
        source: Box::new(e),
    }
}

/// Creates the table (on-demand) with its index and TTL, as `template.yaml` declares it.
/// Used by tests and the sandbox; the deployed table comes from the template.
pub async fn create_table(client: &Client, table: &str) -> Result<()> {
    let mut create = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest);
    for name in KEY_ATTRIBUTES {
        create = create.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(request_error)?,
        );
    }
    for (name, kind) in TABLE_KEYS {
        create = create.key_schema(key(name, kind)?);
    }
    let mut gsi = GlobalSecondaryIndex::builder().index_name(GSI1).projection(
        Projection::builder()
            .projection_type(ProjectionType::All)
            .build(),
    );
    for (name, kind) in GSI1_KEYS {
        gsi = gsi.key_schema(key(name, kind)?);
    }
    create = create.global_secondary_indexes(gsi.build().map_err(request_error)?);
    create.send().await.map_err(super::dynamo::classify)?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(TTL_ATTRIBUTE)
                .enabled(true)
                .build()
                .map_err(request_error)?,
        )
        .send()
        .await
        .map_err(super::dynamo::classify)?;
    Ok(())
}
