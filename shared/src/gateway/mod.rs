//! One gateway per AWS service: the only code that speaks to the SDKs, turning their
//! shapes into domain types, batching to the service's limits and keeping per-item
//! failures apart from whole-call failures.
//!
//! - [`workspaces`]: every WorkSpaces call, organised by resource (desktops, power, images,
//!   bundles, directories, account, tags);
//! - [`ec2`]: EC2 DescribeImages (the customer's AMIs) and DescribeSubnets (their zones);
//! - [`directory_service`]: Directory Service DescribeDirectories (the customer's directories
//!   offered at onboarding);
//! - [`iam`]: IAM GetRole (pre-flight: `workspaces_DefaultRole`);
//! - [`service_quotas`]: Service Quotas GetServiceQuota (pre-flight: the WorkSpaces quota);
//! - [`secrets`]: Secrets Manager GetSecretValue (an access-key tenant's key pair);
//! - [`eventbridge`]: the publisher of Steward's outbound events.
//!
//! EC2, Directory Service, IAM, Service Quotas and Secrets Manager are spoken through
//! [`crate::aws::signed`] rather than their SDK crates, which the Lambda bootstrap has no
//! room for.

pub mod directory_service;
pub mod ec2;
pub mod eventbridge;
pub mod iam;
pub mod secrets;
pub mod service_quotas;
pub mod workspaces;

/// The outcome of one item of a batch call (a desktop of StopWorkspaces, an entry of
/// PutEvents…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutcome {
    Accepted,
    Failed { code: String, message: String },
}

/// Declares a status the service reports as a string: its known values as variants with
/// their wire names, and `Other` for a value this version does not know, kept as the service
/// sent it. Serialises as the wire string and reads back from it (a step's output carries
/// one to the next step).
macro_rules! service_status {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $wire:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $(#[serde(rename = $wire)] $variant,)+
            /// A value this version of Steward does not know, as the service sent it.
            #[serde(untagged)]
            Other(String),
        }

        impl $name {
            /// Reads the service's wire value.
            pub fn from_wire(wire: &str) -> Self {
                match wire {
                    $($wire => Self::$variant,)+
                    other => Self::Other(other.to_owned()),
                }
            }

            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Other(other) => other,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use service_status;
