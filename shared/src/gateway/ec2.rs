//! EC2, for the one read Steward makes there: DescribeImages (the customer's AMIs offered for
//! import during onboarding, [`Ec2Client::owned_amis`]).
//!
//! `aws-sdk-ec2` models several hundred operations; compiling it was the largest single part
//! of building the Lambda artifact (about 4 min in debug here, more in release) against a
//! 15-minute release budget, for one call. So this module speaks that call's protocol,
//! ec2Query (reference §1.3 and §10), over the pieces the SDKs themselves use: the same HTTP
//! connector (`aws-smithy-http-client`, rustls on ring), the tenant's credentials provider
//! (the assumed role), `aws-sigv4` for signing and `aws-smithy-xml` for the response. Errors
//! are classified with the same [`AwsErrorKind`] table as every SDK error, and throttled or
//! transient failures are retried with exponential back-off up to the configured attempts.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::http::{HttpConnector, SharedHttpConnector};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use aws_smithy_xml::decode::{Document, ScopedDecoder, XmlDecodeError, try_data};

use crate::aws::{AwsError, AwsErrorKind, chain};
use crate::config::AccessSettings;
use crate::onboarding::AmiFacts;

const SERVICE: &str = "EC2";
const OPERATION: &str = "DescribeImages";
const API_VERSION: &str = "2016-11-15";
/// How long one attempt may take, connection included.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(20);

/// A DescribeImages request (the parameters Steward uses).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeImages {
    pub owners: Vec<String>,
    pub image_ids: Vec<String>,
    /// `(name, values)`.
    pub filters: Vec<(String, Vec<String>)>,
    pub max_results: Option<u32>,
    pub next_token: Option<String>,
}

impl DescribeImages {
    /// The form body (reference §1.3: lists flattened with `.N`, 1-based).
    pub fn form(&self) -> String {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("Action", OPERATION);
        form.append_pair("Version", API_VERSION);
        for (i, o) in self.owners.iter().enumerate() {
            form.append_pair(&format!("Owner.{}", i + 1), o);
        }
        for (i, id) in self.image_ids.iter().enumerate() {
            form.append_pair(&format!("ImageId.{}", i + 1), id);
        }
        for (i, (name, values)) in self.filters.iter().enumerate() {
            form.append_pair(&format!("Filter.{}.Name", i + 1), name);
            for (j, v) in values.iter().enumerate() {
                form.append_pair(&format!("Filter.{}.Value.{}", i + 1, j + 1), v);
            }
        }
        if let Some(m) = self.max_results {
            form.append_pair("MaxResults", &m.to_string());
        }
        if let Some(t) = &self.next_token {
            form.append_pair("NextToken", t);
        }
        form.finish()
    }
}

/// One page of DescribeImages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImagesPage {
    pub images: Vec<AmiFacts>,
    pub next_token: Option<String>,
}

/// An EC2 client for one tenant and Region.
pub struct Ec2Client {
    connector: SharedHttpConnector,
    credentials: Option<SharedCredentialsProvider>,
    region: String,
    endpoint: String,
    max_attempts: u32,
    initial_backoff: Duration,
}

