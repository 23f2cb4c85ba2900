use super::values::Variants;
use crate::domain::template::Content;
use sea_orm::entity::prelude::*;

/// One saved state of a template; never changed once written.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "template_version")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub template_id: i64,
    pub number: i32,
    pub language: String,
    pub content: Content,
    pub variants: Variants,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
