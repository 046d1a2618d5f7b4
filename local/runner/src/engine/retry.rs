//! Retry and Catch around the states that do work (Task, Map, Parallel), and one attempt
//! of such a state: input processing, the work, then ResultSelector → ResultPath →
//! OutputPath.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::exec::{Exec, Flow, StateCtx, flow};
use super::map::MapAttempt;
use super::task::TaskAttempt;
use crate::definition::{Jitter, Kind, State};
use crate::error::StateError;
use crate::history::HistoryEventType;

impl Exec {
    /// A Task, Map or Parallel state: attempts until one succeeds, a retrier is spent
    /// (then a catcher routes the error, or it fails the state) or the error matches none.
    pub(super) async fn run_with_retry(
        &self,
        st: &State,
        raw: Value,
        entered: DateTime<Utc>,
    ) -> Result<Flow, StateError> {
        let mut counts = vec![0u64; st.retry.len()];
        let mut retry_count = 0u64;
        loop {
            let err = match self.attempt(st, &raw, entered, retry_count).await {
                Ok(out) => return Ok(flow(st, out)),
                Err(e) => e,
            };
            if let Some(i) = st.retry.iter().position(|r| err.matches(&r.error_equals)) {
                let r = &st.retry[i];
                if counts[i] < r.max_attempts {
                    let exp = i32::try_from(counts[i]).unwrap_or(i32::MAX);
                    let mut delay = r.interval_seconds * r.backoff_rate.powi(exp);
                    if let Some(max) = r.max_delay_seconds {
                        delay = delay.min(max);
                    }
                    if r.jitter == Jitter::Full {
                        delay *= self.next_random();
                    }
                    let delay = delay.min(99_999_999.0);
                    counts[i] += 1;
                    retry_count += 1;
                    self.record(
                        HistoryEventType::RetryScheduled,
                        Some(&st.name),
                        json!({"error": err.error, "cause": err.cause, "retrier": i, "attempt": counts[i], "delay_seconds": delay}),
                    );
                    let until = self.clock.now()
                        + chrono::Duration::milliseconds((delay * 1000.0).round() as i64);
                    self.sleep(until).await?;
                    continue;
                }
            }
            if let Some(c) = st.catch.iter().find(|c| err.matches(&c.error_equals)) {
                self.record(
                    HistoryEventType::CaughtError,
                    Some(&st.name),
                    json!({"error": err.error, "cause": err.cause, "next": c.next}),
                );
                let out = c.result_path.apply(&raw, err.to_output())?;
                return Ok(Flow::Next(c.next.clone(), out));
            }
            return Err(err);
        }
    }

    /// One attempt of a Task, Map or Parallel state: input processing, the
    /// work, then ResultSelector → ResultPath → OutputPath.
    async fn attempt(
        &self,
        st: &State,
        raw: &Value,
        entered: DateTime<Utc>,
        retry_count: u64,
    ) -> Result<Value, StateError> {
        let token = match &st.kind {
            Kind::Task(spec) if spec.wait_for_token => Some(
                uuid::Uuid::new_v4().simple().to_string()
                    + &uuid::Uuid::new_v4().simple().to_string(),
            ),
            _ => None,
        };
        let sc = StateCtx {
            state: st,
            entered,
            retry_count,
            token: token.as_deref(),
            map_item: None,
        };
        let ctx = self.context(&sc);
        let eff = st.input_path.apply(raw, &ctx, "InputPath")?;
        let result = match &st.kind {
            Kind::Task(spec) => {
                let params = match &st.parameters {
                    Some(t) => t.evaluate(&eff, &ctx)?,
                    None => eff.clone(),
                };
                self.run_task(TaskAttempt {
                    st,
                    spec,
                    eff: &eff,
                    ctx: &ctx,
                    params,
                    token,
                    retry_count,
                })
                .await?
            }
            Kind::Map(spec) => {
                self.run_map(&MapAttempt {
                    st,
                    spec,
                    eff: &eff,
                    entered,
                    retry_count,
                })
                .await?
            }
            Kind::Parallel { branches } => {
                let input = match &st.parameters {
                    Some(t) => t.evaluate(&eff, &ctx)?,
                    None => eff.clone(),
                };
                let mut runs = Vec::with_capacity(branches.len());
                for b in branches {
                    runs.push(self.run_block(b, input.clone()));
                }
                Value::Array(futures::future::try_join_all(runs).await?)
            }
            _ => {
                return Err(StateError::runtime(format!(
                    "state `{}` cannot be retried",
                    st.name
                )));
            }
        };
        let result = match &st.result_selector {
            Some(t) => t.evaluate(&result, &ctx)?,
            None => result,
        };
        let merged = st.result_path.apply(raw, result)?;
        st.output_path.apply(&merged, &ctx, "OutputPath")
    }
}
