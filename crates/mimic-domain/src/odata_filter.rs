//! The OData `$filter` language as Microsoft Graph reads it on directory objects: `eq`, `ne`,
//! comparisons, `in`, `startswith`, `endswith`, `any` lambdas, `and`, `or`, `not`, parentheses.
//! Text in, tree out, no HTTP: Graph's surface (`mimic-server/src/graph/odata.rs`) checks the
//! tree against the entity type, evaluates it and words the errors.
//!
//! Untrusted text (any member user sends it): nesting is bounded by [`limits::MAX_DEPTH`] before
//! each recursion, and `and`/`or` chains are balanced, so no filter can overflow the stack.

use crate::limits;

/// Why a filter is refused: Graph answers `Invalid filter clause: <detail>` or, for what it
/// parses but does not serve, its "unsupported query" error.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterError {
    Invalid(String),
    Unsupported(String),
}

impl FilterError {
    fn invalid(detail: impl Into<String>) -> Self {
        FilterError::Invalid(detail.into())
    }
}

type FResult<T> = Result<T, FilterError>;

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Bool(bool),
    Null,
    Num(f64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare(Operand, Cmp, Literal),
    In(Operand, Vec<Literal>),
    StartsWith(Operand, String),
    EndsWith(Operand, String),
    /// `collection/any(v: predicate)`; `None` predicate is `collection/any()`.
    Any(String, Option<(String, Box<Expr>)>),
}

/// A property path, or the lambda variable (optionally with a path under it).
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Property(String),
    Var(String, Option<String>),
}

// ---- tokenizer --------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    LParen,
    RParen,
    Comma,
    Colon,
    Slash,
}

fn syntax_error(pos: usize, text: &str) -> FilterError {
    FilterError::invalid(format!("Syntax error at position {pos} in '{text}'."))
}

fn tokenize(text: &str) -> FResult<Vec<(usize, Tok)>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                out.push((i, Tok::LParen));
                i += 1
            }
            ')' => {
                out.push((i, Tok::RParen));
                i += 1
            }
            ',' => {
                out.push((i, Tok::Comma));
                i += 1
            }
            ':' => {
                out.push((i, Tok::Colon));
                i += 1
            }
            '/' => {
                out.push((i, Tok::Slash));
                i += 1
            }
            '\'' => {
                let start = i;
                i += 1;
                let mut s = String::new();
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(FilterError::invalid(format!(
                                "There is an unterminated string literal at position {} in '{text}'.",
                                i
                            )))
                        }
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push((start, Tok::Str(s)));
            }
            c if c.is_ascii_digit() || c == '-' => {
                // A number, or a bare GUID / date (OData allows unquoted GUID literals).
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '-' | '.' | ':' | '+')) {
                    // stop at ':' unless it is inside a date-time (digits around it)
                    if chars[i] == ':'
                        && !(i > start && chars[i - 1].is_ascii_digit() && chars.get(i + 1).is_some_and(|c| c.is_ascii_digit()))
                    {
                        break;
                    }
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                match word.parse::<f64>() {
                    Ok(n) => out.push((start, Tok::Num(n))),
                    Err(_) => out.push((start, Tok::Str(word))),
                }
            }
            c if c.is_alphabetic() || c == '_' || c == '@' || c == '$' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '.' | '@' | '$' | '-')) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                // A bare GUID starting with a letter.
                if uuid::Uuid::parse_str(&word).is_ok() {
                    out.push((start, Tok::Str(word)));
                } else {
                    out.push((start, Tok::Ident(word)));
                }
            }
            _ => return Err(syntax_error(i, text)),
        }
    }
    Ok(out)
}

// ---- parser -----------------------------------------------------------------------------

struct Parser<'a> {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    text: &'a str,
    /// Lambda variables in scope.
    vars: Vec<String>,
    /// Parentheses, `not`s and lambdas open around the current token: refused past the shared
    /// budget before recursing (`and`/`or` chains are folded into balanced trees, so however
    /// long they are they add only their logarithm), so neither parsing nor evaluating nor
    /// dropping the tree can overflow the stack.
    depth: usize,
}

