//! The README's "Local sandbox" section, run as a reader would run it: its AWS CLI flow,
//! taken from the README itself, against `steward-local serve`, so that the copy-pasteable
//! commands stay true. Needs `aws` (scripts/test puts the pinned awscli of `.venv/` on PATH),
//! `jq`, `curl` and `bash`; it fails when one is missing unless `STEWARD_SKIP_AWS_CLI=1` is
//! set (as the emulator's AWS CLI test does).

use std::process::{Command, Stdio};

use steward_local::serve::{self, ServeOptions};

/// The README's shell blocks under "## Local sandbox", in order.
fn readme_blocks() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let section = readme
        .split_once("\n## Local sandbox\n")
        .map(|(_, rest)| rest.split_once("\n## ").map_or(rest, |(s, _)| s))
        .expect("a Local sandbox section");
    section
        .split("```sh\n")
        .skip(1)
        .filter_map(|b| b.split_once("\n```").map(|(code, _)| code.to_owned()))
        .collect()
}

fn missing_tools() -> Vec<&'static str> {
    ["aws", "jq", "curl", "bash"]
        .into_iter()
        .filter(|tool| {
            Command::new(tool)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map_or(true, |s| !s.success())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_readme_aws_cli_flow_runs_against_serve() {
    let blocks = readme_blocks();
    assert_eq!(
        blocks.len(),
        2,
        "the serve command, then the partner's flow"
    );
    let endpoint = "http://127.0.0.1:4566";
    assert!(
        blocks[0]
            .starts_with("cargo run --release -p steward-local -- serve --listen 127.0.0.1:4566"),
        "{}",
        blocks[0]
    );
    assert!(blocks[1].contains(&format!("AWS_ENDPOINT_URL={endpoint}")));
    let missing = missing_tools();
    if !missing.is_empty() {
        if std::env::var("STEWARD_SKIP_AWS_CLI").is_ok_and(|v| v == "1") {
            eprintln!("skipped because STEWARD_SKIP_AWS_CLI=1; missing: {missing:?}");
            return;
        }
        panic!(
            "the README's AWS CLI flow needs {missing:?} on PATH (scripts/test puts `aws` there; \
             install jq and curl), or set STEWARD_SKIP_AWS_CLI=1 to skip this test"
        );
    }
    let handle = serve::start(ServeOptions::default())
        .await
        .expect("serve starts");
    // The same commands, on the port this test got.
    let script = blocks[1].replace(endpoint, &handle.endpoint_url());
    let dir = std::env::temp_dir().join(format!("steward-readme-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let run = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || {
            Command::new("bash")
                .args(["-c", &script])
                .current_dir(&dir)
                .output()
                .expect("bash runs")
        })
    };
    let out = run.await.expect("the flow ran");
    handle.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.trim().is_empty(), "no command complained: {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    let step = |detail_type: &str| {
        lines
            .iter()
            .filter(|l| l.contains(&format!("  {detail_type}  ")))
            .count()
    };
    assert_eq!(step("Onboarding Awaiting Customer Input"), 4, "{stdout}");
    assert_eq!(step("Onboarding Succeeded"), 1, "{stdout}");
    assert!(lines.contains(&"SUCCEEDED"), "{stdout}");
    for t in [
        "Desktop Stopping",
        "Desktop Stopped",
        "Desktop Starting",
        "Desktop Available",
    ] {
        assert!(step(t) >= 1, "{t}: {stdout}");
    }
    // It ends as the README shows: the idle stop of one desktop, the guard's warning about
    // the other.
    let tail: Vec<&str> = lines
        .iter()
        .rev()
        .take(3)
        .rev()
        .map(|l| l.split("  ").nth(1).unwrap_or_default())
        .collect();
    assert_eq!(
        tail,
        [
            "Desktop Stopping",
            "Desktop Stopped",
            "Desktop Guard Warning"
        ],
        "{stdout}"
    );
}
