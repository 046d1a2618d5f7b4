//! Reading a lifecycle command: the shared envelope checks ([`crate::events`]), then the
//! detail of its type, then the checks that detail has on its own (counts, names, the
//! confirmation word). Checks that need the tenant or the desktop are in [`super::checks`].

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::checks::{check_confirmation, check_properties};
use super::{
    CONFIRM_DEREGISTER, CONFIRM_TERMINATE, Command, CopyImageDetail, CreateImageDetail,
    CreationPropertiesDetail, DETAIL_TYPE_PREFIX, DesktopsDetail, DirectoryDetail, LifecycleEvent,
    ProvisionDetail, TagsDetail, TerminateDetail, detail_types,
};
use crate::events::{Received, Rejection, detail, not_ahead};
use crate::ids::TenantId;
use crate::model::Timestamp;
use crate::validate::{self, Problem, ValidationError};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Common {
    tenant_id: TenantId,
    occurred_at: Timestamp,
}

fn count(field: &'static str, n: usize, max: usize) -> Result<(), ValidationError> {
    if n == 0 {
        return Err(ValidationError::new(field, Problem::Missing));
    }
    validate::max_items(field, n, max)
}

/// Deserialises a detail, then makes the checks its type has on its own.
fn checked<T: DeserializeOwned>(
    value: &Value,
    check: impl FnOnce(&T) -> Result<(), Rejection>,
) -> Result<T, Rejection> {
    let c = detail(value)?;
    check(&c)?;
    Ok(c)
}

fn check_reboot(c: &DesktopsDetail) -> Result<(), Rejection> {
    Ok(count("detail.workspaceIds", c.workspace_ids.len(), 25)?)
}

fn check_terminate(c: &TerminateDetail) -> Result<(), Rejection> {
    count("detail.workspaceIds", c.workspace_ids.len(), 25)?;
    check_confirmation(
        detail_types::TERMINATE,
        c.confirm.as_deref(),
        CONFIRM_TERMINATE,
    )
}

fn check_provision(c: &ProvisionDetail) -> Result<(), Rejection> {
    count("detail.desktops", c.desktops.len(), 25)?;
    for n in &c.desktops {
        validate::user_name("detail.desktops.userName", &n.user_name)?;
        if let Some(w) = &n.workspace_name {
            validate::workspace_name("detail.desktops.workspaceName", w)?;
        }
    }
    if let Some(e) = &c.encryption {
        e.validate("detail.encryption")?;
    }
    Ok(())
}

fn check_create_image(c: &CreateImageDetail) -> Result<(), Rejection> {
    validate::image_or_bundle_name("detail.name", &c.name)?;
    validate::description("detail.description", &c.description, 256)?;
    Ok(())
}

fn check_copy_image(c: &CopyImageDetail) -> Result<(), Rejection> {
    validate::image_or_bundle_name("detail.name", &c.name)?;
    if let Some(desc) = &c.description {
        validate::description("detail.description", desc, 256)?;
    }
    Ok(())
}

fn check_deregister(c: &DirectoryDetail) -> Result<(), Rejection> {
    check_confirmation(
        detail_types::DEREGISTER_DIRECTORY,
        c.confirm.as_deref(),
        CONFIRM_DEREGISTER,
    )
}

fn check_creation_properties(c: &CreationPropertiesDetail) -> Result<(), Rejection> {
    if c.enable_maintenance_mode.is_none() && c.custom_security_group_id.is_none() {
        return Err(ValidationError::new("detail", Problem::Missing).into());
    }
    if let Some(sg) = &c.custom_security_group_id {
        validate::security_group_id("detail.customSecurityGroupId", sg)?;
    }
    Ok(())
}

fn check_tags(c: &TagsDetail) -> Result<(), Rejection> {
    if c.set.is_empty() && c.remove.is_empty() {
        return Err(ValidationError::new("detail.set", Problem::Missing).into());
    }
    validate::length("detail.resourceId", &c.resource_id, 3, 128)?;
    for (k, v) in &c.set {
        validate::tag("detail.set", k, v)?;
    }
    for k in &c.remove {
        validate::length("detail.remove", k, 1, 127)?;
    }
    validate::max_items("detail.set", c.set.len(), 49)?;
    Ok(())
}

