//! The AWS access layer: the base SDK configuration, per-tenant role sessions, and the
//! classification of AWS errors into Steward's stable names.
//!
//! A tenant is reached only through its own role, assumed with its ExternalId for a short
//! session. [`ClientFactory`] keeps one SDK configuration per tenant and Region whose
//! identity cache holds the assumed credentials until shortly before they expire, so a
//! warm Lambda makes one AssumeRole per tenant per session, not one per call.
//!
//! - `http`: the HTTP stack and the base configuration every SDK client starts from.
//! - `sessions`: tenant role sessions and their cache.
//! - `errors`: [`AwsError`] and its [`AwsErrorKind`].
//! - [`signed`]: signed requests to the services Steward reads without an SDK crate.
//! - `secret_credentials`: an access-key tenant's key pair, read from Secrets Manager.

mod errors;
mod http;
mod secret_credentials;
mod sessions;
pub mod signed;

pub(crate) use errors::chain;
pub use errors::{AwsError, AwsErrorKind};
pub use http::{https_client, https_connector, load_base_config, retry_config, sdk_defaults};
pub use sessions::{ClientFactory, MAX_CACHED_TENANTS, TenantAccess, TenantClients, session_name};
