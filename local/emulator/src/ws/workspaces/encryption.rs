//! Encryption at rest of a new WorkSpace's volumes: the request's `VolumeEncryptionKey` must
//! name a KMS key the way KMS accepts it (a key id, `alias/<name>`, a key ARN or an alias
//! ARN), and the two flags are kept. Encryption enabled without a key uses the AWS managed
//! key (the `default_volume_encryption_key` option, `alias/aws/workspaces` [U]), which
//! DescribeWorkspaces then shows as the key.

use regex::Regex;
use std::sync::LazyLock;

/// Why a request's encryption settings are refused (the `FailedRequests` message).
pub const BAD_KEY: &str = "VolumeEncryptionKey must be a KMS key id, a key ARN, an alias name (alias/<name>) or an alias ARN.";

static KEY: LazyLock<Option<Regex>> = LazyLock::new(|| {
    let id = r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|mrk-[0-9a-fA-F]{32})";
    let alias = r"alias/[a-zA-Z0-9/_-]{1,250}";
    let arn = r"arn:aws[a-z-]{0,10}:kms:[a-z0-9-]{1,31}:[0-9]{12}:";
    Regex::new(&format!("^({id}|{alias}|{arn}key/{id}|{arn}{alias})$")).ok()
});

/// Whether `s` names a KMS key as KMS accepts it.
pub fn key_ok(s: &str) -> bool {
    KEY.as_ref().is_some_and(|r| r.is_match(s))
}

/// What a new WorkSpace keeps: the key (the request's, or `default_key` when a volume is
/// encrypted without one) and both flags, never absent.
pub fn settings(
    key: Option<&str>,
    root: Option<bool>,
    user: Option<bool>,
    default_key: &str,
) -> (Option<String>, bool, bool) {
    let (root, user) = (root.unwrap_or(false), user.unwrap_or(false));
    let key = match key {
        Some(k) => Some(k.to_string()),
        None if root || user => Some(default_key.to_string()),
        None => None,
    };
    (key, root, user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kms_key_forms() {
        for ok in [
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "mrk-1234abcd12ab34cd56ef1234567890ab",
            "alias/steward-desktops",
            "alias/aws/workspaces",
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:eu-west-1:123456789012:alias/steward-desktops",
            "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab",
        ] {
            assert!(key_ok(ok), "{ok}");
        }
        for bad in [
            "",
            "steward-desktops",
            "alias/",
            "alias/has space",
            "1234abcd-12ab-34cd-56ef",
            "arn:aws:kms:us-east-1:1234:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:s3:::bucket",
            "arn:aws:kms:us-east-1:123456789012:key/not-a-key",
        ] {
            assert!(!key_ok(bad), "{bad}");
        }
    }

    #[test]
    fn settings_default_the_key_only_when_encrypting() {
        let d = "alias/aws/workspaces";
        assert_eq!(
            settings(None, Some(true), None, d),
            (Some(d.to_string()), true, false)
        );
        assert_eq!(settings(None, None, None, d), (None, false, false));
        assert_eq!(
            settings(Some("alias/k"), Some(true), Some(true), d),
            (Some("alias/k".to_string()), true, true)
        );
    }
}
