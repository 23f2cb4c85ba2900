use sea_orm::entity::prelude::*;

/// One number of a workflow version: of a step (`step_id`), or of the whole workflow (empty).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "workflow_counter")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub campaign_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub version_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub step_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub org_id: i64,
    pub n: i64,
}

impl ActiveModelBehavior for ActiveModel {}
