//! Amazon SNS messages, as SNS posts them to an HTTPS subscription: parsing, the signature, the
//! signing certificate's address, and freshness.
//!
//! SNS signs a canonical text of the message's fields ([`string_to_sign`]) with the private key
//! of a certificate it publishes at `SigningCertURL`; SignatureVersion `1` is RSA PKCS#1 v1.5
//! over SHA-1, `2` the same over SHA-256. Whoever posts a message chooses that URL, so the URL is
//! checked *before* anything is fetched ([`check_cert_url`]: https, a host
//! `sns.<region>.amazonaws.com`, a `.pem` path): a certificate from any other host proves
//! nothing. The certificate's chain and dates are not checked, as AWS's own validators do not:
//! trust comes from the host it was fetched from over TLS.
//!
//! A valid signature proves that AWS sent the message, not that it is about *our* topic: the
//! caller compares [`SnsMessage::topic_arn`] with its configuration after [`verify`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _};
use rsa::signature::{SignatureEncoding as _, Signer as _, Verifier as _};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{Map, Value};
use sha1::Sha1;
use sha2::Sha256;
use url::{Host, Url};
use x509_cert::Certificate;
use x509_cert::der::{DecodePem as _, Encode as _};

/// The largest message body read (SNS messages are at most 256 KiB).
pub const MAX_BODY: usize = 256 * 1024;
/// How old a message may be. SNS retries a failed delivery for at most about an hour with the
/// default policy, so a day leaves room for custom policies while refusing old replays.
pub const MAX_AGE: chrono::Duration = chrono::Duration::hours(24);
/// How far in the future a message's timestamp may be (clock skew).
pub const MAX_SKEW: chrono::Duration = chrono::Duration::minutes(5);
/// The largest signing certificate read (AWS's are under 2 KiB).
pub const MAX_CERT_SIZE: usize = 16 * 1024;
/// How long fetching a signing certificate may take.
pub const CERT_FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// How many signing keys a [`CertStore`] keeps (it forgets them all when full).
const CACHE_CAPACITY: usize = 64;
/// The longest URL considered.
const MAX_URL_LEN: usize = 2048;

/// Why an SNS message was refused. The messages never repeat the hostile input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SnsError {
    #[error("malformed SNS message: {0}")]
    Malformed(String),
    #[error("unsupported SNS SignatureVersion (only 1 and 2 are accepted)")]
    UnsupportedVersion,
    #[error("signing certificate URL refused: {0}")]
    CertUrl(String),
    #[error("SubscribeURL refused: {0}")]
    SubscribeUrl(String),
    #[error("SNS message is older than 24 hours")]
    Expired,
    #[error("SNS message is dated more than 5 minutes in the future")]
    FromTheFuture,
    #[error("SNS signature does not verify")]
    BadSignature,
    /// The certificate could not be fetched now (network error, timeout, the host's 5xx or
    /// 429): the caller answers 503 so that SNS retries.
    #[error("signing certificate unavailable: {0}")]
    CertUnavailable(String),
    /// The certificate was refused or is unusable (4xx, too large, not an RSA certificate, not
    /// in the configured folder): retrying will not help.
    #[error("signing certificate unusable: {0}")]
    BadCert(String),
}

impl SnsError {
    /// Whether the same message may succeed later: only when the signing certificate could not
    /// be fetched for a transient reason. The webhook answers 503 then (SNS retries), and 4xx
    /// (or a quiet 200) otherwise.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::CertUnavailable(_))
    }
}

/// The kinds of message SNS posts to an HTTPS subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SnsKind {
    Notification,
    SubscriptionConfirmation,
    UnsubscribeConfirmation,
}

impl SnsKind {
    /// The `Type` field's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Notification => "Notification",
            Self::SubscriptionConfirmation => "SubscriptionConfirmation",
            Self::UnsubscribeConfirmation => "UnsubscribeConfirmation",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            Self::Notification,
            Self::SubscriptionConfirmation,
            Self::UnsubscribeConfirmation,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// An SNS message as posted (not yet verified: see [`verify`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnsMessage {
    pub kind: SnsKind,
    pub message_id: String,
    pub topic_arn: String,
    /// The payload: for SES, a JSON document of its own (see [`super::ses::parse`]).
    pub message: String,
    /// Absent and `null` are the same: no subject (and none in the signed text).
    pub subject: Option<String>,
    pub timestamp: DateTime<Utc>,
    /// The `Timestamp` exactly as sent: the signed text has it verbatim.
    pub timestamp_text: String,
    pub signature_version: String,
    pub signature: String,
    pub signing_cert_url: String,
    /// Confirmations only (`SubscribeURL`, or `SubscribeUrl`).
    pub subscribe_url: Option<String>,
    /// Confirmations only.
    pub token: Option<String>,
}

