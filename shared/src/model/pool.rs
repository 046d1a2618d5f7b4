//! Pools and users as the store keeps them.
//!
//! A [`PoolRecord`] is a pool's configuration (bundle, directory, Region, sizes, assignment
//! policy, release plan, protocol plan) and its count of desktops, which is where growth is
//! serialised: a pool grows only by a write of this record conditional on its version, so
//! two requests growing it at once cannot take it past `maxSize`. Its desktops are
//! [`WorkspaceRecord`](super::WorkspaceRecord)s with a [`PoolSeat`](super::PoolSeat).
//!
//! A [`UserRecord`] is a user the partner loaded: the id, an optional display name, and the
//! user's policy (the pools the user may be given a desktop from). Nothing else about a user
//! is accepted, so Steward holds no password and no PII beyond the id and the name.
//!
//! Both are changed by dated partner events: each record keeps the time of the event that
//! last changed it (`changed_at`), and an older event is superseded, so the events converge
//! whatever order EventBridge delivers them in. A deleted pool or a removed user stays as a
//! tombstone for the same reason.

use serde::{Deserialize, Serialize};

use super::Timestamp;
use crate::ids::{BundleId, DirectoryId, PoolId, RegionName, TenantId, UserId};
use crate::pools::protocol::{ProtocolCheck, StreamingProtocol};
use crate::pools::{AssignmentPolicy, PoolSize, ReleasePlan};

/// Whether a pool or a user is in use or a tombstone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Presence {
    Active,
    /// Deleted (a pool) or removed (a user): kept so that an older event cannot bring it back.
    Gone,
}

/// A pool as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolRecord {
    pub tenant_id: TenantId,
    pub pool_id: PoolId,
    pub region: RegionName,
    pub directory_id: DirectoryId,
    pub bundle_id: BundleId,
    pub protocol: StreamingProtocol,
    pub protocol_check: ProtocolCheck,
    pub size: PoolSize,
    /// How many desktops one growth adds (at most up to `maxSize`).
    pub grow_by: u32,
    pub assignment: AssignmentPolicy,
    pub release: ReleasePlan,
    pub presence: Presence,
    /// Desktops created for the pool and not terminated (those being created included):
    /// what `maxSize` bounds.
    pub desktops: u32,
    /// Desktop names are `<pool>-<n>`; the next `n`.
    pub next_name: u64,
    /// When the partner event that last changed the configuration occurred.
    pub changed_at: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(default)]
    pub version: u64,
}

impl PoolRecord {
    /// Whether the pool may grow (it is in use and below its maximum).
    pub fn may_grow(&self) -> bool {
        self.presence == Presence::Active && self.desktops < self.size.max_size
    }

    /// How many desktops the next growth adds.
    pub fn growth(&self) -> u32 {
        self.grow_by
            .max(1)
            .min(self.size.max_size.saturating_sub(self.desktops))
    }
}

/// A user as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The user's policy: the pools the user may be given a desktop from.
    pub pools: Vec<PoolId>,
    pub presence: Presence,
    /// When the event that last changed the user occurred.
    pub changed_at: Timestamp,
    /// `changed_at` in microseconds since the epoch: the number a write is conditioned on
    /// (an older event never overwrites a newer one).
    pub stamp: i64,
}

impl UserRecord {
    /// Whether the user may be given a desktop from `pool`.
    pub fn may_use(&self, pool: &PoolId) -> bool {
        self.presence == Presence::Active && self.pools.contains(pool)
    }
}

/// The stamp a user write is conditioned on.
pub fn stamp_of(t: Timestamp) -> i64 {
    t.timestamp_micros()
}
