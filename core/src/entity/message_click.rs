use sea_orm::entity::prelude::*;

/// One message's clicks on one link.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "message_click")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub message_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub link_id: i64,
    pub clicks: i32,
    /// Whether a click of it looked like a person's.
    pub human: bool,
    pub first_at: DateTimeUtc,
    pub last_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
