//! Providers: where a rendered message goes. The development mailbox (the default: it stores
//! each message in the database), SMTP (lettre's protocol through Herald's own pool,
//! [`super::smtp`]), Amazon SES v2 (raw MIME, tagged with
//! Herald's message id) and an HTTP SMS provider with a Twilio-style API.
//!
//! A provider answers one of three ways: accepted (with its id for the message), a transient
//! error (try again later, never counted as a failure: SMTP 4xx, SES throttling or a paused
//! account, HTTP 429 and 5xx, a connection refused, a timeout) or a permanent one (the message
//! fails).

use super::smtp::{Relay, SmtpPool};
use crate::entity::{mailbox_message, message};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use std::sync::Arc;

/// A message ready to hand over.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub message_id: i64,
    pub org_id: i64,
    /// The envelope sender and recipient (bare addresses; for SMS, numbers or a sender id).
    pub from: String,
    pub to: String,
    pub subject: String,
    /// The whole message: MIME with its headers for email, the text for SMS.
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
        pool: Arc<SmtpPool>,
        /// The URL without its password, for people.
        shown: String,
    },
    /// Amazon SES v2.
    Ses {
        client: aws_sdk_sesv2::Client,
        configuration_set: Option<String>,
        shown: String,
    },
    /// An HTTP SMS provider with a Twilio-style API.
    Sms(SmsHttp),
}

/// A Twilio-style SMS API: `POST {base}/2010-04-01/Accounts/{account}/Messages.json` with
/// `To`, `From` and `Body`, basic authentication with the account and its token.
#[derive(Clone)]
pub struct SmsHttp {
    client: reqwest::Client,
    endpoint: String,
    account: String,
    token: String,
    shown: String,
    status_callback: Option<String>,
}

