//! The WorkSpaces and EC2 calls of onboarding: account and BYOL, images, directories,
//! bundles and desktop creation. Every call maps its failure to an [`AwsError`]; listings
//! follow their tokens to the end (bounded where the result is shown to a person).

use aws_sdk_workspaces::Client;
use aws_sdk_workspaces::types as ws;

use super::ItemOutcome;
use super::ec2::{DescribeImages, Ec2Client};
use crate::aws::{AwsError, AwsErrorKind};
use crate::ids::{BundleId, DirectoryId, ImageId};
use crate::model::PartnerTag;
use crate::onboarding::{AmiFacts, CreationProperties};

fn err<E, R>(op: &'static str) -> impl FnOnce(aws_sdk_workspaces::error::SdkError<E, R>) -> AwsError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata
        + std::error::Error
        + Send
        + Sync
        + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    move |e| AwsError::from_sdk("WorkSpaces", op, e)
}

/// A request shape the SDK refused to build (a required member missing): a bug in Steward,
/// reported as an invalid request rather than a panic.
fn build_err(op: &'static str, e: impl std::error::Error + Send + Sync + 'static) -> AwsError {
    AwsError::local(
        "WorkSpaces",
        op,
        AwsErrorKind::InvalidRequest,
        e.to_string(),
        e,
    )
}

/// The partner tag as the WorkSpaces API takes it.
pub fn partner_tag(tag: &PartnerTag, op: &'static str) -> Result<ws::Tag, AwsError> {
    ws::Tag::builder()
        .key(&tag.key)
        .value(&tag.value)
        .build()
        .map_err(|e| build_err(op, e))
}

/// BYOL as DescribeAccount and DescribeAccountModifications report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByolStatus {
    pub enabled: bool,
    pub management_cidr: Option<String>,
    /// The newest modification, if any: (state, error code, error message).
    pub latest_modification: Option<(String, Option<String>, Option<String>)>,
}

pub async fn byol_status(client: &Client) -> Result<ByolStatus, AwsError> {
    let account = client
        .describe_account()
        .send()
        .await
        .map_err(err("DescribeAccount"))?;
    let enabled = account.dedicated_tenancy_support()
        == Some(&ws::DedicatedTenancySupportResultEnum::Enabled);
    let mut latest: Option<ws::AccountModification> = None;
    let mut token = None;
    loop {
        let page = client
            .describe_account_modifications()
            .set_next_token(token)
            .send()
            .await
            .map_err(err("DescribeAccountModifications"))?;
        for m in page.account_modifications() {
            let newer = match (&latest, m.start_time()) {
                (None, _) => true,
                (Some(l), Some(t)) => l.start_time().is_none_or(|lt| t.secs() >= lt.secs()),
                (Some(_), None) => false,
            };
            if newer {
                latest = Some(m.clone());
            }
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    Ok(ByolStatus {
        enabled,
        management_cidr: account
            .dedicated_tenancy_management_cidr_range()
            .map(str::to_owned),
        latest_modification: latest.map(|m| {
            (
                m.modification_state()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                m.error_code().map(str::to_owned),
                m.error_message().map(str::to_owned),
            )
        }),
    })
}

/// Up to `max` management /16 ranges free within `constraint`; `true` if more exist.
pub async fn management_cidr_ranges(
    client: &Client,
    constraint: &str,
    max: usize,
) -> Result<(Vec<String>, bool), AwsError> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .list_available_management_cidr_ranges()
            .management_cidr_range_constraint(constraint)
            .max_results(5)
            .set_next_token(token)
            .send()
            .await
            .map_err(err("ListAvailableManagementCidrRanges"))?;
        out.extend(page.management_cidr_ranges().iter().cloned());
        token = page.next_token().map(str::to_owned);
        if out.len() >= max {
            let more = out.len() > max || token.is_some();
            out.truncate(max);
            return Ok((out, more));
        }
        if token.is_none() {
            return Ok((out, false));
        }
    }
}

pub async fn enable_byol(client: &Client, cidr: &str) -> Result<(), AwsError> {
    client
        .modify_account()
        .dedicated_tenancy_support(ws::DedicatedTenancySupportEnum::Enabled)
        .dedicated_tenancy_management_cidr_range(cidr)
        .send()
        .await
        .map_err(err("ModifyAccount"))?;
    Ok(())
}

