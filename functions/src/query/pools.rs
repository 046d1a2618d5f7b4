//! The pool queries: a pool's configuration and status, a user's desktops, a desktop's
//! user — answered from the table alone.
//!
//! No AWS call is made: the registry's records are what the pool handlers decide on (who
//! holds a desktop is Steward's own model, the service knows nothing of it), so the answer
//! is exactly what the next assignment would see, and a partner may poll it as often as it
//! likes without spending the customer's API rate. A desktop's state is the one the
//! registry last observed.
//!
//! A pool's desktops are the tenant's desktop records whose seat names the pool; they are
//! read once per query (one listing of the registry) and counted here, so the status is
//! always consistent with the desktops listed, whatever the pool record's own count says
//! (that count, `desktops`, is what `maxSize` bounds and includes desktops still being
//! created, so it is given beside the counted `size`).
//!
//! The answers are this file's camelCase view types, built from the records: the records'
//! own serde shapes are storage shapes (snake_case) and never reach a partner.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};
use steward_shared::Error;
use steward_shared::error::names;
use steward_shared::ids::{
    BundleId, DirectoryId, PoolId, RegionName, TenantId, UserId, WorkspaceId,
};
use steward_shared::model::{
    PoolRecord, PoolSeat, Presence, Timestamp, UserRecord, WorkspaceRecord, WorkspaceState,
};
use steward_shared::pools::protocol::{ProtocolCheck, StreamingProtocol};
use steward_shared::pools::{AssignmentPolicy, ReleasePlan, Releasing};
use steward_shared::store::{PageRequest, PoolStore, UserStore, WorkspaceStore, collect_all};

use crate::deps::Deps;

/// A pool's status, counted from its desktop records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PoolStatus {
    /// Desktop records of the pool.
    pub(super) size: u32,
    /// Nobody holds them, no release is under way, and they are up or stopped.
    pub(super) free: u32,
    /// Held by a user.
    pub(super) assigned: u32,
    /// PENDING or STARTING (held or not).
    pub(super) starting: u32,
    /// STOPPED and free.
    pub(super) stopped: u32,
    /// A release plan is under way (its delay or its action).
    pub(super) releasing: u32,
}

impl PoolStatus {
    /// Counts `desktops` (the pool's desktop records).
    pub(super) fn count<'a>(desktops: impl IntoIterator<Item = &'a WorkspaceRecord>) -> Self {
        let mut s = PoolStatus::default();
        for d in desktops
            .into_iter()
            .filter_map(WorkspaceRecord::pool_desktop)
        {
            let free = d.is_free();
            s.size += 1;
            s.free += u32::from(free);
            s.assigned += u32::from(d.assigned_to.is_some());
            s.starting += u32::from(matches!(
                d.state,
                WorkspaceState::Pending | WorkspaceState::Starting
            ));
            s.stopped += u32::from(free && d.state == WorkspaceState::Stopped);
            s.releasing += u32::from(d.releasing.is_some());
        }
        s
    }
}

/// One pool: its configuration, the record's count of desktops, and the counted status.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PoolAnswer<'a> {
    pool_id: &'a PoolId,
    presence: Presence,
    region: &'a RegionName,
    directory_id: &'a DirectoryId,
    bundle_id: &'a BundleId,
    protocol: StreamingProtocol,
    protocol_check: ProtocolCheck,
    min_size: u32,
    max_size: u32,
    grow_by: u32,
    cooldown_minutes: u32,
    assignment: AssignmentPolicy,
    release_plan: ReleasePlan,
    /// Desktops created for the pool and not terminated (what `maxSize` bounds).
    desktops: u32,
    status: PoolStatus,
}

