//! AWS errors classified into the kinds Steward acts on (retry, refuse, report), whatever
//! service or protocol they came from.

use std::error::Error as StdError;
use std::fmt;

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// What kind of failure an AWS call met, which decides whether to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    Throttled,
    Transient,
    AccessDenied,
    NotFound,
    AlreadyExists,
    InvalidState,
    InvalidRequest,
    LimitExceeded,
    Other,
}

/// Error codes the SDK's retry classifier treats as throttling.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

impl AwsErrorKind {
    /// Classifies a service error code (the `__type`, or the XML `Code`).
    pub fn from_code(code: &str) -> Self {
        match code {
            c if THROTTLING_CODES.contains(&c) => Self::Throttled,
            "RequestTimeout"
            | "RequestTimeoutException"
            | "InternalServerException"
            | "InternalFailure"
            | "ServiceUnavailable"
            | "ServiceUnavailableException"
            | "InternalError"
            | "Unavailable"
            | "ServiceException"
            | "InternalServiceError" => Self::Transient,
            "AccessDenied"
            | "AccessDeniedException"
            | "UnauthorizedOperation"
            | "ExpiredToken"
            | "ExpiredTokenException"
            | "InvalidClientTokenId"
            | "UnrecognizedClientException"
            | "RegionDisabledException"
            | "AuthFailure"
            | "SignatureDoesNotMatch"
            | "IncompleteSignature"
            | "MissingAuthenticationToken"
            | "DecryptionFailure" => Self::AccessDenied,
            "ResourceNotFoundException"
            | "InvalidAMIID.NotFound"
            | "InvalidSubnetID.NotFound"
            | "NoSuchEntity"
            | "NoSuchResourceException"
            | "EntityDoesNotExistException" => Self::NotFound,
            "ResourceAlreadyExistsException" => Self::AlreadyExists,
            "InvalidResourceStateException"
            | "OperationInProgressException"
            | "ResourceUnavailableException"
            | "ResourceAssociatedException"
            | "OperationNotSupportedException"
            | "UnsupportedWorkspaceConfigurationException"
            | "UnsupportedNetworkConfigurationException" => Self::InvalidState,
            "InvalidParameterValuesException"
            | "InvalidParameterCombinationException"
            | "ValidationException"
            | "ValidationError"
            | "InvalidAMIID.Malformed"
            | "MalformedPolicyDocument"
            | "InvalidParameterValue"
            | "InvalidParameterException"
            | "InvalidRequestException"
            | "InvalidNextTokenException"
            | "InvalidInput"
            | "IllegalArgumentException"
            | "UnknownOperationException" => Self::InvalidRequest,
            "ResourceLimitExceededException" => Self::LimitExceeded,
            _ => Self::Other,
        }
    }
}

/// An AWS call that failed, with the service's code and message and the SDK error kept.
#[derive(Debug, thiserror::Error)]
#[error("{service}.{operation} failed ({}): {}", .code.as_deref().unwrap_or("no code"), .message.as_deref().unwrap_or("no message"))]
pub struct AwsError {
    pub service: &'static str,
    pub operation: &'static str,
    pub kind: AwsErrorKind,
    pub code: Option<String>,
    pub message: Option<String>,
    #[source]
    pub source: Box<dyn StdError + Send + Sync>,
}

impl AwsError {
    /// A call Steward could not even make (a request it failed to build).
    pub fn local(
        service: &'static str,
        operation: &'static str,
        kind: AwsErrorKind,
        message: String,
        source: impl StdError + Send + Sync + 'static,
    ) -> Self {
        Self {
            service,
            operation,
            kind,
            code: None,
            message: Some(message),
            source: Box::new(source),
        }
    }

