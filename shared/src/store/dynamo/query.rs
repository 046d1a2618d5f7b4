//! Pages of a partition (items whose sort key starts with a kind's prefix) or of the sparse
//! index, and the cursors that continue them. A cursor is the last item's sort key with the
//! kind's prefix taken off, so a partner's query sees no table layout; each listing checks
//! the cursor it is given before it is turned back into a key.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;

use super::DynamoStore;
use super::errors::classify;
use super::keys::{Item, from_item, string_attr};
use crate::store::schema::{GSI1, GSI1_PK, GSI1_SK, PK, SK};
use crate::store::{Page, PageRequest, RecordKind, Result};

const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 1000;

pub(super) fn page_limit(page: &PageRequest) -> i32 {
    page.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE) as i32
}

/// One page of a Query: where, which items, and from where on.
pub(super) struct QuerySpec<'a> {
    /// The index to read; `None` reads the table (consistently).
    pub(super) index: Option<&'a str>,
    /// The key condition expression.
    pub(super) condition: &'a str,
    /// Its `:value` placeholders (all strings).
    pub(super) values: Vec<(&'a str, String)>,
    /// Its `#name` placeholders.
    pub(super) names: Vec<(&'a str, &'a str)>,
    /// A filter expression, applied by the table after the key condition (its placeholders
    /// go in `values` and `names` too).
    pub(super) filter: Option<&'a str>,
    pub(super) limit: Option<i32>,
    /// The exclusive start key of the page.
    pub(super) start: Option<Item>,
}

impl DynamoStore {
    /// One page of a query: its items and the key to continue after, if any.
    pub(super) async fn query(&self, spec: QuerySpec<'_>) -> Result<(Vec<Item>, Option<Item>)> {
        let mut q = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(spec.index.map(str::to_owned))
            .key_condition_expression(spec.condition)
            .set_limit(spec.limit)
            .set_exclusive_start_key(spec.start)
            .set_filter_expression(spec.filter.map(str::to_owned))
            .consistent_read(spec.index.is_none());
        for (k, v) in spec.values {
            q = q.expression_attribute_values(k, AttributeValue::S(v));
        }
        for (k, v) in spec.names {
            q = q.expression_attribute_names(k, v);
        }
        let out = q.send().await.map_err(classify)?;
        Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
    }

    /// A page of the items in partition `pk` whose sort key starts with `prefix`.
    /// The cursor is the last item's sort key after the prefix.
    pub(super) async fn page_by_prefix<T: DeserializeOwned>(
        &self,
        kind: RecordKind,
        pk: String,
        prefix: &str,
        page: PageRequest,
    ) -> Result<Page<T>> {
        let start = page.after.as_ref().map(|after| {
            HashMap::from([
                (PK.to_owned(), AttributeValue::S(pk.clone())),
                (SK.to_owned(), AttributeValue::S(format!("{prefix}{after}"))),
            ])
        });
        let (items, last) = self
            .query(QuerySpec {
                index: None,
                condition: "#pk = :pk AND begins_with(#sk, :prefix)",
                values: vec![(":pk", pk.clone()), (":prefix", prefix.to_owned())],
                names: vec![("#pk", PK), ("#sk", SK)],
                limit: Some(page_limit(&page)),
                filter: None,
                start,
            })
            .await?;
        let next = last
            .and_then(|k| string_attr(&k, SK))
            .and_then(|sk| sk.strip_prefix(prefix).map(str::to_owned));
        let items = items
            .into_iter()
            .map(|i| from_item(kind, i))
            .collect::<Result<_>>()?;
        Ok(Page { items, next })
    }

    /// A page of the sparse index partition `gsi_pk`. The cursor is the last `gsi1sk`;
    /// `base_key` rebuilds the item's table key from it.
    pub(super) async fn page_by_index<T: DeserializeOwned>(
        &self,
        kind: RecordKind,
        gsi_pk: String,
        page: PageRequest,
        base_key: impl Fn(&str) -> Result<(String, String)>,
    ) -> Result<Page<T>> {
        let start = match page.after.as_deref() {
            None => None,
            Some(after) => {
                let (pk, sk) = base_key(after)?;
                Some(HashMap::from([
                    (GSI1_PK.to_owned(), AttributeValue::S(gsi_pk.clone())),
                    (GSI1_SK.to_owned(), AttributeValue::S(after.to_owned())),
                    (PK.to_owned(), AttributeValue::S(pk)),
                    (SK.to_owned(), AttributeValue::S(sk)),
                ]))
            }
        };
        let (items, last) = self
            .query(QuerySpec {
                index: Some(GSI1),
                condition: "#gpk = :gpk",
                values: vec![(":gpk", gsi_pk)],
                names: vec![("#gpk", GSI1_PK)],
                limit: Some(page_limit(&page)),
                filter: None,
                start,
            })
            .await?;
        let next = last.and_then(|k| string_attr(&k, GSI1_SK));
        let items = items
            .into_iter()
            .map(|i| from_item(kind, i))
            .collect::<Result<_>>()?;
        Ok(Page { items, next })
    }
}
