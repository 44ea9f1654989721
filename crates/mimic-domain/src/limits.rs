//! The one bounded-input policy: how deep and how large any untrusted text may be, shared by
//! every parser that reads it (JSON bodies of every surface, the template JSON reader, template
//! expressions and their evaluation, OData `$filter`) and by the store, which must be able to
//! read back whatever it accepts.
//!
//! Why one budget: a document is accepted by a surface, stored inside an envelope (the stored
//! resource, deployment or directory object), and read back by the store's reader (serde_json,
//! whose recursion limit is [`STORE_READER_DEPTH`]). If a parser accepted more nesting than the
//! reader, one write would brick the store. So every parser refuses past
//! [`MAX_DEPTH`], which leaves [`ENVELOPE_DEPTH`] levels for the envelopes, and the store checks
//! each document it writes with its own reader ([`check_readable`]) as the last line.
//!
//! Every check here is iterative: nothing in this module can itself overflow the stack.

use serde_json::Value;

/// Nesting budget of any untrusted input: JSON containers, template expression calls, OData
/// parentheses. 64 is Json.NET's default `MaxDepth` (13.0.1 onwards), the reader ARM's
/// front end and the template engine are built on.
pub const MAX_DEPTH: usize = mimic_wire::jsonnet::MAX_DEPTH;

/// serde_json's recursion limit (fixed in the crate): the most nesting the store's reader reads.
pub const STORE_READER_DEPTH: usize = 128;

/// Levels the stores' envelopes may add around an accepted document (a deployment's template
/// sits under `properties.template`, a resource's body under its stored envelope, operations
/// under `properties.operations[i]`): far more than any of them uses.
pub const ENVELOPE_DEPTH: usize = STORE_READER_DEPTH - MAX_DEPTH - 1;

/// How deep the template evaluator may recurse (JSON values, expression calls, variables
/// referring to variables, user functions) before it answers an error instead: four times the
/// input budget, so every template within [`MAX_DEPTH`] evaluates, and small enough that the
/// deepest chain fits a 2 MiB thread stack (tested in `template::eval`).
pub const MAX_EVAL_DEPTH: usize = 4 * MAX_DEPTH;

/// Request bodies: ARM's limit ("The request content size exceeds the maximum size of 4 MB.",
/// `RequestContentTooLarge`) and Microsoft Graph's ("The maximum request length supported is
/// 4MB."); the token service and the portal use the same.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

const _: () = assert!(MAX_DEPTH + ENVELOPE_DEPTH < STORE_READER_DEPTH);

/// Where JSON text first nests deeper than the budget: 1-based line, and characters read on
/// that line (Json.NET's line info), so surfaces can word the error as Json.NET does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep {
    pub limit: usize,
    pub line: usize,
    pub position: usize,
}

impl TooDeep {
    /// Json.NET's error for a document past its `MaxDepth` (the one-pass check knows no path).
    pub fn to_json_net(&self) -> mimic_wire::jsonnet::JsonNetError {
        mimic_wire::jsonnet::JsonNetError::new(format!("The reader's MaxDepth of {} has been exceeded.", self.limit), "")
            .with_at(self.line, self.position)
    }
}

