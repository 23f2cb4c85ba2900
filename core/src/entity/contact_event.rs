use super::values::Properties;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contact_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub contact_id: i64,
    pub name: String,
    pub occurred_at: DateTimeUtc,
    pub properties: Properties,
    /// The sender's own id for this record: sending it again updates it.
    pub external_id: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
