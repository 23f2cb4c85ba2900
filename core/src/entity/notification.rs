use crate::domain::RunOutcome;
use sea_orm::entity::prelude::*;

/// Something a user is told in the app (and by email): a campaign's run is done.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub user_id: i64,
    pub campaign_id: Option<i64>,
    pub send_id: Option<i64>,
    pub outcome: RunOutcome,
    pub title: String,
    pub body: String,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
    pub emailed_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
