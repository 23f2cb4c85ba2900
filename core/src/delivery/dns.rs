//! A stub resolver for TXT records, enough for checking a sending domain's SPF, DKIM and DMARC
//! records (`dns_check`): one question to one recursive resolver over UDP (with EDNS0, so keys
//! of 2048 bits fit), again over TCP when the answer comes back truncated, CNAME chains
//! followed inside the answer. The resolver is the system's (`/etc/resolv.conf`) unless
//! `HERALD_DNS_RESOLVER` names one, which is how the tests point it at a local DNS server.
//!
//! Answers come from the network: every length and pointer is checked against the packet,
//! compression pointers may only point backwards, and a malformed answer is an error, never a
//! panic or a loop.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TXT: u16 = 16;
const CNAME: u16 = 5;
const OPT: u16 = 41;
const IN: u16 = 1;
/// The UDP payload Herald offers (the DNS flag day's recommendation).
const PAYLOAD: u16 = 1232;

/// Where TXT questions go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolver {
    pub server: SocketAddr,
    pub timeout: Duration,
}

impl Resolver {
    pub fn new(server: SocketAddr) -> Resolver {
        Resolver {
            server,
            timeout: Duration::from_secs(3),
        }
    }

    /// The first `nameserver` of `/etc/resolv.conf`, else 127.0.0.1.
    pub fn system() -> Resolver {
        let conf = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        Resolver::new(SocketAddr::new(
            nameserver(&conf).unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            53,
        ))
    }

    /// `host:port`, or an address alone (port 53).
    pub fn parse(s: &str) -> Result<Resolver, String> {
        let s = s.trim();
        s.parse::<SocketAddr>()
            .or_else(|_| s.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 53)))
            .map(Resolver::new)
            .map_err(|_| format!("“{s}” is not a DNS server address like 127.0.0.1:53"))
    }

    /// The TXT records at `name`, each one's strings joined; none when the name or its TXT
    /// records do not exist.
    pub async fn txt(&self, name: &str) -> Result<Vec<String>, String> {
        let id: u16 = rand::random();
        let query = query(id, name)?;
        let answer = match tokio::time::timeout(self.timeout, self.udp(&query)).await {
            Ok(Ok(a)) => a,
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(format!("the DNS server {} did not answer", self.server)),
        };
        let parsed = parse(&answer, id, name)?;
        let parsed = if parsed.truncated {
            let answer = tokio::time::timeout(self.timeout, self.tcp(&query))
                .await
                .map_err(|_| format!("the DNS server {} did not answer over TCP", self.server))??;
            parse(&answer, id, name)?
        } else {
            parsed
        };
        parsed.records
    }

    async fn udp(&self, query: &[u8]) -> Result<Vec<u8>, String> {
        let bind: SocketAddr = if self.server.is_ipv4() {
            "0.0.0.0:0".parse().expect("an address")
        } else {
            "[::]:0".parse().expect("an address")
        };
        let socket = tokio::net::UdpSocket::bind(bind)
            .await
            .map_err(|e| format!("no UDP socket: {e}"))?;
        socket
            .connect(self.server)
            .await
            .map_err(|e| format!("the DNS server {} is unreachable: {e}", self.server))?;
        socket
            .send(query)
            .await
            .map_err(|e| format!("the DNS server {} is unreachable: {e}", self.server))?;
        let mut buf = vec![0u8; 65_535];
        // Answers with another id (late answers to an earlier question) are dropped.
        loop {
            let n = socket
                .recv(&mut buf)
                .await
                .map_err(|e| format!("the DNS server {} is unreachable: {e}", self.server))?;
            if n >= 2 && buf[..2] == query[..2] {
                return Ok(buf[..n].to_vec());
            }
        }
    }

    async fn tcp(&self, query: &[u8]) -> Result<Vec<u8>, String> {
        let unreachable = |e: std::io::Error| {
            format!(
                "the DNS server {} is unreachable over TCP: {e}",
                self.server
            )
        };
        let mut s = tokio::net::TcpStream::connect(self.server)
            .await
            .map_err(unreachable)?;
        let mut framed = (query.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(query);
        s.write_all(&framed).await.map_err(unreachable)?;
        let len = s.read_u16().await.map_err(unreachable)?;
        let mut buf = vec![0u8; usize::from(len)];
        s.read_exact(&mut buf).await.map_err(unreachable)?;
        Ok(buf)
    }
}