/// Reads an SNS message from a request body (JSON). Accepts the key spellings `SigningCertURL`
/// and `SigningCertUrl`, `SubscribeURL` and `SubscribeUrl` (both at once only when equal).
/// Nothing is verified here.
pub fn parse(body: &[u8]) -> Result<SnsMessage, SnsError> {
    if body.len() > MAX_BODY {
        return Err(malformed("larger than 256 KiB"));
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| malformed(&format!("not JSON: {e}")))?;
    let Value::Object(map) = value else {
        return Err(malformed("not a JSON object"));
    };
    let kind = SnsKind::parse(required(&map, "Type")?).ok_or_else(|| malformed("unknown Type"))?;
    let timestamp_text = required(&map, "Timestamp")?.to_owned();
    let timestamp = DateTime::parse_from_rfc3339(&timestamp_text)
        .map_err(|_| malformed("Timestamp is not an RFC 3339 time"))?
        .with_timezone(&Utc);
    let subscribe_url = either(&map, "SubscribeURL", "SubscribeUrl")?.map(str::to_owned);
    let token = optional(&map, "Token")?.map(str::to_owned);
    if kind != SnsKind::Notification {
        if subscribe_url.is_none() {
            return Err(malformed("SubscribeURL missing"));
        }
        if token.is_none() {
            return Err(malformed("Token missing"));
        }
    }
    Ok(SnsMessage {
        kind,
        message_id: required(&map, "MessageId")?.to_owned(),
        topic_arn: required(&map, "TopicArn")?.to_owned(),
        message: required(&map, "Message")?.to_owned(),
        subject: optional(&map, "Subject")?.map(str::to_owned),
        timestamp,
        timestamp_text,
        signature_version: required(&map, "SignatureVersion")?.to_owned(),
        signature: required(&map, "Signature")?.to_owned(),
        signing_cert_url: either(&map, "SigningCertURL", "SigningCertUrl")?
            .ok_or_else(|| malformed("SigningCertURL missing"))?
            .to_owned(),
        subscribe_url,
        token,
    })
}

fn malformed(why: &str) -> SnsError {
    SnsError::Malformed(why.to_owned())
}

/// A string field: `None` when absent or `null`.
fn optional<'a>(map: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, SnsError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(malformed(&format!("{key} is not a string"))),
    }
}

fn required<'a>(map: &'a Map<String, Value>, key: &str) -> Result<&'a str, SnsError> {
    optional(map, key)?.ok_or_else(|| malformed(&format!("{key} missing")))
}

/// A field with two spellings.
fn either<'a>(
    map: &'a Map<String, Value>,
    key: &str,
    other: &str,
) -> Result<Option<&'a str>, SnsError> {
    match (optional(map, key)?, optional(map, other)?) {
        (Some(a), Some(b)) if a != b => Err(malformed(&format!("{key} and {other} differ"))),
        (a, b) => Ok(a.or(b)),
    }
}

/// The text SNS signs: `Name\nValue\n` for each signed field, in this order. Notification:
/// Message, MessageId, Subject (when there is one), Timestamp, TopicArn, Type. Confirmations:
/// Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type.
pub fn string_to_sign(m: &SnsMessage) -> String {
    let mut s = String::with_capacity(m.message.len() + 512);
    let mut field = |name: &str, value: &str| {
        s.push_str(name);
        s.push('\n');
        s.push_str(value);
        s.push('\n');
    };
    field("Message", &m.message);
    field("MessageId", &m.message_id);
    match m.kind {
        SnsKind::Notification => {
            if let Some(subject) = &m.subject {
                field("Subject", subject);
            }
            field("Timestamp", &m.timestamp_text);
        }
        SnsKind::SubscriptionConfirmation | SnsKind::UnsubscribeConfirmation => {
            field(
                "SubscribeURL",
                m.subscribe_url.as_deref().unwrap_or_default(),
            );
            field("Timestamp", &m.timestamp_text);
            field("Token", m.token.as_deref().unwrap_or_default());
        }
    }
    field("TopicArn", &m.topic_arn);
    field("Type", m.kind.as_str());
    s
}

/// Checks a signing certificate's URL before anything is fetched: `https://`, the host exactly
/// `sns.<region>.amazonaws.com` (`.amazonaws.com.cn` for the China regions), no user info, no
/// port but 443, a path ending in `.pem`, no query, no fragment. Spaces, control characters,
/// non-ASCII, backslashes and percent-encoding in the host are refused outright rather than
/// left to the URL parser's repairs; an upper-case host is accepted as its lower-case self
/// (the same DNS name). Returns the normalised URL.
pub fn check_cert_url(url: &str) -> Result<Url, SnsError> {
    let cert = |why: &str| SnsError::CertUrl(why.to_owned());
    let parsed = check_sns_url(url).map_err(cert)?;
    if !parsed.path().ends_with(".pem") {
        return Err(cert("the path does not end in .pem"));
    }
    if parsed.query().is_some() {
        return Err(cert("it has a query"));
    }
    Ok(parsed)
}

/// Checks a confirmation's `SubscribeURL` before it is visited: the host rule of
/// [`check_cert_url`], https, no user info, no other port, no fragment; any path and query.
pub fn check_subscribe_url(url: &str) -> Result<Url, SnsError> {
    check_sns_url(url).map_err(|why| SnsError::SubscribeUrl(why.to_owned()))
}

/// The rules both URLs follow.
fn check_sns_url(raw: &str) -> Result<Url, &'static str> {
    if raw.len() > MAX_URL_LEN {
        return Err("too long");
    }
    if raw.bytes().any(|b| b <= b' ' || b >= 0x7f || b == b'\\') {
        return Err("it has spaces, control or non-ASCII characters, or backslashes");
    }
    let Some(rest) = raw
        .get(..8)
        .filter(|scheme| scheme.eq_ignore_ascii_case("https://"))
        .map(|_| &raw[8..])
    else {
        return Err("not an https:// URL");
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if authority.contains('@') {
        return Err("it has user info");
    }
    if authority.contains('%') {
        return Err("the host is percent-encoded");
    }
    let url = Url::parse(raw).map_err(|_| "not a URL")?;
    if url.scheme() != "https" {
        return Err("not an https:// URL");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("it has user info");
    }
    // The parser drops the default port, so any port left is another one.
    if url.port().is_some() {
        return Err("it names a port other than 443");
    }
    if url.fragment().is_some() {
        return Err("it has a fragment");
    }
    match url.host() {
        Some(Host::Domain(host)) if is_sns_host(host) => Ok(url),
        _ => Err("the host is not sns.<region>.amazonaws.com"),
    }
}

