use crate::domain::SubscriptionStatus;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subscription")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub contact_id: i64,
    pub status: SubscriptionStatus,
    pub period_start: DateTimeUtc,
    pub period_end: Option<DateTimeUtc>,
    /// The sender's own id for this record: sending it again updates it.
    pub external_id: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
