//! Keys: RSA and EC key pairs made, kept and used as Key Vault does, with real cryptography
//! (aws-lc-rs). The private key never leaves: callers get the public JSON Web Key, signatures
//! over digests they hashed, and RSA encryption and key wrapping.
//!
//! Sources: Key Vault's data-plane API (`JsonWebKeyType`, `JsonWebKeyCurveName`,
//! `JsonWebKeySignatureAlgorithm`, `JsonWebKeyEncryptionAlgorithm`, `JsonWebKeyOperation` in
//! keys.json) and "About keys" (learn.microsoft.com/azure/key-vault/keys/about-keys-details:
//! RSA 2048, 3072 and 4096 bits; curves P-256, P-384, P-521, P-256K).

use aws_lc_rs::digest;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{
    self, KeySize, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, Pkcs1PrivateDecryptingKey, Pkcs1PublicEncryptingKey,
};
use aws_lc_rs::rsa::{OaepAlgorithm, PrivateDecryptingKey, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256};
use aws_lc_rs::signature::{self, EcdsaKeyPair, EcdsaSigningAlgorithm, EcdsaVerificationAlgorithm, KeyPair, UnparsedPublicKey};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use mimic_wire::keyvault::PublicJwk;
use serde::{Deserialize, Serialize};

use super::objects::{Lifetime, ObjectRecord, Versioned};

/// A key's family: Key Vault's `kty` without `-HSM` (an HSM key is the same key kept in a
/// premium vault's HSM; here both are software keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Rsa,
    Ec,
}

/// `kty` as Key Vault accepts it on create: the family and whether it asks for an HSM.
pub fn parse_kty(kty: &str) -> Option<(Family, bool)> {
    match kty {
        "RSA" => Some((Family::Rsa, false)),
        "RSA-HSM" => Some((Family::Rsa, true)),
        "EC" => Some((Family::Ec, false)),
        "EC-HSM" => Some((Family::Ec, true)),
        _ => None,
    }
}

/// Elliptic curves Key Vault offers (spelt as `Curve::name` where stored or answered).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
    P521,
    P256K,
}

impl Curve {
    pub fn parse(s: &str) -> Option<Curve> {
        match s {
            "P-256" => Some(Curve::P256),
            "P-384" => Some(Curve::P384),
            "P-521" => Some(Curve::P521),
            "P-256K" | "SECP256K1" => Some(Curve::P256K),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
            Curve::P256K => "P-256K",
        }
    }

    /// The curve's ECDSA with its JOSE hash (ES256 on P-256, ES384 on P-384, ES512 on P-521,
    /// ES256K on P-256K), signatures as JOSE's fixed-size `r || s`.
    fn signing(self) -> &'static EcdsaSigningAlgorithm {
        match self {
            Curve::P256 => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            Curve::P384 => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
            Curve::P521 => &signature::ECDSA_P521_SHA512_FIXED_SIGNING,
            Curve::P256K => &signature::ECDSA_P256K1_SHA256_FIXED_SIGNING,
        }
    }

    fn verification(self) -> &'static EcdsaVerificationAlgorithm {
        match self {
            Curve::P256 => &signature::ECDSA_P256_SHA256_FIXED,
            Curve::P384 => &signature::ECDSA_P384_SHA384_FIXED,
            Curve::P521 => &signature::ECDSA_P521_SHA512_FIXED,
            Curve::P256K => &signature::ECDSA_P256K1_SHA256_FIXED,
        }
    }

    /// The JOSE algorithm that signs with this curve.
    fn jose_alg(self) -> &'static str {
        match self {
            Curve::P256 => "ES256",
            Curve::P384 => "ES384",
            Curve::P521 => "ES512",
            Curve::P256K => "ES256K",
        }
    }
}

/// One version of a key: its public material and attributes (the private key, PKCS#8, is
/// stored apart, sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyVersion {
    pub version: String,
    /// `kty` as created (`RSA`, `RSA-HSM`, `EC`, `EC-HSM`).
    pub kty: String,
    pub key_ops: Vec<String>,
    pub public: PublicJwk,
    #[serde(flatten)]
    pub life: Lifetime,
    #[serde(default)]
    pub tags: serde_json::Map<String, serde_json::Value>,
}

