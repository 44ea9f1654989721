//! ARM template expressions (`[concat('a', parameters('b'))]`): classifying and parsing any
//! string never panics nor overflows the stack.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mimic_domain::template::expr;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = expr::classify(text);
    if let Ok(e) = expr::parse(text) {
        let mut called = Vec::new();
        expr::called_functions(&e, &mut called);
    }
});
