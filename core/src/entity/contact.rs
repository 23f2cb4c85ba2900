use super::values::Attributes;
use crate::domain::ContactStatus;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contact")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub language: String,
    pub time_zone: String,
    pub status: ContactStatus,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The account manager (a user with the member role) who looks after this contact.
    pub assigned_user_id: Option<i64>,
    pub marketing_consent: bool,
    pub newsletter_consent: bool,
    pub attributes: Attributes,
    /// When and how each consent was last given or withdrawn ("import", "api", "unsubscribe"...).
    pub marketing_consent_at: Option<DateTimeUtc>,
    pub newsletter_consent_at: Option<DateTimeUtc>,
    pub marketing_consent_source: Option<String>,
    pub newsletter_consent_source: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// "First Last", without stray spaces when a part is missing.
    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_owned()
    }
}
