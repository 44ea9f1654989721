//! The master key: 32 random bytes kept outside the store, under which the store's private key
//! material (the token signing keys, the CA key) is sealed, so a copy of the database, a dump or
//! a backup holds no usable key.
//!
//! Where it comes from: `--master-key-file` / `MIMIC_MASTER_KEY_FILE` (base64 of 32 bytes, e.g.
//! `openssl rand -base64 32`); for SQLite without one, `DATA_DIR/master.key`, created (0600) on
//! first start. PostgreSQL replicas must all be given the same file: a replica without one
//! refuses to start, and one with another key than the store was sealed under refuses too (the
//! store keeps a sealed check value, meta `master_key.check`).
//!
//! Sealed values are AES-256-GCM (`mimic_domain::sealed::seal_with`) bound to their purpose and
//! row (the additional data, e.g. `signing_keys/<kid>`), so a sealed value moved to another row
//! does not open; stored as text `mimic-sealed:v1:` + base64url(nonce, ciphertext, tag).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use base64::engine::general_purpose::{STANDARD as B64_STD, URL_SAFE_NO_PAD as B64};
use base64::Engine;
use mimic_domain::sealed;
use mimic_store::Store;

const SEALED_PREFIX: &str = "mimic-sealed:v1:";
const CHECK_META: &str = "master_key.check";
const CHECK_PLAINTEXT: &[u8] = b"mimic master key check";
/// The key file SQLite mode creates in the data directory when none is given.
pub const DEFAULT_FILE: &str = "master.key";

pub struct MasterKey {
    key: [u8; 32],
    /// Where it was read from, for error messages.
    source: PathBuf,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.source.display()) // never the key
    }
}

impl MasterKey {
    /// The key from `file`; without one, for SQLite (`shared_store` false) the data directory's
    /// `master.key`, created if absent; for a shared store (PostgreSQL) an error: every replica
    /// must be given the same key.
    pub fn resolve(file: Option<&Path>, data_dir: &Path, shared_store: bool) -> anyhow::Result<Self> {
        match file {
            Some(path) => Self::read(path),
            None if shared_store => bail!(
                "a PostgreSQL store needs a master key: pass --master-key-file FILE or set MIMIC_MASTER_KEY_FILE (the same file on every replica; create it once with `openssl rand -base64 32 > FILE`)"
            ),
            None => {
                let path = data_dir.join(DEFAULT_FILE);
                if !path.exists() {
                    let mut key = [0u8; 32];
                    aws_lc_rs::rand::fill(&mut key).map_err(|_| anyhow::anyhow!("the system's random source failed"))?;
                    crate::data_dir::write_private(&path, format!("{}\n", B64_STD.encode(key)).as_bytes())?;
                }
                Self::read(&path)
            }
        }
    }

    fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the master key file {}", path.display()))?;
        let bytes = B64_STD.decode(text.trim()).ok().filter(|b| b.len() == 32).with_context(|| {
            format!("the master key file {} must hold 32 random bytes, base64-encoded (`openssl rand -base64 32`)", path.display())
        })?;
        let mut key = [0u8; 32];
        key.copy_from_slice(&bytes);
        Ok(MasterKey { key, source: path.to_path_buf() })
    }

    /// `plaintext` sealed for `purpose` (its row: opening it for any other purpose fails).
    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> anyhow::Result<String> {
        let sealed = sealed::seal_with(&self.key, purpose.as_bytes(), plaintext).context("the system's random source failed")?;
        Ok(format!("{SEALED_PREFIX}{}", B64.encode(sealed)))
    }

    /// What `seal` sealed for `purpose`. Fails on a value sealed under another key or purpose,
    /// altered, or not sealed at all.
    pub fn open(&self, purpose: &str, value: &str) -> anyhow::Result<Vec<u8>> {
        let body = value.strip_prefix(SEALED_PREFIX).with_context(|| format!("{purpose} is not sealed"))?;
        let bytes = B64.decode(body).ok().with_context(|| format!("{purpose}: sealed value is corrupt"))?;
        sealed::open_with(&self.key, purpose.as_bytes(), &bytes)
            .with_context(|| format!("{purpose} does not open under the master key from {}", self.source.display()))
    }

    /// Whether a stored value is sealed (as opposed to the clear key material older versions kept).
    pub fn is_sealed(value: &[u8]) -> bool {
        value.starts_with(SEALED_PREFIX.as_bytes())
    }

    /// Checks that this is the key the store's values are sealed under (storing the check value
    /// on the first start that has one), so a replica given another key refuses to start rather
    /// than failing later on every token.
    pub fn check_against(&self, store: &Store) -> anyhow::Result<()> {
        let mut stored = store.read(|tx| tx.meta(CHECK_META))?;
        if stored.is_none() {
            let check = self.seal(CHECK_META, CHECK_PLAINTEXT)?;
            stored = store.write(|tx| match tx.meta(CHECK_META)? {
                Some(existing) => Ok::<_, mimic_store::StoreError>(Some(existing)), // another replica was first
                None => tx.put_meta(CHECK_META, &check).map(|()| Some(check.clone())),
            })?;
        }
        match stored.map(|s| self.open(CHECK_META, &s)) {
            Some(Ok(plain)) if plain == CHECK_PLAINTEXT => Ok(()),
            _ => bail!(
                "the master key from {} is not the one this store is sealed under (every replica must be given the same master key file)",
                self.source.display()
            ),
        }
    }

    #[cfg(test)]
    fn fixed(key: [u8; 32]) -> Self {
        MasterKey { key, source: PathBuf::from("test") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_for_their_purpose_under_their_key() {
        let (a, b) = (MasterKey::fixed([7; 32]), MasterKey::fixed([8; 32]));
        let s = a.seal("signing_keys/k1", b"pkcs8").unwrap();
        assert!(MasterKey::is_sealed(s.as_bytes()));
        assert!(!MasterKey::is_sealed(b"-----BEGIN PRIVATE KEY-----"));
        assert_eq!(a.open("signing_keys/k1", &s).unwrap(), b"pkcs8");
        assert!(a.open("signing_keys/k2", &s).is_err());
        assert!(b.open("signing_keys/k1", &s).is_err());
        assert!(a.open("signing_keys/k1", "pkcs8").is_err());
    }

    #[test]
    fn a_key_file_must_hold_32_base64_bytes() {
        let dir = std::env::temp_dir().join(format!("mimic-mk-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let created = MasterKey::resolve(None, &dir, false).unwrap();
        let again = MasterKey::resolve(None, &dir, false).unwrap();
        assert_eq!(created.key, again.key);
        assert!(MasterKey::resolve(None, &dir, true).is_err());
        let bad = dir.join("bad.key");
        std::fs::write(&bad, "c2hvcnQ=\n").unwrap();
        assert!(MasterKey::resolve(Some(&bad), &dir, true).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
