use sea_orm::entity::prelude::*;

/// A message the development mailbox accepted: what would have gone out, as raw MIME.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mailbox_message")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub message_id: Option<i64>,
    pub sender: String,
    pub recipient: String,
    pub subject: String,
    pub raw: String,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