/// The customer's own machine images (EC2 DescribeImages, owner `self`, `image-type`
/// machine), at most `max`; `true` if more exist.
pub async fn owned_amis(ec2: &Ec2Client, max: usize) -> Result<(Vec<AmiFacts>, bool), AwsError> {
    let mut out = Vec::new();
    let mut request = DescribeImages {
        owners: vec!["self".into()],
        filters: vec![("image-type".into(), vec!["machine".into()])],
        ..DescribeImages::default()
    };
    loop {
        let page = ec2.describe_images(&request).await?;
        out.extend(page.images);
        request.next_token = page.next_token;
        if out.len() > max || (out.len() == max && request.next_token.is_some()) {
            out.truncate(max);
            return Ok((out, true));
        }
        if request.next_token.is_none() {
            return Ok((out, false));
        }
    }
}

/// A WorkSpaces image as onboarding needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageView {
    pub image_id: ImageId,
    pub name: String,
    pub state: String,
    /// `code: message` of every error detail (or the image's own error), when in ERROR.
    pub errors: Vec<String>,
}

fn image_view(i: &ws::WorkspaceImage) -> Option<ImageView> {
    let image_id = ImageId::parse(i.image_id()?).ok()?;
    let mut errors: Vec<String> = i
        .error_details()
        .iter()
        .map(|d| {
            format!(
                "{}: {}",
                d.error_code().map(|c| c.as_str()).unwrap_or("Unknown"),
                d.error_message().unwrap_or_default()
            )
        })
        .collect();
    if errors.is_empty()
        && let Some(code) = i.error_code()
    {
        errors.push(format!("{code}: {}", i.error_message().unwrap_or_default()));
    }
    Some(ImageView {
        image_id,
        name: i.name().unwrap_or_default().to_owned(),
        state: i.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        errors,
    })
}

/// The account's own image called `name`, if any.
pub async fn image_named(client: &Client, name: &str) -> Result<Option<ImageView>, AwsError> {
    let mut token = None;
    loop {
        let page = client
            .describe_workspace_images()
            .image_type(ws::ImageType::Owned)
            .max_results(25)
            .set_next_token(token)
            .send()
            .await
            .map_err(err("DescribeWorkspaceImages"))?;
        if let Some(found) = page
            .images()
            .iter()
            .filter(|i| i.name() == Some(name))
            .find_map(image_view)
        {
            return Ok(Some(found));
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(None);
        }
    }
}

pub async fn image(client: &Client, id: &ImageId) -> Result<Option<ImageView>, AwsError> {
    let page = client
        .describe_workspace_images()
        .image_ids(id.as_str())
        .send()
        .await
        .map_err(err("DescribeWorkspaceImages"))?;
    Ok(page.images().iter().find_map(image_view))
}

/// DescribeWorkspaceImages for `ids`, 25 per call (the service's limit): the images found.
pub async fn images(client: &Client, ids: &[ImageId]) -> Result<Vec<ImageView>, AwsError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(25) {
        let page = client
            .describe_workspace_images()
            .set_image_ids(Some(chunk.iter().map(|i| i.to_string()).collect()))
            .send()
            .await
            .map_err(err("DescribeWorkspaceImages"))?;
        out.extend(page.images().iter().filter_map(image_view));
    }
    Ok(out)
}

pub struct ImportSpec<'a> {
    pub ec2_image_id: &'a str,
    pub ingestion_process: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub tag: &'a PartnerTag,
}

pub async fn import_image(client: &Client, spec: ImportSpec<'_>) -> Result<ImageId, AwsError> {
    const OP: &str = "ImportWorkspaceImage";
    let out = client
        .import_workspace_image()
        .ec2_image_id(spec.ec2_image_id)
        .ingestion_process(ws::WorkspaceImageIngestionProcess::from(
            spec.ingestion_process,
        ))
        .image_name(spec.name)
        .image_description(spec.description)
        .tags(partner_tag(spec.tag, OP)?)
        .send()
        .await
        .map_err(err(OP))?;
    let id = out.image_id().unwrap_or_default();
    ImageId::parse(id).map_err(|e| build_err(OP, e))
}

pub async fn delete_image(client: &Client, id: &ImageId) -> Result<(), AwsError> {
    client
        .delete_workspace_image()
        .image_id(id.as_str())
        .send()
        .await
        .map_err(err("DeleteWorkspaceImage"))?;
    Ok(())
}

/// A registered WorkSpaces directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryView {
    pub directory_id: String,
    pub name: String,
    pub alias: String,
    pub directory_type: String,
    pub state: String,
    pub tenancy: String,
    pub creation: CreationProperties,
}

fn directory_view(d: &ws::WorkspaceDirectory) -> DirectoryView {
    let p = d.workspace_creation_properties();
    DirectoryView {
        directory_id: d.directory_id().unwrap_or_default().to_owned(),
        name: d.directory_name().unwrap_or_default().to_owned(),
        alias: d.alias().unwrap_or_default().to_owned(),
        directory_type: d
            .directory_type()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        state: d.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        tenancy: d
            .tenancy()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
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
    }
}

