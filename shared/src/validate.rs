//! Validation of every identifier and field that enters Steward from outside.
//!
//! Patterns and limits are the service model's (see `shared/reference/workspaces-api.md`
//! §2.1, §9). Every check returns a [`ValidationError`] that names the field and says why;
//! values are never echoed back, so a secret (an ExternalId) cannot leak through an error.

use std::borrow::Cow;
use std::fmt;
use std::net::Ipv4Addr;
use std::sync::LazyLock;

use ipnet::Ipv4Net;
use regex::Regex;

/// Why a field was refused. `code()` is a stable name a caller can match on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Missing,
    TooShort { min: usize, len: usize },
    TooLong { max: usize, len: usize },
    Pattern { expected: &'static str },
    OutOfRange { min: i64, max: i64, value: i64 },
    NotOneOf { allowed: &'static [&'static str] },
    TooMany { max: usize, len: usize },
    Inconsistent(String),
    Reserved(&'static str),
}

impl Problem {
    pub fn code(&self) -> &'static str {
        match self {
            Problem::Missing => "Missing",
            Problem::TooShort { .. } => "TooShort",
            Problem::TooLong { .. } => "TooLong",
            Problem::Pattern { .. } => "PatternMismatch",
            Problem::OutOfRange { .. } => "OutOfRange",
            Problem::NotOneOf { .. } => "NotAllowedValue",
            Problem::TooMany { .. } => "TooMany",
            Problem::Inconsistent(_) => "Inconsistent",
            Problem::Reserved(_) => "Reserved",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing => write!(f, "is required"),
            Problem::TooShort { min, len } => {
                write!(f, "is {len} characters long, at least {min} are required")
            }
            Problem::TooLong { max, len } => {
                write!(f, "is {len} characters long, at most {max} are allowed")
            }
            Problem::Pattern { expected } => write!(f, "must match {expected}"),
            Problem::OutOfRange { min, max, value } => {
                write!(f, "is {value}, must be between {min} and {max}")
            }
            Problem::NotOneOf { allowed } => write!(f, "must be one of {}", allowed.join(", ")),
            Problem::TooMany { max, len } => write!(f, "has {len} entries, at most {max} allowed"),
            Problem::Inconsistent(why) => write!(f, "{why}"),
            Problem::Reserved(why) => write!(f, "is reserved: {why}"),
        }
    }
}

/// A field that failed validation: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {problem}")]
pub struct ValidationError {
    pub field: Cow<'static, str>,
    pub problem: Problem,
}

impl ValidationError {
    pub fn new(field: impl Into<Cow<'static, str>>, problem: Problem) -> Self {
        Self {
            field: field.into(),
            problem,
        }
    }

    /// The same problem reported under another field path (e.g. `detail.workspaceId`).
    pub fn at(mut self, field: impl Into<Cow<'static, str>>) -> Self {
        self.field = field.into();
        self
    }
}

pub type Result<T = ()> = std::result::Result<T, ValidationError>;

fn err(field: &'static str, problem: Problem) -> ValidationError {
    ValidationError::new(field, problem)
}

/// Character length bounds (in chars, as the service model counts).
pub fn length(field: &'static str, value: &str, min: usize, max: usize) -> Result {
    let len = value.chars().count();
    if len == 0 && min > 0 {
        return Err(err(field, Problem::Missing));
    }
    if len < min {
        return Err(err(field, Problem::TooShort { min, len }));
    }
    if len > max {
        return Err(err(field, Problem::TooLong { max, len }));
    }
    Ok(())
}

pub fn range(field: &'static str, value: i64, min: i64, max: i64) -> Result {
    if value < min || value > max {
        return Err(err(field, Problem::OutOfRange { min, max, value }));
    }
    Ok(())
}

/// How many items a list has: at least `min` (an empty list is missing), at most `max`.
pub fn count(field: &'static str, len: usize, min: usize, max: usize) -> Result {
    if len < min {
        return Err(err(field, Problem::Missing));
    }
    max_items(field, len, max)
}

