use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub name: Option<String>,
    pub description: String,
    pub goal: String,
    pub kind: String,
    pub message_type: String,
    pub channel: String,
    pub status: String,
    pub template_id: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub activated_at: Option<DateTimeUtc>,
    pub last_sent_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
