//! Errors as the two JSON protocols carry them: status 400, `{"__type", "message"}`; SQS's
//! `__type` is namespaced (`com.amazonaws.sqs#…`) and its legacy query code rides in the
//! `x-amzn-query-error` header (the SDKs read it to name the error as the query protocol did).

use serde_json::json;

use super::{EVENTS_JSON, SQS_JSON, WireResponse};
use crate::events::EventsError;
use crate::queues::SqsError;

pub(crate) fn events_fault(type_name: &str, message: &str) -> WireResponse {
    WireResponse {
        status: 400,
        content_type: EVENTS_JSON,
        body: json!({"__type": type_name, "message": message}).to_string(),
        headers: Vec::new(),
    }
}

pub(crate) fn events_error(error: &EventsError) -> WireResponse {
    let type_name = match error {
        EventsError::ResourceNotFound { .. } => "ResourceNotFoundException",
        EventsError::ResourceAlreadyExists { .. } => "ResourceAlreadyExistsException",
        EventsError::InvalidEventPattern(_) => "InvalidEventPatternException",
        EventsError::Validation { .. } | EventsError::RuleHasTargets => "ValidationException",
        EventsError::LimitExceeded { .. } => "LimitExceededException",
    };
    events_fault(type_name, &error.to_string())
}

/// An SQS error by its model name and legacy query code.
pub(crate) fn sqs_fault(shape: &str, query_code: &str, message: &str) -> WireResponse {
    WireResponse {
        status: 400,
        content_type: SQS_JSON,
        body: json!({"__type": format!("com.amazonaws.sqs#{shape}"), "message": message})
            .to_string(),
        headers: vec![("x-amzn-query-error", format!("{query_code};Sender"))],
    }
}

pub(crate) fn sqs_error(error: &SqsError) -> WireResponse {
    let (shape, code) = match error {
        SqsError::QueueDoesNotExist => (
            "QueueDoesNotExist",
            "AWS.SimpleQueueService.NonExistentQueue",
        ),
        SqsError::QueueNameExists { .. } => ("QueueNameExists", "QueueAlreadyExists"),
        SqsError::InvalidParameterValue { .. } => {
            ("InvalidParameterValue", "InvalidParameterValue")
        }
        SqsError::MissingParameter { .. } => ("MissingParameter", "MissingParameter"),
        SqsError::InvalidAttributeName { .. } => ("InvalidAttributeName", "InvalidAttributeName"),
        SqsError::InvalidAttributeValue { .. } => {
            ("InvalidAttributeValue", "InvalidAttributeValue")
        }
        SqsError::InvalidMessageContents => ("InvalidMessageContents", "InvalidMessageContents"),
        SqsError::ReceiptHandleIsInvalid => ("ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid"),
        SqsError::MessageNotInflight => (
            "MessageNotInflight",
            "AWS.SimpleQueueService.MessageNotInflight",
        ),
        SqsError::TooManyEntriesInBatchRequest => (
            "TooManyEntriesInBatchRequest",
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        ),
        SqsError::EmptyBatchRequest => (
            "EmptyBatchRequest",
            "AWS.SimpleQueueService.EmptyBatchRequest",
        ),
        SqsError::BatchEntryIdsNotDistinct => (
            "BatchEntryIdsNotDistinct",
            "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
        ),
        SqsError::InvalidBatchEntryId => (
            "InvalidBatchEntryId",
            "AWS.SimpleQueueService.InvalidBatchEntryId",
        ),
        SqsError::Unsupported { .. } => (
            "UnsupportedOperation",
            "AWS.SimpleQueueService.UnsupportedOperation",
        ),
    };
    sqs_fault(shape, code, &error.to_string())
}
