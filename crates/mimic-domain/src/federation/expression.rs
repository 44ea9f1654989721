//! `claimsMatchingExpression` (flexible federated identity credentials, languageVersion 1):
//! terms `claims['<name>'] matches '<pattern>'` or `claims['<name>'] eq '<value>'` joined by
//! `and`; in a pattern `*` stands for any run of characters and `?` for one. Parsed once when the
//! credential is written, so an exchange only evaluates.
//!
//! Source: learn.microsoft.com/entra/workload-id/workload-identities-flexible-federated-identity-credentials.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Longest expression text, as for the other values of a credential.
pub const MAX_EXPRESSION_CHARS: usize = 600;
/// Terms one expression may join.
const MAX_TERMS: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimsExpression {
    pub value: String,
    pub language_version: i64,
    #[serde(skip)]
    terms: Vec<Term>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Term {
    claim: String,
    op: Op,
    operand: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Matches,
    Eq,
}

impl ClaimsExpression {
    /// The expression, parsed; the error text says what is wrong, for the surface's message.
    pub fn parse(value: &str, language_version: i64) -> Result<Self, String> {
        if language_version != 1 {
            return Err(format!("The languageVersion '{language_version}' of the claims matching expression is not supported; use 1."));
        }
        if value.chars().count() > MAX_EXPRESSION_CHARS {
            return Err(format!("The claims matching expression must be at most {MAX_EXPRESSION_CHARS} characters long."));
        }
        let terms = Parser { s: value, i: 0 }.expression().map_err(|why| format!("The claims matching expression is invalid: {why}."))?;
        Ok(ClaimsExpression { value: value.to_string(), language_version, terms })
    }

    /// The wire form both ARM and Graph use: `{"value": "...", "languageVersion": 1}`.
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let value = v.get("value").and_then(Value::as_str).unwrap_or_default();
        Self::parse(value, v.get("languageVersion").and_then(Value::as_i64).unwrap_or(0))
    }

    /// A stored expression read back (its parsed form is not stored).
    pub fn reparsed(self) -> Option<Self> {
        Self::parse(&self.value, self.language_version).ok()
    }

    /// Whether every term holds for these claims. A claim that is missing or not a string
    /// fails its term.
    pub fn matches(&self, claims: &Map<String, Value>) -> bool {
        let terms = if self.terms.is_empty() {
            // Read back from the store without its parsed form.
            match Self::parse(&self.value, self.language_version) {
                Ok(e) => e.terms,
                Err(_) => return false,
            }
        } else {
            self.terms.clone()
        };
        !terms.is_empty()
            && terms.iter().all(|t| {
                let Some(v) = claims.get(&t.claim).and_then(Value::as_str) else { return false };
                match t.op {
                    Op::Eq => v == t.operand,
                    Op::Matches => wildcard_match(&t.operand, v),
                }
            })
    }
}

struct Parser<'a> {
    s: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.s[self.i..]
    }

    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.i = self.s.len() - trimmed.len();
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_ws();
        if self.rest().starts_with(token) {
            self.i += token.len();
            true
        } else {
            false
        }
    }

    fn keyword(&mut self, word: &str) -> bool {
        self.skip_ws();
        let r = self.rest();
        let ok = r.len() >= word.len()
            && r[..word.len()].eq_ignore_ascii_case(word)
            && !r[word.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
        if ok {
            self.i += word.len();
        }
        ok
    }

    /// `'...'` with `''` for a quote inside.
    fn string(&mut self) -> Result<String, &'static str> {
        if !self.eat("'") {
            return Err("a quoted string was expected");
        }
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((at, c)) = chars.next() {
            if c == '\'' {
                if self.rest()[at + 1..].starts_with('\'') {
                    out.push('\'');
                    chars.next();
                    continue;
                }
                self.i += at + 1;
                return Ok(out);
            }
            out.push(c);
        }
        Err("a string is not closed")
    }

    fn term(&mut self) -> Result<Term, &'static str> {
        if !self.keyword("claims") || !self.eat("[") {
            return Err("each term must start with claims['<name>']");
        }
        let claim = self.string()?;
        if claim.is_empty() || !self.eat("]") {
            return Err("each term must start with claims['<name>']");
        }
        let op = if self.keyword("matches") {
            Op::Matches
        } else if self.keyword("eq") {
            Op::Eq
        } else {
            return Err("the operator must be 'matches' or 'eq'");
        };
        let operand = self.string()?;
        Ok(Term { claim, op, operand })
    }

    fn expression(&mut self) -> Result<Vec<Term>, &'static str> {
        let mut terms = vec![self.term()?];
        while self.keyword("and") {
            if terms.len() == MAX_TERMS {
                return Err("it joins too many terms");
            }
            terms.push(self.term()?);
        }
        self.skip_ws();
        if !self.rest().is_empty() {
            return Err("terms must be joined with 'and'");
        }
        Ok(terms)
    }
}

