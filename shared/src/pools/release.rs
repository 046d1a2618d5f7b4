//! Release plans: what a pool does with a desktop whose user's session ended (or that the
//! partner released), and when the desktop is free again.
//!
//! `KEEP` does nothing (the user keeps it). The others wait out the plan's delay first — a
//! user who reconnects within it gets the same desktop ([`super::assign`]) — then `RETURN`
//! frees the desktop at once, and `RESTORE` / `REBUILD` start the service's action and free
//! the desktop only when the service shows it up (or stopped) again after the action: a
//! desktop is never handed to a new user before its release plan has finished.

use super::{PoolDesktop, ReleaseAction, ReleasePlan, Releasing};
use crate::ids::UserId;
use crate::model::{Timestamp, WorkspaceState};

/// The next step of a desktop's release at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseStep {
    /// Nothing to do now.
    Nothing,
    /// Unassign it and wait until `due_at` for the user to come back.
    Delay { user: UserId, due_at: Timestamp },
    /// Call RestoreWorkspace.
    Restore,
    /// Call RebuildWorkspaces.
    Rebuild,
    /// The plan has finished: the desktop is free.
    Free,
}

/// The step when `user`'s session on a pool desktop ended (or it was released) at `now`.
pub fn on_release(plan: &ReleasePlan, user: &UserId, now: Timestamp) -> ReleaseStep {
    match plan.action {
        ReleaseAction::Keep => ReleaseStep::Nothing,
        _ => ReleaseStep::Delay {
            user: user.clone(),
            due_at: now + chrono::Duration::minutes(i64::from(plan.delay_minutes)),
        },
    }
}

/// The step a sweep takes on a releasing desktop at `now`.
pub fn advance(plan: &ReleasePlan, desktop: &PoolDesktop, now: Timestamp) -> ReleaseStep {
    match &desktop.releasing {
        None => ReleaseStep::Nothing,
        Some(Releasing::Delayed { due_at, .. }) if *due_at > now => ReleaseStep::Nothing,
        Some(Releasing::Delayed { .. }) => match plan.action {
            ReleaseAction::Keep | ReleaseAction::Return => ReleaseStep::Free,
            ReleaseAction::Restore => ReleaseStep::Restore,
            ReleaseAction::Rebuild => ReleaseStep::Rebuild,
        },
        // The action was accepted: free once the service shows the desktop settled again.
        Some(Releasing::Acting { .. }) => match desktop.state {
            WorkspaceState::Available | WorkspaceState::Stopped => ReleaseStep::Free,
            _ => ReleaseStep::Nothing,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::sample::{desk, t, user};
    use super::*;

    fn plan(action: ReleaseAction) -> ReleasePlan {
        ReleasePlan {
            action,
            delay_minutes: 15,
        }
    }

    fn releasing(r: Releasing, state: WorkspaceState) -> PoolDesktop {
        PoolDesktop {
            releasing: Some(r),
            free_since: None,
            ..desk(1, state)
        }
    }

    #[test]
    fn keep_does_nothing_and_the_others_wait_out_the_delay() {
        assert_eq!(
            on_release(&plan(ReleaseAction::Keep), &user("ana"), t(0)),
            ReleaseStep::Nothing
        );
        assert_eq!(
            on_release(&plan(ReleaseAction::Rebuild), &user("ana"), t(0)),
            ReleaseStep::Delay {
                user: user("ana"),
                due_at: t(15)
            }
        );
        let waiting = releasing(
            Releasing::Delayed {
                user: user("ana"),
                due_at: t(15),
            },
            WorkspaceState::Available,
        );
        let step = |a, at| advance(&plan(a), &waiting, t(at));
        assert_eq!(step(ReleaseAction::Rebuild, 14), ReleaseStep::Nothing);
        assert_eq!(step(ReleaseAction::Rebuild, 15), ReleaseStep::Rebuild);
        assert_eq!(step(ReleaseAction::Restore, 15), ReleaseStep::Restore);
        assert_eq!(step(ReleaseAction::Return, 15), ReleaseStep::Free);
    }

    #[test]
    fn an_acting_desktop_is_free_only_when_the_service_has_settled_it() {
        let acting = |state| releasing(Releasing::Acting { started_at: t(15) }, state);
        let p = plan(ReleaseAction::Rebuild);
        assert_eq!(
            advance(&p, &acting(WorkspaceState::Rebuilding), t(20)),
            ReleaseStep::Nothing
        );
        assert!(!acting(WorkspaceState::Available).is_free());
        assert_eq!(
            advance(&p, &acting(WorkspaceState::Available), t(40)),
            ReleaseStep::Free
        );
        assert_eq!(
            advance(&p, &desk(2, WorkspaceState::Available), t(40)),
            ReleaseStep::Nothing
        );
    }
}
