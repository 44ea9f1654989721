//! The template expression language: a JSON string `"[...]"` is an expression (`"[[...]"` is
//! the literal text `"[...]"`), made of function calls with nested arguments, `'...'` string
//! literals (`''` escapes a quote), integers, and property (`.name`) and index (`[expr]`)
//! access on any result.

use crate::limits;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Str(String),
    Int(i64),
    /// `name(args)`; `name` may be namespaced (`ns.fn`) for user-defined functions.
    Call {
        name: String,
        args: Vec<Expr>,
    },
    Prop(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
}

/// What a template string is: literal text or an expression to evaluate.
#[derive(Debug, Clone, PartialEq)]
pub enum StringKind<'a> {
    Literal(std::borrow::Cow<'a, str>),
    /// The text between the outer brackets.
    Expression(&'a str),
}

/// ARM's rule: starts with `[` and ends with `]` → expression; `[[` escapes the bracket.
pub fn classify(s: &str) -> StringKind<'_> {
    if s.starts_with("[[") {
        return StringKind::Literal(std::borrow::Cow::Owned(s[1..].to_string()));
    }
    if s.len() >= 2 && s.starts_with('[') && s.ends_with(']') {
        return StringKind::Expression(&s[1..s.len() - 1]);
    }
    StringKind::Literal(std::borrow::Cow::Borrowed(s))
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Ident(String),
    Str(String),
    Int(i64),
    End,
}

impl Tok {
    fn name(&self) -> &'static str {
        match self {
            Tok::LParen => "LeftParenthesis",
            Tok::RParen => "RightParenthesis",
            Tok::LBracket => "LeftSquareBracket",
            Tok::RBracket => "RightSquareBracket",
            Tok::Comma => "Comma",
            Tok::Dot => "Dot",
            Tok::Ident(_) => "Identifier",
            Tok::Str(_) => "String",
            Tok::Int(_) => "Integer",
            Tok::End => "EndOfData",
        }
    }
}

fn lex(text: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1
            }
            '[' => {
                out.push(Tok::LBracket);
                i += 1
            }
            ']' => {
                out.push(Tok::RBracket);
                i += 1
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1
            }
            '.' => {
                out.push(Tok::Dot);
                i += 1
            }
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(format!(
                                "The language expression '{text}' is not valid: the string literal starting at position '{}' is not terminated.",
                                s.len()
                            ))
                        }
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(c) => {
                            s.push(*c);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(s));
            }
            c if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) => {
                let start = i;
                i += 1;
                while chars.get(i).is_some_and(|d| d.is_ascii_digit()) {
                    i += 1;
                }
                let t: String = chars[start..i].iter().collect();
                let n = t
                    .parse::<i64>()
                    .map_err(|_| format!("The language expression '{text}' is not valid: the integer '{t}' is out of range."))?;
                out.push(Tok::Int(n));
            }
            c if c.is_alphabetic() || c == '_' || c == '$' => {
                let start = i;
                while chars.get(i).is_some_and(|d| d.is_alphanumeric() || *d == '_' || *d == '$') {
                    i += 1;
                }
                out.push(Tok::Ident(chars[start..i].iter().collect()));
            }
            c => {
                return Err(format!(
                    "The language expression '{text}' is not valid: the string character '{c}' at position '{i}' is not expected."
                ))
            }
        }
    }
    out.push(Tok::End);
    Ok(out)
}

/// Parses the text between the brackets of an expression string. The error is Azure's message.
pub fn parse(text: &str) -> Result<Expr, String> {
    let toks = lex(text)?;
    let mut p = P { toks, i: 0, text, depth: 0 };
    let e = p.expr()?;
    p.expect(&Tok::End)?;
    Ok(e)
}

struct P<'a> {
    toks: Vec<Tok>,
    i: usize,
    text: &'a str,
    /// Nesting of the expression being built (calls, index expressions and every `.prop` /
    /// `[i]` applied: each adds a level to the tree), refused past [`limits::MAX_DEPTH`]
    /// before recursing: parsing, evaluating and dropping the tree then never overflow.
    depth: usize,
}