/// `sns.<region>.amazonaws.com`, or `sns.cn-<…>.amazonaws.com.cn`.
fn is_sns_host(host: &str) -> bool {
    let Some(rest) = host.strip_prefix("sns.") else {
        return false;
    };
    let (region, china) = if let Some(region) = rest.strip_suffix(".amazonaws.com.cn") {
        (region, true)
    } else if let Some(region) = rest.strip_suffix(".amazonaws.com") {
        (region, false)
    } else {
        return false;
    };
    is_region(region) && region.starts_with("cn-") == china
}

/// An AWS region name: two to four hyphen-separated lower-case words and a number of one or two
/// digits (`us-east-1`, `eu-central-1`, `us-gov-west-1`, `ap-southeast-2`, `cn-north-1`).
fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let Some((number, words)) = parts.split_last() else {
        return false;
    };
    (2..=4).contains(&words.len())
        && words
            .iter()
            .all(|w| (2..=12).contains(&w.len()) && w.bytes().all(|b| b.is_ascii_lowercase()))
        && (1..=2).contains(&number.len())
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// The hash a SignatureVersion names.
#[derive(Clone, Copy)]
enum Version {
    Sha1,
    Sha256,
}

fn version(m: &SnsMessage) -> Result<Version, SnsError> {
    match m.signature_version.as_str() {
        "1" => Ok(Version::Sha1),
        "2" => Ok(Version::Sha256),
        _ => Err(SnsError::UnsupportedVersion),
    }
}

/// Checks the message's signature (standard base64) with the signing certificate's key:
/// SignatureVersion `1` is RSA PKCS#1 v1.5 over SHA-1, `2` over SHA-256; any other is refused.
pub fn verify_signature(m: &SnsMessage, key: &RsaPublicKey) -> Result<(), SnsError> {
    let version = version(m)?;
    if m.signature.is_empty() {
        return Err(SnsError::BadSignature);
    }
    let raw = STANDARD
        .decode(m.signature.as_bytes())
        .map_err(|_| SnsError::BadSignature)?;
    let signature = Signature::try_from(raw.as_slice()).map_err(|_| SnsError::BadSignature)?;
    let text = string_to_sign(m);
    match version {
        Version::Sha1 => VerifyingKey::<Sha1>::new(key.clone()).verify(text.as_bytes(), &signature),
        Version::Sha256 => {
            VerifyingKey::<Sha256>::new(key.clone()).verify(text.as_bytes(), &signature)
        }
    }
    .map_err(|_| SnsError::BadSignature)
}

/// The RSA public key of a PEM certificate (the first one in the text).
pub fn public_key_from_pem_cert(pem: &[u8]) -> Result<RsaPublicKey, SnsError> {
    let bad = |why: &str| SnsError::BadCert(why.to_owned());
    let cert = Certificate::from_pem(pem).map_err(|_| bad("not a PEM certificate"))?;
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|_| bad("unreadable public key"))?;
    RsaPublicKey::from_public_key_der(&spki).map_err(|_| bad("not an RSA public key"))
}

/// Refuses a message dated more than [`MAX_AGE`] before `now` or more than [`MAX_SKEW`] after.
pub fn check_fresh(m: &SnsMessage, now: DateTime<Utc>) -> Result<(), SnsError> {
    if m.timestamp < now - MAX_AGE {
        Err(SnsError::Expired)
    } else if m.timestamp > now + MAX_SKEW {
        Err(SnsError::FromTheFuture)
    } else {
        Ok(())
    }
}

/// Signs a message as SNS would, for `m.signature_version` `1` or `2`, and returns the
/// signature in base64. For tests and tools (the test double of SNS), never for production.
///
/// # Panics
///
/// When the key is not an RSA private key in PEM (PKCS#8 or PKCS#1), or the version is neither
/// `1` nor `2`.
pub fn sign(m: &SnsMessage, private_key_pem: &str) -> String {
    let key = RsaPrivateKey::from_pkcs8_pem(private_key_pem)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(private_key_pem))
        .expect("an RSA private key in PEM (PKCS#8 or PKCS#1)");
    let text = string_to_sign(m);
    let signature = match version(m).expect("SignatureVersion 1 or 2") {
        Version::Sha1 => SigningKey::<Sha1>::new(key).sign(text.as_bytes()).to_vec(),
        Version::Sha256 => SigningKey::<Sha256>::new(key)
            .sign(text.as_bytes())
            .to_vec(),
    };
    STANDARD.encode(signature)
}

/// Where signing certificates come from, and the keys already read (by URL).
///
/// With a folder, the certificate is the file named as the URL's last path segment and nothing
/// is ever fetched (tests, the SNS test double, air-gapped installations); without, it is fetched
/// from AWS (no redirects, a 5 second timeout, at most 16 KiB). Either way the URL passes
/// [`check_cert_url`] first. Cheap to clone (the cache is shared).
#[derive(Clone, Debug)]
pub struct CertStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    source: Source,
    cache: Mutex<HashMap<String, RsaPublicKey>>,
}

#[derive(Debug)]
enum Source {
    Dir(PathBuf),
    Fetch(Result<reqwest::Client, String>),
}

