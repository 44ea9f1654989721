//! Blobs as the store keeps them, and the Blob service's rules that need no HTTP: block ids and
//! lists, limits, conditional requests, byte ranges.
//!
//! A blob's bytes are a list of blocks, each its own run of chunk rows (`data` id, chunks of
//! [`CHUNK_BYTES`] in order, the last one shorter): Put Blob writes one block, Put Block List
//! commits staged ones. Chunks are immutable, so a new version of a blob is new chunks and a
//! reader of the old one finishes from rows its record named.
//!
//! Sources: "Put Block" / "Put Block List" / "Get Blob" / "Specifying conditional headers for
//! Blob service operations" / "Specifying the range header for Blob service operations"
//! (learn.microsoft.com/rest/api/storageservices/…); limits from "Scalability and performance
//! targets for Blob storage" (50,000 committed blocks per blob, 100,000 uncommitted, block ids
//! of at most 64 bytes before encoding, 8 KiB of metadata).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The size of one stored chunk. Request bodies are read and written this much at a time, so a
/// request holds at most one chunk in memory whatever its size.
pub const CHUNK_BYTES: usize = 1 << 20;

/// Put Block's limit (Azure: 4,000 MiB from 2019-12-12).
pub const MAX_BLOCK_BYTES: u64 = 4000 * (1 << 20);
/// Put Blob's limit (Azure: 5,000 MiB from 2019-12-12).
pub const MAX_PUT_BLOB_BYTES: u64 = 5000 * (1 << 20);
/// Committed blocks per blob (Azure's).
pub const MAX_COMMITTED_BLOCKS: usize = 50_000;
/// Uncommitted blocks per blob. Azure allows 100,000; Mimic keeps them in one record, so fewer.
pub const MAX_UNCOMMITTED_BLOCKS: usize = 10_000;
/// Block ids: at most 64 bytes once base64-decoded.
pub const MAX_BLOCK_ID_BYTES: usize = 64;
/// Metadata: names and values together at most 8 KiB.
pub const MAX_METADATA_BYTES: usize = 8 * 1024;
/// Blob names: 1–1,024 characters.
pub const MAX_BLOB_NAME_CHARS: usize = 1024;
/// How long uncommitted blocks are kept (Azure garbage-collects them after a week).
pub const UNCOMMITTED_SECS: i64 = 7 * 24 * 3600;
/// List Blobs / List Containers answer at most this many per page.
pub const MAX_RESULTS: usize = 5000;

/// A blob name: 1–1,024 characters. Azure takes nearly any text; Mimic also refuses what
/// would break paths and logs: control characters and `.`/`..` segments.
pub fn valid_blob_name(name: &str) -> bool {
    let chars = name.chars().count();
    (1..=MAX_BLOB_NAME_CHARS).contains(&chars) && !name.chars().any(char::is_control) && !name.split('/').any(|s| s == "." || s == "..")
}

/// One block of a blob: its id as the client named it (base64; empty for a Put Blob's single
/// block), where its bytes are, and how many.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    #[serde(default)]
    pub id: String,
    pub data: String,
    pub size: u64,
}

/// The standard HTTP properties a blob keeps and answers (`x-ms-blob-content-*` on writes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentHeaders {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    /// Base64 of the MD5 of the whole content, as sent or computed for a Put Blob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_md5: Option<String>,
}

/// A committed block blob (the store's blob row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlobRecord {
    pub name: String,
    pub size: u64,
    pub etag: String,
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
    #[serde(default)]
    pub content: ContentHeaders,
    /// Names as sent (case kept), unique regardless of case.
    #[serde(default)]
    pub metadata: Vec<(String, String)>,
    pub blocks: Vec<Block>,
}

impl BlobRecord {
    /// The blob `name` committed at `now` with `blocks`, replacing `old` (whose creation time it
    /// keeps), with a new ETag.
    pub fn commit(
        name: &str,
        blocks: Vec<Block>,
        content: ContentHeaders,
        metadata: Vec<(String, String)>,
        old: Option<&BlobRecord>,
        now: DateTime<Utc>,
    ) -> BlobRecord {
        BlobRecord {
            name: name.to_string(),
            size: blocks.iter().map(|b| b.size).sum(),
            etag: super::etag(now),
            created: old.map_or(now, |o| o.created),
            last_modified: now,
            content,
            metadata,
            blocks,
        }
    }

    /// The data ids of its blocks.
    pub fn data_ids(&self) -> impl Iterator<Item = &str> {
        self.blocks.iter().map(|b| b.data.as_str())
    }
}

/// Blocks staged for a blob and not yet committed (store kind `STORAGE_UNCOMMITTED`, by
/// `{container key}/{blob name}`). A later Put Block with the same id replaces the earlier one.
/// `container` is the creation time of the container they were staged in: a container deleted
/// and made again under the same name does not inherit them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uncommitted {
    pub container: Option<DateTime<Utc>>,
    pub blocks: Vec<Block>,
}

