//! The Blob service's listings and block lists in its XML, and HTTP dates ("List Containers",
//! "List Blobs", "Get Block List", learn.microsoft.com/rest/api/storageservices/). Escaping and
//! the shapes clients send are in `mimic_wire::blob`.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use mimic_domain::storage::blob::{BlobRecord, Block};
use mimic_domain::storage::ContainerProperties;
use mimic_wire::blob::{escape, XML_DECLARATION};

/// RFC 1123, as every date header and listing of the service writes it.
pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

pub fn parse_http_date(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(s.trim()).ok().map(|t| t.with_timezone(&Utc))
}

/// What a listing was asked for, echoed in its answer.
pub struct Echo<'a> {
    pub prefix: Option<&'a str>,
    pub marker: Option<&'a str>,
    pub max_results: Option<usize>,
    pub delimiter: Option<&'a str>,
}

fn echo(s: &mut String, e: &Echo) {
    if let Some(p) = e.prefix {
        let _ = write!(s, "<Prefix>{}</Prefix>", escape(p));
    }
    if let Some(m) = e.marker {
        let _ = write!(s, "<Marker>{}</Marker>", escape(m));
    }
    if let Some(n) = e.max_results {
        let _ = write!(s, "<MaxResults>{n}</MaxResults>");
    }
    if let Some(d) = e.delimiter {
        let _ = write!(s, "<Delimiter>{}</Delimiter>", escape(d));
    }
}

fn next_marker(s: &mut String, next: Option<&str>) {
    match next {
        Some(n) => {
            let _ = write!(s, "<NextMarker>{}</NextMarker>", escape(n));
        }
        None => s.push_str("<NextMarker />"),
    }
}

fn metadata<'a>(s: &mut String, pairs: impl Iterator<Item = (&'a str, &'a str)>) {
    s.push_str("<Metadata>");
    // Only names that can be element names (what the data plane accepts; ARM may hold others).
    for (k, v) in pairs.filter(|(k, _)| {
        !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !k.starts_with(|c: char| c.is_ascii_digit())
    }) {
        let _ = write!(s, "<{k}>{}</{k}>", escape(v));
    }
    s.push_str("</Metadata>");
}

/// `List Containers`.
pub fn containers(endpoint: &str, e: &Echo, items: &[(String, ContainerProperties)], with_metadata: bool, next: Option<&str>) -> String {
    let mut s = format!("{XML_DECLARATION}<EnumerationResults ServiceEndpoint=\"{}\">", escape(endpoint));
    echo(&mut s, e);
    s.push_str("<Containers>");
    for (name, p) in items {
        let _ = write!(
            s,
            "<Container><Name>{}</Name><Properties><Last-Modified>{}</Last-Modified><Etag>{}</Etag><LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState>",
            escape(name),
            http_date(p.last_modified_time),
            escape(&p.etag)
        );
        if let Some(access) = public_access_header(&p.public_access) {
            let _ = write!(s, "<PublicAccess>{access}</PublicAccess>");
        }
        s.push_str(
            "<DefaultEncryptionScope>$account-encryption-key</DefaultEncryptionScope><DenyEncryptionScopeOverride>false</DenyEncryptionScopeOverride><HasImmutabilityPolicy>false</HasImmutabilityPolicy><HasLegalHold>false</HasLegalHold></Properties>",
        );
        if with_metadata {
            metadata(&mut s, p.metadata.iter().map(|(k, v)| (k.as_str(), v.as_str().unwrap_or_default())));
        }
        s.push_str("</Container>");
    }
    s.push_str("</Containers>");
    next_marker(&mut s, next);
    s.push_str("</EnumerationResults>");
    s
}

/// ARM's `publicAccess` (`None`, `Container`, `Blob`) as the data plane writes it.
pub fn public_access_header(arm: &str) -> Option<&'static str> {
    match arm.to_ascii_lowercase().as_str() {
        "container" => Some("container"),
        "blob" => Some("blob"),
        _ => None,
    }
}

/// One entry of `List Blobs`.
pub enum Listed<'a> {
    Blob(&'a BlobRecord),
    Prefix(&'a str),
}

/// `List Blobs`.
pub fn blobs(endpoint: &str, container: &str, e: &Echo, items: &[Listed], with_metadata: bool, next: Option<&str>) -> String {
    let mut s =
        format!("{XML_DECLARATION}<EnumerationResults ServiceEndpoint=\"{}\" ContainerName=\"{}\">", escape(endpoint), escape(container));
    echo(&mut s, e);
    s.push_str("<Blobs>");
    for item in items {
        match item {
            Listed::Prefix(p) => {
                let _ = write!(s, "<BlobPrefix><Name>{}</Name></BlobPrefix>", escape(p));
            }
            Listed::Blob(b) => {
                let c = &b.content;
                let opt = |v: &Option<String>| v.as_deref().map(escape).unwrap_or_default();
                let _ = write!(
                    s,
                    "<Blob><Name>{}</Name><Properties><Creation-Time>{}</Creation-Time><Last-Modified>{}</Last-Modified><Etag>{}</Etag><Content-Length>{}</Content-Length><Content-Type>{}</Content-Type><Content-Encoding>{}</Content-Encoding><Content-Language>{}</Content-Language><Content-CRC64 /><Content-MD5>{}</Content-MD5><Cache-Control>{}</Cache-Control><Content-Disposition>{}</Content-Disposition><BlobType>BlockBlob</BlobType><AccessTier>Hot</AccessTier><AccessTierInferred>true</AccessTierInferred><LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState><ServerEncrypted>true</ServerEncrypted></Properties>",
                    escape(&b.name),
                    http_date(b.created),
                    http_date(b.last_modified),
                    escape(&b.etag),
                    b.size,
                    escape(c.content_type.as_deref().unwrap_or("application/octet-stream")),
                    opt(&c.content_encoding),
                    opt(&c.content_language),
                    opt(&c.content_md5),
                    opt(&c.cache_control),
                    opt(&c.content_disposition),
                );
                if with_metadata {
                    metadata(&mut s, b.metadata.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                }
                s.push_str("<OrMetadata /></Blob>");
            }
        }
    }
    s.push_str("</Blobs>");
    next_marker(&mut s, next);
    s.push_str("</EnumerationResults>");
    s
}

/// `Get Block List`: the committed and/or uncommitted blocks.
pub fn block_list(committed: Option<&[Block]>, uncommitted: Option<&[Block]>) -> String {
    let mut s = format!("{XML_DECLARATION}<BlockList>");
    for (tag, list) in [("CommittedBlocks", committed), ("UncommittedBlocks", uncommitted)] {
        let Some(list) = list else { continue };
        let _ = write!(s, "<{tag}>");
        for b in list {
            let _ = write!(s, "<Block><Name>{}</Name><Size>{}</Size></Block>", escape(&b.id), b.size);
        }
        let _ = write!(s, "</{tag}>");
    }
    s.push_str("</BlockList>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        let t = parse_http_date("Fri, 04 Dec 2026 10:00:00 GMT").unwrap();
        assert_eq!(http_date(t), "Fri, 04 Dec 2026 10:00:00 GMT");
        assert!(parse_http_date("yesterday").is_none());
    }
}
