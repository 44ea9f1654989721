//! Workload identity federation: federated identity credentials (on user-assigned identities
//! and on applications), Entra's rules for them, and how an external token presented as a
//! `client_assertion` is matched against them.
//!
//! Sources: learn.microsoft.com/entra/workload-id/workload-identity-federation-considerations
//! (20 per identity or application, issuer and subject unique together, one audience,
//! `api://AzureADTokenExchange` by default, no wildcards in `subject`), the Graph resource
//! federatedIdentityCredential (name 120 characters and URL-friendly, issuer/subject/audience
//! 600 characters), the ARM specification of Microsoft.ManagedIdentity (2023-01-31+,
//! `claimsMatchingExpression` from 2025-01-31-preview).

pub mod expression;
pub mod external_token;
pub mod hosted;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use expression::ClaimsExpression;

/// What Entra expects in an exchanged token's `aud` unless a credential names another.
pub const DEFAULT_AUDIENCE: &str = "api://AzureADTokenExchange";
/// Federated identity credentials per application or user-assigned identity.
pub const MAX_PER_OWNER: usize = 20;
/// Longest issuer, subject, audience and description.
pub const MAX_VALUE_CHARS: usize = 600;
/// Longest credential name.
pub const MAX_NAME_CHARS: usize = 120;

/// A federated identity credential: an external identity (issuer and subject, or an expression
/// over its claims) that may sign in as the identity or application holding it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FederatedCredential {
    /// Graph's object id of an application's credential (ARM's are named, not numbered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<uuid::Uuid>,
    pub name: String,
    pub issuer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims_matching_expression: Option<ClaimsExpression>,
    pub audiences: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Why a credential was refused at creation; each surface renders it in its own shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("The federated identity credential name '{0}' is invalid. It must be 3 to 120 characters long, start with a letter or digit, and contain only letters, digits, '-' and '_'.")]
    Name(String),
    #[error("The issuer is required and must be an absolute https URL of at most 600 characters.")]
    Issuer,
    #[error("Either 'subject' or 'claimsMatchingExpression' must be defined, but not both.")]
    SubjectOrExpression,
    #[error("The subject must be at most 600 characters long.")]
    SubjectTooLong,
    #[error("The audiences property must hold exactly one value of at most 600 characters.")]
    Audiences,
    #[error("The description must be at most 600 characters long.")]
    Description,
    #[error("{0}")]
    Expression(String),
    #[error("A federated identity credential with issuer '{issuer}' and subject '{subject}' already exists.")]
    Duplicate { issuer: String, subject: String },
    #[error("The maximum number of federated identity credentials ({MAX_PER_OWNER}) has been reached.")]
    TooMany,
}

/// Azure's name rule for a federated identity credential: 3 to 120 characters, letters, digits,
/// `-` and `_`, a letter or digit first.
pub fn valid_name(name: &str) -> bool {
    let n = name.chars().count();
    (3..=MAX_NAME_CHARS).contains(&n)
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// An issuer Entra accepts: an absolute `https` URL with a host. Mimic also takes plain `http`
/// for a loopback host, so a test can run its own issuer (Entra itself refuses those).
pub fn valid_issuer(issuer: &str) -> bool {
    if issuer.is_empty() || issuer.chars().count() > MAX_VALUE_CHARS || issuer.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    issuer_location(issuer).is_some()
}

/// Where an issuer's documents are fetched from: scheme, host, port and the issuer's path
/// (without a trailing `/`). `None` for what is not an acceptable issuer URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerLocation {
    pub https: bool,
    pub host: String,
    pub port: u16,
    pub path: String,
}

pub fn issuer_location(issuer: &str) -> Option<IssuerLocation> {
    let (https, rest) = if let Some(r) = issuer.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = issuer.strip_prefix("http://") {
        (false, r)
    } else {
        return None;
    };
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if path.contains(['?', '#']) || authority.contains('@') || authority.is_empty() {
        return None;
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => match p.parse::<u16>() {
            Ok(p) if p != 0 => (h, p),
            _ => return None,
        },
        _ => (authority, if https { 443 } else { 80 }),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    if host.is_empty() || !host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_')) {
        return None;
    }
    if !https && !is_loopback_host(&host) {
        return None;
    }
    if path.split('/').any(|s| s == "." || s == "..") {
        return None;
    }
    Some(IssuerLocation { https, host, port, path: path.trim_end_matches('/').to_string() })
}

