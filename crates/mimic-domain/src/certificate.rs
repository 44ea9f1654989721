//! Certificate credentials of applications (Graph `keyCredentials`) and the client assertions
//! signed with their keys.
//!
//! A client proves it holds a registered certificate's private key by signing a JWT whose
//! `iss` and `sub` are its client id and whose header names the certificate by thumbprint
//! (`x5t`, SHA-1, RFC 7515 §4.1.7, or `x5t#S256`, SHA-256, §4.1.8; MSAL sends the latter with
//! PS256 and falls back to the former with RS256). Entra finds the credential by that thumbprint,
//! checks the credential's validity window, the signature against the certificate's RSA key, then
//! the claims. Only RSA certificates are registered, as Entra requires for client credentials.

use aws_lc_rs::digest;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use x509_cert::der::Decode;

use crate::federation::external_token::{ExternalTokenError, UnverifiedToken};

/// Graph's `type` of a certificate credential that verifies client assertions.
pub const KEY_TYPE: &str = "AsymmetricX509Cert";
/// Graph's `usage` of such a credential.
pub const KEY_USAGE: &str = "Verify";
/// The audience of an `addKey`/`removeKey` proof of possession (application-addkey).
pub const PROOF_AUDIENCE: &str = "00000002-0000-0000-c000-000000000000";
/// Largest certificate read (DER); real ones are 1–2 KB.
pub const MAX_CERTIFICATE_BYTES: usize = 16 * 1024;
/// Most certificates one application holds. Mimic's bound, so that the token endpoint's search
/// stays small; Entra bounds the credentials by the application object's size.
pub const MAX_KEY_CREDENTIALS: usize = 50;
const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";

/// A certificate registered on an application (Graph `keyCredential`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyCredential {
    pub key_id: Uuid,
    #[serde(default)]
    pub display_name: Option<String>,
    /// `customKeyIdentifier`: the certificate's SHA-1 thumbprint (upper-case hex) unless the
    /// client set one.
    #[serde(default)]
    pub custom_key_identifier: Option<String>,
    /// The certificate, DER, base64 (Graph's `key`; never returned on reads).
    pub key: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl KeyCredential {
    pub fn certificate(&self) -> Option<Certificate> {
        Certificate::from_der(&B64.decode(&self.key).ok()?).ok()
    }

    pub fn is_current(&self, now: DateTime<Utc>) -> bool {
        self.start <= now && now <= self.end
    }
}

/// An X.509 certificate as far as Entra reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub der: Vec<u8>,
    /// The subject as RFC 4514 text (`CN=CLI-Login`), Graph's default `displayName`.
    pub subject: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// The RSA public key, PKCS#1 `RSAPublicKey` DER.
    rsa_public_key: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateError {
    /// Not base64, not PEM, not DER X.509, or too large.
    Invalid,
    /// A key other than RSA.
    NotRsa,
}

impl Certificate {
    /// Graph's `key`: base64 (line breaks allowed, as `az` sends it) of a DER certificate, or of
    /// a PEM file holding one.
    pub fn from_key(key: &str) -> Result<Self, CertificateError> {
        let compact: String = key.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        if compact.len() > MAX_CERTIFICATE_BYTES * 2 {
            return Err(CertificateError::Invalid);
        }
        let bytes = B64.decode(compact).map_err(|_| CertificateError::Invalid)?;
        match std::str::from_utf8(&bytes) {
            Ok(text) if text.trim_start().starts_with("-----BEGIN") => Self::from_pem(text),
            _ => Self::from_der(&bytes),
        }
    }

    /// The first `CERTIFICATE` block of a PEM text.
    pub fn from_pem(text: &str) -> Result<Self, CertificateError> {
        let body = text.split("-----BEGIN CERTIFICATE-----").nth(1).and_then(|rest| rest.split("-----END CERTIFICATE-----").next());
        let compact: String = body.ok_or(CertificateError::Invalid)?.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        Self::from_der(&B64.decode(compact).map_err(|_| CertificateError::Invalid)?)
    }

    pub fn from_der(der: &[u8]) -> Result<Self, CertificateError> {
        if der.len() > MAX_CERTIFICATE_BYTES {
            return Err(CertificateError::Invalid);
        }
        let cert = x509_cert::Certificate::from_der(der).map_err(|_| CertificateError::Invalid)?;
        let tbs = &cert.tbs_certificate;
        let spki = &tbs.subject_public_key_info;
        if spki.algorithm.oid.to_string() != RSA_ENCRYPTION {
            return Err(CertificateError::NotRsa);
        }
        let time = |t: x509_cert::time::Time| {
            DateTime::from_timestamp(i64::try_from(t.to_unix_duration().as_secs()).ok()?, 0).ok_or(CertificateError::Invalid).ok()
        };
        Ok(Certificate {
            der: der.to_vec(),
            subject: tbs.subject.to_string(),
            not_before: time(tbs.validity.not_before).ok_or(CertificateError::Invalid)?,
            not_after: time(tbs.validity.not_after).ok_or(CertificateError::Invalid)?,
            rsa_public_key: spki.subject_public_key.raw_bytes().to_vec(),
        })
    }

