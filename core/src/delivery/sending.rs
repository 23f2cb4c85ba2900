//! Sending per organisation: which providers it sends through (the instance's configuration by
//! default), its sender identities, its sending domains with their DKIM keys, its rate limit,
//! and each provider's state as the engine last saw it. Secrets (an SMTP password, an SMS
//! token, DKIM private keys) are sealed with the secret key before they are stored, and never
//! shown again.
//!
//! The engine reads it per batch ([`routes`]); providers built from an organisation's settings
//! are kept (SMTP pools stay open) until the settings change.

use super::compose::Dkim;
use super::provider::{Provider, parse_smtp_url};
use crate::domain::access::{Action, Actor};
use crate::domain::{Channel, EmailAddress};
use crate::entity::{provider_state, sender_identity, sending_config, sending_domain};
use crate::secret::SecretKey;
use crate::{Error, Herald, Result};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub use crate::domain::sending::{
    Domain, EmailProvider, Identity, SendingInput, SendingOverview, SmsProvider,
};

fn domain_of(d: &sending_domain::Model) -> Domain {
    Domain {
        id: d.id,
        check: super::domain_check::last_check(d),
        record_name: format!("{}._domainkey.{}", d.selector, d.domain),
        record_value: format!("v=DKIM1; k=rsa; p={}", d.public_key),
        domain: d.domain.clone(),
        selector: d.selector.clone(),
    }
}

async fn config(db: &impl ConnectionTrait, org_id: i64) -> Result<Option<sending_config::Model>> {
    Ok(sending_config::Entity::find_by_id(org_id).one(db).await?)
}

/// Shows a URL without its password.
fn without_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => "(unreadable)".into(),
    }
}

/// The organisation's sending settings, identities and domains.
pub async fn overview(h: &Herald, actor: &Actor) -> Result<SendingOverview> {
    actor.require(Action::ManageSettings)?;
    let db = &h.db;
    let key = &h.settings.secret_key;
    let c = config(db, actor.org_id()).await?;
    let open = |v: &Option<String>| {
        v.as_deref()
            .and_then(|s| key.decrypt(s))
            .map(|s| without_password(&s))
    };
    let routes = routes(h, actor.org_id()).await?;
    Ok(SendingOverview {
        email_provider: c.as_ref().map_or(EmailProvider::Instance, |c| {
            EmailProvider::parse(&c.email_provider)
        }),
        smtp: c.as_ref().and_then(|c| open(&c.smtp_url)),
        ses_region: c.as_ref().and_then(|c| c.ses_region.clone()),
        ses_configuration_set: c.as_ref().and_then(|c| c.ses_configuration_set.clone()),
        ses_topic_arn: c.as_ref().and_then(|c| c.ses_topic_arn.clone()),
        sms_provider: c.as_ref().map_or(SmsProvider::Instance, |c| {
            SmsProvider::parse(&c.sms_provider)
        }),
        sms: c.as_ref().and_then(|c| open(&c.sms_url)),
        sms_from: c.as_ref().and_then(|c| c.sms_from.clone()),
        rate_per_second: c
            .as_ref()
            .and_then(|c| c.rate_per_second)
            .and_then(|r| u32::try_from(r).ok()),
        email_route: routes.email.describe(),
        sms_route: routes
            .sms
            .as_ref()
            .map_or_else(|| "no SMS provider".into(), |p| p.describe()),
        identities: sender_identity::Entity::find()
            .filter(sender_identity::Column::OrgId.eq(actor.org_id()))
            .order_by_asc(sender_identity::Column::Id)
            .all(db)
            .await?
            .into_iter()
            .map(|i| Identity {
                id: i.id,
                name: i.name,
                email: i.email,
                reply_to: i.reply_to,
                is_default: i.is_default,
            })
            .collect(),
        domains: sending_domain::Entity::find()
            .filter(sending_domain::Column::OrgId.eq(actor.org_id()))
            .order_by_asc(sending_domain::Column::Domain)
            .all(db)
            .await?
            .iter()
            .map(domain_of)
            .collect(),
    })
}

