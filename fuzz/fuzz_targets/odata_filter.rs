//! Microsoft Graph's `$filter` language (`mimic-domain/src/odata_filter.rs`), which any member
//! user sends: parsing any text never panics nor overflows the stack, and an accepted filter's
//! tree is within the shared nesting budget (parentheses, `not` and lambdas count a level each,
//! `and`/`or` chains only their logarithm).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mimic_domain::limits::MAX_DEPTH;
use mimic_domain::odata_filter::{self, Expr};

/// Tree height, iteratively (the target must not be the one to overflow).
fn height(e: &Expr) -> usize {
    let mut max = 0;
    let mut stack = vec![(e, 1usize)];
    while let Some((e, d)) = stack.pop() {
        max = max.max(d);
        match e {
            Expr::And(a, b) | Expr::Or(a, b) => {
                stack.push((a, d + 1));
                stack.push((b, d + 1));
            }
            Expr::Not(a) => stack.push((a, d + 1)),
            Expr::Any(_, Some((_, b))) => stack.push((b, d + 1)),
            _ => {}
        }
    }
    max
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(e) = odata_filter::parse(text) {
        // Each nesting level may hold a balanced chain: log2 of the token count, at most ~20.
        assert!(height(&e) <= (MAX_DEPTH + 1) * 24, "filter tree {} deep", height(&e));
    }
});
