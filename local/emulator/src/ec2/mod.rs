//! EC2 (ec2Query): DescribeImages ([`images`]) and DescribeSubnets ([`subnets`]); this
//! module holds what they share: the query's lists and filters, paging, and the wire shapes.

mod images;
mod subnets;

pub use images::describe_images;
pub use subnets::describe_subnets;

use super::error::{ApiError, ApiResult};
use super::protocol::{PageTokens, xml_escape};
use std::collections::{BTreeMap, HashMap};

pub const NS: &str = "http://ec2.amazonaws.com/doc/2016-11-15/";

pub(crate) fn invalid(code: &str, msg: impl Into<String>) -> ApiError {
    ApiError::new(code, msg)
}

/// `Prefix.N` values in N order.
pub(crate) fn list(p: &HashMap<String, String>, prefix: &str) -> Vec<String> {
    let mut v: BTreeMap<u32, String> = BTreeMap::new();
    for (k, val) in p {
        if let Some(n) = k
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('.'))
            .and_then(|n| n.parse().ok())
        {
            v.insert(n, val.clone());
        }
    }
    v.into_values().collect()
}

/// `Filter.N.Name` / `Filter.N.Value.M`, in N order.
pub(crate) fn filters(p: &HashMap<String, String>) -> Vec<(String, Vec<String>)> {
    let mut names: BTreeMap<u32, String> = BTreeMap::new();
    for (k, val) in p {
        if let Some(rest) = k.strip_prefix("Filter.")
            && let Some((n, "Name")) = rest.split_once('.')
            && let Ok(n) = n.parse()
        {
            names.insert(n, val.clone());
        }
    }
    names
        .into_iter()
        .map(|(n, name)| (name, list(p, &format!("Filter.{n}.Value"))))
        .collect()
}

/// The request's filters, each a name `known` accepts (or `tag:<key>`) with at least one value.
pub(crate) fn checked_filters(
    p: &HashMap<String, String>,
    known: &[&str],
) -> ApiResult<Vec<(String, Vec<String>)>> {
    let fs = filters(p);
    for (name, values) in &fs {
        if !known.contains(&name.as_str()) && !name.starts_with("tag:") {
            return Err(invalid(
                "InvalidParameterValue",
                format!("The filter '{name}' is invalid"),
            ));
        }
        if values.is_empty() {
            return Err(invalid(
                "InvalidParameterValue",
                format!("The filter '{name}' needs at least one value"),
            ));
        }
    }
    Ok(fs)
}

/// `MaxResults`, which must be within 5..=1000 when given.
pub(crate) fn max_results(p: &HashMap<String, String>) -> ApiResult<Option<usize>> {
    let Some(m) = p.get("MaxResults") else {
        return Ok(None);
    };
    let n: usize = m.parse().map_err(|_| {
        invalid(
            "InvalidParameterValue",
            "Invalid value for MaxResults: it must be a number.",
        )
    })?;
    if !(5..=1000).contains(&n) {
        return Err(invalid(
            "InvalidParameterValue",
            "Value for parameter maxResults is invalid. Expecting a value between 5 and 1000.",
        ));
    }
    Ok(Some(n))
}

/// The position a `NextToken` issued for `scope` names.
pub(crate) fn position(
    p: &HashMap<String, String>,
    tokens: &PageTokens,
    scope: &str,
) -> ApiResult<Option<String>> {
    match p.get("NextToken") {
        None => Ok(None),
        Some(t) => tokens
            .open(scope, t)
            .map(Some)
            .ok_or_else(|| invalid("InvalidParameterValue", "The token is invalid or expired.")),
    }
}

/// `DryRun=true` answers DryRunOperation once the request is valid.
pub(crate) fn dry_run(p: &HashMap<String, String>) -> ApiResult<()> {
    if p.get("DryRun").is_some_and(|d| d == "true") {
        return Err(invalid(
            "DryRunOperation",
            "Request would have succeeded, but DryRun flag is set.",
        ));
    }
    Ok(())
}

/// Whether every filter matches one of an item's values (`field` gives them by name).
pub(crate) fn matches_all(
    fs: &[(String, Vec<String>)],
    field: impl Fn(&str) -> Vec<String>,
) -> bool {
    fs.iter().all(|(name, values)| {
        field(name)
            .iter()
            .any(|f| values.iter().any(|v| wildcard(v, f)))
    })
}

/// `*` and `?` wildcards, as EC2 filters accept.
pub fn wildcard(pattern: &str, s: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = s.chars().collect();
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < t.len() {
        if i < p.len() && (p[i] == '?' || p[i] == t[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    while i < p.len() && p[i] == '*' {
        i += 1;
    }
    i == p.len()
}

pub fn wrap_success(action: &str, body: &str, request_id: &str) -> String {
    format!(
        "<{action}Response xmlns=\"{NS}\"><requestId>{request_id}</requestId>{body}</{action}Response>"
    )
}

pub fn error_xml(e: &ApiError, request_id: &str) -> String {
    format!(
        "<Response><Errors><Error><Code>{}</Code><Message>{}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>",
        xml_escape(&e.code),
        xml_escape(&e.message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard("win*", "windows"));
        assert!(wildcard("h?m", "hvm"));
        assert!(!wildcard("h?m", "hvvm"));
        assert!(wildcard("*", ""));
        assert!(!wildcard("para*", "hvm"));
    }

    #[test]
    fn lists_and_filters_keep_their_order() {
        let p: HashMap<String, String> = [
            ("Owner.2", "b"),
            ("Owner.1", "a"),
            ("Filter.1.Name", "state"),
            ("Filter.1.Value.1", "available"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(list(&p, "Owner"), vec!["a", "b"]);
        assert_eq!(
            filters(&p),
            vec![("state".to_string(), vec!["available".to_string()])]
        );
    }
}
