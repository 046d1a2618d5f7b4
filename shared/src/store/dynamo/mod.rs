//! The store on DynamoDB: one table, composite keys per tenant, one sparse index.
//! See [`super::schema`] for the key layout.
//!
//! One room per kind of item, each implementing its trait of [`super`] — [`tenants`],
//! [`workspaces`], [`steps`], [`audit`], [`usage`], [`dedupe`], [`pools`] (pools and users), [`plans`] (plans, calendars, start times, plan usage) — over the shared
//! machinery the kinds have in common, kept apart so that each is written once:
//!
//! - [`keys`]: the key of every item kind (the table [`super::schema`] draws), and the
//!   conversion of records to items and back.
//! - [`writes`]: single-item reads and conditional writes (create once, replace at a version).
//! - [`query`]: pages of a partition or of the sparse index, and their cursors.
//! - [`batch`]: batched and transactional writes, with their back-off and the reading of a
//!   cancelled transaction.
//! - [`errors`]: the classification of the SDK's errors into [`StoreError`]s.

mod audit;
mod batch;
mod dedupe;
mod errors;
mod keys;
mod plans;
mod pools;
mod query;
mod steps;
mod tenants;
mod usage;
mod workspaces;
mod writes;

use aws_sdk_dynamodb::Client;

pub(crate) use errors::classify;

#[cfg(doc)]
use super::StoreError;

/// The one DynamoDB-backed store.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}
