//! A pool's protocol plan: the streaming protocol its desktops are built for.
//!
//! The service does not say a bundle's protocol: DescribeWorkspaceBundles and
//! DescribeWorkspaceImages carry none, and a desktop's `WorkspaceProperties.Protocols` knows
//! only PCOIP and WSP (DCV). What decides it is the image's ingestion process when it was
//! imported (`…_BYOP` for a partner protocol, `…_WSP` for DCV, neither for PCoIP), which
//! only whoever imported it knows. Steward remembers it for the bundles its onboarding
//! created from the image it imported, on the tenant ([`crate::model::Tenant::bundle_protocols`]); a
//! pool on such a bundle must name the same protocol. A pool on a bundle Steward did not
//! create is refused unless the partner vouches for the protocol
//! (`allowUnverifiedProtocol: true`), and it is then recorded as unverified.

use serde::{Deserialize, Serialize};

/// The streaming protocol of a pool's desktops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StreamingProtocol {
    /// The partner's own protocol (bring your own protocol).
    Byop,
    /// Amazon DCV (`WSP` in the API).
    Dcv,
    Pcoip,
}

impl StreamingProtocol {
    /// The protocol an image imported with `ingestion_process` streams with.
    pub fn of_ingestion(ingestion_process: &str) -> Self {
        if ingestion_process.ends_with("_BYOP") {
            StreamingProtocol::Byop
        } else if ingestion_process.ends_with("_WSP") {
            StreamingProtocol::Dcv
        } else {
            StreamingProtocol::Pcoip
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StreamingProtocol::Byop => "BYOP",
            StreamingProtocol::Dcv => "DCV",
            StreamingProtocol::Pcoip => "PCOIP",
        }
    }
}

/// How a pool's protocol was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProtocolCheck {
    /// The bundle is one Steward created, from an image of this protocol.
    Verified,
    /// The bundle is not Steward's; the partner vouched for the protocol.
    Unverified,
}

/// Why a protocol plan was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolMismatch {
    #[error("the bundle's image streams {bundle}, not the pool's {pool}")]
    Different {
        pool: &'static str,
        bundle: &'static str,
    },
    #[error(
        "Steward did not create the bundle, so its protocol is unknown: set allowUnverifiedProtocol to vouch for {0}"
    )]
    Unknown(&'static str),
}

/// Checks the pool's protocol against what Steward knows of the bundle's (`known`).
pub fn check(
    pool: StreamingProtocol,
    known: Option<StreamingProtocol>,
    allow_unverified: bool,
) -> Result<ProtocolCheck, ProtocolMismatch> {
    match known {
        Some(b) if b == pool => Ok(ProtocolCheck::Verified),
        Some(b) => Err(ProtocolMismatch::Different {
            pool: pool.as_str(),
            bundle: b.as_str(),
        }),
        None if allow_unverified => Ok(ProtocolCheck::Unverified),
        None => Err(ProtocolMismatch::Unknown(pool.as_str())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use StreamingProtocol::*;

    #[test]
    fn the_ingestion_process_names_the_protocol() {
        assert_eq!(StreamingProtocol::of_ingestion("BYOL_REGULAR_BYOP"), Byop);
        assert_eq!(
            StreamingProtocol::of_ingestion("BYOL_GRAPHICS_G4DN_BYOP"),
            Byop
        );
        assert_eq!(StreamingProtocol::of_ingestion("BYOL_REGULAR_WSP"), Dcv);
        assert_eq!(StreamingProtocol::of_ingestion("BYOL_REGULAR"), Pcoip);
    }

    #[test]
    fn a_known_protocol_must_match_and_an_unknown_one_needs_consent() {
        assert_eq!(check(Byop, Some(Byop), false), Ok(ProtocolCheck::Verified));
        assert_eq!(
            check(Byop, Some(Dcv), true),
            Err(ProtocolMismatch::Different {
                pool: "BYOP",
                bundle: "DCV"
            })
        );
        assert_eq!(
            check(Dcv, None, false),
            Err(ProtocolMismatch::Unknown("DCV"))
        );
        assert_eq!(check(Dcv, None, true), Ok(ProtocolCheck::Unverified));
    }
}
