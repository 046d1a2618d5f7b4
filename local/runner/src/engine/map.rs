//! Map: the items (ItemsPath), each through ItemSelector (with `$$.Map.Item`) and the
//! ItemProcessor, at most `MaxConcurrency` at a time, the results in item order. A
//! Distributed Map over its input's array runs the same way, without child executions.

use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::exec::{Exec, StateCtx};
use crate::definition::{MapSpec, State};
use crate::error::StateError;
use crate::history::HistoryEventType;

/// One attempt of a Map state: the state and its spec, the effective input, when the
/// state was entered and the attempt's retry count (for the context object).
pub(super) struct MapAttempt<'a> {
    pub(super) st: &'a State,
    pub(super) spec: &'a MapSpec,
    pub(super) eff: &'a Value,
    pub(super) entered: DateTime<Utc>,
    pub(super) retry_count: u64,
}

impl MapAttempt<'_> {
    fn context_of<'s>(&'s self, map_item: Option<(usize, &'s Value)>) -> StateCtx<'s> {
        StateCtx {
            state: self.st,
            entered: self.entered,
            retry_count: self.retry_count,
            token: None,
            map_item,
        }
    }
}

impl Exec {
    pub(super) async fn run_map(&self, m: &MapAttempt<'_>) -> Result<Value, StateError> {
        let ctx = self.context(&m.context_of(None));
        let items = match &m.spec.items_path {
            Some(p) => p.select_required(m.eff, &ctx, "ItemsPath")?,
            None => m.eff.clone(),
        };
        let Value::Array(items) = items else {
            return Err(StateError::runtime(format!(
                "the Map state `{}` needs ItemsPath to select an array, got {items}",
                m.st.name
            )));
        };
        let concurrency = if m.spec.max_concurrency == 0 {
            items.len().max(1)
        } else {
            m.spec.max_concurrency
        };
        let mut runs: Vec<BoxFuture<'_, Result<Value, StateError>>> =
            Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            runs.push(self.run_item(m, i, item));
        }
        let mut stream = futures::stream::iter(runs).buffered(concurrency);
        let mut results = Vec::with_capacity(items.len());
        while let Some(r) = stream.next().await {
            results.push(r?);
        }
        Ok(Value::Array(results))
    }

    /// One iteration: the item through ItemSelector, then the ItemProcessor.
    fn run_item<'a>(
        &'a self,
        m: &'a MapAttempt<'a>,
        index: usize,
        item: &'a Value,
    ) -> BoxFuture<'a, Result<Value, StateError>> {
        Box::pin(async move {
            let input = match &m.spec.item_selector {
                Some(t) => {
                    let ictx = self.context(&m.context_of(Some((index, item))));
                    t.evaluate(m.eff, &ictx)?
                }
                None => item.clone(),
            };
            self.record(
                HistoryEventType::MapIterationStarted,
                Some(&m.st.name),
                json!({"index": index, "input": input}),
            );
            self.run_block(&m.spec.processor, input).await
        })
    }
}
