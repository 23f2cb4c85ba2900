//! Settings → System: the background job queue as the organisation's admins see it (their own
//! jobs and the instance's), and retrying a failed job.

use crate::error::AppError;
use herald_core::domain::system::QueueSummary;
use leptos::prelude::*;

#[server(endpoint = "system_status")]
pub async fn system_status() -> Result<QueueSummary, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::jobs::queue::summary(&h.db, &actor, h.now()).await?)
}

/// How the organisation is sending: providers, messages per second, what waits, outages.
#[server(endpoint = "sending_status")]
pub async fn sending_status() -> Result<herald_core::domain::system::SendingStatus, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::delivery::sending::status(&h, &actor).await?)
}

/// Runs a failed job again, with its attempts reset.
#[server(endpoint = "retry_job")]
pub async fn retry_job(id: i64) -> Result<(), AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::jobs::queue::retry(&h.db, &actor, id, h.now()).await?)
}

/// Settings → Sending: the organisation's providers, identities and domains (never a secret).
#[server(endpoint = "sending_settings")]
pub async fn sending_settings() -> Result<herald_core::domain::sending::SendingOverview, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::delivery::sending::overview(&h, &actor).await?)
}

/// The Sending settings form, as posted (fields named `form[…]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SendingForm {
    pub email_provider: String,
    pub smtp_url: Option<String>,
    pub ses_region: Option<String>,
    pub ses_configuration_set: Option<String>,
    pub ses_topic_arn: Option<String>,
    pub sms_provider: String,
    pub sms_url: Option<String>,
    pub sms_from: Option<String>,
    pub rate_per_second: Option<String>,
}

/// Changes the providers. Secrets (the SMTP URL, the SMS API URL) are sealed on the way in and
/// kept when left empty. Empty strings leave a setting as it is.
#[server(endpoint = "set_sending")]
pub async fn set_sending(form: SendingForm) -> Result<String, AppError> {
    use herald_core::domain::sending::{EmailProvider, SendingInput, SmsProvider};
    let (h, actor) = super::ssr::require_actor().await?;
    let given = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let SendingForm {
        email_provider,
        smtp_url,
        ses_region,
        ses_configuration_set,
        ses_topic_arn,
        sms_provider,
        sms_url,
        sms_from,
        rate_per_second,
    } = form;
    let rate = match given(rate_per_second) {
        None => None,
        Some(r) => Some(r.parse::<u32>().ok().filter(|r| *r > 0).ok_or_else(|| {
            herald_core::Error::Invalid(
                "The rate limit is a whole number of messages per second, 1 or more.".into(),
            )
        })?),
    };
    let input = SendingInput {
        email_provider: Some(EmailProvider::parse(&email_provider)),
        smtp_url: given(smtp_url),
        ses_region: given(ses_region),
        ses_configuration_set: given(ses_configuration_set),
        ses_topic_arn: given(ses_topic_arn),
        sms_provider: Some(SmsProvider::parse(&sms_provider)),
        sms_url: given(sms_url),
        sms_from: given(sms_from),
        rate_per_second: rate,
    };
    herald_core::delivery::sending::set(&h, &actor, &input).await?;
    Ok("Saved: new messages go through these providers.".into())
}

/// Adds a sender identity (From name and address, reply-to).
#[server(endpoint = "add_sender_identity")]
pub async fn add_sender_identity(
    name: String,
    email: String,
    reply_to: Option<String>,
    default: Option<String>,
) -> Result<String, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    herald_core::delivery::sending::add_identity(
        &h.db,
        &actor,
        &name,
        &email,
        reply_to.as_deref().unwrap_or(""),
        default.is_some(),
        h.now(),
    )
    .await?;
    Ok(format!("{} can now send.", email.trim()))
}

/// Adds a sending domain with a new DKIM key; answers the DNS record to publish.
#[server(endpoint = "add_sending_domain")]
pub async fn add_sending_domain(domain: String) -> Result<String, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    let d = herald_core::delivery::sending::add_domain(
        &h.db,
        &h.settings.secret_key,
        &actor,
        &domain,
        "herald",
        h.now(),
    )
    .await?;
    Ok(format!(
        "Publish this TXT record: {} = {}",
        d.record_name, d.record_value
    ))
}

/// Looks up the sending domain's SPF, DKIM and DMARC records now and judges them against the
/// mailbox providers' sender rules; the result is kept on the domain.
#[server(endpoint = "check_sending_domain")]
pub async fn check_sending_domain(
    id: i64,
) -> Result<herald_core::domain::sender_auth::DomainCheck, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::delivery::domain_check::check(&h, &actor, id).await?)
}

/// "Send a test" through the organisation's provider for `channel` (email to you, or a text
/// message to `phone`); answers what the provider said.
#[server(endpoint = "check_provider")]
pub async fn check_provider(channel: String, phone: Option<String>) -> Result<String, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    let channel = channel
        .parse()
        .map_err(|_| herald_core::Error::Invalid("Choose email or SMS.".into()))?;
    Ok(
        herald_core::delivery::test_send::check_provider(&h, &actor, channel, phone.as_deref())
            .await?,
    )
}
