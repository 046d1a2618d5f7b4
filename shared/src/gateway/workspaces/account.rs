//! The account: BYOL (dedicated tenancy) as DescribeAccount and its modifications report it,
//! the management ranges free for it, and turning it on.

use aws_sdk_workspaces::types as ws;

use super::{WorkspacesGateway, call_failed, service_status, time};
use crate::aws::AwsError;
use crate::model::Timestamp;

service_status!(
    /// Whether the account supports dedicated tenancy (BYOL).
    TenancySupport {
        Enabled = "ENABLED",
        Disabled = "DISABLED",
    }
);

service_status!(
    /// Where a change of the account's BYOL setting stands.
    ModificationState {
        Pending = "PENDING",
        Completed = "COMPLETED",
        Failed = "FAILED",
    }
);

/// DescribeAccount and every DescribeAccountModifications page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub dedicated_tenancy_support: Option<TenancySupport>,
    pub management_cidr: Option<String>,
    pub modifications: Vec<AccountModification>,
}

/// One change of the account's BYOL setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountModification {
    pub state: Option<ModificationState>,
    pub dedicated_tenancy_support: Option<TenancySupport>,
    pub management_cidr: Option<String>,
    pub started_at: Option<Timestamp>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

impl Account {
    /// BYOL is on.
    pub fn byol_enabled(&self) -> bool {
        self.dedicated_tenancy_support == Some(TenancySupport::Enabled)
    }

    /// The newest modification (by start time, to the second; of equals, the last listed;
    /// one without a time only while no other was seen).
    pub fn latest_modification(&self) -> Option<&AccountModification> {
        let mut latest: Option<&AccountModification> = None;
        for m in &self.modifications {
            let newer = match (latest, m.started_at) {
                (None, _) => true,
                (Some(l), Some(t)) => l
                    .started_at
                    .is_none_or(|lt| t.timestamp() >= lt.timestamp()),
                (Some(_), None) => false,
            };
            if newer {
                latest = Some(m);
            }
        }
        latest
    }
}

impl WorkspacesGateway<'_> {
    /// DescribeAccount and DescribeAccountModifications (every page).
    pub async fn account(&self) -> Result<Account, AwsError> {
        let a = self
            .client
            .describe_account()
            .send()
            .await
            .map_err(call_failed("DescribeAccount"))?;
        let mut modifications = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .describe_account_modifications()
                .set_next_token(token)
                .send()
                .await
                .map_err(call_failed("DescribeAccountModifications"))?;
            modifications.extend(page.account_modifications().iter().map(|m| {
                AccountModification {
                    state: m
                        .modification_state()
                        .map(|s| ModificationState::from_wire(s.as_str())),
                    dedicated_tenancy_support: m
                        .dedicated_tenancy_support()
                        .map(|s| TenancySupport::from_wire(s.as_str())),
                    management_cidr: m
                        .dedicated_tenancy_management_cidr_range()
                        .map(str::to_owned),
                    started_at: time(m.start_time()),
                    error_code: m.error_code().map(str::to_owned),
                    error_message: m.error_message().map(str::to_owned),
                }
            }));
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        Ok(Account {
            dedicated_tenancy_support: a
                .dedicated_tenancy_support()
                .map(|s| TenancySupport::from_wire(s.as_str())),
            management_cidr: a
                .dedicated_tenancy_management_cidr_range()
                .map(str::to_owned),
            modifications,
        })
    }

    /// Up to `max` management /16 ranges free within `constraint`; `true` if more exist.
    pub async fn management_cidr_ranges(
        &self,
        constraint: &str,
        max: usize,
    ) -> Result<(Vec<String>, bool), AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .list_available_management_cidr_ranges()
                .management_cidr_range_constraint(constraint)
                .max_results(5)
                .set_next_token(token)
                .send()
                .await
                .map_err(call_failed("ListAvailableManagementCidrRanges"))?;
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

    /// ModifyAccount: BYOL on, with `cidr` as the management range. Cannot be undone.
    pub async fn enable_byol(&self, cidr: &str) -> Result<(), AwsError> {
        self.client
            .modify_account()
            .dedicated_tenancy_support(ws::DedicatedTenancySupportEnum::Enabled)
            .dedicated_tenancy_management_cidr_range(cidr)
            .send()
            .await
            .map_err(call_failed("ModifyAccount"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Option<Timestamp> {
        Timestamp::from_timestamp(secs, 0)
    }

    fn modification(
        state: ModificationState,
        started_at: Option<Timestamp>,
    ) -> AccountModification {
        AccountModification {
            state: Some(state),
            dedicated_tenancy_support: Some(TenancySupport::Enabled),
            management_cidr: None,
            started_at,
            error_code: None,
            error_message: None,
        }
    }

    #[test]
    fn the_latest_modification_is_the_newest_started() {
        let account = Account {
            dedicated_tenancy_support: Some(TenancySupport::Disabled),
            management_cidr: None,
            modifications: vec![
                modification(ModificationState::Failed, at(100)),
                modification(ModificationState::Pending, at(200)),
                modification(ModificationState::Completed, None),
                modification(ModificationState::Failed, at(150)),
            ],
        };
        assert!(!account.byol_enabled());
        assert_eq!(
            account.latest_modification().and_then(|m| m.state.clone()),
            Some(ModificationState::Pending)
        );
    }
}
