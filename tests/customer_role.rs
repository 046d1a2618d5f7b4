//! `customer-role.yaml` grants what the emulator's tag policy enforces, under the same kind of
//! condition, and nothing that writes without one.
//!
//! The lists come from `workspaces_core_emulator::policy` (the emulator debug-asserts that every
//! operation it checks is in the list of its condition kind) and must cover every WorkSpaces
//! operation the emulator serves. The policy documents are read from the template itself, with
//! the parameters' defaults substituted, as CloudFormation would.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};
use serde_yaml::Value;
use workspaces_core_emulator::policy::{
    REQUEST_TAG_ACTIONS, RESOURCE_TAG_ACTIONS, TAG_EDIT_ACTIONS, UNRESTRICTED_ACTIONS,
};
use workspaces_core_emulator::ws::OPERATIONS;

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../customer-role.yaml");

/// Write calls with no resource type: no tag can limit them (reference §8), so the template
/// grants them on their own, each in a policy the customer can switch off.
const UNTAGGABLE_WRITES: &[&str] = &["workspaces:ModifyAccount"];

fn template_text() -> String {
    std::fs::read_to_string(PATH).expect("customer-role.yaml is readable")
}

fn parse(text: &str) -> Value {
    serde_yaml::from_str(text).expect("customer-role.yaml is YAML")
}

fn tag_name(t: &serde_yaml::value::TaggedValue) -> String {
    t.tag.to_string().trim_start_matches('!').to_owned()
}

/// Parameter defaults plus the pseudo parameters, as `${Name}` resolves them.
fn variables(t: &Value) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    for (k, p) in t["Parameters"].as_mapping().expect("Parameters") {
        let name = k.as_str().expect("parameter name").to_owned();
        let default = match &p["Default"] {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Null => format!("<{name}>"),
            other => panic!("unexpected default for {name}: {other:?}"),
        };
        vars.insert(name, default);
    }
    for (k, v) in [
        ("AWS::Partition", "aws"),
        ("AWS::AccountId", "123456789012"),
        ("AWS::Region", "us-east-1"),
        ("AWS::StackName", "customer"),
    ] {
        vars.insert(k.into(), v.into());
    }
    vars
}

/// `Fn::Sub` of a string: every `${Name}` must be a known variable (a typo fails the test).
fn sub(s: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find('}').expect("unclosed ${") + i;
        let name = &rest[i + 2..end];
        if let Some(literal) = name.strip_prefix('!') {
            out.push_str("${");
            out.push_str(literal);
            out.push('}');
        } else {
            let v = vars
                .get(name)
                .unwrap_or_else(|| panic!("${{{name}}} names no parameter"));
            out.push_str(v);
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// YAML (with CloudFormation short-form tags) to JSON, resolving `!Sub` and `!Ref`.
fn resolve(v: &Value, vars: &BTreeMap<String, String>) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => json!(b),
        Value::Number(n) => serde_json::to_value(n).expect("number"),
        Value::String(s) => json!(s),
        Value::Sequence(items) => Json::Array(items.iter().map(|i| resolve(i, vars)).collect()),
        Value::Mapping(m) => {
            if m.len() == 1 {
                if let Some(s) = m.get("Fn::Sub").and_then(Value::as_str) {
                    return json!(sub(s, vars));
                }
                if let Some(r) = m.get("Ref").and_then(Value::as_str) {
                    return json!(vars.get(r).cloned().unwrap_or_else(|| format!("<{r}>")));
                }
            }
            Json::Object(
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().expect("string keys").to_owned(),
                            resolve(v, vars),
                        )
                    })
                    .collect(),
            )
        }
        Value::Tagged(t) => match (tag_name(t).as_str(), &t.value) {
            ("Sub", Value::String(s)) => json!(sub(s, vars)),
            ("Ref", Value::String(r)) => {
                json!(vars.get(r).cloned().unwrap_or_else(|| format!("<{r}>")))
            }
            (other, value) => json!(format!("<{other} {value:?}>")),
        },
    }
}

/// A policy document: either a mapping or a JSON string (typically under `!Sub`).
fn document(v: &Value, vars: &BTreeMap<String, String>) -> Json {
    match resolve(v, vars) {
        Json::String(s) => serde_json::from_str(&s).expect("a policy document string is JSON"),
        doc => doc,
    }
}

#[derive(Debug, Clone)]
struct Statement {
    origin: String,
    effect: String,
    actions: Vec<String>,
    condition: Json,
}

