//! SMTP: Herald's own pool of lettre connections to one relay.
//!
//! lettre's `AsyncSmtpTransport` cost about 45 ms a message on a fast network, whatever the
//! relay: it does not set `TCP_NODELAY`, so the `.` that ends each message's data, written
//! right after the body, waited for the relay's delayed ACK (Nagle's algorithm); it sent a NOOP
//! before every reuse of a pooled connection; and it closed the connection on any refusal.
//! This pool connects its own sockets with `TCP_NODELAY` and hands them to lettre's
//! `AsyncSmtpConnection` (which speaks the protocol, STARTTLS and AUTH), checks a connection
//! with NOOP only after it sat idle, and keeps it after a refused recipient (RSET).
//!
//! Limits: at most `pool` transactions at once through the relay, and at most `per_destination`
//! at once towards one mailbox provider ([`destination`]: Gmail, Microsoft, Yahoo and Apple by
//! their consumer domains, any other domain on its own), so that a list heavy with one
//! provider's addresses does not open every connection towards it.
//! Implicit TLS (`smtps://`) connects through lettre without `TCP_NODELAY` (lettre owns that
//! socket); STARTTLS on port 587 is what relays offer first.

use super::provider::SendError;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Noop, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// A connection idle for less than this is used again without a check.
const FRESH: Duration = Duration::from_secs(5);
/// A connection idle for longer is closed (relays drop idle clients after a minute or so).
const STALE: Duration = Duration::from_secs(50);
/// The longest wait for the relay's answer to one step.
const TIMEOUT: Duration = Duration::from_secs(30);

/// How the connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// Plain, never upgraded (`tls=none`).
    None,
    /// STARTTLS when the relay offers it, plain otherwise (`smtp://`, local sinks).
    Opportunistic,
    /// STARTTLS or no message (`tls=required`).
    Required,
    /// TLS from the first byte (`smtps://`).
    Implicit,
}

/// Where and how to connect.
#[derive(Clone, Debug)]
pub struct Relay {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub credentials: Option<(String, String)>,
}

impl Relay {
    /// Reads `smtp[s]://[user:password@]host[:port][?tls=none|opportunistic|required]`.
    pub fn parse(url: &str) -> Result<Relay, String> {
        let parsed =
            url::Url::parse(url).map_err(|e| format!("HERALD_SMTP_URL is not a URL: {e}"))?;
        let implicit = match parsed.scheme() {
            "smtp" => false,
            "smtps" => true,
            other => {
                return Err(format!(
                    "HERALD_SMTP_URL must start with smtp:// or smtps://, not {other}://"
                ));
            }
        };
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("HERALD_SMTP_URL has no host")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let tls = parsed
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let security = match (implicit, tls.as_deref()) {
            (true, None | Some("wrapper" | "implicit")) => Security::Implicit,
            (true, Some(other)) => {
                return Err(format!(
                    "HERALD_SMTP_URL: smtps:// is TLS from the start; tls={other} does not apply"
                ));
            }
            (false, None | Some("opportunistic")) => Security::Opportunistic,
            (false, Some("required")) => Security::Required,
            (false, Some("none")) => Security::None,
            (false, Some(other)) => {
                return Err(format!(
                    "HERALD_SMTP_URL: tls must be none, opportunistic or required, not {other:?}"
                ));
            }
        };
        let decode =
            |s: &str| percent_decode(s).ok_or_else(|| "HERALD_SMTP_URL: a bad %-escape".to_owned());
        let credentials = match (parsed.username(), parsed.password()) {
            ("", None) => None,
            (user, password) => Some((decode(user)?, decode(password.unwrap_or(""))?)),
        };
        Ok(Relay {
            host,
            // As lettre: submission ports, 25 for plain SMTP.
            port: parsed.port().unwrap_or(match security {
                Security::Implicit => 465,
                Security::None => 25,
                _ => 587,
            }),
            security,
            credentials,
        })
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The mailbox provider an address's domain belongs to, for the per-destination limit: the
/// large providers by their consumer domains (all of Microsoft's are one provider, as are
/// Yahoo's and AOL's), any other domain on its own.
pub fn destination(domain: &str) -> String {
    let d = domain.trim_end_matches('.').to_ascii_lowercase();
    let first = d.split('.').next().unwrap_or_default();
    let provider = match d.as_str() {
        "gmail.com" | "googlemail.com" => Some("google"),
        "outlook.com" | "msn.com" | "passport.com" => Some("microsoft"),
        "ymail.com" | "rocketmail.com" | "aol.com" | "aim.com" => Some("yahoo"),
        "icloud.com" | "me.com" | "mac.com" => Some("apple"),
        // hotmail.co.uk, live.fr, yahoo.de, outlook.jp, …
        _ => match first {
            "hotmail" | "live" | "outlook" | "windowslive" => Some("microsoft"),
            "yahoo" => Some("yahoo"),
            _ => None,
        },
    };
    provider.map_or(d.clone(), str::to_owned)
}

/// A pool of connections to one relay.
pub struct SmtpPool {
    relay: Relay,
    hello: ClientId,
    transactions: Semaphore,
    size: usize,
    per_destination: usize,
    destinations: Mutex<HashMap<String, Arc<Semaphore>>>,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
}

impl std::fmt::Debug for SmtpPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmtpPool({}:{})", self.relay.host, self.relay.port)
    }
}

