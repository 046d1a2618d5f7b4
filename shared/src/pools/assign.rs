//! Which desktop a user gets.
//!
//! In order: the desktop the user already holds (a request delivered twice assigns once);
//! in a floating pool, the desktop the user released within its delay (a reconnect gets the
//! same desktop back); a free desktop, AVAILABLE before STOPPED (no start to wait for); a
//! desktop being created for the pool and not yet promised to anyone (the user is answered
//! at once and told when it is up). With none of those, the pool grows if it may; otherwise
//! the request fails with the reason.
//!
//! Among equally good desktops the choice is spread by the user's id, and is the same
//! whoever decides it: concurrent requests rarely aim at the same desktop, and when two do,
//! the store's conditional write lets exactly one win while the other decides again.

use super::{AssignmentPolicy, PoolDesktop, Releasing};
use crate::ids::{UserId, WorkspaceId};
use crate::model::WorkspaceState;

/// The decision for one assignment request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// The user holds it already: answer again, change nothing.
    Held(WorkspaceId),
    /// The user's own desktop in its release delay: cancel the release, assign it back.
    Reclaim(WorkspaceId),
    /// Claim this desktop for the user (free, or being created for the pool).
    Claim(WorkspaceId),
    /// Nothing to claim, and the pool is below its maximum: grow it, then decide again.
    Grow,
    /// Nothing to claim and the pool is at its maximum.
    Exhausted,
}

/// Decides for `user` among `desktops`; `may_grow` says whether the pool is below its
/// maximum (counting desktops being created).
pub fn pick(
    user: &UserId,
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
    let rank = |d: &PoolDesktop| -> Option<u8> {
        if d.is_free() {
            Some(u8::from(d.state != WorkspaceState::Available))
        } else if d.is_coming() {
            Some(2)
        } else {
            None
        }
    };
    let best = desktops.iter().filter_map(rank).min();
    let Some(best) = best else {
        return if may_grow {
            Pick::Grow
        } else {
            Pick::Exhausted
        };
    };
    let mut candidates: Vec<&WorkspaceId> = desktops
        .iter()
        .filter(|d| rank(d) == Some(best))
        .map(|d| &d.workspace_id)
        .collect();
    candidates.sort();
    let at = spread(user) % candidates.len();
    Pick::Claim(candidates[at].clone())
}

/// A stable number from the user's id (FNV-1a): the same on every run and every machine.
fn spread(user: &UserId) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in user.as_str().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % (usize::MAX as u64)) as usize
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
        // The only AVAILABLE free desktop, whoever asks.
        for u in ["ben", "cy", "dee"] {
            assert_eq!(p(u), Pick::Claim(id(3)));
        }
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
    fn with_none_free_a_coming_desktop_is_claimed_then_the_pool_grows_or_is_exhausted() {
        let desktops = vec![held(1, "ana"), desk(2, WorkspaceState::Error)];
        let p = |grow| pick(&user("ben"), AssignmentPolicy::Floating, &desktops, grow);
        assert_eq!(p(true), Pick::Grow);
        assert_eq!(p(false), Pick::Exhausted);
        let coming = vec![held(1, "ana"), desk(2, WorkspaceState::Pending)];
        assert_eq!(
            pick(&user("ben"), AssignmentPolicy::Floating, &coming, false),
            Pick::Claim(id(2))
        );
    }

    #[test]
    fn equally_good_desktops_are_spread_by_user_and_the_choice_is_stable() {
        let desktops: Vec<PoolDesktop> = (1..=10)
            .map(|n| desk(n, WorkspaceState::Available))
            .collect();
        let mut reversed = desktops.clone();
        reversed.reverse();
        let mut chosen = std::collections::BTreeSet::new();
        for n in 0..20 {
            let u = user(&format!("user-{n}"));
            let a = pick(&u, AssignmentPolicy::Floating, &desktops, false);
            // The same whoever decides, whatever order the records were read in.
            assert_eq!(a, pick(&u, AssignmentPolicy::Floating, &reversed, false));
            let Pick::Claim(id) = a else {
                panic!("a free desktop is claimed: {a:?}")
            };
            chosen.insert(id);
        }
        // FNV-1a of `user-0` … `user-19` reaches every one of the 10 desktops.
        assert_eq!(chosen.len(), 10, "20 users spread over the 10");
    }
}
