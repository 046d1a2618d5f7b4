//! The partner event catalog: the published JSON Schemas (`events/schemas/`) and Steward's
//! parser agree on every sample and on a corpus of malformed and hostile events, and every
//! refusal carries a named reason.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::DateTime;
use serde_json::{Value, json};
use steward_shared::events::{PartnerEvent, Rejection, detail_types};

const SOURCE: &str = "steward.partner";

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn slug(detail_type: &str) -> String {
    detail_type.to_lowercase().replace(' ', "-")
}

fn read_json(path: PathBuf) -> Value {
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn validator(detail_type: &str) -> jsonschema::Validator {
    let schema = read_json(root().join(format!("events/schemas/{}.json", slug(detail_type))));
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("schema of {detail_type}: {e}"))
}

fn sample(detail_type: &str) -> Value {
    read_json(root().join(format!("events/partner-events/{}.json", slug(detail_type))))
}

/// The samples are in the past of this instant, and within the allowed clock skew of it.
fn now() -> chrono::DateTime<chrono::Utc> {
    DateTime::parse_from_rfc3339("2026-11-21T18:00:00Z")
        .unwrap()
        .to_utc()
}

fn parse(event: &Value) -> Result<PartnerEvent, Rejection> {
    PartnerEvent::parse(event, SOURCE, now())
}

#[test]
fn every_detail_type_has_a_schema_and_a_sample_that_both_accept() {
    for dt in detail_types::ALL {
        let event = sample(dt);
        assert_eq!(event["detail-type"], dt);
        let v = validator(dt);
        assert!(
            v.is_valid(&event["detail"]),
            "{dt}: the sample fits its schema"
        );
        let parsed = parse(&event).unwrap_or_else(|e| panic!("{dt}: {e}"));
        assert_eq!(parsed.tenant_id().as_str(), event["detail"]["tenantId"]);
    }
}

/// Values a hostile or buggy sender might put in any field.
fn hostile_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(42),
        json!(-1),
        json!(1.5),
        json!(true),
        json!([]),
        json!({}),
        json!(""),
        json!(" "),
        json!("x".repeat(300)),
        json!("WS-UPPER-1234"),
        json!("../../etc/passwd"),
        json!("'; DROP TABLE steward;--"),
        json!("nul\u{0000}byte"),
        json!("ünïcödé"),
        json!("2026-11-21"),
        json!(999_999_999),
    ]
}

/// Mutations of a valid detail: each field removed, replaced by each hostile value, plus an
/// unknown field. Returns (label, detail).
fn detail_mutations(detail: &Value) -> Vec<(String, Value)> {
    let obj = detail.as_object().unwrap();
    let mut out = Vec::new();
    for key in obj.keys() {
        let mut d = detail.clone();
        d.as_object_mut().unwrap().remove(key);
        out.push((format!("without {key}"), d));
        for (i, bad) in hostile_values().into_iter().enumerate() {
            let mut d = detail.clone();
            d[key] = bad;
            out.push((format!("{key} = hostile #{i}"), d));
        }
    }
    let mut d = detail.clone();
    d["isAdmin"] = json!(true);
    out.push(("an unknown field".into(), d));
    for date in [
        "not a date",
        "2026-13-01T00:00:00Z",
        "2026-11-21T10:00:00",
        "2026-11-21T25:00:00Z",
    ] {
        let mut d = detail.clone();
        d["occurredAt"] = json!(date);
        out.push((format!("occurredAt = {date}"), d));
    }
    out
}

#[test]
fn schemas_and_parser_agree_on_a_hostile_corpus() {
    let mut rejected: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut cases = 0;
    for dt in detail_types::ALL {
        let v = validator(dt);
        let base = sample(dt);
        for (label, detail) in detail_mutations(&base["detail"]) {
            let mut event = base.clone();
            event["detail"] = detail.clone();
            let schema_ok = v.is_valid(&detail);
            let parsed = parse(&event);
            assert_eq!(
                schema_ok,
                parsed.is_ok(),
                "{dt} with {label}: schema says {schema_ok}, parser says {parsed:?}"
            );
            cases += 1;
            if let Err(r) = parsed {
                *rejected.entry(r.reason()).or_default() += 1;
                assert!(!r.to_string().is_empty());
            }
        }
    }
    let total: usize = rejected.values().sum();
    assert!(
        total >= 100,
        "{total} of {cases} mutations rejected: {rejected:?}"
    );
    assert!(rejected.contains_key("MalformedDetail"));
    assert!(rejected.contains_key("InvalidField"), "{rejected:?}");
}

#[test]
fn envelope_level_refusals_are_named() {
    let base = sample("Session Started");
    let mut cases: Vec<(&str, Value)> = vec![
        ("MalformedEnvelope", json!(null)),
        ("MalformedEnvelope", json!("a string")),
        ("MalformedEnvelope", json!([base.clone()])),
    ];
    for key in ["id", "detail-type", "source", "detail"] {
        let mut e = base.clone();
        e.as_object_mut().unwrap().remove(key);
        cases.push(("MalformedEnvelope", e));
    }
    let mut e = base.clone();
    e["source"] = json!("aws.workspaces");
    cases.push(("UnknownSource", e));
    let mut e = base.clone();
    e["detail-type"] = json!("Desktop Self Destruct Requested");
    cases.push(("UnknownDetailType", e));
    let mut e = base.clone();
    e["detail"] = json!("not an object");
    cases.push(("MalformedDetail", e));
    let mut e = base.clone();
    e["id"] = json!("id with spaces");
    cases.push(("InvalidField", e));
    let mut e = base.clone();
    e["detail"]["occurredAt"] = json!("2026-11-21T18:30:00Z");
    cases.push(("FromTheFuture", e));
    let mut e = sample("Tenant Policy Updated");
    e["detail"]["policy"] = json!({});
    cases.push(("InvalidField", e));
    for (expected, event) in cases {
        let r = parse(&event).expect_err(expected);
        assert_eq!(r.reason(), expected, "{event}: {r}");
    }
}
