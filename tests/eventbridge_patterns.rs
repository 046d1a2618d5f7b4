//! The event-pattern matcher of `eventbridge-sqs-local` against moto's EventBridge, on a corpus
//! of (pattern, event) pairs covering every operator the local EventBridge serves, Steward's two
//! template patterns among them.
//!
//! moto 5's `TestEventPattern` is a stub (it answers an empty body), so the oracle is moto's rule
//! routing itself: for each pair, a bus, a rule with the pattern, an SQS target, `PutEvents`,
//! and whether the queue got the event. moto builds the envelope with its account
//! (123456789012) and us-east-1, so the local matcher sees the same envelope.
//!
//! Each pair also carries the answer EventBridge's documentation gives. Where moto departs from
//! it the pair says why (`MotoDiffers`), and moto's different answer is asserted instead of an equal one.

use aws_config::Region;
use aws_sdk_eventbridge::config::Credentials;
use aws_sdk_eventbridge::types::{PutEventsRequestEntry, Target};
use eventbridge_sqs_local::EventPattern;
use serde_json::{Value, json};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

/// Whether moto is expected to agree with EventBridge on a pair.
enum Moto {
    Agrees,
    /// moto answers otherwise, for this reason.
    Differs(&'static str),
}

struct Pair {
    name: &'static str,
    pattern: Value,
    source: &'static str,
    detail_type: &'static str,
    detail: Value,
    resources: Vec<&'static str>,
    expected: bool,
    moto: Moto,
}

fn pair(
    name: &'static str,
    pattern: Value,
    detail_type: &'static str,
    detail: Value,
    expected: bool,
) -> Pair {
    Pair {
        name,
        pattern,
        source: "steward.partner",
        detail_type,
        detail,
        resources: Vec::new(),
        expected,
        moto: Moto::Agrees,
    }
}

fn differs(mut p: Pair, reason: &'static str) -> Pair {
    p.moto = Moto::Differs(reason);
    p
}

fn corpus() -> Vec<Pair> {
    let d = detail();
    [
        template_pairs(&d),
        exact_pairs(&d),
        structure_pairs(&d),
        string_pairs(&d),
        anything_but_and_exists_pairs(&d),
        numeric_and_or_pairs(&d),
        moto_differs_pairs(&d),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The event detail most pairs match against.
fn detail() -> Value {
    json!({"tenantId": "acme", "workspaceId": "ws-1", "n": 5, "f": 2.5, "ok": true, "none": null,
                   "tags": ["blue", "green"], "nums": [1, 7], "user": {"name": "Ada", "role": "admin"},
                   "items": [{"id": "a"}, {"id": "b"}], "path": "/home/ada/file.txt"})
}

/// Steward's two template patterns against partner and lifecycle detail-types.
fn template_pairs(d: &Value) -> Vec<Pair> {
    let partner = json!({"source": ["steward.partner"], "detail-type": [{"anything-but": {"prefix": "Lifecycle "}}]});
    let lifecycle =
        json!({"source": ["steward.partner"], "detail-type": [{"prefix": "Lifecycle "}]});
    let mut pairs = vec![
        // Steward's template patterns.
        pair(
            "partner: Desktop Start Requested",
            partner.clone(),
            "Desktop Start Requested",
            d.clone(),
            true,
        ),
        pair(
            "partner: Desktop Stop Requested",
            partner.clone(),
            "Desktop Stop Requested",
            d.clone(),
            true,
        ),
        pair(
            "partner: Session Started",
            partner.clone(),
            "Session Started",
            d.clone(),
            true,
        ),
        pair(
            "partner: Desktop Assignment Requested",
            partner.clone(),
            "Desktop Assignment Requested",
            d.clone(),
            true,
        ),
        pair(
            "partner: Users Loaded",
            partner.clone(),
            "Users Loaded",
            d.clone(),
            true,
        ),
        pair(
            "lifecycle: Pool Created",
            lifecycle.clone(),
            "Pool Created",
            d.clone(),
            false,
        ),
        pair(
            "partner: Lifecycle Onboarding Requested",
            partner.clone(),
            "Lifecycle Onboarding Requested",
            d.clone(),
            false,
        ),
        pair(
            "partner: Lifecycle Offboarding Requested",
            partner.clone(),
            "Lifecycle Offboarding Requested",
            d.clone(),
            false,
        ),
        pair(
            "partner: 'Lifecycle' without the space",
            partner.clone(),
            "LifecycleX",
            d.clone(),
            true,
        ),
        pair(
            "lifecycle: Lifecycle Onboarding Requested",
            lifecycle.clone(),
            "Lifecycle Onboarding Requested",
            d.clone(),
            true,
        ),
        pair(
            "lifecycle: Lifecycle Golden Image Requested",
            lifecycle.clone(),
            "Lifecycle Golden Image Requested",
            d.clone(),
            true,
        ),
        pair(
            "lifecycle: Desktop Start Requested",
            lifecycle.clone(),
            "Desktop Start Requested",
            d.clone(),
            false,
        ),
        pair(
            "lifecycle: lower-case lifecycle",
            lifecycle.clone(),
            "lifecycle Onboarding",
            d.clone(),
            false,
        ),
    ];
    let mut with_resources = pair(
        "resources prefix",
        json!({"resources": [{"prefix": "arn:aws:workspaces:"}]}),
        "X",
        d.clone(),
        true,
    );
    with_resources.resources = vec!["arn:aws:workspaces:us-east-1:123456789012:workspace/ws-1"];
    pairs.push(with_resources);
    let mut other_source = pair(
        "partner pattern, other source",
        partner.clone(),
        "Desktop Start Requested",
        d.clone(),
        false,
    );
    other_source.source = "someone.else";
    pairs.push(other_source);
    pairs
}

/// Exact values (string, number, boolean, null) and any-of.
fn exact_pairs(d: &Value) -> Vec<Pair> {
    vec![
        pair(
            "exact string",
            json!({"detail": {"tenantId": ["acme"]}}),
            "X",
            d.clone(),
            true,
        ),
        pair(
            "exact string, other value",
            json!({"detail": {"tenantId": ["globex"]}}),
            "X",
            d.clone(),
            false,
        ),
        pair(
            "exact any-of",
            json!({"detail": {"tenantId": ["globex", "acme"]}}),
            "X",
            d.clone(),
            true,
        ),
        pair(
            "exact number",
            json!({"detail": {"n": [5]}}),
            "X",
            d.clone(),
            true,
        ),
        pair(
            "exact number, other",
            json!({"detail": {"n": [6]}}),
            "X",
            d.clone(),
            false,
        ),
        pair(
            "number is not its string",
            json!({"detail": {"n": ["5"]}}),
            "X",
            d.clone(),
            false,
        ),
        pair(
            "exact boolean",
            json!({"detail": {"ok": [true]}}),
            "X",
            d.clone(),
            true,
        ),
        pair(
            "exact boolean, other",
            json!({"detail": {"ok": [false]}}),
            "X",
            d.clone(),
            false,
        ),
        pair(
            "exact null",
            json!({"detail": {"none": [null]}}),
            "X",
            d.clone(),
            true,
        ),
        pair(
            "null does not match an absent field",
            json!({"detail": {"absent": [null]}}),
            "X",
            d.clone(),
            false,
        ),
        pair(
            "value against an absent field",
            json!({"detail": {"absent": ["acme"]}}),
            "X",
            d.clone(),
            false,
        ),
    ]
}

/// Event arrays, nested objects, several fields, the envelope fields.
fn structure_pairs(d: &Value) -> Vec<Pair> {
    vec![
        pair(
            "event array: any element",
            json!({"detail": {"tags": ["green"]}}),
            "X",
            d.clone(),
            true,
        ),
        pair(
            "event array: no element",
            json!({"detail": {"tags": ["red"]}}),
            "X",
            d.clone(),
            false,
        ),
        pair(
            "nested object",
            json!({"detail": {"user": {"role": ["admin"]}}}),
            "X",
            d.clone(),
            true,
        ),
        pair(
            "nested object, other",
            json!({"detail": {"user": {"role": ["guest"]}}}),
            "X",
            d.clone(),
            false,
        ),
        pair(
            "several fields all match",
            json!({"source": ["steward.partner"], "detail": {"tenantId": ["acme"], "n": [5]}}),
            "X",
            d.clone(),
            true,
        ),
        pair(
            "several fields, one fails",
            json!({"source": ["steward.partner"], "detail": {"tenantId": ["acme"], "n": [6]}}),
            "X",
            d.clone(),
            false,
        ),
        pair(
            "envelope account and region",
            json!({"account": [ACCOUNT], "region": [REGION]}),
            "X",
            d.clone(),
            true,
        ),
        pair(
            "envelope region, other",
            json!({"region": ["eu-west-1"]}),
            "X",
            d.clone(),
            false,
        ),
        pair(
            "source mismatch",
            json!({"source": ["other.source"]}),
            "X",
            d.clone(),
            false,
        ),
    ]
}

/// prefix, suffix, equals-ignore-case and wildcard.
fn string_pairs(d: &Value) -> Vec<Pair> {
    vec![
        pair(
            "prefix",
            json!({"detail": {"workspaceId": [{"prefix": "ws-"}]}}),
            "X",
            d.clone(),
            true,
        ),
        pair(
            "prefix, other",
            json!({"detail": {"workspaceId": [{"prefix": "wsx"}]}}),
            "X",
            d.clone(),
            false,
        ),
        pair(
            "prefix on a number",
            json!({"detail": {"n": [{"prefix": "5"}]}}),
            "X",
            d.clone(),
            false,
        ),
        pair(
            "prefix ignoring case",
            json!({"detail": {"user": {"name": [{"prefix": {"equals-ignore-case": "AD"}}]}}}),
            "X",
            d.clone(),
            true,
        ),
        pair(
            "prefix is case sensitive",
            json!({"detail": {"user": {"name": [{"prefix": "AD"}]}}}),
            "X",
            d.clone(),
            false,
        ),
        pair(
            "suffix",
            json!({"detail": {"path": [{"suffix": ".txt"}]}}),
            "X",
            d.clone(),
            true,
        ),
        pair(
            "suffix, other",
            json!({"detail": {"path": [{"suffix": ".png"}]}}),
            "X",
            d.clone(),
            false,
        ),
        pair(
            "suffix ignoring case",
            json!({"detail": {"path": [{"suffix": {"equals-ignore-case": ".TXT"}}]}}),
            "X",
            d.clone(),
            true,
        ),
        pair(
            "equals-ignore-case",
            json!({"detail": {"tenantId": [{"equals-ignore-case": "ACME"}]}}),
            "X",
            d.clone(),
            true,
        ),
        pair(
            "equals-ignore-case, other",
            json!({"detail": {"tenantId": [{"equals-ignore-case": "ACMEX"}]}}),
            "X",
            d.clone(),
            false,
        ),
        pair(
            "wildcard",
            json!({"detail": {"path": [{"wildcard": "/home/*/file.txt"}]}}),
            "X",
            d.clone(),
            true,
        ),
        pair(
            "wildcard, other",
            json!({"detail": {"path": [{"wildcard": "/srv/*"}]}}),
            "X",
            d.clone(),
            false,
        ),
        pair(
            "wildcard on detail-type",
            json!({"detail-type": [{"wildcard": "Desktop * Requested"}]}),
            "Desktop Start Requested",
            d.clone(),
            true,
        ),
    ]
}

/// anything-but and exists.
fn anything_but_and_exists_pairs(d: &Value) -> Vec<Pair> {
    vec![
        pair(
            "anything-but value",
            json!({"detail": {"tenantId": [{"anything-but": "globex"}]}}),
            "X",
            d.clone(),
            true,
        ),
        pair(
            "anything-but the value",
            json!({"detail": {"tenantId": [{"anything-but": "acme"}]}}),
            "X",
            d.clone(),
            false,
        ),
        pair(
            "anything-but list",
            json!({"detail": {"tenantId": [{"anything-but": ["acme", "globex"]}]}}),
            "X",
            d.clone(),
            false,
        ),
        pair(
            "anything-but number list",
            json!({"detail": {"n": [{"anything-but": [1, 2]}]}}),
            "X",
            d.clone(),
            true,
        ),
        pair(
            "anything-but suffix",
            json!({"detail": {"path": [{"anything-but": {"suffix": ".txt"}}]}}),
            "X",
            d.clone(),
            false,
        ),
        pair(
            "anything-but suffix, other",
            json!({"detail": {"path": [{"anything-but": {"suffix": ".png"}}]}}),
            "X",
            d.clone(),
            true,
        ),
        pair(
            "anything-but on an absent field",
            json!({"detail": {"absent": [{"anything-but": "x"}]}}),
            "X",
            d.clone(),
            false,
        ),
        pair(
            "anything-but on an array, one element differs",
            json!({"detail": {"tags": [{"anything-but": "blue"}]}}),
            "X",
            d.clone(),
            true,
        ),
        // exists.
        pair(
            "exists true",
            json!({"detail": {"tenantId": [{"exists": true}]}}),
            "X",
            d.clone(),
            true,
        ),
        pair(
            "exists true, absent",
            json!({"detail": {"absent": [{"exists": true}]}}),
            "X",
            d.clone(),
            false,
        ),
        pair(
            "exists false, absent",
            json!({"detail": {"absent": [{"exists": false}]}}),
            "X",
            d.clone(),
            true,
        ),
        pair(
            "exists false, present",
            json!({"detail": {"tenantId": [{"exists": false}]}}),
            "X",
            d.clone(),
            false,
        ),
        pair(
            "exists true on an object is no leaf",
            json!({"detail": {"user": [{"exists": true}]}}),
            "X",
            d.clone(),
            false,
        ),
        pair(
            "exists true on null",
            json!({"detail": {"none": [{"exists": true}]}}),
            "X",
            d.clone(),
            true,
        ),
    ]
}

/// numeric, $or, and several filters in one array.
fn numeric_and_or_pairs(d: &Value) -> Vec<Pair> {
    vec![
        pair(
            "numeric range",
            json!({"detail": {"n": [{"numeric": [">", 0, "<=", 5]}]}}),
            "X",
            d.clone(),
            true,
        ),
        pair(
            "numeric range, excluded bound",
            json!({"detail": {"n": [{"numeric": [">", 0, "<", 5]}]}}),
            "X",
            d.clone(),
            false,
        ),
        pair(
            "numeric equals",
            json!({"detail": {"f": [{"numeric": ["=", 2.5]}]}}),
            "X",
            d.clone(),
            true,
        ),
        pair(
            "numeric >= on a float",
            json!({"detail": {"f": [{"numeric": [">=", 3]}]}}),
            "X",
            d.clone(),
            false,
        ),
        pair(
            "numeric on a string",
            json!({"detail": {"tenantId": [{"numeric": [">", 0]}]}}),
            "X",
            d.clone(),
            false,
        ),
        pair(
            "numeric on an array",
            json!({"detail": {"nums": [{"numeric": [">", 5]}]}}),
            "X",
            d.clone(),
            true,
        ),
        pair(
            "numeric on an absent field",
            json!({"detail": {"absent": [{"numeric": [">", 0]}]}}),
            "X",
            d.clone(),
            false,
        ),
        // $or.
        pair(
            "$or, second branch",
            json!({"$or": [{"detail": {"n": [1]}}, {"detail": {"tenantId": ["acme"]}}]}),
            "X",
            d.clone(),
            true,
        ),
        pair(
            "$or, no branch",
            json!({"$or": [{"detail": {"n": [1]}}, {"detail": {"tenantId": ["globex"]}}]}),
            "X",
            d.clone(),
            false,
        ),
        pair(
            "$or inside detail",
            json!({"detail": {"$or": [{"n": [{"numeric": [">", 10]}]}, {"ok": [true]}]}}),
            "X",
            d.clone(),
            true,
        ),
        pair(
            "$or with a sibling field",
            json!({"source": ["steward.partner"], "$or": [{"detail-type": ["A"]}, {"detail-type": ["X"]}]}),
            "X",
            d.clone(),
            true,
        ),
        // Several filters in one array: any-of.
        pair(
            "mixed filters any-of",
            json!({"detail": {"tenantId": [{"prefix": "zz"}, "acme"]}}),
            "X",
            d.clone(),
            true,
        ),
        pair(
            "exists false or value",
            json!({"detail": {"absent": [{"exists": false}, "x"]}}),
            "X",
            d.clone(),
            true,
        ),
    ]
}

/// Where moto departs from EventBridge's documented behaviour (checked: moto's answer differs).
fn moto_differs_pairs(d: &Value) -> Vec<Pair> {
    vec![
        differs(
            pair(
                "array of objects",
                json!({"detail": {"items": {"id": ["b"]}}}),
                "X",
                d.clone(),
                true,
            ),
            "moto flattens objects but not arrays, so it never looks inside an array of objects",
        ),
        differs(
            pair(
                "true is not 1",
                json!({"detail": {"n1": [true]}}),
                "X",
                json!({"n1": 1}),
                false,
            ),
            "moto compares with Python's ==, where True == 1",
        ),
        differs(
            pair(
                "numeric does not match a boolean",
                json!({"detail": {"ok": [{"numeric": [">", 0]}]}}),
                "X",
                d.clone(),
                false,
            ),
            "moto's numeric check accepts Python's bool, a subclass of int",
        ),
    ]
}

fn envelope(p: &Pair) -> Value {
    json!({"version": "0", "id": "00000000-0000-0000-0000-000000000000", "detail-type": p.detail_type,
           "source": p.source, "account": ACCOUNT, "time": "2026-11-28T08:00:00Z", "region": REGION,
           "resources": p.resources, "detail": p.detail})
}

async fn clients() -> (aws_sdk_eventbridge::Client, aws_sdk_sqs::Client) {
    let config = steward_shared::aws::sdk_defaults()
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(steward_tests::moto_endpoint())
        .load()
        .await;
    (
        aws_sdk_eventbridge::Client::new(&config),
        aws_sdk_sqs::Client::new(&config),
    )
}

/// Whether moto routes the pair's event through a rule with the pair's pattern.
async fn moto_matches(
    events: &aws_sdk_eventbridge::Client,
    sqs: &aws_sdk_sqs::Client,
    p: &Pair,
    index: usize,
) -> bool {
    let name = format!("patterns-{}-{index}", std::process::id());
    events.create_event_bus().name(&name).send().await.unwrap();
    let queue_url = sqs
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue_arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{name}");
    events
        .put_rule()
        .name(&name)
        .event_bus_name(&name)
        .event_pattern(p.pattern.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}: moto refused the pattern: {e:?}", p.name));
    let target = Target::builder().id("q").arn(&queue_arn).build().unwrap();
    events
        .put_targets()
        .rule(&name)
        .event_bus_name(&name)
        .targets(target)
        .send()
        .await
        .unwrap();
    let entry = PutEventsRequestEntry::builder()
        .source(p.source)
        .detail_type(p.detail_type)
        .detail(p.detail.to_string())
        .set_resources(Some(p.resources.iter().map(|r| (*r).to_owned()).collect()))
        .event_bus_name(&name)
        .build();
    let put = events.put_events().entries(entry).send().await.unwrap();
    assert_eq!(put.failed_entry_count, 0, "{}", p.name);
    let received = sqs
        .receive_message()
        .queue_url(&queue_url)
        .send()
        .await
        .unwrap();
    !received.messages.unwrap_or_default().is_empty()
}

#[tokio::test]
async fn the_matcher_agrees_with_moto_and_eventbridge_documentation() {
    let corpus = corpus();
    assert!(corpus.len() >= 60, "the corpus has {} pairs", corpus.len());
    let (events, sqs) = clients().await;
    let (mut agreed, mut skipped) = (0, Vec::new());
    for (index, p) in corpus.iter().enumerate() {
        let pattern = EventPattern::parse(&p.pattern).unwrap_or_else(|e| panic!("{}: {e}", p.name));
        let local = pattern.matches(&envelope(p));
        assert_eq!(
            local, p.expected,
            "{}: the local matcher departs from EventBridge",
            p.name
        );
        match &p.moto {
            Moto::Agrees => {
                let moto = moto_matches(&events, &sqs, p, index).await;
                assert_eq!(
                    local, moto,
                    "{}: moto answers {moto}, the local matcher {local}",
                    p.name
                );
                agreed += 1;
            }
            Moto::Differs(reason) => {
                // The departure is checked too, so the list stays true as moto changes.
                let moto = moto_matches(&events, &sqs, p, index).await;
                assert_ne!(
                    local, moto,
                    "{}: moto now agrees; move the pair to the compared ones",
                    p.name
                );
                skipped.push(format!("{} ({reason})", p.name));
            }
        }
    }
    println!(
        "{agreed} of {} pairs agreed with moto; moto departs from EventBridge on: {}",
        corpus.len(),
        skipped.join("; ")
    );
    assert_eq!(agreed + skipped.len(), corpus.len());
}

#[test]
fn malformed_patterns_are_refused() {
    for pattern in [
        json!({"source": "x"}),
        json!({"source": []}),
        json!({"a": [{"numeric": [">"]}]}),
        json!({"a": [{"nope": 1}]}),
    ] {
        assert!(EventPattern::parse(&pattern).is_err(), "{pattern}");
    }
}