    /// Classifies an SDK error. Failures to reach the service are transient, except a
    /// failed AssumeRole (the tenant's role refused us), which is AccessDenied.
    pub fn from_sdk<E, R>(
        service: &'static str,
        operation: &'static str,
        err: SdkError<E, R>,
    ) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
        R: fmt::Debug + Send + Sync + 'static,
    {
        let (kind, code, message) = match &err {
            SdkError::ServiceError(ctx) => {
                let e = ctx.err();
                let code = e.code().map(str::to_owned);
                let kind = code
                    .as_deref()
                    .map_or(AwsErrorKind::Other, AwsErrorKind::from_code);
                (kind, code, e.message().map(str::to_owned))
            }
            SdkError::TimeoutError(_) => (AwsErrorKind::Transient, None, Some("timed out".into())),
            SdkError::ResponseError(_) => (
                AwsErrorKind::Transient,
                None,
                Some("unreadable response".into()),
            ),
            _ => match credentials_failure(&err) {
                Some((kind, message)) => (kind, None, Some(message)),
                None => (AwsErrorKind::Transient, None, Some(chain(&err))),
            },
        };
        Self {
            service,
            operation,
            kind,
            code,
            message,
            source: Box::new(err),
        }
    }
}

/// The kind and message of a credentials failure in `err`'s source chain, if that is what
/// it was: credentials not loaded *yet* (a provider's transient failure, e.g. a throttled
/// secret read) or not in time are transient; any other failure (a refused role, an unusable
/// secret) is AccessDenied.
pub(crate) fn credentials_failure(
    err: &(dyn StdError + 'static),
) -> Option<(AwsErrorKind, String)> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(c) = e.downcast_ref::<CredentialsError>() {
            let kind = match c {
                CredentialsError::CredentialsNotLoaded(_)
                | CredentialsError::ProviderTimedOut(_) => AwsErrorKind::Transient,
                _ => AwsErrorKind::AccessDenied,
            };
            return Some((kind, chain(c)));
        }
        cur = e.source();
    }
    None
}

/// `err` and its sources, joined with `: `.
pub(crate) fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        out.push_str(": ");
        out.push_str(&e.to_string());
        cur = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_classify() {
        use AwsErrorKind::*;
        assert_eq!(AwsErrorKind::from_code("ThrottlingException"), Throttled);
        assert_eq!(AwsErrorKind::from_code("RequestLimitExceeded"), Throttled);
        assert_eq!(
            AwsErrorKind::from_code("AccessDeniedException"),
            AccessDenied
        );
        assert_eq!(AwsErrorKind::from_code("AccessDenied"), AccessDenied);
        assert_eq!(
            AwsErrorKind::from_code("ResourceNotFoundException"),
            NotFound
        );
        assert_eq!(
            AwsErrorKind::from_code("InvalidResourceStateException"),
            InvalidState
        );
        assert_eq!(
            AwsErrorKind::from_code("InvalidParameterValuesException"),
            InvalidRequest
        );
        assert_eq!(
            AwsErrorKind::from_code("ResourceLimitExceededException"),
            LimitExceeded
        );
        assert_eq!(
            AwsErrorKind::from_code("InternalServerException"),
            Transient
        );
        assert_eq!(AwsErrorKind::from_code("NoSuchEntity"), NotFound);
        assert_eq!(AwsErrorKind::from_code("NoSuchResourceException"), NotFound);
        assert_eq!(
            AwsErrorKind::from_code("EntityDoesNotExistException"),
            NotFound
        );
        assert_eq!(
            AwsErrorKind::from_code("InvalidSubnetID.NotFound"),
            NotFound
        );
        assert_eq!(AwsErrorKind::from_code("AuthFailure"), AccessDenied);
        assert_eq!(AwsErrorKind::from_code("DecryptionFailure"), AccessDenied);
        assert_eq!(AwsErrorKind::from_code("ServiceException"), Transient);
        assert_eq!(
            AwsErrorKind::from_code("InvalidRequestException"),
            InvalidRequest
        );
        assert_eq!(AwsErrorKind::from_code("SomethingNew"), Other);
    }
}
