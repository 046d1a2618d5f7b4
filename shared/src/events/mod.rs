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
//! - `rejection`: every refusal, by name (the lifecycle catalog, [`crate::lifecycle`],
//!   refuses with the same names).
//! - `envelope`: the envelope checks both catalogs make alike.

mod envelope;
mod partner;
mod policy;
mod rejection;

use chrono::Duration;

pub(crate) use envelope::{Received, detail, not_ahead};
pub use partner::{
    PartnerEvent, PartnerEventKind, SessionDetail, StartRequestDetail, StopRequestDetail,
};
pub use policy::{PolicyChanges, PolicyDetail};
pub use rejection::Rejection;

/// The `detail-type` of each partner event.
pub mod detail_types {
    pub const SESSION_STARTED: &str = "Session Started";
    pub const SESSION_HEARTBEAT: &str = "Session Heartbeat";
    pub const SESSION_ENDED: &str = "Session Ended";
    pub const DESKTOP_START_REQUESTED: &str = "Desktop Start Requested";
    pub const DESKTOP_STOP_REQUESTED: &str = "Desktop Stop Requested";
    pub const TENANT_POLICY_UPDATED: &str = "Tenant Policy Updated";

    pub const ALL: [&str; 6] = [
        SESSION_STARTED,
        SESSION_HEARTBEAT,
        SESSION_ENDED,
        DESKTOP_START_REQUESTED,
        DESKTOP_STOP_REQUESTED,
        TENANT_POLICY_UPDATED,
    ];
}

/// How far in the future an event's `occurredAt` may lie (clock skew between systems).
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(5);
/// The longest keep-alive lease a start request may ask for (the service stops a MANUAL
/// desktop after 48 h AVAILABLE anyway).
pub const MAX_LEASE_MINUTES: u32 = 48 * 60;