/// The tag SES carries Herald's message id in (the webhook matches events by it).
pub const SES_MESSAGE_TAG: &str = "herald_message_id";

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Provider {
    /// An SMTP provider from `smtp://user:pass@host:port` (STARTTLS when the server offers
    /// it, plain otherwise, as local sinks need; `?tls=required` or `?tls=none`) or
    /// `smtps://…` (implicit TLS), within `limits`.
    pub fn smtp(url: &str, limits: SmtpLimits) -> std::result::Result<Provider, String> {
        let (relay, shown) = parse_smtp_url(url)?;
        Ok(Provider::Smtp {
            pool: Arc::new(SmtpPool::new(relay, limits.pool, limits.per_destination)),
            shown,
        })
    }

    /// Amazon SES v2 in `region`, credentials from the standard AWS chain; `endpoint` points
    /// it elsewhere (a local double); `configuration_set` names the SES configuration set that
    /// publishes its events.
    pub async fn ses(
        region: &str,
        endpoint: Option<&str>,
        configuration_set: Option<String>,
    ) -> Provider {
        use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_owned()))
            .http_client(http)
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(std::time::Duration::from_secs(5))
                    .operation_attempt_timeout(std::time::Duration::from_secs(30))
                    .build(),
            );
        if let Some(e) = endpoint {
            loader = loader.endpoint_url(e);
        }
        let config = loader.load().await;
        // Throttling is retried by the engine's own queue with backoff, not inside a call.
        let ses = aws_sdk_sesv2::config::Builder::from(&config)
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build();
        Provider::Ses {
            client: aws_sdk_sesv2::Client::from_conf(ses),
            shown: match endpoint {
                Some(e) => format!("Amazon SES ({region}, at {e})"),
                None => format!("Amazon SES ({region})"),
            },
            configuration_set,
        }
    }

    /// An HTTP SMS provider from `https://ACCOUNT:TOKEN@host[/path]`; the provider posts its
    /// delivery receipts to `status_callback` (Herald's `/webhooks/sms`).
    pub fn sms(
        url: &str,
        status_callback: Option<String>,
    ) -> std::result::Result<Provider, String> {
        let (base, account, token) = parse_sms_url(url)?;
        Ok(Provider::Sms(SmsHttp {
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(15))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| e.to_string())?,
            endpoint: format!("{base}/2010-04-01/Accounts/{account}/Messages.json"),
            shown: format!("the SMS API at {base}"),
            account,
            token,
            status_callback,
        }))
    }

    /// The SMS API's token: what its delivery receipts are signed with.
    pub fn sms_token(&self) -> Option<&str> {
        match self {
            Provider::Sms(s) => Some(&s.token),
            _ => None,
        }
    }

    /// How many messages one sender hands over at once: an SMTP pool's size (the pool holds
    /// the rest back); one otherwise.
    pub fn parallel(&self) -> usize {
        match self {
            Provider::Smtp { pool, .. } => pool.size(),
            _ => 1,
        }
    }

    /// The provider in words, for logs and operators (never a password).
    pub fn describe(&self) -> String {
        match self {
            Provider::Mailbox => "the development mailbox".into(),
            Provider::Smtp { shown, .. } => format!("SMTP at {shown}"),
            Provider::Ses { shown, .. } => shown.clone(),
            Provider::Sms(s) => s.shown.clone(),
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
                    // Test sends carry no message row (a negative id).
                    message_id: Set((m.message_id > 0).then_some(m.message_id)),
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
            Provider::Smtp { pool, .. } => {
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
                // 5xx answers fail; 4xx, refused or dropped connections, timeouts: again later.
                pool.send(&envelope, &m.raw).await
            }
            Provider::Ses {
                client,
                configuration_set,
                ..
            } => send_ses(client, configuration_set.as_deref(), m).await,
            Provider::Sms(sms) => sms.send(m).await,
        }
    }

    /// Whether the provider has message `m` (after a crash between the provider call and
    /// recording its answer).
    pub async fn handed(&self, db: &impl ConnectionTrait, m: &message::Model) -> Result<Handed> {
        let message_id = m.id;
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
            // SES reports each message it took as a Send event tagged with Herald's message
            // id, and the webhook moves a row still in `sending` to `sent` when it arrives
            // ([`super::events`]). A row still in `sending` here had no such event (yet): as
            // SMTP and SMS, unknown, so the message goes out again (at least once).
            Provider::Smtp { .. } | Provider::Ses { .. } | Provider::Sms(_) => Ok(Handed::Unknown),
        }
    }
}

/// Hands a raw message to SES, tagged with Herald's message id.
async fn send_ses(
    client: &aws_sdk_sesv2::Client,
    configuration_set: Option<&str>,
    m: &Outgoing,
) -> std::result::Result<String, SendError> {
    use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
    use aws_sdk_sesv2::operation::send_email::SendEmailError;
    use aws_sdk_sesv2::primitives::Blob;
    use aws_sdk_sesv2::types::{Destination, EmailContent, MessageTag, RawMessage};
    let permanent = |e: &dyn std::fmt::Display| SendError::Permanent(e.to_string());
    let raw = RawMessage::builder()
        .data(Blob::new(m.raw.clone()))
        .build()
        .map_err(|e| permanent(&e))?;
    let tag = MessageTag::builder()
        .name(SES_MESSAGE_TAG)
        .value(m.message_id.to_string())
        .build()
        .map_err(|e| permanent(&e))?;
    let mut request = client
        .send_email()
        .from_email_address(&m.from)
        .destination(Destination::builder().to_addresses(&m.to).build())
        .content(EmailContent::builder().raw(raw).build())
        .email_tags(tag);
    if let Some(set) = configuration_set {
        request = request.configuration_set_name(set);
    }
    match request.send().await {
        Ok(out) => Ok(out.message_id().unwrap_or_default().to_owned()),
        Err(SdkError::ServiceError(e)) => {
            let status = e.raw().status().as_u16();
            let err = e.into_err();
            let words = format!(
                "SES: {}{}",
                err.code().unwrap_or("error"),
                err.message().map(|m| format!(": {m}")).unwrap_or_default()
            );
            match err {
                // Throttled, over a quota for now, or the account is paused: try again later
                // (the whole batch failing this way pauses the organisation's sending).
                SendEmailError::TooManyRequestsException(_)
                | SendEmailError::LimitExceededException(_)
                | SendEmailError::SendingPausedException(_)
                | SendEmailError::AccountSuspendedException(_) => Err(SendError::Transient(words)),
                _ if status == 429 || status >= 500 => Err(SendError::Transient(words)),
                ref other if other.code() == Some("Throttling") => Err(SendError::Transient(words)),
                _ => Err(SendError::Permanent(words)),
            }
        }
        // Not answered: a connection refused, a timeout, a response cut short.
        Err(e) => Err(SendError::Transient(format!(
            "SES did not answer: {}",
            aws_sdk_sesv2::error::DisplayErrorContext(&e)
        ))),
    }
}

