//! One message for one recipient: the template rendered with the contact's data, and the MIME
//! around it. Marketing and newsletter messages always carry `List-Unsubscribe` with an https
//! (or the instance's) URL, `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058) and
//! an unsubscribe link in the body, added when the template forgot it.
//!
//! Unsubscribe tokens name the message row and nothing else (no address, no contact), signed
//! with the instance's secret key and checked in constant time.

use crate::domain::MessageType;
use crate::domain::template::Content;
use crate::secret::SecretKey;
use crate::templates::render::{self, Rendered};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};

const PURPOSE: &[u8] = b"herald.unsubscribe.v1:";

/// The token of message `message_id`'s unsubscribe links.
pub fn unsubscribe_token(key: &SecretKey, message_id: i64) -> String {
    let id = message_id.to_be_bytes();
    let tag = key.sign(&[PURPOSE, &id].concat());
    let mut bytes = id.to_vec();
    bytes.extend_from_slice(&tag);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The message a token names, if the token is genuine.
pub fn read_unsubscribe_token(key: &SecretKey, token: &str) -> Option<i64> {
    if token.len() > 64 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    if bytes.len() != 8 + 32 {
        return None;
    }
    let (id, tag) = bytes.split_at(8);
    key.verify(&[PURPOSE, id].concat(), tag)
        .then(|| i64::from_be_bytes(id.try_into().expect("8 bytes")))
}

/// Who a message is from, as the campaign (or the organisation's default) says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sender {
    pub name: String,
    pub address: String,
    pub reply_to: Option<String>,
}

impl Sender {
    /// Who a message with the campaign settings `s` is from: the campaign's sender, else the
    /// organisation's default identity, else the instance's address (`default_from`), named
    /// after the organisation when nothing names it.
    pub fn choose(
        s: &crate::domain::campaign::Settings,
        identity: Option<&crate::entity::sender_identity::Model>,
        organisation: &str,
        default_from: &str,
    ) -> Sender {
        let or = |value: &str, default: &str| {
            let value = value.trim();
            if value.is_empty() {
                default.to_owned()
            } else {
                value.to_owned()
            }
        };
        match (identity, s.from_email.trim().is_empty()) {
            (Some(i), true) => Sender {
                name: or(&s.from_name, &or(&i.name, organisation)),
                address: i.email.clone(),
                reply_to: Some(or(&s.reply_to, &i.reply_to)).filter(|r| !r.is_empty()),
            },
            _ => Sender {
                name: or(&s.from_name, organisation),
                address: or(&s.from_email, default_from),
                reply_to: Some(s.reply_to.trim().to_owned()).filter(|r| !r.is_empty()),
            },
        }
    }
}

/// The host part of Message-IDs: the public URL's host.
pub fn message_id_host(public_url: &str) -> String {
    url::Url::parse(public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "herald.invalid".into())
}

/// Everything that goes into one message.
pub struct Envelope<'a> {
    pub message_id: i64,
    pub sender: &'a Sender,
    pub to: &'a str,
    /// Set for marketing and newsletter messages.
    pub unsubscribe_url: Option<&'a str>,
    /// The host part of Message-IDs (the public URL's host).
    pub host: &'a str,
    pub now: DateTime<Utc>,
    /// Signs the message when the sender's domain has a DKIM key.
    pub dkim: Option<&'a Dkim>,
    /// Gmail's feedback-loop identifier ([`feedback_id`]); set for marketing and newsletter
    /// messages.
    pub feedback_id: Option<&'a str>,
}

/// The `Feedback-ID` of a marketing or newsletter message, for Gmail's feedback loop, which
/// reports complaint rates per value of each field: `campaign:type:organisation:herald`, the
/// last field naming the sender (Gmail's "SenderId", the same on every message). `campaign` is
/// the campaign's id (`c42`) or a word (`test`); ids are used rather than names because a field
/// may not hold a colon and names change. `None` for operational messages, which are no bulk
/// mail.
pub fn feedback_id(campaign: &str, message_type: MessageType, org_id: i64) -> Option<String> {
    let kind = match message_type {
        MessageType::Operational => return None,
        MessageType::Marketing => "marketing",
        MessageType::Newsletter => "newsletter",
    };
    let campaign: String = campaign
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    Some(format!("{campaign}:{kind}:o{org_id}:herald"))
}

/// A sending domain's DKIM key, ready to sign.
pub struct Dkim {
    pub domain: String,
    pub selector: String,
    /// PKCS#1 PEM (lettre owns the key it signs with: each message parses its own).
    pem: String,
}

impl std::fmt::Debug for Dkim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Dkim({}; {})", self.selector, self.domain)
    }
}

impl Dkim {
    /// From a PKCS#1 PEM RSA private key.
    pub fn new(domain: &str, selector: &str, pem: &str) -> Result<Dkim, String> {
        use lettre::message::dkim::{DkimSigningAlgorithm, DkimSigningKey};
        DkimSigningKey::new(pem, DkimSigningAlgorithm::Rsa)
            .map_err(|e| format!("the DKIM key of {domain} does not read: {e}"))?;
        Ok(Dkim {
            domain: domain.to_owned(),
            selector: selector.to_owned(),
            pem: pem.to_owned(),
        })
    }

