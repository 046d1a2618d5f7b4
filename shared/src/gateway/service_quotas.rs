//! Service Quotas, for the one read pre-flight makes there: GetServiceQuota, the customer's
//! WorkSpaces quota, checked against the desktops an onboarding asks for.
//!
//! A customer role may well not grant `servicequotas:GetServiceQuota`, and a quota the
//! account never touched may not be found; either way the quota is *unknown* — never zero,
//! which would refuse every onboarding — and pre-flight says so instead of guessing.
//! Spoken as awsJson1_1 (`ServiceQuotasV20190624.GetServiceQuota`) through [`SignedClient`].

use serde::Deserialize;
use serde_json::json;

use crate::aws::signed::{Service, SignedClient, SignedGateway};
use crate::aws::{AwsError, AwsErrorKind};

/// Service Quotas as [`SignedClient`] reaches it.
pub const SERVICE: Service = Service {
    name: "ServiceQuotas",
    endpoint_prefix: "servicequotas",
    json_target: Some("ServiceQuotasV20190624"),
    global: None,
};
const OPERATION: &str = "GetServiceQuota";

/// What a quota read found.
#[derive(Debug, Clone, PartialEq)]
pub enum QuotaReading {
    /// The applied quota.
    Known {
        value: f64,
        /// The quota's name as the service gives it (`WorkSpaces`).
        name: Option<String>,
    },
    /// The quota could not be read; pre-flight reports it and goes on.
    Unknown { reason: QuotaUnknown },
}

/// Why a quota is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[serde(rename_all = "camelCase")]
pub enum QuotaUnknown {
    #[error("the role may not read Service Quotas (servicequotas:GetServiceQuota)")]
    AccessDenied,
    #[error("Service Quotas has no such quota for this account and Region")]
    NotFound,
    #[error("Service Quotas returned the quota without a value")]
    NoValue,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Wire {
    quota: Option<WireQuota>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireQuota {
    value: Option<f64>,
    quota_name: Option<String>,
}

/// A Service Quotas client for one tenant and Region.
#[derive(Clone, Debug)]
pub struct ServiceQuotasClient {
    signed: SignedClient,
}

impl SignedGateway for ServiceQuotasClient {
    const SERVICE: Service = SERVICE;

    fn from_signed(signed: SignedClient) -> Self {
        Self { signed }
    }
}

impl ServiceQuotasClient {
    /// GetServiceQuota of `quota_code` (`L-…`) of `service_code` (`workspaces`). AccessDenied
    /// and not-found answers are [`QuotaReading::Unknown`]; other failures (throttled past
    /// the retries, unreachable) are errors.
    pub async fn quota(
        &self,
        service_code: &str,
        quota_code: &str,
    ) -> Result<QuotaReading, AwsError> {
        let input = json!({ "ServiceCode": service_code, "QuotaCode": quota_code });
        match self.signed.json::<Wire>(OPERATION, &input).await {
            Ok(wire) => Ok(reading(wire)),
            Err(e) => match e.kind {
                AwsErrorKind::AccessDenied => Ok(QuotaReading::Unknown {
                    reason: QuotaUnknown::AccessDenied,
                }),
                AwsErrorKind::NotFound => Ok(QuotaReading::Unknown {
                    reason: QuotaUnknown::NotFound,
                }),
                _ => Err(e),
            },
        }
    }
}

fn reading(wire: Wire) -> QuotaReading {
    match wire.quota {
        Some(WireQuota {
            value: Some(value),
            quota_name,
        }) => QuotaReading::Known {
            value,
            name: quota_name,
        },
        _ => QuotaReading::Unknown {
            reason: QuotaUnknown::NoValue,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quota_without_a_value_is_unknown_not_zero() {
        let read = |v| reading(serde_json::from_value(v).unwrap());
        assert_eq!(
            read(json!({"Quota": {"QuotaName": "WorkSpaces", "Value": 1.0}})),
            QuotaReading::Known {
                value: 1.0,
                name: Some("WorkSpaces".into())
            }
        );
        assert_eq!(
            read(json!({"Quota": {"QuotaName": "WorkSpaces"}})),
            QuotaReading::Unknown {
                reason: QuotaUnknown::NoValue
            }
        );
        assert_eq!(
            read(json!({})),
            QuotaReading::Unknown {
                reason: QuotaUnknown::NoValue
            }
        );
    }
}