fn strings(v: &Json) -> Vec<String> {
    match v {
        Json::String(s) => vec![s.clone()],
        Json::Array(a) => a
            .iter()
            .map(|x| x.as_str().expect("a string").to_owned())
            .collect(),
        Json::Null => vec![],
        other => panic!("expected a string or a list, got {other}"),
    }
}

/// Every permission statement of every role and role policy (not trust policies).
fn statements(t: &Value) -> Vec<Statement> {
    let vars = variables(t);
    let mut docs: Vec<(String, Json)> = vec![];
    for (name, r) in t["Resources"].as_mapping().expect("Resources") {
        let name = name.as_str().expect("logical id");
        match r["Type"].as_str() {
            Some("AWS::IAM::Role") => {
                let policies = r["Properties"]["Policies"].as_sequence();
                for p in policies.into_iter().flatten() {
                    let pname = p["PolicyName"].as_str().unwrap_or("?");
                    docs.push((
                        format!("{name}/{pname}"),
                        document(&p["PolicyDocument"], &vars),
                    ));
                }
            }
            Some("AWS::IAM::RolePolicy" | "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy") => {
                docs.push((
                    name.to_owned(),
                    document(&r["Properties"]["PolicyDocument"], &vars),
                ));
            }
            _ => {}
        }
    }
    let mut out = vec![];
    for (origin, doc) in docs {
        assert_eq!(doc["Version"], "2012-10-17", "{origin}: policy version");
        for s in doc["Statement"].as_array().expect("Statement list") {
            assert!(
                s.get("NotAction").is_none() && s.get("NotResource").is_none(),
                "{origin}: NotAction/NotResource are not allowed"
            );
            out.push(Statement {
                origin: format!("{origin}#{}", s["Sid"].as_str().unwrap_or("?")),
                effect: s["Effect"].as_str().expect("Effect").to_owned(),
                actions: strings(&s["Action"]),
                condition: s.get("Condition").cloned().unwrap_or(Json::Null),
            });
        }
    }
    out
}

