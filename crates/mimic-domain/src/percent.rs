//! Percent-decoding (and the one encoding templates need), in one place. Every surface decodes
//! leniently, as Azure does: a `%` not followed by two hex digits (`%`, `%4`, `%zz`) stays as it
//! is. Callers differ in three choices, each explicit here: whether `+` means a space (forms and
//! the template functions, not paths), whether an encoded `/` is decoded (not in an ARM path,
//! where `%2F` stays inside its segment), and what becomes of bytes that are not UTF-8.

/// What a `+` means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plus {
    /// A `+` is a `+` (URL paths).
    Literal,
    /// A `+` is a space (`application/x-www-form-urlencoded`, the template functions).
    Space,
}

/// The decoded bytes: `%XX` escapes (two hex digits) become their byte unless `keep` says the
/// byte stays escaped; anything else is copied, `+` as `plus` says.
pub fn decode_bytes(s: &str, plus: Plus, keep: impl Fn(u8) -> bool) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                let c = h << 4 | l;
                if !keep(c) {
                    out.push(c);
                    i += 3;
                    continue;
                }
            }
        }
        out.push(if b[i] == b'+' && plus == Plus::Space { b' ' } else { b[i] });
        i += 1;
    }
    out
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Decodes every escape, `+` as `plus` says; bytes that are not UTF-8 become U+FFFD.
pub fn decode_lossy(s: &str, plus: Plus) -> String {
    String::from_utf8_lossy(&decode_bytes(s, plus, |_| false)).into_owned()
}

/// A URL path: `+` stays, an encoded `/` stays encoded (inside its segment), and a path whose
/// escapes decode to something not UTF-8 is kept as it came.
pub fn decode_path(path: &str) -> String {
    String::from_utf8(decode_bytes(path, Plus::Literal, |c| c == b'/')).unwrap_or_else(|_| path.to_string())
}

/// Escapes every byte but RFC 3986's unreserved characters (`A-Z a-z 0-9 - _ . ~`), upper-case
/// hex: JavaScript's `encodeURIComponent` minus its `!*'()` exceptions, as ARM's `uriComponent`.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_escapes_stay_as_they_are() {
        for s in ["%", "%4", "%zz", "%4g", "a%", "a%4", "%%41", "%+4", "%-1"] {
            let want = s.replace("%%41", "%A");
            assert_eq!(decode_lossy(s, Plus::Literal), want, "{s}");
            assert_eq!(decode_path(s), want, "{s}");
        }
        // A `%` before a multi-byte character is not an escape, and nothing splits the character.
        assert_eq!(decode_lossy("%aé", Plus::Literal), "%aé");
        assert_eq!(decode_lossy("%é", Plus::Space), "%é");
    }

    #[test]
    fn escapes_decode_in_either_case() {
        assert_eq!(decode_lossy("rg%28x%29%20y%2f%2F", Plus::Literal), "rg(x) y//");
        assert_eq!(decode_lossy("%C3%A9", Plus::Literal), "é");
    }

    #[test]
    fn plus_is_a_space_only_when_asked() {
        assert_eq!(decode_lossy("a+b%2B", Plus::Literal), "a+b+");
        assert_eq!(decode_lossy("a+b%2B", Plus::Space), "a b+");
        assert_eq!(decode_path("/a+b"), "/a+b");
    }

    #[test]
    fn invalid_utf8() {
        assert_eq!(decode_lossy("a%FFb", Plus::Literal), "a\u{FFFD}b");
        assert_eq!(decode_lossy("%C3", Plus::Space), "\u{FFFD}");
        // A path keeps its escapes rather than inventing characters.
        assert_eq!(decode_path("/a/%FF/%28"), "/a/%FF/%28");
    }

    #[test]
    fn paths_keep_an_encoded_slash() {
        assert_eq!(decode_path("/a/rg%28x%29%20y/%2F/%2f/%zz/%4"), "/a/rg(x) y/%2F/%2f/%zz/%4");
    }

    #[test]
    fn encode_component_round_trips() {
        let s = "a b/c?d=é&~._-+";
        assert_eq!(encode_component(s), "a%20b%2Fc%3Fd%3D%C3%A9%26~._-%2B");
        assert_eq!(decode_lossy(&encode_component(s), Plus::Space), s);
    }
}
