//! boto3, as a Python partner backend uses it, against `steward-local serve`
//! (`tests/support/boto3_partner.py`): the protocols as botocore speaks them today, SQS's
//! MD5 digests included. Needs `python3` with boto3 on PATH (scripts/test puts `.venv/`
//! first; boto3 comes with moto); fails without it unless `STEWARD_SKIP_AWS_CLI=1`.

use std::process::Command;

use serde_json::{Value, json};
use steward_local::serve::{self, ServeOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn boto3_speaks_to_serve_unchanged() {
    let has_boto3 = Command::new("python3")
        .args(["-c", "import boto3"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_boto3 {
        if std::env::var("STEWARD_SKIP_AWS_CLI").is_ok_and(|v| v == "1") {
            eprintln!("skipped because STEWARD_SKIP_AWS_CLI=1: no python3 with boto3");
            return;
        }
        panic!(
            "needs python3 with boto3 on PATH (scripts/test puts .venv/ there), or STEWARD_SKIP_AWS_CLI=1"
        );
    }
    let handle = serve::start(ServeOptions::default())
        .await
        .expect("serve starts");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/support/boto3_partner.py");
    let endpoint = handle.endpoint_url();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .args([script, &endpoint])
            .output()
            .expect("python3 runs")
    })
    .await
    .expect("the script ran");
    handle.shutdown().await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    assert_eq!(
        seen,
        json!({
            "machines": ["GoldenImageStateMachine", "OffboardingStateMachine",
                         "OnboardingStateMachine", "steward-power-sweep"],
            "functions": 30,
            "query_error": "Unhandled",
            "payload": {"errorType": "Steward.NotFound",
                        "errorMessage": "tenant nobody is not registered"}
        })
    );
}
