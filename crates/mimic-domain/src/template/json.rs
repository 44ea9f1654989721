//! JSON as ARM reads it (Json.NET's `JsonTextReader`): `//` and `/* */` comments, trailing
//! commas, single-quoted strings and unquoted property names (az sends `template:` unquoted,
//! docs/azure-behaviour.md §11.6). Every value's position is kept by its Json.NET path
//! (`properties.template.resources[0].name`) so template errors can say "at line 'L' and
//! column 'C'" as Azure does. Positions follow Json.NET's line info: 1-based line, and the
//! number of characters read on that line when the token ended (the opening brace for objects
//! and arrays).

use std::collections::HashMap;

use serde_json::{Map, Number, Value};

use crate::limits;

/// A parsed document and where each of its values is.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub value: Value,
    pub positions: HashMap<String, (usize, usize)>,
}

/// Json.NET's reader error: message, path, line and position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    pub path: String,
    pub line: usize,
    pub position: usize,
}

impl ParseError {
    /// Json.NET's rendering: `<message> Path '<path>', line <l>, position <p>.`
    pub fn render(&self) -> String {
        format!("{} Path '{}', line {}, position {}.", self.message, self.path, self.line, self.position)
    }
}

/// Appends a property to a Json.NET path (`a.b`, or `a['x y']` for names needing quotes).
pub fn path_prop(parent: &str, name: &str) -> String {
    let plain = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == '-' || c == '@');
    match (parent.is_empty(), plain) {
        (true, true) => name.to_string(),
        (false, true) => format!("{parent}.{name}"),
        (_, false) => format!("{parent}['{}']", name.replace('\'', "\\'")),
    }
}

pub fn path_index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

pub fn parse(text: &str) -> Result<Parsed, ParseError> {
    let mut p = Parser { chars: text.chars().collect(), i: 0, line: 1, col: 0, depth: 0, positions: HashMap::new() };
    p.skip_ws()?;
    if p.peek().is_none() {
        return Err(p.err("Unexpected end when reading JSON.", ""));
    }
    let value = p.value("")?;
    p.skip_ws()?;
    if let Some(c) = p.peek() {
        return Err(p.err(&format!("Additional text encountered after finished reading JSON content: {c}."), ""));
    }
    Ok(Parsed { value, positions: p.positions })
}