/// Changes the organisation's sending settings (fields left out keep their value). A provider
/// is checked before it is stored: an SMTP or SMS URL must read, SES needs a region.
pub async fn set(h: &Herald, actor: &Actor, input: &SendingInput) -> Result<()> {
    actor.require(Action::ManageSettings)?;
    let db = &h.db;
    let key = &h.settings.secret_key;
    let now = h.now();
    let current = config(db, actor.org_id()).await?;
    let mut m: sending_config::ActiveModel = match current.clone() {
        Some(c) => c.into(),
        None => sending_config::ActiveModel {
            org_id: Set(actor.org_id()),
            email_provider: Set("instance".into()),
            sms_provider: Set("instance".into()),
            smtp_url: Set(None),
            ses_region: Set(None),
            ses_configuration_set: Set(None),
            ses_topic_arn: Set(None),
            sms_url: Set(None),
            sms_from: Set(None),
            rate_per_second: Set(None),
            updated_at: Set(now),
        },
    };
    if let Some(url) = &input.smtp_url {
        parse_smtp_url(url.trim()).map_err(Error::Invalid)?;
        m.smtp_url = Set(Some(key.encrypt(url.trim())));
    }
    if let Some(region) = &input.ses_region {
        let region = region.trim();
        if region.is_empty()
            || !region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(Error::Invalid(format!(
                "“{region}” is not an AWS region like eu-west-1."
            )));
        }
        m.ses_region = Set(Some(region.to_owned()));
    }
    if let Some(set) = &input.ses_configuration_set {
        m.ses_configuration_set = Set(Some(set.trim().to_owned()).filter(|s| !s.is_empty()));
    }
    if let Some(arn) = &input.ses_topic_arn {
        let arn = arn.trim();
        let well_formed = arn.starts_with("arn:aws") && arn.split(':').count() == 6;
        if !arn.is_empty() && !well_formed {
            return Err(Error::Invalid(format!(
                "“{arn}” is not an SNS topic ARN like arn:aws:sns:eu-west-1:123456789012:ses-events."
            )));
        }
        m.ses_topic_arn = Set(Some(arn.to_owned()).filter(|s| !s.is_empty()));
    }
    if let Some(url) = &input.sms_url {
        super::provider::parse_sms_url(url.trim()).map_err(Error::Invalid)?;
        m.sms_url = Set(Some(key.encrypt(url.trim())));
    }
    if let Some(from) = &input.sms_from {
        m.sms_from = Set(Some(from.trim().to_owned()).filter(|s| !s.is_empty()));
    }
    if let Some(rate) = input.rate_per_second {
        if !(1..=10_000).contains(&rate) {
            return Err(Error::Invalid(
                "The rate limit must be from 1 to 10,000 messages per second.".into(),
            ));
        }
        m.rate_per_second = Set(Some(rate as i32));
    }
    if let Some(p) = input.email_provider {
        m.email_provider = Set(p.as_str().to_owned());
    }
    if let Some(p) = input.sms_provider {
        m.sms_provider = Set(p.as_str().to_owned());
    }
    let email = EmailProvider::parse(m.email_provider.as_ref());
    if email == EmailProvider::Smtp && m.smtp_url.as_ref().is_none() {
        return Err(Error::Invalid("Give the SMTP server's URL.".into()));
    }
    if email == EmailProvider::Ses && m.ses_region.as_ref().is_none() {
        return Err(Error::Invalid("Give the SES region.".into()));
    }
    let sms = SmsProvider::parse(m.sms_provider.as_ref());
    if sms == SmsProvider::Http && (m.sms_url.as_ref().is_none() || m.sms_from.as_ref().is_none()) {
        return Err(Error::Invalid(
            "Give the SMS provider's URL and the number messages come from.".into(),
        ));
    }
    m.updated_at = Set(now);
    if current.is_some() {
        m.update(db).await?;
    } else {
        m.insert(db).await?;
    }
    Ok(())
}