impl SmsHttp {
    async fn send(&self, m: &Outgoing) -> std::result::Result<String, SendError> {
        let body = String::from_utf8_lossy(&m.raw).into_owned();
        let answer = self
            .client
            .post(&self.endpoint)
            .basic_auth(&self.account, Some(&self.token))
            .form(
                &[
                    ("To", m.to.as_str()),
                    ("From", m.from.as_str()),
                    ("Body", &body),
                ]
                .into_iter()
                .chain(
                    self.status_callback
                        .as_deref()
                        .map(|url| ("StatusCallback", url)),
                )
                .collect::<Vec<_>>(),
            )
            .send()
            .await
            .map_err(|e| SendError::Transient(format!("the SMS API did not answer: {e}")))?;
        let status = answer.status();
        // A bounded read: a provider's answer is small.
        let text = answer.text().await.unwrap_or_default();
        let text: String = text.chars().take(2000).collect();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let said = json["message"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| text.trim().chars().take(200).collect());
        if status.is_success() {
            return json["sid"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| SendError::Transient("the SMS API answered without an id".into()));
        }
        let words = format!("the SMS API answered {}: {said}", status.as_u16());
        if status.as_u16() == 429 || status.is_server_error() {
            Err(SendError::Transient(words))
        } else {
            Err(SendError::Permanent(words))
        }
    }
}

/// Checks an SMS API URL (`https://ACCOUNT:TOKEN@host[/path]`); answers the base URL without
/// credentials, the account and the token.
pub fn parse_sms_url(url: &str) -> std::result::Result<(String, String, String), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("The SMS URL is not a URL: {e}"))?;
    if parsed.scheme() != "https" && parsed.scheme() != "http" {
        return Err("The SMS URL must start with https://".into());
    }
    let account = parsed.username().to_owned();
    let token = parsed.password().unwrap_or_default().to_owned();
    if account.is_empty() || token.is_empty() {
        return Err(
            "The SMS URL must carry the account and token: https://ACCOUNT:TOKEN@host".into(),
        );
    }
    let host = parsed.host_str().ok_or("The SMS URL has no host")?;
    let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
    let path = parsed.path().trim_end_matches('/');
    Ok((
        format!("{}://{host}{port}{path}", parsed.scheme()),
        account,
        token,
    ))
}

/// How many SMTP transactions run at once: through the relay (`HERALD_SMTP_POOL`, one
/// connection each) and towards one mailbox provider (`HERALD_SMTP_PER_DESTINATION`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmtpLimits {
    pub pool: u32,
    pub per_destination: u32,
}

impl SmtpLimits {
    /// `pool` connections, all of them usable towards one provider.
    pub fn pool(pool: u32) -> SmtpLimits {
        SmtpLimits {
            pool,
            per_destination: pool,
        }
    }
}

/// Checks an SMTP URL; answers where it leads and how it is shown to people (no password).
pub fn parse_smtp_url(url: &str) -> std::result::Result<(Relay, String), String> {
    let relay = Relay::parse(url)?;
    let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
    let host = parsed.host_str().unwrap_or_default();
    let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
    Ok((relay, format!("{}://{host}{port}", parsed.scheme())))
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
