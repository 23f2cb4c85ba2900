//! Plain rules and value types: no database, no web. Shared by the server and the browser.

pub mod access;
pub mod actions;
pub mod audience;
pub mod campaign;
pub mod delivery;
pub mod duplicates;
mod email;
mod enums;
pub mod ingest;
pub mod mailbox;
pub mod mailing;
mod password;
pub mod reports;
pub mod schedule;
pub mod sender_auth;
pub mod sending;
mod stats;
pub mod system;
pub mod tagged;
pub mod template;
pub mod tracking;
pub mod trigger;
pub mod vocabulary;
pub mod workflow;

pub use email::{EmailAddress, InvalidEmail};
pub use enums::*;
pub use password::{PasswordPolicyError, check_new_password};
pub use stats::{DeliveryStats, Rate};

use serde::{Deserialize, Serialize};

/// The signed-in user, as every request sees them. Carries the organisation that scopes every
/// query made on their behalf.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub user_id: i64,
    pub org_id: i64,
    pub org_slug: String,
    pub org_name: String,
    pub email: String,
    pub name: String,
    pub role: Role,
}

impl CurrentUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// A user as admins see them in the user list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_login_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Organisation slugs: lower-case letters, digits and dashes, 2 to 40 characters.
pub fn check_org_slug(slug: &str) -> Result<(), String> {
    let ok = (2..=40).contains(&slug.len())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "Invalid organisation slug {slug:?}: use 2 to 40 lower-case letters, digits and dashes."
        ))
    }
}

#[cfg(test)]
mod slug_tests {
    #[test]
    fn slugs() {
        for (slug, ok) in [
            ("demo", true),
            ("acme-school-2", true),
            ("a", false),
            ("Demo", false),
            ("-demo", false),
            ("demo-", false),
            ("de mo", false),
            ("dé", false),
        ] {
            assert_eq!(super::check_org_slug(slug).is_ok(), ok, "{slug}");
        }
    }
}

/// A row of the campaign list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignSummary {
    pub id: i64,
    /// `None` shows as "Untitled".
    pub name: Option<String>,
    pub kind: CampaignKind,
    pub message_type: MessageType,
    pub channel: Channel,
    pub status: CampaignStatus,
    /// For internal filtering ("Renewals", "Onboarding"…); may be empty.
    pub goal: String,
    pub last_sent_at: Option<chrono::DateTime<chrono::Utc>>,
    pub stats: DeliveryStats,
}

impl CampaignSummary {
    pub fn display_name(&self) -> &str {
        self.name
            .as_deref()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or("Untitled")
    }
}

/// One campaign with its report header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignDetail {
    pub summary: CampaignSummary,
    pub description: String,
    pub goal: String,
    pub template_name: Option<String>,
    pub subject: Option<String>,
    pub created_by: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub activated_at: Option<chrono::DateTime<chrono::Utc>>,
    pub sends: i64,
    /// When it sends, in words.
    pub trigger: Option<String>,
    /// When the scheduler next runs it (active timed or record-dated campaigns).
    pub next_run_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Why its messages are not leaving now (the provider is down), in words.
    pub paused: Option<String>,
    /// Messages that could not be sent and wait in Actions (those the reader may see).
    pub open_actions: u64,
}

/// A row of the contact list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactSummary {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub language: String,
    pub active: bool,
    pub marketing_consent: bool,
    pub newsletter_consent: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// One page of the contact list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactPage {
    /// Contacts matching the search, on all pages.
    pub total: u64,
    /// From 1.
    pub page: u64,
    pub pages: u64,
    pub rows: Vec<ContactSummary>,
}

/// Consent to one type of message, and when and how it was last given or withdrawn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Consent {
    pub given: bool,
    pub changed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Where the change came from: `import`, `api`, `unsubscribe`...
    pub source: Option<String>,
}

/// Everything about one contact, with what happened to them, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactDetail {
    pub id: i64,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub language: String,
    pub time_zone: String,
    pub active: bool,
    /// The email address of the account manager who looks after the contact.
    pub account_manager: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub marketing_consent: Consent,
    pub newsletter_consent: Consent,
    pub attributes: std::collections::BTreeMap<String, String>,
    pub groups: Vec<String>,
    /// The latest 200 things that happened, newest first.
    pub timeline: Vec<TimelineItem>,
}

impl ContactDetail {
    pub fn name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_owned()
    }
}

/// One thing in a contact's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineItem {
    pub at: chrono::DateTime<chrono::Utc>,
    /// credential, enrollment, booking, pass, subscription, order, event, message, open, click,
    /// bounce, complaint, unsubscribe, action
    pub kind: String,
    pub title: String,
    pub detail: String,
}

/// The contact list's filters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactFilter {
    /// In first name, last name or email, case-insensitive.
    pub search: String,
    pub group_id: Option<i64>,
    /// Only active (true) or only inactive (false) contacts.
    pub active: Option<bool>,
    /// Only contacts who agreed to this type of message.
    pub consent: Option<MessageType>,
}

impl ContactFilter {
    /// The same selection as an audience, for the filters the audience engine knows (the text
    /// search is not one: the caller resolves it to contacts).
    pub fn audience_without_search(&self) -> audience::Filter {
        use audience::Filter;
        let mut of = Vec::new();
        if let Some(group_id) = self.group_id {
            of.push(Filter::InGroup { group_id });
        }
        match self.active {
            Some(true) => of.push(Filter::ActiveContact),
            Some(false) => of.push(Filter::Not {
                not: Box::new(Filter::ActiveContact),
            }),
            None => {}
        }
        if let Some(message_type) = self.consent {
            of.push(Filter::Consent { message_type });
        }
        Filter::All { of }
    }
}

// Lists, segments, groups and API keys as pages show them.

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListSummary {
    pub id: i64,
    pub kind: ListKind,
    pub name: String,
    pub global: bool,
    pub entries: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListEntry {
    pub email: String,
    pub name: String,
    pub reason: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// What adding a block of addresses did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddReport {
    pub added: u64,
    pub already: u64,
    /// (line number, text, reason)
    pub invalid: Vec<(usize, String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentSummary {
    pub id: i64,
    pub name: String,
    pub filter: audience::Filter,
    pub members: u64,
    /// Contacts that entered in the last 7 days.
    pub entered_recently: u64,
    pub refreshed_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A key as Settings lists it (never the key itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeySummary {
    pub id: i64,
    pub name: String,
    /// The first characters of the key.
    pub prefix: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
    pub scopes: access::KeyScopes,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSummary {
    pub id: i64,
    pub name: String,
    pub members: u64,
}
