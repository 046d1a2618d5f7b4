//! The sandbox's default customer, as a partner would register it with Steward. It names
//! the account, role and ExternalId of the emulator's default seed.

use steward_shared::ids::{AccountId, ExternalId, RegionName, RoleArn, TenantId};
use steward_shared::model::{NewTenant, PartnerTag, PowerPolicy};
use steward_shared::validate::ValidationError;

pub const PARTNER_ACCOUNT_ID: &str = "111122223333";
pub const DEFAULT_TENANT_ID: &str = "demo-customer";
pub const CUSTOMER_ACCOUNT_ID: &str = "123456789012";
pub const CUSTOMER_REGION: &str = "us-east-1";
pub const CUSTOMER_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/StewardPartnerAccess";
pub const CUSTOMER_EXTERNAL_ID: &str = "steward-demo-external-id";
pub const PARTNER_TAG_KEY: &str = "PartnerManaged";
pub const PARTNER_TAG_VALUE: &str = "true";

/// The default customer's registration.
pub fn default_tenant() -> Result<NewTenant, ValidationError> {
    Ok(NewTenant {
        tenant_id: TenantId::parse(DEFAULT_TENANT_ID)?,
        account_id: AccountId::parse(CUSTOMER_ACCOUNT_ID)?,
        regions: vec![RegionName::parse(CUSTOMER_REGION)?],
        role_arn: RoleArn::parse(CUSTOMER_ROLE_ARN)?,
        external_id: ExternalId::parse(CUSTOMER_EXTERNAL_ID)?,
        partner_tag: PartnerTag::new(PARTNER_TAG_KEY, PARTNER_TAG_VALUE)?,
        policy: PowerPolicy::default(),
    })
}