pub fn max_items(field: &'static str, len: usize, max: usize) -> Result {
    if len > max {
        return Err(err(field, Problem::TooMany { max, len }));
    }
    Ok(())
}

struct Pattern {
    re: LazyLock<Regex>,
    text: &'static str,
}

macro_rules! pattern {
    ($name:ident, $re:literal) => {
        static $name: Pattern = Pattern {
            re: LazyLock::new(|| Regex::new($re).expect("static pattern compiles")),
            text: $re,
        };
    };
}

// Identifier patterns from the WorkSpaces, STS and EC2 service models.
pattern!(WORKSPACE_ID, r"^ws-[0-9a-z]{8,63}$");
pattern!(DIRECTORY_ID, r"^(d-[0-9a-f]{8,63}|wsd-[0-9a-z]{8,63})$");
pattern!(BUNDLE_ID, r"^wsb-[0-9a-z]{8,63}$");
pattern!(IMAGE_ID, r"^wsi-[0-9a-z]{9,63}$");
pattern!(EC2_IMAGE_ID, r"^ami-([a-f0-9]{8}|[a-f0-9]{17})$");
pattern!(ACCOUNT_ID, r"^\d{12}$");
pattern!(REGION, r"^[-0-9a-z]{1,31}$");
pattern!(SUBNET_ID, r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$");
pattern!(SECURITY_GROUP_ID, r"^sg-([0-9a-f]{8}|[0-9a-f]{17})$");
pattern!(WORKSPACE_NAME, r"^[a-zA-Z0-9_()][a-zA-Z0-9_.()-]{1,63}$");
pattern!(IMAGE_OR_BUNDLE_NAME, r"^[a-zA-Z0-9_./()\\-]+$");
pattern!(DESCRIPTION, r"^[a-zA-Z0-9_./() -]+$");
pattern!(
    IAM_ROLE_ARN,
    r"^arn:aws[a-z-]{0,7}:iam::([0-9]{12}):role/[A-Za-z0-9_+=,.@/-]{1,512}$"
);
pattern!(EXTERNAL_ID, r"^[\w+=,.@:/-]*$");
// Secrets Manager secret ARNs (the service appends `-` and six characters to the name).
pattern!(
    SECRET_ARN,
    r"^arn:aws[a-z-]{0,7}:secretsmanager:[-0-9a-z]{1,31}:([0-9]{12}):secret:[A-Za-z0-9/_+=.@-]{1,512}$"
);
// The forms CreateWorkspaces' VolumeEncryptionKey takes: a key id, `alias/<name>`, or the
// ARN of either.
pattern!(
    KMS_KEY,
    r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}|alias/[A-Za-z0-9/_-]{1,250}|arn:aws[a-z-]{0,7}:kms:[-0-9a-z]{1,31}:[0-9]{12}:(?:key/(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})|alias/[A-Za-z0-9/_-]{1,250}))$"
);
pattern!(ROLE_SESSION_NAME, r"^[\w+=,.@-]*$");
// Steward's own identifiers: lower-case, DNS-label-like, safe in keys, names and logs.
pattern!(TENANT_ID, r"^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$");
// Opaque identifiers from partner backends (event ids, session ids): printable, no spaces.
pattern!(OPAQUE_ID, r"^[A-Za-z0-9._:/@+=-]+$");
pattern!(MONTH, r"^[0-9]{4}-(0[1-9]|1[0-2])$");

fn matches(field: &'static str, value: &str, p: &Pattern) -> Result {
    if value.is_empty() {
        return Err(err(field, Problem::Missing));
    }
    if !p.re.is_match(value) {
        return Err(err(field, Problem::Pattern { expected: p.text }));
    }
    Ok(())
}

pub fn workspace_id(field: &'static str, v: &str) -> Result {
    matches(field, v, &WORKSPACE_ID)
}

pub fn directory_id(field: &'static str, v: &str) -> Result {
    length(field, v, 10, 65)?;
    matches(field, v, &DIRECTORY_ID)
}

pub fn bundle_id(field: &'static str, v: &str) -> Result {
    matches(field, v, &BUNDLE_ID)
}

