//! The precondition checks a lifecycle command makes before Steward calls the service:
//! the confirmation word of an irreversible command, the running modes a BYOP desktop may
//! take, the states the service accepts each desktop operation in, the partner tag's
//! protection and the Region a command applies to. Pure, so the lifecycle function's
//! handlers only gather the record and act on the answer.

use std::collections::BTreeMap;

use super::PropertiesDetail;
use crate::events::Rejection;
use crate::ids::{RegionName, WorkspaceId};
use crate::model::{PartnerTag, RunningMode, WorkspaceState};
use crate::validate::{self, Problem, ValidationError};

/// An irreversible command must carry its confirmation word.
pub fn check_confirmation(
    command: &str,
    given: Option<&str>,
    expected: &str,
) -> Result<(), Rejection> {
    if given == Some(expected) {
        Ok(())
    } else {
        Err(Rejection::ConfirmationRequired(format!(
            "{command} (detail.confirm = {expected:?})"
        )))
    }
}

/// The running mode a BYOP desktop may be switched to: ALWAYS_ON or MANUAL; AUTO_STOP is
/// refused by name.
pub fn byop_running_mode(wire: &str) -> Result<RunningMode, Rejection> {
    match wire {
        "MANUAL" => Ok(RunningMode::Manual),
        "ALWAYS_ON" => Ok(RunningMode::AlwaysOn),
        "AUTO_STOP" => Err(Rejection::RunningModeNotAllowed(wire.to_owned())),
        _ => Err(ValidationError::new(
            "detail.runningMode",
            Problem::NotOneOf {
                allowed: &["ALWAYS_ON", "MANUAL"],
            },
        )
        .into()),
    }
}

pub(super) fn check_properties(c: &PropertiesDetail) -> Result<(), Rejection> {
    if c.compute_type_name.is_none()
        && c.root_volume_size_gib.is_none()
        && c.user_volume_size_gib.is_none()
        && c.running_mode.is_none()
    {
        return Err(ValidationError::new("detail", Problem::Missing).into());
    }
    if let Some(m) = &c.running_mode {
        byop_running_mode(m)?;
    }
    if let Some(ct) = &c.compute_type_name {
        validate::one_of("detail.computeTypeName", ct, COMPUTE_TYPES)?;
    }
    if let Some(g) = c.root_volume_size_gib {
        validate::range("detail.rootVolumeSizeGib", i64::from(g), 80, 2000)?;
    }
    if let Some(g) = c.user_volume_size_gib {
        validate::range("detail.userVolumeSizeGib", i64::from(g), 10, 2000)?;
    }
    Ok(())
}

/// Compute types ModifyWorkspaceProperties takes (the SDK's `Compute` enum).
pub const COMPUTE_TYPES: &[&str] = &[
    "VALUE",
    "STANDARD",
    "PERFORMANCE",
    "POWER",
    "GRAPHICS",
    "POWERPRO",
    "GENERALPURPOSE_4XLARGE",
    "GENERALPURPOSE_8XLARGE",
    "GRAPHICSPRO",
    "GRAPHICS_G4DN",
    "GRAPHICSPRO_G4DN",
];

/// The desktop operations whose accepted source states the service documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DesktopOp {
    Reboot,
    Rebuild,
    Restore,
    Migrate,
    ModifyProperties,
    ToAdminMaintenance,
    ToAvailable,
    /// CreateWorkspaceImage's source: AVAILABLE is assumed (\[U\] in the reference).
    CreateImage,
    Terminate,
}

impl DesktopOp {
    pub fn operation(self) -> &'static str {
        match self {
            DesktopOp::Reboot => "RebootWorkspaces",
            DesktopOp::Rebuild => "RebuildWorkspaces",
            DesktopOp::Restore => "RestoreWorkspace",
            DesktopOp::Migrate => "MigrateWorkspace",
            DesktopOp::ModifyProperties => "ModifyWorkspaceProperties",
            DesktopOp::ToAdminMaintenance | DesktopOp::ToAvailable => "ModifyWorkspaceState",
            DesktopOp::CreateImage => "CreateWorkspaceImage",
            DesktopOp::Terminate => "TerminateWorkspaces",
        }
    }
}

/// Minutes a desktop must have been REBOOTING before a reboot is accepted again.
pub const REBOOT_STUCK_MINUTES: i64 = 20;