/// Loopback by name or address: the only hosts an `http` issuer may have.
pub fn is_loopback_host(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl FederatedCredential {
    /// A credential from its parts, with Entra's checks and the default audience.
    pub fn new(
        name: &str,
        issuer: &str,
        subject: Option<&str>,
        expression: Option<ClaimsExpression>,
        audiences: Option<Vec<String>>,
        description: Option<&str>,
    ) -> Result<Self, CredentialError> {
        if !valid_name(name) {
            return Err(CredentialError::Name(name.to_string()));
        }
        if !valid_issuer(issuer) {
            return Err(CredentialError::Issuer);
        }
        let subject = subject.filter(|s| !s.is_empty());
        match (&subject, &expression) {
            (Some(_), Some(_)) | (None, None) => return Err(CredentialError::SubjectOrExpression),
            _ => {}
        }
        if subject.is_some_and(|s| s.chars().count() > MAX_VALUE_CHARS) {
            return Err(CredentialError::SubjectTooLong);
        }
        let audiences = audiences.unwrap_or_else(|| vec![DEFAULT_AUDIENCE.to_string()]);
        if audiences.len() != 1 || audiences.iter().any(|a| a.is_empty() || a.chars().count() > MAX_VALUE_CHARS) {
            return Err(CredentialError::Audiences);
        }
        if description.is_some_and(|d| d.chars().count() > MAX_VALUE_CHARS) {
            return Err(CredentialError::Description);
        }
        Ok(FederatedCredential {
            id: None,
            name: name.to_string(),
            issuer: issuer.to_string(),
            subject: subject.map(str::to_string),
            claims_matching_expression: expression,
            audiences,
            description: description.map(str::to_string),
        })
    }

    /// Whether this credential trusts a token with these (verified) claims, issuer aside.
    fn subject_matches(&self, claims: &Map<String, Value>) -> bool {
        match (&self.subject, &self.claims_matching_expression) {
            (Some(s), _) => claims.get("sub").and_then(Value::as_str) == Some(s.as_str()),
            (None, Some(e)) => e.matches(claims),
            (None, None) => false,
        }
    }

    fn audience_matches(&self, claims: &Map<String, Value>) -> bool {
        let presented: Vec<&str> = match claims.get("aud") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        self.audiences.iter().any(|a| presented.contains(&a.as_str()))
    }
}

impl FederatedCredential {
    /// A credential from the `properties` of an ARM `federatedIdentityCredentials` resource
    /// (`issuer`, `subject`, `audiences`, `claimsMatchingExpression: {value, languageVersion}`).
    pub fn from_arm_properties(name: &str, props: &Value) -> Result<Self, CredentialError> {
        let text = |k: &str| props.get(k).and_then(Value::as_str);
        let expression = match props.get("claimsMatchingExpression") {
            None | Some(Value::Null) => None,
            Some(e) => Some(ClaimsExpression::from_json(e).map_err(CredentialError::Expression)?),
        };
        let audiences = match props.get("audiences") {
            None | Some(Value::Null) => None,
            Some(Value::Array(a)) => {
                Some(a.iter().map(|v| v.as_str().map(str::to_string).ok_or(CredentialError::Audiences)).collect::<Result<_, _>>()?)
            }
            Some(_) => return Err(CredentialError::Audiences),
        };
        if props.get("subject").is_some_and(|s| !s.is_string() && !s.is_null()) {
            return Err(CredentialError::SubjectOrExpression);
        }
        Self::new(name, text("issuer").unwrap_or_default(), text("subject"), expression, audiences, None)
    }
}

/// Checks that adding (or replacing, by name) `new` keeps the owner's credentials within
/// Entra's rules: issuer and subject unique together, at most [`MAX_PER_OWNER`].
pub fn check_set(existing: &[FederatedCredential], new: &FederatedCredential) -> Result<(), CredentialError> {
    let others: Vec<&FederatedCredential> = existing.iter().filter(|c| !c.name.eq_ignore_ascii_case(&new.name)).collect();
    if let Some(subject) = &new.subject {
        if others.iter().any(|c| c.issuer == new.issuer && c.subject.as_deref() == Some(subject)) {
            return Err(CredentialError::Duplicate { issuer: new.issuer.clone(), subject: subject.clone() });
        }
    }
    if others.len() >= MAX_PER_OWNER {
        return Err(CredentialError::TooMany);
    }
    Ok(())
}

/// Why an exchange found no credential for a verified token, in Entra's order of checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoMatch {
    /// No credential trusts the token's issuer (AADSTS700211).
    Issuer,
    /// A credential trusts the issuer but not this subject (AADSTS70021).
    Subject,
    /// Issuer and subject match; the audience does not (AADSTS700212).
    Audience,
}