pub fn image_id(field: &'static str, v: &str) -> Result {
    matches(field, v, &IMAGE_ID)
}

pub fn ec2_image_id(field: &'static str, v: &str) -> Result {
    matches(field, v, &EC2_IMAGE_ID)
}

pub fn account_id(field: &'static str, v: &str) -> Result {
    matches(field, v, &ACCOUNT_ID)
}

pub fn region(field: &'static str, v: &str) -> Result {
    length(field, v, 1, 31)?;
    matches(field, v, &REGION)
}

pub fn subnet_id(field: &'static str, v: &str) -> Result {
    length(field, v, 15, 24)?;
    matches(field, v, &SUBNET_ID)
}

pub fn security_group_id(field: &'static str, v: &str) -> Result {
    length(field, v, 11, 20)?;
    matches(field, v, &SECURITY_GROUP_ID)
}

/// A user name; `[UNDEFINED]` is the service's value for a user-decoupled desktop.
pub fn user_name(field: &'static str, v: &str) -> Result {
    length(field, v, 1, 63)
}

pub fn workspace_name(field: &'static str, v: &str) -> Result {
    matches(field, v, &WORKSPACE_NAME)
}

/// WorkspaceImageName and WorkspaceBundleName: 1–64 characters.
pub fn image_or_bundle_name(field: &'static str, v: &str) -> Result {
    length(field, v, 1, 64)?;
    matches(field, v, &IMAGE_OR_BUNDLE_NAME)
}

/// WorkspaceImageDescription (1–256) and bundle description (1–255).
pub fn description(field: &'static str, v: &str, max: usize) -> Result {
    length(field, v, 1, max)?;
    matches(field, v, &DESCRIPTION)
}

/// A WorkSpaces tag: key 1–127, value 0–255, and no key in the `aws:` namespace.
pub fn tag(field: &'static str, key: &str, value: &str) -> Result {
    length(field, key, 1, 127)?;
    length(field, value, 0, 255)?;
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err(err(
            field,
            Problem::Reserved("keys starting with aws: belong to AWS"),
        ));
    }
    Ok(())
}

/// An IAM role ARN; returns the account id it names.
pub fn role_arn<'a>(field: &'static str, v: &'a str) -> Result<&'a str> {
    length(field, v, 20, 2048)?;
    let caps = IAM_ROLE_ARN.re.captures(v).ok_or_else(|| {
        err(
            field,
            Problem::Pattern {
                expected: "arn:<partition>:iam::<12-digit account>:role/<name>",
            },
        )
    })?;
    Ok(caps.get(1).map_or("", |m| m.as_str()))
}

/// STS ExternalId: 2–1224 characters of `[\w+=,.@:/-]`.
pub fn external_id(field: &'static str, v: &str) -> Result {
    length(field, v, 2, 1224)?;
    matches(field, v, &EXTERNAL_ID)
}

/// A Secrets Manager secret ARN; returns the account id it names.
pub fn secret_arn<'a>(field: &'static str, v: &'a str) -> Result<&'a str> {
    length(field, v, 20, 2048)?;
    let caps = SECRET_ARN.re.captures(v).ok_or_else(|| {
        err(
            field,
            Problem::Pattern {
                expected: "arn:<partition>:secretsmanager:<region>:<12-digit account>:secret:<name>",
            },
        )
    })?;
    Ok(caps.get(1).map_or("", |m| m.as_str()))
}

/// A KMS key as CreateWorkspaces' VolumeEncryptionKey takes it: key id, alias or ARN.
pub fn kms_key(field: &'static str, v: &str) -> Result {
    length(field, v, 1, 2048)?;
    matches(field, v, &KMS_KEY)
}

/// STS RoleSessionName: 2–64 characters of `[\w+=,.@-]`.
pub fn role_session_name(field: &'static str, v: &str) -> Result {
    length(field, v, 2, 64)?;
    matches(field, v, &ROLE_SESSION_NAME)
}

