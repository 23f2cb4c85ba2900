use crate::domain::audience::Filter;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "segment")]
/// A saved audience; its members are kept to see who enters it.
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    pub filter: Filter,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub refreshed_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
