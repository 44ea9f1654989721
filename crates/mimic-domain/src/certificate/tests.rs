use super::*;
use crate::token::SigningKey;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RsaKeyPair, RSA_PKCS1_SHA256, RSA_PSS_SHA256};
use chrono::Duration;
use serde_json::{json, Value};

struct TestCert {
    key: SigningKey,
    der: Vec<u8>,
}

impl TestCert {
    fn new(days: i64) -> Self {
        let key = SigningKey::generate().unwrap();
        let pair = rcgen::KeyPair::try_from(key.pkcs8()).unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, "CLI-Login");
        let now = rcgen::date_time_ymd(2026, 1, 1);
        params.not_before = now;
        params.not_after = now + std::time::Duration::from_secs(days as u64 * 86_400);
        let der = params.self_signed(&pair).unwrap().der().to_vec();
        TestCert { key, der }
    }

    fn key_b64(&self) -> String {
        B64.encode(&self.der)
    }

    fn credential(&self) -> KeyCredential {
        new_key_credential(KeyCredentialInput { key: Some(self.key_b64()), ..Default::default() }).unwrap()
    }

    fn digest(&self, alg: &'static digest::Algorithm) -> String {
        B64URL.encode(digest::digest(alg, &self.der))
    }

    /// A JWS signed with the certificate's key; `pss` picks PS256 + x5t#S256 (MSAL's default)
    /// over RS256 + x5t.
    fn sign(&self, pss: bool, claims: Value) -> String {
        let header = if pss {
            json!({"alg": "PS256", "typ": "JWT", "x5t#S256": self.digest(&digest::SHA256)})
        } else {
            json!({"alg": "RS256", "typ": "JWT", "x5t": self.digest(&digest::SHA1_FOR_LEGACY_USE_ONLY)})
        };
        sign_with(&self.key, header, claims, pss)
    }
}

fn sign_with(key: &SigningKey, header: Value, claims: Value, pss: bool) -> String {
    let input = format!("{}.{}", B64URL.encode(header.to_string()), B64URL.encode(claims.to_string()));
    let pair = RsaKeyPair::from_pkcs8(key.pkcs8()).unwrap();
    let mut sig = vec![0; pair.public_modulus_len()];
    let alg = if pss { &RSA_PSS_SHA256 } else { &RSA_PKCS1_SHA256 };
    pair.sign(alg, &SystemRandom::new(), input.as_bytes(), &mut sig).unwrap();
    format!("{input}.{}", B64URL.encode(sig))
}

const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const AUD: &str = "https://login.microsoftonline.com/t/oauth2/v2.0/token";

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{y:04}-{m:02}-{d:02}T12:00:00Z")).unwrap().with_timezone(&Utc)
}

fn claims(now: DateTime<Utc>) -> Value {
    json!({"iss": CLIENT, "sub": CLIENT, "aud": AUD, "iat": now.timestamp(), "nbf": now.timestamp(), "exp": now.timestamp() + 600, "jti": "x"})
}

fn check(creds: &[KeyCredential], token: &str, now: DateTime<Utc>) -> Result<Uuid, AssertionError> {
    let t = UnverifiedToken::parse(token).unwrap();
    verify_assertion(creds, &t, CLIENT, &[AUD.to_string()], now).map(|c| c.key_id)
}

#[test]
fn a_credential_takes_its_defaults_from_the_certificate() {
    let cert = TestCert::new(365);
    let c = cert.credential();
    assert_eq!(c.display_name.as_deref(), Some("CN=CLI-Login"));
    let expected = hex::encode_upper(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &cert.der));
    assert_eq!(c.custom_key_identifier.as_deref(), Some(expected.as_str()));
    assert_eq!(c.start, at(2026, 1, 1) - Duration::hours(12));
    assert_eq!(c.end - c.start, Duration::days(365));
    assert_eq!(c.key, cert.key_b64());
}

