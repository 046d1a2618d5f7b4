//! The emulator answers the AWS CLI, and the `workspaces-core-emulator` binary
//! announces its endpoint.
//!
//! The AWS CLI test needs `aws` on PATH (`pip install awscli`); it fails when
//! the CLI is missing unless `STEWARD_SKIP_AWS_CLI=1` is set.

mod emulator_support;

use emulator_support::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use workspaces_core_emulator::seed::{EXTERNAL_ID, ROLE_ARN, ids};

fn aws_available() -> bool {
    Command::new("aws")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn aws(url: &str, creds: (&str, &str, Option<&str>), args: &[&str]) -> serde_json::Value {
    let mut cmd = Command::new("aws");
    cmd.arg("--endpoint-url")
        .arg(url)
        .args(args)
        .args(["--output", "json"]);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "HOME",
            std::env::var("HOME").unwrap_or_else(|_| "/tmp".into()),
        )
        .env("AWS_ACCESS_KEY_ID", creds.0)
        .env("AWS_SECRET_ACCESS_KEY", creds.1)
        .env("AWS_DEFAULT_REGION", REGION)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_PAGER", "");
    if let Some(t) = creds.2 {
        cmd.env("AWS_SESSION_TOKEN", t);
    }
    let out = cmd.output().expect("run aws");
    assert!(
        out.status.success(),
        "aws {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("aws prints JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_cli_drives_sts_ec2_and_workspaces() {
    if !aws_available() {
        if std::env::var("STEWARD_SKIP_AWS_CLI").as_deref() == Ok("1") {
            eprintln!("aws CLI not found; skipped because STEWARD_SKIP_AWS_CLI=1");
            return;
        }
        panic!(
            "the AWS CLI (`aws`) is not on PATH: install it (`pip install awscli`) or set STEWARD_SKIP_AWS_CLI=1 to skip this test"
        );
    }
    let emu = start().await;
    let url = emu.endpoint_url();
    let ws = customer_ws(&url).await;
    let t = onboard(&emu, &ws).await;
    let created = create_available(&emu, &ws, &t, &["cli-user"]).await;

    let u = url.clone();
    let role = tokio::task::spawn_blocking(move || {
        aws(
            &u,
            ("AKIDPARTNEREXAMPLE", "secret", None),
            &[
                "sts",
                "assume-role",
                "--role-arn",
                ROLE_ARN,
                "--role-session-name",
                "cli",
                "--external-id",
                EXTERNAL_ID,
            ],
        )
    })
    .await
    .unwrap();
    let c = &role["Credentials"];
    let (ak, sk, tok) = (
        c["AccessKeyId"].as_str().unwrap().to_string(),
        c["SecretAccessKey"].as_str().unwrap().to_string(),
        c["SessionToken"].as_str().unwrap().to_string(),
    );
    assert_eq!(
        role["AssumedRoleUser"]["Arn"],
        "arn:aws:sts::123456789012:assumed-role/StewardPartnerAccess/cli"
    );

    let u = url.clone();
    let (who, images, desktops, dirs) = tokio::task::spawn_blocking(move || {
        let creds = (ak.as_str(), sk.as_str(), Some(tok.as_str()));
        (
            aws(&u, creds, &["sts", "get-caller-identity"]),
            aws(
                &u,
                creds,
                &[
                    "ec2",
                    "describe-images",
                    "--owners",
                    "self",
                    "--filters",
                    "Name=virtualization-type,Values=hvm",
                    "Name=block-device-mapping.encrypted,Values=false",
                ],
            ),
            aws(&u, creds, &["workspaces", "describe-workspaces"]),
            aws(&u, creds, &["workspaces", "describe-workspace-directories"]),
        )
    })
    .await
    .unwrap();
    assert_eq!(who["Account"], CUSTOMER);
    let amis: Vec<&str> = images["Images"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["ImageId"].as_str())
        .collect();
    assert!(
        amis.contains(&ids::AMI_WIN11_ELIGIBLE) && !amis.contains(&ids::AMI_ENCRYPTED),
        "{amis:?}"
    );
    assert_eq!(images["Images"][0]["Platform"], "windows");
    let w = &desktops["Workspaces"][0];
    assert_eq!(w["WorkspaceId"], created[0].as_str());
    assert_eq!(w["State"], "AVAILABLE");
    assert_eq!(w["WorkspaceProperties"]["RunningMode"], "MANUAL");
    assert_eq!(dirs["Directories"][0]["DirectoryId"], ids::DIRECTORY_CORP);
    emu.shutdown().await;
}

#[test]
fn binary_prints_its_endpoint_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_workspaces-core-emulator"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--seed",
            "none",
            "--no-rate-limit",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn workspaces-core-emulator");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read line");
    let endpoint = line.trim().strip_prefix("listening on ").map(String::from);
    let health = endpoint.as_ref().and_then(|e| {
        let addr = e.strip_prefix("http://")?;
        let mut s = std::net::TcpStream::connect(addr).ok()?;
        use std::io::{Read, Write};
        s.write_all(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .ok()?;
        let mut buf = String::new();
        s.read_to_string(&mut buf).ok()?;
        Some(buf)
    });
    let _ = child.kill();
    let _ = child.wait();
    let endpoint = endpoint.expect("first line is `listening on http://…`");
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    let health = health.expect("health answered");
    assert!(
        health.starts_with("HTTP/1.1 200") && health.contains("\"ok\":true"),
        "{health}"
    );
}

/// Starts the binary with `args`, answers GET `paths` from its control API, then stops it.
fn binary_answers(args: &[&str], paths: &[&str]) -> Vec<String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_workspaces-core-emulator"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn workspaces-core-emulator");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read line");
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_default()
        .to_string();
    let answers = paths
        .iter()
        .map(|p| {
            use std::io::{Read, Write};
            let mut s = std::net::TcpStream::connect(&addr).expect("connect");
            s.write_all(
                format!("GET {p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
            )
            .expect("write");
            let mut buf = String::new();
            s.read_to_string(&mut buf).expect("read");
            buf.split("\r\n\r\n").nth(1).unwrap_or_default().to_string()
        })
        .collect();
    let _ = child.kill();
    let _ = child.wait();
    answers
}

#[test]
fn binary_seeds_accounts_and_sets_the_page_size_from_flags() {
    let answers = binary_answers(
        &[
            "--seed",
            "none",
            "--default-page-size",
            "2",
            "--seed-json",
            r#"{"accounts": [{"account_id": "210000000050", "quota_read_denied": true, "has_default_role": false}]}"#,
        ],
        &["/_emulator/accounts/210000000050", "/_emulator/options"],
    );
    let account: serde_json::Value = serde_json::from_str(&answers[0]).expect("account JSON");
    assert_eq!(
        account,
        serde_json::json!({"has_default_role": false, "byop_enabled": true, "byol_eligible": true,
            "workspace_quota": 1000, "service_quota_value": 10000.0, "quota_read_denied": true,
            "allow_tag_management": false})
    );
    let options: serde_json::Value = serde_json::from_str(&answers[1]).expect("options JSON");
    assert_eq!(options["default_page_size"], 2);
    // A seed the control API would refuse stops the binary before it serves.
    let out = Command::new(env!("CARGO_BIN_EXE_workspaces-core-emulator"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--seed-json",
            r#"{"accounts": [{"account_id": "12"}]}"#,
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "error: --seed-json: account_id must be 12 digits"
    );
}