impl P<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.i.min(self.toks.len() - 1)]
    }
    fn next(&mut self) -> Tok {
        let t = self.peek().clone();
        self.i += 1;
        t
    }
    fn unexpected(&self, expected: &str, actual: &Tok) -> String {
        format!("Unable to parse language expression '{}': expected token '{expected}' and actual '{}'.", self.text, actual.name())
    }
    fn expect(&mut self, t: &Tok) -> Result<(), String> {
        let got = self.next();
        if std::mem::discriminant(&got) == std::mem::discriminant(t) {
            Ok(())
        } else {
            Err(self.unexpected(t.name(), &got))
        }
    }

    fn deeper(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > limits::MAX_DEPTH {
            return Err(format!(
                "Unable to parse language expression '{}': the expression is nested more than '{}' levels deep.",
                self.text,
                limits::MAX_DEPTH
            ));
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Expr, String> {
        let entered = self.depth;
        self.deeper()?;
        let e = self.postfix();
        self.depth = entered;
        e
    }

    fn postfix(&mut self) -> Result<Expr, String> {
        let mut e = self.primary()?;
        loop {
            if matches!(self.peek(), Tok::Dot | Tok::LBracket) {
                self.deeper()?;
            }
            match self.peek() {
                Tok::Dot => {
                    self.next();
                    match self.next() {
                        Tok::Ident(n) => e = Expr::Prop(Box::new(e), n),
                        other => return Err(self.unexpected("Identifier", &other)),
                    }
                }
                Tok::LBracket => {
                    self.next();
                    let idx = self.expr()?;
                    self.expect(&Tok::RBracket)?;
                    e = Expr::Index(Box::new(e), Box::new(idx));
                }
                _ => return Ok(e),
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Tok::Str(s) => Ok(Expr::Str(s)),
            Tok::Int(n) => Ok(Expr::Int(n)),
            Tok::Ident(mut name) => {
                // Namespaced user functions: `ns.fn(...)`.
                if *self.peek() == Tok::Dot
                    && matches!(self.toks.get(self.i + 1), Some(Tok::Ident(_)))
                    && self.toks.get(self.i + 2) == Some(&Tok::LParen)
                {
                    self.next();
                    if let Tok::Ident(f) = self.next() {
                        name = format!("{name}.{f}");
                    }
                }
                self.expect(&Tok::LParen)?;
                let mut args = Vec::new();
                if *self.peek() == Tok::RParen {
                    self.next();
                } else {
                    loop {
                        args.push(self.expr()?);
                        match self.next() {
                            Tok::Comma => continue,
                            Tok::RParen => break,
                            other => return Err(self.unexpected("RightParenthesis", &other)),
                        }
                    }
                }
                Ok(Expr::Call { name, args })
            }
            other => Err(self.unexpected("Identifier", &other)),
        }
    }
}

/// Every function name an expression calls (to check names before evaluating).
pub fn called_functions(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Call { name, args } => {
            out.push(name.clone());
            for a in args {
                called_functions(a, out);
            }
        }
        Expr::Prop(b, _) => called_functions(b, out),
        Expr::Index(a, b) => {
            called_functions(a, out);
            called_functions(b, out);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_and_parses() {
        assert_eq!(classify("[[x]"), StringKind::Literal("[x]".into()));
        assert_eq!(classify("plain"), StringKind::Literal("plain".into()));
        assert_eq!(classify("[f()]"), StringKind::Expression("f()"));
        let e = parse("reference(resourceId('a/b', 'n'), '2019-07-01', 'Full').identity.principalId").unwrap();
        let Expr::Prop(inner, last) = e else { panic!() };
        assert_eq!(last, "principalId");
        assert!(matches!(*inner, Expr::Prop(_, ref p) if p == "identity"));
        assert_eq!(
            parse("concat('it''s', -1)[0]").unwrap(),
            Expr::Index(
                Box::new(Expr::Call { name: "concat".into(), args: vec![Expr::Str("it's".into()), Expr::Int(-1)] }),
                Box::new(Expr::Int(0))
            )
        );
        assert!(parse("concat('a'").unwrap_err().contains("expected token 'RightParenthesis' and actual 'EndOfData'"));
        assert!(matches!(parse("ns.fn(1)").unwrap(), Expr::Call { ref name, .. } if name == "ns.fn"));
    }

    #[test]
    fn nesting_is_bounded_by_the_shared_budget() {
        let calls = |n: usize| format!("{}'a'{}", "concat(".repeat(n), ")".repeat(n));
        assert!(parse(&calls(limits::MAX_DEPTH - 1)).is_ok());
        let e = parse(&calls(limits::MAX_DEPTH + 1)).unwrap_err();
        assert!(e.contains("nested more than '64' levels deep"), "{e}");
        // Far past it, and long postfix chains (each `.p` or `[0]` is a level of the tree).
        assert!(parse(&calls(3_000)).is_err());
        assert!(parse(&format!("f(){}", ".p".repeat(100_000))).is_err());
        assert!(parse(&format!("f(){}", "[0]".repeat(100_000))).is_err());
        assert!(parse(&format!("f(){}", ".p".repeat(limits::MAX_DEPTH - 2))).is_ok());
        assert!(parse(&format!("f(){}", "[".repeat(50_000))).is_err());
    }
}