/// IAM action matching (`*` and `?` wildcards, case-insensitive).
fn matches(pattern: &str, action: &str) -> bool {
    fn go(p: &[u8], a: &[u8]) -> bool {
        match (p.first().copied(), a.first().copied()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], a) || (!a.is_empty() && go(p, &a[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &a[1..]),
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(&y) => go(&p[1..], &a[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), action.as_bytes())
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// `aws:RequestTag/<key> = <value>` and `ForAllValues:StringEquals aws:TagKeys = [key]`.
    RequestTag,
    /// `aws:ResourceTag/<key> = <value>`.
    ResourceTag,
    /// `aws:ResourceTag/<key> = <value>` and `ForAllValues:StringNotEquals aws:TagKeys ∌ key`.
    TagEdit,
    /// Only when an AWS service makes the call on the role's behalf (`aws:CalledVia`).
    CalledViaWorkSpaces,
    /// A KMS call only when WorkSpaces makes it (`kms:ViaService workspaces.*`).
    KmsViaWorkSpaces,
    Unconditioned,
    Other,
}

struct Tag {
    key: String,
    value: String,
}

fn kinds(c: &Json, tag: &Tag) -> Vec<Kind> {
    if c.is_null() {
        return vec![Kind::Unconditioned];
    }
    let eq = |op: &str, k: &str| c[op][k].clone();
    let has = |op: &str, k: &str, want: &str| strings(&eq(op, k)) == [want.to_owned()];
    let mut out = vec![];
    let resource_tag = has(
        "StringEquals",
        &format!("aws:ResourceTag/{}", tag.key),
        &tag.value,
    );
    let request_tag = has(
        "StringEquals",
        &format!("aws:RequestTag/{}", tag.key),
        &tag.value,
    ) && has("ForAllValues:StringEquals", "aws:TagKeys", &tag.key);
    if request_tag {
        out.push(Kind::RequestTag);
    }
    if resource_tag {
        out.push(Kind::ResourceTag);
        if strings(&eq("ForAllValues:StringNotEquals", "aws:TagKeys")).contains(&tag.key) {
            out.push(Kind::TagEdit);
        }
    }
    if strings(&eq("ForAnyValue:StringEquals", "aws:CalledVia")) == ["workspaces.amazonaws.com"] {
        out.push(Kind::CalledViaWorkSpaces);
    }
    if strings(&eq("StringLike", "kms:ViaService")) == ["workspaces.*.amazonaws.com"] {
        out.push(Kind::KmsViaWorkSpaces);
    }
    if out.is_empty() {
        out.push(Kind::Other);
    }
    out
}

fn is_read(action: &str) -> bool {
    let name = action.split_once(':').map(|(_, n)| n).unwrap_or(action);
    !name.contains('*')
        && !name.contains('?')
        && ["Describe", "List", "Get"]
            .iter()
            .any(|p| name.starts_with(p))
}

/// Everything wrong with a template, as readable lines (empty = fine).
fn problems(text: &str) -> Vec<String> {
    let t = parse(text);
    let vars = variables(&t);
    let tag = Tag {
        key: vars["PartnerTagKey"].clone(),
        value: vars["PartnerTagValue"].clone(),
    };
    let all = statements(&t);
    let allows: Vec<&Statement> = all.iter().filter(|s| s.effect == "Allow").collect();
    let mut bad = vec![];

    let granted_as = |action: &str| -> Vec<(String, Vec<Kind>)> {
        allows
            .iter()
            .filter(|s| s.actions.iter().any(|p| matches(p, action)))
            .map(|s| (s.origin.clone(), kinds(&s.condition, &tag)))
            .collect()
    };

    // 1. Each emulator-enforced action is granted under its kind of condition.
    for (list, want) in [
        (REQUEST_TAG_ACTIONS, Kind::RequestTag),
        (RESOURCE_TAG_ACTIONS, Kind::ResourceTag),
        (TAG_EDIT_ACTIONS, Kind::TagEdit),
    ] {
        for op in list {
            let action = format!("workspaces:{op}");
            let grants = granted_as(&action);
            if !grants.iter().any(|(_, k)| k.contains(&want)) {
                bad.push(format!(
                    "{action} is not granted under {want:?}: {grants:?}"
                ));
            }
        }
    }
    // 2. The calls with no resource type are granted (nothing can limit them).
    for op in UNRESTRICTED_ACTIONS {
        let action = format!("workspaces:{op}");
        if granted_as(&action).is_empty() {
            bad.push(format!("{action} is not granted"));
        }
    }
    // 3. Nothing that writes without a tag condition; no wildcard actions at all.
    for s in &allows {
        let k = kinds(&s.condition, &tag);
        for a in &s.actions {
            if a.contains('*') || a.contains('?') {
                bad.push(format!("{}: wildcard action {a}", s.origin));
            }
            if is_read(a) {
                continue;
            }
            let tag_limited = k.contains(&Kind::RequestTag) || k.contains(&Kind::ResourceTag);
            let via_workspaces = k.contains(&Kind::CalledViaWorkSpaces)
                || (a.starts_with("kms:") && k.contains(&Kind::KmsViaWorkSpaces));
            let untaggable = UNTAGGABLE_WRITES.contains(&a.as_str());
            if !(tag_limited || via_workspaces || untaggable) {
                bad.push(format!(
                    "{}: {a} writes without a partner-tag condition ({k:?})",
                    s.origin
                ));
            }
            let tag_action = TAG_EDIT_ACTIONS
                .iter()
                .any(|op| a.eq_ignore_ascii_case(&format!("workspaces:{op}")));
            if tag_action && !k.contains(&Kind::TagEdit) {
                bad.push(format!(
                    "{}: {a} allowed without excluding the partner key",
                    s.origin
                ));
            }
        }
    }
    // 4. An explicit deny on editing the partner key, whatever else is attached to the role.
    let deny_edit = all.iter().any(|s| {
        s.effect == "Deny"
            && TAG_EDIT_ACTIONS.iter().all(|op| {
                s.actions
                    .iter()
                    .any(|p| matches(p, &format!("workspaces:{op}")))
            })
            && strings(&s.condition["ForAnyValue:StringEquals"]["aws:TagKeys"]).contains(&tag.key)
    });
    if !deny_edit {
        bad.push("no Deny of CreateTags/DeleteTags naming the partner key".into());
    }
    bad
}

#[test]
fn the_emulators_lists_cover_every_operation_it_serves() {
    let listed: Vec<&str> = REQUEST_TAG_ACTIONS
        .iter()
        .chain(RESOURCE_TAG_ACTIONS)
        .chain(TAG_EDIT_ACTIONS)
        .chain(UNRESTRICTED_ACTIONS)
        .copied()
        .collect();
    for op in OPERATIONS {
        assert!(listed.contains(op), "{op} is in no tag-policy list");
    }
    for op in &listed {
        assert!(OPERATIONS.contains(op), "{op} is listed but not served");
    }
}

#[test]
fn the_customer_role_grants_what_the_tag_policy_enforces_and_no_untagged_writes() {
    let bad = problems(&template_text());
    assert!(bad.is_empty(), "customer-role.yaml:\n{}", bad.join("\n"));
}

#[test]
fn the_checks_catch_a_broken_role() {
    let text = template_text();
    // The resource-tag condition dropped from the modify / power / terminate statement.
    let broken = text.replacen(
        r#""StringEquals": {"aws:ResourceTag/${PartnerTagKey}": "${PartnerTagValue}"},
                    "ForAllValues:StringEquals""#,
        r#""ForAllValues:StringEquals""#,
        1,
    );
    assert_ne!(broken, text, "the edit applies");
    let bad = problems(&broken);
    assert!(
        bad.iter()
            .any(|b| b.contains("workspaces:StopWorkspaces is not granted under ResourceTag")),
        "{bad:?}"
    );
    assert!(
        bad.iter()
            .any(|b| b.contains("StopWorkspaces writes without a partner-tag condition")),
        "{bad:?}"
    );

    // A request-tag create allowed with any tag key.
    let broken = text.replacen(
        r#""ForAllValues:StringEquals": {"aws:TagKeys": ["${PartnerTagKey}"]}
                  }
                },
                {
                  "Sid": "ManageOnlyTaggedResources""#,
        r#""ForAllValues:StringLike": {"aws:TagKeys": ["*"]}
                  }
                },
                {
                  "Sid": "ManageOnlyTaggedResources""#,
        1,
    );
    assert_ne!(broken, text, "the edit applies");
    let bad = problems(&broken);
    assert!(
        bad.iter()
            .any(|b| b.contains("workspaces:CreateWorkspaces is not granted under RequestTag")),
        "{bad:?}"
    );

    // Tag edits allowed on the partner key, and the deny gone.
    let broken = text
        .replacen(
            r#""ForAllValues:StringNotEquals": {"aws:TagKeys": ["${PartnerTagKey}"]}"#,
            r#""ForAllValues:StringNotEquals": {"aws:TagKeys": ["Other"]}"#,
            1,
        )
        .replacen(r#""Effect": "Deny""#, r#""Effect": "Allow""#, 1);
    let bad = problems(&broken);
    assert!(
        bad.iter()
            .any(|b| b.contains("CreateTags is not granted under TagEdit")),
        "{bad:?}"
    );
    assert!(
        bad.iter().any(|b| b.contains("no Deny of CreateTags")),
        "{bad:?}"
    );

    // A wildcard write with no condition.
    let broken = text.replacen(
        "- ec2:DescribeImages",
        "- ec2:DescribeImages\n                  - ec2:*",
        1,
    );
    let bad = problems(&broken);
    assert!(
        bad.iter().any(|b| b.contains("wildcard action ec2:*")),
        "{bad:?}"
    );
    assert!(
        bad.iter()
            .any(|b| b.contains("ec2:* writes without a partner-tag condition")),
        "{bad:?}"
    );
}

#[test]
fn the_trust_policy_needs_the_partner_account_and_the_external_id() {
    let t = parse(&template_text());
    let vars = variables(&t);
    assert_eq!(t["Parameters"]["ExternalId"]["NoEcho"], Value::Bool(true));
    let role = &t["Resources"]["PartnerRole"]["Properties"];
    let trust = document(&role["AssumeRolePolicyDocument"], &vars);
    let stmts = trust["Statement"].as_array().expect("trust statements");
    assert_eq!(stmts.len(), 1, "one way in");
    let s = &stmts[0];
    assert_eq!(s["Effect"], "Allow");
    assert_eq!(s["Action"], "sts:AssumeRole");
    assert_eq!(
        s["Principal"]["AWS"],
        json!(format!("arn:aws:iam::{}:root", vars["PartnerAccountId"]))
    );
    assert_eq!(
        s["Condition"]["StringEquals"]["sts:ExternalId"],
        json!(vars["ExternalId"])
    );
    let max = resolve(&role["MaxSessionDuration"], &vars);
    assert_eq!(max, json!("3600"));
    assert!(
        matches!(t["Outputs"]["RoleArn"]["Value"], Value::Tagged(_)),
        "RoleArn is an output"
    );
}

/// Every Allow statement in `template.yaml` that grants `sts:AssumeRole` (by name or wildcard)
/// names only the customer roles, `arn:${AWS::Partition}:iam::*:role/${CustomerRoleName}`.
fn assume_role_grants(v: &Value, path: &str, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Mapping(m) => {
            let is_allow = m.get("Effect").and_then(Value::as_str) == Some("Allow");
            let is_trust = m.contains_key("Principal");
            if is_allow && !is_trust {
                let actions: Vec<String> = match m.get("Action") {
                    Some(Value::String(a)) => vec![a.clone()],
                    Some(Value::Sequence(s)) => s
                        .iter()
                        .filter_map(|a| a.as_str().map(str::to_owned))
                        .collect(),
                    _ => vec![],
                };
                if actions.iter().any(|a| matches(a, "sts:AssumeRole")) {
                    out.push((
                        path.to_owned(),
                        m.get("Resource").cloned().unwrap_or(Value::Null),
                    ));
                }
            }
            for (k, child) in m {
                let key = k.as_str().unwrap_or("?");
                assume_role_grants(child, &format!("{path}/{key}"), out);
            }
        }
        Value::Sequence(s) => {
            for (i, child) in s.iter().enumerate() {
                assume_role_grants(child, &format!("{path}/{i}"), out);
            }
        }
        Value::Tagged(t) => assume_role_grants(&t.value, path, out),
        _ => {}
    }
}

