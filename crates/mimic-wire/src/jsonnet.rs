//! JSON as ARM reads it: Json.NET, the reader ARM's front end and its template engine are built
//! on. Two things live here, so no other module words a Json.NET message:
//!
//! * [`JsonNetError`], the one renderer of Json.NET's deserialisation errors
//!   (`<message> Path '<path>', line <l>, position <p>.`), with a constructor per message ARM
//!   quotes in `InvalidRequestContent` and `InvalidTemplate` (docs/azure-behaviour.md §3).
//! * [`parse`], Json.NET's `JsonTextReader`: `//` and `/* */` comments, trailing commas,
//!   single-quoted strings and unquoted property names (az sends `template:` unquoted,
//!   docs/azure-behaviour.md §11.6). Every value's position is kept by its Json.NET path
//!   (`properties.template.resources[0].name`) so template errors can say "at line 'L' and
//!   column 'C'" as Azure does. Positions follow Json.NET's line info: 1-based line, and the
//!   number of characters read on that line when the token ended (the opening brace for objects
//!   and arrays).

use std::collections::HashMap;

use serde_json::{Map, Number, Value};

/// Json.NET's default `MaxDepth` (13.0.1 onwards): the reader refuses deeper nesting.
pub const MAX_DEPTH: usize = 64;

/// A parsed document and where each of its values is.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub value: Value,
    pub positions: HashMap<String, (usize, usize)>,
}

/// A Json.NET reader or serializer error: message, path, and the line and position when the
/// reader knew them (errors found on an already-parsed value have none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonNetError {
    pub message: String,
    pub path: String,
    pub at: Option<(usize, usize)>,
}

impl JsonNetError {
    pub fn new(message: impl Into<String>, path: impl Into<String>) -> Self {
        JsonNetError { message: message.into(), path: path.into(), at: None }
    }

    pub fn with_at(mut self, line: usize, position: usize) -> Self {
        self.at = Some((line, position));
        self
    }

    /// A value of the wrong kind where a scalar was expected.
    pub fn unexpected_value(value: &Value, path: &str) -> Self {
        Self::new(format!("Unexpected character encountered while parsing value: {}.", token_name(value)), path)
    }

    /// A member the target type requires is absent (or `null`).
    pub fn required_property(name: &str, path: &str) -> Self {
        Self::new(format!("Required property '{name}' not found in JSON."), path)
    }

    /// A value the target type cannot take (`type_name` as .NET names it, e.g. `'DeploymentMode'`).
    pub fn convert(value: &Value, type_name: &str, path: &str) -> Self {
        Self::new(format!("Error converting value {value} to type '{type_name}'."), path)
    }

    /// A non-object where a dictionary or object type was expected.
    pub fn requires_object(value: &Value, type_name: &str, path: &str) -> Self {
        Self::new(
            format!(
                "Cannot deserialize the current JSON value ({}) into type '{type_name}' because the type requires a JSON object.",
                token_name(value)
            ),
            path,
        )
    }

    /// A non-array where a list type was expected.
    pub fn requires_array(value: &Value, type_name: &str, path: &str) -> Self {
        Self::new(
            format!(
                "Cannot deserialize the current JSON value ({}) into type '{type_name}' because the type requires a JSON array.",
                token_name(value)
            ),
            path,
        )
    }

    /// Json.NET's rendering: `<message> Path '<path>', line <l>, position <p>.` (without line
    /// info: `<message> Path '<path>'.`).
    pub fn render(&self) -> String {
        match self.at {
            Some((line, position)) => format!("{} Path '{}', line {line}, position {position}.", self.message, self.path),
            None => format!("{} Path '{}'.", self.message, self.path),
        }
    }
}

impl std::fmt::Display for JsonNetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

/// A request body as the type `T`, with Json.NET's words when it is not one: the reader's error
/// for text that is not JSON, or the path of the member that does not fit `T`.
pub fn from_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonNetError> {
    if let Ok(v) = serde_json::from_slice(bytes) {
        return Ok(v);
    }
    let value = parse_body(bytes)?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // serde's "invalid type: integer `3`, expected a string" read as a sentence.
        let mut message: String = inner.chars().take(1).flat_map(char::to_uppercase).chain(inner.chars().skip(1)).collect();
        message.push('.');
        JsonNetError::new(message, if path == "." { String::new() } else { path })
    })
}

/// Json.NET's name for the token a value starts with.
pub fn token_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(n) if n.is_f64() => "Float",
        Value::Number(_) => "Integer",
        Value::String(_) => "String",
        Value::Array(_) => "StartArray",
        Value::Object(_) => "StartObject",
    }
}