impl<'a> PoolAnswer<'a> {
    fn of(p: &'a PoolRecord, status: PoolStatus) -> Self {
        Self {
            pool_id: &p.pool_id,
            presence: p.presence,
            region: &p.region,
            directory_id: &p.directory_id,
            bundle_id: &p.bundle_id,
            protocol: p.protocol,
            protocol_check: p.protocol_check,
            min_size: p.size.min_size,
            max_size: p.size.max_size,
            grow_by: p.grow_by,
            cooldown_minutes: p.size.cooldown_minutes,
            assignment: p.assignment,
            release_plan: p.release,
            desktops: p.desktops,
            status,
        }
    }
}

/// A loaded user as a partner sees it (the id, the optional name, the policy).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UserAnswer<'a> {
    user_id: &'a UserId,
    display_name: Option<&'a str>,
    pools: &'a [PoolId],
    presence: Presence,
}

impl<'a> From<&'a UserRecord> for UserAnswer<'a> {
    fn from(u: &'a UserRecord) -> Self {
        Self {
            user_id: &u.user_id,
            display_name: u.display_name.as_deref(),
            pools: &u.pools,
            presence: u.presence,
        }
    }
}

/// A desktop a user holds.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct HeldDesktop<'a> {
    workspace_id: &'a WorkspaceId,
    pool_id: &'a PoolId,
    state: WorkspaceState,
    assigned_at: Option<Timestamp>,
}

/// A desktop the user released that waits out its plan's delay: until `dueAt` the same user
/// gets it back.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ReleasedDesktop<'a> {
    workspace_id: &'a WorkspaceId,
    pool_id: &'a PoolId,
    due_at: Timestamp,
}

/// Where a desktop is in its release, as a partner sees it.
#[derive(Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "phase", rename_all = "SCREAMING_SNAKE_CASE")]
pub(super) enum ReleasingAnswer<'a> {
    /// Waiting out the delay; `userId` gets it back if they return before `dueAt`.
    #[serde(rename_all = "camelCase")]
    Delayed {
        user_id: &'a UserId,
        due_at: Timestamp,
    },
    /// The plan's action (restore or rebuild) was started at `startedAt`.
    #[serde(rename_all = "camelCase")]
    Acting { started_at: Timestamp },
}

impl<'a> From<&'a Releasing> for ReleasingAnswer<'a> {
    fn from(r: &'a Releasing) -> Self {
        match r {
            Releasing::Delayed { user, due_at } => ReleasingAnswer::Delayed {
                user_id: user,
                due_at: *due_at,
            },
            Releasing::Acting { started_at } => ReleasingAnswer::Acting {
                started_at: *started_at,
            },
        }
    }
}

/// One desktop's place: its pool and its user (null outside a pool or when free).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DesktopUserAnswer<'a> {
    tenant_id: &'a TenantId,
    workspace_id: &'a WorkspaceId,
    state: WorkspaceState,
    pool_id: Option<&'a PoolId>,
    user_id: Option<&'a UserId>,
    assigned_at: Option<Timestamp>,
    releasing: Option<ReleasingAnswer<'a>>,
}

impl<'a> From<&'a WorkspaceRecord> for DesktopUserAnswer<'a> {
    fn from(r: &'a WorkspaceRecord) -> Self {
        let seat = r.pool.as_ref();
        Self {
            tenant_id: &r.tenant_id,
            workspace_id: &r.workspace_id,
            state: r.state,
            pool_id: seat.map(|s| &s.pool_id),
            user_id: seat.and_then(|s| s.assigned_to.as_ref()),
            assigned_at: seat.and_then(|s| s.assigned_at),
            releasing: seat
                .and_then(|s| s.releasing.as_ref())
                .map(ReleasingAnswer::from),
        }
    }
}

/// The tenant's desktop records.
async fn registry(deps: &Deps, tid: &TenantId) -> Result<Vec<WorkspaceRecord>, Error> {
    Ok(collect_all(|p: PageRequest| deps.store.list_workspaces(tid, p)).await?)
}

