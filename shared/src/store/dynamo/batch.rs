//! Batched and transactional writes, and their back-off. The sweeps write many desktop
//! records, audit records and usage additions at once; the service takes them 25
//! (BatchWriteItem) or 100 (TransactWriteItems) at a time and may leave some undone under
//! throttling. What to send again, after how long, and when to give up is decided here, once
//! for every kind.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{CancellationReason, TransactWriteItem};

use super::DynamoStore;
use super::errors::classify;
use crate::store::{Result, StoreError};

/// Items per BatchWriteItem (the service's limit).
pub(super) const BATCH_WRITE: usize = 25;
/// Rounds of a batch write before its unprocessed items are reported as throttled.
pub(super) const BATCH_ATTEMPTS: u32 = 6;
const BATCH_BACKOFF: std::time::Duration = std::time::Duration::from_millis(50);
/// Actions per TransactWriteItems (the service's limit).
pub(super) const TRANSACT_MAX: usize = 100;

/// What one action of a cancelled transaction needs next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cancelled {
    /// Its own condition failed; `existed` says whether the item was there at all.
    ConditionFailed { existed: bool },
    /// Not at fault (another action cancelled the transaction), or it met a transient
    /// condition (throttling, another transaction on the same item): send it again.
    Retry,
    /// The table refused it for good (validation, item collection size, …).
    Refused,
}

/// Reads one cancellation reason (codes as the DynamoDB API reference lists them).
fn cancelled(reason: &CancellationReason) -> Cancelled {
    match reason.code() {
        None | Some("None") => Cancelled::Retry,
        Some("ConditionalCheckFailed") => Cancelled::ConditionFailed {
            existed: reason.item().is_some_and(|i| !i.is_empty()),
        },
        Some(
            "TransactionConflict"
            | "ThrottlingError"
            | "ProvisionedThroughputExceeded"
            | "RequestLimitExceeded",
        ) => Cancelled::Retry,
        Some(_) => Cancelled::Refused,
    }
}

/// Before round `round` of a batch: waits (exponential back-off from the second round
/// on), or gives up as `Throttled` once [`BATCH_ATTEMPTS`] rounds have not been enough.
pub(super) async fn next_round(round: u32, left: usize, what: &str) -> Result<()> {
    if round == BATCH_ATTEMPTS {
        return Err(StoreError::Throttled {
            source: format!("{left} {what} after {BATCH_ATTEMPTS} rounds").into(),
        });
    }
    if round > 0 {
        tokio::time::sleep(BATCH_BACKOFF * 2u32.pow(round - 1)).await;
    }
    Ok(())
}

pub(super) fn transact_build_err(
    what: &str,
    e: aws_smithy_types::error::operation::BuildError,
) -> StoreError {
    StoreError::Request {
        message: format!("{what}: {e}"),
        source: Box::new(e),
    }
}

impl DynamoStore {
    /// Sends one TransactWriteItems. `Ok(None)`: every action applied. `Ok(Some(reasons))`:
    /// the transaction was cancelled and nothing applied; one reason per action, in order.
    pub(super) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<Option<Vec<Cancelled>>> {
        let n = items.len();
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(None),
            Err(e) => match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                    let reasons: Vec<Cancelled> =
                        c.cancellation_reasons().iter().map(cancelled).collect();
                    if reasons.len() == n {
                        Ok(Some(reasons))
                    } else {
                        Err(StoreError::Request {
                            message: format!(
                                "transaction cancelled with {} reasons for {n} actions",
                                reasons.len()
                            ),
                            source: Box::new(e),
                        })
                    }
                }
                _ => Err(classify(e)),
            },
        }
    }
}
