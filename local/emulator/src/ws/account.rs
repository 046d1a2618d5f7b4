//! Account-level BYOL settings.

use super::{Ctx, region, region_mut};
use crate::error::{ApiError, ApiResult};
use crate::model::{AccountModification, World};
use crate::protocol::{Obj, pat};
use serde_json::{Value, json};

/// The ranges a management /16 may be taken from [D-AG].
const ALLOWED: &[(u8, u8, u8)] = &[
    (10, 0, 8),
    (100, 64, 10),
    (172, 16, 12),
    (192, 168, 16),
    (198, 18, 15),
];

fn byol_eligible(ctx: &Ctx, w: &World) -> bool {
    w.accounts
        .get(ctx.account())
        .is_some_and(|a| a.byol_eligible)
}

pub fn describe_account(ctx: &Ctx, w: &World, _body: &Value) -> ApiResult<Value> {
    let rs = region(w, ctx.caller);
    let enabled = rs.byol_enabled(ctx.now);
    Ok(Obj::new()
        .s(
            "DedicatedTenancySupport",
            Some(if enabled { "ENABLED" } else { "DISABLED" }),
        )
        .s(
            "DedicatedTenancyManagementCidrRange",
            rs.byol_cidr.as_deref().filter(|_| enabled),
        )
        .s(
            "DedicatedTenancyAccountType",
            enabled.then_some("SOURCE_ACCOUNT"),
        )
        .build())
}

pub fn describe_account_modifications(ctx: &Ctx, w: &World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let pos = ctx.page_position(&input, "DescribeAccountModifications")?;
    let rs = region(w, ctx.caller);
    let size = crate::paging::page_size(None, ctx.opts.default_page_size, 25);
    let newest_first: Vec<&AccountModification> = rs.modifications.iter().rev().collect();
    let (page, next) = crate::paging::from_index(&newest_first, pos.as_deref(), size);
    let mods: Vec<Value> = page
        .iter()
        .map(|m| {
            let done = ctx.now >= m.state_pending_until;
            let state = match (&m.fails, done) {
                (_, false) => "PENDING",
                (Some(_), true) => "FAILED",
                (None, true) => "COMPLETED",
            };
            let err = m.fails.as_ref().filter(|_| done);
            Obj::new()
                .s("ModificationState", Some(state))
                .s("DedicatedTenancySupport", Some("ENABLED"))
                .s("DedicatedTenancyManagementCidrRange", m.cidr.as_deref())
                .ts("StartTime", Some(m.start_ms))
                .s("ErrorCode", err.map(|e| e.0.as_str()))
                .s("ErrorMessage", err.map(|e| e.1.as_str()))
                .build()
        })
        .collect();
    Ok(Obj::new()
        .v("AccountModifications", Some(Value::Array(mods)))
        .s(
            "NextToken",
            next.map(|p| ctx.tokens.issue("DescribeAccountModifications", &p)),
        )
        .build())
}

pub fn modify_account(ctx: &Ctx, w: &mut World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let support = input.enum_val("DedicatedTenancySupport", false, &["ENABLED"])?;
    let cidr = input.checked(
        "DedicatedTenancyManagementCidrRange",
        false,
        pat::dedicated_cidr,
        "Member must satisfy regular expression pattern: an a.b.0.0/16 range",
    )?;
    if !byol_eligible(ctx, w) {
        return Err(ApiError::access_denied(
            "The account is not enabled for BYOL by AWS.",
        ));
    }
    let (Some(_), Some(cidr)) = (support, cidr) else {
        return Err(ApiError::invalid(
            "DedicatedTenancySupport=ENABLED and DedicatedTenancyManagementCidrRange are required.",
        ));
    };
    let now = ctx.now;
    let fails = ctx.resource_error.clone();
    let until = now + ctx.dur(ctx.opts.durations.account_modification).max(1);
    let rs = region_mut(w, ctx.caller);
    if rs.modifications.iter().any(|m| now < m.state_pending_until) {
        return Err(ApiError::bad_state(
            "An account modification is already in progress.",
        ));
    }
    if rs.byol_enabled_at.is_some() {
        return Err(ApiError::bad_state(
            "BYOL is already enabled; the management CIDR range cannot be changed.",
        ));
    }
    if !offered(cidr) || used(rs, cidr) {
        return Err(ApiError::invalid(format!(
            "The CIDR range {cidr} is not available; use ListAvailableManagementCidrRanges."
        )));
    }
    rs.modifications.push(AccountModification {
        state_pending_until: until,
        cidr: Some(cidr.to_string()),
        start_ms: now,
        fails: fails.clone(),
    });
    if fails.is_none() {
        rs.byol_enabled_at = Some(until);
        rs.byol_cidr = Some(cidr.to_string());
    }
    Ok(json!({}))
}