/// The account's registered directories, at most `max`; `true` if more exist.
pub async fn directories(
    client: &Client,
    max: usize,
) -> Result<(Vec<DirectoryView>, bool), AwsError> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .describe_workspace_directories()
            .set_next_token(token)
            .send()
            .await
            .map_err(err("DescribeWorkspaceDirectories"))?;
        out.extend(page.directories().iter().map(directory_view));
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

pub async fn directory(
    client: &Client,
    id: &DirectoryId,
) -> Result<Option<DirectoryView>, AwsError> {
    let page = client
        .describe_workspace_directories()
        .directory_ids(id.as_str())
        .send()
        .await
        .map_err(err("DescribeWorkspaceDirectories"))?;
    Ok(page
        .directories()
        .iter()
        .find(|d| d.directory_id() == Some(id.as_str()))
        .map(directory_view))
}

pub struct RegisterSpec<'a> {
    pub directory_id: &'a DirectoryId,
    pub subnet_ids: &'a [String],
    pub dedicated: bool,
    pub enable_self_service: bool,
    pub tag: &'a PartnerTag,
}

pub async fn register_directory(client: &Client, spec: RegisterSpec<'_>) -> Result<(), AwsError> {
    const OP: &str = "RegisterWorkspaceDirectory";
    client
        .register_workspace_directory()
        .directory_id(spec.directory_id.as_str())
        .set_subnet_ids((!spec.subnet_ids.is_empty()).then(|| spec.subnet_ids.to_vec()))
        .tenancy(if spec.dedicated {
            ws::Tenancy::Dedicated
        } else {
            ws::Tenancy::Shared
        })
        .enable_self_service(spec.enable_self_service)
        .tags(partner_tag(spec.tag, OP)?)
        .send()
        .await
        .map_err(err(OP))?;
    Ok(())
}

/// Whether the resource carries the partner tag (DescribeTags).
pub async fn carries_tag(
    client: &Client,
    resource_id: &str,
    tag: &PartnerTag,
) -> Result<bool, AwsError> {
    let out = client
        .describe_tags()
        .resource_id(resource_id)
        .send()
        .await
        .map_err(err("DescribeTags"))?;
    Ok(out
        .tag_list()
        .iter()
        .any(|t| t.key() == tag.key && t.value() == Some(tag.value.as_str())))
}

pub async fn modify_creation_properties(
    client: &Client,
    directory_id: &DirectoryId,
    props: &CreationProperties,
) -> Result<(), AwsError> {
    let p = ws::WorkspaceCreationProperties::builder()
        .set_custom_security_group_id(props.custom_security_group_id.clone())
        .set_enable_maintenance_mode(props.enable_maintenance_mode)
        .set_enable_internet_access(props.enable_internet_access)
        .set_default_ou(props.default_ou.clone())
        .set_user_enabled_as_local_administrator(props.user_enabled_as_local_administrator)
        .build();
    client
        .modify_workspace_creation_properties()
        .resource_id(directory_id.as_str())
        .workspace_creation_properties(p)
        .send()
        .await
        .map_err(err("ModifyWorkspaceCreationProperties"))?;
    Ok(())
}

/// A bundle as onboarding needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleView {
    pub bundle_id: BundleId,
    pub name: String,
    pub image_id: Option<String>,
    pub state: String,
}

fn bundle_view(b: &ws::WorkspaceBundle) -> Option<BundleView> {
    Some(BundleView {
        bundle_id: BundleId::parse(b.bundle_id()?).ok()?,
        name: b.name().unwrap_or_default().to_owned(),
        image_id: b.image_id().map(str::to_owned),
        state: b.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
    })
}

/// The account's own bundle called `name`, if any.
pub async fn bundle_named(client: &Client, name: &str) -> Result<Option<BundleView>, AwsError> {
    let mut token = None;
    loop {
        let page = client
            .describe_workspace_bundles()
            .set_next_token(token)
            .send()
            .await
            .map_err(err("DescribeWorkspaceBundles"))?;
        if let Some(b) = page
            .bundles()
            .iter()
            .filter(|b| b.name() == Some(name))
            .find_map(bundle_view)
        {
            return Ok(Some(b));
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(None);
        }
    }
}

pub async fn bundle(client: &Client, id: &BundleId) -> Result<Option<BundleView>, AwsError> {
    let page = client
        .describe_workspace_bundles()
        .bundle_ids(id.as_str())
        .send()
        .await
        .map_err(err("DescribeWorkspaceBundles"))?;
    Ok(page.bundles().iter().find_map(bundle_view))
}

