use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "import_error")]
/// A row an import refused, and why.
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub job_id: i64,
    pub line: i64,
    pub column_name: String,
    pub value: String,
    pub reason: String,
}

impl ActiveModelBehavior for ActiveModel {}
