//! `DATA_DIR/ca-bundle.pem`: this machine's own root certificates followed by Mimic's CA, the
//! bundle `mimic env` exports (`REQUESTS_CA_BUNDLE`, `SSL_CERT_FILE`). Those variables replace
//! a client's roots rather than add to them, so with `ca.pem` alone every site the proxy
//! tunnels to (PyPI, npm, GitHub) would fail verification in that shell.
//!
//! The system bundle is the first that exists of the paths Go's crypto/x509 searches
//! (root_linux.go, root_bsd.go, root_darwin.go's fallback): Debian/Ubuntu/Arch, Fedora/RHEL,
//! openSUSE, OpenELEC, CentOS 7, Alpine/macOS/BSD. Rewritten on every start, so updated system
//! roots and a new `ca.pem` both reach it.

use std::path::{Path, PathBuf};

pub const BUNDLE_FILE: &str = "ca-bundle.pem";

const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
    "/usr/local/etc/ssl/cert.pem",
    "/usr/local/share/certs/ca-root-nss.crt",
];

/// Writes the bundle next to `ca.pem`; returns the system bundle it includes, if one was found.
pub fn write(data_dir: &Path) -> anyhow::Result<Option<PathBuf>> {
    let mimic_ca = std::fs::read_to_string(data_dir.join("ca.pem"))?;
    let system = SYSTEM_BUNDLES.iter().map(PathBuf::from).find_map(|p| std::fs::read_to_string(&p).ok().map(|text| (p, text)));
    let mut bundle = String::new();
    if let Some((_, roots)) = &system {
        bundle.push_str(roots);
        if !bundle.ends_with('\n') {
            bundle.push('\n');
        }
    }
    bundle.push_str("# Mimic Local CA (ca.pem)\n");
    bundle.push_str(&mimic_ca);
    let path = data_dir.join(BUNDLE_FILE);
    if std::fs::read_to_string(&path).ok().as_deref() != Some(bundle.as_str()) {
        crate::data_dir::write_private(&path, bundle.as_bytes())?;
    }
    Ok(system.map(|(p, _)| p))
}
