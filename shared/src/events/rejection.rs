//! Why a partner event or lifecycle command was refused: one named [`Rejection`] per cause,
//! whose `reason()` is the stable name kept with the event and matched by callers and tests.

use crate::validate::ValidationError;

/// Why an event was refused. `reason()` is the stable name kept with the event.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Rejection {
    #[error("not an EventBridge event: {0}")]
    MalformedEnvelope(String),
    /// The source, described (never quoted: see [`crate::redact`]).
    #[error("the event source ({0}) is not the partner event source")]
    UnknownSource(String),
    /// The detail-type, described.
    #[error("the detail-type ({0}) is not one Steward handles")]
    UnknownDetailType(String),
    #[error("malformed detail: {0}")]
    MalformedDetail(String),
    #[error(transparent)]
    InvalidField(#[from] ValidationError),
    #[error("occurredAt is {0} minutes in the future")]
    FromTheFuture(i64),
    #[error("tenant {0} is not registered")]
    UnknownTenant(String),
    #[error("tenant {0} is not active")]
    TenantNotActive(String),
    #[error("desktop {workspace} is not one of tenant {tenant}'s desktops")]
    NotOwned { tenant: String, workspace: String },
    #[error("the request is {age_minutes} minutes old, older than {max_minutes}: not acted upon")]
    Stale { age_minutes: i64, max_minutes: i64 },
    /// A lifecycle command on a resource in a state the service does not accept for it.
    #[error("{operation} does not accept {resource} in state {state}")]
    InvalidState {
        operation: String,
        resource: String,
        state: String,
    },
    /// An irreversible lifecycle command without its explicit confirmation field.
    #[error("{0} needs its explicit confirmation")]
    ConfirmationRequired(String),
    /// A running mode BYOP desktops cannot use (AUTO_STOP): only ALWAYS_ON or MANUAL.
    #[error("running mode {0} is not allowed for BYOP desktops (ALWAYS_ON or MANUAL only)")]
    RunningModeNotAllowed(String),
    /// A tag change that would remove or alter the partner tag.
    #[error("the partner tag {0:?} is never removed or altered")]
    PartnerTagProtected(String),
    /// An image, bundle or directory without the partner tag (or a region not the tenant's).
    #[error("{0} is not one of the tenant's resources")]
    ResourceNotOwned(String),
    /// A tag change for a tenant whose customer role does not grant tag edits (the
    /// customer role's `AllowTagManagement` parameter, recorded at onboarding; off by
    /// default, as the partner guide's tag guidelines ask).
    #[error("tenant {0}'s customer role does not grant tag changes (AllowTagManagement is false)")]
    TagManagementNotGranted(String),
    /// A pool event or request naming a pool the tenant does not have (or deleted).
    #[error("pool {0} is not one of the tenant's pools")]
    UnknownPool(String),
    /// A pool whose protocol plan does not match its bundle (see `pools::protocol`).
    #[error("the pool's protocol plan does not match its bundle: {0}")]
    ProtocolMismatch(String),
    /// A pool update changing what a pool is built on (its bundle, directory or Region).
    #[error("a pool's {0} never changes: create a new pool instead")]
    PoolSettingFixed(&'static str),
}

impl Rejection {
    pub fn reason(&self) -> &'static str {
        match self {
            Rejection::MalformedEnvelope(_) => "MalformedEnvelope",
            Rejection::UnknownSource(_) => "UnknownSource",
            Rejection::UnknownDetailType(_) => "UnknownDetailType",
            Rejection::MalformedDetail(_) => "MalformedDetail",
            Rejection::InvalidField(_) => "InvalidField",
            Rejection::FromTheFuture(_) => "FromTheFuture",
            Rejection::UnknownTenant(_) => "UnknownTenant",
            Rejection::TenantNotActive(_) => "TenantNotActive",
            Rejection::NotOwned { .. } => "NotOwned",
            Rejection::Stale { .. } => "Stale",
            Rejection::InvalidState { .. } => "InvalidState",
            Rejection::ConfirmationRequired(_) => "ConfirmationRequired",
            Rejection::RunningModeNotAllowed(_) => "RunningModeNotAllowed",
            Rejection::PartnerTagProtected(_) => "PartnerTagProtected",
            Rejection::ResourceNotOwned(_) => "ResourceNotOwned",
            Rejection::TagManagementNotGranted(_) => "TagManagementNotGranted",
            Rejection::UnknownPool(_) => "UnknownPool",
            Rejection::ProtocolMismatch(_) => "ProtocolMismatch",
            Rejection::PoolSettingFixed(_) => "PoolSettingFixed",
        }
    }
}
