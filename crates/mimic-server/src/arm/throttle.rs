//! ARM's request throttling, as Azure Resource Manager does it since 2024
//! (learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling):
//! a token bucket per subscription (or tenant, for requests without a subscription), per
//! security principal and per kind of operation (reads, writes, deletes), plus a global bucket
//! per subscription 15 times as large shared by every principal. A request that finds its bucket
//! empty gets 429 `SubscriptionRequestsThrottled` with `Retry-After`; every answered request
//! carries `x-ms-ratelimit-remaining-{subscription|tenant}-{reads|writes|deletes}`.
//!
//! Off unless `mimic serve --arm-rate-limit` (`MIMIC_ARM_RATE_LIMIT`) asks for it: Mimic serves
//! one developer or one CI run, whose tests legitimately run faster than a shared cloud allows.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Instant;

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use uuid::Uuid;

use super::core::ArmError;

/// Azure's documented buckets (size, refill per second) for reads, writes and deletes.
const AZURE: [Bucket; 3] =
    [Bucket { size: 250.0, refill: 25.0 }, Bucket { size: 200.0, refill: 10.0 }, Bucket { size: 200.0, refill: 10.0 }];
/// "The global subscription limit is 15 times the individual service principal limit."
const GLOBAL_FACTOR: f64 = 15.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub size: f64,
    pub refill: f64,
}

/// `--arm-rate-limit`: `off`, `azure` (Azure's defaults), or `SIZE/REFILL` (one bucket size and
/// refill per second for reads, writes and deletes alike; handy to see throttling in tests).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RateLimit {
    Off,
    Buckets([Bucket; 3]),
}

impl FromStr for RateLimit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("invalid rate limit '{s}': expected off, azure or SIZE/REFILL (e.g. 250/25)");
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "off" | "none" => Ok(RateLimit::Off),
            "azure" => Ok(RateLimit::Buckets(AZURE)),
            other => {
                let (size, refill) = other.split_once('/').ok_or_else(bad)?;
                let size: f64 = size.trim().parse().map_err(|_| bad())?;
                let refill: f64 = refill.trim().parse().map_err(|_| bad())?;
                if !(size >= 1.0 && refill > 0.0 && size.is_finite() && refill.is_finite()) {
                    return Err(bad());
                }
                Ok(RateLimit::Buckets([Bucket { size, refill }; 3]))
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Kind {
    Read,
    Write,
    Delete,
}

impl Kind {
    fn of(method: &Method) -> Kind {
        match *method {
            Method::GET | Method::HEAD => Kind::Read,
            Method::DELETE => Kind::Delete,
            _ => Kind::Write,
        }
    }
    fn index(self) -> usize {
        self as usize
    }
    /// As Azure names it in the throttling message and headers.
    fn word(self) -> &'static str {
        match self {
            Kind::Read => "read",
            Kind::Write => "write",
            Kind::Delete => "delete",
        }
    }
}

/// Where a request is counted: its subscription, or its tenant when the path names none.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
enum Scope {
    Subscription(String),
    Tenant(Uuid),
}

type Key = (Scope, Option<Uuid>, Kind);

struct Level {
    tokens: f64,
    at: Instant,
}

/// The buckets of one Mimic (shared by the ARM listener and the proxy's ARM host).
pub struct Throttle {
    limit: RateLimit,
    levels: Mutex<HashMap<Key, Level>>,
}

/// The outcome of [`Throttle::admit`] that goes on the response.
pub struct Admitted {
    header: HeaderName,
    remaining: u64,
}

impl Admitted {
    pub fn apply(&self, headers: &mut HeaderMap) {
        headers.insert(self.header.clone(), HeaderValue::from(self.remaining));
    }
}

/// Entries idle long enough to be full again are dropped past this many, so the map stays small.
const MAX_KEYS: usize = 10_000;

impl Throttle {
    pub fn new(limit: RateLimit) -> Self {
        Throttle { limit, levels: Mutex::new(HashMap::new()) }
    }

    /// Takes one token for this request from the caller's bucket and the subscription's global
    /// bucket, or refuses it as Azure does. `None` when throttling is off.
    pub fn admit(&self, method: &Method, path: &str, tenant: Uuid, principal: Uuid) -> Result<Option<Admitted>, ArmError> {
        let RateLimit::Buckets(buckets) = self.limit else { return Ok(None) };
        let kind = Kind::of(method);
        let bucket = buckets[kind.index()];
        let scope = subscription_in(path).map(|s| Scope::Subscription(s.to_ascii_lowercase())).unwrap_or(Scope::Tenant(tenant));
        let global = global_of(bucket);
        let now = Instant::now();
        let mut levels = self.levels.lock().unwrap_or_else(|p| p.into_inner());
        if levels.len() > MAX_KEYS {
            levels.retain(|(_, who, k), l| {
                let b = if who.is_some() { buckets[k.index()] } else { global_of(buckets[k.index()]) };
                now.duration_since(l.at).as_secs_f64() * b.refill < b.size
            });
        }
        let own_key = (scope.clone(), Some(principal), kind);
        let global_key = (scope.clone(), None, kind);
        let own = refilled(&mut levels, own_key.clone(), bucket, now);
        let all = refilled(&mut levels, global_key.clone(), global, now);
        if own < 1.0 || all < 1.0 {
            let wait = if own < 1.0 { (1.0 - own) / bucket.refill } else { (1.0 - all) / global.refill };
            return Err(throttled(&scope, kind, principal, wait.ceil().max(1.0) as u64));
        }
        for key in [own_key, global_key] {
            if let Some(l) = levels.get_mut(&key) {
                l.tokens -= 1.0;
            }
        }
        let scope_word = if matches!(scope, Scope::Subscription(_)) { "subscription" } else { "tenant" };
        let header = HeaderName::from_bytes(format!("x-ms-ratelimit-remaining-{scope_word}-{}s", kind.word()).as_bytes())
            .map_err(ArmError::internal)?;
        Ok(Some(Admitted { header, remaining: (own - 1.0).floor() as u64 }))
    }
}

