//! `steward-local emulator` serves the WorkSpaces Core emulator as the
//! `workspaces-core-emulator` binary does (the same flags; the README starts it this way):
//! it prints `listening on http://…` once ready and answers the control API there.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

#[test]
fn the_emulator_subcommand_prints_its_endpoint_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_steward-local"))
        .args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--seed",
            "none",
            "--no-rate-limit",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn steward-local");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read line");
    let endpoint = line.trim().strip_prefix("listening on ").map(String::from);
    let health = endpoint.as_ref().and_then(|e| {
        let mut s = std::net::TcpStream::connect(e.strip_prefix("http://")?).ok()?;
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
