//! Blocks of states — the definition, a Map's ItemProcessor, a Parallel branch: each state
//! parsed, then the block checked as a whole (every target exists, every state is
//! reachable, some state ends it).

use serde_json::Value;
use std::collections::{BTreeMap, HashSet, VecDeque};

use super::fields::check_keys;
use super::states::parse_state;
use super::{Block, Kind, State, Transition};
use crate::LoadError;

/// One scope of states (the definition, an ItemProcessor, a Parallel branch), validated.
pub(super) fn parse_block(
    v: &Value,
    scope: &str,
    allowed_keys: &[&str],
) -> Result<Block, LoadError> {
    let label = if scope.is_empty() {
        "definition".to_string()
    } else {
        scope.to_string()
    };
    let obj = v.as_object().ok_or_else(|| LoadError::NotAnObject {
        scope: label.clone(),
    })?;
    check_keys(obj, allowed_keys, &label, "state machine")?;
    let start_at = obj
        .get("StartAt")
        .and_then(Value::as_str)
        .ok_or_else(|| LoadError::MissingField {
            scope: label.clone(),
            field: "StartAt".into(),
        })?
        .to_string();
    let states_obj = obj
        .get("States")
        .and_then(Value::as_object)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| LoadError::MissingField {
            scope: label.clone(),
            field: "States".into(),
        })?;
    let mut states = BTreeMap::new();
    for (name, sv) in states_obj {
        if name.is_empty() || name.chars().count() > 80 {
            return Err(LoadError::InvalidField {
                state: name.clone(),
                field: "name".into(),
                message: "state names are 1 to 80 characters".into(),
            });
        }
        states.insert(name.clone(), parse_state(name, sv, scope)?);
    }
    let block = Block { start_at, states };
    validate_block(&block, scope)?;
    Ok(block)
}

/// A state's name within its scope, as errors name it.
fn qualified(scope: &str, name: &str) -> String {
    if scope.is_empty() {
        name.to_string()
    } else {
        format!("{scope}/{name}")
    }
}

/// Every target exists in its scope, every state is reachable, and some
/// state ends the machine.
fn validate_block(block: &Block, scope: &str) -> Result<(), LoadError> {
    let targets = |s: &State| -> Vec<(String, String)> {
        let mut t = Vec::new();
        if let Some(Transition::Next(n)) = &s.transition {
            t.push(("Next".to_string(), n.clone()));
        }
        if let Kind::Choice { choices, default } = &s.kind {
            for (i, c) in choices.iter().enumerate() {
                t.push((format!("Choices[{i}].Next"), c.next.clone()));
            }
            if let Some(d) = default {
                t.push(("Default".into(), d.clone()));
            }
        }
        for (i, c) in s.catch.iter().enumerate() {
            t.push((format!("Catch[{i}].Next"), c.next.clone()));
        }
        t
    };
    if !block.states.contains_key(&block.start_at) {
        return Err(LoadError::UnknownTarget {
            state: if scope.is_empty() {
                "<definition>".into()
            } else {
                scope.into()
            },
            field: "StartAt".into(),
            target: block.start_at.clone(),
        });
    }
    for s in block.states.values() {
        for (field, target) in targets(s) {
            if !block.states.contains_key(&target) {
                return Err(LoadError::UnknownTarget {
                    state: qualified(scope, &s.name),
                    field,
                    target,
                });
            }
        }
    }
    let mut seen = HashSet::new();
    let mut queue = VecDeque::from([block.start_at.clone()]);
    while let Some(n) = queue.pop_front() {
        if !seen.insert(n.clone()) {
            continue;
        }
        if let Some(s) = block.states.get(&n) {
            queue.extend(targets(s).into_iter().map(|(_, t)| t));
        }
    }
    if let Some(unreached) = block.states.keys().find(|k| !seen.contains(*k)) {
        return Err(LoadError::Unreachable {
            state: qualified(scope, unreached),
        });
    }
    let terminal = block.states.values().any(|s| {
        matches!(s.kind, Kind::Succeed | Kind::Fail { .. })
            || matches!(s.transition, Some(Transition::End))
    });
    if !terminal {
        return Err(LoadError::InvalidTransition {
            state: if scope.is_empty() {
                "<definition>".into()
            } else {
                scope.into()
            },
            message: "no state ends the machine (no End, Succeed or Fail)".into(),
        });
    }
    Ok(())
}