/// Steward's tenant id: 3–63 lower-case letters, digits and inner hyphens.
pub fn tenant_id(field: &'static str, v: &str) -> Result {
    length(field, v, 3, 63)?;
    matches(field, v, &TENANT_ID)
}

/// A pool's name within its tenant: 3–40 lower-case letters, digits, hyphens (it starts
/// the names of the pool's desktops, so it stays well inside WorkspaceName's length).
pub fn pool_id(field: &'static str, v: &str) -> Result {
    length(field, v, 3, 40)?;
    matches(field, v, &TENANT_ID)
}

/// An id chosen by a partner backend or EventBridge (event id, session id): 1–128 printable.
pub fn opaque_id(field: &'static str, v: &str) -> Result {
    length(field, v, 1, 128)?;
    matches(field, v, &OPAQUE_ID)
}

/// A calendar month as `YYYY-MM`.
pub fn month(field: &'static str, v: &str) -> Result {
    matches(field, v, &MONTH)
}

/// One of a closed set of strings.
pub fn one_of(field: &'static str, v: &str, allowed: &'static [&'static str]) -> Result {
    if v.is_empty() {
        return Err(err(field, Problem::Missing));
    }
    if !allowed.contains(&v) {
        return Err(err(field, Problem::NotOneOf { allowed }));
    }
    Ok(())
}

/// Any IPv4 CIDR (ListAvailableManagementCidrRanges' search constraint).
pub fn ipv4_cidr(field: &'static str, v: &str) -> Result<Ipv4Net> {
    if v.is_empty() {
        return Err(err(field, Problem::Missing));
    }
    v.parse::<Ipv4Net>().map_err(|_| {
        err(
            field,
            Problem::Pattern {
                expected: "an IPv4 CIDR such as 10.0.0.0/8",
            },
        )
    })
}

/// The BYOL management range: exactly `a.b.0.0/16`.
pub fn dedicated_management_cidr(field: &'static str, v: &str) -> Result<Ipv4Net> {
    let net = ipv4_cidr(field, v)?;
    let o = net.addr().octets();
    if net.prefix_len() != 16 || o[2] != 0 || o[3] != 0 {
        return Err(err(
            field,
            Problem::Pattern {
                expected: "a /16 range written a.b.0.0/16",
            },
        ));
    }
    Ok(net)
}

/// The private and shared ranges the service reserves the BYOL management /16 from.
pub const MANAGEMENT_CIDR_SOURCES: [(Ipv4Addr, u8); 5] = [
    (Ipv4Addr::new(10, 0, 0, 0), 8),
    (Ipv4Addr::new(100, 64, 0, 0), 10),
    (Ipv4Addr::new(172, 16, 0, 0), 12),
    (Ipv4Addr::new(192, 168, 0, 0), 16),
    (Ipv4Addr::new(198, 18, 0, 0), 15),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<impl Sized>) -> &'static str {
        match r {
            Ok(_) => "Ok",
            Err(e) => e.problem.code(),
        }
    }

    #[test]
    fn workspace_ids() {
        assert_eq!(code(workspace_id("id", "ws-abcd1234")), "Ok");
        assert_eq!(code(workspace_id("id", "")), "Missing");
        assert_eq!(code(workspace_id("id", "ws-ABCD1234")), "PatternMismatch");
        assert_eq!(code(workspace_id("id", "ws-abc")), "PatternMismatch");
        assert_eq!(code(workspace_id("id", "wsb-abcd1234")), "PatternMismatch");
        let e = workspace_id("detail.workspaceId", "nope").unwrap_err();
        assert_eq!(e.field, "detail.workspaceId");
        assert!(
            e.to_string()
                .starts_with("invalid detail.workspaceId: must match")
        );
    }

    #[test]
    fn directory_ids_accept_both_kinds() {
        assert_eq!(code(directory_id("d", "d-1234567890")), "Ok");
        assert_eq!(code(directory_id("d", "wsd-abcdefgh12")), "Ok");
        assert_eq!(code(directory_id("d", "d-12345")), "TooShort");
        assert_eq!(code(directory_id("d", "d-123456789z")), "PatternMismatch");
        assert_eq!(
            code(directory_id("d", &format!("d-{}", "a".repeat(64)))),
            "TooLong"
        );
    }

    #[test]
    fn bundle_image_and_ami_ids() {
        assert_eq!(code(bundle_id("b", "wsb-0123abcd")), "Ok");
        assert_eq!(code(bundle_id("b", "wsb-0123")), "PatternMismatch");
        assert_eq!(code(image_id("i", "wsi-0123abcde")), "Ok");
        assert_eq!(code(image_id("i", "wsi-0123abcd")), "PatternMismatch");
        assert_eq!(code(ec2_image_id("a", "ami-0123abcd")), "Ok");
        assert_eq!(code(ec2_image_id("a", "ami-0123456789abcdef0")), "Ok");
        assert_eq!(code(ec2_image_id("a", "ami-0123456789")), "PatternMismatch");
        assert_eq!(code(ec2_image_id("a", "ami-0123ABCD")), "PatternMismatch");
    }

    #[test]
    fn accounts_regions_network_ids() {
        assert_eq!(code(account_id("a", "123456789012")), "Ok");
        assert_eq!(code(account_id("a", "12345678901")), "PatternMismatch");
        assert_eq!(code(account_id("a", "12345678901a")), "PatternMismatch");
        assert_eq!(code(region("r", "us-east-1")), "Ok");
        assert_eq!(code(region("r", "US-EAST-1")), "PatternMismatch");
        assert_eq!(code(region("r", &"a".repeat(32))), "TooLong");
        assert_eq!(code(subnet_id("s", "subnet-0123abcd")), "Ok");
        assert_eq!(code(subnet_id("s", "subnet-0123")), "TooShort");
        assert_eq!(code(subnet_id("s", "subnet-0123abcx")), "PatternMismatch");
        assert_eq!(code(security_group_id("g", "sg-0123abcd")), "Ok");
        assert_eq!(code(security_group_id("g", "sg-0123abc")), "TooShort");
        assert_eq!(
            code(security_group_id("g", "sg-0123abcdz")),
            "PatternMismatch"
        );
    }

    #[test]
    fn names_and_descriptions() {
        assert_eq!(code(workspace_name("n", "desktop1")), "Ok");
        assert_eq!(code(workspace_name("n", "d")), "PatternMismatch");
        assert_eq!(code(workspace_name("n", "-desktop")), "PatternMismatch");
        assert_eq!(code(workspace_name("n", "desk top")), "PatternMismatch");
        assert_eq!(code(user_name("u", "[UNDEFINED]")), "Ok");
        assert_eq!(code(user_name("u", "")), "Missing");
        assert_eq!(code(user_name("u", &"u".repeat(64))), "TooLong");
        assert_eq!(code(image_or_bundle_name("n", "win11-golden_v1.2")), "Ok");
        assert_eq!(code(image_or_bundle_name("n", "win 11")), "PatternMismatch");
        assert_eq!(code(image_or_bundle_name("n", &"n".repeat(65))), "TooLong");
        assert_eq!(code(description("d", "Windows 11 (golden)", 256)), "Ok");
        assert_eq!(code(description("d", "bad;desc", 256)), "PatternMismatch");
        assert_eq!(code(description("d", &"d".repeat(256), 255)), "TooLong");
        assert_eq!(code(description("d", "", 255)), "Missing");
    }

    #[test]
    fn tags() {
        assert_eq!(code(tag("t", "PartnerManaged", "true")), "Ok");
        assert_eq!(code(tag("t", "Empty", "")), "Ok");
        assert_eq!(code(tag("t", "", "v")), "Missing");
        assert_eq!(code(tag("t", &"k".repeat(128), "v")), "TooLong");
        assert_eq!(code(tag("t", "k", &"v".repeat(256))), "TooLong");
        assert_eq!(code(tag("t", "aws:cloudformation", "x")), "Reserved");
    }

    #[test]
    fn role_arns_return_their_account() {
        assert_eq!(
            role_arn("r", "arn:aws:iam::123456789012:role/StewardPartnerAccess"),
            Ok("123456789012")
        );
        assert_eq!(
            role_arn("r", "arn:aws-us-gov:iam::123456789012:role/path/Role"),
            Ok("123456789012")
        );
        assert_eq!(
            code(role_arn("r", "arn:aws:iam::123456789012:user/bob")),
            "PatternMismatch"
        );
        assert_eq!(
            code(role_arn("r", "arn:aws:iam::1234:role/x")),
            "PatternMismatch"
        );
        assert_eq!(code(role_arn("r", "arn:aws:iam::1:r")), "TooShort");
        assert_eq!(
            code(role_arn("r", "arn:aws:s3:::123456789012:role/x")),
            "PatternMismatch"
        );
        assert_eq!(code(role_arn("r", "")), "Missing");
    }

    #[test]
    fn external_ids_and_session_names() {
        assert_eq!(code(external_id("e", "steward-demo-external-id")), "Ok");
        assert_eq!(code(external_id("e", "x")), "TooShort");
        assert_eq!(code(external_id("e", "has space")), "PatternMismatch");
        assert_eq!(code(external_id("e", &"e".repeat(1225))), "TooLong");
        let e = external_id("externalId", "secret value!").unwrap_err();
        assert!(!e.to_string().contains("secret"), "values are never echoed");
        assert_eq!(code(role_session_name("s", "steward-acme")), "Ok");
        assert_eq!(code(role_session_name("s", "a")), "TooShort");
        assert_eq!(code(role_session_name("s", "a:b")), "PatternMismatch");
    }

    #[test]
    fn tenant_and_opaque_ids() {
        assert_eq!(code(tenant_id("t", "acme-corp")), "Ok");
        assert_eq!(code(tenant_id("t", "ab")), "TooShort");
        assert_eq!(code(tenant_id("t", "Acme")), "PatternMismatch");
        assert_eq!(code(tenant_id("t", "acme-")), "PatternMismatch");
        assert_eq!(code(tenant_id("t", "acme_corp")), "PatternMismatch");
        assert_eq!(code(tenant_id("t", &"a".repeat(64))), "TooLong");
        assert_eq!(
            code(opaque_id("e", "6a7e8feb-b491-4cf7-a9f1-bf3703467718")),
            "Ok"
        );
        assert_eq!(code(opaque_id("e", "")), "Missing");
        assert_eq!(code(opaque_id("e", "has space")), "PatternMismatch");
        assert_eq!(code(opaque_id("e", &"e".repeat(129))), "TooLong");
        assert_eq!(code(month("m", "2026-11")), "Ok");
        assert_eq!(code(month("m", "2026-13")), "PatternMismatch");
    }

    #[test]
    fn numbers_lists_and_enums() {
        assert_eq!(code(range("n", 5, 1, 25)), "Ok");
        assert_eq!(code(range("n", 26, 1, 25)), "OutOfRange");
        assert_eq!(code(max_items("l", 26, 25)), "TooMany");
        assert_eq!(code(one_of("m", "MANUAL", &["MANUAL", "ALWAYS_ON"])), "Ok");
        assert_eq!(
            code(one_of("m", "AUTO_STOP", &["MANUAL", "ALWAYS_ON"])),
            "NotAllowedValue"
        );
        assert_eq!(code(one_of("m", "", &["MANUAL"])), "Missing");
    }

    #[test]
    fn cidrs() {
        assert!(ipv4_cidr("c", "10.0.0.0/8").is_ok());
        assert_eq!(code(ipv4_cidr("c", "10.0.0.0/33")), "PatternMismatch");
        assert_eq!(code(ipv4_cidr("c", "")), "Missing");
        assert!(dedicated_management_cidr("c", "10.200.0.0/16").is_ok());
        assert_eq!(
            code(dedicated_management_cidr("c", "10.200.1.0/16")),
            "PatternMismatch"
        );
        assert_eq!(
            code(dedicated_management_cidr("c", "10.200.0.0/24")),
            "PatternMismatch"
        );
    }
}
