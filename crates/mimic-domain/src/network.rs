//! Azure's address rules for virtual networks, network interfaces and public IP addresses, as
//! plain functions (no HTTP, no store): which private address a NIC's IP configuration gets in its
//! subnet, whether a static one is acceptable, where public addresses come from, and the MAC
//! address format.
//!
//! Sources: "Azure reserves the first four and last IP address for a total of 5 IP addresses
//! within each subnet" (learn.microsoft.com/azure/virtual-network/virtual-networks-faq, "Are there
//! any restrictions on using IP addresses within these subnets?"); "Dynamic: Azure assigns the
//! next available unassigned or unreserved IP address in the subnet's address range"
//! (virtual-network/ip-services/private-ip-addresses). Error codes from ARM's
//! common-deployment-errors table (`PrivateIPAddressNotInSubnet`,
//! `PrivateIPAddressInReservedRange`) and Network RP responses quoted in public issues
//! (`PrivateIPAddressIsAllocated`, e.g. F5Networks/terraform-azure-bigip-module#63;
//! `SubnetIsFull`).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// An IPv4 prefix in CIDR notation (`10.0.0.0/24`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    base: u32,
    len: u8,
}

impl Prefix {
    /// Parses `a.b.c.d/n`; the base is masked to the prefix, as Azure normalises it.
    pub fn parse(text: &str) -> Option<Prefix> {
        let (addr, len) = text.trim().split_once('/')?;
        let addr: Ipv4Addr = addr.parse().ok()?;
        let len: u8 = len.parse().ok().filter(|l| *l <= 32)?;
        Some(Prefix { base: u32::from(addr) & Self::mask(len), len })
    }

    fn mask(len: u8) -> u32 {
        if len == 0 {
            0
        } else {
            u32::MAX << (32 - len)
        }
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & Self::mask(self.len) == self.base
    }

    fn last(&self) -> u32 {
        self.base | !Self::mask(self.len)
    }

    /// The addresses a NIC may have: all but the network address, the three Azure uses
    /// (gateway and DNS) and the broadcast address.
    fn usable(&self) -> std::ops::RangeInclusive<u32> {
        self.base.saturating_add(4)..=self.last().saturating_sub(1)
    }
}

impl std::fmt::Display for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.base), self.len)
    }
}

/// Why an IP configuration cannot have an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("Private static IP address {ip} does not belong to the range of subnet prefix {prefix}.")]
    NotInSubnet { ip: String, prefix: String },
    #[error("Private static IP address {ip} falls within reserved IP range of subnet prefix {prefix}.")]
    InReservedRange { ip: String, prefix: String },
    #[error("IP configuration {config} is using the private IP address {ip} which is already allocated to resource {owner}.")]
    IsAllocated { config: String, ip: String, owner: String },
    #[error("Subnet {subnet} with address prefix {prefix} does not have enough capacity for 1 IP addresses.")]
    SubnetIsFull { subnet: String, prefix: String },
    #[error("The value '{ip}' of property 'privateIPAddress' is not a valid IPv4 address.")]
    Invalid { ip: String },
}

impl AddressError {
    pub fn code(&self) -> &'static str {
        match self {
            AddressError::NotInSubnet { .. } => "PrivateIPAddressNotInSubnet",
            AddressError::InReservedRange { .. } => "PrivateIPAddressInReservedRange",
            AddressError::IsAllocated { .. } => "PrivateIPAddressIsAllocated",
            AddressError::SubnetIsFull { .. } => "SubnetIsFull",
            AddressError::Invalid { .. } => "InvalidRequestFormat",
        }
    }
}

/// Addresses in use in one subnet, each with the IP configuration holding it.
pub type InUse = BTreeMap<Ipv4Addr, String>;

/// The lowest free usable address of the subnet (so the first NIC gets `x.x.x.4`).
pub fn allocate_private(prefix: Prefix, subnet: &str, used: &InUse) -> Result<Ipv4Addr, AddressError> {
    prefix
        .usable()
        .map(Ipv4Addr::from)
        .find(|ip| !used.contains_key(ip))
        .ok_or_else(|| AddressError::SubnetIsFull { subnet: subnet.to_string(), prefix: prefix.to_string() })
}

