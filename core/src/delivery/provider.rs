//! Providers: where a rendered message goes. The development mailbox (the default: it stores
//! each message in the database) and SMTP today; Amazon SES and SMS providers join this enum.
//!
//! A provider answers one of three ways: accepted (with its id for the message), a transient
//! error (try again later, never counted as a failure: SMTP 4xx, a connection refused, a
//! timeout) or a permanent one (the message fails).

use crate::entity::mailbox_message;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Tokio1Executor};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

/// A message ready to hand over.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub message_id: i64,
    pub org_id: i64,
    /// The envelope sender and recipient (bare addresses).
    pub from: String,
    pub to: String,
    pub subject: String,
    /// The whole message as MIME, headers included.
    pub raw: Vec<u8>,
}

/// Why a provider did not take a message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Try again later: the provider is busy, throttling or unreachable.
    #[error("{0}")]
    Transient(String),
    /// It will never take this message.
    #[error("{0}")]
    Permanent(String),
}

/// What a provider knows about a message a crashed sender may or may not have handed over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handed {
    /// It has the message, under this id.
    Yes(String),
    /// It certainly does not.
    No,
    /// It cannot tell (SMTP keeps no record Herald can ask).
    Unknown,
}

/// Where messages go.
#[derive(Clone)]
pub enum Provider {
    /// Stores messages in the database (`mailbox_message`); nothing leaves the machine.
    Mailbox,
    /// An SMTP relay, with a pool of connections.
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// The URL without its password, for people.
        shown: String,
    },
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Provider {
    /// An SMTP provider from `smtp://user:pass@host:port` (STARTTLS when the server offers
    /// it, plain otherwise, as local sinks need) or `smtps://…` (implicit TLS), with up to
    /// `pool` connections.
    pub fn smtp(url: &str, pool: u32) -> std::result::Result<Provider, String> {
        let (lettre_url, shown) = parse_smtp_url(url)?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&lettre_url)
            .map_err(|e| format!("HERALD_SMTP_URL: {e}"))?
            .pool_config(lettre::transport::smtp::PoolConfig::new().max_size(pool.max(1)))
            .timeout(Some(std::time::Duration::from_secs(30)))
            .build();
        Ok(Provider::Smtp { transport, shown })
    }

    /// The provider in words, for logs and operators (never a password).
    pub fn describe(&self) -> String {
        match self {
            Provider::Mailbox => "the development mailbox".into(),
            Provider::Smtp { shown, .. } => format!("SMTP at {shown}"),
        }
    }

    /// Hands `m` over. Answers the provider's id for it.
    pub async fn send(
        &self,
        db: &impl ConnectionTrait,
        m: &Outgoing,
        now: DateTime<Utc>,
    ) -> std::result::Result<String, SendError> {
        match self {
            Provider::Mailbox => {
                let raw = String::from_utf8_lossy(&m.raw).into_owned();
                // One stored copy per message: a retry after a crash finds the first.
                mailbox_message::Entity::insert(mailbox_message::ActiveModel {
                    org_id: Set(m.org_id),
                    message_id: Set(Some(m.message_id)),
                    sender: Set(m.from.clone()),
                    recipient: Set(m.to.clone()),
                    subject: Set(m.subject.clone()),
                    raw: Set(raw),
                    created_at: Set(now),
                    ..Default::default()
                })
                .on_conflict_do_nothing_on([mailbox_message::Column::MessageId])
                .exec(db)
                .await
                .map_err(|e| {
                    SendError::Transient(format!("the mailbox could not store it: {e}"))
                })?;
                Ok(format!("mailbox-{}", m.message_id))
            }
            Provider::Smtp { transport, .. } => {
                let envelope = lettre::address::Envelope::new(
                    Some(
                        m.from
                            .parse()
                            .map_err(|e| SendError::Permanent(format!("the sender: {e}")))?,
                    ),
                    vec![
                        m.to.parse()
                            .map_err(|e| SendError::Permanent(format!("the recipient: {e}")))?,
                    ],
                )
                .map_err(|e| SendError::Permanent(e.to_string()))?;
                match transport.send_raw(&envelope, &m.raw).await {
                    Ok(response) => Ok(response.message().collect::<Vec<_>>().join(" ")),
                    Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
                    // 4xx answers, refused or dropped connections, timeouts: try again.
                    Err(e) => Err(SendError::Transient(e.to_string())),
                }
            }
        }
    }

    /// Whether the provider has message `message_id` (after a crash between the provider
    /// call and recording its answer).
    pub async fn handed(&self, db: &impl ConnectionTrait, message_id: i64) -> Result<Handed> {
        match self {
            Provider::Mailbox => Ok(
                match mailbox_message::Entity::find()
                    .filter(mailbox_message::Column::MessageId.eq(message_id))
                    .one(db)
                    .await
                    .map_err(Error::from)?
                {
                    Some(_) => Handed::Yes(format!("mailbox-{message_id}")),
                    None => Handed::No,
                },
            ),
            Provider::Smtp { .. } => Ok(Handed::Unknown),
        }
    }
}

/// Checks an SMTP URL; answers it in lettre's form and as shown to people (no password).
pub fn parse_smtp_url(url: &str) -> std::result::Result<(String, String), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("HERALD_SMTP_URL is not a URL: {e}"))?;
    let scheme = parsed.scheme().to_owned();
    if scheme != "smtp" && scheme != "smtps" {
        return Err(format!(
            "HERALD_SMTP_URL must start with smtp:// or smtps://, not {scheme}://"
        ));
    }
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or("HERALD_SMTP_URL has no host")?
        .to_owned();
    let mut lettre_url = parsed.clone();
    if scheme == "smtp" && !parsed.query_pairs().any(|(k, _)| k == "tls") {
        // STARTTLS when the server offers it, plain otherwise (local sinks).
        lettre_url
            .query_pairs_mut()
            .append_pair("tls", "opportunistic");
    }
    let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
    Ok((lettre_url.to_string(), format!("{scheme}://{host}{port}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls() {
        for (url, shown) in [
            ("smtp://127.0.0.1:2525", Ok("SMTP at smtp://127.0.0.1:2525")),
            (
                "smtp://user:secret@mail.example.org:587",
                Ok("SMTP at smtp://mail.example.org:587"),
            ),
            (
                "smtps://mail.example.org",
                Ok("SMTP at smtps://mail.example.org"),
            ),
            ("http://mail.example.org", Err("smtp:// or smtps://")),
            ("not a url", Err("not a URL")),
        ] {
            let got = parse_smtp_url(url).map(|(_, shown)| format!("SMTP at {shown}"));
            match (got, shown) {
                (Ok(got), Ok(want)) => {
                    assert_eq!(got, want, "{url}");
                    assert!(!got.contains("secret"));
                }
                (Err(got), Err(want)) => assert!(got.contains(want), "{url}: {got}"),
                (got, want) => panic!("{url}: {got:?}, expected {want:?}"),
            }
        }
    }
}
