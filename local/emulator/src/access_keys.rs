//! Long-term IAM user access keys of customer accounts: the guide's second way to connect,
//! "secret and access keys for self-managed solutions". A request signed with such a key id
//! acts as that IAM user of that customer account (STS GetCallerIdentity answers
//! `arn:aws:iam::<account>:user/<name>`), and is held to the same tag policy as a customer
//! role of the account — the one the key's `policy_role` names — because the self-managed
//! template attaches the same policy to the user. Signatures are not verified, so the secret
//! is only handed back for the client to hold.

use crate::model::{Account, World};
use serde::{Deserialize, Serialize};

/// Key ids the emulator hands out start with this; an unknown one is refused rather than
/// taken for the partner (it was probably dropped by a reset).
pub const USER_KEY_PREFIX: &str = "AKIAEMULATOR";
/// The user a key is made for when none is named.
pub const DEFAULT_USER: &str = "steward-self-managed";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccessKey {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub account_id: String,
    pub user_name: String,
    /// `AIDA…`, the user's unique id.
    pub user_id: String,
    /// The customer role whose tag policy the user is held to.
    pub policy_role: String,
    pub arn: String,
}

/// An access key to seed with an account (every field but the id has a default).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AccessKeySeed {
    /// `AKIAEMULATOR` and upper-case letters or digits, 20 characters in all
    /// (e.g. `AKIAEMULATORCUST0001`).
    pub access_key_id: String,
    /// Default: `emulator-secret-` and the key id in lower case.
    pub secret_access_key: Option<String>,
    /// Default: `steward-self-managed`.
    pub user_name: Option<String>,
    /// Default: the account seed's role.
    pub policy_role: Option<String>,
}

impl AccessKeySeed {
    pub fn problem(&self) -> Option<&'static str> {
        let id = &self.access_key_id;
        let ok = id.len() == 20
            && id.starts_with(USER_KEY_PREFIX)
            && id
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        (!ok).then_some(
            "access_keys[].access_key_id must be AKIAEMULATOR and 8 upper-case letters or digits",
        )
    }
}

fn user_name_ok(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
}

/// Adds the key `seed` describes to `account` in `w` (replacing one of the same id).
pub fn add(w: &mut World, account: &str, seed: &AccessKeySeed, default_role: &str) -> AccessKey {
    let id = seed.access_key_id.clone();
    let user = seed
        .user_name
        .clone()
        .filter(|u| user_name_ok(u))
        .unwrap_or_else(|| DEFAULT_USER.into());
    let key = AccessKey {
        secret_access_key: seed
            .secret_access_key
            .clone()
            .unwrap_or_else(|| format!("emulator-secret-{}", id.to_lowercase())),
        account_id: account.into(),
        user_id: format!("AIDAEMU{}", id.get(USER_KEY_PREFIX.len()..).unwrap_or("")),
        policy_role: seed
            .policy_role
            .clone()
            .unwrap_or_else(|| default_role.into()),
        arn: format!("arn:aws:iam::{account}:user/{user}"),
        user_name: user,
        access_key_id: id.clone(),
    };
    w.access_keys.insert(id, key.clone());
    key
}

/// Makes the next key of the series `AKIAEMULATORCUST0001`, `…0002`, … for an account that
/// exists; the key follows the tag policy of the account's first role by name.
pub fn create(w: &mut World, account: &str, user_name: Option<&str>) -> Option<AccessKey> {
    let role = w.accounts.get(account).map(first_role)?;
    let id = (1..)
        .map(|n: u32| format!("AKIAEMULATORCUST{n:04}"))
        .find(|id| !w.access_keys.contains_key(id))?;
    let seed = AccessKeySeed {
        access_key_id: id,
        user_name: user_name.map(String::from),
        ..Default::default()
    };
    Some(add(w, account, &seed, &role))
}

fn first_role(a: &Account) -> String {
    a.roles.keys().next().cloned().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_numbered_per_emulator_and_need_an_account() {
        let mut w = World::default();
        crate::seed::seed_default(&mut w, 0);
        let k1 = create(&mut w, "123456789012", None).unwrap();
        assert_eq!(k1.access_key_id, "AKIAEMULATORCUST0001");
        assert_eq!(k1.secret_access_key, "emulator-secret-akiaemulatorcust0001");
        assert_eq!(
            k1.arn,
            "arn:aws:iam::123456789012:user/steward-self-managed"
        );
        assert_eq!(k1.user_id, "AIDAEMUCUST0001");
        assert_eq!(k1.policy_role, "StewardPartnerAccess");
        let k2 = create(&mut w, "123456789012", Some("ops")).unwrap();
        assert_eq!(k2.access_key_id, "AKIAEMULATORCUST0002");
        assert_eq!(k2.arn, "arn:aws:iam::123456789012:user/ops");
        assert_eq!(create(&mut w, "999999999999", None), None);
    }

    #[test]
    fn seeded_ids_are_checked() {
        let ok = AccessKeySeed {
            access_key_id: "AKIAEMULATORCUST0009".into(),
            ..Default::default()
        };
        assert_eq!(ok.problem(), None);
        for bad in [
            "AKIAEMULATOR",
            "AKIDPARTNEREXAMPLE01",
            "AKIAEMULATORcust0001",
        ] {
            let s = AccessKeySeed {
                access_key_id: bad.into(),
                ..Default::default()
            };
            assert!(s.problem().is_some(), "{bad}");
        }
    }
}
