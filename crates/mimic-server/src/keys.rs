//! The token signing keys: kept in the store (the first one created on first start), shared by
//! every surface that mints or checks tokens, and by every replica over one store.
//!
//! Rotation (`rotate`, `POST /mimic/signing-keys/rotate`) stores a new active key; the previous
//! keys stay published in JWKS so tokens they signed stay valid until they expire, as Entra
//! keeps its previous keys in its JWKS through a rollover
//! (https://learn.microsoft.com/entra/identity-platform/signing-key-rollover). A key retired
//! longer ago than the longest token lifetime is removed, since nothing it signed is still valid.
//!
//! Every replica sees a rotation at its next use of the keys: the ring remembers the store
//! generation it loaded at and, when the generation moves (any committed write, anywhere),
//! re-reads the key rows and re-parses the keys only if the set changed.
//!
//! A row holds its PKCS#8 sealed under the master key (`master_key.rs`) for `signing_keys/<kid>`;
//! rows an older version stored in clear are sealed on the first start with a master key.

use std::sync::{Arc, RwLock};

use mimic_domain::token::SigningKey;
use mimic_store::{Store, StoredKey};

use crate::master_key::MasterKey;

/// The longest lifetime of a token Mimic signs (IMDS tokens: 24 hours), plus clock skew: a key
/// retired longer ago than this signed nothing that is still valid.
const RETIRED_KEY_KEPT_SECS: i64 = 86_400 + 300;

#[derive(Clone)]
pub struct KeyRing(Arc<Inner>);

struct Inner {
    store: Store,
    master: Arc<MasterKey>,
    loaded: RwLock<Loaded>,
}

struct Loaded {
    /// The store generation the keys were read at.
    generation: u64,
    /// The rows' (kid, active) pairs, to tell a changed key set from any other write.
    rows: Vec<(String, bool)>,
    keys: Arc<Vec<SigningKey>>,
}

impl KeyRing {
    /// The master key the keys are sealed under, for the other secrets the store keeps sealed.
    pub fn master_key(&self) -> &MasterKey {
        &self.0.master
    }

    /// The stored keys, after storing a first one if there is none. Replicas starting together
    /// agree on it: the check and the insert are one (serializable) transaction.
    /// Rows stored in clear (by an older version) are sealed here.
    pub fn load_or_create(store: &Store, master: Arc<MasterKey>) -> anyhow::Result<Self> {
        let generation = store.generation();
        let mut stored = store.read(|tx| tx.signing_keys())?;
        if stored.is_empty() {
            let k = SigningKey::generate()?;
            let row = sealed_row(&master, &k, chrono::Utc::now().timestamp())?;
            stored = store.write(|tx| {
                if tx.signing_keys()?.is_empty() {
                    tx.put_signing_key(&row)?;
                }
                tx.signing_keys()
            })?;
        }
        if stored.iter().any(|k| !MasterKey::is_sealed(&k.pkcs8)) {
            stored = seal_clear_rows(store, &master)?;
        }
        let loaded = parse(&master, generation, &stored)?;
        Ok(KeyRing(Arc::new(Inner { store: store.clone(), master, loaded: RwLock::new(loaded) })))
    }

    /// All published keys as the store has them now; the first one signs new tokens.
    pub fn keys(&self) -> Arc<Vec<SigningKey>> {
        let generation = self.0.store.generation();
        {
            let loaded = self.0.loaded.read().unwrap_or_else(|p| p.into_inner());
            if loaded.generation == generation {
                return loaded.keys.clone();
            }
        }
        match self.reload(generation) {
            Ok(keys) => keys,
            Err(e) => {
                // The store is unreachable or a row is corrupt: keep signing with what was
                // loaded, and try again at the next call.
                tracing::warn!(error = %e, "cannot reload the signing keys");
                self.0.loaded.read().unwrap_or_else(|p| p.into_inner()).keys.clone()
            }
        }
    }

