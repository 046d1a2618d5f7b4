//! One error type for every protocol; each codec renders it its own way.

/// An error as the service would answer it. `code` is the wire code
/// (`__type` in awsJson1_1, `Code` in the query protocols).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub code: String,
    pub message: String,
    pub status: u16,
    /// `ResourceId` member of ResourceNotFound/ResourceUnavailable exceptions.
    pub resource_id: Option<String>,
    /// `reason` member of OperationNotSupportedException.
    pub reason: Option<String>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_string(),
            message: message.into(),
            status: 400,
            resource_id: None,
            reason: None,
        }
    }
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }
    pub fn with_resource(mut self, id: &str) -> Self {
        self.resource_id = Some(id.to_string());
        self
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new("InvalidParameterValuesException", message)
    }
    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(
            "ResourceNotFoundException",
            format!("The specified {what} {id} could not be found."),
        )
        .with_resource(id)
    }
    pub fn bad_state(message: impl Into<String>) -> Self {
        Self::new("InvalidResourceStateException", message)
    }
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new("OperationNotSupportedException", message)
    }
    pub fn unavailable(message: impl Into<String>, id: &str) -> Self {
        Self::new("ResourceUnavailableException", message).with_resource(id)
    }
    pub fn exists(message: impl Into<String>) -> Self {
        Self::new("ResourceAlreadyExistsException", message)
    }
    pub fn limit(message: impl Into<String>) -> Self {
        Self::new("ResourceLimitExceededException", message)
    }
    pub fn associated(message: impl Into<String>) -> Self {
        Self::new("ResourceAssociatedException", message)
    }
    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new("AccessDeniedException", message)
    }
    pub fn throttled() -> Self {
        Self::new("ThrottlingException", "Rate exceeded")
    }
}