pub struct BundleSpec<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub image_id: &'a ImageId,
    pub compute_type: &'a str,
    pub root_gib: u32,
    pub user_gib: u32,
    pub tag: &'a PartnerTag,
}

pub async fn create_bundle(client: &Client, spec: BundleSpec<'_>) -> Result<BundleId, AwsError> {
    const OP: &str = "CreateWorkspaceBundle";
    let out = client
        .create_workspace_bundle()
        .bundle_name(spec.name)
        .bundle_description(spec.description)
        .image_id(spec.image_id.as_str())
        .compute_type(
            ws::ComputeType::builder()
                .name(ws::Compute::from(spec.compute_type))
                .build(),
        )
        .user_storage(
            ws::UserStorage::builder()
                .capacity(spec.user_gib.to_string())
                .build()
                .map_err(|e| build_err(OP, e))?,
        )
        .root_storage(
            ws::RootStorage::builder()
                .capacity(spec.root_gib.to_string())
                .build()
                .map_err(|e| build_err(OP, e))?,
        )
        .tags(partner_tag(spec.tag, OP)?)
        .send()
        .await
        .map_err(err(OP))?;
    let id = out
        .workspace_bundle()
        .and_then(|b| b.bundle_id())
        .unwrap_or_default();
    BundleId::parse(id).map_err(|e| build_err(OP, e))
}

/// Every desktop in `directory` (DescribeWorkspaces by directory).
pub async fn directory_workspaces(
    client: &Client,
    directory: &DirectoryId,
) -> Result<Vec<ws::Workspace>, AwsError> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .describe_workspaces()
            .directory_id(directory.as_str())
            .set_next_token(token)
            .send()
            .await
            .map_err(err("DescribeWorkspaces"))?;
        out.extend(page.workspaces().iter().cloned());
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// One desktop to create: `user_name` `[UNDEFINED]` with a `workspace_name` for a
/// user-decoupled one.
pub struct NewWorkspace {
    pub user_name: String,
    pub workspace_name: Option<String>,
}

/// The outcome of one item of CreateWorkspaces.
#[derive(Debug, Clone)]
pub enum Created {
    Pending(Box<ws::Workspace>),
    Failed { code: String, message: String },
}

/// CreateWorkspaces for `items` (at most 25: one call), MANUAL running mode, the partner
/// tag on each. One outcome per item, in order.
pub async fn create_workspaces(
    client: &Client,
    directory: &DirectoryId,
    bundle: &BundleId,
    tag: &PartnerTag,
    items: &[NewWorkspace],
) -> Result<Vec<Created>, AwsError> {
    const OP: &str = "CreateWorkspaces";
    let mut requests = Vec::with_capacity(items.len());
    for item in items {
        requests.push(
            ws::WorkspaceRequest::builder()
                .directory_id(directory.as_str())
                .bundle_id(bundle.as_str())
                .user_name(&item.user_name)
                .set_workspace_name(item.workspace_name.clone())
                .workspace_properties(
                    ws::WorkspaceProperties::builder()
                        .running_mode(ws::RunningMode::Manual)
                        .build(),
                )
                .tags(partner_tag(tag, OP)?)
                .build()
                .map_err(|e| build_err(OP, e))?,
        );
    }
    let out = client
        .create_workspaces()
        .set_workspaces(Some(requests))
        .send()
        .await
        .map_err(err(OP))?;
    // Match results to items by user name and workspace name: neither list promises order.
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        let same = |user: Option<&str>, name: Option<&str>| {
            user == Some(item.user_name.as_str())
                && (item.workspace_name.is_none() || name == item.workspace_name.as_deref())
        };
        let pending = out
            .pending_requests()
            .iter()
            .find(|w| same(w.user_name(), w.workspace_name()));
        let failed = out.failed_requests().iter().find(|f| {
            f.workspace_request()
                .is_some_and(|r| same(Some(r.user_name()), r.workspace_name()))
        });
        results.push(match (pending, failed) {
            (Some(w), _) => Created::Pending(Box::new(w.clone())),
            (None, Some(f)) => Created::Failed {
                code: f.error_code().unwrap_or("Unknown").to_owned(),
                message: f.error_message().unwrap_or_default().to_owned(),
            },
            (None, None) => Created::Failed {
                code: "NotReported".into(),
                message: "the service reported neither a pending nor a failed request".into(),
            },
        });
    }
    Ok(results)
}

impl From<&Created> for ItemOutcome {
    fn from(c: &Created) -> Self {
        match c {
            Created::Pending(_) => ItemOutcome::Accepted,
            Created::Failed { code, message } => ItemOutcome::Failed {
                code: code.clone(),
                message: message.clone(),
            },
        }
    }
}
