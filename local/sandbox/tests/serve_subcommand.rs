//! `steward-local serve` as a process: it prints `listening on http://…` once ready, serves
//! DynamoDB (and the rest) on that one endpoint, and on Ctrl-C (SIGINT) finishes cleanly —
//! exit status 0, "stopped" — leaving `--state` consistent: a second start on the same file
//! reads what the first wrote.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use aws_sdk_dynamodb::types::AttributeValue;

struct Serving {
    child: Child,
    endpoint: String,
}

fn serve(state: &std::path::Path) -> Serving {
    let mut child = Command::new(env!("CARGO_BIN_EXE_steward-local"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-rate-limit",
            "--state",
        ])
        .arg(state)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn steward-local serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the first line");
    let endpoint = line
        .trim()
        .strip_prefix("listening on ")
        .map(String::from)
        .unwrap_or_else(|| {
            let _ = child.kill();
            panic!("the first line is `listening on http://…`, not {line:?}")
        });
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    Serving { child, endpoint }
}

/// Ctrl-C, as a terminal sends it; returns the exit status and what it said on stderr.
fn interrupt(s: Serving) -> (std::process::ExitStatus, String) {
    let pid = s.child.id().to_string();
    let sent = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill -INT");
    assert!(sent.success());
    let out = s.child.wait_with_output().expect("wait");
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn table(endpoint: &str) -> aws_sdk_dynamodb::Client {
    steward_local::dynamo::local_client(endpoint).await
}

#[tokio::test]
async fn serve_prints_its_endpoint_stops_on_ctrl_c_and_keeps_its_state() {
    let dir = std::env::temp_dir().join(format!("steward-serve-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let state = dir.join("state.sqlite");

    let first = serve(&state);
    let client = table(&first.endpoint).await;
    client
        .put_item()
        .table_name("steward")
        .item("pk", AttributeValue::S("PROBE#serve".into()))
        .item("sk", AttributeValue::S("KEPT".into()))
        .item("note", AttributeValue::S("written before Ctrl-C".into()))
        .send()
        .await
        .expect("PutItem through the one endpoint");
    let (status, stderr) = interrupt(first);
    assert!(status.success(), "exit status {status:?}; stderr: {stderr}");
    assert!(stderr.contains("stopped"), "{stderr}");
    // What the template gave, said once on stderr.
    assert!(
        stderr.contains("serving 30 functions, 2 rules on steward-partner, 4 state machines")
            && stderr.contains("steward-power-sweep every 5 min, steward-power-sweep every 15 min")
            && stderr.contains("queues: PowerPartnerEventsDLQ"),
        "{stderr}"
    );

    let second = serve(&state);
    let client = table(&second.endpoint).await;
    let got = client
        .get_item()
        .table_name("steward")
        .key("pk", AttributeValue::S("PROBE#serve".into()))
        .key("sk", AttributeValue::S("KEPT".into()))
        .send()
        .await
        .expect("GetItem");
    let (status, _) = interrupt(second);
    assert!(status.success());
    assert_eq!(
        got.item()
            .and_then(|i| i.get("note"))
            .and_then(|v| v.as_s().ok())
            .map(String::as_str),
        Some("written before Ctrl-C")
    );
    let _ = std::fs::remove_dir_all(&dir);
}
