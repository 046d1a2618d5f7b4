//! Steward's domain, store, AWS access layer and errors.
//!
//! - [`validate`], [`ids`], [`model`]: the domain — pure data and checks.
//! - [`events`], [`power`], [`reconcile`]: the partner event catalog, the power policy
//!   decisions, reconciliation with the service and the usage ledger's periods.
//! - [`preflight`], [`directory_offer`]: what onboarding judges about a customer account
//!   before it changes anything: the pre-flight checks and the directories it offers.
//! - [`pools`]: pools of desktops — assignment, resizing, release plans (decisions only).
//! - [`plans`]: power control plans — windows in a time zone, holidays, warm capacity,
//!   drain (decisions only).
//! - [`config`]: settings read once from the environment; [`clock`]: where "now" comes from.
//! - [`aws`]: per-tenant role sessions and the classification of AWS errors.
//! - [`store`]: what Steward keeps, on one DynamoDB table.
//! - [`error`]: the error type and its stable names.

pub mod aws;
pub mod clock;
pub mod config;
pub mod directory_offer;
pub mod error;
pub mod events;
pub mod gateway;
pub mod ids;
pub mod lifecycle;
pub mod model;
pub mod onboarding;
pub mod plans;
pub mod pools;
pub mod power;
pub mod preflight;
pub mod reconcile;
pub mod redact;
pub mod store;
pub mod validate;

pub use error::Error;