impl SmtpPool {
    /// Up to `pool` connections (and transactions at once), `per_destination` of them towards
    /// one mailbox provider.
    pub fn new(relay: Relay, pool: u32, per_destination: u32) -> SmtpPool {
        let pool = pool.max(1) as usize;
        SmtpPool {
            relay,
            hello: ClientId::default(),
            transactions: Semaphore::new(pool),
            size: pool,
            per_destination: (per_destination.max(1) as usize).min(pool),
            destinations: Mutex::new(HashMap::new()),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Sends `raw` to the envelope's recipients. A refusal the relay will repeat (5xx) is
    /// permanent; 4xx answers, a connection that fails and timeouts are transient.
    pub async fn send(&self, envelope: &Envelope, raw: &[u8]) -> Result<String, SendError> {
        let domain = envelope
            .to()
            .first()
            .map(|a| a.domain().to_owned())
            .unwrap_or_default();
        let destination = Arc::clone(
            self.destinations
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(destination(&domain))
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_destination))),
        );
        let _towards = destination.acquire().await.map_err(closed)?;
        let _slot = self.transactions.acquire().await.map_err(closed)?;
        let mut conn = self.connection().await?;
        match tokio::time::timeout(TIMEOUT, transaction(&mut conn, envelope, raw)).await {
            Ok(Ok(response)) => {
                self.give_back(conn);
                Ok(response.message().collect::<Vec<_>>().join(" "))
            }
            Ok(Err(e)) => {
                // A refusal leaves the connection usable once the transaction is reset.
                // (An answer with a 4xx or 5xx code; anything else leaves it in doubt.)
                if (e.is_permanent() || e.is_transient())
                    && !conn.has_broken()
                    && matches!(
                        tokio::time::timeout(TIMEOUT, conn.command(Rset)).await,
                        Ok(Ok(_))
                    )
                {
                    self.give_back(conn);
                }
                Err(refusal(e))
            }
            Err(_) => Err(SendError::Transient(format!(
                "the SMTP server did not answer within {} s",
                TIMEOUT.as_secs()
            ))),
        }
    }

    /// Connections at most.
    pub fn size(&self) -> usize {
        self.size
    }

    fn give_back(&self, conn: AsyncSmtpConnection) {
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((conn, Instant::now()));
    }

    /// An idle connection still good, or a new one.
    async fn connection(&self) -> Result<AsyncSmtpConnection, SendError> {
        loop {
            let next = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let Some((mut conn, since)) = next else { break };
            let idle = since.elapsed();
            if conn.has_broken() || idle > STALE {
                // Closed in the background: a QUIT to a relay that may be gone.
                tokio::spawn(async move { conn.abort().await });
                continue;
            }
            if idle < FRESH
                || matches!(
                    tokio::time::timeout(Duration::from_secs(5), conn.command(Noop)).await,
                    Ok(Ok(_))
                )
            {
                return Ok(conn);
            }
        }
        tokio::time::timeout(TIMEOUT, self.connect())
            .await
            .unwrap_or_else(|_| {
                Err(SendError::Transient(format!(
                    "could not connect to the SMTP server within {} s",
                    TIMEOUT.as_secs()
                )))
            })
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let r = &self.relay;
        let unreachable =
            |e: String| SendError::Transient(format!("the SMTP server {}: {e}", r.host));
        let tls = || {
            TlsParameters::new(r.host.clone())
                .map_err(|e| SendError::Permanent(format!("TLS for {}: {e}", r.host)))
        };
        let mut conn = if r.security == Security::Implicit {
            AsyncSmtpConnection::connect_tokio1(
                (r.host.as_str(), r.port),
                Some(TIMEOUT),
                &self.hello,
                Some(tls()?),
                None,
            )
            .await
            .map_err(|e| unreachable(e.to_string()))?
        } else {
            let stream = tokio::net::TcpStream::connect((r.host.as_str(), r.port))
                .await
                .map_err(|e| unreachable(e.to_string()))?;
            // The reason for this pool: without it each message waits for a delayed ACK.
            stream
                .set_nodelay(true)
                .map_err(|e| unreachable(e.to_string()))?;
            let mut conn =
                AsyncSmtpConnection::connect_with_transport(Box::new(stream), &self.hello)
                    .await
                    .map_err(refusal)?;
            let offered = conn.can_starttls();
            match r.security {
                Security::Required if !offered => {
                    return Err(SendError::Transient(format!(
                        "the SMTP server {} does not offer STARTTLS, which tls=required asks for",
                        r.host
                    )));
                }
                Security::Required | Security::Opportunistic if offered => {
                    conn.starttls(tls()?, &self.hello).await.map_err(refusal)?;
                }
                _ => {}
            }
            conn
        };
        if let Some((user, password)) = &r.credentials {
            conn.auth(
                &[Mechanism::Plain, Mechanism::Login],
                &Credentials::new(user.clone(), password.clone()),
            )
            .await
            .map_err(|e| SendError::Transient(format!("SMTP authentication: {e}")))?;
        }
        Ok(conn)
    }
}