    /// The SHA-1 thumbprint as Windows and Entra print it: upper-case hex.
    pub fn thumbprint(&self) -> String {
        hex::encode_upper(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &self.der))
    }

    /// Whether a JWS header's `x5t` (SHA-1) or `x5t#S256` (SHA-256) names this certificate.
    fn is_named_by(&self, thumbprint: &Thumbprint) -> bool {
        let algorithm = match thumbprint {
            Thumbprint::Sha1(_) => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            Thumbprint::Sha256(_) => &digest::SHA256,
        };
        digest::digest(algorithm, &self.der).as_ref() == thumbprint.bytes()
    }
}

/// The thumbprint a client assertion's header names its certificate by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Thumbprint {
    Sha1(Vec<u8>),
    Sha256(Vec<u8>),
}

impl Thumbprint {
    /// `x5t#S256` when present (MSAL's choice), else `x5t`.
    pub fn of(token: &UnverifiedToken) -> Option<Self> {
        let decode = |name: &str| B64URL.decode(token.header_str(name)?.trim_end_matches('=')).ok();
        decode("x5t#S256").map(Thumbprint::Sha256).or_else(|| decode("x5t").map(Thumbprint::Sha1))
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Thumbprint::Sha1(b) | Thumbprint::Sha256(b) => b,
        }
    }

    /// Upper-case hex, as Entra's errors quote it.
    pub fn hex(&self) -> String {
        hex::encode_upper(self.bytes())
    }
}

/// What a new `keyCredential` says on the wire (POST/PATCH of an application, `addKey`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyCredentialInput {
    pub key_id: Option<Uuid>,
    pub display_name: Option<String>,
    pub custom_key_identifier: Option<String>,
    pub key: Option<String>,
    pub key_type: Option<String>,
    pub usage: Option<String>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

/// Why Graph refuses a `keyCredential`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCredentialError {
    /// No `key` for a credential the application does not hold already.
    MissingKey,
    InvalidKey(CertificateError),
    /// A `type` other than `AsymmetricX509Cert`.
    Type(String),
    /// A `usage` other than `Verify` (`Sign` keys are not modelled).
    Usage(String),
    /// A start before the certificate's `notBefore`.
    StartDate,
    /// An end after the certificate's `notAfter`, or before the start.
    EndDate,
    /// The same `keyId` twice.
    DuplicateKeyId(Uuid),
    TooMany,
}

/// A new credential from its wire form: the window defaults to the certificate's validity and
/// must lie inside it; `displayName` defaults to the certificate's subject and
/// `customKeyIdentifier` to its thumbprint, as Graph fills them.
pub fn new_key_credential(input: KeyCredentialInput) -> Result<KeyCredential, KeyCredentialError> {
    if let Some(t) = input.key_type.as_deref().filter(|t| *t != KEY_TYPE) {
        return Err(KeyCredentialError::Type(t.to_string()));
    }
    if let Some(u) = input.usage.as_deref().filter(|u| *u != KEY_USAGE) {
        return Err(KeyCredentialError::Usage(u.to_string()));
    }
    let key = input.key.as_deref().filter(|k| !k.trim().is_empty()).ok_or(KeyCredentialError::MissingKey)?;
    let cert = Certificate::from_key(key).map_err(KeyCredentialError::InvalidKey)?;
    let start = input.start.unwrap_or(cert.not_before);
    let end = input.end.unwrap_or(cert.not_after);
    if start < cert.not_before {
        return Err(KeyCredentialError::StartDate);
    }
    if end > cert.not_after || end <= start {
        return Err(KeyCredentialError::EndDate);
    }
    Ok(KeyCredential {
        key_id: input.key_id.unwrap_or_else(Uuid::new_v4),
        display_name: Some(input.display_name.unwrap_or_else(|| cert.subject.clone())),
        custom_key_identifier: Some(input.custom_key_identifier.unwrap_or_else(|| cert.thumbprint())),
        key: B64.encode(&cert.der),
        start,
        end,
    })
}

