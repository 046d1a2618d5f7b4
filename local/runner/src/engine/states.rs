//! The states that do no work of their own — Pass, Wait, Choice, Succeed and Fail — and
//! the dispatch of every state entered: Task, Map and Parallel go through
//! [`super::retry`], which can repeat them.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::exec::{Exec, Flow, StateCtx, flow, ts};
use crate::choice::ChoiceRule;
use crate::definition::{FailField, Kind, State, WaitSpec};
use crate::error::{STATES_NO_CHOICE_MATCHED, StateError};
use crate::history::HistoryEventType;

impl Exec {
    pub(super) async fn run_state(&self, st: &State, raw: Value) -> Result<Flow, StateError> {
        let entered = self.clock.now();
        let sc = StateCtx {
            state: st,
            entered,
            retry_count: 0,
            token: None,
            map_item: None,
        };
        match &st.kind {
            Kind::Pass { result } => self.pass(&sc, raw, result),
            Kind::Wait(spec) => self.wait(&sc, raw, spec).await,
            Kind::Choice { choices, default } => self.choose(&sc, raw, choices, default),
            Kind::Succeed => {
                let ctx = self.context(&sc);
                let eff = st.input_path.apply(&raw, &ctx, "InputPath")?;
                Ok(Flow::End(st.output_path.apply(&eff, &ctx, "OutputPath")?))
            }
            Kind::Fail { error, cause } => Err(self.fail(&sc, &raw, error, cause)?),
            Kind::Task(_) | Kind::Map(_) | Kind::Parallel { .. } => {
                self.run_with_retry(st, raw, entered).await
            }
        }
    }

    /// Pass: `Result` (or the effective input, through Parameters) at ResultPath.
    fn pass(
        &self,
        sc: &StateCtx<'_>,
        raw: Value,
        result: &Option<Value>,
    ) -> Result<Flow, StateError> {
        let st = sc.state;
        let ctx = self.context(sc);
        let eff = st.input_path.apply(&raw, &ctx, "InputPath")?;
        let eff = match &st.parameters {
            Some(t) => t.evaluate(&eff, &ctx)?,
            None => eff,
        };
        let merged = st.result_path.apply(&raw, result.clone().unwrap_or(eff))?;
        Ok(flow(st, st.output_path.apply(&merged, &ctx, "OutputPath")?))
    }

    /// Wait: until the time the spec gives (a workflow sleep on the execution clock).
    async fn wait(
        &self,
        sc: &StateCtx<'_>,
        raw: Value,
        spec: &WaitSpec,
    ) -> Result<Flow, StateError> {
        let st = sc.state;
        let ctx = self.context(sc);
        let eff = st.input_path.apply(&raw, &ctx, "InputPath")?;
        let until = wait_until(sc.entered, spec, &eff, &ctx)?;
        self.record(
            HistoryEventType::WaitStarted,
            Some(&st.name),
            json!({"until": ts(until)}),
        );
        self.sleep(until).await?;
        Ok(flow(st, st.output_path.apply(&eff, &ctx, "OutputPath")?))
    }

    /// Choice: the first rule that matches names the next state, else `Default`.
    fn choose(
        &self,
        sc: &StateCtx<'_>,
        raw: Value,
        choices: &[ChoiceRule],
        default: &Option<String>,
    ) -> Result<Flow, StateError> {
        let st = sc.state;
        let ctx = self.context(sc);
        let eff = st.input_path.apply(&raw, &ctx, "InputPath")?;
        let mut next = None;
        for (i, c) in choices.iter().enumerate() {
            if c.rule.evaluate(&eff, &ctx)? {
                self.record(
                    HistoryEventType::ChoiceMatched,
                    Some(&st.name),
                    json!({"rule": i, "next": c.next}),
                );
                next = Some(c.next.clone());
                break;
            }
        }
        let next = match (next, default) {
            (Some(n), _) => n,
            (None, Some(d)) => {
                self.record(
                    HistoryEventType::ChoiceMatched,
                    Some(&st.name),
                    json!({"rule": "Default", "next": d}),
                );
                d.clone()
            }
            (None, None) => {
                return Err(StateError::new(
                    STATES_NO_CHOICE_MATCHED,
                    format!("no choice rule of `{}` matched the input {eff}", st.name),
                ));
            }
        };
        Ok(Flow::Next(
            next,
            st.output_path.apply(&eff, &ctx, "OutputPath")?,
        ))
    }

    /// Fail: the error the state names (literally or through ErrorPath / CausePath).
    fn fail(
        &self,
        sc: &StateCtx<'_>,
        raw: &Value,
        error: &Option<FailField>,
        cause: &Option<FailField>,
    ) -> Result<StateError, StateError> {
        let ctx = self.context(sc);
        let field = |f: &Option<FailField>, name: &str| -> Result<String, StateError> {
            Ok(match f {
                None => String::new(),
                Some(FailField::Literal(s)) => s.clone(),
                Some(FailField::Path(p)) => match p.select_required(raw, &ctx, name)? {
                    Value::String(s) => s,
                    other => {
                        return Err(StateError::runtime(format!(
                            "{name} '{}' must select a string, got {other}",
                            p.as_str()
                        )));
                    }
                },
            })
        };
        Ok(StateError::new(
            field(error, "ErrorPath")?,
            field(cause, "CausePath")?,
        ))
    }
}

/// When a Wait state entered at `entered` ends.
fn wait_until(
    entered: DateTime<Utc>,
    spec: &WaitSpec,
    eff: &Value,
    ctx: &Value,
) -> Result<DateTime<Utc>, StateError> {
    Ok(match spec {
        WaitSpec::Seconds(s) => entered + chrono::Duration::seconds(*s as i64),
        WaitSpec::SecondsPath(p) => {
            let v = p.select_required(eff, ctx, "SecondsPath")?;
            let s = v.as_u64().ok_or_else(|| {
                StateError::runtime(format!(
                    "SecondsPath '{}' must select a non-negative integer, got {v}",
                    p.as_str()
                ))
            })?;
            entered + chrono::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000))
        }
        WaitSpec::Timestamp(t) => *t,
        WaitSpec::TimestampPath(p) => {
            let v = p.select_required(eff, ctx, "TimestampPath")?;
            v.as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&Utc))
                .ok_or_else(|| {
                    StateError::runtime(format!(
                        "TimestampPath '{}' must select an RFC 3339 timestamp, got {v}",
                        p.as_str()
                    ))
                })?
        }
    })
}