/// The tenant's pools in use (or the one named, a deleted one included), each with its
/// status counted from its desktops.
pub(super) async fn pools(
    deps: &Deps,
    tid: &TenantId,
    named: Option<&PoolId>,
) -> Result<Value, Error> {
    let mut pools = match named {
        Some(id) => vec![deps.store.get_pool(tid, id).await?.ok_or_else(|| {
            Error::refused(names::NOT_FOUND, "poolId names no pool of the tenant")
        })?],
        None => {
            let mut all = deps.store.list_pools(tid).await?;
            all.retain(|p| p.presence == Presence::Active);
            all
        }
    };
    pools.sort_by(|a, b| a.pool_id.cmp(&b.pool_id));
    let records = registry(deps, tid).await?;
    let mut by_pool: BTreeMap<&PoolId, Vec<&WorkspaceRecord>> = BTreeMap::new();
    for r in &records {
        if let Some(seat) = &r.pool {
            by_pool.entry(&seat.pool_id).or_default().push(r);
        }
    }
    let answers: Vec<PoolAnswer<'_>> = pools
        .iter()
        .map(|p| {
            let desks = by_pool.get(&p.pool_id).map(Vec::as_slice).unwrap_or(&[]);
            PoolAnswer::of(p, PoolStatus::count(desks.iter().copied()))
        })
        .collect();
    Ok(json!({"tenantId": tid, "pools": answers}))
}

/// A user, the desktops the user holds, and those the user released that still wait out
/// their delay (each sorted by desktop id).
pub(super) async fn user_desktops(
    deps: &Deps,
    tid: &TenantId,
    user_id: &UserId,
) -> Result<Value, Error> {
    let user = deps
        .store
        .get_user(tid, user_id)
        .await?
        .ok_or_else(|| Error::refused(names::NOT_FOUND, "userId names no loaded user"))?;
    let mut records = registry(deps, tid).await?;
    records.sort_by(|a, b| a.workspace_id.cmp(&b.workspace_id));
    let seats = || {
        records
            .iter()
            .filter_map(|r| r.pool.as_ref().map(|s| (r, s)))
    };
    let held: Vec<HeldDesktop<'_>> = seats()
        .filter(|(_, s)| s.assigned_to.as_ref() == Some(user_id))
        .map(|(r, s)| HeldDesktop {
            workspace_id: &r.workspace_id,
            pool_id: &s.pool_id,
            state: r.state,
            assigned_at: s.assigned_at,
        })
        .collect();
    let released: Vec<ReleasedDesktop<'_>> = seats()
        .filter_map(|(r, s)| {
            released_by(s, user_id).map(|due_at| ReleasedDesktop {
                workspace_id: &r.workspace_id,
                pool_id: &s.pool_id,
                due_at,
            })
        })
        .collect();
    Ok(json!({
        "tenantId": tid,
        "user": UserAnswer::from(&user),
        "desktops": held,
        "releasing": released,
    }))
}

/// When the delay of a desktop `user` released ends (`None`: not one `user` released, or
/// its plan's action already started).
fn released_by(seat: &PoolSeat, user: &UserId) -> Option<Timestamp> {
    match &seat.releasing {
        Some(Releasing::Delayed { user: u, due_at }) if u == user => Some(*due_at),
        _ => None,
    }
}