impl CertStore {
    pub fn new(dir: Option<PathBuf>) -> Self {
        let source = match dir {
            Some(dir) => Source::Dir(dir),
            None => Source::Fetch(
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .timeout(CERT_FETCH_TIMEOUT)
                    .build()
                    .map_err(|e| e.to_string()),
            ),
        };
        Self {
            inner: Arc::new(Inner {
                source,
                cache: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The public key of the certificate at `url`, from the cache, the folder or AWS. Failures
    /// are not remembered.
    pub async fn public_key(&self, url: &str) -> Result<RsaPublicKey, SnsError> {
        let url = check_cert_url(url)?;
        if let Some(key) = self.cache().get(url.as_str()) {
            return Ok(key.clone());
        }
        let pem = match &self.inner.source {
            Source::Dir(dir) => read_from_dir(dir, &url).await?,
            Source::Fetch(client) => fetch(client, &url).await?,
        };
        let key = public_key_from_pem_cert(&pem)?;
        let mut cache = self.cache();
        if cache.len() >= CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(url.into(), key.clone());
        Ok(key)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, RsaPublicKey>> {
        self.inner
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The certificate file a URL names in the folder: its last path segment, when it is a plain
/// file name (`[A-Za-z0-9._-]+\.pem`, not hidden, no `..`).
async fn read_from_dir(dir: &std::path::Path, url: &Url) -> Result<Vec<u8>, SnsError> {
    let name = url
        .path_segments()
        .and_then(Iterator::last)
        .filter(|name| is_cert_file_name(name))
        .ok_or_else(|| SnsError::CertUrl("not a plain certificate file name".to_owned()))?;
    let bytes = tokio::fs::read(dir.join(name)).await.map_err(|e| {
        SnsError::BadCert(match e.kind() {
            std::io::ErrorKind::NotFound => "not in the certificate folder".to_owned(),
            _ => format!("unreadable in the certificate folder: {e}"),
        })
    })?;
    if bytes.len() > MAX_CERT_SIZE {
        return Err(SnsError::BadCert("larger than 16 KiB".to_owned()));
    }
    Ok(bytes)
}

fn is_cert_file_name(name: &str) -> bool {
    name.len() > ".pem".len()
        && name.len() <= 255
        && name.ends_with(".pem")
        && !name.starts_with('.')
        && !name.contains("..")
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

async fn fetch(client: &Result<reqwest::Client, String>, url: &Url) -> Result<Vec<u8>, SnsError> {
    let client = client
        .as_ref()
        .map_err(|e| SnsError::BadCert(format!("no HTTP client: {e}")))?;
    let unavailable = |e: reqwest::Error| {
        SnsError::CertUnavailable(if e.is_timeout() {
            "timed out".to_owned()
        } else {
            e.to_string()
        })
    };
    let mut response = client.get(url.clone()).send().await.map_err(unavailable)?;
    let status = response.status();
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return Err(SnsError::CertUnavailable(format!(
            "the host answered {status}"
        )));
    }
    if !status.is_success() {
        return Err(SnsError::BadCert(format!("the host answered {status}")));
    }
    let too_large = || SnsError::BadCert("larger than 16 KiB".to_owned());
    if response
        .content_length()
        .is_some_and(|n| n > MAX_CERT_SIZE as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(unavailable)? {
        if body.len() + chunk.len() > MAX_CERT_SIZE {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads and verifies a message SNS posted: parses it, checks that it is fresh, that a
/// confirmation's `SubscribeURL` is AWS's, and its signature with the certificate `store` gives.
/// The caller still checks that [`SnsMessage::topic_arn`] is a topic it subscribed to (it has
/// the configuration): AWS signs every topic's messages alike.
pub async fn verify(
    store: &CertStore,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<SnsMessage, SnsError> {
    let m = parse(body)?;
    check_fresh(&m, now)?;
    // Refused before anything is fetched.
    version(&m)?;
    if m.kind != SnsKind::Notification {
        check_subscribe_url(m.subscribe_url.as_deref().unwrap_or_default())?;
    }
    let key = store.public_key(&m.signing_cert_url).await?;
    verify_signature(&m, &key)?;
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: &str = include_str!("testdata/sns-test-key.pem");
    const CERT: &str = include_str!("testdata/SimpleNotificationService-test.pem");
    const OTHER_CERT: &str = include_str!("testdata/SimpleNotificationService-other.pem");
    const CERT_URL: &str = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem";
    const OTHER_URL: &str =
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-other.pem";
    const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:herald-ses-events";
    const SUBSCRIBE_URL: &str = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:123456789012:herald-ses-events&Token=2336412f37";
    const TIMESTAMP: &str = "2026-11-25T12:00:00.123Z";

    fn testdata() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/webhooks/testdata")
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(TIMESTAMP)
            .unwrap()
            .with_timezone(&Utc)
            + chrono::Duration::minutes(1)
    }

    fn store() -> CertStore {
        CertStore::new(Some(testdata()))
    }

    fn notification(version: &str) -> Map<String, Value> {
        let v = json!({
            "Type": "Notification",
            "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
            "TopicArn": TOPIC,
            "Subject": "Amazon SES Email Event Notification",
            "Message": "{\"eventType\":\"Delivery\",\"mail\":{\"messageId\":\"m-1\"}}\n\u{e9}t\u{e9} \"quoted\"",
            "Timestamp": TIMESTAMP,
            "SignatureVersion": version,
            "Signature": "",
            "SigningCertURL": CERT_URL,
            "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x"
        });
        let Value::Object(map) = v else {
            unreachable!()
        };
        map
    }

    fn confirmation(version: &str) -> Map<String, Value> {
        let v = json!({
            "Type": "SubscriptionConfirmation",
            "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
            "Token": "2336412f37",
            "TopicArn": TOPIC,
            "Message": "You have chosen to subscribe to the topic. To confirm the subscription, visit the SubscribeURL included in this message.",
            "SubscribeURL": SUBSCRIBE_URL,
            "Timestamp": TIMESTAMP,
            "SignatureVersion": version,
            "Signature": "",
            "SigningCertURL": CERT_URL
        });
        let Value::Object(map) = v else {
            unreachable!()
        };
        map
    }

    /// The map with its `Signature` set as SNS would.
    fn signed(mut map: Map<String, Value>) -> Map<String, Value> {
        let m = parse(&body(&map)).unwrap();
        map.insert("Signature".into(), Value::String(sign(&m, KEY)));
        map
    }

    fn body(map: &Map<String, Value>) -> Vec<u8> {
        serde_json::to_vec(map).unwrap()
    }

    fn test_key() -> RsaPublicKey {
        public_key_from_pem_cert(CERT.as_bytes()).unwrap()
    }

    #[tokio::test]
    async fn signed_messages_verify() {
        let without_subject = {
            let mut m = notification("1");
            m.remove("Subject");
            m
        };
        let null_subject = {
            let mut m = notification("2");
            m.insert("Subject".into(), Value::Null);
            m
        };
        let unsubscribe = {
            let mut m = confirmation("2");
            m.insert("Type".into(), "UnsubscribeConfirmation".into());
            m
        };
        let cases = [
            ("notification v1", notification("1"), SnsKind::Notification),
            ("notification v2", notification("2"), SnsKind::Notification),
            ("no subject", without_subject, SnsKind::Notification),
            ("null subject", null_subject, SnsKind::Notification),
            (
                "confirmation v1",
                confirmation("1"),
                SnsKind::SubscriptionConfirmation,
            ),
            (
                "confirmation v2",
                confirmation("2"),
                SnsKind::SubscriptionConfirmation,
            ),
            ("unsubscribe", unsubscribe, SnsKind::UnsubscribeConfirmation),
        ];
        let store = store();
        for (name, map, kind) in cases {
            let m = verify(&store, &body(&signed(map)), now())
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(m.kind, kind, "{name}");
            assert_eq!(m.topic_arn, TOPIC, "{name}");
            assert_eq!(verify_signature(&m, &test_key()), Ok(()), "{name}");
        }
    }

    #[test]
    fn absent_and_null_subject_sign_the_same() {
        let mut map = notification("2");
        map.remove("Subject");
        let mut map = signed(map);
        map.insert("Subject".into(), Value::Null);
        let m = parse(&body(&map)).unwrap();
        assert_eq!(m.subject, None);
        assert_eq!(verify_signature(&m, &test_key()), Ok(()));
    }

    #[test]
    fn the_signed_text() {
        let m = parse(&body(&notification("1"))).unwrap();
        assert_eq!(
            string_to_sign(&m),
            format!(
                "Message\n{}\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\n\
                 Subject\nAmazon SES Email Event Notification\nTimestamp\n{TIMESTAMP}\n\
                 TopicArn\n{TOPIC}\nType\nNotification\n",
                m.message
            )
        );
        assert!(m.message.contains("\n\u{e9}t\u{e9} \"quoted\""), "decoded");
        let m = parse(&body(&confirmation("1"))).unwrap();
        assert_eq!(
            string_to_sign(&m),
            format!(
                "Message\n{}\nMessageId\n165545c9-2a5c-472c-8df2-7ff2be2b3b1b\n\
                 SubscribeURL\n{SUBSCRIBE_URL}\nTimestamp\n{TIMESTAMP}\nToken\n2336412f37\n\
                 TopicArn\n{TOPIC}\nType\nSubscriptionConfirmation\n",
                m.message
            )
        );
    }

    #[tokio::test]
    async fn tampered_messages_are_refused() {
        type Make = fn(&str) -> Map<String, Value>;
        type Tamper = fn(&mut Map<String, Value>);
        let cases: [(&str, Make, Tamper, SnsError); 17] = [
            (
                "Message",
                notification,
                |m| {
                    m.insert("Message".into(), "{\"eventType\":\"Bounce\"}".into());
                },
                SnsError::BadSignature,
            ),
            (
                "MessageId",
                notification,
                |m| {
                    m.insert("MessageId".into(), "another".into());
                },
                SnsError::BadSignature,
            ),
            (
                "Subject removed",
                notification,
                |m| {
                    m.remove("Subject");
                },
                SnsError::BadSignature,
            ),
            (
                "Subject null",
                notification,
                |m| {
                    m.insert("Subject".into(), Value::Null);
                },
                SnsError::BadSignature,
            ),
            (
                "Subject added",
                |v| {
                    let mut m = notification(v);
                    m.remove("Subject");
                    m
                },
                |m| {
                    m.insert("Subject".into(), "hello".into());
                },
                SnsError::BadSignature,
            ),
            (
                "TopicArn",
                notification,
                |m| {
                    m.insert(
                        "TopicArn".into(),
                        "arn:aws:sns:us-east-1:999999999999:other".into(),
                    );
                },
                SnsError::BadSignature,
            ),
            (
                "Timestamp",
                notification,
                |m| {
                    m.insert("Timestamp".into(), "2026-11-25T12:00:01.123Z".into());
                },
                SnsError::BadSignature,
            ),
            (
                "Timestamp, same instant written otherwise",
                notification,
                |m| {
                    m.insert("Timestamp".into(), "2026-11-25T12:00:00.123+00:00".into());
                },
                SnsError::BadSignature,
            ),
            (
                "Type",
                confirmation,
                |m| {
                    m.insert("Type".into(), "UnsubscribeConfirmation".into());
                },
                SnsError::BadSignature,
            ),
            (
                "Token",
                confirmation,
                |m| {
                    m.insert("Token".into(), "2336412f38".into());
                },
                SnsError::BadSignature,
            ),
            (
                "SubscribeURL",
                confirmation,
                |m| {
                    m.insert(
                        "SubscribeURL".into(),
                        "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription".into(),
                    );
                },
                SnsError::BadSignature,
            ),
            (
                "a bit of the signature",
                notification,
                |m| {
                    let mut raw = STANDARD.decode(m["Signature"].as_str().unwrap()).unwrap();
                    raw[100] ^= 1;
                    m.insert("Signature".into(), STANDARD.encode(raw).into());
                },
                SnsError::BadSignature,
            ),
            (
                "version 1 to 2",
                notification,
                |m| {
                    let other = if m["SignatureVersion"] == "1" {
                        "2"
                    } else {
                        "1"
                    };
                    m.insert("SignatureVersion".into(), other.into());
                },
                SnsError::BadSignature,
            ),
            (
                "version 3",
                notification,
                |m| {
                    m.insert("SignatureVersion".into(), "3".into());
                },
                SnsError::UnsupportedVersion,
            ),
            (
                "empty signature",
                notification,
                |m| {
                    m.insert("Signature".into(), "".into());
                },
                SnsError::BadSignature,
            ),
            (
                "not base64",
                notification,
                |m| {
                    m.insert("Signature".into(), "not base64!".into());
                },
                SnsError::BadSignature,
            ),
            (
                "the other certificate",
                notification,
                |m| {
                    m.insert("SigningCertURL".into(), OTHER_URL.into());
                },
                SnsError::BadSignature,
            ),
        ];
        let store = store();
        for version in ["1", "2"] {
            for (name, make, tamper, expected) in &cases {
                let mut map = signed(make(version));
                tamper(&mut map);
                assert_eq!(
                    verify(&store, &body(&map), now()).await,
                    Err(expected.clone()),
                    "{name}, version {version}"
                );
            }
        }
    }

    #[test]
    fn the_other_key_does_not_verify() {
        let other = public_key_from_pem_cert(OTHER_CERT.as_bytes()).unwrap();
        assert_ne!(other, test_key());
        for version in ["1", "2"] {
            let m = parse(&body(&signed(notification(version)))).unwrap();
            assert_eq!(verify_signature(&m, &test_key()), Ok(()));
            assert_eq!(verify_signature(&m, &other), Err(SnsError::BadSignature));
        }
    }

    #[test]
    fn sign_takes_pkcs1_keys_too() {
        use rsa::pkcs1::EncodeRsaPrivateKey as _;
        let pkcs1 = RsaPrivateKey::from_pkcs8_pem(KEY)
            .unwrap()
            .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
            .unwrap();
        assert!(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        let mut m = parse(&body(&notification("2"))).unwrap();
        m.signature = sign(&m, &pkcs1);
        assert_eq!(m.signature, sign(&m, KEY), "PKCS#1 v1.5 is deterministic");
        assert_eq!(verify_signature(&m, &test_key()), Ok(()));
    }

    #[test]
    fn parse_reads_both_spellings_and_refuses_the_malformed() {
        let mut map = notification("1");
        let url = map.remove("SigningCertURL").unwrap();
        map.insert("SigningCertUrl".into(), url);
        assert_eq!(parse(&body(&map)).unwrap().signing_cert_url, CERT_URL);

        let mut map = confirmation("1");
        let url = map.remove("SubscribeURL").unwrap();
        map.insert("SubscribeUrl".into(), url);
        assert_eq!(
            parse(&body(&map)).unwrap().subscribe_url.as_deref(),
            Some(SUBSCRIBE_URL)
        );

        let malformed: [(&str, Vec<u8>); 12] = [
            ("not JSON", b"{".to_vec()),
            ("not an object", b"[1]".to_vec()),
            ("unknown Type", {
                let mut m = notification("1");
                m.insert("Type".into(), "UnsubscriptionConfirmation".into());
                body(&m)
            }),
            ("no Type", {
                let mut m = notification("1");
                m.remove("Type");
                body(&m)
            }),
            ("Message not a string", {
                let mut m = notification("1");
                m.insert("Message".into(), json!({"eventType": "Bounce"}));
                body(&m)
            }),
            ("Subject a number", {
                let mut m = notification("1");
                m.insert("Subject".into(), json!(3));
                body(&m)
            }),
            ("bad Timestamp", {
                let mut m = notification("1");
                m.insert("Timestamp".into(), "yesterday".into());
                body(&m)
            }),
            ("no certificate URL", {
                let mut m = notification("1");
                m.remove("SigningCertURL");
                body(&m)
            }),
            ("two different certificate URLs", {
                let mut m = notification("1");
                m.insert("SigningCertUrl".into(), OTHER_URL.into());
                body(&m)
            }),
            ("confirmation without SubscribeURL", {
                let mut m = confirmation("1");
                m.remove("SubscribeURL");
                body(&m)
            }),
            ("confirmation without Token", {
                let mut m = confirmation("1");
                m.remove("Token");
                body(&m)
            }),
            ("too large", {
                let mut m = notification("1");
                m.insert("Message".into(), "x".repeat(MAX_BODY).into());
                body(&m)
            }),
        ];
        for (name, body) in malformed {
            assert!(
                matches!(parse(&body), Err(SnsError::Malformed(_))),
                "{name}: {:?}",
                parse(&body)
            );
        }
        // The same URL under both spellings is fine.
        let mut map = notification("1");
        map.insert("SigningCertUrl".into(), CERT_URL.into());
        assert!(parse(&body(&map)).is_ok());
    }

    #[test]
    fn certificate_urls() {
        let good = [
            CERT_URL,
            "https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem",
            "https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-x.pem",
            "https://sns.ap-southeast-2.amazonaws.com/a/b/cert.pem",
            "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-x.pem",
            "https://sns.us-east-1.amazonaws.com:443/SimpleNotificationService-x.pem",
            // The parser lower-cases the host and scheme: the same DNS name.
            "HTTPS://SNS.US-EAST-1.AMAZONAWS.COM/SimpleNotificationService-x.pem",
        ];
        for url in good {
            let parsed = check_cert_url(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(parsed.scheme(), "https");
            assert_eq!(parsed.port(), None);
        }
        assert_eq!(
            check_cert_url(good[6]).unwrap().as_str(),
            "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem"
        );
        let bad = [
            "",
            "not a url",
            "http://sns.us-east-1.amazonaws.com/x.pem",
            "ftp://sns.us-east-1.amazonaws.com/x.pem",
            "https:sns.us-east-1.amazonaws.com/x.pem",
            "https:/sns.us-east-1.amazonaws.com/x.pem",
            "https://sns.us-east-1.amazonaws.com.evil.com/x.pem",
            "https://evil.com/sns.us-east-1.amazonaws.com/x.pem",
            "https://evil.com/sns.us-east-1.amazonaws.com.pem",
            "https://sns.us-east-1.amazonaws.com@evil.com/x.pem",
            "https://user:pass@sns.us-east-1.amazonaws.com/x.pem",
            "https://user@sns.us-east-1.amazonaws.com/x.pem",
            "https://evil.com#@sns.us-east-1.amazonaws.com/x.pem",
            "https://evil.com\\@sns.us-east-1.amazonaws.com/x.pem",
            "https://sns.us-east-1.amazonaws.com\\@evil.com/x.pem",
            "https://52.94.236.248/x.pem",
            "https://[::1]/x.pem",
            "https://sns.us-east-1.amazonaws.com:8443/x.pem",
            "https://sns.us-east-1.amazonaws.com/x.pem?a=b",
            "https://sns.us-east-1.amazonaws.com/x.pem?",
            "https://sns.us-east-1.amazonaws.com/x.pem#frag",
            "https://sns.us-east-1.amazonaws.com/x.pem.txt",
            "https://sns.us-east-1.amazonaws.com/",
            "https://sns%2eus-east-1.amazonaws.com/x.pem",
            "https://%73ns.us-east-1.amazonaws.com/x.pem",
            "https://sns..amazonaws.com/x.pem",
            "https://sns.amazonaws.com/x.pem",
            "https://sns.us-east.amazonaws.com/x.pem",
            "https://sns.us-east-1.amazonaws.com./x.pem",
            "https://sns.evil.com/x.pem",
            "https://sqs.us-east-1.amazonaws.com/x.pem",
            "https://xsns.us-east-1.amazonaws.com/x.pem",
            "https://a.sns.us-east-1.amazonaws.com/x.pem",
            "https://sns.us-east-1.evil.amazonaws.com/x.pem",
            "https://sns.cn-north-1.amazonaws.com/x.pem",
            "https://sns.us-east-1.amazonaws.com.cn/x.pem",
            "https://sns.us-east-123.amazonaws.com/x.pem",
            "https://sns.us_east-1.amazonaws.com/x.pem",
            "https://sns.us-east-1.amazonaws.com/x .pem",
            "https://sns.us-east-1.amazonaws.com/x\n.pem",
            " https://sns.us-east-1.amazonaws.com/x.pem",
            "https://sns.us-east-1.amazonaws.com\t/x.pem",
            "https://sns.us-east-1.amazonaws.com/\u{e9}.pem",
            "https://sns.us-east-1.amаzonaws.com/x.pem",
            "https://xn--sns-8ma.us-east-1.amazonaws.com/x.pem",
        ];
        for url in bad {
            assert!(
                matches!(check_cert_url(url), Err(SnsError::CertUrl(_))),
                "{url:?} accepted"
            );
        }
        let long = format!(
            "https://sns.us-east-1.amazonaws.com/{}.pem",
            "a".repeat(3000)
        );
        assert!(check_cert_url(&long).is_err());
    }

    #[test]
    fn subscribe_urls() {
        let good = [
            SUBSCRIBE_URL,
            "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn%3Aaws%3Asns%3Aeu-west-1%3A1%3At&Token=abc",
            "https://sns.cn-northwest-1.amazonaws.com.cn/?Action=ConfirmSubscription",
            "https://sns.us-east-1.amazonaws.com",
        ];
        for url in good {
            assert!(check_subscribe_url(url).is_ok(), "{url}");
        }
        let bad = [
            "http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription",
            "https://evil.com/?Action=ConfirmSubscription&x=sns.us-east-1.amazonaws.com",
            "https://sns.us-east-1.amazonaws.com.evil.com/?Action=ConfirmSubscription",
            "https://sns.us-east-1.amazonaws.com@evil.com/?Action=ConfirmSubscription",
            "https://sns.us-east-1.amazonaws.com:8080/?Action=ConfirmSubscription",
            "https://127.0.0.1/?Action=ConfirmSubscription",
            "https://sns%2eus-east-1.amazonaws.com/?Action=ConfirmSubscription",
            "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription#x",
            "",
        ];
        for url in bad {
            assert!(
                matches!(check_subscribe_url(url), Err(SnsError::SubscribeUrl(_))),
                "{url:?} accepted"
            );
        }
    }

    #[tokio::test]
    async fn a_confirmation_with_a_foreign_subscribe_url_is_refused() {
        let mut map = confirmation("2");
        map.insert(
            "SubscribeURL".into(),
            "https://evil.com/?Action=ConfirmSubscription".into(),
        );
        let map = signed(map);
        assert!(matches!(
            verify(&store(), &body(&map), now()).await,
            Err(SnsError::SubscribeUrl(_))
        ));
    }

    #[tokio::test]
    async fn freshness() {
        let m = parse(&body(&notification("1"))).unwrap();
        let t = m.timestamp;
        let cases = [
            ("just sent", t, Ok(())),
            ("an hour later", t + chrono::Duration::hours(1), Ok(())),
            ("a day later", t + MAX_AGE, Ok(())),
            (
                "a day and a second later",
                t + MAX_AGE + chrono::Duration::seconds(1),
                Err(SnsError::Expired),
            ),
            ("clock 5 minutes behind", t - MAX_SKEW, Ok(())),
            (
                "dated 6 minutes ahead",
                t - chrono::Duration::minutes(6),
                Err(SnsError::FromTheFuture),
            ),
        ];
        for (name, now, expected) in cases {
            assert_eq!(check_fresh(&m, now), expected, "{name}");
        }
        // verify checks it too (before any certificate is looked for).
        let map = signed(notification("1"));
        assert_eq!(
            verify(&store(), &body(&map), t + chrono::Duration::days(2)).await,
            Err(SnsError::Expired)
        );
    }

    #[tokio::test]
    async fn cert_store_reads_the_folder() {
        let store = store();
        assert_eq!(store.public_key(CERT_URL).await, Ok(test_key()));
        // From the cache the second time.
        assert_eq!(store.public_key(CERT_URL).await, Ok(test_key()));
        let cases = [
            (
                "missing",
                "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-missing.pem",
                "BadCert",
            ),
            (
                "the URL rule comes first",
                "https://evil.com/SimpleNotificationService-test.pem",
                "CertUrl",
            ),
            (
                "plain http",
                "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem",
                "CertUrl",
            ),
            (
                "encoded traversal",
                "https://sns.us-east-1.amazonaws.com/..%2F..%2Fsns-test-key.pem",
                "CertUrl",
            ),
            (
                "encoded backslash",
                "https://sns.us-east-1.amazonaws.com/..%5Csns.pem",
                "CertUrl",
            ),
            (
                "hidden file",
                "https://sns.us-east-1.amazonaws.com/.hidden.pem",
                "CertUrl",
            ),
            (
                "dots",
                "https://sns.us-east-1.amazonaws.com/x..pem",
                "CertUrl",
            ),
            (
                "only the extension",
                "https://sns.us-east-1.amazonaws.com/.pem",
                "CertUrl",
            ),
            // Dot segments are resolved by the parser: this is `/README.pem`, absent.
            (
                "dot segments",
                "https://sns.us-east-1.amazonaws.com/a/../../README.pem",
                "BadCert",
            ),
            // A private key is not a certificate.
            (
                "not a certificate",
                "https://sns.us-east-1.amazonaws.com/sns-test-key.pem",
                "BadCert",
            ),
        ];
        for (name, url, expected) in cases {
            let got = store.public_key(url).await;
            let kind = match &got {
                Err(SnsError::BadCert(_)) => "BadCert",
                Err(SnsError::CertUrl(_)) => "CertUrl",
                _ => "other",
            };
            assert_eq!(kind, expected, "{name}: {got:?}");
            assert!(!got.unwrap_err().is_retryable(), "{name}");
        }
    }

    #[tokio::test]
    async fn cert_store_caches_successes_only_and_at_most_64() {
        let dir = std::env::temp_dir().join(format!(
            "herald-sns-certs-{}-{}",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("SimpleNotificationService-test.pem");
        let store = CertStore::new(Some(dir.clone()));

        // A failure is not remembered: the file appears, the key is found.
        assert!(store.public_key(CERT_URL).await.is_err());
        std::fs::write(&file, CERT).unwrap();
        assert_eq!(store.public_key(CERT_URL).await, Ok(test_key()));
        // A success is: the file goes, the key stays.
        std::fs::remove_file(&file).unwrap();
        assert_eq!(store.public_key(CERT_URL).await, Ok(test_key()));

        std::fs::write(&file, CERT).unwrap();
        for n in 1..=70 {
            let url =
                format!("https://sns.us-east-{n}.amazonaws.com/SimpleNotificationService-test.pem");
            store.public_key(&url).await.unwrap();
            assert!(store.cache().len() <= CACHE_CAPACITY);
        }
        assert_eq!(store.cache().len(), 70 - CACHE_CAPACITY);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn only_unavailable_certificates_are_retryable() {
        let cases = [
            (SnsError::CertUnavailable("timed out".into()), true),
            (SnsError::BadCert("404".into()), false),
            (SnsError::BadSignature, false),
            (SnsError::Expired, false),
            (SnsError::CertUrl("x".into()), false),
            (SnsError::Malformed("x".into()), false),
            (SnsError::UnsupportedVersion, false),
        ];
        for (error, retryable) in cases {
            assert_eq!(error.is_retryable(), retryable, "{error}");
        }
    }

    #[test]
    fn certificates() {
        assert_eq!(
            public_key_from_pem_cert(b"not a certificate"),
            Err(SnsError::BadCert("not a PEM certificate".into()))
        );
        assert!(public_key_from_pem_cert(KEY.as_bytes()).is_err());
        assert!(public_key_from_pem_cert(OTHER_CERT.as_bytes()).is_ok());
    }
}
