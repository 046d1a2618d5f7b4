//! The edges of every invocation: reading a handler's input (naming what is wrong with it
//! and quoting nothing it was sent) and what Lambda reports when a handler fails (the stable
//! error name the state machines match on).

use lambda_runtime::Diagnostic;
use serde_json::Value;
use steward_shared::Error;

/// An [`InputCheck`](crate::routes::InputCheck) for a handler whose input is `T`.
pub fn parses<T: serde::de::DeserializeOwned>(event: Value) -> Result<(), Error> {
    parse_input::<T>(event).map(|_| ())
}

/// What Lambda reports for a failed invocation: the stable error name as the error type,
/// which the state machines' Retry and Catch match on.
pub fn diagnostic(err: &Error) -> Diagnostic {
    Diagnostic {
        error_type: err.name().to_owned(),
        error_message: err.to_string(),
    }
}

/// Reads a handler's input, naming the first thing wrong with it and quoting nothing it was
/// sent ([`steward_shared::redact`]): a key on the way that is not a plain name is shown as
/// `?`.
pub fn parse_input<T: serde::de::DeserializeOwned>(event: Value) -> Result<T, Error> {
    use serde_path_to_error::Segment;
    serde_path_to_error::deserialize(event).map_err(|e| {
        let mut path = String::new();
        for segment in e.path().iter() {
            match segment {
                Segment::Seq { index } => path.push_str(&format!("[{index}]")),
                Segment::Map { key } | Segment::Enum { variant: key } => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(if steward_shared::redact::is_plain_name(key) {
                        key
                    } else {
                        "?"
                    });
                }
                Segment::Unknown => path.push_str(".?"),
            }
        }
        if path.is_empty() {
            path.push('.');
        }
        Error::refused(
            steward_shared::error::names::VALIDATION,
            format!(
                "invalid input at `{path}`: {}",
                steward_shared::redact::serde_message(&e.into_inner().to_string())
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_shared::validate::{Problem, ValidationError};

    #[test]
    fn diagnostics_carry_the_stable_name() {
        let err: Error = ValidationError::new("detail.workspaceId", Problem::Missing).into();
        let d = diagnostic(&err);
        assert_eq!(d.error_type, "Steward.ValidationError");
        assert_eq!(d.error_message, "invalid detail.workspaceId: is required");
    }
}
