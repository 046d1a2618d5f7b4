//! What a service's error answer says, in the three shapes the signed client meets:
//! ec2Query's and awsQuery's XML, and awsJson's `__type` (or `X-Amzn-ErrorType`) with a
//! message; and the [`AwsError`] it is classified into — by its code, else by its HTTP
//! status — with the same [`AwsErrorKind`] table as every SDK error.

use aws_smithy_xml::decode::{Document, try_data};

use crate::aws::{AwsError, AwsErrorKind};

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct ErrorText(pub(super) String);

/// What an error response said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAnswer {
    pub status: u16,
    pub code: Option<String>,
    pub message: Option<String>,
}

/// An error response classified by its code; an unreadable one by its HTTP status.
pub fn service_error(
    service: &'static str,
    operation: &'static str,
    answer: ServiceAnswer,
) -> AwsError {
    let ServiceAnswer {
        status,
        code,
        message,
    } = answer;
    let kind = match &code {
        Some(c) => AwsErrorKind::from_code(c),
        None if status >= 500 || status == 429 => AwsErrorKind::Transient,
        None if status == 401 || status == 403 => AwsErrorKind::AccessDenied,
        None => AwsErrorKind::Other,
    };
    let kind = match kind {
        AwsErrorKind::Other if status >= 500 => AwsErrorKind::Transient,
        k => k,
    };
    AwsError {
        service,
        operation,
        kind,
        code,
        message: message.or_else(|| Some(format!("HTTP {status}"))),
        source: Box::new(ErrorText(format!("HTTP {status}"))),
    }
}

/// The code and message of a query error: ec2Query's `Response/Errors/Error` or awsQuery's
/// `ErrorResponse/Error`. Nothing readable: `(None, None)`.
pub fn xml_error(text: &str) -> (Option<String>, Option<String>) {
    fn read(text: &str) -> Result<(Option<String>, Option<String>), XmlError> {
        let mut doc = Document::new(text);
        let mut root = doc.root_element().map_err(XmlError)?;
        let (mut code, mut message) = (None, None);
        while let Some(mut tag) = root.next_tag() {
            let wrapped = tag.start_el().matches("Errors");
            if !wrapped && !tag.start_el().matches("Error") {
                continue;
            }
            let mut fields = |error: &mut aws_smithy_xml::decode::ScopedDecoder<'_, '_>| {
                while let Some(mut field) = error.next_tag() {
                    if field.start_el().matches("Code") {
                        code = Some(try_data(&mut field).map_err(XmlError)?.into_owned());
                    } else if field.start_el().matches("Message") {
                        message = Some(try_data(&mut field).map_err(XmlError)?.into_owned());
                    }
                }
                Ok::<(), XmlError>(())
            };
            if wrapped {
                if let Some(mut error) = tag.next_tag() {
                    fields(&mut error)?;
                }
            } else {
                fields(&mut tag)?;
            }
            break;
        }
        Ok((code, message))
    }
    read(text).unwrap_or((None, None))
}

struct XmlError(#[allow(dead_code)] aws_smithy_xml::decode::XmlDecodeError);

/// The code and message of an awsJson error: the `X-Amzn-ErrorType` header or the body's
/// `__type` (without a namespace before `#` or a URL after `:`), and `message`/`Message`.
pub fn json_error(header: Option<&str>, body: &[u8]) -> (Option<String>, Option<String>) {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let text = |k: &str| value.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let raw = header.map(str::to_owned).or_else(|| text("__type"));
    let code = raw.and_then(|t| {
        let t = t.rsplit('#').next().unwrap_or_default();
        let t = t.split(':').next().unwrap_or_default().trim();
        (!t.is_empty()).then(|| t.to_owned())
    });
    (code, text("message").or_else(|| text("Message")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_errors_of_both_shapes_are_read() {
        let ec2 = r#"<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r</RequestID></Response>"#;
        assert_eq!(
            xml_error(ec2),
            (
                Some("RequestLimitExceeded".into()),
                Some("Request limit exceeded.".into())
            )
        );
        let iam = r#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The role with name x cannot be found.</Message></Error><RequestId>r</RequestId></ErrorResponse>"#;
        assert_eq!(
            xml_error(iam),
            (
                Some("NoSuchEntity".into()),
                Some("The role with name x cannot be found.".into())
            )
        );
        assert_eq!(xml_error("<html/>"), (None, None));
        assert_eq!(xml_error("garbage"), (None, None));
    }

    #[test]
    fn json_errors_lose_their_namespace_and_url() {
        assert_eq!(
            json_error(
                None,
                br#"{"__type":"com.amazonaws.servicequotas#NoSuchResourceException","message":"gone"}"#
            ),
            (Some("NoSuchResourceException".into()), Some("gone".into()))
        );
        assert_eq!(
            json_error(
                Some("AccessDeniedException:http://internal.amazon.com/"),
                br#"{"Message":"no"}"#
            ),
            (Some("AccessDeniedException".into()), Some("no".into()))
        );
        assert_eq!(json_error(None, b"<html/>"), (None, None));
    }

    #[test]
    fn errors_are_classified_by_code_then_status() {
        let answer = |status: u16, code: Option<&str>| ServiceAnswer {
            status,
            code: code.map(str::to_owned),
            message: None,
        };
        let kind = |a| service_error("EC2", "DescribeImages", a).kind;
        assert_eq!(
            kind(answer(503, Some("RequestLimitExceeded"))),
            AwsErrorKind::Throttled
        );
        assert_eq!(
            kind(answer(403, Some("UnauthorizedOperation"))),
            AwsErrorKind::AccessDenied
        );
        assert_eq!(kind(answer(502, None)), AwsErrorKind::Transient);
        assert_eq!(kind(answer(500, Some("Odd"))), AwsErrorKind::Transient);
        assert_eq!(kind(answer(403, None)), AwsErrorKind::AccessDenied);
        assert_eq!(kind(answer(400, None)), AwsErrorKind::Other);
        let e = service_error("EC2", "DescribeImages", answer(400, None));
        assert_eq!(e.message.as_deref(), Some("HTTP 400"));
    }
}
