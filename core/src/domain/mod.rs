//! Plain rules and value types: no database, no web. Shared by the server and the browser.

pub mod audience;
mod email;
mod enums;
mod password;
mod stats;

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
}

/// A row of the contact list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct ContactPage {
    /// Contacts matching the search, on all pages.
    pub total: u64,
    /// From 1.
    pub page: u64,
    pub pages: u64,
    pub rows: Vec<ContactSummary>,
}
