//! Availability Zone ids. A zone's name (`us-east-1a`) is mapped to a physical zone per
//! account by AWS, while its id (`use1-az6`) names the same zone everywhere; WorkSpaces
//! publishes the zones it supports by id, so a subnet's zone must be judged by its id.
//!
//! The emulator's mapping is fixed and the same in every account: in `us-east-1` the letters
//! a, b, c, d, e, f are `use1-az6`, `use1-az4`, `use1-az3`, `use1-az2`, `use1-az1`,
//! `use1-az5`; in any other Region letter n of the alphabet is `<code>-az<n>` (`us-west-2c` is
//! `usw2-az3`). The Region code joins the Region's parts' initials as AWS does
//! (`eu-west-1` → `euw1`, `ap-southeast-2` → `apse2`).

/// The id of zone `az` (a Region name followed by one letter); `None` when it is not one.
pub fn zone_id(az: &str) -> Option<String> {
    let letter = az.chars().last().filter(|c| c.is_ascii_lowercase())?;
    let region = &az[..az.len() - 1];
    let code = region_code(region)?;
    let index = (letter as u8 - b'a') as usize;
    let n = if region == "us-east-1" {
        *[6, 4, 3, 2, 1, 5].get(index)?
    } else {
        index + 1
    };
    Some(format!("{code}-az{n}"))
}

/// `us-east-1` → `use1`.
pub fn region_code(region: &str) -> Option<String> {
    let mut parts = region.split('-');
    let area = parts.next().filter(|p| !p.is_empty())?;
    let rest: Vec<&str> = parts.collect();
    let (number, middle) = rest.split_last()?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut code = area.to_string();
    for part in middle {
        code.push_str(match *part {
            "northeast" => "ne",
            "northwest" => "nw",
            "southeast" => "se",
            "southwest" => "sw",
            other => other.get(..1)?,
        });
    }
    code.push_str(number);
    Some(code)
}

/// The default of the `unsupported_az_ids` option: in each Region WorkSpaces is commonly
/// used from, the zone of letter `c` (the zone the seeded extra subnet is in) [U: the real
/// list is AWS's, per Region].
pub fn default_unsupported() -> Vec<String> {
    [
        "us-east-1",
        "us-west-2",
        "ca-central-1",
        "eu-west-1",
        "eu-west-2",
        "eu-central-1",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-northeast-1",
    ]
    .iter()
    .filter_map(|r| zone_id(&format!("{r}c")))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_ids() {
        assert_eq!(zone_id("us-east-1a").as_deref(), Some("use1-az6"));
        assert_eq!(zone_id("us-east-1b").as_deref(), Some("use1-az4"));
        assert_eq!(zone_id("us-east-1c").as_deref(), Some("use1-az3"));
        assert_eq!(zone_id("us-west-2c").as_deref(), Some("usw2-az3"));
        assert_eq!(zone_id("ap-southeast-2a").as_deref(), Some("apse2-az1"));
        assert_eq!(zone_id("eu-central-1b").as_deref(), Some("euc1-az2"));
        assert_eq!(zone_id("us-east-1"), None);
        assert_eq!(zone_id("us-east-1z"), None);
        assert_eq!(zone_id(""), None);
    }

    #[test]
    fn the_default_unsupported_list_has_one_zone_per_region() {
        let d = default_unsupported();
        assert_eq!(d.len(), 9);
        assert_eq!(d[0], "use1-az3");
        assert!(d.contains(&"usw2-az3".to_string()));
    }
}
