//! The partner event catalog: what partner backends send Steward through EventBridge, parsed
//! and checked into typed events, or refused with a named [`Rejection`].
//!
//! Every event is an EventBridge envelope whose `source` is the partner event source and whose
//! `detail-type` names the event. Details are strict: unknown fields are refused, so a partner
//! bug surfaces as a named rejection rather than a silently ignored field. JSON Schemas of the
//! same catalog are published in `events/schemas/`; a test keeps the two in agreement.
//!
//! - `partner`: the power catalog's details and [`PartnerEvent`], what the partner-events
//!   function acts on.
//! - `policy`: `Tenant Policy Updated`'s partial policy and how it is applied.
//! - `pools`: pools, users and desktop assignment.
//! - `plans`: power control plans, holiday calendars and overrides.
//! - `rejection`: every refusal, by name (the lifecycle catalog, [`crate::lifecycle`],
//!   refuses with the same names).
//! - `envelope`: the envelope checks both catalogs make alike.

mod envelope;
mod partner;
mod plans;
mod policy;
mod pools;
mod rejection;

use chrono::Duration;

pub(crate) use envelope::{Received, detail, not_ahead};
pub use partner::{
    PartnerEvent, PartnerEventKind, SessionDetail, StartRequestDetail, StopRequestDetail,
};
pub use plans::{
    CalendarDetail, KeepRunningDetail, MAX_ICS_CHARS, MAX_KEEP_RUNNING_HOURS, MAX_OVERRIDE_DAYS,
    PlanDetail, PoolOverrideDetail,
};
pub use policy::{PolicyChanges, PolicyDetail};
pub use pools::{
    AssignmentRequestDetail, DEFAULT_COOLDOWN_MINUTES, DEFAULT_GROW_BY, LoadedUser,
    MAX_USERS_PER_EVENT, PoolDetail, PoolRef, ReleaseRequestDetail, UserRef, UsersLoadedDetail,
    check_pool_shape,
};
pub use rejection::Rejection;

/// The `detail-type` of each partner event.
pub mod detail_types {
    pub const SESSION_STARTED: &str = "Session Started";
    pub const SESSION_HEARTBEAT: &str = "Session Heartbeat";
    pub const SESSION_ENDED: &str = "Session Ended";
    pub const DESKTOP_START_REQUESTED: &str = "Desktop Start Requested";
    pub const DESKTOP_STOP_REQUESTED: &str = "Desktop Stop Requested";
    pub const TENANT_POLICY_UPDATED: &str = "Tenant Policy Updated";
    pub const POOL_CREATED: &str = "Pool Created";
    pub const POOL_UPDATED: &str = "Pool Updated";
    pub const POOL_DELETED: &str = "Pool Deleted";
    pub const USERS_LOADED: &str = "Users Loaded";
    pub const USER_REMOVED: &str = "User Removed";
    pub const DESKTOP_ASSIGNMENT_REQUESTED: &str = "Desktop Assignment Requested";
    pub const DESKTOP_RELEASE_REQUESTED: &str = "Desktop Release Requested";
    pub const POWER_PLAN_UPDATED: &str = "Power Plan Updated";
    pub const HOLIDAY_CALENDAR_LOADED: &str = "Holiday Calendar Loaded";
    pub const DESKTOP_KEEP_RUNNING: &str = "Desktop Keep Running";
    pub const POOL_OVERRIDE: &str = "Pool Override";

    pub const ALL: [&str; 17] = [
        SESSION_STARTED,
        SESSION_HEARTBEAT,
        SESSION_ENDED,
        DESKTOP_START_REQUESTED,
        DESKTOP_STOP_REQUESTED,
        TENANT_POLICY_UPDATED,
        POOL_CREATED,
        POOL_UPDATED,
        POOL_DELETED,
        USERS_LOADED,
        USER_REMOVED,
        DESKTOP_ASSIGNMENT_REQUESTED,
        DESKTOP_RELEASE_REQUESTED,
        POWER_PLAN_UPDATED,
        HOLIDAY_CALENDAR_LOADED,
        DESKTOP_KEEP_RUNNING,
        POOL_OVERRIDE,
    ];
}

/// How far in the future an event's `occurredAt` may lie (clock skew between systems).
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(5);
/// The longest keep-alive lease a start request may ask for (the service stops a MANUAL
/// desktop after 48 h AVAILABLE anyway).
pub const MAX_LEASE_MINUTES: u32 = 48 * 60;
