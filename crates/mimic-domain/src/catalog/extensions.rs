//! VM extension images (`.../publishers/{p}/artifacttypes/vmextension/types/{t}/versions/{v}`) as
//! data, and the rule a VM extension's `publisher`, `type` and `typeHandlerVersion` must meet to
//! name one. Names match case-insensitively, as ARM matches them.
//!
//! Sources: compute.json `VirtualMachineExtensionImage` (properties: operatingSystem, computeRole,
//! handlerSchema, vmScaleSetEnabled, supportsMultipleExtensions); learn.microsoft.com's pages of each
//! extension (custom-script-linux, custom-script-windows, howto-vm-sign-in-azure-ad-linux/-windows,
//! guest attestation, azure-monitor-agent-manage, vmaccess-linux) for publisher and type names. The
//! version strings follow each publisher's format; the builds are illustrative, not live data.

/// One extension type of a publisher, with its versions (oldest first, as Azure lists them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtensionImage {
    pub publisher: &'static str,
    pub kind: &'static str,
    pub versions: &'static [&'static str],
    pub operating_system: &'static str,
    pub vm_scale_set_enabled: bool,
    pub supports_multiple_extensions: bool,
}

const fn ext(
    publisher: &'static str,
    kind: &'static str,
    versions: &'static [&'static str],
    operating_system: &'static str,
    supports_multiple_extensions: bool,
) -> ExtensionImage {
    ExtensionImage { publisher, kind, versions, operating_system, vm_scale_set_enabled: true, supports_multiple_extensions }
}

static CATALOG: &[ExtensionImage] = &[
    ext("Microsoft.Azure.Extensions", "CustomScript", &["2.0.7", "2.1.6", "2.1.7", "2.1.10"], "Linux", false),
    ext("Microsoft.Azure.Extensions", "DockerExtension", &["1.2.2"], "Linux", false),
    ext("Microsoft.Compute", "CustomScriptExtension", &["1.10.12", "1.10.15", "1.10.18"], "Windows", false),
    ext("Microsoft.Compute", "BGInfo", &["2.2.5"], "Windows", false),
    ext("Microsoft.Azure.ActiveDirectory", "AADSSHLoginForLinux", &["1.0.2385.1", "1.0.2633.1"], "Linux", false),
    ext("Microsoft.Azure.ActiveDirectory", "AADLoginForWindows", &["1.0.0.1", "2.0.0.0", "2.2.0.0"], "Windows", false),
    ext("Microsoft.Azure.Security.LinuxAttestation", "GuestAttestation", &["1.0.2.0", "1.0.5.0"], "Linux", false),
    ext("Microsoft.Azure.Security.WindowsAttestation", "GuestAttestation", &["1.0.0.0", "1.0.1.0"], "Windows", false),
    ext("Microsoft.Azure.Monitor", "AzureMonitorLinuxAgent", &["1.33.2", "1.35.4"], "Linux", false),
    ext("Microsoft.Azure.Monitor", "AzureMonitorWindowsAgent", &["1.30.0.0", "1.32.0.0"], "Windows", false),
    ext("Microsoft.OSTCExtensions", "VMAccessForLinux", &["1.4.7.1", "1.5.18"], "Linux", false),
];

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Every extension type in the catalogue.
pub fn all() -> &'static [ExtensionImage] {
    CATALOG
}

/// The publishers of extension images, each once, in catalogue order.
pub fn publishers() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for e in CATALOG {
        if !out.iter().any(|p| eq(p, e.publisher)) {
            out.push(e.publisher);
        }
    }
    out
}

/// The types of `publisher`.
pub fn of_publisher(publisher: &str) -> Vec<&'static ExtensionImage> {
    CATALOG.iter().filter(|e| eq(e.publisher, publisher)).collect()
}

/// The type `kind` of `publisher`.
pub fn find(publisher: &str, kind: &str) -> Option<&'static ExtensionImage> {
    CATALOG.iter().find(|e| eq(e.publisher, publisher) && eq(e.kind, kind))
}