/// Checks the nesting of JSON text (or of any text with JSON's brackets and quoted strings: the
/// lenient template JSON too) without parsing it: one pass, no recursion, no allocation.
/// Invalid JSON is not this check's business; the parser that runs next reports it.
pub fn check_json_depth(text: &[u8], limit: usize) -> Result<(), TooDeep> {
    let (mut depth, mut line, mut col) = (0usize, 1usize, 0usize);
    let mut quote: Option<u8> = None;
    let mut escaped = false;
    for &b in text {
        if b == b'\n' {
            line += 1;
            col = 0;
        } else if b & 0xC0 != 0x80 {
            // Count characters, not UTF-8 continuation bytes.
            col += 1;
        }
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == q {
                quote = None;
            }
            continue;
        }
        match b {
            b'"' | b'\'' => quote = Some(b),
            b'{' | b'[' => {
                depth += 1;
                if depth > limit {
                    return Err(TooDeep { limit, line, position: col });
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// The nesting depth of a JSON value (a scalar is 0, `[]` is 1), computed without recursion.
pub fn value_depth(v: &Value) -> usize {
    let mut max = 0;
    let mut stack: Vec<(&Value, usize)> = vec![(v, 0)];
    while let Some((v, d)) = stack.pop() {
        match v {
            Value::Array(items) => {
                max = max.max(d + 1);
                stack.extend(items.iter().map(|i| (i, d + 1)));
            }
            Value::Object(m) => {
                max = max.max(d + 1);
                stack.extend(m.values().map(|i| (i, d + 1)));
            }
            _ => {}
        }
    }
    max
}

/// Whether a value is within `limit` levels, stopping at the first container past it.
pub fn value_within(v: &Value, limit: usize) -> bool {
    let mut stack: Vec<(&Value, usize)> = vec![(v, 0)];
    while let Some((v, d)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(m) => Box::new(m.values()),
            _ => continue,
        };
        if d + 1 > limit {
            return false;
        }
        stack.extend(children.map(|c| (c, d + 1)));
    }
    true
}

/// The store's write-side check: the text parses with the very reader the read side uses
/// (serde_json into a value, with its recursion limit; `IgnoredAny` would skip that limit), so
/// a document the store accepts is one it can read back.
pub fn check_readable(json: &str) -> Result<(), String> {
    serde_json::from_str::<Value>(json).map(|_| ()).map_err(|e| e.to_string())
}

/// A `.` or `..` path segment, plain or percent-encoded (`%2e`, `%2E%2e`, `.%2E`): such a path
/// names something other than what it spells, so no surface may route or store it.
pub fn is_dot_segment(segment: &str) -> bool {
    let s = segment.to_ascii_lowercase().replace("%2e", ".");
    s == "." || s == ".."
}

/// Whether any `/`-separated segment of a path is a dot segment.
pub fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(is_dot_segment)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nested(n: usize) -> String {
        format!("{}1{}", "[".repeat(n), "]".repeat(n))
    }

    #[test]
    fn json_depth_at_and_past_the_budget() {
        assert!(check_json_depth(nested(MAX_DEPTH).as_bytes(), MAX_DEPTH).is_ok());
        let e = check_json_depth(nested(MAX_DEPTH + 1).as_bytes(), MAX_DEPTH).unwrap_err();
        assert_eq!((e.line, e.position), (1, MAX_DEPTH + 1));
        assert!(e.to_json_net().render().starts_with("The reader's MaxDepth of 64 has been exceeded."));
        // Brackets inside strings (either quote, escapes included) do not count.
        let quoted = format!("{{\"a\": \"{}\", 'b': '\\'{}'}}", "[".repeat(500), "{".repeat(500));
        assert!(check_json_depth(quoted.as_bytes(), MAX_DEPTH).is_ok());
        // 20,000 deep is refused at once, without recursion.
        assert!(check_json_depth(nested(20_000).as_bytes(), MAX_DEPTH).is_err());
    }

    #[test]
    fn value_depth_is_iterative() {
        assert_eq!(value_depth(&json!(1)), 0);
        assert_eq!(value_depth(&json!({"a": [1, {"b": []}]})), 4);
        assert!(value_within(&json!({"a": [1, {"b": []}]}), 4));
        assert!(!value_within(&json!({"a": [1, {"b": []}]}), 3));
        // serde_json builds it (its own reader would refuse it), and the walk needs no stack.
        let mut v = json!(1);
        for _ in 0..100_000 {
            v = Value::Array(vec![v]);
        }
        assert_eq!(value_depth(&v), 100_000);
        assert!(!value_within(&v, MAX_DEPTH));
        // Dropping it would recurse: take it apart by hand.
        while let Value::Array(mut items) = v {
            v = items.pop().unwrap_or(Value::Null);
        }
    }

    #[test]
    fn the_budget_fits_the_store_reader() {
        // An accepted document plus every envelope level is readable; past the reader, refused.
        let accepted = nested(MAX_DEPTH + ENVELOPE_DEPTH);
        assert!(check_readable(&accepted).is_ok());
        assert!(check_readable(&nested(STORE_READER_DEPTH + 1)).is_err());
    }

    #[test]
    fn dot_segments() {
        for s in [".", "..", "%2e", "%2E%2e", ".%2E", "%2e."] {
            assert!(is_dot_segment(s), "{s}");
        }
        for s in ["...", "a.", ".a", "rg.1", "%2e%2e%2e", ""] {
            assert!(!is_dot_segment(s), "{s}");
        }
        assert!(has_dot_segment("/subscriptions/s/resourceGroups/../providers"));
        assert!(!has_dot_segment("/subscriptions/s/resourceGroups/rg.1"));
    }
}
