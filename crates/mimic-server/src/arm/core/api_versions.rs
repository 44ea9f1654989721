//! Which api-versions each resource type accepts. ARM refuses others with
//! `InvalidApiVersionParameter` (for Microsoft.Resources' own types) or
//! `NoRegisteredProviderFound` (for provider resource types), listing the supported ones.

use super::error::ArmError;

/// Microsoft.Resources: subscriptions, tenants, resource groups, providers, deployments.
pub const RESOURCES: &[&str] = &[
    "2025-04-01",
    "2025-03-01",
    "2024-11-01",
    "2024-07-01",
    "2024-03-01",
    "2023-07-01",
    "2022-12-01",
    "2022-09-01",
    "2022-05-01",
    "2022-01-01",
    "2021-04-01",
    "2021-01-01",
    "2020-10-01",
    "2020-08-01",
    "2020-06-01",
    "2020-01-01",
    "2019-11-01",
    "2019-10-01",
    "2019-09-01",
    "2019-08-01",
    "2019-07-01",
    "2019-06-01",
    "2019-05-10",
    "2019-05-01",
    "2019-03-01",
    "2018-09-01",
    "2018-08-01",
    "2018-07-01",
    "2018-06-01",
    "2018-05-01",
    "2018-02-01",
    "2018-01-01",
    "2017-08-01",
    "2017-06-01",
    "2017-05-10",
    "2017-05-01",
    "2017-03-01",
    "2016-09-01",
    "2016-07-01",
    "2016-06-01",
    "2016-02-01",
    "2016-01-01",
    "2015-11-01",
    "2015-01-01",
    "2014-04-01-preview",
    "2014-04-01",
    "2014-01-01",
];

/// Every api-version is a date, optionally with a pre-release suffix.
pub fn well_formed(v: &str) -> bool {
    let b = v.as_bytes();
    if b.len() < 10 {
        return false;
    }
    let date_ok = b[..10].iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() });
    let rest = &v[10..];
    date_ok && (rest.is_empty() || (rest.starts_with('-') && rest.len() > 1 && rest[1..].chars().all(|c| c.is_ascii_alphanumeric())))
}

pub fn check(version: &str, supported: &[&str]) -> Result<(), ArmError> {
    if supported.iter().any(|s| s.eq_ignore_ascii_case(version)) {
        Ok(())
    } else {
        Err(ArmError::invalid_api_version(version, supported))
    }
}

/// For resource types Mimic stores generically: any well-formed version.
pub fn check_generic(version: &str, resource_type: &str) -> Result<(), ArmError> {
    if well_formed(version) {
        Ok(())
    } else {
        Err(ArmError::no_registered_provider("global", version, resource_type, &[], &[]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        for ok in ["2021-04-01", "2020-10-01-preview", "2017-12-01"] {
            assert!(well_formed(ok), "{ok}");
        }
        for bad in ["", "2021", "latest", "2021-4-01", "2021-04-01-", "2021-04-01x"] {
            assert!(!well_formed(bad), "{bad}");
        }
    }
}