/// The credentials an application holds after a `keyCredentials` write, which replaces the
/// list: an entry naming a held `keyId` without a `key` keeps that credential (what a client
/// sends back from a read, where `key` is null); any other entry is a new certificate.
pub fn replace_key_credentials(held: &[KeyCredential], inputs: Vec<KeyCredentialInput>) -> Result<Vec<KeyCredential>, KeyCredentialError> {
    if inputs.len() > MAX_KEY_CREDENTIALS {
        return Err(KeyCredentialError::TooMany);
    }
    let mut out: Vec<KeyCredential> = Vec::with_capacity(inputs.len());
    for input in inputs {
        let kept = match (input.key_id, input.key.as_deref().filter(|k| !k.trim().is_empty())) {
            (Some(id), None) => held.iter().find(|c| c.key_id == id).cloned(),
            _ => None,
        };
        let credential = match kept {
            Some(c) => c,
            None => new_key_credential(input)?,
        };
        if out.iter().any(|c| c.key_id == credential.key_id) {
            return Err(KeyCredentialError::DuplicateKeyId(credential.key_id));
        }
        out.push(credential);
    }
    Ok(out)
}

/// Why a certificate-signed client assertion is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssertionError {
    Token(ExternalTokenError),
    /// The header names no certificate the application holds (or none at all).
    NotRegistered(Option<Thumbprint>),
    /// The named credential's window does not include now.
    Expired {
        thumbprint: Thumbprint,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
    /// `sub` is not the client id (`iss` is, or the assertion would be a federated one).
    Subject,
    /// `aud` is not one of the token endpoint's audiences.
    Audience(String),
}

/// Checks a client assertion `client_id` signed with one of `credentials`, in Entra's order:
/// the header's algorithm and thumbprint, the credential's window, the signature, the
/// lifetime, then `sub` and `aud`.
pub fn verify_assertion<'a>(
    credentials: &'a [KeyCredential],
    token: &UnverifiedToken,
    client_id: &str,
    audiences: &[String],
    now: DateTime<Utc>,
) -> Result<&'a KeyCredential, AssertionError> {
    let credential = verify_signed_by(credentials, token, now)?;
    token.check_lifetime(now.timestamp()).map_err(AssertionError::Token)?;
    if token.claim_str("sub") != Some(client_id) {
        return Err(AssertionError::Subject);
    }
    let aud = token.claim_str("aud").unwrap_or_default();
    if !audiences.iter().any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(aud.trim_end_matches('/'))) {
        return Err(AssertionError::Audience(aud.to_string()));
    }
    Ok(credential)
}

/// The current credential whose certificate signed `token`, found by the header's thumbprint.
pub fn verify_signed_by<'a>(
    credentials: &'a [KeyCredential],
    token: &UnverifiedToken,
    now: DateTime<Utc>,
) -> Result<&'a KeyCredential, AssertionError> {
    token.rsa_parameters().map_err(AssertionError::Token)?;
    let thumbprint = Thumbprint::of(token).ok_or(AssertionError::NotRegistered(None))?;
    let found = credentials.iter().find_map(|c| c.certificate().filter(|cert| cert.is_named_by(&thumbprint)).map(|cert| (c, cert)));
    let Some((credential, cert)) = found else {
        return Err(AssertionError::NotRegistered(Some(thumbprint)));
    };
    if !credential.is_current(now) {
        return Err(AssertionError::Expired { thumbprint, start: credential.start, end: credential.end });
    }
    token.verify_rsa_key(&cert.rsa_public_key).map_err(AssertionError::Token)?;
    Ok(credential)
}

/// Why an `addKey`/`removeKey` proof of possession is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofError {
    Malformed,
    /// Not signed by a current certificate of the application.
    Signature,
    /// `aud` or `iss` wrong, or outside its lifetime.
    Claims,
}

/// Checks the proof an `addKey`/`removeKey` call carries: a JWT signed with a current
/// certificate of the application, `aud` [`PROOF_AUDIENCE`], `iss` the application's object id,
/// within `nbf`..`exp` (application-addkey).
pub fn verify_proof(credentials: &[KeyCredential], proof: &str, object_id: Uuid, now: DateTime<Utc>) -> Result<(), ProofError> {
    let token = UnverifiedToken::parse(proof).map_err(|_| ProofError::Malformed)?;
    verify_signed_by(credentials, &token, now).map_err(|_| ProofError::Signature)?;
    token.check_lifetime(now.timestamp()).map_err(|_| ProofError::Claims)?;
    let iss_ok = token.claim_str("iss").and_then(|i| i.parse::<Uuid>().ok()) == Some(object_id);
    if token.claim_str("aud") != Some(PROOF_AUDIENCE) || !iss_ok {
        return Err(ProofError::Claims);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