impl Ec2Client {
    /// A client on `config`'s Region, credentials and endpoint override (`endpoint_url`,
    /// as the sandbox sets it); otherwise the Region's public EC2 endpoint.
    pub fn new(
        config: &SdkConfig,
        connector: SharedHttpConnector,
        settings: &AccessSettings,
    ) -> Self {
        let region = config
            .region()
            .map_or_else(|| "us-east-1".to_owned(), |r| r.to_string());
        let endpoint = config.endpoint_url().map_or_else(
            || default_endpoint(&region),
            |u| u.trim_end_matches('/').to_owned(),
        );
        Self {
            connector,
            credentials: config.credentials_provider(),
            region,
            endpoint,
            max_attempts: settings.max_attempts.max(1),
            initial_backoff: settings.initial_backoff,
        }
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The customer's own machine images (DescribeImages, owner `self`, `image-type`
    /// machine), at most `max`; `true` if more exist.
    pub async fn owned_amis(&self, max: usize) -> Result<(Vec<AmiFacts>, bool), AwsError> {
        let mut out = Vec::new();
        let mut request = DescribeImages {
            owners: vec!["self".into()],
            filters: vec![("image-type".into(), vec!["machine".into()])],
            ..DescribeImages::default()
        };
        loop {
            let page = self.describe_images(&request).await?;
            out.extend(page.images);
            request.next_token = page.next_token;
            if out.len() > max || (out.len() == max && request.next_token.is_some()) {
                out.truncate(max);
                return Ok((out, true));
            }
            if request.next_token.is_none() {
                return Ok((out, false));
            }
        }
    }

    /// One page of DescribeImages, retried while throttled or transiently failing.
    pub async fn describe_images(&self, req: &DescribeImages) -> Result<ImagesPage, AwsError> {
        let body = req.form();
        let mut attempt = 1;
        loop {
            match self.attempt(&body).await {
                Ok(page) => return Ok(page),
                Err(e)
                    if attempt < self.max_attempts
                        && matches!(e.kind, AwsErrorKind::Throttled | AwsErrorKind::Transient) =>
                {
                    let wait = backoff(self.initial_backoff, attempt);
                    tracing::debug!(attempt, ?wait, error = %e, "EC2 DescribeImages retried");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn attempt(&self, body: &str) -> Result<ImagesPage, AwsError> {
        let request = self.signed_request(body).await?;
        let response = tokio::time::timeout(ATTEMPT_TIMEOUT, self.connector.call(request))
            .await
            .map_err(|e| failure(AwsErrorKind::Transient, "timed out".into(), e))?
            .map_err(|e| failure(AwsErrorKind::Transient, "unreachable".into(), e))?;
        let status = response.status().as_u16();
        let bytes = read_body(response.into_body()).await?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|e| failure(AwsErrorKind::Transient, "response is not UTF-8".into(), e))?;
        if (200..300).contains(&status) {
            parse_images(text).map_err(|e| {
                failure(
                    AwsErrorKind::Transient,
                    format!("unreadable DescribeImages response: {e}"),
                    e,
                )
            })
        } else {
            Err(service_error(status, text))
        }
    }

    async fn signed_request(&self, body: &str) -> Result<HttpRequest, AwsError> {
        let provider = self.credentials.as_ref().ok_or_else(|| {
            failure(
                AwsErrorKind::AccessDenied,
                "no credentials provider configured".into(),
                Missing,
            )
        })?;
        let credentials = provider
            .provide_credentials()
            .await
            .map_err(|e| failure(AwsErrorKind::AccessDenied, chain(&e), e))?;
        let identity = credentials.into();
        let uri = format!("{}/", self.endpoint);
        let host = uri
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_default()
            .to_owned();
        let content_type = "application/x-www-form-urlencoded; charset=utf-8";
        let headers = [("content-type", content_type), ("host", host.as_str())];
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("ec2")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| local(format!("signing parameters: {e}"), e))?
            .into();
        let signable = SignableRequest::new(
            "POST",
            uri.as_str(),
            headers.iter().copied(),
            SignableBody::Bytes(body.as_bytes()),
        )
        .map_err(|e| local(format!("request to sign: {e}"), e))?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| local(format!("signing: {e}"), e))?
            .into_parts();
        let mut request = http::Request::builder()
            .method("POST")
            .uri(uri.as_str())
            .header("content-type", content_type)
            .header("host", host.as_str())
            .body(SdkBody::from(body.to_owned()))
            .map_err(|e| local(format!("request: {e}"), e))?;
        instructions.apply_to_request_http1x(&mut request);
        HttpRequest::try_from(request).map_err(|e| local(format!("request: {e}"), e))
    }
}

/// The Region's public endpoint (China Regions are under `amazonaws.com.cn`).
fn default_endpoint(region: &str) -> String {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://ec2.{region}.{suffix}")
}

fn backoff(initial: Duration, attempt: u32) -> Duration {
    initial
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
        .min(MAX_BACKOFF)
}

async fn read_body(body: SdkBody) -> Result<bytes::Bytes, AwsError> {
    use http_body_util::BodyExt;
    body.collect().await.map(|c| c.to_bytes()).map_err(|e| {
        failure(
            AwsErrorKind::Transient,
            "response body".into(),
            ErrorText(e.to_string()),
        )
    })
}

#[derive(Debug, thiserror::Error)]
#[error("no credentials provider")]
struct Missing;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct ErrorText(String);

fn failure(
    kind: AwsErrorKind,
    message: String,
    source: impl std::error::Error + Send + Sync + 'static,
) -> AwsError {
    AwsError::local(SERVICE, OPERATION, kind, message, source)
}

fn local(message: String, source: impl std::error::Error + Send + Sync + 'static) -> AwsError {
    failure(AwsErrorKind::Other, message, source)
}

/// An error response (`Response/Errors/Error/{Code,Message}`), classified by its code; an
/// unreadable one by its HTTP status.
fn service_error(status: u16, text: &str) -> AwsError {
    let (code, message) = parse_error(text).unwrap_or((None, None));
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
        service: SERVICE,
        operation: OPERATION,
        kind,
        code,
        message: message.or_else(|| Some(format!("HTTP {status}"))),
        source: Box::new(ErrorText(format!("HTTP {status}"))),
    }
}

type Parsed<T> = Result<T, XmlDecodeError>;

fn parse_error(text: &str) -> Parsed<(Option<String>, Option<String>)> {
    let mut doc = Document::new(text);
    let mut root = doc.root_element()?;
    let (mut code, mut message) = (None, None);
    while let Some(mut tag) = root.next_tag() {
        if !tag.start_el().matches("Errors") {
            continue;
        }
        while let Some(mut error) = tag.next_tag() {
            if !error.start_el().matches("Error") {
                continue;
            }
            while let Some(mut field) = error.next_tag() {
                if field.start_el().matches("Code") {
                    code = Some(try_data(&mut field)?.into_owned());
                } else if field.start_el().matches("Message") {
                    message = Some(try_data(&mut field)?.into_owned());
                }
            }
            return Ok((code, message));
        }
    }
    Ok((code, message))
}

/// Parses a DescribeImagesResponse into the facts onboarding judges.
pub fn parse_images(text: &str) -> Parsed<ImagesPage> {
    let mut doc = Document::new(text);
    let mut root = doc.root_element()?;
    if !root.start_el().matches("DescribeImagesResponse") {
        return Err(XmlDecodeError::custom(format!(
            "root element is <{}>, not <DescribeImagesResponse>",
            root.start_el().local()
        )));
    }
    let mut page = ImagesPage::default();
    while let Some(mut tag) = root.next_tag() {
        if tag.start_el().matches("imagesSet") {
            while let Some(mut item) = tag.next_tag() {
                if item.start_el().matches("item") {
                    page.images.push(parse_image(&mut item)?);
                }
            }
        } else if tag.start_el().matches("nextToken") {
            let t = try_data(&mut tag)?;
            if !t.is_empty() {
                page.next_token = Some(t.into_owned());
            }
        }
    }
    Ok(page)
}

/// One block device mapping: its device, and the EBS facts Steward reads.
#[derive(Default)]
struct Mapping {
    device: String,
    volume_type: String,
    volume_gib: Option<u32>,
    encrypted: bool,
}

fn parse_image(item: &mut ScopedDecoder<'_, '_>) -> Parsed<AmiFacts> {
    let mut f = AmiFacts {
        image_id: String::new(),
        name: String::new(),
        description: String::new(),
        owner_id: String::new(),
        state: String::new(),
        image_type: String::new(),
        virtualization_type: String::new(),
        hypervisor: String::new(),
        platform: String::new(),
        platform_details: String::new(),
        ena_support: false,
        architecture: String::new(),
        root_volume_type: String::new(),
        root_volume_gib: 0,
        encrypted: false,
        creation_date: String::new(),
    };
    let mut root_device = String::new();
    let mut mappings: Vec<Mapping> = Vec::new();
    while let Some(mut tag) = item.next_tag() {
        let name = tag.start_el().local().to_owned();
        let text = |tag: &mut ScopedDecoder<'_, '_>| -> Parsed<String> {
            try_data(tag).map(Cow::into_owned)
        };
        match name.as_str() {
            "imageId" => f.image_id = text(&mut tag)?,
            "name" => f.name = text(&mut tag)?,
            "description" => f.description = text(&mut tag)?,
            "imageOwnerId" => f.owner_id = text(&mut tag)?,
            "imageState" => f.state = text(&mut tag)?,
            "imageType" => f.image_type = text(&mut tag)?,
            "virtualizationType" => f.virtualization_type = text(&mut tag)?,
            "hypervisor" => f.hypervisor = text(&mut tag)?,
            // The service sends `windows` where the model's enum says `Windows` (§10).
            "platform" => f.platform = text(&mut tag)?.to_ascii_lowercase(),
            "platformDetails" => f.platform_details = text(&mut tag)?,
            "enaSupport" => f.ena_support = text(&mut tag)?.trim() == "true",
            "architecture" => f.architecture = text(&mut tag)?,
            "creationDate" => f.creation_date = text(&mut tag)?,
            "rootDeviceName" => root_device = text(&mut tag)?,
            "blockDeviceMapping" => {
                while let Some(mut entry) = tag.next_tag() {
                    if entry.start_el().matches("item") {
                        mappings.push(parse_mapping(&mut entry)?);
                    }
                }
            }
            _ => {}
        }
    }
    let root = mappings
        .iter()
        .find(|m| m.device == root_device)
        .or_else(|| mappings.first());
    if let Some(m) = root {
        f.root_volume_type.clone_from(&m.volume_type);
        f.root_volume_gib = m.volume_gib.unwrap_or(0);
    }
    f.encrypted = mappings.iter().any(|m| m.encrypted);
    Ok(f)
}

fn parse_mapping(entry: &mut ScopedDecoder<'_, '_>) -> Parsed<Mapping> {
    let mut m = Mapping::default();
    while let Some(mut tag) = entry.next_tag() {
        if tag.start_el().matches("deviceName") {
            m.device = try_data(&mut tag)?.into_owned();
        } else if tag.start_el().matches("ebs") {
            while let Some(mut ebs) = tag.next_tag() {
                let local = ebs.start_el().local().to_owned();
                let v = try_data(&mut ebs)?;
                match local.as_str() {
                    "volumeType" => m.volume_type = v.into_owned(),
                    "volumeSize" => m.volume_gib = v.trim().parse().ok(),
                    "encrypted" => m.encrypted = v.trim() == "true",
                    _ => {}
                }
            }
        }
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeImagesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
  <imagesSet>
    <item>
      <imageId>ami-0123456789abcdef0</imageId>
      <imageLocation>123456789012/win11</imageLocation>
      <imageState>available</imageState>
      <imageOwnerId>123456789012</imageOwnerId>
      <creationDate>2026-01-02T03:04:05.000Z</creationDate>
      <isPublic>false</isPublic>
      <architecture>x86_64</architecture>
      <platformDetails>Windows BYOL</platformDetails>
      <imageType>machine</imageType>
      <name>win11 &amp; apps</name>
      <description>golden</description>
      <platform>windows</platform>
      <rootDeviceType>ebs</rootDeviceType>
      <rootDeviceName>/dev/sda1</rootDeviceName>
      <blockDeviceMapping>
        <item>
          <deviceName>/dev/xvdb</deviceName>
          <ebs><volumeSize>500</volumeSize><volumeType>gp3</volumeType><encrypted>false</encrypted></ebs>
        </item>
        <item>
          <deviceName>/dev/sda1</deviceName>
          <ebs><snapshotId>snap-1</snapshotId><volumeSize>80</volumeSize><deleteOnTermination>true</deleteOnTermination><volumeType>gp2</volumeType><encrypted>false</encrypted></ebs>
        </item>
      </blockDeviceMapping>
      <virtualizationType>hvm</virtualizationType>
      <tagSet><item><key>name</key><value>x</value></item></tagSet>
      <hypervisor>xen</hypervisor>
      <enaSupport>true</enaSupport>
    </item>
    <item>
      <imageId>ami-0123abcd</imageId>
      <imageState>available</imageState>
      <platform>Windows</platform>
      <blockDeviceMapping><item><deviceName>/dev/sda1</deviceName><ebs><volumeSize>60</volumeSize><encrypted>true</encrypted></ebs></item></blockDeviceMapping>
    </item>
  </imagesSet>
  <nextToken>page-2</nextToken>
</DescribeImagesResponse>"#;

    #[test]
    fn a_page_parses_into_the_facts_onboarding_judges() {
        let page = parse_images(PAGE).unwrap();
        assert_eq!(page.next_token.as_deref(), Some("page-2"));
        assert_eq!(page.images.len(), 2);
        let a = &page.images[0];
        assert_eq!(a.image_id, "ami-0123456789abcdef0");
        assert_eq!(a.name, "win11 & apps");
        assert_eq!(a.owner_id, "123456789012");
        assert_eq!(a.state, "available");
        assert_eq!(a.platform, "windows");
        assert_eq!(a.platform_details, "Windows BYOL");
        assert_eq!(a.architecture, "x86_64");
        assert_eq!(a.virtualization_type, "hvm");
        assert_eq!(a.hypervisor, "xen");
        assert!(a.ena_support);
        // The root volume is the mapping named by rootDeviceName, not the first one.
        assert_eq!(
            (a.root_volume_type.as_str(), a.root_volume_gib),
            ("gp2", 80)
        );
        assert!(!a.encrypted);
        let b = &page.images[1];
        assert_eq!(b.platform, "windows");
        assert_eq!(b.root_volume_gib, 60);
        assert!(b.encrypted);
    }

    #[test]
    fn the_last_page_has_no_token_and_an_empty_set_is_no_images() {
        let xml = r#"<DescribeImagesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><imagesSet/></DescribeImagesResponse>"#;
        assert_eq!(parse_images(xml).unwrap(), ImagesPage::default());
    }

    #[test]
    fn a_foreign_document_is_refused() {
        assert!(parse_images("<Response><Errors/></Response>").is_err());
        assert!(parse_images("not xml").is_err());
    }

    #[test]
    fn errors_are_classified_by_code() {
        let xml = r#"<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r</RequestID></Response>"#;
        let e = service_error(503, xml);
        assert_eq!(e.kind, AwsErrorKind::Throttled);
        assert_eq!(e.code.as_deref(), Some("RequestLimitExceeded"));
        assert_eq!(e.message.as_deref(), Some("Request limit exceeded."));
        let denied = r#"<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>no</Message></Error></Errors></Response>"#;
        assert_eq!(service_error(403, denied).kind, AwsErrorKind::AccessDenied);
        assert_eq!(service_error(502, "<html/>").kind, AwsErrorKind::Transient);
        assert_eq!(service_error(400, "garbage").kind, AwsErrorKind::Other);
    }

    #[test]
    fn the_form_flattens_lists_from_one() {
        let req = DescribeImages {
            owners: vec!["self".into()],
            image_ids: vec![],
            filters: vec![("image-type".into(), vec!["machine".into()])],
            max_results: None,
            next_token: Some("a b".into()),
        };
        assert_eq!(
            req.form(),
            "Action=DescribeImages&Version=2016-11-15&Owner.1=self&Filter.1.Name=image-type&Filter.1.Value.1=machine&NextToken=a+b"
        );
    }

    #[test]
    fn backoff_doubles_to_a_ceiling_and_endpoints_follow_the_partition() {
        let b = Duration::from_millis(500);
        assert_eq!(backoff(b, 1), b);
        assert_eq!(backoff(b, 3), Duration::from_secs(2));
        assert_eq!(backoff(b, 30), MAX_BACKOFF);
        assert_eq!(
            default_endpoint("eu-west-1"),
            "https://ec2.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            default_endpoint("cn-north-1"),
            "https://ec2.cn-north-1.amazonaws.com.cn"
        );
    }
}
