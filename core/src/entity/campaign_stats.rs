use sea_orm::entity::prelude::*;

/// A campaign's counters, kept by the triggers on `message` (seed copies count nowhere).
#[sea_orm::model]
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign_stats")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub campaign_id: i64,
    pub org_id: i64,
    pub recipients: i64,
    /// Queued or being handed over.
    pub waiting: i64,
    pub skipped: i64,
    pub sent: i64,
    /// Handed over, no delivery, bounce or complaint notice yet.
    pub pending: i64,
    pub delivered: i64,
    /// Permanent and soft.
    pub bounced: i64,
    pub soft_bounced: i64,
    pub complained: i64,
    pub failed: i64,
    pub unsubscribed: i64,
    /// Unique opens (messages opened), machines' included.
    pub opened: i64,
    pub human_opened: i64,
    pub clicked: i64,
    pub human_clicked: i64,
    /// All opens and clicks.
    pub opens: i64,
    pub clicks: i64,
}

impl ActiveModelBehavior for ActiveModel {}
