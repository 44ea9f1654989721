//! The Blob service's XML both ways: the listings, block lists and error bodies it answers, and
//! the block list a Put Block List sends. Shapes from the REST reference ("List Containers",
//! "List Blobs", "Get Block List", "Put Block List", "Status and error codes",
//! learn.microsoft.com/rest/api/storageservices/).

use std::fmt::Write;

use quick_xml::events::Event;
use quick_xml::Reader;

/// Which list a Put Block List entry takes its block from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockSource {
    Committed,
    Uncommitted,
    Latest,
}

pub const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>";

/// Text escaped for an XML element or attribute.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// `<Error><Code>…</Code><Message>…</Message>[<name>value</name>…]</Error>`.
pub fn error_body(code: &str, message: &str, details: &[(&str, String)]) -> String {
    let mut s = format!("{XML_DECLARATION}<Error><Code>{}</Code><Message>{}</Message>", escape(code), escape(message));
    for (name, value) in details {
        let _ = write!(s, "<{name}>{}</{name}>", escape(value));
    }
    s.push_str("</Error>");
    s
}

/// The block ids of a Put Block List body, in order, each with the list it names. `None` when
/// the body is not a `<BlockList>` of `<Committed>`, `<Uncommitted>` and `<Latest>` elements
/// holding text (Azure's `InvalidXmlDocument`).
pub fn parse_block_list(body: &[u8], max_blocks: usize) -> Option<Vec<(BlockSource, String)>> {
    let mut reader = Reader::from_reader(body);
    reader.config_mut().trim_text(true);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    // 0: before the root, 1: inside <BlockList>, 2: inside an entry, 3: after the root.
    let mut depth = 0;
    let mut current: Option<(BlockSource, String)> = None;
    loop {
        let event = reader.read_event_into(&mut buf).ok()?;
        match event {
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
            Event::Start(e) => match depth {
                0 if e.name().as_ref() == b"BlockList" => depth = 1,
                1 => {
                    let source = match e.name().as_ref() {
                        b"Committed" => BlockSource::Committed,
                        b"Uncommitted" => BlockSource::Uncommitted,
                        b"Latest" => BlockSource::Latest,
                        _ => return None,
                    };
                    current = Some((source, String::new()));
                    depth = 2;
                }
                _ => return None,
            },
            Event::Empty(e) if depth == 0 && e.name().as_ref() == b"BlockList" => depth = 3,
            Event::Text(t) if depth == 2 => {
                let text = t.decode().ok()?;
                current.as_mut()?.1.push_str(&text);
            }
            Event::GeneralRef(r) if depth == 2 => {
                let c = match r.resolve_char_ref().ok()? {
                    Some(c) => c,
                    None => match r.as_ref() {
                        b"amp" => '&',
                        b"lt" => '<',
                        b"gt" => '>',
                        b"quot" => '"',
                        b"apos" => '\'',
                        _ => return None,
                    },
                };
                current.as_mut()?.1.push(c);
            }
            Event::CData(t) if depth == 2 => current.as_mut()?.1.push_str(std::str::from_utf8(&t).ok()?),
            Event::End(_) if depth == 2 => {
                out.push(current.take()?);
                if out.len() > max_blocks {
                    return None;
                }
                depth = 1;
            }
            Event::End(_) if depth == 1 => depth = 3,
            Event::Eof if depth == 3 => return Some(out),
            _ => return None,
        }
        buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_lists_as_the_sdks_send_them() {
        let body = b"<?xml version='1.0' encoding='utf-8'?>\n<BlockList><Latest>QUE=</Latest><Committed>Qg&#x3D;&#61;</Committed><Uncommitted>Qw==</Uncommitted></BlockList>";
        let got = parse_block_list(body, 10).unwrap();
        assert_eq!(
            got,
            vec![
                (BlockSource::Latest, "QUE=".to_string()),
                (BlockSource::Committed, "Qg==".to_string()),
                (BlockSource::Uncommitted, "Qw==".to_string())
            ]
        );
        assert_eq!(parse_block_list(b"<BlockList/>", 10), Some(vec![]));
        assert_eq!(parse_block_list(b"<BlockList></BlockList>", 10), Some(vec![]));
        assert!(parse_block_list(b"<BlockList><Other>x</Other></BlockList>", 10).is_none());
        assert!(parse_block_list(b"<BlockList><Latest><Latest>x</Latest></Latest></BlockList>", 10).is_none());
        assert!(parse_block_list(b"<BlockList><Latest>x</Latest>", 10).is_none());
        assert!(parse_block_list(b"not xml", 10).is_none());
        assert!(parse_block_list(b"<BlockList><Latest>a</Latest><Latest>b</Latest></BlockList>", 1).is_none());
    }

    #[test]
    fn errors_escape_their_text() {
        let body = error_body("BlobNotFound", "a<b", &[("AuthenticationErrorDetail", "x&y".into())]);
        assert!(body.ends_with("<Error><Code>BlobNotFound</Code><Message>a&lt;b</Message><AuthenticationErrorDetail>x&amp;y</AuthenticationErrorDetail></Error>"));
    }
}