/// `a and b and c ...` as a balanced tree of `combine`: log2(n) deep instead of n.
fn balanced(mut items: Vec<Expr>, combine: fn(Box<Expr>, Box<Expr>) -> Expr) -> Expr {
    while items.len() > 1 {
        let mut next = Vec::with_capacity(items.len().div_ceil(2));
        let mut it = items.into_iter();
        while let Some(a) = it.next() {
            next.push(match it.next() {
                Some(b) => combine(Box::new(a), Box::new(b)),
                None => a,
            });
        }
        items = next;
    }
    items.pop().expect("a chain has at least one operand")
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.1)
    }
    fn at(&self) -> usize {
        self.toks.get(self.pos).map(|t| t.0).unwrap_or(self.text.chars().count())
    }
    fn err(&self) -> FilterError {
        syntax_error(self.at(), self.text)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).map(|t| t.1.clone());
        self.pos += 1;
        t
    }
    fn expect(&mut self, t: Tok) -> FResult<()> {
        if self.peek() == Some(&t) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err())
        }
    }
    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(k))
    }

    /// Runs `f` one nesting level deeper, or refuses (Microsoft.OData's words).
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> FResult<T>) -> FResult<T> {
        if self.depth >= limits::MAX_DEPTH {
            return Err(FilterError::invalid("The recursion limit has been exceeded."));
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn or(&mut self) -> FResult<Expr> {
        let mut items = vec![self.and()?];
        while self.keyword("or") {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(balanced(items, Expr::Or))
    }

    fn and(&mut self) -> FResult<Expr> {
        let mut items = vec![self.unary()?];
        while self.keyword("and") {
            self.pos += 1;
            items.push(self.unary()?);
        }
        Ok(balanced(items, Expr::And))
    }

    fn unary(&mut self) -> FResult<Expr> {
        if self.keyword("not") {
            self.pos += 1;
            return self.nested(|p| Ok(Expr::Not(Box::new(p.unary()?))));
        }
        self.primary()
    }

    fn primary(&mut self) -> FResult<Expr> {
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let e = self.nested(Self::or)?;
            self.expect(Tok::RParen)?;
            return Ok(e);
        }
        let Some(Tok::Ident(word)) = self.peek().cloned() else { return Err(self.err()) };
        // Functions.
        if self.toks.get(self.pos + 1).map(|t| &t.1) == Some(&Tok::LParen) {
            let lower = word.to_ascii_lowercase();
            if lower == "startswith" || lower == "endswith" {
                self.pos += 2;
                let operand = self.operand()?;
                self.expect(Tok::Comma)?;
                let Some(Tok::Str(s)) = self.next() else { return Err(self.err()) };
                self.expect(Tok::RParen)?;
                return Ok(if lower == "startswith" { Expr::StartsWith(operand, s) } else { Expr::EndsWith(operand, s) });
            }
            return Err(FilterError::invalid(format!("An unknown function with name '{word}' was found. This may also be a function import or a key lookup on a navigation property, which is not allowed.")));
        }
        let operand = self.operand_or_any()?;
        let operand = match operand {
            Ok(o) => o,
            Err(any) => return Ok(any),
        };
        let Some(Tok::Ident(op)) = self.next() else { return Err(self.err()) };
        let op = op.to_ascii_lowercase();
        if op == "in" {
            self.expect(Tok::LParen)?;
            let mut values = vec![self.literal()?];
            while self.peek() == Some(&Tok::Comma) {
                self.pos += 1;
                values.push(self.literal()?);
            }
            self.expect(Tok::RParen)?;
            return Ok(Expr::In(operand, values));
        }
        let cmp = match op.as_str() {
            "eq" => Cmp::Eq,
            "ne" => Cmp::Ne,
            "gt" => Cmp::Gt,
            "ge" => Cmp::Ge,
            "lt" => Cmp::Lt,
            "le" => Cmp::Le,
            _ => {
                self.pos -= 1;
                return Err(self.err());
            }
        };
        let lit = self.literal()?;
        Ok(Expr::Compare(operand, cmp, lit))
    }

    fn literal(&mut self) -> FResult<Literal> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Literal::Str(s)),
            Some(Tok::Num(n)) => Ok(Literal::Num(n)),
            Some(Tok::Ident(w)) if w == "true" => Ok(Literal::Bool(true)),
            Some(Tok::Ident(w)) if w == "false" => Ok(Literal::Bool(false)),
            Some(Tok::Ident(w)) if w == "null" => Ok(Literal::Null),
            _ => {
                self.pos -= 1;
                Err(self.err())
            }
        }
    }

    /// `a/b`, or the lambda variable `c` / `c/prop`.
    fn operand(&mut self) -> FResult<Operand> {
        match self.operand_or_any()? {
            Ok(o) => Ok(o),
            Err(_) => Err(self.err()),
        }
    }

    /// An operand, or (as `Err`) a complete `path/any(...)` expression.
    fn operand_or_any(&mut self) -> FResult<Result<Operand, Expr>> {
        let Some(Tok::Ident(first)) = self.next() else {
            self.pos -= 1;
            return Err(self.err());
        };
        let mut path = vec![first];
        while self.peek() == Some(&Tok::Slash) {
            self.pos += 1;
            let Some(Tok::Ident(seg)) = self.next() else {
                self.pos -= 1;
                return Err(self.err());
            };
            if (seg.eq_ignore_ascii_case("any") || seg.eq_ignore_ascii_case("all")) && self.peek() == Some(&Tok::LParen) {
                if seg.eq_ignore_ascii_case("all") {
                    return Err(FilterError::Unsupported("Unsupported Query.".into()));
                }
                self.pos += 1;
                let collection = path.join("/");
                if self.peek() == Some(&Tok::RParen) {
                    self.pos += 1;
                    return Ok(Err(Expr::Any(collection, None)));
                }
                let Some(Tok::Ident(var)) = self.next() else {
                    self.pos -= 1;
                    return Err(self.err());
                };
                self.expect(Tok::Colon)?;
                self.vars.push(var.clone());
                let body = self.nested(Self::or)?;
                self.vars.pop();
                self.expect(Tok::RParen)?;
                return Ok(Err(Expr::Any(collection, Some((var, Box::new(body))))));
            }
            path.push(seg);
        }
        if self.vars.contains(&path[0]) {
            let var = path.remove(0);
            let rest = if path.is_empty() { None } else { Some(path.join("/")) };
            return Ok(Ok(Operand::Var(var, rest)));
        }
        Ok(Ok(Operand::Property(path.join("/"))))
    }
}

