//! The local certificate authority (`DATA_DIR/ca.pem`) and the server certificate it issues.
//!
//! The CA key and certificate are created once and kept in the store (meta `tls.ca_key`,
//! `tls.ca_cert`), so every replica over one PostgreSQL store issues from the same CA and writes
//! the same `ca.pem`; a data directory from before that (its `ca-key.pem`) has its key imported
//! on first start. The issuing certificate is re-derived from the key with the same subject on
//! each start, so leaf certificates always chain to the `ca.pem` that clients already trust.
//!
//! The stored key is sealed under the master key (`master_key.rs`, purpose `meta/tls.ca_key`): a
//! copy of the store cannot issue certificates for Azure's host names. A key an older version
//! stored in clear is sealed on the first start with a master key.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use mimic_store::Store;

use crate::master_key::MasterKey;
use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, KeyUsagePurpose, SanType};

const CA_NAME: &str = "Mimic Local CA";
const CA_KEY_META: &str = "tls.ca_key";
const CA_CERT_META: &str = "tls.ca_cert";
/// What the stored CA key is sealed for (its row).
const CA_KEY_PURPOSE: &str = "meta/tls.ca_key";

/// Host names the server certificate covers: loopback, and Azure's public hosts for the proxy.
pub const AZURE_HOSTS: &[&str] = &[
    "management.azure.com",
    "management.core.windows.net",
    "login.microsoftonline.com",
    "login.windows.net",
    "sts.windows.net",
    "graph.microsoft.com",
    "azcliprod.blob.core.windows.net",     // az's image alias document (proxy/documents.rs)
    "*.vault.azure.net",                   // Key Vault's data plane, one host per vault
    "*.blob.core.windows.net",             // the Blob service, one host per storage account
    "token.actions.githubusercontent.com", // hosted OIDC issuers (federation/hosted.rs)
];

fn ca_params() -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, CA_NAME);
    dn.push(DnType::OrganizationName, "Mimic");
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    p.not_before = rcgen::date_time_ymd(2024, 1, 1);
    p.not_after = rcgen::date_time_ymd(2049, 12, 31);
    p
}

pub struct LocalCa {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl LocalCa {
    /// Loads the CA key from the store, or stores one (imported from `dir/ca-key.pem` if an
    /// older data directory has it, else new), and writes `dir/ca.pem` for clients. Concurrent
    /// first starts of several replicas agree: the store keeps the first key committed.
    pub fn load_or_create(store: &Store, dir: &Path, master: &MasterKey) -> anyhow::Result<Self> {
        let stored = store.read(|tx| Ok::<_, mimic_store::StoreError>((tx.meta(CA_KEY_META)?, tx.meta(CA_CERT_META)?)))?;
        let (key_value, cert_pem) = match stored {
            (Some(k), Some(c)) if !MasterKey::is_sealed(k.as_bytes()) => seal_clear_key(store, master)?.unwrap_or((k, c)),
            (Some(k), Some(c)) => (k, c),
            _ => {
                let candidate = match std::fs::read_to_string(dir.join("ca-key.pem")) {
                    Ok(pem) => KeyPair::from_pem(&pem).context("reading ca-key.pem")?,
                    Err(_) => KeyPair::generate()?,
                };
                let (k, c) =
                    (master.seal(CA_KEY_PURPOSE, candidate.serialize_pem().as_bytes())?, ca_params().self_signed(&candidate)?.pem());
                store.write(|tx| match (tx.meta(CA_KEY_META)?, tx.meta(CA_CERT_META)?) {
                    (Some(k), Some(c)) => Ok::<_, mimic_store::StoreError>((k, c)), // another replica won
                    _ => {
                        tx.put_meta(CA_KEY_META, &k)?;
                        tx.put_meta(CA_CERT_META, &c)?;
                        Ok((k.clone(), c.clone()))
                    }
                })?
            }
        };
        let key_pem = if MasterKey::is_sealed(key_value.as_bytes()) {
            String::from_utf8(master.open(CA_KEY_PURPOSE, &key_value)?)?
        } else {
            key_value
        };
        let key = KeyPair::from_pem(&key_pem).context("reading the stored CA key")?;
        let cert = ca_params().self_signed(&key)?;
        // What clients trust: the stored certificate, identical on every replica.
        let ca_path = dir.join("ca.pem");
        if std::fs::read_to_string(&ca_path).ok().as_deref() != Some(cert_pem.as_str()) {
            crate::data_dir::write_private(&ca_path, cert_pem.as_bytes())?;
        }
        Ok(LocalCa { cert, key })
    }

    /// A server certificate for loopback and Azure's host names.
    pub fn server_config(&self) -> anyhow::Result<Arc<rustls::ServerConfig>> {
        let mut names: Vec<String> = vec!["localhost".into()];
        names.extend(AZURE_HOSTS.iter().map(|h| h.to_string()));
        let mut p = CertificateParams::new(names)?;
        p.subject_alt_names.push(SanType::IpAddress("127.0.0.1".parse()?));
        p.subject_alt_names.push(SanType::IpAddress("::1".parse()?));
        p.distinguished_name.push(DnType::CommonName, "Mimic");
        p.not_before = rcgen::date_time_ymd(2024, 1, 1);
        p.not_after = rcgen::date_time_ymd(2049, 12, 31);
        let key = KeyPair::generate()?;
        let cert = p.signed_by(&key, &self.cert, &self.key)?;
        let chain = vec![cert.der().clone(), self.cert.der().clone()];
        let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
        let mut cfg = rustls::ServerConfig::builder().with_no_client_auth().with_single_cert(chain, key_der)?;
        cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(cfg))
    }
}

/// Seals a CA key an older version stored in clear (re-read in the transaction: replicas
/// migrating together seal it once). Returns the stored key and certificate after.
fn seal_clear_key(store: &Store, master: &MasterKey) -> anyhow::Result<Option<(String, String)>> {
    let after = store.write(|tx| match (tx.meta(CA_KEY_META)?, tx.meta(CA_CERT_META)?) {
        (Some(k), Some(c)) if !MasterKey::is_sealed(k.as_bytes()) => {
            let sealed = master.seal(CA_KEY_PURPOSE, k.as_bytes())?;
            tx.put_meta(CA_KEY_META, &sealed)?;
            Ok::<_, anyhow::Error>(Some((sealed, c)))
        }
        (Some(k), Some(c)) => Ok(Some((k, c))),
        _ => Ok(None),
    })?;
    tracing::info!("sealed the CA key an older version stored in clear");
    store.scrub()?;
    Ok(after)
}
