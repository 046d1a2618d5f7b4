//! Which desktop a user gets.
//!
//! In order: the desktop the user already holds (a request delivered twice assigns once);
//! in a floating pool, the desktop the user released within its delay (a reconnect gets the
//! same desktop back); a free desktop, AVAILABLE before STOPPED (no start to wait for), then
//! by id so that the choice is the same whoever decides it. With none free, the pool grows
//! if it may; otherwise the request fails with the reason. The conditional write that
//! claims the chosen desktop is the store's: two requests choosing the same desktop, one
//! wins and the other decides again.

use super::{AssignmentPolicy, PoolDesktop, Releasing};
use crate::ids::{OpaqueId, WorkspaceId};
use crate::model::WorkspaceState;

/// The decision for one assignment request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// The user holds it already: answer again, change nothing.
    Held(WorkspaceId),
    /// The user's own desktop in its release delay: cancel the release, assign it back.
    Reclaim(WorkspaceId),
    /// Claim this free desktop for the user.
    Claim(WorkspaceId),
    /// None free, but desktops are being created or the pool may grow: ask again after
    /// growing (the request waits; it is not refused).
    Wait,
    /// None free and the pool is at its maximum.
    Exhausted,
}

/// Decides for `user` among `desktops`; `may_grow` says whether the pool is below its
/// maximum (counting desktops being created).
pub fn pick(
    user: &OpaqueId,
    policy: AssignmentPolicy,
    desktops: &[PoolDesktop],
    may_grow: bool,
) -> Pick {
    if let Some(d) = desktops
        .iter()
        .find(|d| d.assigned_to.as_ref() == Some(user))
    {
        return Pick::Held(d.workspace_id.clone());
    }
    if policy == AssignmentPolicy::Floating
        && let Some(d) = desktops
            .iter()
            .find(|d| matches!(&d.releasing, Some(Releasing::Delayed { user: u, .. }) if u == user))
    {
        return Pick::Reclaim(d.workspace_id.clone());
    }
    let mut free: Vec<&PoolDesktop> = desktops.iter().filter(|d| d.is_free()).collect();
    free.sort_by(|a, b| {
        (a.state != WorkspaceState::Available, &a.workspace_id)
            .cmp(&(b.state != WorkspaceState::Available, &b.workspace_id))
    });
    if let Some(d) = free.first() {
        return Pick::Claim(d.workspace_id.clone());
    }
    if may_grow || desktops.iter().any(PoolDesktop::is_coming) {
        Pick::Wait
    } else {
        Pick::Exhausted
    }
}

#[cfg(test)]
mod tests {
    use super::super::sample::{desk, held, t, user};
    use super::*;

    fn id(n: u32) -> WorkspaceId {
        WorkspaceId::parse(format!("ws-{n:08}")).unwrap()
    }

    #[test]
    fn a_held_desktop_is_answered_again_and_available_comes_first() {
        let desktops = vec![
            desk(1, WorkspaceState::Stopped),
            held(2, "ana"),
            desk(3, WorkspaceState::Available),
            desk(4, WorkspaceState::Pending),
        ];
        let p = |u: &str| pick(&user(u), AssignmentPolicy::Floating, &desktops, false);
        assert_eq!(p("ana"), Pick::Held(id(2)));
        assert_eq!(p("ben"), Pick::Claim(id(3)));
        let only_stopped = vec![
            desk(5, WorkspaceState::Stopped),
            desk(1, WorkspaceState::Stopped),
        ];
        assert_eq!(
            pick(
                &user("ben"),
                AssignmentPolicy::Dedicated,
                &only_stopped,
                false
            ),
            Pick::Claim(id(1))
        );
    }

    #[test]
    fn a_reconnect_within_the_delay_gets_the_same_desktop_in_a_floating_pool() {
        let mut leaving = desk(7, WorkspaceState::Available);
        leaving.releasing = Some(Releasing::Delayed {
            user: user("ana"),
            due_at: t(10),
        });
        leaving.free_since = None;
        let desktops = vec![desk(1, WorkspaceState::Available), leaving];
        assert_eq!(
            pick(&user("ana"), AssignmentPolicy::Floating, &desktops, false),
            Pick::Reclaim(id(7))
        );
        // Someone else never gets a desktop whose release has not finished.
        assert_eq!(
            pick(
                &user("ben"),
                AssignmentPolicy::Floating,
                &desktops[1..],
                false
            ),
            Pick::Exhausted
        );
    }

    #[test]
    fn with_none_free_the_request_waits_for_growth_or_is_refused_at_the_maximum() {
        let desktops = vec![held(1, "ana"), desk(2, WorkspaceState::Error)];
        let p = |grow| pick(&user("ben"), AssignmentPolicy::Floating, &desktops, grow);
        assert_eq!(p(true), Pick::Wait);
        assert_eq!(p(false), Pick::Exhausted);
        let coming = vec![held(1, "ana"), desk(2, WorkspaceState::Pending)];
        assert_eq!(
            pick(&user("ben"), AssignmentPolicy::Floating, &coming, false),
            Pick::Wait
        );
    }
}