#[test]
fn keys_are_read_as_base64_der_with_line_breaks_or_as_base64_pem() {
    let cert = TestCert::new(30);
    let b64 = cert.key_b64();
    let wrapped: String = b64.as_bytes().chunks(64).map(|l| format!("{}\n", std::str::from_utf8(l).unwrap())).collect();
    assert_eq!(Certificate::from_key(&wrapped).unwrap().der, cert.der);
    let pem = format!("-----BEGIN CERTIFICATE-----\n{wrapped}-----END CERTIFICATE-----\n");
    assert_eq!(Certificate::from_key(&B64.encode(pem)).unwrap().der, cert.der);
    assert_eq!(Certificate::from_key("not base64!"), Err(CertificateError::Invalid));
    assert_eq!(Certificate::from_key(&B64.encode(b"\x30\x03\x02\x01\x00")), Err(CertificateError::Invalid));
    assert_eq!(Certificate::from_key(&"A".repeat(MAX_CERTIFICATE_BYTES * 3)), Err(CertificateError::Invalid));
}

#[test]
fn a_window_outside_the_certificate_is_refused() {
    let cert = TestCert::new(30);
    let input = |start, end| KeyCredentialInput { key: Some(cert.key_b64()), start, end, ..Default::default() };
    assert_eq!(new_key_credential(input(Some(at(2025, 12, 1)), None)), Err(KeyCredentialError::StartDate));
    assert_eq!(new_key_credential(input(None, Some(at(2026, 3, 1)))), Err(KeyCredentialError::EndDate));
    assert_eq!(new_key_credential(input(Some(at(2026, 1, 10)), Some(at(2026, 1, 5)))), Err(KeyCredentialError::EndDate));
    let ok = new_key_credential(input(Some(at(2026, 1, 2)), Some(at(2026, 1, 20)))).unwrap();
    assert_eq!((ok.start, ok.end), (at(2026, 1, 2), at(2026, 1, 20)));
    let typed = |t: &str, u: &str| KeyCredentialInput { key_type: Some(t.into()), usage: Some(u.into()), ..input(None, None) };
    assert_eq!(new_key_credential(typed("Symmetric", KEY_USAGE)), Err(KeyCredentialError::Type("Symmetric".into())));
    assert_eq!(new_key_credential(typed(KEY_TYPE, "Sign")), Err(KeyCredentialError::Usage("Sign".into())));
    assert_eq!(new_key_credential(KeyCredentialInput::default()), Err(KeyCredentialError::MissingKey));
}

#[test]
fn a_write_keeps_held_credentials_named_by_key_id_and_adds_new_ones() {
    let (a, b) = (TestCert::new(30), TestCert::new(30));
    let held = vec![a.credential()];
    let keep = KeyCredentialInput { key_id: Some(held[0].key_id), ..Default::default() };
    let add = KeyCredentialInput { key: Some(b.key_b64()), ..Default::default() };
    let out = replace_key_credentials(&held, vec![keep.clone(), add.clone()]).unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(out[0], held[0]);
    assert_eq!(replace_key_credentials(&held, vec![add.clone()]).unwrap().len(), 1, "the list replaces what was held");
    let unknown = KeyCredentialInput { key_id: Some(Uuid::new_v4()), ..Default::default() };
    assert_eq!(replace_key_credentials(&held, vec![unknown]), Err(KeyCredentialError::MissingKey));
    assert!(matches!(replace_key_credentials(&held, vec![keep.clone(), keep]), Err(KeyCredentialError::DuplicateKeyId(_))));
    assert_eq!(replace_key_credentials(&held, vec![add; MAX_KEY_CREDENTIALS + 1]), Err(KeyCredentialError::TooMany));
}