fn nameserver(conf: &str) -> Option<IpAddr> {
    conf.lines().find_map(|l| {
        let mut words = l.split_whitespace();
        (words.next() == Some("nameserver"))
            .then(|| words.next()?.split('%').next()?.parse().ok())
            .flatten()
    })
}

/// A query for `name`'s TXT records, recursion desired, with an EDNS0 OPT record.
fn query(id: u16, name: &str) -> Result<Vec<u8>, String> {
    let mut q = Vec::with_capacity(64);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00]); // RD
    q.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 1]); // one question, one additional
    encode_name(&mut q, name)?;
    q.extend_from_slice(&TXT.to_be_bytes());
    q.extend_from_slice(&IN.to_be_bytes());
    q.push(0); // the root name
    q.extend_from_slice(&OPT.to_be_bytes());
    q.extend_from_slice(&PAYLOAD.to_be_bytes());
    q.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // extended rcode and flags, no options
    Ok(q)
}

fn encode_name(out: &mut Vec<u8>, name: &str) -> Result<(), String> {
    let name = name.trim_end_matches('.');
    if name.len() > 253 {
        return Err(format!("“{name}” is too long for a DNS name"));
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 || !label.is_ascii() {
            return Err(format!("“{name}” is not a DNS name"));
        }
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    Ok(())
}

struct Parsed {
    truncated: bool,
    records: Result<Vec<String>, String>,
}

struct Reader<'a> {
    p: &'a [u8],
    at: usize,
}

const MALFORMED: &str = "the DNS server's answer is malformed";

impl Reader<'_> {
    fn u8(&mut self) -> Result<u8, String> {
        let b = *self.p.get(self.at).ok_or(MALFORMED)?;
        self.at += 1;
        Ok(b)
    }

    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from(self.u8()?) << 8 | u16::from(self.u8()?))
    }

    fn skip(&mut self, n: usize) -> Result<(), String> {
        if self.at + n > self.p.len() {
            return Err(MALFORMED.into());
        }
        self.at += n;
        Ok(())
    }

    /// A name, lower-cased, without the trailing dot; follows compression pointers, which must
    /// point before the place they are read at (so no loop is possible).
    fn name(&mut self) -> Result<String, String> {
        let mut labels: Vec<String> = Vec::new();
        let mut at = self.at;
        let mut end = None;
        let mut length = 0usize;
        loop {
            let len = *self.p.get(at).ok_or(MALFORMED)?;
            match len & 0xC0 {
                0x00 if len == 0 => {
                    at += 1;
                    break;
                }
                0x00 => {
                    let label = self
                        .p
                        .get(at + 1..at + 1 + usize::from(len))
                        .ok_or(MALFORMED)?;
                    length += label.len() + 1;
                    if length > 255 {
                        return Err(MALFORMED.into());
                    }
                    labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
                    at += 1 + usize::from(len);
                }
                0xC0 => {
                    let low = *self.p.get(at + 1).ok_or(MALFORMED)?;
                    let target = usize::from(len & 0x3F) << 8 | usize::from(low);
                    if target >= at {
                        return Err(MALFORMED.into());
                    }
                    end.get_or_insert(at + 2);
                    at = target;
                }
                _ => return Err(MALFORMED.into()),
            }
        }
        self.at = end.unwrap_or(at);
        Ok(labels.join("."))
    }
}

