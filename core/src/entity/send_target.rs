use sea_orm::entity::prelude::*;

/// A contact a targeted send is for (see `campaign_send.targeted`).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "send_target")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub send_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub contact_id: i64,
    /// What the message renders with beyond the contact (`{"record": {...}}` for the record
    /// whose date fired a relative campaign), as JSON.
    pub context: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