impl Versioned for KeyVersion {
    fn version(&self) -> &str {
        &self.version
    }
}

impl KeyVersion {
    pub fn family(&self) -> Family {
        if self.kty.starts_with("EC") {
            Family::Ec
        } else {
            Family::Rsa
        }
    }
}

/// A key and its versions (store kind `KEYVAULT_KEY`).
pub type KeyRecord = ObjectRecord<KeyVersion>;

/// Every operation Key Vault names (`JsonWebKeyOperation`), as `key_ops` spells them.
pub const OPERATIONS: [&str; 6] = ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"];

/// The operations a key allows when its creator names none: all its family can do.
pub fn default_ops(family: Family) -> Vec<String> {
    let ops: &[&str] = match family {
        Family::Rsa => &OPERATIONS,
        Family::Ec => &["sign", "verify"],
    };
    ops.iter().map(|s| s.to_string()).collect()
}

/// Why a key operation cannot be done, in words for Key Vault's `BadParameter`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("{0}")]
    BadParameter(String),
    /// The cryptographic library refused (a bad ciphertext, say): nothing more is said, as a
    /// padding oracle would otherwise be.
    #[error("The operation failed.")]
    Failed,
}

fn bad(message: impl Into<String>) -> KeyError {
    KeyError::BadParameter(message.into())
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A freshly made key: its PKCS#8 private key and its public JWK members.
pub struct NewKey {
    pub pkcs8: Vec<u8>,
    pub public: PublicJwk,
}

/// Makes a key of `family`: RSA of `key_size` bits (2048, 3072 or 4096; 2048 when absent, with
/// the public exponent 65537), or EC on `curve` (P-256 when absent).
pub fn generate(family: Family, key_size: Option<u32>, public_exponent: Option<u64>, curve: Option<Curve>) -> Result<NewKey, KeyError> {
    match family {
        Family::Rsa => {
            let size = match key_size.unwrap_or(2048) {
                2048 => KeySize::Rsa2048,
                3072 => KeySize::Rsa3072,
                4096 => KeySize::Rsa4096,
                other => return Err(bad(format!("The key size {other} is not supported: RSA keys are 2048, 3072 or 4096 bits."))),
            };
            if public_exponent.is_some_and(|e| e != 65537) {
                return Err(bad("The public exponent must be 65537."));
            }
            let pair = rsa::KeyPair::generate(size).map_err(|_| KeyError::Failed)?;
            let pkcs8 = pair.as_der().map_err(|_| KeyError::Failed)?.as_ref().to_vec();
            let public = rsa_public(&pair);
            Ok(NewKey { pkcs8, public })
        }
        Family::Ec => {
            let curve = curve.unwrap_or(Curve::P256);
            let pair = EcdsaKeyPair::generate(curve.signing()).map_err(|_| KeyError::Failed)?;
            let pkcs8 = pair.to_pkcs8v1().map_err(|_| KeyError::Failed)?.as_ref().to_vec();
            let public = ec_public(curve, pair.public_key().as_ref())?;
            Ok(NewKey { pkcs8, public })
        }
    }
}

fn rsa_public(pair: &rsa::KeyPair) -> PublicJwk {
    let public = pair.public_key();
    PublicJwk {
        n: Some(b64(public.modulus().big_endian_without_leading_zero())),
        e: Some(b64(public.exponent().big_endian_without_leading_zero())),
        ..Default::default()
    }
}

/// The JWK of an uncompressed point `04 || x || y`.
fn ec_public(curve: Curve, point: &[u8]) -> Result<PublicJwk, KeyError> {
    let coordinates = point.strip_prefix(&[4u8]).filter(|c| !c.is_empty() && c.len() % 2 == 0).ok_or(KeyError::Failed)?;
    let (x, y) = coordinates.split_at(coordinates.len() / 2);
    Ok(PublicJwk { crv: Some(curve.name().to_string()), x: Some(b64(x)), y: Some(b64(y)), ..Default::default() })
}

/// A key loaded for use: the family decides which algorithms apply.
pub struct Material<'a> {
    pub family: Family,
    pub curve: Option<Curve>,
    pub pkcs8: &'a [u8],
}

impl<'a> Material<'a> {
    pub fn of(version: &KeyVersion, pkcs8: &'a [u8]) -> Self {
        Material { family: version.family(), curve: version.public.crv.as_deref().and_then(Curve::parse), pkcs8 }
    }