struct Parser {
    chars: Vec<char>,
    i: usize,
    line: usize,
    col: usize,
    /// Containers open around the current value; refused past [`limits::MAX_DEPTH`] before
    /// recursing, so no input can overflow the stack.
    depth: usize,
    positions: HashMap<String, (usize, usize)>,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.get(self.i).copied()?;
        self.i += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 0;
        } else if c == '\r' {
            if self.peek() != Some('\n') {
                self.line += 1;
                self.col = 0;
            }
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn err(&self, message: &str, path: &str) -> ParseError {
        ParseError { message: message.to_string(), path: path.to_string(), line: self.line, position: self.col }
    }

    /// Whitespace and comments.
    fn skip_ws(&mut self) -> Result<(), ParseError> {
        loop {
            match self.peek() {
                Some(c) if c.is_whitespace() || c == '\u{feff}' => {
                    self.bump();
                }
                Some('/') => {
                    let next = self.chars.get(self.i + 1).copied();
                    match next {
                        Some('/') => {
                            while let Some(c) = self.peek() {
                                if c == '\n' || c == '\r' {
                                    break;
                                }
                                self.bump();
                            }
                        }
                        Some('*') => {
                            self.bump();
                            self.bump();
                            loop {
                                match self.bump() {
                                    None => return Err(self.err("Unexpected end while parsing comment.", "")),
                                    Some('*') if self.peek() == Some('/') => {
                                        self.bump();
                                        break;
                                    }
                                    _ => {}
                                }
                            }
                        }
                        _ => {
                            self.bump();
                            return Err(self.err("Error parsing comment. Expected: *, got /.", ""));
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self, path: &str) -> Result<Value, ParseError> {
        match self.peek() {
            Some(c @ ('{' | '[')) => {
                if self.depth >= limits::MAX_DEPTH {
                    self.bump();
                    return Err(self.err(&format!("The reader's MaxDepth of {} has been exceeded.", limits::MAX_DEPTH), path));
                }
                self.depth += 1;
                let v = if c == '{' { self.object(path) } else { self.array(path) };
                self.depth -= 1;
                v
            }
            Some(q @ ('"' | '\'')) => {
                let s = self.string(q, path)?;
                self.positions.insert(path.to_string(), (self.line, self.col));
                Ok(Value::String(s))
            }
            Some(c) if c == '-' || c.is_ascii_digit() => {
                let v = self.number(path)?;
                self.positions.insert(path.to_string(), (self.line, self.col));
                Ok(v)
            }
            Some(c) if c.is_alphabetic() => {
                let (line, col) = (self.line, self.col);
                let word = self.word();
                let v = match word.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    "null" => Value::Null,
                    _ => {
                        let c = word.chars().next().unwrap_or(' ');
                        return Err(ParseError {
                            message: format!("Unexpected character encountered while parsing value: {c}."),
                            path: path.to_string(),
                            line,
                            position: col,
                        });
                    }
                };
                self.positions.insert(path.to_string(), (self.line, self.col));
                Ok(v)
            }
            Some(c) => Err(self.err(&format!("Unexpected character encountered while parsing value: {c}."), path)),
            None => Err(self.err("Unexpected end when reading JSON.", path)),
        }
    }

    fn word(&mut self) -> String {
        let mut w = String::new();
        while let Some(c) = self.peek() {
            if c.is_alphanumeric() || c == '_' || c == '$' {
                w.push(c);
                self.bump();
            } else {
                break;
            }
        }
        w
    }

    fn object(&mut self, path: &str) -> Result<Value, ParseError> {
        self.bump();
        self.positions.insert(path.to_string(), (self.line, self.col));
        let mut map = Map::new();
        loop {
            self.skip_ws()?;
            match self.peek() {
                Some('}') => {
                    self.bump();
                    return Ok(Value::Object(map));
                }
                None => return Err(self.err("Unexpected end when reading JSON.", path)),
                _ => {}
            }
            let name = match self.peek() {
                Some(q @ ('"' | '\'')) => self.string(q, path)?,
                Some(c) if c.is_alphabetic() || c == '_' || c == '$' => self.word(),
                Some(c) => {
                    self.bump();
                    return Err(self.err(&format!("Invalid property identifier character: {c}."), path));
                }
                None => return Err(self.err("Unexpected end when reading JSON.", path)),
            };
            let child = path_prop(path, &name);
            self.skip_ws()?;
            match self.bump() {
                Some(':') => {}
                Some(c) => {
                    return Err(self.err(&format!("Invalid character after parsing property name. Expected ':' but got: {c}."), &child))
                }
                None => return Err(self.err("Unexpected end when reading JSON.", &child)),
            }
            self.skip_ws()?;
            let v = self.value(&child)?;
            map.insert(name, v);
            self.skip_ws()?;
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some('}') => {}
                Some(c) => {
                    self.bump();
                    return Err(self.err(&format!("After parsing a value an unexpected character was encountered: {c}."), &child));
                }
                None => return Err(self.err("Unexpected end when reading JSON.", &child)),
            }
        }
    }

    fn array(&mut self, path: &str) -> Result<Value, ParseError> {
        self.bump();
        self.positions.insert(path.to_string(), (self.line, self.col));
        let mut items = Vec::new();
        loop {
            self.skip_ws()?;
            match self.peek() {
                Some(']') => {
                    self.bump();
                    return Ok(Value::Array(items));
                }
                None => return Err(self.err("Unexpected end when reading JSON.", path)),
                _ => {}
            }
            let child = path_index(path, items.len());
            let v = self.value(&child)?;
            items.push(v);
            self.skip_ws()?;
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some(']') => {}
                Some(c) => {
                    self.bump();
                    return Err(self.err(&format!("After parsing a value an unexpected character was encountered: {c}."), &child));
                }
                None => return Err(self.err("Unexpected end when reading JSON.", &child)),
            }
        }
    }

    fn string(&mut self, quote: char, path: &str) -> Result<String, ParseError> {
        self.bump();
        let mut s = String::new();
        loop {
            match self.bump() {
                None => return Err(self.err(&format!("Unterminated string. Expected delimiter: {quote}."), path)),
                Some(c) if c == quote => return Ok(s),
                Some('\\') => match self.bump() {
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    Some('r') => s.push('\r'),
                    Some('b') => s.push('\u{8}'),
                    Some('f') => s.push('\u{c}'),
                    Some('u') => {
                        let mut code = 0u32;
                        for _ in 0..4 {
                            let d = self
                                .bump()
                                .and_then(|c| c.to_digit(16))
                                .ok_or_else(|| self.err("Invalid Unicode escape sequence.", path))?;
                            code = code * 16 + d;
                        }
                        // Surrogate pairs.
                        if (0xD800..0xDC00).contains(&code) && self.peek() == Some('\\') && self.chars.get(self.i + 1) == Some(&'u') {
                            self.bump();
                            self.bump();
                            let mut low = 0u32;
                            for _ in 0..4 {
                                let d = self
                                    .bump()
                                    .and_then(|c| c.to_digit(16))
                                    .ok_or_else(|| self.err("Invalid Unicode escape sequence.", path))?;
                                low = low * 16 + d;
                            }
                            let c = 0x10000 + ((code - 0xD800) << 10) + (low.wrapping_sub(0xDC00) & 0x3FF);
                            s.push(char::from_u32(c).unwrap_or('\u{fffd}'));
                        } else {
                            s.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                        }
                    }
                    Some(c) => s.push(c),
                    None => return Err(self.err(&format!("Unterminated string. Expected delimiter: {quote}."), path)),
                },
                Some(c) => s.push(c),
            }
        }
    }

    fn number(&mut self, path: &str) -> Result<Value, ParseError> {
        let mut t = String::new();
        while let Some(c) = self.peek() {
            if c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E') {
                t.push(c);
                self.bump();
            } else {
                break;
            }
        }
        if let Ok(i) = t.parse::<i64>() {
            return Ok(Value::Number(i.into()));
        }
        match t.parse::<f64>().ok().and_then(Number::from_f64) {
            Some(n) => Ok(Value::Number(n)),
            None => Err(self.err(&format!("Input string '{t}' is not a valid number."), path)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn comments_trailing_commas_and_unquoted_names() {
        let text = "{\"properties\": {\"mode\": \"Incremental\", template:{\n  // a comment\n  \"a\": [1, 2,], /* b */ 'b': 'x',\n}}}";
        let p = parse(text).unwrap();
        assert_eq!(p.value, json!({"properties": {"mode": "Incremental", "template": {"a": [1, 2], "b": "x"}}}));
        assert_eq!(p.positions["properties.template.a"], (3, 8));
        assert_eq!(p.positions["properties.template.b"], (3, 32));
    }

    #[test]
    fn errors_as_json_net_words_them() {
        let e = parse("{\"a\": x}").unwrap_err();
        assert_eq!(e.render(), "Unexpected character encountered while parsing value: x. Path 'a', line 1, position 6.");
        let e = parse("{\"a\": 1").unwrap_err();
        assert!(e.message.starts_with("Unexpected end"), "{e:?}");
        assert_eq!(path_prop("resources[0]", "a b"), "resources[0]['a b']");
    }

    #[test]
    fn nesting_is_bounded_by_the_shared_budget() {
        let nested = |n: usize| format!("{{\"a\": {}1{}}}", "[".repeat(n), "]".repeat(n));
        assert!(parse(&nested(limits::MAX_DEPTH - 1)).is_ok());
        let e = parse(&nested(limits::MAX_DEPTH)).unwrap_err();
        assert_eq!(e.message, "The reader's MaxDepth of 64 has been exceeded.");
        assert_eq!((e.line, e.position), (1, limits::MAX_DEPTH + 6));
        assert!(e.path.starts_with("a[0][0]"), "{e:?}");
        // Far past it: an error, never a stack overflow.
        assert!(parse(&nested(20_000)).is_err());
        // Whatever it accepts, the store's reader reads back.
        let ok = parse(&nested(limits::MAX_DEPTH - 1)).unwrap();
        assert!(limits::check_readable(&serde_json::to_string(&ok.value).unwrap()).is_ok());
    }
}