/// The published version `version` of an extension type (exact, case-insensitively).
pub fn version(image: &ExtensionImage, version: &str) -> Option<&'static str> {
    image.versions.iter().copied().find(|v| eq(v, version))
}

/// Why a `typeHandlerVersion` names no version of its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandlerVersionError {
    /// Not `major[.minor[.build[.revision]]]` of decimal numbers.
    Invalid,
    /// Well formed, but no published version has those leading numbers.
    NotFound,
}

/// The numeric parts of a version (`2.1.10` → [2, 1, 10]); `None` unless one to four decimal
/// numbers of at most nine digits each.
fn parts(v: &str) -> Option<Vec<u32>> {
    let ps: Vec<&str> = v.split('.').collect();
    if ps.is_empty() || ps.len() > 4 {
        return None;
    }
    ps.iter().map(|p| if p.is_empty() || p.len() > 9 || !p.bytes().all(|b| b.is_ascii_digit()) { None } else { p.parse().ok() }).collect()
}

/// The newest published version a VM extension's `typeHandlerVersion` selects: `2.1` selects
/// the newest `2.1.x`; with `autoUpgradeMinorVersion`, the newest `2.x` at or above `2.1`
/// (Azure: "Indicates whether the extension should use a newer minor version if one is available
/// at deployment time", compute.json `autoUpgradeMinorVersion`).
pub fn resolve(image: &ExtensionImage, requested: &str, auto_upgrade_minor: bool) -> Result<&'static str, HandlerVersionError> {
    let want = parts(requested.trim()).ok_or(HandlerVersionError::Invalid)?;
    let mut best: Option<(Vec<u32>, &'static str)> = None;
    for v in image.versions {
        let Some(have) = parts(v) else { continue };
        let selected = if auto_upgrade_minor && want.len() >= 2 {
            have.first() == want.first() && have[..] >= want[..]
        } else {
            have.len() >= want.len() && have[..want.len()] == want[..]
        };
        if selected && best.as_ref().is_none_or(|(b, _)| have > *b) {
            best = Some((have, v));
        }
    }
    best.map(|(_, v)| v).ok_or(HandlerVersionError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_ignore_case() {
        assert!(find("microsoft.azure.extensions", "customscript").is_some());
        assert!(find("Microsoft.Azure.Extensions", "CustomScriptExtension").is_none());
        assert_eq!(of_publisher("Microsoft.Azure.ActiveDirectory").len(), 2);
        assert!(publishers().contains(&"Microsoft.Azure.Monitor"));
        assert_eq!(
            publishers().len(),
            publishers().iter().map(|p| p.to_ascii_lowercase()).collect::<std::collections::BTreeSet<_>>().len()
        );
    }

    #[test]
    fn handler_versions() {
        let cs = find("Microsoft.Azure.Extensions", "CustomScript").unwrap();
        assert_eq!(resolve(cs, "2.1", false), Ok("2.1.10"));
        assert_eq!(resolve(cs, "2.0", false), Ok("2.0.7"));
        assert_eq!(resolve(cs, "2.0", true), Ok("2.1.10"));
        assert_eq!(resolve(cs, "2", false), Ok("2.1.10"));
        assert_eq!(resolve(cs, "2.1.7", false), Ok("2.1.7"));
        assert_eq!(resolve(cs, "3.0", true), Err(HandlerVersionError::NotFound));
        assert_eq!(resolve(cs, "2.5", false), Err(HandlerVersionError::NotFound));
        for bad in ["", "two", "2.", ".1", "2.1.1.1.1", "1234567890.1", "-1.0", "2 .1"] {
            assert_eq!(resolve(cs, bad, true), Err(HandlerVersionError::Invalid), "{bad:?}");
        }
        assert!(all().iter().all(|e| e.versions.iter().all(|v| parts(v).is_some())));
    }
}