pub use mimic_wire::blob::BlockSource;

/// Why a block list cannot be committed.
#[derive(Debug, PartialEq, Eq)]
pub enum BlockListError {
    /// An id names no block of the list it points at (`InvalidBlockList`).
    Missing,
    /// More blocks than a blob may hold (`BlockCountExceedsLimit`).
    TooMany,
    /// A block id that is not base64 of at most 64 bytes, or ids of different lengths
    /// (`InvalidBlockId`).
    BadId,
}

/// Whether `id` is a valid block id: base64 of 1–64 bytes.
pub fn valid_block_id(id: &str) -> bool {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(id).is_ok_and(|b| !b.is_empty() && b.len() <= MAX_BLOCK_ID_BYTES)
}

/// The blocks a Put Block List commits, from the blob's committed blocks and its staged ones.
/// Returns the new block list; what it no longer names is the caller's to delete.
pub fn resolve_block_list(
    wanted: &[(BlockSource, String)],
    committed: &[Block],
    uncommitted: &[Block],
) -> Result<Vec<Block>, BlockListError> {
    if wanted.len() > MAX_COMMITTED_BLOCKS {
        return Err(BlockListError::TooMany);
    }
    let mut out = Vec::with_capacity(wanted.len());
    for (source, id) in wanted {
        if !valid_block_id(id) {
            return Err(BlockListError::BadId);
        }
        let find = |list: &[Block]| list.iter().rev().find(|b| &b.id == id).cloned();
        let block = match source {
            BlockSource::Committed => find(committed),
            BlockSource::Uncommitted => find(uncommitted),
            BlockSource::Latest => find(uncommitted).or_else(|| find(committed)),
        };
        out.push(block.ok_or(BlockListError::Missing)?);
    }
    Ok(out)
}

/// The conditional headers of a request (`If-Match`, `If-None-Match`, `If-Modified-Since`,
/// `If-Unmodified-Since`).
#[derive(Debug, Clone, Default)]
pub struct Conditions {
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<DateTime<Utc>>,
    pub if_unmodified_since: Option<DateTime<Utc>>,
}

/// What a failed condition answers.
#[derive(Debug, PartialEq, Eq)]
pub enum ConditionFailure {
    /// 304 Not Modified (a read whose `If-None-Match` matched or `If-Modified-Since` failed).
    NotModified,
    /// 412 `ConditionNotMet`.
    NotMet,
    /// 409 `BlobAlreadyExists`: a write with `If-None-Match: *` to an existing blob.
    AlreadyExists,
}

fn etag_matches(list: &str, etag: &str) -> bool {
    list.split(',').map(str::trim).any(|e| e == "*" || e == etag || e.trim_matches('"') == etag.trim_matches('"'))
}

impl Conditions {
    pub fn is_empty(&self) -> bool {
        self.if_match.is_none() && self.if_none_match.is_none() && self.if_modified_since.is_none() && self.if_unmodified_since.is_none()
    }

    /// Checks the conditions against the current object (`None`: it does not exist), for a
    /// read (`read`: GET/HEAD) or a write, as RFC 7232 §6 orders them.
    pub fn check(&self, current: Option<(&str, DateTime<Utc>)>, read: bool) -> Result<(), ConditionFailure> {
        // Last-Modified has a resolution of seconds on the wire.
        let trunc = |t: DateTime<Utc>| t.timestamp();
        if let Some(m) = &self.if_match {
            match current {
                Some((etag, _)) if etag_matches(m, etag) => {}
                _ => return Err(ConditionFailure::NotMet),
            }
        } else if let (Some(since), Some((_, modified))) = (self.if_unmodified_since, current) {
            if trunc(modified) > trunc(since) {
                return Err(ConditionFailure::NotMet);
            }
        }
        if let Some(n) = &self.if_none_match {
            if let Some((etag, _)) = current {
                if etag_matches(n, etag) {
                    return Err(if read {
                        ConditionFailure::NotModified
                    } else if n.trim() == "*" {
                        ConditionFailure::AlreadyExists
                    } else {
                        ConditionFailure::NotMet
                    });
                }
            }
        } else if let (Some(since), Some((_, modified))) = (self.if_modified_since, current) {
            if trunc(modified) <= trunc(since) {
                return Err(if read { ConditionFailure::NotModified } else { ConditionFailure::NotMet });
            }
        }
        Ok(())
    }
}

/// A byte range of a Get Blob (`Range` or `x-ms-range`: `bytes=start-` or `bytes=start-end`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: Option<u64>,
}