/// A static address asked for by `config`: inside the subnet, not reserved, not someone else's.
pub fn check_static(prefix: Prefix, text: &str, config: &str, used: &InUse) -> Result<Ipv4Addr, AddressError> {
    let ip: Ipv4Addr = text.trim().parse().map_err(|_| AddressError::Invalid { ip: text.to_string() })?;
    if !prefix.contains(ip) {
        return Err(AddressError::NotInSubnet { ip: text.to_string(), prefix: prefix.to_string() });
    }
    if !prefix.usable().contains(&u32::from(ip)) {
        return Err(AddressError::InReservedRange { ip: text.to_string(), prefix: prefix.to_string() });
    }
    match used.get(&ip) {
        Some(owner) if !owner.eq_ignore_ascii_case(config) => {
            Err(AddressError::IsAllocated { config: config.to_string(), ip: ip.to_string(), owner: owner.clone() })
        }
        _ => Ok(ip),
    }
}

/// Where public addresses come from: 198.18.0.0/15, which IANA reserves for benchmarking
/// (RFC 2544, RFC 6890: "not globally reachable"), so a Mimic "public" address can never be
/// mistaken for, or route to, a real host; it holds 131,072 addresses, where the RFC 5737
/// documentation ranges hold only 3 × 256.
pub fn public_pool() -> Prefix {
    Prefix { base: u32::from(Ipv4Addr::new(198, 18, 0, 0)), len: 15 }
}

/// The order in which to try public addresses for a resource: from a point derived from `seed`
/// (so two resources rarely probe the same addresses), round the whole pool, skipping the `.0`
/// and `.255` addresses that look like network and broadcast addresses.
pub fn public_candidates(seed: u64) -> impl Iterator<Item = Ipv4Addr> {
    let pool = public_pool();
    let size = 1u64 << (32 - pool.len);
    let start = seed % size;
    (0..size).map(move |i| Ipv4Addr::from(pool.base + ((start + i) % size) as u32)).filter(|ip| !matches!(ip.octets()[3], 0 | 255))
}