    /// Re-reads the key rows (read after `generation`, so never older than it); parses them
    /// only when the set changed.
    fn reload(&self, generation: u64) -> anyhow::Result<Arc<Vec<SigningKey>>> {
        let stored = self.0.store.read(|tx| tx.signing_keys())?;
        let mut loaded = self.0.loaded.write().unwrap_or_else(|p| p.into_inner());
        if rows(&stored) != loaded.rows {
            *loaded = parse(&self.0.master, generation, &stored)?;
        } else {
            loaded.generation = generation;
        }
        Ok(loaded.keys.clone())
    }

    /// Stores a new active key and retires the others (removing those retired long enough ago
    /// that nothing they signed is valid). Returns the new key's `kid`. Every replica signs with
    /// it from its next request on (see `keys`).
    pub fn rotate(&self) -> anyhow::Result<String> {
        let k = SigningKey::generate()?;
        let now = chrono::Utc::now().timestamp();
        let new = sealed_row(&self.0.master, &k, now)?;
        self.0.store.write(|tx| {
            // Newest first: a key was retired when the next newer one was created.
            let stored = tx.signing_keys()?;
            let mut retired_at = now;
            for mut old in stored {
                if now - retired_at > RETIRED_KEY_KEPT_SECS {
                    tx.delete_signing_key(&old.kid)?;
                } else if old.active {
                    old.active = false;
                    tx.put_signing_key(&old)?;
                }
                retired_at = old.created;
            }
            tx.put_signing_key(&new)
        })?;
        self.keys();
        Ok(new.kid)
    }
}

/// What a row of `kid` is sealed for: its table and kid, so a sealed key copied to another row
/// does not open.
fn purpose(kid: &str) -> String {
    format!("signing_keys/{kid}")
}

fn sealed_row(master: &MasterKey, k: &SigningKey, created: i64) -> anyhow::Result<StoredKey> {
    let pkcs8 = master.seal(&purpose(&k.kid), k.pkcs8())?.into_bytes();
    Ok(StoredKey { kid: k.kid.clone(), pkcs8, created, active: true })
}

/// Seals every row still in clear (one transaction, re-read inside it, so replicas migrating
/// together each seal what is left). Returns the rows after.
fn seal_clear_rows(store: &Store, master: &MasterKey) -> anyhow::Result<Vec<StoredKey>> {
    let sealed = store.write(|tx| {
        let mut n = 0;
        for mut row in tx.signing_keys()? {
            if !MasterKey::is_sealed(&row.pkcs8) {
                row.pkcs8 = master.seal(&purpose(&row.kid), &row.pkcs8)?.into_bytes();
                tx.put_signing_key(&row)?;
                n += 1;
            }
        }
        Ok::<_, anyhow::Error>(n)
    })?;
    tracing::info!(sealed, "sealed the signing keys an older version stored in clear");
    store.scrub()?;
    Ok(store.read(|tx| tx.signing_keys())?)
}

/// A row's PKCS#8: opened under the master key; one still in clear (written since start by an
/// older replica during a rolling upgrade) is read as is and sealed at the next start.
fn pkcs8(master: &MasterKey, k: &StoredKey) -> anyhow::Result<Vec<u8>> {
    if MasterKey::is_sealed(&k.pkcs8) {
        master.open(&purpose(&k.kid), std::str::from_utf8(&k.pkcs8)?)
    } else {
        Ok(k.pkcs8.clone())
    }
}

fn rows(stored: &[StoredKey]) -> Vec<(String, bool)> {
    stored.iter().map(|k| (k.kid.clone(), k.active)).collect()
}

/// The keys with the active one first (the newest, should two be marked active), then the
/// retired ones newest first; `stored` comes newest first.
fn parse(master: &MasterKey, generation: u64, stored: &[StoredKey]) -> anyhow::Result<Loaded> {
    let mut keys: Vec<SigningKey> = Vec::with_capacity(stored.len());
    for k in stored.iter().filter(|k| k.active).chain(stored.iter().filter(|k| !k.active)) {
        keys.push(SigningKey::from_pkcs8(&pkcs8(master, k)?)?);
    }
    Ok(Loaded { generation, rows: rows(stored), keys: Arc::new(keys) })
}
