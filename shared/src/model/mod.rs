//! Steward's domain model: tenants and their power policy, the desktops Steward tracks,
//! onboarding step records, audit records and usage-hour records.
//!
//! Everything here is plain data with pure checks; the store persists it as is, so a
//! field's name and serde attributes are its stored form. One room per entity:
//!
//! - `tenant`: the tenant record, its registration and the image operations it waits on.
//! - `policy`: the tenant's power policy and the stamps that order policy changes.
//! - `workspace`: the desktop record, the service's states and modes, user sessions.
//! - `calls`: the calls Steward makes on a desktop and the states each one explains.
//! - `encryption`: how desktops are encrypted at rest.
//! - `pool`: pools and the users the partner loaded.
//! - `plan`: power control plans, holiday calendars, measured start times, plan usage.
//! - `steps`: onboarding step records.
//! - `audit`: audit records.
//! - `usage`: usage-ledger records and the calendar month they are kept by.
//!
//! The rooms are private; every item is re-exported here, so `crate::model::X` is the one
//! path to any of them.

mod audit;
mod calls;
mod encryption;
mod plan;
mod policy;
mod pool;
mod steps;
mod tenant;
mod usage;
mod workspace;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use audit::{Actor, AuditOutcome, AuditRecord};
pub use calls::{StewardAction, StewardCall};
pub use encryption::{VolumeEncryption, VolumeEncryptionRequest};
pub use plan::{
    BufferOverride, CalendarRecord, PlanRecord, PlanUsageRecord, START_SAMPLES_KEPT, StartTimes,
    scope_name,
};
pub use policy::{
    DEFAULT_SERVICE_FORCED_STOP_MINUTES, GuardHardLimitAction, PolicyStamp, PowerPolicy,
};
pub use pool::{PoolRecord, Presence, UserRecord, stamp_of};
pub use steps::{OnboardingStep, StepRecord, StepStatus};
pub use tenant::{
    Connection, ConnectionFields, ImageOperation, NewTenant, PartnerTag, PendingImage,
    SWEEP_INDEX_VERSION, Tenant, TenantStatus,
};
pub use usage::{Month, UsageRecord};
pub use workspace::{
    AvailableSinceSource, EndedSession, FirstSeen, LeaseSource, PoolSeat, RunningMode, Session,
    WorkspaceRecord, WorkspaceState,
};

pub type Timestamp = DateTime<Utc>;

/// A failure kept on a record (a tenant, a step, an audited action): the stable error name
/// and a human message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorRecord {
    pub name: String,
    pub message: String,
}