    fn ec(&self, alg: &str) -> Result<(Curve, EcdsaKeyPair), KeyError> {
        let curve = self.curve.ok_or(KeyError::Failed)?;
        if alg != curve.jose_alg() {
            return Err(bad(format!("Invalid algorithm '{alg}' for a key on curve {}: use {}.", curve.name(), curve.jose_alg())));
        }
        let pair = EcdsaKeyPair::from_pkcs8(curve.signing(), self.pkcs8).map_err(|_| KeyError::Failed)?;
        Ok((curve, pair))
    }

    fn rsa_only(&self, alg: &str) -> Result<(), KeyError> {
        match self.family {
            Family::Rsa => Ok(()),
            Family::Ec => Err(bad(format!("Invalid algorithm '{alg}' for an EC key."))),
        }
    }
}

/// RSA signature algorithms: (padding to sign with, parameters to verify with, digest).
fn rsa_sign_alg(alg: &str) -> Option<(&'static dyn signature::RsaEncoding, &'static signature::RsaParameters, &'static digest::Algorithm)> {
    Some(match alg {
        "RS256" => (&signature::RSA_PKCS1_SHA256, &signature::RSA_PKCS1_2048_8192_SHA256, &digest::SHA256),
        "RS384" => (&signature::RSA_PKCS1_SHA384, &signature::RSA_PKCS1_2048_8192_SHA384, &digest::SHA384),
        "RS512" => (&signature::RSA_PKCS1_SHA512, &signature::RSA_PKCS1_2048_8192_SHA512, &digest::SHA512),
        "PS256" => (&signature::RSA_PSS_SHA256, &signature::RSA_PSS_2048_8192_SHA256, &digest::SHA256),
        "PS384" => (&signature::RSA_PSS_SHA384, &signature::RSA_PSS_2048_8192_SHA384, &digest::SHA384),
        "PS512" => (&signature::RSA_PSS_SHA512, &signature::RSA_PSS_2048_8192_SHA512, &digest::SHA512),
        _ => return None,
    })
}

fn is_ec_alg(alg: &str) -> bool {
    matches!(alg, "ES256" | "ES384" | "ES512" | "ES256K")
}

fn imported_digest(value: &[u8], algorithm: &'static digest::Algorithm, alg: &str) -> Result<digest::Digest, KeyError> {
    digest::Digest::import_less_safe(value, algorithm)
        .map_err(|_| bad(format!("Invalid digest: {alg} signs a digest of {} bytes, {} given.", algorithm.output_len(), value.len())))
}

fn ec_digest(curve: Curve, value: &[u8], alg: &str) -> Result<digest::Digest, KeyError> {
    let algorithm = match curve {
        Curve::P256 | Curve::P256K => &digest::SHA256,
        Curve::P384 => &digest::SHA384,
        Curve::P521 => &digest::SHA512,
    };
    imported_digest(value, algorithm, alg)
}

fn unknown_alg(alg: &str) -> KeyError {
    bad(format!("Invalid algorithm '{alg}'."))
}

/// Signs `digest` (the caller hashed the message, as Key Vault's `sign` expects).
pub fn sign(key: &Material<'_>, alg: &str, digest_value: &[u8]) -> Result<Vec<u8>, KeyError> {
    if let Some((padding, _, algorithm)) = rsa_sign_alg(alg) {
        key.rsa_only(alg)?;
        let pair = rsa::KeyPair::from_pkcs8(key.pkcs8).map_err(|_| KeyError::Failed)?;
        let digest = imported_digest(digest_value, algorithm, alg)?;
        let mut out = vec![0u8; pair.public_modulus_len()];
        pair.sign_digest(padding, &digest, &mut out).map_err(|_| KeyError::Failed)?;
        return Ok(out);
    }
    if is_ec_alg(alg) {
        if key.family != Family::Ec {
            return Err(bad(format!("Invalid algorithm '{alg}' for an RSA key.")));
        }
        let (curve, pair) = key.ec(alg)?;
        let digest = ec_digest(curve, digest_value, alg)?;
        return pair.sign_digest(&digest).map(|s| s.as_ref().to_vec()).map_err(|_| KeyError::Failed);
    }
    Err(unknown_alg(alg))
}