/// Parses `bytes=start-[end]`. Anything else is no range at all (Azure ignores what it cannot
/// read as one range and answers the whole blob).
pub fn parse_range(header: &str) -> Option<ByteRange> {
    let spec = header.trim().strip_prefix("bytes=")?;
    let (start, end) = spec.split_once('-')?;
    let start: u64 = start.trim().parse().ok()?;
    let end = match end.trim() {
        "" => None,
        e => Some(e.parse::<u64>().ok().filter(|e| *e >= start)?),
    };
    Some(ByteRange { start, end })
}

impl ByteRange {
    /// The inclusive byte span of a blob of `size` bytes, or `None` when it starts at or past
    /// the end (416 `InvalidRange`).
    pub fn within(&self, size: u64) -> Option<(u64, u64)> {
        if self.start >= size {
            return None;
        }
        Some((self.start, self.end.map_or(size - 1, |e| e.min(size - 1))))
    }
}

/// Metadata from `x-ms-meta-*` headers: names are C# identifiers, unique regardless of case;
/// names and values together within [`MAX_METADATA_BYTES`].
pub fn check_metadata(pairs: &[(String, String)]) -> Result<(), &'static str> {
    let mut total = 0;
    for (i, (k, v)) in pairs.iter().enumerate() {
        let ident = k.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ident {
            return Err("InvalidMetadata");
        }
        if pairs[..i].iter().any(|(o, _)| o.eq_ignore_ascii_case(k)) {
            return Err("InvalidMetadata");
        }
        total += k.len() + v.len();
    }
    if total > MAX_METADATA_BYTES {
        return Err("MetadataTooLarge");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-99"), Some(ByteRange { start: 0, end: Some(99) }));
        assert_eq!(parse_range("bytes=10-"), Some(ByteRange { start: 10, end: None }));
        assert_eq!(parse_range("bytes=9-3"), None);
        assert_eq!(parse_range("items=0-1"), None);
        let r = parse_range("bytes=0-33554431").unwrap();
        assert_eq!(r.within(10), Some((0, 9)));
        assert_eq!(r.within(0), None);
        assert_eq!(parse_range("bytes=10-").unwrap().within(10), None);
    }

    #[test]
    fn conditions() {
        let now = t("2026-01-01T00:00:10Z");
        let cur = Some(("\"0x1\"", now));
        let c = |m: Option<&str>, n: Option<&str>| Conditions {
            if_match: m.map(String::from),
            if_none_match: n.map(String::from),
            ..Default::default()
        };
        assert_eq!(c(None, Some("*")).check(cur, false), Err(ConditionFailure::AlreadyExists));
        assert_eq!(c(None, Some("*")).check(None, false), Ok(()));
        assert_eq!(c(Some("\"0x1\""), None).check(cur, false), Ok(()));
        assert_eq!(c(Some("\"0x2\""), None).check(cur, false), Err(ConditionFailure::NotMet));
        assert_eq!(c(Some("*"), None).check(None, false), Err(ConditionFailure::NotMet));
        assert_eq!(c(None, Some("\"0x1\"")).check(cur, true), Err(ConditionFailure::NotModified));
        let since = Conditions { if_modified_since: Some(t("2026-01-01T00:00:10Z")), ..Default::default() };
        assert_eq!(since.check(cur, true), Err(ConditionFailure::NotModified));
        let unmod = Conditions { if_unmodified_since: Some(t("2026-01-01T00:00:09Z")), ..Default::default() };
        assert_eq!(unmod.check(cur, false), Err(ConditionFailure::NotMet));
    }

    #[test]
    fn block_lists() {
        let b = |id: &str, data: &str| Block { id: id.into(), data: data.into(), size: 1 };
        let committed = vec![b("QQ==", "c1")];
        let staged = vec![b("QQ==", "u1"), b("Qg==", "u2")];
        let wanted = vec![(BlockSource::Latest, "QQ==".to_string()), (BlockSource::Committed, "QQ==".to_string())];
        let got = resolve_block_list(&wanted, &committed, &staged).unwrap();
        assert_eq!(got.iter().map(|b| b.data.as_str()).collect::<Vec<_>>(), ["u1", "c1"]);
        assert_eq!(resolve_block_list(&[(BlockSource::Committed, "Qg==".into())], &committed, &staged), Err(BlockListError::Missing));
        assert_eq!(resolve_block_list(&[(BlockSource::Latest, "***".into())], &committed, &staged), Err(BlockListError::BadId));
    }

    #[test]
    fn metadata_and_names() {
        assert!(check_metadata(&[("a".into(), "1".into()), ("A".into(), "2".into())]).is_err());
        assert!(check_metadata(&[("1a".into(), "1".into())]).is_err());
        assert!(check_metadata(&[("k".into(), "v".repeat(9000))]).is_err());
        assert!(check_metadata(&[("good_name".into(), "v".into())]).is_ok());
        assert!(valid_blob_name("dir/file.txt"));
        assert!(!valid_blob_name("a/../b"));
        assert!(!valid_blob_name(""));
    }
}
