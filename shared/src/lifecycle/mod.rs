//! Lifecycle commands as partner events: the catalog (detail types and their typed details,
//! published as JSON Schemas in `events/schemas/lifecycle/`) and the pure precondition checks
//! each command makes before Steward calls the service.
//!
//! The envelope rules are the partner catalog's ([`crate::events`]): the partner event
//! source, strict details (unknown fields refused), `occurredAt` at most
//! [`crate::events::MAX_CLOCK_SKEW`] ahead, and every refusal a named [`Rejection`].
//! Every lifecycle detail type starts with [`DETAIL_TYPE_PREFIX`], which is how the
//! template routes them to the lifecycle function and the rest to the power function.
//!
//! - `details`: the detail types, their details and [`Command`].
//! - `parse`: an EventBridge event to a checked [`LifecycleEvent`].
//! - `checks`: the checks that need the tenant or the desktop (state, tags, Region).

mod checks;
mod details;
mod parse;

pub use checks::{
    COMPUTE_TYPES, DesktopOp, REBOOT_STUCK_MINUTES, byop_running_mode, check_confirmation,
    check_state, check_tag_changes, region_of,
};
pub use details::{
    BundleDetail, CONFIRM_DEREGISTER, CONFIRM_TERMINATE, Command, CopyImageDetail,
    CreateImageDetail, CreationPropertiesDetail, DesktopDetail, DesktopsDetail, DirectoryDetail,
    ImageDetail, ImagePermissionDetail, LifecycleEvent, MigrateDetail, NewDesktop,
    PropertiesDetail, ProvisionDetail, StateDetail, TagsDetail, TargetState, TerminateDetail,
    UpdateBundleDetail, detail_types,
};

#[cfg(doc)]
use crate::events::Rejection;

/// Every lifecycle detail type starts with this.
pub const DETAIL_TYPE_PREFIX: &str = "Lifecycle ";
