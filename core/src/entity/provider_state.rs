use sea_orm::entity::prelude::*;

/// A provider as the engine last saw it, per organisation and channel.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "provider_state")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub org_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub channel: String,
    /// Since when it refuses everything for a passing reason (sending is paused).
    pub outage_since: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub last_ok_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
