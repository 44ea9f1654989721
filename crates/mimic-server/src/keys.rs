//! The token signing keys: loaded from the store (created on first start), shared by every
//! surface that mints or checks tokens. Rotation adds a key and makes it active; old keys stay
//! published in JWKS so tokens they signed remain valid until they expire.

use std::sync::{Arc, RwLock};

use mimic_domain::token::SigningKey;
use mimic_store::{Store, StoredKey};

#[derive(Clone)]
pub struct KeyRing(Arc<RwLock<Arc<Vec<SigningKey>>>>);

impl KeyRing {
    /// The stored keys, after storing a first one if there is none. Replicas starting together
    /// agree on it: the check and the insert are one (serializable) transaction.
    pub fn load_or_create(store: &Store) -> anyhow::Result<Self> {
        let mut stored = store.read(|tx| tx.signing_keys())?;
        if stored.is_empty() {
            let k = SigningKey::generate()?;
            let row = StoredKey { kid: k.kid.clone(), pkcs8: k.pkcs8().to_vec(), created: chrono::Utc::now().timestamp(), active: true };
            stored = store.write(|tx| {
                if tx.signing_keys()?.is_empty() {
                    tx.put_signing_key(&row)?;
                }
                tx.signing_keys()
            })?;
        }
        let mut keys: Vec<SigningKey> = Vec::new();
        for k in stored.iter().filter(|k| k.active).chain(stored.iter().filter(|k| !k.active)) {
            keys.push(SigningKey::from_pkcs8(&k.pkcs8)?);
        }
        Ok(KeyRing(Arc::new(RwLock::new(Arc::new(keys)))))
    }

    /// All published keys; the first one signs new tokens.
    pub fn keys(&self) -> Arc<Vec<SigningKey>> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Creates a new active key; previous keys stay for verification.
    pub fn rotate(&self, store: &Store) -> anyhow::Result<String> {
        let k = SigningKey::generate()?;
        let kid = k.kid.clone();
        let now = chrono::Utc::now().timestamp();
        let old: Vec<StoredKey> = store.read(|tx| tx.signing_keys())?;
        store.write(|tx| {
            for mut o in old.clone() {
                o.active = false;
                tx.put_signing_key(&o)?;
            }
            tx.put_signing_key(&StoredKey { kid: k.kid.clone(), pkcs8: k.pkcs8().to_vec(), created: now, active: true })
        })?;
        let mut guard = self.0.write().unwrap_or_else(|p| p.into_inner());
        let mut keys: Vec<SigningKey> = vec![k];
        for existing in guard.iter() {
            keys.push(SigningKey::from_pkcs8(existing.pkcs8())?);
        }
        *guard = Arc::new(keys);
        Ok(kid)
    }
}