fn only_customer_roles(resource: &Value) -> bool {
    const WANT: &str = "arn:${AWS::Partition}:iam::*:role/${CustomerRoleName}";
    match resource {
        Value::Tagged(t) => tag_name(t) == "Sub" && t.value.as_str() == Some(WANT),
        Value::Mapping(m) => m.len() == 1 && m.get("Fn::Sub").and_then(Value::as_str) == Some(WANT),
        Value::Sequence(s) => !s.is_empty() && s.iter().all(only_customer_roles),
        _ => false,
    }
}

#[test]
fn steward_may_assume_only_the_customer_roles() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    let t: Value = serde_yaml::from_str(&std::fs::read_to_string(path).expect("template.yaml"))
        .expect("template.yaml is YAML");
    let mut grants = vec![];
    assume_role_grants(&t["Resources"], "Resources", &mut grants);
    assert!(
        !grants.is_empty(),
        "no statement lets Steward assume a customer role"
    );
    for (at, resource) in &grants {
        assert!(
            only_customer_roles(resource),
            "{at}: sts:AssumeRole on {resource:?}, not only the CustomerRoleName roles"
        );
    }
    // The check itself: a wildcard resource is caught.
    let wide: Value =
        serde_yaml::from_str("P: {Effect: Allow, Action: ['sts:*'], Resource: '*'}").expect("yaml");
    let mut wide_grants = vec![];
    assume_role_grants(&wide, "x", &mut wide_grants);
    assert_eq!(wide_grants.len(), 1);
    assert!(!only_customer_roles(&wide_grants[0].1));
}

