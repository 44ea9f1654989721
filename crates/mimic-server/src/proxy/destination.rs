//! Where the proxy may open a connection for a host it does not serve: anywhere but this
//! machine.
//!
//! The proxy is reachable from places that must not reach this machine's other listeners:
//! `mimic vm run` relays it into a workload's network namespace, where the only way to the host
//! is through Mimic's listeners. A tunnel to `127.0.0.1:PORT` would hand that workload every
//! other VM's IMDS listener (their managed-identity tokens) and anything else bound to
//! loopback. So a destination is refused when any address it resolves to is this machine's:
//! loopback, unspecified ("0.0.0.0" connects to the host on Linux), link-local (169.254.0.0/16,
//! IMDS's range, and fe80::/10), multicast or broadcast, or an address of one of this
//! machine's interfaces (bindable here). Names are resolved once and the checked address is the
//! one connected to, so a name cannot resolve to a public address for the check and to loopback
//! for the connection (DNS rebinding).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::net::TcpStream;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub enum Refused {
    /// The destination is this machine (or resolves to it).
    ThisMachine(IpAddr),
    /// The name does not resolve.
    Unresolved(io::Error),
    /// No address accepted a connection.
    Unreachable(io::Error),
    TimedOut,
}

impl Refused {
    pub fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            Refused::ThisMachine(_) => StatusCode::FORBIDDEN,
            Refused::Unresolved(_) | Refused::Unreachable(_) => StatusCode::BAD_GATEWAY,
            Refused::TimedOut => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    pub fn explain(&self, host: &str, port: u16) -> String {
        match self {
            Refused::ThisMachine(ip) => format!(
                "Mimic's proxy does not connect to this machine's own addresses ({host} is {ip}); reach local services directly (NO_PROXY)"
            ),
            Refused::Unresolved(e) => format!("Mimic's proxy cannot resolve {host}: {e}"),
            Refused::Unreachable(e) => format!("Mimic's proxy cannot connect to {host}:{port}: {e}"),
            Refused::TimedOut => format!("Mimic's proxy timed out connecting to {host}:{port}"),
        }
    }
}

/// An address on this machine: the ranges that always are, then any address an interface holds.
pub fn is_this_machine(ip: IpAddr) -> bool {
    let ip = canonical(ip);
    let always = match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback() || v4.is_unspecified() || v4.is_link_local() || v4.is_multicast() || v4.is_broadcast() || v4.octets()[0] == 0
        }
        IpAddr::V6(v6) => v6.is_loopback() || v6.is_unspecified() || v6.is_multicast() || (v6.segments()[0] & 0xffc0) == 0xfe80,
    };
    // Binding succeeds only for an address this machine holds (or would accept as its own).
    always || std::net::UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok()
}

/// IPv4-mapped (`::ffff:a.b.c.d`) and IPv4-compatible (`::a.b.c.d`) addresses are their IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let s = v6.segments();
            if s[..6] == [0; 6] && v6 != Ipv6Addr::UNSPECIFIED && v6 != Ipv6Addr::LOCALHOST {
                return IpAddr::V4(Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8));
            }
            ip
        }
        v4 => v4,
    }
}

/// Resolves `host` (a name or an IP literal, IPv6 with or without brackets) and connects to the
/// first address that answers, refusing destinations on this machine.
pub async fn connect(host: &str, port: u16) -> Result<TcpStream, Refused> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((bare, port)).await.map_err(Refused::Unresolved)?.collect(),
    };
    if addrs.is_empty() {
        return Err(Refused::Unresolved(io::Error::new(io::ErrorKind::NotFound, "no addresses")));
    }
    if let Some(local) = addrs.iter().find(|a| is_this_machine(a.ip())) {
        return Err(Refused::ThisMachine(local.ip()));
    }
    let attempt = async {
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no addresses");
        for a in &addrs {
            match TcpStream::connect(a).await {
                Ok(s) => return Ok(s),
                Err(e) => last = e,
            }
        }
        Err(Refused::Unreachable(last))
    };
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, attempt).await.map_err(|_| Refused::TimedOut)??;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_machine_covers_every_spelling_of_loopback_and_imds() {
        for a in [
            "127.0.0.1",
            "127.1.2.3",
            "0.0.0.0",
            "0.1.2.3",
            "169.254.169.254",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::127.0.0.1",
            "fe80::1",
            "224.0.0.1",
            "255.255.255.255",
        ] {
            assert!(is_this_machine(a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn foreign_addresses_are_not_this_machine() {
        for a in ["192.0.2.10", "198.51.100.7", "2001:db8::1", "::ffff:192.0.2.10"] {
            assert!(!is_this_machine(a.parse().unwrap()), "{a}");
        }
    }

    #[tokio::test]
    async fn names_for_this_machine_are_refused_before_connecting() {
        for host in ["localhost", "127.0.0.1", "[::1]", "0"] {
            assert!(matches!(connect(host, 1).await, Err(Refused::ThisMachine(_))), "{host}");
        }
    }
}
