//! The client's address behind reverse proxies. A request's socket address is the client's,
//! unless it comes from a proxy listed in `HERALD_TRUSTED_PROXIES` (addresses or CIDR ranges):
//! then `X-Forwarded-For` is read from the right, skipping trusted proxies, and the first
//! address no proxy of ours added is the client. Anything a client writes into the header
//! itself sits to the left of that and is never believed.

use std::net::IpAddr;

/// Addresses and ranges of the proxies in front of Herald.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

fn bits(ip: IpAddr) -> u8 {
    match ip {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

fn as_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u32::from(v4) as u128,
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// An IPv4 address written as IPv6 (`::ffff:10.0.0.1`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl TrustedProxies {
    /// Parses `10.0.0.0/8, 127.0.0.1, fd00::/8`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut ranges = Vec::new();
        for part in text
            .split([',', ' '])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (addr, prefix) = match part.split_once('/') {
                Some((a, p)) => (a, Some(p)),
                None => (part, None),
            };
            let ip: IpAddr = addr
                .parse()
                .map_err(|_| format!("{part:?} is not an IP address or CIDR range"))?;
            let ip = canonical(ip);
            let prefix = match prefix {
                None => bits(ip),
                Some(p) => p
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= bits(ip))
                    .ok_or_else(|| format!("{part:?} has an invalid prefix length"))?,
            };
            ranges.push((ip, prefix));
        }
        Ok(TrustedProxies(ranges))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|(net, prefix)| {
            if bits(*net) != bits(ip) {
                return false;
            }
            let shift = bits(ip) - prefix;
            if shift >= 128 {
                return true;
            }
            (as_u128(*net) >> shift) == (as_u128(ip) >> shift)
        })
    }

    /// The client of a request from `peer` carrying these `X-Forwarded-For` header values (in
    /// the order received).
    pub fn client(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        let peer = canonical(peer);
        if !self.contains(peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded_for
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else {
                // Garbage from further left: the last address we trust to be real is it.
                return client;
            };
            client = ip;
            if !self.contains(ip) {
                return ip;
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:443`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sock) = hop.parse::<std::net::SocketAddr>() {
        return Some(canonical(sock.ip()));
    }
    hop.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .and_then(|h| h.parse().ok())
        .map(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges() {
        let t = TrustedProxies::parse("10.0.0.0/8, 127.0.0.1 fd00::/8,192.168.1.0/24").unwrap();
        for (addr, trusted) in [
            ("10.1.2.3", true),
            ("11.0.0.1", false),
            ("127.0.0.1", true),
            ("127.0.0.2", false),
            ("::ffff:10.9.9.9", true),
            ("fd12::1", true),
            ("fe80::1", false),
            ("192.168.1.77", true),
            ("192.168.2.1", false),
        ] {
            assert_eq!(t.contains(ip(addr)), trusted, "{addr}");
        }
        assert!(
            TrustedProxies::parse("0.0.0.0/0")
                .unwrap()
                .contains(ip("8.8.8.8"))
        );
        for bad in ["10.0.0.0/33", "banana", "10.0.0.0/x", "::/129"] {
            assert!(TrustedProxies::parse(bad).is_err(), "{bad}");
        }
        assert!(TrustedProxies::parse("").unwrap().is_empty());
    }

    #[test]
    fn the_client_is_the_first_address_no_trusted_proxy_added() {
        let t = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let table: &[(&str, &[&str], &str)] = &[
            // Not from a proxy: the header is whatever the client wrote, and ignored.
            ("203.0.113.9", &["1.1.1.1"], "203.0.113.9"),
            // One proxy.
            ("10.0.0.2", &["198.51.100.7"], "198.51.100.7"),
            // The client wrote a fake address in front; our proxy appended the real one.
            ("10.0.0.2", &["6.6.6.6, 198.51.100.7"], "198.51.100.7"),
            // Two of our proxies, in one header or in two.
            ("10.0.0.2", &["198.51.100.7, 10.0.0.5"], "198.51.100.7"),
            ("10.0.0.2", &["198.51.100.7", "10.0.0.5"], "198.51.100.7"),
            // Ports and brackets.
            ("10.0.0.2", &["198.51.100.7:4242"], "198.51.100.7"),
            ("10.0.0.2", &["[2001:db8::7]:443"], "2001:db8::7"),
            // Garbage left of a real hop is ignored.
            ("10.0.0.2", &["<script>, 198.51.100.7"], "198.51.100.7"),
            // Garbage where the client should be: the last trusted hop stands.
            ("10.0.0.2", &["not-an-ip"], "10.0.0.2"),
            // A proxy without the header.
            ("10.0.0.2", &[], "10.0.0.2"),
        ];
        for (peer, xff, client) in table {
            assert_eq!(t.client(ip(peer), xff), ip(client), "{peer} {xff:?}");
        }
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("127.0.0.1"), &["1.2.3.4"]), ip("127.0.0.1"));
    }
}