/// The command an envelope's detail type and detail ask for, checked on its own.
fn command(env: &Received) -> Result<Command, Rejection> {
    use detail_types::*;
    let d = &env.detail;
    Ok(match env.detail_type.as_str() {
        REBOOT => Command::Reboot(checked(d, check_reboot)?),
        REBUILD => Command::Rebuild(detail(d)?),
        RESTORE => Command::Restore(detail(d)?),
        MIGRATE => Command::Migrate(detail(d)?),
        MODIFY_PROPERTIES => Command::ModifyProperties(checked(d, check_properties)?),
        MODIFY_STATE => Command::ModifyState(detail(d)?),
        TERMINATE => Command::Terminate(checked(d, check_terminate)?),
        PROVISION => Command::Provision(checked(d, check_provision)?),
        CREATE_IMAGE => Command::CreateImage(checked(d, check_create_image)?),
        COPY_IMAGE => Command::CopyImage(checked(d, check_copy_image)?),
        DELETE_IMAGE => Command::DeleteImage(detail(d)?),
        IMAGE_PERMISSION => Command::UpdateImagePermission(detail(d)?),
        UPDATE_BUNDLE => Command::UpdateBundle(detail(d)?),
        DELETE_BUNDLE => Command::DeleteBundle(detail(d)?),
        DEREGISTER_DIRECTORY => Command::DeregisterDirectory(checked(d, check_deregister)?),
        CREATION_PROPERTIES => {
            Command::UpdateCreationProperties(checked(d, check_creation_properties)?)
        }
        TAGS => Command::UpdateTags(checked(d, check_tags)?),
        _ => return Err(env.unknown_detail_type()),
    })
}

impl LifecycleEvent {
    /// Whether an EventBridge event's detail type is a lifecycle command's.
    pub fn is_lifecycle(event: &Value) -> bool {
        event
            .get("detail-type")
            .and_then(Value::as_str)
            .is_some_and(|d| d.starts_with(DETAIL_TYPE_PREFIX))
    }