/// The guide's tag guidelines: "You should not have permission to modify or delete tags on a
/// resource." Every grant of a tag edit sits in a policy that exists only when the customer
/// sets AllowTagManagement to "true", which is not the default.
#[test]
fn tag_edits_are_off_unless_the_customer_turns_them_on() {
    let t = parse(&template_text());
    assert_eq!(
        t["Parameters"]["AllowTagManagement"]["Default"].as_str(),
        Some("false")
    );
    let condition = &t["Conditions"]["TagManagementByPartner"];
    let Value::Tagged(eq) = condition else {
        panic!("TagManagementByPartner is not an !Equals: {condition:?}");
    };
    assert_eq!(tag_name(eq), "Equals");
    assert_eq!(
        serde_yaml::to_string(&eq.value).unwrap().trim(),
        "- !Ref AllowTagManagement\n- 'true'"
    );
    let vars = variables(&t);
    let mut granting = vec![];
    for (name, r) in t["Resources"].as_mapping().expect("Resources") {
        let mut docs = vec![];
        if !r["Properties"]["PolicyDocument"].is_null() {
            docs.push(document(&r["Properties"]["PolicyDocument"], &vars));
        }
        for p in r["Properties"]["Policies"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            docs.push(document(&p["PolicyDocument"], &vars));
        }
        let grants = docs.iter().any(|d| {
            d["Statement"].as_array().into_iter().flatten().any(|s| {
                s["Effect"] == "Allow"
                    && strings(&s["Action"]).iter().any(|a| {
                        matches(a, "workspaces:CreateTags") || matches(a, "workspaces:DeleteTags")
                    })
            })
        });
        if grants {
            granting.push((
                name.as_str().unwrap_or("?").to_owned(),
                r["Condition"].as_str().map(str::to_owned),
            ));
        }
    }
    assert_eq!(
        granting,
        vec![(
            "TagManagementPolicy".to_owned(),
            Some("TagManagementByPartner".to_owned())
        )]
    );
}
