//! The SDK's errors as [`StoreError`]s: throttling and an unreachable service are kept
//! apart from requests the table refused, because only the first two are worth retrying.

use std::error::Error as StdError;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::aws::AwsErrorKind;
use crate::store::StoreError;

/// Classifies a DynamoDB SDK error: throttling and unreachable service are kept apart
/// from requests the table refused, because only the first two are worth retrying.
pub(crate) fn classify<E>(err: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(ctx) => {
            let code = ctx.err().code().unwrap_or_default();
            match AwsErrorKind::from_code(code) {
                AwsErrorKind::Throttled => StoreError::Throttled {
                    source: Box::new(err),
                },
                AwsErrorKind::Transient => StoreError::Unavailable {
                    source: Box::new(err),
                },
                _ if code == "InternalServerError" => StoreError::Unavailable {
                    source: Box::new(err),
                },
                _ => StoreError::Request {
                    message: format!("{code}: {}", ctx.err().message().unwrap_or("no message")),
                    source: Box::new(err),
                },
            }
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            StoreError::Unavailable {
                source: Box::new(err),
            }
        }
        _ => StoreError::Request {
            message: err.to_string(),
            source: Box::new(err),
        },
    }
}
