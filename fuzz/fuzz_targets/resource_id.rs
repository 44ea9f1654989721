//! ARM resource ids: parsing never panics, and what parses renders to an id that parses back to
//! the same thing (the canonical form is stable), with the same case-insensitive key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mimic_domain::resource_id::{self, ResourceId};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = resource_id::key(text);
    let lowered = resource_id::lowercase_resource_groups(text);
    assert_eq!(resource_id::key(&lowered), resource_id::key(text), "only the keyword's case may change");
    if let Ok(id) = ResourceId::parse(text) {
        let rendered = id.render();
        let again = ResourceId::parse(&rendered).expect("a rendered id parses");
        assert_eq!(again, id, "{text:?} -> {rendered:?}");
        let _ = (id.full_type(), id.name());
    }
});
