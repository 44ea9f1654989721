//! Pattern and scope matching for Azure RBAC (docs/azure-behaviour.md §4).
//!
//! Both functions run on every ARM request (through [`super::is_allowed`]), so
//! they work on bytes, compare ASCII case-insensitively in place and never
//! allocate.

/// Does the permission pattern `pattern` (an entry of `actions`, `notActions`,
/// `dataActions` or `notDataActions`) cover the operation `action`?
///
/// * Case-insensitive (ASCII), as Azure compares operation strings.
/// * `*` matches any run of characters, `/` included: `*/read` covers
///   `Microsoft.Compute/virtualMachines/read`, `Microsoft.Network/*` covers
///   `Microsoft.Network/virtualNetworks/subnets/join/action`.
/// * A `*` that is a whole path segment (`…/*/…`) may also stand for *no*
///   segment at all, the way Azure evaluates the built-in roles:
///   `Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action`
///   (Managed Identity Operator) covers
///   `Microsoft.ManagedIdentity/userAssignedIdentities/assign/action`, and
///   `Microsoft.Compute/virtualMachines/*/read` (Virtual Machine User Login)
///   covers `Microsoft.Compute/virtualMachines/read`.
///
/// Runs in O(len(pattern) × len(action)) at worst (greedy glob with a single
/// backtrack point), with no allocation.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    glob(pattern.as_bytes(), action.as_bytes())
}

/// A star that has been seen and may still be stretched.
#[derive(Clone, Copy)]
struct Star {
    /// Pattern index just after the star (and after the `/` it swallowed, for
    /// a segment star).
    resume_pi: usize,
    /// Text index the rest of the pattern is currently tried at.
    resume_ti: usize,
    /// `…/*/…`: the star plus its following `/` match either nothing or a run
    /// ending in `/`, i.e. the rest must start right after a `/` in the text.
    segment: bool,
}

fn glob(p: &[u8], t: &[u8]) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<Star> = None;
    loop {
        if pi < p.len() && p[pi] == b'*' {
            let start = pi;
            while pi < p.len() && p[pi] == b'*' {
                pi += 1;
            }
            // The byte before the star is a literal '/', already matched
            // against t[ti - 1]; so "rest starts right after a '/'" holds for
            // the empty run too.
            let segment = start > 0 && p[start - 1] == b'/' && pi < p.len() && p[pi] == b'/';
            if segment {
                pi += 1;
            } else if pi == p.len() {
                // Trailing free star: swallows the rest of the text.
                return true;
            }
            star = Some(Star { resume_pi: pi, resume_ti: ti, segment });
            continue;
        }
        if pi < p.len() && ti < t.len() && p[pi].eq_ignore_ascii_case(&t[ti]) {
            pi += 1;
            ti += 1;
            continue;
        }
        if pi == p.len() && ti == t.len() {
            return true;
        }
        // Mismatch (or one side ran out): stretch the last star by one byte
        // (for a segment star: up to just after the next '/').
        let Some(s) = star.as_mut() else {
            return false;
        };
        let mut next = s.resume_ti + 1;
        if s.segment {
            while next <= t.len() && t[next - 1] != b'/' {
                next += 1;
            }
        }
        if next > t.len() {
            return false;
        }
        s.resume_ti = next;
        pi = s.resume_pi;
        ti = next;
    }
}

/// Is `child` equal to or below `parent` in the ARM scope tree?
///
/// Case-insensitive (ASCII) and on path-segment boundaries: `/subscriptions/S`
/// contains `/subscriptions/S` and `/subscriptions/S/resourceGroups/rg`, but
/// `/subscriptions/S/resourceGroups/rg` does not contain
/// `/subscriptions/S/resourceGroups/rg2`. `/` (or the empty string) contains
/// every scope. Trailing `/` on either side is ignored. Management-group
/// ancestry is not path-based and is not handled here.
pub fn scope_contains(parent: &str, child: &str) -> bool {
    let p = trim_trailing_slashes(parent.as_bytes());
    let c = trim_trailing_slashes(child.as_bytes());
    if p.is_empty() {
        return true;
    }
    if c.len() < p.len() || !c[..p.len()].eq_ignore_ascii_case(p) {
        return false;
    }
    c.len() == p.len() || c[p.len()] == b'/'
}

fn trim_trailing_slashes(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., b'/'] = s {
        s = rest;
    }
    s
}
