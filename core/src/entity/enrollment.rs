use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "enrollment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub contact_id: i64,
    pub course: String,
    pub category: String,
    pub trainer: String,
    pub online: bool,
    pub remote: bool,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    /// The sender's own id for this record: sending it again updates it.
    pub external_id: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