/// The credential among `credentials` that trusts a token with these verified claims.
pub fn find_match<'a>(credentials: &'a [FederatedCredential], claims: &Map<String, Value>) -> Result<&'a FederatedCredential, NoMatch> {
    let issuer = claims.get("iss").and_then(Value::as_str).unwrap_or_default();
    let by_issuer: Vec<&FederatedCredential> = credentials.iter().filter(|c| c.issuer == issuer).collect();
    if by_issuer.is_empty() {
        return Err(NoMatch::Issuer);
    }
    let by_subject: Vec<&FederatedCredential> = by_issuer.into_iter().filter(|c| c.subject_matches(claims)).collect();
    if by_subject.is_empty() {
        return Err(NoMatch::Subject);
    }
    by_subject.into_iter().find(|c| c.audience_matches(claims)).ok_or(NoMatch::Audience)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn names_follow_azure_rule() {
        for ok in ["abc", "gh-main_1", "A1", "x".repeat(120).as_str()] {
            assert_eq!(valid_name(ok), ok.len() >= 3, "{ok}");
        }
        for bad in ["ab", "-abc", "_abc", "a.b.c", "a b c", "ünï", &"x".repeat(121)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn issuers_are_https_or_loopback_http() {
        assert!(valid_issuer("https://token.actions.githubusercontent.com"));
        assert!(valid_issuer("https://oidc.prod-aks.azure.com/11111111-1111-1111-1111-111111111111/"));
        assert!(valid_issuer("http://127.0.0.1:8080/issuer"));
        assert!(valid_issuer("http://localhost:9/x"));
        for bad in [
            "",
            "token.actions.githubusercontent.com",
            "http://example.com",
            "https://",
            "https://a@b",
            "https://h/a?x=1",
            "https://h/../x",
            "ftp://h",
            "https://h:0/",
            "https://h x/",
        ] {
            assert!(!valid_issuer(bad), "{bad}");
        }
        let l = issuer_location("https://Example.com:8443/a/b/").unwrap();
        assert_eq!((l.https, l.host.as_str(), l.port, l.path.as_str()), (true, "example.com", 8443, "/a/b"));
    }

    #[test]
    fn a_credential_needs_subject_or_expression_and_one_audience() {
        let new = |s: Option<&str>, e: Option<ClaimsExpression>, a: Option<Vec<String>>| {
            FederatedCredential::new("fic", "https://issuer.example", s, e, a, None)
        };
        let c = new(Some("repo:o/r:ref:refs/heads/main"), None, None).unwrap();
        assert_eq!(c.audiences, vec![DEFAULT_AUDIENCE.to_string()]);
        assert_eq!(new(None, None, None), Err(CredentialError::SubjectOrExpression));
        let e = ClaimsExpression::parse("claims['sub'] matches 'repo:o/r:*'", 1).unwrap();
        assert_eq!(new(Some("s"), Some(e.clone()), None), Err(CredentialError::SubjectOrExpression));
        assert!(new(None, Some(e), None).is_ok());
        assert_eq!(new(Some("s"), None, Some(vec![])), Err(CredentialError::Audiences));
        assert_eq!(new(Some("s"), None, Some(vec!["a".into(), "b".into()])), Err(CredentialError::Audiences));
        assert_eq!(new(Some(&"s".repeat(601)), None, None), Err(CredentialError::SubjectTooLong));
    }

    #[test]
    fn sets_stay_unique_and_bounded() {
        let mk =
            |n: usize| FederatedCredential::new(&format!("fic{n}"), "https://i.example", Some(&format!("s{n}")), None, None, None).unwrap();
        let set: Vec<_> = (0..MAX_PER_OWNER).map(mk).collect();
        assert_eq!(check_set(&set, &mk(99)), Err(CredentialError::TooMany));
        assert!(check_set(&set, &mk(3)).is_ok(), "replacing one by name stays within the limit");
        let dup = FederatedCredential { name: "other".into(), ..mk(4) };
        assert!(matches!(check_set(&set[..5], &dup), Err(CredentialError::Duplicate { .. })));
    }

    #[test]
    fn matching_checks_issuer_then_subject_then_audience() {
        let c = FederatedCredential::new("fic", "https://i.example", Some("repo:o/r:ref:refs/heads/main"), None, None, None).unwrap();
        let set = [c];
        let ok = claims(json!({"iss": "https://i.example", "sub": "repo:o/r:ref:refs/heads/main", "aud": DEFAULT_AUDIENCE}));
        assert_eq!(find_match(&set, &ok).unwrap().name, "fic");
        let arr = claims(json!({"iss": "https://i.example", "sub": "repo:o/r:ref:refs/heads/main", "aud": ["x", DEFAULT_AUDIENCE]}));
        assert!(find_match(&set, &arr).is_ok());
        let other_iss = claims(json!({"iss": "https://i.example/", "sub": "repo:o/r:ref:refs/heads/main", "aud": DEFAULT_AUDIENCE}));
        assert_eq!(find_match(&set, &other_iss), Err(NoMatch::Issuer));
        let other_branch = claims(json!({"iss": "https://i.example", "sub": "repo:o/r:ref:refs/heads/dev", "aud": DEFAULT_AUDIENCE}));
        assert_eq!(find_match(&set, &other_branch), Err(NoMatch::Subject));
        let other_aud = claims(json!({"iss": "https://i.example", "sub": "repo:o/r:ref:refs/heads/main", "aud": "api://other"}));
        assert_eq!(find_match(&set, &other_aud), Err(NoMatch::Audience));
    }
}
