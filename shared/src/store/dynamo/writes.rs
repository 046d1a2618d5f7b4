//! Single-item reads and conditional writes, the ones every kind of record shares: a record
//! is created once (its key must be free) and replaced or deleted only at the version it was
//! read at, which is what lets two functions act on one desktop without losing a write.

use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::DynamoStore;
use super::errors::classify;
use super::keys::{Keys, Versioned, from_item, to_item};
use crate::store::schema::PK;
use crate::store::{RecordKind, Result, StoreError};

/// Why a write conditioned on a version failed: the item was there at another version
/// (`existed`), or not there at all.
fn version_failure(kind: RecordKind, keys: &Keys, expected: u64, existed: bool) -> StoreError {
    let key = keys.describe();
    if existed {
        StoreError::VersionConflict {
            kind,
            key,
            expected,
        }
    } else {
        StoreError::NotFound { kind, key }
    }
}

impl DynamoStore {
    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        kind: RecordKind,
        keys: &Keys,
    ) -> Result<Option<T>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(keys.key()))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        out.item.map(|item| from_item(kind, item)).transpose()
    }

    /// Writes a new record at version 1; fails if the key is taken.
    pub(super) async fn put_new<T>(&self, kind: RecordKind, keys: &Keys, record: &T) -> Result<T>
    where
        T: Serialize + Versioned + Clone,
    {
        let mut stored = record.clone();
        stored.set_version(1);
        self.put_if_absent(kind, keys, &stored).await?;
        Ok(stored)
    }

    /// Writes an item whose key must not exist yet; `AlreadyExists` otherwise.
    pub(super) async fn put_if_absent<T: Serialize>(
        &self,
        kind: RecordKind,
        keys: &Keys,
        record: &T,
    ) -> Result<()> {
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(kind, keys, record)?))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::AlreadyExists {
                    kind,
                    key: keys.describe(),
                })
            }
            Err(e) => Err(classify(e)),
        }
    }

    /// Replaces a record if it is still at `record.version()`; returns it at +1.
    pub(super) async fn put_versioned<T>(
        &self,
        kind: RecordKind,
        keys: &Keys,
        record: &T,
    ) -> Result<T>
    where
        T: Serialize + Versioned + Clone,
    {
        let expected = record.version();
        let mut stored = record.clone();
        stored.set_version(expected + 1);
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(kind, keys, &stored)?))
            .condition_expression("#v = :expected")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match res {
            Ok(_) => Ok(stored),
            Err(e) => match e.as_service_error() {
                Some(s) if s.is_conditional_check_failed_exception() => {
                    let existed = match s {
                        PutItemError::ConditionalCheckFailedException(c) => {
                            c.item().is_some_and(|i| !i.is_empty())
                        }
                        _ => false,
                    };
                    Err(version_failure(kind, keys, expected, existed))
                }
                _ => Err(classify(e)),
            },
        }
    }

    /// Removes a record if it is still at `expected`.
    pub(super) async fn delete_versioned(
        &self,
        kind: RecordKind,
        keys: &Keys,
        expected: u64,
    ) -> Result<()> {
        let res = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keys.key()))
            .condition_expression("#v = :expected")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(DeleteItemError::ConditionalCheckFailedException(c)) => {
                    let existed = c.item().is_some_and(|i| !i.is_empty());
                    Err(version_failure(kind, keys, expected, existed))
                }
                _ => Err(classify(e)),
            },
        }
    }
}