/// A request body as ARM reads it: serde_json for the common, strict case; Json.NET's reader
/// when serde refuses it, so what Json.NET accepts (comments, trailing commas, single quotes) is
/// accepted and what it refuses gets its words and position.
pub fn parse_body(bytes: &[u8]) -> Result<Value, JsonNetError> {
    if let Ok(v) = serde_json::from_slice(bytes) {
        return Ok(v);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(text).map(|p| p.value),
        // Json.NET reads text: bytes that are not UTF-8 never reach it as JSON.
        Err(e) => {
            Err(JsonNetError::new("Unexpected character encountered while parsing value: \u{fffd}.", "").with_at(1, e.valid_up_to() + 1))
        }
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

pub fn parse(text: &str) -> Result<Parsed, JsonNetError> {
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
    /// Containers open around the current value; refused past [`MAX_DEPTH`] before
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

    fn err(&self, message: &str, path: &str) -> JsonNetError {
        JsonNetError { message: message.to_string(), path: path.to_string(), at: Some((self.line, self.col)) }
    }

    /// Whitespace and comments.
    fn skip_ws(&mut self) -> Result<(), JsonNetError> {
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

    fn value(&mut self, path: &str) -> Result<Value, JsonNetError> {
        match self.peek() {
            Some(c @ ('{' | '[')) => {
                if self.depth >= MAX_DEPTH {
                    self.bump();
                    return Err(self.err(&format!("The reader's MaxDepth of {} has been exceeded.", MAX_DEPTH), path));
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
                        return Err(JsonNetError {
                            message: format!("Unexpected character encountered while parsing value: {c}."),
                            path: path.to_string(),
                            at: Some((line, col)),
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

    fn object(&mut self, path: &str) -> Result<Value, JsonNetError> {
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

    fn array(&mut self, path: &str) -> Result<Value, JsonNetError> {
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

    fn string(&mut self, quote: char, path: &str) -> Result<String, JsonNetError> {
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

    fn number(&mut self, path: &str) -> Result<Value, JsonNetError> {
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
    fn bodies_read_as_json_net_reads_them() {
        // Strict JSON takes serde's path; what only Json.NET accepts still reads.
        assert_eq!(parse_body(b"{\"a\": 1}").unwrap(), json!({"a": 1}));
        assert_eq!(parse_body(b"{'a': 1, /* c */ b: [2,],}").unwrap(), json!({"a": 1, "b": [2]}));
        let e = parse_body(b"{\"a\": x}").unwrap_err();
        assert_eq!(e.render(), "Unexpected character encountered while parsing value: x. Path 'a', line 1, position 6.");
        assert!(parse_body(b"{\"a\": \"\xff\"}").is_err(), "not UTF-8");
    }

    #[test]
    fn typed_bodies_name_the_member_that_does_not_fit() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Body {
            properties: Props,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Props {
            count: u32,
        }
        let e = from_body::<Body>(b"{\"properties\": {\"count\": \"x\"}}").unwrap_err();
        assert_eq!(e.path, "properties.count");
        assert!(e.render().starts_with("Invalid type: string \"x\", expected u32. Path 'properties.count'"), "{}", e.render());
        assert!(from_body::<Body>(b"{properties: {count: 3,},}").is_ok());
    }

    #[test]
    fn value_errors_in_json_net_words() {
        let e = JsonNetError::convert(&json!("Everything"), "ResourceIdentityType", "identity.type");
        assert_eq!(e.render(), "Error converting value \"Everything\" to type 'ResourceIdentityType'. Path 'identity.type'.");
        let e = JsonNetError::requires_object(&json!([1]), "Dictionary`2", "tags").with_at(1, 9);
        assert_eq!(
            e.render(),
            "Cannot deserialize the current JSON value (StartArray) into type 'Dictionary`2' because the type requires a JSON object. Path 'tags', line 1, position 9."
        );
    }

    #[test]
    fn nesting_is_bounded_by_the_shared_budget() {
        let nested = |n: usize| format!("{{\"a\": {}1{}}}", "[".repeat(n), "]".repeat(n));
        assert!(parse(&nested(MAX_DEPTH - 1)).is_ok());
        let e = parse(&nested(MAX_DEPTH)).unwrap_err();
        assert_eq!(e.message, "The reader's MaxDepth of 64 has been exceeded.");
        assert_eq!(e.at, Some((1, MAX_DEPTH + 6)));
        assert!(e.path.starts_with("a[0][0]"), "{e:?}");
        // Far past it: an error, never a stack overflow.
        assert!(parse(&nested(20_000)).is_err());
    }
}
