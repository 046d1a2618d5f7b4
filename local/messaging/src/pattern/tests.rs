use serde_json::json;

use super::*;

fn event(detail_type: &str, detail: Value) -> Value {
    json!({
        "version": "0", "id": "e1", "detail-type": detail_type, "source": "steward.partner",
        "account": "123456789012", "time": "2026-11-28T08:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:workspaces:us-east-1:123456789012:workspace/ws-1"], "detail": detail,
    })
}

fn check(pattern: Value, event: &Value) -> bool {
    EventPattern::parse(&pattern).unwrap().matches(event)
}

#[test]
fn steward_template_patterns_split_lifecycle_from_partner_events() {
    let partner = json!({"source": ["steward.partner"], "detail-type": [{"anything-but": {"prefix": "Lifecycle "}}]});
    let lifecycle =
        json!({"source": ["steward.partner"], "detail-type": [{"prefix": "Lifecycle "}]});
    let start = event("Desktop Start Requested", json!({}));
    let onboard = event("Lifecycle Onboarding Requested", json!({}));
    assert!(check(partner.clone(), &start));
    assert!(!check(partner, &onboard));
    assert!(check(lifecycle.clone(), &onboard));
    assert!(!check(lifecycle, &start));
}

#[test]
fn operators_match_as_documented() {
    let e = event(
        "Desktop Stopped",
        json!({"n": 5, "s": "Hello", "b": true, "z": null, "tags": ["a", "b"], "items": [{"id": "x"}, {"id": "y"}], "o": {"k": 1}}),
    );
    let cases = [
        (json!({"detail": {"n": [5]}}), true),
        (json!({"detail": {"n": ["5"]}}), false),
        (json!({"detail": {"b": [true]}}), true),
        (json!({"detail": {"z": [null]}}), true),
        (json!({"detail": {"missing": [null]}}), false),
        (json!({"detail": {"tags": ["b"]}}), true),
        (json!({"detail": {"items": {"id": ["y"]}}}), true),
        (
            json!({"detail": {"s": [{"prefix": {"equals-ignore-case": "he"}}]}}),
            true,
        ),
        (json!({"detail": {"s": [{"suffix": "lo"}]}}), true),
        (
            json!({"detail": {"s": [{"equals-ignore-case": "HELLO"}]}}),
            true,
        ),
        (
            json!({"detail": {"s": [{"anything-but": ["Hello", "x"]}]}}),
            false,
        ),
        (
            json!({"detail": {"s": [{"anything-but": {"suffix": "x"}}]}}),
            true,
        ),
        (
            json!({"detail": {"missing": [{"anything-but": "x"}]}}),
            false,
        ),
        (
            json!({"detail": {"n": [{"numeric": [">", 0, "<=", 5]}]}}),
            true,
        ),
        (json!({"detail": {"n": [{"numeric": ["=", 6]}]}}), false),
        (json!({"detail": {"b": [{"numeric": [">", 0]}]}}), false),
        (json!({"detail": {"missing": [{"exists": false}]}}), true),
        (json!({"detail": {"o": [{"exists": true}]}}), false),
        (json!({"detail": {"o": {"k": [{"exists": true}]}}}), true),
        (json!({"detail": {"s": [{"wildcard": "H*o"}]}}), true),
        (
            json!({"$or": [{"detail": {"n": [1]}}, {"detail": {"s": ["Hello"]}}]}),
            true,
        ),
        (
            json!({"$or": [{"detail": {"n": [1]}}, {"detail": {"s": ["x"]}}]}),
            false,
        ),
        (
            json!({"account": ["123456789012"], "region": ["us-east-1"]}),
            true,
        ),
        (
            json!({"resources": [{"prefix": "arn:aws:workspaces:"}]}),
            true,
        ),
    ];
    for (index, (pattern, expected)) in cases.into_iter().enumerate() {
        assert_eq!(check(pattern, &e), expected, "case {index}");
    }
}

#[test]
fn malformed_patterns_are_named() {
    let path = |p: &str| p.to_owned();
    let cases = [
        (json!([1]), PatternError::NotAnObject),
        (
            json!({"source": "x"}),
            PatternError::NotObjectOrArray {
                path: path("source"),
            },
        ),
        (
            json!({"detail": {"a": []}}),
            PatternError::EmptyArray {
                path: path("detail.a"),
            },
        ),
        (
            json!({"a": [[1]]}),
            PatternError::NestedArray { path: path("a") },
        ),
        (
            json!({"a": [{"prefix": "x", "suffix": "y"}]}),
            PatternError::FilterShape { path: path("a") },
        ),
        (
            json!({"a": [{"regex": "x"}]}),
            PatternError::UnknownOperator { path: path("a") },
        ),
        (
            json!({"a": [{"cidr": "10.0.0.0/8"}]}),
            PatternError::Unsupported { path: path("a") },
        ),
        (
            json!({"$or": [{"a": ["x"]}]}),
            PatternError::OrShape { path: path("$or") },
        ),
        (
            json!({"a": [{"exists": "yes"}]}),
            PatternError::Operand {
                path: path("a"),
                operator: "exists",
                problem: "must be true or false",
            },
        ),
        (
            json!({"a": [{"numeric": ["<", 5, ">", 1]}]}),
            PatternError::Operand {
                path: path("a"),
                operator: "numeric",
                problem: "takes a lower bound (> or >=) then an upper bound (< or <=), or one comparison",
            },
        ),
        (
            json!({"a": [{"numeric": [">", 5, "<", 1]}]}),
            PatternError::Operand {
                path: path("a"),
                operator: "numeric",
                problem: "has a lower bound that is not below its upper bound",
            },
        ),
        (
            json!({"a": [{"wildcard": "a**"}]}),
            PatternError::Operand {
                path: path("a"),
                operator: "wildcard",
                problem: "has consecutive wildcard characters",
            },
        ),
        (
            json!({"a": [{"anything-but": [1, "x"]}]}),
            PatternError::Operand {
                path: path("a"),
                operator: "anything-but",
                problem: "takes an array of only strings or only numbers",
            },
        ),
    ];
    for (pattern, expected) in cases {
        assert_eq!(EventPattern::parse(&pattern), Err(expected));
    }
    assert_eq!(
        EventPattern::parse_str("{not json"),
        Err(PatternError::NotJson)
    );
    assert_eq!(
        PatternError::EmptyArray {
            path: "detail.a".into()
        }
        .to_string(),
        "Event pattern is not valid. Reason: \"detail.a\" holds an empty array"
    );
}