    fn key(&self) -> Result<lettre::message::dkim::DkimSigningKey, String> {
        use lettre::message::dkim::{DkimSigningAlgorithm, DkimSigningKey};
        DkimSigningKey::new(&self.pem, DkimSigningAlgorithm::Rsa).map_err(|e| e.to_string())
    }
}

/// The headers a signature covers: those receivers judge a message by, the unsubscribe
/// headers included (one-click unsubscribe is honoured only when they are signed).
const SIGNED: [&str; 9] = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Reply-To",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Feedback-ID",
];

/// Renders `content` with `context`, adding the unsubscribe link when it is required and the
/// template does not have it.
pub fn render_body(
    content: &Content,
    context: &serde_json::Value,
    unsubscribe_url: Option<&str>,
) -> Result<Rendered, render::RenderError> {
    let mut r = render::render(content, context)?;
    if let Some(url) = unsubscribe_url {
        let escaped = url.replace('&', "&amp;").replace('"', "&quot;");
        // The HTML part escapes what it prints (`/` becomes `&#x2f;`), so the link is found
        // by its token, the last part of the URL, which escaping leaves alone.
        let token = url.rsplit('/').next().unwrap_or(url);
        if !r.html.trim().is_empty() && !r.html.contains(token) {
            let footer = format!(
                "<p style=\"font-size:12px;color:#666\"><a href=\"{escaped}\">Unsubscribe</a></p>"
            );
            match r.html.rfind("</body>") {
                Some(at) => r.html.insert_str(at, &footer),
                None => r.html.push_str(&footer),
            }
        }
        if !r.text.contains(url) {
            r.text = format!("{}\n\nUnsubscribe: {url}\n", r.text.trim_end());
        }
    }
    Ok(r)
}