/// A MAC address as the Network RP shows it (`00-0D-3A-12-34-56`: Microsoft's OUI 00-0D-3A,
/// upper-case hex, dash-separated).
pub fn mac_address(nic: [u8; 3]) -> String {
    format!("00-0D-3A-{:02X}-{:02X}-{:02X}", nic[0], nic[1], nic[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn prefixes() {
        for (text, shown, inside, outside) in [
            ("10.0.0.0/24", "10.0.0.0/24", "10.0.0.200", "10.0.1.0"),
            ("10.0.0.7/24", "10.0.0.0/24", "10.0.0.7", "9.255.255.255"),
            ("192.168.4.0/22", "192.168.4.0/22", "192.168.7.255", "192.168.8.0"),
            ("0.0.0.0/0", "0.0.0.0/0", "8.8.8.8", "8.8.8.8"),
        ] {
            let p = Prefix::parse(text).unwrap();
            assert_eq!(p.to_string(), shown);
            assert!(p.contains(ip(inside)), "{text} ∋ {inside}");
            if text != "0.0.0.0/0" {
                assert!(!p.contains(ip(outside)), "{text} ∌ {outside}");
            }
        }
        for bad in ["10.0.0.0", "10.0.0.0/33", "10.0.0/24", "x/8", ""] {
            assert!(Prefix::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn dynamic_allocation_skips_azures_reserved_addresses() {
        let p = Prefix::parse("10.0.0.0/24").unwrap();
        let mut used = InUse::new();
        // First NIC: x.x.x.4 (x.x.x.0-3 are Azure's), then the next free one.
        assert_eq!(allocate_private(p, "s", &used).unwrap(), ip("10.0.0.4"));
        used.insert(ip("10.0.0.4"), "a".into());
        used.insert(ip("10.0.0.6"), "b".into());
        assert_eq!(allocate_private(p, "s", &used).unwrap(), ip("10.0.0.5"));
        used.insert(ip("10.0.0.5"), "c".into());
        assert_eq!(allocate_private(p, "s", &used).unwrap(), ip("10.0.0.7"));
        // A freed address is given again.
        used.remove(&ip("10.0.0.5"));
        assert_eq!(allocate_private(p, "s", &used).unwrap(), ip("10.0.0.5"));
    }

    #[test]
    fn a_29_holds_three_nics_then_is_full() {
        // Azure's smallest subnet, /29: 8 addresses, 5 reserved.
        let p = Prefix::parse("10.1.0.8/29").unwrap();
        let mut used = InUse::new();
        for want in ["10.1.0.12", "10.1.0.13", "10.1.0.14"] {
            let got = allocate_private(p, "s", &used).unwrap();
            assert_eq!(got, ip(want));
            used.insert(got, want.into());
        }
        let e = allocate_private(p, "sub1", &used).unwrap_err();
        assert_eq!(e.code(), "SubnetIsFull");
        assert_eq!(e.to_string(), "Subnet sub1 with address prefix 10.1.0.8/29 does not have enough capacity for 1 IP addresses.");
    }

    #[test]
    fn static_addresses() {
        let p = Prefix::parse("10.0.1.0/24").unwrap();
        let used: InUse = [(ip("10.0.1.10"), "/nic1/ipConfigurations/c1".to_string())].into();
        let cases: &[(&str, &str, Result<&str, &str>)] = &[
            ("10.0.1.9", "/nic2/c", Ok("10.0.1.9")),
            ("10.0.1.254", "/nic2/c", Ok("10.0.1.254")),
            ("10.0.2.9", "/nic2/c", Err("PrivateIPAddressNotInSubnet")),
            ("10.0.1.0", "/nic2/c", Err("PrivateIPAddressInReservedRange")),
            ("10.0.1.1", "/nic2/c", Err("PrivateIPAddressInReservedRange")),
            ("10.0.1.3", "/nic2/c", Err("PrivateIPAddressInReservedRange")),
            ("10.0.1.255", "/nic2/c", Err("PrivateIPAddressInReservedRange")),
            ("10.0.1.10", "/nic2/c", Err("PrivateIPAddressIsAllocated")),
            // Its own address again (an update of the same configuration) is fine.
            ("10.0.1.10", "/NIC1/ipconfigurations/C1", Ok("10.0.1.10")),
            ("10.0.1.x", "/nic2/c", Err("InvalidRequestFormat")),
        ];
        for (text, config, want) in cases {
            let got = check_static(p, text, config, &used);
            match want {
                Ok(w) => assert_eq!(got.unwrap(), ip(w), "{text}"),
                Err(code) => assert_eq!(got.unwrap_err().code(), *code, "{text}"),
            }
        }
        assert_eq!(
            check_static(p, "10.0.2.9", "c", &used).unwrap_err().to_string(),
            "Private static IP address 10.0.2.9 does not belong to the range of subnet prefix 10.0.1.0/24."
        );
        assert_eq!(
            check_static(p, "10.0.1.10", "/nic2/c", &used).unwrap_err().to_string(),
            "IP configuration /nic2/c is using the private IP address 10.0.1.10 which is already allocated to resource /nic1/ipConfigurations/c1."
        );
    }

    #[test]
    fn public_addresses_stay_in_the_benchmarking_pool() {
        let pool = public_pool();
        assert_eq!(pool.to_string(), "198.18.0.0/15");
        let first: Vec<_> = public_candidates(0).take(3).collect();
        assert_eq!(first, [ip("198.18.0.1"), ip("198.18.0.2"), ip("198.18.0.3")]);
        // Wraps round the pool from any start, never leaving it, never .0 or .255.
        let end = public_candidates((1 << 17) - 2).take(3).collect::<Vec<_>>();
        assert_eq!(end, [ip("198.19.255.254"), ip("198.18.0.1"), ip("198.18.0.2")]);
        assert!(public_candidates(12345).take(1000).all(|a| pool.contains(a) && a.octets()[3] != 0 && a.octets()[3] != 255));
    }

    #[test]
    fn mac_format() {
        assert_eq!(mac_address([0x12, 0xab, 0x05]), "00-0D-3A-12-AB-05");
    }
}

/// A public IP address taken from the pool, stored under the address: which public IP resource
/// holds it (one address, one holder, store-wide).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PublicIpAllocation {
    pub id: String,
}