/// Whether the service accepts `op` on a desktop in `state` (reference §6: the states each
/// operation accepts). `minutes_in_state` is how long Steward has seen it in that state.
pub fn check_state(
    op: DesktopOp,
    workspace: &WorkspaceId,
    state: WorkspaceState,
    minutes_in_state: i64,
) -> Result<(), Rejection> {
    use WorkspaceState::*;
    let ok = match op {
        DesktopOp::Reboot => {
            matches!(state, Available | Unhealthy)
                || (state == Rebooting && minutes_in_state >= REBOOT_STUCK_MINUTES)
        }
        DesktopOp::Rebuild => matches!(state, Available | Error | Unhealthy | Stopped | Rebooting),
        DesktopOp::Restore => matches!(state, Available | Error | Unhealthy | Stopped),
        DesktopOp::Migrate => matches!(state, Available | Stopped | Error),
        DesktopOp::ModifyProperties => matches!(state, Available | Stopped),
        DesktopOp::ToAdminMaintenance => state == Available,
        DesktopOp::ToAvailable => state == AdminMaintenance,
        DesktopOp::CreateImage => state == Available,
        DesktopOp::Terminate => !matches!(state, Suspended | Terminating | Terminated),
    };
    if ok {
        Ok(())
    } else {
        Err(Rejection::InvalidState {
            operation: op.operation().to_owned(),
            resource: workspace.to_string(),
            state: state.as_str().to_owned(),
        })
    }
}

/// A tag change never removes or alters the partner tag, and never sets a reserved key.
pub fn check_tag_changes(
    partner: &PartnerTag,
    set: &BTreeMap<String, String>,
    remove: &[String],
) -> Result<(), Rejection> {
    let touches = |k: &str| k.eq_ignore_ascii_case(&partner.key);
    if set.keys().any(|k| touches(k)) || remove.iter().any(|k| touches(k)) {
        return Err(Rejection::PartnerTagProtected(partner.key.clone()));
    }
    Ok(())
}

/// The Region a command applies to: the one named (which must be one of the tenant's) or
/// the tenant's first.
pub fn region_of(
    named: Option<&RegionName>,
    tenant_regions: &[RegionName],
) -> Result<RegionName, Rejection> {
    match named {
        Some(r) if tenant_regions.contains(r) => Ok(r.clone()),
        Some(r) => Err(Rejection::ResourceNotOwned(format!("Region {r}"))),
        None => tenant_regions
            .first()
            .cloned()
            .ok_or_else(|| Rejection::ResourceNotOwned("a Region".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_states_follow_the_reference() {
        let ws = WorkspaceId::parse("ws-abcd1234").unwrap();
        use WorkspaceState::*;
        assert!(check_state(DesktopOp::Reboot, &ws, Available, 0).is_ok());
        assert!(check_state(DesktopOp::Reboot, &ws, Rebooting, 5).is_err());
        assert!(check_state(DesktopOp::Reboot, &ws, Rebooting, 25).is_ok());
        assert!(check_state(DesktopOp::Reboot, &ws, Stopped, 0).is_err());
        assert!(check_state(DesktopOp::Rebuild, &ws, Stopped, 0).is_ok());
        assert!(check_state(DesktopOp::Restore, &ws, Rebooting, 0).is_err());
        assert!(check_state(DesktopOp::Migrate, &ws, AdminMaintenance, 0).is_err());
        assert!(check_state(DesktopOp::ModifyProperties, &ws, Stopped, 0).is_ok());
        assert!(check_state(DesktopOp::ToAdminMaintenance, &ws, Stopped, 0).is_err());
        assert!(check_state(DesktopOp::ToAvailable, &ws, AdminMaintenance, 0).is_ok());
        assert!(check_state(DesktopOp::Terminate, &ws, Suspended, 0).is_err());
        assert!(check_state(DesktopOp::Terminate, &ws, Error, 0).is_ok());
        let r = check_state(DesktopOp::Restore, &ws, Pending, 0).unwrap_err();
        assert_eq!(r.reason(), "InvalidState");
        assert!(r.to_string().contains("RestoreWorkspace"), "{r}");
    }

    #[test]
    fn running_modes_and_tags_and_regions() {
        assert_eq!(byop_running_mode("MANUAL").unwrap(), RunningMode::Manual);
        assert_eq!(
            byop_running_mode("ALWAYS_ON").unwrap(),
            RunningMode::AlwaysOn
        );
        assert_eq!(
            byop_running_mode("AUTO_STOP").unwrap_err().reason(),
            "RunningModeNotAllowed"
        );
        assert_eq!(
            byop_running_mode("SOMETIMES").unwrap_err().reason(),
            "InvalidField"
        );
        let p = PartnerTag::default();
        let mut set = BTreeMap::new();
        set.insert("CostCenter".to_owned(), "42".to_owned());
        assert!(check_tag_changes(&p, &set, &["Owner".to_owned()]).is_ok());
        assert_eq!(
            check_tag_changes(&p, &BTreeMap::new(), &["partnermanaged".to_owned()])
                .unwrap_err()
                .reason(),
            "PartnerTagProtected"
        );
        set.insert(p.key.clone(), "false".into());
        assert!(check_tag_changes(&p, &set, &[]).is_err());
        let regions = vec![RegionName::parse("us-east-1").unwrap()];
        assert_eq!(region_of(None, &regions).unwrap().as_str(), "us-east-1");
        let other = RegionName::parse("eu-west-1").unwrap();
        assert_eq!(
            region_of(Some(&other), &regions).unwrap_err().reason(),
            "ResourceNotOwned"
        );
    }
}