#[test]
fn assertions_verify_by_either_thumbprint_header() {
    let cert = TestCert::new(30);
    let creds = vec![TestCert::new(30).credential(), cert.credential()];
    let now = at(2026, 1, 10);
    assert_eq!(check(&creds, &cert.sign(true, claims(now)), now), Ok(creds[1].key_id));
    assert_eq!(check(&creds, &cert.sign(false, claims(now)), now), Ok(creds[1].key_id));
}

#[test]
fn an_unregistered_certificate_is_named_by_its_thumbprint() {
    let (cert, other) = (TestCert::new(30), TestCert::new(30));
    let now = at(2026, 1, 10);
    let Err(AssertionError::NotRegistered(Some(t))) = check(&[cert.credential()], &other.sign(false, claims(now)), now) else {
        panic!("expected NotRegistered")
    };
    assert_eq!(t.hex(), hex::encode_upper(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &other.der)));
    // No thumbprint header at all.
    let bare = sign_with(&cert.key, json!({"alg": "RS256"}), claims(now), false);
    assert_eq!(check(&[cert.credential()], &bare, now), Err(AssertionError::NotRegistered(None)));
}

#[test]
fn a_forged_signature_expired_credential_wrong_claims_and_weak_algorithms_are_refused() {
    let cert = TestCert::new(30);
    let creds = vec![cert.credential()];
    let now = at(2026, 1, 10);
    // Names the registered certificate but is signed with another key.
    let forged = sign_with(
        &SigningKey::generate().unwrap(),
        json!({"alg": "RS256", "x5t": cert.digest(&digest::SHA1_FOR_LEGACY_USE_ONLY)}),
        claims(now),
        false,
    );
    assert_eq!(check(&creds, &forged, now), Err(AssertionError::Token(ExternalTokenError::Signature)));
    let later = at(2026, 3, 1);
    assert!(matches!(check(&creds, &cert.sign(true, claims(later)), later), Err(AssertionError::Expired { .. })));
    let stale = cert.sign(true, claims(now - Duration::hours(2)));
    assert!(matches!(check(&creds, &stale, now), Err(AssertionError::Token(ExternalTokenError::Lifetime { .. }))));
    let mut c = claims(now);
    c["sub"] = json!("someone-else");
    assert_eq!(check(&creds, &cert.sign(true, c), now), Err(AssertionError::Subject));
    let mut c = claims(now);
    c["aud"] = json!("https://elsewhere.example/token");
    assert_eq!(check(&creds, &cert.sign(true, c), now), Err(AssertionError::Audience("https://elsewhere.example/token".into())));
    let header = json!({"alg": "none", "x5t": cert.digest(&digest::SHA1_FOR_LEGACY_USE_ONLY)});
    let none = format!("{}.{}.", B64URL.encode(header.to_string()), B64URL.encode(claims(now).to_string()));
    assert_eq!(check(&creds, &none, now), Err(AssertionError::Token(ExternalTokenError::Algorithm("none".into()))));
}

#[test]
fn a_proof_of_possession_is_signed_by_a_current_certificate_for_the_object() {
    let cert = TestCert::new(30);
    let creds = vec![cert.credential()];
    let (object, now) = (Uuid::new_v4(), at(2026, 1, 10));
    let proof = |aud: &str, iss: Uuid| {
        cert.sign(false, json!({"aud": aud, "iss": iss.to_string(), "nbf": now.timestamp(), "exp": now.timestamp() + 600}))
    };
    assert_eq!(verify_proof(&creds, &proof(PROOF_AUDIENCE, object), object, now), Ok(()));
    assert_eq!(verify_proof(&creds, &proof(PROOF_AUDIENCE, Uuid::new_v4()), object, now), Err(ProofError::Claims));
    assert_eq!(verify_proof(&creds, &proof("api://x", object), object, now), Err(ProofError::Claims));
    assert_eq!(verify_proof(&[TestCert::new(30).credential()], &proof(PROOF_AUDIENCE, object), object, now), Err(ProofError::Signature));
    assert_eq!(verify_proof(&creds, "junk", object, now), Err(ProofError::Malformed));
}