/// Whether `sig` is this key's signature of `digest` under `alg`.
pub fn verify(key: &Material<'_>, alg: &str, digest_value: &[u8], sig: &[u8]) -> Result<bool, KeyError> {
    if let Some((_, params, algorithm)) = rsa_sign_alg(alg) {
        key.rsa_only(alg)?;
        let pair = rsa::KeyPair::from_pkcs8(key.pkcs8).map_err(|_| KeyError::Failed)?;
        let digest = imported_digest(digest_value, algorithm, alg)?;
        return Ok(UnparsedPublicKey::new(params, pair.public_key().as_ref()).verify_digest(&digest, sig).is_ok());
    }
    if is_ec_alg(alg) {
        if key.family != Family::Ec {
            return Err(bad(format!("Invalid algorithm '{alg}' for an RSA key.")));
        }
        let (curve, pair) = key.ec(alg)?;
        let digest = ec_digest(curve, digest_value, alg)?;
        return Ok(UnparsedPublicKey::new(curve.verification(), pair.public_key().as_ref()).verify_digest(&digest, sig).is_ok());
    }
    Err(unknown_alg(alg))
}

/// RSA encryption algorithms (encrypt and wrapKey share them): OAEP's hash, or PKCS#1 v1.5.
fn oaep(alg: &str) -> Option<Option<&'static OaepAlgorithm>> {
    match alg {
        "RSA1_5" => Some(None),
        "RSA-OAEP" => Some(Some(&OAEP_SHA1_MGF1SHA1)),
        "RSA-OAEP-256" => Some(Some(&OAEP_SHA256_MGF1SHA256)),
        _ => None,
    }
}

/// Encrypts (or wraps) `plaintext` with the key's public half.
pub fn encrypt(key: &Material<'_>, alg: &str, plaintext: &[u8]) -> Result<Vec<u8>, KeyError> {
    let padding = oaep(alg).ok_or_else(|| unknown_alg(alg))?;
    key.rsa_only(alg)?;
    let public = PrivateDecryptingKey::from_pkcs8(key.pkcs8).map_err(|_| KeyError::Failed)?.public_key();
    let too_long = || bad(format!("The plaintext is too long for {alg} with a {}-bit key.", public.key_size_bits()));
    let mut out = vec![0u8; public.key_size_bytes()];
    let n = match padding {
        Some(algorithm) => {
            let k = OaepPublicEncryptingKey::new(public.clone()).map_err(|_| KeyError::Failed)?;
            if plaintext.len() > k.max_plaintext_size(algorithm) {
                return Err(too_long());
            }
            k.encrypt(algorithm, plaintext, &mut out, None).map_err(|_| KeyError::Failed)?.len()
        }
        None => {
            let k = Pkcs1PublicEncryptingKey::new(public.clone()).map_err(|_| KeyError::Failed)?;
            if plaintext.len() > k.max_plaintext_size() {
                return Err(too_long());
            }
            k.encrypt(plaintext, &mut out).map_err(|_| KeyError::Failed)?.len()
        }
    };
    out.truncate(n);
    Ok(out)
}

