//! A refused stop (or a plan's start, which marks the record the same way), taken back.
//! Both stoppers (the sweep and a stop request) write the stop's
//! mark on the record before StopWorkspaces
//! ([`mark_stopping`](steward_shared::power::mark_stopping), a pure rule in `shared`); when
//! the service refuses the desktop, [`undo_stop`] writes the record as it was.

use steward_shared::model::WorkspaceRecord;
use steward_shared::power::unmark_stopping;
use steward_shared::store::WorkspaceStore;

use crate::deps::Deps;

/// Puts back what the stop mark changed after the call was refused. Best effort: if it
/// fails the next sweep's reconciliation sees the desktop AVAILABLE again and re-dates it.
pub(crate) async fn undo_stop(deps: &Deps, written: &WorkspaceRecord, before: &WorkspaceRecord) {
    if let Err(e) = deps
        .store
        .update_workspace(&unmark_stopping(written, before))
        .await
    {
        tracing::warn!(workspace = %before.workspace_id, error = %e, "could not restore a desktop whose stop was refused");
    }
}
