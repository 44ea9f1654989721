//! Redirect URIs as Entra matches them (learn.microsoft.com/entra/identity-platform/reply-url):
//! the requested URI must equal one registered for the client; only for loopback hosts
//! (`localhost`, `127.0.0.1`) the port is ignored (RFC 8252 §7.3, §8.3). `https` everywhere,
//! `http` only for loopback; IPv6 loopback `[::1]` is not supported; no wildcards.
//!
//! Parsing is deliberately strict: anything a browser could resolve to another host than the
//! one a naive prefix check sees (userinfo `user@host`, backslashes, percent-encoded or
//! non-ASCII authorities, fragments, control characters) is refused outright, so the
//! authorization endpoint never redirects a code where the registration did not say.

/// A redirect URI taken apart: scheme and host lower-cased, the port if given, path and query
/// as sent (paths are case-sensitive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri {
    pub scheme: String,
    pub host: String,
    pub port: Option<u16>,
    pub path: String,
    pub query: Option<String>,
}

/// Entra's maximum length of a redirect URI.
pub const MAX_LEN: usize = 256;

impl RedirectUri {
    pub fn is_loopback(&self) -> bool {
        self.host == "localhost" || self.host == "127.0.0.1"
    }

    /// Whether `requested` may be redirected to under this registered URI.
    pub fn admits(&self, requested: &RedirectUri) -> bool {
        let path = |p: &str| if p.is_empty() { "/".to_string() } else { p.to_string() };
        let default_port = |u: &RedirectUri| u.port.unwrap_or(if u.scheme == "https" { 443 } else { 80 });
        self.scheme == requested.scheme
            && self.host == requested.host
            && (self.is_loopback() || default_port(self) == default_port(requested))
            && path(&self.path) == path(&requested.path)
            && self.query == requested.query
    }
}

/// Parses a redirect URI, or `None` when Entra would not accept it as one.
pub fn parse(s: &str) -> Option<RedirectUri> {
    if s.is_empty() || s.len() > MAX_LEN || !s.is_ascii() {
        return None;
    }
    // Characters Entra refuses in redirect URIs (reply-url: "! $ ' ( ) , ;"), plus what no
    // well-formed absolute URI holds or what browsers reinterpret: whitespace, controls,
    // backslashes (WHATWG URL treats `\` as `/`), fragments, quotes and angle brackets.
    if s.bytes().any(|b| b <= 0x20 || b == 0x7f || b"\\#!$'(),;\"<>^`{|}".contains(&b)) {
        return None;
    }
    let (scheme, rest) = s.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    // No userinfo, no percent-encoding in the authority, no IP-literal (`[::1]` unsupported).
    if authority.is_empty() || authority.contains(['@', '%', '[', ']']) {
        return None;
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => {
            if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (h, Some(p.parse::<u16>().ok().filter(|p| *p != 0)?))
        }
        None => (authority, None),
    };
    let host = host.to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if host.is_empty() || host.len() > 253 || !host.split('.').all(label_ok) {
        return None;
    }
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (tail.to_string(), None),
    };
    // Dot segments and empty segments let a path mean another one once normalised.
    if path.split('/').skip(1).any(|seg| seg == "." || seg == ".." || seg.eq_ignore_ascii_case("%2e") || seg.eq_ignore_ascii_case("%2e%2e"))
        || path.contains("//")
    {
        return None;
    }
    let uri = RedirectUri { scheme, host, port, path, query };
    if uri.scheme == "http" && !uri.is_loopback() {
        return None;
    }
    Some(uri)
}

/// Whether `requested` matches one of `registered` (each parsed the same strict way; a
/// registered value that does not parse matches nothing).
pub fn matches_any<'a>(registered: impl IntoIterator<Item = &'a str>, requested: &str) -> bool {
    let Some(req) = parse(requested) else { return false };
    registered.into_iter().filter_map(parse).any(|r| r.admits(&req))
}

#[cfg(test)]
mod tests {
    use super::*;

    const AZ: &[&str] = &["http://localhost", "http://127.0.0.1"];

    #[test]
    fn loopback_any_port_same_path() {
        for ok in [
            "http://localhost",
            "http://localhost/",
            "http://localhost:8400",
            "http://localhost:8400/",
            "http://127.0.0.1:61234",
            "http://LOCALHOST:5000",
        ] {
            assert!(matches_any(AZ.iter().copied(), ok), "{ok}");
        }
        assert!(matches_any(["http://localhost/MyApp"], "http://localhost:1234/MyApp"));
        assert!(!matches_any(["http://localhost/MyApp"], "http://localhost:1234/myapp"), "paths are case-sensitive");
        assert!(!matches_any(["http://localhost/MyApp"], "http://localhost:1234/MyApp/x"));
        assert!(!matches_any(AZ.iter().copied(), "http://localhost:8400/cb"), "path must match the registered one");
        assert!(!matches_any(AZ.iter().copied(), "https://localhost:8400"), "scheme must match");
    }

    #[test]
    fn hostile_uris_are_refused() {
        for bad in [
            "http://localhost:1@evil.example/cb",
            "http://127.0.0.1:80@evil.example/",
            "http://localhost@evil.example",
            "http://user:pw@localhost/",
            "http://localhost.evil.example/",
            "http://localhost.evil.example:80",
            "http://evil.example\\@localhost/",
            "http://localhost\\.evil.example/",
            "http://localhost:80\\@evil.example/",
            "http://localhost/#@evil.example",
            "http://localhost#frag",
            "http://%6cocalhost/",
            "http://localhost%2eevil.example/",
            "http://localhost%40evil.example/",
            "http://[::1]:8080/",
            "http://[::1]/",
            "http://localhost:99999/",
            "http://localhost:0/",
            "http://localhost:/",
            "http://localhost:80:81/",
            "http://localhost /",
            "http://local\thost/",
            "http://localhost/../x",
            "http://localhost/%2e%2e/x",
            "http://localhost//evil.example",
            "//evil.example",
            "javascript:alert(1)",
            "http:/localhost",
            "http://evil.example/",
            "http://locälhost/",
            "",
        ] {
            assert!(!matches_any(AZ.iter().copied(), bad), "{bad} must not match");
        }
    }

    #[test]
    fn non_loopback_matches_exactly() {
        let reg = ["https://app.example/signin-oidc"];
        assert!(matches_any(reg, "https://app.example/signin-oidc"));
        assert!(matches_any(reg, "https://APP.example:443/signin-oidc"), "host case and the default port change nothing");
        assert!(!matches_any(reg, "https://app.example:8443/signin-oidc"), "the port matters off loopback");
        assert!(!matches_any(reg, "https://app.example/signin-oidc?x=1"));
        assert!(!matches_any(reg, "https://app.example.evil.example/signin-oidc"));
        assert!(!matches_any(["http://app.example/cb"], "http://app.example/cb"), "http only for loopback");
        assert!(!matches_any(["https://*.example/cb"], "https://a.example/cb"), "no wildcards");
    }
}
