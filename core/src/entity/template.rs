use super::values::Variants;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "template")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    pub kind: String,
    pub subject: String,
    pub preheader: String,
    pub html_body: String,
    pub text_body: String,
    pub is_system: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub description: String,
    /// The language of the content above.
    pub language: String,
    /// Other languages' content.
    pub variants: Variants,
    /// The number of the latest `template_version`.
    pub version: i32,
}

impl ActiveModelBehavior for ActiveModel {}