/// `*` any run of characters, `?` one character, everything else literally; linear in practice
/// (the classic backtrack-to-last-star walk, never exponential).
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("repo:o/r:ref:refs/heads/*", "repo:o/r:ref:refs/heads/main"));
        assert!(wildcard_match("repo:o/r:*", "repo:o/r:"));
        assert!(!wildcard_match("repo:o/r:ref:refs/heads/*", "repo:o/other:ref:refs/heads/main"));
        assert!(wildcard_match("a?c", "abc") && !wildcard_match("a?c", "ac"));
        assert!(wildcard_match("*a*b*c*", "xxaxxbxxcxx") && !wildcard_match("*a*b*c*", "cba"));
        assert!(!wildcard_match(&"*a".repeat(300), &"a".repeat(10_000).replace('a', "b")));
    }

    #[test]
    fn expressions_parse_and_evaluate() {
        let e = ClaimsExpression::parse(
            "claims['sub'] matches 'repo:contoso/app:ref:refs/heads/*' and claims['job_workflow_ref'] eq 'contoso/app/.github/workflows/ci.yml@refs/heads/main'",
            1,
        )
        .unwrap();
        let ok = claims(
            json!({"sub": "repo:contoso/app:ref:refs/heads/release", "job_workflow_ref": "contoso/app/.github/workflows/ci.yml@refs/heads/main"}),
        );
        assert!(e.matches(&ok));
        let other = claims(
            json!({"sub": "repo:contoso/app:pull_request", "job_workflow_ref": "contoso/app/.github/workflows/ci.yml@refs/heads/main"}),
        );
        assert!(!e.matches(&other));
        assert!(!e.matches(&claims(json!({"sub": "repo:contoso/app:ref:refs/heads/x"}))), "a missing claim fails its term");
        let stored: ClaimsExpression = serde_json::from_value(serde_json::to_value(&e).unwrap()).unwrap();
        assert!(stored.matches(&ok), "the stored form evaluates the same");
        assert!(ClaimsExpression::parse("claims['sub'] eq 'it''s'", 1).unwrap().matches(&claims(json!({"sub": "it's"}))));
    }

    #[test]
    fn malformed_expressions_are_refused() {
        for bad in [
            "",
            "sub eq 'x'",
            "claims['sub'] like 'x'",
            "claims['sub'] eq 'x' or claims['a'] eq 'b'",
            "claims['sub'] eq 'x",
            "claims[''] eq 'x'",
            "claims['sub'] eq 'x' claims['a'] eq 'b'",
        ] {
            assert!(ClaimsExpression::parse(bad, 1).is_err(), "{bad}");
        }
        assert!(ClaimsExpression::parse("claims['sub'] eq 'x'", 2).is_err());
        let many = vec!["claims['a'] eq 'b'"; 17].join(" and ");
        assert!(ClaimsExpression::parse(&many, 1).is_err());
    }
}
