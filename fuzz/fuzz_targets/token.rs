//! JWT parsing and verification: any bytes as a token never panic, and nothing but a token
//! signed by the key (RS256, right kid) with a lifetime covering `now` is accepted. The key is a
//! fuzzing-only RSA key (fuzz/keys/fuzz-only-rsa.pk8); the seed corpus holds tokens it signed,
//! so mutations start from valid tokens.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mimic_domain::token::{self, SigningKey};

/// The seeds' tokens are valid at this instant.
const NOW: i64 = 1_800_000_000;

fn keys() -> &'static [SigningKey] {
    static KEYS: OnceLock<Vec<SigningKey>> = OnceLock::new();
    KEYS.get_or_init(|| vec![SigningKey::from_pkcs8(include_bytes!("../keys/fuzz-only-rsa.pk8")).expect("the committed fuzz key loads")])
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(claims) = token::verify(text, keys(), NOW) {
        // Accepted: so it must be three parts, RS256, and alive at NOW.
        assert_eq!(text.split('.').count(), 3);
        let exp = claims.get("exp").and_then(|v| v.as_i64()).expect("accepted tokens have exp");
        assert!(exp > NOW);
    }
});
