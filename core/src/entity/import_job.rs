use super::values::ColumnMapping;
use crate::domain::ImportState;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "import_job")]
/// A CSV import: the file, its mapping and its progress.
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub created_by: Option<i64>,
    pub filename: String,
    pub status: ImportState,
    pub content: String,
    pub mapping: ColumnMapping,
    pub total_rows: i64,
    pub processed_rows: i64,
    pub created_rows: i64,
    pub updated_rows: i64,
    pub unchanged_rows: i64,
    pub error_rows: i64,
    pub failure: Option<String>,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
