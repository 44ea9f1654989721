//! Management locks (Microsoft.Authorization/locks) and what they stop: a lock applies to its
//! scope and everything below it; `CanNotDelete` stops deletes, `ReadOnly` stops writes and
//! deletes (docs/azure-behaviour.md "Management locks"). A subscription's locks are kept together,
//! so deciding whether a write is locked is one read of one small document.

use serde::{Deserialize, Serialize};

use crate::rbac::scope_contains;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LockLevel {
    CanNotDelete,
    ReadOnly,
}

impl LockLevel {
    /// The level as the wire spells it, read case-insensitively as ARM reads enums; the
    /// spec's third value `NotSpecified` is no lock at all and is refused.
    pub fn parse(s: &str) -> Option<Self> {
        if s.eq_ignore_ascii_case("CanNotDelete") {
            Some(LockLevel::CanNotDelete)
        } else if s.eq_ignore_ascii_case("ReadOnly") {
            Some(LockLevel::ReadOnly)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LockLevel::CanNotDelete => "CanNotDelete",
            LockLevel::ReadOnly => "ReadOnly",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockOwner {
    pub application_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagementLock {
    /// The locked scope with the casing given at creation (`/subscriptions/{s}[/resourceGroups/{rg}[/providers/...]]`).
    pub scope: String,
    pub name: String,
    pub level: LockLevel,
    pub notes: Option<String>,
    pub owners: Vec<LockOwner>,
}

impl ManagementLock {
    pub fn id(&self) -> String {
        lock_id(&self.scope, &self.name)
    }
}

pub fn lock_id(scope: &str, name: &str) -> String {
    format!("{}/providers/Microsoft.Authorization/locks/{name}", scope.trim_end_matches('/'))
}

/// What a request does to the scope it targets, as locks see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// PUT, PATCH, and POST actions that change something.
    Write,
    Delete,
}

impl Operation {
    /// The word ARM's `ScopeLocked` message uses.
    pub fn verb(self) -> &'static str {
        match self {
            Operation::Write => "write",
            Operation::Delete => "delete",
        }
    }
}

/// The lock names Azure accepts (locks.json: at most 260 characters, none of `<>%&:\?/` nor a control character).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().count() <= 260 && !name.chars().any(|c| c.is_control() || "<>%&:\\?/".contains(c))
}

/// The most characters `notes` may hold (locks.json `ManagementLockProperties.notes`).
pub const MAX_NOTES: usize = 512;

/// Every lock of one subscription.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionLocks {
    pub locks: Vec<ManagementLock>,
}

fn same_scope(a: &str, b: &str) -> bool {
    scope_contains(a, b) && scope_contains(b, a)
}

impl SubscriptionLocks {
    pub fn get(&self, scope: &str, name: &str) -> Option<&ManagementLock> {
        self.locks.iter().find(|l| same_scope(&l.scope, scope) && l.name.eq_ignore_ascii_case(name))
    }

    /// Creates or replaces the lock of that scope and name; true when it is new. A replaced
    /// lock keeps the casing of its first creation.
    pub fn put(&mut self, lock: ManagementLock) -> bool {
        match self.locks.iter_mut().find(|l| same_scope(&l.scope, &lock.scope) && l.name.eq_ignore_ascii_case(&lock.name)) {
            Some(existing) => {
                *existing = ManagementLock { scope: existing.scope.clone(), name: existing.name.clone(), ..lock };
                false
            }
            None => {
                self.locks.push(lock);
                true
            }
        }
    }

    pub fn remove(&mut self, scope: &str, name: &str) -> Option<ManagementLock> {
        let i = self.locks.iter().position(|l| same_scope(&l.scope, scope) && l.name.eq_ignore_ascii_case(name))?;
        Some(self.locks.remove(i))
    }

    /// The locks that stop `op` on `target`: for a write, the `ReadOnly` locks at or above it;
    /// for a delete, every lock at or above it and every lock below it (deleting a resource
    /// group deletes what it holds, and a locked resource may not go).
    pub fn blocking(&self, op: Operation, target: &str) -> Vec<&ManagementLock> {
        self.locks
            .iter()
            .filter(|l| match op {
                Operation::Write => l.level == LockLevel::ReadOnly && scope_contains(&l.scope, target),
                Operation::Delete => scope_contains(&l.scope, target) || scope_contains(target, &l.scope),
            })
            .collect()
    }

    /// The locks a list at `scope` returns: those that apply to it (at or above) and, unless
    /// `at_scope_only` (`$filter=atScope()`), those below it.
    pub fn listed(&self, scope: &str, at_scope_only: bool) -> Vec<&ManagementLock> {
        self.locks.iter().filter(|l| scope_contains(&l.scope, scope) || (!at_scope_only && scope_contains(scope, &l.scope))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "/subscriptions/s";
    const RG: &str = "/subscriptions/s/resourceGroups/rg";
    const VNET: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v";

    fn lock(scope: &str, name: &str, level: LockLevel) -> ManagementLock {
        ManagementLock { scope: scope.into(), name: name.into(), level, notes: None, owners: vec![] }
    }

    #[test]
    fn what_each_level_stops() {
        let mut all = SubscriptionLocks::default();
        assert!(all.put(lock(VNET, "nodelete", LockLevel::CanNotDelete)));
        // A resource lock stops deleting the resource, its children and its group, never a write.
        assert_eq!(all.blocking(Operation::Delete, VNET).len(), 1);
        assert_eq!(all.blocking(Operation::Delete, &format!("{VNET}/subnets/a")).len(), 1);
        assert_eq!(all.blocking(Operation::Delete, RG).len(), 1);
        assert!(all.blocking(Operation::Delete, "/subscriptions/s/resourceGroups/rg2").is_empty());
        assert!(all
            .blocking(Operation::Delete, "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v2")
            .is_empty());
        assert!(all.blocking(Operation::Write, VNET).is_empty());
        // ReadOnly on the group stops writes below it, not beside it.
        all.put(lock(RG, "ro", LockLevel::ReadOnly));
        assert_eq!(all.blocking(Operation::Write, &VNET.to_uppercase()).len(), 1);
        assert_eq!(all.blocking(Operation::Write, RG).len(), 1);
        assert!(all.blocking(Operation::Write, SUB).is_empty());
        assert_eq!(all.blocking(Operation::Delete, VNET).len(), 2);
    }

    #[test]
    fn replacing_keeps_the_first_casing_and_lists_follow_the_scope_tree() {
        let mut all = SubscriptionLocks::default();
        all.put(lock(SUB, "Top", LockLevel::CanNotDelete));
        all.put(lock(RG, "mid", LockLevel::CanNotDelete));
        all.put(lock(VNET, "low", LockLevel::CanNotDelete));
        assert!(!all.put(lock(&RG.to_lowercase(), "MID", LockLevel::ReadOnly)));
        let mid = all.get(RG, "mid").unwrap();
        assert_eq!((mid.scope.as_str(), mid.name.as_str(), mid.level), (RG, "mid", LockLevel::ReadOnly));
        assert_eq!(all.listed(RG, false).len(), 3);
        let at: Vec<&str> = all.listed(RG, true).iter().map(|l| l.name.as_str()).collect();
        assert_eq!(at, ["Top", "mid"]);
        assert_eq!(all.listed(SUB, false).len(), 3);
        assert!(all.remove(RG, "MID").is_some());
        assert!(all.get(RG, "mid").is_none());
    }

    #[test]
    fn lock_names() {
        assert!(valid_name("my-lock.1"));
        for bad in ["", "a/b", "a:b", "a%b", "a?b", "a\u{1}b", &"x".repeat(261)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
