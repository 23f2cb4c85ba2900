use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "credential")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub contact_id: i64,
    pub collection: String,
    pub name: String,
    pub published_at: DateTimeUtc,
    pub renewed_at: Option<DateTimeUtc>,
    pub expires_at: Option<DateTimeUtc>,
    /// The sender's own id for this record: sending it again updates it.
    pub external_id: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
