//! Json.NET's reader (`mimic-wire/src/jsonnet.rs`, which reads templates and ARM bodies: comments,
//! single quotes, unquoted names): any text never panics nor overflows the stack, and whatever
//! it accepts is within the shared nesting budget and is read back by the store's reader, so
//! nothing a deployment PUT is accepted with can brick the store.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mimic_domain::limits;
use mimic_wire::jsonnet as json;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(parsed) = json::parse(text) {
        assert!(limits::value_within(&parsed.value, limits::MAX_DEPTH));
        let stored = serde_json::to_string(&parsed.value).expect("a parsed value serializes");
        // Inside the deepest envelope a store puts a document in.
        let enveloped = format!("{}{stored}{}", "[".repeat(limits::ENVELOPE_DEPTH), "]".repeat(limits::ENVELOPE_DEPTH));
        assert!(limits::check_readable(&enveloped).is_ok(), "accepted but unreadable once stored");
        // Every position it records names a value.
        assert!(parsed.positions.values().all(|(line, _)| *line >= 1));
    }
});