/// The subscription-wide bucket shared by every principal.
fn global_of(b: Bucket) -> Bucket {
    Bucket { size: b.size * GLOBAL_FACTOR, refill: b.refill * GLOBAL_FACTOR }
}

/// The level of a bucket after refilling it for the time since it was last looked at.
fn refilled(levels: &mut HashMap<Key, Level>, key: Key, bucket: Bucket, now: Instant) -> f64 {
    let l = levels.entry(key).or_insert(Level { tokens: bucket.size, at: now });
    l.tokens = (l.tokens + now.duration_since(l.at).as_secs_f64() * bucket.refill).min(bucket.size);
    l.at = now;
    l.tokens
}

/// The subscription id of a `/subscriptions/{id}/...` path (keyword matched case-insensitively).
fn subscription_in(path: &str) -> Option<&str> {
    let mut segs = path.split('/').filter(|s| !s.is_empty());
    let first = segs.next()?;
    if !first.eq_ignore_ascii_case("subscriptions") {
        return None;
    }
    segs.next()
}

/// Azure's answer (text as ARM returns it, e.g. velero-io/velero#9171; the tenant variant by
/// analogy).
fn throttled(scope: &Scope, kind: Kind, principal: Uuid, retry_after: u64) -> ArmError {
    match scope {
        Scope::Subscription(s) => ArmError::subscription_requests_throttled(s, kind.word(), principal, retry_after),
        Scope::Tenant(t) => ArmError::tenant_requests_throttled(t, kind.word(), principal, retry_after),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_flag() {
        assert_eq!("off".parse::<RateLimit>(), Ok(RateLimit::Off));
        assert_eq!("azure".parse::<RateLimit>(), Ok(RateLimit::Buckets(AZURE)));
        assert_eq!("5/0.5".parse::<RateLimit>(), Ok(RateLimit::Buckets([Bucket { size: 5.0, refill: 0.5 }; 3])));
        for bad in ["5", "x/1", "0/1", "5/0", "5/-1", "inf/1", "NaN/1"] {
            assert!(bad.parse::<RateLimit>().is_err(), "{bad}");
        }
    }

    #[test]
    fn empties_the_bucket_then_refuses_with_retry_after_per_principal_and_kind() {
        let t = Throttle::new("3/0.01".parse().unwrap());
        let (tenant, a, b) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let path = "/subscriptions/S1/resourcegroups/rg";
        let remaining: Vec<u64> = (0..3).map(|_| t.admit(&Method::GET, path, tenant, a).unwrap().unwrap().remaining).collect();
        assert_eq!(remaining, [2, 1, 0]);
        let e = t.admit(&Method::GET, path, tenant, a).err().unwrap();
        assert_eq!(
            (e.status, e.code(), e.retry_after),
            (axum::http::StatusCode::TOO_MANY_REQUESTS, "SubscriptionRequestsThrottled", Some(100))
        );
        // Another principal, another kind, another subscription: their own buckets.
        assert!(t.admit(&Method::GET, path, tenant, b).is_ok());
        assert!(t.admit(&Method::PUT, path, tenant, a).is_ok());
        assert!(t.admit(&Method::GET, "/subscriptions/s2", tenant, a).is_ok());
        // The subscription id is matched case-insensitively.
        assert!(t.admit(&Method::GET, "/Subscriptions/s1", tenant, a).is_err());
        let tenant_level = t.admit(&Method::GET, "/tenants", tenant, a).unwrap().unwrap();
        assert_eq!(tenant_level.header.as_str(), "x-ms-ratelimit-remaining-tenant-reads");
    }

    #[test]
    fn the_subscription_wide_bucket_is_fifteen_callers_big() {
        let t = Throttle::new("2/0.001".parse().unwrap());
        let tenant = Uuid::new_v4();
        let admitted = (0..40).filter(|_| t.admit(&Method::GET, "/subscriptions/s", tenant, Uuid::new_v4()).is_ok()).count();
        assert_eq!(admitted, 30, "15 x 2 requests, whoever sends them");
    }

    #[test]
    fn off_admits_everything_without_headers() {
        let t = Throttle::new(RateLimit::Off);
        for _ in 0..1000 {
            assert!(t.admit(&Method::GET, "/subscriptions/s", Uuid::nil(), Uuid::nil()).unwrap().is_none());
        }
    }
}