/// One registered desktop's pool and user.
pub(super) async fn desktop_user(
    deps: &Deps,
    tid: &TenantId,
    workspace_id: &WorkspaceId,
) -> Result<Value, Error> {
    let rec = deps
        .store
        .get_workspace(tid, workspace_id)
        .await?
        .ok_or_else(|| super::not_owned("the desktop named by workspaceId"))?;
    Ok(json!(DesktopUserAnswer::from(&rec)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use steward_shared::model::{FirstSeen, RunningMode};

    fn t(minutes: i64) -> Timestamp {
        DateTime::parse_from_rfc3339("2026-11-30T08:00:00Z")
            .unwrap()
            .to_utc()
            + chrono::Duration::minutes(minutes)
    }

    fn user(u: &str) -> UserId {
        UserId::parse(u).unwrap()
    }

    fn desk(n: u32, state: WorkspaceState, seat: Option<PoolSeat>) -> WorkspaceRecord {
        let mut r = WorkspaceRecord::new(FirstSeen {
            tenant_id: TenantId::parse("acme").unwrap(),
            workspace_id: WorkspaceId::parse(format!("ws-{n:08}")).unwrap(),
            region: RegionName::parse("us-east-1").unwrap(),
            directory_id: DirectoryId::parse("d-1234567890").unwrap(),
            running_mode: RunningMode::Manual,
            state,
            at: t(0),
        });
        r.pool = seat;
        r
    }

    fn seat() -> PoolSeat {
        PoolSeat::new(PoolId::parse("call-centre").unwrap(), t(0))
    }

    fn held(by: &str) -> PoolSeat {
        PoolSeat {
            assigned_to: Some(user(by)),
            assigned_at: Some(t(1)),
            free_since: None,
            ..seat()
        }
    }

    fn releasing(r: Releasing) -> PoolSeat {
        PoolSeat {
            releasing: Some(r),
            free_since: None,
            ..seat()
        }
    }

    #[test]
    fn the_status_counts_each_desktop_under_every_heading_it_fits() {
        use WorkspaceState::*;
        let delayed = Releasing::Delayed {
            user: user("ana"),
            due_at: t(15),
        };
        let desks = [
            desk(1, Available, Some(seat())),
            desk(2, Stopped, Some(seat())),
            desk(3, Pending, Some(seat())),
            desk(4, Starting, Some(held("bo"))),
            desk(5, Available, Some(held("cy"))),
            desk(6, Stopped, Some(releasing(delayed))),
            desk(
                7,
                Rebuilding,
                Some(releasing(Releasing::Acting { started_at: t(16) })),
            ),
            desk(8, Available, None),
        ];
        assert_eq!(
            PoolStatus::count(&desks),
            PoolStatus {
                size: 7,
                free: 2,
                assigned: 2,
                starting: 2,
                stopped: 1,
                releasing: 2,
            }
        );
        assert_eq!(PoolStatus::count(&[]), PoolStatus::default());
    }

    #[test]
    fn only_the_releasing_user_and_only_during_the_delay_is_given_a_due_time() {
        let delayed = releasing(Releasing::Delayed {
            user: user("ana"),
            due_at: t(15),
        });
        assert_eq!(released_by(&delayed, &user("ana")), Some(t(15)));
        assert_eq!(released_by(&delayed, &user("bo")), None);
        let acting = releasing(Releasing::Acting { started_at: t(15) });
        assert_eq!(released_by(&acting, &user("ana")), None);
        assert_eq!(released_by(&held("ana"), &user("ana")), None);
    }

    #[test]
    fn a_desktop_answer_is_camel_case_with_nulls_outside_a_pool() {
        let outside = desk(8, WorkspaceState::Available, None);
        assert_eq!(
            json!(DesktopUserAnswer::from(&outside)),
            json!({"tenantId": "acme", "workspaceId": "ws-00000008", "state": "AVAILABLE",
                   "poolId": null, "userId": null, "assignedAt": null, "releasing": null})
        );
        let r = desk(
            6,
            WorkspaceState::Stopped,
            Some(releasing(Releasing::Delayed {
                user: user("ana"),
                due_at: t(15),
            })),
        );
        assert_eq!(
            json!(DesktopUserAnswer::from(&r)),
            json!({"tenantId": "acme", "workspaceId": "ws-00000006", "state": "STOPPED",
                   "poolId": "call-centre", "userId": null, "assignedAt": null,
                   "releasing": {"phase": "DELAYED", "userId": "ana",
                                 "dueAt": "2026-11-30T08:15:00Z"}})
        );
        let acting = Releasing::Acting { started_at: t(16) };
        assert_eq!(
            json!(ReleasingAnswer::from(&acting)),
            json!({"phase": "ACTING", "startedAt": "2026-11-30T08:16:00Z"})
        );
    }
}
