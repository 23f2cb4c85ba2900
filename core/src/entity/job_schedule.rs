use sea_orm::entity::prelude::*;

/// When a periodic job is next due; claimed with a conditional update so that each period runs
/// once across all instances (see `crate::jobs::schedule`).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job_schedule")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub next_run_at: DateTimeUtc,
    pub last_run_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