/// Decrypts (or unwraps) `ciphertext` with the private key.
pub fn decrypt(key: &Material<'_>, alg: &str, ciphertext: &[u8]) -> Result<Vec<u8>, KeyError> {
    let padding = oaep(alg).ok_or_else(|| unknown_alg(alg))?;
    key.rsa_only(alg)?;
    let private = PrivateDecryptingKey::from_pkcs8(key.pkcs8).map_err(|_| KeyError::Failed)?;
    if ciphertext.len() != private.key_size_bytes() {
        return Err(bad(format!("The ciphertext must be {} bytes for this key.", private.key_size_bytes())));
    }
    let mut out = vec![0u8; private.key_size_bytes()];
    let n = match padding {
        Some(algorithm) => {
            let k = OaepPrivateDecryptingKey::new(private).map_err(|_| KeyError::Failed)?;
            k.decrypt(algorithm, ciphertext, &mut out, None).map_err(|_| KeyError::Failed)?.len()
        }
        None => {
            let k = Pkcs1PrivateDecryptingKey::new(private).map_err(|_| KeyError::Failed)?;
            k.decrypt(ciphertext, &mut out).map_err(|_| KeyError::Failed)?.len()
        }
    };
    out.truncate(n);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(alg: &'static digest::Algorithm) -> Vec<u8> {
        digest::digest(alg, b"the message").as_ref().to_vec()
    }

    #[test]
    fn rsa_signs_verifies_and_encrypts_with_every_algorithm() {
        let key = generate(Family::Rsa, None, None, None).unwrap();
        let n = URL_SAFE_NO_PAD.decode(key.public.n.as_ref().unwrap()).unwrap();
        assert_eq!(n.len(), 256, "2048 bits");
        assert_eq!(key.public.e.as_deref(), Some("AQAB"));
        let m = Material { family: Family::Rsa, curve: None, pkcs8: &key.pkcs8 };
        for (alg, d) in [
            ("RS256", &digest::SHA256),
            ("RS384", &digest::SHA384),
            ("RS512", &digest::SHA512),
            ("PS256", &digest::SHA256),
            ("PS512", &digest::SHA512),
        ] {
            let sig = sign(&m, alg, &sha(d)).unwrap();
            assert_eq!(sig.len(), 256);
            assert!(verify(&m, alg, &sha(d), &sig).unwrap(), "{alg}");
            let mut other = sig.clone();
            other[10] ^= 1;
            assert!(!verify(&m, alg, &sha(d), &other).unwrap(), "{alg} tampered");
        }
        assert!(matches!(sign(&m, "RS256", &sha(&digest::SHA384)), Err(KeyError::BadParameter(_))), "digest length");
        assert!(matches!(sign(&m, "ES256", &sha(&digest::SHA256)), Err(KeyError::BadParameter(_))));
        assert!(matches!(sign(&m, "HS256", &sha(&digest::SHA256)), Err(KeyError::BadParameter(_))));
        for alg in ["RSA1_5", "RSA-OAEP", "RSA-OAEP-256"] {
            let c = encrypt(&m, alg, b"a content key, 32 bytes long....").unwrap();
            assert_eq!(c.len(), 256);
            assert_eq!(decrypt(&m, alg, &c).unwrap(), b"a content key, 32 bytes long....", "{alg}");
        }
        let c = encrypt(&m, "RSA-OAEP", b"x").unwrap();
        assert_eq!(decrypt(&m, "RSA-OAEP-256", &c), Err(KeyError::Failed), "another padding does not open it");
        assert!(matches!(encrypt(&m, "RSA-OAEP", &[0u8; 250]), Err(KeyError::BadParameter(_))), "too long");
        assert!(matches!(generate(Family::Rsa, Some(1024), None, None), Err(KeyError::BadParameter(_))));
        assert!(matches!(generate(Family::Rsa, None, Some(3), None), Err(KeyError::BadParameter(_))));
    }

    #[test]
    fn ec_signs_on_every_curve_with_its_own_algorithm() {
        for (curve, alg, d, len) in [
            (Curve::P256, "ES256", &digest::SHA256, 32),
            (Curve::P384, "ES384", &digest::SHA384, 48),
            (Curve::P521, "ES512", &digest::SHA512, 66),
            (Curve::P256K, "ES256K", &digest::SHA256, 32),
        ] {
            let key = generate(Family::Ec, None, None, Some(curve)).unwrap();
            assert_eq!(key.public.crv.as_deref(), Some(curve.name()));
            assert_eq!(URL_SAFE_NO_PAD.decode(key.public.x.as_ref().unwrap()).unwrap().len(), len);
            let m = Material { family: Family::Ec, curve: Some(curve), pkcs8: &key.pkcs8 };
            let sig = sign(&m, alg, &sha(d)).unwrap();
            assert_eq!(sig.len(), 2 * len, "JOSE r || s");
            assert!(verify(&m, alg, &sha(d), &sig).unwrap());
            assert!(!verify(&m, alg, &sha(d), &sig[..sig.len() - 1]).unwrap());
            let other = if alg == "ES384" { "ES256" } else { "ES384" };
            assert!(matches!(sign(&m, other, &sha(d)), Err(KeyError::BadParameter(_))), "{other} on {curve:?}");
            assert!(matches!(encrypt(&m, "RSA-OAEP", b"x"), Err(KeyError::BadParameter(_))));
        }
    }
}
