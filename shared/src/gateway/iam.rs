//! IAM, for the one read pre-flight makes there: GetRole, whether the customer account has
//! `workspaces_DefaultRole` (WorkSpaces needs it to create desktops, and a first-time
//! customer who never opened the WorkSpaces console lacks it) and which services it trusts.
//!
//! IAM is global: one endpoint, `iam.amazonaws.com`, signed for `us-east-1`, whatever the
//! tenant's Region. Spoken as awsQuery through [`SignedClient`] (no `aws-sdk-iam`: see
//! [`crate::aws::signed`]).

use aws_smithy_xml::decode::{Document, ScopedDecoder, XmlDecodeError, try_data};

use crate::aws::signed::{GlobalEndpoint, QueryForm, Service, SignedClient, SignedGateway};
use crate::aws::{AwsError, AwsErrorKind};

/// IAM as [`SignedClient`] reaches it.
pub const SERVICE: Service = Service {
    name: "IAM",
    endpoint_prefix: "iam",
    json_target: None,
    global: Some(GlobalEndpoint {
        url: "https://iam.amazonaws.com",
        signing_region: "us-east-1",
    }),
};
const API_VERSION: &str = "2010-05-08";

/// A role as GetRole reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub role_name: String,
    pub arn: String,
    pub role_id: String,
    pub path: String,
    pub description: Option<String>,
    pub max_session_seconds: Option<u32>,
    /// The services its trust policy lets assume it (`workspaces.amazonaws.com`): the
    /// `Principal.Service` of every `Allow` statement. Empty when the policy is unreadable.
    pub trusted_services: Vec<String>,
}

impl Role {
    /// Whether the trust policy lets `service` (`workspaces.amazonaws.com`) assume the role.
    pub fn trusts(&self, service: &str) -> bool {
        self.trusted_services.iter().any(|s| s == service)
    }
}

/// An IAM client for one tenant (IAM has no Regions).
#[derive(Clone, Debug)]
pub struct IamClient {
    signed: SignedClient,
}

impl SignedGateway for IamClient {
    const SERVICE: Service = SERVICE;

    fn from_signed(signed: SignedClient) -> Self {
        Self { signed }
    }
}

impl IamClient {
    /// GetRole: the role, or `None` when the account has no role of that name
    /// (`NoSuchEntity`). Any other failure — AccessDenied included — is an error.
    pub async fn role(&self, role_name: &str) -> Result<Option<Role>, AwsError> {
        let mut form = QueryForm::new("GetRole", API_VERSION);
        form.pair("RoleName", role_name);
        match self.signed.query(form).await {
            Ok(text) => parse_role(&text)
                .map(Some)
                .map_err(|e| self.signed.unreadable("GetRole", e.to_string(), e)),
            Err(e) if e.kind == AwsErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

type Parsed<T> = Result<T, XmlDecodeError>;

/// Parses a GetRoleResponse.
pub fn parse_role(text: &str) -> Parsed<Role> {
    let mut doc = Document::new(text);
    let mut root = doc.root_element()?;
    if !root.start_el().matches("GetRoleResponse") {
        return Err(XmlDecodeError::custom(format!(
            "root element is <{}>, not <GetRoleResponse>",
            root.start_el().local()
        )));
    }
    while let Some(mut result) = root.next_tag() {
        if !result.start_el().matches("GetRoleResult") {
            continue;
        }
        while let Some(mut role) = result.next_tag() {
            if role.start_el().matches("Role") {
                return read_role(&mut role);
            }
        }
    }
    Err(XmlDecodeError::custom("no GetRoleResult/Role"))
}

fn read_role(role: &mut ScopedDecoder<'_, '_>) -> Parsed<Role> {
    let mut r = Role {
        role_name: String::new(),
        arn: String::new(),
        role_id: String::new(),
        path: String::new(),
        description: None,
        max_session_seconds: None,
        trusted_services: Vec::new(),
    };
    while let Some(mut tag) = role.next_tag() {
        let name = tag.start_el().local().to_owned();
        let value = try_data(&mut tag)?.into_owned();
        match name.as_str() {
            "RoleName" => r.role_name = value,
            "Arn" => r.arn = value,
            "RoleId" => r.role_id = value,
            "Path" => r.path = value,
            "Description" => r.description = Some(value),
            "MaxSessionDuration" => r.max_session_seconds = value.trim().parse().ok(),
            "AssumeRolePolicyDocument" => r.trusted_services = trusted_services(&value),
            _ => {}
        }
    }
    Ok(r)
}

/// The services a URL-encoded trust policy allows.
fn trusted_services(encoded: &str) -> Vec<String> {
    let decoded: String = form_urlencoded::parse(format!("p={encoded}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let Ok(policy) = serde_json::from_str::<serde_json::Value>(&decoded) else {
        return Vec::new();
    };
    let many = |v: Option<&serde_json::Value>| -> Vec<serde_json::Value> {
        match v {
            Some(serde_json::Value::Array(a)) => a.clone(),
            Some(one) => vec![one.clone()],
            None => Vec::new(),
        }
    };
    let mut out = Vec::new();
    for s in many(policy.get("Statement")) {
        if s.get("Effect").and_then(|e| e.as_str()) != Some("Allow") {
            continue;
        }
        let services = many(s.get("Principal").and_then(|p| p.get("Service")));
        out.extend(
            services
                .iter()
                .filter_map(|v| v.as_str())
                .map(str::to_owned),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_parses_with_the_services_it_trusts() {
        let xml = r#"<GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <GetRoleResult>
    <Role>
      <Path>/</Path>
      <AssumeRolePolicyDocument>%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22workspaces.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%2C%7B%22Effect%22%3A%22Deny%22%2C%22Principal%22%3A%7B%22Service%22%3A%5B%22ec2.amazonaws.com%22%5D%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D</AssumeRolePolicyDocument>
      <MaxSessionDuration>3600</MaxSessionDuration>
      <RoleId>AROAEXAMPLEID</RoleId>
      <RoleName>workspaces_DefaultRole</RoleName>
      <Arn>arn:aws:iam::123456789012:role/workspaces_DefaultRole</Arn>
      <CreateDate>2026-01-01T00:00:00Z</CreateDate>
      <RoleLastUsed/>
    </Role>
  </GetRoleResult>
  <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>
</GetRoleResponse>"#;
        let role = parse_role(xml).unwrap();
        assert_eq!(
            role,
            Role {
                role_name: "workspaces_DefaultRole".into(),
                arn: "arn:aws:iam::123456789012:role/workspaces_DefaultRole".into(),
                role_id: "AROAEXAMPLEID".into(),
                path: "/".into(),
                description: None,
                max_session_seconds: Some(3600),
                trusted_services: vec!["workspaces.amazonaws.com".into()],
            }
        );
        assert!(role.trusts("workspaces.amazonaws.com"));
        assert!(!role.trusts("ec2.amazonaws.com"));
        assert!(parse_role("<ErrorResponse/>").is_err());
    }

    #[test]
    fn an_unreadable_trust_policy_trusts_nobody() {
        assert!(trusted_services("%7Bnot json").is_empty());
        assert_eq!(
            trusted_services(
                "%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22x%22%7D%7D%7D"
            ),
            Vec::<String>::new()
        );
    }
}