/// Adds a sender identity; the first (or one marked default) is the default, used by
/// campaigns that name no sender.
pub async fn add_identity(
    db: &impl ConnectionTrait,
    actor: &Actor,
    name: &str,
    email: &str,
    reply_to: &str,
    is_default: bool,
    now: DateTime<Utc>,
) -> Result<i64> {
    actor.require(Action::ManageSettings)?;
    let email = EmailAddress::parse(email)
        .map_err(|e| Error::Invalid(format!("The sender address: {e}")))?;
    let reply_to = reply_to.trim();
    if !reply_to.is_empty() {
        EmailAddress::parse(reply_to)
            .map_err(|e| Error::Invalid(format!("The reply-to address: {e}")))?;
    }
    let existing = sender_identity::Entity::find()
        .filter(sender_identity::Column::OrgId.eq(actor.org_id()))
        .all(db)
        .await?;
    if existing.iter().any(|i| i.email == email.as_str()) {
        return Err(Error::Invalid(format!(
            "{} is already a sender identity.",
            email.as_str()
        )));
    }
    let is_default = is_default || existing.is_empty();
    if is_default {
        sender_identity::Entity::update_many()
            .col_expr(
                sender_identity::Column::IsDefault,
                sea_orm::sea_query::Expr::value(false),
            )
            .filter(sender_identity::Column::OrgId.eq(actor.org_id()))
            .exec(db)
            .await?;
    }
    let i = sender_identity::ActiveModel {
        org_id: Set(actor.org_id()),
        name: Set(name.trim().to_owned()),
        email: Set(email.as_str().to_owned()),
        reply_to: Set(reply_to.to_owned()),
        is_default: Set(is_default),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(i.id)
}

/// The organisation's default sender identity, if it has one.
pub async fn default_identity(
    db: &impl ConnectionTrait,
    org_id: i64,
) -> Result<Option<sender_identity::Model>> {
    Ok(sender_identity::Entity::find()
        .filter(sender_identity::Column::OrgId.eq(org_id))
        .filter(sender_identity::Column::IsDefault.eq(true))
        .one(db)
        .await?)
}

/// A DKIM key pair: the private key as PKCS#1 PEM, the public key as base64 DER (SPKI), the
/// form a DKIM TXT record's `p=` takes.
pub fn generate_dkim_key() -> Result<(String, String)> {
    use base64::Engine;
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::pkcs8::EncodePublicKey;
    let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
        .map_err(|e| Error::Internal(format!("generating a DKIM key: {e}")))?;
    let pem = private
        .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
        .map_err(|e| Error::Internal(e.to_string()))?
        .to_string();
    let public = rsa::RsaPublicKey::from(&private)
        .to_public_key_der()
        .map_err(|e| Error::Internal(e.to_string()))?;
    Ok((
        pem,
        base64::engine::general_purpose::STANDARD.encode(public.as_bytes()),
    ))
}

/// Adds a sending domain with a new DKIM key; answers the DNS record to publish. Messages
/// from addresses of the domain are signed from then on.
pub async fn add_domain(
    db: &impl ConnectionTrait,
    key: &SecretKey,
    actor: &Actor,
    domain: &str,
    selector: &str,
    now: DateTime<Utc>,
) -> Result<Domain> {
    actor.require(Action::ManageSettings)?;
    let domain = domain.trim().trim_end_matches('.').to_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if domain.len() > 253 || domain.split('.').count() < 2 || !domain.split('.').all(label_ok) {
        return Err(Error::Invalid(format!(
            "“{domain}” is not a domain like mail.example.org."
        )));
    }
    let selector = selector.trim().to_lowercase();
    if !label_ok(&selector) {
        return Err(Error::Invalid(format!(
            "“{selector}” is not a DKIM selector (letters, digits and dashes)."
        )));
    }
    let (pem, public) = generate_dkim_key()?;
    let inserted = sending_domain::Entity::insert(sending_domain::ActiveModel {
        org_id: Set(actor.org_id()),
        domain: Set(domain.clone()),
        selector: Set(selector),
        private_key: Set(key.encrypt(&pem)),
        public_key: Set(public),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            sending_domain::Column::OrgId,
            sending_domain::Column::Domain,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    if inserted == 0 {
        return Err(Error::Invalid(format!(
            "{domain} is already a sending domain."
        )));
    }
    let d = sending_domain::Entity::find()
        .filter(sending_domain::Column::OrgId.eq(actor.org_id()))
        .filter(sending_domain::Column::Domain.eq(domain))
        .one(db)
        .await?
        .ok_or(Error::NotFound("sending domain"))?;
    Ok(domain_of(&d))
}

/// The DKIM key that signs messages from `address`, if its domain (or a parent of it) is one
/// of the organisation's sending domains.
pub async fn dkim_for(h: &Herald, org_id: i64, address: &str) -> Result<Option<Dkim>> {
    let Some((_, host)) = address.rsplit_once('@') else {
        return Ok(None);
    };
    let host = host.trim().to_lowercase();
    let domains = sending_domain::Entity::find()
        .filter(sending_domain::Column::OrgId.eq(org_id))
        .all(&h.db)
        .await?;
    let best = domains
        .iter()
        .filter(|d| host == d.domain || host.ends_with(&format!(".{}", d.domain)))
        .max_by_key(|d| d.domain.len());
    let Some(d) = best else {
        return Ok(None);
    };
    let pem = h
        .settings
        .secret_key
        .decrypt(&d.private_key)
        .ok_or_else(|| {
            Error::Internal(format!(
                "the DKIM key of {} does not open with this secret key",
                d.domain
            ))
        })?;
    Ok(Some(
        Dkim::new(&d.domain, &d.selector, &pem).map_err(Error::Internal)?,
    ))
}

/// Where an organisation's messages go, per channel, and how fast.
#[derive(Clone, Debug)]
pub struct Routes {
    pub email: Arc<Provider>,
    pub sms: Option<Arc<Provider>>,
    /// The SMS sender (number or id).
    pub sms_from: String,
    pub limiter: Option<Arc<RateLimiter>>,
}

impl Routes {
    pub fn for_channel(&self, channel: Channel) -> Option<&Arc<Provider>> {
        match channel {
            Channel::Email => Some(&self.email),
            Channel::Sms => self.sms.as_ref(),
        }
    }
}

/// Spaces messages out to at most `per_second` (in this process).
#[derive(Debug)]
pub struct RateLimiter {
    pub per_second: u32,
    next: tokio::sync::Mutex<tokio::time::Instant>,
}

impl RateLimiter {
    pub fn new(per_second: u32) -> Self {
        RateLimiter {
            per_second: per_second.max(1),
            next: tokio::sync::Mutex::new(tokio::time::Instant::now()),
        }
    }

    /// Waits for this message's turn.
    pub async fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let now = tokio::time::Instant::now();
            let slot = (*next).max(now);
            *next = slot + std::time::Duration::from_secs_f64(1.0 / f64::from(self.per_second));
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

/// Providers built from organisations' settings, kept while the settings stay the same.
#[derive(Default)]
pub struct ProviderCache {
    by_org: Mutex<HashMap<i64, (DateTime<Utc>, Routes)>>,
}

impl std::fmt::Debug for ProviderCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProviderCache")
    }
}

/// The instance's defaults: what an organisation without settings of its own sends through.
#[derive(Clone, Debug)]
pub struct InstanceProviders {
    pub email: Arc<Provider>,
    pub sms: Option<Arc<Provider>>,
    pub sms_from: String,
    /// `HERALD_SES_ENDPOINT`: where SES clients connect (a local double in tests).
    pub ses_endpoint: Option<String>,
    pub smtp_limits: super::provider::SmtpLimits,
}

/// Where organisation `org_id`'s messages go now.
pub async fn routes(h: &Herald, org_id: i64) -> Result<Routes> {
    let instance = &h.settings.providers;
    let Some(c) = config(&h.db, org_id).await? else {
        return Ok(Routes {
            email: instance.email.clone(),
            sms: instance.sms.clone(),
            sms_from: instance.sms_from.clone(),
            limiter: None,
        });
    };
    if let Some((at, routes)) = h
        .settings
        .provider_cache
        .by_org
        .lock()
        .expect("the provider cache is never poisoned")
        .get(&org_id)
        && *at == c.updated_at
    {
        return Ok(routes.clone());
    }
    let key = &h.settings.secret_key;
    let open = |v: &Option<String>, what: &str| -> Result<String> {
        v.as_deref()
            .and_then(|s| key.decrypt(s))
            .ok_or_else(|| Error::Internal(format!("the {what} does not open with this key")))
    };
    let email = match EmailProvider::parse(&c.email_provider) {
        EmailProvider::Instance => instance.email.clone(),
        EmailProvider::Mailbox => Arc::new(Provider::Mailbox),
        EmailProvider::Smtp => Arc::new(
            Provider::smtp(&open(&c.smtp_url, "SMTP URL")?, instance.smtp_limits)
                .map_err(Error::Invalid)?,
        ),
        EmailProvider::Ses => Arc::new(
            Provider::ses(
                c.ses_region.as_deref().unwrap_or("us-east-1"),
                instance.ses_endpoint.as_deref(),
                c.ses_configuration_set.clone(),
            )
            .await,
        ),
    };
    let (sms, sms_from) = match SmsProvider::parse(&c.sms_provider) {
        SmsProvider::Instance => (instance.sms.clone(), instance.sms_from.clone()),
        SmsProvider::None => (None, String::new()),
        SmsProvider::Http => (
            Some(Arc::new(
                Provider::sms(
                    &open(&c.sms_url, "SMS URL")?,
                    Some(format!("{}/webhooks/sms", h.settings.public_url)),
                )
                .map_err(Error::Invalid)?,
            )),
            c.sms_from.clone().unwrap_or_default(),
        ),
    };
    let routes = Routes {
        email,
        sms,
        sms_from,
        limiter: c
            .rate_per_second
            .and_then(|r| u32::try_from(r).ok())
            .map(|r| Arc::new(RateLimiter::new(r))),
    };
    h.settings
        .provider_cache
        .by_org
        .lock()
        .expect("the provider cache is never poisoned")
        .insert(org_id, (c.updated_at, routes.clone()));
    Ok(routes)
}

/// Records what a provider answered a batch: an outage starts when everything failed for a
/// passing reason, and ends at the first message it takes.
pub async fn record_provider_answer(
    db: &impl ConnectionTrait,
    org_id: i64,
    channel: Channel,
    outage: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    let current = provider_state::Entity::find_by_id((org_id, channel.as_str().to_owned()))
        .one(db)
        .await?;
    let mut m: provider_state::ActiveModel = match current.clone() {
        Some(s) => s.into(),
        None => provider_state::ActiveModel {
            org_id: Set(org_id),
            channel: Set(channel.as_str().to_owned()),
            outage_since: Set(None),
            last_error: Set(None),
            last_ok_at: Set(None),
            updated_at: Set(now),
        },
    };
    match outage {
        Some(error) => {
            if current.as_ref().is_none_or(|s| s.outage_since.is_none()) {
                tracing::warn!(
                    org = org_id,
                    channel = channel.as_str(),
                    error,
                    "provider outage: sending paused"
                );
                m.outage_since = Set(Some(now));
            }
            m.last_error = Set(Some(error.to_owned()));
        }
        None => {
            if current.as_ref().is_some_and(|s| s.outage_since.is_some()) {
                tracing::info!(
                    org = org_id,
                    channel = channel.as_str(),
                    "provider answers again: sending resumed"
                );
            }
            m.outage_since = Set(None);
            m.last_ok_at = Set(Some(now));
        }
    }
    m.updated_at = Set(now);
    if current.is_some() {
        m.update(db).await?;
    } else {
        m.insert(db).await?;
    }
    Ok(())
}

/// Since when and why the organisation's provider for `channel` is down, if it is.
pub async fn outage(
    db: &impl ConnectionTrait,
    org_id: i64,
    channel: Channel,
) -> Result<Option<(DateTime<Utc>, String)>> {
    Ok(
        provider_state::Entity::find_by_id((org_id, channel.as_str().to_owned()))
            .one(db)
            .await?
            .and_then(|s| Some((s.outage_since?, s.last_error.unwrap_or_default()))),
    )
}

/// The organisation's sending as operators see it: where it goes, how fast (messages per
/// second over the last minute), what waits, and any outage.
pub async fn status(h: &Herald, actor: &Actor) -> Result<crate::domain::system::SendingStatus> {
    use crate::domain::DeliveryState;
    use crate::entity::message;
    use sea_orm::PaginatorTrait;
    actor.require(Action::ViewSystem)?;
    let org_id = actor.org_id();
    let now = h.now();
    let routes = routes(h, org_id).await?;
    let sent_since = |since: DateTime<Utc>| {
        message::Entity::find()
            .filter(message::Column::OrgId.eq(org_id))
            .filter(message::Column::SentAt.gte(since))
            .count(&h.db)
    };
    let states = provider_state::Entity::find()
        .filter(provider_state::Column::OrgId.eq(org_id))
        .all(&h.db)
        .await?;
    let answers = states
        .iter()
        .map(|s| crate::domain::system::ProviderAnswer {
            channel: s.channel.clone(),
            last_ok_at: s.last_ok_at,
            last_error: s.last_error.clone(),
        })
        .collect();
    let outages = states
        .into_iter()
        .filter_map(|s| Some((s.channel, s.outage_since?, s.last_error.unwrap_or_default())))
        .collect();
    Ok(crate::domain::system::SendingStatus {
        email_route: routes.email.describe(),
        sms_route: routes
            .sms
            .as_ref()
            .map_or_else(|| "no SMS provider".into(), |p| p.describe()),
        rate_limit: routes.limiter.as_ref().map(|l| l.per_second),
        sent_last_minute: sent_since(now - chrono::Duration::minutes(1)).await?,
        sent_last_hour: sent_since(now - chrono::Duration::hours(1)).await?,
        queued: message::Entity::find()
            .filter(message::Column::OrgId.eq(org_id))
            .filter(message::Column::State.eq(DeliveryState::Queued))
            .count(&h.db)
            .await?,
        outages,
        answers,
    })
}