fn closed(_: tokio::sync::AcquireError) -> SendError {
    SendError::Transient("the SMTP pool is closed".into())
}

fn refusal(e: lettre::transport::smtp::Error) -> SendError {
    if e.is_permanent() {
        SendError::Permanent(e.to_string())
    } else {
        SendError::Transient(e.to_string())
    }
}

/// One mail transaction, as lettre's `send` but without closing the connection on a refusal.
async fn transaction(
    conn: &mut AsyncSmtpConnection,
    envelope: &Envelope,
    raw: &[u8],
) -> Result<lettre::transport::smtp::response::Response, lettre::transport::smtp::Error> {
    let mut options = vec![];
    let info = conn.server_info();
    let non_ascii = envelope
        .from()
        .into_iter()
        .chain(envelope.to())
        .any(|a| !AsRef::<str>::as_ref(a).is_ascii());
    if non_ascii && info.supports_feature(Extension::SmtpUtfEight) {
        options.push(MailParameter::SmtpUtfEight);
    }
    if !raw.is_ascii() && info.supports_feature(Extension::EightBitMime) {
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    conn.command(Mail::new(envelope.from().cloned(), options))
        .await?;
    for to in envelope.to() {
        conn.command(Rcpt::new(to.clone(), vec![])).await?;
    }
    conn.command(Data).await?;
    conn.message(raw).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    /// What the test relay saw.
    #[derive(Default)]
    struct Seen {
        connections: AtomicUsize,
        resets: AtomicUsize,
        delivered: AtomicUsize,
        /// Transactions in their DATA phase now, and at most, per recipient domain.
        now: Mutex<HashMap<String, usize>>,
        most: Mutex<HashMap<String, usize>>,
    }

    /// A minimal SMTP relay on loopback: refuses recipients named `reject…` with 550, takes
    /// 30 ms over each message's data (so that transactions overlap), counts what it sees.
    async fn relay(seen: Arc<Seen>) -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            loop {
                let (socket, _) = listener.accept().await.unwrap();
                seen.connections.fetch_add(1, Ordering::SeqCst);
                let seen = Arc::clone(&seen);
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut lines = BufReader::new(read).lines();
                    write.write_all(b"220 test relay\r\n").await.unwrap();
                    let mut domain = String::new();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let upper = line.to_ascii_uppercase();
                        let answer: &[u8] = if upper.starts_with("EHLO") {
                            b"250-test relay\r\n250 8BITMIME\r\n"
                        } else if upper.starts_with("RCPT") {
                            if line.contains("reject") {
                                b"550 5.1.1 no such user\r\n"
                            } else {
                                domain = line
                                    .rsplit('@')
                                    .next()
                                    .unwrap()
                                    .trim_end_matches('>')
                                    .into();
                                b"250 ok\r\n"
                            }
                        } else if upper.starts_with("DATA") {
                            write.write_all(b"354 go on\r\n").await.unwrap();
                            {
                                let mut now = seen.now.lock().unwrap();
                                let n = now.entry(domain.clone()).or_default();
                                *n += 1;
                                let mut most = seen.most.lock().unwrap();
                                let m = most.entry(domain.clone()).or_default();
                                *m = (*m).max(*n);
                            }
                            while let Ok(Some(l)) = lines.next_line().await {
                                if l == "." {
                                    break;
                                }
                            }
                            tokio::time::sleep(Duration::from_millis(30)).await;
                            *seen.now.lock().unwrap().get_mut(&domain).unwrap() -= 1;
                            seen.delivered.fetch_add(1, Ordering::SeqCst);
                            b"250 2.0.0 queued\r\n"
                        } else if upper.starts_with("RSET") {
                            seen.resets.fetch_add(1, Ordering::SeqCst);
                            b"250 ok\r\n"
                        } else if upper.starts_with("QUIT") {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            break;
                        } else {
                            b"250 ok\r\n"
                        };
                        if write.write_all(answer).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        port
    }

    fn envelope(to: &str) -> Envelope {
        Envelope::new(
            Some("news@acme.example".parse().unwrap()),
            vec![to.parse().unwrap()],
        )
        .unwrap()
    }

    #[tokio::test]
    async fn connections_are_kept_across_messages_and_refusals_and_limited_per_destination() {
        let seen = Arc::new(Seen::default());
        let port = relay(Arc::clone(&seen)).await;
        let relay = Relay::parse(&format!("smtp://127.0.0.1:{port}")).unwrap();
        let raw = b"Subject: hi\r\n\r\nHello.\r\n";

        // One after the other: one connection, kept after a refused recipient (RSET).
        let pool = SmtpPool::new(relay.clone(), 4, 4);
        for to in ["a@example.org", "reject@example.org", "b@example.org"] {
            let answer = pool.send(&envelope(to), raw).await;
            if to.starts_with("reject") {
                assert!(
                    matches!(answer, Err(SendError::Permanent(ref e)) if e.contains("550")),
                    "{answer:?}"
                );
            } else {
                assert!(answer.unwrap().contains("queued"));
            }
        }
        assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
        assert_eq!(seen.resets.load(Ordering::SeqCst), 1);
        assert_eq!(seen.delivered.load(Ordering::SeqCst), 2);

        // At once: 4 connections in all, at most 2 of them towards Gmail's addresses.
        let pool = SmtpPool::new(relay, 4, 2);
        let sends = (0..24).map(|i| {
            let to = match i % 3 {
                0 => format!("p{i}@example.org"),
                _ => format!("p{i}@gmail.com"),
            };
            let pool = &pool;
            async move { pool.send(&envelope(&to), raw).await }
        });
        let answers = futures::future::join_all(sends).await;
        assert!(answers.iter().all(|a| a.is_ok()), "{answers:?}");
        assert_eq!(seen.delivered.load(Ordering::SeqCst), 26);
        let most = seen.most.lock().unwrap().clone();
        assert_eq!(most.get("gmail.com"), Some(&2), "{most:?}");
        // The other destination used the connections Gmail could not have.
        assert!(most.get("example.org").is_some_and(|n| *n >= 2), "{most:?}");
        assert!(seen.connections.load(Ordering::SeqCst) <= 1 + 4);
    }

    #[tokio::test]
    async fn an_unreachable_relay_is_a_transient_error() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pool = SmtpPool::new(
            Relay::parse(&format!("smtp://127.0.0.1:{port}")).unwrap(),
            2,
            2,
        );
        let answer = pool
            .send(&envelope("a@example.org"), b"Subject: x\r\n\r\nx\r\n")
            .await;
        assert!(matches!(answer, Err(SendError::Transient(_))), "{answer:?}");
    }

    #[test]
    fn recipients_are_grouped_by_mailbox_provider() {
        for (domain, want) in [
            ("gmail.com", "google"),
            ("GoogleMail.com", "google"),
            ("outlook.com", "microsoft"),
            ("hotmail.co.uk", "microsoft"),
            ("live.fr", "microsoft"),
            ("msn.com", "microsoft"),
            ("yahoo.com", "yahoo"),
            ("yahoo.de", "yahoo"),
            ("aol.com", "yahoo"),
            ("icloud.com", "apple"),
            ("me.com", "apple"),
            ("example.org", "example.org"),
            ("Mail.Example.ORG.", "mail.example.org"),
            // A company's own domain is its own destination, even one named like a provider's.
            ("gmail.example.org", "gmail.example.org"),
        ] {
            assert_eq!(destination(domain), want, "{domain}");
        }
    }

    #[test]
    fn relay_urls() {
        let r = Relay::parse("smtp://127.0.0.1:2525").unwrap();
        assert_eq!(
            (r.host.as_str(), r.port, r.security),
            ("127.0.0.1", 2525, Security::Opportunistic)
        );
        assert!(r.credentials.is_none());
        let r = Relay::parse("smtp://ap%40i:s%3Acret@mail.example.org?tls=required").unwrap();
        assert_eq!((r.port, r.security), (587, Security::Required));
        assert_eq!(r.credentials, Some(("ap@i".into(), "s:cret".into())));
        let r = Relay::parse("smtps://mail.example.org").unwrap();
        assert_eq!((r.port, r.security), (465, Security::Implicit));
        assert_eq!(
            Relay::parse("smtp://[::1]:25?tls=none").unwrap().host,
            "::1"
        );
        for (url, error) in [
            ("http://mail.example.org", "smtp:// or smtps://"),
            ("smtp://mail.example.org?tls=sometimes", "tls must be"),
            ("smtps://mail.example.org?tls=none", "does not apply"),
            ("smtp://u:%zz@mail.example.org", "%-escape"),
            ("not a url", "not a URL"),
        ] {
            let e = Relay::parse(url).unwrap_err();
            assert!(e.contains(error), "{url}: {e}");
        }
    }
}