/// The message as MIME: multipart/alternative (text, then HTML), a Message-ID that stays the
/// same if the message is ever handed over again, and the unsubscribe headers.
pub fn mime(e: &Envelope, body: &Rendered) -> Result<Vec<u8>, String> {
    let from_address = e
        .sender
        .address
        .parse()
        .map_err(|err| format!("the sender address {:?}: {err}", e.sender.address))?;
    let from = Mailbox::new(
        (!e.sender.name.trim().is_empty()).then(|| e.sender.name.clone()),
        from_address,
    );
    let to: Mailbox =
        e.to.parse()
            .map_err(|err| format!("the recipient address {:?}: {err}", e.to))?;
    let mut b = lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(body.subject.clone())
        .date(e.now.into())
        .message_id(Some(format!("<herald.{}@{}>", e.message_id, e.host)))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Herald-Message-Id"),
            e.message_id.to_string(),
        ));
    if let Some(reply_to) = &e.sender.reply_to {
        b = b.reply_to(
            reply_to
                .parse()
                .map_err(|err| format!("the reply-to address {reply_to:?}: {err}"))?,
        );
    }
    if let Some(url) = e.unsubscribe_url {
        b = b
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{url}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".into(),
            ));
    }
    if let Some(id) = e.feedback_id {
        b = b.raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Feedback-ID"),
            id.to_owned(),
        ));
    }
    let text = if body.text.trim().is_empty() {
        // Every message has a plain part, even from an HTML-only template.
        body.subject.clone()
    } else {
        body.text.clone()
    };
    let mut message = if body.html.trim().is_empty() {
        b.body(text)
    } else {
        b.multipart(MultiPart::alternative_plain_html(text, body.html.clone()))
    }
    .map_err(|err| err.to_string())?;
    if let Some(d) = e.dkim {
        use lettre::message::dkim::{DkimCanonicalization, DkimCanonicalizationType, DkimConfig};
        let key = d.key()?;
        let present: Vec<HeaderName> = SIGNED
            .iter()
            .filter(|h| message.headers().get_raw(h).is_some())
            .map(|h| HeaderName::new_from_ascii_str(h))
            .collect();
        let config = DkimConfig::new(
            d.selector.clone(),
            d.domain.clone(),
            key,
            present,
            DkimCanonicalization {
                header: DkimCanonicalizationType::Relaxed,
                body: DkimCanonicalizationType::Relaxed,
            },
        );
        message.sign(&config);
    }
    Ok(message.formatted())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        SecretKey::from_text(&"k".repeat(64)).unwrap()
    }

    #[test]
    fn tokens_name_a_message_and_refuse_tampering() {
        let k = key();
        let token = unsubscribe_token(&k, 4217);
        assert_eq!(read_unsubscribe_token(&k, &token), Some(4217));
        assert!(!token.contains("4217"));
        let other = SecretKey::from_text(&"j".repeat(64)).unwrap();
        let mut flipped = token.clone().into_bytes();
        flipped[3] = if flipped[3] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        for (name, bad) in [
            ("another key", unsubscribe_token(&other, 4217)),
            ("a changed character", flipped),
            ("cut short", token[..token.len() - 2].to_owned()),
            ("too long", format!("{token}AAAA")),
            ("not base64", "!!!".into()),
            ("empty", String::new()),
            ("huge", "A".repeat(10_000)),
        ] {
            assert_eq!(read_unsubscribe_token(&k, &bad), None, "{name}");
        }
    }

    fn content(html: &str, text: &str) -> Content {
        Content {
            subject: "Hello {{ contact.first_name }}".into(),
            preheader: String::new(),
            html: html.into(),
            text: text.into(),
        }
    }

    #[test]
    fn the_unsubscribe_link_is_added_when_missing() {
        let ctx = serde_json::json!({"contact": {"first_name": "Ada"},
            "unsubscribe_url": "https://h.example/u/T"});
        // (The template engine escapes the URL it prints into HTML.)
        let url = Some("https://h.example/u/T");
        for (name, html, text, footers) in [
            ("forgotten", "<html><body><p>Hi</p></body></html>", "Hi", 1),
            (
                "present",
                "<p><a href=\"{{ unsubscribe_url }}\">Leave</a></p>",
                "Leave: {{ unsubscribe_url }}",
                0,
            ),
        ] {
            let r = render_body(&content(html, text), &ctx, url).unwrap();
            assert_eq!(r.html.matches("u&#x2f;T\"").count(), 1 - footers, "{name}");
            assert_eq!(
                r.html.matches("https://h.example/u/T").count(),
                footers,
                "{name}"
            );
            assert_eq!(
                r.html.matches(">Unsubscribe</a>").count(),
                footers,
                "{name}"
            );
            assert_eq!(r.text.matches("https://h.example/u/T").count(), 1, "{name}");
            if footers == 1 {
                assert!(r.html.find(">Unsubscribe<").unwrap() < r.html.find("</body>").unwrap());
            }
        }
        let r = render_body(&content("<p>Hi</p>", "Hi"), &ctx, None).unwrap();
        assert!(!r.html.contains("Unsubscribe") && !r.text.contains("Unsubscribe"));
    }

    #[test]
    fn feedback_ids_name_campaign_type_and_organisation() {
        let cases = [
            (
                "c42",
                MessageType::Marketing,
                7,
                Some("c42:marketing:o7:herald"),
            ),
            (
                "c9",
                MessageType::Newsletter,
                1,
                Some("c9:newsletter:o1:herald"),
            ),
            (
                "test",
                MessageType::Marketing,
                2,
                Some("test:marketing:o2:herald"),
            ),
            // A field never holds a colon (or anything else but letters, digits and dashes).
            (
                "a:b c",
                MessageType::Marketing,
                2,
                Some("abc:marketing:o2:herald"),
            ),
            ("c42", MessageType::Operational, 7, None),
        ];
        for (campaign, kind, org, want) in cases {
            assert_eq!(
                feedback_id(campaign, kind, org).as_deref(),
                want,
                "{campaign}"
            );
        }
    }

    #[test]
    fn mime_carries_the_headers() {
        let sender = Sender {
            name: "Herald Demo".into(),
            address: "news@demo.example".into(),
            reply_to: Some("help@demo.example".into()),
        };
        let body = Rendered {
            subject: "Hello Ada".into(),
            preheader: String::new(),
            html: "<p>Hi</p>".into(),
            text: "Hi".into(),
        };
        let e = Envelope {
            message_id: 77,
            sender: &sender,
            to: "ada@example.org",
            unsubscribe_url: Some("https://h.example/u/T"),
            host: "h.example",
            now: Utc::now(),
            dkim: None,
            feedback_id: Some("c5:marketing:o3:herald"),
        };
        let raw = String::from_utf8(mime(&e, &body).unwrap()).unwrap();
        for header in [
            "From: \"Herald Demo\" <news@demo.example>",
            "To: ada@example.org",
            "Reply-To: help@demo.example",
            "Subject: Hello Ada",
            "Message-ID: <herald.77@h.example>",
            "X-Herald-Message-Id: 77",
            "List-Unsubscribe: <https://h.example/u/T>",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "Feedback-ID: c5:marketing:o3:herald",
            "multipart/alternative",
        ] {
            assert!(raw.contains(header), "{header} missing in\n{raw}");
        }
        let operational = Envelope {
            unsubscribe_url: None,
            feedback_id: None,
            ..e
        };
        let raw = String::from_utf8(mime(&operational, &body).unwrap()).unwrap();
        assert!(!raw.contains("List-Unsubscribe"));
        assert!(!raw.contains("Feedback-ID"));
        let bad = Sender {
            address: "not an address".into(),
            ..sender.clone()
        };
        let e = Envelope {
            sender: &bad,
            ..operational
        };
        assert!(mime(&e, &body).unwrap_err().contains("sender address"));
    }
}
