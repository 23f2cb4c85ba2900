//! An organisation's sending settings as people see and set them: the providers its email and
//! text messages go through, its sender identities and its sending domains (with the DNS record
//! that publishes each DKIM key). Secrets never appear here: they are given once and sealed.

use serde::{Deserialize, Serialize};

/// Which provider an organisation's email goes through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailProvider {
    /// The instance's (`HERALD_SMTP_URL`, `HERALD_SES_REGION`, else the development mailbox).
    Instance,
    Mailbox,
    Smtp,
    Ses,
}

impl EmailProvider {
    pub fn as_str(self) -> &'static str {
        match self {
            EmailProvider::Instance => "instance",
            EmailProvider::Mailbox => "mailbox",
            EmailProvider::Smtp => "smtp",
            EmailProvider::Ses => "ses",
        }
    }

    pub fn parse(s: &str) -> EmailProvider {
        match s {
            "mailbox" => EmailProvider::Mailbox,
            "smtp" => EmailProvider::Smtp,
            "ses" => EmailProvider::Ses,
            _ => EmailProvider::Instance,
        }
    }
}

/// Which provider an organisation's text messages go through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsProvider {
    /// The instance's (`HERALD_SMS_URL`), if it has one.
    Instance,
    /// An HTTP provider with a Twilio-style API.
    Http,
    /// None: text messages fail with a reason.
    None,
}

impl SmsProvider {
    pub fn as_str(self) -> &'static str {
        match self {
            SmsProvider::Instance => "instance",
            SmsProvider::Http => "http",
            SmsProvider::None => "none",
        }
    }

    pub fn parse(s: &str) -> SmsProvider {
        match s {
            "http" => SmsProvider::Http,
            "none" => SmsProvider::None,
            _ => SmsProvider::Instance,
        }
    }
}

/// The settings as set (secrets given in the clear, sealed on the way in).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SendingInput {
    pub email_provider: Option<EmailProvider>,
    /// `smtp://user:pass@host:port` or `smtps://…` (for `smtp`).
    pub smtp_url: Option<String>,
    /// For `ses`: the region (credentials come from the standard AWS chain).
    pub ses_region: Option<String>,
    pub ses_configuration_set: Option<String>,
    /// The SNS topic (ARN) SES publishes the organisation's events to.
    pub ses_topic_arn: Option<String>,
    pub sms_provider: Option<SmsProvider>,
    /// For `http`: `https://ACCOUNT:TOKEN@api.example.com`.
    pub sms_url: Option<String>,
    /// The number or sender id text messages come from.
    pub sms_from: Option<String>,
    /// At most this many messages per second (per instance).
    pub rate_per_second: Option<u32>,
}

/// The settings as shown (never a secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendingOverview {
    pub email_provider: EmailProvider,
    /// The SMTP URL without its password.
    pub smtp: Option<String>,
    pub ses_region: Option<String>,
    pub ses_configuration_set: Option<String>,
    pub ses_topic_arn: Option<String>,
    pub sms_provider: SmsProvider,
    /// The SMS API without its token.
    pub sms: Option<String>,
    pub sms_from: Option<String>,
    pub rate_per_second: Option<u32>,
    /// What the organisation's messages go through now, in words.
    pub email_route: String,
    pub sms_route: String,
    pub identities: Vec<Identity>,
    pub domains: Vec<Domain>,
}

/// A sender identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub reply_to: String,
    pub is_default: bool,
}

/// A sending domain and the DNS record that publishes its DKIM key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    pub id: i64,
    /// Its last SPF, DKIM and DMARC check, if it was checked.
    pub check: Option<super::sender_auth::DomainCheck>,
    pub domain: String,
    pub selector: String,
    /// `<selector>._domainkey.<domain>`
    pub record_name: String,
    /// `v=DKIM1; k=rsa; p=…`
    pub record_value: String,
}
