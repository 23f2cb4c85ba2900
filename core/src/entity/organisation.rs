use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organisation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub created_at: DateTimeUtc,
    /// Marketers' campaigns need an admin's approval before they can be activated.
    pub require_approval: bool,
    /// Marketing and newsletter messages go only to contacts who gave consent (not only to
    /// those who did not withdraw it).
    pub require_opt_in: bool,
    /// At most this many marketing and newsletter messages per contact per 7 days.
    pub weekly_cap: Option<i32>,
    /// IANA time zone: recurring campaigns send at a local time in it.
    pub time_zone: String,
}

impl ActiveModelBehavior for ActiveModel {}