    /// Parses and checks a lifecycle command from a partner backend.
    pub fn parse(event: &Value, partner_source: &str, now: Timestamp) -> Result<Self, Rejection> {
        let env = Received::parse(event, partner_source)?;
        let command = command(&env)?;
        let common: Common = detail(&env.detail)?;
        not_ahead(common.occurred_at, now)?;
        Ok(Self {
            event_id: env.event_id,
            tenant_id: common.tenant_id,
            occurred_at: common.occurred_at,
            command,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::VolumeEncryption;
    use serde_json::json;

    const SOURCE: &str = "steward.partner";

    fn now() -> Timestamp {
        chrono::DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z")
            .unwrap()
            .to_utc()
    }

    fn envelope(detail_type: &str, mut detail: Value) -> Value {
        detail["tenantId"] = json!("acme");
        detail["occurredAt"] = json!("2026-11-21T09:59:00Z");
        json!({"version": "0", "id": "ev-1", "detail-type": detail_type, "source": SOURCE,
            "account": "111122223333", "time": "2026-11-21T10:00:00Z", "region": "us-east-1",
            "resources": [], "detail": detail})
    }

    fn reason(dt: &str, d: Value) -> &'static str {
        LifecycleEvent::parse(&envelope(dt, d), SOURCE, now())
            .unwrap_err()
            .reason()
    }

    #[test]
    fn commands_parse_and_are_named() {
        let e = LifecycleEvent::parse(
            &envelope(
                detail_types::REBOOT,
                json!({"workspaceIds": ["ws-abcd1234"]}),
            ),
            SOURCE,
            now(),
        )
        .unwrap();
        assert_eq!(e.command.name(), "reboot");
        assert_eq!(e.tenant_id.as_str(), "acme");
        assert!(LifecycleEvent::is_lifecycle(&envelope(
            detail_types::TAGS,
            json!({})
        )));
        let t = envelope(
            detail_types::TERMINATE,
            json!({"workspaceIds": ["ws-abcd1234"], "confirm": "TERMINATE"}),
        );
        assert!(matches!(
            LifecycleEvent::parse(&t, SOURCE, now()).unwrap().command,
            Command::Terminate(_)
        ));
    }

    #[test]
    fn refusals_are_named() {
        assert_eq!(
            reason(
                detail_types::TERMINATE,
                json!({"workspaceIds": ["ws-abcd1234"]})
            ),
            "ConfirmationRequired"
        );
        assert_eq!(
            reason(
                detail_types::TERMINATE,
                json!({"workspaceIds": ["ws-abcd1234"], "confirm": "yes"})
            ),
            "ConfirmationRequired"
        );
        assert_eq!(
            reason(
                detail_types::MODIFY_PROPERTIES,
                json!({"workspaceId": "ws-abcd1234", "runningMode": "AUTO_STOP"})
            ),
            "RunningModeNotAllowed"
        );
        assert_eq!(
            reason(
                detail_types::MODIFY_PROPERTIES,
                json!({"workspaceId": "ws-abcd1234"})
            ),
            "InvalidField"
        );
        assert_eq!(
            reason(detail_types::REBOOT, json!({"workspaceIds": []})),
            "InvalidField"
        );
        let many: Vec<String> = (0..26).map(|i| format!("ws-{i:08x}")).collect();
        assert_eq!(
            reason(detail_types::REBOOT, json!({ "workspaceIds": many })),
            "InvalidField"
        );
        assert_eq!(
            reason(
                detail_types::REBUILD,
                json!({"workspaceIds": ["ws-abcd1234"]})
            ),
            "MalformedDetail"
        );
        assert_eq!(
            reason("Lifecycle Explode Requested", json!({})),
            "UnknownDetailType"
        );
        assert_eq!(
            reason(
                detail_types::DEREGISTER_DIRECTORY,
                json!({"directoryId": "d-1234567890"})
            ),
            "ConfirmationRequired"
        );
    }

    #[test]
    fn provision_encryption_is_optional_and_checked() {
        let desktops = json!([{"userName": "alice"}]);
        let provision = |encryption: Value| {
            let mut d = json!({"directoryId": "d-1234567890", "bundleId": "wsb-0123456789",
                               "desktops": desktops});
            if !encryption.is_null() {
                d["encryption"] = encryption;
            }
            LifecycleEvent::parse(&envelope(detail_types::PROVISION, d), SOURCE, now())
        };
        let encryption = |e: Result<LifecycleEvent, Rejection>| match e.unwrap().command {
            Command::Provision(p) => p.encryption,
            other => panic!("{other:?}"),
        };
        assert_eq!(encryption(provision(Value::Null)), None);
        assert_eq!(
            encryption(provision(
                json!({"volumeEncryptionKey": "alias/acme-desktops"})
            )),
            Some(VolumeEncryption {
                enabled: true,
                volume_encryption_key: Some(
                    crate::ids::KmsKeyRef::parse("alias/acme-desktops").unwrap()
                ),
                allow_unencrypted: false,
            })
        );
        assert_eq!(
            encryption(provision(
                json!({"enabled": false, "allowUnencrypted": true})
            )),
            Some(VolumeEncryption {
                enabled: false,
                volume_encryption_key: None,
                allow_unencrypted: true,
            })
        );
        // Off without the consent: refused by name, the field named.
        match provision(json!({"enabled": false})).unwrap_err() {
            Rejection::InvalidField(e) => {
                assert_eq!(
                    (e.field.as_ref(), e.problem.code()),
                    ("detail.encryption", "Inconsistent")
                );
            }
            other => panic!("{other:?}"),
        }
        // A malformed key is a malformed detail that does not quote it back.
        let e = provision(json!({"volumeEncryptionKey": "not a key"})).unwrap_err();
        assert_eq!(e.reason(), "MalformedDetail");
        assert!(!e.to_string().contains("not a key"), "{e}");
    }
}
