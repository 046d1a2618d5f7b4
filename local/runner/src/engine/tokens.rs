//! Task tokens of `.waitForTaskToken` tasks: the registry every execution of a runner
//! shares (SendTaskSuccess / Failure / Heartbeat reach a waiting task through it), and the
//! guard that removes a token however its task ends.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, watch};

use super::{PendingTask, TaskFailure};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskTokenError {
    /// Unknown, already answered, timed out or its execution ended.
    #[error(
        "task token `{0}` does not exist (unknown, answered, timed out or its execution ended)"
    )]
    TaskDoesNotExist(String),
}

pub(super) enum TokenEvent {
    Success(Value),
    Failure(TaskFailure),
    Heartbeat,
}

pub(super) struct TokenEntry {
    pub(super) task: PendingTask,
    pub(super) tx: mpsc::UnboundedSender<TokenEvent>,
}

pub(super) struct TokenRegistry {
    map: Mutex<HashMap<String, TokenEntry>>,
    /// Bumped on every change, so waiters ([`super::Execution::wait_for_task`]) wake up.
    pub(super) changed: watch::Sender<u64>,
}

impl TokenRegistry {
    pub(super) fn new() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            changed: watch::Sender::new(0),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, HashMap<String, TokenEntry>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn bump(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    pub(super) fn send(&self, token: &str, ev: TokenEvent) -> Result<(), TaskTokenError> {
        let mut map = self.lock();
        let missing = || TaskTokenError::TaskDoesNotExist(token.to_string());
        let entry = map.get(token).ok_or_else(missing)?;
        let keep = matches!(ev, TokenEvent::Heartbeat);
        entry.tx.send(ev).map_err(|_| missing())?;
        if !keep {
            map.remove(token);
        }
        drop(map);
        self.bump();
        Ok(())
    }

    pub(super) fn pending(&self, execution: Option<&str>) -> Vec<PendingTask> {
        let mut v: Vec<PendingTask> = self
            .lock()
            .values()
            .filter(|e| execution.is_none_or(|n| e.task.execution_name == n))
            .map(|e| e.task.clone())
            .collect();
        v.sort_by(|a, b| {
            a.issued_at
                .cmp(&b.issued_at)
                .then(a.state_name.cmp(&b.state_name))
        });
        v
    }
}

/// Removes a token when its task ends, however it ends (even on abort).
pub(super) struct TokenGuard {
    pub(super) registry: Arc<TokenRegistry>,
    pub(super) token: String,
}

impl Drop for TokenGuard {
    fn drop(&mut self) {
        if self.registry.lock().remove(&self.token).is_some() {
            self.registry.bump();
        }
    }
}