pub fn parse(text: &str) -> FResult<Expr> {
    let toks = tokenize(text)?;
    if toks.is_empty() {
        return Err(FilterError::invalid(""));
    }
    let mut p = Parser { toks, pos: 0, text, vars: vec![], depth: 0 };
    let e = p.or()?;
    if p.pos < p.toks.len() {
        return Err(p.err());
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(r: FResult<Expr>) -> String {
        match r {
            Err(FilterError::Invalid(m)) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn nesting_is_bounded_by_the_shared_budget() {
        let parens = |n: usize| format!("{}accountEnabled eq true{}", "(".repeat(n), ")".repeat(n));
        assert!(parse(&parens(limits::MAX_DEPTH)).is_ok());
        // The 4 KB URL, and far past it: an error, no stack overflow.
        for n in [limits::MAX_DEPTH + 1, 2_000, 50_000] {
            assert_eq!(invalid(parse(&parens(n))), "The recursion limit has been exceeded.");
        }
        assert!(parse(&format!("{}accountEnabled eq true", "not ".repeat(10_000))).is_err());
        let lambdas = format!("{}x eq 'a'{}", "proxyAddresses/any(x:".repeat(5_000), ")".repeat(5_000));
        assert!(parse(&lambdas).is_err());
        // Long chains parse into shallow trees.
        let chain = vec!["accountEnabled eq true"; 20_000].join(" or ");
        assert!(height(&parse(&chain).unwrap()) <= 16);
        let chain = vec!["accountEnabled eq true"; 20_000].join(" and ");
        assert!(height(&parse(&chain).unwrap()) <= 16);
    }

    fn height(e: &Expr) -> usize {
        match e {
            Expr::And(a, b) | Expr::Or(a, b) => 1 + height(a).max(height(b)),
            Expr::Not(a) => 1 + height(a),
            Expr::Any(_, Some((_, b))) => 1 + height(b),
            _ => 1,
        }
    }
}