/// Reads an answer to [`query`]`(id, name)`.
fn parse(p: &[u8], id: u16, name: &str) -> Result<Parsed, String> {
    let mut r = Reader { p, at: 0 };
    if r.u16()? != id {
        return Err(MALFORMED.into());
    }
    let flags = r.u16()?;
    if flags & 0x8000 == 0 {
        return Err(MALFORMED.into());
    }
    let truncated = flags & 0x0200 != 0;
    let rcode = flags & 0x000F;
    let questions = r.u16()?;
    let answers = r.u16()?;
    r.skip(4)?; // authority and additional counts: not read
    let wanted = name.trim_end_matches('.').to_ascii_lowercase();
    for _ in 0..questions {
        if r.name()? != wanted {
            return Err(MALFORMED.into());
        }
        r.skip(4)?;
    }
    match rcode {
        0 => {}
        // NXDOMAIN: the name does not exist, so neither do its records.
        3 => {
            return Ok(Parsed {
                truncated,
                records: Ok(Vec::new()),
            });
        }
        2 => {
            return Ok(Parsed {
                truncated: false,
                records: Err("the DNS server could not look it up (SERVFAIL)".into()),
            });
        }
        5 => {
            return Ok(Parsed {
                truncated: false,
                records: Err("the DNS server refused the question (REFUSED)".into()),
            });
        }
        n => {
            return Ok(Parsed {
                truncated: false,
                records: Err(format!("the DNS server answered with error code {n}")),
            });
        }
    }
    let mut rrs = Vec::new();
    for _ in 0..answers {
        let owner = r.name()?;
        let kind = r.u16()?;
        let class = r.u16()?;
        r.skip(4)?; // TTL
        let len = usize::from(r.u16()?);
        let start = r.at;
        r.skip(len)?;
        let rdata = start..start + len;
        rrs.push((owner, kind, class, rdata));
    }
    // The chain of CNAMEs from the name asked, in the order the records came.
    let mut current = wanted;
    for _ in 0..16 {
        let next = rrs
            .iter()
            .find(|(owner, kind, class, _)| *kind == CNAME && *class == IN && *owner == current);
        match next {
            Some((_, _, _, rdata)) => {
                let mut inner = Reader { p, at: rdata.start };
                current = inner.name()?;
                if inner.at > rdata.end {
                    return Err(MALFORMED.into());
                }
            }
            None => break,
        }
    }
    let mut records = Vec::new();
    for (owner, kind, class, rdata) in &rrs {
        if *kind != TXT || *class != IN || *owner != current {
            continue;
        }
        let data = &p[rdata.clone()];
        let mut text = Vec::with_capacity(data.len());
        let mut i = 0;
        while i < data.len() {
            let n = usize::from(data[i]);
            let s = data.get(i + 1..i + 1 + n).ok_or(MALFORMED)?;
            text.extend_from_slice(s);
            i += 1 + n;
        }
        records.push(String::from_utf8_lossy(&text).into_owned());
    }
    Ok(Parsed {
        truncated,
        records: Ok(records),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An answer to `query(7, "example.com")`: the question, then `rrs` (owner bytes, type,
    /// rdata).
    fn answer(flags: u16, rrs: &[(&[u8], u16, Vec<u8>)]) -> Vec<u8> {
        let mut p = vec![0, 7];
        p.extend_from_slice(&flags.to_be_bytes());
        p.extend_from_slice(&[0, 1]);
        p.extend_from_slice(&(rrs.len() as u16).to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, 0]);
        encode_name(&mut p, "Example.COM").unwrap(); // at offset 12
        p.extend_from_slice(&[0, 16, 0, 1]);
        for (owner, kind, rdata) in rrs {
            p.extend_from_slice(owner);
            p.extend_from_slice(&kind.to_be_bytes());
            p.extend_from_slice(&[0, 1, 0, 0, 1, 0]);
            p.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            p.extend_from_slice(rdata);
        }
        p
    }

    fn strings(parts: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        for s in parts {
            out.push(s.len() as u8);
            out.extend_from_slice(s.as_bytes());
        }
        out
    }

    fn name(n: &str) -> Vec<u8> {
        let mut out = Vec::new();
        encode_name(&mut out, n).unwrap();
        out
    }

    const PTR_QUESTION: &[u8] = &[0xC0, 12];

    fn records(p: &[u8]) -> Result<Vec<String>, String> {
        parse(p, 7, "example.com")?.records
    }

    #[test]
    fn a_query_is_well_formed() {
        let q = query(0xABCD, "_dmarc.Example.com.").unwrap();
        assert_eq!(&q[..4], &[0xAB, 0xCD, 0x01, 0x00]);
        assert_eq!(&q[12..32], b"\x06_dmarc\x07Example\x03com\x00");
        assert_eq!(&q[32..36], &[0, 16, 0, 1]);
        assert_eq!(q.len(), 36 + 11, "one OPT record");
        for bad in ["a..b", &"x".repeat(64), &"a.".repeat(130), "bücher.de"] {
            assert!(query(1, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn answers_are_read() {
        let spf = answer(0x8180, &[(PTR_QUESTION, TXT, strings(&["v=spf1 -all"]))]);
        assert_eq!(records(&spf).unwrap(), ["v=spf1 -all"]);

        // A long record in several character-strings is one record.
        let long = answer(
            0x8180,
            &[
                (
                    PTR_QUESTION,
                    TXT,
                    strings(&["v=DKIM1; p=", &"A".repeat(255), "B"]),
                ),
                (&name("example.com"), TXT, strings(&["second"])),
            ],
        );
        let got = records(&long).unwrap();
        assert_eq!(got[0], format!("v=DKIM1; p={}B", "A".repeat(255)));
        assert_eq!(got[1], "second");

        // A CNAME (as SES's Easy DKIM publishes) is followed to the TXT at its target; records
        // of other names are not taken.
        let mut cname = answer(0x8180, &[]);
        let target_at = cname.len() + 12;
        let mut rdata = name("key.provider.example");
        let owner = PTR_QUESTION.to_vec();
        cname[7] = 3;
        cname.extend_from_slice(&owner);
        cname.extend_from_slice(&[0, 5, 0, 1, 0, 0, 1, 0]);
        cname.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        cname.append(&mut rdata);
        let ptr_target = [0xC0 | (target_at >> 8) as u8, target_at as u8];
        for (owner, text) in [(&ptr_target[..], "the key"), (PTR_QUESTION, "not this")] {
            let data = strings(&[text]);
            cname.extend_from_slice(owner);
            cname.extend_from_slice(&[0, 16, 0, 1, 0, 0, 1, 0]);
            cname.extend_from_slice(&(data.len() as u16).to_be_bytes());
            cname.extend_from_slice(&data);
        }
        assert_eq!(records(&cname).unwrap(), ["the key"]);

        // NXDOMAIN and an empty answer are no records; SERVFAIL and REFUSED are errors.
        assert_eq!(records(&answer(0x8183, &[])).unwrap(), Vec::<String>::new());
        assert_eq!(records(&answer(0x8180, &[])).unwrap(), Vec::<String>::new());
        assert!(
            records(&answer(0x8182, &[]))
                .unwrap_err()
                .contains("SERVFAIL")
        );
        assert!(
            records(&answer(0x8185, &[]))
                .unwrap_err()
                .contains("REFUSED")
        );
        // Truncated: asked again over TCP.
        assert!(
            parse(&answer(0x8380, &[]), 7, "example.com")
                .unwrap()
                .truncated
        );
    }

    #[test]
    fn malformed_answers_are_errors_not_panics() {
        let good = answer(0x8180, &[(PTR_QUESTION, TXT, strings(&["v=spf1 -all"]))]);
        // Every prefix of a good answer.
        for n in 0..good.len() {
            assert!(records(&good[..n]).is_err(), "{n}");
        }
        // Another id, a query rather than an answer, another question.
        let mut other = good.clone();
        other[1] = 8;
        assert!(parse(&other, 7, "example.com").is_err());
        let mut not_answer = good.clone();
        not_answer[2] = 0x01;
        assert!(parse(&not_answer, 7, "example.com").is_err());
        assert!(parse(&good, 7, "example.org").is_err());
        // A pointer to itself, a pointer forwards, a reserved label type.
        for owner in [&[0xC0u8, 29][..], &[0xC0, 200], &[0x80, 1]] {
            let p = answer(0x8180, &[(owner, TXT, strings(&["x"]))]);
            assert!(records(&p).is_err(), "{owner:?}");
        }
        // A character-string longer than its record.
        let mut bad = strings(&["abc"]);
        bad[0] = 10;
        assert!(records(&answer(0x8180, &[(PTR_QUESTION, TXT, bad)])).is_err());
        // Random bytes after a valid header never panic.
        let mut seed = 0x1234_5678u32;
        for _ in 0..2_000 {
            let mut p = good.clone();
            for _ in 0..4 {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let i = 12 + (seed as usize >> 8) % (p.len() - 12);
                p[i] = (seed >> 16) as u8;
            }
            let _ = parse(&p, 7, "example.com");
        }
    }

    #[test]
    fn the_resolver_is_read_from_resolv_conf_and_settings() {
        let conf = "# comment\nsearch example.com\nnameserver fe80::1%eth0\nnameserver 10.0.0.2\n";
        assert_eq!(nameserver(conf), Some("fe80::1".parse().unwrap()));
        assert_eq!(nameserver("options ndots:1\n"), None);
        assert_eq!(
            Resolver::parse("127.0.0.1:5353").unwrap().server,
            "127.0.0.1:5353".parse().unwrap()
        );
        assert_eq!(
            Resolver::parse("10.0.0.2").unwrap().server,
            "10.0.0.2:53".parse().unwrap()
        );
        assert!(Resolver::parse("dns.example").is_err());
    }
}
