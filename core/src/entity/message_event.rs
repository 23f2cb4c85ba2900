use crate::domain::DeliveryState;
use sea_orm::entity::prelude::*;

/// One transition of one message, with its time: what reports chart over time.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "message_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub campaign_id: i64,
    pub message_id: i64,
    pub state: DeliveryState,
    pub at: DateTimeUtc,
    /// The skip reason, the provider's error, the provider's message id.
    pub detail: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
