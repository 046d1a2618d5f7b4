//! The demo's telling of an onboarding: each event the execution puts on the partner bus
//! as a timeline line — the steps, the customer pauses with what they offered (the
//! directory offer's options with their type, registration and usability) and the partner
//! UI's answers, in order.

use parking_lot::Mutex;
use serde_json::Value;
use stepfunctions_runner::Execution;
use workspaces_core_emulator::eventbridge::CapturedEvent;

use crate::demo::tell;
use crate::narrator::{Event, Narrator};
use crate::sandbox::Sandbox;

/// Tells the onboarding events the emulator's bus receives, as they arrive, until `exec`
/// ends; returns them as timeline lines. A pause is told once the partner UI has answered
/// it (its line says how), or at the end if it never was.
pub(crate) async fn tell_onboarding_events(
    sb: &Sandbox,
    exec: &Execution,
    answers: &Mutex<Vec<String>>,
    narrator: &Narrator,
) -> Vec<Event> {
    let mut timeline = Vec::new();
    let mut seen = 0;
    // The pauses told so far: the n-th pause is told with the n-th answer.
    let mut pauses = 0;
    loop {
        // Whether it has ended before reading the bus: its every event is then on it.
        let ended = exec.try_result().is_some();
        let events = sb.control().events();
        while let Some(e) = events.get(seen) {
            let pause = e.detail_type == "Onboarding Awaiting Customer Input";
            let answer = if pause {
                answers.lock().get(pauses).cloned()
            } else {
                None
            };
            if pause && answer.is_none() && !ended {
                break;
            }
            seen += 1;
            pauses += usize::from(pause);
            if let Some(event) = onboarding_event(e, answer.as_deref()) {
                tell(&mut timeline, narrator, event);
            }
        }
        if ended {
            return timeline;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// An onboarding event of the partner bus as a timeline line (`None` for other events).
fn onboarding_event(e: &CapturedEvent, answer: Option<&str>) -> Option<Event> {
    if !e.detail_type.starts_with("Onboarding") {
        return None;
    }
    let d = &e.detail;
    let what = match e.detail_type.as_str() {
        "Onboarding Step Completed" => format!(
            "step {:>2} {:<30} {}{}",
            d["stepNumber"],
            d["step"].as_str().unwrap_or_default(),
            d["status"].as_str().unwrap_or_default().to_lowercase(),
            step_detail(&d["output"])
        ),
        "Onboarding Awaiting Customer Input" => {
            let input = d["input"].as_str().unwrap_or_default();
            // AMIs say `eligible`, directories `usable`.
            let flag = if input == "directory" {
                "usable"
            } else {
                "eligible"
            };
            let options = d["options"].as_array().map_or(0, Vec::len);
            let usable = d["options"]
                .as_array()
                .map_or(0, |o| o.iter().filter(|o| o[flag] == true).count());
            let mut line = format!(
                "paused for the customer: {input} ({options} options, {usable} {flag}); event with task token on {}",
                e.bus
            );
            if input == "directory" {
                for o in d["options"].as_array().into_iter().flatten() {
                    line.push_str(&format!(
                        "\n{:>26}{} {} {} {}{}",
                        "",
                        o["directoryId"].as_str().unwrap_or_default(),
                        o["directoryType"].as_str().unwrap_or_default(),
                        o["registration"].as_str().unwrap_or_default(),
                        if o["usable"] == true {
                            "usable"
                        } else {
                            "unusable: "
                        },
                        o["reasons"]
                            .as_array()
                            .map(|r| r
                                .iter()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join("; "))
                            .unwrap_or_default()
                    ));
                }
            }
            if let Some(a) = answer {
                line.push_str(&format!("\n{:>26}{a}", ""));
            }
            line
        }
        "Onboarding Succeeded" => format!(
            "onboarding succeeded: tenant ACTIVE, {} desktops, bundle {}, directory {}",
            d["workspaces"],
            d["bundleId"].as_str().unwrap_or_default(),
            d["directoryId"].as_str().unwrap_or_default()
        ),
        other => format!("{other}: {d}"),
    };
    Some(Event { at: e.time, what })
}

fn step_detail(output: &Value) -> String {
    let mut parts = Vec::new();
    for key in [
        "route",
        "managementCidr",
        "optionCount",
        "selected",
        "imageId",
        "directoryId",
        "tenancy",
        "bundleId",
        "modified",
        "encrypted",
        "reason",
    ] {
        if let Some(v) = output.get(key).filter(|v| !v.is_null()) {
            parts.push(format!(
                "{key}={}",
                v.as_str().map_or_else(|| v.to_string(), str::to_owned)
            ));
        }
    }
    if let Some(checks) = output.get("preflight").and_then(Value::as_array) {
        parts.push(format!(
            "pre-flight {}",
            checks
                .iter()
                .map(|c| format!(
                    "{}={}",
                    c["check"].as_str().unwrap_or_default(),
                    c["status"].as_str().unwrap_or_default()
                ))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    if let Some(states) = output.get("states").and_then(Value::as_object) {
        parts.push(format!(
            "desktops {}",
            states
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        ));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("  ({})", parts.join(", "))
    }
}
