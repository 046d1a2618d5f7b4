//! Directories: describe (all, bounded, one), register, deregister, and set the creation
//! properties new desktops get.

use aws_sdk_workspaces::types as ws;

use super::tags::partner_tag;
use super::{WorkspacesGateway, call_failed, service_status};
use crate::aws::AwsError;
use crate::ids::DirectoryId;
use crate::model::PartnerTag;
use crate::onboarding::CreationProperties;

service_status!(
    /// A directory's registration state.
    DirectoryState {
        Registering = "REGISTERING",
        Registered = "REGISTERED",
        Deregistering = "DEREGISTERING",
        Deregistered = "DEREGISTERED",
        Error = "ERROR",
    }
);

service_status!(
    /// What kind of directory WorkSpaces sees.
    DirectoryType {
        SimpleAd = "SIMPLE_AD",
        AdConnector = "AD_CONNECTOR",
        CustomerManaged = "CUSTOMER_MANAGED",
        AwsIamIdentityCenter = "AWS_IAM_IDENTITY_CENTER",
    }
);

service_status!(
    /// A directory's tenancy: DEDICATED for BYOL desktops.
    Tenancy {
        Dedicated = "DEDICATED",
        Shared = "SHARED",
    }
);

/// A directory registered with WorkSpaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directory {
    pub directory_id: DirectoryId,
    pub name: Option<String>,
    pub alias: Option<String>,
    pub directory_type: Option<DirectoryType>,
    pub state: Option<DirectoryState>,
    pub tenancy: Option<Tenancy>,
    pub subnet_ids: Vec<String>,
    pub workspace_security_group_id: Option<String>,
    /// What new desktops in it get.
    pub creation: CreationProperties,
}

impl Directory {
    fn of(d: &ws::WorkspaceDirectory) -> Option<Self> {
        let p = d.workspace_creation_properties();
        Some(Self {
            directory_id: DirectoryId::parse(d.directory_id()?).ok()?,
            name: d.directory_name().map(str::to_owned),
            alias: d.alias().map(str::to_owned),
            directory_type: d
                .directory_type()
                .map(|t| DirectoryType::from_wire(t.as_str())),
            state: d.state().map(|s| DirectoryState::from_wire(s.as_str())),
            tenancy: d.tenancy().map(|t| Tenancy::from_wire(t.as_str())),
            subnet_ids: d.subnet_ids().to_vec(),
            workspace_security_group_id: d.workspace_security_group_id().map(str::to_owned),
            creation: CreationProperties {
                custom_security_group_id: p
                    .and_then(|p| p.custom_security_group_id())
                    .map(str::to_owned),
                enable_maintenance_mode: p.and_then(|p| p.enable_maintenance_mode()),
                enable_internet_access: p.and_then(|p| p.enable_internet_access()),
                default_ou: p.and_then(|p| p.default_ou()).map(str::to_owned),
                user_enabled_as_local_administrator: p
                    .and_then(|p| p.user_enabled_as_local_administrator()),
            },
        })
    }
}

/// What RegisterWorkspaceDirectory registers, under the partner tag.
pub struct RegisterSpec<'a> {
    pub directory_id: &'a DirectoryId,
    pub subnet_ids: &'a [String],
    pub tenancy: Tenancy,
    pub enable_self_service: bool,
    pub tag: &'a PartnerTag,
}

impl WorkspacesGateway<'_> {
    /// DescribeWorkspaceDirectories, every page.
    pub async fn directories(&self) -> Result<Vec<Directory>, AwsError> {
        let (all, _) = self.directories_up_to(usize::MAX).await?;
        Ok(all)
    }

    /// The account's registered directories, at most `max` (paging stops there); `true` if
    /// more exist.
    pub async fn directories_up_to(&self, max: usize) -> Result<(Vec<Directory>, bool), AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .describe_workspace_directories()
                .set_next_token(token)
                .send()
                .await
                .map_err(call_failed("DescribeWorkspaceDirectories"))?;
            out.extend(page.directories().iter().filter_map(Directory::of));
            token = page.next_token().map(str::to_owned);
            if out.len() > max || (out.len() == max && token.is_some()) {
                out.truncate(max);
                return Ok((out, true));
            }
            if token.is_none() {
                return Ok((out, false));
            }
        }
    }

    /// The directory `id`, if it is registered (every page: a filtered listing may still
    /// page).
    pub async fn directory(&self, id: &DirectoryId) -> Result<Option<Directory>, AwsError> {
        let mut token = None;
        loop {
            let page = self
                .client
                .describe_workspace_directories()
                .directory_ids(id.as_str())
                .set_next_token(token)
                .send()
                .await
                .map_err(call_failed("DescribeWorkspaceDirectories"))?;
            if let Some(d) = page
                .directories()
                .iter()
                .filter(|d| d.directory_id() == Some(id.as_str()))
                .find_map(Directory::of)
            {
                return Ok(Some(d));
            }
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                return Ok(None);
            }
        }
    }

    pub async fn register_directory(&self, spec: RegisterSpec<'_>) -> Result<(), AwsError> {
        const OP: &str = "RegisterWorkspaceDirectory";
        self.client
            .register_workspace_directory()
            .directory_id(spec.directory_id.as_str())
            .set_subnet_ids((!spec.subnet_ids.is_empty()).then(|| spec.subnet_ids.to_vec()))
            .tenancy(ws::Tenancy::from(spec.tenancy.as_str()))
            .enable_self_service(spec.enable_self_service)
            .tags(partner_tag(spec.tag, OP)?)
            .send()
            .await
            .map_err(call_failed(OP))?;
        Ok(())
    }

    pub async fn deregister_directory(&self, id: &DirectoryId) -> Result<(), AwsError> {
        self.client
            .deregister_workspace_directory()
            .directory_id(id.as_str())
            .send()
            .await
            .map_err(call_failed("DeregisterWorkspaceDirectory"))?;
        Ok(())
    }

    /// ModifyWorkspaceCreationProperties: sets the fields of `props` that are `Some`, leaves
    /// the others as they are.
    pub async fn modify_creation_properties(
        &self,
        id: &DirectoryId,
        props: &CreationProperties,
    ) -> Result<(), AwsError> {
        let p = ws::WorkspaceCreationProperties::builder()
            .set_custom_security_group_id(props.custom_security_group_id.clone())
            .set_enable_maintenance_mode(props.enable_maintenance_mode)
            .set_enable_internet_access(props.enable_internet_access)
            .set_default_ou(props.default_ou.clone())
            .set_user_enabled_as_local_administrator(props.user_enabled_as_local_administrator)
            .build();
        self.client
            .modify_workspace_creation_properties()
            .resource_id(id.as_str())
            .workspace_creation_properties(p)
            .send()
            .await
            .map_err(call_failed("ModifyWorkspaceCreationProperties"))?;
        Ok(())
    }
}
