//! How a pool grows and shrinks.
//!
//! It grows to cover its assigned desktops, the requests waiting for one and `minSize`,
//! never beyond `maxSize`, counting desktops already being created; CreateWorkspaces takes
//! 25 per call, so a growth of n costs ⌈n/25⌉ calls. It shrinks only by free desktops that
//! have been free for the cool-down, never below `minSize`, longest-free first.

use super::{PoolDesktop, PoolSize};
use crate::ids::WorkspaceId;
use crate::model::{Timestamp, WorkspaceState};

/// CreateWorkspaces' and TerminateWorkspaces' batch size.
pub const BATCH: u32 = 25;

/// What a resize does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resize {
    pub create: u32,
    pub terminate: Vec<WorkspaceId>,
}

impl Resize {
    /// CreateWorkspaces calls the growth takes.
    pub fn create_calls(&self) -> u32 {
        self.create.div_ceil(BATCH)
    }
}

/// Desktops that count toward the pool's size: everything not on its way out.
fn counted(d: &PoolDesktop) -> bool {
    !matches!(
        d.state,
        WorkspaceState::Terminating | WorkspaceState::Terminated | WorkspaceState::Error
    )
}

/// Decides a resize at `now` with `waiting` requests that found no free desktop.
pub fn resize(size: &PoolSize, desktops: &[PoolDesktop], waiting: u32, now: Timestamp) -> Resize {
    let total = desktops.iter().filter(|d| counted(d)).count() as u32;
    // Held, releasing, or busy in the service (rebuilding, restoring…): not available to
    // anyone now. Free and coming desktops serve the waiting.
    let in_use = desktops
        .iter()
        .filter(|d| counted(d) && !d.is_free() && !d.is_coming())
        .count() as u32;
    let demand = (in_use + waiting).max(size.min_size).min(size.max_size);
    let create = demand.saturating_sub(total);
    if create > 0 || waiting > 0 {
        return Resize {
            create,
            terminate: Vec::new(),
        };
    }
    let cooled = now - chrono::Duration::minutes(i64::from(size.cooldown_minutes));
    let mut idle: Vec<&PoolDesktop> = desktops
        .iter()
        .filter(|d| d.is_free() && d.free_since.is_some_and(|s| s <= cooled))
        .collect();
    idle.sort_by_key(|d| (d.free_since, d.workspace_id.clone()));
    let surplus = total.saturating_sub(demand) as usize;
    Resize {
        create: 0,
        terminate: idle
            .into_iter()
            .take(surplus)
            .map(|d| d.workspace_id.clone())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::sample::{desk, held, t};
    use super::*;

    fn size(min: u32, max: u32) -> PoolSize {
        PoolSize {
            min_size: min,
            max_size: max,
            cooldown_minutes: 30,
        }
    }

    #[test]
    fn growth_covers_the_waiting_within_the_maximum_in_calls_of_25() {
        let desktops: Vec<PoolDesktop> = (0..50).map(|n| held(n, &format!("u{n}"))).collect();
        let r = resize(&size(50, 60), &desktops, 150, t(1));
        assert_eq!(r.create, 10);
        assert_eq!(r.create_calls(), 1);
        assert!(r.terminate.is_empty());
        let r = resize(&size(0, 500), &[], 120, t(1));
        assert_eq!((r.create, r.create_calls()), (120, 5));
    }

    #[test]
    fn desktops_being_created_count_and_min_size_is_kept() {
        let mut desktops: Vec<PoolDesktop> =
            (0..3).map(|n| desk(n, WorkspaceState::Pending)).collect();
        desktops.push(held(9, "ana"));
        // The three being created serve two waiting requests; five waiting need two more.
        assert_eq!(resize(&size(4, 10), &desktops, 2, t(1)).create, 0);
        assert_eq!(resize(&size(4, 10), &desktops, 5, t(1)).create, 2);
        let r = resize(&size(6, 10), &desktops, 0, t(1));
        assert_eq!(
            r,
            Resize {
                create: 2,
                terminate: vec![]
            }
        );
    }

    #[test]
    fn shrinking_takes_only_cooled_free_desktops_above_the_minimum() {
        let mut desktops = vec![held(1, "ana")];
        for n in 2..6 {
            let mut d = desk(n, WorkspaceState::Stopped);
            d.free_since = Some(t(i64::from(n)));
            desktops.push(d);
        }
        // 5 desktops, 1 held, minimum 2: at most 3 go, and only those free for 30 min.
        let r = resize(&size(2, 10), &desktops, 0, t(33));
        assert_eq!(
            r.terminate.iter().map(|i| i.as_str()).collect::<Vec<_>>(),
            vec!["ws-00000002", "ws-00000003"]
        );
        let r = resize(&size(2, 10), &desktops, 0, t(120));
        assert_eq!(r.terminate.len(), 3);
        let r = resize(&size(5, 10), &desktops, 0, t(120));
        assert!(r.terminate.is_empty());
    }
}