fn parse_cidr(s: &str) -> Option<(u32, u8)> {
    let (ip, len) = s.split_once('/')?;
    let len: u8 = len.parse().ok()?;
    let mut n: u32 = 0;
    let mut parts = 0;
    for o in ip.split('.') {
        n = (n << 8) | o.parse::<u8>().ok()? as u32;
        parts += 1;
    }
    (parts == 4 && len <= 32).then_some((n, len))
}

fn mask(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - len as u32)
    }
}

fn offered(cidr: &str) -> bool {
    parse_cidr(cidr).is_some_and(|(n, _)| {
        ALLOWED.iter().any(|(a, b, len)| {
            let base = ((*a as u32) << 24) | ((*b as u32) << 16);
            n & mask(*len) == base
        })
    })
}

/// /16s overlapping the account's VPC subnets are not offered.
fn used(rs: &crate::model::RegionState, cidr: &str) -> bool {
    let Some((n, _)) = parse_cidr(cidr) else {
        return true;
    };
    rs.subnets
        .values()
        .any(|s| parse_cidr(&s.cidr).is_some_and(|(m, _)| m & mask(16) == n))
}

pub fn list_cidr_ranges(ctx: &Ctx, w: &World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let constraint = input
        .checked(
            "ManagementCidrRangeConstraint",
            true,
            pat::cidr,
            "Member must satisfy regular expression pattern: an IPv4 CIDR block",
        )?
        .unwrap_or_default();
    let max = crate::paging::page_size(
        input.opt_int_range("MaxResults", 1, 5)?,
        ctx.opts.default_page_size,
        5,
    );
    let scope = format!("ListAvailableManagementCidrRanges|{constraint}|{max}");
    let pos = ctx.page_position(&input, &scope)?;
    if !byol_eligible(ctx, w) {
        return Err(ApiError::access_denied(
            "The account is not enabled for BYOL by AWS.",
        ));
    }
    let (cn, clen) = parse_cidr(constraint).ok_or_else(|| ApiError::invalid("Invalid CIDR."))?;
    let rs = region(w, ctx.caller);
    let start: u32 = pos.and_then(|p| p.parse().ok()).unwrap_or(0);
    let mut out = Vec::new();
    let mut next = None;
    // Walk /16 blocks (index = top 16 bits).
    for idx in start..=0xFFFF_u32 {
        let n = idx << 16;
        let inside = if clen <= 16 {
            n & mask(clen) == cn & mask(clen)
        } else {
            false
        };
        if !inside {
            continue;
        }
        let c = format!("{}.{}.0.0/16", idx >> 8, idx & 0xFF);
        if !offered(&c) || used(rs, &c) {
            continue;
        }
        if out.len() == max {
            next = Some(idx.to_string());
            break;
        }
        out.push(Value::String(c));
    }
    Ok(Obj::new()
        .v("ManagementCidrRanges", Some(Value::Array(out)))
        .s("NextToken", next.map(|p| ctx.tokens.issue(&scope, &p)))
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offered_ranges() {
        assert!(offered("10.200.0.0/16"));
        assert!(offered("172.31.0.0/16"));
        assert!(!offered("172.32.0.0/16"));
        assert!(!offered("8.8.0.0/16"));
    }
}
