//! What any caller of the Blob service sends before it is authorised: a Put Block List body
//! (`mimic-wire/src/blob.rs`), a range header, a blob name, and the request a Shared Key
//! signature covers (`mimic-domain/src/storage/shared_key.rs`). None of them may panic; a parsed
//! block list stays within its bound, a range within the blob.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mimic_domain::storage::{blob, shared_key};

fuzz_target!(|data: &[u8]| {
    if let Some(list) = mimic_wire::blob::parse_block_list(data, 16) {
        assert!(list.len() <= 16);
    }
    let text = String::from_utf8_lossy(data);
    if let Some(r) = blob::parse_range(&text) {
        for size in [0u64, 1, 4096, u64::MAX] {
            if let Some((s, e)) = r.within(size) {
                assert!(s <= e && e < size);
            }
        }
    }
    let _ = blob::valid_blob_name(&text);
    let _ = blob::valid_block_id(&text);
    // Split the input into a path, a query and headers the way a request carries them.
    let mut parts = text.splitn(3, '\n');
    let (path, query, rest) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let headers: Vec<(String, String)> =
        rest.lines().filter_map(|l| l.split_once(':')).map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let req = shared_key::SignedRequest { method: "PUT", headers: &headers, raw_path: path, raw_query: query };
    let s = shared_key::string_to_sign(&req, "account");
    assert!(s.starts_with("PUT\n"));
    let _ = shared_key::parse_authorization(&text);
});
